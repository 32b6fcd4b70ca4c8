//! What the `o` (open URL) dialog loads for what was typed, the way a browser's address bar
//! reads it while a web page is open.
//!
//! On an http(s) page:
//! - a full URL (`http://…`, `https://…`, `file:…`) is loaded as it is;
//! - `./page.html`, `~/page.html`, or an absolute path to a file that exists on this machine,
//!   is that local file;
//! - a host name, with or without a path (`example.com`, `localhost:8080/a`, `127.0.0.1`),
//!   is that site, over `http://`;
//! - anything else is a link on the current page: `/cookie.html` is that page on the current
//!   site, `cookie.html`, `../`, `?q=1` are relative to the current page.
//!
//! With no page, or a local file open, what was typed is read as on the command line
//! ([`crate::page::parse_input`]): a path is a local file, a bare name a host.

use std::path::Path;

use url::Url;

/// File extensions that make `name.ext` a file on the site, not a host name.
const FILE_EXTENSIONS: &[&str] = &[
    "html", "htm", "xhtml", "css", "js", "mjs", "json", "xml", "txt", "svg", "png", "jpg", "jpeg",
    "gif", "webp", "avif", "ico", "woff", "woff2", "ttf", "otf", "mp4", "webm", "ogg", "mp3",
    "wav", "pdf", "csv", "php", "asp", "aspx", "jsp", "cgi", "map", "wasm",
];

/// The URL (or, for [`crate::page::parse_input`] to read, the text) to load for `typed`
/// while `current` is open.
pub fn resolve(typed: &str, current: &str) -> String {
    let typed = typed.trim();
    let base = match Url::parse(current) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => url,
        _ => return typed.to_string(),
    };
    let has_scheme = typed.contains("://") || typed.starts_with("file:");
    let local = typed.starts_with("./")
        || typed.starts_with('~')
        || (typed.starts_with('/') && !typed.starts_with("//") && Path::new(typed).is_file());
    if has_scheme || local || names_a_host(typed) || is_other_scheme(typed) {
        return typed.to_string();
    }
    match base.join(typed) {
        Ok(url) => url.to_string(),
        Err(_) => typed.to_string(),
    }
}

/// `mailto:x`, `javascript:…`: left for [`crate::page::parse_input`] to refuse by name.
fn is_other_scheme(typed: &str) -> bool {
    typed.split_once(':').is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphabetic())
            && !rest.starts_with(|c: char| c.is_ascii_digit())
            && !scheme.eq_ignore_ascii_case("localhost")
    })
}

/// Whether what was typed starts with a host name: `localhost`, `name:port`, an IP
/// address, or a dotted name whose last label is not a file extension.
fn names_a_host(typed: &str) -> bool {
    let first = typed.split(['/', '?', '#']).next().unwrap_or_default();
    if first.is_empty() || first.starts_with('.') {
        return false;
    }
    if first.starts_with('[') {
        return true;
    }
    let host = match first.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => {
            return !host.is_empty();
        }
        _ => first,
    };
    let lower = host.to_ascii_lowercase();
    if lower == "localhost"
        || lower.ends_with(".localhost")
        || lower.parse::<std::net::IpAddr>().is_ok()
    {
        return true;
    }
    match lower.rsplit_once('.') {
        Some((name, last)) => {
            !name.is_empty()
                && !last.is_empty()
                && last.chars().all(|c| c.is_ascii_alphabetic())
                && !FILE_EXTENSIONS.contains(&last)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;

    const PAGE: &str = "http://www.minibrowse.test:18080/docs/assets.html";

    #[test]
    fn paths_resolve_against_the_current_page() {
        assert_eq!(
            resolve("/cookie.html", PAGE),
            "http://www.minibrowse.test:18080/cookie.html"
        );
        assert_eq!(
            resolve(" cookie.html ", PAGE),
            "http://www.minibrowse.test:18080/docs/cookie.html"
        );
        assert_eq!(resolve("../", PAGE), "http://www.minibrowse.test:18080/");
        assert_eq!(
            resolve("?q=1", PAGE),
            "http://www.minibrowse.test:18080/docs/assets.html?q=1"
        );
        assert_eq!(
            resolve("chat", "https://secure.minibrowse.test:18443/"),
            "https://secure.minibrowse.test:18443/chat"
        );
        // `//host/path` keeps the page's scheme, as in a link.
        assert_eq!(
            resolve("//cdn.minibrowse.test/logo.png", PAGE),
            "http://cdn.minibrowse.test/logo.png"
        );
    }

    #[test]
    fn full_urls_hosts_and_local_files_stay_as_typed() {
        for typed in [
            "https://example.com/a",
            "file:///tmp/x.html",
            "example.com",
            "www.minibrowse.test:18080/cookie.html",
            "localhost:8080/a",
            "localhost",
            "127.0.0.1/x",
            "[::1]:8080/",
            "./page.html",
            "~/page.html",
            "mailto:someone@example.com",
        ] {
            assert_eq!(resolve(typed, PAGE), typed, "{typed}");
        }
        // An absolute path is a local file only when that file exists.
        let file = std::env::current_exe().expect("test binary");
        let file = file.to_string_lossy();
        assert_eq!(resolve(&file, PAGE), file);
    }

    #[test]
    fn without_a_web_page_the_text_is_read_as_on_the_command_line() {
        for current in ["", "file:///tmp/page.html"] {
            assert_eq!(resolve("/cookie.html", current), "/cookie.html");
            assert_eq!(resolve("cookie.html", current), "cookie.html");
        }
    }
}
