//! What every phase of a dial shares: how long it may take ([`Budget`]) and how it fails
//! ([`DialError`]). The phases themselves are in `dial.rs` (DNS, TCP, the proxy) and `tls.rs`.

use std::io;
use std::time::{Duration, Instant};

use crate::trace::Step;

/// How long each phase of a dial may take: the one place every phase's timeout comes from.
///
/// Each phase (the TCP connect, the proxy's tunnel, the TLS handshake, a WebSocket's
/// Upgrade) gets the whole budget, counted from its own start, and each starts after its
/// checkpoint: a person paused in step mode *before* a phase costs it nothing. Over HTTP
/// the budget is what is left of the request's `LoadDeadline` when the dial begins (on the
/// load's clock, which leaves out held time), and what comes after the dial — sending,
/// waiting, the body — is bounded by that deadline read by read (`wire::within_request`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    /// None: no limit at all.
    limit: Option<Duration>,
}

impl Budget {
    pub(crate) fn new(limit: Option<Duration>) -> Budget {
        Budget { limit }
    }

    /// The timeout of each read and write of a phase (a socket's read and write timeouts).
    pub(crate) fn per_io(&self) -> Option<Duration> {
        self.limit
    }

    /// When a phase starting now must be over (the TCP connect shares it among the
    /// addresses it tries).
    pub(crate) fn deadline(&self) -> Deadline {
        Deadline(self.limit.map(|limit| Instant::now() + limit))
    }
}

/// The end of one phase's time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// The time left: None when there is no limit, zero once it has passed.
    pub(crate) fn left(&self) -> Option<Duration> {
        self.0
            .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }
}

/// How a phase of a dial failed, and which step it was. A value, not a side effect: the
/// HTTP connector hands it to ureq (keeping the words for `http.rs` in the running
/// exchange), the WebSocket client turns it into a `FetchError`.
#[derive(Debug)]
pub(crate) enum DialError {
    /// The phase ran out of time.
    TimedOut(Step),
    /// A failure worded for the reader (refused, unreachable, the proxy's answer, TLS).
    Failed(Step, String),
    /// The socket itself failed (setting a timeout, cloning it), as the system says it.
    Io(Step, io::Error),
}

impl DialError {
    /// The step that failed.
    pub(crate) fn step(&self) -> Step {
        match self {
            DialError::TimedOut(step) | DialError::Failed(step, _) | DialError::Io(step, _) => {
                *step
            }
        }
    }
}

/// Whether an I/O error means the time ran out (a socket timeout reads as either kind).
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}
