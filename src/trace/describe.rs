//! Each event in words: a label (`DNS`, `REQUEST`…), a one-line summary and detail lines.
//! The `--trace` text, the TUI's trace pane and the request record all say a step this way.

use crate::text::escape_line;
use crate::trace::{EventKind, LayoutDuringParse, SentBody};

pub(crate) fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// An event's label and one-line summary (the first line of its text form).
pub fn headline(kind: &EventKind) -> (&'static str, String) {
    let (label, summary, _) = describe(kind);
    (label, summary)
}

/// A cookie's attributes as they would be written in `Set-Cookie`.
pub fn cookie_attributes(c: &crate::trace::CookieSet) -> String {
    let mut parts = Vec::new();
    match &c.domain {
        Some(d) => parts.push(format!("Domain={d}")),
        None => parts.push("no Domain (only this host)".to_string()),
    }
    parts.push(format!(
        "Path={}",
        c.path.as_deref().unwrap_or("(the request's directory)")
    ));
    match (&c.expires, c.max_age) {
        (_, Some(age)) => parts.push(format!("Max-Age={age}")),
        (Some(at), None) => parts.push(format!("Expires={at}")),
        (None, None) => parts.push("session cookie (no Expires)".to_string()),
    }
    if c.secure {
        parts.push("Secure".into());
    }
    if c.http_only {
        parts.push("HttpOnly".into());
    }
    if let Some(same_site) = &c.same_site {
        parts.push(format!("SameSite={same_site}"));
    }
    parts.join("; ")
}

fn head_lines(head: &str) -> Vec<String> {
    head.trim_end_matches(['\r', '\n'])
        .split("\r\n")
        .map(|l| format!("{} {}", "|", escape_line(l)))
        .collect()
}

/// A step as the trace prints it: its name, its one line, and the lines under it.
use super::words::Described;

/// A request body under its head, as it went (after the empty line), escaped; cut at the
/// trace's preview with the whole size said.
fn body_lines(body: &SentBody) -> Vec<String> {
    let mut lines = vec!["|".to_string()];
    lines.extend(
        body.preview
            .split('\n')
            .map(|l| format!("| {}", escape_line(l.trim_end_matches('\r')))),
    );
    if body.bytes > body.preview.len() as u64 {
        lines.push(format!("| … ({} bytes in all)", body.bytes));
    }
    lines.push(format!(
        "body: {} byte{} of {}",
        body.bytes,
        plural(body.bytes),
        body.content_type
    ));
    lines
}

