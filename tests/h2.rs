//! HTTP/2: the demo world's HTTPS site and nginx chosen h2 in ALPN, so a page's requests go
//! as streams of one connection; `--http1.1` keeps the old way; and a small h2 server of
//! the test's own (the h2 crate's server half) sends the failures a real one can: GOAWAY
//! mid-load, RST_STREAM, and a server that says h2 in ALPN and then speaks HTTP/1.1.

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::servers::*;
use common::*;
use minibrowse::demo::{DemoOptions, DemoWorld};
use minibrowse::page::Options;
use minibrowse::trace::{Collector, EventKind, Trace};
use minibrowse::views::har::{build, HarSource};
use tokio::io::AsyncWriteExt;

fn world_with_latency(ms: u64) -> DemoWorld {
    DemoWorld::start(DemoOptions {
        latency: Duration::from_millis(ms),
        ..DemoOptions::default()
    })
    .expect("the demo world starts")
}

/// The connection ids the requests went on (from their `connect`, `reuse` or `h2_stream`).
fn connections(load: &Load) -> BTreeSet<u32> {
    load.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Connect { conn, .. }
            | EventKind::Reuse { conn, .. }
            | EventKind::H2Stream { conn, .. } => Some(*conn),
            _ => None,
        })
        .collect()
}

fn versions(load: &Load) -> BTreeSet<String> {
    load.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Response { version, .. } => Some(version.clone()),
            _ => None,
        })
        .collect()
}

fn frames(load: &Load, direction: &str) -> BTreeSet<String> {
    load.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::H2Frame {
                frame,
                direction: d,
                ..
            } if d == direction => Some(frame.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_demo_https_site_loads_a_page_as_streams_of_one_connection() {
    let world = world_with_latency(50);
    let load = load_with(options(&world), &world.https_url("errors/many-assets?n=12"));
    let page = load.page();
    assert_eq!(page.status, Some(200));
    let tls: Vec<_> = load
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Tls {
                alpn, alpn_offered, ..
            } => Some((alpn.clone(), alpn_offered.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        tls,
        [(
            Some("h2".to_string()),
            vec!["h2".to_string(), "http/1.1".to_string()]
        )],
        "one handshake, h2 offered first and chosen"
    );
    assert_eq!(load.count("h2_session"), 1);
    assert_eq!(
        load.count("connect"),
        1,
        "one TCP connection for 13 requests"
    );
    assert_eq!(connections(&load).len(), 1);
    let requests = load.count("request");
    assert_eq!(requests, 13, "the page and its 12 images");
    assert_eq!(load.count("h2_stream"), requests, "every request a stream");
    assert_eq!(versions(&load), BTreeSet::from(["HTTP/2".to_string()]));
    // Streams are odd and counting up; at 50 ms an answer, the images overlapped.
    let streams: Vec<(u32, u32)> = load
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::H2Stream {
                stream,
                open_streams,
                ..
            } => Some((*stream, *open_streams)),
            _ => None,
        })
        .collect();
    assert!(streams.iter().all(|(s, _)| s % 2 == 1));
    assert!(
        streams.iter().any(|(_, open)| *open >= 2),
        "no request was multiplexed beside others: {streams:?}"
    );
    let sent = frames(&load, "sent");
    for frame in ["preface", "SETTINGS", "HEADERS", "WINDOW_UPDATE"] {
        assert!(sent.contains(frame), "no {frame} sent: {sent:?}");
    }
    let received = frames(&load, "received");
    for frame in ["SETTINGS", "HEADERS", "DATA"] {
        assert!(
            received.contains(frame),
            "no {frame} received: {received:?}"
        );
    }
    // The request head is the HEADERS frame's header list, pseudo-headers first.
    let head = load
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Request { head, .. } => Some(head.clone()),
            _ => None,
        })
        .expect("a request");
    assert!(
        head.starts_with(":method: GET\r\n:scheme: https\r\n"),
        "{head}"
    );
    // HPACK: the later requests' HEADERS frames are much smaller than the first's.
    let sizes: Vec<u64> = load
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::H2Frame {
                frame,
                direction,
                length,
                ..
            } if frame == "HEADERS" && direction == "sent" => Some(*length),
            _ => None,
        })
        .collect();
    assert_eq!(sizes.len(), requests);
    assert!(
        sizes[sizes.len() - 1] * 2 < sizes[0],
        "HPACK's table did not shrink the later header blocks: {sizes:?}"
    );
}

