//! The one way to a server, for HTTP (ureq's hooks in `wire.rs`) and WebSockets (`ws/`):
//! resolve the name through the traced DNS, go through the proxy if one applies, open the
//! TCP connection, then TLS for `https:` and `wss:`. Every phase reports into the trace,
//! pauses at its checkpoint in step mode, and takes its timeout from one [`Budget`].
//!
//! It runs in two halves because ureq asks its resolver before it looks in its connection
//! pool: [`resolve`] runs for every request, [`Dialer`] only for a new connection, and it
//! reports the DNS answers then, so a reused connection shows no DNS step.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::dns::{DnsAnswer, DnsFailure};
use super::phase::{is_timeout, Budget, DialError};
use super::proxy::{self, Proxies, Proxy, ProxyKind};
use super::tls::{self, TlsStream};
use super::trust::SessionTrust;
use super::Dns;
use crate::trace::{ms, EventKind, RequestId, Step, Trace};

/// Where a dial goes: a site's host (without brackets) and port, over TLS or not.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Target<'a> {
    pub host: &'a str,
    pub port: u16,
    /// TLS with the site (`https:`, `wss:`), end to end through any proxy.
    pub tls: bool,
    /// Through an HTTP proxy, ask for a CONNECT tunnel (an `https:` URL, or a WebSocket,
    /// as browsers do for `ws:` too) instead of sending the request in absolute form.
    pub tunnel: bool,
    /// Offer HTTP/2 (ALPN `h2`) in the TLS handshake, besides HTTP/1.1.
    pub offer_h2: bool,
}

impl Target<'_> {
    /// The scheme proxies are chosen by (`http_proxy` or `https_proxy`).
    fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
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

/// What resolving found: whom to connect to, and the answers that said so.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    /// The site's addresses, or the proxy's when one applies.
    pub addrs: Vec<SocketAddr>,
    /// Reported when a new connection uses them ([`Dialer::connect`]).
    pub answers: Vec<DnsAnswer>,
    pub route: Option<Route>,
}

/// Resolves `target`: through a proxy, the browser connects to the proxy, so it looks up
/// the proxy's name, and the site's only for `socks5://` (where the proxy wants an address).
pub(crate) fn resolve(
    dns: &Dns,
    proxies: &Proxies,
    target: Target<'_>,
    trace: &Trace,
) -> Result<Resolved, DnsFailure> {
    if let Some(proxy) = proxies.for_target(target.scheme(), target.host, target.port) {
        return resolve_proxy(dns, proxy, target, trace);
    }
    let (addrs, answers) = lookup(dns, target.host, target.port, trace)?;
    Ok(Resolved {
        addrs,
        answers,
        route: None,
    })
}

fn resolve_proxy(
    dns: &Dns,
    proxy: &Proxy,
    target: Target<'_>,
    trace: &Trace,
) -> Result<Resolved, DnsFailure> {
    let (addrs, mut answers) = lookup(dns, &proxy.host, proxy.port, trace).map_err(|mut f| {
        f.message = format!("the proxy {}: {}", proxy.display(), f.message);
        f
    })?;
    let address = if proxy.resolves_names() {
        None
    } else {
        let (site, site_answers) = lookup(dns, target.host, target.port, trace)?;
        answers.extend(site_answers);
        site.first().map(|a| a.ip())
    };
    let route = Route {
        proxy: proxy.clone(),
        host: target.host.to_string(),
        port: target.port,
        address,
    };
    Ok(Resolved {
        addrs,
        answers,
        route: Some(route),
    })
}

/// Looks `name` up, pausing first in step mode only when the network will be asked (ureq
/// resolves even for a request that then reuses a pooled connection, and a literal,
/// `localhost` or a live cached answer asks no one).
fn lookup(
    dns: &Dns,
    name: &str,
    port: u16,
    trace: &Trace,
) -> Result<(Vec<SocketAddr>, Vec<DnsAnswer>), DnsFailure> {
    if name.parse::<IpAddr>().is_err() && !is_localhost(name) && !dns.has_live_answer(name) {
        trace.checkpoint(&format!("DNS lookup of {name}"));
    }
    addresses_for(name, port, dns)
}

/// The addresses for `host`: an address literal or `localhost` as they are, else from DNS.
fn addresses_for(
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
    let addrs: Vec<SocketAddr> = answers
        .iter()
        .flat_map(|a| a.addresses.iter().map(|ip| SocketAddr::new(*ip, port)))
        .collect();
    Ok((super::eyeballs::interleave(&addrs), answers))
}

