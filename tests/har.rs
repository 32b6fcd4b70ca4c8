//! HAR export: the file parses with the `har` crate and keeps the invariants the validators
//! miss (phases >= 0 or -1, time = sum of phases, ssl inside connect, entries in start order).

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use common::{options, world};
use minibrowse::chat::{self, ChatPlan, Via};
use minibrowse::page::Browser;
use minibrowse::trace::{Collector, Trace};
use minibrowse::views::har::{build, HarSource};

/// Loads `path` of the demo world (after `before`, in the same browser) and returns the HAR.
fn har_of(world: &minibrowse::demo::DemoWorld, before: &[&str], path: &str) -> String {
    har_of_url(world, before, &world.url(path))
}

fn har_of_url(world: &minibrowse::demo::DemoWorld, before: &[&str], url: &str) -> String {
    let browser = Browser::new(options(world)).expect("browser");
    for page in before {
        browser
            .load(
                &world.url(page),
                &Trace::new(Arc::new(Collector::default())),
            )
            .expect("earlier page");
    }
    let collector = Arc::new(Collector::default());
    let trace = Trace::keeping_bodies(collector.clone(), 64 * 1024);
    let page = browser.load(url, &trace).expect("load");
    let har = build(&HarSource {
        events: &collector.events(),
        started: trace.start_wall(),
        bodies: &trace.kept_bodies(),
        title: page.title(),
    });
    serde_json::to_string_pretty(&har).expect("json")
}

fn parse(text: &str) -> har::v1_2::Log {
    match har::from_reader(text.as_bytes())
        .expect("a HAR the har crate reads")
        .log
    {
        har::Spec::V1_2(log) => log,
        other => panic!("not HAR 1.2: {other:?}"),
    }
}

/// The invariants of every entry; returns the entries for further checks.
fn check_invariants(log: &har::v1_2::Log) {
    assert!(!log.entries.is_empty());
    let mut last_start = String::new();
    for e in &log.entries {
        let t = &e.timings;
        let optional = [t.blocked, t.dns, t.connect, t.ssl].map(|p| p.unwrap_or(-1.0));
        for phase in optional {
            assert!(phase >= 0.0 || phase == -1.0, "phase {phase} in {t:?}");
        }
        for phase in [t.send, t.wait, t.receive] {
            assert!(phase >= 0.0, "send/wait/receive {phase} in {t:?}");
        }
        let [blocked, dns, connect, ssl] = optional;
        let sum: f64 = [blocked, dns, connect, t.send, t.wait, t.receive]
            .iter()
            .filter(|p| **p >= 0.0)
            .sum();
        assert!((e.time - sum).abs() < 0.002, "time {} != sum {sum}", e.time);
        if ssl >= 0.0 {
            assert!(connect >= ssl, "ssl {ssl} outside connect {connect}");
        }
        if connect == -1.0 {
            assert_eq!(ssl, -1.0, "a reused connection has no handshake");
        }
        // ISO 8601 strings of one format sort like the times they name.
        assert!(e.started_date_time >= last_start, "entries out of order");
        last_start = e.started_date_time.clone();
        assert_eq!(e.pageref.as_deref(), Some("page_1"));
    }
}

