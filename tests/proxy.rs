//! Proxies: the demo world's forward proxy (HTTP and SOCKS5), browsed through for real.

mod common;

use std::time::Duration;

use common::{load_in, options};
use minibrowse::demo::{DemoOptions, DemoWorld};
use minibrowse::net::proxy::{Proxies, Proxy};
use minibrowse::page::{Browser, Options};
use minibrowse::trace::{EventKind, Step};

fn world_with_proxy() -> DemoWorld {
    DemoWorld::start(DemoOptions {
        proxy_port: Some(0),
        ..DemoOptions::default()
    })
    .expect("the demo world starts")
}

fn through(world: &DemoWorld, proxy: &str) -> Options {
    let mut opts = options(world);
    let proxy = Proxy::parse(proxy, "--proxy").expect("proxy URL");
    opts.http.proxies = Proxies::all(proxy);
    opts
}

fn proxy_url(world: &DemoWorld, scheme: &str) -> String {
    format!("{scheme}://{}", world.proxy_addr.expect("a proxy"))
}

/// A proxy step: (mode, target, dns_by_proxy, sent, received).
type ProxyStep = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The proxy step of a load.
fn proxy_event(load: &common::Load) -> Option<ProxyStep> {
    load.events.iter().find_map(|e| match &e.kind {
        EventKind::Proxy {
            mode,
            target,
            dns_by_proxy,
            sent,
            received,
            ..
        } => Some((
            mode.clone(),
            target.clone(),
            dns_by_proxy.clone(),
            sent.clone(),
            received.clone(),
        )),
        _ => None,
    })
}

fn heads(load: &common::Load, request: u32) -> (String, String) {
    let mut out = (String::new(), String::new());
    for kind in load.of_request(request) {
        match kind {
            EventKind::Request { head, .. } => out.0 = head.clone(),
            EventKind::Response { head, .. } => out.1 = head.clone(),
            _ => {}
        }
    }
    out
}

#[test]
fn http_through_a_proxy_uses_absolute_form_and_the_proxy_does_the_dns() {
    let world = world_with_proxy();
    let browser = Browser::new(through(&world, &proxy_url(&world, "http"))).expect("browser");
    let queries_before = world.dns_queries().len();
    let load = load_in(&browser, &world.url("/"));
    assert!(load.dump().contains("Welcome to the minibrowse demo world"));
    // The browser asked no DNS question: the proxy's address is a literal, the site's
    // name is the proxy's business.
    assert_eq!(load.count("dns"), 0, "{:?}", load.names());
    let names = load.names();
    assert_eq!(&names[1..4], &["connect", "proxy", "request"], "{names:?}");
    let (mode, target, dns_by_proxy, sent, _) = proxy_event(&load).expect("a proxy step");
    assert_eq!(mode, "forward");
    assert_eq!(
        target,
        format!("www.minibrowse.test:{}", world.http_addr.port())
    );
    assert_eq!(dns_by_proxy.as_deref(), Some("www.minibrowse.test"));
    assert!(sent.is_none());
    let (request, response) = heads(&load, 1);
    assert!(
        request.starts_with(&format!("GET {} HTTP/1.1\r\n", world.url("/"))),
        "{request}"
    );
    assert!(
        response.contains("via: 1.1 minibrowse-demo-proxy\r\n"),
        "{response}"
    );
    // The DNS server heard the question, from the proxy.
    let asked: Vec<String> = world.dns_queries()[queries_before..]
        .iter()
        .map(|q| q.name.clone())
        .collect();
    assert!(
        asked.iter().any(|n| n.starts_with("www.minibrowse.test")),
        "{asked:?}"
    );
    // The proxy logged the page and its assets; the connection to it was kept alive.
    let log = world.proxy_log();
    assert!(log
        .iter()
        .any(|l| l.method == "GET" && l.target == world.url("/") && l.status == 200));
    // (The preload scanner asks for the page's two assets while the page's own connection
    // is still busy, so this load opens three; the next one reuses them.)
    let again = load_in(&browser, &world.url("/text.txt"));
    assert!(again.count("reuse") >= 1, "{:?}", again.names());
}

