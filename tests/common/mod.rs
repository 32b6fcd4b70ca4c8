//! Shared helpers: start the demo world, browse it for real, collect the trace.

#![allow(dead_code)]

pub mod serve;
pub mod servers;

use std::sync::Arc;
use std::time::Duration;

use minibrowse::demo::console::{Console, ConsoleLines, ServedLine};
use minibrowse::demo::{DemoOptions, DemoWorld};
use minibrowse::net::DnsServers;
use minibrowse::page::{Browser, LoadError, Options, Page};
use minibrowse::trace::{Collector, Event, EventKind, Trace};

pub fn world() -> DemoWorld {
    DemoWorld::start(DemoOptions::default()).expect("the demo world starts")
}

/// Options that resolve through the demo world's DNS server.
pub fn options(world: &DemoWorld) -> Options {
    let mut options = Options {
        dns: DnsServers::Explicit(world.dns_addr),
        timeout: Duration::from_secs(10),
        ..Options::default()
    };
    // The demo HTTPS site's authority, made when the world started.
    options.http.extra_roots.push(world.ca_der.clone());
    options
}

pub struct Load {
    pub result: Result<Page, LoadError>,
    pub events: Vec<Event>,
}

impl Load {
    pub fn page(&self) -> &Page {
        match &self.result {
            Ok(page) => page,
            Err(e) => panic!("the load failed: {e}"),
        }
    }

    pub fn error(&self) -> &LoadError {
        match &self.result {
            Ok(_) => panic!("the load was expected to fail"),
            Err(e) => e,
        }
    }

    /// The events of one request, in order.
    pub fn of_request(&self, request: u32) -> Vec<&EventKind> {
        self.events
            .iter()
            .filter(|e| e.request == Some(request))
            .map(|e| &e.kind)
            .collect()
    }

    /// Short names of the events, e.g. ["start", "dns", "connect", ...].
    pub fn names(&self) -> Vec<&'static str> {
        self.events.iter().map(|e| name(&e.kind)).collect()
    }

    pub fn count(&self, wanted: &str) -> usize {
        self.names().iter().filter(|n| **n == wanted).count()
    }

    /// The request id whose Request event is for this URL suffix.
    pub fn request_for(&self, url_suffix: &str) -> Option<u32> {
        self.events.iter().find_map(|e| match &e.kind {
            EventKind::Request { url, .. } if url.ends_with(url_suffix) => e.request,
            _ => None,
        })
    }

    pub fn dump(&self) -> String {
        self.page().layout.to_text(true)
    }
}

pub fn name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Start { .. } => "start",
        EventKind::LocalFile { .. } => "local_file",
        EventKind::Dns { .. } => "dns",
        EventKind::Connect { .. } => "connect",
        EventKind::Reuse { .. } => "reuse",
        EventKind::Proxy { .. } => "proxy",
        EventKind::Tls { .. } => "tls",
        EventKind::Request { .. } => "request",
        EventKind::Response { .. } => "response",
        EventKind::Body { .. } => "body",
        EventKind::Redirect { .. } => "redirect",
        EventKind::Parse { .. } => "parse",
        EventKind::AssetFound { .. } => "asset_found",
        EventKind::AssetRefused { .. } => "asset_refused",
        EventKind::AssetQueued { .. } => "asset_queued",
        EventKind::Preload { .. } => "preload",
        EventKind::LoadMoment { .. } => "load_moment",
        EventKind::Layout { .. } => "layout",
        EventKind::WsHandshake { .. } => "ws_handshake",
        EventKind::WsFrame { .. } => "ws_frame",
        EventKind::SseEvent { .. } => "sse_event",
        EventKind::SseComment { .. } => "sse_comment",
        EventKind::SseRetry { .. } => "sse_retry",
        EventKind::SseSkipped { .. } => "sse_skipped",
        EventKind::SseReconnect { .. } => "sse_reconnect",
        EventKind::Chat { .. } => "chat",
        EventKind::Retry { .. } => "retry",
        EventKind::ChatStats { .. } => "chat_stats",
        EventKind::CookieSent { .. } => "cookie_sent",
        EventKind::FormSubmit { .. } => "form_submit",
        EventKind::SetCookie(_) => "set_cookie",
        EventKind::Cache(_) => "cache",
        EventKind::H2Session { .. } => "h2_session",
        EventKind::H2Stream { .. } => "h2_stream",
        EventKind::H2Frame { .. } => "h2_frame",
        EventKind::H2Closed { .. } => "h2_closed",
        EventKind::Failed { .. } => "failed",
        EventKind::Summary { .. } => "summary",
    }
}

