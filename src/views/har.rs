//! `--har FILE`: the load as an HTTP Archive 1.2, the format browsers' DevTools export.
//!
//! Built from the trace's events (and the bodies a trace made with
//! [`Trace::keeping_bodies`](crate::trace::Trace::keeping_bodies) kept), so every timing
//! in it is one of our measurements:
//! - `blocked`: from the request's start to its first step on the network (the resolver
//!   call and the look into the connection pool);
//! - `dns`: the DNS questions the new connection used (-1 on a reused connection);
//! - `connect`: TCP connect, a proxy tunnel's setup and the TLS handshake (-1 when
//!   reused), `ssl`: the handshake
//!   alone (-1 for plain HTTP), included in `connect` as the spec says;
//! - `send`, `wait` (time to first byte), `receive` (reading the body);
//! - `time`: the sum of the phases that are not -1.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use base64::Engine;
use serde_json::{json, Value};

use crate::net::cookies::parse_cookie_header;
use crate::trace::{CookieSet, Event, EventKind, KeptBodies, RequestId, RequestLog, RequestRecord};

/// What the archive is made from.
pub struct HarSource<'a> {
    pub events: &'a [Event],
    /// The wall-clock time the load began (`Trace::start_wall`).
    pub started: SystemTime,
    pub bodies: &'a HashMap<RequestId, KeptBodies>,
    /// The page's title, if it had one.
    pub title: Option<String>,
}

/// The archive as JSON (`{"log": {...}}`).
pub fn build(source: &HarSource<'_>) -> Value {
    let log = RequestLog::of(source.events);
    let mut content_loaded = None;
    let mut loaded = None;
    // The load's moments as the trace measured them; a trace without them (a local page,
    // one recorded before they were) falls back on the parse's end and the summary.
    let moment = |name: &str| {
        source.events.iter().find_map(|e| match &e.kind {
            EventKind::LoadMoment { moment, ms } if moment == name => Some(*ms),
            _ => None,
        })
    };
    for event in source.events {
        match &event.kind {
            EventKind::Parse { ms, .. } if content_loaded.is_none() => {
                content_loaded = Some(event.t_ms + ms)
            }
            EventKind::Summary { ms, .. } => loaded = Some(*ms),
            _ => {}
        }
    }
    let content_loaded = moment("dom_content_loaded").or(content_loaded);
    let loaded = moment("load").or(loaded);
    let mut entries: Vec<(f64, Value)> = log
        .records()
        .iter()
        .filter_map(|r| entry(r, source).map(|e| (r.started_ms(), e)))
        .collect();
    // Entries in the order their requests started (stable for equal times).
    entries.sort_by(|a, b| a.0.total_cmp(&b.0));
    let page = json!({
        "startedDateTime": iso8601(source.started, 0.0),
        "id": "page_1",
        "title": source.title.clone().unwrap_or_default(),
        "pageTimings": {
            "onContentLoad": round(content_loaded.unwrap_or(-1.0)),
            "onLoad": round(loaded.unwrap_or(-1.0)),
        },
    });
    json!({
        "log": {
            "version": "1.2",
            "creator": { "name": "minibrowse", "version": env!("CARGO_PKG_VERSION") },
            "pages": [page],
            "entries": entries.into_iter().map(|(_, e)| e).collect::<Vec<_>>(),
        }
    })
}

/// The phases as HAR has them: blocked, dns, connect, ssl, send, wait, receive, with -1
/// for what did not happen, and `connect` including the TLS handshake as the spec says.
fn timings(record: &RequestRecord) -> [f64; 7] {
    let p = record.phases();
    let ssl = p.tls.map(round).unwrap_or(-1.0);
    let connect = match record.connect {
        Some(_) => round(p.connect.unwrap_or(0.0) + ssl.max(0.0)),
        None => -1.0,
    };
    [
        round(p.blocked),
        p.dns.map(round).unwrap_or(-1.0),
        connect,
        ssl,
        round(p.send),
        round(p.wait),
        round(p.receive),
    ]
}