#[test]
fn https_through_a_proxy_is_a_connect_tunnel_the_proxy_cannot_read() {
    let world = world_with_proxy();
    let browser = Browser::new(through(&world, &proxy_url(&world, "http"))).expect("browser");
    let load = load_in(&browser, &world.https_url("/"));
    assert!(load.dump().contains("Welcome to the minibrowse demo world"));
    let names = load.names();
    // Inside the tunnel, TLS with the site, which chose HTTP/2 (browsers speak h2 through
    // a CONNECT tunnel too: the proxy sees only encrypted bytes).
    assert_eq!(
        &names[1..5],
        &["connect", "proxy", "tls", "h2_session"],
        "{names:?}"
    );
    assert_eq!(load.count("connect"), 1, "every request in the one tunnel");
    let (mode, target, dns_by_proxy, sent, received) = proxy_event(&load).expect("a proxy step");
    assert_eq!(mode, "connect");
    assert_eq!(
        target,
        format!("secure.minibrowse.test:{}", world.https_addr.port())
    );
    assert_eq!(dns_by_proxy.as_deref(), Some("secure.minibrowse.test"));
    assert!(sent
        .unwrap_or_default()
        .starts_with(&format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n")));
    assert!(received
        .unwrap_or_default()
        .starts_with("HTTP/1.1 200 Connection established\r\n"));
    // Inside the tunnel, the request is ordinary (an HTTP/2 stream with the path alone)
    // and the proxy added nothing.
    let (request, response) = heads(&load, 1);
    assert!(
        request.starts_with(":method: GET\r\n:scheme: https\r\n"),
        "{request}"
    );
    assert!(request.contains("\r\n:path: /\r\n"), "{request}");
    assert!(!response.to_lowercase().contains("via:"), "{response}");
    let log = world.proxy_log();
    assert!(log
        .iter()
        .any(|l| l.method == "CONNECT" && l.target == target));
}

#[test]
fn socks5_with_and_without_remote_dns() {
    let world = world_with_proxy();
    // socks5h: the proxy resolves.
    let load = load_in(
        &Browser::new(through(&world, &proxy_url(&world, "socks5h"))).expect("browser"),
        &world.https_url("/"),
    );
    assert!(load.dump().contains("Welcome to the minibrowse demo world"));
    assert_eq!(load.count("dns"), 0);
    let (mode, _, dns_by_proxy, sent, received) = proxy_event(&load).expect("a proxy step");
    assert_eq!(mode, "socks5");
    assert_eq!(dns_by_proxy.as_deref(), Some("secure.minibrowse.test"));
    assert!(sent
        .unwrap_or_default()
        .contains("(by name: the proxy looks it up)"));
    assert!(received.unwrap_or_default().contains("succeeded"));
    // socks5: the browser resolves, and sends the address.
    let load = load_in(
        &Browser::new(through(&world, &proxy_url(&world, "socks5"))).expect("browser"),
        &world.url("/"),
    );
    assert!(load.dump().contains("Welcome to the minibrowse demo world"));
    assert!(load.count("dns") >= 1, "{:?}", load.names());
    let (_, _, dns_by_proxy, sent, _) = proxy_event(&load).expect("a proxy step");
    assert_eq!(dns_by_proxy, None);
    assert!(sent
        .unwrap_or_default()
        .contains("connect to 127.0.0.1 port"));
    assert!(
        world
            .proxy_log()
            .iter()
            .filter(|l| l.method == "SOCKS5")
            .count()
            >= 2
    );
}

#[test]
fn no_proxy_goes_direct_and_proxy_failures_are_explained() {
    let world = world_with_proxy();
    let proxy = proxy_url(&world, "http");
    let env = |name: &str| match name {
        "http_proxy" => Some(proxy.clone()),
        "NO_PROXY" => Some("minibrowse.test".to_string()),
        _ => None,
    };
    let mut opts = options(&world);
    opts.http.proxies = Proxies::from_settings(None, env).expect("settings");
    let load = load_in(&Browser::new(opts).expect("browser"), &world.url("/"));
    assert_eq!(load.count("proxy"), 0);
    assert!(load.count("dns") >= 1);

    // Nothing listens where the proxy should be.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = dead.local_addr().expect("addr").port();
    drop(dead);
    let mut opts = through(&world, &format!("http://127.0.0.1:{port}"));
    opts.timeout = Duration::from_secs(5);
    let load = load_in(&Browser::new(opts).expect("browser"), &world.url("/"));
    let error = load.error();
    assert_eq!(error.step, Step::Connect);
    assert!(
        error.message.starts_with(&format!(
            "the proxy http://127.0.0.1:{port} (from --proxy): cannot connect"
        )),
        "{error}"
    );

    // The proxy cannot reach a name that does not exist.
    let browser = Browser::new(through(&world, &proxy)).expect("browser");
    let load = load_in(&browser, "https://nowhere.minibrowse.test:4430/");
    let error = load.error();
    assert_eq!(error.step, Step::Connect, "{error}");
    assert!(
        error.message.contains(
            "the proxy refused the tunnel to nowhere.minibrowse.test:4430: HTTP/1.1 502 Bad Gateway (the proxy could not reach the site)"
        ),
        "{error}"
    );
}

#[test]
fn har_through_a_proxy_counts_the_tunnel_in_connect() {
    use std::sync::Arc;
    let world = world_with_proxy();
    let browser = Browser::new(through(&world, &proxy_url(&world, "http"))).expect("browser");
    let collector = Arc::new(minibrowse::trace::Collector::default());
    let trace = minibrowse::trace::Trace::keeping_bodies(collector.clone(), 1024);
    browser.load(&world.https_url("/"), &trace).expect("load");
    let events = collector.events();
    let har = minibrowse::views::har::build(&minibrowse::views::har::HarSource {
        events: &events,
        started: trace.start_wall(),
        bodies: &trace.kept_bodies(),
        title: None,
    });
    let first = &har["log"]["entries"][0]["timings"];
    let (connect, ssl, dns) = (
        first["connect"].as_f64().unwrap_or(-1.0),
        first["ssl"].as_f64().unwrap_or(-1.0),
        first["dns"].as_f64().unwrap_or(0.0),
    );
    let tunnel: f64 = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Proxy { ms, .. } => Some(*ms),
            _ => None,
        })
        .next()
        .expect("a tunnel");
    assert!(ssl > 0.0 && connect >= ssl + tunnel - 0.002, "{first}");
    assert_eq!(dns, -1.0, "the browser asked no DNS");
}

