//! Bytes → an HTTP response from a real loopback server → minibrowse's client (ureq through
//! the traced transport, head parsing, body limits, gzip/brotli decoding) → the page text and
//! every trace line. Nothing may panic or hang, and no control character may reach the
//! `--trace` text or the dump. Redirects are not followed (no traffic leaves loopback).

#![no_main]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use minibrowse::net::{Client, Dns, DnsServers, FetchLimits, HttpOptions, Purpose};
use minibrowse::trace::{Collector, Trace};
use minibrowse::views::trace_text;
use minibrowse::{html, layout, text};

struct Harness {
    client: Client,
    addr: SocketAddr,
    reply: Arc<Mutex<Vec<u8>>>,
}

/// A loopback server that answers every connection with the current input, then closes.
fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let reply = Arc::new(Mutex::new(Vec::new()));
        let shared = reply.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let bytes = shared.lock().map(|r| r.clone()).unwrap_or_default();
                let _ = stream.write_all(&bytes);
                let _ = stream.shutdown(std::net::Shutdown::Both);
            }
        });
        // Never asked: the URL is an address literal.
        let dns = Dns::new(
            &DnsServers::Explicit("127.0.0.1:9".parse().expect("addr")),
            Duration::from_millis(200),
        )
        .expect("dns");
        let options = HttpOptions {
            max_redirects: 0,
            ..HttpOptions::default()
        };
        let client = Client::new(Arc::new(dns), options).expect("client");
        Harness {
            client,
            addr,
            reply,
        }
    })
}

fn check(text: &str, what: &str) {
    if let Some(c) = text.chars().find(|c| text::is_unsafe(*c) || *c == '\r') {
        panic!("U+{:04X} reached the {what}: {text:?}", u32::from(c));
    }
}

fuzz_target!(|data: &[u8]| {
    let h = harness();
    if let Ok(mut reply) = h.reply.lock() {
        *reply = data.to_vec();
    }
    let sink = Arc::new(Collector::default());
    let trace = Trace::new(sink.clone());
    let url = url::Url::parse(&format!("http://{}/page", h.addr)).expect("url");
    let limits = FetchLimits {
        timeout: Duration::from_secs(2),
        max_body: 1 << 20,
    };
    let result = h.client.fetch(&url, Purpose::Document, limits, &trace);
    if let Ok(response) = &result {
        let decoded = html::decode(&response.body, response.charset().as_deref());
        let doc = html::parse(&decoded.text);
        let page = layout::layout_document(&doc, &response.url, 80);
        check(&text::escape_controls(&page.to_text(true)), "dump");
    }
    if let Err(e) = &result {
        check(&text::escape_line(&e.to_string()), "error line");
    }
    trace.emit_summary();
    for event in sink.events() {
        check(&trace_text::format_event(&event, true), "trace");
    }
});
