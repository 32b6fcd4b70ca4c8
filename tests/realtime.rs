//! Long polling and WebSockets against the demo chat, and WebSocket failures against raw
//! servers written here (a wrong Accept, a server that vanishes, a frame over the limit).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{options, world};
use minibrowse::chat::Message as ChatMessage;
use minibrowse::chat::{self, ChatPlan, Via};
use minibrowse::demo::{DemoOptions, DemoWorld};
use minibrowse::net::ws;
use minibrowse::page::Browser;
use minibrowse::trace::{Collector, Event, EventKind, Step, Trace};

fn plan(via: Via, name: &str, send: &[&str], wait_ms: u64) -> ChatPlan {
    ChatPlan {
        via,
        name: name.into(),
        send: send.iter().map(|s| s.to_string()).collect(),
        wait: Duration::from_millis(wait_ms),
        timeout: Duration::from_secs(30),
    }
}

/// Runs one chat client; returns what it showed and its trace.
fn chat_client(
    world: &DemoWorld,
    plan: ChatPlan,
) -> (Result<chat::Cost, chat::ChatError>, Vec<String>, Vec<Event>) {
    let browser = Browser::new(options(world)).expect("browser");
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    let page = url::Url::parse(&world.home_url()).expect("url");
    let mut shown = Vec::new();
    let result = chat::run(
        browser.client(),
        &page,
        &plan,
        &trace,
        &mut |m: &ChatMessage| shown.push(format!("{}: {}", m.name, m.text)),
        None,
    );
    (result, shown, collector.events())
}

#[test]
fn a_poller_and_a_websocket_chat_through_the_demo_server() {
    let world = Arc::new(world());
    let ws_world = world.clone();
    let ws_side = std::thread::spawn(move || {
        chat_client(
            &ws_world,
            plan(Via::WebSocket, "wendy", &["hello from a WebSocket"], 2500),
        )
    });
    std::thread::sleep(Duration::from_millis(400));
    let (poll_result, poll_shown, poll_events) = chat_client(
        &world,
        plan(Via::Poll, "paul", &["hello from polling"], 1800),
    );
    let (ws_result, ws_shown, ws_events) = ws_side.join().expect("ws client");

    // Both see both messages, in the order the room numbered them.
    let expected = vec![
        "wendy: hello from a WebSocket".to_string(),
        "paul: hello from polling".to_string(),
    ];
    assert_eq!(poll_shown, expected);
    assert_eq!(ws_shown, expected);

    // Polling: a GET that answers at once (joining), a POST, then GETs the server holds.
    let poll_cost = poll_result.expect("poll client");
    let requests: Vec<(String, String)> = poll_events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Request { method, url, .. } => Some((
                method.clone(),
                url.split('/').nth(3).unwrap_or_default().to_string(),
            )),
            _ => None,
        })
        .collect();
    assert!(requests.len() >= 3, "{requests:?}");
    assert_eq!(requests[0], ("GET".into(), "chat".into()));
    assert!(requests.iter().any(|(m, _)| m == "POST"));
    assert_eq!(poll_cost.messages, 2);
    assert!(poll_cost.requests >= 3);
    let poll_per_message = poll_cost.header_bytes / poll_cost.messages;

    // WebSocket: one Upgrade answered 101 with a matching Accept, then frames.
    let ws_cost = ws_result.expect("ws client");
    assert_eq!(ws_cost.requests, 1);
    assert!(ws_events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::Response { status: 101, .. })));
    assert!(ws_events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::WsHandshake { ok: true, .. })));
    let frames: Vec<(String, String, bool)> = ws_events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::WsFrame {
                direction,
                opcode,
                masked,
                ..
            } => Some((direction.clone(), opcode.clone(), *masked)),
            _ => None,
        })
        .collect();
    assert!(
        frames.contains(&("sent".into(), "text".into(), true)),
        "client frames are masked: {frames:?}"
    );
    assert!(
        frames.contains(&("received".into(), "text".into(), false)),
        "server frames are not: {frames:?}"
    );
    assert!(
        frames.contains(&("sent".into(), "close".into(), true)),
        "{frames:?}"
    );
    assert!(
        frames.contains(&("received".into(), "close".into(), false)),
        "the close handshake completes: {frames:?}"
    );
    let ws_per_message = ws_cost.header_bytes / ws_cost.messages.max(1);
    assert!(
        ws_per_message < poll_per_message,
        "ws {ws_per_message} B/message vs poll {poll_per_message}"
    );
    for events in [&poll_events, &ws_events] {
        assert!(events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::ChatStats { .. })));
    }
}

