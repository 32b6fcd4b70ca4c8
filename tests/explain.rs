//! Every explanation true to what happened (issue 13): each event kind's sentence names the
//! values it was given, says what each status means with the head's own values, counts in
//! the singular and the plural, and a WebSocket's frames are traced in the order they crossed
//! the wire (a ping received before the pong that answers it), against a raw server and the
//! demo world's own.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use minibrowse::net::ws::{self, Incoming};
use minibrowse::page::Browser;
use minibrowse::trace::{
    explain, CertSummary, Collector, CookieSet, DnsRecord, Event, EventKind, LayoutDuringParse,
    PollAnswer, Step, Trace,
};

fn says(kind: &EventKind, wanted: &[&str]) -> String {
    let sentence = explain(kind);
    for w in wanted {
        assert!(
            sentence.contains(w),
            "{kind:?}\nshould name {w:?}:\n{sentence}"
        );
    }
    sentence
}

fn never(sentence: &str, unwanted: &[&str]) {
    for u in unwanted {
        assert!(!sentence.contains(u), "should not say {u:?}:\n{sentence}");
    }
}

fn response(status: u16, reason: &str, headers: &[(&str, &str)], ttfb_ms: f64) -> EventKind {
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    EventKind::Response {
        status,
        reason: reason.into(),
        version: "HTTP/1.1".into(),
        head,
        ttfb_ms,
        url: None,
    }
}

fn record(name: &str, record_type: &str, ttl: u32, data: &str) -> DnsRecord {
    DnsRecord {
        name: name.into(),
        record_type: record_type.into(),
        ttl,
        data: data.into(),
    }
}

fn frame(direction: &str, opcode: &str, length: u64, preview: &str, reply: bool) -> EventKind {
    EventKind::WsFrame {
        direction: direction.into(),
        opcode: opcode.into(),
        fin: true,
        length,
        masked: direction == "sent",
        preview: preview.into(),
        reply,
    }
}

fn stats(via: &str, messages: u64, requests: u64, poll: Option<PollAnswer>) -> EventKind {
    EventKind::ChatStats {
        via: via.into(),
        messages,
        requests,
        header_bytes: 561,
        poll,
    }
}

fn poll(wait_ms: f64, answered_ms: f64, messages: u64, leaving: bool) -> PollAnswer {
    PollAnswer {
        wait_ms,
        answered_ms,
        messages,
        leaving,
    }
}

