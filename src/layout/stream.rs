//! The layout run alongside the parse: it reads the DOM's nodes as the parser finishes them
//! (see `html::stream`) and lays them out as they come, so that by the time the parse is over
//! most of the page is laid out — as a browser renders a page while it still arrives.
//!
//! Every stage is the one [`super::layout_document_styled`] uses, resumed each time the tree
//! has grown: the tree arena, the cascade (told that elements may still get siblings, so a
//! `:last-child` is decided only when it can be), the box builder (which waits where it needs
//! an element whole) and the line breaker (which takes only items that can no longer change).
//!
//! What comes out is always what the finished document gives. When the bet that read nodes
//! stay as they were is lost — the parser's repairs moved something it had read, a stylesheet
//! or a `<base>` came after the content it applies to, a `:last-child` turned out to change
//! how an element shows — the layout starts again from the finished document, and says why.

use std::time::{Duration, Instant};

use url::Url;

use crate::html::{Document, Node, Reader, Step};

use super::boxes::BoxState;
use super::css::Media;
use super::flow::FlowState;
use super::style::{sheet_elements, StyleEngine};
use super::tree::{Tree, TreeData, NONE, PENDING};
use super::{Layout, StyleSources};

/// How the layout went with the parse, for the trace.
#[derive(Clone, Debug, Default)]
pub struct WithParse {
    /// Time spent laying out while the parse went on.
    pub ms_during_parse: f64,
    /// Why what was laid out during the parse was thrown away, if it was.
    pub restarted: Option<String>,
}

/// A layout that reads the document while it is parsed.
pub struct StreamingLayout<'s> {
    page_url: Url,
    width: usize,
    sources: &'s StyleSources,
    tree: TreeData,
    /// Set up once the `<head>` is read: its stylesheets and `<base>` apply from there on.
    stages: Option<Stages>,
    gave_up: Option<String>,
    busy: Duration,
    fields: super::Fields,
}

/// The stages past the tree, with what they were set up from.
struct Stages {
    base: Url,
    /// The DOM nodes of the `<style>` and `<link>` elements the stylesheets came from.
    sheet_nodes: Vec<u32>,
    styles: StyleEngine,
    boxes: BoxState,
    flow: FlowState,
}

impl<'s> StreamingLayout<'s> {
    pub fn new(page_url: &Url, width: usize, sources: &'s StyleSources) -> Self {
        StreamingLayout {
            page_url: page_url.clone(),
            width: width.clamp(20, 1000),
            sources,
            tree: TreeData::default(),
            stages: None,
            gave_up: None,
            busy: Duration::ZERO,
            fields: super::Fields::AsText,
        }
    }

    /// Form fields laid out as `fields` says (numbered, in the TUI).
    pub fn with_fields(mut self, fields: super::Fields) -> Self {
        self.fields = fields;
        self
    }

    /// The layout of the finished document. `changed` is the parser's word that a node read
    /// was changed afterwards.
    pub fn finish(mut self, doc: &Document, changed: Option<String>) -> (Layout, WithParse) {
        let during = crate::trace::ms(self.busy);
        let restarted = changed.or_else(|| self.gave_up.take());
        let outcome = match restarted {
            Some(why) => Err(why),
            None => self.complete(doc),
        };
        let (layout, restarted) = match outcome {
            Ok(layout) => (layout, None),
            Err(why) => {
                let base = crate::assets::base_url(doc, &self.page_url);
                let layout =
                    super::layout_document_with(doc, &base, self.width, self.sources, self.fields);
                (layout, Some(why))
            }
        };
        let with = WithParse {
            ms_during_parse: during,
            restarted,
        };
        (layout, with)
    }

