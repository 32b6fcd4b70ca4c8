//! html5ever's tree builder, building into the arena of [`super::dom`].
//!
//! The sink counts depth and nodes as it builds, so that whoever feeds the parser (in
//! slices of [`SLICE`], `super::parse` and `super::pipeline`) can stop a page which would
//! make it slow (deep nesting is quadratic in html5ever) or is huge at a limit; what was
//! parsed up to there becomes the document, with the reason in [`ParseStats::stopped`].

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell, RefMut};

use std::collections::HashMap;

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{TagKind, Token};
use html5ever::{local_name, ns, Attribute, ExpandedName, LocalName, Namespace, QualName};

use super::dom::{Data, Document, Element, ParseLimits, ParseStats, Rec, NIL};

/// How many parse errors are kept as text (all are counted).
const KEPT_ERRORS: usize = 50;
/// The depth past which ordinary containers are not nested any deeper: their start and end
/// tags are left out and their content goes into the element at this depth. Chromium caps
/// its tree at 512 the same way (`kMaximumHTMLParserDOMTreeDepth`); here it also keeps
/// html5ever's stack of open elements short, as each start tag searches it.
pub const FLATTEN_AT: u32 = 512;

/// The slice of input fed to the parser between two checks of the limits. Small enough
/// that a slice of nested tags past the depth limit costs little.
pub(super) const SLICE: usize = 8 * 1024;
/// The tree builder's handle on a node: its index, and for an element its local name and
/// namespace (so the builder can ask for names without borrowing the arena). The builder
/// clones and drops handles all the time: one atom and a byte cost less than a `QualName`.
#[derive(Clone)]
pub struct Handle {
    id: u32,
    local: LocalName,
    /// Index into [`NAMESPACES`].
    ns: u8,
}

/// The namespaces an element gets in an HTML parse (the tree builder makes no others; the
/// last stands for "none", what the builder is told for nodes that are not elements).
static NAMESPACES: [Namespace; 4] = [ns!(html), ns!(svg), ns!(mathml), ns!()];

fn namespace_index(ns: &Namespace) -> u8 {
    NAMESPACES
        .iter()
        .position(|n| n == ns)
        .map_or(NAMESPACES.len() as u8 - 1, |i| i as u8)
}

pub(super) struct Sink {
    /// The document as built so far (its `stats` are filled in at the end).
    doc: RefCell<Document>,
    /// Per node, how far a reader of the growing document has got (see [`super::stream`]):
    /// changing a node it has read makes what it read wrong, which is noted in `changed`.
    read: RefCell<Vec<u8>>,
    changed: RefCell<Option<String>>,
    /// Per node: its depth (elements only, for the limit).
    depth: RefCell<Vec<u32>>,
    /// Template contents, by the template element's index.
    templates: RefCell<Vec<(u32, u32)>>,
    /// MathML annotation-xml integration points (rare; the builder asks about them).
    integration_points: RefCell<Vec<u32>>,
    errors: RefCell<Vec<String>>,
    error_count: Cell<u64>,
    quirks: Cell<QuirksMode>,
    max_depth: Cell<u32>,
    limits: ParseLimits,
    stopped: RefCell<Option<String>>,
    /// How deep the tree builder's stack of open elements is, as far as the sink can tell:
    /// an element appended is pushed (its depth), a popped one leaves its parent on top.
    open_depth: Cell<u32>,
    /// Start tags left out at [`FLATTEN_AT`], by name: their end tags are left out too.
    flattened_open: RefCell<HashMap<LocalName, u32>>,
    flattened: Cell<u64>,
}

impl Sink {
    pub(super) fn new(limits: ParseLimits) -> Sink {
        let document = Rec {
            parent: NIL,
            first_child: NIL,
            last_child: NIL,
            prev: NIL,
            next: NIL,
            data: Data::Document,
        };
        Sink {
            doc: RefCell::new(Document {
                nodes: vec![document],
                stats: ParseStats::default(),
            }),
            read: RefCell::new(Vec::new()),
            changed: RefCell::new(None),
            depth: RefCell::new(vec![0]),
            templates: RefCell::new(Vec::new()),
            integration_points: RefCell::new(Vec::new()),
            errors: RefCell::new(Vec::new()),
            error_count: Cell::new(0),
            quirks: Cell::new(QuirksMode::NoQuirks),
            max_depth: Cell::new(0),
            limits,
            stopped: RefCell::new(None),
            open_depth: Cell::new(0),
            flattened_open: RefCell::new(HashMap::new()),
            flattened: Cell::new(0),
        }
    }

