//! The command line's clap definitions, and the mode they resolve to.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use super::error::CliError;

/// A browser for the terminal that shows, step by step, how the web works.
///
/// With no URL, starts the built-in offline demo world and loads its home page.
#[derive(Parser, Debug)]
#[command(
    name = "minibrowse",
    version,
    propagate_version = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run only the demo world's servers (web, HTTPS, backend, DNS, proxy) on fixed ports,
    /// print how to reach them, then one line per request they handle.
    Serve(ServeArgs),
    /// Start the demo world and load its home page (the same as no arguments).
    Demo(DemoArgs),
    /// Join the demo chat by refreshing, long polling, Server-Sent Events or WebSocket; print each message as `name: text`.
    Chat(ChatArgs),
    /// Talk to any WebSocket server (ws:// or wss://); print each text frame received.
    Ws(WsArgs),
    /// Print a shell completion script (e.g. `minibrowse completions bash > /etc/bash_completion.d/minibrowse`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff); with --dir, write minibrowse.1 and one page per command there.
    Man {
        /// Write the pages into this directory instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct ChatArgs {
    /// A page of the demo server (its chat is at /chat/...), e.g. http://www.minibrowse.test:PORT/
    pub url: String,
    /// How to keep up: refresh (no polling: ask again every --refresh seconds), long
    /// polling, Server-Sent Events (one stream from the server, a POST per message), or a
    /// WebSocket.
    #[arg(long, value_parser = ["refresh", "poll", "sse", "ws"], default_value = "poll")]
    pub via: String,
    /// With --via refresh: seconds between two asks (and nothing new is seen in between).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub refresh: f64,
    /// Your name in the chat.
    #[arg(long, default_value = "student")]
    pub name: String,
    /// A message to send once joined (repeatable).
    #[arg(long, value_name = "TEXT")]
    pub send: Vec<String>,
    /// Seconds to stay, printing what arrives (default 30). Without --send, --wait,
    /// --trace or --json, on a terminal, the chat opens full-screen instead.
    #[arg(long, value_name = "SECS")]
    pub wait: Option<f64>,
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Args, Debug)]
pub struct WsArgs {
    /// ws:// or wss:// URL.
    pub url: String,
    /// A text message to send once connected (repeatable).
    #[arg(long, value_name = "TEXT")]
    pub send: Vec<String>,
    /// Seconds to stay, printing what arrives.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub wait: f64,
    #[command(flatten)]
    pub net: NetArgs,
}

/// The options the chat and ws commands share with page loads.
#[derive(Args, Debug)]
pub struct NetArgs {
    /// Print every step with its timing and an explanation.
    #[arg(long)]
    pub trace: bool,
    /// Print every step as one JSON object per line.
    #[arg(long, conflicts_with = "trace")]
    pub json: bool,
    /// DNS server to ask, as IP:PORT.
    #[arg(long, value_name = "IP:PORT")]
    pub dns_server: Option<SocketAddr>,
    /// Seconds one request may take (a held poll lasts up to 25 s).
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Write what happened as an HTTP Archive (HAR 1.2) to FILE, WebSocket frames included.
    #[arg(long, value_name = "FILE")]
    pub har: Option<PathBuf>,
    /// Keep cookies and credentials in the HAR file (left out by default).
    #[arg(long, requires = "har")]
    pub har_sensitive: bool,
    #[command(flatten)]
    pub trust: TrustArgs,
}

