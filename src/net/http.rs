//! HTTP: one request at a time through ureq, each hop of a redirect chain its own request.
//!
//! ureq is told not to follow redirects, so every hop is traced (its own DNS, connection or
//! reuse, request, response). What happened on the wire comes from the thread-local
//! [`wire::Exchange`] the instrumented transport fills in.

mod body;
mod failure;
mod head;
mod over_h2;
mod stream;

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::unversioned::transport::Connector;
use ureq::Agent;
use url::Url;

use super::cache::{CacheLimits, HttpCache};
use super::coding;
use super::cookies::{self, Context, Jar};
use super::dial;
use super::h2::{Route, H2};
use super::proxy::Proxies;
use super::trust::SessionTrust;
use super::wire::{self, Exchange, TracedConnector, TracedResolver};
use super::Dns;
pub(crate) use failure::one_line;
use failure::{describe_failure, timed_out};
use head::{report_head, ParsedHead};
use over_h2::H2Failure;
mod cache_hook;

/// What the browser adds to a request's own headers: the cookie, and the cache's headers
/// (validators, or `no-cache` for a hard reload).
type Added<'a> = (Option<&'a str>, &'a [(String, String)]);
use crate::trace::{ms, EventKind, LoadDeadline, RequestId, SentBody, Step, Trace};

pub use body::BodyChunk;
pub use stream::OpenStream;

/// How the client behaves; fixed for a browsing session.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    pub user_agent: String,
    /// Extra request headers (`-H`), sent on every request.
    pub headers: Vec<(String, String)>,
    /// Hops followed before a redirect chain is called a loop.
    pub max_redirects: u32,
    /// Extra trusted certificate authorities, DER-encoded (`--cacert`).
    pub extra_roots: Vec<Vec<u8>>,
    /// Do not check certificates (`--insecure`); the trace says so at every handshake.
    pub insecure: bool,
    /// Proxies (`--proxy`, the environment), and the names that bypass them.
    pub proxies: Proxies,
    /// Largest response head accepted.
    pub max_header_bytes: usize,
    /// Keep cookies in a jar and send them back (false: `--no-cookies`, a stateless browser).
    pub cookies: bool,
    /// Keep the HTTP cache in this directory across runs (`--cache-dir`); in memory if None.
    pub cache_dir: Option<std::path::PathBuf>,
    /// Never answer from the HTTP cache (`--no-cache`): every load is a hard reload.
    pub no_cache: bool,
    /// Offer only HTTP/1.1 (`--http1.1`): no HTTP/2 in the TLS handshake.
    pub http1_only: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            user_agent: format!("minibrowse/{}", env!("CARGO_PKG_VERSION")),
            headers: Vec::new(),
            max_redirects: 20,
            extra_roots: Vec::new(),
            insecure: false,
            proxies: Proxies::none(),
            max_header_bytes: 64 * 1024,
            cookies: true,
            cache_dir: None,
            no_cache: false,
            http1_only: false,
        }
    }
}

/// Limits for one fetch.
#[derive(Clone, Copy, Debug)]
pub struct FetchLimits {
    /// Whole request, redirects included.
    pub timeout: Duration,
    /// Largest decoded body.
    pub max_body: u64,
}

/// What a request sends: its method, and a body with its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestSpec {
    pub method: String,
    pub body: Option<(Vec<u8>, String)>,
}

impl RequestSpec {
    /// The methods minibrowse sends (ureq has a request type for each).
    pub const METHODS: [&'static str; 7] =
        ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

    pub fn get() -> RequestSpec {
        RequestSpec {
            method: "GET".into(),
            body: None,
        }
    }

    /// The next hop's request after a redirect `status` (the Fetch standard's rules): 303
    /// makes any method but HEAD a GET, 301 and 302 make a POST a GET (historical practice),
    /// both without the body; 307 and 308 repeat the method and the body.
    pub fn after_redirect(&self, status: u16) -> RequestSpec {
        let to_get = match status {
            303 => self.method != "HEAD",
            301 | 302 => self.method == "POST",
            _ => false,
        };
        if to_get {
            RequestSpec::get()
        } else {
            self.clone()
        }
    }
}

/// What a fetch is for: decides the Accept header and what the trace calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Document,
    Stylesheet,
    Script,
    Image,
    Font,
    Frame,
    Media,
    /// A script's own request (a chat's poll or send): what DevTools calls fetch/XHR.
    Fetch,
    /// An `EventSource`'s stream of Server-Sent Events.
    EventSource,
    Other,
}

