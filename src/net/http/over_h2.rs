//! One request as a stream of an HTTP/2 connection (src/net/h2): the same request a ureq
//! one would be (cookies, cache validators, `-H` headers), written as a HEADERS frame, and
//! its answer read with the same limits and reported with the same events.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::body::{self, Arrived, Ended};
use super::*;
use crate::net::h2::{self, Session, StreamOwner};

/// Headers HTTP/2 forbids (RFC 9113 section 8.2.2): the connection's own business in
/// HTTP/1.1. A `-H` naming one is left out, as browsers do; `host` becomes `:authority`.
const CONNECTION_SPECIFIC: [&str; 6] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
];

/// Why a request over HTTP/2 did not get its answer.
pub(super) enum H2Failure {
    /// The server never processed it (GOAWAY before it, REFUSED_STREAM, a connection that
    /// was already closing): it may be sent again on a new connection.
    Unprocessed(String),
    Failed(FetchError),
}

/// A response head that came on a stream, with the stream still to read.
pub(super) struct H2Answer {
    pub head: ParsedHead,
    body: ::h2::RecvStream,
    stream: u32,
    session: Arc<Session>,
}

impl Client {
    /// Sends the request as a new stream of `session`; returns once the response head is in.
    pub(super) fn send_h2(
        &self,
        hop: Hop<'_>,
        session: &Arc<Session>,
        (purpose, method, body): (Purpose, &str, Option<(&[u8], &str)>),
        added: Added<'_>,
        deadline: &LoadDeadline,
    ) -> Result<H2Answer, H2Failure> {
        let begun_ms = hop.trace.elapsed_ms();
        let trace = hop.trace;
        trace.checkpoint(&format!("send {method} {}", hop.url));
        let runtime = &session.runtime;
        let (request, head, plain_bytes) = self
            .h2_request(hop.url, purpose, method, body, added)
            .map_err(|e| fail(hop, Step::Url, e))?;
        if let Some((bytes, content_type)) = body {
            trace.keep_request_body(hop.request, content_type, bytes);
        }
        let wait = deadline.left();
        let sender = session.send.clone();
        let ready = runtime.block_on(async { tokio::time::timeout(wait, sender.ready()).await });
        let mut sender = match ready {
            Ok(Ok(sender)) => sender,
            Ok(Err(e)) => return Err(unprocessed_or_failed(hop, session, &e, Step::Send)),
            Err(_) => {
                return Err(fail(
                    hop,
                    Step::Send,
                    timed_out(Step::Send, host(hop), hop.timeout),
                ))
            }
        };
        let queued = Instant::now();
        let (response, mut upload) = sender
            .send_request(request, body.is_none())
            .map_err(|e| unprocessed_or_failed(hop, session, &e, Step::Send))?;
        let stream = response.stream_id().as_u32();
        session.streams.fetch_add(1, Ordering::Relaxed);
        // The browser's streams are 1, 3, 5…: the id says how many came before.
        let before = stream.saturating_sub(1) / 2;
        trace.emit_started(
            Some(hop.request),
            queued,
            EventKind::H2Stream {
                conn: session.conn,
                stream,
                requests_before: before,
                open_streams: session.open_streams(),
            },
        );
        session.tap.register(
            stream,
            StreamOwner {
                trace: trace.clone(),
                request: hop.request,
                method: method.to_string(),
                url: hop.url.to_string(),
                purpose: purpose.name(),
                head,
                plain_bytes,
                begun_ms,
                body: body.map(|(bytes, content_type)| SentBody::of(content_type, bytes)),
                queued,
                held: Some(Vec::new()),
            },
        );
        if let Some((bytes, _)) = body {
            if let Err(e) = upload.send_data(Bytes::copy_from_slice(bytes), true) {
                session.tap.release(stream);
                return Err(unprocessed_or_failed(hop, session, &e, Step::Send));
            }
        }
        let wait = deadline.left();
        let answered = runtime.block_on(async { tokio::time::timeout(wait, response).await });
        let response = match answered {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                session.tap.release(stream);
                return Err(unprocessed_or_failed(hop, session, &e, Step::Wait));
            }
            Err(_) => {
                session.tap.release(stream);
                return Err(fail(
                    hop,
                    Step::Wait,
                    timed_out(Step::Wait, host(hop), hop.timeout),
                ));
            }
        };
        let (parts, body) = response.into_parts();
        let head = report_h2_head(hop, session, stream, &parts);
        Ok(H2Answer {
            head,
            body,
            stream,
            session: session.clone(),
        })
    }

    /// The request for h2: an absolute URI (h2 takes `:scheme`, `:authority` and `:path`
    /// from it), the headers ureq would send, and the same as text for the trace with the
    /// bytes they would take as HTTP/1.1 text.
    fn h2_request(
        &self,
        url: &Url,
        purpose: Purpose,
        method: &str,
        body: Option<(&[u8], &str)>,
        (cookie, cache_headers): Added<'_>,
    ) -> Result<(http::Request<()>, String, u64), String> {
        let mut headers: Vec<(String, String)> =
            vec![("user-agent".into(), self.options.user_agent.clone())];
        // A caller's own Accept (an EventSource's) replaces the purpose's.
        if !cache_headers.iter().any(|(name, _)| name == "accept") {
            headers.push(("accept".into(), purpose.accept().into()));
        }
        if let Some(codings) = self.accept_encoding() {
            headers.push(("accept-encoding".into(), codings.into()));
        }
        if let Some((_, content_type)) = body {
            headers.push(("content-type".into(), content_type.into()));
        }
        if let Some(cookie) = cookie {
            headers.push(("cookie".into(), cookie.into()));
        }
        headers.extend(cache_headers.iter().cloned());
        for (name, value) in &self.options.headers {
            let lower = name.to_ascii_lowercase();
            if !CONNECTION_SPECIFIC.contains(&lower.as_str()) {
                headers.push((lower, value.clone()));
            }
        }
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let authority = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let mut builder = http::Request::builder()
            .method(method)
            .uri(url.as_str())
            .version(http::Version::HTTP_2);
        let mut text = format!(
            ":method: {method}\r\n:scheme: {}\r\n:authority: {authority}\r\n:path: {path}\r\n",
            url.scheme()
        );
        // As HTTP/1.1 would carry them: a request line and Host instead of pseudo-headers.
        let mut plain = format!("{method} {path} HTTP/1.1\r\nhost: {authority}\r\n").len();
        for (name, value) in &headers {
            builder = builder.header(name.as_str(), value.as_str());
            let line = format!("{name}: {value}\r\n");
            plain += line.len();
            text.push_str(&line);
        }
        text.push_str("\r\n");
        let request = builder.body(()).map_err(|e| {
            format!(
                "the request cannot be written: {}",
                one_line(&e.to_string())
            )
        })?;
        Ok((request, text, plain as u64 + 2))
    }

    /// Reads the stream's body within the request's limits, then settles it like any other.
    pub(super) fn receive_h2(
        &self,
        hop: Hop<'_>,
        answer: H2Answer,
        (max_body, deadline): (u64, &LoadDeadline),
        on_chunk: &mut dyn FnMut(BodyChunk<'_>),
    ) -> Result<Response, FetchError> {
        let trace = hop.trace;
        trace.checkpoint(&format!("receive the body of {}", hop.url));
        let H2Answer {
            head,
            mut body,
            stream,
            session,
        } = answer;
        let is_redirect = is_redirect(head.status) && header(&head.headers, "location").is_some();
        let limit = if is_redirect { 64 * 1024 } else { max_body };
        let started = Instant::now();
        let codings = header(&head.headers, "content-encoding")
            .map(coding::codings)
            .unwrap_or_default();
        let headers = head.headers.clone();
        let mut live = Live {
            give: Box::new(body::pieces(hop, &headers, on_chunk)),
            // One coding is undone as the DATA frames come (ureq is not involved here), so
            // the page is parsed while it downloads; a chain is undone whole, at the end.
            streaming: (!is_redirect)
                .then(|| coding::Streaming::new(&codings, limit))
                .flatten(),
            plain: !is_redirect && codings.is_empty(),
            decoded: Vec::new(),
            broken: None,
            limit,
        };
        let (raw, outcome) = {
            let reading = (limit, deadline.left());
            let mut on_piece = |piece: &[u8]| live.piece(piece);
            read_stream(&mut body, reading, &session, &mut on_piece)
        };
        // An event stream has no end of its own: the request's time running out is its end
        // (as over HTTP/1.1), and what came is the page.
        let outcome = match outcome {
            Ended::TimedOut if head.status == 200 && is_event_stream(&head.headers) => {
                Ended::Complete
            }
            outcome => outcome,
        };
        // Dropping an unfinished stream resets it (RST_STREAM CANCEL): the server stops.
        drop(body);
        let seen = session.tap.release(stream);
        let (partial, outcome, decode) = match live.end(raw, outcome) {
            Ok(ended) => ended,
            Err(e) => {
                // Never shown as if it were the page: the bytes are not what they claim.
                trace.count_wire_bytes(seen.data_received);
                let message = format!("{e}, after {} bytes on the wire", seen.data_received);
                return Err(hop.fail(Step::Receive, message));
            }
        };
        let arrived = Arrived {
            partial,
            outcome,
            wire_bytes: seen.data_received,
            head_bytes: (seen.block_sent, seen.block_received),
            is_redirect,
            decode,
            limit,
            started,
        };
        body::settle(hop, head, arrived, &mut live.give)
    }
}

