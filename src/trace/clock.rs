//! The load's clock: wall time, less the time the whole load stood still for a person.
//!
//! In step mode the pipeline waits at every checkpoint until the person lets it go. Those
//! waits are not part of what is being measured: a request paused for a minute before its
//! TCP connect did not take a minute, and must not time out for it. So every time the trace
//! shows (`t_ms`, the durations folded from it) and every deadline that spans a checkpoint
//! ([`LoadDeadline`]) reads this clock, which stops while the load is *held*: some step is
//! waiting at the gate and no step is running. A step runs from the moment it is let go
//! until its thread reaches its next checkpoint, or leaves the load ([`LoadClock::leave`],
//! or the thread ends). While one step runs, the others that wait for their turn count
//! their waiting, as a browser's queued requests do; while the person thinks, nothing does.
//!
//! Without a gate nothing is ever held, and this clock is the wall clock.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

/// The held-time bookkeeping of one load, shared by its threads.
#[derive(Debug)]
pub(super) struct LoadClock {
    start: Instant,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    /// Threads waiting at the gate.
    waiting: usize,
    /// Threads let go at the gate and not yet at their next checkpoint.
    running: usize,
    /// Held time before `since`.
    total: Duration,
    /// When the current held stretch began, while the load is held.
    since: Option<Instant>,
}

impl Held {
    fn so_far(&self, now: Instant) -> Duration {
        self.total
            + self
                .since
                .map_or(Duration::ZERO, |since| now.saturating_duration_since(since))
    }

    /// Opens or closes the held stretch after `waiting` or `running` changed.
    fn settle(&mut self, now: Instant) {
        let held = self.waiting > 0 && self.running == 0;
        match (held, self.since) {
            (true, None) => self.since = Some(now),
            (false, Some(since)) => {
                self.total += now.saturating_duration_since(since);
                self.since = None;
            }
            _ => {}
        }
    }
}

thread_local! {
    /// The loads this thread is running a step of (usually one).
    static RUNNING: RefCell<RunningSteps> = RefCell::new(RunningSteps::default());
}

/// This thread's running steps; a thread that ends while running one leaves its load.
#[derive(Default)]
struct RunningSteps(Vec<Weak<LoadClock>>);

impl RunningSteps {
    /// Forgets `clock`; whether it was there.
    fn remove(&mut self, clock: &Arc<LoadClock>) -> bool {
        let before = self.0.len();
        self.0
            .retain(|weak| weak.upgrade().is_some_and(|c| !Arc::ptr_eq(&c, clock)));
        self.0.len() < before
    }
}

impl Drop for RunningSteps {
    fn drop(&mut self) {
        for clock in self.0.drain(..).filter_map(|weak| weak.upgrade()) {
            clock.change(|held| held.running = held.running.saturating_sub(1));
        }
    }
}

impl LoadClock {
    pub(super) fn new() -> Arc<LoadClock> {
        Arc::new(LoadClock {
            start: Instant::now(),
            held: Mutex::new(Held::default()),
        })
    }

    fn change(&self, f: impl FnOnce(&mut Held)) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut held);
        held.settle(Instant::now());
    }

    /// The load's time at `at`: since the start, less what was held by then. (A thread
    /// reports a past instant only for a phase it ran since, so no checkpoint of its own
    /// lies between `at` and now.)
    pub(super) fn at(&self, at: Instant) -> Duration {
        let held = self
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .so_far(at);
        at.saturating_duration_since(self.start)
            .saturating_sub(held)
    }

    /// The load's time now.
    pub(super) fn now(&self) -> Duration {
        self.at(Instant::now())
    }

    /// This thread arrives at the gate: its step (if it ran one) is over, and it waits.
    pub(super) fn arrive(self: &Arc<Self>) {
        let was_running = RUNNING
            .try_with(|r| r.borrow_mut().remove(self))
            .unwrap_or(false);
        self.change(|held| {
            if was_running {
                held.running = held.running.saturating_sub(1);
            }
            held.waiting += 1;
        });
    }

    /// This thread was let go at the gate: its step runs.
    pub(super) fn depart(self: &Arc<Self>) {
        self.change(|held| {
            held.waiting = held.waiting.saturating_sub(1);
            held.running += 1;
        });
        let _ = RUNNING.try_with(|r| r.borrow_mut().0.push(Arc::downgrade(self)));
    }

    /// This thread's step is over without another checkpoint (it waits for other threads,
    /// or its work for the load is done); whether it was running one.
    pub(super) fn leave(self: &Arc<Self>) -> bool {
        let was_running = RUNNING
            .try_with(|r| r.borrow_mut().remove(self))
            .unwrap_or(false);
        if was_running {
            self.change(|held| held.running = held.running.saturating_sub(1));
        }
        was_running
    }

    /// This thread runs again after [`LoadClock::leave`] (the threads it waited for ended).
    pub(super) fn rejoin(self: &Arc<Self>) {
        self.change(|held| held.running += 1);
        let _ = RUNNING.try_with(|r| r.borrow_mut().0.push(Arc::downgrade(self)));
    }
}

/// When something must be over, on the load's clock: time held for a person does not
/// bring it closer. Cheap to clone; any thread of the load may read it.
#[derive(Clone, Debug)]
pub struct LoadDeadline {
    clock: Arc<LoadClock>,
    at: Duration,
}

impl LoadDeadline {
    pub(super) fn new(clock: Arc<LoadClock>, limit: Duration) -> LoadDeadline {
        let at = clock.now().saturating_add(limit);
        LoadDeadline { clock, at }
    }

    /// The load's time left until the deadline, zero once it has passed.
    pub fn left(&self) -> Duration {
        self.at.saturating_sub(self.clock.now())
    }

    /// Whether the time is up.
    pub fn is_over(&self) -> bool {
        self.left().is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleep(ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    #[test]
    fn held_time_is_not_load_time() {
        let clock = LoadClock::new();
        clock.arrive();
        sleep(120);
        clock.depart();
        let now = clock.now();
        assert!(now < Duration::from_millis(60), "held: {now:?}");
        sleep(50);
        assert!(clock.now() >= Duration::from_millis(50), "running counts");
    }

    #[test]
    fn waiting_while_another_step_runs_counts() {
        let clock = LoadClock::new();
        // This thread runs a step; another waits for its turn meanwhile.
        clock.arrive();
        clock.depart();
        let other = clock.clone();
        std::thread::spawn(move || other.arrive())
            .join()
            .unwrap_or_default();
        sleep(60);
        assert!(clock.now() >= Duration::from_millis(60));
        // This step is over: both wait for the person now.
        clock.arrive();
        let before = clock.now();
        sleep(80);
        assert!(clock.now().saturating_sub(before) < Duration::from_millis(30));
    }

    #[test]
    fn a_thread_that_ends_mid_step_leaves_the_load() {
        let clock = LoadClock::new();
        let worker = clock.clone();
        std::thread::spawn(move || {
            worker.arrive();
            worker.depart();
        })
        .join()
        .unwrap_or_default();
        clock.arrive();
        let before = clock.now();
        sleep(80);
        assert!(
            clock.now().saturating_sub(before) < Duration::from_millis(30),
            "held"
        );
    }

    #[test]
    fn a_deadline_waits_out_the_pause() {
        let clock = LoadClock::new();
        let deadline = LoadDeadline::new(clock.clone(), Duration::from_millis(100));
        clock.arrive();
        sleep(150);
        assert!(!deadline.is_over(), "held time does not count");
        clock.depart();
        sleep(120);
        assert!(deadline.is_over());
    }
}
