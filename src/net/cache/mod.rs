//! The browsing session's HTTP cache (RFC 9111), a private cache: `http-cache-semantics`
//! decides what may be stored and when a stored response may answer; this module asks it
//! before and after each request, keeps the responses ([`store`]) and says in the trace
//! what it did and why (`cache` events).
//!
//! `Client::fetch_one` calls [`HttpCache::before`] (a fresh answer ends the request there;
//! otherwise a [`Plan`] with the headers to add: validators, or `no-cache` for a hard
//! reload), [`HttpCache::after_head`] once the response head is in (it decides, and says,
//! before the body, so a request's events stay together), and [`HttpCache::finish`] with
//! the response read (it stores it, or for a 304 answers with the stored one).

mod store;
mod words;

use std::path::Path;
use std::time::SystemTime;

use http_cache_semantics::{AfterResponse, BeforeRequest, CacheOptions, CachePolicy};
use url::Url;

use store::Store;
pub use store::{CacheLimits, Entry};

use crate::trace::{CacheAction, CacheMode, CacheStep, RequestId, StoredResponse, Trace};

/// The session's cache.
pub struct HttpCache {
    store: Store,
}

/// A request, as the cache sees it.
pub struct Asked<'a> {
    pub trace: &'a Trace,
    pub request: RequestId,
    pub url: &'a Url,
    pub method: &'a str,
    pub purpose: &'a str,
    /// The request's headers that a `Vary` may name (Accept, Accept-Encoding, Cookie, -H).
    pub headers: Vec<(String, String)>,
    pub mode: CacheMode,
}

/// A stored response, as the answer to a request: the response's head as received
/// (Content-Encoding included) and its decoded body.
pub struct Answer {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A response as it came from the network, for the cache to keep.
pub struct Received<'a> {
    pub status: u16,
    pub reason: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    /// The body arrived whole (a body cut short is not kept).
    pub complete: bool,
}

/// What the cache says before a request.
pub enum Lookup {
    /// Answered from the store: no request goes out.
    Answered(Box<Answer>),
    /// The request goes out, with these additions.
    Send(Box<Plan>),
}

/// A request on its way, as far as the cache is concerned.
pub struct Plan {
    /// The key it is stored under (`GET url`); None for a method the cache does not keep.
    key: Option<String>,
    /// The request as the policy sees it.
    request: http::Request<()>,
    /// Headers to add on the wire (validators, `Cache-Control`).
    pub extra_headers: Vec<(String, String)>,
    /// The stored response being revalidated.
    revalidating: Option<Entry>,
    /// An unsafe method: a success invalidates the URL.
    unsafe_method: bool,
    /// Decided once the head came.
    verdict: Verdict,
    method: String,
    url: String,
    purpose: String,
    request_id: RequestId,
}

/// What becomes of the response, decided from its head.
enum Verdict {
    Undecided,
    /// Store it with this policy.
    Store(Box<CachePolicy>),
    /// A 304 that matched: answer with the stored entry, updated.
    NotModified(Box<Entry>),
    Skip,
}

/// A private cache: `private` responses are stored, `s-maxage` is ignored.
fn options() -> CacheOptions {
    CacheOptions {
        shared: false,
        ..CacheOptions::default()
    }
}

impl HttpCache {
    pub fn in_memory(limits: CacheLimits) -> HttpCache {
        HttpCache {
            store: Store::in_memory(limits),
        }
    }

    /// A cache kept in `dir` across runs.
    pub fn in_dir(dir: &Path, limits: CacheLimits) -> Result<HttpCache, String> {
        Ok(HttpCache {
            store: Store::with_dir(dir, limits)?,
        })
    }

    /// Entries and body bytes held in memory.
    pub fn size(&self) -> (usize, u64) {
        self.store.size()
    }

