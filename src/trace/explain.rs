//! One sentence per step, written for a student, with the step's real values.
//!
//! Every value a sentence names comes from its event (a status, a header of the head as it
//! arrived, a count); every count goes through [`plural`].

use super::words::{duration, plural};
use super::{EventKind, PollAnswer, Step};

/// What this step was and why it happened.
pub fn explain(kind: &EventKind) -> String {
    match kind {
        EventKind::Start { url, note, .. } => match note {
            Some(note) => format!("Loading {url} ({note})."),
            None => format!("Loading {url}."),
        },
        EventKind::LocalFile { path, bytes, .. } => format!(
            "{path} is on this computer, so the browser just read its {}: no DNS lookup, no connection, no HTTP.",
            plural(*bytes, "byte")
        ),
        EventKind::Dns { host, record_type, server, records, cached, outcome, .. } => {
            explain_dns(host, record_type, server, records, *cached, outcome.as_deref())
        }
        EventKind::Connect { remote, local, attempts, .. } if attempts.len() > 1 => format!(
            "The name had {}, IPv6 and IPv4, so the browser raced them (Happy Eyeballs): IPv6 first, the next address {} ms later or as soon as one failed, and the first to connect wins. {remote} won (from {local}); {}.",
            plural(attempts.len() as u64, "address"),
            crate::net::eyeballs::ATTEMPT_DELAY.as_millis(),
            attempts.iter().filter(|a| !a.outcome.starts_with("connected")).map(|a| a.outcome.clone()).collect::<Vec<_>>().join("; ")
        ),
        EventKind::Connect { remote, local, .. } => format!(
            "The browser opened a TCP connection to {remote} (from its own address {local}): a three-way handshake (SYN, SYN-ACK, ACK) that costs one round trip before any HTTP can be sent."
        ),
        EventKind::Proxy { proxy, mode, target, dns_by_proxy, .. } => {
            explain_proxy(proxy, mode, target, dns_by_proxy.as_deref())
        }
        EventKind::Reuse { conn, requests_before } => format!(
            "Connection #{conn} was still open after {} (HTTP keep-alive), so this request reuses it: no DNS lookup, no new handshake.",
            plural(u64::from(*requests_before), "earlier request")
        ),
        EventKind::Tls { version, subject, issuer, verified, verification, sni, .. } if !*verified && !verification.is_empty() => format!(
            "WARNING: the connection is encrypted ({version}), but with --insecure the browser did not check the certificate for {}, so it cannot know who is at the other end: anyone in between could read and change everything. {subject}, signed by {issuer}. {verification}.",
            sni.as_deref().unwrap_or("this address")
        ),
        EventKind::Tls { version, cipher, subject, issuer, alpn, alpn_offered, .. } => format!(
            "TLS, the S of HTTPS and wss: (port 443 unless the URL names another): before any HTTP, browser and server agreed on encryption ({version}, {cipher}) and the server proved who it is with a certificate for {subject}, signed by {issuer}, an authority this browser trusts. From here on, everything on the wire is encrypted.{}",
            alpn_sentence(alpn.as_deref(), alpn_offered)
        ),
        EventKind::Request { method, url, purpose, .. } => explain_request(method, url, purpose),
        EventKind::Response { status, reason, head, ttfb_ms, url, .. } => {
            explain_response(*status, reason, head, *ttfb_ms, url.as_deref())
        }
        EventKind::Body { wire_bytes, content_type: Some(t), ms, .. }
            if t.to_ascii_lowercase().starts_with("text/event-stream") =>
        {
            super::explain_sse::explain_stream_body(*wire_bytes, *ms)
        }
        EventKind::Body { wire_bytes, decoded_bytes, content_encoding, content_type, .. } => {
            explain_body(*wire_bytes, *decoded_bytes, content_encoding.as_deref(), content_type.as_deref())
        }
        EventKind::Redirect { status, location, next_url, hop, method, next_method } => {
            let method = method.as_deref().unwrap_or("GET");
            let next_method = next_method.as_deref().unwrap_or(method);
            explain_redirect(*status, location, next_url, *hop, (method, next_method))
        }
        EventKind::Parse { .. } => explain_parse(kind),
        EventKind::AssetFound { kind, url, element, .. } => format!(
            "Walking the DOM, the browser found {element}: the page needs {}, so the browser will fetch {url}.",
            asset_noun(kind)
        ),
        EventKind::AssetRefused { kind, url, element, reason } => format!(
            "The page names {} at {url} ({element}), which is not fetched: {reason}.",
            asset_noun(kind)
        ),
        EventKind::AssetQueued { kind, url, priority, by } => explain_queued(kind, url, priority, by),
        EventKind::Preload { kind, url, early_ms: Some(early) } => format!(
            "The preload scanner had asked for {} at {url} {} before the DOM walk found it: reading the bytes as they arrived, ahead of the parser, it started the request while the document was still coming in. The walk did not ask again.",
            asset_noun(kind),
            duration(*early)
        ),
        EventKind::Preload { kind, url, early_ms: None } => format!(
            "The preload scanner asked for {} at {url}, but the parsed page never uses it (the scanner guesses without the tree: a <base> seen late, markup the parser treated otherwise): a request made for nothing.",
            asset_noun(kind)
        ),
        EventKind::LoadMoment { moment, ms } => explain_moment(moment, *ms),
        EventKind::Layout { lines, links, width, during_parse, .. } => format!(
            "The DOM was laid out as text {width} columns wide: {}, {}.{}",
            plural(*lines, "line"),
            plural(*links, "numbered link"),
            match during_parse {
                Some(d) if d.restarted.is_none() => " The layout ran while the parser was still building the DOM, reading each part as soon as the parser could no longer change it — the way a browser shows the top of a page before the rest has arrived.".to_string(),
                Some(d) => format!(" The layout began while the page was being parsed, but had to start again: {}. The parser's repairs of broken HTML can move what was already read.", d.restarted.as_deref().unwrap_or_default()),
                None => String::new(),
            }
        ),
        EventKind::WsHandshake { key, expected, ok, .. } => {
            if *ok {
                format!("The server proved it understood the WebSocket upgrade: it answered the random key {key} with {expected}, the base64 of the SHA-1 of the key joined to a fixed GUID. From now on this TCP connection carries frames, not HTTP.")
            } else {
                format!("The server's Sec-WebSocket-Accept is not {expected}, the value the key {key} calls for: it did not really agree to speak WebSocket.")
            }
        }
        EventKind::WsFrame { direction, opcode, fin, length, masked, preview, reply } => {
            explain_frame(direction == "sent", opcode, *fin, *length, *masked, preview, *reply)
        }
        EventKind::Chat { via, direction, name, message_seq, .. } => format!(
            "A chat message {direction} by {}: {name}'s words, as a JSON object{}.",
            via_name(via),
            message_seq.map(|s| format!(" (message #{s} of the room)")).unwrap_or_default()
        ),
        EventKind::SseEvent { .. }
        | EventKind::SseComment { .. }
        | EventKind::SseRetry { .. }
        | EventKind::SseSkipped { .. }
        | EventKind::SseReconnect { .. } => super::explain_sse::explain_sse(kind),
        EventKind::H2Session { .. }
        | EventKind::H2Stream { .. }
        | EventKind::H2Frame { .. }
        | EventKind::H2Closed { .. } => {
            super::explain_h2::explain_h2(kind)
        }
        EventKind::Retry { attempt, delay_ms, error } => explain_retry(*attempt, *delay_ms, error),
        EventKind::ChatStats { via, messages, requests, header_bytes, poll } => {
            explain_chat_cost(via, *messages, *requests, *header_bytes, poll.as_ref())
        }
        EventKind::CookieSent { names, .. } => format!(
            "HTTP forgets every request. The browser found {} in its jar for this address ({}), so it adds a Cookie header: the server recognises you only because your client sends this.",
            plural(names.len() as u64, "cookie"),
            names.join(", ")
        ),
        EventKind::SetCookie(c) => explain_set_cookie(c),
        EventKind::FormSubmit { method, fields, enctype, submitter, .. } => {
            explain_form(method, fields, enctype, submitter.as_deref())
        }
        EventKind::Failed { step, message, .. } => format!("The {} step failed: {message}.", step_name(*step)),
        EventKind::Cache(step) => super::cache_words::explain(step),
        EventKind::Summary { .. } => explain_summary(kind),
    }
}

