//! The event-stream format, read as the HTML standard says (§9.2.6 "Interpreting an event
//! stream"), fed the bytes as they arrive, in pieces cut anywhere.
//!
//! Lines end in CRLF, LF or CR (a CR at the end of one piece and an LF at the start of the
//! next are one line end); a UTF-8 byte order mark at the very start is skipped; a line
//! that starts with `:` is a comment; `field: value` loses one space after the colon; a
//! blank line dispatches the event being built. `data` lines are joined with LF, `event`
//! names the type (`message` when none), `id` sets the last event ID unless it holds NUL,
//! `retry` sets the reconnection time when it is ASCII digits only. Other fields are
//! ignored, as is an event with no data, and one the stream ends in the middle of.
//!
//! Unlike the standard, which sets no bound, every buffer here has one: a line longer than
//! [`MAX_LINE`] is dropped as it arrives, an event with more than [`MAX_DATA`] bytes of data
//! is dropped (its bytes are not kept), and each is reported ([`Parsed::Skipped`]), so a
//! server that never ends a line or never sends a blank line cannot grow the memory.

/// Longest line kept, in bytes (a `data:` line carrying the largest event fits).
pub const MAX_LINE: usize = MAX_DATA + 1024;
/// Most data one event may carry, in bytes (its lines joined).
pub const MAX_DATA: usize = 64 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event, as a `MessageEvent` would carry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseMessage {
    /// `message` unless the server named it with `event:`.
    pub event: String,
    /// The `data` lines joined with LF (the last LF removed).
    pub data: String,
    /// The last event ID (set by this event's `id:` or an earlier one; empty: none).
    pub last_event_id: String,
    /// Whether this event's own lines set the ID (else it was kept from an earlier one).
    pub id_set: bool,
    /// Lines the event took, the blank one that ended it included.
    pub lines: u32,
}

/// What a piece of the stream brought, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    Event(SseMessage),
    /// A comment line (`: keep-alive`), without its colon.
    Comment(String),
    /// A `retry:` line: the server's reconnection time, in milliseconds.
    Retry(u64),
    /// Something over a limit, or left unfinished, that was not dispatched: why, and how
    /// many bytes of it were dropped.
    Skipped {
        why: String,
        bytes: u64,
    },
}

/// The interpretation's state between two pieces of the stream.
#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    /// Bytes of the current line dropped because it passed [`MAX_LINE`] (0: kept whole).
    line_dropped: u64,
    /// The last piece ended in CR: an LF that starts the next one ends nothing.
    after_cr: bool,
    /// A line has ended already (the BOM is looked for in the first one only).
    past_first_line: bool,
    data: String,
    event_type: String,
    id_buffer: String,
    id_set: bool,
    lines: u32,
    /// Why the event being built will not be dispatched, and the bytes it has dropped.
    broken: Option<(String, u64)>,
    /// The last event ID string of the stream (kept across events, as the standard says).
    pub last_event_id: String,
}

impl Parser {
    /// A parser that resumes after `last_event_id` (a reconnection's, or empty).
    pub fn new(last_event_id: &str) -> Parser {
        Parser {
            id_buffer: last_event_id.to_string(),
            last_event_id: last_event_id.to_string(),
            ..Parser::default()
        }
    }