fn entry(record: &RequestRecord, source: &HarSource<'_>) -> Option<Value> {
    let id = record.id;
    let (method, url) = (&record.method, &record.url);
    // A response the HTTP cache gave had no request on the wire: its entry has no head.
    let request_head = match &record.request {
        Some(sent) => sent.head.as_str(),
        None if record.from_cache() => "",
        None => return None,
    };
    let answer = record.response.as_ref()?;
    let (status, reason, version, response_head) = (
        &answer.status,
        &answer.reason,
        &answer.version,
        &answer.head,
    );
    let [blocked, dns, connect, ssl, send, wait, receive] = timings(record);
    // The spec: time is the sum of the phases, without the -1s (and ssl is inside connect).
    let time = [blocked, dns, connect, send, wait, receive]
        .iter()
        .filter(|t| **t >= 0.0)
        .sum::<f64>();
    let kept = source.bodies.get(&id);
    let request_headers = head_fields(request_head);
    let request_cookies: Vec<Value> = request_headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
        .flat_map(|(_, v)| parse_cookie_header(v))
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect();
    let query: Vec<Value> = url::Url::parse(url)
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| json!({ "name": k, "value": v }))
                .collect()
        })
        .unwrap_or_default();
    let mut request = json!({
        "method": method,
        "url": url,
        "httpVersion": har_version(request_head, version),
        "cookies": request_cookies,
        "headers": headers_json(&request_headers),
        "queryString": query,
        "headersSize": request_head.len(),
        "bodySize": 0,
    });
    if let Some((mime, body)) = kept.and_then(|k| k.request.as_ref()) {
        request["postData"] = json!({ "mimeType": mime, "text": String::from_utf8_lossy(body) });
        request["bodySize"] = json!(body.len());
    }
    let response_headers = head_fields(response_head);
    let content_type = header(&response_headers, "content-type");
    let (wire, decoded) = record
        .body
        .as_ref()
        .map_or((0, 0), |b| (b.wire_bytes, b.decoded_bytes));
    let mut content = json!({
        "size": decoded,
        "compression": decoded.saturating_sub(wire),
        "mimeType": content_type.unwrap_or("x-unknown"),
    });
    if let Some(kept) = kept.filter(|k| !k.response.is_empty()) {
        add_text(&mut content, kept, content_type);
    }
    let response = json!({
        "status": status,
        "statusText": reason,
        "httpVersion": if version == "HTTP/2" { "HTTP/2.0" } else { version },
        "cookies": record.set_cookies.iter().map(cookie_json).collect::<Vec<_>>(),
        "headers": headers_json(&response_headers),
        "content": content,
        "redirectURL": header(&response_headers, "location").unwrap_or(""),
        "headersSize": response_head.len(),
        "bodySize": wire,
    });
    let mut entry = json!({
        "pageref": "page_1",
        "startedDateTime": iso8601(source.started, record.started_ms()),
        "time": round(time),
        "request": request,
        "response": response,
        "cache": cache_json(record, source),
        "timings": {
            "blocked": blocked, "dns": dns, "connect": connect, "ssl": ssl,
            "send": send, "wait": wait, "receive": receive,
        },
        "_requestId": id,
    });
    if let Some(queued) = &record.queued {
        // DevTools' priority column, as Chrome's HAR carries it.
        let mut name = queued.priority.clone();
        if let Some(first) = name.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        entry["_priority"] = json!(name);
    }
    if record.from_cache() {
        // What Chrome writes for a response served without the network.
        entry["_fromCache"] = json!("disk");
    }
    if let Some(connection) = &record.connection {
        if let Some(remote) = &connection.remote {
            let ip = remote
                .rsplit_once(':')
                .map(|(ip, _)| ip.trim_start_matches('[').trim_end_matches(']'))
                .unwrap_or(remote);
            entry["serverIPAddress"] = json!(ip);
        }
        entry["connection"] = json!(connection.id.to_string());
    }
    if !record.frames.is_empty() || *status == 101 {
        entry["_resourceType"] = json!("websocket");
        entry["_webSocketMessages"] = record
            .frames
            .iter()
            .map(|frame| {
                json!({
                    "type": if frame.direction == "sent" { "send" } else { "receive" },
                    "time": epoch_seconds(source.started, frame.at_ms),
                    "opcode": opcode_number(&frame.opcode),
                    "data": frame.preview,
                })
            })
            .collect();
    }
    Some(entry)
}

/// HAR's `cache`: the stored entry before the request and after it, from the trace's
/// cache steps (`beforeRequest: null` when nothing was stored, an entry left out when
/// the trace does not say).
fn cache_json(record: &RequestRecord, source: &HarSource<'_>) -> Value {
    use crate::trace::CacheAction;
    let last_access = iso8601(source.started, record.started_ms());
    let etag = |head: &str| {
        header(&head_fields(head), "etag")
            .unwrap_or_default()
            .to_string()
    };
    let stored_entry = |step: &crate::trace::CacheStep, hits: u64| {
        let head = step.stored.as_ref().map_or_else(
            || record.response.as_ref().map_or("", |r| r.head.as_str()),
            |s| s.head.as_str(),
        );
        let mut entity = json!({
            "lastAccess": last_access,
            "eTag": etag(head),
            "hitCount": hits,
        });
        if let Some(ttl) = step.ttl_s {
            let expires = record.started_ms() + ttl as f64 * 1000.0;
            entity["expires"] = json!(iso8601(source.started, expires));
        }
        entity
    };
    let mut cache = json!({});
    for step in &record.cache {
        let hits = step.stored.as_ref().map_or(0, |s| s.hits);
        match step.action {
            CacheAction::Fresh | CacheAction::NotModified => {
                cache["beforeRequest"] = stored_entry(step, hits.saturating_sub(1));
                cache["afterRequest"] = stored_entry(step, hits);
            }
            CacheAction::Revalidate | CacheAction::Miss => {
                cache["beforeRequest"] = stored_entry(step, hits);
            }
            CacheAction::Stored => {
                if cache.get("beforeRequest").is_none() {
                    cache["beforeRequest"] = Value::Null;
                }
                cache["afterRequest"] = stored_entry(step, 0);
            }
            CacheAction::NotStored | CacheAction::Invalidated => {
                cache["afterRequest"] = Value::Null;
            }
            CacheAction::Bypass | CacheAction::Unreadable => {}
        }
    }
    cache
}

