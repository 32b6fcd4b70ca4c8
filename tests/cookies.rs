//! Cookies: Set-Cookie read and stored, sent back, listed; and a browser without them.

mod common;

use common::{load_in, options, world};
use minibrowse::page::Browser;
use minibrowse::trace::{CookieSet, EventKind};

fn set_cookies(load: &common::Load) -> Vec<CookieSet> {
    load.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::SetCookie(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn set_cookie_is_stored_with_its_attributes_and_sent_back() {
    let world = world();
    let browser = Browser::new(options(&world)).expect("browser");
    let first = load_in(&browser, &world.url("/cookie.html"));
    let set = set_cookies(&first);
    assert_eq!(set.len(), 1, "{set:?}");
    assert_eq!(set[0].name, "visitor");
    assert_eq!(set[0].value, "student");
    assert_eq!(set[0].path.as_deref(), Some("/"));
    assert!(set[0].http_only && !set[0].secure);
    assert_eq!(set[0].outcome, "stored");
    // Reported right after the response that carried it, in the same request.
    let names = first.names();
    let response = names
        .iter()
        .position(|n| *n == "response")
        .expect("response");
    assert_eq!(names[response + 1], "set_cookie", "{names:?}");

    // The stylesheet of the same page already carries it back.
    let css = first.request_for("/style.css").expect("stylesheet request");
    let sent = first.of_request(css).into_iter().find_map(|k| match k {
        EventKind::CookieSent { names, header } => Some((names.clone(), header.clone())),
        _ => None,
    });
    assert_eq!(
        sent,
        Some((vec!["visitor".to_string()], "visitor=student".to_string()))
    );

    let jar = browser.client().cookie_jar().entries();
    assert_eq!(jar.len(), 1);
    assert_eq!(
        (jar[0].domain.as_str(), jar[0].name.as_str()),
        ("www.minibrowse.test", "visitor")
    );
    assert!(jar[0].host_only && jar[0].expires.is_none());

    // The visit counter only counts because the client keeps sending its cookie.
    let second = load_in(&browser, &world.url("/cookie-check"));
    assert!(
        second.dump().contains("visit number 1"),
        "{}",
        second.dump()
    );
    let third = load_in(&browser, &world.url("/cookie-check"));
    assert!(third.dump().contains("visit number 2"), "{}", third.dump());
    // The longer path first (RFC 6265 section 5.4).
    assert!(
        third.dump().contains("Cookie: visits=1; visitor=student"),
        "{}",
        third.dump()
    );
    let visits = set_cookies(&third);
    assert_eq!(visits[0].max_age, Some(3600));
    assert_eq!(visits[0].outcome, "replaced");
}

#[test]
fn without_cookies_the_server_never_recognises_the_browser() {
    let world = world();
    let mut opts = options(&world);
    opts.http.cookies = false;
    let browser = Browser::new(opts).expect("browser");
    let first = load_in(&browser, &world.url("/cookie.html"));
    let set = set_cookies(&first);
    assert_eq!(set[0].outcome, "ignored (--no-cookies)");
    assert_eq!(first.count("cookie_sent"), 0);
    for _ in 0..2 {
        let check = load_in(&browser, &world.url("/cookie-check"));
        assert!(
            check.dump().contains("you are a stranger"),
            "{}",
            check.dump()
        );
        assert!(check.dump().contains("visit number 1"));
        let request = check.request_for("/cookie-check").expect("request");
        let head = check.of_request(request).into_iter().find_map(|k| match k {
            EventKind::Request { head, .. } => Some(head.clone()),
            _ => None,
        });
        assert!(!head.expect("head").to_lowercase().contains("cookie:"));
    }
    assert!(browser.client().cookie_jar().entries().is_empty());
}

/// A small site of two names on one server: `localhost` sets cookies of every SameSite
/// kind, and a page on `127.0.0.1` (another site) shows an image from `localhost`.
fn two_site_server() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(32) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let path = head.split(' ').nth(1).unwrap_or("/").to_string();
            let (extra, content_type, body) = match path.as_str() {
                "/set" => (
                    "Set-Cookie: strict=1; SameSite=Strict\r\nSet-Cookie: lax=1; SameSite=Lax\r\nSet-Cookie: plain=1\r\nSet-Cookie: none=1; SameSite=None\r\n".to_string(),
                    "text/html",
                    "<p>cookies set</p>".to_string(),
                ),
                "/page" => (
                    String::new(),
                    "text/html",
                    format!("<p>a page of another site</p><img src=\"http://localhost:{port}/img.png\" alt=\"pixel\">"),
                ),
                _ => (
                    "Set-Cookie: tracker=1; SameSite=Lax\r\n".to_string(),
                    "image/png",
                    "png".to_string(),
                ),
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\n{extra}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    port
}

#[test]
fn same_site_cookies_do_not_go_with_another_sites_image() {
    let port = two_site_server();
    let browser = Browser::new(minibrowse::page::Options::default()).expect("browser");
    let set = load_in(&browser, &format!("http://localhost:{port}/set"));
    assert_eq!(set_cookies(&set).len(), 4);
    // Going to localhost itself: every cookie goes.
    let again = load_in(&browser, &format!("http://localhost:{port}/set"));
    let sent = |load: &common::Load, suffix: &str| {
        let request = load.request_for(suffix).expect("the request");
        load.events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::CookieSent { names, .. } if e.request == Some(request) => {
                    Some(names.clone())
                }
                _ => None,
            })
            .unwrap_or_default()
    };
    assert_eq!(sent(&again, "/set").len(), 4);
    // A page of 127.0.0.1 shows localhost's image: a cross-site request.
    let page = load_in(&browser, &format!("http://127.0.0.1:{port}/page"));
    assert_eq!(sent(&page, "/img.png"), ["none"]);
    // And its answer may not set a SameSite=Lax cookie.
    let refused = set_cookies(&page);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0]
            .outcome
            .starts_with("rejected: a cookie SameSite=Lax"),
        "{}",
        refused[0].outcome
    );
}