/// Where a body's pieces go ([`body::pieces`]).
type Give<'a> = Box<dyn FnMut(&[u8]) + 'a>;

/// A body's pieces on their way to the streaming parse as its DATA frames come: as they are
/// when it has no coding, decoded when it has one the browser undoes piece by piece.
struct Live<'a> {
    give: Give<'a>,
    streaming: Option<coding::Streaming>,
    /// No coding, and not a redirect: the pieces are the body.
    plain: bool,
    decoded: Vec<u8>,
    /// Decoding failed: nothing more is given.
    broken: Option<coding::CodingError>,
    /// Decoded bytes allowed.
    limit: u64,
}

impl Live<'_> {
    fn piece(&mut self, raw: &[u8]) {
        if self.plain {
            (self.give)(raw);
            return;
        }
        let Some(decoder) = self.streaming.as_mut() else {
            return;
        };
        if self.broken.is_some() {
            return;
        }
        match decoder.feed(raw) {
            Ok(out) => {
                (self.give)(&out);
                self.decoded.extend_from_slice(&out);
            }
            Err(e) => self.broken = Some(e),
        }
    }

    /// What arrived, for [`body::settle`]: the raw bytes and whether they are still to be
    /// decoded, or what was decoded as it came; a coding error stops it here.
    fn end(
        &mut self,
        raw: Vec<u8>,
        outcome: Ended,
    ) -> Result<(Vec<u8>, Ended, bool), coding::CodingError> {
        let Some(decoder) = self.streaming.take() else {
            return Ok((raw, outcome, true));
        };
        match (self.broken.take(), outcome) {
            (Some(coding::CodingError::OverLimit), _) => {
                Ok((Vec::new(), Ended::OverLimit(self.limit), false))
            }
            (Some(e), _) => Err(e),
            (None, Ended::Complete) => match decoder.finish() {
                Ok(rest) => {
                    (self.give)(&rest);
                    self.decoded.extend_from_slice(&rest);
                    Ok((std::mem::take(&mut self.decoded), Ended::Complete, false))
                }
                Err(coding::CodingError::OverLimit) => {
                    Ok((Vec::new(), Ended::OverLimit(self.limit), false))
                }
                Err(e) => Err(e),
            },
            // Cut short: what was decoded so far is the part of the page that came.
            (None, outcome) => Ok((std::mem::take(&mut self.decoded), outcome, false)),
        }
    }
}