pub fn describe(kind: &EventKind) -> Described {
    match kind {
        EventKind::Start { input, url, .. } if input == url => ("START", url.clone(), vec![]),
        EventKind::Start { input, url, .. } => ("START", format!("{input} → {url}"), vec![]),
        EventKind::LocalFile { path, bytes, ms } => ("FILE", format!("{path}: {bytes} bytes read in {ms:.3} ms"), vec![]),
        EventKind::Dns { host, record_type, server, records, cached, ms, outcome } => {
            let source = if *cached { "from the cache".to_string() } else { format!("asked {server}") };
            let details = if records.is_empty() {
                vec![format!("({})", outcome.as_deref().unwrap_or("no records of this type"))]
            } else {
                records
                    .iter()
                    .map(|r| format!("{:<32} {:>6}  {:<5} {}", r.name, r.ttl, r.record_type, r.data))
                    .collect()
            };
            ("DNS", format!("{host} {record_type}? {source}, {ms:.3} ms"), details)
        }
        EventKind::Connect { .. } => describe_connect(kind),
        EventKind::Proxy { .. } => describe_proxy(kind),
        EventKind::Reuse { conn, requests_before } => (
            "TCP",
            format!(
                "reusing connection #{conn} (keep-alive; {requests_before} earlier request{})",
                plural(*requests_before as u64)
            ),
            vec![],
        ),
        EventKind::Tls { .. } => describe_tls(kind),
        EventKind::Request { method, url, purpose, head, body, .. } => {
            let mut lines = head_lines(head);
            if let Some(body) = body {
                lines.extend(body_lines(body));
            }
            ("REQUEST", format!("{method} {url} ({purpose})"), lines)
        }
        EventKind::Response { status, reason, head, ttfb_ms, .. } => {
            ("RESPONSE", format!("{status} {reason}, first byte after {ttfb_ms:.3} ms"), head_lines(head))
        }
        EventKind::Body { wire_bytes, decoded_bytes, content_encoding, content_type, ms } => (
            "BODY",
            format!(
                "{wire_bytes} bytes on the wire{}, {decoded_bytes} decoded, {} in {ms:.3} ms",
                content_encoding.as_ref().map(|e| format!(" ({e})")).unwrap_or_default(),
                content_type.as_deref().unwrap_or("no Content-Type")
            ),
            vec![],
        ),
        EventKind::Redirect { status, location, next_url, hop, method, next_method } => {
            let mut details = vec![format!("Location: {location}")];
            if let (Some(method), Some(next)) = (method, next_method) {
                if method != "GET" || next != "GET" {
                    details.push(format!("method: {method} → {next}"));
                }
            }
            ("REDIRECT", format!("hop {hop}: {status} → {next_url}"), details)
        }
        EventKind::Parse { .. } => describe_parse(kind),
        EventKind::AssetFound { kind, url, element, node } => {
            ("ASSET", format!("{kind} {url}"), vec![format!("found in {element} (node {node})")])
        }
        EventKind::AssetRefused { kind, url, reason, element } => (
            "REFUSED",
            format!("{kind} {url}"),
            vec![format!("{element}: {reason}")],
        ),
        EventKind::AssetQueued { .. } | EventKind::Preload { .. } | EventKind::LoadMoment { .. } => {
            describe_load(kind)
        }
        EventKind::Layout { .. } => describe_layout(kind),
        EventKind::H2Session { .. }
        | EventKind::H2Stream { .. }
        | EventKind::H2Frame { .. }
        | EventKind::H2Closed { .. } => {
            super::explain_h2::describe_h2(kind)
        }
        EventKind::WsHandshake { key, accept, expected, ok } => (
            "UPGRADE",
            if *ok { "Sec-WebSocket-Accept matches the key".to_string() } else { "Sec-WebSocket-Accept does NOT match the key".to_string() },
            vec![
                format!("Sec-WebSocket-Key:    {key}"),
                format!("Sec-WebSocket-Accept: {}", accept.as_deref().unwrap_or("(missing)")),
                format!("expected:             {expected}"),
            ],
        ),
        EventKind::WsFrame { direction, opcode, fin, length, masked, preview, .. } => (
            "FRAME",
            format!(
                "{} {opcode} {length} bytes{}{}: {preview}",
                if direction == "sent" { "→" } else { "←" },
                if *masked { ", masked" } else { "" },
                if *fin { "" } else { ", more to come" }
            ),
            vec![],
        ),
        EventKind::Chat { via, direction, name, text, message_seq } => (
            "CHAT",
            format!(
                "{} {name}: {text}{} ({via})",
                if direction == "sent" { "→" } else { "←" },
                message_seq.map(|s| format!(" #{s}")).unwrap_or_default()
            ),
            vec![],
        ),
        EventKind::SseEvent { .. }
        | EventKind::SseComment { .. }
        | EventKind::SseRetry { .. }
        | EventKind::SseSkipped { .. }
        | EventKind::SseReconnect { .. } => describe_sse(kind),
        EventKind::Retry { attempt, delay_ms, error } => {
            ("RETRY", format!("attempt {attempt} in {delay_ms} ms after: {error}"), vec![])
        }
        EventKind::ChatStats { via, messages, requests, header_bytes, poll } => (
            "COST",
            format!(
                "{via}: {messages} message{}, {requests} request{}, {header_bytes} header bytes{}",
                plural(*messages),
                plural(*requests),
                poll.as_ref()
                    .map(|p| format!(" (this poll answered after {:.1} s with {} message{})", p.answered_ms / 1000.0, p.messages, plural(p.messages)))
                    .unwrap_or_default()
            ),
            vec![],
        ),
        EventKind::CookieSent { names, header } => (
            "COOKIE",
            format!("sending {} cookie{} from the jar: {}", names.len(), plural(names.len() as u64), names.join(", ")),
            vec![format!("Cookie: {header}")],
        ),
        EventKind::FormSubmit { .. } => describe_form(kind),
        EventKind::SetCookie(c) => (
            "COOKIE",
            format!("Set-Cookie {}={} → {}", c.name, c.value, c.outcome),
            vec![cookie_attributes(c)],
        ),
        EventKind::Failed { step, message, .. } => ("FAILED", format!("{step}: {message}"), vec![]),
        EventKind::Cache(step) => super::cache_words::describe(step),
        EventKind::Summary { requests, from_cache, failed, wire_bytes, decoded_bytes, ms, errors } => (
            "SUMMARY",
            format!(
                "{requests} request{}{}, {failed} failed, {wire_bytes} bytes on the wire, {decoded_bytes} decoded, {ms:.1} ms in all",
                plural(u64::from(*requests)),
                match from_cache {
                    0 => String::new(),
                    n => format!(" (+{n} from the cache)"),
                }
            ),
            errors.iter().map(|e| format!("error: {e}")).collect(),
        ),
    }
}

