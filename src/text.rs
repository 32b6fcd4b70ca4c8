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

/// Escapes unsafe characters; newline and tab are kept.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
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
    fn json_escapes_c1_and_bidi() {
        assert_eq!(
            escape_json_line("\"a\u{85}\u{2067}\""),
            "\"a\\u0085\\u2067\""
        );
    }
}
