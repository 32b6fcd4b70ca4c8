//! Command line: clap definitions and the modes (load a page, serve the demo world).

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use minibrowse::demo::{DemoOptions, DemoWorld};
use minibrowse::net::proxy::Proxies;
use minibrowse::net::{DnsServers, HttpOptions};
use minibrowse::page::{Browser, Options};
use minibrowse::text::escape_line;
use minibrowse::trace::{Collector, Event, FnSink, Sink, Tee, Trace};
use minibrowse::views::{cookies, dump, har, json, trace_text};

/// Exit status when the page (or something it needed) failed to load.
const EXIT_FAILED: u8 = 1;
/// Exit status for a command line that cannot be acted on (clap uses 2 as well).
const EXIT_USAGE: u8 = 2;

/// A browser for the terminal that shows, step by step, how the web works.
///
/// With no URL, starts the built-in offline demo world and loads its home page.
#[derive(Parser, Debug)]
#[command(name = "minibrowse", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run only the demo world (DNS + web server on loopback) and print how to reach it.
    Serve(ServeArgs),
    /// Start the demo world and load its home page (the same as no arguments).
    Demo(DemoArgs),
    /// Join the demo chat by long polling or WebSocket; print each message as `name: text`.
    Chat(ChatArgs),
    /// Talk to any WebSocket server (ws:// or wss://); print each text frame received.
    Ws(WsArgs),
}

#[derive(Args, Debug)]
struct ChatArgs {
    /// A page of the demo server (its chat is at /chat/...), e.g. http://www.minibrowse.test:PORT/
    url: String,
    /// How to keep up: long polling or a WebSocket.
    #[arg(long, value_parser = ["poll", "ws"], default_value = "poll")]
    via: String,
    /// Your name in the chat.
    #[arg(long, default_value = "student")]
    name: String,
    /// A message to send once joined (repeatable).
    #[arg(long, value_name = "TEXT")]
    send: Vec<String>,
    /// Seconds to stay, printing what arrives (default 30). Without --send, --wait,
    /// --trace or --json, on a terminal, the chat opens full-screen instead.
    #[arg(long, value_name = "SECS")]
    wait: Option<f64>,
    #[command(flatten)]
    net: NetArgs,
}

#[derive(Args, Debug)]
struct WsArgs {
    /// ws:// or wss:// URL.
    url: String,
    /// A text message to send once connected (repeatable).
    #[arg(long, value_name = "TEXT")]
    send: Vec<String>,
    /// Seconds to stay, printing what arrives.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    wait: f64,
    #[command(flatten)]
    net: NetArgs,
}

/// The options the chat and ws commands share with page loads.
#[derive(Args, Debug)]
struct NetArgs {
    /// Print every step with its timing and an explanation.
    #[arg(long)]
    trace: bool,
    /// Print every step as one JSON object per line.
    #[arg(long, conflicts_with = "trace")]
    json: bool,
    /// DNS server to ask, as IP:PORT.
    #[arg(long, value_name = "IP:PORT")]
    dns_server: Option<SocketAddr>,
    /// Seconds one request may take (a held poll lasts up to 25 s).
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    timeout: f64,
    /// Write what happened as an HTTP Archive (HAR 1.2) to FILE, WebSocket frames included.
    #[arg(long, value_name = "FILE")]
    har: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Port of the web server (default: any free port).
    #[arg(long, default_value_t = 0)]
    http_port: u16,
    /// Port of the DNS server, UDP and TCP (default: any free port).
    #[arg(long, default_value_t = 0)]
    dns_port: u16,
    /// Port of the HTTPS site (default: any free port).
    #[arg(long, default_value_t = 0)]
    https_port: u16,
    /// Also run a forward proxy (HTTP and SOCKS5) on this port, logging what it forwards.
    #[arg(long, value_name = "N")]
    proxy_port: Option<u16>,
    /// Milliseconds added to every HTTP answer, to make the waterfall visible.
    #[arg(long, default_value_t = 0)]
    latency: u64,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Milliseconds added to every HTTP answer.
    #[arg(long, default_value_t = 0)]
    latency: u64,
    /// Page of the demo site to load.
    #[arg(long, default_value = "/")]
    path: String,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Args, Debug, Clone)]
