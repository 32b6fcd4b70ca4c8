//! The demo world's forward proxy (`minibrowse serve --proxy-port N`): what a school's proxy
//! does, in a few hundred lines, so a class can watch one without any other software.
//!
//! On one port it speaks both proxy protocols:
//! - HTTP: `GET http://host:port/path` (absolute form) is fetched for the client, with a
//!   `Via: 1.1 minibrowse-demo-proxy` header added both ways; `CONNECT host:port` opens a
//!   tunnel, answered `200 Connection established`, after which it relays bytes it cannot read;
//! - SOCKS5 (a first byte of 5): a tunnel, to a name or an address.
//!
//! It looks names up in the demo DNS server (so the DNS server's log shows the proxy
//! asking, not the browser) and forwards only inside the demo world: to loopback when the
//! world is on loopback, to the world's own servers when it is on a class's network, and
//! never to itself. An answer is streamed through as it comes, its head rewritten to carry
//! `Via`; the proxy keeps a bounded log of what it forwarded and reports each thing on the
//! console.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::TokioResolver;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::console::{Console, ServedLine, Server};
use super::serving::{Peers, HEAD_TIMEOUT};
use super::upstream::{add_via, read_at_least, read_head, Framing, ResponseHead};

/// The header the proxy adds: how a proxy owns up to being on the path (RFC 9110 7.6.3).
pub const VIA: &str = "1.1 minibrowse-demo-proxy";
/// Largest request body forwarded.
const MAX_BODY: usize = 1024 * 1024;
/// How long the client or the site may stay silent in the middle of an exchange.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long a tunnel may carry nothing either way before it is closed.
const TUNNEL_IDLE: Duration = Duration::from_secs(60);
/// Things the log remembers (the oldest go first), and the longest target kept in it.
pub const LOG_ENTRIES: usize = 500;
const LOG_TARGET: usize = 2048;

/// One thing the proxy forwarded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyLog {
    pub client: SocketAddr,
    /// `GET` (or another method, forwarded), `CONNECT`, or `SOCKS5`.
    pub method: String,
    /// The URL, or host:port of a tunnel (cut at 2 KiB).
    pub target: String,
    /// The status relayed (0 for a tunnel that failed before any status).
    pub status: u16,
    /// Bytes from the client to the site, and back.
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// The last [`LOG_ENTRIES`] things forwarded.
#[derive(Clone, Default)]
pub struct ProxyLogBook(Arc<Mutex<LogState>>);

#[derive(Default)]
struct LogState {
    entries: VecDeque<(u64, ProxyLog)>,
    next_id: u64,
}

impl ProxyLogBook {
    /// Adds an entry (the oldest goes when full); returns its id, for [`Self::update`].
    fn push(&self, mut entry: ProxyLog) -> u64 {
        if entry.target.len() > LOG_TARGET {
            let mut cut = LOG_TARGET;
            while !entry.target.is_char_boundary(cut) {
                cut -= 1;
            }
            entry.target.truncate(cut);
            entry.target.push('…');
        }
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let id = state.next_id;
        state.next_id += 1;
        if state.entries.len() >= LOG_ENTRIES {
            state.entries.pop_front();
        }
        state.entries.push_back((id, entry));
        id
    }

    /// A tunnel closed: its byte counts, known only now. Returns the entry, if still kept.
    fn update(&self, id: u64, up: u64, down: u64) -> Option<ProxyLog> {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let (_, entry) = state.entries.iter_mut().rev().find(|(at, _)| *at == id)?;
        entry.bytes_up = up;
        entry.bytes_down = down;
        Some(entry.clone())
    }

    pub fn entries(&self) -> Vec<ProxyLog> {
        let state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        state.entries.iter().map(|(_, e)| e.clone()).collect()
    }
}

/// Where the proxy may forward to.
#[derive(Clone, Debug)]
pub struct Allowed {
    /// The proxy's own address: never a target (a tunnel to itself could chain forever).
    pub own: SocketAddr,
    /// The world's web servers.
    pub world: Vec<SocketAddr>,
    /// Whether the world is on loopback: then any loopback address is fine (the tests'
    /// own servers too), as nothing off this machine can use the proxy.
    pub loopback: bool,
}

