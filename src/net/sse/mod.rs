//! Server-Sent Events: a `text/event-stream` response read as it arrives, and reconnected
//! as the HTML standard's `EventSource` does (§9.2).
//!
//! [`EventSource::run`] GETs the URL with `Accept: text/event-stream` (and `Last-Event-ID`
//! once it knows one) through the client's traced request path, reads the body piece by
//! piece ([`parse::Parser`]) and reports each event, comment, `retry` and skipped part as its
//! own trace event at the moment it arrived. When the stream ends or breaks, it waits the
//! reconnection time and asks again from the last event ID; a 204, another status, or
//! another media type is a refusal, and it stops, as the standard says.
//!
//! Every wait is bounded: the head by the request timeout, each read by the visit's end and
//! by [`IDLE`] without a byte, every buffer by the parser's limits, and what goes into the
//! trace by [`MAX_REPORTED`] items per connection.

pub mod parse;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use url::Url;

pub use parse::{Parsed, Parser, SseMessage, MAX_DATA, MAX_LINE};

use super::http::OpenStream;
use super::{Client, FetchError};
use crate::trace::{EventKind, LoadDeadline, Step, Trace};

/// The reconnection time until the server sets one (the standard leaves it to the browser,
/// "a few seconds"; Chromium waits 3 s).
pub const DEFAULT_RETRY: Duration = Duration::from_secs(3);
/// The shortest reconnection time taken from a server (`retry: 0` would have the client ask
/// again and again), and the longest (a server's `retry` cannot park the client for a day).
pub const MIN_RETRY: Duration = Duration::from_millis(500);
pub const MAX_RETRY: Duration = Duration::from_secs(60);
/// Longest an open stream may stay silent (the demo server sends a comment every 15 s)
/// before it counts as dropped and is opened again.
pub const IDLE: Duration = Duration::from_secs(45);
/// Items of one connection reported in the trace, at most; the rest are read and counted.
pub const MAX_REPORTED: u32 = 1000;
/// Characters of an event's data, or of a comment, kept in its trace event.
pub const PREVIEW_CHARS: usize = 1000;
/// How often a reader that may be told to stop looks whether it was.
const STOP_CHECK: Duration = Duration::from_millis(100);
/// The purpose the request log and the HAR name (DevTools' type for it).
pub const PURPOSE: &str = "eventsource";

/// How long to listen, and how.
#[derive(Clone, Copy, Debug)]
pub struct SourceOptions {
    /// How long to listen in all (reconnections included); the end is a normal end.
    pub wait: Duration,
    /// Longest wait for a response head.
    pub timeout: Duration,
    /// Longest silence of an open stream.
    pub idle: Duration,
    /// Open the stream again when it ends or breaks (false: read one response).
    pub reconnect: bool,
}

/// What the stream has cost so far, for the chat's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// Requests made (each reconnection is one).
    pub connections: u64,
    pub events: u64,
    /// Bytes of the requests' and responses' heads.
    pub head_bytes: u64,
    /// Bytes of the bodies on the wire, and of the events' data in them.
    pub body_bytes: u64,
    pub data_bytes: u64,
}

impl SourceStats {
    /// What is not the messages themselves: the heads, and in the bodies the field names,
    /// IDs, blank lines, heartbeats and chunk sizes around the data.
    pub fn overhead_bytes(&self) -> u64 {
        self.head_bytes + self.body_bytes.saturating_sub(self.data_bytes)
    }
}

/// What the stream brings, as it happens.
pub enum News<'a> {
    /// A stream is open (the first, or a reconnection).
    Opened,
    Event(&'a SseMessage),
}

/// Why listening ended without failing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The time to listen was up.
    TimeUp,
    /// The caller said stop.
    Stopped,
    /// Without reconnection: the stream ended or broke, and why.
    Closed(String),
}

/// An `EventSource`: one URL, listened to until the time is up.
pub struct EventSource<'a> {
    client: &'a Client,
    url: Url,
    trace: &'a Trace,
    options: SourceOptions,
    /// The last event ID string, sent back as `Last-Event-ID` when reconnecting.
    pub last_event_id: String,
    /// The reconnection time now (the server's `retry`, within the bounds).
    pub retry: Duration,
    pub stats: SourceStats,
}

/// How one open stream ended.
enum StreamEnd {
    TimeUp,
    Stopped,
    /// It ended or broke: reconnect (or stop, without reconnection).
    Dropped(String),
}

