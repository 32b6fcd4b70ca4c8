//! Command line: clap definitions and the modes (load a page, serve the demo world).

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use minibrowse::demo::{DemoOptions, DemoWorld};
use minibrowse::net::{DnsServers, HttpOptions};
use minibrowse::page::{Browser, Options};
use minibrowse::text::escape_line;
use minibrowse::trace::{Collector, Event, FnSink, Sink, Trace};
use minibrowse::views::{dump, json, trace_text};

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
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Port of the web server (default: any free port).
    #[arg(long, default_value_t = 0)]
    http_port: u16,
    /// Port of the DNS server, UDP and TCP (default: any free port).
    #[arg(long, default_value_t = 0)]
    dns_port: u16,
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
    /// Print every step with its timing and an explanation.
    #[arg(long)]
    trace: bool,
    /// Print every step as one JSON object per line (docs/trace.md).
    #[arg(long, conflicts_with = "trace")]
    json: bool,
    /// Print the page as plain text.
    #[arg(long)]
    dump: bool,
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
    /// Seconds the page may take (each asset gets at most 10).
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    timeout: f64,
    /// Largest body accepted, in bytes, counted after decompression.
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    max_body: u64,
    /// Most assets fetched for one page.
    #[arg(long, value_name = "N", default_value_t = 300)]
    max_assets: usize,
    /// User-Agent header to send.
    #[arg(long, value_name = "TEXT")]
    user_agent: Option<String>,
    /// Extra request header, 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Columns to lay the page out for (default 80).
    #[arg(long, value_name = "N", default_value_t = 80)]
    width: usize,
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
        Some(Command::Demo(args)) => demo(args.load, args.latency, &args.path),
        None if cli.load.url.is_none() => demo(cli.load, 0, "/"),
        None => load(&cli.load, None),
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
        dns_port: args.dns_port,
        latency: Duration::from_millis(args.latency),
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
        "  DNS server:  {} (UDP and TCP), authoritative for minibrowse.test.",
        world.dns_addr
    );
    println!();
    println!("From another terminal:");
    println!(
        "  minibrowse --dns-server {} {}",
        world.dns_addr,
        world.home_url()
    );
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
    let mut http = HttpOptions {
        headers: parse_headers(&args.headers)?,
        ..HttpOptions::default()
    };
    if let Some(ua) = &args.user_agent {
        if ua.contains(['\r', '\n']) {
            return Err("--user-agent must be one line".into());
        }
        http.user_agent = ua.clone();
    }
    Ok(Options {
        dns: args
            .dns_server
            .map(DnsServers::Explicit)
            .unwrap_or(DnsServers::System),
        http,
        timeout,
        asset_timeout: timeout.min(Duration::from_secs(10)),
        max_body: args.max_body,
        max_assets: args.max_assets,
        fetch_assets: !args.no_assets,
        width: args.width.clamp(20, 1000),
        ..Options::default()
    })
}

/// Which views print, in the order they were asked for.
struct Views {
    trace: bool,
    json: bool,
    dump: bool,
}

fn load(args: &LoadArgs, world: Option<&DemoWorld>) -> ExitCode {
    let options = match options_from(args) {
        Ok(o) => o,
        Err(e) => return fail(&format!("usage: {e}"), EXIT_USAGE),
    };
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
    let trace = Trace::new(printer);
    if let Some(world) = world {
        if views.trace && !views.json {
            print_text(&format!(
                "Demo world on loopback: web server {}, DNS server {} (minibrowse.test.)\n\n",
                world.http_addr, world.dns_addr
            ));
        }
    }
    let browser = match Browser::new(options) {
        Ok(b) => b,
        Err(e) => return fail(&format!("setup: {e}"), EXIT_FAILED),
    };
    let input = args.url.clone().unwrap_or_default();
    match browser.load(&input, &trace) {
        Ok(page) => {
            if views.dump {
                if views.trace || views.json {
                    print_text("\n");
                }
                print_text(&dump::dump(&page, args.no_list));
            }
            if let Some(problem) = page.problems.first() {
                return fail(problem, EXIT_FAILED);
            }
            // Layout stage: the process ends right after this, so the DOM and the layout
            // are not torn down node by node (that takes longer than laying the page out).
            std::mem::forget(page);
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e.to_string(), EXIT_FAILED),
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
