//! The TUI on ratatui's TestBackend, browsing the demo world for real.
//!
//! Timings and ports differ on every run, so events are normalised before the App sees
//! them (each step takes "1 ms") and ports are masked in the snapshots; everything else on
//! screen is what the real load produced.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use minibrowse::chat::{ChatPlan, Message, Via};
use minibrowse::page::Browser;
use minibrowse::trace::Event;
use minibrowse::tui::app::{App, Command, LoadState, Pane};
use minibrowse::tui::session::{Msg, Session};
use minibrowse::tui::{draw, event_loop, execute_commands, Input};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;

use common::{options, world};

struct Ui {
    app: App,
    session: Session,
    terminal: Terminal<TestBackend>,
}

fn ui(world: &minibrowse::demo::DemoWorld, width: u16, height: u16) -> Ui {
    ui_with(world, width, height, minibrowse::layout::Fields::AsText)
}

/// The UI with form fields laid out as `fields` says (the real TUI numbers them).
fn ui_with(
    world: &minibrowse::demo::DemoWorld,
    width: u16,
    height: u16,
    fields: minibrowse::layout::Fields,
) -> Ui {
    let mut opts = options(world);
    // One connection per host, one stage after another: the assets come in document order
    // after the document, and the layout after them, so the screen is the same every run.
    opts.connections_per_host = 1;
    opts.sequential = true;
    opts.fields = fields;
    let browser = Browser::new(opts).expect("browser");
    let mut ui = Ui {
        app: App::new(false),
        session: Session::new(Arc::new(browser)),
        terminal: Terminal::new(TestBackend::new(width, height)).expect("terminal"),
    };
    let area = ratatui::layout::Rect::new(0, 0, width, height);
    let page = draw::areas(&ui.app, area).page;
    ui.app
        .resize_page(page.width as usize, page.height as usize);
    ui
}

/// Every step "takes" 1 ms and starts at its sequence number; the client port is masked.
fn normalise(event: Event) -> Event {
    let mut value = serde_json::to_value(&event).expect("event to json");
    let seq = event.seq as f64;
    if let Some(map) = value.as_object_mut() {
        map.insert("t_ms".into(), serde_json::json!(seq));
        for key in ["ms", "ttfb_ms"] {
            if map.contains_key(key) {
                map.insert(key.into(), serde_json::json!(1.0));
            }
        }
        if map.contains_key("local") {
            map.insert("local".into(), serde_json::json!("127.0.0.1:CLIENT"));
        }
    }
    serde_json::from_value(value).expect("json to event")
}

impl Ui {
    fn run(&mut self, commands: Vec<Command>) {
        execute_commands(&mut self.app, &mut self.session, commands);
    }

    fn load(&mut self, url: &str, step: bool) {
        self.run(vec![Command::Load {
            url: url.to_string(),
            step,
        }]);
    }

    fn pump_until(&mut self, done: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !done(&self.app) {
            assert!(
                Instant::now() < deadline,
                "the UI did not reach the expected state"
            );
            if let Ok(msg) = self.session.rx.recv_timeout(Duration::from_millis(50)) {
                let msg = match msg {
                    Msg::Event(g, e) => Msg::Event(g, normalise(e)),
                    other => other,
                };
                self.app.on_msg(msg);
            }
        }
    }

    fn settle(&mut self) {
        self.pump_until(|app| app.page.is_some() && matches!(app.state, LoadState::Done { .. }));
    }

    fn key(&mut self, code: KeyCode) {
        let commands = self.app.on_key(KeyEvent::from(code));
        self.run(commands);
    }

    fn screen(&mut self) -> String {
        self.terminal
            .draw(|f| draw::draw(f, &self.app))
            .expect("draw");
        format!("{}", self.terminal.backend())
    }
}

