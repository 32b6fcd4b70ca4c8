//! HTTPS: the TLS step against a real rustls server on loopback, with a test CA from rcgen.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::{load_with, options, world};
use minibrowse::trace::{CertSummary, EventKind, Step};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

struct TlsServer {
    addr: SocketAddr,
    ca_der: Vec<u8>,
    ca_pem: String,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TlsServer {
    fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }
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
    tls_server_expiring(name, None)
}

/// The same, with a certificate that expired `expired_days_ago` days ago.
fn tls_server_expiring(name: &str, expired_days_ago: Option<i64>) -> TlsServer {
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
    if let Some(days) = expired_days_ago {
        let now = time::OffsetDateTime::now_utc();
        leaf_params.not_before = now - time::Duration::days(days + 90);
        // An hour more, so "3 days" does not become "2 days" within the test.
        leaf_params.not_after = now - time::Duration::days(days) - time::Duration::hours(1);
    }
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
        ca_pem: ca_cert.pem(),
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
    // Two DNS questions (AAAA, then A: they go out together).
    assert_eq!(
        &load.names()[..6],
        &["start", "dns", "dns", "connect", "tls", "request"],
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
    assert!(
        error.message.contains(
            "unknown issuer: the certificate is signed by \"CN=minibrowse test CA\", an authority this computer does not trust"
        ),
        "{error}"
    );
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
    assert!(
        error
            .message
            .contains("issued for another name: it names other.example, not www.minibrowse.test"),
        "{error}"
    );
}

#[test]
fn expired_certificate_is_explained_in_days() {
    let world = world();
    let server = tls_server_expiring("www.minibrowse.test", Some(3));
    let mut opts = options(&world);
    opts.http.extra_roots.push(server.ca_der.clone());
    let url = format!("https://www.minibrowse.test:{}/", server.addr.port());
    let load = load_with(opts, &url);
    let error = load.error();
    assert_eq!(error.step, Step::Tls, "{error}");
    assert!(
        error
            .message
            .contains("the certificate expired 3 days ago (on "),
        "{error}"
    );
}

fn tls_event(load: &common::Load) -> (Option<String>, Vec<CertSummary>, bool, String) {
    load.events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Tls {
                sni,
                chain,
                verified,
                verification,
                ..
            } => Some((sni.clone(), chain.clone(), *verified, verification.clone())),
            _ => None,
        })
        .expect("a TLS step")
}

#[test]
fn demo_https_site_shows_sni_chain_and_verification() {
    let world = world();
    let load = load_with(options(&world), &world.https_url("/https.html"));
    assert!(load.dump().contains("HTTPS: ports 80 and 443"));
    let (sni, chain, verified, verification) = tls_event(&load);
    assert_eq!(sni.as_deref(), Some("secure.minibrowse.test"));
    assert_eq!(
        chain.len(),
        2,
        "the server's certificate, then its authority's"
    );
    assert_eq!(chain[0].subject, "CN=secure.minibrowse.test");
    assert!(chain[0].issuer.contains("CN=minibrowse demo CA"));
    assert_eq!(
        chain[0].sans,
        [
            "secure.minibrowse.test",
            "www.minibrowse.test",
            "*.minibrowse.test",
            "127.0.0.1"
        ]
    );
    assert!(chain[0].not_before < chain[0].not_after);
    assert!(verified);
    assert!(
        verification.starts_with("trusted: valid for secure.minibrowse.test"),
        "{verification}"
    );
    // A second page on the same HTTPS connection: no second handshake.
    let browser = minibrowse::page::Browser::new(options(&world)).expect("browser");
    let first = common::load_in(&browser, &world.https_url("/"));
    let again = common::load_in(&browser, &world.https_url("/cookie.html"));
    assert!(first.count("tls") >= 1);
    assert_eq!(again.count("tls"), 0);
    // The site speaks HTTP/2: the second page is a new stream of the same connection.
    assert_eq!(again.count("connect"), 0);
    assert!(again.count("h2_stream") >= 1);
}

#[test]
fn insecure_loads_an_untrusted_site_and_says_so_loudly() {
    let world = world();
    let mut opts = options(&world);
    opts.http.extra_roots.clear();
    opts.http.insecure = true;
    let load = load_with(opts, &world.https_url("/"));
    assert!(load.dump().contains("Welcome to the minibrowse demo world"));
    let (_, chain, verified, verification) = tls_event(&load);
    assert!(!verified);
    assert_eq!(chain.len(), 2);
    assert!(
        verification
            .starts_with("NOT VERIFIED (--insecure); checking would have FAILED: unknown issuer"),
        "{verification}"
    );
    let text: String = load
        .events
        .iter()
        .map(|e| minibrowse::views::trace_text::format_event(e, true))
        .collect();
    assert!(text.contains("— NOT VERIFIED (--insecure)"), "{text}");
    assert!(
        text.contains("WARNING: the connection is encrypted"),
        "{text}"
    );
}

/// The binary, without the proxy variables of the environment (tests stay on loopback).
fn minibrowse_command() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_minibrowse"));
    for var in ["http_proxy", "https_proxy", "all_proxy", "no_proxy"] {
        command.env_remove(var).env_remove(var.to_ascii_uppercase());
    }
    command
}

#[test]
fn a_ca_only_the_system_trust_store_knows_is_trusted() {
    let world = world();
    let dir = std::env::temp_dir().join(format!("minibrowse-trust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = dir.join("system-store.pem");
    std::fs::write(&store, &world.ca_pem).expect("write the store");
    let dns = world.dns_addr.to_string();
    let run = |cert_file: &std::path::Path| {
        minibrowse_command()
            // The system trust store, as OpenSSL and rustls-native-certs find it.
            .env("SSL_CERT_FILE", cert_file)
            .env_remove("SSL_CERT_DIR")
            .args([
                "--dump",
                "--no-assets",
                "--dns-server",
                &dns,
                &world.https_url("/"),
            ])
            .output()
            .expect("minibrowse runs")
    };
    let trusted = run(&store);
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    assert!(
        String::from_utf8_lossy(&trusted.stdout).contains("Welcome to the minibrowse demo world")
    );
    // Another store (this machine's own, or none): the demo CA is unknown there.
    let other = dir.join("other-store.pem");
    std::fs::write(&other, tls_server("x.test").ca_pem()).expect("write");
    let untrusted = run(&other);
    assert_eq!(untrusted.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&untrusted.stderr).contains("unknown issuer"),
        "{}",
        String::from_utf8_lossy(&untrusted.stderr)
    );
    // --cacert adds the authority on top of the system's.
    let cacert = dir.join("demo-ca.pem");
    std::fs::write(&cacert, &world.ca_pem).expect("write");
    let output = minibrowse_command()
        .env("SSL_CERT_FILE", &other)
        .args(["--dump", "--no-assets", "--cacert"])
        .arg(&cacert)
        .args(["--dns-server", &dns, &world.https_url("/")])
        .output()
        .expect("minibrowse runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A --cacert file with no certificate is a usage error.
    let output = minibrowse_command()
        .args(["--dump", "--cacert", "Cargo.toml", "http://127.0.0.1:9/"])
        .output()
        .expect("minibrowse runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr)
        .contains("--cacert Cargo.toml: no certificate in it"));
    let _ = std::fs::remove_dir_all(&dir);
}