    /// Whether `token` goes to the tree builder: no when it is the start tag of an ordinary
    /// container at [`FLATTEN_AT`] deep (or the end tag of one left out), so the tree is
    /// shown whole, nested no deeper. Elements whose tag changes how the rest is read
    /// (`<script>`, `<table>`, `<svg>`…) always go in; only the nesting limit stops those.
    pub(super) fn admits(&self, token: &Token) -> bool {
        let Token::TagToken(tag) = token else {
            return true;
        };
        if !is_ordinary_container(&tag.name) {
            return true;
        }
        let mut open = self.flattened_open.borrow_mut();
        match tag.kind {
            TagKind::StartTag
                if !tag.self_closing && self.open_depth.get() >= self.flatten_at() =>
            {
                *open.entry(tag.name.clone()).or_insert(0) += 1;
                self.flattened.set(self.flattened.get() + 1);
                false
            }
            TagKind::EndTag => match open.get_mut(&tag.name) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            },
            _ => true,
        }
    }

    fn flatten_at(&self) -> u32 {
        FLATTEN_AT.min(self.limits.max_depth / 2)
    }

    fn nodes(&self) -> Ref<'_, Vec<Rec>> {
        Ref::map(self.doc.borrow(), |d| &d.nodes)
    }

    fn nodes_mut(&self) -> RefMut<'_, Vec<Rec>> {
        RefMut::map(self.doc.borrow_mut(), |d| &mut d.nodes)
    }

    /// The document so far, for a reader between two batches of tokens.
    pub(super) fn document(&self) -> Ref<'_, Document> {
        self.doc.borrow()
    }

    /// How far the reader has got, per node.
    pub(super) fn read_marks(&self) -> RefMut<'_, Vec<u8>> {
        self.read.borrow_mut()
    }

    /// Why a node the reader had read was changed afterwards, if one was.
    pub(super) fn changed_after_read(&self) -> Option<String> {
        self.changed.borrow().clone()
    }

    /// Notes a change to node `id`: it matters when the reader has read the node.
    fn changing(&self, id: u32, what: &str) {
        if id == NIL {
            return;
        }
        let read = self.read.borrow().get(id as usize).is_some_and(|m| *m != 0);
        if read && self.changed.borrow().is_none() {
            self.changed.replace(Some(format!("{what} (node {id})")));
        }
    }

    /// Notes that `id` may have been read to its end: then nothing may be added to it.
    fn adding_to(&self, parent: u32) {
        if self
            .read
            .borrow()
            .get(parent as usize)
            .is_some_and(|m| *m == super::stream::DONE)
            && self.changed.borrow().is_none()
        {
            self.changed.replace(Some(format!(
                "a child added to a finished element (node {parent})"
            )));
        }
    }

    /// Records why the parse stopped early.
    pub(super) fn stop(&self, reason: String) {
        self.stopped.replace(Some(reason));
    }

    pub(super) fn over_limit(&self) -> Option<String> {
        let depth = self.max_depth.get();
        if depth > self.limits.max_depth {
            return Some(format!(
                "elements nested {depth} deep (the limit is {}; deeper nesting makes parsing quadratic)",
                self.limits.max_depth
            ));
        }
        let nodes = self.nodes().len();
        if nodes > self.limits.max_nodes as usize {
            return Some(format!(
                "more than {} nodes in the document",
                self.limits.max_nodes
            ));
        }
        None
    }

    fn push(&self, data: Data) -> u32 {
        let mut nodes = self.nodes_mut();
        let id = nodes.len() as u32;
        nodes.push(Rec {
            parent: NIL,
            first_child: NIL,
            last_child: NIL,
            prev: NIL,
            next: NIL,
            data,
        });
        self.depth.borrow_mut().push(0);
        id
    }

    fn handle(id: u32) -> Handle {
        Handle {
            id,
            local: local_name!(""),
            ns: NAMESPACES.len() as u8 - 1,
        }
    }

    /// Links a detached node as `parent`'s last child.
    fn link_last(&self, parent: u32, child: u32) {
        self.adding_to(parent);
        let mut nodes = self.nodes_mut();
        let last = nodes[parent as usize].last_child;
        {
            let c = &mut nodes[child as usize];
            c.parent = parent;
            c.prev = last;
            c.next = NIL;
        }
        if last == NIL {
            nodes[parent as usize].first_child = child;
        } else {
            nodes[last as usize].next = child;
        }
        nodes[parent as usize].last_child = child;
        drop(nodes);
        self.note_depth(parent, child);
    }

    /// Links a detached node just before `sibling`.
    fn link_before(&self, sibling: u32, child: u32) {
        self.changing(sibling, "a node inserted before one already read");
        let mut nodes = self.nodes_mut();
        let parent = nodes[sibling as usize].parent;
        let prev = nodes[sibling as usize].prev;
        {
            let c = &mut nodes[child as usize];
            c.parent = parent;
            c.prev = prev;
            c.next = sibling;
        }
        nodes[sibling as usize].prev = child;
        if prev == NIL {
            if parent != NIL {
                nodes[parent as usize].first_child = child;
            }
        } else {
            nodes[prev as usize].next = child;
        }
        drop(nodes);
        if parent != NIL {
            self.note_depth(parent, child);
        }
    }

    fn unlink(&self, id: u32) {
        let nodes = self.nodes_mut();
        let (parent, prev, next) = {
            let r = &nodes[id as usize];
            (r.parent, r.prev, r.next)
        };
        if parent == NIL {
            return;
        }
        drop(nodes);
        self.changing(id, "a node already read was moved");
        self.changing(prev, "the node after one already read was moved");
        let mut nodes = self.nodes_mut();
        if prev == NIL {
            nodes[parent as usize].first_child = next;
        } else {
            nodes[prev as usize].next = next;
        }
        if next == NIL {
            nodes[parent as usize].last_child = prev;
        } else {
            nodes[next as usize].prev = prev;
        }
        let r = &mut nodes[id as usize];
        r.parent = NIL;
        r.prev = NIL;
        r.next = NIL;
    }

    /// Depth bookkeeping for the nesting limit. (A moved subtree keeps its old depths: the
    /// figure only has to catch runaway nesting, which the builder produces by appending.)
    fn note_depth(&self, parent: u32, child: u32) {
        let mut depth = self.depth.borrow_mut();
        let d = depth[parent as usize] + 1;
        depth[child as usize] = d;
        if matches!(self.nodes()[child as usize].data, Data::Element(_)) {
            self.open_depth.set(d);
        }
        if d > self.max_depth.get() {
            self.max_depth.set(d);
        }
    }

    /// Appends text to the text node `id` if it is one.
    fn merge_text(&self, id: u32, text: &StrTendril) -> bool {
        if id == NIL {
            return false;
        }
        if !matches!(self.nodes()[id as usize].data, Data::Text(_)) {
            return false;
        }
        self.changing(id, "text added to a text node already read");
        if let Data::Text(t) = &mut self.nodes_mut()[id as usize].data {
            t.push_tendril(text);
        }
        true
    }
}

