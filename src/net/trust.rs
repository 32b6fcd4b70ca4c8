//! Whom the browser trusts with HTTPS, and what it found in each certificate.
//!
//! Certificates are checked against the operating system's trust store (through
//! rustls-platform-verifier), so a school's TLS-inspecting proxy, whose authority the IT
//! department installed in the system, works like it does in the system's browser.
//! `--cacert FILE` adds authorities; `--insecure` checks nothing, and says so.
//!
//! Our verifier wraps the real one and keeps, for the handshake running on this thread,
//! the chain the server sent and the verdict, so the trace can show both, even for a
//! handshake that failed, and `--insecure` can say what checking would have found.

use std::cell::RefCell;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use crate::trace::CertSummary;

/// What one handshake's certificate check saw.
#[derive(Clone, Debug)]
pub struct Inspection {
    /// The certificates the server sent, its own first, DER.
    pub chain: Vec<Vec<u8>>,
    /// What checking said (also kept under `--insecure`, where it is not enforced).
    pub verdict: Result<(), rustls::Error>,
}

thread_local! {
    static LAST: RefCell<Option<Inspection>> = const { RefCell::new(None) };
}

/// Takes what the last certificate check on this thread saw (the handshake runs on the
/// thread that asked for it, so it is this connection's).
pub fn take_inspection() -> Option<Inspection> {
    LAST.with(|l| l.borrow_mut().take())
}

/// The TLS client setup for a session, and a sentence saying whom it trusts.
#[derive(Debug)]
pub struct Trust {
    /// Offers HTTP/1.1 alone in ALPN (WebSockets, `--http1.1`).
    pub config: Arc<rustls::ClientConfig>,
    /// The same, offering HTTP/2 first (`h2`, `http/1.1`), as browsers do.
    pub config_h2: Arc<rustls::ClientConfig>,
    pub trusted: String,
    pub insecure: bool,
}

/// The session's TLS setup, built when the first TLS handshake needs it: reading the
/// system's trust store takes a few milliseconds that a page with no HTTPS on it (a local
/// file, a plain-HTTP site) should not wait for.
#[derive(Debug)]
pub struct SessionTrust {
    extra_roots: Vec<Vec<u8>>,
    insecure: bool,
    built: std::sync::OnceLock<Result<Arc<Trust>, String>>,
}

impl SessionTrust {
    pub fn new(extra_roots: &[Vec<u8>], insecure: bool) -> SessionTrust {
        SessionTrust {
            extra_roots: extra_roots.to_vec(),
            insecure,
            built: std::sync::OnceLock::new(),
        }
    }

    /// The setup, built on first use (and the same error each time if it cannot be).
    pub fn get(&self) -> Result<Arc<Trust>, String> {
        self.built
            .get_or_init(|| client_config(&self.extra_roots, self.insecure).map(Arc::new))
            .clone()
    }
}

/// Builds the session's TLS setup: the system's trust store plus `extra_roots` (DER), or
/// with `insecure`, no checking.
pub fn client_config(extra_roots: &[Vec<u8>], insecure: bool) -> Result<Trust, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let extra: Vec<CertificateDer<'static>> = extra_roots
        .iter()
        .map(|der| CertificateDer::from(der.clone()))
        .collect();
    let (inner, mut trusted): (Arc<dyn ServerCertVerifier>, String) =
        match rustls_platform_verifier::Verifier::new_with_extra_roots(
            extra.clone(),
            provider.clone(),
        ) {
            Ok(v) => (Arc::new(v), "the system's trust store".into()),
            // A machine without a trust store (a bare container): Mozilla's list, built in.
            Err(_) => {
                let mut roots = rustls::RootCertStore::empty();
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                for cert in extra {
                    roots
                        .add(cert)
                        .map_err(|e| format!("cannot trust the extra certificate: {e}"))?;
                }
                let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider.clone(),
                )
                .build()
                .map_err(|e| format!("TLS setup failed: {e}"))?;
                (
                    verifier,
                    "Mozilla's list built into minibrowse (no system trust store was found)".into(),
                )
            }
        };
    if !extra_roots.is_empty() {
        trusted.push_str(&format!(
            " and {} authorit{} given with --cacert",
            extra_roots.len(),
            if extra_roots.len() == 1 { "y" } else { "ies" }
        ));
    }
    if insecure {
        trusted = "nobody: certificates are not checked (--insecure)".into();
    }
    let verifier = Arc::new(Inspecting { inner, insecure });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut config_h2 = config.clone();
    config_h2.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Trust {
        config: Arc::new(config),
        config_h2: Arc::new(config_h2),
        trusted,
        insecure,
    })
}

/// The real verifier, watched: keeps what it saw; under `--insecure`, overrules it.
#[derive(Debug)]
struct Inspecting {
    inner: Arc<dyn ServerCertVerifier>,
    insecure: bool,
}

