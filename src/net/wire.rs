//! The instrumented connection under ureq: our resolver, connector and transport.
//!
//! ureq drives a request on the calling thread, so what one request does on the wire is
//! collected in a thread-local [`Exchange`] that `http.rs` opens ([`begin`]) before the
//! request and closes after the body is read; the [`ExchangeGuard`] it gets closes it in any
//! case. The pieces ureq calls report into it:
//! - [`TracedResolver`] resolves through the dial path (`dial::resolve`: our [`Dns`], and the
//!   proxy) and keeps the answers; ureq connects to exactly these addresses. ureq asks the
//!   resolver before it looks in its connection pool, so the answers are reported only when
//!   a new connection is made from them.
//! - [`TracedConnector`] makes new connections only, through the dial path (`dial::Dialer`,
//!   shared with the WebSocket client): the DNS answers used, the TCP connect, the proxy,
//!   and the TLS handshake, each measured and reported.
//! - [`WiredTransport`] carries the bytes, records the request exactly as written and the
//!   response head exactly as received, and marks when sending ended and the first byte came.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::net::TcpStream;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Weak};
use std::time::Instant;

use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, ShutdownHandle, Transport,
};
use ureq::Timeout;

use super::dial::{self, Connection, Dialer, Forward, Resolved, Stream, Target};
use super::dns::DnsFailure;
use super::h2::H2;
use super::phase::{is_timeout, Budget, DialError};
use super::proxy::{self, Proxies};
use super::trust::SessionTrust;
use super::Dns;
use crate::trace::{ms, EventKind, LoadDeadline, RequestId, SentBody, Step, Trace};

/// Largest request or response head kept for the trace.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What one request did on the wire; lives while the request runs on this thread.
pub struct Exchange {
    pub trace: Trace,
    pub request: RequestId,
    /// The URL and purpose, for the request event sent as soon as the head is written.
    pub method: String,
    pub url: String,
    pub purpose: &'static str,
    /// When the request began (before the resolver, the pool and any connecting), on the
    /// load's clock: read when it began, as checkpoints may follow.
    pub begun_ms: f64,
    /// When the whole request must be over, on the load's clock (time a person holds the
    /// load in step mode does not count): every read and write is bounded by it.
    pub deadline: LoadDeadline,
    /// The step in progress, so a failure can name it.
    pub phase: Step,
    /// A new connection whose TLS handshake chose HTTP/2: ureq cannot use it, so the
    /// connector leaves it here for the h2 side (src/net/h2) and fails ureq's request.
    pub(crate) h2_connection: Option<Connection>,
    /// What the resolver found (the answers, the proxy this request goes through), for the
    /// connector: the answers are reported when a new connection uses them.
    pub(crate) resolved: Option<Result<Resolved, DnsFailure>>,
    /// A precise message for a failure below ureq (refused, unreachable, TLS).
    pub failure: Option<String>,
    pub conn: Option<u32>,
    /// A connection found closed by the server when this request was to be sent on it:
    /// nothing was sent, and the request may be tried again.
    pub closed_while_idle: Option<ClosedWhileIdle>,
    /// A try again of a request the person already let go: no checkpoint before sending.
    pub retried: bool,
    /// The body that follows the head (a POST), for the request event.
    pub body: Option<SentBody>,
    pub sent: Vec<u8>,
    pub send_start: Option<Instant>,
    request_reported: bool,
    pub send_end: Option<Instant>,
    pub first_byte: Option<Instant>,
    /// When the first byte of the final head came: after any interim 1xx heads (103 Early
    /// Hints), which are not the answer. Time to first byte is measured to it.
    pub answer_first_byte: Option<Instant>,
    pub head: Vec<u8>,
    pub head_len: Option<usize>,
    pub received: u64,
}

/// A connection the server closed before a request went out on it.
#[derive(Clone, Copy, Debug)]
pub struct ClosedWhileIdle {
    pub conn: u32,
    /// Kept alive after an earlier request (else opened for this one).
    pub reused: bool,
}

impl ClosedWhileIdle {
    /// What happened, for the trace.
    pub fn described(&self) -> String {
        let why = if self.reused {
            format!(
                "the server had closed the idle keep-alive connection #{}",
                self.conn
            )
        } else {
            format!(
                "the server had closed connection #{} while it waited for the request",
                self.conn
            )
        };
        format!("{why} before the request went out, so the browser sends it again at once on another connection, as browsers do (nothing had reached the server)")
    }
}

