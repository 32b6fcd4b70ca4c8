//! The instrumented connection under ureq: our resolver, connector and transport.
//!
//! ureq drives a request on the calling thread, so what one request does on the wire is
//! collected in a thread-local [`Exchange`] that `http.rs` opens before the request and
//! closes after the body is read. The pieces ureq calls report into it:
//! - [`TracedResolver`] asks our [`Dns`] (hickory) and keeps the answers; ureq connects to
//!   exactly these addresses. ureq asks the resolver before it looks in its connection
//!   pool, so the answers are reported only when a new connection is made from them.
//! - [`TracedConnector`] makes new connections only: it reports the DNS answers used, the
//!   TCP connect, and the TLS handshake, each measured.
//! - [`WiredTransport`] carries the bytes, records the request exactly as written and the
//!   response head exactly as received, and marks when sending ended and the first byte came.

use std::cell::RefCell;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, ShutdownHandle, Transport,
};
use ureq::Timeout;

use super::dns::{DnsAnswer, DnsFailure};
use super::proxy::{self, Proxies, Proxy, ProxyKind};
use super::tls;
use super::trust::SessionTrust;
use super::Dns;
use crate::trace::{ms, EventKind, RequestId, Step, Trace};

/// Largest request or response head kept for the trace.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What one request did on the wire; lives while the request runs on this thread.
pub struct Exchange {
    pub trace: Trace,
    pub request: RequestId,
    /// The URL and purpose, for the request event sent as soon as the head is written.
    pub method: &'static str,
    pub url: String,
    pub purpose: &'static str,
    /// When the request began (before the resolver, the pool and any connecting).
    pub begun: Instant,
    /// The step in progress, so a failure can name it.
    pub phase: Step,
    /// The resolver's answers, reported when a new connection uses them.
    pub dns: Option<Result<Vec<DnsAnswer>, DnsFailure>>,
    /// The proxy this request goes through, chosen by the resolver.
    pub route: Option<Route>,
    /// A precise message for a failure below ureq (refused, unreachable, TLS).
    pub failure: Option<String>,
    pub conn: Option<u32>,
    pub sent: Vec<u8>,
    pub send_start: Option<Instant>,
    request_reported: bool,
    pub send_end: Option<Instant>,
    pub first_byte: Option<Instant>,
    pub head: Vec<u8>,
    pub head_len: Option<usize>,
    pub received: u64,
}

impl Exchange {
    pub fn new(
        trace: Trace,
        request: RequestId,
        method: &'static str,
        url: String,
        purpose: &'static str,
    ) -> Exchange {
        Exchange {
            trace,
            request,
            method,
            url,
            purpose,
            begun: Instant::now(),
            phase: Step::Dns,
            dns: None,
            route: None,
            failure: None,
            conn: None,
            sent: Vec::new(),
            send_start: None,
            request_reported: false,
            send_end: None,
            first_byte: None,
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
        let begun_ms = ms(self.begun.saturating_duration_since(self.trace.start()));
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
            },
        );
    }

    fn record_input(&mut self, bytes: &[u8]) {
        if self.first_byte.is_none() {
            self.first_byte = Some(Instant::now());
            self.phase = Step::Receive;
        }
        self.received += bytes.len() as u64;
        if self.head_len.is_none() && self.head.len() < MAX_HEAD_BYTES {
            let room = MAX_HEAD_BYTES - self.head.len();
            self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
            if let Some(end) = find_head_end(&self.head) {
                self.head_len = Some(end);
                self.head.truncate(end);
            }
        }
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

/// A request's way through a proxy.
#[derive(Clone, Debug)]
pub struct Route {
    pub proxy: Proxy,
    pub host: String,
    pub port: u16,
    /// The site's address, looked up by this browser (only for `socks5://`).
    pub address: Option<IpAddr>,
}

thread_local! {
    static CURRENT: RefCell<Option<Exchange>> = const { RefCell::new(None) };
}

/// Opens the exchange for the request about to run on this thread.
pub fn begin(exchange: Exchange) {
    CURRENT.with(|c| *c.borrow_mut() = Some(exchange));
}

/// Closes this thread's exchange and hands it back.
pub fn finish() -> Option<Exchange> {
    CURRENT.with(|c| c.borrow_mut().take())
}

/// Runs `f` on this thread's exchange, if a request is running.
pub fn with_exchange<R>(f: impl FnOnce(&mut Exchange) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow_mut().as_mut().map(f))
}

