//! The request record: everything the trace says about one request, folded from its events
//! in one place. The TUI's request log, its waterfall and the request detail, the HAR file
//! and the `--trace` grouping all read a [`RequestRecord`]; a new fact about a request (say,
//! "came from the cache") is added to its event, folded here once, and every view can show it.

use std::collections::HashMap;

use url::Url;

use super::{
    describe::headline, CacheAction, CacheStep, CookieSet, DnsRecord, Event, EventKind, RequestId,
};

/// What is known about one request (one hop of a redirect chain, one asset, one poll, one
/// WebSocket), so far. Times are in ms since the load began, as the trace's `t_ms`.
#[derive(Clone, Debug, Default)]
pub struct RequestRecord {
    pub id: RequestId,
    /// When its first event happened.
    pub first_ms: f64,
    /// When the request began (before DNS, the pool and connecting), as its `request`
    /// event says; None until that event, or in a trace recorded before it was measured.
    pub begun_ms: Option<f64>,
    pub method: String,
    pub url: String,
    pub host: String,
    /// The path and query (what a request line carries).
    pub path: String,
    /// Why it was made: `page`, `stylesheet`, `image`, `poll`…
    pub purpose: String,
    /// The element whose reference made the browser ask for it (assets).
    pub initiator: Option<Initiator>,
    /// Its place in the asset loader's queue: priority, who asked, the scanner's head start.
    pub queued: Option<Queued>,
    /// The DNS answers this request's connection was made with.
    pub dns: Vec<DnsUse>,
    /// The connection it went on.
    pub connection: Option<ConnectionUse>,
    /// The TCP connect of a new connection.
    pub connect: Option<Timed>,
    /// The way through a proxy, on a new connection to it.
    pub proxy: Option<ProxyUse>,
    /// The TLS handshake of a new connection, and its certificate check.
    pub tls: Option<TlsCheck>,
    pub request: Option<SentRequest>,
    pub response: Option<ReceivedResponse>,
    pub body: Option<ReceivedBody>,
    /// The next hop, when the answer was a redirect that was followed.
    pub redirect: Option<RedirectHop>,
    /// Cookies sent with the request and set by its response, each as the trace says it.
    pub cookies: Vec<String>,
    /// The `Set-Cookie` headers of the response, read out.
    pub set_cookies: Vec<CookieSet>,
    /// WebSocket frames, both ways, in the order they went over the wire.
    pub frames: Vec<Frame>,
    /// What the HTTP cache did for it, in order (a lookup, then what became of the answer).
    pub cache: Vec<CacheStep>,
    /// The failure, `step: message`.
    pub error: Option<String>,
    /// When it failed, when it did.
    pub failed_ms: Option<f64>,
}

/// The element that asked for a subresource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Initiator {
    /// The DOM node (the DOM pane highlights it).
    pub node: u64,
    /// The element as the asset walk named it (`<link rel=stylesheet>`).
    pub element: String,
}

/// How an asset's request was queued (`asset_queued`, `preload` events).
#[derive(Clone, Debug, PartialEq)]
pub struct Queued {
    /// `highest` … `lowest`, as DevTools names them.
    pub priority: String,
    /// `preload scanner`, `DOM walk`, `@import`.
    pub by: String,
    /// How long before the DOM walk found it the preload scanner had asked for it.
    pub early_ms: Option<f64>,
}

impl Queued {
    /// One line for a request's detail.
    pub fn describe(&self) -> String {
        match self.early_ms {
            Some(early) => format!(
                "priority {}, asked by the {} {early:.1} ms before the DOM walk found it",
                self.priority, self.by
            ),
            None => format!("priority {}, asked by the {}", self.priority, self.by),
        }
    }
}

/// A step with a start and a duration.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timed {
    pub at_ms: f64,
    pub ms: f64,
}

/// One DNS question asked for this request.
#[derive(Clone, Debug, PartialEq)]
pub struct DnsUse {
    pub host: String,
    /// The question's type: `A`, `AAAA` (both are asked for a name).
    pub record_type: String,
    pub cached: bool,
    pub records: Vec<DnsRecord>,
    pub at_ms: f64,
    pub ms: f64,
}

