//! HTML: bytes → text (the HTML standard's encoding sniffing, decoded by encoding_rs) → DOM
//! (html5ever's tree builder).
//!
//! markup5ever_rcdom is kept behind this module: the rest of minibrowse sees [`Document`] and
//! [`Node`] only, so the DOM implementation can be swapped without touching the stages.

use std::time::Instant;

use encoding_rs::Encoding;
use html5ever::tendril::TendrilSink;
use html5ever::ParseOpts;
use markup5ever_rcdom::{Handle, NodeData, RcDom};

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

/// A parsed HTML document.
pub struct Document {
    dom: RcDom,
    pub stats: ParseStats,
}

/// What the parse step reports.
#[derive(Clone, Debug, Default)]
pub struct ParseStats {
    pub nodes: u64,
    pub elements: u64,
    /// The parser's repairs of invalid markup.
    pub errors: Vec<String>,
    pub quirks_mode: bool,
    pub ms: f64,
}

/// Parses decoded text the way a browser with scripting off does (so `<noscript>` content
/// is parsed as markup and shown).
pub fn parse(text: &str) -> Document {
    let started = Instant::now();
    let mut opts = ParseOpts::default();
    opts.tree_builder.scripting_enabled = false;
    let dom = html5ever::parse_document(RcDom::default(), opts).one(text);
    let mut stats = ParseStats::default();
    let mut document = Document {
        stats: ParseStats::default(),
        dom,
    };
    for (node, _) in document.walk() {
        stats.nodes += 1;
        if node.is_element() {
            stats.elements += 1;
        }
    }
    stats.errors = document
        .dom
        .errors
        .borrow()
        .iter()
        .map(|e| e.to_string())
        .collect();
    stats.quirks_mode =
        document.dom.quirks_mode.get() != html5ever::tree_builder::QuirksMode::NoQuirks;
    stats.ms = crate::trace::ms(started.elapsed());
    document.stats = stats;
    document
}

impl Document {
    pub fn root(&self) -> Node {
        Node(self.dom.document.clone())
    }

    /// Every node in document order with its depth, without recursion (documents can be
    /// nested 100,000 levels deep).
    pub fn walk(&self) -> Walk {
        Walk {
            stack: vec![(self.dom.document.clone(), 0)],
        }
    }

    /// The first element with this tag name, in document order.
    pub fn first(&self, tag: &str) -> Option<Node> {
        self.walk().map(|(n, _)| n).find(|n| n.tag() == Some(tag))
    }

    /// The text of `<title>`, whitespace collapsed.
    pub fn title(&self) -> Option<String> {
        let title = self.first("title")?;
        let text = title.text_content();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!text.is_empty()).then_some(text)
    }
}

/// Pre-order walk over a DOM; see [`Document::walk`].
pub struct Walk {
    stack: Vec<(Handle, usize)>,
}

impl Iterator for Walk {
    type Item = (Node, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let (handle, depth) = self.stack.pop()?;
        for child in handle.children.borrow().iter().rev() {
            self.stack.push((child.clone(), depth + 1));
        }
        Some((Node(handle), depth))
    }
}

/// A node of the DOM.
#[derive(Clone)]
pub struct Node(Handle);

impl Node {
    /// The element's tag name (lowercase for HTML), or None for other nodes.
    pub fn tag(&self) -> Option<&str> {
        match &self.0.data {
            NodeData::Element { name, .. } => Some(&name.local),
            _ => None,
        }
    }

    pub fn is_element(&self) -> bool {
        matches!(self.0.data, NodeData::Element { .. })
    }

    /// The text of a text node.
    pub fn text(&self) -> Option<String> {
        match &self.0.data {
            NodeData::Text { contents } => Some(contents.borrow().to_string()),
            _ => None,
        }
    }

    pub fn attr(&self, name: &str) -> Option<String> {
        match &self.0.data {
            NodeData::Element { attrs, .. } => attrs
                .borrow()
                .iter()
                .find(|a| &*a.name.local == name)
                .map(|a| a.value.to_string()),
            _ => None,
        }
    }

    pub fn has_attr(&self, name: &str) -> bool {
        match &self.0.data {
            NodeData::Element { attrs, .. } => {
                attrs.borrow().iter().any(|a| &*a.name.local == name)
            }
            _ => false,
        }
    }

    pub fn children(&self) -> Vec<Node> {
        self.0.children.borrow().iter().cloned().map(Node).collect()
    }

    pub fn parent(&self) -> Option<Node> {
        let weak = self.0.parent.take();
        let parent = weak.as_ref().and_then(|w| w.upgrade());
        self.0.parent.set(weak);
        parent.map(Node)
    }

    /// Whether any ancestor has this tag.
    pub fn has_ancestor(&self, tag: &str) -> bool {
        let mut node = self.parent();
        while let Some(n) = node {
            if n.tag() == Some(tag) {
                return true;
            }
            node = n.parent();
        }
        false
    }

    /// Calls `f` with the text of a text node, without copying it (None for other nodes).
    pub fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        match &self.0.data {
            NodeData::Text { contents } => Some(f(&contents.borrow())),
            _ => None,
        }
    }

    /// Calls `f` with the value of an attribute, without copying it.
    pub fn with_attr<R>(&self, name: &str, f: impl FnOnce(&str) -> R) -> Option<R> {
        match &self.0.data {
            NodeData::Element { attrs, .. } => attrs
                .borrow()
                .iter()
                .find(|a| &*a.name.local == name)
                .map(|a| f(&a.value)),
            _ => None,
        }
    }

    /// Calls `f` with each attribute's (local name, value), without copying.
    pub fn for_each_attr(&self, mut f: impl FnMut(&str, &str)) {
        if let NodeData::Element { attrs, .. } = &self.0.data {
            for a in attrs.borrow().iter() {
                f(&a.name.local, &a.value);
            }
        }
    }

    /// Whether this is an element in the HTML namespace (not SVG or MathML).
    pub fn is_html_element(&self) -> bool {
        match &self.0.data {
            NodeData::Element { name, .. } => name.ns == html5ever::ns!(html),
            _ => false,
        }
    }

    /// How many child nodes there are.
    pub fn child_count(&self) -> usize {
        self.0.children.borrow().len()
    }

    /// The child node at `index`, without collecting the others.
    pub fn child(&self, index: usize) -> Option<Node> {
        self.0.children.borrow().get(index).cloned().map(Node)
    }

    /// Whether two handles are the same node.
    pub fn same_node(&self, other: &Node) -> bool {
        std::rc::Rc::ptr_eq(&self.0, &other.0)
    }

    /// A stable address for this node while the document lives (for identity checks).
    pub fn address(&self) -> usize {
        std::rc::Rc::as_ptr(&self.0) as usize
    }

    /// All text below this node, in order (like `textContent`).
    pub fn text_content(&self) -> String {
        let mut out = String::new();
        let mut stack = vec![self.0.clone()];
        while let Some(handle) = stack.pop() {
            if let NodeData::Text { contents } = &handle.data {
                out.push_str(&contents.borrow());
            }
            for child in handle.children.borrow().iter().rev() {
                stack.push(child.clone());
            }
        }
        out
    }

    /// A short source-like description for the trace: `<img src="/a.png">`.
    pub fn describe(&self, shown_attrs: &[&str]) -> String {
        let Some(tag) = self.tag() else {
            return "#text".to_string();
        };
        let mut out = format!("<{tag}");
        for name in shown_attrs {
            if let Some(value) = self.attr(name) {
                let value: String = value.chars().take(80).collect();
                out.push_str(&format!(" {name}=\"{value}\""));
            }
        }
        out.push('>');
        out
    }
}
