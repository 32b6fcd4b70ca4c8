//! HTTP/2 (RFC 9113), through the `h2` crate: which origins speak it, and one connection to
//! each that does, carrying every request as a stream.
//!
//! How an origin comes to speak it, as in browsers: the first connection to an `https:`
//! origin offers `h2` and `http/1.1` in the TLS handshake (ALPN, in ureq's connector hook,
//! `wire.rs`); when the server picks `h2`, that connection becomes the origin's
//! [`Session`] and ureq is left out; when it picks HTTP/1.1, ureq goes on with it and the
//! origin is remembered as HTTP/1.1. While one request finds out, the others to the same
//! origin wait for the answer instead of opening six connections of their own.
//!
//! The connection is async (h2 is); it runs on a small runtime of its own, and the
//! blocking request side waits on it with a deadline for every step.

mod frames;
mod io;
mod tap;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;

pub(crate) use tap::{StreamOwner, Wiretap};

use super::dial::{Connection, Stream};
use crate::trace::{EventKind, RequestId, Trace};

/// Our receive window per stream: a server may send this much of a body before the browser
/// must say "more" (WINDOW_UPDATE). Chromium opens with 6 MiB; a smaller window keeps
/// flow control visible in a lesson and memory small, at no cost on a LAN.
const STREAM_WINDOW: u32 = 256 * 1024;
/// Our receive window for the whole connection (all streams together).
const CONNECTION_WINDOW: u32 = 1024 * 1024;
/// Streams this browser keeps open on one connection at once, at most (the server's own
/// limit, from its SETTINGS, applies too).
pub(crate) const MAX_STREAMS: usize = 100;
/// HTTP/2 connections kept open at once, at most (one per origin): past it, the one used
/// longest ago is closed, as browsers close idle sessions.
const MAX_SESSIONS: usize = 32;
/// Origins whose protocol is remembered, at most (the oldest answers are forgotten).
const MAX_ORIGINS: usize = 1024;
/// Longest the connection preface and settings may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What is known of an origin's protocol.
#[derive(Debug)]
enum Known {
    /// A request is finding out (its TLS handshake offers h2).
    Probing,
    /// The server chose HTTP/1.1 (or offered no choice): ureq's connections.
    Http1,
    Session(Arc<Session>),
}

/// The session's HTTP/2 connections and what it knows of each origin.
#[derive(Debug)]
pub(crate) struct H2 {
    /// False with `--http1.1`: h2 is never offered.
    pub enabled: bool,
    max_header_list: u32,
    runtime: OnceLock<Result<tokio::runtime::Runtime, String>>,
    origins: Mutex<HashMap<String, Known>>,
    changed: Condvar,
}

/// How a request goes.
pub(crate) enum Route<'a> {
    /// As a stream of this connection.
    Stream(Arc<Session>),
    /// Through ureq, offering h2 when `offer` is set.
    Ureq { probe: Option<Probe<'a>> },
}

/// The right to find out an origin's protocol; if the request ends without finding out
/// (its dial failed), the next one tries.
pub(crate) struct Probe<'a> {
    h2: &'a H2,
    origin: String,
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        let mut origins = self.h2.origins();
        if matches!(origins.get(&self.origin), Some(Known::Probing)) {
            origins.remove(&self.origin);
            self.h2.changed.notify_all();
        }
    }
}

impl H2 {
    pub fn new(enabled: bool, max_header_list: usize) -> H2 {
        H2 {
            enabled,
            max_header_list: u32::try_from(max_header_list).unwrap_or(u32::MAX),
            runtime: OnceLock::new(),
            origins: Mutex::new(HashMap::new()),
            changed: Condvar::new(),
        }
    }