    /// Asks the store before a request goes out.
    pub fn before(&self, asked: Asked<'_>) -> Lookup {
        let mut plan = Box::new(Plan::new(&asked));
        let Some(key) = plan.key.clone() else {
            return Lookup::Send(plan);
        };
        if asked.mode == CacheMode::Bypass {
            plan.extra_headers = vec![
                ("cache-control".into(), "no-cache".into()),
                ("pragma".into(), "no-cache".into()),
            ];
            let reason = "a hard reload (--no-cache, or R in the TUI)".to_string();
            emit(&asked, step(&plan, CacheAction::Bypass, reason));
            return Lookup::Send(plan);
        }
        let entry = match self.store.get(&key) {
            Ok(Some(entry)) => entry,
            Ok(None) => return Lookup::Send(plan),
            Err(why) => {
                emit(&asked, step(&plan, CacheAction::Unreadable, why));
                return Lookup::Send(plan);
            }
        };
        let now = SystemTime::now();
        let revalidate = asked.mode == CacheMode::Revalidate && asked.purpose == "document";
        let mut probe = plan.request.clone();
        if revalidate {
            // What a browser's reload sends: use nothing stored without asking.
            probe
                .headers_mut()
                .insert("cache-control", http::HeaderValue::from_static("max-age=0"));
        }
        let ttl = entry.policy.time_to_live(now).as_secs();
        let age = entry.policy.age(now).as_secs();
        match entry.policy.before_request(&probe, now) {
            BeforeRequest::Fresh(_) => {
                let hits = self.store.count_hit(&key).max(entry.hits + 1);
                asked
                    .trace
                    .checkpoint(&format!("take {} from the HTTP cache", asked.url));
                let mut fresh = step(&plan, CacheAction::Fresh, words::lifetime(&entry.headers));
                fresh.ttl_s = Some(ttl);
                fresh.age_s = Some(age);
                fresh.stored = Some(stored(&entry, hits));
                emit(&asked, fresh);
                asked.trace.keep_response_body(asked.request, &entry.body);
                Lookup::Answered(Box::new(answer(&entry)))
            }
            BeforeRequest::Stale { request, matches } => {
                let conditions = words::validators(&request.headers);
                let mut said = if !matches {
                    let why = words::vary_mismatch(&entry.headers);
                    step(&plan, CacheAction::Miss, why)
                } else if conditions.is_empty() {
                    let why = format!(
                        "{}, and it has no validator (ETag, Last-Modified) to ask with",
                        words::stale(&entry.headers, ttl, revalidate)
                    );
                    step(&plan, CacheAction::Miss, why)
                } else {
                    let why = words::stale(&entry.headers, ttl, revalidate);
                    let mut s = step(&plan, CacheAction::Revalidate, why);
                    s.conditions = conditions
                        .iter()
                        .map(|(k, v)| words::header_line(k, v))
                        .collect();
                    s
                };
                said.age_s = Some(age);
                said.stored = Some(stored(&entry, entry.hits));
                emit(&asked, said);
                if matches && !conditions.is_empty() {
                    if revalidate {
                        plan.extra_headers
                            .push(("cache-control".into(), "max-age=0".into()));
                    }
                    plan.extra_headers.extend(conditions);
                    plan.revalidating = Some(entry);
                }
                Lookup::Send(plan)
            }
        }
    }