/// Which HTTP the handshake settled (ALPN), when the browser offered a choice.
fn alpn_sentence(chosen: Option<&str>, offered: &[String]) -> String {
    if !offered.iter().any(|p| p == "h2") {
        return String::new();
    }
    match chosen {
        Some("h2") => " In the same handshake the browser offered h2 and http/1.1 (ALPN) and the server chose h2: HTTP/2 follows, every request to this site on this one connection.".into(),
        _ => " In the same handshake the browser offered h2 and http/1.1 (ALPN) and the server chose HTTP/1.1: one request at a time per connection, so the browser opens up to six.".into(),
    }
}

/// A form submission: where its fields go, by its method.
fn explain_form(
    method: &str,
    fields: &[(String, String)],
    enctype: &str,
    submitter: Option<&str>,
) -> String {
    let how = match submitter {
        Some(button) => format!("You pressed {button}"),
        None => "You pressed Enter in a field".to_string(),
    };
    let named = plural(fields.len() as u64, "named field");
    let password = if fields.iter().any(|(_, v)| v == super::redact::HIDDEN) {
        " A password goes in it as typed: over http:// anyone on the way can read it; only https:// hides it."
    } else {
        ""
    };
    if method == "GET" {
        format!("{how}, so the browser collected the form's {named} that count (checked boxes, chosen options, filled-in text) and, because the form's method is GET, wrote them into the URL after a `?`: the server sees them as the query, and they show up in the address bar and the history.{password}")
    } else {
        format!("{how}, so the browser collected the form's {named} that count and, because the form's method is POST, sends them as the request's body ({enctype}) instead of in the URL: the address stays clean, but the data still travels as plain text in the body.{password}")
    }
}

