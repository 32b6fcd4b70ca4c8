//! The `cache` event in words: its line in the trace and its sentence for students.

use super::{CacheAction, CacheStep};
use crate::text::escape_line;

/// A duration in seconds the way people say it (`52 s`, `3 min`, `2 h`, `5 days`).
pub fn span(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 3600 || (s < 36_000 && s % 3600 != 0) => format!("{} min", s / 60),
        s if s < 2 * 86_400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// The label, the one line and the detail lines of a `cache` event.
pub(super) fn describe(step: &CacheStep) -> (&'static str, String, Vec<String>) {
    let url = escape_line(&step.url);
    let summary = match step.action {
        CacheAction::Fresh => format!(
            "{} {url} from the cache: fresh for {} more, no request",
            step.method,
            span(step.ttl_s.unwrap_or(0))
        ),
        CacheAction::Revalidate if step.reason.starts_with("a reload") => {
            format!("reload: asking whether {url} changed, {}", conditions(step))
        }
        CacheAction::Revalidate => format!(
            "{url} is stored but must be checked: asking {}",
            conditions(step)
        ),
        CacheAction::Miss => format!("{url}: the stored response cannot be used"),
        CacheAction::NotModified => format!(
            "304 Not Modified: {url} served from the cache ({} bytes), {}",
            step.stored.as_ref().map_or(0, |s| s.bytes),
            match step.ttl_s.unwrap_or(0) {
                0 => "to be checked again next time".to_string(),
                ttl => format!("fresh for {} more", span(ttl)),
            }
        ),
        CacheAction::Stored => match step.ttl_s {
            Some(0) | None => format!("stored {url} (to be checked before each use)"),
            Some(ttl) => format!("stored {url}: fresh for {}", span(ttl)),
        },
        CacheAction::NotStored => format!("not stored: {url}"),
        CacheAction::Bypass => format!("hard reload: the cache is not asked for {url}"),
        CacheAction::Invalidated => format!("dropped the stored {url}"),
        CacheAction::Unreadable => format!("a stored entry for {url} is unreadable: ignored"),
    };
    let mut details = vec![format!("why: {}", escape_line(&step.reason))];
    if let Some(age) = step.age_s {
        details.push(format!("age: {}", span(age)));
    }
    if let Some(stored) = &step.stored {
        details.push(format!(
            "stored response: {} {}, {} bytes, received {}, used {} time{}",
            stored.status,
            escape_line(&stored.reason),
            stored.bytes,
            stored.stored_at,
            stored.hits,
            if stored.hits == 1 { "" } else { "s" }
        ));
    }
    ("CACHE", summary, details)
}

/// The validators a conditional request carries, as the trace says them.
fn conditions(step: &CacheStep) -> String {
    if step.conditions.is_empty() {
        "again (no validator)".to_string()
    } else {
        step.conditions
            .iter()
            .map(|c| escape_line(c))
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

/// One sentence for students, from the step's own values.
pub(super) fn explain(step: &CacheStep) -> String {
    let reason = &step.reason;
    match step.action {
        CacheAction::Fresh => format!(
            "The browser kept this response from an earlier visit, and it is still fresh ({reason}; {} left): it is used as it is, with no DNS, no connection and no request — the fastest request is the one never made.",
            span(step.ttl_s.unwrap_or(0))
        ),
        CacheAction::Revalidate => format!(
            "The browser has a copy, but {reason}, so it asks the server whether it changed with a conditional request ({}): if not, the server answers 304 with no body.",
            conditions(step)
        ),
        CacheAction::Miss => format!(
            "The browser has a copy it may not use here ({reason}), so it asks for the whole response again."
        ),
        CacheAction::NotModified => format!(
            "The server answered 304 Not Modified: the copy is still right, so only a head crossed the network and the {} stored bytes are used. It stays stored ({reason}).",
            step.stored.as_ref().map_or(0, |s| s.bytes)
        ),
        CacheAction::Stored => format!(
            "The browser keeps this response in its HTTP cache ({reason}), so the next visit can skip the network or ask only whether it changed."
        ),
        CacheAction::NotStored => format!(
            "The browser does not keep this response: {reason}."
        ),
        CacheAction::Bypass => format!(
            "A hard reload: the browser ignores what it stored and asks for everything again, saying Cache-Control: no-cache so that caches on the way do too ({reason})."
        ),
        CacheAction::Invalidated => format!(
            "A {} that succeeds may change what the server holds at this address, so the browser drops its stored copy (RFC 9111 section 4.4): {reason}.",
            step.method
        ),
        CacheAction::Unreadable => format!(
            "A file in the cache directory could not be read as a stored response, so it is ignored and the network is asked: {reason}."
        ),
    }
}

/// The header lines of a response head that steer caching, each with what it means
/// (the request detail's "Cache" section).
pub fn cache_headers_explained(head: &str) -> Vec<String> {
    head.split("\r\n")
        .skip(1)
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            let value = value.trim();
            let meaning = header_meaning(&name.trim().to_ascii_lowercase(), value)?;
            Some(format!(
                "{}: {} — {meaning}",
                escape_line(name.trim()),
                escape_line(value)
            ))
        })
        .collect()
}

fn header_meaning(name: &str, value: &str) -> Option<String> {
    Some(match name {
        "cache-control" => value
            .split(',')
            .filter_map(|d| directive_meaning(d.trim()))
            .collect::<Vec<_>>()
            .join("; "),
        "expires" => "fresh until this date, unless Cache-Control gives a max-age".into(),
        "etag" => "this version's tag: to check a stored copy the browser sends it back in If-None-Match".into(),
        "last-modified" => "when it last changed: sent back in If-Modified-Since to check a copy; with no other lifetime, 10% of its age is the heuristic one".into(),
        "age" => "seconds it already spent in a cache before it got here".into(),
        "vary" => format!("a stored copy answers only a request with the same {value}"),
        "date" => "when the server sent it: freshness counts from here".into(),
        "pragma" => "HTTP/1.0's no-cache, read only when there is no Cache-Control".into(),
        _ => return None,
    })
}

fn directive_meaning(directive: &str) -> Option<String> {
    let (name, value) = match directive.split_once('=') {
        Some((n, v)) => (
            n.trim().to_ascii_lowercase(),
            Some(v.trim().trim_matches('"')),
        ),
        None => (directive.to_ascii_lowercase(), None),
    };
    Some(match (name.as_str(), value) {
        ("max-age", Some(v)) => match v.parse::<u64>() {
            Ok(s) => format!("max-age: used without asking for {}", span(s)),
            Err(_) => format!("max-age={v}: not a number, so stale at once"),
        },
        ("s-maxage", _) => "s-maxage: for shared caches (proxies), ignored by a browser".into(),
        ("no-store", _) => "no-store: never kept".into(),
        ("no-cache", _) => "no-cache: kept, but checked with the server before every use".into(),
        ("must-revalidate", _) => "must-revalidate: once stale, never used without checking".into(),
        ("immutable", _) => {
            "immutable: never changes while fresh, so even a reload does not check it".into()
        }
        ("private", _) => "private: only this browser may keep it, not a shared cache".into(),
        ("public", _) => "public: any cache may keep it".into(),
        ("", _) => return None,
        (other, _) => format!("{other}: not about this browser's cache"),
    })
}
