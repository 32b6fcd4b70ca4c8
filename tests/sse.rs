//! Server-Sent Events against the demo chat's real event stream (`/chat/events`) and against
//! raw servers written here (a 204, a wrong type, a stream that breaks off): events arrive
//! one by one at their own times, a dropped stream is reopened with `Last-Event-ID` and
//! nothing is lost or comes twice, `chat --via sse` talks with a WebSocket client, and
//! EventSource gives up where the standard says it must.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{options, world};
use minibrowse::chat::{self, ChatPlan, Via};
use minibrowse::demo::{DemoOptions, DemoWorld};
use minibrowse::net::sse::{Ended, EventSource, News, SourceOptions};
use minibrowse::net::{Client, FetchLimits};
use minibrowse::page::Browser;
use minibrowse::trace::{Collector, Event, EventKind, Trace};

fn source_options(wait_ms: u64) -> SourceOptions {
    SourceOptions {
        wait: Duration::from_millis(wait_ms),
        timeout: Duration::from_secs(5),
        idle: Duration::from_secs(10),
        reconnect: true,
    }
}

/// Posts one chat message the way a page's script does.
fn post(client: &Client, world: &DemoWorld, name: &str, text: &str) {
    let url = url::Url::parse(&world.url("/chat/send")).expect("url");
    let body = serde_json::json!({ "name": name, "text": text }).to_string();
    let trace = Trace::new(Arc::new(Collector::default()));
    let limits = FetchLimits {
        timeout: Duration::from_secs(5),
        max_body: 4096,
    };
    let sent = client
        .post(&url, body.as_bytes(), "application/json", limits, &trace)
        .expect("posted");
    assert_eq!(sent.status, 200, "{}", String::from_utf8_lossy(&sent.body));
}

/// What a listener heard: each message's number and text, and when it came.
type Heard = Arc<Mutex<Vec<(u64, String, Instant)>>>;

/// A listener's thread (how it ended, its trace), what it heard, and how often it opened.
type Listener = (
    std::thread::JoinHandle<(Ended, Vec<Event>)>,
    Heard,
    Arc<AtomicU32>,
);

/// Listens to the world's event stream for `wait_ms` on a thread of its own.
fn listen(world: &Arc<DemoWorld>, wait_ms: u64) -> Listener {
    let heard: Heard = Arc::default();
    let opened = Arc::new(AtomicU32::new(0));
    let (world, heard_ref, opened_ref) = (world.clone(), heard.clone(), opened.clone());
    let handle = std::thread::spawn(move || {
        let browser = Browser::new(options(&world)).expect("browser");
        let collector = Arc::new(Collector::default());
        let trace = Trace::new(collector.clone());
        let url = url::Url::parse(&world.url("/chat/events")).expect("url");
        let mut source = EventSource::new(browser.client(), &url, &trace, source_options(wait_ms));
        let ended = source
            .run(None, &mut |news, _| match news {
                News::Opened => {
                    opened_ref.fetch_add(1, Ordering::SeqCst);
                }
                News::Event(event) => {
                    let message: chat::Message =
                        serde_json::from_str(&event.data).expect("a chat message");
                    let seq = message.seq.expect("numbered");
                    assert_eq!(event.last_event_id, seq.to_string(), "id is the number");
                    heard_ref
                        .lock()
                        .expect("heard")
                        .push((seq, message.text, Instant::now()));
                }
            })
            .expect("listened");
        (ended, collector.events())
    });
    (handle, heard, opened)
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn events_arrive_one_by_one_at_their_own_times() {
    let world = Arc::new(world());
    let (listener, heard, opened) = listen(&world, 3000);
    wait_until("the stream opens", || opened.load(Ordering::SeqCst) == 1);
    let browser = Browser::new(options(&world)).expect("browser");
    let mut posted = Vec::new();
    for text in ["one", "two", "three"] {
        std::thread::sleep(Duration::from_millis(400));
        let before = Instant::now();
        post(browser.client(), &world, "pat", text);
        posted.push(before);
    }
    let (ended, events) = listener.join().expect("listener");
    assert_eq!(ended, Ended::TimeUp);
    let heard = heard.lock().expect("heard").clone();
    let texts: Vec<&str> = heard.iter().map(|(_, t, _)| t.as_str()).collect();
    assert_eq!(texts, ["one", "two", "three"]);
    // Each came after its POST began and soon after it, not all at the end.
    for ((_, text, at), sent) in heard.iter().zip(&posted) {
        assert!(at >= sent, "{text} came before it was sent");
        let late = at.duration_since(*sent);
        assert!(
            late < Duration::from_millis(350),
            "{text} came {late:?} late"
        );
    }
    // In the trace: one request, three sse_event steps whose times follow the posts, apart.
    let requests = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Request { .. }))
        .count();
    assert_eq!(requests, 1, "one GET for the whole stream");
    let times: Vec<f64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::SseEvent { .. } => Some(e.t_ms),
            _ => None,
        })
        .collect();
    assert_eq!(times.len(), 3, "{times:?}");
    for pair in times.windows(2) {
        assert!(pair[1] - pair[0] >= 300.0, "apart: {times:?}");
    }
    // The server asked for its reconnection time, and said hello in a comment.
    assert!(events.iter().any(|e| matches!(
        e.kind,
        EventKind::SseRetry {
            retry_ms: 2000,
            applied_ms: 2000
        }
    )));
    assert!(events.iter().any(
        |e| matches!(&e.kind, EventKind::SseComment { text } if text.contains("then each new one"))
    ));
}

