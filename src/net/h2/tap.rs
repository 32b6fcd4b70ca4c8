//! The tap: sits between the TLS connection and the `h2` crate, reads the frames that pass
//! each way ([`FrameReader`]) and reports them into the trace of the request whose stream
//! they belong to (connection-wide frames go to the request that used the connection last).
//!
//! The request side registers a stream once `h2` has numbered it; a frame that passes before
//! that (h2's task can write a HEADERS frame the instant it is queued) waits in a short list.
//! The tap never holds its lock while it calls into `h2`, and `h2` never calls the tap while
//! it holds ours, so the two locks cannot deadlock.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::frames::{FrameInfo, FrameReader};
use crate::trace::{ms, EventKind, RequestId, SentBody, Trace};

/// Frames kept while their stream is not registered yet, at most.
const MAX_UNCLAIMED: usize = 64;
/// Frames of one kind reported one by one per stream and direction; the rest are summed.
const SAID_ONE_BY_ONE: u32 = 2;
/// First bytes from the server kept, to say what came when it was not HTTP/2.
const FIRST_BYTES: usize = 32;

/// Which way a frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Direction {
    Sent,
    Received,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }
}

/// What the request side tells the tap about a stream, so the `request` event can be
/// reported the moment its HEADERS frame is written (as HTTP/1.1's is when its head is).
pub(crate) struct StreamOwner {
    pub trace: Trace,
    pub request: RequestId,
    pub method: String,
    pub url: String,
    pub purpose: &'static str,
    /// The header list as text, pseudo-headers first (what the HEADERS frame carries).
    pub head: String,
    /// Bytes the same header fields take as HTTP/1.1 text (`name: value` lines).
    pub plain_bytes: u64,
    pub begun_ms: f64,
    pub body: Option<SentBody>,
    /// When `h2` was handed the request.
    pub queued: Instant,
    /// Frames of the answer that came before its head was reported, reported after it (so
    /// the trace reads HEADERS, then DATA).
    pub held: Option<Vec<(Instant, FrameInfo)>>,
}

/// What the tap saw of one stream, for the request side to read.
#[derive(Clone, Debug, Default)]
pub(crate) struct StreamSeen {
    /// When the request's HEADERS frame went out.
    pub headers_sent: Option<Instant>,
    /// When the response's first HEADERS frame arrived, and its header block's bytes.
    pub headers_received: Option<Instant>,
    pub block_received: u64,
    pub block_sent: u64,
    /// DATA payload bytes received (the body as it crossed, padding included).
    pub data_received: u64,
    pub data_frames: u32,
}

/// Per stream, per direction and kind: frames said so far, and those summed, unsaid.
#[derive(Default)]
struct Quiet {
    said: u32,
    unsaid: u32,
    unsaid_bytes: u64,
}

#[derive(Default)]
struct TapState {
    owners: HashMap<u32, StreamOwner>,
    seen: HashMap<u32, StreamSeen>,
    quiet: HashMap<(u32, Direction, u8), Quiet>,
    /// Where frames of the whole connection (stream 0) are reported.
    connection_owner: Option<(Trace, RequestId)>,
    unclaimed: Vec<(Instant, Direction, FrameInfo)>,
    first_received: Vec<u8>,
    /// The highest stream a GOAWAY from the server lets finish, when one came.
    goaway: Option<(u32, String)>,
}

/// The record of one HTTP/2 connection's frames, shared by its tap and its requests.
pub(crate) struct Wiretap {
    pub conn: u32,
    state: Mutex<TapState>,
}

/// An event for a trace, reported after the lock is let go.
type Report = (Trace, RequestId, Instant, EventKind);

impl std::fmt::Debug for Wiretap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wiretap").field("conn", &self.conn).finish()
    }
}

