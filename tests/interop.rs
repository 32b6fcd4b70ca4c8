//! Interop: minibrowse against real third-party servers, nginx, dnsmasq and tinyproxy, that each test
//! starts on loopback (127.0.0.1, free ephemeral ports, a temp dir of its own) and kills when
//! it ends. The demo world is minibrowse's own code on both ends; these tests check that the
//! pipeline also holds up against servers it did not write.
//!
//! A missing server binary skips the test with a message, unless `MINIBROWSE_REQUIRE_INTEROP`
//! is set (CI sets it), which turns the skip into a failure. `scripts/install-test-deps.sh`
//! installs both servers.

mod common;

use common::servers::*;

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};

use minibrowse::net::{Dns, DnsServers};
use minibrowse::page::{Browser, LoadError, Options, Page};
use minibrowse::trace::{Collector, Event, EventKind, Trace};
use minibrowse::views::dump;

const WELCOME: &str = "Welcome to the minibrowse demo world";

// ---------------------------------------------------------------------------------------
// nginx

/// nginx serving a copy of fixtures/site, as raw files (no `{{…}}` templating).
fn start_nginx(binary: &Path) -> Server {
    start_with_retries("nginx", || {
        let dir = TempDir::new("nginx");
        let root = dir.path().join("root");
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/site"),
            &root,
        );
        let port = free_tcp_port();
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, nginx_conf(dir.path(), &root, port)).map_err(|e| e.to_string())?;
        let mut command = Command::new(binary);
        command
            .arg("-p")
            .arg(dir.path())
            // The error log nginx opens before it has read its configuration.
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&conf);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut server = Server::spawn("nginx", command, dir, addr)?;
        server.wait_ready(|addr| {
            TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
        })?;
        Ok(server)
    })
}

fn nginx_conf(dir: &Path, root: &Path, port: u16) -> String {
    let d = dir.display();
    let root = root.display();
    // One process (no master): killing it leaves no worker behind. text/html is always in
    // gzip_types (naming it again only draws a warning).
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{
    worker_connections 256;
}}
http {{
    types {{
        text/html html;
        text/css css;
        application/javascript js;
        text/plain txt;
        image/svg+xml svg;
        image/png png;
        image/webp webp;
        font/woff2 woff2;
        video/webm webm;
    }}
    default_type application/octet-stream;
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_timeout 30s;
    keepalive_requests 1000;
    gzip on;
    gzip_types text/css application/javascript;
    gzip_min_length 1;
    server {{
        listen 127.0.0.1:{port};
        server_name _;
        root {root};
        index index.html;
        location = /moved {{
            return 301 /assets.html;
        }}
    }}
}}
"#
    )
}

// ---------------------------------------------------------------------------------------
// dnsmasq

/// dnsmasq answering for `interop.test.` from its command line only: no upstream, no
/// /etc/hosts. `--local` makes unknown names NXDOMAIN (without it dnsmasq answers REFUSED,
/// having no upstream to ask); `--local-ttl` gives the answers a TTL, so they can be cached.
/// The CNAME target is a `--host-record`: dnsmasq chases a `--cname` only to a record it holds
/// as a host (an `--address` target gets the CNAME alone).
fn start_dnsmasq(binary: &Path) -> Server {
    start_with_retries("dnsmasq", || {
        let dir = TempDir::new("dnsmasq");
        let port = free_udp_tcp_port();
        let mut command = Command::new(binary);
        command
            .args([
                "--no-daemon",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--listen-address=127.0.0.1",
                "--log-queries",
                "--log-facility=-",
                "--user=root",
                "--local-ttl=60",
                "--local=/interop.test/",
                "--host-record=ready.interop.test,127.0.0.1",
                "--host-record=web.interop.test,127.0.0.1",
                "--host-record=site.interop.test,127.0.0.1",
                "--cname=alias.interop.test,web.interop.test",
            ])
            .arg(format!("--port={port}"))
            .arg(format!(
                "--pid-file={}",
                dir.path().join("dnsmasq.pid").display()
            ));
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut server = Server::spawn("dnsmasq", command, dir, addr)?;
        // Readiness: a real question through minibrowse's own resolver (its own instance, so
        // the tests' caches start empty).
        let probe = Dns::new(&DnsServers::Explicit(addr), Duration::from_millis(300))?;
        server.wait_ready(|_| probe.resolve("ready.interop.test").is_ok())?;
        Ok(server)
    })
}

