//! A hostile web server: raw TCP on loopback, one misbehaviour per path.
//!
//! Each connection gets its own thread; the request head is read, then the path picks what
//! the server does wrong. Nothing here is a mock: minibrowse talks to it over real sockets.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

/// How long a stalling or trickling case keeps its connection at most.
const HOLD: Duration = Duration::from_secs(60);

pub struct HostileHttp {
    pub addr: SocketAddr,
    /// A local file whose contents must never show up in minibrowse's output.
    pub secret: PathBuf,
    pub secret_marker: String,
}

impl HostileHttp {
    pub fn start() -> HostileHttp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let marker = format!("HOSTILE-SECRET-{}-{}", std::process::id(), addr.port());
        let secret = std::env::temp_dir().join(format!("minibrowse-secret-{}", addr.port()));
        std::fs::write(&secret, format!("{marker}\n<p>{marker}</p>\n")).expect("write secret");
        let ctx = Ctx {
            secret: secret.clone(),
        };
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let ctx = ctx.clone();
                thread::spawn(move || serve(stream, &ctx));
            }
        });
        HostileHttp {
            addr,
            secret,
            secret_marker: marker,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

#[derive(Clone)]
struct Ctx {
    secret: PathBuf,
}

/// Reads one request head (up to 64 KiB); None if the client went away.
fn read_head(stream: &mut TcpStream) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut byte).ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&byte[..n]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// Waits until the client closes the connection (or `HOLD` passes), answering nothing.
fn hold(stream: &mut TcpStream) {
    let started = Instant::now();
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buf = [0u8; 1024];
    while started.elapsed() < HOLD {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Writes `bytes` slowly, one piece every `every`, until the client gives up.
fn trickle(stream: &mut TcpStream, piece: &[u8], every: Duration) {
    let started = Instant::now();
    while started.elapsed() < HOLD {
        if stream
            .write_all(piece)
            .and_then(|_| stream.flush())
            .is_err()
        {
            return;
        }
        thread::sleep(every);
    }
}

fn html_response(body: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

fn redirect(location: &str) -> Vec<u8> {
    format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

/// 64 MiB of spaces as zstd, a few KiB: made once, a megabyte at a time (this process's own
/// memory shows in its children's peak RSS, which the tests bound).
fn zstd_bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| {
        use std::io::Write as _;
        let Ok(mut encoder) = zstd::stream::write::Encoder::new(Vec::new(), 1) else {
            return Vec::new();
        };
        let spaces = vec![b' '; 1 << 20];
        for _ in 0..64 {
            let _ = encoder.write_all(&spaces);
        }
        encoder.finish().unwrap_or_default()
    })
}

/// A small page sent in the coding `case` names (every coding a browser meets, broken ones,
/// one nobody knows, and a zstd bomb).
fn coded(case: &str) -> Vec<u8> {
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;
    const PAGE: &[u8] = b"<title>coded</title><p>The same page in every coding.";
    fn finish<W: std::io::Write>(
        mut w: W,
        f: impl FnOnce(W) -> std::io::Result<Vec<u8>>,
    ) -> Vec<u8> {
        let _ = w.write_all(PAGE);
        f(w).unwrap_or_default()
    }
    let gzip = || {
        finish(GzEncoder::new(Vec::new(), Compression::default()), |w| {
            w.finish()
        })
    };
    let (coding, body): (&str, Vec<u8>) = match case {
        "zlib" => (
            "deflate",
            finish(ZlibEncoder::new(Vec::new(), Compression::default()), |w| {
                w.finish()
            }),
        ),
        "raw-deflate" => (
            "deflate",
            finish(
                DeflateEncoder::new(Vec::new(), Compression::default()),
                |w| w.finish(),
            ),
        ),
        "zstd" => ("zstd", zstd::encode_all(PAGE, 3).unwrap_or_default()),
        "gzip-upper" => ("GZIP", gzip()),
        "gzip-then-zstd" => (
            "gzip, zstd",
            zstd::encode_all(&gzip()[..], 3).unwrap_or_default(),
        ),
        "x-squeeze" => ("x-squeeze", PAGE.to_vec()),
        "gzip-cut" | "ours-gzip-cut" => {
            let mut body = gzip();
            body.truncate(body.len() / 2);
            (if case == "gzip-cut" { "gzip" } else { "x-gzip" }, body)
        }
        "zstd-bomb" => ("zstd", zstd_bomb().to_vec()),
        _ => ("identity", PAGE.to_vec()),
    };
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: {coding}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend(body);
    out
}

/// A chunked body that never ends: the same compressed block of zeros over and over.
fn endless_compressed(stream: &mut TcpStream, encoding: &str) {
    use flate2::write::{DeflateEncoder, GzEncoder};
    use flate2::Compression;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: {encoding}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let zeros = vec![b' '; 1024 * 1024];
    let started = Instant::now();
    let mut sent_zeros: u64 = 0;
    // A gzip/deflate stream cannot be cut into independent pieces, so one encoder runs on.
    let mut pending: Vec<u8> = Vec::new();
    enum Enc {
        Gz(GzEncoder<Vec<u8>>),
        Deflate(DeflateEncoder<Vec<u8>>),
    }
    let mut enc = if encoding == "gzip" {
        Enc::Gz(GzEncoder::new(Vec::new(), Compression::best()))
    } else {
        Enc::Deflate(DeflateEncoder::new(Vec::new(), Compression::best()))
    };
    // Up to 4 GiB of spaces (about 4 MiB on the wire): far past any sane limit.
    while started.elapsed() < HOLD && sent_zeros < 4 << 30 {
        let written = match &mut enc {
            Enc::Gz(e) => e.write_all(&zeros).and_then(|_| e.flush()),
            Enc::Deflate(e) => e.write_all(&zeros).and_then(|_| e.flush()),
        };
        if written.is_err() {
            return;
        }
        sent_zeros += zeros.len() as u64;
        let out = match &mut enc {
            Enc::Gz(e) => e.get_mut(),
            Enc::Deflate(e) => e.get_mut(),
        };
        pending.append(out);
        if pending.len() >= 4096 {
            let chunk = format!("{:x}\r\n", pending.len());
            let ok = stream
                .write_all(chunk.as_bytes())
                .and_then(|_| stream.write_all(&pending))
                .and_then(|_| stream.write_all(b"\r\n"));
            if ok.is_err() {
                return;
            }
            pending.clear();
        }
    }
}

/// The 101 answer that accepts the WebSocket Upgrade in the request `head`.
fn switching_protocols(head: &str) -> Vec<u8> {
    let key = head
        .split("\r\n")
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .into_bytes()
}

fn reset(stream: TcpStream) {
    // Linger 0: close sends RST instead of FIN.
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Text full of what a terminal would obey: ESC sequences, C0/C1 controls, bidi overrides.
pub const NASTY: &str = "\u{1b}[2J\u{1b}]0;owned\u{7}\u{9b}31m\u{202e}\u{2066}\u{8}\u{7f}\u{85}\r";

fn serve(mut stream: TcpStream, ctx: &Ctx) {
    let _ = stream.set_nodelay(true);
    // A TLS ClientHello (record type 0x16) gets a plain-text HTTP answer: TLS to a server
    // that does not speak it.
    let mut first = [0u8; 1];
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    if stream.peek(&mut first).is_ok_and(|n| n == 1) && first[0] == 0x16 {
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        let _ = stream.shutdown(std::net::Shutdown::Write);
        return hold(&mut stream);
    }
    let Some(head) = read_head(&mut stream) else {
        return;
    };
    let target = head.split(' ').nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/").to_string();
    let secret = ctx.secret.display().to_string();
    let file_url = format!("file://{secret}");
    let reply: Vec<u8> = match path.as_str() {
        "/ok" => html_response("<title>fine</title><p>A fine page."),
        // --- broken servers ---
        "/status/garbage" => b"HTTP/1.1 2x\x1b[2J OK\r\nContent-Length: 2\r\n\r\nhi".to_vec(),
        "/status/not-http" => b"SSH-2.0-OpenSSH_9.6\r\n".to_vec(),
        "/status/huge-code" => b"HTTP/1.1 99999 Big\r\nContent-Length: 2\r\n\r\nhi".to_vec(),
        "/http09" => b"<html><title>nine</title><p>HTTP/0.9 had no head</p></html>".to_vec(),
        "/truncated" => b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n<title>Partial</title><p>The first part of the page arrived".to_vec(),
        "/length-short" => b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 9\r\nConnection: close\r\n\r\n<p>hello world, past the length</p>".to_vec(),
        "/chunk-overflow" => b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n".to_vec(),
        "/chunk-garbage" => b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\nzz\x1b\r\nabc\r\n0\r\n\r\n".to_vec(),
        "/chunk-truncated" => b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n40\r\n<title>Cut</title><p>chunked, cut".to_vec(),
        "/empty" => Vec::new(),
        "/reset" => return reset(stream),
        "/reset-mid-body" => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<title>Reset</title><p>some of it");
            thread::sleep(Duration::from_millis(50));
            return reset(stream);
        }
        "/early-hints" => {
            // The hints at once, the answer 300 ms later: time to first byte is the answer's.
            let _ = stream.write_all(b"HTTP/1.1 103 Early Hints\r\nLink: </ok>; rel=preload\r\n\r\n");
            thread::sleep(Duration::from_millis(300));
            html_response("<title>hinted</title><p>The answer after the hints.")
        }
        p if p.starts_with("/sse/") || p == "/chat/events" => {
            return crate::sse::serve_stream(&mut stream, p);
        }
        "/stall" => return hold(&mut stream),
        "/stall-body" => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n<p>then nothing");
            return hold(&mut stream);
        }
        "/trickle-head" => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n");
            return trickle(&mut stream, b"X-Slow: a\r\n", Duration::from_millis(50));
        }
        "/trickle-body" => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000000\r\n\r\n");
            return trickle(&mut stream, b"<b>x</b>", Duration::from_millis(50));
        }
        "/header-huge" => {
            let mut out = b"HTTP/1.1 200 OK\r\nX-Huge: ".to_vec();
            out.extend(std::iter::repeat_n(b'a', 4 << 20));
            out.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\nhi");
            out
        }
        "/header-many" => {
            let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
            for i in 0..3000 {
                out.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
            }
            out.extend_from_slice(b"Content-Length: 2\r\n\r\nhi");
            out
        }
        "/header-endless" => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n");
            return trickle(&mut stream, &b"X-Flood: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(100), Duration::from_millis(1));
        }
        // --- memory ---
        p if p.starts_with("/coding/") => coded(&p["/coding/".len()..]),
        "/gzip-bomb" => return endless_compressed(&mut stream, "gzip"),
        "/deflate-bomb" => return endless_compressed(&mut stream, "deflate"),
        "/br-bomb" => {
            // 1 GiB of spaces in 841 bytes of brotli (made once with Python's brotli module).
            let bomb = include_bytes!("bomb-1gib.br");
            let mut out = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: br\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bomb.len()
            )
            .into_bytes();
            out.extend_from_slice(bomb);
            out
        }
        "/endless" => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n");
            let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
            chunk.extend(std::iter::repeat_n(b'A', 64 * 1024));
            chunk.extend_from_slice(b"\r\n");
            return trickle(&mut stream, &chunk, Duration::ZERO);
        }
        "/many-assets" => {
            let mut body = String::from("<title>assets</title>");
            for i in 0..3000 {
                body.push_str(&format!("<img src=\"/asset/{i}.png\" alt=\"{i}\">"));
            }
            html_response(&body)
        }
        "/stalled-assets" => {
            let mut body = String::from("<title>stalled assets</title><p>page text");
            for i in 0..120 {
                body.push_str(&format!("<img src=\"/stall?{i}\">"));
            }
            html_response(&body)
        }
        p if p.starts_with("/asset/") => {
            let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\n".to_vec();
            out.extend(std::iter::repeat_n(0u8, 1 << 20));
            out
        }
        // --- terminal safety ---
        "/controls" => {
            let body = format!(
                "<title>T{NASTY}itle</title><p>text{NASTY} &#x1b;[31m &#155; &#x85; &#x202e; &#0; &#x7f;</p>\
                 <a href=\"/ok?{NASTY}\" title=\"{NASTY}\">link{NASTY}</a><img src=\"/asset/x{NASTY}.png\" alt=\"alt{NASTY}\">\
                 <pre>pre{NASTY}</pre><table><tr><td>cell{NASTY}</td></tr></table>"
            );
            // HTTP allows any byte from 0x80 in a reason phrase or header value ("obs-text"):
            // UTF-8 C1 controls and bidi overrides get through where ESC would not.
            let mut out = b"HTTP/1.1 200 OK \xc2\x9b31m\xe2\x80\xae\xc2\x85\x9b\r\nContent-Type: text/html; charset=utf-8\r\n".to_vec();
            out.extend_from_slice(b"X-C1: \xc2\x9b[31m\xc2\x9d0;owned\xc2\x9c\xe2\x81\xa6\xe2\x80\xae\x9b\x85\xff\r\n");
            out.extend_from_slice(format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes());
            out.extend_from_slice(body.as_bytes());
            out
        }
        "/controls-1252" => {
            // windows-1252 leaves 0x81, 0x8d, 0x8f, 0x90 and 0x9d undefined: they decode to C1 controls.
            let mut body = b"<title>w\x81\x8d\x9d</title><p>bytes \x81\x8f\x90\x9d \x1b[2J and \x9b</p>".to_vec();
            body.extend_from_slice(b"<a href=\"/ok\x81\">l\x8d</a>");
            let mut out = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=windows-1252\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            out.extend_from_slice(&body);
            out
        }
        "/controls-text" => {
            let body = format!("plain{NASTY}text\n");
            format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
        }
        // Browsers take any byte but NUL, CR and LF in a header value and show the page.
        "/header-controls" => b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Bell: ring\x07 \x1b[2J done\r\nContent-Length: 9\r\nConnection: close\r\n\r\n<p>hi</p>".to_vec(),
        "/status-esc" => b"HTTP/1.1 200 OK\x1b[2J\r\nContent-Length: 2\r\n\r\nhi".to_vec(),
        "/redirect-controls" => {
            let mut out = b"HTTP/1.1 302 Found \xc2\x9b2J\r\nLocation: /ok?\xc2\x9b2J\xe2\x80\xae\x9b".to_vec();
            out.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
            out
        }
        "/redirect-controls-bad" => b"HTTP/1.1 302 Found\r\nLocation: http://exa\xc2\x9bmple\xe2\x80\xae.test:99999/\r\nContent-Length: 0\r\n\r\n".to_vec(),
        // --- WebSockets ---
        "/ws-stall" => return hold(&mut stream),
        "/ws-huge" | "/ws-controls" => {
            let mut out = switching_protocols(&head);
            if path == "/ws-huge" {
                // A text frame announcing 1 TiB.
                out.extend_from_slice(&[0x81, 0x7f]);
                out.extend_from_slice(&(1u64 << 40).to_be_bytes());
                out.extend(std::iter::repeat_n(b'a', 1000));
            } else {
                let text = format!("x{NASTY}y");
                out.extend_from_slice(&[0x81, text.len() as u8]);
                out.extend_from_slice(text.as_bytes());
            }
            let _ = stream.write_all(&out);
            return hold(&mut stream);
        }
        // The chat's WebSocket (`chat --via ws` asks the page's server for /chat/ws).
        "/ws-endless-fragments" | "/chat/ws" => {
            // A text frame without FIN, then empty continuation frames, as fast as it can.
            let _ = stream.write_all(&switching_protocols(&head));
            let _ = stream.write_all(&[0x01, 0x05, b'h', b'e', b'l', b'l', b'o']);
            return trickle(&mut stream, &[0x00, 0x00].repeat(32 * 1024), Duration::ZERO);
        }
        "/ws-slow-fragments" => {
            // The same, one empty continuation frame every 5 ms: the fragment limit is
            // far away, the message's time is not.
            let _ = stream.write_all(&switching_protocols(&head));
            let _ = stream.write_all(&[0x01, 0x05, b'h', b'e', b'l', b'l', b'o']);
            return trickle(&mut stream, &[0x00, 0x00], Duration::from_millis(5));
        }
        "/ws-big-fragments" => {
            // Continuation frames of 4000 bytes without FIN: the message outgrows its limit.
            let _ = stream.write_all(&switching_protocols(&head));
            let mut first = vec![0x01, 0x7e, 0x0f, 0xa0];
            first.extend(std::iter::repeat_n(b'a', 4000));
            let _ = stream.write_all(&first);
            let mut more = vec![0x00, 0x7e, 0x0f, 0xa0];
            more.extend(std::iter::repeat_n(b'a', 4000));
            return trickle(&mut stream, &more, Duration::ZERO);
        }
        "/ws-slow-payload" => {
            // One text frame of 60 KiB (under the limit) whose payload comes a byte per 10 ms.
            let mut out = switching_protocols(&head);
            out.extend_from_slice(&[0x81, 0x7e, 0xf0, 0x00]);
            let _ = stream.write_all(&out);
            return trickle(&mut stream, b"a", Duration::from_millis(10));
        }
        "/ws-ping-flood" => {
            // Pings as fast as it can, and it never reads: the pongs have nowhere to go.
            let _ = stream.write_all(&switching_protocols(&head));
            return trickle(&mut stream, &[0x89, 0x04, b'p', b'i', b'n', b'g'].repeat(8 * 1024), Duration::ZERO);
        }
        // --- local safety ---
        "/redirect/file" => redirect(&file_url),
        "/redirect/data" => redirect("data:text/html,<h1>data</h1>"),
        "/redirect/javascript" => redirect("javascript:alert(1)"),
        "/redirect/ftp" => redirect("ftp://127.0.0.1/x"),
        "/redirect/loop" => redirect("/redirect/loop"),
        "/file-assets" => html_response(&format!(
            "<title>file assets</title><p>page<img src=\"{file_url}\"><link rel=stylesheet href=\"{file_url}\">\
             <script src=\"{file_url}\"></script><iframe src=\"{file_url}\"></iframe><object data=\"{file_url}\"></object>\
             <img src=\"file:///etc/passwd\"><img srcset=\"{file_url} 2x\">"
        )),
        "/base-file" => {
            let dir = ctx.secret.parent().map(|p| p.display().to_string()).unwrap_or_default();
            let name = ctx.secret.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            html_response(&format!(
                "<base href=\"file://{dir}/\"><title>base</title><p>page<img src=\"{name}\"><link rel=stylesheet href=\"{name}\"><a href=\"{name}\">link</a>"
            ))
        }
        "/refresh/file" => html_response(&format!(
            "<meta http-equiv=\"refresh\" content=\"0; url={file_url}\"><title>refresh</title><p>refresh to a file"
        )),
        "/refresh/data" => html_response(
            "<meta http-equiv=\"refresh\" content=\"0;url=data:text/html,<h1>data</h1>\"><title>refresh</title><p>refresh to data",
        ),
        "/refresh/loop" => html_response(
            "<meta http-equiv=\"refresh\" content=\"0; URL='/refresh/loop'\"><title>loop</title><p>refresh loop",
        ),
        "/refresh/ok" => html_response(
            "<meta http-equiv=\"refresh\" content=\"0; url=/ok\"><title>moving</title><p>moved",
        ),
        "/refresh/later" => html_response(
            "<meta http-equiv=\"refresh\" content=\"30; url=/ok\"><title>later</title><p>stays",
        ),
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found".to_vec(),
    };
    let _ = stream.write_all(&reply);
    let _ = stream.flush();
    // Let the client read everything before the socket closes.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    hold(&mut stream);
}
