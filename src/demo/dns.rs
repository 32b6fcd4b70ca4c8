//! The demo world's DNS server: hickory-server, authoritative for `minibrowse.test.`,
//! loaded from the zone file in `fixtures/zone`, on UDP and TCP.
//!
//! The zone file's A records say 127.0.0.1; the server answers the address the world
//! listens on instead (the same, unless `serve --listen ADDR` put it on a class's network).
//!
//! TCP goes through a gate of ours first ([`gate_tcp`]): hickory takes every connection it
//! is given (it closes one only after 5 s idle), so one peer could hold hundreds and use up
//! the process's descriptors, which the web servers share. The gate admits a peer's
//! connections up to the world's per-peer cap (the same count as the web servers') and
//! relays them to hickory on a loopback port; the console still names the real peer.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hickory_server::net::runtime::{Time, TokioRuntimeProvider};
use hickory_server::proto::op::ResponseCode;
use hickory_server::proto::rr::rdata::A;
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordSet, RecordType, RrKey};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use tokio_util::sync::CancellationToken;

use super::console::{Console, ServedLine, Server};
use super::serving::Peers;
use super::StartError;

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
    /// The records served, to say on the console what an answer held.
    records: BTreeMap<RrKey, RecordSet>,
    console: Console,
    pub log: Arc<Mutex<Vec<QueryLog>>>,
    /// TCP connections relayed by the gate: hickory's side of each (our relay's address),
    /// and the peer behind it.
    relayed: Relayed,
}

/// The peers behind the gate's relays, by the relay's own address.
#[derive(Clone, Default)]
struct Relayed(Arc<Mutex<HashMap<SocketAddr, SocketAddr>>>);

impl Relayed {
    /// The real peer of a query that came from `src` (itself, unless the gate relayed it).
    fn peer(&self, src: SocketAddr) -> SocketAddr {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&src).copied().unwrap_or(src)
    }

    fn insert(&self, relay: SocketAddr, peer: SocketAddr) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert(relay, peer);
    }

    fn remove(&self, relay: SocketAddr) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(&relay);
    }
}

/// Builds the catalog from the embedded zone file, its A records pointing at `address`.
pub fn handler(
    zone_text: &str,
    address: IpAddr,
    console: Console,
) -> Result<LoggingHandler, String> {
    let origin = Name::from_ascii(ORIGIN).map_err(|e| e.to_string())?;
    let (origin, records) = Parser::new(zone_text, None, Some(origin))
        .parse()
        .map_err(|e| format!("the demo zone file is invalid: {e}"))?;
    let records = pointed_at(records, address);
    let zone = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
        origin.clone(),
        records.clone(),
        ZoneType::Primary,
        AxfrPolicy::Deny,
    )?;
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::new(&origin), vec![Arc::new(zone)]);
    Ok(LoggingHandler {
        catalog,
        records,
        console,
        log: Arc::new(Mutex::new(Vec::new())),
        relayed: Relayed::default(),
    })
}

/// The zone's records with every A record's address replaced by `address`. The AAAA records
/// (`::1`) stay only where the world also serves on `[::1]`, on 127.0.0.1: off loopback
/// `::1` would be the student's laptop itself, and on another loopback address nothing
/// listens there.
fn pointed_at(records: BTreeMap<RrKey, RecordSet>, address: IpAddr) -> BTreeMap<RrKey, RecordSet> {
    records
        .into_iter()
        .filter_map(|(key, set)| match (key.record_type, address) {
            (RecordType::A, IpAddr::V4(v4)) => {
                let mut moved = RecordSet::with_ttl(set.name().clone(), RecordType::A, set.ttl());
                moved.insert(
                    Record::from_rdata(set.name().clone(), set.ttl(), RData::A(A(v4))),
                    set.serial(),
                );
                Some((key, moved))
            }
            (RecordType::AAAA, _) if address != IpAddr::V4(Ipv4Addr::LOCALHOST) => None,
            _ => Some((key, set)),
        })
        .collect()
}

