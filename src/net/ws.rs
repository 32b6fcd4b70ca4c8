//! WebSockets: one HTTP request upgraded into a connection where both sides send frames.
//!
//! tungstenite speaks the protocol; the connection under it is ours (traced DNS, TCP, TLS),
//! and a tap records the bytes both ways: the Upgrade request and the 101 answer exactly as
//! they travelled, then every frame's header (opcode, length, mask) and the start of its
//! payload. The tap keeps at most one frame header and a short preview: a huge frame is
//! counted, not buffered.

use std::io::{self, Cursor, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};
use url::Url;

use super::dial::{self, Connection, Dialer, Stream, Target};
use super::phase::{is_timeout, Budget, DialError};
use super::wire::MAX_HEAD_BYTES;
use super::{Client, FetchError};
use crate::trace::{ms, EventKind, RequestId, Step, Trace};

/// Largest message (and frame) accepted from a server.
pub const MAX_MESSAGE: usize = 1024 * 1024;
/// Payload bytes kept per frame for the trace.
const PREVIEW: usize = 80;

/// What a read brought.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Text(String),
    Binary(usize),
    /// The server closed the connection (with its close code, if it sent one).
    Closed(Option<u16>),
}

/// A frame as the trace shows it.
#[derive(Debug, Clone)]
struct FrameSummary {
    opcode: &'static str,
    fin: bool,
    length: u64,
    masked: bool,
    header_bytes: u64,
    preview: String,
}

/// Which way a frame went: an index into [`WireOrder`]'s per-side counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Sent = 0,
    Received = 1,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }

    fn other(self) -> Direction {
        match self {
            Direction::Sent => Direction::Received,
            Direction::Received => Direction::Sent,
        }
    }
}

/// The frames of both directions in the order they crossed the wire: a ping received comes
/// before the pong that answers it, a Close before the Close that answers it. Each is marked
/// when it answers the other side's ping or Close.
#[derive(Default)]
struct WireOrder {
    frames: Vec<(Direction, FrameSummary, bool)>,
    /// Pings of each side not answered yet, and whether each side has sent its Close.
    pings: [u32; 2],
    closed: [bool; 2],
}

impl WireOrder {
    /// Takes the frames `recorder` completed just now, in the bytes' own order.
    fn take(&mut self, direction: Direction, recorder: &mut Recorder) {
        let (mine, theirs) = (direction as usize, direction.other() as usize);
        for frame in recorder.frames.done.drain(..) {
            let reply = match frame.opcode {
                "ping" => {
                    self.pings[mine] += 1;
                    false
                }
                "pong" if self.pings[theirs] > 0 => {
                    self.pings[theirs] -= 1;
                    true
                }
                "close" => {
                    self.closed[mine] = true;
                    self.closed[theirs]
                }
                _ => false,
            };
            self.frames.push((direction, frame, reply));
        }
    }
}

/// Finds frame boundaries in a byte stream without keeping the payloads.
#[derive(Default)]
struct FrameScanner {
    header: Vec<u8>,
    current: Option<(FrameHeader, u64, u64, Vec<u8>, u64)>,
    done: Vec<FrameSummary>,
    broken: bool,
}