macro_rules! snapshot {
    ($name:expr, $screen:expr) => {
        insta::with_settings!({filters => vec![
            // {1,5}: a URL cut at a pane's edge may keep only the port's first digits.
            (r"minibrowse\.test:\d{1,5}", "minibrowse.test:PORT"),
            (r"127\.0\.0\.1:\d{4,5}", "127.0.0.1:PORT"),
            (r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", "DATE"),
            // The demo's ETags hash the bytes sent, which hold the port.
            (r#""[0-9a-f]{16}""#, "\"ETAG\""),
        ]}, {
            insta::assert_snapshot!($name, $screen);
        });
    };
}

#[test]
fn home_page_with_request_log_and_trace() {
    let world = world();
    let mut ui = ui(&world, 100, 30);
    ui.load(&world.url("/"), false);
    ui.settle();
    let screen = ui.screen();
    assert!(screen.contains("Welcome to the minibrowse demo world"));
    assert!(screen.contains("Network: 3 requests"));
    snapshot!("home_page", screen);
}

#[test]
fn request_detail_shows_headers_timing_and_dns() {
    let world = world();
    let mut ui = ui(&world, 100, 40);
    ui.load(&world.url("/"), false);
    ui.settle();
    ui.key(KeyCode::Tab);
    assert_eq!(ui.app.focus, Pane::Network);
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    assert!(screen.contains("Request #1"));
    assert!(screen.contains("GET / HTTP/1.1"));
    assert!(screen.contains("www.minibrowse.test. 300 A 127.0.0.1"));
    snapshot!("request_detail", screen);
}

#[test]
fn trace_step_explains_and_points_at_its_request() {
    let world = world();
    let mut ui = ui(&world, 100, 30);
    ui.load(&world.url("/"), false);
    ui.settle();
    ui.key(KeyCode::Tab);
    ui.key(KeyCode::Tab);
    assert_eq!(ui.app.focus, Pane::Trace);
    ui.key(KeyCode::Home);
    // Down to the DOM walk's find of style.css (after the document's steps, the preload
    // scanner's, the moment the DOM was parsed).
    let mut screen = ui.screen();
    for _ in 0..40 {
        if screen.contains("Walking the DOM, the browser found") {
            break;
        }
        ui.key(KeyCode::Down);
        screen = ui.screen();
    }
    assert!(
        screen.contains("Walking the DOM, the browser found"),
        "{screen}"
    );
    // The step's request is selected in the log, and its DOM node is known.
    let related = ui.app.highlighted_request().expect("a related request");
    assert_eq!(ui.app.requests[ui.app.net_selected].id, related);
    assert!(ui.app.requests[ui.app.net_selected]
        .url
        .ends_with("/style.css"));
    assert!(ui.app.highlighted_node().is_some());
    snapshot!("trace_selection", screen);
}

#[test]
fn dom_tree_and_source_view() {
    let world = world();
    let mut ui = ui(&world, 100, 30);
    ui.load(&world.url("/"), false);
    ui.settle();
    ui.key(KeyCode::BackTab);
    assert_eq!(ui.app.focus, Pane::Dom);
    let screen = ui.screen();
    assert!(screen.contains("<html>"), "{screen}");
    snapshot!("dom_tree", screen);
    let rows = ui.app.visible_dom_rows().len();
    ui.key(KeyCode::Down);
    ui.key(KeyCode::Down);
    ui.key(KeyCode::Left); // fold <head>
    assert!(ui.app.visible_dom_rows().len() < rows);
    ui.key(KeyCode::Char('s'));
    let screen = ui.screen();
    assert!(
        screen.contains("<!doctype html>") || screen.contains("<!DOCTYPE html>"),
        "{screen}"
    );
}

#[test]
fn help_lists_every_key() {
    let world = world();
    let mut ui = ui(&world, 100, 50);
    ui.load(&world.url("/"), false);
    ui.settle();
    ui.key(KeyCode::Char('?'));
    let screen = ui.screen();
    for binding in minibrowse::tui::keys::BINDINGS {
        assert!(
            screen.contains(binding.action),
            "help lacks {:?}",
            binding.action
        );
    }
    snapshot!("help", screen);
    // On 100x30 the list does not fit: it scrolls, and the last key comes into view.
    let mut small = self::ui(&world, 100, 30);
    small.load(&world.url("/"), false);
    small.settle();
    small.key(KeyCode::Char('?'));
    let screen = small.screen();
    assert!(screen.contains("↑↓ scroll (0/"), "{screen}");
    assert!(!screen.contains("continue without stopping"), "{screen}");
    for _ in 0..30 {
        small.key(KeyCode::Down);
    }
    let screen = small.screen();
    assert!(screen.contains("continue without stopping"), "{screen}");
    assert!(screen.contains("Esc or ? closes this help."), "{screen}");
}

#[test]
fn step_mode_runs_one_step_per_space() {
    let world = world();
    let mut ui = ui(&world, 100, 30);
    ui.load(&world.url("/"), true);
    ui.pump_until(|app| app.step.waiting.is_some());
    assert_eq!(
        ui.app.step.waiting.as_deref(),
        Some("DNS lookup of www.minibrowse.test")
    );
    assert!(
        ui.app.events.iter().all(|e| e.request.is_none()),
        "nothing ran before the first Space"
    );
    ui.key(KeyCode::Char(' '));
    ui.pump_until(|app| {
        app.step
            .waiting
            .as_deref()
            .is_some_and(|w| w.starts_with("TCP connect"))
    });
    // The DNS answers (AAAA and A) are on screen before the connection is made.
    assert_eq!(ui.app.requests.len(), 1);
    assert_eq!(ui.app.requests[0].dns.len(), 2);
    assert_eq!(ui.app.requests[0].connection, None);
    ui.key(KeyCode::Char(' '));
    ui.pump_until(|app| {
        app.step
            .waiting
            .as_deref()
            .is_some_and(|w| w.starts_with("send GET"))
    });
    assert_eq!(ui.app.requests.len(), 1);
    let screen = ui.screen();
    assert!(screen.contains("next: send GET"), "{screen}");
    snapshot!("step_mode", screen);
    // c lets the rest run without stopping.
    ui.key(KeyCode::Char('c'));
    ui.settle();
    assert!(ui.app.page.is_some());
}

#[test]
fn follow_link_open_url_back_and_forward() {
    let world = world();
    let mut ui = ui(&world, 100, 30);
    ui.load(&world.url("/"), false);
    ui.settle();
    // Type link number 12 (Redirects, after the lesson's ten stops), Enter.
    ui.key(KeyCode::Char('1'));
    ui.key(KeyCode::Char('2'));
    ui.key(KeyCode::Enter);
    ui.settle();
    assert!(
        ui.app.url.ends_with("/redirect-demo.html"),
        "{}",
        ui.app.url
    );
    // Next link with ], follow with Enter.
    ui.key(KeyCode::Char(']'));
    let selected = ui.app.selected_link.expect("a link is selected");
    ui.key(KeyCode::Enter);
    ui.settle();
    assert_ne!(ui.app.history.len(), 2, "link {selected} was followed");
    // o opens a URL.
    ui.key(KeyCode::Char('o'));
    for c in world.url("/text.txt").chars() {
        ui.key(KeyCode::Char(c));
    }
    ui.key(KeyCode::Enter);
    ui.settle();
    assert!(ui.screen().contains("Not everything on the web is HTML"));
    let history = ui.app.history.len();
    ui.key(KeyCode::Char('b'));
    ui.settle();
    assert_eq!(
        ui.app.history.len(),
        history,
        "back does not grow the history"
    );
    assert_eq!(ui.app.history_pos, history - 2);
    ui.key(KeyCode::Char('f'));
    ui.settle();
    assert!(ui.app.url.ends_with("/text.txt"));
}

#[test]
fn r_revalidates_the_page_and_capital_r_bypasses_the_cache() {
    let world = world();
    let mut ui = ui(&world, 120, 30);
    ui.load(&world.url("/"), false);
    ui.settle();
    // r: the page is asked about (304), the no-cache stylesheet too (304), the icon is
    // fresh in the cache (no request: "(cache)" in the size column).
    ui.key(KeyCode::Char('r'));
    ui.settle();
    let screen = ui.screen();
    assert!(screen.contains("(cache)"), "{screen}");
    assert!(screen.contains("3 requests (1 from the cache)"), "{screen}");
    let rows = &ui.app.requests;
    assert_eq!(rows.len(), 3);
    let cached: Vec<&str> = rows
        .iter()
        .filter(|r| r.from_cache())
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(cached, ["/favicon.svg"]);
    assert!(rows
        .iter()
        .filter(|r| !r.from_cache())
        .all(|r| r.status() == Some(304) && r.revalidated()));
    // R: everything again, with full answers.
    ui.key(KeyCode::Char('R'));
    ui.settle();
    let rows = &ui.app.requests;
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|r| r.status() == Some(200) && !r.from_cache()));
    assert!(!ui.screen().contains("(cache)"));
}

