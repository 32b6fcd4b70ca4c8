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