impl FrameScanner {
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && !self.broken {
            match &mut self.current {
                None => {
                    self.header.push(bytes[0]);
                    bytes = &bytes[1..];
                    let mut cursor = Cursor::new(&self.header);
                    match FrameHeader::parse(&mut cursor) {
                        Ok(Some((header, length))) => {
                            let header_len = cursor.position();
                            self.header.clear();
                            self.current = Some((header, length, length, Vec::new(), header_len));
                            self.finish_if_complete();
                        }
                        Ok(None) if self.header.len() < 14 => {}
                        _ => self.broken = true,
                    }
                }
                Some((_, _, remaining, preview, _)) => {
                    let take = (*remaining).min(bytes.len() as u64) as usize;
                    let room = PREVIEW.saturating_sub(preview.len()).min(take);
                    preview.extend_from_slice(&bytes[..room]);
                    *remaining -= take as u64;
                    bytes = &bytes[take..];
                    self.finish_if_complete();
                }
            }
        }
    }

    fn finish_if_complete(&mut self) {
        if !matches!(self.current, Some((_, _, 0, _, _))) {
            return;
        }
        let Some((header, length, _, mut preview, header_len)) = self.current.take() else {
            return;
        };
        if let Some(mask) = header.mask {
            for (i, byte) in preview.iter_mut().enumerate() {
                *byte ^= mask[i % 4];
            }
        }
        let opcode = match header.opcode {
            OpCode::Data(Data::Text) => "text",
            OpCode::Data(Data::Binary) => "binary",
            OpCode::Data(Data::Continue) => "continuation",
            OpCode::Control(Control::Close) => "close",
            OpCode::Control(Control::Ping) => "ping",
            OpCode::Control(Control::Pong) => "pong",
            _ => "reserved",
        };
        let shown = match opcode {
            "close" if preview.len() >= 2 => format!(
                "code {} {}",
                u16::from_be_bytes([preview[0], preview[1]]),
                String::from_utf8_lossy(&preview[2..])
            ),
            "close" => "no code".to_string(),
            "binary" => preview
                .iter()
                .take(16)
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::from_utf8_lossy(&preview).into_owned(),
        };
        let cut = if length > preview.len() as u64 && opcode != "binary" {
            "…"
        } else {
            ""
        };
        self.done.push(FrameSummary {
            opcode,
            fin: header.is_final,
            length,
            masked: header.mask.is_some(),
            header_bytes: header_len,
            preview: format!("{shown}{cut}"),
        });
    }
}

/// One direction of the tap: the HTTP head first, then frames.
#[derive(Default)]
struct Recorder {
    head: Vec<u8>,
    head_done: bool,
    frames: FrameScanner,
}

impl Recorder {
    fn feed(&mut self, mut bytes: &[u8]) {
        if !self.head_done {
            while let Some((&b, rest)) = bytes.split_first() {
                bytes = rest;
                if self.head.len() < MAX_HEAD_BYTES {
                    self.head.push(b);
                }
                if self.head.ends_with(b"\r\n\r\n") {
                    self.head_done = true;
                    break;
                }
            }
        }
        if self.head_done {
            self.frames.feed(bytes);
        }
    }
}

/// The connection with a recording tap on both directions.
struct Tap {
    inner: Stream,
    /// The same socket, for read timeouts.
    socket: Arc<TcpStream>,
    sent: Recorder,
    received: Recorder,
    /// The frames of both recorders, in the order they crossed the wire.
    order: WireOrder,
    first_byte: Option<Instant>,
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 && self.first_byte.is_none() {
            self.first_byte = Some(Instant::now());
        }
        self.received.feed(&buf[..n]);
        self.order.take(Direction::Received, &mut self.received);
        Ok(n)
    }
}

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sent.feed(&buf[..n]);
        self.order.take(Direction::Sent, &mut self.sent);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// An open WebSocket whose every frame is traced.
pub struct WsClient {
    socket: WebSocket<Tap>,
    trace: Trace,
    request: RequestId,
    /// Bytes of HTTP heads and frame headers spent so far (the cost of the protocol itself).
    pub overhead_bytes: u64,
}

/// Opens a WebSocket to `url` (`ws:`, `wss:`, or `http:`/`https:` taken as such).
pub fn connect(
    client: &Client,
    url: &Url,
    timeout: Duration,
    trace: &Trace,
) -> Result<WsClient, FetchError> {
    let request = trace.new_request_id();
    // On the load's clock, read now: checkpoints follow.
    let begun_ms = trace.elapsed_ms();
    let fail = |step: Step, message: String| FetchError::reported(trace, request, step, message);
    let secure = match url.scheme() {
        "ws" | "http" => false,
        "wss" | "https" => true,
        other => {
            return Err(fail(
                Step::Url,
                format!("the {other}: scheme is not a WebSocket scheme (ws: or wss:)"),
            ));
        }
    };
    let mut ws_url = url.clone();
    let _ = ws_url.set_scheme(if secure { "wss" } else { "ws" });
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let target = Target {
        host,
        port: url
            .port_or_known_default()
            .unwrap_or(if secure { 443 } else { 80 }),
        tls: secure,
        // Through an HTTP proxy, a WebSocket always goes through a CONNECT tunnel (as
        // browsers do for `ws:` too): an Upgrade in absolute form is not for proxies.
        tunnel: true,
    };
    let connection = dial(client, target, timeout, trace, request)
        .map_err(|(step, message)| fail(step, message))?;
    let handshake = ws_url
        .as_str()
        .into_client_request()
        .map_err(|e| fail(Step::Url, format!("{ws_url} cannot be asked for: {e}")))?;
    let key = handshake
        .headers()
        .get("sec-websocket-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let upgrade = Upgrade {
        url: &ws_url,
        expected: derive_accept_key(key.as_bytes()),
        key,
        begun_ms,
        timeout,
        trace,
        request,
    };
    upgrade.run(handshake, connection)
}