struct LoadArgs {
    /// What to load: a URL (http, https, file), a bare host name (http:// is assumed) or a file path.
    url: Option<String>,
    /// The page after `demo` when options come first (`minibrowse --trace demo /assets.html`).
    #[arg(hide = true)]
    demo_path: Option<String>,
    /// Print every step with its timing and an explanation.
    #[arg(long)]
    trace: bool,
    /// Print every step as one JSON object per line (docs/trace.md).
    #[arg(long, conflicts_with = "trace")]
    json: bool,
    /// Print the page as plain text.
    #[arg(long)]
    dump: bool,
    /// Open the full-screen UI paused before the first step: Space runs each next step.
    #[arg(long)]
    step: bool,
    /// With --dump: leave out the numbered list of link targets.
    #[arg(long)]
    no_list: bool,
    /// Leave out the student explanations in --trace.
    #[arg(long)]
    no_explain: bool,
    /// DNS server to ask, as IP:PORT (default: the system's resolver configuration).
    #[arg(long, value_name = "IP:PORT")]
    dns_server: Option<SocketAddr>,
    /// Do not fetch the page's assets (images, stylesheets, scripts, frames).
    #[arg(long)]
    no_assets: bool,
    /// Lay a local page out only after it is parsed (by default the layout reads the DOM
    /// while the parser builds it); the output is the same, the trace shows the difference.
    #[arg(long)]
    layout_after_parse: bool,
    /// Seconds the page may take, redirects included; its assets share as much again.
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    timeout: f64,
    /// Largest body accepted, in bytes, counted after decompression.
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    max_body: u64,
    /// Most assets fetched for one page.
    #[arg(long, value_name = "N", default_value_t = 300)]
    max_assets: usize,
    /// Decoded bytes of all of a page's assets together.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    max_asset_bytes: u64,
    /// Seconds one asset may take (never more than --timeout; all assets share --timeout).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    asset_timeout: f64,
    /// Seconds one DNS question may take (never more than --timeout).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    dns_timeout: f64,
    /// Redirect hops followed before the chain is called a loop.
    #[arg(long, value_name = "N", default_value_t = 20)]
    max_redirects: u32,
    /// Connections to one host at once while fetching assets (browsers: 6; try 1 and compare the waterfall).
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u16).range(1..=64))]
    connections_per_host: u16,
    /// User-Agent header to send.
    #[arg(long, value_name = "TEXT")]
    user_agent: Option<String>,
    /// Extra request header, 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Columns to lay the page out for (default: the terminal's width, or 80 when the
    /// output is not a terminal).
    #[arg(long, value_name = "N")]
    width: Option<usize>,
    /// Write the load as an HTTP Archive (HAR 1.2) to FILE: open it in a browser's DevTools.
    #[arg(long, value_name = "FILE")]
    har: Option<PathBuf>,
    /// Print the cookie jar at the end.
    #[arg(long)]
    cookies: bool,
    /// Browse without cookies: Set-Cookie is shown but not kept, no Cookie header is sent.
    #[arg(long)]
    no_cookies: bool,
    /// Also trust the certificate authorities in FILE (PEM or DER), e.g. a school proxy's CA.
    #[arg(long, value_name = "FILE")]
    cacert: Vec<PathBuf>,
    /// Do not check certificates at all (dangerous; the trace says so at every handshake).
    #[arg(long)]
    insecure: bool,
    /// Go through this proxy: http://host:port, socks5h://host:port (the proxy looks names
    /// up) or socks5://host:port. Without it, http_proxy, https_proxy, all_proxy and
    /// no_proxy from the environment are used.
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
}

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Chat(args)) => chat(args),
        Some(Command::Ws(args)) => websocket(args),
        Some(Command::Demo(mut args)) => {
            // `minibrowse demo /page.html` means the demo site's page.
            if args.load.demo_path.is_some() {
                return fail("usage: demo takes one path", EXIT_USAGE);
            }
            let path = match args.load.url.take().map(demo_page) {
                Some(Ok(path)) => path,
                Some(Err(code)) => return code,
                None => args.path.clone(),
            };
            demo(args.load, args.latency, &path)
        }
        None if cli.load.url.is_none() => demo(cli.load, 0, "/"),
        // Options before the subcommand (`minibrowse --trace demo`) make it look like a host name.
        None if cli.load.url.as_deref() == Some("demo") => {
            let mut args = cli.load;
            args.url = None;
            let path = match args.demo_path.take().map(demo_page) {
                Some(Ok(path)) => path,
                Some(Err(code)) => return code,
                None => "/".to_string(),
            };
            demo(args, 0, &path)
        }
        None if cli.load.url.as_deref() == Some("serve") => fail(
            "usage: write `minibrowse serve [--http-port N] [--dns-port N] [--latency MS]`",
            EXIT_USAGE,
        ),
        None if cli.load.demo_path.is_some() => fail(
            "usage: one URL at a time (`minibrowse [OPTIONS] URL`)",
            EXIT_USAGE,
        ),
        None => load(&cli.load, None),
    }
}