#[test]
fn a_held_poll_is_pending_until_a_message_arrives() {
    let world = world();
    let browser = Browser::new(options(&world)).expect("browser");
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    let poll = url::Url::parse(&world.url("/chat/poll?since=0")).expect("url");
    let send = url::Url::parse(&world.url("/chat/send")).expect("url");
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        let browser = Browser::new(options(&world)).expect("browser");
        let sent_events = Arc::new(Collector::default());
        let trace = Trace::new(sent_events.clone());
        let limits = minibrowse::net::FetchLimits {
            timeout: Duration::from_secs(5),
            max_body: 4096,
        };
        let body = br#"{"name":"tim","text":"news"}"#;
        let sent = browser
            .client()
            .post(&send, body, "application/json", limits, &trace)
            .expect("posted");
        assert_eq!(sent.status, 200);
        // The trace shows the body the way it shows the head: as it went, its type, its size.
        let shown = sent_events.events().into_iter().find_map(|e| match e.kind {
            EventKind::Request { body, .. } => body,
            _ => None,
        });
        let shown = shown.expect("the request event carries its body");
        assert_eq!(shown.content_type, "application/json");
        assert_eq!(shown.bytes, body.len() as u64);
        assert_eq!(shown.preview.as_bytes(), body);
        world
    });
    let started = Instant::now();
    let limits = minibrowse::net::FetchLimits {
        timeout: Duration::from_secs(10),
        max_body: 4096,
    };
    let answer = browser
        .client()
        .fetch(&poll, minibrowse::net::Purpose::Other, limits, &trace)
        .expect("poll");
    let held = started.elapsed();
    let _world = sender.join().expect("sender");
    assert!(
        held >= Duration::from_millis(400),
        "the server held the poll: {held:?}"
    );
    let messages: Vec<ChatMessage> = serde_json::from_slice(&answer.body).expect("json");
    let [message] = messages.as_slice() else {
        panic!("one message: {messages:?}")
    };
    assert_eq!(
        (message.seq, message.name.as_str(), message.text.as_str()),
        (Some(1), "tim", "news")
    );
    // The held poll handed it out the moment it was posted: it had not waited in the room.
    assert!(message.age_ms.is_some_and(|age| age < 300), "{message:?}");
    // The response came a long time after the request was sent: the wait is the hold.
    let ttfb = collector.events().iter().find_map(|e| match &e.kind {
        EventKind::Response { ttfb_ms, .. } => Some(*ttfb_ms),
        _ => None,
    });
    assert!(ttfb.unwrap_or(0.0) >= 400.0, "{ttfb:?}");
}

#[test]
fn polling_survives_the_server_restarting() {
    let first = DemoWorld::start(DemoOptions {
        chat_hold: Some(Duration::from_millis(300)),
        ..Default::default()
    })
    .expect("world");
    let (http_port, dns_port) = (first.http_addr.port(), first.dns_addr.port());
    let opts = options(&first);
    let home = first.home_url();
    let client = std::thread::spawn(move || {
        let browser = Browser::new(opts).expect("browser");
        let collector = Arc::new(Collector::default());
        let trace = Trace::new(collector.clone());
        let page = url::Url::parse(&home).expect("url");
        let mut shown = Vec::new();
        let result = chat::run(
            browser.client(),
            &page,
            &plan(Via::Poll, "ria", &[], 6000),
            &trace,
            &mut |m: &ChatMessage| shown.push(m.text.clone()),
            None,
        );
        (result, shown, collector.events())
    });
    std::thread::sleep(Duration::from_millis(700));
    drop(first);
    std::thread::sleep(Duration::from_millis(1200));
    let second = DemoWorld::start(DemoOptions {
        http_port,
        dns_port,
        chat_hold: Some(Duration::from_millis(300)),
        ..Default::default()
    })
    .expect("the server comes back on the same ports");
    std::thread::sleep(Duration::from_millis(1500));
    let browser = Browser::new(options(&second)).expect("browser");
    let trace = Trace::new(Arc::new(Collector::default()));
    let send = url::Url::parse(&second.url("/chat/send")).expect("url");
    let limits = minibrowse::net::FetchLimits {
        timeout: Duration::from_secs(5),
        max_body: 4096,
    };
    browser
        .client()
        .post(
            &send,
            br#"{"name":"sam","text":"back again"}"#,
            "application/json",
            limits,
            &trace,
        )
        .expect("posted");
    let (result, shown, events) = client.join().expect("client");
    result.expect("the poller kept going");
    assert_eq!(shown, vec!["back again".to_string()]);
    let retries: Vec<u64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Retry { delay_ms, .. } => Some(*delay_ms),
            _ => None,
        })
        .collect();
    assert!(!retries.is_empty(), "the outage shows as retries");
    assert_eq!(retries[0], 500);
}

