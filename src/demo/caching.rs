//! What the demo's static files say about caching, and the conditional requests they
//! answer with 304 Not Modified (RFC 9110 section 13, RFC 9111).
//!
//! Each file carries a strong `ETag` (a hash of the bytes actually sent: a page's
//! placeholders are filled per run, so its tag changes with the ports), a `Last-Modified`
//! (when this program was built, which is when the files were embedded in it; a page with
//! placeholders: when this server started, which is when its bytes came to be) and a
//! `Cache-Control` a lesson can explain:
//!
//! | Files | Cache-Control | The lesson |
//! | --- | --- | --- |
//! | pages (`*.html`) | `max-age=60` | a page is used for a minute, then checked (`r` checks at once) |
//! | `cookie.html` | `no-store` | a personal page (it sets a cookie) is never kept |
//! | `style.css` | `no-cache` | kept, but checked before every use: every page's request 2 is a real request (a 304 once stored), so stop 3 can show it carrying the cookie |
//! | other style sheets, scripts | `max-age=300` | five minutes without asking |
//! | `img/logo.svg` | `max-age=31536000, immutable` | a year; not even a reload checks it |
//! | `text.txt` | none | only `Last-Modified`: the heuristic lifetime (10% of its age) |
//! | other images, fonts, media | `max-age=3600` | an hour |

use std::sync::OnceLock;
use std::time::SystemTime;

use axum::http::{header, HeaderMap, HeaderValue};

/// Whether a request may be answered with 304.
pub(super) enum Validation {
    /// Send the file.
    Full,
    /// The client's copy is current: 304, no body. Names the validator that matched.
    NotModified(&'static str),
}

/// The `Cache-Control` of a file, by its path (None: the heuristic file).
pub(super) fn cache_control(path: &str) -> Option<&'static str> {
    let ext = path.rsplit('.').next().unwrap_or_default();
    match (path, ext) {
        ("cookie.html", _) => Some("no-store"),
        ("style.css", _) => Some("no-cache"),
        ("img/logo.svg", _) => Some("max-age=31536000, immutable"),
        ("text.txt", _) => None,
        (_, "html") => Some("max-age=60"),
        (_, "css" | "js") => Some("max-age=300"),
        _ => Some("max-age=3600"),
    }
}

/// Adds the file's caching headers to `response` and says whether the request's
/// conditions (`If-None-Match`, else `If-Modified-Since`) let it be answered with 304.
pub(super) fn mark(
    path: &str,
    body: &[u8],
    filled: bool,
    request: &HeaderMap,
    response: &mut HeaderMap,
) -> Validation {
    let etag = format!("\"{:016x}\"", fnv1a(body));
    let modified = if filled { started() } else { built() };
    let last_modified = httpdate::fmt_http_date(modified);
    for (name, value) in [
        (header::ETAG, Some(etag.as_str())),
        (header::LAST_MODIFIED, Some(last_modified.as_str())),
        (header::CACHE_CONTROL, cache_control(path)),
    ] {
        if let Some(Ok(value)) = value.map(HeaderValue::from_str) {
            response.insert(name, value);
        }
    }
    if cache_control(path) == Some("no-store") {
        return Validation::Full;
    }
    let text = |name| {
        request
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    // If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 13.2.2).
    if let Some(tags) = text(header::IF_NONE_MATCH) {
        let matches = tags
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag);
        return if matches {
            Validation::NotModified("If-None-Match")
        } else {
            Validation::Full
        };
    }
    let since = text(header::IF_MODIFIED_SINCE).and_then(|d| httpdate::parse_http_date(d).ok());
    match since {
        // HTTP dates have whole seconds: compare at that precision.
        Some(since) if whole_seconds(modified) <= whole_seconds(since) => {
            Validation::NotModified("If-Modified-Since")
        }
        _ => Validation::Full,
    }
}

fn whole_seconds(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// When this program was built (its executable's last change): the embedded files are as
/// old as that at most. The server's start when it cannot be read.
fn built() -> SystemTime {
    static BUILT: OnceLock<SystemTime> = OnceLock::new();
    *BUILT.get_or_init(|| {
        std::env::current_exe()
            .and_then(std::fs::metadata)
            .and_then(|m| m.modified())
            .unwrap_or_else(|_| started())
    })
}

/// When the demo's pages were first filled in by this process.
fn started() -> SystemTime {
    static STARTED: OnceLock<SystemTime> = OnceLock::new();
    *STARTED.get_or_init(SystemTime::now)
}

/// FNV-1a, 64 bits: a stable tag of the bytes sent.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).expect("a header value"));
        headers
    }

    #[test]
    fn a_matching_tag_or_date_is_not_modified_and_a_changed_one_is() {
        let mut sent = HeaderMap::new();
        assert!(matches!(
            mark("style.css", b"body{}", false, &HeaderMap::new(), &mut sent),
            Validation::Full
        ));
        let etag = sent[header::ETAG].to_str().expect("text").to_string();
        let date = sent[header::LAST_MODIFIED]
            .to_str()
            .expect("text")
            .to_string();
        assert_eq!(sent[header::CACHE_CONTROL], "no-cache");
        let mut out = HeaderMap::new();
        let same = ask(header::IF_NONE_MATCH, &etag);
        assert!(matches!(
            mark("style.css", b"body{}", false, &same, &mut out),
            Validation::NotModified("If-None-Match")
        ));
        assert!(matches!(
            mark("style.css", b"body{x}", false, &same, &mut out),
            Validation::Full
        ));
        let since = ask(header::IF_MODIFIED_SINCE, &date);
        assert!(matches!(
            mark("style.css", b"body{}", false, &since, &mut out),
            Validation::NotModified("If-Modified-Since")
        ));
        let before = ask(header::IF_MODIFIED_SINCE, "Thu, 01 Jan 1970 00:00:01 GMT");
        assert!(matches!(
            mark("style.css", b"body{}", false, &before, &mut out),
            Validation::Full
        ));
    }

    #[test]
    fn the_no_store_page_is_never_answered_with_304() {
        let mut out = HeaderMap::new();
        let any = ask(header::IF_NONE_MATCH, "*");
        assert!(matches!(
            mark("cookie.html", b"x", true, &any, &mut out),
            Validation::Full
        ));
        assert_eq!(out[header::CACHE_CONTROL], "no-store");
        assert_eq!(cache_control("text.txt"), None);
    }
}
