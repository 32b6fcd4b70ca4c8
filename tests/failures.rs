//! Every failure names its step, ends the trace with a summary, and is bounded in time.

mod common;

use std::net::{TcpListener, UdpSocket};
use std::time::{Duration, Instant};

use common::{load, load_with, options, world};
use minibrowse::net::DnsServers;
use minibrowse::trace::{EventKind, Step};

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn assert_failed(load: &common::Load, step: Step, words: &str) {
    let error = load.error();
    assert_eq!(error.step, step, "{error}");
    assert!(error.message.contains(words), "{error}");
    assert_eq!(load.names().last(), Some(&"summary"));
    let failed = load
        .events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::Failed { step: s, .. } if *s == step));
    assert!(failed, "a failed event for {step}");
}

#[test]
fn nxdomain_names_the_dns_step() {
    let world = world();
    let port = world.http_addr.port();
    let load = load_with(
        options(&world),
        &format!("http://nope.minibrowse.test:{port}/"),
    );
    assert_failed(&load, Step::Dns, "does not exist (NXDOMAIN");
    assert_eq!(load.count("connect"), 0);
    // The failed question is still shown: what was asked, of whom.
    let asked = load.events.iter().find_map(|e| match &e.kind {
        EventKind::Dns {
            host,
            server,
            records,
            ..
        } => Some((host.clone(), server.clone(), records.len())),
        _ => None,
    });
    assert_eq!(
        asked,
        Some(("nope.minibrowse.test".into(), world.dns_addr.to_string(), 0))
    );
}

#[test]
fn dns_server_that_never_answers_times_out() {
    // A UDP socket that receives questions and answers none.
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut opts = minibrowse::page::Options {
        dns: DnsServers::Explicit(silent.local_addr().expect("addr")),
        timeout: Duration::from_secs(1),
        ..Default::default()
    };
    opts.fetch_assets = false;
    let started = Instant::now();
    let load = load_with(opts, "http://www.minibrowse.test/");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_failed(&load, Step::Dns, "no answer");
}

#[test]
fn connection_refused_names_the_connect_step() {
    let port = free_port();
    let load = load_with(
        minibrowse::page::Options::default(),
        &format!("http://127.0.0.1:{port}/"),
    );
    assert_failed(&load, Step::Connect, "connection refused");
}

#[test]
fn ipv6_only_name_is_looked_up_as_aaaa() {
    let world = world();
    let port = free_port();
    let load = load_with(
        options(&world),
        &format!("http://v6.minibrowse.test:{port}/"),
    );
    let asked: Vec<(String, usize)> = load
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Dns {
                record_type,
                records,
                ..
            } => Some((record_type.clone(), records.len())),
            _ => None,
        })
        .collect();
    // Both questions, IPv6's first (RFC 8305); only AAAA has an answer.
    assert_eq!(asked, vec![("AAAA".to_string(), 1), ("A".to_string(), 0)]);
    // Nothing listens there: the connect step fails, towards [::1].
    assert_eq!(load.error().step, Step::Connect);
    assert!(load.error().message.contains("[::1]"), "{}", load.error());
}

#[test]
fn server_that_never_answers_times_out_while_waiting() {
    let world = world();
    let mut opts = options(&world);
    opts.timeout = Duration::from_secs(1);
    let started = Instant::now();
    let load = load_with(opts, &world.url("/errors/slow"));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_failed(
        &load,
        Step::Wait,
        "timed out after 1.0 s waiting for www.minibrowse.test",
    );
    // The request did go out before the wait.
    assert_eq!(load.count("request"), 1);
}

#[test]
fn endless_body_stops_at_the_limit() {
    let world = world();
    let mut opts = options(&world);
    opts.max_body = 1024 * 1024;
    let load = load_with(opts, &world.url("/errors/endless"));
    assert_failed(
        &load,
        Step::Receive,
        "larger than the limit of 1048576 bytes",
    );
}

#[test]
fn decompression_bomb_is_stopped_by_decoded_size() {
    let world = world();
    let mut opts = options(&world);
    opts.max_body = 1024 * 1024;
    let started = Instant::now();
    let load = load_with(opts, &world.url("/errors/bomb"));
    assert_failed(&load, Step::Receive, "once decompressed");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn too_many_assets_are_cut_at_the_limit_and_reported() {
    let world = world();
    let mut opts = options(&world);
    opts.max_assets = 50;
    let load = load_with(opts, &world.url("/errors/many-assets"));
    let page = load.page();
    assert_eq!(page.assets.len(), 50);
    // Shown in full, so not a problem (exit 0): a warning (issue 16).
    assert!(page.problems.is_empty(), "{:?}", page.problems);
    assert_eq!(page.warnings.len(), 1);
    assert!(
        page.warnings[0].contains("350 more assets than the limit of 50"),
        "{:?}",
        page.warnings
    );
    assert_eq!(load.count("request"), 51);
}

#[test]
fn redirect_to_another_scheme_is_refused() {
    let world = world();
    let load = load(&world, "/errors/to-ftp");
    assert_failed(
        &load,
        Step::Redirect,
        "refused to follow a redirect to ftp://",
    );
}

#[test]
fn invalid_input_fails_at_the_url_step() {
    for (input, words) in [
        ("ftp://example.test/", "ftp: scheme is not supported"),
        ("javascript:alert(1)", "javascript: scheme is not supported"),
        ("http://exa mple.test/", "not a valid URL"),
    ] {
        let load = load_with(minibrowse::page::Options::default(), input);
        assert_failed(&load, Step::Url, words);
    }
}

#[test]
fn missing_local_file_fails_at_the_file_step() {
    let load = load_with(
        minibrowse::page::Options::default(),
        "/nonexistent/minibrowse/page.html",
    );
    assert_failed(&load, Step::File, "cannot open");
}

#[test]
fn failed_assets_do_not_fail_the_page() {
    let world = world();
    let load = load(&world, "/errors/broken-assets");
    let page = load.page();
    assert!(page.problems.is_empty());
    assert!(load.dump().contains("The page itself loads"));
    let failures: Vec<(Step, String)> = load
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Failed { step, message, .. } => Some((*step, message.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures
        .iter()
        .any(|(s, m)| *s == Step::Dns && m.contains("NXDOMAIN")));
    assert!(failures
        .iter()
        .any(|(s, m)| *s == Step::Connect && m.contains("refused")));
    assert_eq!(page.assets.iter().filter(|a| a.outcome.is_err()).count(), 2);
}

#[test]
fn body_that_trickles_times_out_while_receiving() {
    let world = world();
    let mut opts = options(&world);
    opts.timeout = Duration::from_millis(1500);
    let started = Instant::now();
    let load = load_with(opts, &world.url("/errors/trickle"));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_failed(
        &load,
        Step::Receive,
        "timed out after 1.5 s while receiving the body",
    );
}

#[test]
fn server_that_accepts_but_never_speaks_tls_times_out_in_the_tls_step() {
    // The kernel completes the TCP handshake for a listener nobody accepts from.
    let mute = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = mute.local_addr().expect("addr").port();
    let opts = minibrowse::page::Options {
        timeout: Duration::from_secs(1),
        ..Default::default()
    };
    let started = Instant::now();
    let load = load_with(opts, &format!("https://localhost:{port}/"));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_failed(
        &load,
        Step::Tls,
        "timed out after 1.0 s in the TLS handshake with localhost",
    );
    assert_eq!(load.count("dns"), 0, "localhost needs no DNS");
    drop(mute);
}