/// One event of each kind, with values a sentence must name.
fn one_of_each() -> Vec<(EventKind, Vec<&'static str>)> {
    let cookie = CookieSet {
        name: "visits".into(),
        value: "3".into(),
        path: Some("/cookie-check".into()),
        max_age: Some(3600),
        outcome: "stored".into(),
        ..CookieSet::default()
    };
    vec![
        (
            EventKind::Start {
                input: "example".into(),
                url: "http://example/".into(),
                note: Some("http:// assumed".into()),
            },
            vec!["http://example/", "http:// assumed"],
        ),
        (
            EventKind::LocalFile {
                path: "page.html".into(),
                bytes: 1234,
                ms: 0.1,
            },
            vec!["page.html", "1234 bytes"],
        ),
        (
            EventKind::Dns {
                host: "www.minibrowse.test".into(),
                record_type: "A".into(),
                server: "127.0.0.1:5353".into(),
                records: vec![record("www.minibrowse.test.", "A", 300, "127.0.0.1")],
                cached: false,
                ms: 1.0,
                outcome: None,
            },
            vec![
                "www.minibrowse.test",
                "127.0.0.1:5353",
                "A record",
                "300 seconds",
            ],
        ),
        (
            EventKind::Connect {
                conn: 1,
                local: "127.0.0.1:40000".into(),
                remote: "127.0.0.1:8080".into(),
                ms: 0.2,
                attempts: Vec::new(),
            },
            vec!["127.0.0.1:8080", "127.0.0.1:40000"],
        ),
        (
            EventKind::Proxy {
                conn: 1,
                proxy: "127.0.0.1:3128".into(),
                source: "--proxy".into(),
                mode: "connect".into(),
                target: "secure.minibrowse.test:443".into(),
                dns_by_proxy: None,
                sent: None,
                received: None,
                ms: 1.0,
            },
            vec!["127.0.0.1:3128", "secure.minibrowse.test:443", "CONNECT"],
        ),
        (
            EventKind::Reuse {
                conn: 4,
                requests_before: 3,
            },
            vec!["#4", "3 earlier requests"],
        ),
        (
            EventKind::Tls {
                conn: 1,
                version: "TLSv1.3".into(),
                cipher: "TLS13_AES_128_GCM_SHA256".into(),
                alpn: None,
                alpn_offered: vec![],
                subject: "CN=secure.minibrowse.test".into(),
                issuer: "CN=minibrowse demo CA".into(),
                not_after: "2027-01-01T00:00:00Z".into(),
                ms: 3.0,
                sni: Some("secure.minibrowse.test".into()),
                chain: vec![CertSummary::default()],
                verified: true,
                verification: "valid".into(),
            },
            vec![
                "TLSv1.3",
                "TLS13_AES_128_GCM_SHA256",
                "CN=secure.minibrowse.test",
                "CN=minibrowse demo CA",
            ],
        ),
        (
            EventKind::Request {
                method: "GET".into(),
                url: "http://www.minibrowse.test/style.css".into(),
                purpose: "stylesheet".into(),
                head: "GET /style.css HTTP/1.1\r\n\r\n".into(),
                begun_ms: 0.0,
                send_ms: 0.1,
                body: None,
            },
            vec![
                "GET",
                "http://www.minibrowse.test/style.css",
                "a stylesheet",
            ],
        ),
        (
            EventKind::CookieSent {
                names: vec!["visits".into(), "theme".into()],
                header: "visits=3; theme=dark".into(),
            },
            vec!["2 cookies", "visits, theme"],
        ),
        (
            EventKind::FormSubmit {
                form: "login".into(),
                submitter: Some("[Sign in]".into()),
                method: "POST".into(),
                action: "http://www.minibrowse.test/login".into(),
                enctype: "multipart/form-data".into(),
                encoding: "UTF-8".into(),
                fields: vec![
                    ("user".into(), "ada".into()),
                    ("password".into(), "***".into()),
                ],
                decided_by: vec!["action".into(), "method".into()],
            },
            vec![
                "[Sign in]",
                "2 named fields",
                "POST",
                "multipart/form-data",
                "only https://",
            ],
        ),
        (
            EventKind::SetCookie(cookie),
            vec!["visits", "/cookie-check", "until it expires"],
        ),
        (
            response(200, "OK", &[("Content-Length", "2842")], 68.7),
            vec!["200 OK", "68.7 ms", "2842 bytes"],
        ),
        (
            EventKind::Body {
                wire_bytes: 900,
                decoded_bytes: 2842,
                content_encoding: Some("gzip".into()),
                content_type: Some("text/html".into()),
                ms: 0.5,
            },
            vec!["gzip", "900 bytes", "2842 bytes", "text/html"],
        ),
        (
            EventKind::Redirect {
                status: 301,
                location: "/new-page".into(),
                next_url: "http://www.minibrowse.test/new-page".into(),
                hop: 1,
                method: None,
                next_method: None,
            },
            vec![
                "301",
                "/new-page",
                "http://www.minibrowse.test/new-page",
                "hop 1",
            ],
        ),
        (
            EventKind::Parse {
                bytes: 2842,
                encoding: "UTF-8".into(),
                encoding_source: "HTTP Content-Type header".into(),
                nodes: 160,
                elements: 61,
                errors: 2,
                error_samples: vec![],
                max_depth: 9,
                flattened: 0,
                stopped: None,
                two_threads: false,
                streamed: false,
                ms: 2.0,
            },
            vec![
                "2842 bytes",
                "UTF-8",
                "HTTP Content-Type header",
                "160 nodes",
                "61 elements",
                "2 errors",
            ],
        ),
        (
            EventKind::AssetFound {
                kind: "media".into(),
                url: "http://www.minibrowse.test/clip.mp4".into(),
                element: "<video src=\"/clip.mp4\">".into(),
                node: 42,
            },
            vec![
                "a media file",
                "<video src=\"/clip.mp4\">",
                "http://www.minibrowse.test/clip.mp4",
            ],
        ),
        (
            EventKind::AssetRefused {
                kind: "script".into(),
                url: "file:///etc/passwd".into(),
                element: "<script src=\"file:///etc/passwd\">".into(),
                reason: "a page from http: may not load file: URLs".into(),
            },
            vec!["a script", "file:///etc/passwd", "may not load file: URLs"],
        ),
        (
            EventKind::Layout {
                width: 80,
                lines: 39,
                links: 12,
                ms: 1.0,
                during_parse: Some(LayoutDuringParse {
                    ms: 0.5,
                    restarted: None,
                }),
            },
            vec![
                "80 columns",
                "39 lines",
                "12 numbered links",
                "while the parser",
            ],
        ),
        (
            EventKind::WsHandshake {
                key: "dGhlIHNhbXBsZSBub25jZQ==".into(),
                accept: Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into()),
                expected: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into(),
                ok: true,
            },
            vec!["dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
        ),
        (
            frame("received", "text", 40, "{\"seq\":1}", false),
            vec!["text frame", "40 bytes", "received"],
        ),
        (
            EventKind::Chat {
                via: "ws".into(),
                direction: "received".into(),
                name: "bob".into(),
                text: "hello".into(),
                message_seq: Some(7),
            },
            vec!["received", "WebSocket", "bob", "#7"],
        ),
        (
            EventKind::Cache(minibrowse::trace::CacheStep {
                action: minibrowse::trace::CacheAction::Fresh,
                method: "GET".into(),
                url: "http://www.minibrowse.test/style.css".into(),
                purpose: "stylesheet".into(),
                reason: "Cache-Control: max-age=300".into(),
                ttl_s: Some(52),
                age_s: Some(248),
                conditions: vec![],
                stored: None,
            }),
            vec!["Cache-Control: max-age=300", "52 s left", "no request"],
        ),
        (
            EventKind::SseEvent {
                event_type: "message".into(),
                data: "{\"seq\":7}".into(),
                data_bytes: 9,
                id: Some("7".into()),
                id_set: true,
                lines: 3,
                number: 2,
            },
            vec![
                "default type, message",
                "9 bytes",
                "3 lines",
                "(7)",
                "Last-Event-ID",
            ],
        ),
        (
            EventKind::SseComment {
                text: "keep-alive".into(),
            },
            vec!["comment", "never sees it"],
        ),
        (
            EventKind::SseRetry {
                retry_ms: 10,
                applied_ms: 500,
            },
            vec!["10 ms", "500 ms"],
        ),
        (
            EventKind::SseSkipped {
                reason: "an event of more than 65536 bytes of data: the event was dropped".into(),
                bytes: 70000,
            },
            vec!["65536 bytes of data", "70000 bytes"],
        ),
        (
            EventKind::SseReconnect {
                attempt: 1,
                delay_ms: 2000,
                reason: "the server ended the stream after 60.0 s".into(),
                last_event_id: Some("18".into()),
            },
            vec![
                "The server ended the stream after 60.0 s",
                "2.0 s",
                "Last-Event-ID: 18",
            ],
        ),
        (
            EventKind::Retry {
                attempt: 3,
                delay_ms: 2000,
                error: "connect: connection refused".into(),
            },
            vec!["3 times in a row", "2.0 s", "connect: connection refused"],
        ),
        (
            stats("poll", 4, 9, None),
            vec!["4 messages", "long polling", "9 HTTP requests", "561 bytes"],
        ),
        (
            EventKind::Failed {
                step: Step::Dns,
                message: "NXDOMAIN: the name does not exist".into(),
                url: None,
            },
            vec!["DNS", "NXDOMAIN: the name does not exist"],
        ),
        (
            EventKind::H2Session {
                conn: 2,
                origin: "https://secure.minibrowse.test:8443".into(),
                why: "ALPN".into(),
            },
            vec!["https://secure.minibrowse.test:8443", "h2", "stream"],
        ),
        (
            EventKind::H2Stream {
                conn: 2,
                stream: 7,
                requests_before: 3,
                open_streams: 2,
            },
            vec!["#2", "stream 7", "2 other streams", "multiplexes"],
        ),
        (
            EventKind::H2Stream {
                conn: 3,
                stream: 1,
                requests_before: 0,
                open_streams: 0,
            },
            vec!["stream 1", "the first of connection #3", "just opened"],
        ),
        (
            EventKind::H2Frame {
                conn: 2,
                direction: "received".into(),
                frame: "RST_STREAM".into(),
                stream: 9,
                flags: vec![],
                length: 4,
                detail: "REFUSED_STREAM".into(),
                frames: 1,
            },
            vec!["The server", "stream 9", "REFUSED_STREAM"],
        ),
        (
            EventKind::H2Closed {
                conn: 2,
                requests: 1,
                reason: "the server sent GOAWAY (last stream 1, NO_ERROR)".into(),
            },
            vec!["1 stream", "GOAWAY (last stream 1, NO_ERROR)"],
        ),
        (
            EventKind::Summary {
                requests: 3,
                from_cache: 0,
                failed: 2,
                wire_bytes: 5000,
                decoded_bytes: 9000,
                ms: 123.4,
                errors: vec![],
            },
            vec![
                "3 requests",
                "2 failures",
                "5000 bytes",
                "9000 bytes",
                "123.4 ms",
            ],
        ),
    ]
}

