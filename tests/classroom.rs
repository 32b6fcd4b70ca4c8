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
    // The DNS server's side of it: the browser's A question and the answer it got (its
    // AAAA question goes out at the same time, so either may come first).
    let dns = seen
        .iter()
        .find(|l| l.server == Server::Dns && l.method == "A?")
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
    assert_eq!(v6.error().step, minibrowse::trace::Step::Dns);
}

// ---- `minibrowse serve`, the real binary, as a class would use it ----

use common::serve::{student, Ports, ServeChild, Stdout};

fn refused_on_127_0_0_1(port: u16) -> bool {
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
    matches!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused
    )
}

#[test]
fn a_class_joins_serve_on_127_0_0_2_with_a_browser_and_two_chat_clients() {
    let serve = ServeChild::start("127.0.0.2", &[], Stdout::Read);
    for addr in [
        serve.web,
        serve.https,
        serve.backend,
        serve.dns,
        serve.proxy,
    ] {
        assert_eq!(addr.ip().to_string(), "127.0.0.2", "{:?}", serve.banner);
        assert!(
            refused_on_127_0_0_1(addr.port()),
            "something listens on 127.0.0.1:{}",
            addr.port()
        );
    }
    let dns = serve.dns.to_string();
    let home = format!("http://www.minibrowse.test:{}/", serve.web.port());
    let (ok, out, err) = student(&["--dns-server", &dns, "--trace", "--dump", &home]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("www.minibrowse.test.                300  A     127.0.0.2"),
        "{out}"
    );
    assert!(
        out.contains(&format!("→ 127.0.0.2:{}", serve.web.port())),
        "{out}"
    );
    assert!(
        out.contains("Welcome to the minibrowse demo world"),
        "{out}"
    );

    // Two students chat through the teacher's server, one by long polling, one by WebSocket.
    let (poll_dns, poll_home) = (dns.clone(), home.clone());
    let poller = std::thread::spawn(move || {
        student(&[
            "chat",
            "--via",
            "poll",
            "--name",
            "paul",
            "--send",
            "hello from polling",
            "--wait",
            "5",
            "--dns-server",
            &poll_dns,
            &poll_home,
        ])
    });
    std::thread::sleep(Duration::from_millis(800));
    let (ws_ok, ws_out, ws_err) = student(&[
        "chat",
        "--via",
        "ws",
        "--name",
        "wendy",
        "--send",
        "hello from a WebSocket",
        "--wait",
        "3",
        "--dns-server",
        &dns,
        &home,
    ]);
    let (poll_ok, poll_out, poll_err) = poller.join().expect("the poller");
    assert!(ws_ok, "{ws_out}\n{ws_err}");
    assert!(poll_ok, "{poll_out}\n{poll_err}");
    for out in [&ws_out, &poll_out] {
        assert!(out.contains("paul: hello from polling"), "{out}");
        assert!(out.contains("wendy: hello from a WebSocket"), "{out}");
    }
    // The teacher's console saw both: the poller's POST and the WebSocket's upgrade.
    assert!(serve
        .console_line(Duration::from_secs(5), |l| l.starts_with("web")
            && l.contains("POST /chat/send"))
        .is_some());
}

/// The console line of `server` for `GET path`, among `lines`.
#[test]
fn a_student_takes_the_teachers_ca_from_the_web_server_and_trusts_the_https_site() {
    let serve = ServeChild::start("127.0.0.2", &[], Stdout::Read);
    let dns = serve.dns.to_string();
    let ca_url = format!(
        "http://www.minibrowse.test:{}/demo-ca.pem",
        serve.web.port()
    );
    assert!(
        serve.banner.iter().any(|l| l.contains(&ca_url)),
        "the banner tells students where: {:?}",
        serve.banner
    );
    let (ok, pem, err) = student(&["--dns-server", &dns, "--dump", &ca_url]);
    assert!(ok, "{err}");
    assert!(pem.contains("-----BEGIN CERTIFICATE-----"), "{pem}");
    let file = std::env::temp_dir().join(format!("student-ca-{}.pem", std::process::id()));
    std::fs::write(&file, &pem).expect("the student saves it");
    let secure = format!("https://secure.minibrowse.test:{}/", serve.https.port());
    let file_arg = file.to_string_lossy().into_owned();
    let (ok, out, err) = student(&[
        "--dns-server",
        &dns,
        "--cacert",
        &file_arg,
        "--dump",
        &secure,
    ]);
    let _ = std::fs::remove_file(&file);
    assert!(ok, "{out}\n{err}");
    let (ok, _, err) = student(&["--dns-server", &dns, "--dump", &secure]);
    assert!(!ok && err.contains("--cacert"), "{err}");
}

