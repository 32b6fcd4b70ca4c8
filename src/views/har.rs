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

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use base64::Engine;
use serde_json::{json, Value};

use crate::net::cookies::parse_cookie_header;
use crate::trace::{CookieSet, Event, EventKind, KeptBodies, RequestId};

/// What the archive is made from.
pub struct HarSource<'a> {
    pub events: &'a [Event],
    /// The wall-clock time the load began (`Trace::start_wall`).
    pub started: SystemTime,
    pub bodies: &'a HashMap<RequestId, KeptBodies>,
    /// The page's title, if it had one.
    pub title: Option<String>,
}

/// One request's events, folded.
#[derive(Default)]
struct Fold {
    begun_ms: Option<f64>,
    dns_ms: Option<f64>,
    dns_start: Option<f64>,
    /// Start and duration of the TCP connect.
    connect: Option<(f64, f64)>,
    conn: Option<u32>,
    tls_ms: Option<f64>,
    /// Setting up the way through a proxy (CONNECT or SOCKS5), part of `connect`.
    proxy_ms: f64,
    request: Option<(f64, String, String, String, f64)>,
    response: Option<(u16, String, String, String, f64)>,
    body: Option<(u64, u64, f64, f64)>,
    set_cookies: Vec<CookieSet>,
    frames: Vec<(f64, String, String, String)>,
}

/// The archive as JSON (`{"log": {...}}`).
pub fn build(source: &HarSource<'_>) -> Value {
    let mut folds: BTreeMap<RequestId, Fold> = BTreeMap::new();
    let mut content_loaded = None;
    let mut loaded = None;
    for event in source.events {
        match &event.kind {
            EventKind::Parse { ms, .. } if content_loaded.is_none() => {
                content_loaded = Some(event.t_ms + ms)
            }
            EventKind::Summary { ms, .. } => loaded = Some(*ms),
            _ => {}
        }
        let Some(request) = event.request else {
            continue;
        };
        fold(folds.entry(request).or_default(), event);
    }
    // A reused connection's address is the one it was opened to.
    let remotes: HashMap<u32, String> = source
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Connect { conn, remote, .. } => Some((*conn, remote.clone())),
            _ => None,
        })
        .collect();
    let mut entries: Vec<(f64, Value)> = folds
        .iter()
        .filter_map(|(id, f)| entry(*id, f, source, &remotes).map(|e| (f.started_ms(), e)))
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

fn fold(f: &mut Fold, event: &Event) {
    match &event.kind {
        EventKind::Dns { ms, .. } => {
            *f.dns_ms.get_or_insert(0.0) += ms;
            f.dns_start.get_or_insert(event.t_ms);
        }
        EventKind::Connect { conn, ms, .. } => {
            f.connect = Some((event.t_ms, *ms));
            f.conn = Some(*conn);
        }
        EventKind::Reuse { conn, .. } => f.conn = Some(*conn),
        EventKind::Tls { ms, .. } => f.tls_ms = Some(*ms),
        EventKind::Proxy { ms, .. } => f.proxy_ms += ms,
        EventKind::Request {
            method,
            url,
            head,
            begun_ms,
            send_ms,
            ..
        } => {
            // A trace recorded before `begun_ms` existed reads it as 0: use the send time.
            f.begun_ms = Some(if *begun_ms > 0.0 {
                *begun_ms
            } else {
                event.t_ms
            });
            f.request = Some((
                event.t_ms,
                method.clone(),
                url.clone(),
                head.clone(),
                *send_ms,
            ));
        }
        EventKind::Response {
            status,
            reason,
            version,
            head,
            ttfb_ms,
        } => {
            f.response = Some((
                *status,
                reason.clone(),
                version.clone(),
                head.clone(),
                *ttfb_ms,
            ))
        }
        EventKind::Body {
            wire_bytes,
            decoded_bytes,
            ms,
            ..
        } => f.body = Some((*wire_bytes, *decoded_bytes, event.t_ms, *ms)),
        EventKind::SetCookie(c) => f.set_cookies.push(c.clone()),
        EventKind::WsFrame {
            direction,
            opcode,
            preview,
            ..
        } => f.frames.push((
            event.t_ms,
            direction.clone(),
            opcode.clone(),
            preview.clone(),
        )),
        _ => {}
    }
}

