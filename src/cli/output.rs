//! What the command prints: the one printer of trace events, the HAR file, and writing to
//! stdout (where a closed pipe is a normal end).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use minibrowse::trace::{Collector, Event, FnSink, Sink, Tee, Trace};
use minibrowse::views::{har, json, trace_text};

use super::args::Cli;
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
    /// Keep cookies and credentials in the HAR (`--har-sensitive`).
    har_sensitive: bool,
}

impl Traced {
    /// A trace printing through `printer`; with `har`, it also keeps every event and the
    /// bodies (HAR is a view of the same events).
    pub fn new(printer: Arc<dyn Sink>, har: Option<&Path>, har_sensitive: bool) -> Traced {
        match har {
            Some(path) => {
                let recorder = Arc::new(Collector::default());
                let sink = Arc::new(Tee(vec![printer, recorder.clone()]));
                Traced {
                    trace: Trace::keeping_bodies(sink, HAR_MAX_BODY),
                    har: Some((path.to_path_buf(), recorder)),
                    har_sensitive,
                }
            }
            None => Traced {
                trace: Trace::new(printer),
                har: None,
                har_sensitive,
            },
        }
    }

    /// Writes the HAR file, when one was asked for.
    pub fn write_har(&self, title: Option<String>) -> Result<(), CliError> {
        let Some((path, recorder)) = &self.har else {
            return Ok(());
        };
        let bodies = self.trace.kept_bodies();
        let mut archive = har::build(&har::HarSource {
            events: &recorder.events(),
            started: self.trace.start_wall(),
            bodies: &bodies,
            title,
        });
        if !self.har_sensitive {
            har::sanitize(&mut archive);
        }
        let text =
            serde_json::to_string_pretty(&archive).map_err(|e| failed(format!("har: {e}")))?;
        // serde_json leaves C1 and bidi controls raw: a HAR shown with `cat` must not steer
        // the terminal or reorder text.
        let text = minibrowse::text::escape_json_line(&text);
        let cannot =
            |e: std::io::Error| failed(format!("har: cannot write {}: {e}", path.display()));
        let mut file = open_for_har(path).map_err(cannot)?;
        file.write_all(text.as_bytes()).map_err(cannot)
    }
}

/// Opens the HAR file for writing without waiting forever on a FIFO that has no reader
/// (O_NONBLOCK makes that open fail at once with ENXIO); the file is then made blocking again
/// so a slow reader gets the whole archive.
fn open_for_har(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENXIO) => std::io::Error::other("a FIFO that nobody reads"),
            _ => e,
        })?;
    // SAFETY: fcntl on a descriptor this function owns, with flags it just read.
    let blocking = unsafe {
        let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
        flags >= 0 && libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags & !libc::O_NONBLOCK) >= 0
    };
    if !blocking {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
}

/// The first failure to write to stdout that was not a closed pipe (a full disk, an I/O
/// error): the command reports it at the end and exits non-zero.
static WRITE_FAILURE: Mutex<Option<String>> = Mutex::new(None);

pub fn print_text(text: &str) {
    let mut out = std::io::stdout().lock();
    let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    match written {
        // A closed pipe (`minibrowse … | head`) is a normal end, not an error (as ripgrep).
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            let mut failure = WRITE_FAILURE.lock().unwrap_or_else(PoisonError::into_inner);
            failure.get_or_insert_with(|| format!("output: cannot write to stdout ({e})"));
        }
        Ok(()) => {}
    }
}

/// A failure to write the output, if there was one (see [`print_text`]).
pub fn write_failure() -> Option<CliError> {
    WRITE_FAILURE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .map(CliError::Failed)
}

pub fn print_line(line: &str) {
    print_text(&format!("{line}\n"));
}

/// `minibrowse completions SHELL`: the script, generated from the clap definitions.
pub fn completions(shell: clap_complete::Shell) -> Result<std::process::ExitCode, CliError> {
    use clap::CommandFactory;
    // Into a buffer first: clap_complete panics on a write error (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "minibrowse", &mut script);
    print_text(&String::from_utf8_lossy(&script));
    Ok(std::process::ExitCode::SUCCESS)
}

/// `minibrowse man`: the manual page in roff (`minibrowse man | man -l -`), or with `--dir`
/// one page per command written there.
pub fn man_page(dir: Option<&Path>) -> Result<std::process::ExitCode, CliError> {
    use clap::CommandFactory;
    match dir {
        Some(dir) => clap_mangen::generate_to(Cli::command(), dir)
            .map_err(|e| failed(format!("man: cannot write into {}: {e}", dir.display())))?,
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(|e| failed(format!("man: {e}")))?;
            print_text(&String::from_utf8_lossy(&page));
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