#[test]
fn a_student_chats_over_https_with_the_teachers_ca_and_through_the_proxy() {
    let serve = ServeChild::start("127.0.0.2", &[], Stdout::Read);
    let dns = serve.dns.to_string();
    let ca = serve.ca.clone().expect("serve wrote its CA");
    let ca = ca.to_string_lossy().into_owned();
    let secure = format!("https://secure.minibrowse.test:{}/", serve.https.port());
    let chat = |extra: &[&str], name: &str, site: &str| {
        let mut args = vec![
            "chat",
            "--via",
            "ws",
            "--name",
            name,
            "--send",
            "over TLS",
            "--wait",
            "1",
            "--dns-server",
            &dns,
            "--trace",
        ];
        args.extend_from_slice(extra);
        args.push(site);
        student(&args)
    };

    // Not trusted yet: one clear line, pointing at --cacert.
    let (ok, out, err) = chat(&[], "una", &secure);
    assert!(!ok, "{out}");
    assert!(err.contains("--cacert"), "{err}");

    // With the teacher's CA: a wss: chat, its handshake checked.
    let (ok, out, err) = chat(&["--cacert", &ca], "tess", &secure);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("TLS"), "{out}");
    assert!(out.contains("tess: over TLS"), "{out}");

    // --insecure: it works, and says loudly that nothing was checked.
    let (ok, out, err) = chat(&["--insecure"], "ivan", &secure);
    assert!(ok, "{out}\n{err}");
    assert!(err.contains("WARNING: --insecure"), "{err}");

    // Through the teacher's proxy: a CONNECT tunnel to the web server.
    let proxy = format!("http://{}", serve.proxy);
    let home = format!("http://www.minibrowse.test:{}/", serve.web.port());
    let (ok, out, err) = chat(&["--proxy", &proxy], "pia", &home);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("PROXY"), "{out}");
    assert!(out.contains("pia: over TLS"), "{out}");
}

fn console_for<'a>(lines: &'a [String], server: &str, path: &str) -> Option<&'a String> {
    let request = format!(" GET {path} → ");
    lines
        .iter()
        .find(|l| l.split_whitespace().next() == Some(server) && l.contains(&request))
}