fn is_localhost(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Reports the DNS answers a new connection uses (or, for a failed lookup, those asked).
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

/// A new TCP connection, before any proxy or TLS.
pub(crate) struct Tcp {
    pub conn: u32,
    pub stream: TcpStream,
    /// The same socket, for timeouts, liveness checks and shutdown.
    pub socket: Arc<TcpStream>,
}

/// A connection ready for HTTP (or a WebSocket's Upgrade).
pub(crate) struct Connection {
    pub conn: u32,
    pub stream: Stream,
    /// The same socket, for timeouts, liveness checks and shutdown.
    pub socket: Arc<TcpStream>,
    /// Through an HTTP proxy without a tunnel: request lines carry the whole URL.
    pub forward: Option<Forward>,
}

impl Connection {
    /// Whether the TLS handshake chose HTTP/2 (ALPN `h2`).
    pub(crate) fn alpn_h2(&self) -> bool {
        match &self.stream {
            Stream::Tls(tls) => tls.conn.alpn_protocol() == Some(b"h2"),
            Stream::Plain(_) => false,
        }
    }
}

/// Requests to an HTTP proxy for `http:` URLs: the origin to put in each request line.
#[derive(Clone, Debug)]
pub(crate) struct Forward {
    pub origin: String,
    /// `Proxy-Authorization`, when the proxy URL has a user.
    pub authorization: Option<String>,
}

/// Makes new connections for one request, reporting each phase into its trace.
pub(crate) struct Dialer<'a> {
    pub trust: &'a SessionTrust,
    /// Numbers connections across the whole browsing session (the pool outlives each load).
    pub ids: &'a AtomicU32,
    pub trace: &'a Trace,
    pub request: RequestId,
}

