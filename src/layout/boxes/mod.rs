//! The box tree, flattened: styled nodes → a list of items (blocks opening and closing,
//! runs of text with their inline style, breaks, anchors). One pass over the arena, no
//! recursion, resumable when the tree arrives in pieces. Here: the items, the walk, and
//! what an element's end does (a link's text, a table's kind: data, a grid, or layout,
//! linearized). In the parts:
//!
//! - [`elements`]: what an element's start makes (blocks of each kind, list markers,
//!   links numbered, line breaks);
//! - [`text`]: inline text, its whitespace processed per `white-space`;
//! - [`replaced`]: images, form controls and frames as text;
//! - [`urls`]: link targets resolved against the base URL.

mod elements;
mod replaced;
mod text;
mod urls;

use url::Url;

use super::css::ContentPart;
use super::style::StyleEngine;
use super::tree::{Tree, NONE, PENDING};
use super::values::{Display, ListStyle, Style};
use super::Link;
use text::collapse;
use urls::Resolver;

pub const F_BOLD: u8 = 1;
pub const F_ITALIC: u8 = 2;
pub const F_UNDERLINE: u8 = 4;
pub const F_CODE: u8 = 8;
pub const F_HEADING: u8 = 16;
/// No line break opportunities inside (pre, nowrap).
pub const F_NOWRAP: u8 = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Block,
    Table {
        data: bool,
    },
    RowGroup {
        head: bool,
    },
    Row,
    Cell {
        colspan: u16,
        rowspan: u16,
        head: bool,
    },
    Caption,
}

#[derive(Clone, Copy, Debug)]
pub enum Item {
    Open {
        kind: Kind,
        /// Index of the matching Close.
        end: u32,
        margin_top: bool,
        margin_bottom: bool,
        indent: u8,
        /// Index into `markers` (a list item's bullet or number), or NONE.
        marker: u32,
    },
    Close,
    /// Text in `Boxes::text`, with inline style flags and the link it belongs to (or NONE).
    Text {
        start: u32,
        end: u32,
        flags: u8,
        link: u32,
    },
    /// A forced line break (`<br>`, a newline in preformatted text).
    Break,
    /// An in-page target: index into `anchors`.
    Anchor(u32),
    /// `<hr>`.
    Rule,
    Nop,
}

pub struct Boxes {
    pub items: Vec<Item>,
    pub text: String,
    pub markers: Vec<String>,
    pub links: Vec<Link>,
    pub anchors: Vec<String>,
}

struct OpenEl {
    index: u32,
    /// Index of this element's Open item, or NONE for inline elements.
    item: u32,
    link: bool,
    list: bool,
    table: bool,
    cell: bool,
    button: bool,
    quote: bool,
    /// A closed `<details>`: only its first `<summary>` shows.
    closed_details: bool,
    summary_seen: bool,
    /// Whether the children are walked (not for replaced elements).
    descend: bool,
}

impl OpenEl {
    /// An element entered, inline until its block is opened, its children walked.
    fn new(index: u32) -> OpenEl {
        OpenEl {
            index,
            item: NONE,
            link: false,
            list: false,
            table: false,
            cell: false,
            button: false,
            quote: false,
            closed_details: false,
            summary_seen: false,
            descend: true,
        }
    }
}

struct ListCounter {
    next: i64,
    step: i64,
}

#[derive(Default)]
struct TableStat {
    item: u32,
    real: bool,
    rows: u32,
    cols: u32,
    max_cols: u32,
    has_head: bool,
    has_block: bool,
    nested: bool,
    presentation: bool,
    cell_depth: u32,
}

struct OpenLink {
    index: usize,
    marker_item: usize,
    text_start: usize,
}

struct Builder<'a> {
    tree: &'a Tree<'a>,
    styles: &'a mut StyleEngine,
    s: &'a mut BoxState,
}

/// Where the box builder is in the tree, and what it has built; kept between calls when
/// the tree arrives in pieces (a layout beside the parser).
pub struct BoxState {
    resolver: Resolver,
    pub out: Boxes,
    space: bool,
    line_empty: bool,
    col: usize,
    word_char: bool,
    stack: Vec<OpenEl>,
    lists: Vec<ListCounter>,
    tables: Vec<TableStat>,
    links: Vec<OpenLink>,
    /// The marker of each unordered list style used so far, by style.
    shared_markers: Vec<(ListStyle, u32)>,
    /// The next tree node.
    next: usize,
    /// An element whose subtree is skipped once its end is known.
    skipping: Option<u32>,
    /// Whether form fields are numbered like links.
    fields: crate::layout::Fields,
}

impl BoxState {
    pub fn new(base: &Url, nodes: usize, fields: crate::layout::Fields) -> BoxState {
        BoxState {
            resolver: Resolver::new(base),
            out: Boxes {
                items: Vec::with_capacity(nodes),
                text: String::with_capacity(nodes * 16),
                markers: Vec::new(),
                links: Vec::new(),
                anchors: Vec::new(),
            },
            space: false,
            line_empty: true,
            col: 0,
            word_char: false,
            stack: Vec::new(),
            lists: Vec::new(),
            tables: Vec::new(),
            links: Vec::new(),
            shared_markers: Vec::new(),
            next: 0,
            skipping: None,
            fields,
        }
    }