/// A page of the demo site named on the command line (`minibrowse demo /assets.html`).
fn demo_page(path: String) -> Result<String, ExitCode> {
    if path.starts_with('/') {
        Ok(path)
    } else {
        Err(fail(
            &format!("usage: demo takes a path on the demo site (like /assets.html), not {path:?}"),
            EXIT_USAGE,
        ))
    }
}

/// Starts the demo world and loads one of its pages through it.
fn demo(mut args: LoadArgs, latency: u64, path: &str) -> ExitCode {
    let world = match DemoWorld::start(DemoOptions {
        latency: Duration::from_millis(latency),
        ..Default::default()
    }) {
        Ok(w) => w,
        Err(e) => return fail(&format!("demo: {e}"), EXIT_FAILED),
    };
    args.dns_server.get_or_insert(world.dns_addr);
    args.url = Some(world.url(path));
    load(&args, Some(&world))
}

fn serve(args: ServeArgs) -> ExitCode {
    let options = DemoOptions {
        http_port: args.http_port,
        https_port: args.https_port,
        proxy_port: args.proxy_port,
        dns_port: args.dns_port,
        latency: Duration::from_millis(args.latency),
        ..DemoOptions::default()
    };
    let world = match DemoWorld::start(options) {
        Ok(w) => w,
        Err(e) => return fail(&format!("serve: {e}"), EXIT_FAILED),
    };
    println!("minibrowse demo world is running (Ctrl-C stops it)");
    println!(
        "  web server:  http://{}  (serves every *.minibrowse.test name)",
        world.http_addr
    );
    println!(
        "  HTTPS site:  https://{}  (certificate for *.minibrowse.test)",
        world.https_addr
    );
    println!(
        "  DNS server:  {} (UDP and TCP), authoritative for minibrowse.test.",
        world.dns_addr
    );
    // The demo CA exists only in this process: write it where a client can be told to trust it.
    let ca_path =
        std::env::temp_dir().join(format!("minibrowse-demo-ca-{}.pem", std::process::id()));
    let ca_note = match std::fs::write(&ca_path, &world.ca_pem) {
        Ok(()) => format!(
            "  demo CA:     {} (made at start; trust it with --cacert)",
            ca_path.display()
        ),
        Err(e) => format!(
            "  demo CA:     could not be written to {} ({e})",
            ca_path.display()
        ),
    };
    println!("{ca_note}");
    if let Some(proxy) = world.proxy_addr {
        println!(
            "  proxy:       {proxy} (HTTP: http://{proxy}, SOCKS5: socks5h://{proxy}); it logs below what it forwards"
        );
    }
    println!();
    println!("From another terminal:");
    println!(
        "  minibrowse --dns-server {} {}",
        world.dns_addr,
        world.home_url()
    );
    println!(
        "  minibrowse --dns-server {} --cacert {} {}",
        world.dns_addr,
        ca_path.display(),
        world.https_url("/")
    );
    if let Some(proxy) = world.proxy_addr {
        println!(
            "  minibrowse --dns-server {} --proxy http://{proxy} {}",
            world.dns_addr,
            world.home_url()
        );
    }
    println!(
        "  dig @{} -p {} cdn.minibrowse.test",
        world.dns_addr.ip(),
        world.dns_addr.port()
    );
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

fn parse_headers(raw: &[String]) -> Result<Vec<(String, String)>, String> {
    raw.iter()
        .map(|h| {
            let (name, value) = h
                .split_once(':')
                .ok_or_else(|| format!("the header {h:?} is not 'Name: value'"))?;
            let name = name.trim();
            let valid_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
            if !valid_name || value.contains(['\r', '\n']) {
                return Err(format!("the header {h:?} is not a valid HTTP header"));
            }
            Ok((name.to_string(), value.trim().to_string()))
        })
        .collect()
}

fn options_from(args: &LoadArgs) -> Result<Options, String> {
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0) {
        return Err(format!(
            "--timeout {} is not between 0 and 3600 seconds",
            args.timeout
        ));
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let asset_timeout = seconds(args.asset_timeout, "--asset-timeout")?;
    let dns_timeout = seconds(args.dns_timeout, "--dns-timeout")?;
    let mut http = HttpOptions {
        headers: parse_headers(&args.headers)?,
        cookies: !args.no_cookies,
        insecure: args.insecure,
        max_redirects: args.max_redirects,
        ..HttpOptions::default()
    };
    for path in &args.cacert {
        http.extra_roots.extend(read_certificates(path)?);
    }
    http.proxies = Proxies::from_settings(args.proxy.as_deref(), |name| std::env::var(name).ok())?;
    if let Some(ua) = &args.user_agent {
        if ua.contains(['\r', '\n']) {
            return Err("--user-agent must be one line".into());
        }
        http.user_agent = ua.clone();
    }
    let mut options = Options {
        dns: args
            .dns_server
            .map(DnsServers::Explicit)
            .unwrap_or(DnsServers::System),
        http,
        timeout,
        asset_timeout: timeout.min(asset_timeout),
        max_body: args.max_body,
        max_assets: args.max_assets,
        max_asset_bytes: args.max_asset_bytes,
        connections_per_host: usize::from(args.connections_per_host),
        fetch_assets: !args.no_assets,
        layout_after_parse: args.layout_after_parse,
        width: args.width.unwrap_or_else(default_width).clamp(20, 1000),
        ..Options::default()
    };
    options.dns_timeout = timeout.min(dns_timeout);
    Ok(options)
}

/// The certificates in a `--cacert` file: PEM (one or more) or a single DER certificate.
fn read_certificates(path: &std::path::Path) -> Result<Vec<Vec<u8>>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let bytes = std::fs::read(path)
        .map_err(|e| format!("--cacert {}: cannot read it ({e})", path.display()))?;
    let pem: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .map(|c| c.as_ref().to_vec())
        .collect();
    if !pem.is_empty() {
        return Ok(pem);
    }
    if x509_parser::parse_x509_certificate(&bytes).is_ok() {
        return Ok(vec![bytes]);
    }
    Err(format!(
        "--cacert {}: no certificate in it (expected PEM with BEGIN CERTIFICATE, or DER)",
        path.display()
    ))
}

