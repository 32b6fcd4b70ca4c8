//! The TLS handshake on a new connection, measured and reported: version, cipher, ALPN, SNI,
//! the certificate chain and what checking it found (src/net/trust.rs decides whom to trust).

use std::net::TcpStream;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use ureq::Timeout;

use super::trust::{self, SessionTrust};
use super::wire::{fail, is_timeout};
use crate::trace::{ms, CertSummary, EventKind, RequestId, Trace};

/// Runs (and reports) the TLS handshake on a new connection.
pub(crate) fn handshake(
    trust: &SessionTrust,
    mut tcp: TcpStream,
    host: &str,
    budget: Option<Duration>,
    conn: u32,
    trace: &Trace,
    request: RequestId,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, ureq::Error> {
    trace.checkpoint(&format!("TLS handshake with {host}"));
    let started = Instant::now();
    let trust = trust.get().map_err(fail)?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| fail(format!("{host:?} is not a name TLS can verify")))?;
    // rustls sends the name (SNI) for host names, never for addresses.
    let sni = matches!(name, ServerName::DnsName(_)).then(|| host.to_string());
    let mut tls = rustls::ClientConnection::new(trust.config.clone(), name)
        .map_err(|e| fail(format!("TLS setup failed: {e}")))?;
    tcp.set_read_timeout(budget)?;
    tcp.set_write_timeout(budget)?;
    let _ = trust::take_inspection();
    while tls.is_handshaking() {
        if let Err(e) = tls.complete_io(&mut tcp) {
            let chain: Vec<CertSummary> = trust::take_inspection()
                .map(|i| i.chain.iter().map(|der| trust::summarise(der)).collect())
                .unwrap_or_default();
            let message = match e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                Some(tls_error) => format!(
                    "TLS handshake with {host} failed: {} ({tls_error})",
                    trust::explain_failure(tls_error, host, &chain)
                ),
                None if is_timeout(&e) => {
                    return Err(ureq::Error::Timeout(Timeout::Connect));
                }
                None => format!("TLS handshake with {host} failed: {e}"),
            };
            return Err(fail(message));
        }
    }
    let inspection = trust::take_inspection();
    let chain: Vec<CertSummary> = match &inspection {
        Some(i) => i.chain.iter().map(|der| trust::summarise(der)).collect(),
        None => tls
            .peer_certificates()
            .unwrap_or_default()
            .iter()
            .map(|der| trust::summarise(der.as_ref()))
            .collect(),
    };
    let verdict = inspection.map(|i| i.verdict).unwrap_or(Ok(()));
    let verified = verdict.is_ok() && !trust.insecure;
    let verification = match (&verdict, trust.insecure) {
        (Ok(()), false) => format!(
            "trusted: valid for {host}, within its dates, chained to an authority this browser trusts (it trusts {})",
            trust.trusted
        ),
        (Ok(()), true) => {
            "NOT VERIFIED (--insecure); checking would have passed".to_string()
        }
        (Err(e), _) => format!(
            "NOT VERIFIED (--insecure); checking would have FAILED: {}",
            trust::explain_failure(e, host, &chain)
        ),
    };
    let own = chain.first().cloned().unwrap_or_default();
    trace.emit_started(
        Some(request),
        started,
        EventKind::Tls {
            conn,
            version: tls
                .protocol_version()
                .map(|v| format!("{v:?}").replace("TLSv1_", "TLS 1."))
                .unwrap_or_default(),
            cipher: tls
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_default(),
            alpn: tls
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            subject: own.subject,
            issuer: own.issuer,
            not_after: own.not_after,
            ms: ms(started.elapsed()),
            sni,
            chain,
            verified,
            verification,
        },
    );
    Ok(rustls::StreamOwned::new(tls, tcp))
}
