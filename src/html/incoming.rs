//! A page parsed while it downloads: its bytes decoded as they arrive and handed, piece by
//! piece, to the two-thread parse ([`super::pipeline`]), whose tokenizer reads each piece as
//! soon as it comes.
//!
//! The encoding must be known before the first character can be decoded, and the HTML
//! standard finds it in this order: a byte order mark, the HTTP `charset`, a `<meta>` in the
//! first 1024 bytes. So the first bytes are held until there are 1024 of them (or the body
//! ended) — unless the HTTP header named the encoding, when three bytes (room for a BOM)
//! are enough. From then on every piece is decoded as it comes, by encoding_rs's streaming
//! decoder, which keeps a character split between two pieces for the next one: the text is
//! the same as [`super::decode`] of the whole body.

use std::sync::mpsc::{self, Receiver, SyncSender};

use encoding_rs::{Decoder, Encoding};

use super::{sniff, Decoded, Document, EncodingSource};

/// Pieces of decoded text on their way to the parser: bounds the text the download can be
/// ahead of the parse by (each piece is one read of the body, at most 16 KiB of bytes).
const PIECES_IN_FLIGHT: usize = 64;

/// Bytes the `<meta>` prescan looks at.
const PRESCAN: usize = 1024;

/// The decoding side of a streaming parse: bytes in, text out to the parser.
pub struct Incoming {
    http_charset: Option<String>,
    /// The first bytes, held until the encoding can be chosen.
    held: Vec<u8>,
    decoder: Option<(Decoder, &'static Encoding, EncodingSource)>,
    to_parser: Option<SyncSender<String>>,
    /// All the text so far (the page's source, and the parse's text if it must be redone).
    text: String,
    had_errors: bool,
    bytes: u64,
}

/// The parsing side: the text as it is decoded (see [`parse_incoming`]).
pub struct Pieces(Receiver<String>);

impl Incoming {
    /// A decoder for a body whose Content-Type says `http_charset` (if it says one).
    pub fn new(http_charset: Option<&str>) -> (Incoming, Pieces) {
        let (to_parser, pieces) = mpsc::sync_channel(PIECES_IN_FLIGHT);
        let incoming = Incoming {
            http_charset: http_charset.map(str::to_string),
            held: Vec::new(),
            decoder: None,
            to_parser: Some(to_parser),
            text: String::new(),
            had_errors: false,
            bytes: 0,
        };
        (incoming, Pieces(pieces))
    }

    /// Decodes the next bytes of the body and sends the text to the parser; returns the new
    /// text (empty while the first bytes are held).
    pub fn push(&mut self, bytes: &[u8]) -> &str {
        self.bytes += bytes.len() as u64;
        if self.decoder.is_none() {
            self.held.extend_from_slice(bytes);
            let charset_known = self
                .http_charset
                .as_deref()
                .and_then(|l| Encoding::for_label(l.trim().as_bytes()))
                .is_some();
            let enough = if charset_known { 3 } else { PRESCAN };
            if self.held.len() < enough {
                return "";
            }
            let held = std::mem::take(&mut self.held);
            return self.decode(&held, false);
        }
        self.decode(bytes, false)
    }

    /// The body has ended: decodes what is held, closes the parser's input, and returns the
    /// whole text and how its encoding was chosen.
    pub fn finish(mut self) -> Decoded {
        let held = std::mem::take(&mut self.held);
        self.decode(&held, true);
        self.to_parser = None;
        let (encoding, source) = self.decoder.as_ref().map_or(
            (encoding_rs::WINDOWS_1252, EncodingSource::Default),
            |(_, e, s)| (*e, *s),
        );
        Decoded {
            text: self.text,
            encoding,
            source,
            had_errors: self.had_errors,
        }
    }

    /// Bytes pushed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn decode(&mut self, bytes: &[u8], last: bool) -> &str {
        let (decoder, _, _) = self.decoder.get_or_insert_with(|| {
            // The first bytes (all those held) choose it.
            let (encoding, source) = sniff(bytes, self.http_charset.as_deref());
            // With BOM sniffing, as `Encoding::decode` does: a BOM overrides the label.
            (encoding.new_decoder(), encoding, source)
        });
        let mut piece = String::new();
        let mut rest = bytes;
        loop {
            let room = decoder
                .max_utf8_buffer_length(rest.len())
                .unwrap_or(rest.len() * 3 + 16);
            piece.reserve(room.max(4));
            let (result, read, replaced) = decoder.decode_to_string(rest, &mut piece, last);
            self.had_errors |= replaced;
            rest = &rest[read..];
            if matches!(result, encoding_rs::CoderResult::InputEmpty) {
                break;
            }
        }
        let start = self.text.len();
        self.text.push_str(&piece);
        if !piece.is_empty() {
            if let Some(to_parser) = &self.to_parser {
                // A parser that has gone (it stopped at a limit) needs no more.
                if to_parser.send(piece).is_err() {
                    self.to_parser = None;
                }
            }
        }
        &self.text[start..]
    }
}

