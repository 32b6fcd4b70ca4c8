//! The pipeline against the demo world on loopback: DNS, HTTP, DOM, assets, layout, as traced.

mod common;

use std::collections::HashMap;

use common::{load, load_in, load_with, options, world};
use minibrowse::page::{Browser, Content};
use minibrowse::trace::{DnsRecord, EventKind, Step};

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fixtures/site/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture exists")
}

#[test]
fn home_page_goes_through_every_step_in_order() {
    let world = world();
    let load = load(&world, "/");
    let names = load.names();
    // The document's own steps come first, in pipeline order (the HTTP cache decides
    // whether to keep the response once its head is in, before the body).
    // Two DNS questions: AAAA and A, asked at once (www has only an A record). The preload
    // scanner's requests are queued while the body is read, before its `body` event.
    let queued = names.iter().position(|n| *n == "asset_queued");
    let body = names.iter().position(|n| *n == "body");
    assert!(queued < body, "{names:?}");
    // The assets' requests run beside the document's: its own steps are in order.
    let document: Vec<&str> = load.of_request(1).into_iter().map(common::name).collect();
    assert_eq!(names[0], "start");
    assert_eq!(
        document,
        ["dns", "dns", "connect", "request", "response", "cache", "body", "parse"],
        "{names:?}"
    );
    assert_eq!(names.last(), Some(&"summary"));
    assert!(names.contains(&"layout"));

    // AAAA first: www has no IPv6 address.
    let EventKind::Dns {
        record_type,
        records,
        ..
    } = load.of_request(1)[0]
    else {
        panic!("request 1 starts with DNS");
    };
    assert_eq!((record_type.as_str(), records.len()), ("AAAA", 0));
    let EventKind::Dns {
        host,
        record_type,
        server,
        records,
        cached,
        ..
    } = load.of_request(1)[1]
    else {
        panic!("request 1 starts with DNS");
    };
    assert_eq!(host, "www.minibrowse.test");
    assert_eq!(record_type, "A");
    assert_eq!(server, &world.dns_addr.to_string());
    assert!(!cached);
    assert_eq!(
        records,
        &[DnsRecord {
            name: "www.minibrowse.test.".into(),
            record_type: "A".into(),
            ttl: 300,
            data: "127.0.0.1".into()
        }]
    );

    // The connection goes to the address DNS returned, on the URL's port.
    let EventKind::Connect { remote, .. } = load.of_request(1)[2] else {
        panic!("then TCP")
    };
    assert_eq!(remote, &world.http_addr.to_string());

    // The request exactly as written on the wire.
    let EventKind::Request { head, .. } = load.of_request(1)[3] else {
        panic!("then the request")
    };
    let port = world.http_addr.port();
    assert_eq!(
        head,
        &format!(
            "GET / HTTP/1.1\r\nuser-agent: minibrowse/{}\r\nhost: www.minibrowse.test:{port}\r\naccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\naccept-encoding: gzip, deflate, br, zstd\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    let EventKind::Response { status, head, .. } = load.of_request(1)[4] else {
        panic!("then the response")
    };
    assert_eq!(*status, 200);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("content-type: text/html; charset=utf-8\r\n"));

    // The HTTP cache keeps the page: the demo's pages may be used for a minute.
    let EventKind::Cache(kept) = load.of_request(1)[5] else {
        panic!("then the cache's decision")
    };
    assert_eq!(kept.action, minibrowse::trace::CacheAction::Stored);
    assert_eq!(kept.ttl_s, Some(60));

    let EventKind::Body {
        decoded_bytes,
        wire_bytes,
        ..
    } = load.of_request(1)[6]
    else {
        panic!("then the body")
    };
    let index = fixture("index.html");
    // The page's {{HOST}} placeholder becomes the real host and port.
    let expected = String::from_utf8_lossy(&index)
        .replace("{{HOST}}", &format!("www.minibrowse.test:{port}"))
        .len() as u64;
    assert_eq!(*decoded_bytes, expected);
    assert_eq!(*wire_bytes, expected);

    let EventKind::Parse {
        encoding,
        encoding_source,
        errors,
        elements,
        ..
    } = load.of_request(1)[7]
    else {
        panic!("then the parse")
    };
    assert_eq!(encoding, "UTF-8");
    assert_eq!(encoding_source, "HTTP Content-Type header");
    assert_eq!(*errors, 0);
    assert!(*elements > 20);

    let dump = load.dump();
    assert!(
        dump.starts_with("Welcome to the minibrowse demo world\n"),
        "{dump}"
    );
    // Link 1 is the ten-minute lesson's first stop (tests/lesson.rs follows all ten).
    assert!(dump.contains("[1]Stop 1: DNS"));
    assert!(dump.contains(&format!(
        "1. http://www.minibrowse.test:{port}/lesson/1-dns.html"
    )));
}