/// The connection a request went on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionUse {
    pub id: u32,
    /// Kept alive from an earlier request (no DNS, no connect, no handshake).
    pub reused: bool,
    /// The address it was opened to (`ip:port`), when the trace saw it opened.
    pub remote: Option<String>,
    /// The HTTP/2 stream the request was (None: HTTP/1.1, a connection to itself).
    pub stream: Option<u32>,
}

/// The way through a proxy.
#[derive(Clone, Debug, PartialEq)]
pub struct ProxyUse {
    /// As the trace's headline says it.
    pub summary: String,
    pub ms: f64,
}

/// The TLS handshake and what its certificate check found.
#[derive(Clone, Debug, PartialEq)]
pub struct TlsCheck {
    /// The certificate was checked and passed (false only under `--insecure`).
    pub verified: bool,
    /// The handshake in one line (version, cipher, the certificate's subject).
    pub summary: String,
    /// The check in words.
    pub verification: String,
    pub ms: f64,
}

/// The request as it went out.
#[derive(Clone, Debug, PartialEq)]
pub struct SentRequest {
    /// When sending began.
    pub at_ms: f64,
    /// The head exactly as written to the connection.
    pub head: String,
    /// The body sent after it (a form's POST, `--data`): its type, size and first bytes.
    pub body: Option<super::SentBody>,
}

/// The response head as it came in.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedResponse {
    /// When its first byte came.
    pub at_ms: f64,
    pub status: u16,
    pub reason: String,
    pub version: String,
    pub head: String,
    /// From the end of sending to the first byte.
    pub ttfb_ms: f64,
}

impl ReceivedResponse {
    /// A redirect the browser can follow: a 3xx with a `Location`.
    fn redirects(&self) -> bool {
        (300..400).contains(&self.status) && self.head.to_ascii_lowercase().contains("\nlocation:")
    }
}

/// The response body.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedBody {
    pub at_ms: f64,
    pub ms: f64,
    pub wire_bytes: u64,
    pub decoded_bytes: u64,
    pub content_encoding: Option<String>,
    pub content_type: Option<String>,
}

/// A redirect followed as its own hop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectHop {
    pub status: u16,
    pub next_url: String,
}

/// One WebSocket frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub at_ms: f64,
    /// `sent` or `received`.
    pub direction: String,
    pub opcode: String,
    pub fin: bool,
    pub length: u64,
    pub preview: String,
}

/// The time each phase of a request took, in ms; None where it did not happen (DNS,
/// connect and TLS on a reused connection).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Phases {
    /// From the request's start to its first step on the network (the resolver call and
    /// the look into the connection pool).
    pub blocked: f64,
    pub dns: Option<f64>,
    /// TCP connect and the proxy's tunnel (without the TLS handshake).
    pub connect: Option<f64>,
    pub tls: Option<f64>,
    pub send: f64,
    /// Time to first byte.
    pub wait: f64,
    pub receive: f64,
}

impl Phases {
    /// DNS, connect, TLS, send, wait and receive in that order, 0 where one did not happen
    /// (the waterfall's glyphs).
    pub fn durations(&self) -> [f64; 6] {
        [
            self.dns.unwrap_or(0.0),
            self.connect.unwrap_or(0.0),
            self.tls.unwrap_or(0.0),
            self.send,
            self.wait,
            self.receive,
        ]
    }
}

impl RequestRecord {
    fn new(id: RequestId, first_ms: f64) -> RequestRecord {
        RequestRecord {
            id,
            first_ms,
            ..RequestRecord::default()
        }
    }

    /// When the request started: its measured beginning, or its first event.
    pub fn started_ms(&self) -> f64 {
        self.begun_ms.unwrap_or(self.first_ms)
    }

    /// When it ended: its body read, or its failure; None while it runs.
    pub fn end_ms(&self) -> Option<f64> {
        self.body
            .as_ref()
            .map(|b| b.at_ms + b.ms)
            .or(self.failed_ms)
    }

    /// Whether its story is over: it failed, its redirect was followed, or its body came
    /// (the body of a redirect is followed by the redirect step).
    pub fn is_finished(&self) -> bool {
        self.error.is_some()
            || self.redirect.is_some()
            || (self.body.is_some() && !self.response.as_ref().is_some_and(|r| r.redirects()))
    }

