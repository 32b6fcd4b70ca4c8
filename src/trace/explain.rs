//! One sentence per step, written for a student, with the step's real values.

use super::{EventKind, Step};

/// What this step was and why it happened.
pub fn explain(kind: &EventKind) -> String {
    match kind {
        EventKind::Start { url, note, .. } => match note {
            Some(note) => format!("Loading {url} ({note})."),
            None => format!("Loading {url}."),
        },
        EventKind::LocalFile { path, bytes, .. } => format!(
            "{path} is on this computer, so the browser just read its {bytes} bytes: no DNS lookup, no connection, no HTTP."
        ),
        EventKind::Dns { host, record_type, server, records, cached, .. } => {
            let hops = records.iter().filter(|r| r.record_type == "CNAME").count();
            let chain = if hops > 0 {
                format!(" {host} is an alias (CNAME), so the answer follows {hops} alias hop{} to the real name.", if hops == 1 { "" } else { "s" })
            } else {
                String::new()
            };
            let address = if record_type == "AAAA" { "IPv6 address" } else { "IPv4 address" };
            if *cached {
                format!("The browser already knew the {address} of {host} from an earlier answer, still within its TTL, so it did not ask {server} again.{chain}")
            } else if records.is_empty() {
                format!("The browser asked the DNS server {server} for the {address} ({record_type} record) of {host}; the name exists but has no such record.")
            } else {
                format!("Computers connect to numbers, not names: the browser asked the DNS server {server} for the {address} ({record_type} record) of {host}.{chain} The TTL says how many seconds the answer may be reused.")
            }
        }
        EventKind::Connect { remote, local, .. } => format!(
            "The browser opened a TCP connection to {remote} (from its own address {local}): a three-way handshake (SYN, SYN-ACK, ACK) that costs one round trip before any HTTP can be sent."
        ),
        EventKind::Proxy { proxy, mode, target, dns_by_proxy, .. } => {
            let dns = match dns_by_proxy {
                Some(name) => format!(" The proxy looks up {name} in DNS itself: this browser never asks, so no DNS step for it appears here."),
                None => String::new(),
            };
            match mode.as_str() {
                "forward" => format!("This connection goes to the proxy {proxy}, not to {target}. Each request names the whole URL in its first line (absolute form), so the proxy knows where to fetch it; it can read, filter, log and change everything, as this is plain HTTP.{dns}"),
                "connect" => format!("A tunnel through the proxy: the browser asked {proxy} to connect it to {target} (CONNECT), as it does for HTTPS and WebSockets. After the 200 answer the proxy only relays bytes: a TLS handshake that follows is with {target} itself, and the proxy then sees the name and the amount of traffic, not the pages.{dns}"),
                _ => format!("SOCKS5: the browser asked the proxy {proxy} to connect it to {target}, below HTTP; from now on it relays the bytes both ways.{}", if dns.is_empty() { " With socks5:// the browser looked the name up itself and sent the address.".to_string() } else { dns }),
            }
        }
        EventKind::Reuse { conn, requests_before } => format!(
            "Connection #{conn} was still open after {requests_before} earlier request{} (HTTP keep-alive), so this request reuses it: no DNS lookup, no new handshake.",
            if *requests_before == 1 { "" } else { "s" }
        ),
        EventKind::Tls { version, cipher, subject, issuer, verified, verification, sni, .. } if !*verified && !verification.is_empty() => format!(
            "WARNING: the connection is encrypted ({version}), but with --insecure the browser did not check the certificate for {}, so it cannot know who is at the other end: anyone in between could read and change everything. {subject}, signed by {issuer}. {verification}.",
            sni.as_deref().unwrap_or("this address")
        ),
        EventKind::Tls { version, cipher, subject, issuer, .. } => format!(
            "HTTPS (port 443 unless the URL names another): before any HTTP, browser and server agreed on encryption ({version}, {cipher}) and the server proved who it is with a certificate for {subject}, signed by {issuer}, an authority this browser trusts. From here on, everything on the wire is encrypted."
        ),
        EventKind::Request { method, url, purpose, .. } => format!(
            "The browser wrote this {method} request for the {purpose} {url}: one request line, then headers, then an empty line. That text is all a server ever sees of a browser."
        ),
        EventKind::Response { status, reason, ttfb_ms, .. } => format!(
            "The server answered {status} {reason} after {ttfb_ms:.1} ms (time to first byte): {}. The headers describe the body that follows.",
            status_meaning(*status)
        ),
        EventKind::Body { wire_bytes, decoded_bytes, content_encoding, .. } => match content_encoding {
            Some(enc) => format!(
                "The body arrived {enc}-compressed: {wire_bytes} bytes on the wire became {decoded_bytes} bytes once decompressed."
            ),
            None => format!("The body arrived: {decoded_bytes} bytes, sent as they are (no compression)."),
        },
        EventKind::Redirect { status, location, next_url, hop } => format!(
            "A {status} redirect: the server said the page is elsewhere (Location: {location}), so the browser makes a new request for {next_url} (hop {hop})."
        ),
        EventKind::Parse { bytes, encoding, encoding_source, nodes, elements, errors, stopped, two_threads, .. } => format!(
            "The browser decoded {bytes} bytes as {encoding} (chosen by: {encoding_source}) and built the DOM tree: {nodes} nodes, {elements} of them elements.{}{}{}",
            if *two_threads {
                " The tokenizer (which cuts the text into tags and text) ran on a thread of its own, handing its tokens to the tree builder on another, so two processor cores shared the work."
            } else {
                ""
            },
            if *errors > 0 {
                format!(" The HTML had {errors} error{}; the parser repaired them the way every browser does.", if *errors == 1 { "" } else { "s" })
            } else {
                " The HTML had no errors.".to_string()
            },
            match stopped {
                Some(reason) => format!(" The parser stopped early ({reason}): a browser must bound the work a page can make it do, so the page is what was parsed up to there."),
                None => String::new(),
            }
        ),
        EventKind::AssetFound { kind, element, .. } => format!(
            "Walking the DOM, the browser found {element}: {} {kind} it needs to show the page, so it will fetch it.",
            if kind.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
        ),
        EventKind::AssetRefused { url, reason, .. } => format!("The page references {url}, which is not fetched: {reason}."),
        EventKind::Layout { lines, links, width, during_parse, .. } => format!(
            "The DOM was laid out as text {width} columns wide: {lines} lines, {links} numbered links.{}",
            match during_parse {
                Some(d) if d.restarted.is_none() => " The layout ran while the parser was still building the DOM, reading each part as soon as the parser could no longer change it — the way a browser shows the top of a page before the rest has arrived.".to_string(),
                Some(d) => format!(" The layout began while the page was being parsed, but had to start again: {}. The parser's repairs of broken HTML can move what was already read.", d.restarted.as_deref().unwrap_or_default()),
                None => String::new(),
            }
        ),
        EventKind::WsHandshake { key, expected, ok, .. } => {
            if *ok {
                format!("The server proved it understood the WebSocket upgrade: it answered the random key {key} with {expected}, the SHA-1 of the key and a fixed GUID. From now on this TCP connection carries frames, not HTTP.")
            } else {
                format!("The server's Sec-WebSocket-Accept is not {expected}, the value the key {key} calls for: it did not really agree to speak WebSocket.")
            }
        }
        EventKind::WsFrame { direction, opcode, length, masked, .. } => format!(
            "A {opcode} frame of {length} bytes was {direction}: a few bytes of header, then the payload{}. Either side can send one at any time on the open connection.",
            if *masked { ", masked (every frame from a browser is masked with a random key)" } else { "" }
        ),
        EventKind::Chat { via, direction, name, .. } => format!(
            "A chat message {direction} by {}: {name}'s words, as a JSON object.",
            if via == "poll" { "long polling" } else { "WebSocket" }
        ),
        EventKind::Retry { attempt, delay_ms, .. } => format!(
            "That failed, so the client waits {delay_ms} ms and tries again (attempt {attempt}); waiting longer each time spares a server that is down."
        ),
        EventKind::ChatStats { via, messages, requests, header_bytes } => format!(
            "So far {messages} message{} by {}: {requests} HTTP request{} and {header_bytes} bytes of headers{}.",
            if *messages == 1 { "" } else { "s" },
            if via == "poll" { "long polling" } else { "WebSocket" },
            if *requests == 1 { "" } else { "s" },
            if *messages > 0 { format!(", {:.0} bytes per message", *header_bytes as f64 / *messages as f64) } else { String::new() }
        ),
        EventKind::CookieSent { names, .. } => format!(
            "HTTP forgets every request. The browser found {} cookie{} in its jar for this address ({}), so it adds a Cookie header: the server recognises you only because your client sends this.",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ),
        EventKind::SetCookie(c) => explain_set_cookie(c),
        EventKind::Failed { step, message } => format!("The {} step failed: {message}.", step_name(*step)),
        EventKind::Summary { requests, failed, .. } => format!(
            "Done: {requests} request{} made, {failed} failure{}.",
            if *requests == 1 { "" } else { "s" },
            if *failed == 1 { "" } else { "s" }
        ),
    }
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::Url => "URL",
        Step::File => "local file",
        Step::Dns => "DNS",
        Step::Connect => "TCP connect",
        Step::Tls => "TLS",
        Step::Send => "request",
        Step::Wait => "waiting-for-the-answer",
        Step::Receive => "response",
        Step::Redirect => "redirect",
        Step::Parse => "HTML parse",
        Step::Assets => "assets",
        Step::WebSocket => "WebSocket",
        Step::Chat => "chat",
    }
}

