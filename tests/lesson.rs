//! The ten-minute lesson (issue 13): the demo home page is its table of contents, ten stops
//! in the seed's order. Followed as a class follows them, in one browser from the home page,
//! each stop loads without failure, makes its concept happen, names only keys the key map
//! has, and has the next stop as its link 1.

mod common;

use common::{load_in, options, run_binary, world, Load};
use minibrowse::page::{Browser, Content};
use minibrowse::trace::EventKind;
use minibrowse::tui::keys::BINDINGS;

/// The ten concepts, in the seed's order, as the home page and the stops name them.
const STOPS: [&str; 10] = [
    "DNS",
    "request and response",
    "statelessness and cookies",
    "ports 80 and 443, and TLS",
    "the server's side and the proxy",
    "the DOM",
    "the assets",
    "long polling",
    "the WebSocket handshake",
    "two-way chat",
];

/// The text of every `<kbd>` of an HTML source.
fn kbd_keys(source: &str) -> Vec<String> {
    source
        .split("<kbd>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</kbd>").map(|(key, _)| key.to_string()))
        .collect()
}

/// Whether the key map has `key`: a word of a binding's keys (`Tab / Shift-Tab` has both),
/// or a digit, typed as a link number (`0-9 Enter`).
fn key_exists(key: &str) -> bool {
    let digits = key.chars().all(|c| c.is_ascii_digit());
    BINDINGS.iter().any(|b| {
        b.keys.split([' ', '/']).any(|word| word == key) || (digits && b.keys == "0-9 Enter")
    })
}

fn failures(load: &Load) -> Vec<String> {
    load.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Failed { step, message, .. } => Some(format!("{step}: {message}")),
            _ => None,
        })
        .collect()
}

/// What shows that the stop's concept happened, in its load's events.
fn concept_happened(n: usize, load: &Load) -> Result<(), String> {
    let kinds: Vec<&EventKind> = load.events.iter().map(|e| &e.kind).collect();
    let happened = match n {
        // A name never asked before, answered through its two alias hops.
        1 => kinds.iter().any(|k| {
            matches!(k, EventKind::Dns { host, cached: false, records, .. }
                if host == "img.minibrowse.test"
                    && records.iter().filter(|r| r.record_type == "CNAME").count() == 2
                    && records.iter().any(|r| r.record_type == "A"))
        }),
        // The exact request line, and a status line back.
        2 => kinds.iter().any(|k| {
            matches!(k, EventKind::Request { head, .. }
                if head.starts_with("GET /lesson/2-request.html HTTP/1.1\r\n"))
        }) && kinds.iter().any(
            |k| matches!(k, EventKind::Response { head, .. } if head.starts_with("HTTP/1.1 200 OK\r\n")),
        ),
        // The server sets a cookie, and the next request of the same load sends it back.
        3 => {
            let set = kinds.iter().position(|k| {
                matches!(k, EventKind::SetCookie(c) if c.name == "visitor" && c.outcome == "stored")
            });
            let sent = kinds.iter().rposition(|k| {
                matches!(k, EventKind::CookieSent { header, .. } if header.contains("visitor=student"))
            });
            matches!((set, sent), (Some(set), Some(sent)) if sent > set)
        }
        // From plain HTTP on to HTTPS, through a checked TLS handshake.
        4 => {
            load.page().url.scheme() == "https"
                && kinds
                    .iter()
                    .any(|k| matches!(k, EventKind::Redirect { next_url, .. } if next_url.starts_with("https://")))
                && kinds
                    .iter()
                    .any(|k| matches!(k, EventKind::Tls { verified: true, .. }))
        }
        // The page links to the three cases of the server's side.
        5 => ["/front.txt", "/archive.html", "/nowhere.html"]
            .iter()
            .all(|path| load.page().layout.links.iter().any(|l| l.url.ends_with(path))),
        // A DOM with the elements the source leaves out.
        6 => {
            let source = load.page().source.clone().unwrap_or_default();
            let Content::Html(doc) = &load.page().content else {
                return Err(format!("stop {n} is not HTML"));
            };
            !source.contains("<html")
                && !source.contains("<body")
                && ["html", "head", "body", "tbody"]
                    .iter()
                    .all(|tag| doc.first(tag).is_some())
        }
        // Fifteen requests for one page: fifteen rows of the request log, one of them (the
        // icon the home page fetched, fresh for an hour) answered by the HTTP cache.
        7 => {
            let fresh = |k: &&&EventKind| {
                matches!(k, EventKind::Cache(step)
                    if step.action == minibrowse::trace::CacheAction::Fresh)
            };
            let sent = kinds
                .iter()
                .filter(|k| matches!(k, EventKind::Request { .. }))
                .count();
            sent + kinds.iter().filter(fresh).count() == 15
        }
        // A long poll, held by the server and answered.
        8 => kinds.iter().any(|k| {
            matches!(k, EventKind::Request { url, .. } if url.contains("/chat/poll?since=0&wait=3"))
        }),
        // The chat commands of 9 and 10 are run by the test below.
        _ => true,
    };
    happened.then_some(()).ok_or_else(|| {
        format!(
            "stop {n}'s concept left no trace in its events: {:?}",
            load.names()
        )
    })
}

