//! The ways a page keeps talking to its server, from the command line: `chat` (the demo
//! chat by refreshing, long polling, Server-Sent Events or WebSocket) and `ws` (any WebSocket server).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use minibrowse::chat::{ChatPlan, Via};
use minibrowse::net::{DnsServers, HttpOptions};
use minibrowse::page::{Browser, Options};
use minibrowse::text::escape_line;

use super::args::{ChatArgs, NetArgs, WsArgs};
use super::error::{failed, usage, CliError};
use super::load::{apply_trust, warn_if_insecure};
use super::output::{print_line, printer, EventView, Traced};
use super::{seconds, MAX_TIMEOUT, MAX_WAIT};

/// A browser and a trace for a chat or ws session, printing as --trace/--json ask.
struct Session {
    browser: Browser,
    traced: Traced,
    timeout: Duration,
    /// The messages are in the printed events (--trace, --json), not printed alone.
    quiet: bool,
}

impl Session {
    fn new(net: &NetArgs) -> Result<Session, CliError> {
        let timeout = seconds(net.timeout, "--timeout", MAX_TIMEOUT).map_err(usage)?;
        let mut http = HttpOptions::default();
        apply_trust(&net.trust, &mut http).map_err(usage)?;
        warn_if_insecure(&net.trust);
        let options = Options {
            dns: net
                .dns_server
                .map(DnsServers::Explicit)
                .unwrap_or(DnsServers::System),
            http,
            timeout,
            ..Options::default()
        };
        let browser = Browser::new(options).map_err(|e| failed(format!("setup: {e}")))?;
        let view = if net.json {
            EventView::Json
        } else if net.trace {
            // A held poll would keep a grouped request's steps back for its whole wait.
            EventView::Text {
                explain: true,
                grouped: false,
            }
        } else {
            EventView::Quiet
        };
        Ok(Session {
            browser,
            traced: Traced::new(printer(view), net.har.as_deref(), net.har_sensitive),
            timeout,
            quiet: net.trace || net.json,
        })
    }

    /// Ends the session: writes its HAR (if asked), then the exit status.
    fn end(self, result: Result<(), String>) -> Result<ExitCode, CliError> {
        self.traced.write_har(None)?;
        result.map_err(CliError::Failed)?;
        Ok(ExitCode::SUCCESS)
    }
}

pub fn chat(args: ChatArgs) -> Result<ExitCode, CliError> {
    let session = Session::new(&args.net)?;
    let interactive = args.wait.is_none()
        && args.send.is_empty()
        && !session.quiet
        && std::io::stdout().is_terminal()
        && std::io::stdin().is_terminal();
    // Interactive: stay until the user quits.
    let default_wait = if interactive { MAX_WAIT } else { 30.0 };
    let wait = seconds(args.wait.unwrap_or(default_wait), "--wait", MAX_WAIT).map_err(usage)?;
    let page = minibrowse::page::parse_input(&args.url)
        .map_err(|e| CliError::BadInput(e.to_string()))?
        .0;
    let via = match args.via.as_str() {
        "ws" => Via::WebSocket,
        "sse" => Via::Sse,
        "refresh" => Via::Refresh {
            every: seconds(args.refresh, "--refresh", MAX_WAIT).map_err(usage)?,
        },
        _ => Via::Poll,
    };
    let plan = ChatPlan {
        via,
        name: args.name,
        send: args.send,
        wait,
        timeout: session.timeout,
    };
    if interactive {
        let start = minibrowse::tui::app::Command::Chat { page, plan };
        minibrowse::tui::run(session.browser, start)
            .map_err(|e| failed(format!("terminal: {e}")))?;
        return Ok(ExitCode::SUCCESS);
    }
    let quiet = session.quiet;
    let mut show = |m: &minibrowse::chat::Message| {
        if !quiet {
            print_line(&escape_line(&format!("{}: {}", m.name, m.text)));
        }
    };
    let result = minibrowse::chat::run(
        session.browser.client(),
        &page,
        &plan,
        &session.traced.trace,
        &mut show,
        None,
    )
    .map(|_| ())
    .map_err(|e| e.to_string());
    session.end(result)
}

pub fn websocket(args: WsArgs) -> Result<ExitCode, CliError> {
    let session = Session::new(&args.net)?;
    let wait = seconds(args.wait, "--wait", MAX_WAIT).map_err(usage)?;
    let url = url::Url::parse(&args.url)
        .map_err(|e| CliError::BadInput(format!("url: {:?} is not a valid URL ({e})", args.url)))?;
    let quiet = session.quiet;
    let mut show = |text: &str| {
        if !quiet {
            print_line(&escape_line(text));
        }
    };
    let result = minibrowse::chat::run_raw(
        session.browser.client(),
        &url,
        &args.send,
        wait,
        session.timeout.min(Duration::from_secs(15)),
        &session.traced.trace,
        &mut show,
    )
    .map_err(|e| e.to_string());
    session.end(result)
}