    /// Still running: [`RequestRecord::is_finished`] not yet.
    pub fn is_pending(&self) -> bool {
        !self.is_finished()
    }

    /// The DOM node whose element asked for it.
    pub fn initiator_node(&self) -> Option<u64> {
        self.initiator.as_ref().map(|i| i.node)
    }

    /// The status of its answer, once the head came.
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }

    /// Answered by the HTTP cache: no request went out (DevTools' "(disk cache)").
    pub fn from_cache(&self) -> bool {
        self.cache.iter().any(|c| c.action == CacheAction::Fresh)
    }

    /// A conditional request the server answered 304: the stored body was used.
    pub fn revalidated(&self) -> bool {
        self.cache
            .iter()
            .any(|c| c.action == CacheAction::NotModified)
    }

    /// Bytes of its body on the wire, once it came.
    pub fn wire_bytes(&self) -> Option<u64> {
        self.body.as_ref().map(|b| b.wire_bytes)
    }

    /// The phases, each measured (the send is what lies between sending's start and the
    /// first byte, less the wait).
    pub fn phases(&self) -> Phases {
        let sent_at = self.request.as_ref().map(|r| r.at_ms);
        let send = match (sent_at, &self.response) {
            (Some(at), Some(response)) => (response.at_ms - response.ttfb_ms - at).max(0.0),
            _ => 0.0,
        };
        let dns_start = self
            .dns
            .iter()
            .map(|d| d.at_ms)
            .fold(f64::INFINITY, f64::min);
        let first_step = [
            dns_start.is_finite().then_some(dns_start),
            self.connect.map(|c| c.at_ms),
            sent_at,
        ]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min);
        let blocked = if first_step.is_finite() {
            (first_step - self.started_ms()).max(0.0)
        } else {
            0.0
        };
        let proxy = self.proxy.as_ref().map_or(0.0, |p| p.ms);
        Phases {
            blocked,
            // The AAAA and A questions go out together: the lookup lasts from the first
            // question to the last answer, not the sum of the two.
            dns: (!self.dns.is_empty()).then(|| {
                let end = self.dns.iter().map(|d| d.at_ms + d.ms).fold(0.0, f64::max);
                (end - dns_start).max(0.0)
            }),
            connect: self
                .connect
                .map(|c| c.ms + proxy)
                .or(self.proxy.as_ref().map(|p| p.ms)),
            tls: self.tls.as_ref().map(|t| t.ms),
            send,
            wait: self.response.as_ref().map_or(0.0, |r| r.ttfb_ms),
            receive: self.body.as_ref().map_or(0.0, |b| b.ms),
        }
    }

    /// Adds one of this request's events.
    /// A stream of an HTTP/2 connection: on a connection this request opened (its
    /// `connect` came first), or shared with the origin's earlier requests.
    fn on_stream(&mut self, conn: u32, stream: u32, requests_before: u32) {
        let connection = self.connection.get_or_insert(ConnectionUse {
            id: conn,
            reused: requests_before > 0,
            remote: None,
            stream: None,
        });
        connection.stream = Some(stream);
    }

    fn fold(&mut self, event: &Event) {
        let at_ms = event.t_ms;
        match &event.kind {
            EventKind::Dns {
                host,
                record_type,
                cached,
                records,
                ms,
                ..
            } => self.dns.push(DnsUse {
                host: host.clone(),
                record_type: record_type.clone(),
                cached: *cached,
                records: records.clone(),
                at_ms,
                ms: *ms,
            }),
            EventKind::Connect {
                conn, remote, ms, ..
            } => {
                self.connect = Some(Timed { at_ms, ms: *ms });
                self.connection = Some(ConnectionUse {
                    id: *conn,
                    reused: false,
                    remote: Some(remote.clone()),
                    stream: None,
                });
            }
            EventKind::Reuse { conn, .. } => {
                self.connection = Some(ConnectionUse {
                    id: *conn,
                    reused: true,
                    remote: None,
                    stream: None,
                })
            }
            EventKind::H2Stream {
                conn,
                stream,
                requests_before,
                ..
            } => self.on_stream(*conn, *stream, *requests_before),
            EventKind::Tls {
                ms,
                verified,
                verification,
                ..
            } => {
                self.tls = Some(TlsCheck {
                    verified: *verified || verification.is_empty(),
                    summary: headline(&event.kind).1,
                    verification: verification.clone(),
                    ms: *ms,
                })
            }
            EventKind::Proxy { ms, .. } => {
                let ms = self.proxy.as_ref().map_or(0.0, |p| p.ms) + ms;
                self.proxy = Some(ProxyUse {
                    summary: headline(&event.kind).1,
                    ms,
                });
            }
            EventKind::CookieSent { .. } => self.cookies.push(headline(&event.kind).1),
            EventKind::SetCookie(cookie) => {
                self.cookies.push(headline(&event.kind).1);
                self.set_cookies.push(cookie.clone());
            }
            EventKind::Request {
                method,
                url,
                purpose,
                head,
                begun_ms,
                body,
                ..
            } => {
                self.fold_request(at_ms, method, url, purpose, head, *begun_ms);
                if let Some(request) = &mut self.request {
                    request.body = body.clone();
                }
            }
            EventKind::Response {
                status,
                reason,
                version,
                head,
                ttfb_ms,
                ..
            } => {
                self.response = Some(ReceivedResponse {
                    at_ms,
                    status: *status,
                    reason: reason.clone(),
                    version: version.clone(),
                    head: head.clone(),
                    ttfb_ms: *ttfb_ms,
                })
            }
            EventKind::Body {
                wire_bytes,
                decoded_bytes,
                content_encoding,
                content_type,
                ms,
            } => {
                self.body = Some(ReceivedBody {
                    at_ms,
                    ms: *ms,
                    wire_bytes: *wire_bytes,
                    decoded_bytes: *decoded_bytes,
                    content_encoding: content_encoding.clone(),
                    content_type: content_type.clone(),
                })
            }
            EventKind::Redirect {
                status, next_url, ..
            } => {
                self.redirect = Some(RedirectHop {
                    status: *status,
                    next_url: next_url.clone(),
                })
            }
            EventKind::WsFrame {
                direction,
                opcode,
                fin,
                length,
                preview,
                ..
            } => self.frames.push(Frame {
                at_ms,
                direction: direction.clone(),
                opcode: opcode.clone(),
                fin: *fin,
                length: *length,
                preview: preview.clone(),
            }),
            EventKind::Cache(step) => self.fold_cache(at_ms, step),
            EventKind::Failed { step, message, url } => {
                if let (true, Some(url)) = (self.url.is_empty(), url) {
                    self.locate(url);
                }
                self.error = Some(format!("{step}: {message}"));
                self.failed_ms.get_or_insert(at_ms);
            }
            _ => {}
        }
    }

    fn fold_request(
        &mut self,
        at_ms: f64,
        method: &str,
        url: &str,
        purpose: &str,
        head: &str,
        begun_ms: f64,
    ) {
        self.method = method.to_string();
        self.purpose = purpose.to_string();
        // A trace recorded before `begun_ms` existed reads it as 0: start at the send.
        self.begun_ms = Some(if begun_ms > 0.0 { begun_ms } else { at_ms });
        self.request = Some(SentRequest {
            at_ms,
            head: head.to_string(),
            body: None,
        });
        self.locate(url);
    }

    /// A cache step. One that answers from the store stands for the response and its body
    /// (none crossed the network: no phases, 0 bytes on the wire).
    fn fold_cache(&mut self, at_ms: f64, step: &CacheStep) {
        if self.url.is_empty() {
            self.method = step.method.clone();
            self.purpose = step.purpose.clone();
            self.begun_ms = Some(at_ms);
            self.locate(&step.url);
        }
        if let (CacheAction::Fresh, Some(stored)) = (step.action, &step.stored) {
            self.response = Some(ReceivedResponse {
                at_ms,
                status: stored.status,
                reason: stored.reason.clone(),
                version: stored
                    .head
                    .split(' ')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                head: stored.head.clone(),
                ttfb_ms: 0.0,
            });
            self.body = Some(ReceivedBody {
                at_ms,
                ms: 0.0,
                wire_bytes: 0,
                decoded_bytes: stored.bytes,
                content_encoding: None,
                content_type: stored.content_type.clone(),
            });
        }
        self.cache.push(step.clone());
    }

    /// The URL, its host and its path.
    fn locate(&mut self, url: &str) {
        self.url = url.to_string();
        if let Ok(parsed) = Url::parse(url) {
            self.host = parsed.host_str().unwrap_or_default().to_string();
            self.path = parsed[url::Position::BeforePath..].to_string();
        }
    }
}

