//! The demo world's forward proxy (`minibrowse serve --proxy-port N`): what a school's proxy
//! does, in a hundred lines, so a class can watch one without any other software.
//!
//! On one port it speaks both proxy protocols:
//! - HTTP: `GET http://host:port/path` (absolute form) is fetched for the client, with a
//!   `Via: 1.1 minibrowse-demo-proxy` header added both ways; `CONNECT host:port` opens a
//!   tunnel, answered `200 Connection established`, after which it relays bytes it cannot read;
//! - SOCKS5 (a first byte of 5): a tunnel, to a name or an address.
//!
//! It looks names up in the demo DNS server (so the DNS server's log shows the proxy
//! asking, not the browser), forwards only to loopback addresses, buffers each answer
//! before relaying it, and logs everything it forwarded.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::TokioResolver;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The header the proxy adds: how a proxy owns up to being on the path (RFC 9110 7.6.3).
pub const VIA: &str = "1.1 minibrowse-demo-proxy";
/// Largest request or response head, and largest answer buffered.
const MAX_HEAD: usize = 64 * 1024;
const MAX_ANSWER: usize = 64 * 1024 * 1024;
/// How long one exchange (or an idle client) may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// One thing the proxy forwarded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyLog {
    pub client: SocketAddr,
    /// `GET` (or another method, forwarded), `CONNECT`, or `SOCKS5`.
    pub method: String,
    /// The URL, or host:port of a tunnel.
    pub target: String,
    /// The status relayed (0 for a tunnel that failed before any status).
    pub status: u16,
    /// Bytes from the client to the site, and back.
    pub bytes_up: u64,
    pub bytes_down: u64,
}

struct Proxy {
    resolver: TokioResolver,
    log: Arc<Mutex<Vec<ProxyLog>>>,
    print: bool,
}

/// Serves the proxy on `listener` until the runtime stops; `dns` is the demo DNS server.
pub async fn serve(
    listener: TcpListener,
    dns: SocketAddr,
    log: Arc<Mutex<Vec<ProxyLog>>>,
    print: bool,
) -> Result<(), String> {
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
        print,
    });
    tokio::spawn(async move {
        loop {
            let Ok((client, peer)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = client.set_nodelay(true);
            let proxy = proxy.clone();
            tokio::spawn(async move { proxy.connection(client, peer).await });
        }
    });
    Ok(())
}

impl Proxy {
    /// Logs (and with `print`, prints) one forwarded thing; returns its place in the log.
    fn record(&self, entry: ProxyLog) -> usize {
        if self.print {
            println!(
                "{}",
                crate::text::escape_line(&format!(
                    "proxy: {} {} {} → {} ({} bytes up, {} down)",
                    entry.client,
                    entry.method,
                    entry.target,
                    if entry.status == 0 {
                        "failed".to_string()
                    } else {
                        entry.status.to_string()
                    },
                    entry.bytes_up,
                    entry.bytes_down
                ))
            );
        }
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        log.push(entry);
        log.len() - 1
    }

    /// A tunnel closed: its byte counts, known only now.
    fn tunnel_closed(&self, at: usize, up: u64, down: u64) {
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = log.get_mut(at) {
            entry.bytes_up = up;
            entry.bytes_down = down;
            if self.print {
                println!(
                    "{}",
                    crate::text::escape_line(&format!(
                        "proxy: {} {} {} closed ({up} bytes up, {down} down, unreadable to the proxy)",
                        entry.client, entry.method, entry.target
                    ))
                );
            }
        }
    }

    async fn connection(&self, client: TcpStream, peer: SocketAddr) {
        let mut first = [0u8; 1];
        match tokio::time::timeout(TIMEOUT, client.peek(&mut first)).await {
            Ok(Ok(1)) if first[0] == 5 => self.socks5(client, peer).await,
            Ok(Ok(1)) => self.http(client, peer).await,
            _ => {}
        }
    }