    /// Decides, from the response head, what becomes of the response, and says so.
    pub fn after_head(
        &self,
        trace: &Trace,
        plan: &mut Plan,
        (status, headers, head): (u16, &[(String, String)], &str),
    ) {
        let now = SystemTime::now();
        let response = as_http_response(status, headers);
        if plan.unsafe_method {
            if status < 400 && self.store.remove(&format!("GET {}", plan.url)) {
                let why = format!("{} {} answered {status}", plan.method, plan.url);
                emit_for(trace, plan, step(plan, CacheAction::Invalidated, why));
            }
            return;
        }
        if plan.key.is_none() {
            return;
        }
        if let Some(entry) = plan.revalidating.take() {
            if status == 304 {
                plan.verdict = self.merge_304(trace, plan, entry, (&response, headers, head), now);
                return;
            }
        }
        let policy = CachePolicy::new_options(&plan.request, &response, now, options());
        let ttl = policy.time_to_live(now).as_secs();
        let has_validator = ["etag", "last-modified"]
            .iter()
            .any(|name| response.headers().contains_key(*name));
        let length = header(headers, "content-length").and_then(|v| v.trim().parse::<u64>().ok());
        let limit = self.store.limits().max_entry_bytes;
        let refusal = if !policy.is_storable() {
            Some(words::not_storable(status, headers))
        } else if ttl == 0 && !has_validator {
            Some("it is stale at once and has no validator (ETag, Last-Modified) to check it with, so it could never be used".to_string())
        } else if length.is_some_and(|n| n > limit) {
            Some(format!(
                "its body ({} bytes) is over the cache's limit of {limit} bytes for one response",
                length.unwrap_or(0)
            ))
        } else {
            None
        };
        // A response that says nothing about caching and could not be used again (an API's
        // answer, a poll) passes in silence: nothing to keep, nothing to explain.
        let silent = [
            "cache-control",
            "expires",
            "etag",
            "last-modified",
            "pragma",
        ]
        .iter()
        .all(|name| header(headers, name).is_none());
        let said = match refusal {
            Some(_) if silent => {
                plan.verdict = Verdict::Skip;
                return;
            }
            Some(why) => {
                plan.verdict = Verdict::Skip;
                step(plan, CacheAction::NotStored, why)
            }
            None => {
                plan.verdict = Verdict::Store(Box::new(policy));
                let mut s = step(plan, CacheAction::Stored, words::lifetime(headers));
                s.ttl_s = Some(ttl);
                s
            }
        };
        emit_for(trace, plan, said);
    }

    /// A 304 to a conditional request: the stored entry, its headers updated.
    fn merge_304(
        &self,
        trace: &Trace,
        plan: &Plan,
        mut entry: Entry,
        (response, headers, head): (&http::Response<()>, &[(String, String)], &str),
        now: SystemTime,
    ) -> Verdict {
        match entry.policy.after_response(&plan.request, response, now) {
            AfterResponse::NotModified(policy, _) => {
                entry.policy = policy;
                entry.headers = merge_headers(&entry.headers, headers);
                entry.head = words::head_of(&entry.head, &entry.headers);
                entry.hits += 1;
                let ttl = entry.policy.time_to_live(now).as_secs();
                let mut said = step(
                    plan,
                    CacheAction::NotModified,
                    words::lifetime(&entry.headers),
                );
                said.ttl_s = Some(ttl);
                said.stored = Some(stored(&entry, entry.hits));
                emit_for(trace, plan, said);
                let _ = head;
                Verdict::NotModified(Box::new(entry))
            }
            AfterResponse::Modified(..) => {
                let why = "a 304 whose validators match nothing stored: nothing to answer with"
                    .to_string();
                emit_for(trace, plan, step(plan, CacheAction::NotStored, why));
                Verdict::Skip
            }
        }
    }

