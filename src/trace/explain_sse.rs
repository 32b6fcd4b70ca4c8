//! Server-Sent Events for students: one true sentence per step of an event stream, from
//! the event's own values (kept apart from `explain.rs`, which is long enough).

use super::words::{duration, plural};
use super::EventKind;

/// What a step of an event stream was, and why it happened.
pub(super) fn explain_sse(kind: &EventKind) -> String {
    match kind {
        EventKind::SseEvent {
            event_type,
            data_bytes,
            id,
            id_set,
            lines,
            ..
        } => {
            let named = if event_type == "message" {
                "an event of the default type, message".to_string()
            } else {
                format!("an event named {event_type} (its event: line)")
            };
            let id = match (id, id_set) {
                (Some(id), true) => format!(" Its id: line ({id}) is what the client will send back as Last-Event-ID if the stream drops, so the server can go on from here."),
                (Some(id), false) => format!(" It set no id, so the last one ({id}) still stands."),
                (None, _) => String::new(),
            };
            format!(
                "The server pushed {named}, {} of data in {}; a blank line ended it, and only then was it handed over. No request asked for it: the response that opened the stream is still arriving.{id}",
                plural(*data_bytes, "byte"),
                plural(u64::from(*lines), "line")
            )
        }
        EventKind::SseComment { text } if text.is_empty() || text.contains("alive") => "A comment line (it starts with a colon): the page never sees it. Servers send one now and then so that no proxy or client takes a quiet stream for a dead one.".to_string(),
        EventKind::SseComment { .. } => "A comment line (it starts with a colon): part of the stream, but never handed to the page.".to_string(),
        EventKind::SseRetry { retry_ms, applied_ms } => {
            let bounded = if retry_ms == applied_ms {
                String::new()
            } else {
                format!(" (minibrowse keeps it between 0.5 s and 60 s, so it will wait {})", wait(*applied_ms))
            };
            format!(
                "The server set the reconnection time: if the stream drops, the client waits {} before it opens it again{bounded}.",
                wait(*retry_ms)
            )
        }
        EventKind::SseSkipped { reason, bytes } => format!(
            "Not handed over: {reason}. The client dropped {} instead of keeping them, so a server cannot fill its memory this way.",
            plural(*bytes, "byte")
        ),
        EventKind::SseReconnect {
            delay_ms,
            reason,
            last_event_id,
            ..
        } => {
            let resume = match last_event_id {
                Some(id) => format!(" with Last-Event-ID: {id}, so the server sends only what came after that event: nothing is lost and nothing comes twice"),
                None => " from the start (no event had an id yet)".to_string(),
            };
            format!(
                "{}: EventSource waits {} and opens the stream again{resume}.",
                capitalized(reason),
                wait(*delay_ms)
            )
        }
        _ => String::new(),
    }
}

/// The body of an event stream, when reading it ended.
pub(super) fn explain_stream_body(wire_bytes: u64, ms: f64) -> String {
    format!(
        "The event stream's body, as far as it went: {} over {}. An event stream has no end of its own: it ends when the server ends it or the client stops listening, and each event in it was handed over the moment its blank line came, not now.",
        plural(wire_bytes, "byte"),
        duration(ms)
    )
}

/// A wait in whole milliseconds, as a class reads it: ms under a second, then seconds.
fn wait(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        duration(ms as f64)
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
