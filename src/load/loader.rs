//! The asset loader: one queue of a page's subresource requests, fed while the page loads
//! (by the preload scanner while the document still downloads, by the DOM walk once it is
//! parsed, by stylesheets' `@import`s), fetched by a pool of threads at most
//! `per_host` connections to a host at once (six, as browsers keep for HTTP/1.1; over an
//! origin's HTTP/2 connection, as many streams as there are workers).
//!
//! When connections are scarce the queue decides who goes next, as a browser's does: the
//! highest [`Priority`] first (the stylesheets the page needs to render), and among equals
//! the first asked. A URL asked for twice is fetched once (as the DOM walk's own `Plan`
//! counts URLs, whatever element names them): the DOM walk finds what the scanner already
//! asked for, and the trace says how much earlier that was.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use url::Url;

use crate::assets::{AssetKind, AssetLimits, AssetRef, AssetResult, Priority};
use crate::net::cookies::Context;
use crate::net::{Client, FetchError, FetchLimits};
use crate::trace::{EventKind, LoadDeadline, Step, Trace};

/// The page's own request, counted among its host's connections (see [`Loader::occupy`]).
pub struct Occupied<'l, 'a> {
    loader: &'l Loader<'a>,
    origin: String,
}

impl Drop for Occupied<'_, '_> {
    fn drop(&mut self) {
        let mut state = self.loader.lock();
        if let Some(n) = state.in_flight.get_mut(&self.origin) {
            *n = n.saturating_sub(1);
        }
        drop(state);
        self.loader.work.notify_all();
    }
}

/// Fetching threads in all: enough for a round of HTTP/2 streams to one origin (the six
/// connections of HTTP/1.1 need a fraction of them).
pub const MAX_WORKERS: usize = 64;

/// Who asked for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// The preload scanner, from the bytes not yet parsed.
    Scanner,
    /// The DOM walk of the parsed page (or of a frame's document).
    DomWalk,
    /// A stylesheet's `@import`.
    Import,
}

impl By {
    fn name(self) -> &'static str {
        match self {
            By::Scanner => "preload scanner",
            By::DomWalk => "DOM walk",
            By::Import => "@import",
        }
    }
}

/// A request the loader was asked for, by its number.
pub type Ticket = usize;

struct Job {
    asset: AssetRef,
    /// The page it is fetched for (the site cookies are judged against).
    page: Url,
    origin: String,
    /// Trace time it was asked for, and by whom.
    asked_ms: f64,
    by: By,
    /// Found by a DOM walk (or asked by one first): a scanner's request not claimed by the
    /// end was fetched for nothing.
    claimed: bool,
    started: bool,
    /// Fetched or failed (its outcome may have been taken since).
    settled: bool,
    outcome: Option<Result<crate::net::Response, FetchError>>,
}

#[derive(Default)]
struct State {
    jobs: Vec<Job>,
    /// By URL (without its fragment): one request per URL, whatever kinds name it, as the
    /// DOM walk's `Plan` counts them.
    by_key: HashMap<String, Ticket>,
    in_flight: HashMap<String, usize>,
    /// No more requests will come: idle workers end.
    closed: bool,
    /// The load is over early (a page that refreshed away): what has not begun never will.
    cancelled: bool,
}

/// The loader of one page load. Start its workers inside a thread scope
/// ([`Loader::run_workers`]) and [`Loader::close`] it before the scope ends.
pub struct Loader<'a> {
    client: &'a Client,
    trace: &'a Trace,
    limits: AssetLimits,
    /// When the assets' time is up (see [`Loader::set_deadline`]).
    deadline: Mutex<Option<LoadDeadline>>,
    state: Mutex<State>,
    /// Signalled when there is a job to take (or the loader closes): workers wait on it.
    work: Condvar,
    /// Signalled when a job settles: [`Loader::wait`] waits on it.
    settled: Condvar,
    total_bytes: AtomicU64,
    refusal_said: AtomicBool,
}

