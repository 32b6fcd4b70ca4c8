//! HTTPS: the TLS step against a real rustls server on loopback, with a test CA from rcgen.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::{load_with, options, world};
use minibrowse::trace::{EventKind, Step};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

struct TlsServer {
    addr: SocketAddr,
    ca_der: Vec<u8>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

const PAGE: &str =
    "<!doctype html><title>secure</title><h1>Hello over TLS</h1><p>Encrypted on the wire.</p>";

/// An HTTPS server for `name`, whose certificate is signed by a fresh test CA.
fn tls_server(name: &str) -> TlsServer {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "minibrowse test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().expect("key");
    let mut leaf_params = CertificateParams::new(vec![name.to_string()]).expect("params");
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, name);
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).expect("leaf");

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .expect("server config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let config = Arc::new(config);

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let thread = std::thread::spawn(move || {
        while !stopping.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((tcp, _)) => {
                    let config = config.clone();
                    std::thread::spawn(move || serve_connection(tcp, config));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    TlsServer {
        addr,
        ca_der: ca_cert.der().to_vec(),
        stop,
        thread: Some(thread),
    }
}

fn serve_connection(tcp: std::net::TcpStream, config: Arc<rustls::ServerConfig>) {
    let _ = tcp.set_nonblocking(false);
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.drain(..end + 4);
            // One write for head and body: no Nagle delay.
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\r\n{PAGE}",
                PAGE.len()
            );
            if stream
                .write_all(response.as_bytes())
                .and_then(|_| stream.flush())
                .is_err()
            {
                return;
            }
        }
    }
}

#[test]
fn https_shows_the_tls_handshake_between_connect_and_request() {
    let world = world();
    let server = tls_server("www.minibrowse.test");
    let mut opts = options(&world);
    opts.http.extra_roots.push(server.ca_der.clone());
    let url = format!("https://www.minibrowse.test:{}/", server.addr.port());
    let load = load_with(opts, &url);
    assert_eq!(
        &load.names()[..5],
        &["start", "dns", "connect", "tls", "request"],
        "{:?}",
        load.names()
    );
    let tls = load.events.iter().find_map(|e| match &e.kind {
        EventKind::Tls {
            version,
            cipher,
            alpn,
            subject,
            issuer,
            not_after,
            ..
        } => Some((
            version.clone(),
            cipher.clone(),
            alpn.clone(),
            subject.clone(),
            issuer.clone(),
            not_after.clone(),
        )),
        _ => None,
    });
    let (version, cipher, alpn, subject, issuer, not_after) = tls.expect("a TLS step");
    assert_eq!(version, "TLS 1.3");
    assert!(cipher.starts_with("TLS13_"), "{cipher}");
    assert_eq!(alpn.as_deref(), Some("http/1.1"));
    assert!(subject.contains("CN=www.minibrowse.test"), "{subject}");
    assert!(issuer.contains("CN=minibrowse test CA"), "{issuer}");
    assert!(!not_after.is_empty());
    assert!(load.dump().contains("Hello over TLS"));
}

#[test]
fn unknown_certificate_authority_fails_the_tls_step() {
    let world = world();
    let server = tls_server("www.minibrowse.test");
    let url = format!("https://www.minibrowse.test:{}/", server.addr.port());
    let load = load_with(options(&world), &url);
    let error = load.error();
    assert_eq!(error.step, Step::Tls, "{error}");
    assert!(error.message.contains("UnknownIssuer"), "{error}");
}

#[test]
fn certificate_for_another_name_fails_the_tls_step() {
    let world = world();
    let server = tls_server("other.example");
    let mut opts = options(&world);
    opts.http.extra_roots.push(server.ca_der.clone());
    let url = format!("https://www.minibrowse.test:{}/", server.addr.port());
    let load = load_with(opts, &url);
    let error = load.error();
    assert_eq!(error.step, Step::Tls, "{error}");
    assert!(error.message.contains("not valid for name"), "{error}");
}