impl Allowed {
    fn check(&self, target: SocketAddr) -> Result<(), String> {
        let mine = |ip: IpAddr| ip == self.own.ip() || ip.is_loopback() || ip.is_unspecified();
        if target.port() == self.own.port() && mine(target.ip()) {
            return Err(format!(
                "{target} is this proxy itself: a tunnel to it would only lead back here"
            ));
        }
        if self.loopback && target.ip().is_loopback() {
            return Ok(());
        }
        if self.world.contains(&target) {
            return Ok(());
        }
        Err(if self.loopback {
            format!(
                "{} is not on this machine: the demo proxy forwards only to loopback",
                target.ip()
            )
        } else {
            format!("{target} is not one of the demo world's servers: the demo proxy forwards only to them")
        })
    }
}

struct Proxy {
    resolver: TokioResolver,
    log: ProxyLogBook,
    console: Console,
    allowed: Allowed,
}

/// Serves the proxy on `listener` until the returned task is stopped; `dns` is the demo DNS
/// server.
pub async fn serve(
    listener: TcpListener,
    dns: SocketAddr,
    log: ProxyLogBook,
    console: Console,
    allowed: Allowed,
    peers: Peers,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let mut udp = ConnectionConfig::udp();
    udp.port = dns.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = dns.port();
    let config = ResolverConfig::from_parts(
        None,
        vec![],
        vec![NameServerConfig::new(dns.ip(), true, vec![udp, tcp])],
    );
    let mut opts = ResolverOpts::default();
    opts.use_hosts_file = ResolveHosts::Never;
    opts.timeout = Duration::from_secs(5);
    let resolver =
        hickory_resolver::Resolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(opts)
            .build()
            .map_err(|e| format!("the demo proxy's resolver: {e}"))?;
    let proxy = Arc::new(Proxy {
        resolver,
        log,
        console,
        allowed,
    });
    Ok(tokio::spawn(async move {
        loop {
            let Ok((client, peer)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let Some(slot) = peers.admit(peer.ip()) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let proxy = proxy.clone();
            tokio::spawn(async move {
                proxy.connection(client, peer).await;
                drop(slot);
            });
        }
    }))
}

/// What one exchange through the proxy came to, for the log and the console.
struct Outcome<'a> {
    peer: SocketAddr,
    method: &'a str,
    target: &'a str,
    status: u16,
    reason: &'a str,
    action: String,
    bytes_up: u64,
    bytes_down: u64,
}

impl Proxy {
    /// Logs one forwarded thing and reports it on the console; returns its log id.
    fn record(&self, outcome: Outcome<'_>) -> u64 {
        self.console.report(ServedLine {
            server: Server::Proxy,
            client: outcome.peer,
            method: outcome.method.to_string(),
            target: outcome.target.to_string(),
            action: outcome.action,
            status: if outcome.status == 0 {
                "failed".into()
            } else {
                format!("{} {}", outcome.status, outcome.reason)
            },
            took: None,
        });
        self.log.push(ProxyLog {
            client: outcome.peer,
            method: outcome.method.to_string(),
            target: outcome.target.to_string(),
            status: outcome.status,
            bytes_up: outcome.bytes_up,
            bytes_down: outcome.bytes_down,
        })
    }

    /// A tunnel closed: its byte counts, known only now.
    fn tunnel_closed(&self, id: u64, up: u64, down: u64) {
        let Some(entry) = self.log.update(id, up, down) else {
            return;
        };
        self.console.report(ServedLine {
            server: Server::Proxy,
            client: entry.client,
            method: entry.method,
            target: entry.target,
            action: format!("tunnel closed: {up} bytes up, {down} down, unreadable to the proxy"),
            status: "closed".into(),
            took: None,
        });
    }

