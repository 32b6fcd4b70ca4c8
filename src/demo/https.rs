//! The demo world's HTTPS site: the same site on a second port, behind TLS.
//!
//! At start a certificate authority ("minibrowse demo CA") and a certificate for
//! `*.minibrowse.test` signed by it are made with rcgen, in memory. Nobody trusts that
//! authority but a minibrowse told to (`minibrowse demo` does it; `serve` writes the CA
//! to a file for `--cacert`): exactly the position of a school's own inspection CA.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;

/// The demo authority and the server's TLS setup.
pub struct DemoCa {
    /// The authority's certificate, DER (give it to the client as a trusted root).
    pub ca_der: Vec<u8>,
    /// The same, PEM (what `--cacert` reads).
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

/// Makes a fresh authority and a server certificate for the demo names.
pub fn make_ca() -> Result<DemoCa, String> {
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
        "minibrowse (made at start, loopback only)",
    );
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca_params, ca_key);

    // 127.0.0.1 too: a proxy that cannot resolve the demo names (tinyproxy) is given the address.
    let names = [
        "secure.minibrowse.test",
        "www.minibrowse.test",
        "*.minibrowse.test",
        "127.0.0.1",
    ];
    let leaf_key = KeyPair::generate().map_err(err)?;
    let mut leaf_params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .map_err(err)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "secure.minibrowse.test");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // Dates like a real certificate's: from yesterday, for 90 days (Let's Encrypt's span).
    let now = time::OffsetDateTime::now_utc();
    leaf_params.not_before = now - time::Duration::days(1);
    leaf_params.not_after = now + time::Duration::days(90);
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).map_err(err)?;

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
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(DemoCa {
        ca_der: ca_cert.der().to_vec(),
        ca_pem: ca_cert.pem(),
        server: Arc::new(server),
    })
}

/// Accepts TCP connections and hands axum those whose TLS handshake completed.
pub struct TlsListener {
    ready: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `listener`; each handshake runs on its own task (5 s at most),
    /// so a client that stalls mid-handshake holds up nobody else.
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let (tx, ready) = tokio::sync::mpsc::channel(64);
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let Ok((tcp, peer)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(5), acceptor.accept(tcp));
                    if let Ok(Ok(stream)) = handshake.await {
                        let _ = tx.send((stream, peer)).await;
                    }
                });
            }
        });
        Ok(TlsListener { ready, addr })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accepting task is gone (shutting down): never hand out anything again.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}
