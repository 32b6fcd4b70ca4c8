//! What the command prints: the one printer of trace events, the HAR file, and writing to
//! stdout (where a closed pipe is a normal end).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use minibrowse::trace::{Collector, Event, FnSink, Sink, Tee, Trace};
use minibrowse::views::{har, json, trace_text};

use super::error::{failed, CliError};

/// The most bytes of one body a HAR file inlines.
const HAR_MAX_BODY: usize = 1024 * 1024;

/// How trace events are printed as they happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventView {
    /// Not printed (only collected).
    Quiet,
    /// `--trace`: text, each step with its explanation unless `explain` is off.
    Text {
        explain: bool,
        /// Keep a request's steps together (a page load's parallel assets); a chat's held
        /// polls print as they happen instead.
        grouped: bool,
    },
    /// `--json`: one JSON object per line.
    Json,
}

/// The printer of trace events for a view.
pub fn printer(view: EventView) -> Arc<dyn Sink> {
    match view {
        EventView::Quiet => Arc::new(Collector::default()),
        EventView::Json => Arc::new(FnSink(|e: &Event| print_line(&json::event_line(e)))),
        EventView::Text {
            explain,
            grouped: false,
        } => Arc::new(FnSink(move |e: &Event| {
            print_text(&trace_text::format_event(e, explain))
        })),
        EventView::Text {
            explain,
            grouped: true,
        } => {
            let grouper = Mutex::new(trace_text::Grouper::default());
            Arc::new(FnSink(move |e: &Event| {
                let ready = grouper
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(e.clone());
                for event in ready {
                    print_text(&trace_text::format_event(&event, explain));
                }
            }))
        }
    }
}

/// A trace to load with, and the HAR file it feeds when one was asked for.
pub struct Traced {
    pub trace: Trace,
    har: Option<(PathBuf, Arc<Collector>)>,
}

impl Traced {
    /// A trace printing through `printer`; with `har`, it also keeps every event and the
    /// bodies (HAR is a view of the same events).
    pub fn new(printer: Arc<dyn Sink>, har: Option<&Path>) -> Traced {
        match har {
            Some(path) => {
                let recorder = Arc::new(Collector::default());
                let sink = Arc::new(Tee(vec![printer, recorder.clone()]));
                Traced {
                    trace: Trace::keeping_bodies(sink, HAR_MAX_BODY),
                    har: Some((path.to_path_buf(), recorder)),
                }
            }
            None => Traced {
                trace: Trace::new(printer),
                har: None,
            },
        }
    }

    /// Writes the HAR file, when one was asked for.
    pub fn write_har(&self, title: Option<String>) -> Result<(), CliError> {
        let Some((path, recorder)) = &self.har else {
            return Ok(());
        };
        let bodies = self.trace.kept_bodies();
        let archive = har::build(&har::HarSource {
            events: &recorder.events(),
            started: self.trace.start_wall(),
            bodies: &bodies,
            title,
        });
        let text =
            serde_json::to_string_pretty(&archive).map_err(|e| failed(format!("har: {e}")))?;
        std::fs::write(path, text)
            .map_err(|e| failed(format!("har: cannot write {}: {e}", path.display())))
    }
}

pub fn print_text(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`minibrowse … | head`) is a normal end, not an error.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

pub fn print_line(line: &str) {
    print_text(&format!("{line}\n"));
}
