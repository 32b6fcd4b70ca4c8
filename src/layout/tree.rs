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
    pub node: Node,
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
pub struct Tree {
    pub nodes: Vec<TreeNode>,
    classes: Vec<u32>,
}

impl Tree {
    /// Flattens the document (comments, doctypes and template contents are left out).
    pub fn build(doc: &Document) -> Tree {
        let mut tree = Tree {
            nodes: Vec::with_capacity(doc.stats.nodes as usize),
            classes: Vec::new(),
        };
        // (node, its arena index, next child to visit, last child element seen)
        let root = doc.root();
        let mut stack: Vec<(Node, u32, usize, u32)> = vec![(root, NONE, 0, NONE)];
        while let Some(top) = stack.last_mut() {
            let (ref parent, parent_index, ref mut next_child, ref mut last_el) = *top;
            let Some(child) = parent.child(*next_child) else {
                if parent_index != NONE {
                    let end = tree.nodes.len() as u32;
                    tree.nodes[parent_index as usize].end = end;
                }
                stack.pop();
                continue;
            };
            *next_child += 1;
            let index = tree.nodes.len() as u32;
            if child.is_element() {
                let prev = *last_el;
                *last_el = index;
                if prev != NONE {
                    tree.nodes[prev as usize].next = index;
                } else if parent_index != NONE {
                    tree.nodes[parent_index as usize].first_child = index;
                }
                let id_hash = child.with_attr("id", hash_name).unwrap_or(0);
                let class_start = tree.classes.len() as u32;
                child.with_attr("class", |v| {
                    for c in v.split_ascii_whitespace() {
                        tree.classes.push(hash_name(c));
                    }
                });
                let class_len = tree.classes.len() as u32 - class_start;
                tree.nodes.push(TreeNode {
                    node: child.clone(),
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
                stack.push((child, index, 0, NONE));
            } else if child.with_text(|_| ()).is_some() {
                tree.nodes.push(TreeNode {
                    node: child,
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
        tree
    }

    /// The hashes of an element's classes.
    pub fn class_hashes(&self, index: u32) -> &[u32] {
        let n = &self.nodes[index as usize];
        &self.classes[n.class_start as usize..(n.class_start + n.class_len) as usize]
    }
}