impl Exchange {
    pub fn new(
        trace: Trace,
        request: RequestId,
        method: String,
        url: String,
        purpose: &'static str,
        deadline: LoadDeadline,
    ) -> Exchange {
        Exchange {
            begun_ms: trace.elapsed_ms(),
            deadline,
            trace,
            request,
            method,
            url,
            purpose,
            phase: Step::Dns,
            h2_connection: None,
            resolved: None,
            failure: None,
            conn: None,
            closed_while_idle: None,
            retried: false,
            body: None,
            sent: Vec::new(),
            send_start: None,
            request_reported: false,
            send_end: None,
            first_byte: None,
            answer_first_byte: None,
            head: Vec::new(),
            head_len: None,
            received: 0,
        }
    }

    /// Bytes of the request head as sent, and of the response head as received.
    pub fn head_bytes(&self) -> (u64, u64) {
        let sent = self
            .sent
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(self.sent.len(), |p| p + 4);
        (sent as u64, self.head_len.unwrap_or(self.head.len()) as u64)
    }

    /// Bytes of the body received so far (everything after the head).
    pub fn body_wire_bytes(&self) -> u64 {
        let head = self.head_len.unwrap_or(self.head.len()) as u64;
        self.received.saturating_sub(head)
    }

    /// Reports the request head the moment all of it has been written.
    fn report_request_once(&mut self) {
        if self.request_reported {
            return;
        }
        let Some(end) = self.sent.windows(4).position(|w| w == b"\r\n\r\n") else {
            return;
        };
        self.request_reported = true;
        let head = String::from_utf8_lossy(&self.sent[..end + 4]).into_owned();
        let send_start = self.send_start.unwrap_or_else(Instant::now);
        let begun_ms = self.begun_ms;
        self.trace.emit_started(
            Some(self.request),
            send_start,
            EventKind::Request {
                method: head.split(' ').next().unwrap_or("GET").to_string(),
                url: self.url.clone(),
                purpose: self.purpose.to_string(),
                head,
                begun_ms,
                send_ms: ms(send_start.elapsed()),
                body: self.body.clone(),
            },
        );
    }

    /// Taps bytes that arrived; how many of them (from the first) belong to a head.
    fn record_input(&mut self, bytes: &[u8]) -> usize {
        if self.first_byte.is_none() {
            self.first_byte = Some(Instant::now());
            self.phase = Step::Receive;
        }
        self.received += bytes.len() as u64;
        if self.head_len.is_some() {
            return 0;
        }
        let before = self.head.len();
        if self.head.len() < MAX_HEAD_BYTES {
            let room = MAX_HEAD_BYTES - self.head.len();
            self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
            if self.answer_first_byte.is_none()
                && final_head_start(&self.head).is_some_and(|start| start < self.head.len())
            {
                self.answer_first_byte = Some(Instant::now());
            }
            if let Some(end) = find_head_end(&self.head) {
                self.head_len = Some(end);
                self.head.truncate(end);
                return end.saturating_sub(before).min(bytes.len());
            }
        }
        bytes.len()
    }
}

/// Makes header values parseable for ureq the way browsers read them: any byte but NUL, CR
/// and LF is allowed in a value (Chromium and Firefox show the page), while ureq's parser
/// refuses control bytes such as ESC and BEL. Those become spaces in what ureq parses; the
/// trace keeps the head as it arrived (shown escaped). Status lines are left alone: a
/// broken one stays an error.
#[derive(Debug)]
struct HeadCleaner {
    /// The line being read is a status line (the first of a head).
    status_line: bool,
    /// Bytes of the current line so far.
    line_len: usize,
}

impl Default for HeadCleaner {
    fn default() -> Self {
        HeadCleaner {
            status_line: true,
            line_len: 0,
        }
    }
}

impl HeadCleaner {
    fn clean(&mut self, head: &mut [u8]) {
        for byte in head {
            match *byte {
                b'\n' => {
                    // An empty line ends a head: an interim one (1xx) is followed by another.
                    self.status_line = self.line_len <= 1;
                    self.line_len = 0;
                    continue;
                }
                0x01..=0x08 | 0x0b | 0x0c | 0x0e..=0x1f | 0x7f if !self.status_line => *byte = b' ',
                _ => {}
            }
            self.line_len += 1;
        }
    }
}