/// DNS, the proxy, TCP and TLS, through the dial path HTTP uses too; a failure comes back
/// as the step it hit and its words.
fn dial(
    client: &Client,
    target: Target<'_>,
    timeout: Duration,
    trace: &Trace,
    request: RequestId,
) -> Result<Connection, (Step, String)> {
    let resolved = dial::resolve(client.dns(), &client.options().proxies, target, trace).map_err(
        |failure| {
            dial::emit_dns(trace, request, &failure.asked);
            (Step::Dns, failure.message)
        },
    )?;
    let dialer = Dialer {
        trust: client.tls_config(),
        ids: client.connection_ids(),
        trace,
        request,
    };
    dialer
        .open(&resolved, target, Budget::new(Some(timeout)))
        .map_err(|e| (e.step(), describe_dial(e, target.host, timeout)))
}

/// A dial's failure in words (a timeout, here, counts against each phase alike).
fn describe_dial(error: DialError, host: &str, timeout: Duration) -> String {
    match error {
        DialError::TimedOut(_) => format!(
            "timed out after {:.1} s connecting to {host}",
            timeout.as_secs_f64()
        ),
        DialError::Failed(_, message) => message,
        DialError::Io(_, e) => e.to_string(),
    }
}

/// The Upgrade request on a new connection, and what its answer means.
struct Upgrade<'a> {
    url: &'a Url,
    /// Our Sec-WebSocket-Key, and the Accept a server that understood it sends back.
    key: String,
    expected: String,
    begun_ms: f64,
    timeout: Duration,
    trace: &'a Trace,
    request: RequestId,
}

