//! The trace: the spine of minibrowse.
//!
//! Every pipeline stage reports what it did as [`Event`]s into a [`Trace`]. The views
//! (`--trace` text, `--json` lines, the dump's summary, later the TUI and HAR) are readers
//! of the same events, so a fact added to an event once reaches every view.

mod cache_step;
pub use cache_step::{CacheAction, CacheMode, CacheStep, StoredResponse};
mod cache_words;
mod clock;
mod describe;
mod explain;
mod explain_h2;
mod explain_sse;
pub mod record;
pub(crate) mod redact;
mod words;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime};

use serde::{Deserialize, Serialize};

pub use cache_words::{cache_headers_explained, span as cache_span};
pub use clock::LoadDeadline;
pub use describe::{cookie_attributes, describe, headline};
pub use explain::explain;
pub use record::{RequestLog, RequestRecord};

/// Identifies one HTTP exchange (one hop of a redirect chain, or one asset fetch).
pub type RequestId = u32;

/// One step of the load, as it happened.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    /// Position in the trace, from 1; events are delivered in this order.
    pub seq: u64,
    /// When the step started, in milliseconds since the load began.
    pub t_ms: f64,
    /// The request this step belongs to, if it belongs to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestId>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// One answer record of a DNS lookup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRecord {
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    pub ttl: u32,
    pub data: String,
}

/// One certificate of a TLS chain, read for people.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    /// Subject Alternative Names: the host names (and addresses) it is valid for.
    pub sans: Vec<String>,
}

/// A `Set-Cookie` header read out (RFC 6265), and what the jar did with it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CookieSet {
    pub name: String,
    pub value: String,
    pub domain: Option<String>,
    pub path: Option<String>,
    /// The Expires attribute, RFC 3339.
    pub expires: Option<String>,
    pub max_age: Option<i64>,
    pub secure: bool,
    pub http_only: bool,
    pub same_site: Option<String>,
    /// `stored`, `replaced`, `deleted`, `rejected: why`, or `ignored (--no-cookies)`.
    pub outcome: String,
}

/// One try to connect to one address (Happy Eyeballs races several).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ConnectAttempt {
    /// `ip:port`.
    pub addr: String,
    /// When it began, in ms after the first attempt.
    pub after_ms: f64,
    /// How long it took to connect or fail (0 when abandoned before it ended).
    pub ms: f64,
    /// `connected first: this one is used`, why it failed, or that it was abandoned.
    pub outcome: String,
}

