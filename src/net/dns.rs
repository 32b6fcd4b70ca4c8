//! DNS: turning a host name into addresses, through hickory-resolver.
//!
//! hickory's own cache is switched off and this module keeps the cache instead, because the
//! trace must say whether an answer came from the cache, and hickory does not tell. The cache
//! honours each answer's TTL and reports the remaining TTL, like `dig` against a caching server.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::TokioResolver;

use crate::trace::{ms, DnsRecord};

/// Where the resolver sends its questions.
#[derive(Clone, Debug)]
pub enum DnsServers {
    /// One server given by the user (`--dns-server`), or the demo world's.
    Explicit(SocketAddr),
    /// The machine's resolver configuration (`/etc/resolv.conf`).
    System,
}

/// The answer to one question, as the trace shows it.
#[derive(Clone, Debug)]
pub struct DnsAnswer {
    pub host: String,
    pub record_type: RecordType,
    /// The server asked, as `ip:port` (several, comma-separated, when the system has several).
    pub server: String,
    /// Every answer record in order, CNAME hops included.
    pub records: Vec<DnsRecord>,
    /// The addresses the records lead to.
    pub addresses: Vec<IpAddr>,
    pub cached: bool,
    pub started: Instant,
    pub elapsed: Duration,
    /// Why there are no records, when there are none (`NXDOMAIN`, a timeout, `SERVFAIL`...).
    pub outcome: Option<String>,
}

/// Why a lookup gave no address.
#[derive(Clone, Debug)]
pub struct DnsFailure {
    pub message: String,
    /// The questions that were asked before it failed (each with its own timing).
    pub asked: Vec<DnsAnswer>,
}

struct CacheEntry {
    records: Vec<DnsRecord>,
    addresses: Vec<IpAddr>,
    /// "No records of this type", kept for the zone's negative TTL (RFC 2308).
    negative: bool,
    stored: Instant,
    expires: Instant,
}

/// A synchronous DNS client with a TTL-honouring cache.
pub struct Dns {
    runtime: tokio::runtime::Runtime,
    resolver: TokioResolver,
    server_label: String,
    /// Longest wait for one question (hickory's own timeout is per attempt and per protocol).
    timeout: Duration,
    cache: Mutex<HashMap<(String, RecordType), CacheEntry>>,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns")
            .field("server", &self.server_label)
            .finish()
    }
}