impl TreeSink for Sink {
    type Handle = Handle;
    type Output = Document;
    type ElemName<'a> = ExpandedName<'a>;

    fn finish(self) -> Document {
        let Document { nodes, .. } = self.doc.into_inner();
        let mut stats = ParseStats {
            nodes: nodes.len() as u64,
            error_count: self.error_count.get(),
            errors: self.errors.into_inner(),
            quirks_mode: self.quirks.get() != QuirksMode::NoQuirks,
            max_depth: self.max_depth.get(),
            stopped: self.stopped.into_inner(),
            flattened: self.flattened.get(),
            ..ParseStats::default()
        };
        stats.elements = nodes
            .iter()
            .filter(|r| matches!(r.data, Data::Element(_)))
            .count() as u64;
        Document { nodes, stats }
    }

    fn parse_error(&self, msg: Cow<'static, str>) {
        self.error_count.set(self.error_count.get() + 1);
        let mut errors = self.errors.borrow_mut();
        if errors.len() < KEPT_ERRORS {
            errors.push(msg.into_owned());
        }
    }

    fn get_document(&self) -> Handle {
        Sink::handle(0)
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> ExpandedName<'a> {
        ExpandedName {
            ns: &NAMESPACES[usize::from(target.ns)],
            local: &target.local,
        }
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> Handle {
        let local = name.local.clone();
        let ns = namespace_index(&name.ns);
        let id = self.push(Data::Element(Element { name, attrs }));
        if flags.template {
            let contents = self.push(Data::Fragment);
            self.templates.borrow_mut().push((id, contents));
        }
        if flags.mathml_annotation_xml_integration_point {
            self.integration_points.borrow_mut().push(id);
        }
        Handle { id, local, ns }
    }

    fn create_comment(&self, _text: StrTendril) -> Handle {
        Sink::handle(self.push(Data::Comment))
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> Handle {
        Sink::handle(self.push(Data::ProcessingInstruction))
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        match child {
            NodeOrText::AppendNode(node) => self.link_last(parent.id, node.id),
            NodeOrText::AppendText(text) => {
                let last = self.nodes()[parent.id as usize].last_child;
                if !self.merge_text(last, &text) {
                    let id = self.push(Data::Text(text));
                    self.link_last(parent.id, id);
                }
            }
        }
    }

    fn append_based_on_parent_node(
        &self,
        element: &Handle,
        prev_element: &Handle,
        child: NodeOrText<Handle>,
    ) {
        let has_parent = self.nodes()[element.id as usize].parent != NIL;
        if has_parent {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(
        &self,
        _name: StrTendril,
        _public: StrTendril,
        _system: StrTendril,
    ) {
        let id = self.push(Data::Doctype);
        self.link_last(0, id);
    }

    fn get_template_contents(&self, target: &Handle) -> Handle {
        let contents = self
            .templates
            .borrow()
            .iter()
            .rev()
            .find(|(t, _)| *t == target.id)
            .map(|(_, c)| *c);
        // The builder only asks for a template's contents; a fresh fragment otherwise.
        Sink::handle(contents.unwrap_or_else(|| self.push(Data::Fragment)))
    }

    fn pop(&self, node: &Handle) {
        let depth = self
            .depth
            .borrow()
            .get(node.id as usize)
            .copied()
            .unwrap_or(0);
        self.open_depth.set(depth.saturating_sub(1));
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        x.id == y.id
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.quirks.set(mode);
    }

    fn append_before_sibling(&self, sibling: &Handle, new_node: NodeOrText<Handle>) {
        match new_node {
            NodeOrText::AppendNode(node) => {
                self.unlink(node.id);
                self.link_before(sibling.id, node.id);
            }
            NodeOrText::AppendText(text) => {
                let prev = self.nodes()[sibling.id as usize].prev;
                if !self.merge_text(prev, &text) {
                    let id = self.push(Data::Text(text));
                    self.link_before(sibling.id, id);
                }
            }
        }
    }

    fn add_attrs_if_missing(&self, target: &Handle, attrs: Vec<Attribute>) {
        let added = match &mut self.nodes_mut()[target.id as usize].data {
            Data::Element(e) => {
                let before = e.attrs.len();
                for attr in attrs {
                    if !e.attrs.iter().any(|a| a.name == attr.name) {
                        e.attrs.push(attr);
                    }
                }
                e.attrs.len() > before
            }
            _ => false,
        };
        if added {
            self.changing(target.id, "attributes added to an element already read");
        }
    }

    fn remove_from_parent(&self, target: &Handle) {
        self.unlink(target.id);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        loop {
            let first = self.nodes()[node.id as usize].first_child;
            if first == NIL {
                break;
            }
            self.unlink(first);
            self.link_last(new_parent.id, first);
        }
    }

    fn is_mathml_annotation_xml_integration_point(&self, handle: &Handle) -> bool {
        self.integration_points.borrow().contains(&handle.id)
    }
}

/// The elements that only group what is inside them: leaving one out at the depth cap
/// changes the nesting, not how the rest is parsed (no raw text, no table or foreign
/// content rules, no form owner).
fn is_ordinary_container(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("div")
            | local_name!("span")
            | local_name!("section")
            | local_name!("article")
            | local_name!("aside")
            | local_name!("nav")
            | local_name!("header")
            | local_name!("footer")
            | local_name!("main")
            | local_name!("blockquote")
            | local_name!("center")
            | local_name!("ul")
            | local_name!("ol")
            | local_name!("dl")
            | local_name!("figure")
            | local_name!("details")
            | local_name!("b")
            | local_name!("i")
            | local_name!("u")
            | local_name!("em")
            | local_name!("strong")
            | local_name!("small")
            | local_name!("big")
            | local_name!("font")
            | local_name!("code")
            | local_name!("q")
            | local_name!("sub")
            | local_name!("sup")
            | local_name!("abbr")
            | local_name!("cite")
            | local_name!("mark")
            | local_name!("label")
    )
}