#[test]
fn a_page_that_is_not_a_websocket_is_a_clear_error() {
    let world = world();
    let browser = Browser::new(options(&world)).expect("browser");
    let trace = Trace::new(Arc::new(Collector::default()));
    let url = url::Url::parse(&world.url("/index.html").replace("http://", "ws://")).expect("url");
    let error = match ws::connect(browser.client(), &url, Duration::from_secs(5), &trace) {
        Ok(_) => panic!("a plain page cannot be upgraded"),
        Err(e) => e,
    };
    assert_eq!(error.step, Step::WebSocket);
    assert!(
        error.message.contains("instead of 101 Switching Protocols"),
        "{}",
        error.message
    );
}

/// A raw server for one connection: reads the Upgrade, then does what `answer` says.
fn raw_server(answer: impl FnOnce(&mut std::net::TcpStream, &str) + Send + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap_or_default()
            .trim()
            .to_string();
        answer(&mut stream, &key);
    });
    port
}

fn switching(accept: &str) -> String {
    format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n")
}

fn connect_raw(
    port: u16,
) -> (
    Result<ws::WsClient, minibrowse::net::FetchError>,
    Trace,
    Arc<Collector>,
) {
    let browser = Browser::new(minibrowse::page::Options::default()).expect("browser");
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    let url = url::Url::parse(&format!("ws://127.0.0.1:{port}/")).expect("url");
    let result = ws::connect(browser.client(), &url, Duration::from_secs(5), &trace);
    (result, trace, collector)
}

#[test]
fn a_wrong_accept_is_refused() {
    let port = raw_server(|stream, _key| {
        let _ = stream.write_all(switching("bm90IHRoZSByaWdodCBhbnN3ZXI=").as_bytes());
        std::thread::sleep(Duration::from_millis(500));
    });
    let (result, _, collector) = connect_raw(port);
    let error = result.err().expect("refused");
    assert_eq!(error.step, Step::WebSocket);
    assert!(
        error
            .message
            .contains("Sec-WebSocket-Accept does not match"),
        "{}",
        error.message
    );
    assert!(collector
        .events()
        .iter()
        .any(|e| matches!(&e.kind, EventKind::WsHandshake { ok: false, .. })));
}

#[test]
fn a_server_that_vanishes_is_reported() {
    let port = raw_server(|stream, key| {
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let _ = stream.write_all(switching(&accept).as_bytes());
        // Gone without a closing handshake.
        let _ = stream.shutdown(std::net::Shutdown::Both);
    });
    let (result, _, _) = connect_raw(port);
    let mut client = result.expect("the handshake works");
    let outcome = client.read(Duration::from_secs(3));
    match outcome {
        Err(message) => assert!(
            message.contains("vanished") || message.contains("reset"),
            "{message}"
        ),
        Ok(Some(ws::Incoming::Closed(None))) => {}
        other => panic!("expected the loss to be noticed, got {other:?}"),
    }
}

#[test]
fn a_frame_over_the_limit_is_refused_without_buffering_it() {
    let port = raw_server(|stream, key| {
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let _ = stream.write_all(switching(&accept).as_bytes());
        // A text frame announcing 64 MiB.
        let mut frame = vec![0x81, 127];
        frame.extend_from_slice(&(64u64 * 1024 * 1024).to_be_bytes());
        let _ = stream.write_all(&frame);
        let _ = stream.write_all(&[b'x'; 4096]);
        std::thread::sleep(Duration::from_millis(500));
    });
    let (result, _, _) = connect_raw(port);
    let mut client = result.expect("the handshake works");
    let error = client.read(Duration::from_secs(3)).expect_err("refused");
    assert!(
        error.contains("over the limit")
            || error.contains("too long")
            || error.contains("capacity"),
        "{error}"
    );
}

#[test]
fn chat_and_ws_commands_print_one_line_per_message() {
    let world = world();
    let dns = world.dns_addr.to_string();
    let bin = env!("CARGO_BIN_EXE_minibrowse");
    let output = std::process::Command::new(bin)
        .args([
            "chat",
            "--via",
            "ws",
            "--name",
            "cli",
            "--send",
            "one",
            "--send",
            "two",
            "--wait",
            "1",
            "--dns-server",
            &dns,
            &world.home_url(),
        ])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "cli: one\ncli: two\n"
    );
    let ws_url = world.url("/chat/ws").replace("http://", "ws://");
    let output = std::process::Command::new(bin)
        .args([
            "ws",
            "--send",
            r#"{"name":"raw","text":"frame"}"#,
            "--wait",
            "1",
            "--dns-server",
            &dns,
            &ws_url,
        ])
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(r#""name":"raw","text":"frame""#),
        "{stdout}"
    );
    // Not a WebSocket: one line on stderr, exit 1.
    let output = std::process::Command::new(bin)
        .args([
            "ws",
            "--wait",
            "1",
            "--dns-server",
            &dns,
            &world.url("/").replace("http://", "ws://"),
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr)
        .starts_with("minibrowse: websocket: the server answered 200 OK instead of 101"));
}
