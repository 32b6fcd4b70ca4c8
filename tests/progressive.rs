//! A load as a browser of today runs it, against the demo world on loopback: the document
//! parsed as it arrives, the preload scanner's early requests, priorities, the first render
//! before the images, and the load's moments.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::{load, load_with, options, world};
use minibrowse::demo::{DemoOptions, DemoWorld};
use minibrowse::html;
use minibrowse::page::{Browser, Content, Page};
use minibrowse::trace::{Collector, Event, EventKind, Trace};

fn slow_world(latency_ms: u64) -> DemoWorld {
    DemoWorld::start(DemoOptions {
        latency: Duration::from_millis(latency_ms),
        ..DemoOptions::default()
    })
    .expect("the demo world starts")
}

/// The load's moments, by name.
fn moments(events: &[Event]) -> HashMap<String, f64> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::LoadMoment { moment, ms } => Some((moment.clone(), *ms)),
            _ => None,
        })
        .collect()
}

/// When the document's body ended (its `body` event: start plus duration).
fn document_end(events: &[Event]) -> f64 {
    events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Body { ms, .. } if e.request == Some(1) => Some(e.t_ms + ms),
            _ => None,
        })
        .expect("the document's body")
}

/// Requests by URL suffix: when each began, and how many there were.
fn requests(events: &[Event], suffix: &str) -> Vec<f64> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Request { url, begun_ms, .. } if url.ends_with(suffix) => Some(*begun_ms),
            _ => None,
        })
        .collect()
}

/// The page parsed as its body arrived (in 15 parts over 0.6 s) is the DOM of the whole
/// body parsed at once; and so is every page of the demo site it was tried on.
#[test]
fn the_streamed_parse_is_the_whole_bodys_dom() {
    let world = world();
    for path in [
        "/errors/trickle-page?ms=600&images=3",
        "/",
        "/assets.html",
        "/layout.html",
        "/latin1.html",
    ] {
        let load = load(&world, path);
        let page = load.page();
        let Content::Html(doc) = &page.content else {
            panic!("{path} is HTML");
        };
        let source = page.source.as_deref().expect("the page's text");
        assert_eq!(doc.outline(), html::parse(source).outline(), "{path}");
        let two_threads = load.events.iter().any(|e| {
            matches!(
                &e.kind,
                EventKind::Parse {
                    two_threads: true,
                    ..
                }
            ) && e.request == Some(1)
        });
        assert!(two_threads, "{path}: streamed through the two-thread parse");
    }
}

/// The stylesheet in the head of a document that takes 0.9 s to arrive is asked for while
/// the rest still comes: its request begins long before the document's body ends.
#[test]
fn the_preload_scanner_asks_for_the_stylesheet_before_the_document_ends() {
    let world = world();
    let load = load(&world, "/errors/trickle-page?ms=900");
    let end = document_end(&load.events);
    let css = requests(&load.events, "/style.css");
    assert_eq!(css.len(), 1, "fetched once");
    assert!(
        css[0] + 500.0 < end,
        "the stylesheet's request began at {} ms, the document ended at {end} ms",
        css[0]
    );
    let by_scanner = load.events.iter().any(|e| {
        matches!(&e.kind, EventKind::AssetQueued { url, by, priority, .. }
            if url.ends_with("/style.css") && by == "preload scanner" && priority == "highest")
    });
    assert!(by_scanner);
    // The DOM walk found it afterwards and did not ask again; the trace says by how much
    // the scanner was ahead.
    let early = load.events.iter().find_map(|e| match &e.kind {
        EventKind::Preload { url, early_ms, .. } if url.ends_with("/style.css") => *early_ms,
        _ => None,
    });
    assert!(early.is_some_and(|ms| ms > 500.0), "{early:?}");
}

/// Images at 300 ms each: the page is laid out and handed over (first render) once its
/// stylesheet is in, before the images have come; the moments come in their order.
#[test]
fn the_first_render_comes_before_the_images() {
    let world = slow_world(300);
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    let browser = Browser::new(options(&world)).expect("the browser starts");
    let mut rendered: Option<(usize, f64)> = None;
    let page: Page = browser
        .load_progressive(
            &world.url("/errors/many-assets?n=12"),
            80,
            &trace,
            &mut |page| {
                rendered = Some((page.assets.len(), trace.elapsed_ms()));
            },
        )
        .expect("the page loads");
    let events = collector.events();
    let (assets_then, at) = rendered.expect("a first render");
    assert_eq!(assets_then, 0, "no image was waited for");
    assert_eq!(page.assets.len(), 12, "all images, at the end");
    let last_image_end = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Body {
                ms,
                content_type: Some(t),
                ..
            } if t.starts_with("image/") => Some(e.t_ms + ms),
            _ => None,
        })
        .fold(0.0, f64::max);
    let m = moments(&events);
    assert!(
        m["first_render"] < last_image_end,
        "{m:?} images until {last_image_end}"
    );
    assert!(at <= m["first_render"] + 50.0);
    assert!(m["dom_content_loaded"] <= m["load"], "{m:?}");
    assert!(m["first_render"] + 250.0 < m["load"], "{m:?}");
    assert!(m["load"] >= last_image_end, "{m:?}");
    // Each image once, though both the scanner and the DOM walk saw it.
    for i in 0..12 {
        assert_eq!(requests(&events, &format!("?n={i}")).len(), 1, "image {i}");
    }
    // The first screenful (five images) before the rest.
    let priorities: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AssetQueued { priority, .. } => Some(priority.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(&priorities[..5], ["medium"; 5]);
    assert!(priorities[5..].iter().all(|p| p == "low"), "{priorities:?}");
}

