//! The chat's four ways of keeping up, side by side: what each cost in this session, as
//! measured (the chat screen's table; Ctrl-T moves the chat to the next technique).
//!
//! Requests and header bytes come from the chat client's own count (`chat_stats` events);
//! "waited" is how long the others' messages had waited at the server when it handed them
//! to this client (the demo server's `age_ms`, one clock, so no two machines' clocks are
//! compared): with refreshing, until the next ask; with long polling, Server-Sent Events or
//! a WebSocket, hardly at all.

use std::time::Duration;

use crate::chat::Via;

/// The techniques in the order a lesson shows them, with their names in the table.
pub const TECHNIQUES: [(&str, &str); 4] = [
    ("refresh", "refreshing"),
    ("poll", "long polling"),
    ("sse", "SSE"),
    ("ws", "WebSocket"),
];

/// What one technique cost, in its latest chat of this session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TechniqueCost {
    pub messages: u64,
    pub requests: u64,
    pub header_bytes: u64,
    /// Messages of the others that came while this chat ran, and how long they had waited.
    pub seen: u32,
    pub seen_total: Duration,
}

impl TechniqueCost {
    pub fn bytes_per_message(&self) -> Option<u64> {
        (self.messages > 0).then(|| self.header_bytes / self.messages)
    }

    /// The mean time the others' messages waited before this client had them.
    pub fn send_to_seen(&self) -> Option<Duration> {
        (self.seen > 0).then(|| self.seen_total / self.seen)
    }
}

/// The four rows.
#[derive(Clone, Debug, Default)]
pub struct ChatCosts {
    rows: [Option<TechniqueCost>; 4],
}

fn index(via: &str) -> Option<usize> {
    TECHNIQUES.iter().position(|(name, _)| *name == via)
}

impl ChatCosts {
    /// A chat by `via` begins: its row starts again from nothing.
    pub fn begin(&mut self, via: &str) {
        if let Some(i) = index(via) {
            self.rows[i] = Some(TechniqueCost::default());
        }
    }

    /// The chat client's count so far.
    pub fn counted(&mut self, via: &str, messages: u64, requests: u64, header_bytes: u64) {
        if let Some(row) = index(via).and_then(|i| self.rows[i].as_mut()) {
            row.messages = messages;
            row.requests = requests;
            row.header_bytes = header_bytes;
        }
    }

    /// Another person's message came by `via`, after waiting `age` at the server, in a
    /// chat that has run for `running`. An age longer than that is the history shown to a
    /// newcomer, said before this chat began: not a wait of this technique.
    pub fn waited(&mut self, via: &str, age: Duration, running: Duration) {
        if age > running {
            return;
        }
        if let Some(row) = index(via).and_then(|i| self.rows[i].as_mut()) {
            row.seen += 1;
            row.seen_total += age;
        }
    }

    /// Each technique's name and its cost, None when it was not tried in this session.
    pub fn rows(
        &self,
    ) -> impl Iterator<Item = (&'static str, &'static str, Option<&TechniqueCost>)> {
        TECHNIQUES
            .iter()
            .zip(&self.rows)
            .map(|((via, name), row)| (*via, *name, row.as_ref()))
    }
}

/// The technique after `via` in the lesson's order (refresh → long polling → Server-Sent
/// Events → WebSocket → refresh: each keeps up better, the last two by a connection that
/// stays open, one way and then both), refreshing every `every` when it is refresh's turn.
pub fn next_via(via: Via, every: Duration) -> Via {
    match via {
        Via::Refresh { .. } => Via::Poll,
        Via::Poll => Via::Sse,
        Via::Sse => Via::WebSocket,
        Via::WebSocket => Via::Refresh { every },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_others_waits_are_counted_for_their_technique_and_history_is_not() {
        let mut costs = ChatCosts::default();
        costs.begin("refresh");
        let running = Duration::from_secs(20);
        costs.waited("refresh", Duration::from_millis(4000), running);
        costs.waited("refresh", Duration::from_millis(2000), running);
        // Said ten minutes ago, shown on joining: not a wait of refreshing.
        costs.waited("refresh", Duration::from_secs(600), running);
        costs.counted("refresh", 3, 6, 1800);
        let rows: Vec<_> = costs.rows().collect();
        let refresh = rows[0].2.expect("refresh was tried");
        assert_eq!(refresh.seen, 2);
        assert_eq!(refresh.send_to_seen(), Some(Duration::from_millis(3000)));
        assert_eq!(refresh.bytes_per_message(), Some(600));
        assert!(rows[1].2.is_none(), "long polling was not tried");
        // Starting the technique again starts its row again.
        costs.begin("refresh");
        assert_eq!(
            costs.rows().next().and_then(|r| r.2),
            Some(&TechniqueCost::default())
        );
    }

    #[test]
    fn the_client_lets_a_person_type_what_the_server_takes() {
        assert_eq!(crate::chat::MAX_TEXT, crate::demo::chat::MAX_TEXT);
    }

    #[test]
    fn the_techniques_go_round_in_the_lessons_order() {
        let every = Duration::from_secs(5);
        let mut via = Via::Refresh { every };
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push(via.name());
            via = next_via(via, every);
        }
        assert_eq!(seen, ["refresh", "poll", "sse", "ws", "refresh"]);
    }
}