/// The pipeline stage a failure happened in; named in every error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Url,
    File,
    Dns,
    Connect,
    Tls,
    Send,
    Wait,
    Receive,
    Redirect,
    Parse,
    Assets,
    #[serde(rename = "websocket")]
    WebSocket,
    Chat,
    /// A form submission that could not be made (a file that cannot be read, an action
    /// that is not a URL).
    Form,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Url => "url",
            Step::File => "file",
            Step::Dns => "dns",
            Step::Connect => "connect",
            Step::Tls => "tls",
            Step::Send => "send",
            Step::Wait => "wait",
            Step::Receive => "receive",
            Step::Redirect => "redirect",
            Step::Parse => "parse",
            Step::Assets => "assets",
            Step::WebSocket => "websocket",
            Step::Chat => "chat",
            Step::Form => "form",
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What happened. Field names are stable: they are the `--json` schema (docs/trace.md).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The user's input, and the URL it became.
    Start {
        input: String,
        url: String,
        note: Option<String>,
    },
    /// A local file was read instead of fetched: no DNS, no TCP, no HTTP.
    LocalFile { path: String, bytes: u64, ms: f64 },
    /// One DNS question and its answer.
    Dns {
        host: String,
        record_type: String,
        server: String,
        records: Vec<DnsRecord>,
        cached: bool,
        ms: f64,
        /// Why there are no records, when there are none (`NXDOMAIN...`, a timeout).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
    },
    /// A new TCP connection.
    Connect {
        conn: u32,
        local: String,
        remote: String,
        ms: f64,
        /// When the name had several addresses: every attempt Happy Eyeballs made, in the
        /// order begun (empty when the first address connected alone).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attempts: Vec<ConnectAttempt>,
    },
    /// The way through a proxy, on a new connection to it (after its TCP connect).
    Proxy {
        conn: u32,
        /// The proxy, without its password.
        proxy: String,
        /// Where the setting came from: `--proxy`, `https_proxy`, ...
        source: String,
        /// `forward` (absolute-form requests), `connect` (an HTTP CONNECT tunnel), `socks5`.
        mode: String,
        /// host:port of the site.
        target: String,
        /// The name the proxy looks up in DNS instead of this browser.
        dns_by_proxy: Option<String>,
        /// The tunnel's setup as sent and as answered (CONNECT heads, SOCKS messages).
        sent: Option<String>,
        received: Option<String>,
        ms: f64,
    },
    /// A request sent on a connection that was already open (keep-alive).
    Reuse { conn: u32, requests_before: u32 },
    /// The TLS handshake on a new connection.
    Tls {
        conn: u32,
        version: String,
        cipher: String,
        alpn: Option<String>,
        /// The protocols the browser offered (ALPN), in its order of preference.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        alpn_offered: Vec<String>,
        /// The server's own certificate (also the first of `chain`).
        subject: String,
        issuer: String,
        not_after: String,
        ms: f64,
        /// The name sent in the ClientHello (Server Name Indication); None for an address.
        #[serde(default)]
        sni: Option<String>,
        /// The certificates the server sent, its own first.
        #[serde(default)]
        chain: Vec<CertSummary>,
        /// Whether the certificate was checked and passed (false only under `--insecure`).
        #[serde(default)]
        verified: bool,
        /// What the check found, in words (under `--insecure`: what it would have found).
        #[serde(default)]
        verification: String,
    },
    /// The request exactly as it was written to the connection.
    Request {
        method: String,
        url: String,
        purpose: String,
        head: String,
        /// When the request began (before DNS, the pool and connecting), ms since the load began.
        #[serde(default)]
        begun_ms: f64,
        /// Time to write the head (and a small body) to the connection.
        #[serde(default)]
        send_ms: f64,
        /// The body sent after the head (a POST), as it went: its type, size and first bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<SentBody>,
    },
    /// Cookies from the jar that go with this request, in its `Cookie` header.
    CookieSent { names: Vec<String>, header: String },
    /// A form submitted: what the HTML standard's form-submission algorithm decided before
    /// the request goes out.
    FormSubmit {
        /// The form's name, else `form N` (its number on the page).
        form: String,
        /// The button that submitted it (`[Sign]`); None when Enter in a field did.
        submitter: Option<String>,
        /// GET or POST.
        method: String,
        /// The action, resolved against the page's base URL.
        action: String,
        /// How the entries are encoded (for a GET, always the query's urlencoding).
        enctype: String,
        /// The character encoding names and values are sent in.
        encoding: String,
        /// The form data set, in order: (name, value); a password's value is `***`, a
        /// file's is `<file NAME>`.
        fields: Vec<(String, String)>,
        /// The attributes that decided it (`action`, `formaction`, `method`, …).
        decided_by: Vec<String>,
    },
    /// A `Set-Cookie` header in a response, its attributes, and what the jar did with it.
    SetCookie(CookieSet),
    /// The response head exactly as it was received.
    Response {
        status: u16,
        reason: String,
        version: String,
        head: String,
        /// Time from the end of sending to the first byte of the answer.
        ttfb_ms: f64,
        /// The URL answered (for the explanation: a long poll's wait is the server's hold).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    /// The response body.
    Body {
        wire_bytes: u64,
        decoded_bytes: u64,
        content_encoding: Option<String>,
        content_type: Option<String>,
        ms: f64,
    },
    /// A 3xx answer, followed as its own hop.
    Redirect {
        status: u16,
        location: String,
        next_url: String,
        hop: u32,
        /// This hop's method and the next one's, by the redirect's rule (absent: GET).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        method: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next_method: Option<String>,
    },
    /// The HTML parse.
    Parse {
        bytes: u64,
        encoding: String,
        encoding_source: String,
        nodes: u64,
        elements: u64,
        errors: u64,
        error_samples: Vec<String>,
        /// The deepest nesting of elements.
        max_depth: u32,
        /// Ordinary containers not nested deeper than the cap (512, as in Chromium): their
        /// content went into the element at that depth.
        #[serde(default, skip_serializing_if = "is_zero")]
        flattened: u64,
        /// Set when a parse limit stopped the parser: the document is what came before.
        #[serde(skip_serializing_if = "Option::is_none")]
        stopped: Option<String>,
        /// Whether the tokenizer ran on a thread of its own beside the tree builder.
        #[serde(default)]
        two_threads: bool,
        /// Whether the parse read the body as it arrived (then `ms` runs from the first
        /// piece to the last, the download's time included).
        #[serde(default, skip_serializing_if = "is_false")]
        streamed: bool,
        ms: f64,
    },
    /// A subresource found by the DOM walk.
    AssetFound {
        kind: String,
        url: String,
        element: String,
        node: u64,
    },
    /// A reference the DOM walk saw and will not fetch, with the reason.
    AssetRefused {
        kind: String,
        url: String,
        element: String,
        reason: String,
    },
    /// A subresource request put in the asset loader's queue: who asked for it (the
    /// `preload scanner`, the `DOM walk`, an `@import`) and its priority, named as DevTools
    /// names them (`highest`, `high`, `medium`, `low`, `lowest`).
    AssetQueued {
        kind: String,
        url: String,
        priority: String,
        by: String,
    },
    /// The preload scanner's head start: the DOM walk found a request the scanner had
    /// already asked for, `early_ms` before. None: the scanner asked for it and no walk of
    /// the parsed page found it (fetched for nothing).
    Preload {
        kind: String,
        url: String,
        #[serde(default)]
        early_ms: Option<f64>,
    },
    /// A moment of the load that browsers report: `first_render` (the page laid out, its
    /// render-blocking stylesheets and frames in), `dom_content_loaded` (the document
    /// parsed), `load` (every subresource settled); `ms` since the load began.
    LoadMoment { moment: String, ms: f64 },
    /// The text layout of the page.
    Layout {
        width: u32,
        lines: u64,
        links: u64,
        /// The time the layout took after the parse was over (all of it when it ran after).
        ms: f64,
        /// When the layout read the DOM while it was parsed: the time spent then, and why
        /// that work was thrown away, if it was.
        #[serde(skip_serializing_if = "Option::is_none")]
        during_parse: Option<LayoutDuringParse>,
    },
    /// The WebSocket handshake's check: the server must answer the key with the right accept.
    WsHandshake {
        key: String,
        accept: Option<String>,
        expected: String,
        ok: bool,
    },
    /// One WebSocket frame on the wire.
    WsFrame {
        /// `sent` or `received`.
        direction: String,
        /// `text`, `binary`, `continuation`, `ping`, `pong` or `close`.
        opcode: String,
        fin: bool,
        /// Payload bytes.
        length: u64,
        masked: bool,
        /// The start of the payload as text (a close frame: its code and reason).
        preview: String,
        /// A pong or close that answers the other side's ping or close (sent after it).
        #[serde(default, skip_serializing_if = "is_false")]
        reply: bool,
    },
    /// One event of a Server-Sent Events stream, dispatched by the blank line that ended it
    /// (stamped when that line arrived).
    SseEvent {
        /// The type: `message` unless the server named one (`event:`).
        event_type: String,
        /// The data lines joined with LF (the first 1,000 characters).
        data: String,
        /// Bytes of the whole data.
        data_bytes: u64,
        /// The last event ID after this event (absent: none yet).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Whether this event's own `id:` line set it (else it was kept from an earlier one).
        #[serde(default)]
        id_set: bool,
        /// Lines the event took, the blank one included.
        lines: u32,
        /// Its number on this connection, from 1.
        number: u64,
    },
    /// A comment line of an event stream (`: keep-alive`), without its colon.
    SseComment { text: String },
    /// A `retry:` line: the reconnection time the server asks for, and the one the client
    /// will use (within its floor and ceiling).
    SseRetry { retry_ms: u64, applied_ms: u64 },
    /// Part of an event stream that was not dispatched: over a limit, or left unfinished.
    SseSkipped { reason: String, bytes: u64 },
    /// The stream ended or broke, and EventSource opens it again after the delay, sending
    /// the last event ID so the server goes on where it was.
    SseReconnect {
        attempt: u32,
        delay_ms: u64,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_event_id: Option<String>,
    },
    /// A chat message sent or received, by refreshing, long polling, SSE or WebSocket.
    Chat {
        via: String,
        direction: String,
        name: String,
        text: String,
        /// The room's number for the message (not the event's own `seq`).
        message_seq: Option<u64>,
    },
    /// What the HTTP cache did for a request (RFC 9111), and why. A request answered from
    /// the store (`fresh`) has this event and no `request`, `response` or `body`.
    Cache(CacheStep),
    /// A failed attempt, tried again after a pause.
    Retry {
        attempt: u32,
        delay_ms: u64,
        error: String,
    },
    /// What keeping up with the chat cost, so far.
    ChatStats {
        via: String,
        messages: u64,
        requests: u64,
        header_bytes: u64,
        /// When a long poll's answer came just now: how long it was held, and with what.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        poll: Option<PollAnswer>,
    },
    /// A new connection speaks HTTP/2: the server chose `h2` from the protocols the TLS
    /// handshake offered (ALPN), so every request to the origin goes over it as a stream.
    H2Session {
        conn: u32,
        /// scheme://host:port
        origin: String,
        /// The ALPN offer and answer, in words.
        why: String,
    },
    /// A request sent as a new stream of an HTTP/2 connection (before its `request`).
    H2Stream {
        conn: u32,
        /// Odd, counting up: the browser's streams.
        stream: u32,
        /// Streams the connection carried before this one.
        requests_before: u32,
        /// Other streams of this browser open on it at this moment (multiplexed).
        open_streams: u32,
    },
    /// One HTTP/2 frame on a connection, or several of one kind on one stream summed in
    /// one event (`frames` > 1: DATA and WINDOW_UPDATE after the first two).
    H2Frame {
        conn: u32,
        /// `sent` or `received`.
        direction: String,
        /// `HEADERS`, `DATA`, `SETTINGS`, `WINDOW_UPDATE`, `RST_STREAM`, `GOAWAY`, `PING`,
        /// … or `preface` (the client's connection preface, not a frame).
        frame: String,
        /// The stream it belongs to; 0 for the connection as a whole.
        stream: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        flags: Vec<String>,
        /// Payload bytes (all of them, for summed frames).
        length: u64,
        /// What the payload said: the settings, the window increment, the error code…
        detail: String,
        #[serde(default = "one")]
        frames: u32,
    },
    /// An HTTP/2 connection ended: the server's GOAWAY, a broken connection, or this
    /// browser closing it.
    H2Closed {
        conn: u32,
        /// Requests (streams) it carried.
        requests: u32,
        reason: String,
    },
    /// A failure, naming the step it happened in.
    Failed {
        step: Step,
        message: String,
        /// The URL of the request that failed, when it failed before it was sent (no
        /// `request` event names it): the request log shows what could not be fetched.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    /// The whole load.
    Summary {
        requests: u32,
        /// Requests answered by the HTTP cache with no request on the network.
        #[serde(default)]
        from_cache: u32,
        failed: u32,
        wire_bytes: u64,
        decoded_bytes: u64,
        ms: f64,
        errors: Vec<String>,
    },
}

/// One long poll's answer, as the chat client saw it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PollAnswer {
    /// How long the client let the server hold the poll without news (its `wait=`), in ms;
    /// 0 when joining (the history, at once).
    pub wait_ms: f64,
    /// From sending the poll to its whole answer, in ms: how long the server held it.
    pub answered_ms: f64,
    /// Messages in the answer (0: nothing new, an empty list `[]`).
    pub messages: u64,
    /// The visit was over when the answer came: the client leaves instead of asking again.
    #[serde(default)]
    pub leaving: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn one() -> u32 {
    1
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Receives events, in order.
pub trait Sink: Send + Sync {
    fn emit(&self, event: &Event);
}

/// A sink that keeps every event (tests, the dump's summary).
#[derive(Default)]
pub struct Collector {
    events: Mutex<Vec<Event>>,
}

impl Collector {
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Sink for Collector {
    fn emit(&self, event: &Event) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event.clone());
    }
}

/// Forwards each event to a closure (the printers of `--trace` and `--json`).
pub struct FnSink<F: Fn(&Event) + Send + Sync>(pub F);

impl<F: Fn(&Event) + Send + Sync> Sink for FnSink<F> {
    fn emit(&self, event: &Event) {
        (self.0)(event)
    }
}

/// Hands several sinks the same events.
pub struct Tee(pub Vec<Arc<dyn Sink>>);

impl Sink for Tee {
    fn emit(&self, event: &Event) {
        for sink in &self.0 {
            sink.emit(event);
        }
    }
}

/// Holds the pipeline before each step until the user lets it go (step mode).
pub trait Gate: Send + Sync {
    /// Blocks until the step described by `next` may run.
    fn wait(&self, next: &str);
}

/// The bodies of one request, kept for the HAR view when asked (they are not events).
#[derive(Clone, Debug, Default)]
pub struct KeptBodies {
    /// The decoded response body, at most the limit given to [`Trace::keeping_bodies`].
    pub response: Vec<u8>,
    /// The whole decoded size (larger than `response.len()` when cut).
    pub response_size: u64,
    /// The request's body and its Content-Type (a POST).
    pub request: Option<(String, Vec<u8>)>,
}

struct Shared {
    gate: Option<Arc<dyn Gate>>,
    /// The load's clock: every `t_ms` and every [`LoadDeadline`] reads it.
    clock: Arc<clock::LoadClock>,
    /// The wall clock at `start` (HAR's startedDateTime).
    start_wall: SystemTime,
    /// Bodies kept per request, with the most bytes kept of each; None when not asked.
    bodies: Option<(usize, Mutex<HashMap<RequestId, KeptBodies>>)>,
    /// Held while an event is numbered and delivered, so sinks see events in `seq` order.
    seq: Mutex<u64>,
    next_request: AtomicU32,
    tally: Mutex<Tally>,
    sink: Arc<dyn Sink>,
    /// How this load treats the HTTP cache ([`CacheMode`] as a number).
    cache_mode: std::sync::atomic::AtomicU8,
}

/// Running totals for the summary, kept as events pass.
#[derive(Default)]
struct Tally {
    requests: u32,
    from_cache: u32,
    failed: u32,
    wire_bytes: u64,
    decoded_bytes: u64,
    errors: Vec<String>,
}

impl Tally {
    fn count(&mut self, kind: &EventKind) {
        match kind {
            EventKind::Request { .. } => self.requests += 1,
            EventKind::Body {
                wire_bytes,
                decoded_bytes,
                ..
            } => {
                self.wire_bytes += wire_bytes;
                self.decoded_bytes += decoded_bytes;
            }
            EventKind::LocalFile { bytes, .. } => self.decoded_bytes += bytes,
            EventKind::Cache(step) if step.action == CacheAction::Fresh => {
                self.from_cache += 1;
                self.decoded_bytes += step.stored.as_ref().map_or(0, |s| s.bytes);
            }
            // The body a 304 let the browser use: decoded, though it never crossed the wire.
            EventKind::Cache(step) if step.action == CacheAction::NotModified => {
                self.decoded_bytes += step.stored.as_ref().map_or(0, |s| s.bytes);
            }
            EventKind::Failed { step, message, .. } => {
                self.failed += 1;
                if self.errors.len() < 50 {
                    self.errors.push(format!("{step}: {message}"));
                }
            }
            _ => {}
        }
    }
}

/// The handle stages report into. Cheap to clone; clones share one numbering.
#[derive(Clone)]
pub struct Trace {
    shared: Arc<Shared>,
}

impl Trace {
    pub fn new(sink: Arc<dyn Sink>) -> Trace {
        Trace::build(sink, None, None)
    }

    /// A trace that also keeps each request's bodies, up to `max_each` bytes (for HAR).
    pub fn keeping_bodies(sink: Arc<dyn Sink>, max_each: usize) -> Trace {
        Trace::build(sink, None, Some(max_each))
    }

    /// A trace whose pipeline pauses at every [`Trace::checkpoint`] until `gate` allows it.
    pub fn with_gate(sink: Arc<dyn Sink>, gate: Arc<dyn Gate>) -> Trace {
        Trace::build(sink, Some(gate), None)
    }

    fn build(sink: Arc<dyn Sink>, gate: Option<Arc<dyn Gate>>, keep: Option<usize>) -> Trace {
        Trace {
            shared: Arc::new(Shared {
                gate,
                clock: clock::LoadClock::new(),
                start_wall: SystemTime::now(),
                bodies: keep.map(|max| (max, Mutex::new(HashMap::new()))),
                seq: Mutex::new(0),
                next_request: AtomicU32::new(1),
                tally: Mutex::new(Tally::default()),
                sink,
                cache_mode: std::sync::atomic::AtomicU8::new(0),
            }),
        }
    }

    /// Called by the stages before each step: in step mode, waits for the user. The wait is
    /// held time: the load's clock stands still through it (`clock.rs`).
    pub fn checkpoint(&self, next: &str) {
        if let Some(gate) = &self.shared.gate {
            self.shared.clock.arrive();
            gate.wait(next);
            self.shared.clock.depart();
        }
    }

    /// Runs `f` (which waits for other threads of the load, such as the asset fetchers)
    /// with this thread's step set aside, so that the load's clock stops when those threads
    /// wait for the person.
    pub fn aside<R>(&self, f: impl FnOnce() -> R) -> R {
        let was_running = self.shared.clock.leave();
        let result = f();
        if was_running {
            self.shared.clock.rejoin();
        }
        result
    }

    /// This thread's work for the load is over (an asset fetcher with no more to fetch).
    pub fn leave(&self) {
        self.shared.clock.leave();
    }

    /// Sets how this load treats the HTTP cache (a reload, a hard reload).
    pub fn set_cache_mode(&self, mode: CacheMode) {
        let n = match mode {
            CacheMode::Normal => 0,
            CacheMode::Revalidate => 1,
            CacheMode::Bypass => 2,
        };
        self.shared.cache_mode.store(n, Ordering::Relaxed);
    }

    /// How this load treats the HTTP cache.
    pub fn cache_mode(&self) -> CacheMode {
        match self.shared.cache_mode.load(Ordering::Relaxed) {
            1 => CacheMode::Revalidate,
            2 => CacheMode::Bypass,
            _ => CacheMode::Normal,
        }
    }

    /// Whether a person paces this load (step mode).
    pub fn is_paced(&self) -> bool {
        self.shared.gate.is_some()
    }

    /// A deadline `limit` from now on the load's clock: time held in step mode does not
    /// count against it.
    pub fn deadline(&self, limit: std::time::Duration) -> LoadDeadline {
        LoadDeadline::new(self.shared.clock.clone(), limit)
    }

    /// The wall-clock time the load began.
    pub fn start_wall(&self) -> SystemTime {
        self.shared.start_wall
    }

    /// Keeps a response body for the HAR view (when this trace keeps bodies).
    pub fn keep_response_body(&self, request: RequestId, body: &[u8]) {
        if let Some((max, bodies)) = &self.shared.bodies {
            let mut bodies = bodies.lock().unwrap_or_else(PoisonError::into_inner);
            let kept = bodies.entry(request).or_default();
            kept.response = body[..body.len().min(*max)].to_vec();
            kept.response_size = body.len() as u64;
        }
    }

    /// Keeps a request body (a POST) for the HAR view (when this trace keeps bodies).
    pub fn keep_request_body(&self, request: RequestId, content_type: &str, body: &[u8]) {
        if let Some((max, bodies)) = &self.shared.bodies {
            let mut bodies = bodies.lock().unwrap_or_else(PoisonError::into_inner);
            bodies.entry(request).or_default().request = Some((
                content_type.to_string(),
                body[..body.len().min(*max)].to_vec(),
            ));
        }
    }

    /// The bodies kept so far, by request (empty unless made with [`Trace::keeping_bodies`]).
    pub fn kept_bodies(&self) -> HashMap<RequestId, KeptBodies> {
        match &self.shared.bodies {
            Some((_, bodies)) => bodies
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            None => HashMap::new(),
        }
    }

    /// Milliseconds since the load began, on the load's clock (held time left out).
    pub fn elapsed_ms(&self) -> f64 {
        ms(self.shared.clock.now())
    }

    pub fn new_request_id(&self) -> RequestId {
        self.shared.next_request.fetch_add(1, Ordering::Relaxed)
    }

    /// Reports a step that starts now (or has no duration).
    pub fn emit(&self, request: Option<RequestId>, kind: EventKind) {
        self.emit_started(request, Instant::now(), kind)
    }

    /// Reports a step that started at `started` (its duration is in the event's fields).
    pub fn emit_started(&self, request: Option<RequestId>, started: Instant, mut kind: EventKind) {
        // Before any sink sees it: no view may show a password.
        redact::redact(&mut kind);
        let t_ms = ms(self.shared.clock.at(started));
        let mut seq = self
            .shared
            .seq
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *seq += 1;
        self.shared
            .tally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .count(&kind);
        let event = Event {
            seq: *seq,
            t_ms,
            request,
            kind,
        };
        self.shared.sink.emit(&event);
    }
}

impl Trace {
    /// Counts bytes that arrived for a body that then failed (no Body event reports them).
    pub fn count_wire_bytes(&self, bytes: u64) {
        self.shared
            .tally
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .wire_bytes += bytes;
    }

    /// Reports the totals of everything traced so far.
    pub fn emit_summary(&self) {
        let kind = {
            let tally = self
                .shared
                .tally
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            EventKind::Summary {
                requests: tally.requests,
                from_cache: tally.from_cache,
                failed: tally.failed,
                wire_bytes: tally.wire_bytes,
                decoded_bytes: tally.decoded_bytes,
                ms: self.elapsed_ms(),
                errors: tally.errors.clone(),
            }
        };
        self.emit(None, kind);
    }
}

/// A duration in milliseconds, with microsecond precision (what the trace shows).
pub fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// A request's body as the trace shows it: bounded, its bytes as text (a view escapes them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentBody {
    pub content_type: String,
    /// The whole body's size.
    pub bytes: u64,
    /// Its first [`SentBody::PREVIEW`] bytes, as UTF-8 (lossy).
    pub preview: String,
}

impl SentBody {
    /// Bytes of a body the trace keeps.
    pub const PREVIEW: usize = 2048;

    pub fn of(content_type: &str, body: &[u8]) -> SentBody {
        SentBody {
            content_type: content_type.to_string(),
            bytes: body.len() as u64,
            preview: String::from_utf8_lossy(&body[..body.len().min(Self::PREVIEW)]).into_owned(),
        }
    }
}

/// The part of a layout done while the page was still being parsed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayoutDuringParse {
    pub ms: f64,
    /// Why the layout had to start again once the parse was over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restarted: Option<String>,
}
