//! Link targets resolved against the page's base URL, as the text the link list shows.

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use url::Url;

use crate::text::escape_controls;

/// Link targets resolved against the page's URL, made safe for a terminal.
///
/// A page's links mostly differ only in their fragments (a table of contents links the
/// sections of a few pages), and `Url::join` is costly: `before#` is joined once per
/// different `before`, and a link's fragment appended to the result when that is what
/// the URL parser would do with it too.
pub(super) struct Resolver {
    base: Url,
    /// `before#` joined (so ending in `#`), by `before`; None: it did not parse.
    joined: FxHashMap<String, Option<String>>,
}

/// How many joined URLs the resolver keeps (a page with more unique targets starts over).
const MAX_JOINED: usize = 4096;

impl Resolver {
    pub(super) fn new(base: &Url) -> Resolver {
        Resolver {
            base: base.clone(),
            joined: FxHashMap::default(),
        }
    }

    /// `href` resolved, as text: the URL, or `href` itself when it does not parse.
    pub(super) fn resolve(&mut self, href: &str) -> String {
        let href = href.trim();
        if let Some((before, fragment)) = href.split_once('#') {
            if fragment.bytes().all(fragment_byte_is_kept) {
                // One hash look-up for a target seen before.
                if let Some(joined) = self.joined.get(before) {
                    return with_fragment(joined.as_deref(), fragment, href);
                }
                let joined = self.remember_join(before);
                return with_fragment(joined.as_deref(), fragment, href);
            }
        }
        terminal_safe(join(&self.base, href))
    }

    /// Joins `before#` to the base and keeps the result; the part before `#` decides
    /// whether that parses, so `before#fragment` parses just when this does.
    fn remember_join(&mut self, before: &str) -> &Option<String> {
        if self.joined.len() >= MAX_JOINED {
            self.joined.clear();
        }
        let url = self.base.join(&format!("{before}#")).ok().map(String::from);
        self.joined.entry(before.to_string()).or_insert(url)
    }
}

/// `href` resolved from its target joined with `#` (None: it did not parse) and its fragment.
fn with_fragment(joined: Option<&str>, fragment: &str, href: &str) -> String {
    match joined {
        Some(joined) => {
            // A serialized URL and a fragment of printable ASCII: terminal-safe.
            let mut url = String::with_capacity(joined.len() + fragment.len());
            url.push_str(joined);
            url.push_str(fragment);
            url
        }
        None => terminal_safe(href.to_string()),
    }
}

fn terminal_safe(text: String) -> String {
    match escape_controls(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(escaped) => escaped,
    }
}

/// Whether the URL parser copies this byte of a fragment as it is: printable ASCII
/// outside the fragment percent-encode set (tabs and newlines it would drop, controls,
/// spaces and non-ASCII it would encode).
fn fragment_byte_is_kept(b: u8) -> bool {
    (0x21..0x7f).contains(&b) && !matches!(b, b'"' | b'<' | b'>' | b'`')
}

fn join(base: &Url, href: &str) -> String {
    base.join(href)
        .map(String::from)
        .unwrap_or_else(|_| href.to_string())
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::{join, terminal_safe, Resolver};

    #[test]
    fn resolver_agrees_with_joining_each_link() {
        let bases = [
            "http://x.test/dir/page.html?q=1#top",
            "file:///usr/share/doc/page.html",
            "about:blank",
            "data:text/html,hello",
        ];
        let hrefs = [
            "#a",
            "#",
            "",
            "other.html#sec-1",
            "other.html#sec-2",
            "other.html",
            "../up.html#x:y/z?w",
            " other.html#padded ",
            "?q=2#f",
            "//host.test/p#f",
            "mailto:me@x.test#f",
            "javascript:void(0)#f",
            "http://[::1#f",
            "a.html#with space",
            "a.html#ünï",
            "a.html#\u{1b}[2J",
            "a.html#x\ty",
            "a.html#x#y",
            "a.html#\"q\"",
            "a\u{1}.html#f",
        ];
        for base in bases {
            let base = Url::parse(base).expect("a URL");
            let mut resolver = Resolver::new(&base);
            // Twice: the second round comes from the cache.
            for _ in 0..2 {
                for href in hrefs {
                    let expected = terminal_safe(join(&base, href.trim()));
                    assert_eq!(resolver.resolve(href), expected, "{href:?} against {base}");
                }
            }
        }
    }
}
