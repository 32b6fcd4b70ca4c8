//! HTTP/2's steps, in a line for the trace and a sentence for a student (RFC 9113).

use super::words::{plural, Described};
use super::EventKind;

/// The trace line of an HTTP/2 event.
pub fn describe_h2(kind: &EventKind) -> Described {
    match kind {
        EventKind::H2Session { conn, origin, why } => (
            "HTTP/2",
            format!("connection #{conn} speaks HTTP/2 with {origin}"),
            vec![why.clone()],
        ),
        EventKind::H2Stream {
            conn,
            stream,
            requests_before,
            open_streams,
        } => (
            "HTTP/2",
            format!(
                "stream {stream} on connection #{conn} ({} before it, {} open beside it)",
                plural(u64::from(*requests_before), "stream"),
                open_streams
            ),
            vec![],
        ),
        EventKind::H2Frame {
            direction,
            frame,
            stream,
            flags,
            length,
            detail,
            frames,
            ..
        } => {
            let arrow = if direction == "sent" { "→" } else { "←" };
            let times = if *frames > 1 {
                format!(" ×{frames}")
            } else {
                String::new()
            };
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!(" [{}]", flags.join(" "))
            };
            (
                "H2",
                format!("{arrow} {frame}{times} stream {stream}{flags}, {length} bytes: {detail}"),
                vec![],
            )
        }
        EventKind::H2Closed {
            conn,
            requests,
            reason,
        } => (
            "HTTP/2",
            format!(
                "connection #{conn} closed after {}: {reason}",
                plural(u64::from(*requests), "stream")
            ),
            vec![],
        ),
        _ => ("", String::new(), vec![]),
    }
}

/// What an HTTP/2 step was and why it happened.
pub fn explain_h2(kind: &EventKind) -> String {
    match kind {
        EventKind::H2Session { origin, .. } => format!(
            "In the TLS handshake the browser offered two protocols (ALPN: h2, then http/1.1) and {origin} chose h2. So this one connection carries every request to {origin} at once, each as a numbered stream of binary frames: no waiting for a free connection, no six-connection limit, headers compressed with HPACK."
        ),
        EventKind::H2Stream { conn, stream, requests_before: 0, .. } => format!(
            "The request is stream {stream}, the first of connection #{conn}, which it has just opened and which speaks HTTP/2: every later request to this site goes on it too, as a stream of its own."
        ),
        EventKind::H2Stream { conn, stream, open_streams: 0, .. } => format!(
            "The request goes to connection #{conn}, already open with HTTP/2, as stream {stream}: no new DNS lookup, TCP or TLS handshake, and no waiting for a free connection."
        ),
        EventKind::H2Stream { conn, stream, open_streams, .. } => format!(
            "The request goes to connection #{conn} as stream {stream} while {} of this browser's are still open on it: HTTP/2 multiplexes, so they all travel at once on one connection, their frames interleaved, where HTTP/1.1 would need a connection each (six at most) or wait its turn.",
            plural(u64::from(*open_streams), "other stream")
        ),
        EventKind::H2Frame { direction, frame, stream, detail, frames, length, .. } => {
            explain_frame(direction == "sent", frame, *stream, detail, (*frames, *length))
        }
        EventKind::H2Closed { requests, reason, .. } => format!(
            "The HTTP/2 connection ended after carrying {}: {reason}. The next request to this site opens a new connection.",
            plural(u64::from(*requests), "stream")
        ),
        _ => String::new(),
    }
}

/// One frame, in a student's words.
fn explain_frame(
    sent: bool,
    frame: &str,
    stream: u32,
    detail: &str,
    (frames, length): (u32, u64),
) -> String {
    let (who, whom) = if sent {
        ("The browser", "the browser")
    } else {
        ("The server", "the server")
    };
    match frame {
        "preface" => "The browser opened HTTP/2 with its connection preface, the fixed string PRI * HTTP/2.0 … SM: a server that does not speak HTTP/2 fails on it at once instead of misreading frames.".into(),
        "SETTINGS" if detail.starts_with("the peer") => format!("{who} acknowledged the other side's SETTINGS: from now on they apply."),
        "SETTINGS" => format!("{who} said its limits for this connection (SETTINGS): {detail}. Each side must respect the other's, such as how many streams may be open at once and how much data may be sent before the receiver asks for more."),
        "HEADERS" if sent => format!("The browser opened stream {stream} with a HEADERS frame: the request's method, path and headers, coded with HPACK. Streams from the browser have odd numbers, counting up."),
        "HEADERS" => format!("The server's answer on stream {stream} began with a HEADERS frame: the status and response headers, HPACK-coded."),
        "DATA" if frames > 1 => format!("{who} sent {} more DATA frames on stream {stream}, {} of payload: a body travels in frames of at most 16 KiB by default, interleaved with other streams' frames on the same connection.", frames, plural(length, "byte")),
        "DATA" => format!("A DATA frame on stream {stream}: {detail}. Frames of different streams take turns on the connection, so one large body does not hold up the others."),
        "WINDOW_UPDATE" if frames > 1 => format!("{who} sent {frames} more WINDOW_UPDATE frames on stream {stream}, {} in all: flow control, granted as the body is read.", plural(length, "byte")),
        "WINDOW_UPDATE" if stream == 0 => format!("Flow control for the whole connection: {whom} lets the other side send {} beyond what it has already allowed (WINDOW_UPDATE), because it has read what came so far. A receiver that stops reading stops granting, and the sender must wait.", detail.trim_start_matches('+')),
        "WINDOW_UPDATE" => format!("Flow control for stream {stream}: {} more may be sent (WINDOW_UPDATE), so a fast server cannot bury a slow reader in data.", detail.trim_start_matches('+')),
        "RST_STREAM" => format!("{who} cancelled stream {stream} alone (RST_STREAM, {detail}); the connection and its other streams go on."),
        "GOAWAY" => format!("{who} is closing the connection (GOAWAY: {detail}): streams up to the last one named are finished; any later ones were not processed and may be sent again on a new connection."),
        "PING" => format!("{who} sent a PING ({detail}): the other side answers with the same bytes, which measures the round trip and shows the connection is alive."),
        "CONTINUATION" => format!("More of the header block of stream {stream}, which did not fit in one frame."),
        _ => format!("{who} sent a {frame} frame on stream {stream}: {detail}."),
    }
}
