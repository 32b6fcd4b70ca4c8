//! A response's body: read within the request's limits and time (an event stream as it
//! arrives), reported, and turned into the [`Response`] the fetch returns.

use super::*;

/// A piece of a final answer's decoded body, as it was read (see
/// [`Client::fetch_as_streaming`]): the pieces, end to end, are the response's body.
pub struct BodyChunk<'a> {
    pub request: RequestId,
    /// The URL that answered (after redirects).
    pub url: &'a Url,
    /// The answer's headers, as received.
    pub headers: &'a [(String, String)],
    pub bytes: &'a [u8],
}

impl BodyChunk<'_> {
    /// As [`Response::media_type`].
    pub fn media_type(&self) -> Option<String> {
        media_type(self.headers)
    }

    /// As [`Response::charset`].
    pub fn charset(&self) -> Option<String> {
        charset(self.headers)
    }
}

/// A body known whole (from the cache, or decoded after it was read), given as one piece.
pub(super) fn whole(hop: Hop<'_>, response: &Response, on_chunk: &mut dyn FnMut(BodyChunk<'_>)) {
    on_chunk(BodyChunk {
        request: hop.request,
        url: &response.url,
        headers: &response.headers,
        bytes: &response.body,
    });
}

/// Reads the body and closes the exchange: the response, the response cut short (said out
/// loud), or the failure.
pub(super) fn receive(
    hop: Hop<'_>,
    mut response: ureq::http::Response<ureq::Body>,
    head: ParsedHead,
    exchange: wire::ExchangeGuard,
    max_body: u64,
    on_chunk: &mut dyn FnMut(BodyChunk<'_>),
) -> Result<Response, FetchError> {
    let trace = hop.trace;
    trace.checkpoint(&format!("receive the body of {}", hop.url));
    // An event stream has no end of its own: it is read as it comes, while time is left.
    if head.status == 200 && is_event_stream(&head.headers) {
        return stream::receive_event_stream(hop, response, head, exchange, max_body);
    }
    // A redirect's body is read (and dropped) so the connection can be reused.
    let is_redirect = is_redirect(head.status) && header(&head.headers, "location").is_some();
    let limit = if is_redirect { 64 * 1024 } else { max_body };
    let started = Instant::now();
    // ureq undoes exactly `gzip` and `br` itself, and then drops the header it read.
    let decoded_by_ureq = response.headers().get("content-encoding").is_none();
    let live = !is_redirect && decoded_by_ureq;
    let headers = head.headers.clone();
    let mut give = pieces(hop, &headers, on_chunk);
    let (partial, outcome) = {
        let mut nothing = |_: &[u8]| {};
        let on_piece: &mut dyn FnMut(&[u8]) = if live { &mut give } else { &mut nothing };
        read_body(&mut response, limit, on_piece)
    };
    let exchange = exchange.finish();
    let arrived = Arrived {
        partial,
        outcome,
        wire_bytes: exchange.as_ref().map(|x| x.body_wire_bytes()).unwrap_or(0),
        head_bytes: exchange
            .as_ref()
            .map(|x| x.head_bytes())
            .unwrap_or_default(),
        is_redirect,
        decode: !decoded_by_ureq,
        limit,
        started,
    };
    settle(hop, head, arrived, &mut give)
}

/// A body's pieces, as `on_chunk` takes them (the caller gives only the body's own bytes:
/// not a redirect's, not still in a coding undone later).
pub(super) fn pieces<'a>(
    hop: Hop<'a>,
    headers: &'a [(String, String)],
    on_chunk: &'a mut dyn FnMut(BodyChunk<'_>),
) -> impl FnMut(&[u8]) + 'a {
    move |bytes: &[u8]| {
        on_chunk(BodyChunk {
            request: hop.request,
            url: hop.url,
            headers,
            bytes,
        })
    }
}

/// What arrived of a body, over HTTP/1.1 or HTTP/2, before it is decoded and judged.
pub(super) struct Arrived {
    /// The bytes that arrived (decoded by ureq, or as on the wire when `decode` is set).
    pub partial: Vec<u8>,
    pub outcome: Ended,
    pub wire_bytes: u64,
    /// Bytes of the request head as sent and of the response head as received.
    pub head_bytes: (u64, u64),
    pub is_redirect: bool,
    /// The Content-Encoding is still to be undone.
    pub decode: bool,
    pub limit: u64,
    pub started: Instant,
}

/// How reading a body ended.
pub(super) enum Ended {
    Complete,
    OverLimit(u64),
    TimedOut,
    /// It broke off, for this reason (in words).
    Broke(String),
}

