//! The cache's reasons in words, read from the headers that decided them.

use std::time::SystemTime;

use super::header;
use crate::trace::cache_span as span;

/// The Cache-Control directives, lowercase names with their values.
fn directives(headers: &[(String, String)]) -> Vec<(String, Option<String>)> {
    headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("cache-control"))
        .flat_map(|(_, v)| v.split(','))
        .filter_map(|d| {
            let d = d.trim();
            if d.is_empty() {
                return None;
            }
            Some(match d.split_once('=') {
                Some((k, v)) => (
                    k.trim().to_ascii_lowercase(),
                    Some(v.trim().trim_matches('"').to_string()),
                ),
                None => (d.to_ascii_lowercase(), None),
            })
        })
        .collect()
}

fn has(directives: &[(String, Option<String>)], name: &str) -> bool {
    directives.iter().any(|(k, _)| k == name)
}

/// The Cache-Control line as received, or None.
fn cache_control(headers: &[(String, String)]) -> Option<String> {
    let values: Vec<&str> = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("cache-control"))
        .map(|(_, v)| v.as_str())
        .collect();
    (!values.is_empty()).then(|| format!("Cache-Control: {}", values.join(", ")))
}

/// Where a stored response's freshness lifetime comes from.
pub(super) fn lifetime(headers: &[(String, String)]) -> String {
    let cc = directives(headers);
    if has(&cc, "no-cache") {
        return format!(
            "{}: it may be kept, but must be checked with the server before each use",
            cache_control(headers).unwrap_or_default()
        );
    }
    if has(&cc, "max-age") {
        let mut said = cache_control(headers).unwrap_or_default();
        if has(&cc, "s-maxage") {
            said.push_str(" (s-maxage is for shared caches: this private one ignores it)");
        }
        if has(&cc, "immutable") {
            said.push_str(" (immutable: not even a reload checks it while fresh)");
        }
        return said;
    }
    if let Some(expires) = header(headers, "expires") {
        return format!("Expires: {expires}");
    }
    if let Some(modified) = header(headers, "last-modified") {
        let since = httpdate::parse_http_date(modified).ok().and_then(|at| {
            let date = header(headers, "date")
                .and_then(|d| httpdate::parse_http_date(d).ok())
                .unwrap_or_else(SystemTime::now);
            date.duration_since(at).ok()
        });
        return match since {
            Some(age) => format!(
                "no max-age or Expires: the heuristic of RFC 9111 section 4.2.2 allows 10% of the time since Last-Modified ({modified}, {} before), {}",
                span(age.as_secs()),
                span(age.as_secs() / 10)
            ),
            None => format!("no max-age or Expires; Last-Modified: {modified}"),
        };
    }
    "no freshness lifetime given (no max-age, Expires or Last-Modified): to be checked before each use".to_string()
}

/// Why a stored response is not fresh enough to use as it is.
pub(super) fn stale(headers: &[(String, String)], ttl: u64, reload: bool) -> String {
    let cc = directives(headers);
    if reload && ttl > 0 {
        return format!(
            "a reload checks the page even though it is fresh for {} more",
            span(ttl)
        );
    }
    if has(&cc, "no-cache") {
        return format!(
            "{}: it must be checked before each use",
            cache_control(headers).unwrap_or_default()
        );
    }
    let must = if has(&cc, "must-revalidate") {
        " (must-revalidate: a stale copy may never be used unchecked)"
    } else {
        ""
    };
    format!("stale: {}{must}", lifetime(headers))
}

/// Why a stored response does not match this request: the headers its `Vary` names.
pub(super) fn vary_mismatch(headers: &[(String, String)]) -> String {
    match header(headers, "vary") {
        Some(v) if v.trim() == "*" => "Vary: * (it never matches another request)".to_string(),
        Some(v) => format!("Vary: {v}: this request's {v} differs from the stored one's"),
        None => "the stored response was for another request".to_string(),
    }
}

/// The validators a revalidation request carries, from the policy's request.
pub(super) fn validators(headers: &http::HeaderMap) -> Vec<(String, String)> {
    ["if-none-match", "if-modified-since"]
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name)?.to_str().ok()?;
            Some((name.to_string(), value.to_string()))
        })
        .collect()
}

/// A header line as written on the wire (`If-None-Match: "abc"`).
pub(super) fn header_line(name: &str, value: &str) -> String {
    let name = match name {
        "if-none-match" => "If-None-Match",
        "if-modified-since" => "If-Modified-Since",
        other => other,
    };
    format!("{name}: {value}")
}

/// Why a response may not be stored (RFC 9111 section 3).
pub(super) fn not_storable(status: u16, headers: &[(String, String)]) -> String {
    let cc = directives(headers);
    if has(&cc, "no-store") {
        return "Cache-Control: no-store (nothing of it may be kept)".to_string();
    }
    if header(headers, "vary").is_some_and(|v| v.trim() == "*") {
        return "Vary: * (it could never match a request)".to_string();
    }
    format!("status {status} is not stored without an explicit lifetime (max-age or Expires)")
}

/// The head as received with its header lines replaced by `headers` (a 304's update).
pub(super) fn head_of(old: &str, headers: &[(String, String)]) -> String {
    let status_line = old.split("\r\n").next().unwrap_or("HTTP/1.1 200 OK");
    let mut head = format!("{status_line}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

pub(super) fn rfc3339(at: SystemTime) -> String {
    let at = time::OffsetDateTime::from(at);
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