#[test]
fn serve_prints_what_each_server_did_for_the_three_cases_and_a_stopped_backend() {
    let mut serve = ServeChild::start("127.0.0.2", &[], Stdout::Read);
    let dns = serve.dns.to_string();
    let web_port = serve.web.port();
    let url = |path: &str| format!("http://www.minibrowse.test:{web_port}{path}");
    let fetch = |path: &str| {
        student(&[
            "--dns-server",
            &dns,
            "--no-assets",
            "--trace",
            "--no-explain",
            "--dump",
            &url(path),
        ])
    };
    for (path, status) in [
        ("/front.txt", "200 OK"),
        ("/archive.html", "200 OK"),
        ("/nowhere.html", "404 Not Found"),
    ] {
        let (_, out, err) = fetch(path);
        assert!(
            out.contains(&format!("RESPONSE {status}")),
            "{path}: {out}\n{err}"
        );
        let via = out.contains("| via: 1.1 www.minibrowse.test");
        assert_eq!(via, path != "/front.txt", "{path}: {out}");
    }
    let seen = serve.console_until(Duration::from_secs(10), |seen| {
        console_for(seen, "web", "/nowhere.html").is_some()
    });
    let line = |server, path| {
        console_for(&seen, server, path)
            .cloned()
            .unwrap_or_else(|| panic!("no {server} line for {path}: {seen:#?}"))
    };
    let backend = serve.backend;
    assert!(line("web", "/front.txt").contains("GET /front.txt → site/front.txt · 200 OK"));
    assert!(line("backend", "/archive.html")
        .contains("GET /archive.html → backend/archive.html · 200 OK"));
    assert!(line("web", "/archive.html").contains(&format!(
        "GET /archive.html → not in site/, forwarded to the backend {backend} · 200 OK"
    )));
    assert!(line("backend", "/nowhere.html").contains("→ no such file in backend/ · 404 Not Found"));
    assert!(line("web", "/nowhere.html").contains(&format!(
        "GET /nowhere.html → not in site/, forwarded to the backend {backend} · 404 Not Found"
    )));
    assert!(
        seen.iter().any(|l| l.starts_with("dns")
            && l.contains("A? www.minibrowse.test. (udp) → answered 127.0.0.2 · NOERROR")),
        "{seen:#?}"
    );

    // The teacher stops the backend: the front server has nothing to pass the request to.
    serve.type_line("backend off");
    std::thread::sleep(Duration::from_millis(300));
    let (ok, out, _) = fetch("/archive.html");
    assert!(out.contains("RESPONSE 502 Bad Gateway"), "{out}");
    assert!(out.contains("The backend did not answer"), "{out}");
    let _ = ok;
    let seen = serve.console_until(Duration::from_secs(5), |seen| {
        console_for(seen, "web", "/archive.html").is_some()
    });
    let failed = console_for(&seen, "web", "/archive.html")
        .cloned()
        .unwrap_or_default();
    assert!(
        failed.contains("it did not answer (connection refused) · 502 Bad Gateway"),
        "{failed}"
    );
    assert!(
        console_for(&seen, "backend", "/archive.html").is_none(),
        "{seen:#?}"
    );

    serve.type_line("backend on");
    std::thread::sleep(Duration::from_millis(300));
    let (_, out, _) = fetch("/archive.html");
    assert!(out.contains("RESPONSE 200 OK"), "{out}");
}

/// Sends `count` GETs of `path` on one kept-alive connection, reading each answer whole;
/// returns how many were answered 200.
fn hammer(web: SocketAddr, path: &str, count: usize) -> usize {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(web).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: www.minibrowse.test\r\n\r\n");
    let mut answered = 0;
    let mut buffer = Vec::new();
    for _ in 0..count {
        if stream.write_all(request.as_bytes()).is_err() {
            break;
        }
        // The head, then as many bytes as its Content-Length says.
        let head_end = loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break Some(end + 4);
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break None,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        };
        let Some(head_end) = head_end else { break };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return answered,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
        }
        if head.starts_with("http/1.1 200") {
            answered += 1;
        }
        buffer.drain(..head_end + length);
    }
    answered
}

