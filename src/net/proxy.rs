//! Proxies: a computer between the browser and the web (a school's filter, a company's gate).
//!
//! Which proxy, if any, comes from `--proxy URL` or the usual environment variables
//! (`http_proxy`, `https_proxy`, `all_proxy`, `no_proxy`, in either case, lowercase first),
//! as curl reads them. Three ways through one:
//! - an HTTP proxy and an `http:` URL: the request goes to the proxy with the whole URL in
//!   its request line (absolute form, RFC 9112 section 3.2.2), and the proxy fetches it;
//! - an HTTP proxy and an `https:` URL: `CONNECT host:port` asks the proxy for a tunnel
//!   (RFC 9110 section 9.3.6); TLS then runs through it, end to end, unreadable to the proxy;
//! - a SOCKS5 proxy (RFC 1928): a tunnel below HTTP for any URL. `socks5h://` lets the proxy
//!   look the name up; `socks5://` makes the browser do it and send the address.
//!
//! In every case but `socks5://` the proxy, not the browser, asks DNS for the site's name.

use std::io::{self, Read, Write};
use std::net::{IpAddr, TcpStream};
use std::time::Duration;

use base64::Engine;
use url::Url;

/// How to talk to a proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    Http,
    /// `remote_dns`: `socks5h://` (the proxy resolves names) rather than `socks5://`.
    Socks5 {
        remote_dns: bool,
    },
}

/// One proxy server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    pub kind: ProxyKind,
    pub host: String,
    pub port: u16,
    /// user, password (Basic for HTTP proxies, RFC 1929 for SOCKS5).
    pub auth: Option<(String, String)>,
    /// Where this proxy came from: `--proxy`, `https_proxy`, ...
    pub source: String,
}