/// `serve`'s fixed ports: the same every lesson, so the commands on the slides stay true.
/// All above 1024 (no root needed) and the usual unprivileged stand-ins: 8080 and 8443 for
/// HTTP's 80 and HTTPS's 443, 8053 for DNS's 53, 3128 (Squid's) for a proxy.
pub mod serve_ports {
    pub const HTTP: u16 = 8080;
    pub const BACKEND: u16 = 8081;
    pub const HTTPS: u16 = 8443;
    pub const DNS: u16 = 8053;
    pub const PROXY: u16 = 3128;
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The address to serve on, and the one the demo DNS answers for every demo name: the
    /// teacher's address on a class network, so students can join. Default: loopback only.
    #[arg(long, value_name = "IPV4", default_value = "127.0.0.1")]
    pub listen: std::net::Ipv4Addr,
    /// Port of the web server (0: any free port).
    #[arg(long, value_name = "N", default_value_t = serve_ports::HTTP)]
    pub http_port: u16,
    /// Port of the HTTPS site.
    #[arg(long, value_name = "N", default_value_t = serve_ports::HTTPS)]
    pub https_port: u16,
    /// Port of the DNS server, UDP and TCP.
    #[arg(long, value_name = "N", default_value_t = serve_ports::DNS)]
    pub dns_port: u16,
    /// Port of the backend, the second web server the front one passes on what it lacks to.
    #[arg(long, value_name = "N", default_value_t = serve_ports::BACKEND)]
    pub backend_port: u16,
    /// Start with the backend stopped (the front server answers 502 for what it lacks);
    /// type `backend on` / `backend off` in the serve terminal to switch it.
    #[arg(long)]
    pub no_backend: bool,
    /// Port of the forward proxy (HTTP and SOCKS5 on one port).
    #[arg(long, value_name = "N", default_value_t = serve_ports::PROXY)]
    pub proxy_port: u16,
    /// Milliseconds added to every HTTP answer, to make the waterfall visible.
    #[arg(long, default_value_t = 0)]
    pub latency: u64,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Milliseconds added to every HTTP answer.
    #[arg(long, default_value_t = 0)]
    pub latency: u64,
    /// Page of the demo site to load.
    #[arg(long, default_value = "/")]
    pub path: String,
    /// Load the page from the demo world's HTTPS site (trusted for this run): HTTP/2, one
    /// connection for every request, unless --http1.1 is given too.
    #[arg(long)]
    pub https: bool,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    /// What to load: a URL (http, https, file), a bare host name (http:// is assumed) or a file path.
    pub url: Option<String>,
    /// The page after `demo` when options come first (`minibrowse --trace demo /assets.html`).
    #[arg(hide = true)]
    pub demo_path: Option<String>,
    /// Print every step with its timing and an explanation.
    #[arg(long)]
    pub trace: bool,
    /// Print every step as one JSON object per line (docs/trace.md).
    #[arg(long, conflicts_with = "trace")]
    pub json: bool,
    /// Print the page as plain text.
    #[arg(long)]
    pub dump: bool,
    /// Open the full-screen UI paused before the first step: Space runs each next step.
    #[arg(long)]
    pub step: bool,
    /// With --dump: leave out the numbered list of link targets.
    #[arg(long)]
    pub no_list: bool,
    /// Leave out the student explanations in --trace.
    #[arg(long)]
    pub no_explain: bool,
    /// DNS server to ask, as IP:PORT (default: the system's resolver configuration).
    #[arg(long, value_name = "IP:PORT")]
    pub dns_server: Option<SocketAddr>,
    /// Do not fetch the page's assets (images, stylesheets, scripts, frames).
    #[arg(long)]
    pub no_assets: bool,
    /// Lay a local page out only after it is parsed (by default the layout reads the DOM
    /// while the parser builds it); the output is the same, the trace shows the difference.
    #[arg(long)]
    pub layout_after_parse: bool,
    /// Load one stage after another: the whole document, then its parse, then every asset,
    /// then the layout (no preload scanner, no first render before the images), to compare
    /// with the way browsers load today; the trace shows the difference.
    #[arg(long)]
    pub sequential: bool,
    /// Seconds the page may take, redirects included; its assets share as much again.
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    pub timeout: f64,
    /// Largest body accepted, in bytes, counted after decompression.
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_body: u64,
    /// Most assets fetched for one page.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub max_assets: usize,
    /// Decoded bytes of all of a page's assets together.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_asset_bytes: u64,
    /// Seconds one asset may take (never more than --timeout; all assets share --timeout).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub asset_timeout: f64,
    /// Seconds one DNS question may take (never more than --timeout).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub dns_timeout: f64,
    /// Redirect hops followed before the chain is called a loop.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_redirects: u32,
    /// Connections to one host at once while fetching assets (browsers: 6; try 1 and compare the waterfall).
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub connections_per_host: u16,
    /// User-Agent header to send.
    #[arg(long, value_name = "TEXT")]
    pub user_agent: Option<String>,
    /// Extra request header, 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The page's method: GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS (default: GET, or
    /// POST with --data).
    #[arg(short = 'X', long = "method", value_name = "METHOD")]
    pub method: Option<String>,
    /// Send BODY with the page's request (a POST unless -X says otherwise), as
    /// application/x-www-form-urlencoded unless -H Content-Type says otherwise; @FILE reads
    /// it from FILE.
    #[arg(short = 'd', long = "data", value_name = "BODY")]
    pub data: Option<String>,
    /// Columns to lay the page out for (default: the terminal's width, or 80 when the
    /// output is not a terminal).
    #[arg(long, value_name = "N")]
    pub width: Option<usize>,
    /// Write the load as an HTTP Archive (HAR 1.2) to FILE: open it in a browser's DevTools.
    #[arg(long, value_name = "FILE")]
    pub har: Option<PathBuf>,
    /// Keep cookies and credentials in the HAR file (left out by default, as Chrome's
    /// sanitized export does).
    #[arg(long, requires = "har")]
    pub har_sensitive: bool,
    /// Print the cookie jar at the end.
    #[arg(long)]
    pub cookies: bool,
    /// Browse without cookies: Set-Cookie is shown but not kept, no Cookie header is sent.
    #[arg(long)]
    pub no_cookies: bool,
    /// Keep the HTTP cache in DIR across runs (created if missing, at most 256 MiB): a
    /// second run uses what the first stored, or asks the server only whether it changed.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Never answer from the HTTP cache (a hard reload): every request goes to the server,
    /// with Cache-Control: no-cache; what comes back is still stored.
    #[arg(long)]
    pub no_cache: bool,
    /// Speak HTTP/1.1 only (as curl's --http1.1): HTTPS handshakes offer no HTTP/2, so a
    /// page loads over up to six connections per host instead of one multiplexed one.
    #[arg(long = "http1.1")]
    pub http1_1: bool,
    #[command(flatten)]
    pub trust: TrustArgs,
}

