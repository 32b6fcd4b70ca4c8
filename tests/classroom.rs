//! The classroom (issue 13): the server's side made visible (a front server that maps paths
//! to its files, passes on what it lacks to a backend, and says so on the console), and a
//! demo world that listens on another address than 127.0.0.1 for a class to join.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use common::{load_with, options};
use minibrowse::demo::{Console, ConsoleLines, DemoOptions, DemoWorld, ServedLine, Server};
use minibrowse::trace::EventKind;

/// A world whose servers report into a console the test reads.
fn world_with_console(options: DemoOptions) -> (DemoWorld, ConsoleLines) {
    let (console, lines) = Console::bounded(256);
    let world =
        DemoWorld::start(DemoOptions { console, ..options }).expect("the demo world starts");
    (world, lines)
}

/// The console lines that have come, waiting until `enough` says they are all there.
fn lines_until(lines: &ConsoleLines, enough: impl Fn(&[ServedLine]) -> bool) -> Vec<ServedLine> {
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !enough(&seen) && std::time::Instant::now() < deadline {
        if let Some(line) = lines.next(Duration::from_millis(50)) {
            seen.push(line);
        }
    }
    seen
}

/// The status and the response head of the document of a load of `url`.
fn fetch(world: &DemoWorld, url: &str) -> (u16, String, String) {
    let mut opts = options(world);
    opts.fetch_assets = false;
    let load = load_with(opts, url);
    let (status, head) = load
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Response { status, head, .. } => Some((*status, head.clone())),
            _ => None,
        })
        .expect("a response");
    let text = load
        .result
        .map(|p| p.layout.to_text(false))
        .unwrap_or_default();
    (status, head, text)
}

fn line_for<'a>(lines: &'a [ServedLine], server: Server, path: &str) -> Option<&'a ServedLine> {
    lines
        .iter()
        .find(|l| l.server == server && l.target == path)
}

#[test]
fn the_front_server_maps_forwards_or_fails_and_says_so_on_the_console() {
    let (world, lines) = world_with_console(DemoOptions::default());

    // 1. The front server has the file: 200, no Via.
    let (status, head, text) = fetch(&world, &world.url("/front.txt"));
    assert_eq!(status, 200);
    assert!(!head.to_ascii_lowercase().contains("\r\nvia:"), "{head}");
    assert!(
        text.contains("This file lives on the front server"),
        "{text}"
    );

    // 2. Only the backend has it: 200 from the backend, passed on with Via.
    let (status, head, text) = fetch(&world, &world.url("/archive.html"));
    assert_eq!(status, 200);
    assert!(head.contains("via: 1.1 www.minibrowse.test\r\n"), "{head}");
    assert!(text.contains("This page lives on the backend"), "{text}");

    // 3. Nobody has it: the backend's 404, passed on with Via.
    let (status, head, text) = fetch(&world, &world.url("/nowhere.html"));
    assert_eq!(status, 404);
    assert!(head.contains("via: 1.1 www.minibrowse.test\r\n"), "{head}");
    assert!(text.contains("No server has this file"), "{text}");

    let seen = lines_until(&lines, |seen| {
        line_for(seen, Server::Backend, "/nowhere.html").is_some()
            && line_for(seen, Server::Web, "/nowhere.html").is_some()
    });
    let shown = |server, path| {
        line_for(&seen, server, path)
            .map(|l| l.to_string())
            .unwrap_or_else(|| panic!("no {server:?} line for {path} in {seen:#?}"))
    };
    let front = shown(Server::Web, "/front.txt");
    assert!(
        front.contains("GET /front.txt → site/front.txt · 200 OK"),
        "{front}"
    );
    let forwarded = shown(Server::Web, "/archive.html");
    let backend = world.backend_addr;
    assert!(
        forwarded.contains(&format!(
            "GET /archive.html → not in site/, forwarded to the backend {backend} · 200 OK"
        )),
        "{forwarded}"
    );
    let behind = shown(Server::Backend, "/archive.html");
    assert!(
        behind.contains("→ backend/archive.html · 200 OK"),
        "{behind}"
    );
    assert!(shown(Server::Backend, "/nowhere.html")
        .contains("→ no such file in backend/ · 404 Not Found"));
    assert!(shown(Server::Web, "/nowhere.html").contains("· 404 Not Found"));
    // The DNS server's side of it: the browser's question and the answer it got.
    let dns = seen
        .iter()
        .find(|l| l.server == Server::Dns)
        .map(|l| l.to_string())
        .expect("a DNS line");
    assert!(
        dns.contains("A? www.minibrowse.test. (udp) → answered 127.0.0.1 · NOERROR"),
        "{dns}"
    );
    // The backend's client is the front server, not the browser.
    let client = line_for(&seen, Server::Backend, "/archive.html")
        .map(|l| l.client.ip())
        .expect("the backend's line");
    assert_eq!(client, world.listen);
}

#[test]
fn a_stopped_backend_is_a_502_from_the_front_server_until_it_starts_again() {
    let (world, lines) = world_with_console(DemoOptions::default());
    world.set_backend(false).expect("stop");
    assert!(!world.backend_running());
    assert!(
        TcpStream::connect(world.backend_addr).is_err(),
        "the backend's port is closed"
    );

    let (status, head, text) = fetch(&world, &world.url("/archive.html"));
    assert_eq!(status, 502);
    assert!(head.starts_with("HTTP/1.1 502 Bad Gateway\r\n"), "{head}");
    assert!(head.contains("via: 1.1 www.minibrowse.test\r\n"), "{head}");
    assert!(text.contains("The backend did not answer"), "{text}");
    // What the front server has, it still serves.
    assert_eq!(fetch(&world, &world.url("/front.txt")).0, 200);

    let seen = lines_until(&lines, |seen| {
        line_for(seen, Server::Web, "/archive.html").is_some()
    });
    let line = line_for(&seen, Server::Web, "/archive.html")
        .map(|l| l.to_string())
        .expect("a line");
    assert!(
        line.contains("it did not answer (connection refused) · 502 Bad Gateway"),
        "{line}"
    );

    world.set_backend(true).expect("start again, same port");
    assert!(world.backend_running());
    assert_eq!(fetch(&world, &world.url("/archive.html")).0, 200);
}

#[test]
fn a_world_on_another_address_answers_it_in_dns_and_leaves_127_0_0_1_alone() {
    let listen = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let world = DemoWorld::start(DemoOptions {
        listen,
        proxy_port: Some(0),
        ..DemoOptions::default()
    })
    .expect("the demo world starts on 127.0.0.2");
    for addr in [
        world.http_addr,
        world.https_addr,
        world.dns_addr,
        world.backend_addr,
        world.proxy_addr.expect("a proxy"),
    ] {
        assert_eq!(addr.ip(), listen);
        let on_one = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port());
        assert!(
            TcpStream::connect_timeout(&on_one, Duration::from_secs(1)).is_err(),
            "nothing listens on {on_one}"
        );
    }
    let mut opts = options(&world);
    opts.fetch_assets = false;
    let load = load_with(opts, &world.url("/server.html"));
    let answers: Vec<String> = load
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Dns { records, .. } => Some(records.iter().map(|r| r.data.clone())),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(answers, vec!["127.0.0.2".to_string()]);
    assert!(load.dump().contains("The server's side"));
    // Off 127.0.0.1, the AAAA records go: ::1 would be the student's own machine.
    let v6 = load_with(options(&world), &world.url("/").replace("www.", "v6."));
    assert!(v6.result.is_err(), "v6.minibrowse.test has no address now");
}