impl Proxy {
    /// Parses `http://host:port`, `socks5h://user:pass@host:port`, or a bare `host:port`
    /// (taken as HTTP, as curl does).
    pub fn parse(text: &str, source: &str) -> Result<Proxy, String> {
        let text = text.trim();
        let with_scheme = if text.contains("://") {
            text.to_string()
        } else {
            format!("http://{text}")
        };
        let url = Url::parse(&with_scheme)
            .map_err(|e| format!("{source}: {text:?} is not a proxy URL ({e})"))?;
        let (kind, default_port) = match url.scheme() {
            "http" => (ProxyKind::Http, 80),
            "socks5" => (ProxyKind::Socks5 { remote_dns: false }, 1080),
            "socks5h" => (ProxyKind::Socks5 { remote_dns: true }, 1080),
            "https" => {
                return Err(format!(
                    "{source}: HTTPS to the proxy itself (https://) is not supported; use http:// or socks5h://"
                ))
            }
            other => {
                return Err(format!(
                    "{source}: the {other}: scheme is not a proxy kind minibrowse speaks (http, socks5, socks5h)"
                ))
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("{source}: {text:?} names no proxy host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let auth = (!url.username().is_empty()).then(|| {
            (
                percent_decode(url.username()),
                percent_decode(url.password().unwrap_or_default()),
            )
        });
        Ok(Proxy {
            kind,
            host,
            port: url.port().unwrap_or(default_port),
            auth,
            source: source.to_string(),
        })
    }

    /// The proxy as a URL for people, without its password.
    pub fn display(&self) -> String {
        let scheme = match self.kind {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 { remote_dns: false } => "socks5",
            ProxyKind::Socks5 { remote_dns: true } => "socks5h",
        };
        let user = self
            .auth
            .as_ref()
            .map(|(u, _)| format!("{u}:***@"))
            .unwrap_or_default();
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{scheme}://{user}{host}:{}", self.port)
    }

    /// `Proxy-Authorization` for an HTTP proxy with a user name.
    pub fn authorization(&self) -> Option<String> {
        let (user, password) = self.auth.as_ref()?;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Some(format!("Basic {token}"))
    }

    /// Whether the proxy, not the browser, looks up the site's name.
    pub fn resolves_names(&self) -> bool {
        !matches!(self.kind, ProxyKind::Socks5 { remote_dns: false })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The session's proxy settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proxies {
    http: Option<Proxy>,
    https: Option<Proxy>,
    /// Names (and their subdomains), addresses, or `*`, that go direct.
    no_proxy: Vec<String>,
}

impl Proxies {
    /// No proxy at all.
    pub fn none() -> Proxies {
        Proxies::default()
    }

    /// From `--proxy` (wins over the environment) and the environment variables, read
    /// through `env` (lowercase first, then uppercase, like curl).
    pub fn from_settings(
        flag: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Proxies, String> {
        let var = |name: &str| {
            [name.to_string(), name.to_ascii_uppercase()]
                .into_iter()
                .find_map(|n| env(&n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
        };
        let no_proxy = var("no_proxy")
            .map(|(_, v)| {
                v.split(',')
                    .map(|s| s.trim().trim_start_matches('.').to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(flag) = flag {
            let proxy = Proxy::parse(flag, "--proxy")?;
            return Ok(Proxies {
                http: Some(proxy.clone()),
                https: Some(proxy),
                no_proxy,
            });
        }
        let parse = |found: Option<(String, String)>| {
            found
                .map(|(name, value)| Proxy::parse(&value, &name))
                .transpose()
        };
        let all = parse(var("all_proxy"))?;
        Ok(Proxies {
            http: parse(var("http_proxy"))?.or_else(|| all.clone()),
            https: parse(var("https_proxy"))?.or(all),
            no_proxy,
        })
    }

    /// A single proxy for every URL (tests, and the same as `--proxy`).
    pub fn all(proxy: Proxy) -> Proxies {
        Proxies {
            http: Some(proxy.clone()),
            https: Some(proxy),
            no_proxy: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    /// The proxy a request for `scheme://host:port` goes through, if any.
    pub fn for_target(&self, scheme: &str, host: &str, port: u16) -> Option<&Proxy> {
        let proxy = match scheme {
            "http" | "ws" => self.http.as_ref(),
            "https" | "wss" => self.https.as_ref(),
            _ => None,
        }?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let bypass = self.no_proxy.iter().any(|rule| {
            let (name, rule_port) = match rule.rsplit_once(':') {
                Some((n, p)) if !n.contains(':') && p.parse::<u16>().is_ok() => {
                    (n, p.parse::<u16>().ok())
                }
                _ => (rule.as_str(), None),
            };
            let port_ok = rule_port.is_none_or(|p| p == port);
            port_ok && (name == "*" || host == name || host.ends_with(&format!(".{name}")))
        });
        (!bypass).then_some(proxy)
    }
}

/// What a tunnel's setup said, for the trace.
#[derive(Clone, Debug, Default)]
pub struct TunnelReport {
    /// What the browser sent (the CONNECT head, or the SOCKS messages in words).
    pub sent: String,
    /// What the proxy answered.
    pub received: String,
}

/// Asks an HTTP proxy for a tunnel to `host:port` (CONNECT). On success the stream carries
/// bytes to and from the target.
pub fn http_connect(
    stream: &mut TcpStream,
    proxy: &Proxy,
    host: &str,
    port: u16,
    budget: Option<Duration>,
) -> Result<TunnelReport, String> {
    stream
        .set_read_timeout(budget)
        .and_then(|_| stream.set_write_timeout(budget))
        .map_err(|e| e.to_string())?;
    let authority = authority(host, port);
    let mut head = format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: minibrowse/{}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(auth) = proxy.authorization() {
        head.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.flush())
        .map_err(|e| format!("sending CONNECT to the proxy failed: {e}"))?;
    let answer = read_head(stream).map_err(|e| match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            "the proxy did not answer the CONNECT in time".to_string()
        }
        _ => format!("the proxy's answer to CONNECT broke off: {e}"),
    })?;
    let shown = head.replace(
        &proxy.authorization().unwrap_or_else(|| "\u{0}".into()),
        "Basic ***",
    );
    let report = TunnelReport {
        sent: shown,
        received: answer.clone(),
    };
    let status_line = answer.lines().next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if !(200..300).contains(&status) {
        let hint = match status {
            407 => {
                " (the proxy wants a user name and password: --proxy http://user:pass@host:port)"
            }
            403 => " (the proxy's rules forbid this destination or port)",
            502..=504 => " (the proxy could not reach the site)",
            _ => "",
        };
        return Err(format!(
            "the proxy refused the tunnel to {authority}: {}{hint}",
            status_line.trim()
        ));
    }
    Ok(report)
}

/// The response head of a CONNECT, read byte by byte so nothing of the tunnel is consumed.
fn read_head(stream: &mut TcpStream) -> io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err(io::Error::other("the head is larger than 16 KiB"));
        }
        match stream.read(&mut byte)? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            _ => head.push(byte[0]),
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// Sets up a SOCKS5 tunnel to `host:port` (RFC 1928), sending the name (socks5h) or the
/// address the browser looked up (`address`, socks5).
pub fn socks5_connect(
    stream: &mut TcpStream,
    proxy: &Proxy,
    host: &str,
    address: Option<IpAddr>,
    port: u16,
    budget: Option<Duration>,
) -> Result<TunnelReport, String> {
    stream
        .set_read_timeout(budget)
        .and_then(|_| stream.set_write_timeout(budget))
        .map_err(|e| e.to_string())?;
    let io = |e: io::Error| format!("the SOCKS5 exchange with the proxy broke off: {e}");
    let mut sent = Vec::new();
    let mut received = Vec::new();
    // Greeting: version 5, the methods we offer (no authentication; user/password if we have one).
    let methods: &[u8] = if proxy.auth.is_some() { &[0, 2] } else { &[0] };
    let mut greeting = vec![5, methods.len() as u8];
    greeting.extend_from_slice(methods);
    stream.write_all(&greeting).map_err(io)?;
    sent.push(format!(
        "greeting: SOCKS version 5, methods {}",
        if proxy.auth.is_some() {
            "none, user/password"
        } else {
            "none"
        }
    ));
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).map_err(io)?;
    if choice[0] != 5 {
        return Err(format!(
            "{}:{} does not speak SOCKS5 (it answered version {})",
            proxy.host, proxy.port, choice[0]
        ));
    }
    match (choice[1], &proxy.auth) {
        (0, _) => received.push("method: no authentication".to_string()),
        (2, Some((user, password))) => {
            received.push("method: user/password".to_string());
            let mut auth = vec![1, user.len().min(255) as u8];
            auth.extend_from_slice(&user.as_bytes()[..user.len().min(255)]);
            auth.push(password.len().min(255) as u8);
            auth.extend_from_slice(&password.as_bytes()[..password.len().min(255)]);
            stream.write_all(&auth).map_err(io)?;
            sent.push(format!("login: user {user}, password ***"));
            let mut status = [0u8; 2];
            stream.read_exact(&mut status).map_err(io)?;
            if status[1] != 0 {
                return Err("the SOCKS5 proxy refused the user name and password".into());
            }
            received.push("login accepted".to_string());
        }
        (0xff, _) => {
            return Err(
                "the SOCKS5 proxy accepts none of our methods (it may want a user and password)"
                    .into(),
            )
        }
        (other, _) => return Err(format!("the SOCKS5 proxy chose an unknown method {other}")),
    }
    // CONNECT request: by name (type 3) or by address (1: IPv4, 4: IPv6).
    let mut request = vec![5, 1, 0];
    let target = match address {
        Some(IpAddr::V4(ip)) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
            ip.to_string()
        }
        Some(IpAddr::V6(ip)) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
            ip.to_string()
        }
        None => {
            let name = &host.as_bytes()[..host.len().min(255)];
            request.push(3);
            request.push(name.len() as u8);
            request.extend_from_slice(name);
            host.to_string()
        }
    };
    request.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&request).map_err(io)?;
    sent.push(format!(
        "connect to {} port {port}{}",
        target,
        if address.is_none() {
            " (by name: the proxy looks it up)"
        } else {
            " (by address)"
        }
    ));
    let mut reply = [0u8; 4];
    stream.read_exact(&mut reply).map_err(io)?;
    if reply[1] != 0 {
        return Err(format!(
            "the SOCKS5 proxy could not connect to {target}:{port}: {}",
            socks_reply(reply[1])
        ));
    }
    // The bound address that follows: skip it.
    let skip = match reply[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).map_err(io)?;
            usize::from(len[0]) + 2
        }
        other => {
            return Err(format!(
                "the SOCKS5 proxy sent an unknown address type {other}"
            ))
        }
    };
    let mut rest = vec![0u8; skip];
    stream.read_exact(&mut rest).map_err(io)?;
    received.push("reply: succeeded, the tunnel is open".to_string());
    Ok(TunnelReport {
        sent: sent.join("\n"),
        received: received.join("\n"),
    })
}

fn socks_reply(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "not allowed by the proxy's rules",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown error",
    }
}

