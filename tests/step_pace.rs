//! Step mode at a classroom's pace: a teacher presses Space every few seconds, much longer
//! than any timeout, and the load must lose nothing. The pace here is scaled down (a Space
//! every 0.45 s against timeouts of 0.3 s) so the test runs in under a minute; what it
//! checks is the same: held time counts against no timeout and no measured duration.
//!
//! The TUI's App and Session drive a real load of the demo world's assets page, with real
//! times (nothing is normalised here, unlike `tests/tui.rs`).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use minibrowse::page::Browser;
use minibrowse::trace::EventKind;
use minibrowse::tui::app::{App, Command, LoadState};
use minibrowse::tui::session::Session;
use minibrowse::tui::{draw, execute_commands};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::Terminal;

use common::{load_with, options, world};

const TIMEOUT: Duration = Duration::from_millis(300);
const PACE: Duration = Duration::from_millis(450);

/// The requests of a load, as (URL, status) counts.
type Requests = BTreeMap<(String, Option<u16>), usize>;

fn requests_of(app: &App) -> Requests {
    let mut all = Requests::new();
    for r in app.requests.iter() {
        *all.entry((r.url.clone(), r.status())).or_default() += 1;
    }
    all
}

#[test]
fn a_space_every_while_loses_no_request_and_no_time() {
    let world = world();
    let mut opts = options(&world);
    opts.timeout = TIMEOUT;
    opts.asset_timeout = TIMEOUT;
    let url = world.url("/assets.html");

    // What a plain load of the page does, for comparison.
    let plain = load_with(opts.clone(), &url);
    let mut expected = Requests::new();
    let mut statuses = BTreeMap::new();
    for e in &plain.events {
        match &e.kind {
            EventKind::Request { url, .. } => {
                if let Some(id) = e.request {
                    statuses.insert(id, (url.clone(), None));
                }
            }
            EventKind::Response { status, .. } => {
                if let Some(entry) = e.request.and_then(|id| statuses.get_mut(&id)) {
                    entry.1 = Some(*status);
                }
            }
            _ => {}
        }
    }
    for (_, key) in statuses {
        *expected.entry(key).or_default() += 1;
    }
    assert!(
        expected.len() >= 10,
        "the assets page has many: {expected:?}"
    );

    let browser = Browser::new(opts).expect("browser");
    let mut app = App::new(false);
    let mut session = Session::new(Arc::new(browser));
    let mut terminal = Terminal::new(TestBackend::new(120, 36)).expect("terminal");
    let commands = vec![Command::Load {
        url: url.clone(),
        step: true,
    }];
    execute_commands(&mut app, &mut session, commands);

    let began = Instant::now();
    let mut next_space = Instant::now() + PACE;
    let mut spaces = 0;
    let mut most_queued = 0;
    let mut said_queue = false;
    while !(app.page.is_some() && matches!(app.state, LoadState::Done { .. })) {
        if let LoadState::Failed(e) = &app.state {
            panic!("the stepped load failed after {spaces} spaces: {e}");
        }
        assert!(
            began.elapsed() < Duration::from_secs(120),
            "the stepped load did not end: {:?} waiting, {} spaces",
            app.step.waiting,
            spaces
        );
        if let Ok(msg) = session.rx.recv_timeout(Duration::from_millis(20)) {
            app.on_msg(msg);
        }
        most_queued = most_queued.max(app.step.queued.len());
        if Instant::now() >= next_space && app.step.waiting.is_some() {
            if !app.step.queued.is_empty() {
                terminal.draw(|f| draw::draw(f, &app)).expect("draw");
                let screen = format!("{}", terminal.backend());
                said_queue |= screen.contains("more step");
            }
            let commands = app.on_key(KeyEvent::from(KeyCode::Char(' ')));
            execute_commands(&mut app, &mut session, commands);
            spaces += 1;
            next_space = Instant::now() + PACE;
        }
    }
    // The last events (the summary) may trail the page by a moment.
    let settle = Instant::now() + Duration::from_secs(2);
    while Instant::now() < settle {
        if let Ok(msg) = session.rx.recv_timeout(Duration::from_millis(20)) {
            app.on_msg(msg);
        }
    }
    let wall = began.elapsed();

    // Every request of the plain load happened, with the same answer.
    assert_eq!(requests_of(&app), expected, "after {spaces} spaces");
    let failures: Vec<_> = app
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Failed { step, message, .. } => Some(format!("{step}: {message}")),
            _ => None,
        })
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(
        matches!(app.state, LoadState::Done { failed: 0, .. }),
        "{:?}",
        app.state
    );

    // Each request took several steps, each more than a timeout apart: with the pauses
    // counted, every one would have timed out. Measured, none took a timeout's time.
    assert!(spaces > 2 * expected.len(), "{spaces} spaces");
    for r in app.requests.iter() {
        let took = r.end_ms().expect("finished") - r.started_ms();
        assert!(
            took < TIMEOUT.as_millis() as f64,
            "{} took {took} ms of the load's time (the wall clock ran {wall:?})",
            r.url
        );
    }
    let summary_ms = app
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Summary { ms, .. } => Some(*ms),
            _ => None,
        })
        .expect("a summary");
    assert!(
        summary_ms < wall.as_millis() as f64 / 4.0,
        "the load's clock ({summary_ms} ms) left out the pauses of {wall:?}"
    );

    // Parallel assets queued, each for a Space of its own, and the address bar said so.
    assert!(most_queued >= 2, "at most {most_queued} steps queued");
    assert!(said_queue, "the address bar showed the queue");

    // Done: the step footer is gone.
    assert!(!app.step.enabled);
    terminal.draw(|f| draw::draw(f, &app)).expect("draw");
    let screen = format!("{}", terminal.backend());
    assert!(!screen.contains("next step"), "{screen}");
}

