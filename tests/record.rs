//! The request record: one fold of the trace that every view reads (the TUI's request log
//! and detail, the HAR, the `--trace` grouping). Checked against real loads of the demo world.

mod common;

use common::{load, world};
use minibrowse::trace::{EventKind, RequestLog};

#[test]
fn assets_page_folds_into_one_record_per_request() {
    let world = world();
    let load = load(&world, "/assets.html");
    let log = RequestLog::of(&load.events);
    let requests = load.count("request");
    assert!(requests > 5, "the assets page makes many requests");
    assert_eq!(log.len(), requests, "one record per request");
    for record in log.iter() {
        // Every request of this page finished and was answered.
        assert!(record.is_finished(), "request #{} still running", record.id);
        assert!(record.status().is_some(), "#{} has no status", record.id);
        // The phases were measured inside the request's own time.
        let phases = record.phases();
        let spent: f64 = phases.durations().iter().sum();
        let end = record.end_ms().expect("an end");
        assert!(
            spent <= end - record.started_ms() + 0.01,
            "#{}: phases {spent} ms outside {} .. {end}",
            record.id,
            record.started_ms()
        );
        // A connection is new (with a TCP connect and an address) or reused.
        let connection = record.connection.as_ref().expect("a connection");
        assert_eq!(connection.reused, record.connect.is_none());
        assert!(
            connection
                .remote
                .as_deref()
                .is_some_and(|r| r.starts_with("127.0.0.1:")),
            "#{}: the reused connection's address is its first: {connection:?}",
            record.id
        );
        assert_eq!(phases.dns.is_some(), !record.dns.is_empty());
    }
    // Each asset is tied to the element that referenced it, as the asset walk found it.
    for event in &load.events {
        if let EventKind::AssetFound { url, node, .. } = &event.kind {
            if let Some(record) = log.iter().find(|r| &r.url == url) {
                assert_eq!(record.initiator_node(), Some(*node), "{url}");
            }
        }
    }
    let page = log.by_id(1).expect("the page's request");
    assert_eq!(page.initiator, None, "the page itself has no initiator");
    assert!(log
        .iter()
        .any(|r| r.connection.as_ref().is_some_and(|c| c.reused)));
}

#[test]
fn a_redirect_hop_is_its_own_finished_record() {
    let world = world();
    let load = load(&world, "/old-page");
    let log = RequestLog::of(&load.events);
    let first = log.by_id(1).expect("the first hop");
    let hop = first.redirect.as_ref().expect("a redirect");
    assert!((300..400).contains(&hop.status));
    assert!(first.is_finished());
    let second = log.by_id(2).expect("the second hop");
    assert_eq!(second.url, hop.next_url);
    assert_eq!(second.status(), Some(200));
    assert!(second.redirect.is_none());
}

#[test]
fn assets_that_fail_before_they_are_sent_keep_their_url() {
    let world = world();
    let load = load(&world, "/errors/broken-assets");
    let log = RequestLog::of(&load.events);
    let failed: Vec<_> = log.iter().filter(|r| r.error.is_some()).collect();
    assert_eq!(failed.len(), 2, "{log:?}");
    for record in failed {
        // No request event names them (DNS failed, the connection was refused): the
        // failure does, so the request log can show what could not be fetched.
        assert!(record.request.is_none(), "#{} was sent", record.id);
        assert!(
            record.url.ends_with("/a.png") || record.url.ends_with("/b.png"),
            "#{}: {:?}",
            record.id,
            record.url
        );
        assert!(!record.host.is_empty() && !record.path.is_empty());
    }
}