/// Every request of a trace, in the order they first appeared, folded as events arrive.
#[derive(Clone, Debug, Default)]
pub struct RequestLog {
    records: Vec<RequestRecord>,
    index: HashMap<RequestId, usize>,
    /// Where each connection was opened to (a reused one's address is its first).
    remotes: HashMap<u32, String>,
    /// The element that referenced each asset URL (the asset walk reports it before the
    /// request is made).
    initiators: HashMap<String, Initiator>,
    /// How each asset URL was queued (reported before its request is made).
    queued: HashMap<String, Queued>,
}

impl RequestLog {
    /// The log of a whole recorded trace.
    pub fn of(events: &[Event]) -> RequestLog {
        let mut log = RequestLog::default();
        for event in events {
            log.fold(event);
        }
        log
    }

    /// Takes one event, in trace order.
    pub fn fold(&mut self, event: &Event) {
        match &event.kind {
            EventKind::AssetFound {
                url, element, node, ..
            } => {
                let initiator = Initiator {
                    node: *node,
                    element: element.clone(),
                };
                // The preload scanner may have made the request before the walk found it.
                for record in self.records.iter_mut().filter(|r| &r.url == url) {
                    record.initiator.get_or_insert_with(|| initiator.clone());
                }
                self.initiators.insert(url.clone(), initiator);
            }
            EventKind::Connect { conn, remote, .. } => {
                self.remotes.insert(*conn, remote.clone());
            }
            EventKind::AssetQueued {
                url, priority, by, ..
            } => {
                let queued = Queued {
                    priority: priority.clone(),
                    by: by.clone(),
                    early_ms: None,
                };
                self.queued.insert(url.clone(), queued);
            }
            // The DOM walk finds what the scanner asked for after its request was made.
            EventKind::Preload {
                url,
                early_ms: Some(early),
                ..
            } => {
                if let Some(queued) = self.queued.get_mut(url) {
                    queued.early_ms = Some(*early);
                }
                for record in self.records.iter_mut().filter(|r| &r.url == url) {
                    if let Some(queued) = &mut record.queued {
                        queued.early_ms = Some(*early);
                    }
                }
            }
            _ => {}
        }
        let Some(id) = event.request else {
            return;
        };
        let at = *self.index.entry(id).or_insert_with(|| {
            self.records.push(RequestRecord::new(id, event.t_ms));
            self.records.len() - 1
        });
        let record = &mut self.records[at];
        record.fold(event);
        if let Some(connection) = &mut record.connection {
            if connection.remote.is_none() {
                connection.remote = self.remotes.get(&connection.id).cloned();
            }
        }
        if record.initiator.is_none() {
            record.initiator = self.initiators.get(&record.url).cloned();
        }
        if record.queued.is_none() {
            record.queued = self.queued.get(&record.url).cloned();
        }
    }

    /// The requests, in the order they first appeared.
    pub fn records(&self) -> &[RequestRecord] {
        &self.records
    }

    pub fn by_id(&self, id: RequestId) -> Option<&RequestRecord> {
        self.index.get(&id).map(|at| &self.records[*at])
    }

    /// Where request `id` stands in [`RequestLog::records`].
    pub fn position(&self, id: RequestId) -> Option<usize> {
        self.index.get(&id).copied()
    }

    pub fn clear(&mut self) {
        *self = RequestLog::default();
    }
}

/// A log reads as the list of its records (`log[0]`, `log.iter()`), as a `Vec` would.
impl std::ops::Deref for RequestLog {
    type Target = [RequestRecord];

    fn deref(&self) -> &[RequestRecord] {
        &self.records
    }
}