    /// Builds the items of the nodes styled so far (`styles.done()`), as far as they are
    /// known: it waits at an element whose content it needs whole (a list numbered from its
    /// length, a `<select>`), at a subtree to skip whose end is not read yet, and at the end
    /// of an element whose style is not settled.
    pub fn advance(&mut self, tree: &Tree, styles: &mut StyleEngine) {
        Builder {
            tree,
            styles,
            s: self,
        }
        .run();
    }

    /// Ends every element still open (the tree is complete).
    pub fn finish(mut self, tree: &Tree, styles: &mut StyleEngine) -> Boxes {
        self.advance(tree, styles);
        let mut b = Builder {
            tree,
            styles,
            s: &mut self,
        };
        while let Some(top) = b.s.stack.pop() {
            let style = b
                .styles
                .settle(tree, top.index as usize)
                .unwrap_or_default();
            b.exit(top, style);
        }
        self.out
    }

    /// How many items are final: those before the first a still-open link or table may
    /// change when it ends (an empty link loses its number, a table learns its kind).
    pub fn final_items(&self) -> usize {
        let link = self.links.first().map_or(usize::MAX, |l| l.marker_item);
        let table = self.tables.first().map_or(usize::MAX, |t| t.item as usize);
        self.out.items.len().min(link).min(table)
    }
}

/// Builds the items for a styled tree.
pub fn build(
    tree: &Tree,
    styles: &mut StyleEngine,
    base: &Url,
    fields: crate::layout::Fields,
) -> Boxes {
    BoxState::new(base, tree.nodes.len(), fields).finish(tree, styles)
}

impl Builder<'_> {
    fn run(&mut self) {
        let tree = self.tree;
        let n = tree.nodes.len().min(self.styles.done());
        let mut i = self.s.next;
        loop {
            if let Some(skipped) = self.s.skipping {
                let end = tree.nodes[skipped as usize].end;
                if end == PENDING {
                    break;
                }
                self.s.skipping = None;
                i = end as usize;
            }
            // Leave the elements that end here.
            let mut waiting = false;
            while let Some(top) = self.s.stack.last() {
                if (i as u32) < tree.nodes[top.index as usize].end {
                    break;
                }
                let Some(style) = self.styles.settle(tree, top.index as usize) else {
                    waiting = true;
                    break;
                };
                if let Some(top) = self.s.stack.pop() {
                    self.exit(top, style);
                }
            }
            if waiting || i >= n {
                break;
            }
            let node = &tree.nodes[i];
            // Inside a closed <details>, only the first <summary> is shown.
            if let Some(top) = self.s.stack.last_mut() {
                if top.closed_details && node.parent == top.index {
                    let is_summary = !node.is_text && tree.dom(i).tag() == Some("summary");
                    if is_summary && !top.summary_seen {
                        top.summary_seen = true;
                    } else {
                        self.s.skipping = Some(i as u32);
                        continue;
                    }
                }
            }
            if node.is_text {
                if let Some(top) = self.s.stack.last() {
                    let style = self.styles.style(top.index as usize);
                    tree.dom(i).with_text(|t| self.text(t, &style));
                }
                i += 1;
                continue;
            }
            let style = self.styles.style(i);
            if style.display == Display::None || style.display == Display::Column {
                self.s.skipping = Some(i as u32);
                continue;
            }
            if node.end == PENDING && self.needs_whole(i, &style) {
                break;
            }
            let open = self.enter(i as u32, &style);
            let descend = open.descend;
            self.s.stack.push(open);
            if descend {
                i += 1;
            } else {
                // Ended (and left) once its end is known, its content skipped.
                self.s.skipping = Some(i as u32);
            }
        }
        self.s.next = i;
    }

    /// Whether element `i` must be read to its end before it is built: its box shows what
    /// is inside (a `<select>`'s chosen option, a `<textarea>`'s text) or depends on how
    /// many items it has (a numbered or reversed list).
    fn needs_whole(&self, i: usize, style: &Style) -> bool {
        let node = self.tree.dom(i);
        match node.tag() {
            Some("select" | "textarea") => true,
            Some("ol" | "ul" | "menu" | "dir") => {
                style.list_style.is_ordered() || node.has_attr("reversed")
            }
            _ => false,
        }
    }
}

