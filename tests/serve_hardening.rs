//! What a class's network (or a script) throws at `minibrowse serve` (issue 16), each case
//! against the real binary on loopback, with its memory read from /proc where memory is
//! the point: a WebSocket ping flood, endless empty continuation frames, half-sent heads and
//! idle sockets, one peer opening hundreds of connections, CONNECT tunnels to the proxy
//! itself, clients of an endless answer through the proxy that do not read, and a proxy log
//! fed huge targets.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::serve::{ServeChild, Stdout};

fn serve() -> ServeChild {
    ServeChild::start("127.0.0.1", &[], Stdout::Read)
}

/// Reads until the peer closes or `wait` passes; whether it closed (EOF or reset).
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let deadline = Instant::now() + wait;
    let _ = stream.set_read_timeout(Some(wait.min(Duration::from_millis(200))));
    let mut buffer = [0u8; 65536];
    while Instant::now() < deadline {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

/// `count` connections to `addr` from one peer, 127.0.0.3, that send nothing.
fn hog_connections(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    let hog = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
    let mut held = Vec::new();
    for _ in 0..count {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        socket
            .bind(&SocketAddr::new(hog, 0).into())
            .expect("bind 127.0.0.3");
        if socket.connect(&addr.into()).is_ok() {
            held.push(TcpStream::from(socket));
        }
    }
    held
}

/// How many of `held` the server closed at once (after giving it 300 ms to accept them all).
fn closed_at_once(held: &mut [TcpStream]) -> usize {
    std::thread::sleep(Duration::from_millis(300));
    held.iter_mut()
        .map(|s| closed_within(s, Duration::from_millis(20)))
        .filter(|closed| *closed)
        .count()
}

/// A raw WebSocket connection to the demo chat, upgraded, its 101 read.
fn websocket(web: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(web).expect("connect");
    stream
        .write_all(
            b"GET /chat/ws HTTP/1.1\r\nHost: www.minibrowse.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .expect("handshake");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("the 101 answer");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream
}

/// A client frame (masked, with a zero mask: the payload goes as it is).
fn frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut out = vec![first_byte, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    out.extend_from_slice(payload);
    out
}

#[test]
fn a_ping_flood_that_never_reads_the_pongs_leaves_memory_flat_and_is_closed() {
    let server = serve();
    let mut socket = websocket(server.web);
    let connected = Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    let before = server.rss();
    // Up to 200,000 pings of 125 bytes (25 MB of pongs owed), and not one pong read: the
    // server queues 64 KiB of them at most, then stops reading until the pongs can go out.
    let ping = frame(0x89, &[b'p'; 125]);
    let batch: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 1000)
        .collect();
    let _ = socket.set_write_timeout(Some(Duration::from_secs(2)));
    let mut sent = 0;
    for _ in 0..200 {
        if socket.write_all(&batch).is_err() {
            break;
        }
        sent += 1000;
    }
    let after = server.rss();
    eprintln!(
        "ping flood: {sent} pings sent before the server stopped reading; RSS {} -> {} MB",
        before >> 20,
        after >> 20
    );
    assert!(sent >= 10_000, "only {sent} pings went out");
    assert!(
        after < before + (12 << 20),
        "{sent} pings took serve from {} to {} MB",
        before >> 20,
        after >> 20
    );
    // A client that does not read is closed: the server's next ping cannot go out.
    std::thread::sleep(Duration::from_secs(17).saturating_sub(connected.elapsed()));
    assert!(
        closed_within(&mut socket, Duration::from_secs(5)),
        "still open after {:?}",
        connected.elapsed()
    );
    // Others are served all along.
    let mut other = websocket(server.web);
    assert!(!closed_within(&mut other, Duration::from_millis(300)));
}

#[test]
fn endless_empty_continuation_frames_run_out_of_budget_and_are_cut_off() {
    let server = serve();
    let mut socket = websocket(server.web);
    socket
        .write_all(&frame(0x01, b"a"))
        .expect("a text frame without FIN");
    let empty = frame(0x00, &[]);
    let batch: Vec<u8> = empty
        .iter()
        .copied()
        .cycle()
        .take(empty.len() * 1000)
        .collect();
    let started = Instant::now();
    let _ = socket.set_write_timeout(Some(Duration::from_secs(2)));
    let mut cut_off = false;
    while started.elapsed() < Duration::from_secs(15) {
        if socket.write_all(&batch).is_err() {
            cut_off = true;
            break;
        }
    }
    assert!(
        cut_off || closed_within(&mut socket, Duration::from_secs(2)),
        "still open after {:?} of empty fragments",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn half_sent_heads_and_idle_sockets_are_closed_by_every_server() {
    let server = serve();
    let mut sockets = Vec::new();
    for addr in [server.web, server.backend, server.proxy] {
        let mut half = TcpStream::connect(addr).expect("connect");
        half.write_all(b"GET / HTTP/1.1\r\nHost: www.minibrowse.test\r\nX-Half: ")
            .expect("half a head");
        let idle = TcpStream::connect(addr).expect("connect");
        sockets.push((addr, "half a head", half));
        sockets.push((addr, "nothing", idle));
    }
    let started = Instant::now();
    for (addr, what, socket) in &mut sockets {
        let left = Duration::from_secs(14).saturating_sub(started.elapsed());
        assert!(
            closed_within(socket, left),
            "{addr} kept a socket that sent {what} open for {:?}",
            started.elapsed()
        );
    }
    // Not before the head timeout: a slow client gets its 10 s.
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn one_peer_holding_hundreds_of_connections_does_not_lock_out_another() {
    let server = serve();
    // One peer (127.0.0.3) opens 200 connections and sends nothing.
    let mut held = hog_connections(server.web, 200);
    // Beyond its cap, its connections are closed at once.
    assert_eq!(held.len(), 200, "the kernel took every connection");
    let closed = closed_at_once(&mut held);
    assert_eq!(
        closed,
        200 - 64,
        "of 200 connections, all but the cap's 64 are closed"
    );
    // Another peer is served as usual.
    let (ok, out, err) = common::serve::student(&[
        "--dns-server",
        &server.dns.to_string(),
        "--no-assets",
        "--dump",
        &format!("http://www.minibrowse.test:{}/front.txt", server.web.port()),
    ]);
    assert!(ok && out.contains("front server"), "{out}\n{err}");
}

/// Sends `CONNECT target` to the proxy; its status line.
fn connect_through(proxy: SocketAddr, target: &str) -> String {
    let mut stream = TcpStream::connect(proxy).expect("connect");
    stream
        .write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .expect("send");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut answer = vec![0u8; 4096];
    let n = stream.read(&mut answer).unwrap_or(0);
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[test]
fn the_proxy_opens_no_tunnel_to_itself() {
    let server = serve();
    let port = server.proxy.port();
    for target in [
        format!("127.0.0.1:{port}"),
        format!("www.minibrowse.test:{port}"),
    ] {
        let answer = connect_through(server.proxy, &target);
        assert!(
            answer.starts_with("HTTP/1.1 502 Bad Gateway") || answer.starts_with("HTTP/1.1 403"),
            "{target}: {answer}"
        );
        assert!(answer.contains("this proxy itself"), "{target}: {answer}");
    }
    // A tunnel to the web server is fine.
    let answer = connect_through(
        server.proxy,
        &format!("www.minibrowse.test:{}", server.web.port()),
    );
    assert!(
        answer.starts_with("HTTP/1.1 200 Connection established"),
        "{answer}"
    );
}

#[test]
fn clients_of_an_endless_answer_through_the_proxy_that_do_not_read_cost_no_memory() {
    let server = serve();
    std::thread::sleep(Duration::from_millis(300));
    let before = server.rss();
    let url = format!(
        "http://www.minibrowse.test:{}/errors/endless",
        server.web.port()
    );
    let mut clients = Vec::new();
    for _ in 0..6 {
        let mut stream = TcpStream::connect(server.proxy).expect("connect");
        stream
            .write_all(
                format!("GET {url} HTTP/1.1\r\nHost: www.minibrowse.test\r\n\r\n").as_bytes(),
            )
            .expect("send");
        clients.push(stream);
    }
    std::thread::sleep(Duration::from_secs(3));
    let after = server.rss();
    eprintln!(
        "six stalled clients of /errors/endless: RSS {} -> {} MB",
        before >> 20,
        after >> 20
    );
    assert!(
        after < before + (40 << 20),
        "six stalled clients took serve from {} to {} MB",
        before >> 20,
        after >> 20
    );
    // The answer comes through as it is made: a reading client gets bytes at once.
    let mut reader = TcpStream::connect(server.proxy).expect("connect");
    reader
        .write_all(format!("GET {url} HTTP/1.1\r\nHost: www.minibrowse.test\r\n\r\n").as_bytes())
        .expect("send");
    reader
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut got = 0usize;
    let mut buffer = vec![0u8; 65536];
    let started = Instant::now();
    while got < 20 << 20 && started.elapsed() < Duration::from_secs(20) {
        match reader.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    assert!(
        got >= 20 << 20,
        "{got} bytes streamed through in {:?}",
        started.elapsed()
    );
    drop(reader);
    std::thread::sleep(Duration::from_millis(500));
    let streamed = server.rss();
    eprintln!(
        "20 MB streamed through the proxy: RSS now {} MB",
        streamed >> 20
    );
    assert!(
        streamed < before + (40 << 20),
        "20 MB streamed through took serve from {} to {} MB",
        before >> 20,
        streamed >> 20
    );
}

#[test]
fn the_proxy_log_keeps_the_last_few_hundred_entries_cut_short() {
    let world = minibrowse::demo::DemoWorld::start(minibrowse::demo::DemoOptions {
        proxy_port: Some(0),
        ..Default::default()
    })
    .expect("a world");
    let proxy = world.proxy_addr.expect("a proxy");
    let long_query = "q".repeat(30 * 1024);
    let url = format!(
        "http://www.minibrowse.test:{}/front.txt?{long_query}",
        world.http_addr.port()
    );
    let request = format!("GET {url} HTTP/1.1\r\nHost: www.minibrowse.test\r\n\r\n");
    let mut stream = TcpStream::connect(proxy).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let limit = minibrowse::demo::proxy::LOG_ENTRIES;
    let mut buffer = vec![0u8; 65536];
    for _ in 0..limit + 100 {
        stream.write_all(request.as_bytes()).expect("send");
        // front.txt is small: its whole answer comes in one read or two.
        let mut answer = Vec::new();
        while !answer.ends_with(b"/server.html\n") {
            let n = stream.read(&mut buffer).expect("the answer");
            assert!(n > 0, "the proxy closed");
            answer.extend_from_slice(&buffer[..n]);
        }
    }
    let log = world.proxy_log();
    assert_eq!(log.len(), limit);
    assert!(
        log.iter().all(|e| e.target.len() <= 2048 + 3),
        "targets are cut"
    );
    assert!(log.iter().all(|e| e.status == 200));
}

/// A DNS question for `www.minibrowse.test` A, in the two-byte-length framing of TCP.
fn dns_query_over_tcp() -> Vec<u8> {
    let mut message = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["www", "minibrowse", "test"] {
        message.push(label.len() as u8);
        message.extend_from_slice(label.as_bytes());
    }
    message.extend_from_slice(&[0, 0, 1, 0, 1]);
    let mut framed = (message.len() as u16).to_be_bytes().to_vec();
    framed.extend(message);
    framed
}

#[test]
fn one_peer_holding_hundreds_of_dns_tcp_connections_does_not_lock_out_another() {
    let server = serve();
    let mut held = hog_connections(server.dns, 200);
    assert_eq!(held.len(), 200, "the kernel took every connection");
    let closed = closed_at_once(&mut held);
    assert_eq!(closed, 200 - 64, "all but the cap's 64 are closed");
    // Another peer asks over TCP and is answered; the console names it, not the relay.
    let mut asker = TcpStream::connect(server.dns).expect("connect");
    let me = asker.local_addr().expect("address");
    asker.write_all(&dns_query_over_tcp()).expect("ask");
    asker
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut length = [0u8; 2];
    asker.read_exact(&mut length).expect("an answer");
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(length))];
    asker.read_exact(&mut answer).expect("the whole answer");
    assert_eq!(&answer[..2], &[0x12, 0x34], "the same id");
    assert!(
        u16::from_be_bytes([answer[6], answer[7]]) >= 1,
        "an answer record"
    );
    let line = server
        .console_line(Duration::from_secs(5), |l| {
            l.starts_with("dns") && l.contains("(tcp)")
        })
        .expect("a console line for the TCP question");
    assert!(line.contains(&me.to_string()), "{line}");
}
