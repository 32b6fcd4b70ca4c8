//! The cookie jar: how a stateless protocol remembers you.
//!
//! HTTP forgets each request as soon as it is answered. A server that wants to recognise
//! a visitor sends `Set-Cookie`; the browser keeps the cookie in its jar and sends it back
//! in a `Cookie` header on every later request that matches its domain and path (RFC 6265).
//! The jar is ours (cookie_store, RFC 6265's storage model) rather than ureq's, so that the
//! trace can show each decision and the jar can be listed. One jar per browsing session.

use std::sync::{Mutex, PoisonError};

use cookie_store::{CookieExpiration, CookieStore, StoreAction};
use url::Url;

use crate::trace::CookieSet;

/// One cookie in the jar, as plain data (the `--cookies` listing and the TUI's jar view).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JarEntry {
    pub domain: String,
    /// Sent only to that exact host (no Domain attribute), not to its subdomains.
    pub host_only: bool,
    pub path: String,
    pub name: String,
    pub value: String,
    /// RFC 3339, or None for a session cookie (gone when the browser closes).
    pub expires: Option<String>,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<String>,
}

/// Where a request comes from, for `SameSite` (RFC 6265bis section 5.2): a page the user
/// went to (typed, followed, redirected to) is a top-level navigation; an asset, a frame or
/// a script's request is made for the page that holds it, the site for cookies.
#[derive(Clone, Copy, Debug)]
pub enum Context<'a> {
    TopLevel,
    For(&'a Url),
}

impl Context<'_> {
    /// A request of a page to another site than its own: `SameSite=Strict` and `Lax`
    /// cookies (and those with no `SameSite`, Lax by default, as Chromium does) stay home.
    fn is_cross_site(&self, url: &Url) -> bool {
        match self {
            Context::TopLevel => false,
            Context::For(page) => !same_site(page, url),
        }
    }
}

/// Schemeful same site: the same scheme, and the same registrable domain (the name one
/// level below its public suffix: `www.example.co.uk` and `img.example.co.uk` are one site);
/// an address or a name with no registrable domain is a site of its own.
pub fn same_site(a: &Url, b: &Url) -> bool {
    let site = |u: &Url| {
        let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
        let domain = match u.host() {
            Some(url::Host::Domain(_)) => psl::domain_str(&host).map(str::to_string),
            _ => None,
        };
        (u.scheme().to_string(), domain.unwrap_or(host))
    };
    site(a) == site(b)
}

/// Whether a cookie may go with (or come from) a cross-site request: only `SameSite=None`.
fn allowed_cross_site(same_site: Option<cookie::SameSite>) -> bool {
    same_site == Some(cookie::SameSite::None)
}

/// The session's cookie jar; shared by every thread of the session.
#[derive(Default)]
pub struct Jar {
    store: Mutex<CookieStore>,
}

impl Jar {
    /// The `Cookie` header for a request to `url`, and the names it carries; None when no
    /// cookie in the jar matches (domain, path, Secure, expiry).
    pub fn header_for(&self, url: &Url, context: Context<'_>) -> Option<(String, Vec<String>)> {
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let mut cookies = store.matches(url);
        if context.is_cross_site(url) {
            cookies.retain(|c| allowed_cross_site(c.same_site()));
        }
        // RFC 6265 section 5.4: longer paths first. The store forgets creation times, so
        // equal paths go by name: the same header every time.
        cookies.sort_by(|a, b| {
            let (pa, pb) = (String::from(&a.path), String::from(&b.path));
            pb.len().cmp(&pa.len()).then_with(|| a.name().cmp(b.name()))
        });
        let pairs: Vec<(String, String)> = cookies
            .iter()
            .map(|c| (c.name().to_string(), c.value().to_string()))
            .collect();
        if pairs.is_empty() {
            return None;
        }
        let header = pairs
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        Some((header, pairs.into_iter().map(|(n, _)| n).collect()))
    }

    /// Reads one `Set-Cookie` value received from `url` and stores it if the rules allow.
    pub fn store(&self, url: &Url, header: &str, context: Context<'_>) -> CookieSet {
        let Ok(raw) = cookie::Cookie::parse(header.to_string()) else {
            return unreadable(header);
        };
        let mut set = describe(&raw);
        if let Some(why) = refused_by_rfc6265bis(&raw, url, context) {
            set.outcome = format!("rejected: {why}");
            return set;
        }
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        set.outcome = match store.insert_raw(&raw, url) {
            Ok(StoreAction::Inserted) => "stored".into(),
            Ok(StoreAction::UpdatedExisting) => "replaced".into(),
            Ok(StoreAction::ExpiredExisting) => "deleted".into(),
            Err(e) => format!("rejected: {}", rejection(&e)),
        };
        set
    }

