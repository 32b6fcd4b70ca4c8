//! The embedded demo world: a DNS server authoritative for `minibrowse.test.`, a front web
//! server for its site (also behind TLS), a second web server (the backend) the front one
//! passes on what it lacks, and a forward proxy, inside this process. The site and the zone
//! are compiled into the binary, so an installed minibrowse works anywhere, offline.
//!
//! By default everything listens on loopback, on free ports; `minibrowse serve --listen ADDR`
//! puts it on a class's network, and its DNS then answers ADDR for every demo name. Each
//! server reports what it did through one bounded [`console::Console`] and prints nothing.
//!
//! Tests use the same world: they start it on ephemeral ports and browse it for real.

pub mod backend;
mod caching;
pub mod chat;
pub mod console;
pub mod dns;
pub mod forms;
pub mod http;
pub mod https;
pub mod proxy;
pub mod serving;
pub mod upstream;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use include_dir::{include_dir, Dir};

pub use console::{Console, ConsoleLines, ServedLine, Server};
pub use dns::QueryLog;

static SITE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/site");
static BACKEND: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/backend");
static ZONE: &str = include_str!("../../fixtures/zone/minibrowse.test.zone");

/// How to start the demo world (port 0 = any free port).
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The address every server binds to, and the one the DNS answers for the demo names.
    pub listen: IpAddr,
    pub http_port: u16,
    /// Port of the HTTPS site (the same site behind TLS, signed by the demo CA).
    pub https_port: u16,
    pub dns_port: u16,
    /// Port of the backend, the second web server.
    pub backend_port: u16,
    /// Start with the backend stopped (the front server then answers 502 for what it lacks).
    pub backend_stopped: bool,
    /// Added to every HTTP answer.
    pub latency: Duration,
    /// How long the chat holds a poll without news (None: 25 s, as the demo explains).
    pub chat_hold: Option<Duration>,
    /// How long the chat's event stream stays open before the server ends it and the client
    /// reconnects with Last-Event-ID (None: 60 s).
    pub chat_stream_lifetime: Option<Duration>,
    /// Run the forward proxy on this port (Some(0): any free port); None: no proxy.
    pub proxy_port: Option<u16>,
    /// Where the servers report each request they handled (`serve`'s console).
    pub console: Console,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            listen: IpAddr::V4(Ipv4Addr::LOCALHOST),
            http_port: 0,
            https_port: 0,
            dns_port: 0,
            backend_port: 0,
            backend_stopped: false,
            latency: Duration::ZERO,
            chat_hold: None,
            chat_stream_lifetime: None,
            proxy_port: None,
            console: Console::silent(),
        }
    }
}

/// Why the demo world did not start.
#[derive(Debug)]
pub enum StartError {
    /// A server could not bind its address (most often: the port is taken).
    Bind {
        server: Server,
        addr: SocketAddr,
        error: std::io::Error,
    },
    Other(String),
}

