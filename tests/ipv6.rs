//! IPv6 and IPv4: every name is asked for its AAAA and its A record, and a name with both
//! is connected to by Happy Eyeballs (RFC 8305): IPv6 first, IPv4 250 ms later or as soon as
//! IPv6 fails, the first to connect wins. Real servers on [::1] and 127.0.0.1.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use minibrowse::trace::{ConnectAttempt, EventKind};

use common::{load_with, options, world, Load};

/// The DNS questions of the load: (type, addresses found).
fn questions(load: &Load) -> Vec<(String, Vec<String>)> {
    load.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Dns {
                record_type,
                records,
                ..
            } => Some((
                record_type.clone(),
                records
                    .iter()
                    .filter(|r| r.record_type == "A" || r.record_type == "AAAA")
                    .map(|r| r.data.clone())
                    .collect(),
            )),
            _ => None,
        })
        .collect()
}

/// The first connection's remote address and its attempts.
fn connection(load: &Load) -> (String, Vec<ConnectAttempt>) {
    load.events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Connect {
                remote, attempts, ..
            } => Some((remote.clone(), attempts.clone())),
            _ => None,
        })
        .expect("a connection")
}

/// Whether this machine has an IPv6 loopback (a container may not).
fn has_ipv6() -> bool {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

/// A one-page HTTP server on `listener`, answering each connection once.
fn serve_one_page(listener: TcpListener, text: &'static str) {
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4).flatten() {
            let mut stream: TcpStream = stream;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf);
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
}

#[test]
fn a_name_with_both_is_asked_both_ways_and_ipv6_goes_first() {
    if !has_ipv6() {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    }
    let world = world();
    let url = format!("http://both.minibrowse.test:{}/", world.http_addr.port());
    let load = load_with(options(&world), &url);
    assert_eq!(
        questions(&load)[..2],
        [
            ("AAAA".to_string(), vec!["::1".to_string()]),
            ("A".to_string(), vec!["127.0.0.1".to_string()]),
        ]
    );
    let (remote, attempts) = connection(&load);
    assert_eq!(remote, format!("[::1]:{}", world.http_addr.port()));
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert!(attempts[0].outcome.starts_with("connected first"));
    assert!(load.dump().contains("Welcome to the minibrowse demo world"));

    // A name with only an A record: the AAAA question is asked and answered "none".
    let load = load_with(options(&world), &world.url("/"));
    let asked = questions(&load);
    assert_eq!(asked[0], ("AAAA".to_string(), vec![]));
    assert_eq!(asked[1], ("A".to_string(), vec!["127.0.0.1".to_string()]));
}

#[test]
fn a_refused_ipv6_hands_over_to_ipv4_at_once() {
    if !has_ipv6() {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    }
    let world = world();
    // The backend listens on IPv4 only: [::1] at its port refuses.
    let port = world.backend_addr.port();
    let started = Instant::now();
    let load = load_with(
        options(&world),
        &format!("http://both.minibrowse.test:{port}/notes.txt"),
    );
    let (remote, attempts) = connection(&load);
    assert_eq!(remote, format!("127.0.0.1:{port}"));
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0].addr, format!("[::1]:{port}"));
    assert!(attempts[0].outcome.contains("refused"), "{attempts:?}");
    // Not after the 250 ms delay: a refusal starts the next attempt at once.
    assert!(attempts[1].after_ms < 200.0, "{attempts:?}");
    assert!(attempts[1].outcome.starts_with("connected first"));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn an_ipv6_only_server_is_reached_without_trying_ipv4() {
    if !has_ipv6() {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    }
    let world = world();
    let listener = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).expect("bind [::1]");
    let port = listener.local_addr().expect("addr").port();
    serve_one_page(listener, "over IPv6");
    let load = load_with(
        options(&world),
        &format!("http://both.minibrowse.test:{port}/"),
    );
    let (remote, attempts) = connection(&load);
    assert_eq!(remote, format!("[::1]:{port}"));
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert!(load.dump().contains("over IPv6"));
}

/// An IPv6 path that swallows the SYN (a listener whose queue is full): the IPv4 attempt
/// starts 250 ms after, and wins.
#[test]
fn a_silent_ipv6_costs_a_quarter_of_a_second() {
    if !has_ipv6() {
        eprintln!("skipped: no IPv6 loopback on this machine");
        return;
    }
    let world = world();
    // The same port on both: a full IPv6 queue, a working IPv4 server.
    let (v6, v4) = (0..20)
        .find_map(|_| {
            let v6 =
                socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::STREAM, None).ok()?;
            v6.set_only_v6(true).ok()?;
            v6.bind(&SocketAddr::from((Ipv6Addr::LOCALHOST, 0)).into())
                .ok()?;
            v6.listen(0).ok()?;
            let port = v6.local_addr().ok()?.as_socket()?.port();
            let v4 = TcpListener::bind(("127.0.0.1", port)).ok()?;
            Some((v6, v4))
        })
        .expect("a port free on both");
    let port = v4.local_addr().expect("addr").port();
    // Fill the IPv6 accept queue (never accepted): later SYNs are dropped.
    let fillers: Vec<TcpStream> = (0..4)
        .filter_map(|_| {
            TcpStream::connect_timeout(
                &SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
                Duration::from_millis(200),
            )
            .ok()
        })
        .collect();
    let probe = TcpStream::connect_timeout(
        &SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
        Duration::from_millis(300),
    );
    if probe.is_ok() {
        eprintln!("skipped: this kernel does not drop SYNs to a full queue");
        return;
    }
    serve_one_page(v4, "over IPv4");
    let load = load_with(
        options(&world),
        &format!("http://both.minibrowse.test:{port}/"),
    );
    let (remote, attempts) = connection(&load);
    assert_eq!(remote, format!("127.0.0.1:{port}"), "{attempts:?}");
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert!(
        (240.0..600.0).contains(&attempts[1].after_ms),
        "{attempts:?}"
    );
    assert!(attempts[0].outcome.contains("abandoned"), "{attempts:?}");
    assert!(load.dump().contains("over IPv4"));
    drop((fillers, v6));
}