#[test]
fn a_dropped_stream_is_reopened_with_last_event_id_and_nothing_is_lost_or_doubled() {
    // Streams end after 700 ms; the client waits the server's retry (2 s) and reopens.
    let world = Arc::new(
        DemoWorld::start(DemoOptions {
            chat_stream_lifetime: Some(Duration::from_millis(700)),
            ..Default::default()
        })
        .expect("world"),
    );
    let (listener, heard, opened) = listen(&world, 6000);
    wait_until("the stream opens", || opened.load(Ordering::SeqCst) == 1);
    let browser = Browser::new(options(&world)).expect("browser");
    // Eight messages over 4 s: some while a stream is open, some while the client waits.
    for n in 1..=8 {
        post(browser.client(), &world, "rae", &format!("m{n}"));
        std::thread::sleep(Duration::from_millis(500));
    }
    let (_, events) = listener.join().expect("listener");
    let seqs: Vec<u64> = heard.lock().expect("heard").iter().map(|h| h.0).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<u64>>(), "each once, in order");
    assert!(opened.load(Ordering::SeqCst) >= 2, "reopened");
    // Every reopening named the last event it had, and the server's answer began after it.
    let heads: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Request { head, .. } => Some(head.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    assert!(!heads[0].contains("last-event-id"), "{}", heads[0]);
    assert!(
        heads[1..].iter().any(|h| h.contains("last-event-id: ")),
        "{heads:?}"
    );
    let reconnects: Vec<(u64, Option<String>, String)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::SseReconnect {
                delay_ms,
                last_event_id,
                reason,
                ..
            } => Some((*delay_ms, last_event_id.clone(), reason.clone())),
            _ => None,
        })
        .collect();
    assert!(!reconnects.is_empty());
    for (delay, _, reason) in &reconnects {
        assert_eq!(*delay, 2000, "the server's retry");
        assert!(reason.contains("the server ended the stream"), "{reason}");
    }
    // Each stream's request is finished by its body, as any other.
    let bodies = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Body { .. }))
        .count();
    assert_eq!(bodies, heads.len());
}

/// Runs one chat client against the world; returns its cost, what it showed, its trace.
fn chat_client(
    world: &DemoWorld,
    via: Via,
    name: &str,
    send: &[&str],
    wait_ms: u64,
) -> (chat::Cost, Vec<String>, Vec<Event>) {
    let browser = Browser::new(options(world)).expect("browser");
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    let page = url::Url::parse(&world.home_url()).expect("url");
    let plan = ChatPlan {
        via,
        name: name.into(),
        send: send.iter().map(|s| s.to_string()).collect(),
        wait: Duration::from_millis(wait_ms),
        timeout: Duration::from_secs(30),
    };
    let mut shown = Vec::new();
    let cost = chat::run(
        browser.client(),
        &page,
        &plan,
        &trace,
        &mut |m: &chat::Message| shown.push(format!("{}: {}", m.name, m.text)),
        None,
    )
    .expect("chat");
    (cost, shown, collector.events())
}