/// Which views print, in the order they were asked for.
struct Views {
    trace: bool,
    json: bool,
    dump: bool,
}

fn load(args: &LoadArgs, world: Option<&DemoWorld>) -> ExitCode {
    let mut options = match options_from(args) {
        Ok(o) => o,
        Err(e) => return fail(&format!("usage: {e}"), EXIT_USAGE),
    };
    // The demo world's HTTPS site is signed by its own CA, made at start: trust it.
    if let Some(world) = world {
        options.http.extra_roots.push(world.ca_der.clone());
    }
    if args.insecure {
        let _ = writeln!(
            std::io::stderr(),
            "minibrowse: WARNING: --insecure: certificates are not checked, so HTTPS cannot tell who is at the other end"
        );
    }
    // No view asked for and a terminal to draw on: the full-screen UI.
    let wants_text = args.trace || args.json || args.dump || args.har.is_some() || args.cookies;
    if !wants_text && std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        return browse(options, args.url.as_deref().unwrap_or_default(), args.step);
    }
    if args.step {
        return fail(
            "usage: --step needs the full-screen UI (a terminal, and no --dump/--trace/--json)",
            EXIT_USAGE,
        );
    }
    // With no view named, show both the steps and the page (until the TUI takes this role).
    let nothing_chosen = !(args.trace || args.json || args.dump);
    let views = Views {
        trace: args.trace || nothing_chosen,
        json: args.json,
        dump: args.dump || nothing_chosen,
    };
    let explain = !args.no_explain;
    let printer: Arc<dyn Sink> = if views.json {
        Arc::new(FnSink(|e: &Event| print_line(&json::event_line(e))))
    } else if views.trace {
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
    } else {
        Arc::new(Collector::default())
    };
    // Made before the trace starts: reading the system's trust store is not part of a load.
    let browser = match Browser::new(options) {
        Ok(b) => b,
        Err(e) => return fail(&format!("setup: {e}"), EXIT_FAILED),
    };
    // HAR is a view of the same events, plus the bodies the trace keeps for it.
    let recorder = Arc::new(Collector::default());
    let trace = match &args.har {
        Some(_) => {
            Trace::keeping_bodies(Arc::new(Tee(vec![printer, recorder.clone()])), HAR_MAX_BODY)
        }
        None => Trace::new(printer),
    };
    if let Some(world) = world {
        if views.trace && !views.json {
            print_text(&format!(
                "Demo world on loopback: web server {}, HTTPS site {}, DNS server {} (minibrowse.test.)\n\n",
                world.http_addr, world.https_addr, world.dns_addr
            ));
        }
    }
    let input = args.url.clone().unwrap_or_default();
    let result = browser.load(&input, &trace);
    if let Some(path) = &args.har {
        let title = result.as_ref().ok().and_then(|p| p.title());
        if let Err(e) = write_har(path, &recorder.events(), &trace, title) {
            return fail(&e, EXIT_FAILED);
        }
    }
    let problem = match result {
        Ok(page) => {
            if views.dump {
                if views.trace || views.json {
                    print_text("\n");
                }
                print_text(&dump::dump(&page, args.no_list));
            }
            let problem = page.problems.first().cloned();
            // Layout stage: the process ends right after this, so the DOM and the layout
            // are not torn down node by node (that takes longer than laying the page out).
            std::mem::forget(page);
            problem
        }
        Err(e) => Some(e.to_string()),
    };
    if args.cookies {
        print_jar(&browser, views.json);
    }
    match problem {
        Some(problem) => fail(&problem, EXIT_FAILED),
        None => ExitCode::SUCCESS,
    }
}