    /// The site's address: an address literal as it is, a name from the demo DNS server.
    /// Only loopback: the demo proxy never sends traffic off this machine.
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
        if !ip.is_loopback() {
            return Err(format!(
                "{ip} is not on this machine: the demo proxy forwards only to loopback"
            ));
        }
        Ok(SocketAddr::new(ip, port))
    }

    async fn http(&self, mut client: TcpStream, peer: SocketAddr) {
        let mut buffer = Vec::new();
        loop {
            let Some(head_len) = read_head(&mut client, &mut buffer).await else {
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
            let keep = self
                .forward(
                    &mut client,
                    peer,
                    &method,
                    &target,
                    request.headers,
                    &mut buffer,
                )
                .await;
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
                self.record(ProxyLog {
                    client: peer,
                    method: "CONNECT".into(),
                    target: target.into(),
                    status: 502,
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
        let at = self.record(ProxyLog {
            client: peer,
            method: "CONNECT".into(),
            target: target.into(),
            status: 200,
            bytes_up: 0,
            bytes_down: 0,
        });
        let (up, down) = tokio::io::copy_bidirectional(&mut client, &mut upstream)
            .await
            .unwrap_or((0, 0));
        self.tunnel_closed(at, up + early.len() as u64, down);
    }

    /// An absolute-form request: fetched for the client; returns whether to keep going.
    async fn forward(
        &self,
        client: &mut TcpStream,
        peer: SocketAddr,
        method: &str,
        target: &str,
        headers: &[httparse::Header<'_>],
        buffer: &mut Vec<u8>,
    ) -> bool {
        let url = match url::Url::parse(target) {
            Ok(url) if url.scheme() == "http" => url,
            _ => {
                let _ = client
                    .write_all(&error_page(400, "Bad Request", "this is a proxy: ask it for a whole http:// URL (absolute form), or CONNECT for https"))
                    .await;
                return false;
            }
        };
        let header = |name: &str| {
            headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
        };
        if header("transfer-encoding").is_some() {
            let _ = client
                .write_all(&error_page(
                    411,
                    "Length Required",
                    "the demo proxy forwards only bodies with a Content-Length",
                ))
                .await;
            return false;
        }
        let body_len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if body_len > MAX_ANSWER || read_at_least(client, buffer, body_len).await.is_none() {
            return false;
        }
        let body: Vec<u8> = buffer.drain(..body_len).collect();
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let mut path = url.path().to_string();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        // The request as the site sees it: origin form, hop-by-hop headers gone, Via added.
        let mut upstream_head = format!("{method} {path} HTTP/1.1\r\n");
        for h in headers {
            let name = h.name.to_ascii_lowercase();
            if matches!(
                name.as_str(),
                "proxy-authorization" | "proxy-connection" | "connection" | "keep-alive"
            ) {
                continue;
            }
            upstream_head.push_str(&format!(
                "{}: {}\r\n",
                h.name,
                String::from_utf8_lossy(h.value)
            ));
        }
        upstream_head.push_str(&format!("Via: {VIA}\r\nConnection: close\r\n\r\n"));
        let answer = async {
            let addr = self.address(&host, port).await?;
            let mut upstream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            let _ = upstream.set_nodelay(true);
            let mut request = upstream_head.into_bytes();
            request.extend_from_slice(&body);
            upstream
                .write_all(&request)
                .await
                .map_err(|e| e.to_string())?;
            let mut answer = Vec::new();
            (&mut upstream)
                .take(MAX_ANSWER as u64)
                .read_to_end(&mut answer)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<Vec<u8>, String>(answer)
        };
        let answer = match tokio::time::timeout(TIMEOUT, answer).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => {
                let _ = client.write_all(&error_page(502, "Bad Gateway", &e)).await;
                self.record(ProxyLog {
                    client: peer,
                    method: method.into(),
                    target: target.into(),
                    status: 502,
                    bytes_up: body_len as u64,
                    bytes_down: 0,
                });
                return true;
            }
            Err(_) => {
                let _ = client
                    .write_all(&error_page(
                        504,
                        "Gateway Timeout",
                        "the site did not answer in time",
                    ))
                    .await;
                return false;
            }
        };
        let Some((relayed, status, framed)) = with_via(&answer) else {
            let _ = client
                .write_all(&error_page(
                    502,
                    "Bad Gateway",
                    "the site's answer was not HTTP",
                ))
                .await;
            return false;
        };
        let sent = client.write_all(&relayed).await.is_ok();
        self.record(ProxyLog {
            client: peer,
            method: method.into(),
            target: target.into(),
            status,
            bytes_up: body_len as u64,
            bytes_down: answer.len() as u64,
        });
        // A body that ends only when the connection does ends the client's connection too.
        sent && framed
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
        let Ok(Some((command, host, port))) = tokio::time::timeout(TIMEOUT, result).await else {
            return;
        };
        let target = crate::net::proxy::authority(&host, port);
        let reply = |code: u8| [5, code, 0, 1, 0, 0, 0, 0, 0, 0];
        if command != 1 {
            let _ = client.write_all(&reply(7)).await;
            return;
        }
        let upstream = match self.address(&host, port).await {
            Ok(addr) => TcpStream::connect(addr).await.map_err(|_| 5u8),
            Err(_) => Err(4u8),
        };
        let mut upstream = match upstream {
            Ok(s) => s,
            Err(code) => {
                let _ = client.write_all(&reply(code)).await;
                self.record(ProxyLog {
                    client: peer,
                    method: "SOCKS5".into(),
                    target,
                    status: 0,
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
        let at = self.record(ProxyLog {
            client: peer,
            method: "SOCKS5".into(),
            target,
            status: 200,
            bytes_up: 0,
            bytes_down: 0,
        });
        let (up, down) = tokio::io::copy_bidirectional(&mut client, &mut upstream)
            .await
            .unwrap_or((0, 0));
        self.tunnel_closed(at, up, down);
    }
}

/// Reads until `buffer` holds a whole head; returns its length. None: closed, idle, too big.
async fn read_head(client: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<usize> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(end + 4);
        }
        if buffer.len() > MAX_HEAD {
            return None;
        }
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(TIMEOUT, client.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

async fn read_at_least(client: &mut TcpStream, buffer: &mut Vec<u8>, len: usize) -> Option<()> {
    while buffer.len() < len {
        let mut chunk = [0u8; 8192];
        let n = tokio::time::timeout(TIMEOUT, client.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Some(())
}

/// The site's answer with `Via` added and its `Connection` header dropped; its status, and
/// whether its body is framed (a length or chunks) so the client connection can stay open.
fn with_via(answer: &[u8]) -> Option<(Vec<u8>, u16, bool)> {
    let end = answer.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let mut headers = [httparse::EMPTY_HEADER; 100];
    let mut response = httparse::Response::new(&mut headers);
    response.parse(&answer[..end]).ok()?;
    let status = response.code?;
    let framed = response.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("content-length")
            || (h.name.eq_ignore_ascii_case("transfer-encoding")
                && String::from_utf8_lossy(h.value)
                    .to_ascii_lowercase()
                    .contains("chunked"))
    }) || status == 204
        || status == 304;
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\n",
        response.reason.unwrap_or_default()
    );
    for h in response.headers.iter() {
        if h.name.eq_ignore_ascii_case("connection") || h.name.eq_ignore_ascii_case("keep-alive") {
            continue;
        }
        head.push_str(&format!(
            "{}: {}\r\n",
            h.name,
            String::from_utf8_lossy(h.value)
        ));
    }
    head.push_str(&format!("via: {VIA}\r\n"));
    if !framed {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(&answer[end..]);
    Some((out, status, framed))
}

fn error_page(status: u16, reason: &str, why: &str) -> Vec<u8> {
    let body = format!("minibrowse demo proxy: {why}\n");
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nvia: {VIA}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