#[test]
fn every_event_kind_is_explained_with_its_own_values() {
    let events = one_of_each();
    // One of each: a new kind must be added here (common::name lists them all).
    let mut kinds: Vec<&str> = events.iter().map(|(k, _)| common::name(k)).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), 35, "{kinds:?}");
    for (kind, wanted) in &events {
        let sentence = says(kind, wanted);
        assert!(sentence.ends_with('.'), "one finished sentence: {sentence}");
        // A brace would be a placeholder left unfilled.
        never(&sentence, &["{", "}", "  "]);
    }
}

#[test]
fn counts_of_one_are_singular_and_counts_of_two_plural() {
    for (n, noun) in [(1u64, ""), (2, "s")] {
        let request = format!("{n} earlier request{noun} ");
        says(
            &EventKind::Reuse {
                conn: 1,
                requests_before: n as u32,
            },
            &[&request],
        );
        let message = format!("{n} message{noun} by");
        let requests = format!("{n} HTTP request{noun} and");
        let sentence = says(&stats("ws", n, n, None), &[&message, &requests]);
        if n == 1 {
            never(&sentence, &["1 messages", "1 HTTP requests"]);
        }
        let summary = EventKind::Summary {
            requests: n as u32,
            from_cache: 0,
            failed: n as u32,
            wire_bytes: n,
            decoded_bytes: n,
            ms: 1.0,
            errors: vec![],
        };
        let (requests, failures, bytes) = (
            format!("{n} request{noun} made"),
            format!("{n} failure{noun}"),
            format!("{n} byte{noun} on the wire"),
        );
        says(&summary, &[&requests, &failures, &bytes]);
        let cookies = format!("{n} cookie{noun} in its jar");
        says(
            &EventKind::CookieSent {
                names: (0..n).map(|i| format!("c{i}")).collect(),
                header: String::new(),
            },
            &[&cookies],
        );
        let (lines, links) = (
            format!("{n} line{noun},"),
            format!("{n} numbered link{noun}."),
        );
        says(
            &EventKind::Layout {
                width: 80,
                lines: n,
                links: n,
                ms: 1.0,
                during_parse: None,
            },
            &[&lines, &links],
        );
        let errors = format!("{n} error{noun};");
        let (it, nodes) = (
            if n == 1 {
                "repaired it"
            } else {
                "repaired them"
            },
            format!("{n} node{noun} ({n} element{noun})"),
        );
        says(
            &EventKind::Parse {
                bytes: n,
                encoding: "UTF-8".into(),
                encoding_source: "default".into(),
                nodes: n,
                elements: n,
                errors: n,
                error_samples: vec![],
                max_depth: 1,
                flattened: 0,
                stopped: None,
                two_threads: false,
                streamed: false,
                ms: 1.0,
            },
            &[&errors, it, &nodes],
        );
        let hops = format!("{n} alias hop{noun} ");
        let mut records: Vec<DnsRecord> = (0..n)
            .map(|i| record(&format!("alias{i}."), "CNAME", 60, "next."))
            .collect();
        records.push(record("real.", "A", 1, "10.0.0.1"));
        says(
            &EventKind::Dns {
                host: "alias0".into(),
                record_type: "A".into(),
                server: "10.0.0.53:53".into(),
                records,
                cached: false,
                ms: 1.0,
                outcome: None,
            },
            &[&hops, "(1 second)"],
        );
        let frame_bytes = format!("of {n} byte{noun} was");
        says(&frame("sent", "text", n, "x", false), &[&frame_bytes]);
    }
}