/// Loads `input` with a fresh browser.
pub fn load_with(options: Options, input: &str) -> Load {
    let browser = Browser::new(options).expect("the browser starts");
    load_in(&browser, input)
}

/// Submits a form in an existing browser, as the TUI does.
pub fn submit_in(browser: &Browser, submission: &minibrowse::form::Submission) -> Load {
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    let result = browser.submit_form(submission, 80, &trace);
    Load {
        result,
        events: collector.events(),
    }
}

/// Loads `input` in an existing browser (shared DNS cache, pool and cookies).
pub fn load_in(browser: &Browser, input: &str) -> Load {
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    let result = browser.load(input, &trace);
    Load {
        result,
        events: collector.events(),
    }
}

pub fn load(world: &DemoWorld, path: &str) -> Load {
    load_with(options(world), &world.url(path))
}

/// The layout fixture pages (one per part of the layout) and their stylesheets.
pub const LAYOUT_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/layout");

/// The URL a layout fixture page is laid out at.
pub fn fixture_base() -> url::Url {
    url::Url::parse("http://example.test/layout/page.html").expect("a valid URL")
}

/// The layout fixtures' stylesheets, served from the same directory as the page.
pub fn fixture_sources() -> minibrowse::layout::StyleSources {
    let mut sources = minibrowse::layout::StyleSources::new();
    for entry in std::fs::read_dir(LAYOUT_FIXTURES).expect("the fixtures directory") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "css") {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a file name");
            let text = std::fs::read_to_string(&path).expect("a readable stylesheet");
            let url = fixture_base().join(name).expect("a valid URL");
            sources.insert(&url, text);
        }
    }
    sources
}

/// What one run of the minibrowse binary gave.
pub struct BinaryRun {
    pub status: std::process::ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

/// The minibrowse binary, started with `args`: stdin empty, stdout and stderr read to the
/// end on threads of their own (so a chatty child never blocks on a full pipe).
pub struct Spawned {
    pub child: std::process::Child,
    pub stdout: std::thread::JoinHandle<Vec<u8>>,
    pub stderr: std::thread::JoinHandle<Vec<u8>>,
}

pub fn spawn_binary(args: &[&str]) -> Spawned {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_minibrowse"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the minibrowse binary starts");
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = reader(Box::new(child.stdout.take().expect("stdout")));
    let stderr = reader(Box::new(child.stderr.take().expect("stderr")));
    Spawned {
        child,
        stdout,
        stderr,
    }
}

/// Runs the minibrowse binary with `args` ([`spawn_binary`]), killing it and failing the
/// test if it outlives `deadline`.
pub fn run_binary(args: &[&str], deadline: Duration) -> BinaryRun {
    let started = std::time::Instant::now();
    let Spawned {
        mut child,
        stdout,
        stderr,
    } = spawn_binary(args);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for minibrowse") {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("minibrowse {args:?} did not finish within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    BinaryRun {
        status,
        elapsed: started.elapsed(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// The demo world, with its console kept so that a test can see what the server was asked.
pub fn world_with_console() -> (DemoWorld, ConsoleLines) {
    let (console, lines) = Console::bounded(1024);
    let world = DemoWorld::start(DemoOptions {
        console,
        ..DemoOptions::default()
    })
    .expect("the demo world starts");
    (world, lines)
}

/// The web server's lines since the last call (DNS lines left out).
pub fn served(lines: &ConsoleLines) -> Vec<ServedLine> {
    let mut out = Vec::new();
    while let Some(line) = lines.next(Duration::from_millis(200)) {
        if line.method != "A?" && line.method != "AAAA?" {
            out.push(line);
        }
    }
    out
}