/// The lines of dnsmasq's query log about `what` (e.g. `query[A] alias.interop.test`).
fn dnsmasq_log_count(server: &Server, what: &str) -> usize {
    server.logs().lines().filter(|l| l.contains(what)).count()
}

// ---------------------------------------------------------------------------------------
// Loading and reading the trace

struct Load {
    result: Result<Page, LoadError>,
    events: Vec<Event>,
}

impl Load {
    fn page(&self) -> &Page {
        match &self.result {
            Ok(page) => page,
            Err(e) => panic!("the load failed: {e}\n{}", self.describe()),
        }
    }

    fn describe(&self) -> String {
        self.events
            .iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn kinds(&self) -> impl Iterator<Item = &EventKind> {
        self.events.iter().map(|e| &e.kind)
    }

    /// The first event of `request` that `pick` accepts.
    fn find<'a, T>(
        &'a self,
        request: u32,
        pick: impl Fn(&'a EventKind) -> Option<T>,
    ) -> Option<(u64, T)> {
        self.events
            .iter()
            .filter(|e| e.request == Some(request))
            .find_map(|e| pick(&e.kind).map(|t| (e.seq, t)))
    }

    /// The request whose Request event asked for a URL with this path.
    fn request_for_path(&self, path: &str) -> Option<u32> {
        self.events.iter().find_map(|e| match &e.kind {
            EventKind::Request { url, .. } if url_path(url) == path => e.request,
            _ => None,
        })
    }

    fn status_of(&self, request: u32) -> Option<u16> {
        self.find(request, |k| match k {
            EventKind::Response { status, .. } => Some(*status),
            _ => None,
        })
        .map(|(_, s)| s)
    }

    fn body_of(&self, request: u32) -> Option<(u64, u64, Option<String>)> {
        self.find(request, |k| match k {
            EventKind::Body {
                wire_bytes,
                decoded_bytes,
                content_encoding,
                ..
            } => Some((*wire_bytes, *decoded_bytes, content_encoding.clone())),
            _ => None,
        })
        .map(|(_, b)| b)
    }
}

fn url_path(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_default()
}

fn load(browser: &Browser, input: &str) -> Load {
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    let result = browser.load(input, &trace);
    Load {
        result,
        events: collector.events(),
    }
}

fn browser(dns: SocketAddr) -> Browser {
    Browser::new(Options {
        dns: DnsServers::Explicit(dns),
        timeout: Duration::from_secs(10),
        asset_timeout: Duration::from_secs(5),
        ..Options::default()
    })
    .expect("the browser starts")
}

/// Runs the CLI with a deadline; returns its status, stdout and stderr.
fn run_cli(args: &[&str]) -> (ExitStatus, String, String) {
    let run = common::run_binary(args, DEADLINE);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (run.status, text(&run.stdout), text(&run.stderr))
}

// ---------------------------------------------------------------------------------------
// Tests

/// A page with many assets from nginx: real gzip, keep-alive, 404s and redirects.
#[test]
fn nginx_page_assets_gzip_keepalive_and_redirect() {
    let Some(nginx) = binary_or_skip("nginx") else {
        return;
    };
    let server = start_nginx(&nginx);
    let port = server.addr.port();
    // An IP-literal URL needs no DNS; the DNS server is a dead loopback port, so any lookup
    // would fail here rather than leave the machine.
    let browser = browser(dead_dns_server());
    let run = load(&browser, &format!("http://127.0.0.1:{port}/assets.html"));
    let page = run.page();
    let context = || format!("{}\n{}", run.describe(), server.logs());

    assert_eq!(page.status, Some(200), "{}", context());
    assert!(
        !run.kinds().any(|k| matches!(k, EventKind::Dns { .. })),
        "an IP literal asked DNS:\n{}",
        context()
    );

    // The page: request 1, answered by nginx, gzipped on the wire.
    let (_, (status, head)) = run
        .find(1, |k| match k {
            EventKind::Response { status, head, .. } => Some((*status, head.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no response for request 1:\n{}", context()));
    assert_eq!(status, 200);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("Server: nginx"), "not nginx's head:\n{head}");
    let (wire, decoded, encoding) = run
        .body_of(1)
        .unwrap_or_else(|| panic!("no body for request 1:\n{}", context()));
    assert_eq!(encoding.as_deref(), Some("gzip"), "{}", context());
    assert!(
        wire < decoded,
        "gzip should shrink the page: {wire} bytes on the wire, {decoded} decoded"
    );
    let html =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/site/assets.html"))
            .expect("read the fixture");
    assert_eq!(
        decoded,
        html.len() as u64,
        "the decoded page is the file nginx served"
    );

    // The assets the DOM walk found, each fetched from nginx.
    let found: Vec<String> = run
        .kinds()
        .filter_map(|k| match k {
            EventKind::AssetFound { url, .. } => Some(url.clone()),
            _ => None,
        })
        .collect();
    for path in ["/style.css", "/app.js", "/img/missing.png"] {
        assert!(
            found.iter().any(|u| url_path(u) == path),
            "{path} not among the assets found: {found:?}"
        );
    }
    for url in &found {
        let path = url_path(url);
        if path.contains("CDN") {
            // `{{CDN}}` stays literal in a raw file: a relative path nginx does not have.
            continue;
        }
        let request = run
            .request_for_path(&path)
            .unwrap_or_else(|| panic!("the asset {url} was never requested:\n{}", context()));
        let expected = if path == "/img/missing.png" { 404 } else { 200 };
        assert_eq!(
            run.status_of(request),
            Some(expected),
            "status of {url}:\n{}",
            context()
        );
    }
    // Stylesheets are in gzip_types too: the asset requests ask for compression as well.
    let css = run
        .request_for_path("/style.css")
        .expect("style.css requested");
    let (_, _, css_encoding) = run.body_of(css).expect("style.css has a body");
    assert_eq!(css_encoding.as_deref(), Some("gzip"));
    assert!(
        page.assets
            .iter()
            .any(|a| a.asset.url.path() == "/frame.css"),
        "the frame's own stylesheet was not fetched"
    );

    // Keep-alive: nginx kept connections open, and later requests reused them.
    let connects = run
        .kinds()
        .filter(|k| matches!(k, EventKind::Connect { .. }))
        .count();
    let reuses = run
        .kinds()
        .filter(|k| matches!(k, EventKind::Reuse { .. }))
        .count();
    assert!(
        reuses >= 1,
        "no keep-alive reuse against nginx:\n{}",
        context()
    );
    assert!(connects >= 1);

    // A 301 from nginx's `return`, followed to the page. A new session: this one's HTTP
    // cache holds the page and would ask nginx whether it changed (a 304).
    let run = load(
        &self::browser(dead_dns_server()),
        &format!("http://127.0.0.1:{port}/moved"),
    );
    let page = run.page();
    let context = || format!("{}\n{}", run.describe(), server.logs());
    assert_eq!(page.status, Some(200));
    assert_eq!(page.url.path(), "/assets.html");
    let moved = run
        .request_for_path("/moved")
        .unwrap_or_else(|| panic!("/moved was not requested:\n{}", context()));
    assert_eq!(run.status_of(moved), Some(301), "{}", context());
    let (redirect_seq, (status, location, next_url)) = run
        .find(moved, |k| match k {
            EventKind::Redirect {
                status,
                location,
                next_url,
                ..
            } => Some((*status, location.clone(), next_url.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no redirect event:\n{}", context()));
    assert_eq!(status, 301);
    assert!(location.ends_with("/assets.html"), "Location: {location}");
    assert_eq!(next_url, format!("http://127.0.0.1:{port}/assets.html"));
    let target = run
        .request_for_path("/assets.html")
        .unwrap_or_else(|| panic!("the redirect was not followed:\n{}", context()));
    assert!(target > moved);
    let (response_seq, status) = run
        .find(target, |k| match k {
            EventKind::Response { status, .. } => Some(*status),
            _ => None,
        })
        .expect("a response for the redirect's target");
    assert_eq!(status, 200);
    assert!(redirect_seq < response_seq);
}

/// The CLI, as a user runs it, against nginx.
#[test]
fn nginx_cli_dump() {
    let Some(nginx) = binary_or_skip("nginx") else {
        return;
    };
    let server = start_nginx(&nginx);
    let url = format!("http://127.0.0.1:{}/index.html", server.addr.port());
    let (status, stdout, stderr) = run_cli(&["--dump", "--no-assets", "--timeout", "5", &url]);
    assert!(
        status.success(),
        "minibrowse --dump {url} failed ({status}):\n{stderr}\n{}",
        server.logs()
    );
    assert!(
        stdout.contains(WELCOME),
        "the dump lacks the page's text:\n{stdout}"
    );
    assert!(stdout.contains("DNS lookup."), "{stdout}");
}

/// minibrowse's resolver against dnsmasq: a CNAME chain, the cache, NXDOMAIN.
#[test]
fn dnsmasq_cname_cache_and_nxdomain() {
    let Some(dnsmasq) = binary_or_skip("dnsmasq") else {
        return;
    };
    let server = start_dnsmasq(&dnsmasq);
    let dns = Dns::new(&DnsServers::Explicit(server.addr), Duration::from_secs(3))
        .expect("the resolver starts");
    assert_eq!(dns.server(), server.addr.to_string());

    let answers = dns
        .resolve("alias.interop.test")
        .unwrap_or_else(|e| panic!("alias.interop.test: {}\n{}", e.message, server.logs()));
    let answer = answers.last().expect("at least one answer");
    assert!(!answer.cached);
    assert_eq!(answer.record_type.to_string(), "A");
    assert_eq!(answer.server, server.addr.to_string());
    let records: Vec<(String, String, String)> = answer
        .records
        .iter()
        .map(|r| {
            (
                r.name.trim_end_matches('.').to_string(),
                r.record_type.clone(),
                r.data.trim_end_matches('.').to_string(),
            )
        })
        .collect();
    let has = |name: &str, kind: &str, data: &str| {
        records
            .iter()
            .any(|(n, k, d)| n == name && k == kind && d == data)
    };
    assert!(
        has("alias.interop.test", "CNAME", "web.interop.test"),
        "no CNAME alias → web: {records:?}"
    );
    assert!(
        has("web.interop.test", "A", "127.0.0.1"),
        "no A record for web: {records:?}"
    );
    assert_eq!(
        answer.addresses,
        vec![std::net::IpAddr::from(Ipv4Addr::LOCALHOST)]
    );
    assert!(answer.records.iter().all(|r| r.ttl > 0 && r.ttl <= 60));

    // The second lookup comes from minibrowse's cache: dnsmasq is not asked again.
    let again = dns.resolve("alias.interop.test").expect("second lookup");
    let cached = again.last().expect("an answer");
    assert!(
        cached.cached,
        "the second lookup was not served from the cache"
    );
    assert_eq!(cached.addresses, answer.addresses);
    assert_eq!(cached.records.len(), answer.records.len());

    let failure = dns
        .resolve("nope.interop.test")
        .expect_err("an unknown name must not resolve");
    assert!(
        failure.message.contains("NXDOMAIN"),
        "not an NXDOMAIN: {}",
        failure.message
    );
    assert!(failure.message.contains("nope.interop.test"));

    // dnsmasq's own log: it saw exactly one A question for the alias (the second was
    // cached) and answered the unknown name from its `--local` domain. The log may trail
    // the answers a little.
    let deadline = Instant::now() + Duration::from_secs(3);
    while dnsmasq_log_count(&server, "query[A] nope.interop.test") == 0 && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(25));
    }
    let logs = server.logs();
    assert_eq!(
        dnsmasq_log_count(&server, "query[A] alias.interop.test"),
        1,
        "{logs}"
    );
    assert!(logs.contains("nope.interop.test is NXDOMAIN"), "{logs}");
}

/// The whole pipeline with third-party servers at both ends: dnsmasq names the host, nginx
/// serves the page.
#[test]
fn dnsmasq_and_nginx_full_pipeline() {
    let (Some(nginx), Some(dnsmasq)) = (binary_or_skip("nginx"), binary_or_skip("dnsmasq")) else {
        return;
    };
    let web = start_nginx(&nginx);
    let dns = start_dnsmasq(&dnsmasq);
    let port = web.addr.port();
    let browser = browser(dns.addr);
    let run = load(&browser, &format!("http://site.interop.test:{port}/"));
    let page = run.page();
    let context = || format!("{}\n{}\n{}", run.describe(), web.logs(), dns.logs());
    assert_eq!(page.status, Some(200), "{}", context());

    // The A question (the AAAA one, asked with it, finds nothing at dnsmasq).
    let (dns_seq, (host, server, records, cached)) = run
        .find(1, |k| match k {
            EventKind::Dns {
                host,
                server,
                records,
                cached,
                record_type,
                ..
            } if record_type == "A" => {
                Some((host.clone(), server.clone(), records.clone(), *cached))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no DNS event for the page:\n{}", context()));
    assert_eq!(host, "site.interop.test");
    assert_eq!(server, dns.addr.to_string());
    assert!(!cached);
    assert!(
        records
            .iter()
            .any(|r| r.record_type == "A" && r.data == "127.0.0.1"),
        "{records:?}"
    );
    let (connect_seq, remote) = run
        .find(1, |k| match k {
            EventKind::Connect { remote, .. } => Some(remote.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no connect event for the page:\n{}", context()));
    assert!(dns_seq < connect_seq, "DNS must come before the connection");
    assert_eq!(remote, web.addr.to_string());
    let (_, head) = run
        .find(1, |k| match k {
            EventKind::Request { head, .. } => Some(head.clone()),
            _ => None,
        })
        .expect("a request event");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("host: site.interop.test:{port}")),
        "{head}"
    );
    let (_, head) = run
        .find(1, |k| match k {
            EventKind::Response { head, .. } => Some(head.clone()),
            _ => None,
        })
        .expect("a response event");
    assert!(head.contains("Server: nginx"), "{head}");

    // The page's assets are on the same host: dnsmasq was asked once, the rest came from
    // minibrowse's cache (or rode on a kept-alive connection).
    let deadline = Instant::now() + Duration::from_secs(3);
    while dnsmasq_log_count(&dns, "query[A] site.interop.test") == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(
        dnsmasq_log_count(&dns, "query[A] site.interop.test"),
        1,
        "{}",
        context()
    );
    assert!(
        page.assets
            .iter()
            .any(|a| a.asset.url.path() == "/style.css"
                && a.outcome.as_ref().is_ok_and(|r| r.status == 200)),
        "style.css was not fetched:\n{}",
        context()
    );

    let text = dump::dump(page, false);
    assert!(text.contains(WELCOME), "{text}");
}

// ---------------------------------------------------------------------------------------
// tinyproxy

/// tinyproxy (Debian's tinyproxy-bin) on loopback, allowing only 127.0.0.1, logging to its dir.
fn start_tinyproxy(binary: &Path, connect_port: u16) -> Server {
    start_with_retries("tinyproxy", || {
        let dir = TempDir::new("tinyproxy");
        let port = free_tcp_port();
        let log = dir.path().join("tinyproxy.log");
        let conf = dir.path().join("tinyproxy.conf");
        let text = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nMaxClients 20\n\
             ConnectPort {connect_port}\nLogLevel Info\nLogFile \"{}\"\n",
            log.display()
        );
        std::fs::write(&conf, text).map_err(|e| e.to_string())?;
        let mut command = Command::new(binary);
        command.arg("-d").arg("-c").arg(&conf);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut server = Server::spawn("tinyproxy", command, dir, addr)?;
        server.wait_ready(|addr| {
            TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
        })?;
        Ok(server)
    })
}

#[test]
fn tinyproxy_forwards_http_and_tunnels_https() {
    let Some(binary) = binary_or_skip("tinyproxy") else {
        return;
    };
    let world = minibrowse::demo::DemoWorld::start(minibrowse::demo::DemoOptions::default())
        .expect("the demo world starts");
    let proxy = start_tinyproxy(&binary, world.https_addr.port());
    let mut options = Options {
        // tinyproxy resolves names with the system's resolver, which does not know the demo
        // names: the URLs name 127.0.0.1, and the demo certificate covers that address.
        dns: DnsServers::Explicit(dead_dns_server()),
        timeout: Duration::from_secs(10),
        ..Options::default()
    };
    options.http.extra_roots.push(world.ca_der.clone());
    options.http.proxies = minibrowse::net::proxy::Proxies::all(
        minibrowse::net::proxy::Proxy::parse(&format!("http://{}", proxy.addr), "--proxy")
            .expect("proxy URL"),
    );
    let browser = Browser::new(options).expect("browser");

    // http: absolute form; tinyproxy adds its Via.
    let url = format!("http://127.0.0.1:{}/", world.http_addr.port());
    let plain = load(&browser, &url);
    assert!(
        dump::dump(plain.page(), true).contains(WELCOME),
        "{}\n{}",
        plain.describe(),
        proxy.logs()
    );
    let (_, head) = plain
        .find(1, |k| match k {
            EventKind::Request { head, .. } => Some(head.clone()),
            _ => None,
        })
        .expect("a request");
    assert!(
        head.starts_with(&format!("GET {url} HTTP/1.1\r\n")),
        "{head}"
    );
    let (_, response) = plain
        .find(1, |k| match k {
            EventKind::Response { head, .. } => Some(head.clone()),
            _ => None,
        })
        .expect("a response");
    assert!(response.to_lowercase().contains("via: 1.1"), "{response}");
    assert!(response.contains("tinyproxy"), "{response}");

    // https: CONNECT, then TLS end to end with the demo server.
    let url = format!("https://127.0.0.1:{}/", world.https_addr.port());
    let secure = load(&browser, &url);
    assert!(
        dump::dump(secure.page(), true).contains(WELCOME),
        "{}",
        proxy.logs()
    );
    let (_, (mode, received)) = secure
        .find(1, |k| match k {
            EventKind::Proxy { mode, received, .. } => Some((mode.clone(), received.clone())),
            _ => None,
        })
        .expect("a proxy step");
    assert_eq!(mode, "connect");
    let received = received.unwrap_or_default();
    assert!(
        received.starts_with("HTTP/1.0 200 Connection established")
            || received.starts_with("HTTP/1.1 200"),
        "{received}"
    );
    assert!(secure
        .kinds()
        .any(|k| matches!(k, EventKind::Tls { verified: true, .. })));
    let log = read_lossy(&proxy.dir.path().join("tinyproxy.log"));
    assert!(log.contains("CONNECT"), "{log}");
}

/// The HTTP cache against nginx, whose static files carry `ETag` and `Last-Modified` and no
/// `Cache-Control`: a reload asks about the page with `If-None-Match`, nginx answers 304,
/// and no body crosses the wire twice. A file last modified ten days ago is fresh for a
/// day by the heuristic (10% of its age), so it is not even asked about.
#[test]
fn nginx_answers_a_reload_with_304_and_nothing_is_downloaded_twice() {
    let Some(nginx) = binary_or_skip("nginx") else {
        return;
    };
    let server = start_nginx(&nginx);
    let ten_days_ago = std::time::SystemTime::now() - Duration::from_secs(10 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(server.dir.path().join("root/style.css"))
        .and_then(|f| f.set_modified(ten_days_ago))
        .expect("style.css made ten days old");
    let url = format!("http://127.0.0.1:{}/", server.addr.port());
    let browser = browser(dead_dns_server());
    let first = load(&browser, &url);
    assert_eq!(first.page().status, Some(200), "{}", first.describe());
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    trace.set_cache_mode(minibrowse::trace::CacheMode::Revalidate);
    let result = browser.load(&url, &trace);
    let reload = Load {
        result,
        events: collector.events(),
    };
    let context = || format!("{}\n{}", reload.describe(), server.logs());
    assert_eq!(reload.page().status, Some(200), "{}", context());
    assert_eq!(
        reload.page().layout.to_text(true),
        first.page().layout.to_text(true)
    );
    // The page: a conditional request, answered 304 by nginx itself.
    let (_, (status, head)) = reload
        .find(1, |k| match k {
            EventKind::Response { status, head, .. } => Some((*status, head.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no response for the page:\n{}", context()));
    assert_eq!(status, 304, "{}", context());
    assert!(head.contains("Server: nginx"), "{head}");
    let sent = reload
        .find(1, |k| match k {
            EventKind::Request { head, .. } => Some(head.clone()),
            _ => None,
        })
        .map(|(_, head)| head)
        .unwrap_or_default();
    assert!(sent.contains("if-none-match: "), "{sent}");
    // Nothing came twice: every body of the reload is 0 bytes on the wire.
    let wire: u64 = reload
        .kinds()
        .filter_map(|k| match k {
            EventKind::Body { wire_bytes, .. } => Some(*wire_bytes),
            _ => None,
        })
        .sum();
    assert_eq!(wire, 0, "a body was downloaded again:\n{}", context());
    // The ten-day-old stylesheet: fresh by the heuristic, no request at all.
    let fresh = reload.kinds().find_map(|k| match k {
        EventKind::Cache(step) if step.url.ends_with("/style.css") => Some(step.clone()),
        _ => None,
    });
    let fresh = fresh.unwrap_or_else(|| panic!("style.css not looked up:\n{}", context()));
    assert_eq!(
        fresh.action,
        minibrowse::trace::CacheAction::Fresh,
        "{fresh:?}"
    );
    assert!(fresh.reason.contains("heuristic"), "{}", fresh.reason);
    let day = 86_400;
    assert!(
        fresh.ttl_s.is_some_and(|t| t > day - 60 && t <= day),
        "10% of ten days is one day: {fresh:?}"
    );
}