#[test]
fn assets_page_fetches_exactly_its_subresources_once() {
    let world = world();
    let load = load(&world, "/assets.html");
    let port = world.http_addr.port();
    let found: Vec<(String, String)> = load
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AssetFound { kind, url, .. } => Some((kind.clone(), url.clone())),
            _ => None,
        })
        .collect();
    let www = |p: &str| format!("http://www.minibrowse.test:{port}{p}");
    let expected = vec![
        ("stylesheet", www("/style.css")),
        ("stylesheet", www("/print.css")),
        ("icon", www("/favicon.svg")),
        ("preload", www("/fonts/demo.woff2")),
        ("script", www("/app.js")),
        ("script", www("/lib/helper.js")),
        // srcset "1x, 2x" on a 1x screen: the 1x candidate.
        ("image", www("/img/cat-small.png")),
        // <picture>: the first <source> with a supported type wins over the <img>.
        ("image", www("/img/photo.webp")),
        (
            "image",
            format!("http://cdn.minibrowse.test:{port}/img/logo.svg"),
        ),
        ("frame", www("/frame.html")),
        ("image", www("/img/poster.png")),
        ("media", www("/media/clip.webm")),
        ("image", www("/img/missing.png")),
        // Found by walking the frame's own document.
        ("stylesheet", www("/frame.css")),
    ];
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(k, u)| (k.to_string(), u))
        .collect();
    assert_eq!(found, expected);

    // Each URL is requested once, although cat-small.png is referenced twice; links are not fetched.
    let mut requests: HashMap<String, usize> = HashMap::new();
    for e in &load.events {
        if let EventKind::Request { url, .. } = &e.kind {
            *requests.entry(url.clone()).or_default() += 1;
        }
    }
    assert_eq!(requests.len(), 1 + expected.len(), "{requests:?}");
    assert!(requests.values().all(|n| *n == 1), "{requests:?}");
    assert!(!requests.contains_key(&www("/img/cat-large.png")));
    assert!(
        !requests.contains_key(&www("/redirect-demo.html")),
        "rel=next is navigation, not an asset"
    );

    // The missing image is a 404, which does not fail the page.
    let missing = load.request_for("/img/missing.png").expect("requested");
    assert!(load
        .of_request(missing)
        .iter()
        .any(|k| matches!(k, EventKind::Response { status: 404, .. })));
    assert!(load.page().problems.is_empty());
    assert_eq!(load.page().assets.len(), expected.len());

    // The CDN host is reached through its CNAME chain.
    let cdn = load.request_for("/img/logo.svg").expect("requested");
    // Its A question (the AAAA one, asked first, finds the chain but no IPv6 address).
    let Some(EventKind::Dns { records, .. }) = load
        .of_request(cdn)
        .into_iter()
        .find(|k| matches!(k, EventKind::Dns { record_type, .. } if record_type == "A"))
    else {
        panic!("cdn's A question")
    };
    let chain: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| (r.name.as_str(), r.record_type.as_str(), r.data.as_str()))
        .collect();
    assert_eq!(
        chain,
        vec![
            ("cdn.minibrowse.test.", "CNAME", "static.minibrowse.test."),
            ("static.minibrowse.test.", "A", "127.0.0.1")
        ]
    );

    // Like a browser: at most six connections to one host, and they are reused.
    let connections = load.count("connect");
    let www_connections = load
        .events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Connect { .. }))
        .filter(|e| load.of_request(e.request.unwrap_or(0)).iter().any(|k| matches!(k, EventKind::Request { url, .. } if url.contains("www.minibrowse.test"))))
        .count();
    assert!(www_connections <= 6, "{www_connections} connections to www");
    assert!(load.count("reuse") >= 1);
    assert_eq!(connections + load.count("reuse"), load.count("request"));
}