fn explain_proxy(proxy: &str, mode: &str, target: &str, dns_by_proxy: Option<&str>) -> String {
    let dns = match dns_by_proxy {
        Some(name) => format!(" The proxy looks up {name} in DNS itself: this browser never asks, so no DNS step for it appears here."),
        None => String::new(),
    };
    match mode {
        "forward" => format!("This connection goes to the proxy {proxy}, not to {target}. Each request names the whole URL in its first line (absolute form), so the proxy knows where to fetch it; it can read, filter, log and change everything, as this is plain HTTP.{dns}"),
        "connect" => format!("A tunnel through the proxy: the browser asked {proxy} to connect it to {target} (CONNECT), as it does for HTTPS and WebSockets. After the 200 answer the proxy only relays bytes: a TLS handshake that follows is with {target} itself, and the proxy then sees the name and the amount of traffic, not the pages.{dns}"),
        _ => format!("SOCKS5: the browser asked the proxy {proxy} to connect it to {target}, below HTTP; from now on it relays the bytes both ways.{}", if dns.is_empty() { " With socks5:// the browser looked the name up itself and sent the address.".to_string() } else { dns }),
    }
}

fn explain_body(
    wire_bytes: u64,
    decoded_bytes: u64,
    content_encoding: Option<&str>,
    content_type: Option<&str>,
) -> String {
    let of_type = content_type.map(|t| format!(" of {t}")).unwrap_or_default();
    match content_encoding {
        Some(enc) => format!(
            "The body arrived {enc}-compressed: {} on the wire became {}{of_type} once decompressed.",
            plural(wire_bytes, "byte"),
            plural(decoded_bytes, "byte")
        ),
        None if decoded_bytes == 0 => "The body was empty: 0 bytes.".to_string(),
        None if wire_bytes == decoded_bytes => format!(
            "The body arrived: {}{of_type}, sent as is (no compression).",
            plural(decoded_bytes, "byte")
        ),
        None => format!(
            "The body arrived: {}{of_type}, not compressed ({} on the wire, the framing of the transfer included).",
            plural(decoded_bytes, "byte"),
            plural(wire_bytes, "byte")
        ),
    }
}

fn explain_parse(kind: &EventKind) -> String {
    let EventKind::Parse {
        bytes,
        encoding,
        encoding_source,
        nodes,
        elements,
        errors,
        stopped,
        two_threads,
        flattened,
        streamed,
        ..
    } = kind
    else {
        return String::new();
    };
    let capped = match flattened {
        0 => String::new(),
        n => format!(
            " The HTML nested elements deeper than {}: like Chromium, the browser did not nest {} any deeper and put what was in them into the element at that depth, so all of the page is there (and the parser stays fast).",
            crate::html::FLATTEN_AT,
            plural(*n, "more element")
        ),
    };
    let streamed = if *streamed {
        " It parsed the page as its bytes arrived, piece by piece (holding only the first 1024 bytes until the encoding was known), so the DOM was built while the document still downloaded."
    } else {
        ""
    };
    format!(
        "The browser decoded {} as {encoding} (chosen by: {encoding_source}) and built the DOM tree: {} ({}).{streamed}{}{}{capped}{}",
        plural(*bytes, "byte"),
        plural(*nodes, "node"),
        plural(*elements, "element"),
        if *two_threads {
            " The tokenizer (which cuts the text into tags and text) ran on a thread of its own, handing its tokens to the tree builder on another, so two processor cores shared the work."
        } else {
            ""
        },
        match errors {
            0 => " The HTML had no errors.".to_string(),
            1 => " The HTML had 1 error; the parser repaired it the way every browser does.".to_string(),
            n => format!(" The HTML had {n} errors; the parser repaired them the way every browser does."),
        },
        match stopped {
            Some(reason) => format!(" The parser stopped early ({reason}): a browser must bound the work a page can make it do, so the page is what was parsed up to there."),
            None => String::new(),
        }
    )
}

fn explain_retry(attempt: u32, delay_ms: u64, error: &str) -> String {
    let turn = match attempt {
        1 => "once".to_string(),
        n => format!("{n} times in a row"),
    };
    if delay_ms == 0 {
        format!("That went wrong {turn}: {error}.")
    } else {
        format!(
            "That went wrong {turn}: {error}. So the client waits {} before it asks again; waiting longer each time spares a server that is struggling.",
            duration(delay_ms as f64)
        )
    }
}

fn explain_chat_cost(
    via: &str,
    messages: u64,
    requests: u64,
    header_bytes: u64,
    poll: Option<&PollAnswer>,
) -> String {
    let held = poll.map(explain_poll_answer).unwrap_or_default();
    let heads = if via == "ws" {
        "HTTP heads and frame headers"
    } else if via == "sse" {
        "HTTP heads and the stream's framing (field names, IDs, blank lines, heartbeats, chunk sizes)"
    } else {
        "HTTP heads"
    };
    format!(
        "{held}So far {} by {}: {} and {} of {heads}{}.",
        plural(messages, "message"),
        via_name(via),
        plural(requests, "HTTP request"),
        plural(header_bytes, "byte"),
        if messages > 0 {
            format!(
                ", {:.0} bytes per message",
                header_bytes as f64 / messages as f64
            )
        } else {
            String::new()
        }
    )
}

