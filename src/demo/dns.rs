//! The demo world's DNS server: hickory-server, authoritative for `minibrowse.test.`,
//! loaded from the zone file in `fixtures/zone`, on UDP and TCP.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hickory_server::net::runtime::{Time, TokioRuntimeProvider};
use hickory_server::proto::rr::{LowerName, Name};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use tokio_util::sync::CancellationToken;

/// The zone the demo world answers for.
pub const ORIGIN: &str = "minibrowse.test.";

/// One question the server received (tests use these to prove cache hits and reuse).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryLog {
    pub name: String,
    pub record_type: String,
    pub protocol: String,
}

/// The catalog of zones, plus a log of every question asked.
pub struct LoggingHandler {
    catalog: Catalog,
    pub log: Arc<Mutex<Vec<QueryLog>>>,
}

/// Builds the catalog from the embedded zone file.
pub fn handler(zone_text: &str) -> Result<LoggingHandler, String> {
    let origin = Name::from_ascii(ORIGIN).map_err(|e| e.to_string())?;
    let (origin, records) = Parser::new(zone_text, None, Some(origin))
        .parse()
        .map_err(|e| format!("the demo zone file is invalid: {e}"))?;
    let zone = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
        origin.clone(),
        records,
        ZoneType::Primary,
        AxfrPolicy::Deny,
    )?;
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::new(&origin), vec![Arc::new(zone)]);
    Ok(LoggingHandler {
        catalog,
        log: Arc::new(Mutex::new(Vec::new())),
    })
}

#[async_trait::async_trait]
impl RequestHandler for LoggingHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response: R,
    ) -> ResponseInfo {
        if let Ok(info) = request.request_info() {
            let entry = QueryLog {
                name: info.query.name().to_string(),
                record_type: info.query.query_type().to_string(),
                protocol: format!("{:?}", info.protocol),
            };
            let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
            if log.len() < 10_000 {
                log.push(entry);
            }
        }
        self.catalog.handle_request::<R, T>(request, response).await
    }
}

/// Binds UDP and TCP on the same port (0 = any free port) and starts serving.
pub async fn serve(
    handler: LoggingHandler,
    ip: std::net::IpAddr,
    port: u16,
) -> Result<(std::net::SocketAddr, CancellationToken), String> {
    let mut last_error = String::new();
    for _ in 0..20 {
        let udp = tokio::net::UdpSocket::bind((ip, port))
            .await
            .map_err(|e| format!("cannot bind the DNS server to {ip}:{port}/udp: {e}"))?;
        let addr = udp.local_addr().map_err(|e| e.to_string())?;
        match tokio::net::TcpListener::bind(addr).await {
            Ok(tcp) => {
                let mut server = hickory_server::Server::new(handler);
                server.register_socket(udp);
                server.register_listener(tcp, Duration::from_secs(5), 4096);
                let token = server.shutdown_token().clone();
                tokio::spawn(async move {
                    let _ = server.block_until_done().await;
                });
                return Ok((addr, token));
            }
            // The UDP port was free but its TCP twin is taken: try another (only when any port will do).
            Err(e) if port == 0 => last_error = e.to_string(),
            Err(e) => return Err(format!("cannot bind the DNS server to {addr}/tcp: {e}")),
        }
    }
    Err(format!(
        "cannot find a port free for both UDP and TCP: {last_error}"
    ))
}