#[test]
fn each_kind_of_asset_has_its_own_noun_and_article() {
    for (kind, noun) in [
        ("stylesheet", "a stylesheet"),
        ("script", "a script"),
        ("icon", "an icon"),
        ("preload", "a file to fetch early (preload)"),
        ("image", "an image"),
        ("frame", "another page shown inside it (a frame)"),
        ("media", "a media file"),
        ("object", "an embedded object"),
        ("font", "a font"),
    ] {
        let sentence = says(
            &EventKind::AssetFound {
                kind: kind.into(),
                url: "http://x.test/a".into(),
                element: "<x>".into(),
                node: 1,
            },
            &[noun],
        );
        never(&sentence, &["a media it", "a image", "a icon", "a object"]);
    }
}

/// A status, its reason, the head's fields, and what the sentence must say.
type StatusCase = (
    u16,
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<&'static str>,
);

#[test]
fn every_status_says_what_it_means_with_the_heads_values() {
    let located = [("Location", "https://elsewhere.test/new")];
    let cases: Vec<StatusCase> = vec![
        (100, "Continue", vec![], vec!["send the request's body", "real answer follows"]),
        (
            101,
            "Switching Protocols",
            vec![("Upgrade", "websocket"), ("Connection", "Upgrade")],
            vec!["no body", "websocket", "Upgrade header", "instead of HTTP"],
        ),
        (102, "Processing", vec![], vec!["still working", "real answer follows"]),
        (
            103,
            "Early Hints",
            vec![("Link", "</style.css>; rel=preload; as=style")],
            vec!["Early Hints", "preload", "</style.css>", "real answer, which follows"],
        ),
        (199, "", vec![], vec!["199", "interim", "not a code HTTP defines"]),
        (200, "OK", vec![("Content-Length", "12")], vec!["here is what was asked for", "body that follows", "12 bytes"]),
        (201, "Created", vec![("Location", "/items/7")], vec!["Created: the request made something new", "/items/7"]),
        (202, "Accepted", vec![], vec!["not done yet"]),
        (204, "No Content", vec![], vec!["nothing to send back", "no body"]),
        (205, "Reset Content", vec![], vec!["clear the form", "no body"]),
        (
            206,
            "Partial Content",
            vec![("Content-Range", "bytes 0-99/1000")],
            vec!["byte range", "bytes 0-99/1000"],
        ),
        (299, "", vec![], vec!["299", "counts as 200 OK"]),
        (300, "Multiple Choices", located.to_vec(), vec!["several versions", "https://elsewhere.test/new"]),
        (301, "Moved Permanently", located.to_vec(), vec!["for good", "POST into a GET", "https://elsewhere.test/new"]),
        (302, "Found", located.to_vec(), vec!["for now", "POST into a GET", "https://elsewhere.test/new"]),
        (303, "See Other", located.to_vec(), vec!["always fetched with a GET", "https://elsewhere.test/new"]),
        (304, "Not Modified", vec![], vec!["cache is still good", "no body"]),
        (307, "Temporary Redirect", located.to_vec(), vec!["for now", "same method and the same body", "https://elsewhere.test/new"]),
        (308, "Permanent Redirect", located.to_vec(), vec!["for good", "same method and the same body", "https://elsewhere.test/new"]),
        (399, "", located.to_vec(), vec!["399", "counts as 300 Multiple Choices", "https://elsewhere.test/new"]),
        (400, "Bad Request", vec![], vec!["could not understand"]),
        (
            401,
            "Unauthorized",
            vec![("WWW-Authenticate", "Basic realm=\"class\"")],
            vec!["Authentication needed", "WWW-Authenticate: Basic realm=\"class\""],
        ),
        (403, "Forbidden", vec![], vec!["Forbidden: the server understood"]),
        (404, "Not Found", vec![], vec!["nothing at this path"]),
        (405, "Method Not Allowed", vec![("Allow", "GET, HEAD")], vec!["not allowed", "Allow: GET, HEAD"]),
        (408, "Request Timeout", vec![], vec!["waited too long"]),
        (410, "Gone", vec![], vec!["removed for good"]),
        (413, "Content Too Large", vec![], vec!["body is larger"]),
        (414, "URI Too Long", vec![], vec!["URL is longer"]),
        (429, "Too Many Requests", vec![("Retry-After", "1")], vec!["slow down", "1 second"]),
        (499, "", vec![], vec!["499", "counts as 400 Bad Request"]),
        (500, "Internal Server Error", vec![], vec!["the server itself failed"]),
        (501, "Not Implemented", vec![], vec!["does not support"]),
        (
            502,
            "Bad Gateway",
            vec![("Via", "1.1 minibrowse-demo-proxy")],
            vec!["the server in between (a gateway or proxy) got no valid answer from the server behind it", "Via: 1.1 minibrowse-demo-proxy"],
        ),
        (503, "Service Unavailable", vec![("Retry-After", "120")], vec!["overloaded", "120 seconds"]),
        (504, "Gateway Timeout", vec![], vec!["the server in between (a gateway or proxy) did not get an answer in time"]),
        (599, "", vec![], vec!["599", "counts as 500 Internal Server Error"]),
        (999, "", vec![], vec!["999", "outside its five classes"]),
    ];
    for (status, reason, headers, wanted) in cases {
        let kind = response(status, reason, &headers, 12.5);
        let status_text = status.to_string();
        let mut all = wanted.clone();
        all.extend([status_text.as_str(), "12.5 ms"]);
        if !reason.is_empty() {
            all.push(reason);
        }
        let sentence = says(&kind, &all);
        never(&sentence, &["  ", ". .", "::"]);
        if status < 200 || matches!(status, 204 | 205 | 304) {
            never(&sentence, &["body that follows"]);
        }
    }
}