#[test]
fn http1_1_alone_offers_no_h2_and_opens_several_connections() {
    let world = world_with_latency(50);
    let mut options = options(&world);
    options.http.http1_only = true;
    let load = load_with(options, &world.https_url("errors/many-assets?n=12"));
    assert_eq!(load.page().status, Some(200));
    assert_eq!(load.count("h2_session") + load.count("h2_frame"), 0);
    assert_eq!(versions(&load), BTreeSet::from(["HTTP/1.1".to_string()]));
    assert!(
        connections(&load).len() > 1,
        "HTTP/1.1 needs a connection per request in flight"
    );
    let offered = load.events.iter().find_map(|e| match &e.kind {
        EventKind::Tls {
            alpn, alpn_offered, ..
        } => Some((alpn.clone(), alpn_offered.clone())),
        _ => None,
    });
    assert_eq!(
        offered,
        Some((Some("http/1.1".into()), vec!["http/1.1".to_string()]))
    );
}

#[test]
fn the_har_of_an_h2_load_says_http_2_0() {
    let world = world();
    let browser = minibrowse::page::Browser::new(options(&world)).expect("browser");
    let collector = Arc::new(Collector::default());
    let trace = Trace::keeping_bodies(collector.clone(), 64 * 1024);
    let page = browser.load(&world.https_url(""), &trace).expect("load");
    let har = build(&HarSource {
        events: &collector.events(),
        started: trace.start_wall(),
        bodies: &trace.kept_bodies(),
        title: page.title(),
    });
    let entries = har["log"]["entries"].as_array().expect("entries").clone();
    assert!(entries.len() >= 2);
    let connection = entries[0]["connection"].clone();
    for entry in &entries {
        assert_eq!(entry["request"]["httpVersion"], "HTTP/2.0");
        assert_eq!(entry["response"]["httpVersion"], "HTTP/2.0");
        assert_eq!(entry["connection"], connection, "one connection");
        let names: Vec<&str> = entry["request"]["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .filter_map(|h| h["name"].as_str())
            .collect();
        assert!(
            names.contains(&":path") && names.contains(&"user-agent"),
            "{names:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// nginx, with `http2` over TLS

/// A certificate for 127.0.0.1 signed by a fresh authority, written where nginx reads it.
fn nginx_tls(dir: &Path) -> Vec<u8> {
    let ca = minibrowse::demo::https::make_ca(IpAddr::V4(NGINX)).expect("CA");
    std::fs::write(dir.join("cert.pem"), &ca.server_chain_pem).expect("cert");
    std::fs::write(dir.join("key.pem"), &ca.server_key_pem).expect("key");
    ca.ca_der
}

fn start_nginx_h2(binary: &Path) -> (Server, Vec<u8>) {
    let mut ca = Vec::new();
    let server = start_with_retries("nginx", || {
        let dir = TempDir::new("nginx-h2");
        let root = dir.path().join("root");
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/site"),
            &root,
        );
        ca = nginx_tls(dir.path());
        // A port free on an address of its own: the demo worlds of the other tests take
        // ephemeral ports on 127.0.0.1, and one could take nginx's before it binds.
        let port = std::net::TcpListener::bind((NGINX, 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let conf = dir.path().join("nginx.conf");
        let d = dir.path().display();
        std::fs::write(
            &conf,
            format!(
                r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    types {{ text/html html; text/css css; image/svg+xml svg; image/png png; }}
    default_type application/octet-stream;
    access_log {d}/access.log;
    gzip on;
    gzip_min_length 1;
    gzip_types text/css;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen {NGINX}:{port} ssl http2;
        ssl_certificate {d}/cert.pem;
        ssl_certificate_key {d}/key.pem;
        root {root};
    }}
}}
"#,
                root = root.display()
            ),
        )
        .map_err(|e| e.to_string())?;
        let mut command = Command::new(binary);
        command
            .arg("-p")
            .arg(dir.path())
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .arg("-c")
            .arg(&conf);
        let addr = SocketAddr::from((NGINX, port));
        let mut server = Server::spawn("nginx", command, dir, addr)?;
        server.wait_ready(|addr| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
        })?;
        Ok(server)
    });
    (server, ca)
}

