//! A response read as it arrives, for a body that is a stream (Server-Sent Events): the
//! same traced request as [`Client::fetch`]'s (cookies, DNS, connection or reuse, the
//! request and response heads, Set-Cookie), but the body is handed over unread, with every
//! read bounded by a deadline the reader chooses, instead of being read to its end.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use url::Url;

use super::over_h2::{self, H2Failure};
use super::{
    configure, describe_failure, h2_origin, header, report_head, Client, FetchError, Hop,
    ParsedHead, Purpose, Response, Route,
};
use crate::net::cookies::Context;
use crate::net::wire::{self, Exchange, ExchangeGuard};
use crate::trace::{ms, EventKind, RequestId, Step, Trace};

/// A response whose head has arrived and whose body is read piece by piece. It lives on the
/// thread that opened it (its exchange is that thread's) until [`OpenStream::finish`].
pub struct OpenStream {
    pub request: RequestId,
    pub url: Url,
    pub status: u16,
    pub reason: String,
    /// Headers as received.
    pub headers: Vec<(String, String)>,
    /// Bytes of the request head as sent and of the response head as received.
    pub head_bytes: (u64, u64),
    reader: Option<ureq::BodyReader<'static>>,
    /// Over HTTP/2: the stream's DATA, read instead of `reader`.
    h2: Option<over_h2::H2Reading>,
    exchange: Option<ExchangeGuard>,
    trace: Trace,
    opened: Instant,
    decoded: u64,
}

impl Client {
    /// GETs `url` with `headers` (an `Accept`, a `Last-Event-ID`…) as a script's request of
    /// kind `purpose` (`eventsource`), reports it like any other, and returns once the
    /// response head is in. `timeout` bounds getting the head, `lifetime` (ureq's own clock)
    /// the whole stream; each read gets its own wait ([`OpenStream::read_within`]).
    /// Redirects are not followed (the caller says what to do with one).
    pub fn open_stream(
        &self,
        url: &Url,
        purpose: &'static str,
        headers: &[(&str, &str)],
        (timeout, lifetime): (Duration, Duration),
        trace: &Trace,
    ) -> Result<OpenStream, FetchError> {
        let deadline = trace.deadline(timeout);
        let hop = Hop {
            url,
            request: trace.new_request_id(),
            timeout,
            context: Context::TopLevel,
            trace,
        };
        let open = |retried: bool| {
            let mut x = Exchange::new(
                trace.clone(),
                hop.request,
                "GET".into(),
                url.to_string(),
                purpose,
                deadline.clone(),
            );
            x.retried = retried;
            wire::begin(x)
        };
        let mut exchange = open(false);
        let cookie = self.cookie_for(hop);
        let origin = h2_origin(url);
        let mut retries = 0;
        let response = loop {
            let probe = match self.h2.route(origin.as_deref(), deadline.left()) {
                // An origin that speaks HTTP/2 carries the stream as one more of its streams.
                Route::Stream(session) => {
                    exchange.finish();
                    return self.open_h2_stream(
                        hop,
                        &session,
                        headers,
                        cookie.as_deref(),
                        &deadline,
                    );
                }
                Route::Ureq { probe } => probe,
            };
            let sent = self.send_stream_request(hop, headers, cookie.as_deref(), lifetime);
            let error = match sent {
                Ok(response) => break response,
                Err(e) => e,
            };
            let mut finished = exchange.finish();
            if self.took_over_h2(&mut finished, origin.as_deref(), hop)? {
                drop(probe);
                exchange = open(false);
                continue;
            }
            // A pooled connection the server had closed: nothing was sent, try once more.
            if hop.retry_on_idle_close(finished.as_ref(), &mut retries, 1) {
                exchange = open(true);
                continue;
            }
            let (step, message) = describe_failure(&error, finished, hop);
            return Err(hop.fail(step, message));
        };
        let ParsedHead {
            status,
            reason,
            headers,
            ..
        } = report_head(&response, hop);
        self.take_cookies(hop, &headers);
        trace.checkpoint(&format!("receive the event stream of {url}"));
        // ureq undoes gzip and br as the bytes come; anything else would be read as text.
        if let Some(coding) = response.headers().get("content-encoding") {
            let coding = String::from_utf8_lossy(coding.as_bytes()).into_owned();
            return Err(hop.fail(
                Step::Receive,
                format!("the stream is sent {coding}-coded, which minibrowse reads only as a whole body"),
            ));
        }
        let head_bytes = wire::with_exchange(|x| x.head_bytes()).unwrap_or_default();
        Ok(OpenStream {
            request: hop.request,
            url: url.clone(),
            status,
            reason,
            headers,
            head_bytes,
            reader: Some(response.into_body().into_reader()),
            h2: None,
            exchange: Some(exchange),
            trace: trace.clone(),
            opened: Instant::now(),
            decoded: 0,
        })
    }