#[test]
fn a_reused_connection_needs_no_dns_and_no_connect() {
    let world = world();
    let mut opts = options(&world);
    opts.fetch_assets = false;
    let browser = Browser::new(opts).expect("browser");
    let first = load_in(&browser, &world.url("/new-page.html"));
    assert_eq!(first.count("connect"), 1);
    let second = load_in(&browser, &world.url("/encoding.html"));
    assert_eq!(second.count("dns"), 0);
    assert_eq!(second.count("connect"), 0);
    let reuse = second.events.iter().find_map(|e| match &e.kind {
        EventKind::Reuse {
            conn,
            requests_before,
        } => Some((*conn, *requests_before)),
        _ => None,
    });
    assert_eq!(reuse, Some((1, 1)));
}

#[test]
fn dns_answers_are_cached_within_their_ttl() {
    let world = world();
    let mut opts = options(&world);
    opts.fetch_assets = false;
    // Close the connection between loads so the second load has to connect, and so resolve.
    opts.http
        .headers
        .push(("Connection".into(), "close".into()));
    let browser = Browser::new(opts).expect("browser");
    let first = load_in(&browser, &world.url("/"));
    // Another page: "/" again would come from the HTTP cache, with no lookup at all.
    let second = load_in(&browser, &world.url("/new-page.html"));
    let cached = |l: &common::Load| {
        l.events.iter().find_map(|e| match &e.kind {
            EventKind::Dns {
                cached,
                records,
                record_type,
                ..
            } if record_type == "A" => Some((*cached, records[0].ttl)),
            _ => None,
        })
    };
    assert_eq!(cached(&first), Some((false, 300)));
    let (was_cached, ttl) = cached(&second).expect("a DNS step");
    assert!(was_cached);
    assert!(ttl <= 300);
    // The server really was asked only once for each type (AAAA, A).
    let asked = world
        .dns_queries()
        .iter()
        .filter(|q| q.name == "www.minibrowse.test.")
        .count();
    assert_eq!(asked, 2);
}

#[test]
fn redirect_is_its_own_hop() {
    let world = world();
    let load = load(&world, "/old-page");
    let redirect = load.events.iter().find_map(|e| match &e.kind {
        EventKind::Redirect {
            status,
            location,
            next_url,
            hop,
            ..
        } => Some((e.request, *status, location.clone(), next_url.clone(), *hop)),
        _ => None,
    });
    let port = world.http_addr.port();
    assert_eq!(
        redirect,
        Some((
            Some(1),
            301,
            "/new-page.html".to_string(),
            format!("http://www.minibrowse.test:{port}/new-page.html"),
            1
        ))
    );
    // The next hop is request 2, on the same connection.
    assert!(matches!(
        load.of_request(2)[0],
        EventKind::Reuse { conn: 1, .. }
    ));
    assert!(load
        .of_request(2)
        .iter()
        .any(|k| matches!(k, EventKind::Response { status: 200, .. })));
    let page = load.page();
    assert!(page.url.as_str().ends_with("/new-page.html"));
    assert_eq!(page.status, Some(200));
}