impl H2Answer {
    /// Bytes of the request's and the response's header blocks.
    pub(super) fn head_bytes(&self) -> (u64, u64) {
        let seen = self.session.tap.seen(self.stream);
        (seen.block_sent, seen.block_received)
    }

    /// The head, and the stream to read piece by piece (an event stream).
    pub(super) fn into_reading(self) -> (ParsedHead, H2Reading) {
        let reading = H2Reading {
            body: self.body,
            leftover: Bytes::new(),
            stream: self.stream,
            session: self.session,
        };
        (self.head, reading)
    }
}

/// A stream read piece by piece as its DATA frames arrive (an event stream over HTTP/2).
pub(crate) struct H2Reading {
    body: ::h2::RecvStream,
    /// What the last DATA frame brought beyond the caller's buffer.
    leftover: Bytes,
    stream: u32,
    session: Arc<Session>,
}

impl H2Reading {
    /// Reads what has arrived into `buf`, waiting at most `wait` for the next DATA frame; a
    /// wait that runs out is ureq's timeout error, as over HTTP/1.1. 0 is the stream's end.
    pub(crate) fn read_within(&mut self, buf: &mut [u8], wait: Duration) -> std::io::Result<usize> {
        if self.leftover.is_empty() {
            match next_data(&self.session.runtime, &mut self.body, wait, &self.session) {
                Next::Data(chunk) => self.leftover = chunk,
                Next::End => return Ok(0),
                Next::TimedOut => {
                    let timeout = ureq::Error::Timeout(ureq::Timeout::Global);
                    return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, timeout));
                }
                Next::Broke(why) => return Err(std::io::Error::other(why)),
            }
        }
        let n = buf.len().min(self.leftover.len());
        buf[..n].copy_from_slice(&self.leftover[..n]);
        self.leftover = self.leftover.slice(n..);
        Ok(n)
    }

    /// DATA payload bytes received so far.
    pub(crate) fn wire_bytes(&self) -> u64 {
        self.session.tap.seen(self.stream).data_received
    }
}

impl Drop for H2Reading {
    /// Ends the stream (RST_STREAM CANCEL when its body goes, if it was still open) and
    /// reports its last frames.
    fn drop(&mut self) {
        self.session.tap.release(self.stream);
    }
}