#[test]
fn a_websocket_goes_through_a_connect_tunnel() {
    use std::sync::Arc;
    let world = world_with_proxy();
    for scheme in ["http", "socks5h"] {
        let browser = Browser::new(through(&world, &proxy_url(&world, scheme))).expect("browser");
        let collector = Arc::new(minibrowse::trace::Collector::default());
        let trace = minibrowse::trace::Trace::new(collector.clone());
        let page = url::Url::parse(&world.home_url()).expect("url");
        let plan = minibrowse::chat::ChatPlan {
            via: minibrowse::chat::Via::WebSocket,
            name: "tunnel".into(),
            send: vec![format!("hello through {scheme}")],
            wait: Duration::from_millis(300),
            timeout: Duration::from_secs(10),
        };
        let mut shown = Vec::new();
        minibrowse::chat::run(
            browser.client(),
            &page,
            &plan,
            &trace,
            &mut |m: &minibrowse::chat::Message| shown.push(m.text.clone()),
            None,
        )
        .expect("chat through the proxy");
        assert!(
            shown.contains(&format!("hello through {scheme}")),
            "{shown:?}"
        );
        let events = collector.events();
        let mode = events.iter().find_map(|e| match &e.kind {
            EventKind::Proxy { mode, target, .. } if target.starts_with("www.minibrowse.test:") => {
                Some(mode.clone())
            }
            _ => None,
        });
        assert_eq!(
            mode.as_deref(),
            Some(if scheme == "http" {
                "connect"
            } else {
                "socks5"
            })
        );
        assert!(events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::WsHandshake { ok: true, .. })));
    }
    let log = world.proxy_log();
    assert!(log.iter().any(|l| l.method == "CONNECT"));
    assert!(log.iter().any(|l| l.method == "SOCKS5"));
}

#[test]
fn a_proxy_password_never_reaches_the_trace() {
    use base64::Engine;
    let world = world_with_proxy();
    let addr = world.proxy_addr.expect("a proxy");
    let secret = base64::engine::general_purpose::STANDARD.encode("teacher:s3cret");
    let browser =
        Browser::new(through(&world, &format!("http://teacher:s3cret@{addr}"))).expect("browser");
    for url in [world.url("/text.txt"), world.https_url("/text.txt")] {
        let load = load_in(&browser, &url);
        assert!(load.result.is_ok(), "{url}");
        let shown = format!("{:?}", load.events);
        assert!(
            !shown.contains(&secret),
            "the password leaked into the trace"
        );
        assert!(!shown.contains("s3cret"));
        assert!(shown.contains("Basic ***"), "{shown}");
        assert!(shown.contains("http://teacher:***@"));
    }
}
