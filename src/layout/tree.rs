//! The layout's view of the DOM: every element and text node in document order, in one
//! flat arena with parent and sibling indices, built without recursion.
//!
//! Selector matching needs O(1) parents and siblings (rcdom keeps neither), the cascade
//! walks elements in document order, and the box builder walks the same arena, skipping a
//! hidden subtree in one step (`end`).

use crate::html::{Document, Node};

use super::select::hash_name;

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
    pub id_hash: u32,
    class_start: u32,
    class_len: u32,
}

/// The arena.
pub struct Tree<'a> {
    doc: &'a Document,
    pub nodes: Vec<TreeNode>,
    classes: Vec<u32>,
}

impl<'a> Tree<'a> {
    /// Flattens the document (comments, doctypes and template contents are left out).
    pub fn build(doc: &'a Document) -> Tree<'a> {
        let mut tree = Tree {
            doc,
            nodes: Vec::with_capacity(doc.stats.nodes as usize),
            classes: Vec::new(),
        };
        // Per open element: its arena index and the last child element placed under it.
        let mut open: Vec<(u32, u32)> = Vec::new();
        let mut depth_of_open = 0;
        for (node, depth) in doc.walk() {
            // The walk is in document order: close the elements this node is not inside.
            while depth_of_open >= depth && depth_of_open > 0 {
                if let Some((index, _)) = open.pop() {
                    let end = tree.nodes.len() as u32;
                    tree.nodes[index as usize].end = end;
                }
                depth_of_open -= 1;
            }
            let index = tree.nodes.len() as u32;
            let parent_index = open.last().map_or(NONE, |(i, _)| *i);
            if node.is_element() {
                let prev = match open.last_mut() {
                    Some((_, last_el)) => std::mem::replace(last_el, index),
                    None => NONE,
                };
                if prev != NONE {
                    tree.nodes[prev as usize].next = index;
                } else if parent_index != NONE {
                    tree.nodes[parent_index as usize].first_child = index;
                }
                let id_hash = node.attr_str("id").map_or(0, hash_name);
                let class_start = tree.classes.len() as u32;
                if let Some(classes) = node.attr_str("class") {
                    for c in classes.split_ascii_whitespace() {
                        tree.classes.push(hash_name(c));
                    }
                }
                let class_len = tree.classes.len() as u32 - class_start;
                tree.nodes.push(TreeNode {
                    id: node.id(),
                    parent: parent_index,
                    prev,
                    next: NONE,
                    first_child: NONE,
                    end: index + 1,
                    is_text: false,
                    id_hash,
                    class_start,
                    class_len,
                });
                open.push((index, NONE));
                depth_of_open = depth;
            } else if node.is_text() && depth > 0 {
                tree.nodes.push(TreeNode {
                    id: node.id(),
                    parent: parent_index,
                    prev: NONE,
                    next: NONE,
                    first_child: NONE,
                    end: index + 1,
                    is_text: true,
                    id_hash: 0,
                    class_start: 0,
                    class_len: 0,
                });
            }
        }
        for (index, _) in open {
            let end = tree.nodes.len() as u32;
            tree.nodes[index as usize].end = end;
        }
        tree
    }

    /// The DOM node of the arena's entry `index`.
    pub fn dom(&self, index: usize) -> Node<'a> {
        self.doc.node_at(self.nodes[index].id)
    }

    /// The hashes of an element's classes.
    pub fn class_hashes(&self, index: u32) -> &[u32] {
        let n = &self.nodes[index as usize];
        &self.classes[n.class_start as usize..(n.class_start + n.class_len) as usize]
    }
}