    async fn connection(&self, client: TcpStream, peer: SocketAddr) {
        let mut first = [0u8; 1];
        match tokio::time::timeout(HEAD_TIMEOUT, client.peek(&mut first)).await {
            Ok(Ok(1)) if first[0] == 5 => self.socks5(client, peer).await,
            Ok(Ok(1)) => self.http(client, peer).await,
            _ => {}
        }
    }

    /// The site's address: an address literal as it is, a name from the demo DNS server;
    /// only inside the demo world.
    async fn address(&self, host: &str, port: u16) -> Result<SocketAddr, String> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip = match host.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => {
                let name = format!("{}.", host.trim_end_matches('.'));
                let found = self
                    .resolver
                    .lookup_ip(name.as_str())
                    .await
                    .map_err(|_| format!("{host} does not resolve"))?;
                found
                    .iter()
                    .next()
                    .ok_or_else(|| format!("{host} has no address"))?
            }
        };
        let addr = SocketAddr::new(ip, port);
        self.allowed.check(addr)?;
        Ok(addr)
    }

    async fn http(&self, mut client: TcpStream, peer: SocketAddr) {
        let mut buffer = Vec::new();
        loop {
            // The whole head within the head timeout, which is also the idle limit between
            // two requests of a kept-alive connection.
            let head_len = tokio::time::timeout(
                HEAD_TIMEOUT,
                read_head(&mut client, &mut buffer, HEAD_TIMEOUT),
            )
            .await;
            let Ok(Some(head_len)) = head_len else {
                return;
            };
            let head: Vec<u8> = buffer.drain(..head_len).collect();
            let mut headers = [httparse::EMPTY_HEADER; 100];
            let mut request = httparse::Request::new(&mut headers);
            if !matches!(request.parse(&head), Ok(httparse::Status::Complete(_))) {
                let _ = client
                    .write_all(&error_page(
                        400,
                        "Bad Request",
                        "that is not an HTTP request",
                    ))
                    .await;
                return;
            }
            let method = request.method.unwrap_or_default().to_string();
            let target = request.path.unwrap_or_default().to_string();
            if method == "CONNECT" {
                self.tunnel(client, peer, &target, buffer).await;
                return;
            }
            let exchange = Exchange {
                peer,
                method: &method,
                target: &target,
                headers: request.headers,
            };
            let keep = self.forward(&mut client, &exchange, &mut buffer).await;
            if !keep {
                return;
            }
        }
    }

    /// `CONNECT host:port`: a tunnel; the proxy sees the name and the byte counts only.
    async fn tunnel(&self, mut client: TcpStream, peer: SocketAddr, target: &str, early: Vec<u8>) {
        let (host, port) = match target
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        {
            Some(hp) => hp,
            None => {
                let _ = client
                    .write_all(&error_page(400, "Bad Request", "CONNECT wants host:port"))
                    .await;
                return;
            }
        };
        let upstream = match self.address(host, port).await {
            Ok(addr) => tokio::time::timeout(TIMEOUT, TcpStream::connect(addr))
                .await
                .map_err(|_| "connecting timed out".to_string())
                .and_then(|r| r.map_err(|e| e.to_string())),
            Err(e) => Err(e),
        };
        let mut upstream = match upstream {
            Ok(s) => s,
            Err(e) => {
                let _ = client.write_all(&error_page(502, "Bad Gateway", &e)).await;
                self.record(Outcome {
                    peer,
                    method: "CONNECT",
                    target,
                    status: 502,
                    reason: "Bad Gateway",
                    action: format!("no tunnel: {e}"),
                    bytes_up: 0,
                    bytes_down: 0,
                });
                return;
            }
        };
        let _ = upstream.set_nodelay(true);
        let answer = format!("HTTP/1.1 200 Connection established\r\nVia: {VIA}\r\n\r\n");
        if client.write_all(answer.as_bytes()).await.is_err()
            || upstream.write_all(&early).await.is_err()
        {
            return;
        }
        let id = self.record(Outcome {
            peer,
            method: "CONNECT",
            target,
            status: 200,
            reason: "Connection established",
            action: format!("tunnel opened to {target}"),
            bytes_up: 0,
            bytes_down: 0,
        });
        let (up, down) = relay_until_idle(client, upstream).await;
        self.tunnel_closed(id, up + early.len() as u64, down);
    }

    /// An absolute-form request: fetched for the client, its answer streamed back; returns
    /// whether the client's connection can carry another request.
    async fn forward(
        &self,
        client: &mut TcpStream,
        exchange: &Exchange<'_>,
        buffer: &mut Vec<u8>,
    ) -> bool {
        let url = match url::Url::parse(exchange.target) {
            Ok(url) if url.scheme() == "http" => url,
            _ => {
                let _ = client
                    .write_all(&error_page(400, "Bad Request", "this is a proxy: ask it for a whole http:// URL (absolute form), or CONNECT for https"))
                    .await;
                return false;
            }
        };
        if exchange.header("transfer-encoding").is_some() {
            let _ = client
                .write_all(&error_page(
                    411,
                    "Length Required",
                    "the demo proxy forwards only bodies with a Content-Length",
                ))
                .await;
            return false;
        }
        let body_len: usize = exchange
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if body_len > MAX_BODY {
            let _ = client
                .write_all(&error_page(
                    413,
                    "Content Too Large",
                    "the demo proxy forwards bodies of 1 MiB at most",
                ))
                .await;
            return false;
        }
        if read_at_least(client, buffer, body_len, TIMEOUT)
            .await
            .is_none()
        {
            return false;
        }
        let mut request = exchange.upstream_head(&url);
        request.extend(buffer.drain(..body_len));
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let asked = async {
            let addr = self.address(&host, port).await?;
            let mut upstream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            let _ = upstream.set_nodelay(true);
            upstream
                .write_all(&request)
                .await
                .map_err(|e| e.to_string())?;
            let mut answer = Vec::new();
            let head_len = read_head(&mut upstream, &mut answer, TIMEOUT)
                .await
                .ok_or_else(|| "the site's answer has no complete head".to_string())?;
            Ok::<_, String>((addr, upstream, answer, head_len))
        };
        let fail = |status, reason, why: String| Outcome {
            peer: exchange.peer,
            method: exchange.method,
            target: exchange.target,
            status,
            reason,
            action: why,
            bytes_up: body_len as u64,
            bytes_down: 0,
        };
        let (addr, mut upstream, mut answer, head_len) =
            match tokio::time::timeout(TIMEOUT, asked).await {
                Ok(Ok(asked)) => asked,
                Ok(Err(e)) => {
                    let _ = client.write_all(&error_page(502, "Bad Gateway", &e)).await;
                    self.record(fail(502, "Bad Gateway", format!("could not forward: {e}")));
                    return false;
                }
                Err(_) => {
                    let why = "the site did not answer in time";
                    let _ = client
                        .write_all(&error_page(504, "Gateway Timeout", why))
                        .await;
                    self.record(fail(504, "Gateway Timeout", why.to_string()));
                    return false;
                }
            };
        let Some(head) = ResponseHead::parse(&answer[..head_len], exchange.method) else {
            let why = "the site's answer was not HTTP";
            let _ = client.write_all(&error_page(502, "Bad Gateway", why)).await;
            self.record(fail(502, "Bad Gateway", why.to_string()));
            return false;
        };
        // A body with a known end lets the client's connection carry the next request;
        // one that ends with the site's connection ends the client's too.
        let keep_alive = matches!(head.framing, Framing::Empty | Framing::Length(_));
        let relayed_head = relayed_head(&head, keep_alive);
        let early: Vec<u8> = answer.drain(head_len..).collect();
        let limit = match head.framing {
            Framing::Empty => Some(0),
            Framing::Length(n) => Some(n),
            Framing::Chunked | Framing::UntilClose => None,
        };
        let relayed = async {
            client.write_all(&relayed_head).await?;
            relay_body(&early, &mut upstream, client, limit).await
        };
        let (sent, body_bytes) = match relayed.await {
            Ok(n) => (true, n),
            Err(_) => (false, 0),
        };
        self.record(Outcome {
            peer: exchange.peer,
            method: exchange.method,
            target: exchange.target,
            status: head.status,
            reason: &head.reason,
            action: format!("forwarded to {host}:{port} ({addr}), answer streamed back"),
            bytes_up: body_len as u64,
            bytes_down: relayed_head.len() as u64 + body_bytes,
        });
        sent && keep_alive
    }

    /// SOCKS5 (RFC 1928), no authentication: CONNECT to a name or an address.
    async fn socks5(&self, mut client: TcpStream, peer: SocketAddr) {
        let result = async {
            let mut greeting = [0u8; 2];
            client.read_exact(&mut greeting).await.ok()?;
            let mut methods = vec![0u8; usize::from(greeting[1])];
            client.read_exact(&mut methods).await.ok()?;
            if !methods.contains(&0) {
                let _ = client.write_all(&[5, 0xff]).await;
                return None;
            }
            client.write_all(&[5, 0]).await.ok()?;
            let mut request = [0u8; 4];
            client.read_exact(&mut request).await.ok()?;
            let host = match request[3] {
                1 => {
                    let mut ip = [0u8; 4];
                    client.read_exact(&mut ip).await.ok()?;
                    IpAddr::from(ip).to_string()
                }
                4 => {
                    let mut ip = [0u8; 16];
                    client.read_exact(&mut ip).await.ok()?;
                    IpAddr::from(ip).to_string()
                }
                3 => {
                    let mut len = [0u8; 1];
                    client.read_exact(&mut len).await.ok()?;
                    let mut name = vec![0u8; usize::from(len[0])];
                    client.read_exact(&mut name).await.ok()?;
                    String::from_utf8_lossy(&name).into_owned()
                }
                _ => return None,
            };
            let mut port = [0u8; 2];
            client.read_exact(&mut port).await.ok()?;
            Some((request[1], host, u16::from_be_bytes(port)))
        };
        let Ok(Some((command, host, port))) = tokio::time::timeout(HEAD_TIMEOUT, result).await
        else {
            return;
        };
        let target = crate::net::proxy::authority(&host, port);
        let reply = |code: u8| [5, code, 0, 1, 0, 0, 0, 0, 0, 0];
        if command != 1 {
            let _ = client.write_all(&reply(7)).await;
            return;
        }
        let upstream = match self.address(&host, port).await {
            Ok(addr) => match tokio::time::timeout(TIMEOUT, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => Ok(s),
                Ok(Err(e)) => Err((5u8, e.to_string())),
                Err(_) => Err((5u8, "connecting timed out".to_string())),
            },
            Err(e) => Err((4u8, e)),
        };
        let upstream = match upstream {
            Ok(s) => s,
            Err((code, why)) => {
                let _ = client.write_all(&reply(code)).await;
                self.record(Outcome {
                    peer,
                    method: "SOCKS5",
                    target: &target,
                    status: 0,
                    reason: "",
                    action: format!("no tunnel: {why}"),
                    bytes_up: 0,
                    bytes_down: 0,
                });
                return;
            }
        };
        let _ = upstream.set_nodelay(true);
        if client.write_all(&reply(0)).await.is_err() {
            return;
        }
        let id = self.record(Outcome {
            peer,
            method: "SOCKS5",
            target: &target,
            status: 200,
            reason: "granted",
            action: format!("tunnel opened to {target}"),
            bytes_up: 0,
            bytes_down: 0,
        });
        let (up, down) = relay_until_idle(client, upstream).await;
        self.tunnel_closed(id, up, down);
    }
}