#[test]
fn redirect_loop_gives_up_after_twenty_hops() {
    let world = world();
    let load = load(&world, "/loop");
    let error = load.error();
    assert_eq!(error.step, Step::Redirect);
    assert!(error.message.contains("redirect loop"), "{}", error.message);
    assert_eq!(load.count("redirect"), 20);
    assert_eq!(load.count("request"), 21);
}

#[test]
fn gzip_body_is_decoded_and_both_sizes_are_reported() {
    let world = world();
    let load = load(&world, "/compressed.html");
    let body = load.of_request(1).into_iter().find_map(|k| match k {
        EventKind::Body {
            wire_bytes,
            decoded_bytes,
            content_encoding,
            ..
        } => Some((*wire_bytes, *decoded_bytes, content_encoding.clone())),
        _ => None,
    });
    let (wire, decoded, encoding) = body.expect("a body step");
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert_eq!(decoded, fixture("compressed.html").len() as u64);
    assert!(
        wire < decoded / 2 + 200,
        "{wire} on the wire for {decoded} decoded"
    );
    let response_head = load.of_request(1).into_iter().find_map(|k| match k {
        EventKind::Response { head, .. } => Some(head.clone()),
        _ => None,
    });
    assert!(response_head
        .unwrap_or_default()
        .contains("content-encoding: gzip"));
    assert!(load.dump().contains("Content-Encoding"));
}

#[test]
fn not_found_is_a_page_not_a_failure() {
    let world = world();
    let load = load(&world, "/no-such-page");
    let page = load.page();
    assert_eq!(page.status, Some(404));
    assert!(load.dump().contains("404"));
    assert_eq!(load.count("failed"), 0);
}

#[test]
fn cookie_set_by_one_page_is_sent_back_on_the_next() {
    let world = world();
    let browser = Browser::new(options(&world)).expect("browser");
    let first = load_in(&browser, &world.url("/cookie.html"));
    let set_cookie = first.of_request(1).into_iter().any(|k| {
        matches!(k, EventKind::Response { head, .. } if head.contains("set-cookie: visitor=student; Path=/; HttpOnly"))
    });
    assert!(set_cookie);
    let second = load_in(&browser, &world.url("/cookie-check"));
    let sent = second.events.iter().find_map(|e| match &e.kind {
        EventKind::Request { head, .. } => Some(head.clone()),
        _ => None,
    });
    assert!(sent
        .unwrap_or_default()
        .contains("cookie: visitor=student\r\n"));
    assert!(second.dump().contains("Cookie: visitor=student"));
}

#[test]
fn legacy_encoding_is_found_by_the_meta_prescan() {
    let world = world();
    let load = load(&world, "/latin1.html");
    let parse = load.events.iter().find_map(|e| match &e.kind {
        EventKind::Parse {
            encoding,
            encoding_source,
            ..
        } => Some((encoding.clone(), encoding_source.clone())),
        _ => None,
    });
    assert_eq!(
        parse,
        Some((
            "windows-1252".into(),
            "<meta> in the first 1024 bytes".into()
        ))
    );
    let dump = load.dump();
    assert!(dump.contains("café") && dump.contains('€'), "{dump}");
}

#[test]
fn plain_text_is_shown_as_text_not_parsed() {
    let world = world();
    let load = load(&world, "/text.txt");
    let page = load.page();
    assert!(matches!(page.content, Content::Text(_)));
    assert_eq!(load.count("parse"), 0);
    let expected = String::from_utf8(fixture("text.txt")).expect("utf-8");
    assert_eq!(load.dump().trim_end(), expected.trim_end());
}

#[test]
fn binary_content_is_described_not_dumped() {
    let world = world();
    let load = load(&world, "/img/cat-small.png");
    let dump = load.dump();
    assert!(dump.contains("image/png"), "{dump}");
    assert!(dump.contains(&format!("{} bytes", fixture("img/cat-small.png").len())));
}