#[test]
fn nginx_serves_a_real_page_over_http2_on_one_connection() {
    let Some(nginx) = binary_or_skip("nginx") else {
        return;
    };
    let (server, ca) = start_nginx_h2(&nginx);
    let mut options = Options {
        timeout: Duration::from_secs(10),
        ..Options::default()
    };
    options.http.extra_roots.push(ca);
    let url = format!("https://{}/assets.html", server.addr);
    let load = load_with(options, &url);
    assert_eq!(load.page().status, Some(200), "{}", server.logs());
    assert!(load.count("request") >= 4, "the page and its assets");
    assert_eq!(load.count("connect"), 1, "one connection for every request");
    assert_eq!(load.count("h2_stream"), load.count("request"));
    assert_eq!(versions(&load), BTreeSet::from(["HTTP/2".to_string()]));
    let server_header = load.events.iter().any(|e| match &e.kind {
        EventKind::Response { head, .. } => head.contains("server: nginx"),
        _ => false,
    });
    assert!(server_header, "answers from nginx");
    // nginx's own SETTINGS (it announces 128 concurrent streams by default).
    let settings = load.events.iter().any(|e| match &e.kind {
        EventKind::H2Frame {
            frame,
            direction,
            detail,
            ..
        } => {
            frame == "SETTINGS"
                && direction == "received"
                && detail.contains("MAX_CONCURRENT_STREAMS")
        }
        _ => false,
    });
    assert!(settings, "nginx's SETTINGS frame is in the trace");
    // nginx gzips the page; its DATA frames are still parsed as they come, decoded piece by
    // piece (a preload scanner reads them too).
    let gzipped = load.events.iter().any(
        |e| matches!(&e.kind, EventKind::Body { content_encoding: Some(c), .. } if c == "gzip"),
    );
    assert!(gzipped, "nginx sent gzip");
    let streamed = load
        .events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::Parse { streamed: true, .. }));
    assert!(streamed, "the gzipped page was parsed as it arrived");
    assert!(load.dump().contains("assets"), "{}", load.dump());
}

// ---------------------------------------------------------------------------------------
// A misbehaving h2 server of the test's own

/// What the test server does with each request on each connection.
#[derive(Clone, Copy)]
enum Misbehaviour {
    /// After answering the first request of the first connection, closes it: GOAWAY, and
    /// the streams that still come are refused (REFUSED_STREAM: not processed).
    GoAwayAfterFirst,
    /// Resets the stream of `/reset.png` (RST_STREAM INTERNAL_ERROR), answers the rest.
    ResetOne,
    /// Answers every image with [`BIG`] bytes: many DATA frames, flow control at work.
    BigBodies,
}

/// Bytes of each image of [`Misbehaviour::BigBodies`]: many times the 256 KiB stream window.
const BIG: usize = 3 * 1024 * 1024;

fn big_body() -> Vec<u8> {
    (0..BIG).map(|i| (i % 251) as u8).collect()
}

/// Where nginx listens (see [`start_nginx_h2`]).
const NGINX: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// Where the test's own h2 servers listen: not 127.0.0.1, where nginx is given a port that
/// was free a moment ago, which an ephemeral port of theirs could otherwise have taken.
const TEST_SERVERS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

const PAGE: &str = "<!doctype html><title>h2</title><p>Hello over h2</p>\
    <img src=/a.png><img src=/b.png><img src=/reset.png><img src=/c.png>";