#[test]
fn a_page_with_assets_gives_entries_with_real_timings_and_bodies() {
    let world = world();
    let text = har_of(&world, &[], "/assets.html");
    let log = parse(&text);
    check_invariants(&log);
    let pages = log.pages.as_ref().expect("pages");
    assert_eq!(pages[0].title, "A page with many assets");
    let (content_load, load) = (
        pages[0].page_timings.on_content_load.unwrap_or(-1.0),
        pages[0].page_timings.on_load.unwrap_or(-1.0),
    );
    assert!(
        content_load > 0.0 && content_load <= load,
        "{content_load} {load}"
    );

    let first = &log.entries[0];
    assert!(first.request.url.ends_with("/assets.html"));
    assert!(
        first.timings.dns.unwrap_or(-1.0) >= 0.0,
        "the first request asked DNS"
    );
    assert!(
        first.timings.connect.unwrap_or(-1.0) >= 0.0,
        "and connected"
    );
    assert_eq!(first.timings.ssl, Some(-1.0), "plain HTTP has no TLS");
    assert_eq!(first.server_ip_address.as_deref(), Some("127.0.0.1"));
    let html = first
        .response
        .content
        .text
        .as_deref()
        .expect("html inlined");
    assert!(html.contains("<img src=\"/img/cat-small.png\""));
    assert_eq!(first.response.content.encoding, None);

    // Some asset reused a connection: no DNS, no connect.
    assert!(log
        .entries
        .iter()
        .any(|e| e.timings.connect == Some(-1.0) && e.timings.dns == Some(-1.0)));
    // A binary body is base64 and decodes to its size.
    let png = log
        .entries
        .iter()
        .find(|e| e.request.url.ends_with("/img/cat-small.png"))
        .expect("the cat");
    assert_eq!(png.response.content.encoding.as_deref(), Some("base64"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(png.response.content.text.as_deref().unwrap_or_default())
        .expect("base64");
    assert_eq!(bytes.len() as i64, png.response.content.size);
    assert!(bytes.starts_with(b"\x89PNG"));
    // The missing image is there too, with its 404.
    assert!(log.entries.iter().any(|e| e.response.status == 404));
}

#[test]
fn https_entries_have_the_handshake_inside_connect() {
    let world = world();
    let log = parse(&har_of_url(&world, &[], &world.https_url("/")));
    check_invariants(&log);
    let first = &log.entries[0];
    let (connect, ssl) = (
        first.timings.connect.unwrap_or(-1.0),
        first.timings.ssl.unwrap_or(-1.0),
    );
    assert!(ssl > 0.0 && connect > ssl, "connect {connect}, ssl {ssl}");
    assert!(first
        .request
        .url
        .starts_with("https://secure.minibrowse.test:"));
}

#[test]
fn cookies_query_and_redirects_are_in_the_archive() {
    let world = world();
    let log = parse(&har_of(
        &world,
        &["/cookie.html"],
        "/cookie-check?lang=en&x=1",
    ));
    check_invariants(&log);
    let entry = &log.entries[0];
    let query: Vec<(&str, &str)> = entry
        .request
        .query_string
        .iter()
        .map(|q| (q.name.as_str(), q.value.as_str()))
        .collect();
    assert_eq!(query, [("lang", "en"), ("x", "1")]);
    let sent: Vec<&str> = entry
        .request
        .cookies
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(sent, ["visitor"]);
    let set = &entry.response.cookies[0];
    assert_eq!((set.name.as_str(), set.value.as_str()), ("visits", "1"));
    assert_eq!(set.path.as_deref(), Some("/cookie-check"));
    // The earlier page's connection is reused: no dns, no connect.
    assert_eq!(entry.timings.connect, Some(-1.0));

    let log = parse(&har_of(&world, &[], "/old-page"));
    check_invariants(&log);
    assert_eq!(log.entries[0].response.status, 301);
    assert!(log.entries[0]
        .response
        .redirect_url
        .as_deref()
        .is_some_and(|u| u.ends_with("/new-page.html")));
    assert!(log.entries[1].request.url.ends_with("/new-page.html"));
}

#[test]
fn chat_posts_and_websocket_frames_are_recorded_like_chrome_does() {
    let world = world();
    let browser = Browser::new(options(&world)).expect("browser");
    let page = url::Url::parse(&world.home_url()).expect("url");
    for via in [Via::Poll, Via::Sse, Via::WebSocket] {
        let collector = Arc::new(Collector::default());
        let trace = Trace::keeping_bodies(collector.clone(), 64 * 1024);
        let plan = ChatPlan {
            via,
            name: "har".into(),
            send: vec!["hello archive".into()],
            wait: Duration::from_millis(300),
            timeout: Duration::from_secs(10),
        };
        chat::run(browser.client(), &page, &plan, &trace, &mut |_| {}, None).expect("chat");
        let har = build(&HarSource {
            events: &collector.events(),
            started: trace.start_wall(),
            bodies: &trace.kept_bodies(),
            title: None,
        });
        let text = serde_json::to_string(&har).expect("json");
        check_invariants(&parse(&text));
        let entries = har["log"]["entries"].as_array().expect("entries");
        match via {
            Via::Poll => {
                let post = entries
                    .iter()
                    .find(|e| e["request"]["method"] == "POST")
                    .expect("the message was POSTed");
                let data = &post["request"]["postData"];
                assert!(data["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("hello archive"));
                assert!(data["mimeType"].as_str().is_some_and(|m| !m.is_empty()));
            }
            Via::WebSocket => {
                let ws = entries
                    .iter()
                    .find(|e| e["response"]["status"] == 101)
                    .expect("the upgrade");
                assert_eq!(ws["_resourceType"], "websocket");
                let messages = ws["_webSocketMessages"].as_array().expect("messages");
                let sent = messages
                    .iter()
                    .find(|m| m["type"] == "send" && m["opcode"] == 1)
                    .expect("a sent text frame");
                assert!(sent["data"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("hello archive"));
                assert!(messages.iter().any(|m| m["type"] == "receive"));
                assert!(
                    sent["time"].as_f64().unwrap_or(0.0) > 1.7e9,
                    "epoch seconds"
                );
            }
            Via::Sse => {
                // The stream is an entry like any response, its text as far as it came.
                let stream = entries
                    .iter()
                    .find(|e| {
                        e["request"]["url"]
                            .as_str()
                            .is_some_and(|u| u.ends_with("/chat/events"))
                    })
                    .expect("the event stream");
                assert_eq!(stream["response"]["status"], 200);
                assert_eq!(
                    stream["response"]["content"]["mimeType"],
                    "text/event-stream"
                );
                assert!(entries.iter().any(|e| e["request"]["method"] == "POST"));
            }
            Via::Refresh { .. } => unreachable!("not in this test"),
        }
    }
}