impl<'a> EventSource<'a> {
    pub fn new(
        client: &'a Client,
        url: &Url,
        trace: &'a Trace,
        options: SourceOptions,
    ) -> EventSource<'a> {
        EventSource {
            client,
            url: url.clone(),
            trace,
            options,
            last_event_id: String::new(),
            retry: DEFAULT_RETRY,
            stats: SourceStats::default(),
        }
    }

    /// Listens until the time is up or `stop` is set, handing `news` each stream opened and
    /// each event. A refusal (204, another status, not `text/event-stream`) is an error:
    /// EventSource gives up on it.
    pub fn run(
        &mut self,
        stop: Option<&AtomicBool>,
        news: &mut dyn FnMut(News<'_>, &SourceStats),
    ) -> Result<Ended, FetchError> {
        let deadline = self.trace.deadline(self.options.wait);
        let stopped = || stop.is_some_and(|s| s.load(Ordering::Relaxed));
        let mut failures = 0u32;
        loop {
            if deadline.is_over() {
                return Ok(Ended::TimeUp);
            }
            if stopped() {
                return Ok(Ended::Stopped);
            }
            let why = match self.open(&deadline) {
                Ok(stream) => {
                    failures = 0;
                    news(News::Opened, &self.stats);
                    match self.listen(stream, &deadline, stop, news) {
                        StreamEnd::TimeUp => return Ok(Ended::TimeUp),
                        StreamEnd::Stopped => return Ok(Ended::Stopped),
                        StreamEnd::Dropped(why) if !self.options.reconnect => {
                            return Ok(Ended::Closed(why))
                        }
                        StreamEnd::Dropped(why) => why,
                    }
                }
                Err(Refusal::Final(e)) => return Err(e),
                Err(Refusal::Network(e)) if !self.options.reconnect => return Err(e),
                Err(Refusal::Network(e)) => {
                    failures += 1;
                    format!("the request failed ({})", e.message)
                }
            };
            self.wait_to_reconnect(failures, why, &deadline, stop);
        }
    }

    /// The reconnection: the server's time, doubled after each failed attempt in a row (the
    /// standard allows a backoff), within the bounds; said in the trace, then waited (never
    /// past the end, and looking at `stop`).
    fn wait_to_reconnect(
        &self,
        failures: u32,
        reason: String,
        deadline: &LoadDeadline,
        stop: Option<&AtomicBool>,
    ) {
        let delay = self
            .retry
            .saturating_mul(1 << failures.saturating_sub(1).min(6))
            .min(MAX_RETRY);
        self.trace.emit(
            None,
            EventKind::SseReconnect {
                attempt: failures + 1,
                delay_ms: delay.as_millis() as u64,
                reason,
                last_event_id: (!self.last_event_id.is_empty() && sendable(&self.last_event_id))
                    .then(|| self.last_event_id.clone()),
            },
        );
        let until = Instant::now() + delay.min(deadline.left());
        while Instant::now() < until && !stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            std::thread::sleep(STOP_CHECK.min(until.saturating_duration_since(Instant::now())));
        }
    }

    /// One GET of the stream (following redirects, as fetch does); its answer must be a
    /// `200 text/event-stream`.
    fn open(&mut self, deadline: &LoadDeadline) -> Result<OpenStream, Refusal> {
        let mut headers = vec![
            ("accept", "text/event-stream"),
            // What EventSource sends: no cache may answer for the server.
            ("cache-control", "no-cache"),
        ];
        // An ID holding a control character cannot travel in a header (the server set it,
        // and would be asked for it again and again): it is not sent.
        if !self.last_event_id.is_empty() && sendable(&self.last_event_id) {
            headers.push(("last-event-id", self.last_event_id.as_str()));
        }
        let mut url = self.url.clone();
        let mut hops = 0u32;
        let stream = loop {
            let timeout = self.options.timeout.min(deadline.left());
            // ureq's own clock bounds the whole stream too, a little after the visit's end.
            let lifetime = deadline.left() + Duration::from_secs(5);
            let stream = self
                .client
                .open_stream(&url, PURPOSE, &headers, (timeout, lifetime), self.trace)
                .map_err(Refusal::Network)?;
            let location = matches!(stream.status, 301 | 302 | 303 | 307 | 308)
                .then(|| stream.header("location").map(str::to_string))
                .flatten();
            let Some(location) = location else {
                break stream;
            };
            // Each hop is a request of its own; the reconnections start again from the
            // EventSource's own URL, as the standard says.
            self.stats.connections += 1;
            self.stats.head_bytes += stream.head_bytes.0 + stream.head_bytes.1;
            let (request, status) = (stream.request, stream.status);
            self.stats.body_bytes += stream.finish();
            hops += 1;
            let next = url.join(&location).ok().filter(|next| {
                matches!(next.scheme(), "http" | "https")
                    && hops <= self.client.options().max_redirects
            });
            let Some(next) = next else {
                return Err(Refusal::Final(FetchError::reported(
                    self.trace,
                    request,
                    Step::Redirect,
                    format!("the stream's redirect to {location:?} cannot be followed (not an http or https URL, or more than {} redirects)", self.client.options().max_redirects),
                )));
            };
            self.trace.emit(
                Some(request),
                EventKind::Redirect {
                    status,
                    location,
                    next_url: next.to_string(),
                    hop: hops,
                    method: Some("GET".into()),
                    next_method: Some("GET".into()),
                },
            );
            url = next;
        };
        self.stats.connections += 1;
        self.stats.head_bytes += stream.head_bytes.0 + stream.head_bytes.1;
        let refusal = match (stream.status, stream.media_type()) {
            (200, Some(media)) if media == "text/event-stream" => None,
            (204, _) => Some("the server answered 204 No Content: it asks the client to stop listening, and EventSource does not reconnect".to_string()),
            (200, media) => Some(format!(
                "the answer is {}, not text/event-stream: EventSource gives up, and does not reconnect",
                media.unwrap_or_else(|| "of no type".into())
            )),
            (status, _) => Some(format!(
                "the server answered {status} {}: EventSource gives up on any status but 200, and does not reconnect",
                stream.reason
            )),
        };
        match refusal {
            None => Ok(stream),
            Some(message) => {
                let request = stream.request;
                self.stats.body_bytes += stream.finish();
                Err(Refusal::Final(FetchError::reported(
                    self.trace,
                    request,
                    Step::Receive,
                    message,
                )))
            }
        }
    }

    /// Reads one open stream until it ends, breaks, falls silent, or the time is up.
    fn listen(
        &mut self,
        mut stream: OpenStream,
        deadline: &LoadDeadline,
        stop: Option<&AtomicBool>,
        news: &mut dyn FnMut(News<'_>, &SourceStats),
    ) -> StreamEnd {
        let mut reader = Reader {
            parser: Parser::new(&self.last_event_id),
            request: stream.request,
            reported: 0,
            events: 0,
        };
        let mut buf = vec![0u8; 16 * 1024];
        let mut items = Vec::new();
        let mut heard = Instant::now();
        let body_before = self.stats.body_bytes;
        let end = loop {
            if deadline.is_over() || stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                // Leaving: an event half arrived is said, not handed over.
                reader.parser.finish(&mut items);
                break match deadline.is_over() {
                    true => StreamEnd::TimeUp,
                    false => StreamEnd::Stopped,
                };
            }
            let silent = heard.elapsed();
            if silent >= self.options.idle {
                break StreamEnd::Dropped(format!(
                    "nothing came for {:.0} s (a server that keeps a stream open says something now and then)",
                    silent.as_secs_f64()
                ));
            }
            let mut wait = deadline.left().min(self.options.idle - silent);
            if stop.is_some() {
                wait = wait.min(STOP_CHECK);
            }
            match stream.read_within(&mut buf, wait) {
                Ok(0) => {
                    reader.parser.finish(&mut items);
                    break StreamEnd::Dropped(format!(
                        "the server ended the stream after {:.1} s",
                        stream.open_for().as_secs_f64()
                    ));
                }
                Ok(n) => {
                    heard = Instant::now();
                    reader.parser.feed(&buf[..n], &mut items);
                }
                Err(e) => match ureq::Error::from(e) {
                    // Only this read's wait: the loop looks at the clocks again.
                    ureq::Error::Timeout(_) => continue,
                    e => {
                        reader.parser.finish(&mut items);
                        break StreamEnd::Dropped(format!(
                            "the stream broke off after {:.1} s: {}",
                            stream.open_for().as_secs_f64(),
                            super::http::one_line(&e.to_string())
                        ));
                    }
                },
            }
            self.stats.body_bytes = body_before + stream.wire_bytes();
            self.take(&mut reader, &mut items, news);
        };
        self.take(&mut reader, &mut items, news);
        self.stats.body_bytes = body_before + stream.finish();
        end
    }

    /// Reports what the parser completed, and hands over the events.
    fn take(
        &mut self,
        reader: &mut Reader,
        items: &mut Vec<Parsed>,
        news: &mut dyn FnMut(News<'_>, &SourceStats),
    ) {
        // The body's bytes were counted as they came: count the data in them at once too,
        // so that what is not data (the overhead) never seems to shrink.
        self.stats.data_bytes += items
            .iter()
            .map(|item| match item {
                Parsed::Event(event) => event.data.len() as u64,
                _ => 0,
            })
            .sum::<u64>();
        for item in items.drain(..) {
            if let Parsed::Retry(ms) = item {
                self.retry = bounded_retry(ms);
            }
            reader.report(self.trace, &item);
            if let Parsed::Event(event) = &item {
                self.last_event_id.clone_from(&event.last_event_id);
                self.stats.events += 1;
                news(News::Event(event), &self.stats);
            }
        }
        // An event without data still moves the last event ID (the standard's dispatch).
        self.last_event_id.clone_from(&reader.parser.last_event_id);
    }
}