fn describe_proxy(kind: &EventKind) -> Described {
    let EventKind::Proxy {
        conn,
        proxy,
        source,
        mode,
        target,
        dns_by_proxy,
        sent,
        received,
        ms,
    } = kind
    else {
        return ("", String::new(), vec![]);
    };
    let mut details = vec![format!("proxy from {source}")];
    if let Some(sent) = sent {
        details.extend(
            sent.trim_end()
                .split('\n')
                .map(|l| format!("> {}", l.trim_end_matches('\r'))),
        );
    }
    if let Some(received) = received {
        details.extend(
            received
                .trim_end()
                .split('\n')
                .map(|l| format!("< {}", l.trim_end_matches('\r'))),
        );
    }
    if let Some(name) = dns_by_proxy {
        details.push(format!(
            "DNS: {name} is looked up by the proxy, not by this browser"
        ));
    }
    let how = match mode.as_str() {
        "forward" => format!("requests for {target} go to the proxy {proxy} (absolute form)"),
        "connect" => format!("tunnel to {target} through {proxy} (CONNECT) in {ms:.3} ms"),
        _ => format!("SOCKS5 tunnel to {target} through {proxy} in {ms:.3} ms"),
    };
    ("PROXY", format!("connection #{conn}: {how}"), details)
}

fn describe_tls(kind: &EventKind) -> Described {
    let EventKind::Tls {
        conn,
        version,
        cipher,
        alpn,
        alpn_offered,
        subject,
        issuer,
        not_after,
        ms,
        sni,
        chain,
        verified,
        verification,
    } = kind
    else {
        return ("", String::new(), vec![]);
    };
    let mut details = vec![
        format!(
            "SNI: {}",
            sni.as_deref().unwrap_or("(none: connecting to an address)")
        ),
        match alpn_offered.is_empty() {
            true => format!("ALPN: {}", alpn.as_deref().unwrap_or("(none)")),
            false => format!(
                "ALPN: offered {}; the server chose {}",
                alpn_offered.join(", "),
                alpn.as_deref().unwrap_or("none (so HTTP/1.1)")
            ),
        },
    ];
    if chain.is_empty() {
        details.push(format!("certificate: {subject}"));
        details.push(format!("issuer: {issuer}"));
        details.push(format!("valid until: {not_after}"));
    }
    for (i, cert) in chain.iter().enumerate() {
        details.push(format!("certificate {}: {}", i + 1, cert.subject));
        details.push(format!("  issued by: {}", cert.issuer));
        details.push(format!(
            "  valid: {} to {}",
            cert.not_before, cert.not_after
        ));
        if !cert.sans.is_empty() {
            details.push(format!("  names: {}", cert.sans.join(", ")));
        }
    }
    if !verification.is_empty() {
        details.push(format!(
            "{}: {verification}",
            if *verified { "check" } else { "!!! CHECK" }
        ));
    }
    (
        "TLS",
        format!(
            "connection #{conn}: {version} {cipher} in {ms:.3} ms{}",
            if *verified || verification.is_empty() {
                ""
            } else {
                " — NOT VERIFIED (--insecure)"
            }
        ),
        details,
    )
}

