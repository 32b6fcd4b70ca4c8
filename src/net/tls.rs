//! The TLS handshake on a new connection, measured and reported: version, cipher, ALPN, SNI,
//! the certificate chain and what checking it found (src/net/trust.rs decides whom to trust).

use std::io;
use std::net::TcpStream;
use std::time::Instant;

use rustls::pki_types::ServerName;

use super::phase::{is_timeout, Budget, DialError};
use super::trust::{self, SessionTrust, Trust};
use crate::trace::{ms, CertSummary, EventKind, RequestId, Step, Trace};

/// A connection inside TLS.
pub(crate) type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// Runs (and reports) the TLS handshake on a new connection.
pub(crate) fn handshake(
    trust: &SessionTrust,
    mut tcp: TcpStream,
    (host, offer_h2): (&str, bool),
    budget: Budget,
    conn: u32,
    trace: &Trace,
    request: RequestId,
) -> Result<TlsStream, DialError> {
    trace.checkpoint(&format!("TLS handshake with {host}"));
    let started = Instant::now();
    let failed = |message: String| DialError::Failed(Step::Tls, message);
    let trust = trust.get().map_err(failed)?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| failed(format!("{host:?} is not a name TLS can verify")))?;
    // rustls sends the name (SNI) for host names, never for addresses.
    let sni = matches!(name, ServerName::DnsName(_)).then(|| host.to_string());
    let config = if offer_h2 {
        trust.config_h2.clone()
    } else {
        trust.config.clone()
    };
    let offered = config
        .alpn_protocols
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    let mut tls = rustls::ClientConnection::new(config, name)
        .map_err(|e| failed(format!("TLS setup failed: {e}")))?;
    tcp.set_read_timeout(budget.per_io())
        .and_then(|_| tcp.set_write_timeout(budget.per_io()))
        .map_err(|e| DialError::Io(Step::Tls, e))?;
    let _ = trust::take_inspection();
    while tls.is_handshaking() {
        if let Err(e) = tls.complete_io(&mut tcp) {
            return Err(handshake_failure(&e, host));
        }
    }
    let handshake = Handshake {
        tls: &tls,
        trust: &trust,
        host,
        sni,
        offered,
        started,
    };
    trace.emit_started(Some(request), started, handshake.event(conn));
    Ok(rustls::StreamOwned::new(tls, tcp))
}

/// Why a handshake failed, with the certificate problem explained from the chain the
/// server sent.
fn handshake_failure(error: &io::Error, host: &str) -> DialError {
    let chain: Vec<CertSummary> = trust::take_inspection()
        .map(|i| i.chain.iter().map(|der| trust::summarise(der)).collect())
        .unwrap_or_default();
    let message = match error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls_error) => format!(
            "TLS handshake with {host} failed: {} ({tls_error})",
            trust::explain_failure(tls_error, host, &chain)
        ),
        None if is_timeout(error) => return DialError::TimedOut(Step::Tls),
        None => format!("TLS handshake with {host} failed: {error}"),
    };
    DialError::Failed(Step::Tls, message)
}

/// A finished handshake, for its `tls` event.
struct Handshake<'a> {
    tls: &'a rustls::ClientConnection,
    trust: &'a Trust,
    host: &'a str,
    sni: Option<String>,
    offered: Vec<String>,
    started: Instant,
}

impl Handshake<'_> {
    /// The `tls` event: what was negotiated, the chain, and what checking it found.
    fn event(&self, conn: u32) -> EventKind {
        let inspection = trust::take_inspection();
        let chain: Vec<CertSummary> = match &inspection {
            Some(i) => i.chain.iter().map(|der| trust::summarise(der)).collect(),
            None => self
                .tls
                .peer_certificates()
                .unwrap_or_default()
                .iter()
                .map(|der| trust::summarise(der.as_ref()))
                .collect(),
        };
        let verdict = inspection.map(|i| i.verdict).unwrap_or(Ok(()));
        let verified = verdict.is_ok() && !self.trust.insecure;
        let verification = self.verification(&verdict, &chain);
        let own = chain.first().cloned().unwrap_or_default();
        EventKind::Tls {
            conn,
            version: self
                .tls
                .protocol_version()
                .map(|v| format!("{v:?}").replace("TLSv1_", "TLS 1."))
                .unwrap_or_default(),
            cipher: self
                .tls
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_default(),
            alpn: self
                .tls
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            alpn_offered: self.offered.clone(),
            subject: own.subject,
            issuer: own.issuer,
            not_after: own.not_after,
            ms: ms(self.started.elapsed()),
            sni: self.sni.clone(),
            chain,
            verified,
            verification,
        }
    }

    /// What checking the chain found, in words (and what it would have found under --insecure).
    fn verification(&self, verdict: &Result<(), rustls::Error>, chain: &[CertSummary]) -> String {
        let host = self.host;
        match (verdict, self.trust.insecure) {
            (Ok(()), false) => format!(
                "trusted: valid for {host}, within its dates, chained to an authority this browser trusts (it trusts {})",
                self.trust.trusted
            ),
            (Ok(()), true) => {
                "NOT VERIFIED (--insecure); checking would have passed".to_string()
            }
            (Err(e), _) => format!(
                "NOT VERIFIED (--insecure); checking would have FAILED: {}",
                trust::explain_failure(e, host, chain)
            ),
        }
    }
}
