//! The layout's view of the DOM: every element and text node in document order, in one
//! flat arena with parent and sibling indices, built without recursion.
//!
//! Selector matching needs O(1) parents and siblings (rcdom keeps neither), the cascade
//! walks elements in document order, and the box builder walks the same arena, skipping a
//! hidden subtree in one step (`end`).

use crate::html::{Document, Node};

use super::hash::hash_name;

/// "No such node".
pub const NONE: u32 = u32::MAX;

/// One element or text node.
pub struct TreeNode {
    /// The node's index in the DOM ([`Tree::dom`] gives the node).
    pub id: u32,
    /// The parent element (NONE for the root element).
    pub parent: u32,
    /// Previous and next sibling elements, and the first child element.
    pub prev: u32,
    pub next: u32,
    pub first_child: u32,
    /// The index just past this node's last descendant.
    pub end: u32,
    pub is_text: bool,
    /// Whether the element has a non-empty `id` (an in-page target): the box builder looks
    /// the attribute up only then.
    pub has_id: bool,
    pub id_hash: u32,
    class_start: u32,
    class_len: u32,
}

/// The arena. It is built in document order, all at once ([`TreeData::build`]) or as a
/// streamed parse gives the nodes ([`TreeData::enter`], [`TreeData::text`],
/// [`TreeData::leave`]); an element not yet left has `end` [`PENDING`].
#[derive(Default)]
pub struct TreeData {
    pub nodes: Vec<TreeNode>,
    classes: Vec<u32>,
    /// Per open element: its arena index and the last child element placed under it.
    open: Vec<(u32, u32)>,
}

/// "This element's end is not known yet": it is still open.
pub const PENDING: u32 = u32::MAX - 1;

/// The arena with the document it indexes into.
#[derive(Clone, Copy)]
pub struct Tree<'a> {
    doc: &'a Document,
    data: &'a TreeData,
}

impl std::ops::Deref for Tree<'_> {
    type Target = TreeData;
    fn deref(&self) -> &TreeData {
        self.data
    }
}

impl TreeData {
    /// Flattens a finished document (comments, doctypes and template contents are left out).
    pub fn build(doc: &Document) -> TreeData {
        let mut tree = TreeData {
            nodes: Vec::with_capacity(doc.stats.nodes as usize),
            ..TreeData::default()
        };
        let mut depth_of_open = 0;
        for (node, depth) in doc.walk() {
            // The walk is in document order: close the elements this node is not inside.
            while depth_of_open >= depth && depth_of_open > 0 {
                tree.leave();
                depth_of_open -= 1;
            }
            if node.is_element() {
                tree.enter(&node);
                depth_of_open = depth;
            } else if node.is_text() && depth > 0 {
                tree.text(&node);
            }
        }
        while !tree.open.is_empty() {
            tree.leave();
        }
        tree
    }

    /// The arena over `doc`, the document its nodes come from.
    pub fn view<'a>(&'a self, doc: &'a Document) -> Tree<'a> {
        Tree { doc, data: self }
    }

    /// An element starts, inside the innermost open one.
    pub fn enter(&mut self, node: &Node) {
        let index = self.nodes.len() as u32;
        let parent_index = self.open.last().map_or(NONE, |(i, _)| *i);
        let prev = match self.open.last_mut() {
            Some((_, last_el)) => std::mem::replace(last_el, index),
            None => NONE,
        };
        if prev != NONE {
            self.nodes[prev as usize].next = index;
        } else if parent_index != NONE {
            self.nodes[parent_index as usize].first_child = index;
        }
        // One pass over the attributes for both (the first of each name counts, as with
        // `attr_str`).
        let mut id_hash = 0;
        let mut has_id = false;
        let mut id_seen = false;
        let mut class_seen = false;
        let class_start = self.classes.len() as u32;
        let classes = &mut self.classes;
        node.for_each_attr(|name, value| match name {
            "id" if !id_seen => {
                id_seen = true;
                id_hash = hash_name(value);
                has_id = !value.is_empty();
            }
            "class" if !class_seen => {
                class_seen = true;
                for c in value.split_ascii_whitespace() {
                    classes.push(hash_name(c));
                }
            }
            _ => {}
        });
        let class_len = self.classes.len() as u32 - class_start;
        self.nodes.push(TreeNode {
            id: node.id(),
            parent: parent_index,
            prev,
            next: NONE,
            first_child: NONE,
            end: PENDING,
            is_text: false,
            has_id,
            id_hash,
            class_start,
            class_len,
        });
        self.open.push((index, NONE));
    }

    /// A text node, inside the innermost open element.
    pub fn text(&mut self, node: &Node) {
        let index = self.nodes.len() as u32;
        let parent_index = self.open.last().map_or(NONE, |(i, _)| *i);
        self.nodes.push(TreeNode {
            id: node.id(),
            parent: parent_index,
            prev: NONE,
            next: NONE,
            first_child: NONE,
            end: index + 1,
            is_text: true,
            has_id: false,
            id_hash: 0,
            class_start: 0,
            class_len: 0,
        });
    }

    /// The innermost open element ends.
    pub fn leave(&mut self) {
        if let Some((index, _)) = self.open.pop() {
            let end = self.nodes.len() as u32;
            self.nodes[index as usize].end = end;
        }
    }

    /// Whether more children may still come to this element.
    pub fn is_open(&self, index: u32) -> bool {
        self.nodes
            .get(index as usize)
            .is_some_and(|n| n.end == PENDING)
    }

    /// The hashes of an element's classes.
    pub fn class_hashes(&self, index: u32) -> &[u32] {
        let n = &self.nodes[index as usize];
        &self.classes[n.class_start as usize..(n.class_start + n.class_len) as usize]
    }
}

impl<'a> Tree<'a> {
    /// The DOM node of the arena's entry `index`.
    pub fn dom(&self, index: usize) -> Node<'a> {
        self.doc.node_at(self.data.nodes[index].id)
    }
}