/// The most bytes of one body a HAR file inlines.
const HAR_MAX_BODY: usize = 1024 * 1024;

fn write_har(
    path: &std::path::Path,
    events: &[Event],
    trace: &Trace,
    title: Option<String>,
) -> Result<(), String> {
    let bodies = trace.kept_bodies();
    let har = har::build(&har::HarSource {
        events,
        started: trace.start_wall(),
        bodies: &bodies,
        title,
    });
    let text = serde_json::to_string_pretty(&har).map_err(|e| format!("har: {e}"))?;
    std::fs::write(path, text).map_err(|e| format!("har: cannot write {}: {e}", path.display()))
}

/// `--cookies`: the jar at the end of the session (a JSON line with `--json`).
fn print_jar(browser: &Browser, json: bool) {
    let entries = browser.client().cookie_jar().entries();
    if json {
        let cookies: Vec<serde_json::Value> = entries
            .iter()
            .map(|c| {
                serde_json::json!({
                    "domain": c.domain, "host_only": c.host_only, "path": c.path,
                    "name": c.name, "value": c.value, "expires": c.expires,
                    "secure": c.secure, "http_only": c.http_only, "same_site": c.same_site,
                })
            })
            .collect();
        let line = serde_json::json!({ "cookie_jar": cookies }).to_string();
        print_line(&minibrowse::text::escape_json_line(&line));
    } else {
        print_text("\n");
        for line in cookies::jar_lines(&entries) {
            print_line(&line);
        }
    }
}

/// The width `--dump` lays out for when none is given: the terminal's, as lynx and w3m
/// do, or 80 columns when the output goes to a file or a pipe.
fn default_width() -> usize {
    if std::io::stdout().is_terminal() {
        if let Ok((columns, _)) = ratatui::crossterm::terminal::size() {
            return usize::from(columns);
        }
    }
    80
}

/// Seconds from the command line, checked.
fn seconds(value: f64, what: &str) -> Result<Duration, String> {
    if value.is_finite() && value > 0.0 && value <= 86_400.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(format!("{what} {value} is not between 0 and 86400 seconds"))
    }
}

/// A browser and trace for the chat and ws commands, printing as --trace/--json ask.
/// The HAR file of a chat or ws session, and the events it is made from.
type HarRecorder = Option<(PathBuf, Arc<Collector>)>;

fn realtime_session(net: &NetArgs) -> Result<(Browser, Trace, Duration, HarRecorder), ExitCode> {
    let timeout =
        seconds(net.timeout, "--timeout").map_err(|e| fail(&format!("usage: {e}"), EXIT_USAGE))?;
    let proxies = Proxies::from_settings(None, |name| std::env::var(name).ok())
        .map_err(|e| fail(&format!("usage: {e}"), EXIT_USAGE))?;
    let options = Options {
        dns: net
            .dns_server
            .map(DnsServers::Explicit)
            .unwrap_or(DnsServers::System),
        http: HttpOptions {
            proxies,
            ..HttpOptions::default()
        },
        timeout,
        ..Options::default()
    };
    let browser = Browser::new(options).map_err(|e| fail(&format!("setup: {e}"), EXIT_FAILED))?;
    let printer: Arc<dyn Sink> = if net.json {
        Arc::new(FnSink(|e: &Event| print_line(&json::event_line(e))))
    } else if net.trace {
        Arc::new(FnSink(|e: &Event| {
            print_text(&trace_text::format_event(e, true))
        }))
    } else {
        Arc::new(Collector::default())
    };
    match &net.har {
        Some(path) => {
            let recorder = Arc::new(Collector::default());
            let sink = Arc::new(Tee(vec![printer, recorder.clone()]));
            let trace = Trace::keeping_bodies(sink, HAR_MAX_BODY);
            Ok((browser, trace, timeout, Some((path.clone(), recorder))))
        }
        None => Ok((browser, Trace::new(printer), timeout, None)),
    }
}

