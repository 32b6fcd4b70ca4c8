//! The demo world's HTTPS site: the same site on a second port, behind TLS.
//!
//! At start a certificate authority ("minibrowse demo CA") and a certificate for
//! `*.minibrowse.test` signed by it are made with rcgen, in memory. Nobody trusts that
//! authority but a minibrowse told to (`minibrowse demo` does it; `serve` writes the CA
//! to a file for `--cacert`): exactly the position of a school's own inspection CA.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// The demo authority and the server's TLS setup.
pub struct DemoCa {
    /// The authority's certificate, DER (give it to the client as a trusted root).
    pub ca_der: Vec<u8>,
    /// The same, PEM (what `--cacert` reads).
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
    /// The server's chain (its certificate, then the authority's) and key, PEM: for a
    /// third-party server a test runs with the same names (nginx).
    pub server_chain_pem: String,
    pub server_key_pem: String,
}

/// Makes a fresh authority and a server certificate for the demo names and `address` (the
/// one the world listens on).
pub fn make_ca(address: IpAddr) -> Result<DemoCa, String> {
    let err = |e: rcgen::Error| format!("cannot make the demo certificates: {e}");
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = time::OffsetDateTime::now_utc();
    ca_params.not_before = now - time::Duration::days(1);
    ca_params.not_after = now + time::Duration::days(365);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "minibrowse demo CA");
    ca_params.distinguished_name.push(
        DnType::OrganizationName,
        "minibrowse (made at start, for this run only)",
    );
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca_params, ca_key);

    // The addresses too: a proxy that cannot resolve the demo names (tinyproxy) is given one.
    let mut names: Vec<String> = [
        "secure.minibrowse.test",
        "www.minibrowse.test",
        "*.minibrowse.test",
        "127.0.0.1",
    ]
    .iter()
    .map(|n| n.to_string())
    .collect();
    if address.to_string() != "127.0.0.1" {
        names.push(address.to_string());
    }
    let leaf_key = KeyPair::generate().map_err(err)?;
    let mut leaf_params = CertificateParams::new(names).map_err(err)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "secure.minibrowse.test");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // Dates like a real certificate's: from yesterday, for 90 days (Let's Encrypt's span).
    let now = time::OffsetDateTime::now_utc();
    leaf_params.not_before = now - time::Duration::days(1);
    leaf_params.not_after = now + time::Duration::days(90);
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).map_err(err)?;

    let key_pem = leaf_key.serialize_pem();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        // The chain a real server sends: its own certificate, then the authority's.
        .with_single_cert(
            vec![leaf.der().clone(), ca_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .map_err(|e| format!("cannot set up the demo TLS server: {e}"))?;
    // HTTP/2 for a browser that offers it (the same site, one connection), else HTTP/1.1.
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(DemoCa {
        ca_der: ca_cert.der().to_vec(),
        ca_pem: ca_cert.pem(),
        server: Arc::new(server),
        server_chain_pem: format!("{}{}", leaf.pem(), ca_cert.pem()),
        server_key_pem: key_pem,
    })
}