impl Upgrade<'_> {
    /// Sends the Upgrade on `connection` and reads the answer: an open WebSocket, or why not.
    fn run(
        self,
        handshake: tungstenite::handshake::client::Request,
        connection: Connection,
    ) -> Result<WsClient, FetchError> {
        // The Upgrade is one more phase, with the same budget as the others.
        let budget = Budget::new(Some(self.timeout));
        let _ = connection.socket.set_read_timeout(budget.per_io());
        let _ = connection.socket.set_write_timeout(budget.per_io());
        let tap = Tap {
            inner: connection.stream,
            socket: connection.socket,
            sent: Recorder::default(),
            received: Recorder::default(),
            order: WireOrder::default(),
            first_byte: None,
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        self.trace
            .checkpoint(&format!("send the Upgrade request for {}", self.url));
        let started = Instant::now();
        match tungstenite::client::client_with_config(handshake, tap, Some(config)) {
            Ok((socket, response)) => Ok(self.accepted(socket, &response, started)),
            Err(tungstenite::HandshakeError::Failure(error)) => {
                let message = self.refused(&error, started);
                Err(self.fail(message))
            }
            Err(tungstenite::HandshakeError::Interrupted(_)) => Err(self.fail(self.no_answer())),
        }
    }

    /// A 101 answer: reports both heads and the key check, and hands over the WebSocket.
    fn accepted(
        &self,
        socket: WebSocket<Tap>,
        response: &tungstenite::handshake::client::Response,
        started: Instant,
    ) -> WsClient {
        let tap = socket.get_ref();
        let overhead = (tap.sent.head.len() + tap.received.head.len()) as u64;
        report_heads(
            self.trace,
            self.request,
            self.url,
            (self.begun_ms, started),
            tap,
        );
        let accept = response
            .headers()
            .get("sec-websocket-accept")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        self.trace.emit(
            Some(self.request),
            EventKind::WsHandshake {
                ok: accept.as_deref() == Some(self.expected.as_str()),
                key: self.key.clone(),
                accept,
                expected: self.expected.clone(),
            },
        );
        let mut client = WsClient {
            socket,
            trace: self.trace.clone(),
            request: self.request,
            overhead_bytes: overhead,
        };
        client.report_frames();
        client
    }

    /// Why the server did not open a WebSocket, in words. The tap went with the failed
    /// handshake, so what the answer was comes from the error.
    fn refused(&self, error: &tungstenite::Error, started: Instant) -> String {
        match error {
            tungstenite::Error::Http(response) => {
                let status = response.status();
                self.trace.emit(
                    Some(self.request),
                    EventKind::Response {
                        status: status.as_u16(),
                        reason: status.canonical_reason().unwrap_or("").to_string(),
                        version: "HTTP/1.1".into(),
                        head: format!("HTTP/1.1 {status}\r\n\r\n"),
                        ttfb_ms: ms(started.elapsed()),
                    },
                );
                format!(
                    "the server answered {status} instead of 101 Switching Protocols: there is no WebSocket at {}",
                    self.url
                )
            }
            tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::SecWebSocketAcceptKeyMismatch,
            ) => {
                self.trace.emit(
                    Some(self.request),
                    EventKind::WsHandshake {
                        key: self.key.clone(),
                        accept: None,
                        expected: self.expected.clone(),
                        ok: false,
                    },
                );
                format!(
                    "the server's Sec-WebSocket-Accept does not match the key (expected {}): it did not really accept the upgrade",
                    self.expected
                )
            }
            tungstenite::Error::Io(e) if is_timeout(e) => self.no_answer(),
            other => format!("the WebSocket handshake failed: {other}"),
        }
    }

    fn no_answer(&self) -> String {
        format!(
            "no answer to the Upgrade request within {:.1} s",
            self.timeout.as_secs_f64()
        )
    }

    fn fail(&self, message: String) -> FetchError {
        FetchError::reported(self.trace, self.request, Step::WebSocket, message)
    }
}

/// Reports the Upgrade request and the 101 answer exactly as they travelled.
fn report_heads(
    trace: &Trace,
    request: RequestId,
    url: &Url,
    (begun_ms, started): (f64, Instant),
    tap: &Tap,
) {
    let head = String::from_utf8_lossy(&tap.sent.head).into_owned();
    trace.emit_started(
        Some(request),
        started,
        EventKind::Request {
            method: "GET".into(),
            url: url.to_string(),
            purpose: "websocket".into(),
            head,
            begun_ms,
            // The Upgrade head goes out in one write; its time is not measured apart.
            send_ms: 0.0,
        },
    );
    let head = String::from_utf8_lossy(&tap.received.head).into_owned();
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default().to_string();
    let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let reason = parts.next().unwrap_or_default().to_string();
    let first = tap.first_byte.unwrap_or_else(Instant::now);
    trace.emit_started(
        Some(request),
        first,
        EventKind::Response {
            status,
            reason,
            version,
            head,
            ttfb_ms: ms(first.saturating_duration_since(started)),
        },
    );
}