    /// Lays out the rest, once the document is finished and every node read; an error says
    /// why what was laid out is not the document's layout.
    fn complete(&mut self, doc: &Document) -> Result<Layout, String> {
        if self.stages.is_none() {
            self.start(doc);
        }
        if let Some(why) = self.gave_up.take() {
            return Err(why);
        }
        let tree = self.tree.view(doc);
        let Some(mut st) = self.stages.take() else {
            return Err("the layout could not start".into());
        };
        let nodes: Vec<u32> = sheet_elements(&tree)
            .iter()
            .map(|&i| tree.nodes[i as usize].id)
            .collect();
        if nodes != st.sheet_nodes {
            return Err("a stylesheet came after content it styles".into());
        }
        if crate::assets::base_url(doc, &self.page_url) != st.base {
            return Err("a <base> came after links it changes".into());
        }
        st.styles.advance(&tree, false);
        let boxes = st.boxes.finish(&tree, &mut st.styles);
        st.styles.settle_all(&tree);
        if let Some(why) = st.styles.gave_up.take() {
            return Err(why);
        }
        st.flow.advance(&boxes, boxes.items.len());
        let out = st.flow.finish(&boxes);
        Ok(super::assemble(out, boxes, self.width))
    }

    /// Sets the stages up from what is read so far (the head): the stylesheets, the base.
    fn start(&mut self, doc: &Document) {
        let tree = self.tree.view(doc);
        let base = base_so_far(&tree, &self.page_url);
        let sheets = sheet_elements(&tree);
        let media = Media::for_columns(self.width);
        let styles = StyleEngine::new(&tree, &sheets, &base, self.sources, media);
        if let Some(why) = styles.needs_whole_tree() {
            self.gave_up = Some(why);
        }
        self.stages = Some(Stages {
            sheet_nodes: sheets.iter().map(|&i| tree.nodes[i as usize].id).collect(),
            boxes: BoxState::new(&base, 0, self.fields),
            flow: FlowState::new(self.width, 0, 0),
            base,
            styles,
        });
    }

    /// Whether the `<head>` has been read to its end (where author styles and `<base>`
    /// are, in a well-formed page).
    fn head_read(&self, doc: &Document) -> bool {
        let nodes = &self.tree.nodes;
        let Some(root) = nodes.first() else {
            return false;
        };
        if root.first_child == NONE {
            return false;
        }
        let first = &nodes[root.first_child as usize];
        doc.node_at(first.id).tag() != Some("head") || first.end != PENDING
    }
}

/// The base URL as [`crate::assets::base_url`] finds it, in the part of the tree read so far.
fn base_so_far(tree: &Tree, page_url: &Url) -> Url {
    let elements = (0..tree.nodes.len())
        .filter(|&i| !tree.nodes[i].is_text)
        .map(|i| tree.dom(i));
    crate::assets::base_url_among(elements, page_url)
}

impl Reader for StreamingLayout<'_> {
    /// Formatting elements and tables are taken whole: the parser's repairs of misnested
    /// markup (the adoption agency, foster parenting) move nodes inside them.
    fn wants_whole(&self, node: Node) -> bool {
        matches!(
            node.tag(),
            Some(
                "a" | "b"
                    | "big"
                    | "code"
                    | "em"
                    | "font"
                    | "i"
                    | "nobr"
                    | "s"
                    | "small"
                    | "strike"
                    | "strong"
                    | "tt"
                    | "u"
                    | "table"
                    | "caption"
                    | "colgroup"
                    | "col"
                    | "tbody"
                    | "thead"
                    | "tfoot"
                    | "tr"
                    | "td"
                    | "th"
            )
        )
    }

    fn read(&mut self, doc: &Document, steps: &[Step]) {
        if self.gave_up.is_some() {
            return;
        }
        let started = Instant::now();
        for step in steps {
            match *step {
                Step::Enter { id, .. } => self.tree.enter(&doc.node_at(id)),
                Step::Text { id } => self.tree.text(&doc.node_at(id)),
                Step::Leave { .. } => self.tree.leave(),
            }
        }
        if self.stages.is_none() && self.head_read(doc) {
            self.start(doc);
        }
        if self.gave_up.is_none() {
            if let Some(st) = &mut self.stages {
                let tree = self.tree.view(doc);
                st.styles.advance(&tree, true);
                st.boxes.advance(&tree, &mut st.styles);
                st.flow.advance(&st.boxes.out, st.boxes.final_items());
                self.gave_up = st.styles.gave_up.take();
            }
        }
        self.busy += started.elapsed();
    }
}