/// The three moments of an ordinary page, and the HAR's page timings taken from them.
#[test]
fn the_moments_are_in_order_and_the_har_uses_them() {
    let world = world();
    let load = load(&world, "/");
    let m = moments(&load.events);
    assert_eq!(m.len(), 3, "{m:?}");
    assert!(m["dom_content_loaded"] <= m["load"]);
    assert!(m["first_render"] <= m["load"]);
    let har = minibrowse::views::har::build(&minibrowse::views::har::HarSource {
        events: &load.events,
        started: std::time::SystemTime::now(),
        bodies: &HashMap::new(),
        title: None,
    });
    let timings = &har["log"]["pages"][0]["pageTimings"];
    let close = |a: f64, b: f64| (a - b).abs() < 1.0;
    assert!(
        close(timings["onLoad"].as_f64().unwrap_or(-1.0), m["load"]),
        "{timings}"
    );
    assert!(
        close(
            timings["onContentLoad"].as_f64().unwrap_or(-1.0),
            m["dom_content_loaded"]
        ),
        "{timings}"
    );
}

/// `--dump` alone (text only): the scanner asks only for what can change the text, and the
/// load ends at the first render, with no `load` moment.
#[test]
fn text_only_asks_for_no_image() {
    let world = world();
    let mut opts = options(&world);
    opts.text_only = true;
    let load = load_with(opts, &world.url("/errors/trickle-page?ms=300&images=5"));
    assert_eq!(requests(&load.events, "/style.css").len(), 1);
    assert!(requests(&load.events, ".png").is_empty());
    let m = moments(&load.events);
    assert!(
        m.contains_key("first_render") && !m.contains_key("load"),
        "{m:?}"
    );
}

/// When connections are scarce (one to the host), the queue sends the highest priority
/// first, not document order: the stylesheet and the frame, then scripts and the font, the
/// first screenful of images, the rest, and the print stylesheet last.
#[test]
fn scarce_connections_go_by_priority() {
    let world = world();
    let mut opts = options(&world);
    opts.connections_per_host = 1;
    // The whole document first, so that every reference is in the queue at once.
    opts.sequential = true;
    let load = load_with(opts, &world.url("/assets.html"));
    let rank = |p: &str| {
        ["highest", "high", "medium", "low", "lowest"]
            .iter()
            .position(|n| *n == p)
    };
    let queued: HashMap<String, usize> = load
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AssetQueued { url, priority, .. } => Some((url.clone(), rank(priority)?)),
            _ => None,
        })
        .collect();
    // The page's own host, the first wave (frame.css comes once its frame is in).
    let sent: Vec<(String, usize)> = load
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Request { url, .. }
                if url.contains("www.") && !url.ends_with("frame.css") =>
            {
                Some((url.clone(), *queued.get(url)?))
            }
            _ => None,
        })
        .collect();
    assert!(sent.len() >= 10, "{sent:?}");
    let ranks: Vec<usize> = sent.iter().map(|(_, r)| *r).collect();
    let mut sorted = ranks.clone();
    sorted.sort();
    assert_eq!(ranks, sorted, "{sent:?}");
    assert!(sent[0].0.ends_with("/style.css"), "{sent:?}");
    assert!(
        sent.last().is_some_and(|(u, _)| u.ends_with("/print.css")),
        "{sent:?}"
    );
}

/// The TUI's session hands the page to the screen at its first render: with images at
/// 300 ms each, the page arrives while the load still runs (its `load` moment comes after).
#[test]
fn the_tui_shows_the_page_before_the_images_are_in() {
    use minibrowse::tui::app::{App, Command};
    use minibrowse::tui::execute_commands;
    use minibrowse::tui::session::{Msg, Session};
    let world = slow_world(300);
    let browser = Browser::new(options(&world)).expect("the browser starts");
    let mut session = Session::new(Arc::new(browser));
    let mut app = App::new(false);
    let url = world.url("/errors/many-assets?n=12");
    execute_commands(
        &mut app,
        &mut session,
        vec![Command::Load { url, step: false }],
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let (mut shown_before_load, mut loaded_moment) = (None, false);
    while std::time::Instant::now() < deadline && !loaded_moment {
        match session.rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Msg::Loaded(..)) if shown_before_load.is_none() => {
                shown_before_load = Some(!loaded_moment)
            }
            Ok(Msg::Event(_, e)) => {
                loaded_moment |=
                    matches!(&e.kind, EventKind::LoadMoment { moment, .. } if moment == "load");
            }
            _ => {}
        }
    }
    assert!(loaded_moment, "the load ended");
    assert_eq!(
        shown_before_load,
        Some(true),
        "the page came before the load moment"
    );
}

/// The page's own request counts among its host's six connections while it downloads (as
/// a browser's per-host limit counts every request): the images the preload scanner asks for
/// meanwhile take the other five, never a seventh connection.
#[test]
fn the_document_counts_among_its_hosts_six_connections() {
    let world = slow_world(100);
    let mut opts = options(&world);
    opts.http.http1_only = true;
    let load = load_with(opts, &world.https_url("/errors/many-assets?n=24"));
    assert_eq!(load.page().status, Some(200));
    let connections = load.count("connect");
    assert!(
        (2..=6).contains(&connections),
        "{connections} connections to one host"
    );
}
