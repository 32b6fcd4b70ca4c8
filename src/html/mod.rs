//! HTML: bytes → text (the HTML standard's encoding sniffing, decoded by encoding_rs) → DOM
//! (html5ever's tokenizer and tree builder, building into our own arena: [`dom`]).
//!
//! The rest of minibrowse sees [`Document`] and [`Node`] only. The DOM is an arena rather
//! than markup5ever_rcdom's reference-counted nodes: one allocation for all nodes instead of
//! one per node plus one per child list, indices instead of pointers, and parent and
//! sibling links that the layout needs anyway. `examples/bare_parse.rs` keeps rcdom as the
//! yardstick the speed and memory targets are stated against.

mod dom;
mod incoming;
mod parse;
mod pipeline;
mod sink;
mod stream;

use encoding_rs::Encoding;

pub use dom::{Document, Node, ParseLimits, ParseStats, Walk};
pub use incoming::{parse_incoming, Incoming, Pieces};
pub use parse::{parse, parse_reading};
pub use sink::FLATTEN_AT;
pub use stream::{Reader, Step};

/// Why an encoding was chosen — the order the HTML standard checks them in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodingSource {
    /// A byte order mark at the start of the body.
    Bom,
    /// The `charset` parameter of the HTTP Content-Type header.
    HttpHeader,
    /// A `<meta charset>` or `<meta http-equiv=content-type>` in the first 1024 bytes.
    Meta,
    /// Nothing said: the standard's default for unlabelled documents.
    Default,
}

impl EncodingSource {
    pub fn describe(self) -> &'static str {
        match self {
            EncodingSource::Bom => "byte order mark",
            EncodingSource::HttpHeader => "HTTP Content-Type header",
            EncodingSource::Meta => "<meta> in the first 1024 bytes",
            EncodingSource::Default => "default (nothing declared it)",
        }
    }
}

/// Text decoded from bytes, and how the encoding was chosen.
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    pub source: EncodingSource,
    pub had_errors: bool,
}

/// Picks the encoding the way the HTML standard orders it and decodes the bytes.
pub fn decode(bytes: &[u8], http_charset: Option<&str>) -> Decoded {
    let (encoding, source) = sniff(bytes, http_charset);
    // `decode` strips a BOM, and a BOM overrides the label, as the standard wants.
    let (text, _, had_errors) = encoding.decode(bytes);
    Decoded {
        text: text.into_owned(),
        encoding,
        source,
        had_errors,
    }
}

fn sniff(bytes: &[u8], http_charset: Option<&str>) -> (&'static Encoding, EncodingSource) {
    if let Some((encoding, _)) = Encoding::for_bom(bytes) {
        return (encoding, EncodingSource::Bom);
    }
    if let Some(encoding) = http_charset.and_then(|l| Encoding::for_label(l.trim().as_bytes())) {
        return (encoding, EncodingSource::HttpHeader);
    }
    if let Some(encoding) = prescan(&bytes[..bytes.len().min(1024)]) {
        return (encoding, EncodingSource::Meta);
    }
    (encoding_rs::WINDOWS_1252, EncodingSource::Default)
}

/// The HTML standard's "prescan a byte stream to determine its encoding", simplified to
/// what matters in practice: comments are skipped, and each `<meta>` is checked for
/// `charset=` or `http-equiv=content-type` with a `content` carrying `charset=`.
/// (encoding_rs has no prescan of its own.)
fn prescan(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    let mut i = 0;
    while i < lower.len() {
        if lower[i..].starts_with(b"<!--") {
            i = find(&lower, i + 4, b"-->").map_or(lower.len(), |e| e + 3);
            continue;
        }
        let is_meta = lower[i..].starts_with(b"<meta")
            && lower
                .get(i + 5)
                .is_some_and(|c| c.is_ascii_whitespace() || *c == b'/');
        if !is_meta {
            i += 1;
            continue;
        }
        let end = find(&lower, i, b">").unwrap_or(lower.len());
        let attrs = parse_attributes(&head[i + 5..end]);
        let get = |name: &str| {
            attrs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let label = match get("charset") {
            Some(label) => Some(label.to_string()),
            None if get("http-equiv").is_some_and(|v| v.eq_ignore_ascii_case("content-type")) => {
                get("content").and_then(charset_from_content)
            }
            None => None,
        };
        if let Some(encoding) = label.and_then(|l| Encoding::for_label(l.trim().as_bytes())) {
            // A meta cannot declare UTF-16: the bytes being read are ASCII-compatible.
            if encoding == encoding_rs::UTF_16BE || encoding == encoding_rs::UTF_16LE {
                return Some(encoding_rs::UTF_8);
            }
            if encoding == encoding_rs::X_USER_DEFINED {
                return Some(encoding_rs::WINDOWS_1252);
            }
            return Some(encoding);
        }
        i = end;
    }
    None
}

fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// `name=value`, `name="value"`, `name='value'` and bare `name` pairs, names lowercased.
fn parse_attributes(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let mut chars = text.chars().peekable();
    let mut out = Vec::new();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == '/') {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || c == '=' || c == '/' {
                break;
            }
            name.push(c.to_ascii_lowercase());
            chars.next();
        }
        if name.is_empty() {
            return out;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            match chars.peek().copied() {
                Some(q @ ('"' | '\'')) => {
                    chars.next();
                    value = chars.by_ref().take_while(|c| *c != q).collect();
                }
                _ => {
                    while let Some(&c) = chars.peek() {
                        if c.is_whitespace() {
                            break;
                        }
                        value.push(c);
                        chars.next();
                    }
                }
            }
        }
        out.push((name, value));
    }
}

/// The `charset=` inside a `content="text/html; charset=…"` value.
fn charset_from_content(content: &str) -> Option<String> {
    let lower = content.to_ascii_lowercase();
    let at = lower.find("charset")?;
    let rest = lower[at + 7..].trim_start().strip_prefix('=')?.trim_start();
    let value: String = match rest.chars().next()? {
        q @ ('"' | '\'') => rest[1..].chars().take_while(|c| *c != q).collect(),
        _ => rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != ';')
            .collect(),
    };
    (!value.is_empty()).then_some(value)
}