impl WsClient {
    /// Sends one text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), String> {
        let result = self.socket.send(Message::text(text));
        self.report_frames();
        result.map_err(|e| format!("sending failed: {e}"))
    }

    /// Waits up to `timeout` for the next message; None when none came in time.
    pub fn read(&mut self, timeout: Duration) -> Result<Option<Incoming>, String> {
        let _ = self
            .socket
            .get_ref()
            .socket
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))));
        let result = self.socket.read();
        // A ping is answered with a pong at the next write; send it now.
        let _ = self.socket.flush();
        self.report_frames();
        match result {
            Ok(Message::Text(text)) => Ok(Some(Incoming::Text(text.to_string()))),
            Ok(Message::Binary(bytes)) => Ok(Some(Incoming::Binary(bytes.len()))),
            Ok(Message::Close(frame)) => {
                Ok(Some(Incoming::Closed(frame.map(|f| u16::from(f.code)))))
            }
            Ok(_) => Ok(None),
            Err(tungstenite::Error::Io(e)) if is_timeout(&e) => Ok(None),
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                Ok(Some(Incoming::Closed(None)))
            }
            Err(tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            )) => Err(
                "the server vanished: the connection was reset without a closing handshake".into(),
            ),
            Err(tungstenite::Error::Capacity(e)) => {
                Err(format!("the server sent a message over the limit: {e}"))
            }
            Err(e) => Err(format!("reading failed: {e}")),
        }
    }

    /// The close handshake: our Close frame, the server's answer, then the end.
    pub fn close(mut self) {
        let goodbye = tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "bye".into(),
        };
        let _ = self.socket.close(Some(goodbye));
        self.report_frames();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            match self.read(Duration::from_millis(200)) {
                Ok(Some(Incoming::Closed(_))) | Err(_) => break,
                _ => {}
            }
        }
        self.report_frames();
    }

    /// Reports the frames the tap saw since the last call, in the order they crossed the
    /// wire (a ping received before the pong sent in answer).
    fn report_frames(&mut self) {
        let frames = std::mem::take(&mut self.socket.get_mut().order.frames);
        for (direction, frame, reply) in frames {
            self.overhead_bytes += frame.header_bytes;
            self.trace.emit(
                Some(self.request),
                EventKind::WsFrame {
                    direction: direction.name().into(),
                    opcode: frame.opcode.into(),
                    fin: frame.fin,
                    length: frame.length,
                    masked: frame.masked,
                    preview: frame.preview,
                    reply,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_finds_frames_and_unmasks_previews() {
        let mut scanner = FrameScanner::default();
        // Server text frame "hi", then a masked client frame "ok" split across feeds.
        scanner.feed(&[0x81, 0x02, b'h', b'i']);
        let mask = [1u8, 2, 3, 4];
        let masked = [0x81, 0x82, 1, 2, 3, 4, b'o' ^ 1, b'k' ^ 2];
        scanner.feed(&masked[..3]);
        scanner.feed(&masked[3..]);
        // A close frame with code 1000.
        scanner.feed(&[0x88, 0x02, 0x03, 0xe8]);
        let frames: Vec<(&str, u64, bool, String)> = scanner
            .done
            .iter()
            .map(|f| (f.opcode, f.length, f.masked, f.preview.clone()))
            .collect();
        assert_eq!(
            frames,
            vec![
                ("text", 2, false, "hi".to_string()),
                ("text", 2, true, "ok".to_string()),
                ("close", 2, false, "code 1000 ".to_string())
            ]
        );
        let _ = mask;
    }

    #[test]
    fn frames_keep_their_wire_order_and_answers_are_marked() {
        let mut order = WireOrder::default();
        let (mut sent, mut received) = (Recorder::default(), Recorder::default());
        sent.head_done = true;
        received.head_done = true;
        // The server's ping, our pong; then our close, the server's close.
        received.feed(&[0x89, 0]);
        order.take(Direction::Received, &mut received);
        sent.feed(&[0x8a, 0x80, 1, 2, 3, 4]);
        order.take(Direction::Sent, &mut sent);
        sent.feed(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
        order.take(Direction::Sent, &mut sent);
        received.feed(&[0x88, 2, 0x03, 0xe8]);
        order.take(Direction::Received, &mut received);
        let seen: Vec<(&str, &str, bool)> = order
            .frames
            .iter()
            .map(|(d, f, reply)| (d.name(), f.opcode, *reply))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("received", "ping", false),
                ("sent", "pong", true),
                ("sent", "close", false),
                ("received", "close", true),
            ]
        );
    }

    #[test]
    fn scanner_counts_a_huge_frame_without_keeping_it() {
        let mut scanner = FrameScanner::default();
        let mut frame = vec![0x82, 127];
        frame.extend_from_slice(&(1_000_000u64).to_be_bytes());
        scanner.feed(&frame);
        for _ in 0..1000 {
            scanner.feed(&[0u8; 1000]);
        }
        assert_eq!(scanner.done.len(), 1);
        assert_eq!(scanner.done[0].length, 1_000_000);
        assert!(scanner.current.is_none());
    }
}