/// After thousands of console lines nobody could take, every server still answers: the
/// web server, the DNS server (a student's load through it) and the proxy.
fn still_serving(serve: &mut ServeChild) {
    let started = std::time::Instant::now();
    assert_eq!(hammer(serve.web, "/front.txt", 3000), 3000);
    assert!(serve.running(), "serve is still running");
    let dns = serve.dns.to_string();
    let url = format!(
        "http://www.minibrowse.test:{}/server.html",
        serve.web.port()
    );
    let (ok, out, err) = student(&["--dns-server", &dns, "--dump", &url]);
    assert!(ok && out.contains("The server's side"), "{out}\n{err}");
    let proxy = format!("http://{}", serve.proxy);
    let (ok, out, err) = student(&["--dns-server", &dns, "--proxy", &proxy, "--dump", &url]);
    assert!(ok && out.contains("The server's side"), "{out}\n{err}");
    assert!(serve.running(), "serve is still running");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn serve_keeps_serving_when_its_stdout_is_closed_after_one_line() {
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut serve = ServeChild::start_on("127.0.0.1", &Ports::free(ip), Stdout::HeadOne);
    still_serving(&mut serve);
    let (status, stderr) = serve.interrupt();
    assert_eq!(status, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn serve_keeps_serving_when_nobody_reads_its_stdout() {
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut serve = ServeChild::start_on("127.0.0.1", &Ports::free(ip), Stdout::Blocked);
    still_serving(&mut serve);
    let (status, stderr) = serve.interrupt();
    assert_eq!(status, Some(0), "{stderr}");
}

#[test]
fn serve_keeps_serving_when_its_stdout_is_a_full_disk() {
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut serve = ServeChild::start_on("127.0.0.1", &Ports::free(ip), Stdout::Full);
    still_serving(&mut serve);
    let (status, stderr) = serve.interrupt();
    assert_eq!(status, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_taken_port_is_one_line_naming_the_option_to_change_it() {
    let taken = std::net::TcpListener::bind("127.0.0.2:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let run = common::run_binary(
        &[
            "serve",
            "--listen",
            "127.0.0.2",
            "--http-port",
            &port,
            "--https-port",
            "0",
            "--dns-port",
            "0",
            "--backend-port",
            "0",
            "--proxy-port",
            "0",
        ],
        Duration::from_secs(30),
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!("minibrowse: serve: port {port} on 127.0.0.2 is taken (the web server wants it): stop the program using it, or choose another port with --http-port N")
    );
}

#[test]
fn the_demo_ca_is_in_a_private_directory_of_the_run_removed_at_exit() {
    use std::os::unix::fs::PermissionsExt;
    let serve = ServeChild::start("127.0.0.2", &[], Stdout::Read);
    let ca = serve.ca.clone().expect("the banner names the CA file");
    let dir = ca.parent().expect("a directory").to_path_buf();
    assert!(dir.starts_with(std::env::temp_dir()), "{}", dir.display());
    let mode = |p: &std::path::Path| {
        std::fs::symlink_metadata(p)
            .map(|m| (m.file_type().is_symlink(), m.permissions().mode() & 0o777))
            .expect("metadata")
    };
    assert_eq!(mode(&dir), (false, 0o700));
    assert_eq!(mode(&ca), (false, 0o600));
    let pem = std::fs::read_to_string(&ca).expect("readable by us");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    // Its name is not predictable from the process id.
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    assert!(!name.contains(&serve.child.id().to_string()), "{name}");
    let (status, stderr) = serve.interrupt();
    assert_eq!(status, Some(0), "{stderr}");
    assert!(!dir.exists(), "{} is still there", dir.display());
}

// ---- The chat's three ways, and a chat that ends normally ----

use std::sync::Arc;

use minibrowse::chat::{self, ChatPlan, Message, Via};
use minibrowse::page::Browser;
use minibrowse::trace::{Collector, Event, Trace};

/// Runs a chat client for `wait` on its own thread; its result, what it showed (with when),
/// and its trace.
type ChatRun = (
    Result<chat::Cost, chat::ChatError>,
    Vec<(Duration, String)>,
    Vec<Event>,
);

fn chat_client(world: &DemoWorld, via: Via, wait: Duration) -> std::thread::JoinHandle<ChatRun> {
    let opts = options(world);
    let page = url::Url::parse(&world.home_url()).expect("url");
    std::thread::spawn(move || {
        let browser = Browser::new(opts).expect("browser");
        let collector = Arc::new(Collector::default());
        let trace = Trace::new(collector.clone());
        let started = std::time::Instant::now();
        let mut shown = Vec::new();
        let plan = ChatPlan {
            via,
            name: "rita".into(),
            send: Vec::new(),
            wait,
            timeout: Duration::from_secs(30),
        };
        let result = chat::run(
            browser.client(),
            &page,
            &plan,
            &trace,
            &mut |m: &Message| shown.push((started.elapsed(), format!("{}: {}", m.name, m.text))),
            None,
        );
        (result, shown, collector.events())
    })
}

/// Posts a message to the world's chat as a page of its site would (JSON, same origin).
fn post_raw(world: &DemoWorld, content_type: &str, origin: Option<&str>, text: &str) -> u16 {
    use std::io::{Read, Write};
    let body = format!("{{\"name\":\"tim\",\"text\":\"{text}\"}}");
    let host = format!("www.minibrowse.test:{}", world.http_addr.port());
    let origin = origin
        .map(|o| format!("Origin: {o}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST /chat/send HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n{origin}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(world.http_addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn failures(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Failed { step, message, .. } => Some(format!("{step}: {message}")),
            _ => None,
        })
        .collect()
}

#[test]
fn refresh_sees_a_message_only_when_it_asks_again_and_counts_the_same_costs() {
    let world = common::world();
    let every = Duration::from_millis(1000);
    let client = chat_client(&world, Via::Refresh { every }, Duration::from_millis(2600));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(post_raw(&world, "application/json", None, "news"), 200);
    let (result, shown, events) = client.join().expect("client");
    let cost = result.expect("a normal end");
    assert_eq!(shown.len(), 1, "{shown:?}");
    let (seen_at, line) = &shown[0];
    assert_eq!(line, "tim: news");
    // Said at 0.3 s, seen only at the next ask, 1 s after the first.
    assert!(
        *seen_at >= Duration::from_millis(900),
        "seen at {seen_at:?}"
    );
    let gets: Vec<&String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Request { method, url, .. } if method == "GET" => Some(url),
            _ => None,
        })
        .collect();
    assert_eq!(gets.len(), 3, "at 0, 1 and 2 s: {gets:?}");
    assert!(
        gets.iter().all(|u| u.ends_with("/chat/messages")),
        "{gets:?}"
    );
    assert_eq!(cost.requests, 3);
    assert_eq!(cost.messages, 1);
    assert!(cost.header_bytes > 3 * 100, "{cost:?}");
    let last_stats = events.iter().rev().find_map(|e| match &e.kind {
        EventKind::ChatStats { via, requests, .. } => Some((via.clone(), *requests)),
        _ => None,
    });
    assert_eq!(last_stats, Some(("refresh".to_string(), 3)));
    assert!(failures(&events).is_empty(), "{:?}", failures(&events));
}

#[test]
fn a_chat_whose_wait_runs_out_is_a_normal_end_not_a_failure() {
    // The room holds a poll 25 s; the visit is 1.5 s: the last poll is still held at its end.
    let world = common::world();
    for via in [Via::Poll, Via::WebSocket] {
        let (result, _, events) = chat_client(&world, via, Duration::from_millis(1500))
            .join()
            .expect("client");
        assert!(result.is_ok(), "{via:?}: {:?}", result.err());
        assert!(
            failures(&events).is_empty(),
            "{via:?}: {:?}",
            failures(&events)
        );
    }
}

#[test]
fn a_server_that_answers_polls_at_once_with_nothing_is_asked_less_and_less() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 {
                        return;
                    }
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n[]",
                    );
                }
            });
        }
    });
    let browser = Browser::new(minibrowse::page::Options::default()).expect("browser");
    let trace = Trace::new(Arc::new(Collector::default()));
    let page = url::Url::parse(&format!("http://{addr}/")).expect("url");
    let plan = ChatPlan {
        via: Via::Poll,
        name: "x".into(),
        send: Vec::new(),
        wait: Duration::from_secs(3),
        timeout: Duration::from_secs(10),
    };
    let result = chat::run(browser.client(), &page, &plan, &trace, &mut |_| {}, None);
    assert!(result.is_ok(), "{:?}", result.err());
    // Joining, then 0.5 s, 1 s, 2 s of waiting between asks: a handful, not 70.
    let polls = asked.load(std::sync::atomic::Ordering::Relaxed);
    assert!((2..=6).contains(&polls), "{polls} polls in 3 s");
}

#[test]
fn the_chat_takes_messages_only_as_json_from_its_own_site_and_a_few_a_second() {
    let world = common::world();
    let own = format!("http://www.minibrowse.test:{}", world.http_addr.port());
    assert_eq!(
        post_raw(&world, "application/json", Some(&own), "mine"),
        200
    );
    assert_eq!(
        post_raw(&world, "application/json; charset=utf-8", None, "mine too"),
        200
    );
    // What any web page may send without asking: a "simple" text/plain POST.
    assert_eq!(post_raw(&world, "text/plain", None, "forged"), 403);
    assert_eq!(
        post_raw(&world, "application/x-www-form-urlencoded", None, "forged"),
        403
    );
    assert_eq!(
        post_raw(
            &world,
            "application/json",
            Some("http://evil.test"),
            "forged"
        ),
        403
    );
    // A flood: the burst goes through, then 429 until the bucket fills again.
    let statuses: Vec<u16> = (0..40)
        .map(|n| post_raw(&world, "application/json", None, &format!("flood {n}")))
        .collect();
    let posted = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(posted <= 14 && refused >= 26, "{statuses:?}");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(post_raw(&world, "application/json", None, "later"), 200);
}