impl Dialer<'_> {
    /// All of it, for a caller with nothing to do between the halves (the WebSocket client).
    pub(crate) fn open(
        &self,
        resolved: &Resolved,
        target: Target<'_>,
        budget: Budget,
    ) -> Result<Connection, DialError> {
        let route = resolved.route.as_ref();
        let tcp = self.connect(&resolved.addrs, &resolved.answers, route, budget)?;
        self.negotiate(tcp, target, route, budget)
    }

    /// Reports the DNS answers the connection uses, then opens (and reports) the TCP
    /// connection to the first of `addrs` that answers.
    pub(crate) fn connect(
        &self,
        addrs: &[SocketAddr],
        answers: &[DnsAnswer],
        route: Option<&Route>,
        budget: Budget,
    ) -> Result<Tcp, DialError> {
        emit_dns(self.trace, self.request, answers);
        let first = addrs.first().map(|a| a.to_string()).unwrap_or_default();
        self.trace.checkpoint(&format!("TCP connect to {first}"));
        // Numbered when the attempt starts, so connections count in the order they were begun.
        let conn = self.ids.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let (stream, attempts) = connect_any(addrs, budget);
        let stream = stream.map_err(|e| match (e, route) {
            (DialError::Failed(step, message), Some(route)) => DialError::Failed(
                step,
                format!(
                    "the proxy {} (from {}): {message}",
                    route.proxy.display(),
                    route.proxy.source
                ),
            ),
            (e, _) => e,
        })?;
        let local = stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let remote = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        self.trace.emit_started(
            Some(self.request),
            started,
            EventKind::Connect {
                conn,
                local,
                remote,
                ms: ms(started.elapsed()),
                attempts,
            },
        );
        let io = |e| DialError::Io(Step::Connect, e);
        stream.set_nodelay(true).map_err(io)?;
        let socket = Arc::new(stream.try_clone().map_err(io)?);
        Ok(Tcp {
            conn,
            stream,
            socket,
        })
    }

    /// The way through the proxy, if any, then TLS with the site if `target` wants it.
    pub(crate) fn negotiate(
        &self,
        mut tcp: Tcp,
        target: Target<'_>,
        route: Option<&Route>,
        budget: Budget,
    ) -> Result<Connection, DialError> {
        let forward = match route {
            Some(route) => self.through_proxy(route, &mut tcp, target.tunnel, budget)?,
            None => None,
        };
        let stream = if target.tls {
            let stream = tls::handshake(
                self.trust,
                tcp.stream,
                (target.host, target.offer_h2),
                budget,
                tcp.conn,
                self.trace,
                self.request,
            )?;
            Stream::Tls(Box::new(stream))
        } else {
            Stream::Plain(tcp.stream)
        };
        Ok(Connection {
            conn: tcp.conn,
            stream,
            socket: tcp.socket,
            forward,
        })
    }

    /// Sets up the way through the proxy on a fresh connection to it, and reports it.
    /// `tunnel` asks an HTTP proxy for CONNECT instead of absolute form.
    fn through_proxy(
        &self,
        route: &Route,
        tcp: &mut Tcp,
        tunnel: bool,
        budget: Budget,
    ) -> Result<Option<Forward>, DialError> {
        let target = proxy::authority(&route.host, route.port);
        // The pause comes before the clock starts: a tunnel's time is the tunnel's own.
        match (route.proxy.kind, tunnel) {
            (ProxyKind::Http, false) => {}
            (ProxyKind::Http, true) => self
                .trace
                .checkpoint(&format!("CONNECT {target} through the proxy")),
            (ProxyKind::Socks5 { .. }, _) => {
                self.trace.checkpoint(&format!("SOCKS5 tunnel to {target}"))
            }
        }
        let started = Instant::now();
        let dns_by_proxy = route
            .proxy
            .resolves_names()
            .then(|| route.host.clone())
            .filter(|h| h.parse::<IpAddr>().is_err());
        let failed = |message| DialError::Failed(Step::Connect, message);
        let stream = &mut tcp.stream;
        let (mode, report, forward) = match (route.proxy.kind, tunnel) {
            (ProxyKind::Http, false) => ("forward", None, Some(forward_to(route))),
            (ProxyKind::Http, true) => {
                let report = proxy::http_connect(
                    stream,
                    &route.proxy,
                    &route.host,
                    route.port,
                    budget.per_io(),
                )
                .map_err(failed)?;
                ("connect", Some(report), None)
            }
            (ProxyKind::Socks5 { .. }, _) => {
                let report = proxy::socks5_connect(
                    stream,
                    &route.proxy,
                    &route.host,
                    route.address,
                    route.port,
                    budget.per_io(),
                )
                .map_err(failed)?;
                ("socks5", Some(report), None)
            }
        };
        self.trace.emit_started(
            Some(self.request),
            started,
            EventKind::Proxy {
                conn: tcp.conn,
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
}

/// How requests for `http:` URLs name their origin to an HTTP proxy (absolute form).
fn forward_to(route: &Route) -> Forward {
    let origin = if route.port == 80 {
        format!(
            "http://{}",
            proxy::authority(&route.host, 80).trim_end_matches(":80")
        )
    } else {
        format!("http://{}", proxy::authority(&route.host, route.port))
    };
    Forward {
        origin,
        authorization: route.proxy.authorization(),
    }
}

/// Connects to one of `addrs` within the phase's time: one address directly, several by
/// Happy Eyeballs (`net::eyeballs`), whose attempts the trace shows.
fn connect_any(
    addrs: &[SocketAddr],
    budget: Budget,
) -> (
    Result<TcpStream, DialError>,
    Vec<crate::trace::ConnectAttempt>,
) {
    let (result, attempts) = match addrs {
        [addr] => {
            let result = match budget.deadline().left() {
                Some(left) => TcpStream::connect_timeout(addr, left),
                None => TcpStream::connect(addr),
            };
            let timed_out = |e: &io::Error| is_timeout(e);
            let result = result.map_err(|e| match timed_out(&e) {
                true => vec![format!("{addr}: no answer (timed out)")],
                false => vec![super::eyeballs::failure(addr, &e)],
            });
            (result, Vec::new())
        }
        _ => {
            let race = super::eyeballs::race(addrs, budget);
            (race.result, race.attempts)
        }
    };
    (result.map_err(connect_failure), attempts)
}

/// The connect step's failure from each address's.
fn connect_failure(errors: Vec<String>) -> DialError {
    if errors.iter().all(|e| e.ends_with("(timed out)")) {
        return DialError::TimedOut(Step::Connect);
    }
    DialError::Failed(
        Step::Connect,
        format!("cannot connect: {}", errors.join("; ")),
    )
}

/// A connection's byte stream, plain or inside TLS.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

impl Stream {
    pub(crate) fn reader(&mut self) -> &mut dyn Read {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.as_mut(),
        }
    }

    pub(crate) fn writer(&mut self) -> &mut dyn Write {
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