/// One request the proxy is to forward.
struct Exchange<'a> {
    peer: SocketAddr,
    method: &'a str,
    target: &'a str,
    headers: &'a [httparse::Header<'a>],
}

impl Exchange<'_> {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    }

    /// The request as the site sees it: origin form, hop-by-hop headers gone, Via added.
    fn upstream_head(&self, url: &url::Url) -> Vec<u8> {
        let mut path = url.path().to_string();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        let mut head = format!("{} {path} HTTP/1.1\r\n", self.method).into_bytes();
        for h in self.headers {
            if super::upstream::is_hop_by_hop(h.name) || h.name.eq_ignore_ascii_case("via") {
                continue;
            }
            head.extend_from_slice(h.name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(h.value);
            head.extend_from_slice(b"\r\n");
        }
        let before = self
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("via"))
            .map(|h| h.value);
        let via = add_via(before, VIA);
        head.extend_from_slice(format!("Via: {via}\r\nConnection: close\r\n\r\n").as_bytes());
        head
    }
}

/// The site's response head with `Via` added and its `Connection` headers dropped;
/// `connection: close` when the body ends only with the connection.
fn relayed_head(head: &ResponseHead, keep_alive: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", head.status, head.reason).into_bytes();
    let mut via_before = None;
    for (name, value) in &head.headers {
        if name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("keep-alive") {
            continue;
        }
        if name.eq_ignore_ascii_case("via") {
            via_before = Some(value.as_slice());
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("via: {}\r\n", add_via(via_before, VIA)).as_bytes());
    if !keep_alive {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Copies the body from `upstream` to `client` as it comes: `early` first (read with the
/// head), then up to `limit` bytes (None: until the site closes). Every read and every write
/// must make progress within [`TIMEOUT`]: a client that stops reading costs its socket
/// buffers, never a growing copy. Returns the bytes relayed.
async fn relay_body(
    early: &[u8],
    upstream: &mut TcpStream,
    client: &mut TcpStream,
    limit: Option<u64>,
) -> std::io::Result<u64> {
    let timed_out = || std::io::Error::new(std::io::ErrorKind::TimedOut, "no progress");
    let mut left = limit.unwrap_or(u64::MAX);
    let first = &early[..early.len().min(usize::try_from(left).unwrap_or(usize::MAX))];
    tokio::time::timeout(TIMEOUT, client.write_all(first))
        .await
        .map_err(|_| timed_out())??;
    left -= first.len() as u64;
    let mut relayed = first.len() as u64;
    let mut chunk = vec![0u8; 16 * 1024];
    while left > 0 {
        let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = tokio::time::timeout(TIMEOUT, upstream.read(&mut chunk[..want]))
            .await
            .map_err(|_| timed_out())??;
        if n == 0 {
            return match limit {
                None => Ok(relayed),
                Some(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the site closed before the end of the body",
                )),
            };
        }
        tokio::time::timeout(TIMEOUT, client.write_all(&chunk[..n]))
            .await
            .map_err(|_| timed_out())??;
        left -= n as u64;
        relayed += n as u64;
    }
    Ok(relayed)
}

/// A stream that notes the time of its last read or write (for a tunnel's idle limit) and
/// counts the bytes read from it.
struct Watched<S> {
    inner: S,
    last: Arc<AtomicU64>,
    origin: Instant,
    read: u64,
}

impl<S> Watched<S> {
    fn touch(&self) {
        self.last
            .store(self.origin.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if polled.is_ready() {
            self.read += (buf.filled().len() - before) as u64;
            self.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if polled.is_ready() {
            self.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Relays a tunnel both ways until either side closes or it carries nothing for
/// [`TUNNEL_IDLE`]; returns the bytes up and down.
async fn relay_until_idle(client: TcpStream, upstream: TcpStream) -> (u64, u64) {
    let origin = Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let watched = |inner| Watched {
        inner,
        last: last.clone(),
        origin,
        read: 0,
    };
    let (mut client, mut upstream) = (watched(client), watched(upstream));
    let idle = async {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let quiet = origin
                .elapsed()
                .saturating_sub(Duration::from_millis(last.load(Ordering::Relaxed)));
            if quiet > TUNNEL_IDLE {
                return;
            }
        }
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
        () = idle => {}
    }
    (client.read, upstream.read)
}

fn error_page(status: u16, reason: &str, why: &str) -> Vec<u8> {
    let body = format!("minibrowse demo proxy: {why}\n");
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nvia: {VIA}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