fn status_meaning(status: u16) -> &'static str {
    match status {
        200 => "here is what you asked for",
        204 => "success, with nothing to show",
        206 => "here is part of what you asked for",
        301 => "moved for good, look elsewhere",
        302 | 303 | 307 => "look elsewhere for now",
        308 => "moved for good, ask again there the same way",
        304 => "your copy is still fresh",
        400 => "the server could not understand the request",
        401 => "you must log in",
        403 => "you may not see this",
        404 => "there is nothing at this path",
        410 => "it was here and is gone for good",
        429 => "too many requests, slow down",
        500 => "the server itself failed",
        502 | 504 => "a server in between could not reach the real one",
        503 => "the server is overloaded or down for maintenance",
        s if s < 200 => "an interim answer",
        s if s < 300 => "success",
        s if s < 400 => "look elsewhere",
        s if s < 500 => "the request was at fault",
        _ => "the server was at fault",
    }
}

fn explain_set_cookie(c: &super::CookieSet) -> String {
    let name = &c.name;
    if c.outcome.starts_with("ignored") {
        return format!("The server asked the browser to remember {name}, but cookies are off (--no-cookies): it is thrown away, so the next request will look like a stranger's.");
    }
    if let Some(why) = c.outcome.strip_prefix("rejected: ") {
        return format!(
            "The server sent a cookie ({name}), but the browser refused to keep it: {why}."
        );
    }
    if c.outcome == "deleted" {
        return format!("The server sent {name} with a date in the past: that is how a server deletes a cookie, so the browser removed it from its jar.");
    }
    let scope = match &c.domain {
        Some(d) => format!("to {d} and its subdomains"),
        None => "only to this host".to_string(),
    };
    let life = if c.expires.is_some() || c.max_age.is_some() {
        "until it expires"
    } else {
        "until the browser closes (a session cookie)"
    };
    let mut extra = String::new();
    if c.http_only {
        extra.push_str(" HttpOnly: page scripts cannot read it.");
    }
    if c.secure {
        extra.push_str(" Secure: it is sent only over HTTPS.");
    }
    format!("The server asked the browser to remember {name} (Set-Cookie). The browser {} it in its jar and will send it back {scope}, under path {}, {life}.{extra}",
        if c.outcome == "replaced" { "replaced the old value" } else { "keeps" },
        c.path.as_deref().unwrap_or("of this page"))
}