/// Where the final head starts, past the interim 1xx heads before it (not a 101, which is
/// final for HTTP); None while an interim head is still arriving.
pub fn final_head_start(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let rest = &buf[from..];
        let is_interim = rest.starts_with(b"HTTP/1.1 1") && !rest.starts_with(b"HTTP/1.1 101");
        if !is_interim {
            return Some(from);
        }
        from += rest.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    }
}

/// The end of an HTTP head (just past the blank line), skipping interim 1xx heads.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let end = buf[from..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|p| from + p + 4)?;
        let is_interim =
            buf[from..].starts_with(b"HTTP/1.1 1") && !buf[from..].starts_with(b"HTTP/1.1 101");
        if !is_interim {
            return Some(end);
        }
        from = end;
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Exchange>> = const { RefCell::new(None) };
}

/// This thread's open exchange: while the guard lives, ureq's hooks report into it.
///
/// A thread-local is the only way in: ureq's hooks get no per-request context. The guard
/// makes its protocol hold by construction: [`begin`] is the only way to open an exchange,
/// and dropping the guard closes it (also when a request fails or panics halfway), so an
/// exchange never outlives its request. The guard cannot leave the thread whose exchange
/// it holds (it is neither `Send` nor `Sync`).
#[must_use = "the exchange closes when the guard is dropped"]
pub struct ExchangeGuard {
    _this_thread: PhantomData<*const ()>,
}

/// Opens the exchange for the request about to run on this thread.
pub fn begin(exchange: Exchange) -> ExchangeGuard {
    let previous = CURRENT.with(|c| c.borrow_mut().replace(exchange));
    // ureq runs one request at a time on its calling thread; a second exchange would take
    // the first one's events.
    debug_assert!(
        previous.is_none(),
        "an exchange began while another was open on this thread"
    );
    ExchangeGuard {
        _this_thread: PhantomData,
    }
}

impl ExchangeGuard {
    /// Closes the exchange and hands it back.
    pub fn finish(self) -> Option<Exchange> {
        take_current()
    }
}

impl Drop for ExchangeGuard {
    fn drop(&mut self) {
        drop(take_current());
    }
}

fn take_current() -> Option<Exchange> {
    // try_: a guard dropped while this thread's locals are torn down finds nothing to close.
    CURRENT
        .try_with(|c| c.try_borrow_mut().ok().and_then(|mut c| c.take()))
        .ok()
        .flatten()
}

/// Runs `f` on this thread's exchange, if a request is running.
///
/// Every caller is one of ureq's hooks, which run only inside `http.rs`'s request, so none
/// should find the exchange closed. If one does, the protocol was broken (a request sent
/// without [`begin`]): debug builds, and so every test, stop here and say so; a release
/// build goes on without recording, because a page that loads with a step missing from its
/// trace serves the user better than one that does not load. (Failures need no exchange to
/// be seen: they are values, `DialError`, that the connector hands to ureq itself.)
pub fn with_exchange<R>(f: impl FnOnce(&mut Exchange) -> R) -> Option<R> {
    let result = CURRENT.with(|c| c.borrow_mut().as_mut().map(f));
    debug_assert!(
        result.is_some(),
        "a ureq hook ran outside an exchange: open one with wire::begin before calling ureq"
    );
    result
}

/// ureq's resolver hook, answered through the dial path.
#[derive(Debug)]
pub struct TracedResolver {
    pub dns: Arc<Dns>,
    pub proxies: Arc<Proxies>,
}

impl Resolver for TracedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let target = target_of(uri);
        let trace = with_exchange(|x| {
            x.phase = Step::Dns;
            x.trace.clone()
        });
        let Some(trace) = trace else {
            return Err(ureq::Error::ConnectionFailed);
        };
        match dial::resolve(&self.dns, &self.proxies, target, &trace) {
            Ok(resolved) => {
                // ResolvedSocketAddrs holds 16; a longer answer is cut, as ureq's own resolver does.
                let mut addrs = self.empty();
                for addr in &resolved.addrs {
                    let _ = addrs.try_push(*addr);
                }
                with_exchange(|x| x.resolved = Some(Ok(resolved)));
                if addrs.is_empty() {
                    return Err(ureq::Error::HostNotFound);
                }
                Ok(addrs)
            }
            Err(failure) => {
                with_exchange(|x| x.resolved = Some(Err(failure)));
                Err(ureq::Error::HostNotFound)
            }
        }
    }
}