impl<'a> Loader<'a> {
    pub fn new(client: &'a Client, limits: AssetLimits, trace: &'a Trace) -> Loader<'a> {
        Loader {
            client,
            trace,
            deadline: Mutex::new(limits.deadline.clone()),
            limits,
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            settled: Condvar::new(),
            total_bytes: AtomicU64::new(0),
            refusal_said: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts `workers` fetching threads in `scope` (at most [`MAX_WORKERS`]).
    pub fn run_workers<'s>(&'s self, scope: &'s std::thread::Scope<'s, '_>, workers: usize) {
        for _ in 0..workers.clamp(1, MAX_WORKERS) {
            scope.spawn(|| self.work());
        }
    }

    /// Asks for `asset` for `page`; the same URL and kind asked before is not fetched again
    /// (the DOM walk claiming what the scanner started is said in the trace).
    pub fn request(&self, page: &Url, asset: AssetRef, by: By) -> Ticket {
        self.request_all(page, vec![asset], by)[0]
    }

    /// [`Loader::request`] for several at once: all are in the queue before any is taken
    /// from it, so its order is the priorities' (and the document's among equals).
    pub fn request_all(&self, page: &Url, assets: Vec<AssetRef>, by: By) -> Vec<Ticket> {
        let now = self.trace.elapsed_ms();
        let mut state = self.lock();
        let tickets = assets
            .into_iter()
            .map(|asset| self.enqueue(&mut state, page, asset, by, now))
            .collect::<Vec<_>>();
        drop(state);
        // One idle worker per job is enough (waking all two dozen for each one costs every
        // round of requests a few milliseconds on a small machine).
        match tickets.len() {
            1 => self.work.notify_one(),
            _ => self.work.notify_all(),
        }
        tickets
    }

    /// One request into the queue (the lock held), or the ticket of the same one asked before.
    fn enqueue(&self, state: &mut State, page: &Url, asset: AssetRef, by: By, now: f64) -> Ticket {
        let mut key_url = asset.url.clone();
        key_url.set_fragment(None);
        let key = key_url.to_string();
        if let Some(&ticket) = state.by_key.get(&key) {
            let job = &mut state.jobs[ticket];
            if job.by == By::Scanner && by != By::Scanner && !job.claimed {
                job.claimed = true;
                // The walk is the truth about what the reference is (a `rel=preload` the
                // page then uses as a stylesheet is a stylesheet); the request keeps its
                // place in the queue.
                job.asset = AssetRef {
                    priority: job.asset.priority,
                    ..asset.clone()
                };
                let early = now - job.asked_ms;
                self.trace.emit(
                    None,
                    EventKind::Preload {
                        kind: asset.kind.name().to_string(),
                        url: asset.url.to_string(),
                        early_ms: Some((early.max(0.0) * 1000.0).round() / 1000.0),
                    },
                );
            }
            return ticket;
        }
        self.trace.emit(
            None,
            EventKind::AssetQueued {
                kind: asset.kind.name().to_string(),
                url: asset.url.to_string(),
                priority: asset.priority.name().to_string(),
                by: by.name().to_string(),
            },
        );
        let ticket = state.jobs.len();
        state.by_key.insert(key, ticket);
        state.jobs.push(Job {
            origin: asset.url.origin().ascii_serialization(),
            asset,
            page: page.clone(),
            asked_ms: now,
            by,
            claimed: by != By::Scanner,
            started: false,
            settled: false,
            outcome: None,
        });
        ticket
    }

    /// Requests the scanner made that no DOM walk claimed: fetched for nothing (said in the
    /// trace, once the page's walks are done).
    pub fn report_unclaimed(&self) {
        let unclaimed: Vec<(String, String)> = self
            .lock()
            .jobs
            .iter()
            .filter(|j| !j.claimed)
            .map(|j| (j.asset.kind.name().to_string(), j.asset.url.to_string()))
            .collect();
        for (kind, url) in unclaimed {
            self.trace.emit(
                None,
                EventKind::Preload {
                    kind,
                    url,
                    early_ms: None,
                },
            );
        }
    }