/// Whom to trust and which way to go: the same for page loads, `chat` and `ws`.
#[derive(Args, Debug, Clone, Default)]
pub struct TrustArgs {
    /// Also trust the certificate authorities in FILE (PEM or DER), e.g. a school proxy's CA.
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,
    /// Do not check certificates at all (dangerous; the trace says so at every handshake).
    #[arg(long)]
    pub insecure: bool,
    /// Go through this proxy: http://host:port, socks5h://host:port (the proxy looks names
    /// up) or socks5://host:port. Without it, http_proxy, https_proxy, all_proxy and
    /// no_proxy from the environment are used.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
}

/// What the command line asks for, resolved once, before anything runs.
#[derive(Debug)]
pub enum Mode {
    /// Run only the demo world's servers (`serve`).
    Serve(ServeArgs),
    /// Start the demo world in this process and load one of its pages.
    Demo {
        load: LoadArgs,
        latency: u64,
        /// A path on the demo site (`/assets.html`).
        path: String,
        /// From the HTTPS site (`demo --https`).
        https: bool,
    },
    /// Join the demo chat.
    Chat(ChatArgs),
    /// Talk to a WebSocket server.
    Ws(WsArgs),
    /// Load what the user named.
    Load(LoadArgs),
    /// Print a shell's completion script.
    Completions(clap_complete::Shell),
    /// Print the man page, or write the pages into a directory.
    Man(Option<PathBuf>),
}

impl Mode {
    /// Reads the process's command line.
    pub fn from_command_line() -> Result<Mode, CliError> {
        Cli::try_parse().map_err(CliError::Clap)?.mode()
    }
}

impl Cli {
    /// The mode, from the subcommand, or from the words clap could not tell apart: options
    /// before a subcommand (`minibrowse --trace demo /page.html`) make `demo` look like a
    /// host name to clap, so it is recognised here.
    pub fn mode(self) -> Result<Mode, CliError> {
        let mut load = self.load;
        match self.command {
            Some(Command::Serve(args)) => Ok(Mode::Serve(args)),
            Some(Command::Chat(args)) => Ok(Mode::Chat(args)),
            Some(Command::Ws(args)) => Ok(Mode::Ws(args)),
            Some(Command::Completions { shell }) => Ok(Mode::Completions(shell)),
            Some(Command::Man { dir }) => Ok(Mode::Man(dir)),
            Some(Command::Demo(mut args)) => {
                if args.load.demo_path.is_some() {
                    return Err(CliError::Usage("demo takes one path".into()));
                }
                let path = match args.load.url.take() {
                    Some(path) => demo_page(path)?,
                    None => args.path.clone(),
                };
                Ok(Mode::Demo {
                    load: args.load,
                    latency: args.latency,
                    path,
                    https: args.https,
                })
            }
            None => match load.url.as_deref() {
                None => Ok(Mode::Demo {
                    load,
                    latency: 0,
                    path: "/".into(),
                    https: false,
                }),
                Some("demo") => {
                    load.url = None;
                    let path = match load.demo_path.take() {
                        Some(path) => demo_page(path)?,
                        None => "/".to_string(),
                    };
                    Ok(Mode::Demo {
                        load,
                        latency: 0,
                        path,
                        https: false,
                    })
                }
                Some("serve") => Err(CliError::Usage(
                    "write `minibrowse serve [--listen IPV4] [--http-port N] [--dns-port N] [--latency MS]`".into(),
                )),
                Some(_) if load.demo_path.is_some() => Err(CliError::Usage(
                    "one URL at a time (`minibrowse [OPTIONS] URL`)".into(),
                )),
                Some(_) => Ok(Mode::Load(load)),
            },
        }
    }
}

/// A page of the demo site named on the command line (`minibrowse demo /assets.html`).
fn demo_page(path: String) -> Result<String, CliError> {
    if path.starts_with('/') {
        Ok(path)
    } else {
        Err(CliError::Usage(format!(
            "demo takes a path on the demo site (like /assets.html), not {path:?}"
        )))
    }
}