/// Where a request for `uri` dials: an `https:` URL wants TLS, and a tunnel through an
/// HTTP proxy; an `http:` URL goes to such a proxy in absolute form.
fn target_of(uri: &ureq::http::Uri) -> Target<'_> {
    let tls = uri.scheme_str() == Some("https");
    let host = uri.host().unwrap_or_default();
    Target {
        host: host.trim_start_matches('[').trim_end_matches(']'),
        port: uri.port_u16().unwrap_or(if tls { 443 } else { 80 }),
        tls,
        tunnel: tls,
        offer_h2: false,
    }
}

/// The origin a request URI belongs to, as the HTTP/2 side keys its connections.
pub(crate) fn origin_of(scheme: &str, host: &str, port: u16) -> String {
    format!("{scheme}://{host}:{port}")
}

/// ureq's connector hook: makes (and reports) every new connection, through the dial path.
#[derive(Debug)]
pub struct TracedConnector {
    pub tls: Arc<SessionTrust>,
    /// Offers h2 in TLS handshakes, and learns which origins chose HTTP/1.1.
    pub(crate) h2: Arc<H2>,
    /// Numbers connections across the whole browsing session (the pool outlives each load).
    pub ids: Arc<AtomicU32>,
}

impl Connector<()> for TracedConnector {
    type Out = WiredTransport;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let taken = with_exchange(|x| {
            x.phase = Step::Connect;
            (x.trace.clone(), x.request, x.resolved.take())
        });
        let Some((trace, request, resolved)) = taken else {
            return Err(ureq::Error::ConnectionFailed);
        };
        let (answers, route) = match resolved {
            Some(Ok(resolved)) => (resolved.answers, resolved.route),
            _ => (Vec::new(), None),
        };
        let dialer = Dialer {
            trust: &self.tls,
            ids: &self.ids,
            trace: &trace,
            request,
        };
        let target = Target {
            offer_h2: self.h2.enabled,
            ..target_of(details.uri)
        };
        // ureq's own clock would count a person's pauses (and in step mode it sets no
        // timeouts): what is left of the request on the load's clock bounds the dial.
        let left = with_exchange(|x| x.deadline.left());
        let budget = Budget::new(match (details.timeout.not_zero(), left) {
            (Some(ureq), Some(ours)) => Some((*ureq).min(ours)),
            (ureq, ours) => ureq.map(|d| *d).or(ours),
        });
        let tcp = dialer
            .connect(&details.addrs, &answers, route.as_ref(), budget)
            .map_err(into_ureq)?;
        // Registered before any proxy or TLS exchange, as ureq asks, so that shutting the
        // agent down interrupts them too.
        (details.register_shutdown)(Arc::downgrade(&tcp.socket) as Weak<dyn ShutdownHandle>)?;
        let connection = dialer
            .negotiate(tcp, target, route.as_ref(), budget)
            .map_err(into_ureq)?;
        if target.offer_h2 {
            let origin = origin_of("https", target.host, target.port);
            if connection.alpn_h2() {
                with_exchange(|x| x.h2_connection = Some(connection));
                return Err(ureq::Error::Io(io::Error::other(H2_CHOSEN)));
            }
            self.h2.learned_http1(&origin);
        }
        with_exchange(|x| {
            x.conn = Some(connection.conn);
            x.phase = Step::Send;
        });
        Ok(Some(WiredTransport::new(connection, details.config)))
    }
}

/// What ureq is told when the connection went to HTTP/2 instead (never shown: the h2 side
/// takes the request over).
pub(crate) const H2_CHOSEN: &str = "the server chose HTTP/2";

/// Hands a dial's failure to ureq: the step and the precise words stay in the exchange for
/// `http.rs` (ureq's own error would only say "connection failed").
fn into_ureq(error: DialError) -> ureq::Error {
    with_exchange(|x| x.phase = error.step());
    match error {
        DialError::TimedOut(_) => ureq::Error::Timeout(Timeout::Connect),
        DialError::Failed(_, message) => {
            with_exchange(|x| x.failure = Some(message.clone()));
            ureq::Error::Io(io::Error::other(message))
        }
        DialError::Io(_, e) => ureq::Error::from(e),
    }
}