fn explain_summary(kind: &EventKind) -> String {
    let EventKind::Summary {
        requests,
        from_cache,
        failed,
        wire_bytes,
        decoded_bytes,
        ms,
        ..
    } = kind
    else {
        return String::new();
    };
    format!(
        "Done in {}: {} made{}, {} on the wire{}, {}.",
        duration(*ms),
        plural(u64::from(*requests), "request"),
        match from_cache {
            0 => String::new(),
            n => format!(" and {n} more answered by the HTTP cache without one"),
        },
        plural(*wire_bytes, "byte"),
        if wire_bytes == decoded_bytes {
            String::new()
        } else {
            format!(" ({} once decoded)", plural(*decoded_bytes, "byte"))
        },
        match failed {
            0 => "nothing failed".to_string(),
            n => plural(u64::from(*n), "failure"),
        }
    )
}

fn explain_dns(
    host: &str,
    record_type: &str,
    server: &str,
    records: &[super::DnsRecord],
    cached: bool,
    outcome: Option<&str>,
) -> String {
    let hops = records.iter().filter(|r| r.record_type == "CNAME").count() as u64;
    let chain = if hops > 0 {
        format!(
            " {host} is an alias (CNAME), so the answer follows {} to the real name.",
            plural(hops, "alias hop")
        )
    } else {
        String::new()
    };
    let address = if record_type == "AAAA" {
        "IPv6 address"
    } else {
        "IPv4 address"
    };
    let ttl = records
        .iter()
        .rev()
        .find(|r| r.record_type == record_type)
        .or(records.last())
        .map(|r| r.ttl);
    if cached && records.iter().all(|r| r.record_type != record_type) {
        format!("The browser already knew from an earlier answer that {host} has no {address} ({record_type} record): DNS servers say how long such a \"none\" may be remembered too, so it did not ask {server} again.")
    } else if cached {
        format!("The browser already knew the {address} of {host} from an earlier answer, still within its TTL, so it did not ask {server} again.{chain}")
    } else if records.is_empty() {
        let why = match outcome {
            Some(o) if o != "no records of this type" => format!("no address came back ({o})"),
            _ => "the name exists but has no such record".to_string(),
        };
        format!("The browser asked the DNS server {server} for the {address} ({record_type} record) of {host}; {why}.")
    } else {
        format!(
            "Computers connect to numbers, not names: the browser asked the DNS server {server} for the {address} ({record_type} record) of {host}.{chain}{}",
            ttl.map(|t| format!(" The TTL ({}) says how long the answer may be reused.", plural(u64::from(t), "second")))
                .unwrap_or_default()
        )
    }
}

/// The noun, with its article, for what a request fetches (its `purpose`).
fn purpose_noun(purpose: &str) -> Option<&'static str> {
    Some(match purpose {
        "document" => "the page itself",
        "stylesheet" => "a stylesheet",
        "script" => "a script",
        "image" => "an image",
        "font" => "a font",
        "frame" => "a page shown in a frame",
        "media" => "a media file",
        "fetch" => "data a page's script asks for itself: a fetch",
        "eventsource" => "a stream of events the server pushes as they happen (Server-Sent Events)",
        _ => return None,
    })
}

fn explain_request(method: &str, url: &str, purpose: &str) -> String {
    let parsed = url::Url::parse(url).ok();
    let path = parsed.as_ref().map(|u| u.path()).unwrap_or_default();
    let query = |name: &str| {
        parsed.as_ref().and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        })
    };
    let shape = if method == "GET" {
        "one request line, then headers, then an empty line"
    } else {
        "one request line, then headers, an empty line, then the body"
    };
    // The demo chat's own requests, which chat.rs makes (purpose "fetch").
    if purpose == "fetch" && method == "GET" && path.ends_with("/chat/poll") {
        let since = query("since")
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        let after = if since == 0 {
            "the messages said so far".to_string()
        } else {
            format!("the messages after #{since}")
        };
        return match query("wait").and_then(|w| w.parse::<f64>().ok()) {
            Some(0.0) => format!("This GET of {url} joins the chat: it asks for {after} with wait=0, so the server answers at once, even with nothing."),
            Some(w) => format!("This GET of {url} is a long poll: it asks for {after}, and lets the server hold it up to {} (wait={w}) until there is one, so news comes the moment it is said.", duration(w * 1000.0)),
            None => format!("This GET of {url} is a long poll: it asks for {after}, and the server holds it as long as it likes until there is one."),
        };
    }
    if purpose == "fetch" && method == "POST" && path.ends_with("/chat/send") {
        return format!("This POST sends a chat message to {url}: {shape}, which here is the message as a JSON object.");
    }
    if purpose == "fetch" && method == "GET" && path.ends_with("/chat/messages") {
        return format!("This GET asks {url} for the chat's recent messages, as reloading the page would: the server answers at once, and the client learns of new messages only when it asks again.");
    }
    if purpose == "eventsource" {
        return format!("This GET opens an event stream at {url}, as a page's EventSource does: Accept: text/event-stream asks for one, Cache-Control: no-cache keeps caches out, and a Last-Event-ID header, when there is one, tells the server the last event this client has. The answer never really ends: the server sends each event when it happens.");
    }
    if purpose == "websocket" {
        return format!("This GET asks {url} to turn the connection into a WebSocket (Connection: Upgrade, Upgrade: websocket), with a random Sec-WebSocket-Key the server must answer: {shape}.");
    }
    let what = purpose_noun(purpose)
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    format!("The browser wrote this {method} request for {url}{what}: {shape}. That text is all a server ever sees of a browser.")
}