impl ServerCertVerifier for Inspecting {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref().to_vec())
            .collect();
        LAST.with(|l| {
            *l.borrow_mut() = Some(Inspection {
                chain,
                verdict: verdict.as_ref().map(|_| ()).map_err(Clone::clone),
            })
        });
        if self.insecure {
            return Ok(ServerCertVerified::assertion());
        }
        verdict
    }

    // The handshake's signatures are checked even under --insecure: they prove the server
    // holds the key of the certificate it sent (whoever that server is).
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// One certificate, read for people.
pub fn summarise(der: &[u8]) -> CertSummary {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => {
            let sans = cert
                .subject_alternative_name()
                .ok()
                .flatten()
                .map(|ext| {
                    ext.value
                        .general_names
                        .iter()
                        .filter_map(|name| match name {
                            x509_parser::extensions::GeneralName::DNSName(n) => Some(n.to_string()),
                            x509_parser::extensions::GeneralName::IPAddress(ip) => ip_text(ip),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let validity = cert.validity();
            CertSummary {
                subject: cert.subject().to_string(),
                issuer: cert.issuer().to_string(),
                not_before: date(validity.not_before.timestamp()),
                not_after: date(validity.not_after.timestamp()),
                sans,
            }
        }
        Err(_) => CertSummary {
            subject: "(unreadable certificate)".into(),
            ..CertSummary::default()
        },
    }
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv4Addr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| std::net::Ipv6Addr::from(b).to_string()),
        _ => None,
    }
}

/// A UNIX time as an RFC 3339 date (`2026-11-26T00:30:00Z`).
fn date(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(crate::net::cookies::rfc3339)
        .unwrap_or_else(|_| secs.to_string())
}

/// What a failed certificate check means, in words a student understands.
pub fn explain_failure(error: &rustls::Error, host: &str, chain: &[CertSummary]) -> String {
    use CertificateError as C;
    // A self-signed authority certificate used as the server's own (`openssl req -x509`).
    if format!("{error:?}").contains("CaUsedAsEndEntity") {
        return "the server presented an authority's own (self-signed) certificate as its certificate".into();
    }
    let issuer = chain
        .last()
        .map(|c| c.issuer.clone())
        .unwrap_or_else(|| "an unknown authority".into());
    match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => format!(
                "unknown issuer: the certificate is signed by \"{issuer}\", an authority this computer does not trust (not in the system's trust store, not given with --cacert). Anyone can make a certificate; only a trusted authority's signature shows it really belongs to {host}"
            ),
            C::NotValidForNameContext { presented, .. } => {
                // rustls writes them as `DnsName("a.example")`; the chain has them plainly.
                let names = match chain.first() {
                    Some(own) if !own.sans.is_empty() => own.sans.clone(),
                    _ => presented.iter().map(|p| plain_name(p)).collect(),
                };
                format!(
                    "the certificate was issued for another name: it names {}, not {host}",
                    if names.is_empty() { "no host at all".to_string() } else { names.join(", ") }
                )
            }
            C::NotValidForName => format!("the certificate was issued for another name, not {host}"),
            C::ExpiredContext { time, not_after } => {
                let ago = time.as_secs().saturating_sub(not_after.as_secs());
                format!(
                    "the certificate expired {} (on {}): after that date nobody vouches for its key any more",
                    how_long(ago, "ago"),
                    date(not_after.as_secs() as i64)
                )
            }
            C::Expired => "the certificate has expired".into(),
            C::NotValidYetContext { time, not_before } => format!(
                "the certificate is not valid yet: it starts {} (on {}); check this computer's clock",
                how_long(not_before.as_secs().saturating_sub(time.as_secs()), "from now"),
                date(not_before.as_secs() as i64)
            ),
            C::NotValidYet => "the certificate is not valid yet (check the clock)".into(),
            C::Revoked => "the certificate was revoked by its issuer".into(),
            C::BadSignature => "the certificate's signature does not check out".into(),
            _ => "the server's certificate cannot be trusted".into(),
        },
        rustls::Error::AlertReceived(_) => "the server ended the handshake with an alert".into(),
        rustls::Error::NoCertificatesPresented => "the server presented no certificate".into(),
        _ => "the two sides could not agree on a secure connection".into(),
    }
}

/// `DnsName("a.example")` → `a.example`.
fn plain_name(presented: &str) -> String {
    match presented.split_once('(') {
        Some((_, rest)) => rest.trim_end_matches(')').trim_matches('"').to_string(),
        None => presented.to_string(),
    }
}

/// "3 days ago", "5 hours from now".
fn how_long(secs: u64, direction: &str) -> String {
    let (n, unit) = if secs >= 2 * 86_400 {
        (secs / 86_400, "day")
    } else if secs >= 2 * 3600 {
        (secs / 3600, "hour")
    } else if secs >= 120 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{} {direction}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_speech() {
        assert_eq!(how_long(3 * 86_400 + 5, "ago"), "3 days ago");
        assert_eq!(how_long(86_400, "ago"), "24 hours ago");
        assert_eq!(how_long(60, "from now"), "60 seconds from now");
        assert_eq!(how_long(1, "ago"), "1 second ago");
    }
}