#[test]
fn the_home_page_leads_through_ten_stops_that_each_load_and_lead_on() {
    let world = world();
    let browser = Browser::new(options(&world)).expect("the browser starts");
    let home = load_in(&browser, &world.home_url());
    let links = home.page().layout.links.clone();
    assert!(links.len() > STOPS.len(), "{links:?}");
    // The table of contents: stops 1 to 10 are links 1 to 10, in order.
    let mut urls = Vec::new();
    for (i, concept) in STOPS.iter().enumerate() {
        let link = &links[i];
        assert_eq!(link.text, format!("Stop {}: {concept}", i + 1), "{links:?}");
        urls.push(link.url.clone());
    }
    for (i, concept) in STOPS.iter().enumerate() {
        let n = i + 1;
        let load = load_in(&browser, &urls[i]);
        assert_eq!(failures(&load), Vec::<String>::new(), "stop {n}");
        let page = load.page();
        assert_eq!(page.status, Some(200), "stop {n}: {}", page.url);
        let text = load.dump();
        let heading = format!("Stop {n} of 10: {concept}");
        assert!(
            text.contains(&heading),
            "stop {n} has no {heading:?}:\n{text}"
        );
        for part in ["Look at:", "Press:"] {
            assert!(text.contains(part), "stop {n} has no {part:?}:\n{text}");
        }
        // Its link 1 is the next stop (the last: the home page).
        let next = page.layout.links.first().expect("a link");
        assert!(next.text.starts_with("Next stop →"), "stop {n}: {next:?}");
        let expected = urls.get(n).cloned().unwrap_or_else(|| world.home_url());
        assert_eq!(next.url, expected, "stop {n}'s next stop");
        // The keys it says to press are keys minibrowse has.
        let source = page.source.clone().unwrap_or_default();
        let keys = kbd_keys(&source);
        assert!(!keys.is_empty(), "stop {n} names no key");
        for key in &keys {
            assert!(
                key_exists(key),
                "stop {n} says to press {key:?}: not in the key map"
            );
        }
        concept_happened(n, &load).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// The `<pre>` commands of a page, their continued lines joined, as arguments.
fn commands(source: &str) -> Vec<Vec<String>> {
    source
        .split("<pre>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</pre>").map(|(pre, _)| pre))
        .flat_map(|pre| {
            pre.replace("\\\n", " ")
                .lines()
                .map(|line| {
                    line.split_whitespace()
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .filter(|words| words.first().is_some_and(|w| w == "minibrowse"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Stops 8 to 10 tell the class to join the chat from another terminal: the commands they
/// print reach this world, one by long polling and one over a WebSocket, in one room.
#[test]
fn the_chat_commands_of_the_last_stops_join_one_room() {
    let world = world();
    let browser = Browser::new(options(&world)).expect("the browser starts");
    let source = |path: &str| {
        load_in(&browser, &world.url(path))
            .page()
            .source
            .clone()
            .unwrap_or_default()
    };
    let poll = commands(&source("/lesson/8-long-polling.html"));
    let ws = commands(&source("/lesson/9-websocket.html"));
    let both = commands(&source("/chat.html"));
    assert_eq!(poll.len(), 1, "{poll:?}");
    assert_eq!(ws.len(), 1, "{ws:?}");
    assert_eq!(
        both,
        [poll[0].clone(), ws[0].clone()],
        "stop 10 repeats both"
    );
    let dns = world.dns_addr.to_string();
    for command in [&poll[0], &ws[0]] {
        assert!(
            command
                .windows(2)
                .any(|w| w[0] == "--dns-server" && w[1] == dns),
            "{command:?}"
        );
        assert_eq!(command.last(), Some(&world.home_url()), "{command:?}");
    }
    // alice listens by long polling while bob says hello over a WebSocket.
    let run = |command: &[String], extra: &[&str]| {
        let mut args: Vec<&str> = command[1..].iter().map(String::as_str).collect();
        let url = args.pop().expect("a URL");
        args.extend_from_slice(extra);
        args.push(url);
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        std::thread::spawn(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_binary(&args, std::time::Duration::from_secs(20))
        })
    };
    let alice = run(&poll[0], &["--wait", "4"]);
    std::thread::sleep(std::time::Duration::from_millis(800));
    let bob = run(
        &ws[0],
        &["--trace", "--send", "hello from bob", "--wait", "1"],
    )
    .join();
    let bob = bob.expect("bob's client ran");
    let alice = alice.join().expect("alice's client ran");
    let bob_out = String::from_utf8_lossy(&bob.stdout);
    assert!(bob.status.success(), "{bob_out}");
    assert!(bob_out.contains("101 Switching Protocols"), "{bob_out}");
    assert!(
        bob_out.contains("Sec-WebSocket-Accept matches"),
        "{bob_out}"
    );
    let alice_out = String::from_utf8_lossy(&alice.stdout);
    assert!(alice.status.success(), "{alice_out}");
    assert!(alice_out.contains("bob: hello from bob"), "{alice_out}");
}