    /// Stores the response read, or, for a 304 that matched, gives the stored answer to
    /// use instead.
    pub fn finish(&self, trace: &Trace, mut plan: Box<Plan>, got: Received<'_>) -> Option<Answer> {
        match std::mem::replace(&mut plan.verdict, Verdict::Undecided) {
            Verdict::Store(policy) => {
                let key = plan.key.clone()?;
                if !got.complete {
                    let why = "its body broke off".to_string();
                    emit_for(trace, &plan, step(&plan, CacheAction::NotStored, why));
                    return None;
                }
                let entry = Entry {
                    key,
                    policy: *policy,
                    url: plan.url.clone(),
                    status: got.status,
                    reason: got.reason.to_string(),
                    headers: got.headers.to_vec(),
                    head: words::head_of(
                        &format!("HTTP/1.1 {} {}", got.status, got.reason),
                        got.headers,
                    ),
                    stored_at: SystemTime::now(),
                    hits: 0,
                    body: got.body.to_vec(),
                };
                if !self.store.put(entry) {
                    let why = format!(
                        "its body ({} bytes) is over the cache's limit of {} bytes for one response",
                        got.body.len(),
                        self.store.limits().max_entry_bytes
                    );
                    emit_for(trace, &plan, step(&plan, CacheAction::NotStored, why));
                }
                None
            }
            Verdict::NotModified(entry) => {
                let answered = answer(&entry);
                self.store.put(*entry);
                trace.keep_response_body(plan.request_id, &answered.body);
                Some(answered)
            }
            Verdict::Undecided | Verdict::Skip => None,
        }
    }
}

impl Plan {
    fn new(asked: &Asked<'_>) -> Plan {
        let mut url = asked.url.clone();
        url.set_fragment(None);
        let mut request = http::Request::builder()
            .method(asked.method)
            .uri(url.as_str());
        for (name, value) in &asked.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        // A URL or header http cannot hold is not cached (the request goes as it is).
        let (request, valid) = match request.body(()) {
            Ok(request) => (request, true),
            Err(_) => (http::Request::new(()), false),
        };
        let method = asked.method.to_ascii_uppercase();
        // A response to a request with credentials is kept nowhere (they would be written
        // to the cache directory with it).
        let credentials = !url.username().is_empty()
            || url.password().is_some()
            || asked
                .headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
        Plan {
            key: (valid && method == "GET" && !credentials).then(|| format!("GET {url}")),
            request,
            extra_headers: Vec::new(),
            revalidating: None,
            unsafe_method: !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE"),
            verdict: Verdict::Undecided,
            method,
            url: url.to_string(),
            purpose: asked.purpose.to_string(),
            request_id: asked.request,
        }
    }
}

fn step(plan: &Plan, action: CacheAction, reason: String) -> CacheStep {
    CacheStep {
        action,
        method: plan.method.clone(),
        url: plan.url.clone(),
        purpose: plan.purpose.clone(),
        reason,
        ttl_s: None,
        age_s: None,
        conditions: Vec::new(),
        stored: None,
    }
}

fn emit(asked: &Asked<'_>, step: CacheStep) {
    asked
        .trace
        .emit(Some(asked.request), crate::trace::EventKind::Cache(step));
}

fn emit_for(trace: &Trace, plan: &Plan, step: CacheStep) {
    trace.emit(Some(plan.request_id), crate::trace::EventKind::Cache(step));
}

fn stored(entry: &Entry, hits: u64) -> StoredResponse {
    StoredResponse {
        status: entry.status,
        reason: entry.reason.clone(),
        head: entry.head.clone(),
        bytes: entry.body.len() as u64,
        content_type: header(&entry.headers, "content-type").map(str::to_string),
        stored_at: words::rfc3339(entry.stored_at),
        hits,
    }
}