fn describe_parse(kind: &EventKind) -> Described {
    let EventKind::Parse {
        bytes,
        encoding,
        encoding_source,
        nodes,
        elements,
        errors,
        error_samples,
        max_depth,
        flattened,
        stopped,
        two_threads,
        streamed,
        ms,
    } = kind
    else {
        return ("", String::new(), vec![]);
    };
    let mut details = vec![format!(
        "encoding {encoding} ({encoding_source}); nested {max_depth} deep"
    )];
    if *flattened > 0 {
        details.push(format!("{flattened} elements kept at depth {} (nested deeper in the HTML, as Chromium caps its tree)", crate::html::FLATTEN_AT));
    }
    if *two_threads {
        details.push("tokenized on a thread of its own, the tree built on this one".to_string());
    }
    if *streamed {
        details.push("parsed as the body arrived (the time includes the download's)".to_string());
    }
    if let Some(reason) = stopped {
        details.push(format!(
            "PARSE STOPPED EARLY: {reason}; the page shows what was parsed before"
        ));
    }
    details.extend(error_samples.iter().map(|e| format!("parse error: {e}")));
    (
            "PARSE",
            format!("{bytes} bytes → {nodes} nodes ({elements} elements), {errors} parse error{}, {ms:.3} ms", plural(*errors)),
            details,
        )
}

fn describe_layout(kind: &EventKind) -> Described {
    let EventKind::Layout {
        width,
        lines,
        links,
        ms,
        during_parse,
    } = kind
    else {
        return ("", String::new(), vec![]);
    };
    let mut details = Vec::new();
    match during_parse {
        Some(LayoutDuringParse {
            ms: during,
            restarted: None,
        }) => {
            details.push(format!("laid out while the parse went on ({during:.3} ms of work then); {ms:.3} ms after it"));
        }
        Some(LayoutDuringParse {
            ms: during,
            restarted: Some(why),
        }) => {
            details.push(format!("LAYOUT STARTED AGAIN after the parse: {why} ({during:.3} ms of work during the parse thrown away)"));
        }
        None => {}
    }
    (
        "LAYOUT",
        format!(
            "{lines} line{}, {links} link{} at {width} columns, {ms:.3} ms",
            plural(*lines),
            plural(*links)
        ),
        details,
    )
}

/// The steps of an event stream (Server-Sent Events).
fn describe_sse(kind: &EventKind) -> Described {
    match kind {
        EventKind::SseEvent {
            event_type,
            data,
            data_bytes,
            id,
            id_set,
            ..
        } => (
            "SSE",
            format!(
                "← {event_type}{}: {} ({data_bytes} byte{})",
                match (id, id_set) {
                    (Some(id), true) => format!(" id {id}"),
                    (Some(id), false) => format!(" (last id {id})"),
                    (None, _) => String::new(),
                },
                data.replace('\n', "⏎"),
                plural(*data_bytes)
            ),
            vec![],
        ),
        EventKind::SseComment { text } => ("SSE", format!("← comment: {text}"), vec![]),
        EventKind::SseRetry {
            retry_ms,
            applied_ms,
        } if retry_ms == applied_ms => (
            "SSE",
            format!("← retry: reconnect after {retry_ms} ms"),
            vec![],
        ),
        EventKind::SseRetry {
            retry_ms,
            applied_ms,
        } => (
            "SSE",
            format!("← retry: {retry_ms} ms asked, {applied_ms} ms used"),
            vec![],
        ),
        EventKind::SseSkipped { reason, bytes } => (
            "SSE",
            format!("skipped ({bytes} byte{}): {reason}", plural(*bytes)),
            vec![],
        ),
        EventKind::SseReconnect {
            attempt,
            delay_ms,
            reason,
            last_event_id,
        } => (
            "RECONNECT",
            format!(
                "in {delay_ms} ms{} after: {reason}{}",
                if *attempt > 1 {
                    format!(" (attempt {attempt})")
                } else {
                    String::new()
                },
                last_event_id
                    .as_ref()
                    .map(|id| format!(" · Last-Event-ID: {id}"))
                    .unwrap_or_default()
            ),
            vec![],
        ),
        _ => ("SSE", String::new(), vec![]),
    }
}