    /// Every live cookie, sorted by domain, path and name.
    pub fn entries(&self) -> Vec<JarEntry> {
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let mut entries: Vec<JarEntry> = store
            .iter_unexpired()
            .map(|c| JarEntry {
                domain: String::from(&c.domain),
                host_only: matches!(c.domain, cookie_store::CookieDomain::HostOnly(_)),
                path: String::from(&c.path),
                name: c.name().to_string(),
                value: c.value().to_string(),
                expires: match &c.expires {
                    CookieExpiration::AtUtc(at) => Some(rfc3339(*at)),
                    CookieExpiration::SessionEnd => None,
                },
                secure: c.secure().unwrap_or(false),
                http_only: c.http_only().unwrap_or(false),
                same_site: c.same_site().map(|s| s.to_string()),
            })
            .collect();
        entries.sort_by(|a, b| (&a.domain, &a.path, &a.name).cmp(&(&b.domain, &b.path, &b.name)));
        entries
    }

    pub fn clear(&self) {
        self.store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// The intake rules cookie_store does not apply (RFC 6265bis): a `Secure` cookie only from
/// a secure origin (section 5.7, step 14), and no `Domain` that is a public suffix, which
/// would set the cookie for every site under it (step 9). The suffix is the public suffix
/// list's, with its implicit `*` rule, so an unlisted top-level name such as `test` counts.
fn refused_by_rfc6265bis(
    raw: &cookie::Cookie<'_>,
    url: &Url,
    context: Context<'_>,
) -> Option<String> {
    if raw.secure() == Some(true) && url.scheme() != "https" {
        return Some("Secure, but set over plain http (only https may set it)".into());
    }
    if let Context::For(page) = context {
        if context.is_cross_site(url) && !allowed_cross_site(raw.same_site()) {
            let kind = match raw.same_site() {
                Some(s) => format!("SameSite={s}"),
                None => "with no SameSite (Lax by default)".to_string(),
            };
            return Some(format!(
                "a cookie {kind} from a request the page {} made to another site: only SameSite=None cookies go with those",
                page.host_str().unwrap_or_default()
            ));
        }
    }
    let domain = raw.domain()?.trim_start_matches('.').to_ascii_lowercase();
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let is_suffix = psl::suffix_str(&domain) == Some(domain.as_str());
    (is_suffix && host != domain)
        .then(|| format!("Domain={domain} is a public suffix: a cookie for every site under it"))
}

fn unreadable(header: &str) -> CookieSet {
    CookieSet {
        name: String::new(),
        value: header.chars().take(80).collect(),
        domain: None,
        path: None,
        expires: None,
        max_age: None,
        secure: false,
        http_only: false,
        same_site: None,
        outcome: "rejected: not a name=value cookie".into(),
    }
}

/// Reads a `Set-Cookie` value's attributes without storing it (`--no-cookies`, HAR).
pub fn read_set_cookie(header: &str, outcome: &str) -> CookieSet {
    match cookie::Cookie::parse(header.to_string()) {
        Ok(raw) => CookieSet {
            outcome: outcome.to_string(),
            ..describe(&raw)
        },
        Err(_) => unreadable(header),
    }
}

fn describe(raw: &cookie::Cookie<'_>) -> CookieSet {
    CookieSet {
        name: raw.name().to_string(),
        value: raw.value().to_string(),
        domain: raw.domain().map(str::to_string),
        path: raw.path().map(str::to_string),
        expires: raw.expires_datetime().map(rfc3339),
        max_age: raw.max_age().map(|d| d.whole_seconds()),
        secure: raw.secure().unwrap_or(false),
        http_only: raw.http_only().unwrap_or(false),
        same_site: raw.same_site().map(|s| s.to_string()),
        outcome: String::new(),
    }
}

fn rejection(error: &cookie_store::CookieError) -> &'static str {
    use cookie_store::CookieError as E;
    match error {
        E::DomainMismatch => "its Domain does not include the host that sent it",
        E::Expired => "it had already expired (a server deletes a cookie this way)",
        E::NonHttpScheme => "HttpOnly cookies come only over HTTP",
        E::NonRelativeScheme | E::UnspecifiedDomain => "the request had no host name",
        E::Parse => "it could not be read",
    }
}

/// A cookie date as RFC 3339 (`2026-11-26T00:30:00Z`).
pub fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// The name=value pairs of a `Cookie` request header.
pub fn parse_cookie_header(value: &str) -> Vec<(String, String)> {
    value
        .split(';')
        .filter_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            Some((n.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn path_and_domain_decide_where_a_cookie_goes() {
        let jar = Jar::default();
        let from = url("http://www.example.test/shop/cart");
        assert_eq!(
            jar.store(&from, "cart=3; Path=/shop", Context::TopLevel)
                .outcome,
            "stored"
        );
        assert_eq!(
            jar.store(
                &from,
                "site=1; Domain=example.test; Path=/",
                Context::TopLevel
            )
            .outcome,
            "stored"
        );
        let names = |u: &str| {
            jar.header_for(&url(u), Context::TopLevel)
                .map(|(_, n)| n)
                .unwrap_or_default()
        };
        assert_eq!(names("http://www.example.test/shop/item"), ["cart", "site"]);
        assert_eq!(names("http://www.example.test/blog"), ["site"]);
        assert_eq!(names("http://img.example.test/"), ["site"]);
        assert!(names("http://other.test/").is_empty());
    }

    #[test]
    fn a_cookie_for_another_domain_is_rejected_and_an_expired_one_deletes() {
        let jar = Jar::default();
        let from = url("http://www.example.test/");
        let set = jar.store(&from, "x=1; Domain=elsewhere.test", Context::TopLevel);
        assert!(
            set.outcome.starts_with("rejected: its Domain"),
            "{}",
            set.outcome
        );
        assert_eq!(jar.store(&from, "y=1", Context::TopLevel).outcome, "stored");
        assert_eq!(
            jar.store(&from, "y=2", Context::TopLevel).outcome,
            "replaced"
        );
        assert_eq!(
            jar.store(&from, "y=; Max-Age=0", Context::TopLevel).outcome,
            "deleted"
        );
        assert!(jar.entries().is_empty());
        assert_eq!(
            jar.store(&from, "garbage", Context::TopLevel).outcome,
            "rejected: not a name=value cookie"
        );
    }

    #[test]
    fn public_suffixes_and_secure_over_http_are_refused() {
        let jar = Jar::default();
        let from_http = url("http://www.minibrowse.test/");
        for (header, why) in [
            ("a=1; Domain=test", "public suffix"),
            ("b=2; Domain=.com", "public suffix"),
            ("c=3; Secure", "plain http"),
        ] {
            let set = jar.store(&from_http, header, Context::TopLevel);
            assert!(
                set.outcome.starts_with("rejected") && set.outcome.contains(why),
                "{header}: {}",
                set.outcome
            );
        }
        assert!(jar.entries().is_empty());
        let set = jar.store(&from_http, "d=4; Domain=minibrowse.test", Context::TopLevel);
        assert_eq!(set.outcome, "stored");
        let set = jar.store(
            &url("https://www.minibrowse.test/"),
            "e=5; Secure",
            Context::TopLevel,
        );
        assert_eq!(set.outcome, "stored");
    }

    #[test]
    fn secure_cookies_travel_only_over_https() {
        let jar = Jar::default();
        jar.store(
            &url("https://www.example.test/"),
            "token=abc; Secure; SameSite=Strict",
            Context::TopLevel,
        );
        assert!(jar
            .header_for(&url("http://www.example.test/"), Context::TopLevel)
            .is_none());
        assert_eq!(
            jar.header_for(&url("https://www.example.test/"), Context::TopLevel),
            Some(("token=abc".to_string(), vec!["token".to_string()]))
        );
        let entry = &jar.entries()[0];
        assert!(entry.secure);
        assert_eq!(entry.same_site.as_deref(), Some("Strict"));
    }

    #[test]
    fn same_site_cookies_stay_home_on_cross_site_requests() {
        let jar = Jar::default();
        let shop = url("https://www.shop.test/");
        for header in [
            "strict=1; SameSite=Strict; Secure",
            "lax=1; SameSite=Lax; Secure",
            "plain=1; Secure",
            "none=1; SameSite=None; Secure",
        ] {
            assert_eq!(
                jar.store(&shop, header, Context::TopLevel).outcome,
                "stored"
            );
        }
        let names = |to: &str, context| {
            jar.header_for(&url(to), context)
                .map(|(_, n)| n)
                .unwrap_or_default()
        };
        // Going to the shop: everything. An image of the shop's own site: everything.
        assert_eq!(names("https://www.shop.test/", Context::TopLevel).len(), 4);
        let own_page = url("https://img.shop.test/page.html");
        assert_eq!(
            names("https://www.shop.test/a.png", Context::For(&own_page)).len(),
            4
        );
        // The same image in another site's page: only SameSite=None goes.
        let blog = url("https://blog.test/post.html");
        assert_eq!(
            names("https://www.shop.test/a.png", Context::For(&blog)),
            ["none"]
        );
        // And a cross-site answer may set only SameSite=None cookies.
        let set = jar.store(&shop, "track=1; SameSite=Lax; Secure", Context::For(&blog));
        assert!(
            set.outcome.starts_with("rejected: a cookie SameSite=Lax"),
            "{}",
            set.outcome
        );
        let set = jar.store(&shop, "track=1; Secure", Context::For(&blog));
        assert!(set.outcome.contains("Lax by default"), "{}", set.outcome);
        let set = jar.store(&shop, "track=1; SameSite=None; Secure", Context::For(&blog));
        assert_eq!(set.outcome, "stored");
        // Schemeful: http and https of one name are two sites.
        assert!(!same_site(&url("http://www.shop.test/"), &shop));
        assert!(same_site(
            &url("https://a.example.co.uk/"),
            &url("https://b.example.co.uk/")
        ));
        assert!(!same_site(
            &url("https://a.co.uk/"),
            &url("https://b.co.uk/")
        ));
        assert!(!same_site(
            &url("http://127.0.0.1:1/"),
            &url("http://127.0.0.2:1/")
        ));
    }
}