impl Dns {
    /// A resolver asking `servers`, giving up on one question after `timeout`.
    pub fn new(servers: &DnsServers, timeout: Duration) -> Result<Dns, String> {
        // One worker thread drives every lookup; callers on any thread block on it.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("dns")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the DNS runtime: {e}"))?;
        let (config, mut opts, server_label) = match servers {
            DnsServers::Explicit(addr) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let ns = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
                let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
                (config, ResolverOpts::default(), addr.to_string())
            }
            DnsServers::System => {
                let (config, opts) = hickory_resolver::system_conf::read_system_conf()
                    .map_err(|e| format!("cannot read the system's DNS configuration: {e}"))?;
                let label = system_server_label(&config);
                (config, opts, label)
            }
        };
        opts.cache_size = 0;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.preserve_intermediates = true;
        opts.attempts = 1;
        opts.timeout = timeout;
        opts.try_tcp_on_error = true;
        let resolver = {
            let _guard = runtime.enter();
            hickory_resolver::Resolver::builder_with_config(config, TokioRuntimeProvider::default())
                .with_options(opts)
                .build()
                .map_err(|e| format!("cannot build the DNS resolver: {e}"))?
        };
        Ok(Dns {
            runtime,
            resolver,
            server_label,
            timeout,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The server(s) this resolver asks.
    pub fn server(&self) -> &str {
        &self.server_label
    }

    /// Resolves `host` the way browsers of today do (RFC 8305 section 3): the AAAA and the A
    /// question at once, AAAA first. Returns every question asked, each with its addresses:
    /// the IPv6 ones first. One question failing is no failure while the other has addresses.
    pub fn resolve(&self, host: &str) -> Result<Vec<DnsAnswer>, DnsFailure> {
        // All the questions of one lookup share one DNS timeout: a server that answers each
        // one slowly costs no more than one that never answers.
        let deadline = Instant::now() + self.timeout;
        let (aaaa, a) = std::thread::scope(|scope| {
            let aaaa = scope.spawn(|| self.query_within(host, RecordType::AAAA, deadline));
            let a = self.query_within(host, RecordType::A, deadline);
            let aaaa = aaaa
                .join()
                .unwrap_or_else(|_| self.query_within(host, RecordType::AAAA, deadline));
            (aaaa, a)
        });
        let mut asked = Vec::new();
        let mut fatal = None;
        for result in [aaaa, a] {
            match result {
                Ok(answer) => asked.push(answer),
                Err(QueryError::NoRecords(answer)) => asked.push(*answer),
                Err(QueryError::Fatal(message, answer)) => {
                    // The failed question is part of the story: asked of whom, how long it took.
                    asked.push(*answer);
                    fatal.get_or_insert(message);
                }
            }
        }
        if asked.iter().any(|a| !a.addresses.is_empty()) {
            return Ok(asked);
        }
        if let Some(message) = fatal {
            return Err(DnsFailure { message, asked });
        }
        // No address either way: the CNAME question shows a chain that goes round in a
        // loop (hickory drops such a chain from the A and AAAA answers).
        if let Ok(answer) = self.query_within(host, RecordType::CNAME, deadline) {
            asked.push(answer);
        }
        if let Some(chain) = asked.iter().find_map(|a| cname_loop(host, &a.records)) {
            return Err(DnsFailure {
                message: format!(
                    "{host} has no address: its CNAME records go round in a loop ({chain})"
                ),
                asked,
            });
        }
        Err(DnsFailure {
            message: format!(
                "{} has no address: the server {} answered, but with no A or AAAA record",
                host, self.server_label
            ),
            asked,
        })
    }

    /// Whether an answer for `host` is in the cache and still live (no network needed).
    pub fn has_live_answer(&self, host: &str) -> bool {
        let name = fully_qualified(host).to_ascii_lowercase();
        let now = Instant::now();
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        // Both questions are asked; the network is needed unless both answers are kept.
        [RecordType::A, RecordType::AAAA].iter().all(|t| {
            cache
                .get(&(name.clone(), *t))
                .is_some_and(|e| e.expires > now)
        })
    }

    /// Asks one question (from the cache when a live answer is there).
    pub fn query(&self, host: &str, record_type: RecordType) -> Result<DnsAnswer, QueryError> {
        self.query_within(host, record_type, Instant::now() + self.timeout)
    }

    /// Asks one question, giving up at `deadline` (the questions of one lookup share it).
    fn query_within(
        &self,
        host: &str,
        record_type: RecordType,
        deadline: Instant,
    ) -> Result<DnsAnswer, QueryError> {
        let budget = deadline.saturating_duration_since(Instant::now());
        let fqdn = fully_qualified(host);
        let key = (fqdn.to_ascii_lowercase(), record_type);
        let started = Instant::now();
        if let Some(answer) = self.cached(&key, host, started) {
            return match answer.outcome {
                Some(_) => Err(QueryError::NoRecords(Box::new(answer))),
                None => Ok(answer),
            };
        }
        // hickory may retry over TCP after a UDP timeout or a truncated answer: the whole
        // question gets one budget, so a dead server costs the DNS timeout and no more.
        let result = self.runtime.block_on(async {
            tokio::time::timeout(budget, self.resolver.lookup(fqdn.as_str(), record_type))
                .await
                .unwrap_or(Err(NetError::Timeout))
        });
        let elapsed = started.elapsed();
        let mut answer = DnsAnswer {
            host: host.to_string(),
            record_type,
            server: self.server_label.clone(),
            records: Vec::new(),
            addresses: Vec::new(),
            cached: false,
            started,
            elapsed,
            outcome: None,
        };
        match result {
            Ok(lookup) => {
                for record in lookup.answers() {
                    answer.records.push(DnsRecord {
                        name: record.name.to_string(),
                        record_type: record.record_type().to_string(),
                        ttl: record.ttl,
                        data: record.data.to_string(),
                    });
                    if record.record_type() == record_type {
                        if let Some(ip) = record.data.ip_addr() {
                            answer.addresses.push(ip);
                        }
                    }
                }
                let min_ttl = answer.records.iter().map(|r| r.ttl).min().unwrap_or(0);
                self.store(key, &answer, min_ttl);
                Ok(answer)
            }
            Err(error) => {
                let negative_ttl = match &error {
                    NetError::Dns(DnsError::NoRecordsFound(no))
                        if no.response_code == ResponseCode::NoError =>
                    {
                        no.negative_ttl
                    }
                    _ => None,
                };
                let failed = classify(
                    error,
                    host,
                    record_type,
                    &self.server_label,
                    self.timeout,
                    answer,
                );
                if let (QueryError::NoRecords(answer), Some(ttl)) = (&failed, negative_ttl) {
                    // A browser asks AAAA and A for every new name: "none" is kept too, for
                    // the zone's negative TTL (at most 5 minutes), or every connection asks.
                    self.store_entry(key, answer, ttl.min(300), true);
                }
                Err(failed)
            }
        }
    }

    fn cached(&self, key: &(String, RecordType), host: &str, now: Instant) -> Option<DnsAnswer> {
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = cache.get(key).filter(|e| e.expires > now)?;
        let aged = now.duration_since(entry.stored).as_secs() as u32;
        let records = entry
            .records
            .iter()
            .map(|r| DnsRecord {
                ttl: r.ttl.saturating_sub(aged),
                ..r.clone()
            })
            .collect();
        Some(DnsAnswer {
            host: host.to_string(),
            record_type: key.1,
            server: self.server_label.clone(),
            records,
            addresses: entry.addresses.clone(),
            cached: true,
            started: now,
            elapsed: now.elapsed(),
            outcome: entry
                .negative
                .then(|| "no records of this type, remembered from an earlier answer".to_string()),
        })
    }

    fn store(&self, key: (String, RecordType), answer: &DnsAnswer, ttl: u32) {
        if answer.records.is_empty() {
            return;
        }
        self.store_entry(key, answer, ttl, false);
    }

    fn store_entry(&self, key: (String, RecordType), answer: &DnsAnswer, ttl: u32, negative: bool) {
        if ttl == 0 {
            return;
        }
        let now = Instant::now();
        let entry = CacheEntry {
            records: answer.records.clone(),
            addresses: answer.addresses.clone(),
            negative,
            stored: now,
            expires: now + Duration::from_secs(u64::from(ttl)),
        };
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        // Bounded: a page cannot grow the cache without limit.
        if cache.len() >= 1024 {
            cache.retain(|_, e| e.expires > now);
            if cache.len() >= 1024 {
                cache.clear();
            }
        }
        cache.insert(key, entry);
    }
}

/// A question that failed.
#[derive(Debug)]
pub enum QueryError {
    /// The name exists but has no record of this type (the next type may have one).
    NoRecords(Box<DnsAnswer>),
    /// The name does not exist, or the server could not be asked.
    Fatal(String, Box<DnsAnswer>),
}

fn classify(
    error: NetError,
    host: &str,
    record_type: RecordType,
    server: &str,
    timeout: Duration,
    mut answer: DnsAnswer,
) -> QueryError {
    if error.is_nx_domain() {
        answer.outcome = Some("NXDOMAIN: the name does not exist".into());
        return QueryError::Fatal(
            format!("{host} does not exist (NXDOMAIN from {server})"),
            Box::new(answer),
        );
    }
    match error {
        NetError::Dns(DnsError::NoRecordsFound(no))
            if no.response_code == ResponseCode::NoError =>
        {
            answer.outcome = Some("no records of this type".into());
            QueryError::NoRecords(Box::new(answer))
        }
        NetError::Dns(DnsError::NoRecordsFound(no)) => {
            answer.outcome = Some(format!("{}: the server would not answer", no.response_code));
            let message = format!(
                "the DNS server {server} refused to answer for {host} ({})",
                no.response_code
            );
            QueryError::Fatal(message, Box::new(answer))
        }
        NetError::Dns(DnsError::ResponseCode(code)) => {
            answer.outcome = Some(format!("{code}: the server would not answer"));
            let message = format!("the DNS server {server} refused to answer for {host} ({code})");
            QueryError::Fatal(message, Box::new(answer))
        }
        NetError::Timeout => {
            answer.outcome = Some(format!(
                "no usable answer within {:.1} s",
                timeout.as_secs_f64()
            ));
            let message = format!(
                "no answer from the DNS server {server} for {host} {record_type} within {:.1} s",
                timeout.as_secs_f64()
            );
            QueryError::Fatal(message, Box::new(answer))
        }
        other => {
            let reason = one_line(&other.to_string());
            answer.outcome = Some(format!("failed: {reason}"));
            let message = if reason.contains("decoding error") {
                format!("the DNS server {server} sent a reply for {host} {record_type} that cannot be decoded ({reason})")
            } else if reason.contains("truncated") {
                format!("the DNS server {server} sent a truncated reply for {host} {record_type}, and the retry over TCP failed ({reason})")
            } else {
                format!("asking {server} for {host} {record_type} failed: {reason}")
            };
            QueryError::Fatal(message, Box::new(answer))
        }
    }
}

/// The CNAME chain from `host`, written `a → b → a`, when it comes back to a name it passed.
fn cname_loop(host: &str, records: &[DnsRecord]) -> Option<String> {
    let key = |name: &str| name.trim_end_matches('.').to_ascii_lowercase();
    let mut chain = vec![key(host)];
    // Each step follows one record, so the walk ends within records.len() steps.
    for _ in 0..records.len() {
        let last = chain.last()?.clone();
        let next = records
            .iter()
            .find(|r| r.record_type == "CNAME" && key(&r.name) == last)?;
        let target = key(&next.data);
        let looped = chain.contains(&target);
        chain.push(target);
        if looped {
            return Some(chain.join(" → "));
        }
    }
    None
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A trailing dot makes the name absolute, so no search domain is tried.
fn fully_qualified(host: &str) -> String {
    if host.ends_with('.') {
        host.to_string()
    } else {
        format!("{host}.")
    }
}

fn system_server_label(config: &ResolverConfig) -> String {
    let servers: Vec<String> = config
        .name_servers()
        .iter()
        .map(|ns| {
            let port = ns.connections.first().map(|c| c.port).unwrap_or(53);
            SocketAddr::new(ns.ip, port).to_string()
        })
        .collect();
    if servers.is_empty() {
        "no server configured".to_string()
    } else {
        servers.join(", ")
    }
}

/// Elapsed time of a lookup in ms, for the trace.
pub fn elapsed_ms(answer: &DnsAnswer) -> f64 {
    ms(answer.elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cname(name: &str, target: &str) -> DnsRecord {
        DnsRecord {
            name: name.into(),
            record_type: "CNAME".into(),
            ttl: 60,
            data: target.into(),
        }
    }

    #[test]
    fn cname_loops_are_named() {
        let records = [cname("a.test.", "b.test."), cname("b.test.", "a.test.")];
        assert_eq!(
            cname_loop("a.test", &records).as_deref(),
            Some("a.test → b.test → a.test")
        );
        assert_eq!(cname_loop("a.test", &records[..1]), None);
        assert_eq!(cname_loop("c.test", &records), None);
    }
}