/// A TLS server that picks h2 and runs `how`; returns its address and the CA to trust.
fn misbehaving_server(how: Misbehaviour) -> (SocketAddr, Vec<u8>, tokio::runtime::Runtime) {
    let ca = minibrowse::demo::https::make_ca(IpAddr::V4(TEST_SERVERS)).expect("CA");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind((TEST_SERVERS, 0)))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor = tokio_rustls::TlsAcceptor::from(ca.server.clone());
    runtime.spawn(async move {
        let mut connection_number = 0;
        while let Ok((tcp, _)) = listener.accept().await {
            connection_number += 1;
            let acceptor = acceptor.clone();
            let first = connection_number == 1;
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut h2) = h2::server::handshake(tls).await else {
                    return;
                };
                let mut answered = 0;
                while let Some(Ok((request, mut respond))) = h2.accept().await {
                    let path = request.uri().path().to_string();
                    if matches!(how, Misbehaviour::ResetOne) && path == "/reset.png" {
                        respond.send_reset(h2::Reason::INTERNAL_ERROR);
                        continue;
                    }
                    if first && answered == 1 && matches!(how, Misbehaviour::GoAwayAfterFirst) {
                        h2.graceful_shutdown();
                        respond.send_reset(h2::Reason::REFUSED_STREAM);
                        continue;
                    }
                    let body = match (path.as_str(), how) {
                        ("/", _) => Bytes::from(PAGE),
                        (_, Misbehaviour::BigBodies) => Bytes::from(big_body()),
                        _ => Bytes::from("png"),
                    };
                    let response = http::Response::builder()
                        .status(200)
                        .header(
                            "content-type",
                            if path == "/" {
                                "text/html"
                            } else {
                                "image/png"
                            },
                        )
                        .body(())
                        .expect("response");
                    if let Ok(mut stream) = respond.send_response(response, false) {
                        // h2 holds what the window does not allow yet and sends it as
                        // the browser's WINDOW_UPDATEs come.
                        let _ = stream.send_data(body, true);
                    }
                    answered += 1;
                }
                let _ = std::future::poll_fn(|cx| h2.poll_closed(cx)).await;
            });
        }
    });
    (addr, ca.ca_der, runtime)
}

fn options_trusting(ca: Vec<u8>) -> Options {
    let mut options = Options {
        timeout: Duration::from_secs(10),
        ..Options::default()
    };
    options.http.extra_roots.push(ca);
    options
}

#[test]
fn a_goaway_mid_load_sends_the_refused_requests_again_on_a_new_connection() {
    let (addr, ca, _server) = misbehaving_server(Misbehaviour::GoAwayAfterFirst);
    let load = load_with(options_trusting(ca), &format!("https://{addr}/"));
    assert_eq!(load.page().status, Some(200));
    let goaway = load.events.iter().any(|e| {
        matches!(&e.kind, EventKind::H2Frame { frame, direction, .. } if frame == "GOAWAY" && direction == "received")
    });
    assert!(goaway, "the server's GOAWAY is in the trace");
    assert_eq!(
        load.count("h2_session"),
        2,
        "a second connection after the GOAWAY"
    );
    assert!(
        load.count("retry") >= 1,
        "the refused requests were sent again"
    );
    // Every image was answered, on the second connection.
    let failed: Vec<_> = load
        .page()
        .assets
        .iter()
        .filter(|a| a.outcome.is_err())
        .map(|a| a.asset.url.to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "assets failed after the GOAWAY: {failed:?}"
    );
}

#[test]
fn a_reset_stream_fails_its_request_alone() {
    let (addr, ca, _server) = misbehaving_server(Misbehaviour::ResetOne);
    let load = load_with(options_trusting(ca), &format!("https://{addr}/"));
    let page = load.page();
    assert_eq!(page.status, Some(200));
    let outcomes: Vec<(String, Result<u16, String>)> = page
        .assets
        .iter()
        .map(|a| {
            let outcome = match &a.outcome {
                Ok(r) => Ok(r.status),
                Err(e) => Err(e.message.clone()),
            };
            (a.asset.url.path().to_string(), outcome)
        })
        .collect();
    for (path, outcome) in &outcomes {
        match (path.as_str(), outcome) {
            ("/reset.png", Err(message)) => assert!(
                message.contains("RST_STREAM") && message.contains("INTERNAL_ERROR"),
                "{message}"
            ),
            ("/reset.png", Ok(_)) => panic!("the reset stream got an answer"),
            (_, Ok(200)) => {}
            (path, other) => panic!("{path}: {other:?}"),
        }
    }
    assert_eq!(
        load.count("connect"),
        1,
        "the connection survived the reset"
    );
}

#[test]
fn a_server_that_picks_h2_and_speaks_http1_is_named_for_what_it_sent() {
    let ca = minibrowse::demo::https::make_ca(IpAddr::V4(TEST_SERVERS)).expect("CA");
    let mut config = (*ca.server).clone();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind((TEST_SERVERS, 0)))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    runtime.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            if let Ok(mut tls) = acceptor.accept(tcp).await {
                let _ = tls
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
                let _ = tls.shutdown().await;
            }
        }
    });
    let load = load_with(options_trusting(ca.ca_der), &format!("https://{addr}/"));
    let message = &load.error().message;
    assert!(
        message.contains("does not speak it") && message.contains("HTTP/1.1 400"),
        "{message}"
    );
}