/// Why a stream could not be opened: a failed request is tried again; an answer that is not
/// an event stream ends it.
enum Refusal {
    Network(FetchError),
    Final(FetchError),
}

/// One connection's parser and what it reported.
struct Reader {
    parser: Parser,
    request: u32,
    reported: u32,
    events: u64,
}

impl Reader {
    /// Puts one item in the trace (at most [`MAX_REPORTED`] per connection, then one note).
    fn report(&mut self, trace: &Trace, item: &Parsed) {
        if let Parsed::Event(_) = item {
            self.events += 1;
        }
        self.reported += 1;
        if self.reported > MAX_REPORTED + 1 {
            return;
        }
        let kind = if self.reported == MAX_REPORTED + 1 {
            EventKind::SseSkipped {
                reason: format!("more than {MAX_REPORTED} items on one connection: the rest are read, not traced"),
                bytes: 0,
            }
        } else {
            match item {
                Parsed::Event(e) => EventKind::SseEvent {
                    event_type: e.event.clone(),
                    data: preview(&e.data),
                    data_bytes: e.data.len() as u64,
                    id: (!e.last_event_id.is_empty()).then(|| e.last_event_id.clone()),
                    id_set: e.id_set,
                    lines: e.lines,
                    number: self.events,
                },
                Parsed::Comment(text) => EventKind::SseComment {
                    text: preview(text),
                },
                Parsed::Retry(ms) => EventKind::SseRetry {
                    retry_ms: *ms,
                    applied_ms: bounded_retry(*ms).as_millis() as u64,
                },
                Parsed::Skipped { why, bytes } => EventKind::SseSkipped {
                    reason: why.clone(),
                    bytes: *bytes,
                },
            }
        };
        trace.emit(Some(self.request), kind);
    }
}