/// ureq's resolver hook, answered by our DNS client.
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
        let host = uri.host().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let scheme = uri.scheme_str().unwrap_or("http");
        if let Some(proxy) = self.proxies.for_target(scheme, host, port) {
            return self.resolve_proxy(proxy, host, port);
        }
        // ureq asks before it looks in its pool; pause only when the network will be asked.
        let needs_network = host.parse::<IpAddr>().is_err()
            && !is_localhost(host)
            && !self.dns.has_live_answer(host);
        with_exchange(|x| {
            x.phase = Step::Dns;
            if needs_network {
                x.trace.checkpoint(&format!("DNS lookup of {host}"));
            }
        });
        let mut addrs = self.empty();
        match addresses_for(host, port, &self.dns) {
            Ok((found, answers)) => {
                // ResolvedSocketAddrs holds 16; a longer answer is cut, as ureq's own resolver does.
                for addr in found {
                    let _ = addrs.try_push(addr);
                }
                with_exchange(|x| x.dns = Some(Ok(answers)));
                if addrs.is_empty() {
                    return Err(ureq::Error::HostNotFound);
                }
                Ok(addrs)
            }
            Err(failure) => {
                with_exchange(|x| x.dns = Some(Err(failure)));
                Err(ureq::Error::HostNotFound)
            }
        }
    }
}

impl TracedResolver {
    /// Through a proxy, the browser connects to the proxy: it looks up the proxy's name,
    /// and the site's only for `socks5://` (where the proxy wants an address).
    fn resolve_proxy(
        &self,
        proxy: &Proxy,
        host: &str,
        port: u16,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let lookup = |name: &str, port: u16| {
            if name.parse::<IpAddr>().is_err()
                && !is_localhost(name)
                && !self.dns.has_live_answer(name)
            {
                with_exchange(|x| x.trace.checkpoint(&format!("DNS lookup of {name}")));
            }
            addresses_for(name, port, &self.dns)
        };
        with_exchange(|x| x.phase = Step::Dns);
        let (found, mut answers) = match lookup(&proxy.host, proxy.port) {
            Ok(found) => found,
            Err(mut failure) => {
                failure.message = format!("the proxy {}: {}", proxy.display(), failure.message);
                with_exchange(|x| x.dns = Some(Err(failure)));
                return Err(ureq::Error::HostNotFound);
            }
        };
        let address = if proxy.resolves_names() {
            None
        } else {
            match lookup(host, port) {
                Ok((site, site_answers)) => {
                    answers.extend(site_answers);
                    site.first().map(|a| a.ip())
                }
                Err(failure) => {
                    with_exchange(|x| x.dns = Some(Err(failure)));
                    return Err(ureq::Error::HostNotFound);
                }
            }
        };
        let mut addrs = self.empty();
        for addr in found {
            let _ = addrs.try_push(addr);
        }
        with_exchange(|x| {
            x.dns = Some(Ok(answers));
            x.route = Some(Route {
                proxy: proxy.clone(),
                host: host.to_string(),
                port,
                address,
            });
        });
        if addrs.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(addrs)
    }
}

