//! Reading a document while it is being parsed: the nodes that can no longer change, in
//! document order, as the parser goes — so the layout can run beside the parser instead of
//! after it, as a browser's does.
//!
//! What "can no longer change" means is a bet on how the tree builder works: it appends at
//! the end of the open elements, so a node with a next sibling is finished, and an element
//! can be entered as soon as it exists (its children come after). The bet fails for the
//! HTML standard's repairs — the adoption agency moves nodes out of misnested formatting
//! elements, foster parenting inserts before an open table, a second `<body>` tag adds
//! attributes — so the reader is told which elements to take only whole (formatting
//! elements, tables), and the tree sink notes every change to a node after it was read. A
//! reader who gets [`Read::changed`] must start again from the finished document.

use super::dom::{Data, Document, Node, NIL};

/// Marks, per node, of how far the reader got.
pub(super) const ENTERED: u8 = 1;
pub(super) const DONE: u8 = 2;

/// A step of the walk through the finished part of the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// An element starts; `depth` counts from 1 for the root element.
    Enter { id: u32, depth: usize },
    /// A text node, complete.
    Text { id: u32 },
    /// The element last entered and not yet left ends: no more children will come.
    Leave { id: u32 },
}

/// Someone who reads a document as it is parsed.
pub trait Reader {
    /// Whether this element must be complete before the reader is given it (an element
    /// the reader looks inside of when it starts, or one the parser's repairs can move).
    fn wants_whole(&self, node: Node) -> bool;
    /// The next steps of the walk. `doc` is the document so far: everything the steps
    /// name is in it and stays as it is, unless the parse later says otherwise.
    fn read(&mut self, doc: &Document, steps: &[Step]);
}

/// The walk's position: the elements entered and not left, and for the innermost, the
/// last child already read.
#[derive(Default)]
pub(super) struct Walker {
    open: Vec<u32>,
    last_read: u32,
    started: bool,
    steps: Vec<Step>,
}

impl Walker {
    /// Reads as far as the document allows. With `finished`, the parse is over and every
    /// node is final: the walk goes to the end.
    pub(super) fn advance(
        &mut self,
        doc: &Document,
        marks: &mut Vec<u8>,
        finished: bool,
        reader: &mut dyn Reader,
    ) {
        if !self.started {
            self.started = true;
            self.last_read = NIL;
        }
        if marks.len() < doc.nodes.len() {
            marks.resize(doc.nodes.len(), 0);
        }
        self.steps.clear();
        loop {
            let parent = self.open.last().copied().unwrap_or(0);
            let next = if self.last_read == NIL {
                doc.rec(parent).first_child
            } else {
                doc.rec(self.last_read).next
            };
            // Everything inside an element that something follows is complete.
            let closed = finished || self.open.iter().rev().any(|&e| doc.rec(e).next != NIL);
            if next == NIL {
                // No more children for now: the element ends once it is complete.
                if parent == 0 || !closed {
                    break;
                }
                self.open.pop();
                marks[parent as usize] = DONE;
                self.steps.push(Step::Leave { id: parent });
                self.last_read = parent;
                continue;
            }
            let complete = closed || doc.rec(next).next != NIL;
            match &doc.rec(next).data {
                Data::Text(_) => {
                    // The last text node may still grow.
                    if !complete {
                        break;
                    }
                    marks[next as usize] = DONE;
                    self.steps.push(Step::Text { id: next });
                    self.last_read = next;
                }
                Data::Element(_) => {
                    if !complete && reader.wants_whole(doc.node_at(next)) {
                        break;
                    }
                    marks[next as usize] = ENTERED;
                    self.open.push(next);
                    self.steps.push(Step::Enter {
                        id: next,
                        depth: self.open.len(),
                    });
                    self.last_read = NIL;
                }
                _ => {
                    // Comments and the doctype are passed over, but marked: a node put
                    // before one of them would land in what was read.
                    marks[next as usize] = DONE;
                    self.last_read = next;
                }
            }
        }
        if !self.steps.is_empty() {
            reader.read(doc, &self.steps);
        }
    }
}