/// A new TCP connection, with Happy Eyeballs' attempts when the name had several addresses.
fn describe_connect(kind: &EventKind) -> Described {
    let EventKind::Connect {
        conn,
        local,
        remote,
        ms,
        attempts,
    } = kind
    else {
        return ("TCP", String::new(), vec![]);
    };
    (
        "TCP",
        format!(
            "connection #{conn} {local} → {remote} in {ms:.3} ms{}",
            match attempts.len() {
                0 => String::new(),
                n => format!(" (Happy Eyeballs: {n} attempt{})", plural(n as u64)),
            }
        ),
        attempts
            .iter()
            .map(|a| {
                format!(
                    "at +{:.1} ms {}: {} ({:.3} ms)",
                    a.after_ms, a.addr, a.outcome, a.ms
                )
            })
            .collect(),
    )
}

/// A form's submission: what it decided, then the fields it sends.
fn describe_form(kind: &EventKind) -> Described {
    let EventKind::FormSubmit {
        form,
        submitter,
        method,
        action,
        enctype,
        encoding,
        fields,
        decided_by,
    } = kind
    else {
        return ("FORM", String::new(), vec![]);
    };
    (
        "FORM",
        format!(
            "{form} submitted{}: {method} {action}, {} field{}",
            submitter
                .as_ref()
                .map(|s| format!(" by {s}"))
                .unwrap_or_else(|| " by Enter".into()),
            fields.len(),
            plural(fields.len() as u64)
        ),
        std::iter::once(format!(
            "{} in {encoding}{}",
            if method == "GET" {
                "as the URL's query"
            } else {
                enctype.as_str()
            },
            if decided_by.is_empty() {
                String::new()
            } else {
                format!(" (from the attributes {})", decided_by.join(", "))
            }
        ))
        .chain(
            fields
                .iter()
                .map(|(name, value)| format!("{} = {}", escape_line(name), escape_line(value))),
        )
        .collect(),
    )
}

/// A load moment's name as DevTools writes it.
pub(crate) fn moment_name(moment: &str) -> &str {
    match moment {
        "first_render" => "first render",
        "dom_content_loaded" => "DOMContentLoaded",
        "load" => "load",
        other => other,
    }
}

/// The loader's queue and the load's moments.
fn describe_load(kind: &EventKind) -> (&'static str, String, Vec<String>) {
    match kind {
        EventKind::AssetQueued {
            kind,
            url,
            priority,
            by,
        } => (
            "QUEUED",
            format!("{kind} {url}"),
            vec![format!("priority {priority}, asked by the {by}")],
        ),
        EventKind::Preload {
            kind,
            url,
            early_ms,
        } => (
            "PRELOAD",
            format!("{kind} {url}"),
            vec![match early_ms {
                Some(ms) => {
                    format!("the preload scanner asked {ms:.1} ms before the DOM walk found it")
                }
                None => "asked by the preload scanner, never found by the DOM walk".to_string(),
            }],
        ),
        EventKind::LoadMoment { moment, ms } => (
            "MOMENT",
            format!("{} at {ms:.1} ms", moment_name(moment)),
            vec![],
        ),
        _ => ("", String::new(), vec![]),
    }
}
