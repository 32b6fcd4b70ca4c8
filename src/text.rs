//! Terminal safety: text that came from the network is escaped before it is shown.
//!
//! A page, a header or a DNS answer can hold bytes that a terminal obeys instead of
//! printing (ESC starts a control sequence, C1 controls do the same on some terminals,
//! bidi overrides reorder the rest of the line). Every view passes its text through
//! [`escape_controls`], which keeps newline and tab and shows the others as `\x1b`-style
//! escapes, so the student sees that they were there.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether a character must not reach a terminal raw.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // bidi embeddings, overrides and isolates
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        // line and paragraph separators break lines behind the layout's back
        | '\u{2028}' | '\u{2029}')
}

/// The byte offset of the first character [`is_unsafe`] or the first byte that may start
/// one. A byte scan: this runs over every page's whole text, and almost all of it is safe.
fn first_maybe_unsafe(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes of printable ASCII at a time; past a run of them, straight to the first
        // byte that is not (the byte loop below sees it on its own).
        if let Some(chunk) = bytes.get(i..i + 8) {
            let mask = non_printable_mask(word(chunk));
            if mask == 0 {
                i += 8;
                continue;
            }
            i += first_flagged(mask);
        }
        let b = bytes[i];
        // Printable ASCII, and the lead bytes that cannot start an unsafe character.
        if (0x20..0x7f).contains(&b) || (b >= 0x80 && b != 0xc2 && b != 0xe2) {
            i += 1;
            continue;
        }
        let unsafe_here = match b {
            b'\n' | b'\t' => false,
            0..=0x1f | 0x7f => true,
            // U+0080–U+009F are C2 80–C2 9F in UTF-8.
            0xc2 => bytes.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)),
            // U+2028–U+202E are E2 80 A8–AE; U+2066–U+2069 are E2 81 A6–A9.
            _ => matches!(
                (bytes.get(i + 1), bytes.get(i + 2)),
                (Some(0x80), Some(0xa8..=0xae)) | (Some(0x81), Some(0xa6..=0xa9))
            ),
        };
        if unsafe_here {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The first eight bytes of `chunk` (which has at least eight) as a little-endian word.
pub(crate) fn word(chunk: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&chunk[..8]);
    u64::from_le_bytes(word)
}

/// Whether all eight bytes of `w` are printable ASCII (0x20–0x7e).
#[cfg(test)]
fn all_printable_ascii(w: u64) -> bool {
    non_printable_mask(w) == 0
}

/// The top bit of each byte of `w` that is not printable ASCII (0x20–0x7e), with the usual
/// bit tricks: a byte below 0x20, a DEL, or a byte with its top bit set shows in the mask.
/// A borrow only carries upwards from a flagged byte, so the lowest flag is always exact
/// (bytes above it may be flagged wrongly): see [`first_flagged`].
pub(crate) fn non_printable_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    let del = w ^ (ONES * 0x7f);
    let is_del = del.wrapping_sub(ONES) & !del;
    (w | below_space | is_del) & HIGH
}

/// The index of the first byte a non-zero [`non_printable_mask`] flags (the bytes before it
/// are printable ASCII).
pub(crate) fn first_flagged(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// Escapes unsafe characters; newline and tab are kept.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    let Some(start) = first_maybe_unsafe(text) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(&text[..start]);
    for c in text[start..].chars() {
        if is_unsafe(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Escapes unsafe characters and also newline and tab (for one-line fields: URLs, header
/// values, error messages).
pub fn escape_line(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| is_unsafe(c) || c == '\n' || c == '\t' || c == '\r')
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn push_escape(out: &mut String, c: char) {
    let code = u32::from(c);
    if code < 0x100 {
        let _ = write!(out, "\\x{code:02x}");
    } else {
        let _ = write!(out, "\\u{{{code:04x}}}");
    }
}

/// Escapes what `serde_json` leaves raw in a JSON line (it escapes C0 but not DEL, C1 or
/// bidi controls).
pub fn escape_json_line(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_unsafe) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(escape_controls("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape_controls("x\u{9b}y"), "x\\x9by");
        assert_eq!(escape_controls("r\u{202e}l"), "r\\u{202e}l");
        assert_eq!(escape_controls("keep\nand\ttab"), "keep\nand\ttab");
        assert_eq!(escape_line("two\nlines"), "two\\nlines");
    }

    #[test]
    fn byte_scan_finds_exactly_the_unsafe_characters() {
        let chars = (0..0x3000u32).chain([0xfeff, 0x1f600, 0x10ffff]);
        for c in chars.filter_map(char::from_u32) {
            let text = format!("ab{c}cd");
            assert_eq!(
                first_maybe_unsafe(&text).is_some(),
                is_unsafe(c),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn word_scan_agrees_with_the_byte_scan() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = *b"abcdefgh";
                word[at] = b;
                let printable = (0x20..0x7f).contains(&b);
                assert_eq!(
                    all_printable_ascii(u64::from_le_bytes(word)),
                    printable,
                    "byte {b:#x} at {at}"
                );
            }
        }
        let line = "0123456789abcdef\u{1b}[2J and more text after it, \u{202e} too";
        assert_eq!(
            escape_controls(line),
            "0123456789abcdef\\x1b[2J and more text after it, \\u{202e} too"
        );
    }

    #[test]
    fn the_lowest_flag_is_the_first_non_printable_byte() {
        // Whatever follows the first non-printable byte (borrows may flag bytes above it).
        let tails: [[u8; 8]; 4] = [[0; 8], [0xff; 8], *b"\x1f\x7f\x80 ~\x00a\x01", *b"abcdefgh"];
        for b in (0..=255u8).filter(|b| !(0x20..0x7f).contains(b)) {
            for at in 0..8 {
                for tail in tails {
                    let mut word = *b"abcdefgh";
                    word[at] = b;
                    word[at + 1..].copy_from_slice(&tail[at + 1..]);
                    let mask = non_printable_mask(u64::from_le_bytes(word));
                    assert_eq!(
                        first_flagged(mask),
                        at,
                        "byte {b:#x} at {at}, tail {tail:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn json_escapes_c1_and_bidi() {
        assert_eq!(
            escape_json_line("\"a\u{85}\u{2067}\""),
            "\"a\\u0085\\u2067\""
        );
    }
}