/// Parses the text of an [`Incoming`] body as it arrives; returns when its channel closes
/// (at [`Incoming::finish`], or when the `Incoming` is dropped). None when no second thread
/// could be started: the caller then parses the whole text [`Incoming::finish`] gives.
pub fn parse_incoming(pieces: Pieces) -> Option<Document> {
    let started = std::time::Instant::now();
    let mut doc = super::pipeline::parse_pieces(
        pieces.0,
        super::ParseLimits::default(),
        super::parse::tree_builder_opts(),
    )?;
    doc.stats.ms = crate::trace::ms(started.elapsed());
    Some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page cut at every `size` bytes (a size of 0: random sizes from `seed`).
    fn chunks(bytes: &[u8], size: usize, seed: u64) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut at = 0;
        let mut state = seed | 1;
        while at < bytes.len() {
            let n = if size > 0 {
                size
            } else {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                1 + (state % 3000) as usize
            };
            let end = (at + n).min(bytes.len());
            out.push(&bytes[at..end]);
            at = end;
        }
        out
    }

    fn streamed(
        bytes: &[u8],
        charset: Option<&str>,
        size: usize,
        seed: u64,
    ) -> (Document, Decoded) {
        let (mut incoming, pieces) = Incoming::new(charset);
        // The download on a thread of its own, the parse on this one (the DOM stays here).
        std::thread::scope(|s| {
            let download = s.spawn(move || {
                for chunk in chunks(bytes, size, seed) {
                    incoming.push(chunk);
                }
                incoming.finish()
            });
            let doc = parse_incoming(pieces).expect("a streamed parse");
            let decoded = download.join().expect("the download thread");
            (doc, decoded)
        })
    }

    fn fixtures() -> Vec<(String, Vec<u8>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let mut pages = Vec::new();
        let mut stack = vec![dir];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "html" || e == "htm") {
                    if let Ok(bytes) = std::fs::read(&path) {
                        pages.push((path.display().to_string(), bytes));
                    }
                }
            }
        }
        pages
    }

    /// The same DOM and the same text as the whole body's parse, however the body is cut:
    /// every fixture page, in 1-byte pieces, in 7-byte pieces, and in random ones.
    #[test]
    fn a_streamed_parse_builds_the_whole_bodys_dom() {
        let pages = fixtures();
        assert!(pages.len() >= 5, "fixtures found: {}", pages.len());
        for (name, bytes) in &pages {
            let whole = super::super::decode(bytes, None);
            let expected = super::super::parse(&whole.text).outline();
            let sizes: &[usize] = if bytes.len() < 200_000 {
                &[1, 7, 0]
            } else {
                &[0]
            };
            for &size in sizes {
                let (doc, decoded) = streamed(bytes, None, size, bytes.len() as u64);
                assert_eq!(decoded.text, whole.text, "{name} in pieces of {size}");
                assert_eq!(decoded.encoding, whole.encoding, "{name}");
                assert_eq!(decoded.source, whole.source, "{name}");
                assert_eq!(doc.outline(), expected, "{name} in pieces of {size}");
            }
        }
    }

    /// A `<meta charset>` after the first piece, a character cut between two pieces, a BOM
    /// that overrides the HTTP charset.
    #[test]
    fn the_encoding_is_chosen_as_for_the_whole_body() {
        let mut page = b"<!doctype html><title>t</title>".to_vec();
        page.extend_from_slice(b"<meta charset=windows-1252><p>caf\xe9 \x80</p>");
        let (doc, decoded) = streamed(&page, None, 1, 1);
        assert_eq!(decoded.source, EncodingSource::Meta);
        assert!(decoded.text.contains("café €"), "{}", decoded.text);
        assert!(doc.outline().contains("café €"));
        let utf8 = "<p>日本語 — ünïcödé</p>".as_bytes();
        let (_, decoded) = streamed(utf8, Some("utf-8"), 1, 1);
        assert_eq!(decoded.text, "<p>日本語 — ünïcödé</p>");
        assert_eq!(decoded.source, EncodingSource::HttpHeader);
        let with_bom = [&b"\xef\xbb\xbf"[..], "<p>ü</p>".as_bytes()].concat();
        let (_, decoded) = streamed(&with_bom, Some("iso-8859-2"), 2, 1);
        assert_eq!(decoded.source, EncodingSource::Bom);
        assert_eq!(decoded.text, "<p>ü</p>");
    }
}