/// The stored response, to answer with.
fn answer(entry: &Entry) -> Answer {
    Answer {
        status: entry.status,
        reason: entry.reason.clone(),
        headers: entry.headers.clone(),
        body: entry.body.clone(),
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The head as the policy reads it (header lines http cannot hold are left out).
fn as_http_response(status: u16, headers: &[(String, String)]) -> http::Response<()> {
    let mut response = http::Response::new(());
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// RFC 9111 section 4.3.4: the 304's header fields replace the stored ones of the same
/// name; those that describe the body (its length, its coding) stay as stored.
fn merge_headers(stored: &[(String, String)], fresh: &[(String, String)]) -> Vec<(String, String)> {
    const KEPT: [&str; 4] = [
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "content-range",
    ];
    stored
        .iter()
        .map(|(name, value)| {
            let lower = name.to_ascii_lowercase();
            match header(fresh, name) {
                Some(new) if !KEPT.contains(&lower.as_str()) => (name.clone(), new.to_string()),
                _ => (name.clone(), value.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::{Collector, EventKind};
    use std::sync::Arc;

    fn asked<'a>(trace: &'a Trace, url: &'a Url, method: &'a str) -> Asked<'a> {
        Asked {
            trace,
            request: trace.new_request_id(),
            url,
            method,
            purpose: "document",
            headers: vec![("accept".into(), "text/html".into())],
            mode: CacheMode::Normal,
        }
    }

    /// Runs one request through the cache with the network's answer `headers`.
    fn through(
        cache: &HttpCache,
        trace: &Trace,
        url: &Url,
        method: &str,
        headers: &[(&str, &str)],
    ) -> bool {
        match cache.before(asked(trace, url, method)) {
            Lookup::Answered(_) => true,
            Lookup::Send(mut plan) => {
                let headers: Vec<(String, String)> = headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                cache.after_head(trace, &mut plan, (200, &headers, ""));
                let got = Received {
                    status: 200,
                    reason: "OK",
                    headers: &headers,
                    body: b"hello",
                    complete: true,
                };
                cache.finish(trace, plan, got);
                false
            }
        }
    }

    #[test]
    fn a_successful_post_drops_the_stored_get_of_its_url() {
        let collector = Arc::new(Collector::default());
        let trace = Trace::new(collector.clone());
        let cache = HttpCache::in_memory(CacheLimits::default());
        let url = Url::parse("http://a.test/list").expect("a URL");
        let fresh = [("cache-control", "max-age=60")];
        assert!(!through(&cache, &trace, &url, "GET", &fresh));
        assert!(
            through(&cache, &trace, &url, "GET", &fresh),
            "fresh: from the store"
        );
        assert!(!through(&cache, &trace, &url, "POST", &[]));
        assert!(
            !through(&cache, &trace, &url, "GET", &fresh),
            "asked again after the POST"
        );
        let actions: Vec<CacheAction> = collector
            .events()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Cache(step) => Some(step.action),
                _ => None,
            })
            .collect();
        use CacheAction::*;
        assert_eq!(actions, [Stored, Fresh, Invalidated, Stored]);
    }

    #[test]
    fn a_response_that_says_nothing_about_caching_passes_in_silence() {
        let collector = Arc::new(Collector::default());
        let trace = Trace::new(collector.clone());
        let cache = HttpCache::in_memory(CacheLimits::default());
        let url = Url::parse("http://a.test/poll").expect("a URL");
        through(
            &cache,
            &trace,
            &url,
            "GET",
            &[("content-type", "application/json")],
        );
        through(
            &cache,
            &trace,
            &url,
            "GET",
            &[("cache-control", "no-store")],
        );
        let events = collector.events();
        assert_eq!(events.len(), 1, "{events:?}");
        assert!(
            matches!(&events[0].kind, EventKind::Cache(s) if s.action == CacheAction::NotStored)
        );
    }

    #[test]
    fn a_304_updates_the_stored_fields_but_not_the_bodys_length() {
        let stored = vec![
            ("Content-Length".to_string(), "10".to_string()),
            ("Cache-Control".to_string(), "max-age=5".to_string()),
            ("ETag".to_string(), "\"a\"".to_string()),
        ];
        let fresh = vec![
            ("content-length".to_string(), "0".to_string()),
            ("cache-control".to_string(), "max-age=60".to_string()),
            ("x-new".to_string(), "1".to_string()),
        ];
        let merged = merge_headers(&stored, &fresh);
        assert_eq!(merged[0].1, "10");
        assert_eq!(merged[1].1, "max-age=60");
        assert_eq!(
            merged.len(),
            3,
            "a field the 304 adds is not stored (as the crate does)"
        );
    }
}