fn is_localhost(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// ureq's connector hook: makes (and reports) every new connection.
#[derive(Debug)]
pub struct TracedConnector {
    pub tls: Arc<SessionTrust>,
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
        let trace_ctx =
            with_exchange(|x| (x.trace.clone(), x.request, x.dns.take(), x.route.take()));
        let Some((trace, request, dns, route)) = trace_ctx else {
            return Err(ureq::Error::ConnectionFailed);
        };
        if let Some(Ok(answers)) = dns {
            emit_dns(&trace, request, &answers);
        }
        with_exchange(|x| x.phase = Step::Connect);
        let budget = details.timeout.not_zero().map(|d| *d);
        let connected = connect_traced(&details.addrs, budget, &trace, request, &self.ids);
        let (mut stream, conn) = match (connected, &route) {
            (Ok(c), _) => c,
            (Err(e), Some(route)) => {
                with_exchange(|x| {
                    if let Some(failure) = &mut x.failure {
                        *failure = format!(
                            "the proxy {} (from {}): {failure}",
                            route.proxy.display(),
                            route.proxy.source
                        );
                    }
                });
                return Err(e);
            }
            (Err(e), None) => return Err(e),
        };
        let socket = Arc::new(stream.try_clone()?);
        (details.register_shutdown)(Arc::downgrade(&socket) as Weak<dyn ShutdownHandle>)?;
        let forward = match &route {
            Some(route) => through_proxy(
                route,
                &mut stream,
                details.needs_tls(),
                budget,
                conn,
                &trace,
                request,
            )?,
            None => None,
        };
        let stream = if details.needs_tls() {
            with_exchange(|x| x.phase = Step::Tls);
            let host = details.uri.host().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            Stream::Tls(Box::new(tls::handshake(
                &self.tls, stream, host, budget, conn, &trace, request,
            )?))
        } else {
            Stream::Plain(stream)
        };
        with_exchange(|x| {
            x.conn = Some(conn);
            x.phase = Step::Send;
        });
        let config = details.config;
        Ok(Some(WiredTransport {
            conn,
            stream,
            socket,
            buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
            requests: 0,
            forward,
        }))
    }
}

/// Requests to an HTTP proxy for `http:` URLs: the origin to put in each request line.
#[derive(Clone, Debug)]
pub struct Forward {
    origin: String,
    authorization: Option<String>,
}

/// Sets up the way through the proxy on a fresh connection to it, and reports it. `tunnel`
/// (an `https:` URL, or a WebSocket) asks an HTTP proxy for CONNECT instead of absolute form.
pub(crate) fn through_proxy(
    route: &Route,
    stream: &mut TcpStream,
    tunnel: bool,
    budget: Option<Duration>,
    conn: u32,
    trace: &Trace,
    request: RequestId,
) -> Result<Option<Forward>, ureq::Error> {
    let target = proxy::authority(&route.host, route.port);
    let started = Instant::now();
    let dns_by_proxy = route
        .proxy
        .resolves_names()
        .then(|| route.host.clone())
        .filter(|h| h.parse::<IpAddr>().is_err());
    let (mode, report, forward) = match (route.proxy.kind, tunnel) {
        (ProxyKind::Http, false) => {
            let origin = if route.port == 80 {
                format!(
                    "http://{}",
                    proxy::authority(&route.host, 80).trim_end_matches(":80")
                )
            } else {
                format!("http://{target}")
            };
            let forward = Forward {
                origin,
                authorization: route.proxy.authorization(),
            };
            ("forward", None, Some(forward))
        }
        (ProxyKind::Http, true) => {
            trace.checkpoint(&format!("CONNECT {target} through the proxy"));
            let report = proxy::http_connect(stream, &route.proxy, &route.host, route.port, budget)
                .map_err(fail)?;
            ("connect", Some(report), None)
        }
        (ProxyKind::Socks5 { .. }, _) => {
            trace.checkpoint(&format!("SOCKS5 tunnel to {target}"));
            let report = proxy::socks5_connect(
                stream,
                &route.proxy,
                &route.host,
                route.address,
                route.port,
                budget,
            )
            .map_err(fail)?;
            ("socks5", Some(report), None)
        }
    };
    trace.emit_started(
        Some(request),
        started,
        EventKind::Proxy {
            conn,
            proxy: route.proxy.display(),
            source: route.proxy.source.clone(),
            mode: mode.to_string(),
            target,
            dns_by_proxy,
            sent: report.as_ref().map(|r| r.sent.clone()),
            received: report.map(|r| r.received),
            ms: ms(started.elapsed()),
        },
    );
    Ok(forward)
}

/// Reports the DNS answers a new connection uses.
pub(crate) fn emit_dns(trace: &Trace, request: RequestId, answers: &[DnsAnswer]) {
    for answer in answers {
        trace.emit_started(
            Some(request),
            answer.started,
            EventKind::Dns {
                host: answer.host.clone(),
                record_type: answer.record_type.to_string(),
                server: answer.server.clone(),
                records: answer.records.clone(),
                cached: answer.cached,
                ms: ms(answer.elapsed),
                outcome: answer.outcome.clone(),
            },
        );
    }
}

