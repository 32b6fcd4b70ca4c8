//! WebSockets: one HTTP request upgraded into a connection where both sides send frames.
//!
//! tungstenite speaks the protocol; the connection under it is ours (traced DNS, TCP, TLS),
//! and a tap records the bytes both ways: the Upgrade request and the 101 answer exactly as
//! they travelled, then every frame's header (opcode, length, mask) and the start of its
//! payload. The tap keeps at most one frame header and a short preview: a huge frame is
//! counted, not buffered; and between two messages it keeps a few frames one by one and
//! counts the rest, so endless fragments or pings cost a few lines of trace.
//!
//! The tap is also where every wait becomes a deadline: tungstenite's `read()` can be kept
//! busy forever by frames that make no message, so each read and write under it checks the
//! deadline of the operation, and the limits of the message coming in (its fragments, its
//! time).

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

mod tap;
use tap::*;

/// Largest message (and frame) accepted from a server.
pub const MAX_MESSAGE: usize = 1024 * 1024;
/// Most frames one message from a server may be split into.
pub const MAX_FRAGMENTS: u64 = 1024;
/// Payload bytes kept per frame for the trace.
const PREVIEW: usize = 80;
/// Frames shown one by one between two messages; the rest are counted.
const FRAMES_SHOWN: usize = 16;
/// How long counted frames wait at most before their count is shown.
const COUNT_EVERY: Duration = Duration::from_secs(1);
/// How long a pong (or a Close answered) may wait for room in the socket during a read.
const REPLY_PATIENCE: Duration = Duration::from_millis(20);
/// Most bytes of frames waiting to be written: room for one message of the largest size
/// (and its header); past that, a pong the server does not read replaces the one before
/// instead of piling up behind it.
const MAX_UNWRITTEN: usize = MAX_MESSAGE + 14;
/// Longest the close handshake may take.
const CLOSE_TIME: Duration = Duration::from_secs(2);

/// What a read brought.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Text(String),
    Binary(usize),
    /// The server closed the connection (with its close code, if it sent one).
    Closed(Option<u16>),
}

/// An open WebSocket whose every frame is traced.
pub struct WsClient {
    socket: WebSocket<Tap>,
    trace: Trace,
    request: RequestId,
    /// Longest a send, or one message from the server, may take.
    timeout: Duration,
    /// The time of the last frame reported.
    reported_to: Instant,
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
        offer_h2: false,
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
        // The Upgrade is one more phase, with the same budget as the others: a deadline for
        // the request and its answer together.
        let mut tap = Tap {
            inner: connection.stream,
            socket: connection.socket,
            sent: Recorder::default(),
            received: Recorder::default(),
            order: WireOrder::default(),
            first_byte: None,
            until: None,
            write_patience: self.timeout,
            message_time: self.timeout,
            refused: None,
        };
        tap.hold_to(Instant::now() + self.timeout, self.timeout);
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE))
            // Each frame written at once; what cannot be written waits in a bounded buffer.
            .write_buffer_size(0)
            .max_write_buffer_size(MAX_UNWRITTEN);
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
            timeout: self.timeout,
            reported_to: Instant::now(),
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
                        url: None,
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
            body: None,
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
            url: None,
        },
    );
}

impl WsClient {
    /// Sends one text message, within the timeout.
    pub fn send_text(&mut self, text: &str) -> Result<(), String> {
        let timeout = self.timeout;
        self.socket
            .get_mut()
            .hold_to(Instant::now() + timeout, timeout);
        let result = self.socket.send(Message::text(text));
        self.report_frames();
        result.map_err(|e| match e {
            tungstenite::Error::Io(e) if is_timeout(&e) => format!(
                "sending timed out after {:.1} s: the server is not reading what it is sent",
                timeout.as_secs_f64()
            ),
            e => format!("sending failed: {e}"),
        })
    }

    /// Waits up to `timeout` for the next message; None when none came in time.
    pub fn read(&mut self, timeout: Duration) -> Result<Option<Incoming>, String> {
        self.read_until(Instant::now() + timeout)
    }

    /// Waits until `until` at most for the next message; None when none came in time.
    ///
    /// A deadline, not a socket timeout: a server whose frames never make a message
    /// (endless empty fragments, endless pings) cannot keep the read going past it.
    pub fn read_until(&mut self, until: Instant) -> Result<Option<Incoming>, String> {
        self.socket.get_mut().hold_to(until, REPLY_PATIENCE);
        let result = self.socket.read();
        // A ping is answered with a pong at the next write; send it now (if there is room).
        let _ = self.socket.flush();
        let answer = match self.socket.get_mut().refused.take() {
            Some(why) if result.is_err() => Err(why),
            _ => incoming(result),
        };
        if answer.is_err() {
            let tap = self.socket.get_mut();
            tap.order.show_counts();
            if let Some(frame) = tap.received.frames.partial() {
                tap.order.frames.push((Direction::Received, frame, false));
            }
        }
        self.report_frames();
        answer
    }

    /// The close handshake: our Close frame, the server's answer, then the end (2 s at most).
    pub fn close(mut self) {
        let deadline = Instant::now() + CLOSE_TIME.min(self.timeout);
        self.socket.get_mut().hold_to(deadline, REPLY_PATIENCE);
        let goodbye = tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "bye".into(),
        };
        let _ = self.socket.close(Some(goodbye));
        self.report_frames();
        while Instant::now() < deadline {
            match self.read_until(deadline) {
                Ok(Some(Incoming::Closed(_))) | Err(_) => break,
                _ => {}
            }
        }
    }

    /// Reports the frames the tap saw since the last call, in the order they crossed the
    /// wire (a ping received before the pong sent in answer).
    fn report_frames(&mut self) {
        let order = &mut self.socket.get_mut().order;
        order.show_counts_if_due();
        let frames = std::mem::take(&mut order.frames);
        for (direction, frame, reply) in frames {
            self.overhead_bytes += frame.header_bytes;
            // In the order they crossed the wire, at the time each came (never before what
            // the trace showed already).
            self.reported_to = self.reported_to.max(frame.at);
            self.trace.emit_started(
                Some(self.request),
                self.reported_to,
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

/// What a read brought, or why it failed, in words.
fn incoming(result: tungstenite::Result<Message>) -> Result<Option<Incoming>, String> {
    match result {
        Ok(Message::Text(text)) => Ok(Some(Incoming::Text(text.to_string()))),
        Ok(Message::Binary(bytes)) => Ok(Some(Incoming::Binary(bytes.len()))),
        Ok(Message::Close(frame)) => Ok(Some(Incoming::Closed(frame.map(|f| u16::from(f.code))))),
        Ok(_) => Ok(None),
        Err(tungstenite::Error::Io(e)) if is_timeout(&e) => Ok(None),
        Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
            Ok(Some(Incoming::Closed(None)))
        }
        Err(tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        )) => {
            Err("the server vanished: the connection was reset without a closing handshake".into())
        }
        Err(tungstenite::Error::Capacity(e)) => {
            Err(format!("the server sent a message over the limit: {e}"))
        }
        Err(e) => Err(format!("reading failed: {e}")),
    }
}

/// The frames counted and not yet shown go into the trace when the connection ends, however
/// it ends.
impl Drop for WsClient {
    fn drop(&mut self) {
        self.socket.get_mut().order.show_counts();
        self.report_frames();
    }
}