/// The last head of a response as it arrived (interim 1xx heads may come before it).
struct Head<'a> {
    /// The status lines of the interim heads before it.
    interim: Vec<&'a str>,
    fields: Vec<(&'a str, &'a str)>,
}

impl<'a> Head<'a> {
    fn read(head: &'a str) -> Head<'a> {
        let blocks: Vec<&str> = head
            .split("\r\n\r\n")
            .filter(|b| !b.trim().is_empty())
            .collect();
        let last = blocks.last().copied().unwrap_or_default();
        let interim = blocks[..blocks.len().saturating_sub(1)]
            .iter()
            .filter_map(|b| b.lines().next())
            .map(|l| l.split_once(' ').map_or(l, |(_, status)| status).trim())
            .collect();
        let fields = last
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        Head { interim, fields }
    }

    /// The first field of that name, case-insensitive.
    fn get(&self, name: &str) -> Option<&'a str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

fn explain_response(
    status: u16,
    reason: &str,
    head: &str,
    ttfb_ms: f64,
    url: Option<&str>,
) -> String {
    let head = Head::read(head);
    if status == 200 && url.is_some_and(is_long_poll) {
        return explain_poll_response(ttfb_ms, &head);
    }
    let answer = if reason.is_empty() {
        status.to_string()
    } else {
        format!("{status} {reason}")
    };
    let interim = match head.interim.as_slice() {
        [] => String::new(),
        [one] => format!(", after an interim {one}"),
        many => format!(", after the interim answers {}", many.join(", ")),
    };
    let via = head
        .get("via")
        .map(|v| format!(" It came through a proxy in between (Via: {v})."))
        .unwrap_or_default();
    format!(
        "The server answered {answer} after {} (time to first byte){interim}. {}.{via}{}",
        duration(ttfb_ms),
        capitalise(&status_meaning(status, &head)),
        body_follows(status, &head)
    )
}

/// The demo chat's long poll (`/chat/poll`): its wait is the server holding it.
fn is_long_poll(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.path().ends_with("/chat/poll"))
}

/// A long poll's answer: the time to first byte is the server's hold, not its slowness.
fn explain_poll_response(ttfb_ms: f64, head: &Head<'_>) -> String {
    let held = if ttfb_ms >= 100.0 {
        format!("The server held this long poll {} before it answered: it answers as soon as a message comes, or empty when its hold runs out (the next step says which)", duration(ttfb_ms))
    } else {
        format!("The server answered this long poll at once ({}): it already had messages the client had not seen, or was told not to wait", duration(ttfb_ms))
    };
    format!(
        "{held}. Then the client asks again at once, so one request is always waiting at the server.{}",
        body_follows(200, head)
    )
}

/// Whether a body follows the head, and what the head says of it. None follows a 1xx, a 204,
/// a 205 or a 304 (RFC 9110, sections 15.2, 15.3.5, 15.3.6, 15.4.5); minibrowse sends no HEAD.
fn body_follows(status: u16, head: &Head<'_>) -> String {
    if status < 200 {
        return String::new();
    }
    if matches!(status, 204 | 205 | 304) {
        return " There is no body: the answer ends with its headers.".to_string();
    }
    let length = head
        .get("content-length")
        .and_then(|v| v.parse::<u64>().ok());
    let of_type = head
        .get("content-type")
        .map(|t| format!(", {t} (Content-Type)"))
        .unwrap_or_default();
    let chunked = head
        .get("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    match length {
        Some(0) => " The headers say the body is empty (Content-Length: 0).".to_string(),
        Some(n) => format!(
            " The headers describe the body that follows: {} (Content-Length){of_type}.",
            plural(n, "byte")
        ),
        None if chunked => format!(" The headers describe the body that follows, sent in chunks (Transfer-Encoding: chunked) whose total is known only at the end{of_type}."),
        None => format!(" The headers describe the body that follows{of_type}; with no Content-Length, it ends when the server closes the connection."),
    }
}

/// What a status says, with the values of the head it names (Location, Allow, Retry-After…).
/// Codes HTTP does not define are read as the x00 of their class (RFC 9110, section 15).
fn status_meaning(status: u16, head: &Head<'_>) -> String {
    let location = head.get("location");
    // Where a 3xx sends the browser: the Location header's own value.
    let at = match location {
        Some(l) => format!("{l} (Location)"),
        None => "an address it does not give (no Location header), so there is nowhere to go"
            .to_string(),
    };
    let retry = head
        .get("retry-after")
        .map(|v| match v.parse::<u64>() {
            Ok(s) => format!("; Retry-After says to ask again in {}", plural(s, "second")),
            Err(_) => format!("; Retry-After says to ask again after {v}"),
        })
        .unwrap_or_default();
    match status {
        100 => "an interim answer: go on and send the request's body; the real answer follows".into(),
        101 => format!(
            "the server agrees to switch protocols. This answer has no body: from the end of its head on, the connection carries {} instead of HTTP",
            match head.get("upgrade") {
                Some(p) => format!("{p}, the protocol named in its Upgrade header,"),
                None => "the protocol asked for (the answer names none in an Upgrade header)".into(),
            }
        ),
        102 => "an interim answer: the server is still working on the request; the real answer follows".into(),
        103 => format!(
            "Early Hints, an interim answer: {} while the server prepares the real answer, which follows on the same request",
            match head.get("link") {
                Some(l) => format!("hints of assets the page will need (Link: {l}), so a browser can start fetching them"),
                None => "hints of assets the page will need, so a browser can start fetching them".into(),
            }
        ),
        _ if status / 100 == 1 => format!("an interim answer ({status} is not a code HTTP defines): the real answer follows"),
        200 => "success: here is what was asked for".into(),
        201 => match location {
            Some(l) => format!("created: the request made something new, now at {l} (Location)"),
            None => "created: the request made something new".into(),
        },
        202 => "accepted: the server took the request, but the work is not done yet".into(),
        203 => "success, though a proxy in between changed what the server sent".into(),
        204 => "success, with nothing to send back".into(),
        205 => "success: the browser should clear the form it sent".into(),
        206 => match head.get("content-range") {
            Some(r) => format!("partial content: only the byte range asked for ({r}, Content-Range)"),
            None => "partial content: only the byte range asked for".into(),
        },
        _ if status / 100 == 2 => format!("success ({status} is not a code HTTP defines, so it counts as 200 OK)"),
        300 => format!("multiple choices: the server has several versions of this and suggests {at}"),
        301 => format!("moved for good, to {at}; a browser asks there with the same method, except that by historical practice browsers turn a POST into a GET"),
        302 => format!("found elsewhere for now, at {at}; a browser asks there with the same method, except that by historical practice browsers turn a POST into a GET"),
        303 => format!("see other: the answer is at {at}, always fetched with a GET whatever the method of this request (this is how a form's POST leads to a page)"),
        304 => "not modified: the copy in the browser's cache is still good, so the server does not send it again".into(),
        305 | 306 => "an old code HTTP no longer uses".into(),
        307 => format!("elsewhere for now, at {at}; a browser asks there with the same method and the same body (a POST stays a POST)"),
        308 => format!("moved for good, to {at}; a browser asks there with the same method and the same body (a POST stays a POST)"),
        _ if status / 100 == 3 => format!("look elsewhere, at {at} ({status} is not a code HTTP defines, so it counts as 300 Multiple Choices)"),
        400 => "bad request: the server could not understand it".into(),
        401 => match head.get("www-authenticate") {
            Some(w) => format!("authentication needed: WWW-Authenticate: {w} says how to prove who you are"),
            None => "authentication needed, though the server sent no WWW-Authenticate header to say how".into(),
        },
        402 => "payment required (a code set aside, rarely used)".into(),
        403 => "forbidden: the server understood, and will not let this client see it".into(),
        404 => "not found: there is nothing at this path".into(),
        405 => match head.get("allow") {
            Some(a) => format!("this method is not allowed here; Allow: {a} lists those that are"),
            None => "this method is not allowed here (the server sent no Allow header listing those that are)".into(),
        },
        406 => "not acceptable: the server has nothing in a form the Accept headers allow".into(),
        407 => match head.get("proxy-authenticate") {
            Some(p) => format!("the proxy wants you to authenticate first (Proxy-Authenticate: {p})"),
            None => "the proxy wants you to authenticate first".into(),
        },
        408 => "request timeout: the server waited too long for the request and gave up on this connection".into(),
        409 => "conflict: the request clashes with the current state of the thing it names".into(),
        410 => "gone: it was here and has been removed for good".into(),
        411 => "length required: the server wants a Content-Length on the request".into(),
        412 => "precondition failed: a condition in the request's headers was not met".into(),
        413 => "content too large: the request's body is larger than the server accepts".into(),
        414 => "URI too long: the URL is longer than the server accepts".into(),
        415 => "unsupported media type: the server does not take a body of this Content-Type".into(),
        416 => "range not satisfiable: the byte range asked for is not in the file".into(),
        421 => "misdirected request: this server does not answer for that host".into(),
        422 => "unprocessable content: the request is well formed, but its content makes no sense to the server".into(),
        426 => "upgrade required: the server will answer only over another protocol".into(),
        429 => format!("too many requests: slow down{retry}"),
        431 => "the request's headers are too large for the server".into(),
        451 => "unavailable for legal reasons".into(),
        _ if status / 100 == 4 => format!("the request was at fault ({status} is not a code HTTP defines, so it counts as 400 Bad Request)"),
        500 => "internal server error: the server itself failed while answering".into(),
        501 => "not implemented: the server does not support what was asked (usually the method)".into(),
        502 => "bad gateway: the server in between (a gateway or proxy) got no valid answer from the server behind it".into(),
        503 => format!("service unavailable: the server is overloaded or down for maintenance, for now{retry}"),
        504 => "gateway timeout: the server in between (a gateway or proxy) did not get an answer in time from the server behind it".into(),
        505 => "the server does not speak this version of HTTP".into(),
        507 => "insufficient storage: the server has no room to do it".into(),
        508 => "loop detected: the server found itself going round in circles".into(),
        511 => "network authentication required: the network (a hotel's or a café's portal) wants you to log in first".into(),
        _ if status / 100 == 5 => format!("the server was at fault ({status} is not a code HTTP defines, so it counts as 500 Internal Server Error)"),
        _ => format!("A code HTTP does not have: {status} is outside its five classes (1xx to 5xx), so the browser cannot know what it means"),
    }
}

fn explain_redirect(
    status: u16,
    location: &str,
    next_url: &str,
    hop: u32,
    (method, next): (&str, &str),
) -> String {
    // A <meta http-equiv="refresh"> (page.rs) is not a redirect status: the page asked itself.
    if location.starts_with("<meta") {
        return format!(
            "The page itself asked to go elsewhere: its answer was {status}, not a redirect, but its HTML carries {location}, so the browser loads {next_url} with a GET (hop {hop})."
        );
    }
    // The rule as applied (Client::fetch_with, RequestSpec::after_redirect).
    let kept = if method == next {
        format!("this request was a {method}, so the next is a {next} too")
    } else {
        format!("this request was a {method}, so the next is a {next}, without the body")
    };
    let rule = match status {
        301 | 302 => {
            let what = if status == 301 { "moved for good" } else { "found elsewhere for now" };
            if method == "POST" {
                format!("{what}. By historical practice a POST becomes a GET here: {kept}")
            } else {
                format!("{what}. Only a POST would change its method here: {kept}")
            }
        }
        303 => format!("see other: the next request is a GET, whatever this one was (only a HEAD stays a HEAD): {kept}"),
        307 => format!("elsewhere for now, to be asked with the same method and body: {kept}"),
        308 => format!("moved for good, to be asked with the same method and body: {kept}"),
        _ => format!("look elsewhere: {kept}"),
    };
    format!("A {status} redirect: {rule}. The server named the new address (Location: {location}), so the browser sends a {next} for {next_url} (hop {hop}).")
}

/// What a close frame's status code (RFC 6455, section 7.4.1) says.
fn close_code_meaning(code: u16) -> &'static str {
    match code {
        1000 => "normal closure: the conversation is over",
        1001 => "going away: the page or the server is leaving",
        1002 => "a protocol error",
        1003 => "data of a kind it cannot take",
        1007 => "a message whose data is not what its type says",
        1008 => "a message against its policy",
        1009 => "a message too big to take",
        1010 => "an extension the server did not agree to",
        1011 => "an unexpected failure on the server",
        1012 => "the service is restarting",
        1013 => "try again later",
        3000..=3999 => "a code registered by a library or framework",
        4000..=4999 => "a code of the application's own",
        _ => "a code the protocol does not define",
    }
}

