//! The `minibrowse` command: runs the command line, then reports how it ended.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run().unwrap_or_else(cli::CliError::report)
}