impl Purpose {
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Document => "document",
            Purpose::Stylesheet => "stylesheet",
            Purpose::Script => "script",
            Purpose::Image => "image",
            Purpose::Font => "font",
            Purpose::Frame => "frame",
            Purpose::Media => "media",
            Purpose::Fetch => "fetch",
            Purpose::EventSource => "eventsource",
            Purpose::Other => "other",
        }
    }

    /// The Accept header a browser sends for this kind of request.
    fn accept(self) -> &'static str {
        match self {
            Purpose::Document | Purpose::Frame => {
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
            }
            Purpose::Stylesheet => "text/css,*/*;q=0.1",
            Purpose::Image => {
                "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"
            }
            Purpose::Script | Purpose::Font | Purpose::Media | Purpose::Other => "*/*",
            Purpose::Fetch => "application/json, */*;q=0.5",
            Purpose::EventSource => "text/event-stream",
        }
    }
}

/// Most header lines accepted in one response head (ureq's own limit).
pub const MAX_RESPONSE_HEADERS: usize = 128;

/// A final (non-redirect) response with its body.
#[derive(Clone, Debug)]
pub struct Response {
    /// The request that got this response (the last hop).
    pub request: RequestId,
    pub url: Url,
    pub status: u16,
    pub reason: String,
    /// Headers as received on the wire, in order (Content-Encoding included).
    pub headers: Vec<(String, String)>,
    /// The body, decoded from its Content-Encoding.
    pub body: Vec<u8>,
    pub wire_bytes: u64,
    /// Bytes of the request head as sent and of the response head as received.
    pub head_bytes: (u64, u64),
    /// Redirect hops followed before this response.
    pub hops: u32,
    /// Set when the body broke off: `body` holds the part that arrived.
    pub incomplete: Option<String>,
}

impl Response {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The media type, lowercase, without parameters (`text/html`).
    pub fn media_type(&self) -> Option<String> {
        media_type(&self.headers)
    }

    /// The `charset` parameter of Content-Type, if any.
    pub fn charset(&self) -> Option<String> {
        charset(&self.headers)
    }
}

/// The `charset` parameter of `Content-Type`, if any.
fn charset(headers: &[(String, String)]) -> Option<String> {
    let value = header(headers, "content-type")?;
    value.split(';').skip(1).find_map(|param| {
        let (key, val) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| val.trim().trim_matches('"').to_string())
    })
}