fn explain_frame(
    sent: bool,
    opcode: &str,
    fin: bool,
    length: u64,
    masked: bool,
    preview: &str,
    reply: bool,
) -> String {
    let (by, other) = if sent {
        ("The browser", "the server")
    } else {
        ("The server", "the browser")
    };
    let bytes = plural(length, "byte");
    let mask = if masked {
        ", masked (every frame from a browser is masked with a random key)"
    } else {
        ""
    };
    match opcode {
        "ping" => format!(
            "{by} sent a ping ({bytes}: \"{preview}\"): is anyone still there? {} must answer with a pong carrying the same bytes; a side that stops answering is taken for gone.",
            capitalise(other)
        ),
        "pong" if reply => format!(
            "{by} answered {other}'s ping with a pong carrying the same {bytes} (\"{preview}\"): it is still there."
        ),
        "pong" => format!(
            "{by} sent a pong ({bytes}) with no ping to answer: a one-way heartbeat, which needs no answer."
        ),
        "close" => {
            let (code, why) = match preview.strip_prefix("code ") {
                Some(rest) => {
                    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
                    let meaning = code
                        .parse::<u16>()
                        .map(close_code_meaning)
                        .unwrap_or("a code the protocol does not define");
                    let reason = reason.trim();
                    let reason = if reason.is_empty() {
                        String::new()
                    } else {
                        format!(", reason \"{reason}\"")
                    };
                    (code.parse::<u16>().ok(), format!("code {code}, {meaning}{reason}"))
                }
                None => (None, "with no status code".to_string()),
            };
            let normal = matches!(code, Some(1000 | 1001) | None);
            let end = if normal { " A normal end, not a failure." } else { "" };
            if reply {
                format!("{by} answered {other}'s close frame with its own ({why}): the closing handshake is complete, and the TCP connection ends.{end}")
            } else {
                format!("{by} is ending the WebSocket: a close frame ({why}){mask}. {} is to answer with a close frame of its own; then the TCP connection ends.{end}", capitalise(other))
            }
        }
        "continuation" => format!(
            "A continuation frame of {bytes} was {}: the next part of a message split across frames{mask}. {}",
            if sent { "sent" } else { "received" },
            if fin { "It is the last part (FIN set)." } else { "More parts follow." }
        ),
        _ => format!(
            "A {opcode} frame of {bytes} was {}: a few bytes of header, then the payload{mask}.{} Either side can send one at any time on the open connection.",
            if sent { "sent" } else { "received" },
            if fin { "" } else { " The message goes on in the next frame (FIN not set)." }
        ),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// How a chat keeps up, in words (`via` of the chat events).
fn via_name(via: &str) -> &str {
    match via {
        "poll" => "long polling",
        "ws" => "WebSocket",
        "refresh" => "refreshing (asking again now and then)",
        "sse" => "Server-Sent Events (one stream from the server, a POST for each message sent)",
        other => other,
    }
}

/// What a long poll's answer says: how long the server held it, why it answered, and what
/// the client does next.
fn explain_poll_answer(poll: &PollAnswer) -> String {
    let took = duration(poll.answered_ms);
    let allowed = duration(poll.wait_ms);
    let brought = plural(poll.messages, "message");
    let held = if poll.wait_ms == 0.0 {
        match poll.messages {
            0 => format!("Joining (wait=0), the server answered at once ({took}): nothing said yet, an empty list []."),
            _ => format!("Joining (wait=0), the server answered at once ({took}) with what was said before: {brought}."),
        }
    } else {
        match poll.messages {
            0 if poll.answered_ms >= poll.wait_ms * 0.9 => format!("The server held the poll {took}, the {allowed} the client allowed, and nothing new came: so it answered with an empty list [] before the request could run out."),
            // chat.rs backs off from this (a Retry follows).
            0 if poll.answered_ms < poll.wait_ms / 2.0 => format!("The server answered after only {took}, with nothing (an empty list []), though the client let it hold the poll up to {allowed}."),
            0 => format!("The server held the poll {took} and answered with nothing new (an empty list []), before the {allowed} the client allowed were over."),
            n if poll.answered_ms < 100.0 => format!(
                "The server answered the poll at once ({took}): {brought} newer than the last one seen {} already there.",
                if n == 1 { "was" } else { "were" }
            ),
            1 => format!("The server held the poll {took}, until a message arrived, and answered with it at once."),
            _ => format!("The server held the poll {took}, until news arrived, and answered with {brought}."),
        }
    };
    let backs_off =
        poll.messages == 0 && poll.wait_ms >= 1000.0 && poll.answered_ms < poll.wait_ms / 2.0;
    let next = if poll.leaving {
        "The visit is over, so the client leaves instead of asking again."
    } else if backs_off {
        "The client will pause before it asks again."
    } else {
        "The client asks again at once."
    };
    format!("{held} {next} ")
}

fn step_name(step: Step) -> &'static str {
    match step {
        Step::Form => "form submission",
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

/// The noun, with its article, for a kind of subresource (`AssetKind::name`, or `base`).
fn asset_noun(kind: &str) -> String {
    match kind {
        "stylesheet" => "a stylesheet".into(),
        "script" => "a script".into(),
        "icon" => "an icon".into(),
        "preload" => "a file to fetch early (preload)".into(),
        "image" => "an image".into(),
        "frame" => "another page shown inside it (a frame)".into(),
        "media" => "a media file (audio or video)".into(),
        "object" => "an embedded object".into(),
        "font" => "a font".into(),
        "base" => "a base URL".into(),
        other => format!("a resource ({other})"),
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
    let path = match &c.path {
        Some(p) => format!("for paths under {p}"),
        None => "for paths under this page's directory".to_string(),
    };
    format!(
        "The server asked the browser to remember {name} (Set-Cookie). The browser {} in its jar and will send it back {scope}, {path}, {life}.{extra}",
        if c.outcome == "replaced" { "replaced the old value" } else { "keeps it" }
    )
}

/// An asset request queued, and why at that priority.
fn explain_queued(kind: &str, url: &str, priority: &str, by: &str) -> String {
    let why = match (kind, priority) {
        ("stylesheet", "highest") => "the page cannot be shown before its stylesheets are in (they say what is hidden and how it looks), so they go first",
        ("stylesheet", _) => "a stylesheet for another medium (print) cannot change this screen, so it goes last",
        ("frame", _) => "a frame's document is part of the page's text, so it goes first",
        ("script", _) => "scripts come before images, as a browser that runs them must (this one runs none)",
        ("image", "medium") => "an image among the first five is likely on the first screen, so it goes before the other images",
        ("preload", _) => "a <link rel=preload> takes the priority of what it says it is (as=)",
        _ => "it cannot change the page's text, so it waits behind what can",
    };
    format!(
        "The {by} asked for {} at {url}; it waits in the loader's queue at priority {priority}: when every connection to its host is busy, the highest priority goes next, and {why}.",
        asset_noun(kind)
    )
}

/// A load moment, as DevTools shows them.
fn explain_moment(moment: &str, ms: f64) -> String {
    let at = duration(ms);
    match moment {
        "first_render" => format!("First render at {at}: the render-blocking resources (stylesheets, frames' documents) were in, so the page's text was laid out and could be shown; images, scripts and media go on loading, and cannot change the text."),
        "dom_content_loaded" => format!("DOMContentLoaded at {at}: the whole document has arrived and is parsed into a DOM (DevTools draws a blue line here). Subresources may still be loading."),
        "load" => format!("load at {at}: every subresource has settled, loaded or failed (DevTools draws a red line here). This is when a browser's spinner stops."),
        other => format!("{other} at {at}."),
    }
}