#[test]
fn local_file_needs_no_dns_and_no_http() {
    let path = format!("{}/fixtures/site/new-page.html", env!("CARGO_MANIFEST_DIR"));
    let load = load_with(minibrowse::page::Options::default(), &path);
    assert_eq!(load.names()[..2], ["start", "local_file"]);
    assert_eq!(
        load.count("dns") + load.count("connect") + load.count("request"),
        0
    );
    let EventKind::Start { url, note, .. } = &load.events[0].kind else {
        panic!("start")
    };
    assert!(url.starts_with("file:///"));
    assert!(note.as_deref().unwrap_or_default().contains("no DNS"));
    assert!(!load.dump().is_empty());
}

#[test]
fn file_assets_from_a_remote_page_are_refused() {
    let world = world();
    let load = load(&world, "/errors/file-asset");
    let refused = load.events.iter().find_map(|e| match &e.kind {
        EventKind::AssetRefused { url, reason, .. } => Some((url.clone(), reason.clone())),
        _ => None,
    });
    let (url, reason) = refused.expect("the file: image is refused");
    assert_eq!(url, "file:///etc/passwd");
    assert!(reason.contains("local files"));
    assert_eq!(load.count("request"), 1);
}

#[test]
fn hostile_text_never_reaches_the_output_raw() {
    let world = world();
    let load = load(&world, "/errors/hostile");
    let dump = minibrowse::views::dump::dump(load.page(), false);
    for bad in ['\u{1b}', '\u{9b}', '\u{202e}', '\u{2067}', '\u{7}'] {
        assert!(!dump.contains(bad), "{bad:?} in {dump:?}");
    }
    assert!(dump.contains("\\x1b[2J"), "{dump}");
    assert!(dump.contains("\\u{202e}"), "{dump}");
    for event in &load.events {
        let text = minibrowse::views::trace_text::format_event(event, true);
        assert!(!text.chars().any(minibrowse::text::is_unsafe), "{text:?}");
        let json = minibrowse::views::json::event_line(event);
        assert!(
            !json
                .chars()
                .any(|c| minibrowse::text::is_unsafe(c) || c.is_control()),
            "{json:?}"
        );
    }
}

#[test]
fn ipv6_only_name_loads_over_the_ipv6_loopback() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let world = world();
    let port = world.http_addr.port();
    let load = load_with(
        options(&world),
        &format!("http://v6.minibrowse.test:{port}/new-page.html"),
    );
    let remote = load.events.iter().find_map(|e| match &e.kind {
        EventKind::Connect { remote, .. } => Some(remote.clone()),
        _ => None,
    });
    assert_eq!(remote, Some(format!("[::1]:{port}")));
    assert_eq!(load.page().status, Some(200));
}

/// The demo's /echo says what the server received: the other side of `--data` and `-X`.
#[test]
fn echo_shows_the_method_the_headers_and_the_body_the_server_received() {
    let world = world();
    let mut opts = common::options(&world);
    opts.request = minibrowse::net::RequestSpec {
        method: "PATCH".into(),
        body: Some((
            b"q=cats&page=2".to_vec(),
            "application/x-www-form-urlencoded".into(),
        )),
    };
    let load = common::load_with(opts, &world.url("/echo?from=test"));
    let text = load.page().layout.to_text(false);
    assert!(text.contains("PATCH /echo?from=test"), "{text}");
    assert!(
        text.contains("content-type: application/x-www-form-urlencoded"),
        "{text}"
    );
    assert!(text.contains("q=cats&page=2"), "{text}");
    assert!(text.contains("(13 bytes of body)"), "{text}");
    // A plain load is a GET with no body.
    let text = common::load(&world, "/echo").page().layout.to_text(false);
    assert!(
        text.contains("GET /echo") && text.contains("(no body)"),
        "{text}"
    );
}