/// A gate that lets every step go after `pause`: a person who takes their time.
struct SlowPerson {
    pause: Duration,
}

impl minibrowse::trace::Gate for SlowPerson {
    fn wait(&self, _next: &str) {
        std::thread::sleep(self.pause);
    }
}

/// A server that keeps a connection alive only `idle` after each answer, as real servers'
/// keep-alive timeouts do; answers every request with a small page.
fn impatient_server(idle: Duration) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(idle));
                let mut buf = [0u8; 4096];
                // One read per request (the requests are small); a silent `idle` closes.
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let body = "<p>still here</p>";
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(answer.as_bytes()).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn a_connection_the_server_closed_during_a_pause_is_retried_on_another() {
    use minibrowse::net::{FetchLimits, Purpose};
    use minibrowse::trace::{Collector, Trace};

    let port = impatient_server(Duration::from_millis(800));
    let browser = Browser::new(minibrowse::page::Options::default()).expect("browser");
    let collector = Arc::new(Collector::default());
    let trace = Trace::with_gate(
        collector.clone(),
        Arc::new(SlowPerson {
            pause: Duration::from_millis(500),
        }),
    );
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/")).expect("url");
    let limits = FetchLimits {
        timeout: Duration::from_secs(2),
        max_body: 1 << 20,
    };
    let client = browser.client();
    let first = client
        .fetch(&url, Purpose::Document, limits, &trace)
        .expect("the first request");
    // The second finds the kept-alive connection in the pool, then the person pauses
    // before it is sent, longer than the server keeps it open.
    let second = client
        .fetch(&url, Purpose::Document, limits, &trace)
        .expect("the second request, sent again on a new connection");
    assert_eq!((first.status, second.status), (200, 200));
    let events = collector.events();
    let retries_of = |request: u32| -> Vec<String> {
        events
            .iter()
            .filter(|e| e.request == Some(request))
            .filter_map(|e| match &e.kind {
                EventKind::Retry {
                    error, delay_ms: 0, ..
                } => Some(error.clone()),
                _ => None,
            })
            .collect()
    };
    // One pause is shorter than the server's patience: the first request went through.
    assert!(retries_of(first.request).is_empty());
    // Two pauses (after the first answer, before the second request) are longer: the
    // kept-alive connection was closed, and the request went out on a new one.
    let retried = retries_of(second.request);
    assert_eq!(retried.len(), 1, "{retried:?}");
    assert!(
        retried[0].contains("closed the idle keep-alive connection #1"),
        "{retried:?}"
    );
    let retry = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Retry { .. }))
        .expect("retry");
    let explained = minibrowse::trace::explain(&retry.kind);
    assert!(explained.contains("sends it again at once"), "{explained}");
    assert!(events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Connect { conn: 2, .. })
            && e.request == Some(second.request)));
    assert!(!events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Failed { .. })));
}