#[test]
fn in_page_links_scroll_to_their_target() {
    let world = world();
    let mut ui = ui(&world, 100, 30);
    let url = world.url("/layout.html");
    ui.load(&url, false);
    ui.settle();
    let requests = ui.app.requests.len();
    // Link 4 is "#tables": the page scrolls to the heading, nothing is loaded.
    ui.key(KeyCode::Char('4'));
    ui.key(KeyCode::Enter);
    ui.settle();
    assert_eq!(ui.app.url, url, "an in-page link is not a new page");
    assert_eq!(ui.app.requests.len(), requests, "and makes no request");
    let page = ui.app.page.as_ref().expect("the page");
    let line = page.layout.anchor_line("tables").expect("an anchor");
    assert_eq!(page.layout.lines[line], "Tables");
    assert_eq!(ui.app.page_scroll, line);
    let message = ui.app.message.clone().unwrap_or_default();
    assert!(message.starts_with("#tables: line"), "{message}");
    // "#top" goes back up.
    ui.key(KeyCode::Char('6'));
    ui.key(KeyCode::Enter);
    assert_eq!(ui.app.page_scroll, 0);
}

#[test]
fn search_finds_and_highlights_matches() {
    let world = world();
    let mut ui = ui(&world, 100, 30);
    ui.load(&world.url("/"), false);
    ui.settle();
    ui.key(KeyCode::Char('/'));
    for c in "dns".chars() {
        ui.key(KeyCode::Char(c));
    }
    ui.key(KeyCode::Enter);
    let search = ui.app.search.clone().expect("a search");
    assert!(search.matches.len() >= 2, "{:?}", search.matches);
    ui.key(KeyCode::Char('n'));
    assert_eq!(ui.app.search.as_ref().map(|s| s.current), Some(1));
    assert!(ui
        .app
        .message
        .as_deref()
        .unwrap_or_default()
        .starts_with("match 2 of"));
}