/// Inlines a body: text as it is, anything else in base64 (HAR's `encoding`).
fn add_text(content: &mut Value, kept: &KeptBodies, content_type: Option<&str>) {
    let textual = content_type.is_some_and(is_textual);
    match std::str::from_utf8(&kept.response) {
        Ok(text) if textual => content["text"] = json!(text),
        _ => {
            content["text"] =
                json!(base64::engine::general_purpose::STANDARD.encode(&kept.response));
            content["encoding"] = json!("base64");
        }
    }
    if (kept.response.len() as u64) < kept.response_size {
        content["comment"] = json!(format!(
            "only the first {} of {} bytes are kept",
            kept.response.len(),
            kept.response_size
        ));
    }
}

fn is_textual(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media.starts_with("text/")
        || media.ends_with("+xml")
        || media.ends_with("+json")
        || matches!(
            media.as_str(),
            "application/json" | "application/javascript" | "application/xml"
        )
}

fn cookie_json(c: &CookieSet) -> Value {
    let mut cookie = json!({
        "name": c.name,
        "value": c.value,
        "httpOnly": c.http_only,
        "secure": c.secure,
    });
    if let Some(path) = &c.path {
        cookie["path"] = json!(path);
    }
    if let Some(domain) = &c.domain {
        cookie["domain"] = json!(domain);
    }
    if let Some(expires) = &c.expires {
        cookie["expires"] = json!(expires);
    }
    cookie
}

/// The header lines of a head (after its first line), as (name, value).
/// The header fields of a head: after the request or status line of HTTP/1.1, or all of
/// an HTTP/2 header list (its pseudo-headers, `:method` or `:status`, included, as
/// Chromium's HAR has them).
fn head_fields(head: &str) -> Vec<(String, String)> {
    let skip = usize::from(!is_h2_head(head));
    head.split("\r\n")
        .skip(skip)
        .filter_map(|line| {
            // A pseudo-header's name begins with the colon.
            let at = line.get(1..)?.find(':')? + 1;
            let (name, value) = (&line[..at], &line[at + 1..]);
            Some((name.trim().to_string(), value.trim().to_string()))
        })
        .collect()
}

/// An HTTP/2 header list as the trace writes it: pseudo-headers first, no start line.
fn is_h2_head(head: &str) -> bool {
    head.starts_with(':')
}

/// HAR's name for the version: `HTTP/2.0` for h2 (the HAR 1.2 spelling), else the start
/// line's.
fn har_version(request_head: &str, response_version: &str) -> String {
    if is_h2_head(request_head) || response_version == "HTTP/2" {
        return "HTTP/2.0".into();
    }
    request_head
        .split("\r\n")
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .filter(|v| v.starts_with("HTTP/"))
        .unwrap_or("HTTP/1.1")
        .to_string()
}

fn headers_json(headers: &[(String, String)]) -> Vec<Value> {
    headers
        .iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn opcode_number(opcode: &str) -> u8 {
    match opcode {
        "continuation" => 0,
        "text" => 1,
        "binary" => 2,
        "close" => 8,
        "ping" => 9,
        "pong" => 10,
        _ => 1,
    }
}

/// Milliseconds to three decimals (microseconds), as the trace shows them.
fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

fn at(started: SystemTime, offset_ms: f64) -> SystemTime {
    started + Duration::from_secs_f64(offset_ms.max(0.0) / 1000.0)
}

fn epoch_seconds(started: SystemTime, offset_ms: f64) -> f64 {
    at(started, offset_ms)
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// ISO 8601 with milliseconds in UTC (`2026-11-26T00:30:00.123Z`), like Chrome writes.
fn iso8601(started: SystemTime, offset_ms: f64) -> String {
    let t = time::OffsetDateTime::from(at(started, offset_ms));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// The header names whose values are secrets a shared HAR file should not carry.
const SENSITIVE_HEADERS: [&str; 4] = [
    "cookie",
    "set-cookie",
    "authorization",
    "proxy-authorization",
];

/// Leaves cookies and credentials out of an archive, as Chrome's sanitized HAR export does:
/// the `cookies` lists are emptied and the `Cookie`, `Set-Cookie`, `Authorization` and
/// `Proxy-Authorization` headers dropped; the archive says so in its `comment`.
pub fn sanitize(archive: &mut Value) {
    let Some(entries) = archive["log"]["entries"].as_array_mut() else {
        return;
    };
    for entry in entries {
        for side in ["request", "response"] {
            let part = &mut entry[side];
            part["cookies"] = json!([]);
            if let Some(headers) = part["headers"].as_array_mut() {
                headers.retain(|h| {
                    let name = h["name"].as_str().unwrap_or_default().to_ascii_lowercase();
                    !SENSITIVE_HEADERS.contains(&name.as_str())
                });
            }
        }
    }
    archive["log"]["comment"] = json!(
        "sanitized: cookies and credentials left out (minibrowse --har-sensitive keeps them)"
    );
}