/// What waiting for a stream's next DATA frame brought.
enum Next {
    Data(Bytes),
    End,
    TimedOut,
    Broke(String),
}

/// Waits at most `wait` for the stream's next DATA frame, and lets the server send as much
/// again (h2 sends the WINDOW_UPDATE once enough is released).
fn next_data(
    runtime: &tokio::runtime::Handle,
    body: &mut ::h2::RecvStream,
    wait: Duration,
    session: &Session,
) -> Next {
    let next = runtime.block_on(async { tokio::time::timeout(wait, body.data()).await });
    match next {
        Err(_) => Next::TimedOut,
        Ok(None) => Next::End,
        Ok(Some(Err(e))) => Next::Broke(h2::describe_error(&e, &session.tap)),
        Ok(Some(Ok(chunk))) => {
            let _ = body.flow_control().release_capacity(chunk.len());
            Next::Data(chunk)
        }
    }
}

/// Reads a stream's DATA to its end, `limit` bytes at most, within `timeout` in all.
fn read_stream(
    body: &mut ::h2::RecvStream,
    (limit, timeout): (u64, Duration),
    session: &Session,
    on_piece: &mut dyn FnMut(&[u8]),
) -> (Vec<u8>, Ended) {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        let chunk = match next_data(&session.runtime, body, wait, session) {
            Next::Data(chunk) => chunk,
            Next::End => return (got, Ended::Complete),
            Next::TimedOut => return (got, Ended::TimedOut),
            Next::Broke(why) => return (got, Ended::Broke(why)),
        };
        if got.len() as u64 + chunk.len() as u64 > limit {
            return (got, Ended::OverLimit(limit));
        }
        got.extend_from_slice(&chunk);
        on_piece(&chunk);
    }
}

/// Reports the response head as HTTP/2 carried it (`:status` and the header list), stamped
/// when its HEADERS frame arrived, with that frame: its header block against the same
/// headers as HTTP/1.1 text.
fn report_h2_head(
    hop: Hop<'_>,
    session: &Session,
    stream: u32,
    parts: &http::response::Parts,
) -> ParsedHead {
    let status = parts.status.as_u16();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut text = format!(":status: {status}\r\n");
    // As HTTP/1.1 would carry them: a status line instead of `:status`.
    let reason = parts.status.canonical_reason().unwrap_or("").to_string();
    let mut plain = format!("HTTP/1.1 {status} {reason}\r\n").len() + 2;
    for (name, value) in &headers {
        let line = format!("{name}: {value}\r\n");
        plain += line.len();
        text.push_str(&line);
    }
    text.push_str("\r\n");
    let seen = session.tap.seen(stream);
    let at = seen.headers_received.unwrap_or_else(Instant::now);
    let ttfb_ms = match seen.headers_sent {
        Some(sent) => ms(at.saturating_duration_since(sent)),
        None => 0.0,
    };
    hop.trace.emit_started(
        Some(hop.request),
        at,
        EventKind::H2Frame {
            conn: session.conn,
            direction: "received".into(),
            frame: "HEADERS".into(),
            stream,
            flags: Vec::new(),
            length: seen.block_received,
            detail: format!(
                "{plain} bytes of headers as HTTP/1.1 text, HPACK-coded in {}",
                seen.block_received
            ),
            frames: 1,
        },
    );
    hop.trace.emit_started(
        Some(hop.request),
        at,
        EventKind::Response {
            status,
            reason: reason.clone(),
            version: "HTTP/2".into(),
            head: text,
            ttfb_ms,
            url: Some(hop.url.to_string()),
        },
    );
    session.tap.head_reported(stream);
    ParsedHead {
        version: "HTTP/2".into(),
        status,
        reason,
        headers,
    }
}

fn host<'a>(hop: Hop<'a>) -> &'a str {
    hop.url.host_str().unwrap_or_default()
}

fn fail(hop: Hop<'_>, step: Step, message: String) -> H2Failure {
    H2Failure::Failed(hop.fail(step, message))
}

/// Sorts an h2 error: a stream the server never processed may go again on a new
/// connection (RFC 9113 section 8.7); anything else is this request's failure.
fn unprocessed_or_failed(
    hop: Hop<'_>,
    session: &Session,
    error: &::h2::Error,
    step: Step,
) -> H2Failure {
    let words = h2::describe_error(error, &session.tap);
    let refused = error.reason() == Some(::h2::Reason::REFUSED_STREAM);
    if error.is_go_away() || refused || (step == Step::Send && !session.is_open()) {
        return H2Failure::Unprocessed(words);
    }
    H2Failure::Failed(hop.fail(step, words))
}