#[test]
fn small_screen_80x24() {
    let world = world();
    let mut ui = ui(&world, 80, 24);
    ui.load(&world.url("/"), false);
    ui.settle();
    let screen = ui.screen();
    assert!(screen.contains("q quit"));
    snapshot!("small_screen", screen);
}

/// Input that types `q` once the load has been going for a while.
struct QuitAfter {
    started: Instant,
    after: Duration,
    sent: Option<Instant>,
}

impl Input for QuitAfter {
    fn next(&mut self, timeout: Duration) -> std::io::Result<Option<TermEvent>> {
        if self.sent.is_none() && self.started.elapsed() >= self.after {
            self.sent = Some(Instant::now());
            return Ok(Some(TermEvent::Key(KeyEvent::from(KeyCode::Char('q')))));
        }
        std::thread::sleep(timeout.min(Duration::from_millis(10)));
        Ok(None)
    }
}

#[test]
fn q_quits_at_once_while_the_server_hangs() {
    let world = world();
    let mut ui = ui(&world, 100, 30);
    let stop = AtomicBool::new(false);
    let mut input = QuitAfter {
        started: Instant::now(),
        after: Duration::from_millis(300),
        sent: None,
    };
    event_loop(
        &mut ui.terminal,
        &mut ui.app,
        &mut ui.session,
        &mut input,
        Command::Load {
            url: world.url("/errors/slow"),
            step: false,
        },
        &stop,
    )
    .expect("the loop ends cleanly");
    let quit_took = input.sent.expect("q was typed").elapsed();
    assert!(
        quit_took < Duration::from_millis(100),
        "quit took {quit_took:?}"
    );
    assert!(
        matches!(ui.app.state, LoadState::Loading { .. }),
        "the server was still holding the request"
    );
}

#[test]
fn resize_lays_the_page_out_again() {
    let world = world();
    let mut ui = ui(&world, 100, 30);
    ui.load(&world.url("/"), false);
    ui.settle();
    let before = ui.app.page.as_ref().map(|p| p.layout.width).unwrap_or(0);
    let commands = ui.app.resize_page(60, 20);
    assert_eq!(commands, vec![Command::Relayout(60)]);
    ui.run(commands);
    ui.pump_until(|app| app.page.as_ref().is_some_and(|p| p.layout.width == 60));
    assert_ne!(before, 60);
    let longest = ui.app.page.as_ref().map(|p| {
        p.layout
            .lines
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    });
    assert!(longest.unwrap_or(0) <= 60);
}

#[test]
fn cookie_jar_view_shows_what_the_browser_remembers() {
    let world = world();
    let mut ui = ui(&world, 100, 30);
    ui.key(KeyCode::Char('C'));
    assert!(ui.screen().contains("The cookie jar is empty"));
    ui.key(KeyCode::Esc);
    ui.load(&world.url("/cookie.html"), false);
    ui.settle();
    ui.key(KeyCode::Char('C'));
    let screen = ui.screen();
    assert!(screen.contains("Cookie jar"), "{screen}");
    assert!(
        screen.contains("www.minibrowse.test/  visitor=student  (session, HttpOnly)"),
        "{screen}"
    );
    ui.key(KeyCode::Esc);
    assert!(!ui.screen().contains("visitor=student  (session"));
}

#[test]
fn request_detail_shows_tls_check_and_cookies() {
    let world = world();
    let mut ui = ui(&world, 120, 50);
    ui.load(&world.https_url("/cookie.html"), false);
    ui.settle();
    let first = ui.app.requests.first().map(|r| r.id).expect("a request");
    ui.app.overlay = minibrowse::tui::app::Overlay::Detail(first);
    let screen = ui.screen();
    assert!(screen.contains("TLS connection #1: TLS 1.3"), "{screen}");
    assert!(
        screen.contains("trusted: valid for secure.minibrowse.test"),
        "{screen}"
    );
    assert!(
        screen.contains("cookie: Set-Cookie visitor=student → stored"),
        "{screen}"
    );
}

#[test]
fn insecure_is_said_on_the_status_line() {
    let world = world();
    let mut opts = options(&world);
    opts.http.extra_roots.clear();
    opts.http.insecure = true;
    opts.connections_per_host = 1;
    let mut ui = Ui {
        app: App::new(false),
        session: Session::new(Arc::new(Browser::new(opts).expect("browser"))),
        terminal: Terminal::new(TestBackend::new(120, 30)).expect("terminal"),
    };
    ui.load(&world.https_url("/"), false);
    ui.settle();
    let screen = ui.screen();
    assert!(screen.contains("!!! NOT VERIFIED (--insecure)"), "{screen}");
}