/// Undoes the content codings, judges what arrived, reports the body and makes the response.
/// `on_decoded` gets a body decoded here, whole (the pieces read were still coded).
pub(super) fn settle(
    hop: Hop<'_>,
    head: ParsedHead,
    arrived: Arrived,
    on_decoded: &mut dyn FnMut(&[u8]),
) -> Result<Response, FetchError> {
    let trace = hop.trace;
    let codings = header(&head.headers, "content-encoding")
        .map(coding::codings)
        .unwrap_or_default();
    let Arrived {
        partial,
        outcome,
        wire_bytes,
        head_bytes,
        is_redirect,
        decode,
        limit,
        started,
    } = arrived;
    let (partial, outcome) = match outcome {
        Ended::Complete if !codings.is_empty() && decode && !is_redirect => {
            match coding::decode(&codings, partial, limit) {
                Ok(body) => {
                    on_decoded(&body);
                    (body, Ended::Complete)
                }
                Err(coding::CodingError::OverLimit) => (Vec::new(), Ended::OverLimit(limit)),
                // Never shown as if it were the page: the bytes are not what they claim.
                Err(e) => {
                    trace.count_wire_bytes(wire_bytes);
                    let after = match e {
                        coding::CodingError::Corrupt { .. } => {
                            format!(", after {wire_bytes} bytes on the wire")
                        }
                        _ => String::new(),
                    };
                    return Err(hop.fail(Step::Receive, format!("{e}{after}")));
                }
            }
        }
        outcome => (partial, outcome),
    };
    let read = BodyRead {
        partial,
        outcome,
        wire_bytes,
        is_redirect,
        decompressed: header(&head.headers, "content-encoding").is_some(),
    };
    let judged = read.judge(hop.timeout);
    if judged.is_err() {
        // A body that fails gets no Body event: its bytes are counted here.
        trace.count_wire_bytes(wire_bytes);
    }
    let (body, incomplete) = judged.map_err(|message| hop.fail(Step::Receive, message))?;
    report_body(hop, &body, &head.headers, wire_bytes, started);
    Ok(answered(
        hop,
        head,
        body,
        (wire_bytes, head_bytes),
        incomplete,
    ))
}

/// The response once its body is read; a body cut short is said in a `failed` step of its
/// own (the part that came is still the page).
pub(super) fn answered(
    hop: Hop<'_>,
    head: ParsedHead,
    body: Vec<u8>,
    (wire_bytes, head_bytes): (u64, (u64, u64)),
    incomplete: Option<String>,
) -> Response {
    if let Some(message) = &incomplete {
        hop.trace.emit(
            Some(hop.request),
            EventKind::Failed {
                step: Step::Receive,
                message: message.clone(),
                url: None,
            },
        );
    }
    Response {
        request: hop.request,
        url: hop.url.clone(),
        status: head.status,
        reason: head.reason,
        headers: head.headers,
        body,
        wire_bytes,
        head_bytes,
        hops: 0,
        incomplete,
    }
}

/// Reads the body up to `limit` decoded bytes, handing each piece read to `on_piece`. What
/// arrived before an error is kept: a truncated page is still shown.
fn read_body(
    response: &mut ureq::http::Response<ureq::Body>,
    limit: u64,
    on_piece: &mut dyn FnMut(&[u8]),
) -> (Vec<u8>, Ended) {
    use std::io::Read;
    let mut partial = Vec::new();
    let mut reader = response.body_mut().with_config().limit(limit).reader();
    let mut buf = vec![0u8; 16 * 1024];
    let outcome = loop {
        match reader.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                partial.extend_from_slice(&buf[..n]);
                on_piece(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(ureq::Error::from(e)),
        }
    };
    let ended = match outcome {
        Ok(()) => Ended::Complete,
        Err(ureq::Error::BodyExceedsLimit(n)) => Ended::OverLimit(n),
        Err(ureq::Error::Timeout(_)) => Ended::TimedOut,
        Err(e) => Ended::Broke(body_error(&e)),
    };
    (partial, ended)
}

/// What reading a body brought.
struct BodyRead {
    /// The decoded bytes that arrived, all of them or up to the failure.
    partial: Vec<u8>,
    outcome: Ended,
    wire_bytes: u64,
    is_redirect: bool,
    /// The body had a Content-Encoding (the limit counts the bytes after decoding).
    decompressed: bool,
}

impl BodyRead {
    /// The body (with, if it broke off, why only part of it is shown), or why there is none
    /// to show.
    fn judge(self, timeout: Duration) -> Result<(Vec<u8>, Option<String>), String> {
        let wire_bytes = self.wire_bytes;
        match self.outcome {
            Ended::Complete => Ok((self.partial, None)),
            Ended::OverLimit(n) => Err(format!(
                "the body is larger than the limit of {n} bytes{} (raise it with --max-body)",
                if self.decompressed {
                    " once decompressed"
                } else {
                    ""
                }
            )),
            Ended::TimedOut => Err(format!(
                "timed out after {:.1} s while receiving the body ({wire_bytes} bytes arrived)",
                timeout.as_secs_f64()
            )),
            Ended::Broke(why) if self.partial.is_empty() || self.is_redirect => Err(format!(
                "the body broke off after {wire_bytes} bytes: {why}"
            )),
            Ended::Broke(why) => {
                // The page as far as it came, with the failure said out loud.
                let message = format!(
                    "the body broke off after {wire_bytes} bytes on the wire ({why}); only the first {} bytes of it are shown",
                    self.partial.len()
                );
                Ok((self.partial, Some(message)))
            }
        }
    }
}

/// Reports the body (its size on the wire and decoded, its encoding and type, its time) and
/// keeps it for the HAR when the trace keeps bodies.
fn report_body(
    hop: Hop<'_>,
    body: &[u8],
    headers: &[(String, String)],
    wire_bytes: u64,
    started: Instant,
) {
    hop.trace.emit_started(
        Some(hop.request),
        started,
        EventKind::Body {
            wire_bytes,
            decoded_bytes: body.len() as u64,
            content_encoding: header(headers, "content-encoding").map(str::to_string),
            content_type: header(headers, "content-type").map(str::to_string),
            ms: ms(started.elapsed()),
        },
    );
    hop.trace.keep_response_body(hop.request, body);
}

/// Why a body stopped short, in words.
fn body_error(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the server closed the connection before the end it announced".into()
        }
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
            "the server reset the connection".into()
        }
        ureq::Error::Protocol(p) => {
            format!("the body's framing is broken: {}", one_line(&p.to_string()))
        }
        other => one_line(&other.to_string()),
    }
}
