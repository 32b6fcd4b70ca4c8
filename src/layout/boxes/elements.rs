//! Entering an element: the items its start makes. A block opens a box (of a kind a table
//! needs, with a list's indent or a list item's marker); then, whatever the display, come
//! its in-page targets, its `::before`, and what the HTML element itself shows at its start
//! (a link's number, a line break, a replaced element's text).

use crate::html::Node;
use crate::layout::tree::NONE;
use crate::layout::values::{Display, Style};
use crate::layout::{Fields, Link};

use super::replaced::{frame_title, replaced_text};
use super::{link_number, Builder, Item, Kind, ListCounter, OpenEl, OpenLink, TableStat};

impl Builder<'_> {
    /// The items element `index` starts with, and what its end will need to know.
    pub(super) fn enter(&mut self, index: u32, style: &Style) -> OpenEl {
        let mut open = OpenEl::new(index);
        let block = style.display.is_block_level();
        if let Some(t) = self.s.tables.last_mut() {
            if t.cell_depth > 0 && block {
                t.has_block = true;
            }
        }
        if block {
            self.open_block(index, style, &mut open);
        }
        self.anchors_of(index);
        self.generated(style.before, index, style);
        let node = self.tree.dom(index as usize);
        if node.is_html_element() {
            self.enter_html(index, &node, style, &mut open);
        }
        open
    }

    /// A block-level element's Open item: its kind, indent and list marker.
    fn open_block(&mut self, index: u32, style: &Style, open: &mut OpenEl) {
        let node = self.tree.dom(index as usize);
        let html = node.is_html_element();
        let tag = node.tag().unwrap_or_default();
        self.block_boundary();
        let kind = self.block_kind(&node, style, open);
        let mut indent = match tag {
            "blockquote" | "dd" | "figure" if html => 4,
            _ => 0,
        };
        if html && matches!(tag, "ul" | "ol" | "menu" | "dir") {
            indent = self.open_list(index, style);
            open.list = true;
        }
        let marker = if style.display == Display::ListItem {
            self.list_item_marker(&node, style)
        } else {
            NONE
        };
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

    /// The kind of a block: a table's part (counted into its [`TableStat`]) inside an HTML
    /// `<table>`, a plain block anywhere else.
    fn block_kind(&mut self, node: &Node, style: &Style, open: &mut OpenEl) -> Kind {
        let tag = node.tag().unwrap_or_default();
        let in_real_table = self.s.tables.last().is_some_and(|t| t.real);
        match style.display {
            Display::Table if node.is_html_element() && tag == "table" => {
                self.open_table(node);
                open.table = true;
                Kind::Table { data: false }
            }
            Display::RowGroup | Display::FooterGroup if in_real_table => {
                Kind::RowGroup { head: false }
            }
            Display::HeaderGroup if in_real_table => {
                self.note_table(|t| t.has_head = true);
                Kind::RowGroup { head: true }
            }
            Display::Row if in_real_table => {
                self.note_table(|t| {
                    t.rows += 1;
                    t.cols = 0;
                });
                Kind::Row
            }
            Display::Cell if in_real_table => {
                open.cell = true;
                self.open_cell(node, tag)
            }
            Display::Caption if in_real_table => {
                self.note_table(|t| t.has_head = true);
                Kind::Caption
            }
            _ => Kind::Block,
        }
    }

    /// Starts the statistics of an HTML `<table>`, whose kind (data or layout) is decided
    /// at its end; a table inside it makes the outer one a layout table.
    fn open_table(&mut self, node: &Node) {
        self.note_table(|t| t.nested = true);
        let presentation = node
            .attr("role")
            .is_some_and(|r| matches!(r.trim(), "presentation" | "none"));
        self.s.tables.push(TableStat {
            item: self.s.out.items.len() as u32,
            real: true,
            presentation,
            ..TableStat::default()
        });
    }

    /// A table cell's kind, with its spans (clamped as the HTML standard does).
    fn open_cell(&mut self, node: &Node, tag: &str) -> Kind {
        let span = |name: &str, max: u16, default: u16| {
            node.attr(name)
                .and_then(|v| v.trim().parse::<u32>().ok())
                .map_or(default, |v| v.min(u32::from(max)) as u16)
        };
        let colspan = span("colspan", 1000, 1).max(1);
        let rowspan = span("rowspan", 65534, 1);
        let head = tag == "th";
        self.note_table(|t| {
            t.cols += u32::from(colspan);
            t.max_cols = t.max_cols.max(t.cols);
            if head {
                t.has_head = true;
            }
            t.cell_depth += 1;
        });
        Kind::Cell {
            colspan,
            rowspan,
            head,
        }
    }

    /// Starts a list's counter (`start`, `reversed`) and gives its indent: as wide as its
    /// widest number, or two columns for bullets.
    fn open_list(&mut self, index: u32, style: &Style) -> u8 {
        let node = self.tree.dom(index as usize);
        let ordered = node.tag() == Some("ol");
        let reversed = ordered && node.has_attr("reversed");
        let count = self.list_items(index);
        let start = node
            .attr("start")
            .and_then(|s| s.trim().parse::<i64>().ok())
            .filter(|_| ordered)
            .unwrap_or(if reversed { count } else { 1 });
        self.s.lists.push(ListCounter {
            next: start,
            step: if reversed { -1 } else { 1 },
        });
        if style.list_style.is_ordered() {
            let widest = start.abs().max((start + count).abs());
            let sample = style.list_style.marker(widest);
            (sample.chars().count().max(3) as u8).min(8)
        } else {
            2
        }
    }

    /// How many `<li>` children element `index` has.
    fn list_items(&self, index: u32) -> i64 {
        let tree = self.tree;
        let mut count = 0;
        let mut c = tree.nodes[index as usize].first_child;
        while c != NONE {
            if tree.dom(c as usize).tag() == Some("li") {
                count += 1;
            }
            c = tree.nodes[c as usize].next;
        }
        count
    }

    /// A list item's number from its list's counter (or its `value`), as a marker.
    fn list_item_marker(&mut self, node: &Node, style: &Style) -> u32 {
        let value = node
            .attr("value")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .filter(|_| node.tag() == Some("li"));
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
            self.marker(style.list_style, n)
        } else {
            NONE
        }
    }

    /// In-page targets (inside the element's block, so they land on its first line).
    fn anchors_of(&mut self, index: u32) {
        let node = self.tree.dom(index as usize);
        if self.tree.nodes[index as usize].has_id {
            if let Some(id) = node.attr_str("id").filter(|v| !v.is_empty()) {
                self.anchor(id);
            }
        }
        if node.is_html_element() && node.tag() == Some("a") {
            if let Some(name) = node.attr_str("name").filter(|v| !v.is_empty()) {
                self.anchor(name);
            }
        }
    }

    /// What an HTML element shows at its start; whether its content is walked is said in
    /// `open.descend` (not for replaced elements, whose content is not shown as such).
    fn enter_html(&mut self, index: u32, node: &Node, style: &Style, open: &mut OpenEl) {
        let tag = node.tag().unwrap_or_default();
        match tag {
            "a" if style.visible => {
                if let Some(href) = node.attr_str("href") {
                    self.open_link(href, style);
                    open.link = true;
                }
            }
            "br" => {
                self.line_break();
                open.descend = false;
            }
            "wbr" => {
                self.break_opportunity(style);
                open.descend = false;
            }
            "img" => {
                if let Some(text) = replaced_text(self.tree, index, tag, Fields::AsText) {
                    self.atom(&text, style);
                }
                open.descend = false;
            }
            "input" | "select" | "textarea" => {
                if let Some(text) = replaced_text(self.tree, index, tag, self.s.fields) {
                    match self.s.fields {
                        Fields::AsText => self.atom(&text, style),
                        Fields::Numbered => self.numbered_field(node, &text, style),
                    }
                }
                open.descend = false;
            }
            "button" => {
                if self.s.fields == Fields::Numbered && style.visible {
                    // Numbered like a link whose text is the button's content.
                    let number = self.number_link(String::new(), String::new());
                    if let Some(link) = self.s.out.links.last_mut() {
                        link.field = Some(node.id());
                    }
                    let mut marker = link_number(number);
                    marker.push('[');
                    self.atom(&marker, style);
                    let marker_item = self.s.out.items.len() - 1;
                    if let Some(l) = self.s.links.last_mut() {
                        l.marker_item = marker_item;
                        l.text_start = self.s.out.text.len();
                    }
                    open.link = true;
                } else {
                    self.atom("[", style);
                }
                self.s.space = false;
                open.button = true;
            }
            "q" => {
                self.text("“", style);
                open.quote = true;
            }
            "iframe" | "frame" => {
                self.frame_link(node, style);
                open.descend = false;
            }
            // Nothing a terminal can show, and their fallback content is for old browsers.
            "video" | "audio" | "canvas" | "embed" | "meter" | "progress" => open.descend = false,
            _ => {}
        }
    }

    /// A link's number, `[12]`, and the link, whose text is what follows until it ends.
    fn open_link(&mut self, href: &str, style: &Style) {
        let url = self.s.resolver.resolve(href);
        let number = self.number_link(url, String::new());
        // The marker belongs to the link (so the TUI highlights it with the text).
        self.atom(&link_number(number), style);
        let marker_item = self.s.out.items.len() - 1;
        if let Some(l) = self.s.links.last_mut() {
            l.marker_item = marker_item;
            l.text_start = self.s.out.text.len();
        }
    }

    /// `<br>`.
    fn line_break(&mut self) {
        self.s.out.items.push(Item::Break);
        self.s.space = false;
        self.s.line_empty = true;
        self.s.col = 0;
    }

    /// `<wbr>`: a zero-width space, where a line may break.
    fn break_opportunity(&mut self, style: &Style) {
        let start = self.s.out.text.len();
        if self.s.space && !self.s.line_empty {
            self.s.out.text.push(' ');
            self.s.space = false;
        }
        self.s.out.text.push('\u{200b}');
        self.push_text_item(start, style);
    }

    /// A form field numbered like a link, `[4][query______]`: one piece with no line break
    /// inside (`nowrap`; the space before it is its own run, where the line may break), so
    /// the TUI knows where the field is to draw what is typed into it.
    fn numbered_field(&mut self, node: &Node, widget: &str, style: &Style) {
        if !style.visible {
            return;
        }
        let number = self.number_link(String::new(), widget.to_string());
        if let Some(link) = self.s.out.links.last_mut() {
            link.field = Some(node.id());
        }
        let mut piece = link_number(number);
        piece.push_str(widget);
        let start = self.s.out.text.len();
        if self.s.space && !self.s.line_empty {
            self.s.out.text.push(' ');
            self.push_text_item(start, style);
        }
        self.s.space = false;
        let mut whole = *style;
        whole.white_space = crate::layout::values::WhiteSpace::Nowrap;
        self.atom(&piece, &whole);
        self.s.links.pop();
    }

    /// A frame as a numbered link to its document, `[3]Frame: title`.
    fn frame_link(&mut self, node: &Node, style: &Style) {
        let Some(src) = node.attr("src").filter(|s| !s.trim().is_empty()) else {
            return;
        };
        let url = self.s.resolver.resolve(&src);
        let title = frame_title(node, &src);
        let number = self.number_link(url, title.clone());
        self.atom(&format!("[{number}]Frame: {title}"), style);
        self.s.links.pop();
    }

    /// Adds a link to the link list and opens it (text added from now on belongs to it);
    /// gives its number.
    fn number_link(&mut self, url: String, text: String) -> usize {
        self.s.out.links.push(Link {
            url,
            text,
            field: None,
        });
        let number = self.s.out.links.len();
        self.s.links.push(OpenLink {
            index: number - 1,
            marker_item: 0,
            text_start: 0,
        });
        number
    }
}