#[test]
fn a_redirect_without_a_location_says_there_is_nowhere_to_go() {
    says(
        &response(302, "Found", &[], 1.0),
        &["no Location header", "nowhere to go"],
    );
}

#[test]
fn what_the_head_says_of_the_body_is_said() {
    says(
        &response(200, "OK", &[("Content-Length", "0")], 1.0),
        &["the body is empty (Content-Length: 0)"],
    );
    says(
        &response(
            200,
            "OK",
            &[
                ("Transfer-Encoding", "chunked"),
                ("Content-Type", "text/html"),
            ],
            1.0,
        ),
        &["body that follows", "chunked", "text/html"],
    );
    says(
        &response(200, "OK", &[], 1.0),
        &["ends when the server closes the connection"],
    );
    // A long wait is said in seconds; an interim head before the final one is named.
    let mut with_hints = response(200, "OK", &[("Content-Length", "5")], 4312.0);
    if let EventKind::Response { head, .. } = &mut with_hints {
        head.insert_str(
            0,
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
        );
    }
    says(
        &with_hints,
        &["after 4.3 s", "after an interim 103 Early Hints", "5 bytes"],
    );
}

#[test]
fn a_redirect_says_which_method_the_next_request_uses() {
    let hop = |status: u16, methods: Option<(&str, &str)>| EventKind::Redirect {
        status,
        location: "/next".into(),
        next_url: "http://www.minibrowse.test/next".into(),
        hop: 2,
        method: methods.map(|m| m.0.to_string()),
        next_method: methods.map(|m| m.1.to_string()),
    };
    for status in [301, 302] {
        // A trace from before the methods were recorded reads as GET.
        says(
            &hop(status, None),
            &[
                "this request was a GET, so the next is a GET too",
                "Only a POST would change",
                "sends a GET for http://www.minibrowse.test/next",
                "hop 2",
                "Location: /next",
            ],
        );
        says(
            &hop(status, Some(("POST", "GET"))),
            &["a POST becomes a GET", "without the body", "sends a GET"],
        );
    }
    says(
        &hop(303, Some(("PUT", "GET"))),
        &[
            "whatever this one was",
            "was a PUT, so the next is a GET",
            "sends a GET",
        ],
    );
    for status in [307, 308] {
        says(
            &hop(status, Some(("POST", "POST"))),
            &[
                "same method and body",
                "was a POST, so the next is a POST too",
                "sends a POST",
            ],
        );
    }
    let meta = says(
        &EventKind::Redirect {
            status: 200,
            location: "<meta http-equiv=\"refresh\">".into(),
            next_url: "http://www.minibrowse.test/after".into(),
            hop: 1,
            method: None,
            next_method: None,
        },
        &[
            "its answer was 200, not a redirect",
            "<meta http-equiv=\"refresh\">",
            "http://www.minibrowse.test/after",
        ],
    );
    never(&meta, &["A 200 redirect"]);
}

