//! The one place a failure of the command becomes its message and its exit status.

use std::io::Write;
use std::process::ExitCode;

use minibrowse::text::escape_line;

/// Exit status when what was asked for failed: the page (or something it needed) did not
/// load, the demo world could not start, the terminal could not be used.
pub const EXIT_FAILED: u8 = 1;
/// Exit status for a command line that cannot be acted on (clap uses 2 as well).
pub const EXIT_USAGE: u8 = 2;

/// Why the command ends without success. Every exit but success goes through here.
#[derive(Debug)]
pub enum CliError {
    /// The command line cannot be acted on; said after `usage: `.
    Usage(String),
    /// Input on the command line that is not what it should be (a URL that is not one),
    /// said as it is: its message already names the step (`url: ...`).
    BadInput(String),
    /// What was asked for failed; the message names the step it failed in.
    Failed(String),
    /// clap's own report: a usage error, or `--help` and `--version` (which succeed).
    Clap(clap::Error),
}

impl CliError {
    /// Prints the one-line message on stderr and gives the exit status.
    pub fn report(self) -> ExitCode {
        let (message, code) = match self {
            CliError::Clap(e) => {
                let _ = e.print();
                return if e.use_stderr() {
                    ExitCode::from(EXIT_USAGE)
                } else {
                    ExitCode::SUCCESS
                };
            }
            CliError::Usage(m) => (format!("usage: {m}"), EXIT_USAGE),
            CliError::BadInput(m) => (m, EXIT_USAGE),
            CliError::Failed(m) => (m, EXIT_FAILED),
        };
        let _ = writeln!(std::io::stderr(), "minibrowse: {}", escape_line(&message));
        ExitCode::from(code)
    }
}

/// Wraps a failure's message as a [`CliError::Failed`], for `map_err`.
pub fn failed(message: impl std::fmt::Display) -> CliError {
    CliError::Failed(message.to_string())
}

/// Wraps a usage problem as a [`CliError::Usage`], for `map_err`.
pub fn usage(message: impl std::fmt::Display) -> CliError {
    CliError::Usage(message.to_string())
}