impl Builder<'_> {
    /// The link text now added belongs to (NONE: none).
    fn current_link(&self) -> u32 {
        self.s.links.last().map_or(NONE, |l| l.index as u32)
    }

    /// `::before` or `::after` content (`content`, NONE for none) of element `index`.
    fn generated(&mut self, content: u32, index: u32, style: &Style) {
        if content == NONE {
            return;
        }
        let parts = &self.styles.sheets().contents[content as usize];
        let mut text = String::new();
        for part in parts {
            match part {
                ContentPart::Text(s) => text.push_str(s),
                ContentPart::Attr(name) => {
                    if let Some(v) = self.tree.dom(index as usize).attr(name) {
                        text.push_str(&v);
                    }
                }
                ContentPart::OpenQuote => text.push('“'),
                ContentPart::CloseQuote => text.push('”'),
            }
        }
        self.text(&text, style);
    }

    /// The index of list item `n`'s marker in `markers`, or NONE when it shows none. The
    /// items of an unordered list share one (a String per item cost time and memory).
    fn marker(&mut self, list_style: ListStyle, n: i64) -> u32 {
        let shared = !list_style.is_ordered();
        if shared {
            if let Some(&(_, index)) = self.s.shared_markers.iter().find(|(s, _)| *s == list_style)
            {
                return index;
            }
        }
        let text = list_style.marker(n);
        if text.is_empty() {
            return NONE;
        }
        let index = self.s.out.markers.len() as u32;
        self.s.out.markers.push(text);
        if shared {
            self.s.shared_markers.push((list_style, index));
        }
        index
    }

    /// An in-page target named `name`, where the builder is.
    fn anchor(&mut self, name: &str) {
        let index = self.s.out.anchors.len() as u32;
        self.s.out.anchors.push(name.to_string());
        self.s.out.items.push(Item::Anchor(index));
    }

    /// Leaves an element: what its end shows (a quote's or button's close, `::after`),
    /// then its link, list, cell, table and block are ended.
    fn exit(&mut self, open: OpenEl, style: Style) {
        if open.quote {
            self.text("”", &style);
        }
        if open.button {
            self.s.space = false;
            self.atom("]", &style);
        }
        self.generated(style.after, open.index, &style);
        if open.link {
            if let Some(link) = self.s.links.pop() {
                self.close_link(link);
            }
        }
        if open.list {
            self.s.lists.pop();
        }
        if open.cell {
            self.note_table(|t| t.cell_depth = t.cell_depth.saturating_sub(1));
        }
        if open.table {
            if let Some(table) = self.s.tables.pop() {
                self.close_table(&table);
            }
        }
        if open.item != NONE {
            self.close_block(open.item, &style);
        }
    }

    /// Ends a link: its text (collapsed, at most 200 bytes) goes to the link list; a link
    /// that showed nothing loses its number and its place in the list.
    fn close_link(&mut self, l: OpenLink) {
        if self.s.out.items.len() - 1 == l.marker_item {
            // Nothing shown inside the link: no marker, no number.
            if let Item::Text { start, .. } = self.s.out.items[l.marker_item] {
                if self.s.out.text.as_bytes().get(start as usize) == Some(&b' ') {
                    self.s.space = true;
                }
            }
            self.s.out.items[l.marker_item] = Item::Nop;
            if self.s.out.links.len() == l.index + 1 {
                self.s.out.links.pop();
            }
        } else if let Some(link) = self.s.out.links.get_mut(l.index) {
            let text = self.s.out.text.get(l.text_start..).unwrap_or_default();
            let mut text = collapse(text);
            if text.len() > 200 {
                let cut = (0..=200)
                    .rev()
                    .find(|&k| text.is_char_boundary(k))
                    .unwrap_or(0);
                text.truncate(cut);
            }
            link.text = text;
        }
    }

    /// Counts something into the innermost table's statistics.
    fn note_table(&mut self, note: impl FnOnce(&mut TableStat)) {
        if let Some(t) = self.s.tables.last_mut() {
            note(t);
        }
    }

    /// Ends a `<table>`: now that all of it is known, whether it is a data table (shown as
    /// a grid) or one that lays a page out (shown as its cells' blocks, one after another).
    fn close_table(&mut self, t: &TableStat) {
        let data = !t.presentation
            && !t.nested
            && t.max_cols >= 2
            && t.rows >= 2
            && (t.has_head || !t.has_block);
        if let Some(Item::Open { kind, .. }) = self.s.out.items.get_mut(t.item as usize) {
            *kind = Kind::Table { data };
        }
    }

    /// Ends the block opened at item `item`.
    fn close_block(&mut self, item: u32, style: &Style) {
        let close = self.s.out.items.len() as u32;
        self.s.out.items.push(Item::Close);
        if let Some(Item::Open {
            end, margin_bottom, ..
        }) = self.s.out.items.get_mut(item as usize)
        {
            *end = close;
            // Settled now, if it was not when the element started.
            *margin_bottom = style.margin_bottom;
        }
        self.block_boundary();
    }
}

/// A link's marker, `[12]` (the fmt machinery costs more than the rest of a link).
fn link_number(number: usize) -> String {
    let mut marker = String::with_capacity(22);
    marker.push('[');
    super::push_decimal(&mut marker, number);
    marker.push(']');
    marker
}

#[cfg(test)]
mod tests {
    use super::link_number;

    #[test]
    fn link_numbers() {
        for n in [0, 1, 9, 10, 99, 100, 12345, usize::MAX] {
            assert_eq!(link_number(n), format!("[{n}]"));
        }
    }
}