impl Fold {
    /// When the request began, in ms since the load began.
    fn started_ms(&self) -> f64 {
        self.begun_ms.unwrap_or(0.0)
    }

    /// The phases: blocked, dns, connect, ssl, send, wait, receive (-1: did not happen).
    fn timings(&self) -> [f64; 7] {
        let (send_at, send) = self
            .request
            .as_ref()
            .map(|r| (r.0, r.4))
            .unwrap_or((0.0, 0.0));
        let first_step = [self.dns_start, self.connect.as_ref().map(|c| c.0)]
            .into_iter()
            .flatten()
            .fold(send_at, f64::min);
        let blocked = round((first_step - self.started_ms()).max(0.0));
        let dns = self.dns_ms.map(round).unwrap_or(-1.0);
        let ssl = self.tls_ms.map(round).unwrap_or(-1.0);
        let connect = match &self.connect {
            Some((_, ms)) => round(ms + self.proxy_ms + ssl.max(0.0)),
            None => -1.0,
        };
        let wait = round(self.response.as_ref().map(|r| r.4).unwrap_or(0.0));
        let receive = round(self.body.as_ref().map(|b| b.3).unwrap_or(0.0));
        [blocked, dns, connect, ssl, round(send), wait, receive]
    }
}

fn entry(
    id: RequestId,
    f: &Fold,
    source: &HarSource<'_>,
    remotes: &HashMap<u32, String>,
) -> Option<Value> {
    let (_, method, url, request_head, _) = f.request.as_ref()?;
    let (status, reason, version, response_head, _) = f.response.as_ref()?;
    let [blocked, dns, connect, ssl, send, wait, receive] = f.timings();
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
        "httpVersion": request_head.split("\r\n").next().and_then(|l| l.rsplit(' ').next()).unwrap_or("HTTP/1.1"),
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
    let (wire, decoded) = f.body.map(|b| (b.0, b.1)).unwrap_or((0, 0));
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
        "httpVersion": version,
        "cookies": f.set_cookies.iter().map(cookie_json).collect::<Vec<_>>(),
        "headers": headers_json(&response_headers),
        "content": content,
        "redirectURL": header(&response_headers, "location").unwrap_or(""),
        "headersSize": response_head.len(),
        "bodySize": wire,
    });
    let mut entry = json!({
        "pageref": "page_1",
        "startedDateTime": iso8601(source.started, f.started_ms()),
        "time": round(time),
        "request": request,
        "response": response,
        "cache": {},
        "timings": {
            "blocked": blocked, "dns": dns, "connect": connect, "ssl": ssl,
            "send": send, "wait": wait, "receive": receive,
        },
        "_requestId": id,
    });
    if let Some(remote) = f.conn.and_then(|c| remotes.get(&c)) {
        let ip = remote
            .rsplit_once(':')
            .map(|(ip, _)| ip.trim_start_matches('[').trim_end_matches(']'))
            .unwrap_or(remote);
        entry["serverIPAddress"] = json!(ip);
    }
    if let Some(conn) = f.conn {
        entry["connection"] = json!(conn.to_string());
    }
    if !f.frames.is_empty() || *status == 101 {
        entry["_resourceType"] = json!("websocket");
        entry["_webSocketMessages"] = f
            .frames
            .iter()
            .map(|(t, direction, opcode, data)| {
                json!({
                    "type": if direction == "sent" { "send" } else { "receive" },
                    "time": epoch_seconds(source.started, *t),
                    "opcode": opcode_number(opcode),
                    "data": data,
                })
            })
            .collect();
    }
    Some(entry)
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
fn head_fields(head: &str) -> Vec<(String, String)> {
    head.split("\r\n")
        .skip(1)
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_string(), value.trim().to_string()))
        })
        .collect()
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
