//! The embedded demo world: a DNS server authoritative for `minibrowse.test.` and a web
//! server for its site, both on loopback, inside this process. The site and the zone are
//! compiled into the binary, so an installed minibrowse works anywhere, offline.
//!
//! Tests use the same world: they start it on ephemeral ports and browse it for real.

pub mod chat;
pub mod dns;
pub mod http;
pub mod https;
pub mod proxy;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use include_dir::{include_dir, Dir};

pub use dns::QueryLog;

static SITE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/site");
static ZONE: &str = include_str!("../../fixtures/zone/minibrowse.test.zone");

/// How to start the demo world (port 0 = any free port).
#[derive(Clone, Debug, Default)]
pub struct DemoOptions {
    pub http_port: u16,
    /// Port of the HTTPS site (the same site behind TLS, signed by the demo CA).
    pub https_port: u16,
    pub dns_port: u16,
    /// Added to every HTTP answer.
    pub latency: Duration,
    /// How long the chat holds a poll without news (None: 25 s, as the demo explains).
    pub chat_hold: Option<Duration>,
    /// Run the forward proxy on this port (Some(0): any free port); None: no proxy.
    pub proxy_port: Option<u16>,
    /// Print a line for everything the proxy forwards (`serve`).
    pub print_proxy_log: bool,
}

/// The running demo world; dropping it stops the servers.
pub struct DemoWorld {
    pub http_addr: SocketAddr,
    pub https_addr: SocketAddr,
    pub dns_addr: SocketAddr,
    /// The demo certificate authority (made at start): DER, to trust it in a client.
    pub ca_der: Vec<u8>,
    /// The same, PEM, for `--cacert`.
    pub ca_pem: String,
    /// The forward proxy (HTTP and SOCKS5 on one port), when asked for.
    pub proxy_addr: Option<SocketAddr>,
    proxy_log: Arc<Mutex<Vec<proxy::ProxyLog>>>,
    queries: Arc<Mutex<Vec<QueryLog>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DemoWorld {
    /// Starts both servers on a runtime thread of their own and waits until they listen.
    pub fn start(options: DemoOptions) -> Result<DemoWorld, String> {
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
                        let _ = ready_tx.send(Err(format!("cannot start the demo runtime: {e}")));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match start_servers(&options).await {
                        Ok((started, dns_token, http_task)) => {
                            let _ = ready_tx.send(Ok(started));
                            let _ = stop_rx.await;
                            dns_token.cancel();
                            http_task.abort();
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(|e| format!("cannot start the demo thread: {e}"))?;
        let started = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| "the demo world did not start within 10 s".to_string())??;
        Ok(DemoWorld {
            http_addr: started.http_addr,
            https_addr: started.https_addr,
            dns_addr: started.dns_addr,
            ca_der: started.ca_der,
            ca_pem: started.ca_pem,
            proxy_addr: started.proxy_addr,
            proxy_log: started.proxy_log,
            queries: started.queries,
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

    /// The home page.
    pub fn home_url(&self) -> String {
        self.url("/")
    }

    /// Everything the forward proxy has forwarded, in order.
    pub fn proxy_log(&self) -> Vec<proxy::ProxyLog> {
        self.proxy_log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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

struct Started {
    http_addr: SocketAddr,
    https_addr: SocketAddr,
    dns_addr: SocketAddr,
    ca_der: Vec<u8>,
    ca_pem: String,
    proxy_addr: Option<SocketAddr>,
    proxy_log: Arc<Mutex<Vec<proxy::ProxyLog>>>,
    queries: Arc<Mutex<Vec<QueryLog>>>,
}

async fn start_servers(
    options: &DemoOptions,
) -> Result<
    (
        Started,
        tokio_util::sync::CancellationToken,
        tokio::task::JoinHandle<()>,
    ),
    String,
> {
    let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let handler = dns::handler(ZONE)?;
    let queries = handler.log.clone();
    let (dns_addr, dns_token) = dns::serve(handler, ip, options.dns_port).await?;
    let listener = tokio::net::TcpListener::bind((ip, options.http_port))
        .await
        .map_err(|e| {
            format!(
                "cannot bind the web server to {ip}:{}: {e}",
                options.http_port
            )
        })?;
    let http_addr = listener.local_addr().map_err(|e| e.to_string())?;
    let ca = https::make_ca()?;
    let tls_listener = tokio::net::TcpListener::bind((ip, options.https_port))
        .await
        .map_err(|e| {
            format!(
                "cannot bind the HTTPS server to {ip}:{}: {e}",
                options.https_port
            )
        })?;
    let https_addr = tls_listener.local_addr().map_err(|e| e.to_string())?;
    let tls_listener = https::TlsListener::new(tls_listener, ca.server.clone())
        .map_err(|e| format!("cannot start the HTTPS server: {e}"))?;
    let proxy_log = Arc::new(Mutex::new(Vec::new()));
    let proxy_addr = match options.proxy_port {
        Some(port) => {
            let listener = tokio::net::TcpListener::bind((ip, port))
                .await
                .map_err(|e| format!("cannot bind the proxy to {ip}:{port}: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            proxy::serve(
                listener,
                dns_addr,
                proxy_log.clone(),
                options.print_proxy_log,
            )
            .await?;
            Some(addr)
        }
        None => None,
    };
    let router = http::router(http::Site {
        files: &SITE,
        port: http_addr.port(),
        https_port: https_addr.port(),
        dns: dns_addr.to_string(),
        latency: options.latency,
        room: chat::Room::new(options.chat_hold.unwrap_or(Duration::from_secs(25))),
    });
    // The same site on the IPv6 loopback, for names with only an AAAA record (v6.minibrowse.test),
    // when this machine has IPv6.
    let v6 = tokio::net::TcpListener::bind((Ipv6Addr::LOCALHOST, http_addr.port()))
        .await
        .ok();
    let v6_router = router.clone();
    let tls_router = router.clone();
    let http_task = tokio::spawn(async move {
        let https = axum::serve(tls_listener, tls_router);
        match v6 {
            Some(v6) => {
                let _ = tokio::join!(
                    axum::serve(listener, router),
                    axum::serve(v6, v6_router),
                    https
                );
            }
            None => {
                let _ = tokio::join!(axum::serve(listener, router), https);
            }
        }
    });
    Ok((
        Started {
            http_addr,
            https_addr,
            dns_addr,
            ca_der: ca.ca_der,
            ca_pem: ca.ca_pem,
            proxy_addr,
            proxy_log,
            queries,
        },
        dns_token,
        http_task,
    ))
}