/// Whether a header value can carry `text` (visible characters, spaces and tabs).
fn sendable(text: &str) -> bool {
    text.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// A server's `retry`, within the floor and the ceiling.
fn bounded_retry(ms: u64) -> Duration {
    Duration::from_millis(ms).clamp(MIN_RETRY, MAX_RETRY)
}

/// The start of `text`, at most [`PREVIEW_CHARS`] characters (an ellipsis says it was cut).
fn preview(text: &str) -> String {
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Most of an event stream's text kept as the page that shows it (the rest is read, its
/// events reported, and not kept).
pub const PAGE_TEXT: usize = 64 * 1024;

/// Reads one stream to its end, to `max_body` bytes, or to `deadline`, reporting what it
/// brings; returns the start of its text (a page that is an event stream shows it), and,
/// when `max_body` stopped it, why.
pub fn read_whole(
    stream: &mut OpenStream,
    deadline: LoadDeadline,
    max_body: u64,
) -> (Vec<u8>, Option<String>) {
    let mut reader = Reader {
        parser: Parser::new(""),
        request: stream.request,
        reported: 0,
        events: 0,
    };
    let mut body = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut items = Vec::new();
    let mut read = 0u64;
    let mut over = None;
    while !deadline.is_over() {
        if read >= max_body {
            over = Some(format!("the stream passed the limit of {max_body} bytes (raise it with --max-body): reading stopped"));
            break;
        }
        match stream.read_within(&mut buf, deadline.left()) {
            Ok(0) => break,
            Ok(n) => {
                read += n as u64;
                let room = PAGE_TEXT.saturating_sub(body.len()).min(n);
                body.extend_from_slice(&buf[..room]);
                reader.parser.feed(&buf[..n], &mut items);
            }
            Err(e) => match ureq::Error::from(e) {
                ureq::Error::Timeout(_) => continue,
                _ => break,
            },
        }
        for item in items.drain(..) {
            reader.report(stream.trace(), &item);
        }
    }
    reader.parser.finish(&mut items);
    for item in items.drain(..) {
        reader.report(stream.trace(), &item);
    }
    (body, over)
}
