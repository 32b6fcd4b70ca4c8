//! The box tree, flattened: styled nodes → a list of items (blocks opening and closing,
//! runs of text with their inline style, breaks, anchors). Whitespace is processed here
//! per `white-space`, list markers are counted, links numbered, images and form controls
//! turned into text, and each table classified as data (a grid) or layout (linearized).
//! One pass over the arena, no recursion.

use std::borrow::Cow;

use rustc_hash::FxHashMap;
use url::Url;

use super::css::ContentPart;
use super::style::StyleEngine;
use super::tree::{Tree, NONE, PENDING};
use super::values::{Display, ListStyle, Style, Transform, WhiteSpace};
use super::Link;
use crate::text::escape_controls;

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
}

impl BoxState {
    pub fn new(base: &Url, nodes: usize) -> BoxState {
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
pub fn build(tree: &Tree, styles: &mut StyleEngine, base: &Url) -> Boxes {
    BoxState::new(base, tree.nodes.len()).finish(tree, styles)
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
            match self.enter(i as u32, &style) {
                Some(open) => {
                    let descend = open.descend;
                    self.s.stack.push(open);
                    if descend {
                        i += 1;
                    } else {
                        // Ended (and left) once its end is known, its content skipped.
                        self.s.skipping = Some(i as u32);
                    }
                }
                None => self.s.skipping = Some(i as u32),
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

fn flags_of(style: &Style) -> u8 {
    let mut f = 0;
    if style.heading {
        f |= F_HEADING;
    } else if style.bold {
        f |= F_BOLD;
    }
    if style.italic {
        f |= F_ITALIC;
    }
    if style.underline {
        f |= F_UNDERLINE;
    }
    if style.code {
        f |= F_CODE;
    }
    if matches!(style.white_space, WhiteSpace::Pre | WhiteSpace::Nowrap) {
        f |= F_NOWRAP;
    }
    f
}

/// Page text made safe for a terminal; printable ASCII (most text) needs no scan.
fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    let plain = text
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t');
    if plain {
        std::borrow::Cow::Borrowed(text)
    } else {
        escape_controls(text)
    }
}

/// `text` with its whitespace collapsed: words joined by single spaces.
fn collapse(text: &str) -> String {
    // Most text is collapsed already (the builder collapsed it, a link's text may start
    // with the space before its first word): then it comes back as it is.
    let trimmed = text.trim_matches(' ');
    if is_collapsed(trimmed) {
        return trimmed.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

impl Builder<'_> {
    fn current_link(&self) -> u32 {
        self.s.links.last().map_or(NONE, |l| l.index as u32)
    }

    fn push_text_item(&mut self, start: usize, style: &Style) {
        if self.s.out.text.len() > start {
            self.s.out.items.push(Item::Text {
                start: start as u32,
                end: self.s.out.text.len() as u32,
                flags: flags_of(style),
                link: self.current_link(),
            });
        }
    }

    fn push_char(&mut self, c: char, transform: Transform) {
        match transform {
            Transform::None => self.s.out.text.push(c),
            Transform::Upper => self.s.out.text.extend(c.to_uppercase()),
            Transform::Lower => self.s.out.text.extend(c.to_lowercase()),
            Transform::Capitalize => {
                if self.s.word_char {
                    self.s.out.text.push(c)
                } else {
                    self.s.out.text.extend(c.to_uppercase())
                }
            }
        }
        self.s.word_char = c.is_alphanumeric() || c == '\'' || c == '’';
    }

    /// A text node (or generated text) under `style`.
    fn text(&mut self, raw: &str, style: &Style) {
        if !style.visible || raw.is_empty() {
            return;
        }
        let safe = escape(raw);
        let start = self.s.out.text.len();
        match style.white_space {
            WhiteSpace::Normal | WhiteSpace::Nowrap if style.transform == Transform::None => {
                // The common case, a run at a time: collapse whitespace, copy the words.
                let bytes = safe.as_bytes();
                let mut i = 0;
                while i < bytes.len() {
                    if matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') {
                        if !self.s.line_empty {
                            self.s.space = true;
                        }
                        i += 1;
                        continue;
                    }
                    let mut j = i + 1;
                    while j < bytes.len()
                        && !matches!(bytes[j], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
                    {
                        j += 1;
                    }
                    if self.s.space {
                        self.s.out.text.push(' ');
                        self.s.space = false;
                    }
                    self.s.out.text.push_str(&safe[i..j]);
                    self.s.line_empty = false;
                    i = j;
                }
                self.s.word_char = false;
                self.push_text_item(start, style);
            }
            WhiteSpace::Normal | WhiteSpace::Nowrap | WhiteSpace::PreLine => {
                let pre_line = style.white_space == WhiteSpace::PreLine;
                let mut item_start = start;
                for c in safe.chars() {
                    match c {
                        '\n' if pre_line => {
                            self.push_text_item(item_start, style);
                            self.s.out.items.push(Item::Break);
                            item_start = self.s.out.text.len();
                            self.s.space = false;
                            self.s.line_empty = true;
                            self.s.word_char = false;
                        }
                        ' ' | '\t' | '\n' | '\r' | '\x0c' => {
                            if !self.s.line_empty {
                                self.s.space = true;
                            }
                            self.s.word_char = false;
                        }
                        c => {
                            if self.s.space {
                                self.s.out.text.push(' ');
                                self.s.space = false;
                            }
                            self.push_char(c, style.transform);
                            self.s.line_empty = false;
                        }
                    }
                }
                self.push_text_item(item_start, style);
            }
            WhiteSpace::Pre | WhiteSpace::PreWrap => {
                if self.s.space && !self.s.line_empty {
                    self.s.out.text.push(' ');
                    self.s.col += 1;
                }
                self.s.space = false;
                let mut item_start = start;
                for c in safe.chars() {
                    match c {
                        '\n' => {
                            self.push_text_item(item_start, style);
                            self.s.out.items.push(Item::Break);
                            item_start = self.s.out.text.len();
                            self.s.col = 0;
                            self.s.line_empty = true;
                        }
                        '\r' => {}
                        '\t' => {
                            let to = (self.s.col / 8 + 1) * 8;
                            for _ in self.s.col..to {
                                self.s.out.text.push(' ');
                            }
                            self.s.col = to;
                            self.s.line_empty = false;
                        }
                        c => {
                            self.push_char(c, style.transform);
                            self.s.col += 1;
                            self.s.line_empty = false;
                        }
                    }
                }
                self.push_text_item(item_start, style);
            }
        }
    }

    /// Replaced content (an image's alt, a form control) as one piece of text.
    fn atom(&mut self, s: &str, style: &Style) {
        if !style.visible || s.is_empty() {
            return;
        }
        let start = self.s.out.text.len();
        if self.s.space && !self.s.line_empty {
            self.s.out.text.push(' ');
        }
        self.s.space = false;
        self.s.out.text.push_str(&escape_controls(s));
        self.s.line_empty = false;
        self.s.word_char = true;
        self.push_text_item(start, style);
    }

    fn block_boundary(&mut self) {
        self.s.space = false;
        self.s.line_empty = true;
        self.s.col = 0;
        self.s.word_char = false;
    }

    fn generated(&mut self, content: u32, index: u32, style: &Style, open: bool) {
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
        let _ = open;
        self.text(&text, style);
    }

    fn enter(&mut self, index: u32, style: &Style) -> Option<OpenEl> {
        let tree = self.tree;
        let tn = &tree.nodes[index as usize];
        let node = &tree.dom(index as usize);
        let tag = node.tag().unwrap_or_default();
        let html = node.is_html_element();
        let mut open = OpenEl {
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
        };
        if let Some(t) = self.s.tables.last_mut() {
            if t.cell_depth > 0 && style.display.is_block_level() {
                t.has_block = true;
            }
        }
        if style.display.is_block_level() {
            self.block_boundary();
            let in_real_table = self.s.tables.last().is_some_and(|t| t.real);
            let kind = match style.display {
                Display::Table if html && tag == "table" => {
                    if let Some(t) = self.s.tables.last_mut() {
                        t.nested = true;
                    }
                    let presentation = node
                        .attr("role")
                        .is_some_and(|r| matches!(r.trim(), "presentation" | "none"));
                    self.s.tables.push(TableStat {
                        item: self.s.out.items.len() as u32,
                        real: true,
                        presentation,
                        ..TableStat::default()
                    });
                    open.table = true;
                    Kind::Table { data: false }
                }
                Display::RowGroup | Display::FooterGroup if in_real_table => {
                    Kind::RowGroup { head: false }
                }
                Display::HeaderGroup if in_real_table => {
                    if let Some(t) = self.s.tables.last_mut() {
                        t.has_head = true;
                    }
                    Kind::RowGroup { head: true }
                }
                Display::Row if in_real_table => {
                    if let Some(t) = self.s.tables.last_mut() {
                        t.rows += 1;
                        t.cols = 0;
                    }
                    Kind::Row
                }
                Display::Cell if in_real_table => {
                    let span = |name: &str, max: u16, default: u16| {
                        node.attr(name)
                            .and_then(|v| v.trim().parse::<u32>().ok())
                            .map_or(default, |v| v.min(u32::from(max)) as u16)
                    };
                    let colspan = span("colspan", 1000, 1).max(1);
                    let rowspan = span("rowspan", 65534, 1);
                    if let Some(t) = self.s.tables.last_mut() {
                        t.cols += u32::from(colspan);
                        t.max_cols = t.max_cols.max(t.cols);
                        if tag == "th" {
                            t.has_head = true;
                        }
                        t.cell_depth += 1;
                    }
                    open.cell = true;
                    Kind::Cell {
                        colspan,
                        rowspan,
                        head: tag == "th",
                    }
                }
                Display::Caption if in_real_table => {
                    if let Some(t) = self.s.tables.last_mut() {
                        t.has_head = true;
                    }
                    Kind::Caption
                }
                _ => Kind::Block,
            };
            let mut marker = NONE;
            let mut indent = 0u8;
            if html {
                indent = match tag {
                    "blockquote" | "dd" | "figure" => 4,
                    _ => 0,
                };
            }
            if matches!(tag, "ul" | "ol" | "menu" | "dir") && html {
                let ordered = tag == "ol";
                let reversed = ordered && node.has_attr("reversed");
                let mut count = 0i64;
                let mut c = tn.first_child;
                while c != NONE {
                    if tree.dom(c as usize).tag() == Some("li") {
                        count += 1;
                    }
                    c = tree.nodes[c as usize].next;
                }
                let start = node
                    .attr("start")
                    .and_then(|s| s.trim().parse::<i64>().ok())
                    .filter(|_| ordered)
                    .unwrap_or(if reversed { count } else { 1 });
                self.s.lists.push(ListCounter {
                    next: start,
                    step: if reversed { -1 } else { 1 },
                });
                open.list = true;
                indent = if style.list_style.is_ordered() {
                    let widest = start.abs().max((start + count).abs());
                    let sample = style.list_style.marker(widest);
                    (sample.chars().count().max(3) as u8).min(8)
                } else {
                    2
                };
            }
            if style.display == Display::ListItem {
                let value = node
                    .attr("value")
                    .and_then(|v| v.trim().parse::<i64>().ok())
                    .filter(|_| tag == "li");
                let n = match self.s.lists.last_mut() {
                    Some(list) => {
                        if let Some(v) = value {
                            list.next = v;
                        }
                        let n = list.next;
                        list.next += list.step;
                        n
                    }
                    None => value.unwrap_or(1),
                };
                if style.visible {
                    marker = self.marker(style.list_style, n);
                }
            }
            open.item = self.s.out.items.len() as u32;
            self.s.out.items.push(Item::Open {
                kind,
                end: NONE,
                margin_top: style.margin_top,
                margin_bottom: style.margin_bottom,
                indent,
                marker,
            });
            if html && tag == "hr" {
                self.s.out.items.push(Item::Rule);
            }
            if html && tag == "details" && !node.has_attr("open") {
                open.closed_details = true;
            }
        }
        // In-page targets (inside the element's block, so they land on its first line).
        if tn.has_id {
            if let Some(id) = node.attr_str("id").filter(|v| !v.is_empty()) {
                self.anchor(id);
            }
        }
        if html && tag == "a" {
            if let Some(name) = node.attr_str("name").filter(|v| !v.is_empty()) {
                self.anchor(name);
            }
        }
        self.generated(style.before, index, style, true);
        if !html {
            return Some(open);
        }
        match tag {
            "a" if style.visible => {
                let Some(href) = node.attr_str("href") else {
                    return Some(open);
                };
                let url = self.s.resolver.resolve(href);
                self.s.out.links.push(Link {
                    url,
                    text: String::new(),
                });
                let number = self.s.out.links.len();
                let link_index = number - 1;
                // The marker belongs to the link (so the TUI highlights it with the text).
                self.s.links.push(OpenLink {
                    index: link_index,
                    marker_item: 0,
                    text_start: 0,
                });
                self.atom(&link_number(number), style);
                let marker_item = self.s.out.items.len() - 1;
                if let Some(l) = self.s.links.last_mut() {
                    l.marker_item = marker_item;
                    l.text_start = self.s.out.text.len();
                }
                open.link = true;
            }
            "br" => {
                self.s.out.items.push(Item::Break);
                self.s.space = false;
                self.s.line_empty = true;
                self.s.col = 0;
                open.descend = false;
                return Some(open);
            }
            "wbr" => {
                let start = self.s.out.text.len();
                if self.s.space && !self.s.line_empty {
                    self.s.out.text.push(' ');
                    self.s.space = false;
                }
                self.s.out.text.push('\u{200b}');
                self.push_text_item(start, style);
                open.descend = false;
                return Some(open);
            }
            "img" => {
                if let Some(label) = image_label(node) {
                    self.atom(&format!("[{label}]"), style);
                }
                open.descend = false;
                return Some(open);
            }
            "input" => {
                if let Some(w) = input_widget(node) {
                    self.atom(&w, style);
                }
                open.descend = false;
                return Some(open);
            }
            "select" => {
                let w = self.select_widget(index);
                self.atom(&w, style);
                open.descend = false;
                return Some(open);
            }
            "textarea" => {
                let text = collapse(&node.text_content());
                let shown: String = text.chars().take(40).collect();
                let pad = 12usize.saturating_sub(shown.chars().count());
                self.atom(&format!("[{shown}{}]", "_".repeat(pad)), style);
                open.descend = false;
                return Some(open);
            }
            "button" => {
                self.atom("[", style);
                self.s.space = false;
                open.button = true;
            }
            "q" => {
                self.text("“", style);
                open.quote = true;
            }
            "iframe" | "frame" => {
                if let Some(src) = node.attr("src").filter(|s| !s.trim().is_empty()) {
                    let url = self.s.resolver.resolve(&src);
                    let title = node
                        .attr("title")
                        .or_else(|| node.attr("name"))
                        .map(|t| collapse(&t))
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| file_name(&src).unwrap_or("frame").to_string());
                    self.s.out.links.push(Link {
                        url,
                        text: title.clone(),
                    });
                    let number = self.s.out.links.len();
                    self.s.links.push(OpenLink {
                        index: number - 1,
                        marker_item: 0,
                        text_start: 0,
                    });
                    self.atom(&format!("[{number}]Frame: {title}"), style);
                    self.s.links.pop();
                }
                open.descend = false;
                return Some(open);
            }
            "video" | "audio" | "canvas" | "embed" | "meter" | "progress" => {
                open.descend = false;
                return Some(open);
            }
            _ => {}
        }
        Some(open)
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

    fn anchor(&mut self, name: &str) {
        let index = self.s.out.anchors.len() as u32;
        self.s.out.anchors.push(name.to_string());
        self.s.out.items.push(Item::Anchor(index));
    }

    fn exit(&mut self, open: OpenEl, style: Style) {
        if open.quote {
            self.text("”", &style);
        }
        if open.button {
            self.s.space = false;
            self.atom("]", &style);
        }
        self.generated(style.after, open.index, &style, false);
        if open.link {
            if let Some(l) = self.s.links.pop() {
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
        }
        if open.list {
            self.s.lists.pop();
        }
        if open.cell {
            if let Some(t) = self.s.tables.last_mut() {
                t.cell_depth = t.cell_depth.saturating_sub(1);
            }
        }
        if open.table {
            if let Some(t) = self.s.tables.pop() {
                let data = !t.presentation
                    && !t.nested
                    && t.max_cols >= 2
                    && t.rows >= 2
                    && (t.has_head || !t.has_block);
                if let Some(Item::Open { kind, .. }) = self.s.out.items.get_mut(t.item as usize) {
                    *kind = Kind::Table { data };
                }
            }
        }
        if open.item != NONE {
            let close = self.s.out.items.len() as u32;
            self.s.out.items.push(Item::Close);
            if let Some(Item::Open {
                end, margin_bottom, ..
            }) = self.s.out.items.get_mut(open.item as usize)
            {
                *end = close;
                // Settled now, if it was not when the element started.
                *margin_bottom = style.margin_bottom;
            }
            self.block_boundary();
        }
    }

    fn select_widget(&self, index: u32) -> String {
        let tn = &self.tree.nodes[index as usize];
        let node = &self.tree.dom(index as usize);
        let multiple = node.has_attr("multiple");
        let mut first = None;
        let mut chosen = Vec::new();
        for k in index + 1..tn.end {
            let n = &self.tree.nodes[k as usize];
            if n.is_text || self.tree.dom(k as usize).tag() != Some("option") {
                continue;
            }
            let option = self.tree.dom(k as usize);
            let label = option
                .attr("label")
                .filter(|l| !l.trim().is_empty())
                .unwrap_or_else(|| option.text_content());
            let label = collapse(&label);
            if first.is_none() {
                first = Some(label.clone());
            }
            if option.has_attr("selected") {
                if !multiple {
                    chosen.clear();
                }
                chosen.push(label);
            }
        }
        if chosen.is_empty() && !multiple {
            chosen.extend(first);
        }
        format!("[{} ▾]", chosen.join(", "))
    }
}

/// Whether `text` is words joined by single spaces (no other whitespace, none at either
/// end): what [`collapse`] makes of it. Bytes below 0x80 are looked at one by one, and a
/// character decoded only where a non-ASCII one starts.
fn is_collapsed(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut after_space = true;
    for (at, &b) in bytes.iter().enumerate() {
        match b {
            b' ' if after_space => return false,
            b' ' => after_space = true,
            // The ASCII characters `char::is_whitespace` knows besides the space.
            0x09..=0x0d => return false,
            0x80..=0xbf => {}
            _ if b >= 0xc0 => {
                let c = text.get(at..).and_then(|rest| rest.chars().next());
                if c.is_none_or(char::is_whitespace) {
                    return false;
                }
                after_space = false;
            }
            _ => after_space = false,
        }
    }
    !after_space || bytes.is_empty()
}

/// Link targets resolved against the page's URL, made safe for a terminal.
///
/// A page's links mostly differ only in their fragments (a table of contents links the
/// sections of a few pages), and `Url::join` is costly: `before#` is joined once per
/// different `before`, and a link's fragment appended to the result when that is what
/// the URL parser would do with it too.
struct Resolver {
    base: Url,
    /// `before#` joined (so ending in `#`), by `before`; None: it did not parse.
    joined: FxHashMap<String, Option<String>>,
}

/// How many joined URLs the resolver keeps (a page with more unique targets starts over).
const MAX_JOINED: usize = 4096;

impl Resolver {
    fn new(base: &Url) -> Resolver {
        Resolver {
            base: base.clone(),
            joined: FxHashMap::default(),
        }
    }

    /// `href` resolved, as text: the URL, or `href` itself when it does not parse.
    fn resolve(&mut self, href: &str) -> String {
        let href = href.trim();
        if let Some((before, fragment)) = href.split_once('#') {
            if fragment.bytes().all(fragment_byte_is_kept) {
                // One hash look-up for a target seen before.
                if let Some(joined) = self.joined.get(before) {
                    return with_fragment(joined.as_deref(), fragment, href);
                }
                let joined = self.remember_join(before);
                return with_fragment(joined.as_deref(), fragment, href);
            }
        }
        terminal_safe(join(&self.base, href))
    }

    /// Joins `before#` to the base and keeps the result; the part before `#` decides
    /// whether that parses, so `before#fragment` parses just when this does.
    fn remember_join(&mut self, before: &str) -> &Option<String> {
        if self.joined.len() >= MAX_JOINED {
            self.joined.clear();
        }
        let url = self.base.join(&format!("{before}#")).ok().map(String::from);
        self.joined.entry(before.to_string()).or_insert(url)
    }
}

/// `href` resolved from its target joined with `#` (None: it did not parse) and its fragment.
fn with_fragment(joined: Option<&str>, fragment: &str, href: &str) -> String {
    match joined {
        Some(joined) => {
            // A serialized URL and a fragment of printable ASCII: terminal-safe.
            let mut url = String::with_capacity(joined.len() + fragment.len());
            url.push_str(joined);
            url.push_str(fragment);
            url
        }
        None => terminal_safe(href.to_string()),
    }
}

fn terminal_safe(text: String) -> String {
    match escape_controls(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(escaped) => escaped,
    }
}

/// Whether the URL parser copies this byte of a fragment as it is: printable ASCII
/// outside the fragment percent-encode set (tabs and newlines it would drop, controls,
/// spaces and non-ASCII it would encode).
fn fragment_byte_is_kept(b: u8) -> bool {
    (0x21..0x7f).contains(&b) && !matches!(b, b'"' | b'<' | b'>' | b'`')
}

fn join(base: &Url, href: &str) -> String {
    base.join(href)
        .map(String::from)
        .unwrap_or_else(|_| href.to_string())
}

/// A link's marker, `[12]` (the fmt machinery costs more than the rest of a link).
fn link_number(number: usize) -> String {
    let mut marker = String::with_capacity(22);
    marker.push('[');
    super::push_decimal(&mut marker, number);
    marker.push(']');
    marker
}

fn file_name(src: &str) -> Option<&str> {
    let path = src.split(['?', '#']).next().unwrap_or_default();
    path.rsplit('/').next().filter(|n| !n.is_empty())
}

/// What an image shows: its alt text, nothing for an empty alt, or its file name.
fn image_label(node: &crate::html::Node) -> Option<String> {
    if let Some(alt) = node.attr("alt") {
        let alt = collapse(&alt);
        return (!alt.is_empty()).then_some(alt);
    }
    // A tracking pixel without alt shows nothing.
    let tiny = |name: &str| {
        node.attr(name)
            .and_then(|v| v.trim().trim_end_matches("px").parse::<u32>().ok())
            .is_some_and(|v| v <= 2)
    };
    if tiny("width") || tiny("height") {
        return None;
    }
    let src = node.attr("src").unwrap_or_default();
    Some(file_name(&src).unwrap_or("image").to_string())
}

fn input_widget(node: &crate::html::Node) -> Option<String> {
    let kind = node
        .attr("type")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let value = node.attr("value").map(|v| collapse(&v)).unwrap_or_default();
    let label = |default: &str| {
        if value.is_empty() {
            format!("[{default}]")
        } else {
            format!("[{value}]")
        }
    };
    Some(match kind.as_str() {
        "hidden" => return None,
        "checkbox" => {
            if node.has_attr("checked") {
                "[x]".into()
            } else {
                "[ ]".into()
            }
        }
        "radio" => {
            if node.has_attr("checked") {
                "(o)".into()
            } else {
                "( )".into()
            }
        }
        "submit" => label("Submit"),
        "reset" => label("Reset"),
        "button" => {
            if value.is_empty() {
                return None;
            }
            label("")
        }
        "image" => format!(
            "[{}]",
            node.attr("alt")
                .map(|a| collapse(&a))
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| "Submit".into())
        ),
        "file" => "[Choose file]".into(),
        "range" => "[-----o-----]".into(),
        "color" => "[color]".into(),
        _ => {
            let size = node
                .attr("size")
                .and_then(|s| s.trim().parse::<usize>().ok())
                .unwrap_or(12)
                .clamp(4, 40);
            let shown = if kind == "password" {
                "*".repeat(value.chars().count())
            } else {
                value.clone()
            };
            let pad = size.saturating_sub(shown.chars().count());
            format!("[{shown}{}]", "_".repeat(pad))
        }
    })
}

/// A list marker string for the formatter (used by tests).
#[allow(dead_code)]
pub fn marker_for(style: ListStyle, n: i64) -> String {
    style.marker(n)
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::{collapse, join, link_number, terminal_safe, Resolver};

    #[test]
    fn collapse_as_split_whitespace() {
        let slow = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        for t in [
            "",
            " ",
            "  ",
            "a",
            " a",
            "a ",
            " a b ",
            "a  b",
            "What’s New in Python 3.11",
            "tab\there",
            "nl\n",
            "vt\u{b}x",
            "nbsp\u{a0}x",
            "nel\u{85}x",
            "em\u{2003}space",
            "ideo\u{3000}x",
            "中文 字符",
            "x\u{1c}y",
        ] {
            assert_eq!(collapse(t), slow(t), "{t:?}");
        }
    }

    #[test]
    fn link_numbers() {
        for n in [0, 1, 9, 10, 99, 100, 12345, usize::MAX] {
            assert_eq!(link_number(n), format!("[{n}]"));
        }
    }

    #[test]
    fn resolver_agrees_with_joining_each_link() {
        let bases = [
            "http://x.test/dir/page.html?q=1#top",
            "file:///usr/share/doc/page.html",
            "about:blank",
            "data:text/html,hello",
        ];
        let hrefs = [
            "#a",
            "#",
            "",
            "other.html#sec-1",
            "other.html#sec-2",
            "other.html",
            "../up.html#x:y/z?w",
            " other.html#padded ",
            "?q=2#f",
            "//host.test/p#f",
            "mailto:me@x.test#f",
            "javascript:void(0)#f",
            "http://[::1#f",
            "a.html#with space",
            "a.html#ünï",
            "a.html#\u{1b}[2J",
            "a.html#x\ty",
            "a.html#x#y",
            "a.html#\"q\"",
            "a\u{1}.html#f",
        ];
        for base in bases {
            let base = Url::parse(base).expect("a URL");
            let mut resolver = Resolver::new(&base);
            // Twice: the second round comes from the cache.
            for _ in 0..2 {
                for href in hrefs {
                    let expected = terminal_safe(join(&base, href.trim()));
                    assert_eq!(resolver.resolve(href), expected, "{href:?} against {base}");
                }
            }
        }
    }
}