/// One connection: carries ureq's bytes and taps them into the running exchange.
pub struct WiredTransport {
    conn: u32,
    stream: Stream,
    /// The same socket, for timeouts, liveness checks and shutdown.
    socket: Arc<TcpStream>,
    buffers: LazyBuffers,
    /// Requests sent on this connection so far.
    requests: u32,
    /// Through an HTTP proxy: request lines carry the whole URL.
    forward: Option<Forward>,
    /// The response head being read, made parseable for ureq.
    cleaner: HeadCleaner,
}

impl fmt::Debug for WiredTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WiredTransport")
            .field("conn", &self.conn)
            .field("requests", &self.requests)
            .finish()
    }
}

impl WiredTransport {
    fn new(connection: Connection, config: &ureq::config::Config) -> WiredTransport {
        WiredTransport {
            conn: connection.conn,
            stream: connection.stream,
            socket: connection.socket,
            buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
            requests: 0,
            forward: connection.forward,
            cleaner: HeadCleaner::default(),
        }
    }

    /// Called on the first write of each request: reports a reused connection.
    fn start_request(&mut self) {
        self.cleaner = HeadCleaner::default();
        let conn = self.conn;
        let reused_after = self.requests;
        with_exchange(|x| {
            if x.conn.is_none() {
                x.conn = Some(conn);
                x.trace.emit(
                    Some(x.request),
                    EventKind::Reuse {
                        conn,
                        requests_before: reused_after,
                    },
                );
            }
            x.phase = Step::Send;
        });
        self.requests += 1;
    }
}

/// ureq's timeout for one read or write, bounded by what is left of the request on the
/// load's clock (ureq's own clock counts the time a person holds the load in step mode).
fn within_request(mut timeout: NextTimeout) -> NextTimeout {
    if let Some(left) = with_exchange(|x| x.deadline.left()) {
        let left = left.into();
        if left < timeout.after {
            timeout.after = left;
            timeout.reason = Timeout::Global;
        }
    }
    timeout
}

fn io_error(e: io::Error, reason: Timeout) -> ureq::Error {
    if is_timeout(&e) {
        ureq::Error::Timeout(reason)
    } else {
        ureq::Error::Io(e)
    }
}

/// What an idle connection holds, looked at without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Idle {
    /// Nothing to read: open.
    Quiet,
    /// Bytes waiting (over TLS, the server's session tickets; over plain HTTP, stray ones).
    Bytes,
    /// End of stream or an error: the server closed it (or the probe failed).
    Closed,
}

impl WiredTransport {
    /// Peeks at the socket without blocking, and puts it back in blocking mode.
    fn idle(&self) -> Idle {
        if self.socket.set_nonblocking(true).is_err() {
            return Idle::Closed;
        }
        let mut probe = [0u8; 1];
        let idle = match self.socket.peek(&mut probe) {
            Ok(0) => Idle::Closed,
            Ok(_) => Idle::Bytes,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Idle::Quiet,
            Err(_) => Idle::Closed,
        };
        if self.socket.set_nonblocking(false).is_err() {
            return Idle::Closed;
        }
        idle
    }

    /// Whether the server has closed this connection (end of stream, or a reset). Bytes
    /// waiting do not count: over TLS they are the server's session tickets.
    fn closed_by_peer(&self) -> bool {
        self.idle() == Idle::Closed
    }
}