/// Terminal safety in the full-screen UI: a page full of escape sequences, C1 controls and
/// bidi overrides (in its title, text, link and URL) reaches no pane raw.
#[test]
fn hostile_page_reaches_no_pane_raw() {
    let world = world();
    let mut ui = ui(&world, 120, 40);
    ui.load(&world.url("/errors/hostile"), false);
    ui.settle();
    let check = |what: &str, screen: &str| {
        let bad: Vec<String> = screen
            .chars()
            .filter(|c| *c != '\n' && minibrowse::text::is_unsafe(*c))
            .map(|c| format!("U+{:04X}", u32::from(c)))
            .collect();
        assert!(bad.is_empty(), "{what} shows {bad:?} raw:\n{screen}");
    };
    let screen = ui.screen();
    check("the page", &screen);
    assert!(
        screen.contains("\\x1b[2J"),
        "the escape is shown, escaped:\n{screen}"
    );
    // The request log and a request's detail (headers, status line, URL).
    ui.key(KeyCode::Tab);
    assert_eq!(ui.app.focus, Pane::Network);
    check("the request log", &ui.screen());
    ui.key(KeyCode::Enter);
    check("the request detail", &ui.screen());
    ui.key(KeyCode::Esc);
    // The trace, the DOM tree and the source view.
    ui.key(KeyCode::Tab);
    assert_eq!(ui.app.focus, Pane::Trace);
    check("the trace", &ui.screen());
    ui.key(KeyCode::Tab);
    assert_eq!(ui.app.focus, Pane::Dom);
    check("the DOM", &ui.screen());
    ui.key(KeyCode::Char('s'));
    check("the source", &ui.screen());
}

/// Like `settle`, for a page with assets on two hosts (`/assets.html`'s CDN logo): the other
/// host's connection races the page's, so its steps are moved after the page host's last
/// one, and every step and request renumbered; the screen is then the same on every run.
fn settle_in_host_order(ui: &mut Ui) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let (mut events, mut others) = (Vec::new(), Vec::new());
    let mut summary = false;
    while !(summary && others.iter().any(|m| matches!(m, Msg::Loaded(..)))) {
        assert!(Instant::now() < deadline, "the load did not finish");
        match ui.session.rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Msg::Event(g, e)) => {
                summary |= matches!(e.kind, minibrowse::trace::EventKind::Summary { .. });
                events.push((g, e));
            }
            Ok(other) => others.push(other),
            Err(_) => {}
        }
    }
    let log = minibrowse::trace::RequestLog::of(
        &events.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
    );
    let page_host = log.first().map(|r| r.host.clone()).unwrap_or_default();
    let foreign = |e: &Event| {
        e.request
            .and_then(|id| log.by_id(id))
            .is_some_and(|r| r.host != page_host)
    };
    let (moved, mut kept): (Vec<_>, Vec<_>) = events.into_iter().partition(|(_, e)| foreign(e));
    let at = kept
        .iter()
        .rposition(|(_, e)| e.request.is_some())
        .map_or(0, |i| i + 1);
    kept.splice(at..at, moved);
    // Request numbers are handed out as requests begin, so they race too: number them in
    // the order they now appear.
    let mut numbers = std::collections::HashMap::new();
    for (seq, (g, mut e)) in kept.into_iter().enumerate() {
        e.seq = seq as u64 + 1;
        e.request = e.request.map(|id| {
            let next = numbers.len() as u32 + 1;
            *numbers.entry(id).or_insert(next)
        });
        ui.app.on_msg(Msg::Event(g, normalise(e)));
    }
    for msg in others {
        ui.app.on_msg(msg);
    }
}

/// The two sizes a classroom projector shows: a small terminal and a large one.
const PROJECTOR_SIZES: [(u16, u16); 2] = [(80, 24), (120, 36)];

/// `/assets.html` loaded on a terminal of this size, focus on the Network pane.
fn assets_page(world: &minibrowse::demo::DemoWorld, width: u16, height: u16) -> Ui {
    let mut ui = ui(world, width, height);
    ui.load(&world.url("/assets.html"), false);
    settle_in_host_order(&mut ui);
    ui.key(KeyCode::Tab);
    assert_eq!(ui.app.focus, Pane::Network);
    ui
}