    /// Counts the assets' time from now: the document is in (the scanner's requests began
    /// before, against the document's own time).
    pub fn set_deadline(&self, deadline: LoadDeadline) {
        *self.deadline.lock().unwrap_or_else(PoisonError::into_inner) = Some(deadline);
    }

    /// No more requests: the workers end once the queue is empty.
    pub fn close(&self) {
        self.lock().closed = true;
        self.work.notify_all();
    }

    /// Counts the page's own request against its host's connections while it downloads,
    /// as a browser's per-host limit of six counts every request to the host: assets the
    /// preload scanner finds early take the other five. Dropping the guard frees the slot.
    pub fn occupy(&self, url: &Url) -> Occupied<'_, 'a> {
        let origin = url.origin().ascii_serialization();
        *self.lock().in_flight.entry(origin.clone()).or_insert(0) += 1;
        Occupied {
            loader: self,
            origin,
        }
    }

    /// Nothing more will start (what is in flight ends by its own timeout).
    pub fn cancel(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.cancelled = true;
        drop(state);
        self.work.notify_all();
    }

    /// Waits until every ticket of `tickets` has its outcome, or `deadline` (plus a second
    /// of grace for fetches ending by their own timeouts) has passed.
    pub fn wait(&self, tickets: &[Ticket], deadline: &LoadDeadline) {
        let grace = Duration::from_secs(1);
        self.trace.aside(|| {
            let mut over_since: Option<std::time::Instant> = None;
            let mut state = self.lock();
            loop {
                let done = tickets
                    .iter()
                    .all(|&t| state.jobs.get(t).is_none_or(|j| j.settled));
                if done {
                    return;
                }
                if deadline.is_over() {
                    let since = *over_since.get_or_insert_with(std::time::Instant::now);
                    if since.elapsed() >= grace {
                        return;
                    }
                }
                let (next, _) = self
                    .settled
                    .wait_timeout(state, Duration::from_millis(100))
                    .unwrap_or_else(PoisonError::into_inner);
                state = next;
            }
        });
    }

    /// The outcomes of `tickets`, in order (taken: asking again gives "not fetched").
    pub fn take(&self, tickets: &[Ticket]) -> Vec<AssetResult> {
        let mut state = self.lock();
        tickets
            .iter()
            .filter_map(|&t| {
                let job = state.jobs.get_mut(t)?;
                let outcome = job.outcome.take().unwrap_or_else(|| {
                    Err(FetchError {
                        step: Step::Assets,
                        message: "not fetched".into(),
                        request: None,
                    })
                });
                Some(AssetResult {
                    asset: job.asset.clone(),
                    outcome,
                })
            })
            .collect()
    }

    /// Every ticket asked so far.
    pub fn tickets(&self) -> Vec<Ticket> {
        (0..self.lock().jobs.len()).collect()
    }

    /// A worker: takes the next job whose host has a free connection, fetches it, again,
    /// until the loader is closed and nothing is left to start.
    fn work(&self) {
        loop {
            // Waiting for a job is not running a step (step mode's clock).
            self.trace.leave();
            let Some(ticket) = self.next_job() else {
                return;
            };
            let (asset, page) = {
                let state = self.lock();
                let job = &state.jobs[ticket];
                (job.asset.clone(), job.page.clone())
            };
            let outcome = self.fetch(&asset, &page);
            if let Ok(response) = &outcome {
                self.total_bytes
                    .fetch_add(response.body.len() as u64, Ordering::Relaxed);
            }
            let mut state = self.lock();
            let origin = state.jobs[ticket].origin.clone();
            state.jobs[ticket].outcome = Some(outcome);
            state.jobs[ticket].settled = true;
            if let Some(n) = state.in_flight.get_mut(&origin) {
                *n = n.saturating_sub(1);
            }
            drop(state);
            // The waiters learn of it; the next job is this worker's own to take (a slot
            // freed is taken by the worker that freed it).
            self.settled.notify_all();
        }
    }