#[test]
fn the_chats_requests_say_what_they_ask_for() {
    let get = |url: &str| EventKind::Request {
        method: "GET".into(),
        url: url.into(),
        purpose: "fetch".into(),
        head: String::new(),
        begun_ms: 0.0,
        send_ms: 0.0,
        body: None,
    };
    says(
        &get("http://www.minibrowse.test:8080/chat/poll?since=3&wait=20.000"),
        &["long poll", "after #3", "up to 20.0 s", "wait=20"],
    );
    says(
        &get("http://www.minibrowse.test:8080/chat/poll?since=0&wait=0.000"),
        &["joins the chat", "wait=0", "at once"],
    );
    says(
        &get("http://www.minibrowse.test:8080/chat/messages"),
        &["recent messages", "only when it asks again"],
    );
    says(
        &EventKind::Request {
            method: "POST".into(),
            url: "http://www.minibrowse.test:8080/chat/send".into(),
            purpose: "fetch".into(),
            head: String::new(),
            begun_ms: 0.0,
            send_ms: 0.0,
            body: None,
        },
        &["POST", "sends a chat message", "then the body"],
    );
    says(
        &EventKind::Request {
            method: "GET".into(),
            url: "ws://www.minibrowse.test:8080/chat/ws".into(),
            purpose: "websocket".into(),
            head: String::new(),
            begun_ms: 0.0,
            send_ms: 0.0,
            body: None,
        },
        &["WebSocket", "Upgrade", "Sec-WebSocket-Key"],
    );
}

#[test]
fn a_held_poll_says_how_long_it_was_held_and_why_it_answered() {
    let held = says(
        &stats("poll", 3, 5, Some(poll(20_000.0, 4300.0, 1, false))),
        &[
            "held the poll 4.3 s",
            "until a message arrived",
            "asks again at once",
            "3 messages",
        ],
    );
    never(&held, &["here is what"]);
    says(
        &stats("poll", 3, 6, Some(poll(20_000.0, 6100.0, 2, false))),
        &["held the poll 6.1 s", "answered with 2 messages"],
    );
    says(
        &stats("poll", 3, 7, Some(poll(20_000.0, 20_004.0, 0, false))),
        &[
            "held the poll 20.0 s",
            "the 20.0 s the client allowed",
            "nothing new",
            "empty list []",
            "asks again",
        ],
    );
    let last = says(
        &stats("poll", 3, 8, Some(poll(1500.0, 1502.0, 0, true))),
        &["1.5 s", "visit is over", "leaves instead of asking again"],
    );
    never(&last, &["fail", "wrong"]);
    says(
        &stats("poll", 0, 1, Some(poll(0.0, 3.2, 0, false))),
        &["Joining (wait=0)", "at once (3.2 ms)", "empty list []"],
    );
    says(
        &stats("poll", 1, 1, Some(poll(0.0, 3.2, 1, false))),
        &["Joining (wait=0)", "what was said before: 1 message."],
    );
    says(
        &stats("poll", 2, 4, Some(poll(20_000.0, 2.0, 2, false))),
        &[
            "at once (2.0 ms)",
            "2 messages newer than the last one seen were already there",
        ],
    );
    says(
        &stats("poll", 0, 4, Some(poll(20_000.0, 2.0, 0, false))),
        &[
            "after only 2.0 ms",
            "up to 20.0 s",
            "pause before it asks again",
        ],
    );
}

