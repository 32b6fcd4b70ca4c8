//! The DOM: every node of a document in one arena, linked by indices.
//!
//! Node 0 is the document. Each node knows its parent, first and last child and both
//! siblings, so walking in document order, going up, and reading siblings are all O(1)
//! steps without recursion (documents can nest 100,000 levels deep) and without reference
//! counting. A [`Node`] is a copyable (document, index) pair.

use html5ever::tendril::StrTendril;
use html5ever::{Attribute, QualName};

/// "No such node" in the arena's links.
pub(crate) const NIL: u32 = u32::MAX;

/// A parsed HTML document.
pub struct Document {
    pub(crate) nodes: Vec<Rec>,
    pub stats: ParseStats,
}

/// One node and its links.
pub(crate) struct Rec {
    pub parent: u32,
    pub first_child: u32,
    pub last_child: u32,
    pub prev: u32,
    pub next: u32,
    pub data: Data,
}

pub(crate) enum Data {
    Document,
    Doctype,
    Text(StrTendril),
    Comment,
    ProcessingInstruction,
    /// A `<template>`'s contents: kept out of the tree, as the standard says.
    Fragment,
    Element(Element),
}

pub(crate) struct Element {
    pub name: QualName,
    pub attrs: Vec<Attribute>,
}

/// What the parse step reports.
#[derive(Clone, Debug, Default)]
pub struct ParseStats {
    pub nodes: u64,
    pub elements: u64,
    /// How many repairs of invalid markup the parser made.
    pub error_count: u64,
    /// The first of them, as the parser words them.
    pub errors: Vec<String>,
    pub quirks_mode: bool,
    /// The deepest nesting of elements seen.
    pub max_depth: u32,
    /// Start tags of ordinary containers (`<div>`, `<span>`…) that came while the tree was
    /// already [`super::sink::FLATTEN_AT`] deep: left out, their content kept in the element
    /// at that depth, the way Chromium caps its tree (and html5ever stays fast).
    pub flattened: u64,
    /// Set when a limit stopped the parse early: which one, in words. What was parsed
    /// before that point is the document.
    pub stopped: Option<String>,
    /// Whether the tokenizer ran on a thread of its own.
    pub two_threads: bool,
    pub ms: f64,
    /// The character encoding the text was decoded from (WHATWG name; empty when the
    /// text came decoded): what the page's forms send in.
    pub encoding: String,
}

/// Bounds on what one document may cost to parse (see docs/limits.md).
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    /// Deeper nesting makes html5ever's tree builder quadratic (each start tag checks the
    /// whole stack of open elements): 100,000 nested `<div>` take 36 s.
    pub max_depth: u32,
    /// Nodes in the DOM.
    pub max_nodes: u32,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_depth: 1_024,
            max_nodes: 1_000_000,
        }
    }
}

impl Document {
    pub(crate) fn rec(&self, id: u32) -> &Rec {
        &self.nodes[id as usize]
    }

    fn node(&self, id: u32) -> Option<Node<'_>> {
        (id != NIL).then_some(Node { doc: self, id })
    }

    /// The node with this index ([`Node::id`]); the document itself for an index out of range.
    pub fn node_at(&self, id: u32) -> Node<'_> {
        let id = if (id as usize) < self.nodes.len() {
            id
        } else {
            0
        };
        Node { doc: self, id }
    }

    pub fn root(&self) -> Node<'_> {
        Node { doc: self, id: 0 }
    }

    /// Every node in document order with its depth (the document is depth 0).
    pub fn walk(&self) -> Walk<'_> {
        Walk {
            doc: self,
            next: 0,
            depth: 0,
            top: 0,
        }
    }

    /// The first element with this tag name, in document order.
    pub fn first(&self, tag: &str) -> Option<Node<'_>> {
        self.walk().map(|(n, _)| n).find(|n| n.tag() == Some(tag))
    }

    /// The tree as text: one line per node, indented by depth, with names (and
    /// namespaces), attributes and text, so that two parses can be compared.
    pub fn outline(&self) -> String {
        let mut out = String::new();
        for (node, depth) in self.walk() {
            out.push_str(&"  ".repeat(depth));
            match &self.rec(node.id()).data {
                Data::Element(e) => {
                    out.push_str(&format!("<{:?} {}", e.name.ns, e.name.local));
                    for a in &e.attrs {
                        out.push_str(&format!(" {}={:?}", a.name.local, &*a.value));
                    }
                    out.push('>');
                }
                Data::Text(t) => out.push_str(&format!("{:?}", &**t)),
                Data::Comment => out.push_str("<!-- -->"),
                Data::Doctype => out.push_str("<!DOCTYPE>"),
                Data::Document => out.push_str("#document"),
                Data::ProcessingInstruction => out.push_str("<?pi?>"),
                Data::Fragment => out.push_str("#fragment"),
            }
            out.push('\n');
        }
        out
    }

    /// The text of `<title>`, whitespace collapsed.
    pub fn title(&self) -> Option<String> {
        let title = self.first("title")?;
        let text = title.text_content();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!text.is_empty()).then_some(text)
    }
}

