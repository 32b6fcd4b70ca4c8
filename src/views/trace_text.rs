//! `--trace`: the steps as text for people, each with its time and an explanation.

use crate::text::escape_line;
use crate::trace::{describe, explain, Event, EventKind, RequestLog};

pub use crate::trace::{cookie_attributes, headline};

/// Column where a step's details start.
const INDENT: &str = "                         ";

/// One event as a few lines of text: time, request, step, details, explanation.
pub fn format_event(event: &Event, explain_steps: bool) -> String {
    let request = event.request.map(|r| format!("#{r}")).unwrap_or_default();
    let (label, summary, details) = describe(&event.kind);
    let mut out = format!(
        "{:>9.3} ms {:>4} {:<8} {}\n",
        event.t_ms,
        request,
        label,
        escape_line(&summary)
    );
    for line in details {
        out.push_str(INDENT);
        // Each detail is one line: a newline from the network must not start another.
        out.push_str(&escape_line(&line));
        out.push('\n');
    }
    if explain_steps {
        out.push_str(INDENT);
        out.push_str("↳ ");
        out.push_str(&escape_line(&explain(&event.kind)));
        out.push('\n');
    }
    out
}

/// Orders concurrent requests' events for reading: one request's steps are shown together,
/// the others' held back until it ends (assets are fetched in parallel, so their events
/// arrive interleaved). The `--json` view keeps the true arrival order.
#[derive(Default)]
pub struct Grouper {
    /// The request whose steps are shown as they come.
    current: Option<u32>,
    /// Other requests' steps, in the order the requests started.
    held: Vec<(u32, Vec<Event>)>,
    /// Requests whose steps have all been shown: their later steps print at once.
    shown_whole: std::collections::HashSet<u32>,
    /// What each request has done so far: it says when a request's story is over.
    log: RequestLog,
}

impl Grouper {
    /// Takes one event; returns the events ready to print, in order.
    pub fn push(&mut self, event: Event) -> Vec<Event> {
        let mut out = Vec::new();
        self.log.fold(&event);
        let Some(request) = event.request else {
            if matches!(event.kind, EventKind::Summary { .. }) {
                self.current = None;
                for (_, events) in self.held.drain(..) {
                    out.extend(events);
                }
            }
            out.push(event);
            return out;
        };
        if self.shown_whole.contains(&request) {
            out.push(event);
            return out;
        }
        if self.current.is_none() && !self.held.iter().any(|(r, _)| *r == request) {
            self.current = Some(request);
        }
        if self.current != Some(request) {
            match self.held.iter_mut().find(|(r, _)| *r == request) {
                Some((_, events)) => events.push(event),
                None => self.held.push((request, vec![event])),
            }
            return out;
        }
        out.push(event);
        if self.is_finished(request) {
            self.finish(request, &mut out);
        }
        out
    }

    fn is_finished(&self, request: u32) -> bool {
        self.log.by_id(request).is_some_and(|r| r.is_finished())
    }

    /// Ends the current request and shows the held ones, oldest first, until one is still running.
    fn finish(&mut self, request: u32, out: &mut Vec<Event>) {
        self.shown_whole.insert(request);
        self.current = None;
        while !self.held.is_empty() {
            let (next, events) = self.held.remove(0);
            out.extend(events);
            if self.is_finished(next) {
                self.shown_whole.insert(next);
            } else {
                self.current = Some(next);
                return;
            }
        }
    }
}