#[test]
fn an_sse_chat_and_a_websocket_chat_hear_each_other() {
    let world = Arc::new(world());
    let ws_world = world.clone();
    let ws_side = std::thread::spawn(move || {
        chat_client(
            &ws_world,
            Via::WebSocket,
            "wendy",
            &["hello from a WebSocket"],
            2500,
        )
    });
    std::thread::sleep(Duration::from_millis(400));
    let (cost, shown, events) = chat_client(&world, Via::Sse, "sara", &["hello from SSE"], 1800);
    let (_, ws_shown, _) = ws_side.join().expect("ws client");
    let expected = [
        "wendy: hello from a WebSocket".to_string(),
        "sara: hello from SSE".to_string(),
    ];
    assert_eq!(shown, expected);
    assert_eq!(ws_shown, expected);
    // One stream and one POST: the stream goes one way, a message sent is a request.
    assert_eq!(cost.messages, 2);
    assert_eq!(cost.requests, 2, "{cost:?}");
    let requests: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Request {
                method, purpose, ..
            } => Some((method.clone(), purpose.clone())),
            _ => None,
        })
        .collect();
    assert!(requests.contains(&("GET".into(), "eventsource".into())));
    assert!(requests.contains(&("POST".into(), "fetch".into())));
    // Its overhead per message is the heads and the stream's framing: more than the
    // stream's two heads over two messages would be, less than a poll per message.
    let per_message = cost.header_bytes / cost.messages;
    assert!(
        (100..1000).contains(&per_message),
        "{per_message} B/message"
    );
    let last_cost = events.iter().rev().find_map(|e| match &e.kind {
        EventKind::ChatStats { via, requests, .. } => Some((via.clone(), *requests)),
        _ => None,
    });
    assert_eq!(last_cost, Some(("sse".into(), 2)));
}

/// A raw server: answers every request with `answer`, counting the requests.
fn raw_server(answer: &'static [u8]) -> (String, Arc<AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/events", listener.local_addr().expect("addr"));
    let count = Arc::new(AtomicU32::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(answer);
        }
    });
    (url, count)
}

fn run_source(url: &str, wait_ms: u64) -> (Result<Ended, String>, Vec<Event>, Duration) {
    let world = world();
    let browser = Browser::new(options(&world)).expect("browser");
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    let url = url::Url::parse(url).expect("url");
    let mut source = EventSource::new(browser.client(), &url, &trace, source_options(wait_ms));
    let started = Instant::now();
    let result = source.run(None, &mut |_, _| {}).map_err(|e| e.to_string());
    (result, collector.events(), started.elapsed())
}

#[test]
fn eventsource_gives_up_on_204_a_wrong_type_and_an_error_status() {
    let cases: [(&'static [u8], &str); 3] = [
        (b"HTTP/1.1 204 No Content\r\n\r\n", "204 No Content"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nhi",
            "text/html, not text/event-stream",
        ),
        (
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
            "503 Service Unavailable",
        ),
    ];
    for (answer, words) in cases {
        let (url, count) = raw_server(answer);
        let (result, events, took) = run_source(&url, 5000);
        let error = result.expect_err("refused");
        assert!(error.contains(words), "{error}");
        assert!(error.contains("does not reconnect"), "{error}");
        assert_eq!(count.load(Ordering::SeqCst), 1, "asked once: {error}");
        assert!(took < Duration::from_secs(2), "gave up at once: {took:?}");
        assert!(!events
            .iter()
            .any(|e| matches!(e.kind, EventKind::SseReconnect { .. })));
    }
}

#[test]
fn a_stream_that_breaks_off_is_reopened_after_the_servers_retry() {
    // Each answer: a retry of 500 ms, one event with an id, then the connection closes.
    let (url, count) = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\nretry: 500\nid: 41\ndata: hello\n\ndata: cut in the mid",
    );
    let (result, events, _) = run_source(&url, 1800);
    assert_eq!(result, Ok(Ended::TimeUp));
    let connections = count.load(Ordering::SeqCst);
    assert!((2..=4).contains(&connections), "{connections} connections");
    let reconnect = events.iter().find_map(|e| match &e.kind {
        EventKind::SseReconnect {
            delay_ms,
            last_event_id,
            ..
        } => Some((*delay_ms, last_event_id.clone())),
        _ => None,
    });
    assert_eq!(reconnect, Some((500, Some("41".into()))));
    // The unfinished event at the end of each stream is said, not dispatched.
    assert!(events.iter().any(|e| matches!(&e.kind,
        EventKind::SseSkipped { reason, .. } if reason.contains("in the middle of an event"))));
    let dispatched = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::SseEvent { .. }))
        .count();
    assert_eq!(dispatched as u32, connections);
}

