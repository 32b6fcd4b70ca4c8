//! The `minibrowse` command: parses the command line and picks a mode.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