    /// The stream's GET as a stream of an HTTP/2 connection; returns once its head is in.
    fn open_h2_stream(
        &self,
        hop: Hop<'_>,
        session: &std::sync::Arc<crate::net::h2::Session>,
        headers: &[(&str, &str)],
        cookie: Option<&str>,
        deadline: &crate::trace::LoadDeadline,
    ) -> Result<OpenStream, FetchError> {
        let extra: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        let sent = (Purpose::EventSource, "GET", None);
        let answer = self
            .send_h2(hop, session, sent, (cookie, &extra), deadline)
            .map_err(|failure| match failure {
                H2Failure::Failed(e) => e,
                H2Failure::Unprocessed(why) => {
                    self.h2.forget(session);
                    hop.fail(Step::Send, why)
                }
            })?;
        self.take_cookies(hop, &answer.head.headers);
        hop.trace
            .checkpoint(&format!("receive the event stream of {}", hop.url));
        Ok(OpenStream::over_h2(hop, answer, hop.trace))
    }

    /// The stream's GET: its own headers, then the cookie and the `-H` headers.
    fn send_stream_request(
        &self,
        hop: Hop<'_>,
        headers: &[(&str, &str)],
        cookie: Option<&str>,
        lifetime: Duration,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let mut builder = self.agent.get(hop.url.as_str());
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if let Some(cookie) = cookie {
            builder = builder.header("cookie", cookie);
        }
        for (name, value) in &self.options.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        configure(builder, lifetime, hop.trace.is_paced()).call()
    }
}

impl OpenStream {
    /// A stream whose head came over HTTP/2.
    fn over_h2(hop: Hop<'_>, answer: over_h2::H2Answer, trace: &Trace) -> OpenStream {
        let head_bytes = answer.head_bytes();
        let (head, reading) = answer.into_reading();
        OpenStream {
            request: hop.request,
            url: hop.url.clone(),
            status: head.status,
            reason: head.reason,
            headers: head.headers,
            head_bytes,
            reader: None,
            h2: Some(reading),
            exchange: None,
            trace: trace.clone(),
            opened: Instant::now(),
            decoded: 0,
        }
    }

    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The media type, lowercase, without parameters.
    pub fn media_type(&self) -> Option<String> {
        super::media_type(&self.headers)
    }

    /// Reads what has arrived into `buf`, waiting at most `wait` (on the load's clock) for
    /// the next bytes: a read that times out leaves the stream as it was, to be read again.
    /// 0 is the end of the body.
    pub fn read_within(&mut self, buf: &mut [u8], wait: Duration) -> io::Result<usize> {
        if let Some(h2) = self.h2.as_mut() {
            let n = h2.read_within(buf, wait)?;
            self.decoded += n as u64;
            return Ok(n);
        }
        let Some(reader) = self.reader.as_mut() else {
            return Ok(0);
        };
        // Every read and write ureq makes is bounded by the exchange's deadline.
        let deadline = self.trace.deadline(wait);
        wire::with_exchange(|x| x.deadline = deadline);
        let n = reader.read(buf)?;
        self.decoded += n as u64;
        Ok(n)
    }

    /// The trace the stream reports into.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Bytes of the body that came over the wire so far.
    pub fn wire_bytes(&self) -> u64 {
        if let Some(h2) = &self.h2 {
            return h2.wire_bytes();
        }
        wire::with_exchange(|x| x.body_wire_bytes()).unwrap_or(0)
    }

    /// How long the stream has been open (since its head came).
    pub fn open_for(&self) -> Duration {
        self.opened.elapsed()
    }

    /// Ends the stream (the connection is closed unless the body had ended): reports its
    /// body, what came and how long it lasted, and closes the exchange.
    pub fn finish(mut self) -> u64 {
        let wire_bytes = self.wire_bytes();
        drop(self.reader.take());
        // Resets the stream if it had not ended, and reports its last frames.
        drop(self.h2.take());
        drop(self.exchange.take().and_then(ExchangeGuard::finish));
        self.trace.emit_started(
            Some(self.request),
            self.opened,
            EventKind::Body {
                wire_bytes,
                decoded_bytes: self.decoded,
                content_encoding: None,
                content_type: self.header("content-type").map(str::to_string),
                ms: ms(self.opened.elapsed()),
            },
        );
        wire_bytes
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        // The body reader goes before the exchange it reports into.
        drop(self.reader.take());
        drop(self.exchange.take());
    }
}

/// A fetch (a page the user opened) answered with an event stream: its events are read and
/// reported as they come until the stream ends, `max_body` bytes have come, or the fetch's
/// time is up — a normal end for a stream, not a timeout — and the text that came is the
/// body.
pub(super) fn receive_event_stream(
    hop: Hop<'_>,
    response: ureq::http::Response<ureq::Body>,
    head: ParsedHead,
    exchange: ExchangeGuard,
    max_body: u64,
) -> Result<Response, FetchError> {
    let head_bytes = wire::with_exchange(|x| x.head_bytes()).unwrap_or_default();
    let left = wire::with_exchange(|x| x.deadline.left()).unwrap_or_default();
    let mut stream = OpenStream {
        request: hop.request,
        url: hop.url.clone(),
        status: head.status,
        reason: head.reason.clone(),
        headers: head.headers.clone(),
        head_bytes,
        reader: Some(response.into_body().into_reader()),
        h2: None,
        exchange: Some(exchange),
        trace: hop.trace.clone(),
        opened: Instant::now(),
        decoded: 0,
    };
    let (body, over) = crate::net::sse::read_whole(&mut stream, hop.trace.deadline(left), max_body);
    hop.trace.keep_response_body(hop.request, &body);
    let wire_bytes = stream.finish();
    Ok(super::body::answered(
        hop,
        head,
        body,
        (wire_bytes, head_bytes),
        over,
    ))
}
