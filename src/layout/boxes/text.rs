//! Inline text into items: whitespace processed per `white-space` (collapsed, or kept with
//! tabs expanded), `text-transform` applied, and text made safe for a terminal; replaced
//! content added as one unbreakable piece.

use std::borrow::Cow;

use crate::layout::values::{Style, Transform, WhiteSpace};
use crate::text::escape_controls;

use super::{Builder, Item, F_BOLD, F_CODE, F_HEADING, F_ITALIC, F_NOWRAP, F_UNDERLINE};

impl Builder<'_> {
    /// An item for the text added since `start`, if any.
    pub(super) fn push_text_item(&mut self, start: usize, style: &Style) {
        if self.s.out.text.len() > start {
            self.s.out.items.push(Item::Text {
                start: start as u32,
                end: self.s.out.text.len() as u32,
                flags: flags_of(style),
                link: self.current_link(),
            });
        }
    }

    /// One character of collapsible text, transformed.
    fn push_char(&mut self, c: char, transform: Transform) {
        match transform {
            Transform::None => self.s.out.text.push(c),
            Transform::Upper => self.s.out.text.extend(c.to_uppercase()),
            Transform::Lower => self.s.out.text.extend(c.to_lowercase()),
            Transform::Capitalize => {
                if self.s.word_char {
                    self.s.out.text.push(c)
                } else {
                    self.s.out.text.extend(c.to_uppercase())
                }
            }
        }
        self.s.word_char = c.is_alphanumeric() || c == '\'' || c == '’';
    }

    /// A text node (or generated text) under `style`, its whitespace processed as its
    /// `white-space` says.
    pub(super) fn text(&mut self, raw: &str, style: &Style) {
        if !style.visible || raw.is_empty() {
            return;
        }
        let safe = escape(raw);
        match style.white_space {
            WhiteSpace::Normal | WhiteSpace::Nowrap if style.transform == Transform::None => {
                self.collapsed_words(&safe, style)
            }
            WhiteSpace::Normal | WhiteSpace::Nowrap | WhiteSpace::PreLine => {
                self.collapsed_chars(&safe, style)
            }
            WhiteSpace::Pre | WhiteSpace::PreWrap => self.preserved(&safe, style),
        }
    }

    /// Collapsible text, untransformed (most text): a run of words at a time.
    fn collapsed_words(&mut self, safe: &str, style: &Style) {
        let start = self.s.out.text.len();
        let bytes = safe.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') {
                if !self.s.line_empty {
                    self.s.space = true;
                }
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while j < bytes.len() && !matches!(bytes[j], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') {
                j += 1;
            }
            if self.s.space {
                self.s.out.text.push(' ');
                self.s.space = false;
            }
            self.s.out.text.push_str(&safe[i..j]);
            self.s.line_empty = false;
            i = j;
        }
        self.s.word_char = false;
        self.push_text_item(start, style);
    }

    /// Collapsible text a character at a time, for `text-transform` (and `pre-line`,
    /// whose newlines are line breaks).
    fn collapsed_chars(&mut self, safe: &str, style: &Style) {
        let pre_line = style.white_space == WhiteSpace::PreLine;
        let mut item_start = self.s.out.text.len();
        for c in safe.chars() {
            match c {
                '\n' if pre_line => {
                    self.push_text_item(item_start, style);
                    self.s.out.items.push(Item::Break);
                    item_start = self.s.out.text.len();
                    self.s.space = false;
                    self.s.line_empty = true;
                    self.s.word_char = false;
                }
                ' ' | '\t' | '\n' | '\r' | '\x0c' => {
                    if !self.s.line_empty {
                        self.s.space = true;
                    }
                    self.s.word_char = false;
                }
                c => {
                    if self.s.space {
                        self.s.out.text.push(' ');
                        self.s.space = false;
                    }
                    self.push_char(c, style.transform);
                    self.s.line_empty = false;
                }
            }
        }
        self.push_text_item(item_start, style);
    }

    /// Preformatted text (`pre`, `pre-wrap`): spaces kept, newlines as breaks, tabs to the
    /// next multiple of eight columns.
    fn preserved(&mut self, safe: &str, style: &Style) {
        // The item starts before a space carried over from the text before.
        let mut item_start = self.s.out.text.len();
        if self.s.space && !self.s.line_empty {
            self.s.out.text.push(' ');
            self.s.col += 1;
        }
        self.s.space = false;
        for c in safe.chars() {
            match c {
                '\n' => {
                    self.push_text_item(item_start, style);
                    self.s.out.items.push(Item::Break);
                    item_start = self.s.out.text.len();
                    self.s.col = 0;
                    self.s.line_empty = true;
                }
                '\r' => {}
                '\t' => {
                    let to = (self.s.col / 8 + 1) * 8;
                    for _ in self.s.col..to {
                        self.s.out.text.push(' ');
                    }
                    self.s.col = to;
                    self.s.line_empty = false;
                }
                c => {
                    self.push_char(c, style.transform);
                    self.s.col += 1;
                    self.s.line_empty = false;
                }
            }
        }
        self.push_text_item(item_start, style);
    }

    /// Replaced content (an image's alt, a form control) as one piece of text.
    pub(super) fn atom(&mut self, s: &str, style: &Style) {
        if !style.visible || s.is_empty() {
            return;
        }
        let start = self.s.out.text.len();
        if self.s.space && !self.s.line_empty {
            self.s.out.text.push(' ');
        }
        self.s.space = false;
        self.s.out.text.push_str(&escape_controls(s));
        self.s.line_empty = false;
        self.s.word_char = true;
        self.push_text_item(start, style);
    }

    /// Where a block starts or ends: no space carried over, a new line, column 0.
    pub(super) fn block_boundary(&mut self) {
        self.s.space = false;
        self.s.line_empty = true;
        self.s.col = 0;
        self.s.word_char = false;
    }
}