    fn origins(&self) -> std::sync::MutexGuard<'_, HashMap<String, Known>> {
        self.origins.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The runtime the connections run on, made when the first one is.
    pub(crate) fn runtime(&self) -> Result<&tokio::runtime::Runtime, String> {
        self.runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("minibrowse-h2")
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start HTTP/2's runtime: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// How a request to `origin` goes. When another request is finding out whether the
    /// origin speaks h2, waits for its answer (at most `wait`).
    pub(crate) fn route(&self, origin: Option<&str>, wait: Duration) -> Route<'_> {
        let Some(origin) = origin.filter(|_| self.enabled) else {
            return Route::Ureq { probe: None };
        };
        let deadline = std::time::Instant::now() + wait;
        let mut origins = self.origins();
        loop {
            match origins.get(origin) {
                Some(Known::Session(s)) if s.is_open() => {
                    s.last_used.store(now_ms(), Ordering::Relaxed);
                    return Route::Stream(s.clone());
                }
                Some(Known::Session(_)) | None => {
                    origins.insert(origin.to_string(), Known::Probing);
                    let probe = Probe {
                        h2: self,
                        origin: origin.to_string(),
                    };
                    return Route::Ureq { probe: Some(probe) };
                }
                Some(Known::Http1) => return Route::Ureq { probe: None },
                Some(Known::Probing) => {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return Route::Ureq { probe: None };
                    }
                    origins = self
                        .changed
                        .wait_timeout(origins, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }

    /// The server at `origin` chose HTTP/1.1.
    pub(crate) fn learned_http1(&self, origin: &str) {
        let mut origins = self.origins();
        if !matches!(origins.get(origin), Some(Known::Session(s)) if s.is_open()) {
            origins.insert(origin.to_string(), Known::Http1);
            keep_within_limits(&mut origins);
            self.changed.notify_all();
        }
    }

    /// How many requests to `origin` are worth sending at once: HTTP/1.1's six connections,
    /// or the streams of one HTTP/2 connection.
    pub(crate) fn parallelism(&self, origin: &str, http1: usize) -> usize {
        match self.origins().get(origin) {
            Some(Known::Session(s)) if s.is_open() => MAX_STREAMS,
            _ => http1,
        }
    }

    /// Starts HTTP/2 on a connection whose TLS handshake chose h2, and makes it the origin's.
    pub(crate) fn start(
        &self,
        connection: Connection,
        origin: &str,
        trace: &Trace,
        request: RequestId,
    ) -> Result<Arc<Session>, String> {
        let runtime = self.runtime()?;
        let Stream::Tls(tls) = connection.stream else {
            return Err("HTTP/2 needs TLS here (h2 over cleartext is not offered)".into());
        };
        let conn = connection.conn;
        trace.emit(
            Some(request),
            EventKind::H2Session {
                conn,
                origin: origin.to_string(),
                why: "ALPN: the browser offered h2, http/1.1; the server chose h2".into(),
            },
        );
        let tap = Wiretap::new(conn, trace, request);
        let mut builder = h2::client::Builder::new();
        builder
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_header_list_size(self.max_header_list)
            .max_concurrent_streams(MAX_STREAMS as u32)
            .enable_push(false);
        let handshake = {
            let _inside = runtime.enter();
            let io = io::TlsIo::new(*tls).map_err(|e| format!("cannot go on with HTTP/2: {e}"))?;
            let tapped = tap::Tapped::new(io, tap.clone());
            builder.handshake::<_, Bytes>(tapped)
        };
        let (send, driver) = runtime
            .block_on(async { tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await })
            .map_err(|_| "the HTTP/2 connection preface timed out".to_string())?
            .map_err(|e| format!("HTTP/2 could not start: {e}"))?;
        let session = Arc::new(Session {
            conn,
            origin: origin.to_string(),
            send,
            tap,
            streams: AtomicU32::new(0),
            open: Arc::new(AtomicBool::new(true)),
            last_used: std::sync::atomic::AtomicU64::new(now_ms()),
            runtime: runtime.handle().clone(),
        });
        self.drive(runtime, driver, &session);
        let mut origins = self.origins();
        origins.insert(origin.to_string(), Known::Session(session.clone()));
        keep_within_limits(&mut origins);
        self.changed.notify_all();
        Ok(session)
    }

    /// Runs the connection's frames until it ends, then says how it ended.
    fn drive(
        &self,
        runtime: &tokio::runtime::Runtime,
        driver: h2::client::Connection<tap::Tapped<io::TlsIo>, Bytes>,
        session: &Arc<Session>,
    ) {
        let open = session.open.clone();
        let tap = session.tap.clone();
        let watched = Arc::downgrade(session);
        runtime.spawn(async move {
            let ended = driver.await;
            open.store(false, Ordering::Relaxed);
            let requests = watched
                .upgrade()
                .map(|s| s.streams.load(Ordering::Relaxed))
                .unwrap_or(0);
            let reason = match (&ended, tap.goaway()) {
                (_, Some((_, goaway))) => format!("the server sent GOAWAY ({goaway})"),
                (Ok(()), None) => "closed by this browser, no stream left on it".into(),
                (Err(e), None) => describe_error(e, &tap),
            };
            tap.report_on_connection(EventKind::H2Closed {
                conn: tap.conn,
                requests,
                reason,
            });
        });
    }

    /// Forgets a connection that can take no more streams.
    pub(crate) fn forget(&self, session: &Session) {
        let mut origins = self.origins();
        if matches!(origins.get(&session.origin), Some(Known::Session(s)) if s.conn == session.conn)
        {
            origins.remove(&session.origin);
        }
        session.open.store(false, Ordering::Relaxed);
    }
}

/// Closes the sessions used longest ago past [`MAX_SESSIONS`] (dropping the last handle to
/// a connection ends it with a GOAWAY), and forgets what it knows of origins past
/// [`MAX_ORIGINS`] (HTTP/1.1 answers first; an origin being probed is kept).
fn keep_within_limits(origins: &mut HashMap<String, Known>) {
    let mut sessions: Vec<(u64, String)> = origins
        .iter()
        .filter_map(|(origin, known)| match known {
            Known::Session(s) => Some((s.last_used.load(Ordering::Relaxed), origin.clone())),
            _ => None,
        })
        .collect();
    if sessions.len() > MAX_SESSIONS {
        sessions.sort_unstable();
        for (_, origin) in sessions.iter().take(sessions.len() - MAX_SESSIONS) {
            if let Some(Known::Session(s)) = origins.remove(origin) {
                s.open.store(false, Ordering::Relaxed);
            }
        }
    }
    if origins.len() > MAX_ORIGINS {
        let extra = origins.len() - MAX_ORIGINS;
        let http1: Vec<String> = origins
            .iter()
            .filter(|(_, k)| matches!(k, Known::Http1))
            .map(|(o, _)| o.clone())
            .take(extra)
            .collect();
        for origin in http1 {
            origins.remove(&origin);
        }
    }
}

/// A clock for "used longest ago": milliseconds since this process first asked.
fn now_ms() -> u64 {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
}

/// One HTTP/2 connection to an origin.
#[derive(Debug)]
pub(crate) struct Session {
    pub conn: u32,
    pub origin: String,
    pub send: h2::client::SendRequest<Bytes>,
    pub tap: Arc<Wiretap>,
    /// Streams opened on it so far.
    pub streams: AtomicU32,
    open: Arc<AtomicBool>,
    /// When a request last took it ([`now_ms`]).
    last_used: std::sync::atomic::AtomicU64,
    /// The runtime its connection runs on: its requests wait on it.
    pub runtime: tokio::runtime::Handle,
}

impl Session {
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Relaxed)
    }

    /// This browser's streams open on the connection now.
    pub fn open_streams(&self) -> u32 {
        self.tap.open_streams()
    }
}

/// An h2 error in words, with what the server really sent when it was not HTTP/2.
pub(crate) fn describe_error(error: &h2::Error, tap: &Wiretap) -> String {
    if let Some(reason) = error.reason() {
        let code = frames::error_code(u32::from(reason));
        let by = if error.is_remote() {
            "the server"
        } else {
            "this browser"
        };
        let first = tap.first_received();
        if !error.is_remote() && !first.is_empty() && !first.starts_with('\0') {
            return format!(
                "the server chose HTTP/2 in the TLS handshake (ALPN) but does not speak it: it began its answer with {:?} ({by} gave up with {code})",
                crate::text::escape_line(&first)
            );
        }
        if error.is_reset() {
            return format!("{by} reset this request's stream (RST_STREAM {code}); the connection's other streams go on");
        }
        if error.is_go_away() {
            return format!("{by} closed the connection (GOAWAY {code})");
        }
        return format!("{by} ended it with {code}");
    }
    if error.is_io() {
        return format!("the connection broke: {error}");
    }
    error.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origins_remembered_stay_within_their_limit() {
        let h2 = H2::new(true, 64 * 1024);
        for i in 0..(MAX_ORIGINS + 100) {
            h2.learned_http1(&format!("https://site{i}.example:443"));
        }
        assert_eq!(h2.origins().len(), MAX_ORIGINS);
        // An origin being probed is never forgotten to make room.
        let probing = h2.route(Some("https://new.example:443"), Duration::ZERO);
        assert!(matches!(probing, Route::Ureq { probe: Some(_) }));
        h2.learned_http1("https://one-more.example:443");
        assert!(matches!(
            h2.origins().get("https://new.example:443"),
            Some(Known::Probing)
        ));
        drop(probing);
        assert!(h2.origins().get("https://new.example:443").is_none());
    }
}