/// `chat --via sse` on the HTTPS site: the event stream and the POSTs that send messages are
/// streams of one HTTP/2 connection, the event stream read frame by frame as events come.
#[test]
fn an_sse_chat_over_https_is_two_streams_of_one_connection() {
    let world = world();
    let dir = TempDir::new("h2-sse");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &world.ca_pem).expect("CA file");
    let dns = world.dns_addr.to_string();
    let url = world.https_url("");
    let events = json_events(
        &[
            "chat",
            "--via",
            "sse",
            "--name",
            "h2",
            "--send",
            "over h2",
            "--wait",
            "1",
            "--json",
            "--cacert",
            ca.to_str().expect("path"),
            "--dns-server",
            &dns,
            &url,
        ],
        Duration::from_secs(20),
    );
    let of = |name: &str| -> Vec<&serde_json::Value> {
        events.iter().filter(|e| e["event"] == name).collect()
    };
    assert_eq!(
        of("connect").len(),
        1,
        "one connection for the stream and the POST"
    );
    let purposes: Vec<&str> = of("request")
        .iter()
        .filter_map(|e| e["purpose"].as_str())
        .collect();
    assert!(
        purposes.contains(&"eventsource") && purposes.contains(&"fetch"),
        "{purposes:?}"
    );
    assert_eq!(
        of("h2_stream").len(),
        purposes.len(),
        "every request a stream"
    );
    let heard = of("sse_event")
        .iter()
        .any(|e| e["data"].as_str().is_some_and(|d| d.contains("over h2")));
    assert!(
        heard,
        "the message came back as an event on the HTTP/2 stream"
    );
}

#[test]
fn big_bodies_cross_whole_under_flow_control_and_the_frames_are_summed() {
    let (addr, ca, _server) = misbehaving_server(Misbehaviour::BigBodies);
    let load = load_with(options_trusting(ca), &format!("https://{addr}/"));
    let page = load.page();
    let expected = big_body();
    for asset in &page.assets {
        let response = asset.outcome.as_ref().expect("every image loads");
        assert!(
            response.body == expected,
            "{}: the body arrived changed",
            asset.asset.url
        );
    }
    assert_eq!(
        page.assets.len(),
        4,
        "four images of 3 MiB on one connection"
    );
    assert_eq!(load.count("connect"), 1);
    // Flow control: the browser's window is 256 KiB a stream, so it granted more as it read.
    let updates: u32 = load
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::H2Frame {
                frame,
                direction,
                frames,
                stream,
                ..
            } if frame == "WINDOW_UPDATE" && direction == "sent" && *stream != 0 => Some(*frames),
            _ => None,
        })
        .sum();
    assert!(updates >= 4 * 3, "few WINDOW_UPDATEs for 12 MiB: {updates}");
    // Hundreds of DATA frames, said as a few events a stream.
    let data_events = load
        .events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::H2Frame { frame, .. } if frame == "DATA"))
        .count();
    assert!(data_events <= 4 * 4 + 1, "{data_events} DATA events");
}

/// `minibrowse demo PATH --https`: the HTTPS site, trusted for the run, over HTTP/2; with
/// `--http1.1`, the same page over HTTP/1.1.
#[test]
fn demo_https_loads_over_http2_and_http1_1_on_request() {
    for (extra, version) in [(None, "HTTP/2"), (Some("--http1.1"), "HTTP/1.1")] {
        let mut args = vec!["demo", "/", "--https", "--json"];
        args.extend(extra);
        let versions: BTreeSet<String> = json_events(&args, Duration::from_secs(30))
            .into_iter()
            .filter(|e| e["event"] == "response")
            .filter_map(|e| e["version"].as_str().map(str::to_string))
            .collect();
        assert_eq!(versions, BTreeSet::from([version.to_string()]), "{extra:?}");
    }
}

/// Runs the binary with `args` (a `--json` run), which must succeed; its events.
fn json_events(args: &[&str], deadline: Duration) -> Vec<serde_json::Value> {
    let run = run_binary(args, deadline);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