/// Pre-order walk below a node; see [`Document::walk`].
pub struct Walk<'a> {
    doc: &'a Document,
    next: u32,
    depth: usize,
    /// The node the walk started at: it does not climb above it.
    top: u32,
}

impl<'a> Iterator for Walk<'a> {
    type Item = (Node<'a>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == NIL {
            return None;
        }
        let id = self.next;
        let depth = self.depth;
        let rec = self.doc.rec(id);
        // Advance: first child, else the next sibling of this node or of an ancestor.
        if rec.first_child != NIL {
            self.next = rec.first_child;
            self.depth += 1;
        } else {
            let mut at = id;
            loop {
                if at == self.top {
                    self.next = NIL;
                    break;
                }
                let r = self.doc.rec(at);
                if r.next != NIL {
                    self.next = r.next;
                    break;
                }
                at = r.parent;
                self.depth = self.depth.saturating_sub(1);
                if at == NIL {
                    self.next = NIL;
                    break;
                }
            }
        }
        Some((Node { doc: self.doc, id }, depth))
    }
}

/// A node of the DOM.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    doc: &'a Document,
    id: u32,
}

impl<'a> Node<'a> {
    fn rec(&self) -> &'a Rec {
        self.doc.rec(self.id)
    }

    fn element(&self) -> Option<&'a Element> {
        match &self.rec().data {
            Data::Element(e) => Some(e),
            _ => None,
        }
    }

    /// The node's index in its document (stable while the document lives).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The element's tag name (lowercase for HTML), or None for other nodes.
    pub fn tag(&self) -> Option<&'a str> {
        self.element().map(|e| &*e.name.local)
    }

    pub fn is_element(&self) -> bool {
        self.element().is_some()
    }

    pub fn is_text(&self) -> bool {
        matches!(self.rec().data, Data::Text(_))
    }

    /// The text of a text node, borrowed.
    pub fn text_str(&self) -> Option<&'a str> {
        match &self.rec().data {
            Data::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The text of a text node.
    pub fn text(&self) -> Option<String> {
        self.text_str().map(str::to_string)
    }

    /// An attribute's value, borrowed.
    pub fn attr_str(&self, name: &str) -> Option<&'a str> {
        self.element()?
            .attrs
            .iter()
            .find(|a| &*a.name.local == name)
            .map(|a| &*a.value)
    }

    pub fn attr(&self, name: &str) -> Option<String> {
        self.attr_str(name).map(str::to_string)
    }

    pub fn has_attr(&self, name: &str) -> bool {
        self.attr_str(name).is_some()
    }

    /// Calls `f` with the text of a text node (None for other nodes).
    pub fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        self.text_str().map(f)
    }

    /// Calls `f` with the value of an attribute.
    pub fn with_attr<R>(&self, name: &str, f: impl FnOnce(&str) -> R) -> Option<R> {
        self.attr_str(name).map(f)
    }

    /// Calls `f` with each attribute's (local name, value).
    pub fn for_each_attr(&self, mut f: impl FnMut(&str, &str)) {
        if let Some(e) = self.element() {
            for a in &e.attrs {
                f(&a.name.local, &a.value);
            }
        }
    }

    /// Whether this is an element in the HTML namespace (not SVG or MathML).
    pub fn is_html_element(&self) -> bool {
        self.element()
            .is_some_and(|e| e.name.ns == html5ever::ns!(html))
    }

    pub fn parent(&self) -> Option<Node<'a>> {
        self.doc.node(self.rec().parent)
    }

    pub fn first_child(&self) -> Option<Node<'a>> {
        self.doc.node(self.rec().first_child)
    }

    pub fn next_sibling(&self) -> Option<Node<'a>> {
        self.doc.node(self.rec().next)
    }

    /// The child nodes, in order.
    pub fn children(&self) -> impl Iterator<Item = Node<'a>> + 'a {
        let doc = self.doc;
        let mut next = self.rec().first_child;
        std::iter::from_fn(move || {
            let node = doc.node(next)?;
            next = node.rec().next;
            Some(node)
        })
    }

    /// How many child nodes there are.
    pub fn child_count(&self) -> usize {
        self.children().count()
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

    /// Whether two nodes are the same node.
    pub fn same_node(&self, other: &Node) -> bool {
        std::ptr::eq(self.doc, other.doc) && self.id == other.id
    }

    /// This node and everything below it, in document order, with depths from 0.
    pub fn descendants(&self) -> Walk<'a> {
        Walk {
            doc: self.doc,
            next: self.id,
            depth: 0,
            top: self.id,
        }
    }

    /// All text below this node, in order (like `textContent`).
    pub fn text_content(&self) -> String {
        let mut out = String::new();
        for (node, _) in self.descendants() {
            if let Some(text) = node.text_str() {
                out.push_str(text);
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
            if let Some(value) = self.attr_str(name) {
                let value: String = value.chars().take(80).collect();
                out.push_str(&format!(" {name}=\"{value}\""));
            }
        }
        out.push('>');
        out
    }
}