/// The media type of `Content-Type`, lowercase, without parameters (`text/html`).
fn media_type(headers: &[(String, String)]) -> Option<String> {
    header(headers, "content-type").map(|v| {
        v.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    })
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A fetch that failed, naming the step.
#[derive(Clone, Debug)]
pub struct FetchError {
    pub step: Step,
    pub message: String,
    pub request: Option<RequestId>,
}

impl FetchError {
    /// A failure of `step` in `request`: reported in the trace, then returned.
    pub fn reported(trace: &Trace, request: RequestId, step: Step, message: String) -> FetchError {
        FetchError::reported_for(trace, request, None, step, message)
    }

    /// The same, naming the URL (for a request that fails before it is sent, no other
    /// event does).
    pub fn reported_for(
        trace: &Trace,
        request: RequestId,
        url: Option<&Url>,
        step: Step,
        message: String,
    ) -> FetchError {
        trace.emit(
            Some(request),
            EventKind::Failed {
                step,
                message: message.clone(),
                url: url.map(Url::to_string),
            },
        );
        FetchError {
            step,
            message,
            request: Some(request),
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.step, self.message)
    }
}

/// An HTTP client whose every step is traced. Share one per browsing session: its
/// connection pool and DNS cache are what make keep-alive and cache hits visible.
pub struct Client {
    agent: Agent,
    /// HTTP/2 connections and which origins speak it.
    h2: Arc<H2>,
    options: HttpOptions,
    /// Shared with connections made outside ureq (WebSockets).
    dns: Arc<Dns>,
    tls: Arc<SessionTrust>,
    conn_ids: Arc<std::sync::atomic::AtomicU32>,
    /// The session's cookies (kept even with `--no-cookies`, then always empty).
    jar: Jar,
    /// The session's HTTP cache (src/net/cache).
    cache: HttpCache,
}

impl Client {
    pub fn new(dns: Arc<Dns>, options: HttpOptions) -> Result<Client, String> {
        let tls = Arc::new(SessionTrust::new(&options.extra_roots, options.insecure));
        let config = Agent::config_builder()
            // ureq would read http_proxy itself and then skip our resolver: proxies are ours
            // (net::proxy), so that the trace can show the hop.
            .proxy(None)
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(options.user_agent.as_str())
            .max_response_header_size(options.max_header_bytes)
            // Browsers open at most six connections to one host; keep them all for reuse.
            .max_idle_connections_per_host(6)
            .max_idle_connections(64)
            .build();
        let conn_ids = Arc::new(std::sync::atomic::AtomicU32::new(1));
        let h2 = Arc::new(H2::new(!options.http1_only, options.max_header_bytes));
        let connector = ().chain(TracedConnector {
            h2: h2.clone(),
            tls: tls.clone(),
            ids: conn_ids.clone(),
        });
        let resolver = TracedResolver {
            dns: dns.clone(),
            proxies: Arc::new(options.proxies.clone()),
        };
        let agent = Agent::with_parts(config, connector, resolver);
        let limits = CacheLimits::default();
        let cache = match &options.cache_dir {
            Some(dir) => HttpCache::in_dir(dir, limits)
                .map_err(|e| format!("cannot keep the HTTP cache in --cache-dir: {e}"))?,
            None => HttpCache::in_memory(limits),
        };
        Ok(Client {
            agent,
            h2,
            options,
            dns,
            tls,
            conn_ids,
            jar: Jar::default(),
            cache,
        })
    }

    /// The session's HTTP cache.
    pub fn http_cache(&self) -> &HttpCache {
        &self.cache
    }

    /// The session's cookie jar.
    pub fn cookie_jar(&self) -> &Jar {
        &self.jar
    }

    /// GETs `url` as a page the user went to, following redirects hop by hop.
    pub fn fetch(
        &self,
        url: &Url,
        purpose: Purpose,
        limits: FetchLimits,
        trace: &Trace,
    ) -> Result<Response, FetchError> {
        self.fetch_for(url, purpose, Context::TopLevel, limits, trace)
    }

    /// GETs `url` in `context`: for the page that needs it (an asset, a frame), or as a
    /// top-level navigation. The context decides which cookies go (`SameSite`).
    pub fn fetch_for(
        &self,
        url: &Url,
        purpose: Purpose,
        context: Context<'_>,
        limits: FetchLimits,
        trace: &Trace,
    ) -> Result<Response, FetchError> {
        let spec = RequestSpec::get();
        self.fetch_with(url, purpose, context, &spec, limits, trace, &mut |_| {})
    }

    /// Sends `spec` (a method and maybe a body) to `url` as a page the user went to, and
    /// follows redirects by the standard's method rules.
    pub fn fetch_as(
        &self,
        url: &Url,
        purpose: Purpose,
        spec: &RequestSpec,
        limits: FetchLimits,
        trace: &Trace,
    ) -> Result<Response, FetchError> {
        self.fetch_as_streaming(url, purpose, spec, limits, trace, &mut |_| {})
    }

    /// [`Client::fetch_as`], handing `on_chunk` each piece of the final answer's decoded body
    /// as it is read (a streaming parse reads the page while it arrives). The response still
    /// holds the whole body. An answer from the cache, or in a coding ureq does not undo,
    /// comes as one piece at the end; a redirect's body never comes.
    pub fn fetch_as_streaming(
        &self,
        url: &Url,
        purpose: Purpose,
        spec: &RequestSpec,
        limits: FetchLimits,
        trace: &Trace,
        on_chunk: &mut dyn FnMut(BodyChunk<'_>),
    ) -> Result<Response, FetchError> {
        self.fetch_with(
            url,
            purpose,
            Context::TopLevel,
            spec,
            limits,
            trace,
            on_chunk,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn fetch_with(
        &self,
        url: &Url,
        purpose: Purpose,
        context: Context<'_>,
        spec: &RequestSpec,
        limits: FetchLimits,
        trace: &Trace,
        on_chunk: &mut dyn FnMut(BodyChunk<'_>),
    ) -> Result<Response, FetchError> {
        // One deadline for the whole chain of hops, on the load's clock: a person's pauses
        // in step mode do not count against it.
        let deadline = trace.deadline(limits.timeout);
        let mut url = url.clone();
        let mut spec = spec.clone();
        let mut hops = 0u32;
        loop {
            let body = spec.body.as_ref().map(|(b, t)| (b.as_slice(), t.as_str()));
            let hop = self.fetch_one(
                &url,
                purpose,
                (&spec.method, body),
                (limits.max_body, &mut *on_chunk),
                (&deadline, context),
                trace,
            )?;
            let Some(location) = hop.redirect_location() else {
                return Ok(Response { hops, ..hop });
            };
            hops += 1;
            let next_spec = spec.after_redirect(hop.status);
            let methods = (spec.method.as_str(), next_spec.method.as_str());
            let next = follow(
                &hop,
                &location,
                hops,
                self.options.max_redirects,
                methods,
                trace,
            )?;
            url = next;
            spec = next_spec;
        }
    }

    /// How many requests to `url`'s origin are worth having in flight at once: `http1` (a
    /// browser's six connections to a host) until the origin is known to speak HTTP/2, then
    /// the streams of its one connection.
    pub fn parallelism(&self, url: &Url, http1: usize) -> usize {
        match h2_origin(url) {
            Some(origin) => self.h2.parallelism(&origin, http1),
            None => http1,
        }
    }

    pub fn dns(&self) -> &Arc<Dns> {
        &self.dns
    }

    /// The session's TLS setup and whom it trusts.
    pub fn tls_config(&self) -> &Arc<SessionTrust> {
        &self.tls
    }

    /// The session's connection numbering (shared with connections made outside ureq).
    pub fn connection_ids(&self) -> &std::sync::atomic::AtomicU32 {
        &self.conn_ids
    }

    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// POSTs `body` to `url` (one request; a redirect answer is returned as it is).
    pub fn post(
        &self,
        url: &Url,
        body: &[u8],
        content_type: &str,
        limits: FetchLimits,
        trace: &Trace,
    ) -> Result<Response, FetchError> {
        self.fetch_one(
            url,
            Purpose::Fetch,
            ("POST", Some((body, content_type))),
            (limits.max_body, &mut |_| {}),
            (&trace.deadline(limits.timeout), Context::TopLevel),
            trace,
        )
    }

    /// One request and its answer, redirects not followed: the cookies sent, the request,
    /// the response head, the cookies it sets, then the body.
    fn fetch_one(
        &self,
        url: &Url,
        purpose: Purpose,
        (method, body): (&str, Option<(&[u8], &str)>),
        (max_body, on_chunk): (u64, &mut dyn FnMut(BodyChunk<'_>)),
        (deadline, context): (&LoadDeadline, Context<'_>),
        trace: &Trace,
    ) -> Result<Response, FetchError> {
        let hop = Hop {
            url,
            request: trace.new_request_id(),
            timeout: deadline.left(),
            context,
            trace,
        };
        if hop.timeout.is_zero() {
            return Err(hop.fail(Step::Redirect, "no time left for this redirect hop".into()));
        }
        let mut plan = match self.ask_cache(hop, purpose, method) {
            ControlFlow::Break(from_the_store) => {
                body::whole(hop, &from_the_store, on_chunk);
                return Ok(from_the_store);
            }
            ControlFlow::Continue(plan) => plan,
        };
        let open = |retried: bool| {
            let mut x = Exchange::new(
                trace.clone(),
                hop.request,
                method.to_string(),
                url.to_string(),
                purpose.name(),
                deadline.clone(),
            );
            x.retried = retried;
            x.body = body.map(|(bytes, content_type)| SentBody::of(content_type, bytes));
            wire::begin(x)
        };
        let mut exchange = open(false);
        let cookie = self.cookie_for(hop);
        let added = (cookie.as_deref(), plan.extra_headers.as_slice());
        let origin = h2_origin(url);
        let mut retries = 0;
        let answer = loop {
            let probe = match self.h2.route(origin.as_deref(), deadline.left()) {
                Route::Stream(session) => {
                    let sent = (purpose, method, body);
                    match self.send_h2(hop, &session, sent, added, deadline) {
                        Ok(answer) => break Answer::H2(answer),
                        Err(H2Failure::Failed(e)) => return Err(e),
                        Err(H2Failure::Unprocessed(why)) => {
                            self.h2.forget(&session);
                            if !hop.retry_unprocessed(&why, &mut retries, 2) {
                                return Err(hop.fail(Step::Send, why));
                            }
                            exchange.finish();
                            exchange = open(true);
                            continue;
                        }
                    }
                }
                Route::Ureq { probe } => probe,
            };
            let error = match self.send(hop, purpose, (method, body), added) {
                Ok(response) => break Answer::Http1(response),
                Err(e) => e,
            };
            let mut finished = exchange.finish();
            if self.took_over_h2(&mut finished, origin.as_deref(), hop)? {
                drop(probe);
                exchange = open(false);
                continue;
            }
            // On the next idle connection, at worst a new one (the pool holds no more than a
            // host's six).
            if hop.retry_on_idle_close(finished.as_ref(), &mut retries, 6) {
                exchange = open(true);
                continue;
            }
            let (step, message) = describe_failure(&error, finished, hop);
            return Err(hop.fail(step, message));
        };
        let head = match &answer {
            Answer::Http1(response) => report_head(response, hop),
            Answer::H2(answer) => answer.head.clone(),
        };
        self.take_cookies(hop, &head.headers);
        let answered = (head.status, head.headers.as_slice(), "");
        self.cache.after_head(trace, &mut plan, answered);
        let mut streamed = 0;
        let mut counted = |chunk: BodyChunk<'_>| {
            streamed += chunk.bytes.len();
            on_chunk(chunk)
        };
        let response = match answer {
            Answer::Http1(response) => {
                body::receive(hop, response, head, exchange, max_body, &mut counted)?
            }
            Answer::H2(answer) => {
                // ureq's hooks never saw this request: its exchange closes empty.
                exchange.finish();
                self.receive_h2(hop, answer, (max_body, deadline), &mut counted)?
            }
        };
        let response = self.keep_in_cache(trace, plan, response);
        // A 304 answered from the store: its body is the stored one, not what was read.
        if streamed == 0 && !response.body.is_empty() && response.redirect_location().is_none() {
            body::whole(hop, &response, on_chunk);
        }
        Ok(response)
    }

    /// When ureq's request failed because the TLS handshake chose HTTP/2: the connection
    /// becomes the origin's session (true), and the request goes again, as a stream.
    fn took_over_h2(
        &self,
        finished: &mut Option<Exchange>,
        origin: Option<&str>,
        hop: Hop<'_>,
    ) -> Result<bool, FetchError> {
        let Some(connection) = finished.as_mut().and_then(|x| x.h2_connection.take()) else {
            return Ok(false);
        };
        self.h2
            .start(
                connection,
                origin.unwrap_or_default(),
                hop.trace,
                hop.request,
            )
            .map_err(|e| hop.fail(Step::Send, e))?;
        Ok(true)
    }

    /// The `Cookie` header for this request from the jar, reported (RFC 6265 section 5.4:
    /// the browser looks in its jar before every request).
    fn cookie_for(&self, hop: Hop<'_>) -> Option<String> {
        if !self.options.cookies {
            return None;
        }
        let (header, names) = self.jar.header_for(hop.url, hop.context)?;
        hop.trace.emit(
            Some(hop.request),
            EventKind::CookieSent {
                names,
                header: header.clone(),
            },
        );
        Some(header)
    }

    /// Builds the request (a GET, or a POST of `body`) and sends it; ureq returns once the
    /// response head has arrived.
    fn send(
        &self,
        hop: Hop<'_>,
        purpose: Purpose,
        (method, body): (&str, Option<(&[u8], &str)>),
        added: Added<'_>,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let paced = hop.trace.is_paced();
        let url = hop.url.as_str();
        if let Some((bytes, content_type)) = body {
            hop.trace
                .keep_request_body(hop.request, content_type, bytes);
        }
        // The methods without a body in ureq's types take one only when there is one.
        let bodiless = match method {
            "GET" => Some(self.agent.get(url)),
            "HEAD" => Some(self.agent.head(url)),
            "DELETE" => Some(self.agent.delete(url)),
            "OPTIONS" => Some(self.agent.options(url)),
            _ => None,
        };
        let with_body = match (bodiless, method) {
            (Some(builder), _) => match body {
                None => {
                    let builder = builder.header("accept", purpose.accept());
                    return self
                        .finish_request(builder, added, hop.timeout, paced)
                        .call();
                }
                Some(_) => builder.force_send_body(),
            },
            (None, "PUT") => self.agent.put(url),
            (None, "PATCH") => self.agent.patch(url),
            (None, _) => self.agent.post(url),
        };
        let mut builder = with_body.header("accept", purpose.accept());
        if let Some((_, content_type)) = body {
            builder = builder.header("content-type", content_type);
        }
        let builder = self.finish_request(builder, added, hop.timeout, paced);
        match body {
            Some((bytes, _)) => builder.send(bytes),
            None => builder.send_empty(),
        }
    }

    /// What follows a request's own headers: the cookie, the cache's validators, the `-H`
    /// headers, the timeouts.
    fn finish_request<B>(
        &self,
        mut builder: ureq::RequestBuilder<B>,
        (cookie, cache_headers): Added<'_>,
        timeout: Duration,
        paced: bool,
    ) -> ureq::RequestBuilder<B> {
        if let Some(cookie) = cookie {
            builder = builder.header("cookie", cookie);
        }
        for (name, value) in cache_headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(codings) = self.accept_encoding() {
            builder = builder.header("accept-encoding", codings);
        }
        for (name, value) in &self.options.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        configure(builder, timeout, paced)
    }

    /// The `Accept-Encoding` this browser adds: every coding it can undo (ureq alone would
    /// offer gzip and br), unless a `-H Accept-Encoding` replaces it.
    fn accept_encoding(&self) -> Option<&'static str> {
        let own = self
            .options
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("accept-encoding"));
        (!own).then_some(coding::ACCEPT_ENCODING)
    }

    /// Reports each `Set-Cookie` of a response, stored in the jar unless cookies are off.
    fn take_cookies(&self, hop: Hop<'_>, headers: &[(String, String)]) {
        for (_, value) in headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        {
            let set = if self.options.cookies {
                self.jar.store(hop.url, value, hop.context)
            } else {
                cookies::read_set_cookie(value, "ignored (--no-cookies)")
            };
            hop.trace.emit(Some(hop.request), EventKind::SetCookie(set));
        }
    }
}

/// One request of a fetch (a redirect chain is one per hop): what its parts report against.
#[derive(Clone, Copy)]
struct Hop<'a> {
    url: &'a Url,
    request: RequestId,
    /// This hop's time, as it was when the hop began (the exchange's deadline enforces it).
    timeout: Duration,
    /// For whom it is made, for `SameSite`.
    context: Context<'a>,
    trace: &'a Trace,
}

impl Hop<'_> {
    /// After a send that failed: whether to send again, because the pooled connection was
    /// one the server had closed while it sat idle (in step mode a pause is enough) and
    /// nothing reached the server, as browsers do; at most `most` times. A retry is said in
    /// the trace.
    fn retry_on_idle_close(
        &self,
        finished: Option<&Exchange>,
        retries: &mut u32,
        most: u32,
    ) -> bool {
        let Some(closed) = finished.and_then(|x| x.closed_while_idle) else {
            return false;
        };
        self.say_retry(retries, most, closed.described())
    }

    /// Counts one more try, at most `most`, and says it in the trace with why.
    fn say_retry(&self, retries: &mut u32, most: u32, error: String) -> bool {
        if *retries >= most {
            return false;
        }
        *retries += 1;
        self.trace.emit(
            Some(self.request),
            EventKind::Retry {
                attempt: *retries,
                delay_ms: 0,
                error,
            },
        );
        true
    }

    /// After an HTTP/2 stream the server never processed (a GOAWAY before it, a refused
    /// stream): whether to send it again on a new connection, as RFC 9113 allows; at most
    /// `most` times. A retry is said in the trace.
    fn retry_unprocessed(&self, why: &str, retries: &mut u32, most: u32) -> bool {
        let error = format!("{why}; the server had not processed this request, so it goes again on a new connection");
        self.say_retry(retries, most, error)
    }

    /// A failure of `step` in this request: reported in the trace, then returned.
    fn fail(&self, step: Step, message: String) -> FetchError {
        FetchError::reported_for(self.trace, self.request, Some(self.url), step, message)
    }
}

/// A response head and its body still to read, over either protocol.
enum Answer {
    Http1(ureq::http::Response<ureq::Body>),
    H2(over_h2::H2Answer),
}

/// The origin key of an `https:` URL, for HTTP/2 (None: HTTP/2 is only offered over TLS).
fn h2_origin(url: &Url) -> Option<String> {
    if url.scheme() != "https" {
        return None;
    }
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    Some(wire::origin_of("https", host, url.port_or_known_default()?))
}

/// ureq's timeout for one request. Its clock counts the time a person holds the load in
/// step mode, so a paced request gets none from ureq: the exchange's deadline, on the
/// load's clock, bounds every read and write instead (`wire::within_request`). Unpaced,
/// the two clocks agree and ureq's whole-request timeout stays as a second guard.
fn configure<B>(
    builder: ureq::RequestBuilder<B>,
    timeout: Duration,
    paced: bool,
) -> ureq::RequestBuilder<B> {
    if paced {
        return builder;
    }
    builder.config().timeout_global(Some(timeout)).build()
}

impl Response {
    fn redirect_location(&self) -> Option<String> {
        if is_redirect(self.status) {
            self.header("location").map(str::to_string)
        } else {
            None
        }
    }
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Checks and reports one redirect hop; returns the URL to request next.
fn follow(
    hop: &Response,
    location: &str,
    hops: u32,
    max_redirects: u32,
    (method, next_method): (&str, &str),
    trace: &Trace,
) -> Result<Url, FetchError> {
    let fail = |message: String| FetchError::reported(trace, hop.request, Step::Redirect, message);
    let next = hop.url.join(location).map_err(|e| {
        fail(format!(
            "the Location {location:?} is not a valid URL ({e})"
        ))
    })?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(fail(format!(
            "refused to follow a redirect to {next}: only http and https are followed"
        )));
    }
    if hops > max_redirects {
        return Err(fail(format!(
            "redirect loop: gave up after {max_redirects} redirects (the last pointed to {next})"
        )));
    }
    trace.emit(
        Some(hop.request),
        EventKind::Redirect {
            status: hop.status,
            location: location.to_string(),
            next_url: next.to_string(),
            hop: hops,
            method: Some(method.to_string()),
            next_method: Some(next_method.to_string()),
        },
    );
    Ok(next)
}

/// Whether the headers say `text/event-stream`.
fn is_event_stream(headers: &[(String, String)]) -> bool {
    media_type(headers).is_some_and(|t| t == "text/event-stream")
}