#[test]
fn request_log_names_each_request_at_projector_sizes() {
    let world = world();
    for (width, height) in PROJECTOR_SIZES {
        let mut ui = assets_page(&world, width, height);
        let screen = ui.screen();
        // The file names, not the host, start each row; the CDN's host follows its file.
        // (print.css is not among them: for another medium, it goes last when connections
        // are scarce.)
        for name in ["assets.html", "style.css", "app.js", "helper.js"] {
            assert!(screen.contains(name), "{width}x{height}: {name}\n{screen}");
        }
        assert!(screen.contains("waterfa"), "{width}x{height}\n{screen}");
        // The waterfall keeps columns: the document's row draws its phases.
        let document_row = screen
            .lines()
            .find(|l| l.contains("assets.html") && l.contains("ms "))
            .expect("the document's row");
        assert!(
            document_row.contains('█') || document_row.contains('░'),
            "{document_row}"
        );
        // The last request: the CDN's logo, its file first, then its host (cut to what fits).
        for _ in 0..ui.app.requests.len() {
            ui.key(KeyCode::Down);
        }
        let screen = ui.screen();
        assert!(
            screen.contains("logo.svg · c"),
            "{width}x{height}\n{screen}"
        );
        snapshot!(format!("assets_request_log_{width}x{height}"), screen);
    }
}

#[test]
fn zoomed_trace_wraps_every_step_at_projector_sizes() {
    let world = world();
    for (width, height) in PROJECTOR_SIZES {
        let mut ui = assets_page(&world, width, height);
        ui.key(KeyCode::Tab);
        assert_eq!(ui.app.focus, Pane::Trace);
        ui.key(KeyCode::Char('z'));
        // The first steps: the page's DNS answer, its connection and its request, whose
        // lines are longer than the screen is wide.
        ui.key(KeyCode::Home);
        for _ in 0..3 {
            ui.key(KeyCode::Down);
        }
        let screen = ui.screen();
        let selected = ui.app.selected_event().expect("a step").clone();
        let (_, summary) = minibrowse::views::trace_text::headline(&selected.kind);
        let last_word = summary.split_whitespace().last().expect("a summary");
        assert!(
            screen.contains(last_word),
            "{width}x{height}: the end of {summary:?} is on screen\n{screen}"
        );
        snapshot!(format!("zoomed_trace_{width}x{height}"), screen);
        // Going down to the last step keeps the selection on screen, whole.
        ui.key(KeyCode::End);
        let screen = ui.screen();
        assert!(screen.contains("SUMMARY"), "{screen}");
    }
}

/// A chat by long polling, as recorded from the demo world (ports fixed): three requests,
/// one message sent and received, and what it cost.
fn chat_app(app: &mut App) {
    let message = |name: &str, text: &str, age_ms: u64| Message {
        seq: None,
        name: name.into(),
        text: text.into(),
        age_ms: Some(age_ms),
    };
    app.on_msg(Msg::ChatBegun {
        generation: 0,
        page: url::Url::parse("http://www.minibrowse.test:8080/").expect("url"),
        plan: ChatPlan {
            via: Via::Poll,
            name: "alice".into(),
            send: Vec::new(),
            wait: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        },
    });
    for line in include_str!("common/chat_poll.jsonl").lines() {
        let event: Event = serde_json::from_str(line).expect("a recorded event");
        app.on_msg(Msg::Event(0, event));
    }
    // The messages come a moment after joining (younger than the chat: not its history).
    std::thread::sleep(Duration::from_millis(20));
    app.on_msg(Msg::ChatLine(0, message("alice", "hello", 2)));
    // Bob's answer waited 3 ms at the server: a held poll takes it out at once.
    app.on_msg(Msg::ChatLine(
        0,
        message("bob", "hi alice, I see it after one poll", 3),
    ));
}

#[test]
fn chat_screen_title_and_zoom_at_projector_sizes() {
    let world = world();
    for (width, height) in PROJECTOR_SIZES {
        let mut ui = ui(&world, width, height);
        chat_app(&mut ui.app);
        let screen = ui.screen();
        let title = screen.lines().nth(2).expect("the panes' top border");
        // The cost, shortened by words, never by numbers: 860 header bytes for 1 message.
        assert!(title.contains("3 req"), "{title}");
        assert!(title.contains("860 B/msg"), "{title}");
        // The three techniques side by side: long polling measured, the others not yet.
        assert!(screen.contains("▶"), "{screen}");
        assert!(
            screen.contains("3 ms") && screen.contains("Ctrl-T"),
            "{screen}"
        );
        snapshot!(format!("chat_{width}x{height}"), screen);
        // Ctrl-Z zooms the chat while typing (z is a letter there); again goes back.
        let ctrl_z = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL);
        ui.app.on_key(ctrl_z);
        assert!(ui.app.zoomed);
        assert_eq!(ui.app.chat.as_ref().map(|c| c.input.as_str()), Some(""));
        let zoomed = ui.screen();
        assert!(zoomed.contains("bob: hi alice"), "{zoomed}");
        assert!(!zoomed.contains("Network:"), "{zoomed}");
        if width == 80 {
            snapshot!("chat_zoomed_80x24", zoomed);
        }
        ui.app.on_key(ctrl_z);
        assert!(!ui.app.zoomed);
    }
}