impl StartError {
    /// Whether another program holds the port already.
    pub fn port_taken(&self) -> bool {
        matches!(self, StartError::Bind { error, .. } if error.kind() == std::io::ErrorKind::AddrInUse)
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Bind {
                server,
                addr,
                error,
            } => write!(
                f,
                "cannot bind the {} server to {addr}: {error}",
                server.name()
            ),
            StartError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for StartError {}

impl From<String> for StartError {
    fn from(message: String) -> Self {
        StartError::Other(message)
    }
}

/// The running demo world; dropping it stops the servers.
pub struct DemoWorld {
    /// The address the servers listen on (and the DNS answers).
    pub listen: IpAddr,
    pub http_addr: SocketAddr,
    pub https_addr: SocketAddr,
    pub dns_addr: SocketAddr,
    /// The second web server, which has what the front one lacks.
    pub backend_addr: SocketAddr,
    /// The demo certificate authority (made at start): DER, to trust it in a client.
    pub ca_der: Vec<u8>,
    /// The same, PEM, for `--cacert`.
    pub ca_pem: String,
    /// The forward proxy (HTTP and SOCKS5 on one port), when asked for.
    pub proxy_addr: Option<SocketAddr>,
    proxy_log: proxy::ProxyLogBook,
    queries: Arc<Mutex<Vec<QueryLog>>>,
    backend: BackendSwitch,
    peers: serving::Peers,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DemoWorld {
    /// Starts the servers on a runtime thread of their own and waits until they listen.
    pub fn start(options: DemoOptions) -> Result<DemoWorld, StartError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("demo-world".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(StartError::Other(format!(
                            "cannot start the demo runtime: {e}"
                        ))));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match start_servers(&options).await {
                        Ok((started, running)) => {
                            let _ = ready_tx.send(Ok(started));
                            let _ = stop_rx.await;
                            running.stop();
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(|e| StartError::Other(format!("cannot start the demo thread: {e}")))?;
        let started = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| StartError::Other("the demo world did not start within 10 s".into()))??;
        Ok(DemoWorld {
            listen: started.listen,
            http_addr: started.http_addr,
            https_addr: started.https_addr,
            dns_addr: started.dns_addr,
            backend_addr: started.backend.addr,
            ca_der: started.ca_der,
            ca_pem: started.ca_pem,
            proxy_addr: started.proxy_addr,
            proxy_log: started.proxy_log,
            queries: started.queries,
            backend: started.backend,
            peers: started.peers,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://www.minibrowse.test:PORT/` + path.
    pub fn url(&self, path: &str) -> String {
        format!(
            "http://www.minibrowse.test:{}/{}",
            self.http_addr.port(),
            path.trim_start_matches('/')
        )
    }

    /// `https://secure.minibrowse.test:PORT/` + path: the HTTPS site.
    pub fn https_url(&self, path: &str) -> String {
        format!(
            "https://secure.minibrowse.test:{}/{}",
            self.https_addr.port(),
            path.trim_start_matches('/')
        )
    }

    /// `http://backend.minibrowse.test:PORT/` + path: the backend, asked directly.
    pub fn backend_url(&self, path: &str) -> String {
        format!(
            "http://backend.minibrowse.test:{}/{}",
            self.backend_addr.port(),
            path.trim_start_matches('/')
        )
    }

    /// The home page.
    pub fn home_url(&self) -> String {
        self.url("/")
    }

    /// Stops (false) or starts again (true) the backend, as a teacher does to show a 502.
    pub fn set_backend(&self, running: bool) -> Result<(), String> {
        if running {
            self.backend.start(&self.peers)
        } else {
            self.backend.stop();
            Ok(())
        }
    }

    /// Whether the backend is running.
    pub fn backend_running(&self) -> bool {
        self.backend.running()
    }

    /// What the forward proxy has forwarded lately, in order (the last
    /// [`proxy::LOG_ENTRIES`] things).
    pub fn proxy_log(&self) -> Vec<proxy::ProxyLog> {
        self.proxy_log.entries()
    }

    /// Every question the DNS server has received, in order.
    pub fn dns_queries(&self) -> Vec<QueryLog> {
        self.queries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for DemoWorld {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The backend's server task, which a teacher may stop and start again on the same port.
struct BackendSwitch {
    runtime: tokio::runtime::Handle,
    addr: SocketAddr,
    router: axum::Router,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl BackendSwitch {
    fn running(&self) -> bool {
        self.task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|t| !t.is_finished())
    }

    /// Binds the backend's port (again) and serves on it.
    fn start(&self, peers: &serving::Peers) -> Result<(), String> {
        let mut task = self.task.lock().unwrap_or_else(PoisonError::into_inner);
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return Ok(());
        }
        let listener = std::net::TcpListener::bind(self.addr)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| format!("cannot bind the backend to {}: {e}", self.addr))?;
        let _inside = self.runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| format!("cannot serve the backend on {}: {e}", self.addr))?;
        *task = Some(self.runtime.spawn(serving::serve(
            listener,
            None,
            self.router.clone(),
            peers.clone(),
        )));
        Ok(())
    }

    /// Closes the backend's port; waits (a second at most) until it is closed.
    fn stop(&self) {
        let Some(task) = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return;
        };
        task.abort();
        for _ in 0..100 {
            if task.is_finished() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

struct Started {
    listen: IpAddr,
    http_addr: SocketAddr,
    https_addr: SocketAddr,
    dns_addr: SocketAddr,
    ca_der: Vec<u8>,
    ca_pem: String,
    proxy_addr: Option<SocketAddr>,
    proxy_log: proxy::ProxyLogBook,
    queries: Arc<Mutex<Vec<QueryLog>>>,
    backend: BackendSwitch,
    peers: serving::Peers,
}

/// What runs until the world stops.
struct Running {
    dns: tokio_util::sync::CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    fn stop(self) {
        self.dns.cancel();
        for task in self.tasks {
            task.abort();
        }
    }
}

/// Binds a TCP port of the world, naming the server when it cannot.
async fn bind(
    server: Server,
    ip: IpAddr,
    port: u16,
) -> Result<tokio::net::TcpListener, StartError> {
    let addr = SocketAddr::new(ip, port);
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|error| StartError::Bind {
            server,
            addr,
            error,
        })
}

fn local_addr(listener: &tokio::net::TcpListener) -> Result<SocketAddr, StartError> {
    listener
        .local_addr()
        .map_err(|e| StartError::Other(e.to_string()))
}

async fn start_servers(options: &DemoOptions) -> Result<(Started, Running), StartError> {
    let ip = options.listen;
    if ip.is_unspecified() {
        return Err(StartError::Other(format!(
            "the demo world cannot listen on {ip}: its DNS answers the listening address, so give the one the class reaches (see `ip addr`)"
        )));
    }
    let console = &options.console;
    let handler = dns::handler(ZONE, ip, console.clone())?;
    let queries = handler.log.clone();
    let peers = serving::Peers::capped(serving::PER_PEER);
    let (dns_addr, dns_token) = dns::serve(handler, ip, options.dns_port, peers.clone()).await?;
    let listener = bind(Server::Web, ip, options.http_port).await?;
    let http_addr = local_addr(&listener)?;
    let ca = https::make_ca(ip)?;
    let tls_listener = bind(Server::Https, ip, options.https_port).await?;
    let https_addr = local_addr(&tls_listener)?;
    let backend_listener = bind(Server::Backend, ip, options.backend_port).await?;
    let backend_addr = local_addr(&backend_listener)?;
    let mut tasks = Vec::new();
    let proxy_log = proxy::ProxyLogBook::default();
    let proxy_addr = match options.proxy_port {
        Some(port) => {
            let listener = bind(Server::Proxy, ip, port).await?;
            let addr = local_addr(&listener)?;
            let allowed = proxy::Allowed {
                own: addr,
                world: vec![http_addr, https_addr, backend_addr],
                loopback: ip.is_loopback(),
            };
            tasks.push(
                proxy::serve(
                    listener,
                    dns_addr,
                    proxy_log.clone(),
                    console.clone(),
                    allowed,
                    peers.clone(),
                )
                .await?,
            );
            Some(addr)
        }
        None => None,
    };
    let room = chat::Room::with_stream(
        options.chat_hold.unwrap_or(Duration::from_secs(25)),
        options
            .chat_stream_lifetime
            .unwrap_or(chat::STREAM_LIFETIME),
    );
    let ca_pem: Arc<str> = Arc::from(ca.ca_pem.as_str());
    let site = |files: &'static Dir<'static>, dir, backend| http::Site {
        files,
        dir,
        backend,
        address: ip,
        port: http_addr.port(),
        https_port: https_addr.port(),
        backend_port: backend_addr.port(),
        dns: dns_addr.to_string(),
        latency: options.latency,
        room: room.clone(),
        ca_pem: ca_pem.clone(),
    };
    let router = http::router(site(&SITE, "site", Some(backend_addr)));
    let backend_router = http::reported(
        http::backend_router(site(&BACKEND, "backend", None)),
        Server::Backend,
        console.clone(),
    );
    let web = http::reported(router.clone(), Server::Web, console.clone());
    let tls = http::reported(router, Server::Https, console.clone());
    // The same sites on the IPv6 loopback, HTTPS too, for the names with an AAAA record
    // (v6.minibrowse.test has only that, both.minibrowse.test both: Happy Eyeballs), when this
    // machine has IPv6 and the world is on the usual loopback. (The backend stays IPv4-only:
    // both.minibrowse.test at its port shows an IPv6 attempt refused and IPv4 taking over.)
    if ip == IpAddr::V4(Ipv4Addr::LOCALHOST) {
        let v6 = |port| tokio::net::TcpListener::bind((Ipv6Addr::LOCALHOST, port));
        if let Ok(listener) = v6(http_addr.port()).await {
            tasks.push(tokio::spawn(serving::serve(
                listener,
                None,
                web.clone(),
                peers.clone(),
            )));
        }
        if let Ok(listener) = v6(https_addr.port()).await {
            tasks.push(tokio::spawn(serving::serve(
                listener,
                Some(ca.server.clone()),
                tls.clone(),
                peers.clone(),
            )));
        }
    }
    tasks.push(tokio::spawn(serving::serve(
        listener,
        None,
        web,
        peers.clone(),
    )));
    tasks.push(tokio::spawn(serving::serve(
        tls_listener,
        Some(ca.server.clone()),
        tls,
        peers.clone(),
    )));
    let backend = BackendSwitch {
        runtime: tokio::runtime::Handle::current(),
        addr: backend_addr,
        router: backend_router,
        task: Mutex::new(None),
    };
    if options.backend_stopped {
        drop(backend_listener);
    } else {
        *backend.task.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(tokio::spawn(serving::serve(
                backend_listener,
                None,
                backend.router.clone(),
                peers.clone(),
            )));
    }
    Ok((
        Started {
            listen: ip,
            http_addr,
            https_addr,
            dns_addr,
            ca_der: ca.ca_der,
            ca_pem: ca.ca_pem,
            proxy_addr,
            proxy_log,
            queries,
            backend,
            peers,
        },
        Running {
            dns: dns_token,
            tasks,
        },
    ))
}