impl Transport for WiredTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let is_new_request = with_exchange(|x| x.sent.is_empty()).unwrap_or(false);
        if is_new_request {
            with_exchange(|x| {
                if !x.retried {
                    x.trace.checkpoint(&format!("send {} {}", x.method, x.url));
                }
            });
            // ureq checked a pooled connection before the checkpoint, and a new one was
            // just made; the server may have closed it since (its keep-alive or request-head
            // timeout runs while a person pauses the load).
            if self.closed_by_peer() {
                let closed = ClosedWhileIdle {
                    conn: self.conn,
                    reused: self.requests > 0,
                };
                let conn = self.conn;
                with_exchange(|x| x.closed_while_idle = Some(closed));
                return Err(ureq::Error::Io(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    format!("the server closed the idle connection #{conn}"),
                )));
            }
            self.start_request();
        }
        // After the checkpoint: the time left is read once the person let the step go.
        let timeout = within_request(timeout).for_write();
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        self.socket
            .set_write_timeout(timeout.not_zero().map(|d| *d))?;
        let output = &self.buffers.output()[..amount];
        // To an HTTP proxy, a request names the whole URL (absolute form).
        let rewritten = match (&self.forward, is_new_request) {
            (Some(forward), true) => {
                proxy::absolute_form(output, &forward.origin, forward.authorization.as_deref())
            }
            _ => None,
        };
        let output = rewritten.as_deref().unwrap_or(output);
        // The proxy's password stays out of the trace (Basic is only base64).
        let secret = self
            .forward
            .as_ref()
            .and_then(|f| f.authorization.as_deref())
            .filter(|_| rewritten.is_some());
        let tapped = match secret {
            Some(secret) => String::from_utf8_lossy(output)
                .replacen(secret, "Basic ***", 1)
                .into_bytes(),
            None => output.to_vec(),
        };
        with_exchange(|x| {
            x.send_start.get_or_insert_with(Instant::now);
            let room = MAX_HEAD_BYTES.saturating_sub(x.sent.len());
            x.sent.extend_from_slice(&tapped[..tapped.len().min(room)]);
        });
        let output = output.to_vec();
        let writer = self.stream.writer();
        writer
            .write_all(&output)
            .and_then(|_| writer.flush())
            .map_err(|e| io_error(e, timeout.reason))?;
        with_exchange(|x| {
            x.send_end = Some(Instant::now());
            x.phase = Step::Wait;
            x.report_request_once();
        });
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = within_request(timeout).for_read();
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        self.socket
            .set_read_timeout(timeout.not_zero().map(|d| *d))?;
        let buf = self.buffers.input_append_buf();
        let n = loop {
            match self.stream.reader().read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e, timeout.reason)),
            }
        };
        let fresh = buf[..n].to_vec();
        let head_bytes = with_exchange(|x| x.record_input(&fresh)).unwrap_or(0);
        // The trace has the head as it came; ureq gets header values it can parse.
        self.cleaner.clean(&mut buf[..head_bytes]);
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        // An idle connection must have nothing to read: a read that would block means open;
        // end-of-stream or stray bytes mean the server closed it or broke the protocol.
        self.idle() == Idle::Quiet
    }

    fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Collector;

    fn exchange(url: &str) -> Exchange {
        let trace = Trace::new(Arc::new(Collector::default()));
        let deadline = trace.deadline(std::time::Duration::from_secs(5));
        Exchange::new(
            trace,
            1,
            "GET".into(),
            url.to_string(),
            "document",
            deadline,
        )
    }

    fn open_url() -> Option<String> {
        CURRENT.with(|c| c.borrow().as_ref().map(|x| x.url.clone()))
    }

    #[test]
    fn the_guard_closes_its_exchange_however_the_request_ends() {
        let guard = begin(exchange("http://a.test/"));
        assert_eq!(open_url().as_deref(), Some("http://a.test/"));
        drop(guard);
        assert_eq!(open_url(), None, "dropped: closed");

        let guard = begin(exchange("http://b.test/"));
        let finished = guard.finish().map(|x| x.url);
        assert_eq!(finished.as_deref(), Some("http://b.test/"));
        assert_eq!(open_url(), None, "finished: closed");

        let unwound = std::panic::catch_unwind(|| {
            let _guard = begin(exchange("http://c.test/"));
            panic!("a request that breaks halfway");
        });
        assert!(unwound.is_err());
        assert_eq!(open_url(), None, "unwound: closed");
    }

    #[test]
    fn header_values_lose_their_control_bytes_but_status_lines_keep_theirs() {
        let mut head = b"HTTP/1.1 103 Early\x07\r\nLink: </a.css>\x1b[2J\r\n\r\nHTTP/1.1 200 O\x1bK\r\nX-Bell: ring\x07\tend\x7f\r\n\r\n".to_vec();
        let mut cleaner = HeadCleaner::default();
        // In two pieces, as reads may cut it anywhere.
        let (a, b) = head.split_at_mut(20);
        cleaner.clean(a);
        cleaner.clean(b);
        assert_eq!(
            String::from_utf8_lossy(&head),
            "HTTP/1.1 103 Early\x07\r\nLink: </a.css> [2J\r\n\r\nHTTP/1.1 200 O\x1bK\r\nX-Bell: ring \tend \r\n\r\n"
        );
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "outside an exchange")]
    fn a_hook_outside_an_exchange_is_caught() {
        let _ = with_exchange(|x| x.phase = Step::Send);
    }
}