/// Ends a chat or ws session: writes its HAR (if asked), then the exit status.
fn end_realtime(result: Result<(), String>, har: HarRecorder, trace: &Trace) -> ExitCode {
    if let Some((path, recorder)) = har {
        if let Err(e) = write_har(&path, &recorder.events(), trace, None) {
            return fail(&e, EXIT_FAILED);
        }
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e, EXIT_FAILED),
    }
}

fn chat(args: ChatArgs) -> ExitCode {
    let (browser, trace, timeout, har) = match realtime_session(&args.net) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let interactive = args.wait.is_none()
        && args.send.is_empty()
        && !(args.net.trace || args.net.json)
        && std::io::stdout().is_terminal()
        && std::io::stdin().is_terminal();
    // Interactive: stay until the user quits.
    let wait = match seconds(
        args.wait
            .unwrap_or(if interactive { 86_400.0 } else { 30.0 }),
        "--wait",
    ) {
        Ok(w) => w,
        Err(e) => return fail(&format!("usage: {e}"), EXIT_USAGE),
    };
    let page = match minibrowse::page::parse_input(&args.url) {
        Ok((url, _)) => url,
        Err(e) => return fail(&e.to_string(), EXIT_USAGE),
    };
    let plan = minibrowse::chat::ChatPlan {
        via: if args.via == "ws" {
            minibrowse::chat::Via::WebSocket
        } else {
            minibrowse::chat::Via::Poll
        },
        name: args.name,
        send: args.send,
        wait,
        timeout,
    };
    if interactive {
        let start = minibrowse::tui::app::Command::Chat { page, plan };
        return match minibrowse::tui::run(browser, start) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("terminal: {e}"), EXIT_FAILED),
        };
    }
    // With --trace/--json the messages are in the events; alone, one line each.
    let quiet = args.net.trace || args.net.json;
    let mut show = |m: &minibrowse::demo::chat::ChatMessage| {
        if !quiet {
            print_line(&escape_line(&format!("{}: {}", m.name, m.text)));
        }
    };
    let result = minibrowse::chat::run(browser.client(), &page, &plan, &trace, &mut show, None)
        .map(|_| ())
        .map_err(|e| e.to_string());
    end_realtime(result, har, &trace)
}

fn websocket(args: WsArgs) -> ExitCode {
    let (browser, trace, timeout, har) = match realtime_session(&args.net) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let wait = match seconds(args.wait, "--wait") {
        Ok(w) => w,
        Err(e) => return fail(&format!("usage: {e}"), EXIT_USAGE),
    };
    let url = match url::Url::parse(&args.url) {
        Ok(url) => url,
        Err(e) => {
            return fail(
                &format!("url: {:?} is not a valid URL ({e})", args.url),
                EXIT_USAGE,
            )
        }
    };
    let quiet = args.net.trace || args.net.json;
    let mut show = |text: &str| {
        if !quiet {
            print_line(&escape_line(text));
        }
    };
    let result = minibrowse::chat::run_raw(
        browser.client(),
        &url,
        &args.send,
        wait,
        timeout.min(Duration::from_secs(15)),
        &trace,
        &mut show,
    )
    .map_err(|e| e.to_string());
    end_realtime(result, har, &trace)
}

/// The full-screen UI on this terminal.
fn browse(options: Options, url: &str, step: bool) -> ExitCode {
    let browser = match Browser::new(options) {
        Ok(b) => b,
        Err(e) => return fail(&format!("setup: {e}"), EXIT_FAILED),
    };
    let start = minibrowse::tui::app::Command::Load {
        url: url.to_string(),
        step,
    };
    match minibrowse::tui::run(browser, start) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("terminal: {e}"), EXIT_FAILED),
    }
}

fn print_text(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`minibrowse … | head`) is a normal end, not an error.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

fn print_line(line: &str) {
    print_text(&format!("{line}\n"));
}

fn fail(message: &str, code: u8) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "minibrowse: {}", escape_line(message));
    ExitCode::from(code)
}