    /// The waiting job to start next: the highest priority whose host has a free connection,
    /// the first asked among equals. None once closed with nothing left to start.
    fn next_job(&self) -> Option<Ticket> {
        let per_host = self.limits.per_host.max(1);
        let mut state = self.lock();
        loop {
            if state.cancelled {
                return None;
            }
            let mut best: Option<(Priority, Ticket)> = None;
            let mut waiting = false;
            for (ticket, job) in state.jobs.iter().enumerate() {
                if job.started {
                    continue;
                }
                waiting = true;
                let busy = state.in_flight.get(&job.origin).copied().unwrap_or(0);
                // An origin known to speak HTTP/2 takes many streams on its one connection
                // (asked only when HTTP/1.1's connections would be full).
                let free =
                    busy < per_host || busy < self.client.parallelism(&job.asset.url, per_host);
                if free && best.is_none_or(|(p, _)| job.asset.priority < p) {
                    best = Some((job.asset.priority, ticket));
                }
            }
            if let Some((_, ticket)) = best {
                let origin = state.jobs[ticket].origin.clone();
                state.jobs[ticket].started = true;
                *state.in_flight.entry(origin).or_insert(0) += 1;
                return Some(ticket);
            }
            if state.closed && !waiting {
                return None;
            }
            state = self
                .work
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// One asset's fetch within what is left of the page's time and bytes, or why not.
    fn fetch(&self, asset: &AssetRef, page: &Url) -> Result<crate::net::Response, FetchError> {
        let limits = &self.limits;
        let used = self.total_bytes.load(Ordering::Relaxed);
        let time_left = self
            .deadline
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(LoadDeadline::left);
        let refusal = if used >= limits.max_total_bytes {
            Some(format!(
                "not fetched: the page's assets already reached the limit of {} bytes",
                limits.max_total_bytes
            ))
        } else if time_left.is_some_and(|t| t.is_zero()) {
            Some(
                "not fetched: the page's assets already used up the page's time (--timeout)"
                    .to_string(),
            )
        } else {
            None
        };
        if let Some(message) = refusal {
            // Said once in the trace; every asset not fetched still carries it.
            if !self.refusal_said.swap(true, Ordering::Relaxed) {
                self.trace.emit(
                    None,
                    EventKind::Failed {
                        step: Step::Assets,
                        message: message.clone(),
                        url: None,
                    },
                );
            }
            return Err(FetchError {
                step: Step::Assets,
                message,
                request: None,
            });
        }
        // Each asset gets what is left of the page's time and of the byte budget, so the
        // assets in flight together cannot overshoot either by much.
        let fetch = FetchLimits {
            timeout: time_left.map_or(limits.fetch.timeout, |t| t.min(limits.fetch.timeout)),
            max_body: limits
                .fetch
                .max_body
                .min(limits.max_total_bytes.saturating_sub(used)),
        };
        self.client.fetch_for(
            &asset.url,
            asset.kind.purpose(),
            Context::For(page),
            fetch,
            self.trace,
        )
    }
}

/// Whether a kind must be in before the page's first render (see
/// [`AssetKind::blocks_rendering`]); a stylesheet for another medium does not block.
pub fn blocks_render(asset: &AssetRef) -> bool {
    (asset.kind.blocks_rendering() && asset.priority != Priority::Lowest)
        || asset.kind == AssetKind::Frame
}

/// Closes the loader when dropped: a load that returns early (an error, a panic) must not
/// leave the workers waiting, or the thread scope would never end.
pub struct CloseOnDrop<'l, 'a>(pub &'l Loader<'a>);

impl Drop for CloseOnDrop<'_, '_> {
    fn drop(&mut self) {
        self.0.close();
    }
}