#[test]
fn a_page_that_is_an_event_stream_shows_its_events_until_the_timeout_and_loads() {
    let world = world();
    let browser = Browser::new(options(&world)).expect("browser");
    post(browser.client(), &world, "ida", "before the page");
    let mut opts = options(&world);
    opts.timeout = Duration::from_millis(1500);
    let started = Instant::now();
    let load = common::load_with(opts, &world.url("/chat/events"));
    let took = started.elapsed();
    assert!(
        (Duration::from_millis(1400)..Duration::from_secs(4)).contains(&took),
        "{took:?}"
    );
    let page = load.page();
    assert_eq!(page.status, Some(200));
    let source = page.source.as_deref().unwrap_or_default();
    assert!(source.contains("before the page"), "{source}");
    assert_eq!(load.count("sse_event"), 1);
    assert_eq!(load.count("failed"), 0);
}

#[test]
fn a_redirected_stream_is_followed_and_reconnects_from_its_own_url() {
    // /events sends the client to /real, which sends one event and ends.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/events", listener.local_addr().expect("addr"));
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let asked_ref = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let n = stream.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let path = head.split(' ').nth(1).unwrap_or_default().to_string();
            let answer: &[u8] = if path == "/events" {
                b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /real\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\nretry: 500\nid: 1\ndata: moved\n\n"
            };
            asked_ref.lock().expect("asked").push(path);
            let _ = stream.write_all(answer);
        }
    });
    let world = world();
    let browser = Browser::new(options(&world)).expect("browser");
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    let mut source = EventSource::new(
        browser.client(),
        &url::Url::parse(&url).expect("url"),
        &trace,
        source_options(1800),
    );
    let mut heard = Vec::new();
    let ended = source
        .run(None, &mut |news, _| {
            if let News::Event(event) = news {
                heard.push(event.data.clone());
            }
        })
        .expect("listened");
    assert_eq!(ended, Ended::TimeUp);
    assert!(
        heard.len() >= 2 && heard.iter().all(|d| d == "moved"),
        "{heard:?}"
    );
    let asked = asked.lock().expect("asked").clone();
    assert_eq!(
        &asked[..4],
        ["/events", "/real", "/events", "/real"],
        "{asked:?}"
    );
    let events = collector.events();
    assert!(events.iter().any(|e| matches!(&e.kind,
        EventKind::Redirect { status: 307, next_url, .. } if next_url.ends_with("/real"))));
    // The reconnection after the redirect still names the last event.
    let heads: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Request { head, .. } => Some(head.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        heads[2].to_ascii_lowercase().contains("last-event-id: 1"),
        "{}",
        heads[2]
    );
}

#[test]
fn an_id_a_header_cannot_carry_is_not_sent_back() {
    let (url, count) = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\nretry: 500\nid: \x1b[31m\ndata: x\n\n",
    );
    let (result, events, _) = run_source(&url, 1500);
    assert_eq!(result, Ok(Ended::TimeUp));
    assert!(count.load(Ordering::SeqCst) >= 2, "reconnected");
    // Every reconnection went out (no failed request), without the ID.
    assert!(!events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Failed { .. })));
    assert!(events.iter().all(|e| match &e.kind {
        EventKind::Request { head, .. } => !head.to_ascii_lowercase().contains("last-event-id"),
        EventKind::SseReconnect { last_event_id, .. } => last_event_id.is_none(),
        _ => true,
    }));
}