    /// Reads `bytes` (any piece of the stream) and adds what they completed to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<Parsed>) {
        while let Some(&first) = bytes.first() {
            if std::mem::take(&mut self.after_cr) && first == b'\n' {
                bytes = &bytes[1..];
                continue;
            }
            match bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(end) => {
                    self.push(&bytes[..end]);
                    self.after_cr = bytes[end] == b'\r';
                    self.end_line(out);
                    bytes = &bytes[end + 1..];
                }
                None => {
                    self.push(bytes);
                    break;
                }
            }
        }
    }

    /// The stream ended: an event not ended by a blank line is not dispatched (said so if
    /// it had anything in it).
    pub fn finish(&mut self, out: &mut Vec<Parsed>) {
        let pending = self.line.len() as u64 + self.line_dropped + self.data.len() as u64;
        let unfinished = "reading ended in the middle of an event (no blank line after it yet): not dispatched, as the standard says";
        if self.line_dropped > 0 && self.broken.is_none() {
            self.broken = Some((format!("a line of more than {MAX_LINE} bytes"), 0));
        }
        match self.broken.take() {
            Some((why, bytes)) => out.push(Parsed::Skipped {
                why: format!("{why}, and {unfinished}"),
                bytes: bytes + pending,
            }),
            None if pending > 0 => out.push(Parsed::Skipped {
                why: unfinished.into(),
                bytes: pending,
            }),
            None => {}
        }
        self.line.clear();
        self.line_dropped = 0;
        self.data.clear();
    }

    /// Bytes held for the line and the event being built (bounded by the limits).
    pub fn held_bytes(&self) -> usize {
        self.line.len() + self.data.len() + self.event_type.len() + self.id_buffer.len()
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.line_dropped > 0 {
            self.line_dropped += bytes.len() as u64;
        } else if self.line.len() + bytes.len() > MAX_LINE {
            self.line_dropped = (self.line.len() + bytes.len()) as u64;
            self.line = Vec::new();
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    fn end_line(&mut self, out: &mut Vec<Parsed>) {
        let mut line = std::mem::take(&mut self.line);
        if !std::mem::replace(&mut self.past_first_line, true) && line.starts_with(BOM) {
            line.drain(..BOM.len());
        }
        self.lines += 1;
        let dropped = std::mem::take(&mut self.line_dropped);
        if dropped > 0 {
            // It may have been a data line: the event it belongs to is not whole.
            self.break_event(format!("a line of more than {MAX_LINE} bytes"), dropped);
        } else if line.is_empty() {
            self.dispatch(out);
        } else {
            self.process_line(&String::from_utf8_lossy(&line), out);
        }
        // Keep the line's room for the next one, unless a long line made it large.
        line.clear();
        if line.capacity() <= 4096 {
            self.line = line;
        }
    }

    fn process_line(&mut self, line: &str, out: &mut Vec<Parsed>) {
        if let Some(comment) = line.strip_prefix(':') {
            out.push(Parsed::Comment(comment.trim_start_matches(' ').to_string()));
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event_type = value.to_string(),
            "data" => self.add_data(value),
            "id" if !value.contains('\0') => {
                self.id_buffer = value.to_string();
                self.id_set = true;
            }
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                // Digits beyond u64 are a time no one waits for: the longest there is.
                out.push(Parsed::Retry(value.parse().unwrap_or(u64::MAX)));
            }
            _ => {}
        }
    }

    fn add_data(&mut self, value: &str) {
        if self.broken.is_some() {
            self.break_event(String::new(), value.len() as u64 + 1);
        } else if self.data.len() + value.len() + 1 > MAX_DATA {
            let held = self.data.len() as u64;
            self.data = String::new();
            self.break_event(
                format!("an event of more than {MAX_DATA} bytes of data"),
                held + value.len() as u64 + 1,
            );
        } else {
            self.data.push_str(value);
            self.data.push('\n');
        }
    }

    /// The event being built will be skipped: the first reason stays, the bytes add up.
    fn break_event(&mut self, why: String, bytes: u64) {
        match &mut self.broken {
            Some((_, dropped)) => *dropped += bytes,
            None => self.broken = Some((why, bytes)),
        }
    }

    /// A blank line: the standard's "dispatch the event".
    fn dispatch(&mut self, out: &mut Vec<Parsed>) {
        self.last_event_id.clone_from(&self.id_buffer);
        let lines = std::mem::take(&mut self.lines);
        let id_set = std::mem::take(&mut self.id_set);
        let event_type = std::mem::take(&mut self.event_type);
        if let Some((why, bytes)) = self.broken.take() {
            self.data.clear();
            out.push(Parsed::Skipped {
                why: format!("{why}: the event was dropped"),
                bytes,
            });
            return;
        }
        if self.data.is_empty() {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the LF after the last data line
        out.push(Parsed::Event(SseMessage {
            event: if event_type.is_empty() {
                "message".into()
            } else {
                event_type
            },
            data,
            last_event_id: self.last_event_id.clone(),
            id_set,
            lines,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(stream: &[u8]) -> Vec<Parsed> {
        let mut parser = Parser::new("");
        let mut out = Vec::new();
        parser.feed(stream, &mut out);
        parser.finish(&mut out);
        out
    }

    fn events(stream: &[u8]) -> Vec<(String, String, String)> {
        parse(stream)
            .into_iter()
            .filter_map(|p| match p {
                Parsed::Event(e) => Some((e.event, e.data, e.last_event_id)),
                _ => None,
            })
            .collect()
    }

    fn data(stream: &[u8]) -> Vec<String> {
        events(stream).into_iter().map(|(_, d, _)| d).collect()
    }

    /// Every way of cutting `stream` in two gives what the whole does.
    fn same_in_every_two_pieces(stream: &[u8]) {
        let whole = parse(stream);
        for cut in 0..=stream.len() {
            let mut parser = Parser::new("");
            let mut out = Vec::new();
            parser.feed(&stream[..cut], &mut out);
            parser.feed(&stream[cut..], &mut out);
            parser.finish(&mut out);
            assert_eq!(
                out,
                whole,
                "cut at {cut} of {:?}",
                String::from_utf8_lossy(stream)
            );
        }
    }

    #[test]
    fn the_standards_stock_example_gives_three_events_and_an_id() {
        // §9.2.6's first example: data lines joined, a comment, an id kept for the next.
        let stream = b"data: YHOO\ndata: +2\ndata: 10\n\n";
        assert_eq!(data(stream), ["YHOO\n+2\n10"]);
        let stream = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n";
        let got = events(stream);
        assert_eq!(
            got,
            [
                ("message".into(), "first event".into(), "1".into()),
                // `id` with no value resets the last event ID.
                ("message".into(), "second event".into(), "".into()),
                // Only one space after the colon is removed.
                ("message".into(), " third event".into(), "".into()),
            ]
        );
        assert!(matches!(&parse(stream)[0], Parsed::Comment(c) if c == "test stream"));
        same_in_every_two_pieces(stream);
    }

    #[test]
    fn the_standards_second_example_gives_two_events_and_drops_the_unfinished_one() {
        // "data" and "data:" both add an empty line; the last block has no blank line.
        let stream = b"data\n\ndata\ndata\n\ndata:";
        assert_eq!(data(stream), ["", "\n"]);
        assert!(matches!(parse(stream).last(), Some(Parsed::Skipped { .. })));
        same_in_every_two_pieces(stream);
    }

    #[test]
    fn the_standards_third_example_gives_the_same_event_twice() {
        let stream = b"data:test\n\ndata: test\n\n";
        assert_eq!(data(stream), ["test", "test"]);
    }

    #[test]
    fn every_line_end_counts_and_a_split_crlf_is_one() {
        let stream = b"event: a\r\ndata: 1\r\rdata: 2\n\ndata: 3\r\n\r\n";
        let got = events(stream);
        assert_eq!(
            got.iter()
                .map(|(e, d, _)| (e.as_str(), d.as_str()))
                .collect::<Vec<_>>(),
            [("a", "1"), ("message", "2"), ("message", "3")]
        );
        same_in_every_two_pieces(stream);
    }

    #[test]
    fn a_leading_bom_is_skipped_only_at_the_start() {
        assert_eq!(data(b"\xEF\xBB\xBFdata: x\n\n"), ["x"]);
        // A second BOM is part of the line: a field named "\u{feff}data", ignored.
        assert!(data(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n").is_empty());
        same_in_every_two_pieces(b"\xEF\xBB\xBFdata: x\n\n");
    }

    #[test]
    fn retry_takes_digits_only_and_id_refuses_nul() {
        let got = parse(b"retry: 2500\nretry: 2.5\nretry: -1\nretry:\nid: a\0b\ndata: x\n\n");
        assert_eq!(got[0], Parsed::Retry(2500));
        assert!(
            matches!(&got[1], Parsed::Event(e) if e.last_event_id.is_empty() && !e.id_set),
            "{got:?}"
        );
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn an_event_type_without_data_dispatches_nothing_and_does_not_leak() {
        let got = events(b"event: add\n\ndata: x\n\n");
        assert_eq!(got, [("message".into(), "x".into(), "".into())]);
    }

    #[test]
    fn unknown_fields_are_ignored_and_a_field_without_colon_is_a_name() {
        assert_eq!(data(b"foo: bar\ndata\nbaz\n\n"), [""]);
    }

    #[test]
    fn the_id_persists_and_is_set_even_by_an_event_without_data() {
        let mut parser = Parser::new("7");
        let mut out = Vec::new();
        parser.feed(b"data: a\n\nid: 9\n\ndata: b\n\n", &mut out);
        let ids: Vec<_> = out
            .iter()
            .filter_map(|p| match p {
                Parsed::Event(e) => Some(e.last_event_id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(ids, ["7", "9"]);
        assert_eq!(parser.last_event_id, "9");
    }

    #[test]
    fn an_endless_line_is_dropped_as_it_comes_and_the_next_event_is_whole() {
        let mut parser = Parser::new("");
        let mut out = Vec::new();
        parser.feed(b"data: ", &mut out);
        for _ in 0..1000 {
            parser.feed(&[b'x'; 1024], &mut out);
            assert!(parser.held_bytes() <= MAX_LINE, "{}", parser.held_bytes());
        }
        parser.feed(b"\n\ndata: after\n\n", &mut out);
        assert!(
            matches!(&out[0], Parsed::Skipped { why, bytes } if why.contains("line of more than") && *bytes > 1_000_000),
            "{out:?}"
        );
        assert!(matches!(&out[1], Parsed::Event(e) if e.data == "after"));
    }

    #[test]
    fn data_without_a_blank_line_is_bounded_and_dropped() {
        let mut parser = Parser::new("");
        let mut out = Vec::new();
        for _ in 0..100_000 {
            parser.feed(b"data: 0123456789\n", &mut out);
            assert!(parser.held_bytes() <= MAX_DATA + 16);
        }
        assert!(out.is_empty(), "nothing dispatched yet");
        parser.feed(b"\ndata: small\n\n", &mut out);
        assert!(
            matches!(&out[0], Parsed::Skipped { why, bytes } if why.contains("more than 65536 bytes of data") && *bytes == 1_100_000),
            "{out:?}"
        );
        assert!(matches!(&out[1], Parsed::Event(e) if e.data == "small"));
    }

    #[test]
    fn utf8_is_decoded_and_broken_bytes_become_replacement_characters() {
        assert_eq!(data("data: héllo ✓\n\n".as_bytes()), ["héllo ✓"]);
        assert_eq!(data(b"data: \xff\n\n"), ["\u{fffd}"]);
        same_in_every_two_pieces("data: héllo ✓\n\n".as_bytes());
    }
}