/// `host:port`, with brackets around an IPv6 address.
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Rewrites a request head for an HTTP proxy: the request line carries the whole URL
/// (`GET http://host:port/path HTTP/1.1`), and `Proxy-Authorization` follows it when the
/// proxy has a user. Returns None when `head` does not start with an origin-form line.
pub fn absolute_form(head: &[u8], origin: &str, authorization: Option<&str>) -> Option<Vec<u8>> {
    let line_end = head.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&head[..line_end]).ok()?;
    let mut parts = line.splitn(3, ' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if !target.starts_with('/') {
        return None;
    }
    let mut out = format!("{method} {origin}{target} {version}\r\n").into_bytes();
    if let Some(auth) = authorization {
        out.extend_from_slice(format!("proxy-authorization: {auth}\r\n").as_bytes());
    }
    out.extend_from_slice(&head[line_end + 2..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn environment_variables_in_either_case_and_no_proxy() {
        let proxies = Proxies::from_settings(
            None,
            env(&[
                ("HTTP_PROXY", "proxy.school.test:3128"),
                ("https_proxy", "http://user:p%40ss@secure-proxy.test:8080"),
                ("NO_PROXY", "intranet.test, .local.test,localhost:8080"),
            ]),
        )
        .expect("settings");
        let http = proxies
            .for_target("http", "www.example.test", 80)
            .expect("http proxy");
        assert_eq!((http.host.as_str(), http.port), ("proxy.school.test", 3128));
        assert_eq!(http.source, "HTTP_PROXY");
        let https = proxies
            .for_target("https", "www.example.test", 443)
            .expect("https proxy");
        assert_eq!(https.auth, Some(("user".into(), "p@ss".into())));
        assert_eq!(https.display(), "http://user:***@secure-proxy.test:8080");
        assert!(proxies.for_target("http", "intranet.test", 80).is_none());
        assert!(proxies
            .for_target("http", "wiki.intranet.test", 80)
            .is_none());
        assert!(proxies.for_target("http", "a.local.test", 80).is_none());
        assert!(proxies.for_target("http", "localhost", 8080).is_none());
        assert!(proxies.for_target("http", "localhost", 8081).is_some());
        assert!(proxies.for_target("http", "notintranet.test", 80).is_some());
    }

    #[test]
    fn flag_wins_and_all_proxy_fills_in() {
        let proxies = Proxies::from_settings(
            Some("socks5h://127.0.0.1:1080"),
            env(&[("http_proxy", "http://other:1")]),
        )
        .expect("settings");
        let p = proxies.for_target("http", "a.test", 80).expect("proxy");
        assert_eq!(p.kind, ProxyKind::Socks5 { remote_dns: true });
        assert_eq!(p.source, "--proxy");
        let proxies =
            Proxies::from_settings(None, env(&[("ALL_PROXY", "socks5://10.0.0.1")])).expect("all");
        let p = proxies.for_target("https", "a.test", 443).expect("proxy");
        assert_eq!((p.port, p.resolves_names()), (1080, false));
        assert!(Proxies::from_settings(Some("ftp://x"), env(&[])).is_err());
        assert!(Proxies::from_settings(Some("https://x"), env(&[])).is_err());
        assert!(Proxies::from_settings(None, env(&[]))
            .expect("none")
            .is_empty());
    }

    #[test]
    fn absolute_form_rewrites_only_the_request_line() {
        let head = b"GET /a?b=1 HTTP/1.1\r\nhost: www.example.test\r\n\r\n";
        let out = absolute_form(head, "http://www.example.test:8080", Some("Basic eA=="))
            .expect("rewritten");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "GET http://www.example.test:8080/a?b=1 HTTP/1.1\r\nproxy-authorization: Basic eA==\r\nhost: www.example.test\r\n\r\n"
        );
        assert!(absolute_form(b"GET http://x/ HTTP/1.1\r\n\r\n", "http://x", None).is_none());
    }
}