impl Wiretap {
    pub fn new(conn: u32, trace: &Trace, request: RequestId) -> Arc<Wiretap> {
        let state = TapState {
            connection_owner: Some((trace.clone(), request)),
            ..TapState::default()
        };
        Arc::new(Wiretap {
            conn,
            state: Mutex::new(state),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, TapState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A stream `h2` just opened for `owner`: frames that passed already are reported now.
    pub fn register(&self, stream: u32, owner: StreamOwner) {
        let reports = {
            let mut state = self.state();
            state.connection_owner = Some((owner.trace.clone(), owner.request));
            state.owners.insert(stream, owner);
            let (claimed, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut state.unclaimed)
                .into_iter()
                .partition(|(_, _, f)| f.stream == stream);
            state.unclaimed = rest;
            let mut reports = Vec::new();
            for (at, direction, frame) in claimed {
                self.take_frame(&mut state, at, direction, frame, &mut reports);
            }
            reports
        };
        emit(reports);
    }

    /// The response head of `stream` is reported: the frames held back follow it.
    pub fn head_reported(&self, stream: u32) {
        let reports = {
            let mut state = self.state();
            let held = state
                .owners
                .get_mut(&stream)
                .and_then(|o| o.held.take())
                .unwrap_or_default();
            let mut reports = Vec::new();
            for (at, frame) in held {
                self.take_frame(&mut state, at, Direction::Received, frame, &mut reports);
            }
            reports
        };
        emit(reports);
    }

    /// The stream is over: what the tap saw of it, with any frames it summed reported.
    pub fn release(&self, stream: u32) -> StreamSeen {
        let (seen, reports) = {
            let mut state = self.state();
            let mut reports = Vec::new();
            if let Some(owner) = state.owners.remove(&stream) {
                let keys: Vec<_> = state
                    .quiet
                    .keys()
                    .filter(|k| k.0 == stream)
                    .copied()
                    .collect();
                for key in keys {
                    if let Some(q) = state.quiet.remove(&key) {
                        if q.unsaid > 0 {
                            reports.push(self.summed(&owner, key, &q));
                        }
                    }
                }
            }
            (state.seen.remove(&stream).unwrap_or_default(), reports)
        };
        emit(reports);
        seen
    }

    /// Streams registered and not yet released.
    pub fn open_streams(&self) -> u32 {
        self.state().owners.len() as u32
    }

    /// What the tap has seen of `stream` so far.
    pub fn seen(&self, stream: u32) -> StreamSeen {
        self.state().seen.get(&stream).cloned().unwrap_or_default()
    }

    /// The GOAWAY the server sent, if it did: the last stream it will finish, and why.
    pub fn goaway(&self) -> Option<(u32, String)> {
        self.state().goaway.clone()
    }

    /// The server's first bytes, as text (when they were not HTTP/2).
    pub fn first_received(&self) -> String {
        String::from_utf8_lossy(&self.state().first_received).into_owned()
    }

    /// Reports an event about the whole connection to whoever used it last.
    pub fn report_on_connection(&self, kind: EventKind) {
        let owner = self.state().connection_owner.clone();
        if let Some((trace, request)) = owner {
            trace.emit(Some(request), kind);
        }
    }

    fn passed(&self, direction: Direction, preface: bool, frames: Vec<FrameInfo>) {
        // Most reads and writes end no frame (a DATA frame's middle): nothing to lock for.
        if !preface && frames.is_empty() {
            return;
        }
        let now = Instant::now();
        let reports = {
            let mut state = self.state();
            let mut reports = Vec::new();
            if preface {
                if let Some((trace, request)) = state.connection_owner.clone() {
                    reports.push((trace, request, now, self.preface_event()));
                }
            }
            for frame in frames {
                self.take_frame(&mut state, now, direction, frame, &mut reports);
            }
            reports
        };
        emit(reports);
    }

    fn preface_event(&self) -> EventKind {
        EventKind::H2Frame {
            conn: self.conn,
            direction: "sent".into(),
            frame: "preface".into(),
            stream: 0,
            flags: Vec::new(),
            length: super::frames::PREFACE.len() as u64,
            detail: "PRI * HTTP/2.0, SM".into(),
            frames: 1,
        }
    }

    /// Records one frame and decides what to report of it.
    fn take_frame(
        &self,
        state: &mut TapState,
        at: Instant,
        direction: Direction,
        frame: FrameInfo,
        reports: &mut Vec<Report>,
    ) {
        if let Some(last) = frame.last_stream() {
            state.goaway = Some((last, frame.detail()));
        }
        if frame.stream == 0 {
            if let Some((trace, request)) = state.connection_owner.clone() {
                let key = (0, direction, frame.kind);
                if self.say_or_sum(state, key, &frame) {
                    reports.push((trace, request, at, self.event(direction, &frame)));
                }
            }
            return;
        }
        if !state.owners.contains_key(&frame.stream) {
            if state.unclaimed.len() < MAX_UNCLAIMED {
                state.unclaimed.push((at, direction, frame));
            }
            return;
        }
        // Noted when replayed, not now.
        if direction == Direction::Received && !frame.is_headers() {
            let owner = state.owners.get_mut(&frame.stream);
            if let Some(held) = owner.and_then(|o| o.held.as_mut()) {
                if held.len() < MAX_UNCLAIMED {
                    held.push((at, frame));
                    return;
                }
            }
        }
        self.note_seen(state, at, direction, &frame);
        let sent_headers = direction == Direction::Sent && frame.is_headers();
        if sent_headers {
            if let Some(report) = self.request_event(state, at, &frame) {
                reports.push(report);
            }
        }
        // A received HEADERS frame is reported by the request side with the response head
        // (it knows the header list's size once h2 has decoded it).
        let received_headers = direction == Direction::Received && frame.is_headers();
        let key = (frame.stream, direction, frame.kind);
        let say = !received_headers && (frame.ends_stream() || self.say_or_sum(state, key, &frame));
        if let (true, Some(owner)) = (say, state.owners.get(&frame.stream)) {
            let mut event = self.event(direction, &frame);
            if let (true, EventKind::H2Frame { detail, .. }) = (sent_headers, &mut event) {
                *detail = format!(
                    "{} bytes of headers as HTTP/1.1 text, HPACK-coded in {}",
                    owner.plain_bytes, frame.length
                );
            }
            reports.push((owner.trace.clone(), owner.request, at, event));
        }
    }

    /// Whether to report this frame by itself (the first few of a kind), else sums it.
    fn say_or_sum(
        &self,
        state: &mut TapState,
        key: (u32, Direction, u8),
        frame: &FrameInfo,
    ) -> bool {
        let q = state.quiet.entry(key).or_default();
        if q.said < SAID_ONE_BY_ONE || !frame.is_summable() {
            q.said += 1;
            return true;
        }
        q.unsaid += 1;
        q.unsaid_bytes += frame.length as u64;
        false
    }

    fn note_seen(
        &self,
        state: &mut TapState,
        at: Instant,
        direction: Direction,
        frame: &FrameInfo,
    ) {
        let seen = state.seen.entry(frame.stream).or_default();
        match (direction, frame.is_headers(), frame.is_data()) {
            (Direction::Sent, true, _) => {
                seen.headers_sent.get_or_insert(at);
                seen.block_sent += frame.length as u64;
            }
            (Direction::Received, true, _) => {
                seen.headers_received.get_or_insert(at);
                seen.block_received += frame.length as u64;
            }
            (Direction::Received, _, true) => {
                seen.data_received += frame.length as u64;
                seen.data_frames += 1;
            }
            _ => {}
        }
    }

    /// The `request` event, once: when the request's first HEADERS frame goes out.
    fn request_event(&self, state: &TapState, at: Instant, frame: &FrameInfo) -> Option<Report> {
        let owner = state.owners.get(&frame.stream)?;
        let seen = state.seen.get(&frame.stream)?;
        if seen.headers_sent != Some(at) || !frame.opens_header_block() {
            return None;
        }
        let kind = EventKind::Request {
            method: owner.method.clone(),
            url: owner.url.clone(),
            purpose: owner.purpose.to_string(),
            head: owner.head.clone(),
            begun_ms: owner.begun_ms,
            send_ms: ms(at.saturating_duration_since(owner.queued)),
            body: owner.body.clone(),
        };
        Some((owner.trace.clone(), owner.request, owner.queued, kind))
    }

    fn event(&self, direction: Direction, frame: &FrameInfo) -> EventKind {
        EventKind::H2Frame {
            conn: self.conn,
            direction: direction.name().into(),
            frame: frame.name(),
            stream: frame.stream,
            flags: frame.flag_names(),
            length: frame.length as u64,
            detail: frame.detail(),
            frames: 1,
        }
    }

    /// One event for the frames of a kind that were summed instead of said.
    fn summed(&self, owner: &StreamOwner, key: (u32, Direction, u8), q: &Quiet) -> Report {
        let (stream, direction, kind) = key;
        let name = FrameInfo {
            kind,
            flags: 0,
            stream,
            length: 0,
            payload: Vec::new(),
        }
        .name();
        let event = EventKind::H2Frame {
            conn: self.conn,
            direction: direction.name().into(),
            detail: format!(
                "{} more {name} frames, {} bytes of payload in all",
                q.unsaid, q.unsaid_bytes
            ),
            frame: name,
            stream,
            flags: Vec::new(),
            length: q.unsaid_bytes,
            frames: q.unsaid,
        };
        (owner.trace.clone(), owner.request, Instant::now(), event)
    }

    fn first_bytes(&self, bytes: &[u8]) {
        let mut state = self.state();
        let room = FIRST_BYTES.saturating_sub(state.first_received.len());
        state
            .first_received
            .extend_from_slice(&bytes[..room.min(bytes.len())]);
    }
}

fn emit(reports: Vec<Report>) {
    for (trace, request, at, kind) in reports {
        trace.emit_started(Some(request), at, kind);
    }
}

/// The connection as `h2` sees it, with the tap reading every byte that passes.
pub(crate) struct Tapped<Io> {
    io: Io,
    tap: Arc<Wiretap>,
    sent: FrameReader,
    received: FrameReader,
    /// Bytes of the server's start handed to the tap so far (it keeps [`FIRST_BYTES`]).
    first_kept: usize,
}

impl<Io> Tapped<Io> {
    pub fn new(io: Io, tap: Arc<Wiretap>) -> Tapped<Io> {
        Tapped {
            io,
            tap,
            sent: FrameReader::sent(),
            received: FrameReader::received(),
            first_kept: 0,
        }
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Tapped<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let new = &buf.filled()[before..];
            if !new.is_empty() {
                if self.first_kept < FIRST_BYTES {
                    self.first_kept += new.len();
                    self.tap.first_bytes(new);
                }
                let (preface, frames) = self.received.feed(new);
                self.tap.passed(Direction::Received, preface, frames);
            }
        }
        polled
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Tapped<Io> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            let (preface, frames) = self.sent.feed(&buf[..n]);
            self.tap.passed(Direction::Sent, preface, frames);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