/// Opens (and reports) a TCP connection to the first of `addrs` that answers.
pub(crate) fn connect_traced(
    addrs: &[SocketAddr],
    budget: Option<Duration>,
    trace: &Trace,
    request: RequestId,
    ids: &AtomicU32,
) -> Result<(TcpStream, u32), ureq::Error> {
    let first = addrs.first().map(|a| a.to_string()).unwrap_or_default();
    trace.checkpoint(&format!("TCP connect to {first}"));
    // Numbered when the attempt starts, so connections count in the order they were begun.
    let conn = ids.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    let stream = connect_any(addrs, budget)?;
    let local = stream
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let remote = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    trace.emit_started(
        Some(request),
        started,
        EventKind::Connect {
            conn,
            local,
            remote,
            ms: ms(started.elapsed()),
        },
    );
    stream.set_nodelay(true)?;
    Ok((stream, conn))
}

/// The addresses for `host`: an address literal or `localhost` as they are, else from DNS.
pub(crate) fn addresses_for(
    host: &str,
    port: u16,
    dns: &Dns,
) -> Result<(Vec<SocketAddr>, Vec<DnsAnswer>), DnsFailure> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok((vec![SocketAddr::new(ip, port)], Vec::new()));
    }
    if is_localhost(host) {
        let v4 = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port);
        let v6 = SocketAddr::new(IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]), port);
        return Ok((vec![v4, v6], Vec::new()));
    }
    let answers = dns.resolve(host)?;
    let addrs = answers
        .last()
        .map(|a| {
            a.addresses
                .iter()
                .map(|ip| SocketAddr::new(*ip, port))
                .collect()
        })
        .unwrap_or_default();
    Ok((addrs, answers))
}

/// Records a precise failure message for `http.rs`, and gives ureq an error to unwind with.
pub(crate) fn fail(message: String) -> ureq::Error {
    with_exchange(|x| x.failure = Some(message.clone()));
    ureq::Error::Io(io::Error::other(message))
}

pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Tries each address in turn, sharing the connect budget among them.
fn connect_any(addrs: &[SocketAddr], budget: Option<Duration>) -> Result<TcpStream, ureq::Error> {
    let deadline = budget.map(|b| Instant::now() + b);
    let mut errors = Vec::new();
    for addr in addrs {
        let result = match deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                TcpStream::connect_timeout(addr, left)
            }
            None => TcpStream::connect(addr),
        };
        match result {
            Ok(stream) => return Ok(stream),
            Err(e) if is_timeout(&e) => errors.push(format!("{addr}: no answer (timed out)")),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => errors.push(format!(
                "{addr}: connection refused (nothing listens on that port)"
            )),
            Err(e) => errors.push(format!("{addr}: {e}")),
        }
    }
    if errors.is_empty() {
        return Err(ureq::Error::Timeout(Timeout::Connect));
    }
    if errors.iter().all(|e| e.ends_with("(timed out)")) {
        return Err(ureq::Error::Timeout(Timeout::Connect));
    }
    Err(fail(format!("cannot connect: {}", errors.join("; "))))
}

/// A connection's byte stream, plain or inside TLS.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn reader(&mut self) -> &mut dyn Read {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.as_mut(),
        }
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.as_mut(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader().read(buf)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
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
    /// Called on the first write of each request: reports a reused connection.
    fn start_request(&mut self) {
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

fn io_error(e: io::Error, reason: Timeout) -> ureq::Error {
    if is_timeout(&e) {
        ureq::Error::Timeout(reason)
    } else {
        ureq::Error::Io(e)
    }
}

impl Transport for WiredTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let is_new_request = with_exchange(|x| x.sent.is_empty()).unwrap_or(false);
        if is_new_request {
            with_exchange(|x| x.trace.checkpoint(&format!("send {} {}", x.method, x.url)));
            self.start_request();
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
        let timeout = timeout.for_read();
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
        with_exchange(|x| x.record_input(&fresh));
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        // An idle connection must have nothing to read: a read that would block means open;
        // end-of-stream or stray bytes mean the server closed it or broke the protocol.
        if self.socket.set_nonblocking(true).is_err() {
            return false;
        }
        let mut probe = [0u8; 1];
        let open =
            matches!(self.socket.peek(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        let restored = self.socket.set_nonblocking(false).is_ok();
        open && restored
    }

    fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }
}