/// Gives `reader` a finished document in one go.
pub(super) fn read_all(doc: &Document, reader: &mut dyn Reader) {
    Walker::default().advance(doc, &mut Vec::new(), true, reader);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::ParseLimits;

    /// Collects the steps it is given.
    struct Collect {
        steps: Vec<Step>,
        calls: usize,
        whole: &'static [&'static str],
    }

    impl Reader for Collect {
        fn wants_whole(&self, node: Node) -> bool {
            node.tag().is_some_and(|t| self.whole.contains(&t))
        }
        fn read(&mut self, _doc: &Document, steps: &[Step]) {
            self.steps.extend_from_slice(steps);
            self.calls += 1;
        }
    }

    /// The walk of a finished document, as steps.
    fn steps_of(doc: &Document) -> Vec<Step> {
        let mut out = Vec::new();
        let mut open: Vec<(u32, usize)> = Vec::new();
        for (node, depth) in doc.walk() {
            if depth == 0 || !(node.is_element() || node.is_text()) {
                continue;
            }
            while open.last().is_some_and(|(_, d)| *d >= depth) {
                if let Some((id, _)) = open.pop() {
                    out.push(Step::Leave { id });
                }
            }
            if node.is_element() {
                out.push(Step::Enter {
                    id: node.id(),
                    depth,
                });
                open.push((node.id(), depth));
            } else {
                out.push(Step::Text { id: node.id() });
            }
        }
        while let Some((id, _)) = open.pop() {
            out.push(Step::Leave { id });
        }
        out
    }

    const WHOLE: &[&str] = &["a", "b", "i", "table", "select"];

    fn streamed(html: &str) -> (Document, Vec<Step>, Option<String>) {
        let (doc, steps, changed, _) = streamed_calls(html);
        (doc, steps, changed)
    }

    fn streamed_calls(html: &str) -> (Document, Vec<Step>, Option<String>, usize) {
        let mut reader = Collect {
            steps: Vec::new(),
            calls: 0,
            whole: WHOLE,
        };
        let (doc, changed) = super::super::pipeline::parse_read(
            html,
            ParseLimits::default(),
            super::super::parse::tree_builder_opts(),
            &mut reader,
        )
        .expect("a second thread");
        (doc, reader.steps, changed, reader.calls)
    }

    fn page(body: &str) -> String {
        // Long enough to span many batches of tokens, so the reader reads as it goes.
        let mut page = String::from("<!DOCTYPE html><html><head><title>t</title></head><body>");
        while page.len() < 200_000 {
            page.push_str(body);
        }
        page
    }

    #[test]
    fn read_while_parsing_is_the_finished_walk() {
        let html =
            page("<div class=x><p>one <em>two</em> three</p><ul><li>a<li>b</ul>text</div>\n");
        let (doc, steps, changed, calls) = streamed_calls(&html);
        assert_eq!(changed, None);
        assert_eq!(steps, steps_of(&doc));
        // Read in many pieces as the parse went, not all at the end.
        assert!(calls > 5, "{calls} reads");
    }

    #[test]
    fn repairs_that_move_read_nodes_are_caught() {
        // The adoption agency moves the <p> and its text out of <i>: not wanted whole here.
        let mut reader = Collect {
            steps: Vec::new(),
            calls: 0,
            whole: &[],
        };
        let html = page("<div><i>one<p>two</i>three</p></div>");
        let (_, changed) = super::super::pipeline::parse_read(
            &html,
            ParseLimits::default(),
            super::super::parse::tree_builder_opts(),
            &mut reader,
        )
        .expect("a second thread");
        assert!(changed.is_some());
        // Taken whole, <i> is read after the repair (which happens inside it).
        let (doc, steps, changed) = streamed(&html);
        assert_eq!(changed, None, "i is read whole");
        assert_eq!(steps, steps_of(&doc));
    }

    #[test]
    fn foster_parenting_before_a_read_table_is_caught_or_avoided() {
        let html = page("<table><tr><td>1</td></tr>stray<tr><td>2</td></tr></table><p>x</p>");
        let (doc, steps, changed) = streamed(&html);
        assert_eq!(changed, None, "tables are read whole");
        assert_eq!(steps, steps_of(&doc));
    }

    #[test]
    fn a_second_body_tag_adding_attributes_is_caught() {
        let mut html = page("<p>text</p>");
        html.push_str("<body class=late><p>end");
        let (_, _, changed) = streamed(&html);
        assert!(changed.is_some_and(|c| c.contains("attributes")));
    }
}
