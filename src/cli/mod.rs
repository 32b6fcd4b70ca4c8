//! The command line: the mode is resolved once from the arguments ([`args::Mode`]), runs,
//! and ends in an exit status; every failure passes through [`error::CliError::report`].
//!
//! Exit statuses (also in the README): 0 the page was shown (or the command did what it
//! was asked), 1 it failed (the message names the step), 2 the command line cannot be
//! acted on.

mod args;
mod error;
mod load;
mod output;
mod realtime;
mod serve;

use std::process::ExitCode;
use std::time::Duration;

use args::Mode;
pub use error::CliError;

/// The longest a page load, an asset or a DNS question may be given (`--timeout` and the
/// like), in seconds: an hour.
const MAX_TIMEOUT: f64 = 3600.0;
/// The longest a chat or ws session may stay (`--wait`), in seconds: a day.
const MAX_WAIT: f64 = 86_400.0;

/// Runs the command line and gives the exit status.
pub fn run() -> Result<ExitCode, CliError> {
    let ended = run_mode(Mode::from_command_line()?);
    // Output that could not be written is a failure, once the mode's own end is known.
    match output::write_failure() {
        Some(failure) if ended.is_ok() => Err(failure),
        _ => ended,
    }
}

fn run_mode(mode: Mode) -> Result<ExitCode, CliError> {
    match mode {
        Mode::Serve(args) => serve::serve(args),
        Mode::Demo {
            load,
            latency,
            path,
            https,
        } => load::demo(load, latency, (&path, https)),
        Mode::Chat(args) => realtime::chat(args),
        Mode::Ws(args) => realtime::websocket(args),
        Mode::Load(args) => load::load(&args, None),
        Mode::Completions(shell) => output::completions(shell),
        Mode::Man(dir) => output::man_page(dir.as_deref()),
    }
}

/// Seconds from the command line, checked: more than 0, at most `max`.
fn seconds(value: f64, flag: &str, max: f64) -> Result<Duration, String> {
    if value.is_finite() && value > 0.0 && value <= max {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(format!("{flag} {value} is not between 0 and {max} seconds"))
    }
}