#[test]
fn refreshing_is_not_called_a_websocket() {
    let chat = says(
        &EventKind::Chat {
            via: "refresh".into(),
            direction: "received".into(),
            name: "tim".into(),
            text: "news".into(),
            message_seq: Some(2),
        },
        &["refreshing", "tim"],
    );
    never(&chat, &["WebSocket", "long polling"]);
    let cost = says(
        &stats("refresh", 1, 3, None),
        &["refreshing", "3 HTTP requests"],
    );
    never(&cost, &["WebSocket"]);
}

#[test]
fn ping_pong_and_the_close_handshake_are_told_as_they_happened() {
    says(
        &frame("received", "ping", 12, "still there?", false),
        &[
            "The server sent a ping",
            "12 bytes",
            "still there?",
            "must answer with a pong",
        ],
    );
    says(
        &frame("sent", "pong", 12, "still there?", true),
        &[
            "The browser answered the server's ping",
            "12 bytes",
            "still there?",
        ],
    );
    says(
        &frame("received", "pong", 0, "", false),
        &["no ping to answer"],
    );
    // The browser leaves: its close, then the server's answer. A normal end.
    for (direction, reply, wanted) in [
        ("sent", false, "The browser is ending the WebSocket"),
        (
            "received",
            true,
            "The server answered the browser's close frame",
        ),
        ("received", false, "The server is ending the WebSocket"),
        (
            "sent",
            true,
            "The browser answered the server's close frame",
        ),
    ] {
        let sentence = says(
            &frame(direction, "close", 5, "code 1000 bye", reply),
            &[
                wanted,
                "code 1000",
                "normal closure",
                "\"bye\"",
                "A normal end, not a failure.",
            ],
        );
        never(&sentence, &["failed", "went wrong", "body that follows"]);
    }
    let broken = says(
        &frame("received", "close", 2, "code 1011 ", false),
        &["code 1011", "unexpected failure on the server"],
    );
    never(&broken, &["normal end"]);
}

// The frame order against real servers.

/// The frames of a trace: (direction, opcode, reply), in trace order.
fn frames(events: &[Event]) -> Vec<(String, String, bool)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::WsFrame {
                direction,
                opcode,
                reply,
                ..
            } => Some((direction.clone(), opcode.clone(), *reply)),
            _ => None,
        })
        .collect()
}

fn position(frames: &[(String, String, bool)], direction: &str, opcode: &str) -> usize {
    frames
        .iter()
        .position(|(d, o, _)| d == direction && o == opcode)
        .unwrap_or_else(|| panic!("no {direction} {opcode} frame in {frames:?}"))
}

/// A server written here: accepts the upgrade, pings, waits for the pong, then closes.
#[test]
fn a_ping_received_is_traced_before_the_pong_that_answers_it() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
            stream.read_exact(&mut byte).expect("the upgrade request");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("a key")
            .trim()
            .to_string();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let answer = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");
        stream.write_all(answer.as_bytes()).expect("101");
        // A ping, then the client's masked pong: 2 header bytes, 4 of mask, 4 of payload.
        stream
            .write_all(&[0x89, 4, b'b', b'e', b'a', b't'])
            .expect("ping");
        let mut pong = [0u8; 10];
        stream.read_exact(&mut pong).expect("the pong");
        // Then the server ends it: its close (1000), and the client's answer.
        stream.write_all(&[0x88, 2, 0x03, 0xe8]).expect("close");
        let mut close = [0u8; 8];
        let answered = stream.read_exact(&mut close).is_ok();
        (pong[0], answered.then_some(close[0]))
    });
    let browser = Browser::new(minibrowse::page::Options::default()).expect("browser");
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    let url = url::Url::parse(&format!("ws://127.0.0.1:{port}/")).expect("url");
    let mut client = ws::connect(browser.client(), &url, Duration::from_secs(5), &trace)
        .expect("the handshake works");
    let mut closed = false;
    for _ in 0..20 {
        if let Ok(Some(Incoming::Closed(code))) = client.read(Duration::from_millis(250)) {
            assert_eq!(code, Some(1000));
            closed = true;
            break;
        }
    }
    assert!(closed, "the server's close arrives");
    let (pong, close) = server.join().expect("server");
    assert_eq!(pong, 0x8a, "the client answered with a pong");
    assert_eq!(close, Some(0x88), "the client answered the close");
    let events = collector.events();
    let frames = frames(&events);
    assert!(
        position(&frames, "received", "ping") < position(&frames, "sent", "pong"),
        "{frames:?}"
    );
    assert!(
        position(&frames, "received", "close") < position(&frames, "sent", "close"),
        "{frames:?}"
    );
    assert_eq!(
        frames,
        vec![
            ("received".into(), "ping".into(), false),
            ("sent".into(), "pong".into(), true),
            ("received".into(), "close".into(), false),
            ("sent".into(), "close".into(), true),
        ]
    );
    let explained: Vec<String> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::WsFrame { .. }))
        .map(|e| explain(&e.kind))
        .collect();
    assert!(
        explained[1].contains("answered the server's ping"),
        "{explained:?}"
    );
    assert!(
        explained[2].contains("The server is ending the WebSocket"),
        "{explained:?}"
    );
    assert!(
        explained[3].contains("The browser answered the server's close frame"),
        "{explained:?}"
    );
}