#[test]
fn open_url_resolves_a_path_against_the_current_page() {
    let world = world();
    let mut ui = ui(&world, 100, 30);
    ui.load(&world.url("/assets.html"), false);
    ui.settle();
    let mut open = |typed: &str| {
        ui.key(KeyCode::Char('o'));
        typed.chars().for_each(|c| ui.key(KeyCode::Char(c)));
        ui.key(KeyCode::Enter);
        ui.settle();
        ui.app.url.clone()
    };
    assert_eq!(open("/cookie.html"), world.url("/cookie.html"));
    // Relative to the page, as a link on it would be.
    assert_eq!(open("text.txt"), world.url("/text.txt"));
}

/// Ctrl-T moves the chat to the next technique: a new chat, with its own request log, and
/// the table keeps the first technique's row.
#[test]
fn ctrl_t_starts_the_same_chat_by_the_next_technique() {
    let world = world();
    let mut ui = ui(&world, 120, 36);
    chat_app(&mut ui.app);
    assert!(ui.app.requests.len() >= 3);
    let ctrl_t = KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL);
    let commands = ui.app.on_key(ctrl_t);
    let [Command::Chat { plan, .. }] = commands.as_slice() else {
        panic!("{commands:?}")
    };
    assert_eq!(plan.via, Via::Sse, "after long polling: Server-Sent Events");
    assert_eq!(plan.name, "alice");
    ui.app.on_msg(Msg::ChatBegun {
        generation: 1,
        page: url::Url::parse("http://www.minibrowse.test:8080/").expect("url"),
        plan: plan.clone(),
    });
    assert!(
        ui.app.requests.is_empty(),
        "the new chat's log starts empty"
    );
    let rows: Vec<_> = ui.app.chat_costs.rows().collect();
    assert!(rows[1].2.is_some_and(|poll| poll.requests == 3), "{rows:?}");
    assert!(rows[2].2.is_some(), "SSE begun");
    assert!(rows[3].2.is_none(), "WebSocket not yet");
}

/// The same chat by Server-Sent Events after long polling, as recorded from the demo world
/// (ports fixed): one stream and one POST, side by side with polling in the cost table.
#[test]
fn the_cost_table_sets_sse_beside_long_polling() {
    let world = world();
    let mut ui = ui(&world, 120, 36);
    chat_app(&mut ui.app);
    let ctrl_t = KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL);
    let commands = ui.app.on_key(ctrl_t);
    let [Command::Chat { plan, .. }] = commands.as_slice() else {
        panic!("{commands:?}")
    };
    ui.app.on_msg(Msg::ChatBegun {
        generation: 1,
        page: url::Url::parse("http://www.minibrowse.test:8080/").expect("url"),
        plan: plan.clone(),
    });
    for line in include_str!("common/chat_sse.jsonl").lines() {
        let event: Event = serde_json::from_str(line).expect("a recorded event");
        ui.app.on_msg(Msg::Event(1, event));
    }
    std::thread::sleep(Duration::from_millis(20));
    let message = |name: &str, text: &str, age_ms: u64| Message {
        seq: None,
        name: name.into(),
        text: text.into(),
        age_ms: Some(age_ms),
    };
    ui.app
        .on_msg(Msg::ChatLine(1, message("alice", "hello", 0)));
    ui.app.on_msg(Msg::ChatLine(
        1,
        message("bob", "hi alice, I see it at once", 1),
    ));
    let screen = ui.screen();
    let sse_row = screen
        .lines()
        .find(|l| l.contains("▶SSE"))
        .unwrap_or_else(|| panic!("{screen}"));
    // 2 messages, 2 requests (the stream and the POST), 747 bytes of heads and framing.
    assert!(
        sse_row.contains(" 2 ") && sse_row.contains("747") && sse_row.contains("373"),
        "{sse_row}"
    );
    assert!(screen.contains("long polling"), "{screen}");
    assert!(
        screen.contains("sse"),
        "the stream's request is in the log: {screen}"
    );
    snapshot!("chat_sse_after_poll_120x36", screen);
}

/// Digits typed in another pane bring the page back and follow the link: after looking at
/// a request, the class goes on to the next stop with `1` `Enter`.
#[test]
fn a_link_number_typed_in_the_request_log_follows_the_link() {
    let world = world();
    let mut ui = ui(&world, 100, 30);
    ui.load(&world.url("/"), false);
    ui.settle();
    ui.key(KeyCode::Tab);
    assert_eq!(ui.app.focus, Pane::Network);
    ui.key(KeyCode::Char('1'));
    assert_eq!(ui.app.focus, Pane::Page);
    ui.key(KeyCode::Enter);
    ui.settle();
    assert!(ui.app.url.ends_with("/lesson/1-dns.html"), "{}", ui.app.url);
}