impl LoggingHandler {
    /// What the zone holds for the question, in words: `127.0.0.1`, `CNAME static…`.
    fn answer_words(&self, name: &LowerName, record_type: RecordType) -> String {
        let data = |record_type| {
            let key = RrKey::new(name.clone(), record_type);
            self.records.get(&key).map(|set| {
                set.records_without_rrsigs()
                    .map(|r| r.data.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
        };
        match (data(record_type), data(RecordType::CNAME)) {
            (Some(found), _) => format!("answered {found}"),
            (None, Some(alias)) => format!("answered CNAME {alias} (and what that name has)"),
            (None, None) => "nothing of that kind".into(),
        }
    }
}

#[async_trait::async_trait]
impl RequestHandler for LoggingHandler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response: R,
    ) -> ResponseInfo {
        let started = Instant::now();
        let info = request.request_info().ok();
        if let Some(info) = &info {
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
        let answered = self.catalog.handle_request::<R, T>(request, response).await;
        if let (true, Some(info)) = (self.console.is_on(), info) {
            let action = if answered.response_code == ResponseCode::NXDomain {
                "no such name".to_string()
            } else if answered.counts().answers == 0 {
                "no record of that type".to_string()
            } else {
                self.answer_words(info.query.name(), info.query.query_type())
            };
            self.console.report(ServedLine {
                server: Server::Dns,
                client: self.relayed.peer(info.src),
                method: format!("{}?", info.query.query_type()),
                target: format!(
                    "{} ({})",
                    info.query.name(),
                    format!("{:?}", info.protocol).to_lowercase()
                ),
                action,
                status: format!("{:?}", answered.response_code).to_uppercase(),
                took: Some(started.elapsed()),
            });
        }
        answered
    }
}

/// Longest a relayed DNS-over-TCP connection may sit without a byte either way (hickory
/// closes its side after 5 s idle; this bounds the relay on its own too).
const TCP_IDLE: Duration = Duration::from_secs(10);

/// The public DNS-over-TCP port: each connection of a peer under its cap is relayed to
/// hickory's loopback port; one over it is closed at once.
async fn gate_tcp(
    public: tokio::net::TcpListener,
    inner: SocketAddr,
    peers: Peers,
    relayed: Relayed,
    stop: CancellationToken,
) {
    loop {
        let (client, peer) = tokio::select! {
            accepted = public.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors, most likely: wait a moment rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.cancelled() => return,
        };
        let Some(slot) = peers.admit(peer.ip()) else {
            drop(client);
            continue;
        };
        let relayed = relayed.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let Ok(Ok(upstream)) = tokio::time::timeout(
                Duration::from_secs(2),
                tokio::net::TcpStream::connect(inner),
            )
            .await
            else {
                return;
            };
            let Ok(relay) = upstream.local_addr() else {
                return;
            };
            relayed.insert(relay, peer);
            relay_until_idle(client, upstream).await;
            relayed.remove(relay);
        });
    }
}

/// Copies both ways until either side closes or [`TCP_IDLE`] passes without a byte.
async fn relay_until_idle(mut client: tokio::net::TcpStream, mut upstream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut from_client, mut to_client) = client.split();
    let (mut from_upstream, mut to_upstream) = upstream.split();
    let mut up = [0u8; 4096];
    let mut down = [0u8; 4096];
    loop {
        let step = tokio::time::timeout(TCP_IDLE, async {
            tokio::select! {
                n = from_client.read(&mut up) => match n {
                    Ok(n) if n > 0 => to_upstream.write_all(&up[..n]).await.is_ok(),
                    _ => false,
                },
                n = from_upstream.read(&mut down) => match n {
                    Ok(n) if n > 0 => to_client.write_all(&down[..n]).await.is_ok(),
                    _ => false,
                },
            }
        })
        .await;
        if !matches!(step, Ok(true)) {
            return;
        }
    }
}

/// Binds UDP and TCP on the same port (0 = any free port) and starts serving.
pub async fn serve(
    handler: LoggingHandler,
    ip: IpAddr,
    port: u16,
    peers: Peers,
) -> Result<(std::net::SocketAddr, CancellationToken), StartError> {
    let mut last_error = String::new();
    let bind_error = |addr, error| StartError::Bind {
        server: Server::Dns,
        addr,
        error,
    };
    for _ in 0..20 {
        let wanted = std::net::SocketAddr::new(ip, port);
        let udp = tokio::net::UdpSocket::bind(wanted)
            .await
            .map_err(|e| bind_error(wanted, e))?;
        let addr = udp.local_addr().map_err(|e| e.to_string())?;
        match tokio::net::TcpListener::bind(addr).await {
            Ok(tcp) => {
                // hickory's own TCP port, on loopback: only the gate reaches it.
                let inner = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                    .await
                    .map_err(|e| StartError::Other(format!("DNS over TCP: {e}")))?;
                let inner_addr = inner.local_addr().map_err(|e| e.to_string())?;
                let relayed = handler.relayed.clone();
                let mut server = hickory_server::Server::new(handler);
                server.register_socket(udp);
                server.register_listener(inner, Duration::from_secs(5), 4096);
                let token = server.shutdown_token().clone();
                tokio::spawn(gate_tcp(tcp, inner_addr, peers, relayed, token.clone()));
                tokio::spawn(async move {
                    let _ = server.block_until_done().await;
                });
                return Ok((addr, token));
            }
            // The UDP port was free but its TCP twin is taken: try another (only when any port will do).
            Err(e) if port == 0 => last_error = e.to_string(),
            Err(e) => return Err(bind_error(addr, e)),
        }
    }
    Err(StartError::Other(format!(
        "cannot find a port free for both UDP and TCP: {last_error}"
    )))
}