/// The demo world's chat pings an idle WebSocket every 10 s: `minibrowse ws --json` stays
/// 10.6 s and must show the ping, then the pong, then the close handshake it began.
#[test]
fn the_demo_worlds_ping_comes_before_our_pong_in_the_json() {
    let world = common::world();
    let url = world.url("/chat/ws").replacen("http://", "ws://", 1);
    let output = Command::new(env!("CARGO_BIN_EXE_minibrowse"))
        .args([
            "ws",
            "--json",
            "--wait",
            "10.6",
            "--dns-server",
            &world.dns_addr.to_string(),
            &url,
        ])
        .output()
        .expect("minibrowse runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Vec<Event> = stdout
        .lines()
        .filter(|l| l.contains("\"event\""))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let frames = frames(&events);
    let (ping, pong) = (
        position(&frames, "received", "ping"),
        position(&frames, "sent", "pong"),
    );
    assert!(ping < pong, "{frames:?}");
    assert!(
        frames[pong].2,
        "the pong is marked as the answer: {frames:?}"
    );
    let (ours, theirs) = (
        position(&frames, "sent", "close"),
        position(&frames, "received", "close"),
    );
    assert!(pong < ours && ours < theirs, "{frames:?}");
    assert!(
        frames[theirs].2,
        "the server's close answers ours: {frames:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Failed { .. })),
        "a normal end: {stdout}"
    );
    let pong_event = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::WsFrame { .. }))
        .nth(pong)
        .expect("the pong");
    assert!(
        explain(&pong_event.kind).contains(
            "answered the server's ping with a pong carrying the same 12 bytes (\"still there?\")"
        ),
        "{}",
        explain(&pong_event.kind)
    );
}

/// The answer to a held long poll says the wait was the server holding it, not a slow
/// server, and that the client asks again.
#[test]
fn a_held_polls_answer_says_it_was_held() {
    let held = EventKind::Response {
        status: 200,
        reason: "OK".into(),
        version: "HTTP/1.1".into(),
        head: "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 41\r\n\r\n"
            .into(),
        ttfb_ms: 4309.97,
        url: Some("http://www.minibrowse.test:8080/chat/poll?since=2&wait=7.995".into()),
    };
    let text = explain(&held);
    assert!(text.contains("held this long poll 4.3 s"), "{text}");
    assert!(text.contains("asks again"), "{text}");
    assert!(!text.contains("here is what was asked for"), "{text}");
    // Any other 200 reads as before.
    let EventKind::Response { head, .. } = &held else {
        unreachable!()
    };
    let page = EventKind::Response {
        status: 200,
        reason: "OK".into(),
        version: "HTTP/1.1".into(),
        head: head.clone(),
        ttfb_ms: 4309.97,
        url: Some("http://www.minibrowse.test:8080/index.html".into()),
    };
    assert!(explain(&page).contains("here is what was asked for"));
}

#[test]
fn a_remembered_none_is_not_called_an_address() {
    let sentence = says(
        &EventKind::Dns {
            host: "www.minibrowse.test".into(),
            record_type: "AAAA".into(),
            server: "127.0.0.1:53".into(),
            records: vec![],
            cached: true,
            ms: 0.01,
            outcome: Some("no records of this type, remembered from an earlier answer".into()),
        },
        &[
            "has no IPv6 address",
            "AAAA record",
            "did not ask 127.0.0.1:53",
        ],
    );
    never(&sentence, &["knew the IPv6 address"]);
}