/// J joins the chat of the page's site from the browser (no second command line), and a
/// page load afterwards brings the page back.
#[test]
fn j_joins_the_sites_chat_and_a_page_load_leaves_it() {
    let world = world();
    let mut ui = ui(&world, 120, 36);
    ui.load(&world.url("/chat.html"), false);
    ui.settle();
    let commands = ui.app.on_key(KeyEvent::from(KeyCode::Char('J')));
    let [Command::Chat { page, plan }] = commands.as_slice() else {
        panic!("{commands:?}")
    };
    assert_eq!(plan.via, Via::Poll);
    assert!(page.as_str().ends_with("/chat.html"), "{page}");
    ui.run(commands);
    ui.pump_until(|app| app.chat.as_ref().is_some_and(|c| c.cost.is_some()));
    assert_eq!(ui.app.focus, Pane::Chat);
    // Esc leaves the message line; o opens a page: the chat is over, the page is back.
    ui.key(KeyCode::Esc);
    ui.load(&world.url("/"), false);
    ui.settle();
    assert!(ui.app.chat.is_none());
    assert_eq!(ui.app.focus, Pane::Page);
    assert!(ui.screen().contains("Page:"));
}

/// Form fields: numbered like links, typed into on the page, toggled, chosen from a list,
/// and submitted; the page that comes back is what the form sent.
#[test]
fn form_fields_are_typed_into_toggled_chosen_and_submitted() {
    let world = world();
    let mut ui = ui_with(&world, 80, 24, minibrowse::layout::Fields::Numbered);
    ui.load(&world.url("/forms.html"), false);
    ui.settle();
    // Field 1 is the search box: its number and Enter, then typing goes into it.
    ui.key(KeyCode::Char('1'));
    ui.key(KeyCode::Enter);
    for c in "dns".chars() {
        ui.key(KeyCode::Char(c));
    }
    ui.key(KeyCode::Char('q')); // a letter, not the quit key, while typing
    ui.key(KeyCode::Backspace);
    let screen = ui.screen();
    assert!(screen.contains("[1][dns▏"), "{screen}");
    assert!(screen.contains("typing into field [1]"), "{screen}");
    ui.key(KeyCode::Enter);
    ui.settle();
    assert!(ui.app.url.ends_with("/search?q=dns"), "{}", ui.app.url);
    let results = ui
        .app
        .page
        .as_ref()
        .map(|p| p.layout.lines.join("\n"))
        .unwrap_or_default();
    assert!(results.contains("Stop 1 of 10: DNS"), "{results}");

    ui.key(KeyCode::Char('b'));
    ui.settle();
    ui.key(KeyCode::Char('z'));
    ui.key(KeyCode::Char('G'));
    for keys in ["11", "12"] {
        for c in keys.chars() {
            ui.key(KeyCode::Char(c));
        }
        ui.key(KeyCode::Enter);
    }
    // 12 is a select: its options in a dialog.
    assert!(ui.screen().contains("Choose: colour"));
    ui.key(KeyCode::Down);
    ui.key(KeyCode::Enter);
    let screen = ui.screen();
    snapshot!("forms_filled_in_80x24", screen.clone());
    assert!(screen.contains("[11][x] urgent"), "{screen}");
    assert!(screen.contains("[12][blue  ▾]"), "{screen}");
    // 16 sends the form urlencoded (its button's formenctype) to /echo.
    ui.key(KeyCode::Char('1'));
    ui.key(KeyCode::Char('6'));
    ui.key(KeyCode::Enter);
    ui.settle();
    // The body as it went on the wire (the trace's request), and as the server got it.
    let sent = ui
        .app
        .events
        .iter()
        .find_map(|e| match &e.kind {
            minibrowse::trace::EventKind::Request { body: Some(b), .. } => Some(b.preview.clone()),
            _ => None,
        })
        .expect("a request with a body");
    assert!(
        sent.starts_with("name=Ada&secret=&size=large&subscribe=on&urgent=yes&colour=blue&note=Two%0D%0Alines&upload=&lesson=forms"),
        "{sent}"
    );
    let received = ui
        .app
        .page
        .as_ref()
        .map(|p| p.layout.lines.concat())
        .unwrap_or_default();
    assert!(received.contains("POST /echo"), "{received}");
    // The request's detail shows the body under the head, as it went.
    ui.key(KeyCode::Char('z'));
    ui.key(KeyCode::Tab);
    ui.key(KeyCode::Enter);
    let detail = ui.screen();
    assert!(
        detail.contains("(body: 104 bytes of application/x-www-form-urlencoded)"),
        "{detail}"
    );
    assert!(detail.contains("name=Ada&secret=&size=large"), "{detail}");
    assert!(ui
        .app
        .events
        .iter()
        .any(|e| matches!(e.kind, minibrowse::trace::EventKind::FormSubmit { .. })));
}