/// The inline style flags of text under `style`.
fn flags_of(style: &Style) -> u8 {
    let mut f = 0;
    if style.heading {
        f |= F_HEADING;
    } else if style.bold {
        f |= F_BOLD;
    }
    if style.italic {
        f |= F_ITALIC;
    }
    if style.underline {
        f |= F_UNDERLINE;
    }
    if style.code {
        f |= F_CODE;
    }
    if matches!(style.white_space, WhiteSpace::Pre | WhiteSpace::Nowrap) {
        f |= F_NOWRAP;
    }
    f
}

/// Page text made safe for a terminal; printable ASCII (most text) needs no scan.
fn escape(text: &str) -> Cow<'_, str> {
    let plain = text
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t');
    if plain {
        Cow::Borrowed(text)
    } else {
        escape_controls(text)
    }
}

/// `text` with its whitespace collapsed: words joined by single spaces.
pub(super) fn collapse(text: &str) -> String {
    // Most text is collapsed already (the builder collapsed it, a link's text may start
    // with the space before its first word): then it comes back as it is.
    let trimmed = text.trim_matches(' ');
    if is_collapsed(trimmed) {
        return trimmed.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether `text` is words joined by single spaces (no other whitespace, none at either
/// end): what [`collapse`] makes of it. Bytes below 0x80 are looked at one by one, and a
/// character decoded only where a non-ASCII one starts.
fn is_collapsed(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut after_space = true;
    for (at, &b) in bytes.iter().enumerate() {
        match b {
            b' ' if after_space => return false,
            b' ' => after_space = true,
            // The ASCII characters `char::is_whitespace` knows besides the space.
            0x09..=0x0d => return false,
            0x80..=0xbf => {}
            _ if b >= 0xc0 => {
                let c = text.get(at..).and_then(|rest| rest.chars().next());
                if c.is_none_or(char::is_whitespace) {
                    return false;
                }
                after_space = false;
            }
            _ => after_space = false,
        }
    }
    !after_space || bytes.is_empty()
}

#[cfg(test)]
mod tests {
    use super::collapse;

    #[test]
    fn collapse_as_split_whitespace() {
        let slow = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        for t in [
            "",
            " ",
            "  ",
            "a",
            " a",
            "a ",
            " a b ",
            "a  b",
            "What’s New in Python 3.11",
            "tab\there",
            "nl\n",
            "vt\u{b}x",
            "nbsp\u{a0}x",
            "nel\u{85}x",
            "em\u{2003}space",
            "ideo\u{3000}x",
            "中文 字符",
            "x\u{1c}y",
        ] {
            assert_eq!(collapse(t), slow(t), "{t:?}");
        }
    }
}
