//! Layout: DOM → lines of text for a terminal of a given width.
//!
//! A first honest layout following the HTML standard's default rendering: block elements
//! start new lines, paragraphs and headings are set apart by blank lines, lists get bullets
//! or numbers, `<pre>` is kept as written, links are numbered `[n]` with their targets
//! listed at the end, images are shown by their alt text. Author CSS is not applied yet.
//! The walk is iterative: documents can nest 100,000 levels deep.

use url::Url;

use crate::html::{Document, Node};
use crate::text::escape_controls;

/// A laid-out page.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub width: usize,
    pub lines: Vec<String>,
    /// Numbered links, `[1]` first.
    pub links: Vec<Link>,
    /// Styled stretches of lines (links, headings, emphasis, code) for the TUI.
    pub spans: Vec<Span>,
}

/// A styled stretch of one line, as byte offsets into that line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub line: usize,
    pub start: usize,
    pub end: usize,
    pub style: SpanStyle,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanStyle {
    /// A link; the index into [`Layout::links`].
    Link(usize),
    Heading,
    Bold,
    Italic,
    Underline,
    Code,
}

#[derive(Clone, Debug)]
pub struct Link {
    pub url: String,
    pub text: String,
}

impl Layout {
    /// The page as `--dump` prints it: the lines, then the numbered link list.
    pub fn to_text(&self, with_link_list: bool) -> String {
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if with_link_list && !self.links.is_empty() {
            out.push_str("\nReferences\n\n");
            let digits = self.links.len().to_string().len();
            for (i, link) in self.links.iter().enumerate() {
                out.push_str(&format!("{:>w$}. {}\n", i + 1, link.url, w = digits + 2));
            }
        }
        out
    }
}

/// Lays plain text out as it is: no wrapping, as browsers show `text/plain`.
pub fn layout_plain_text(text: &str, width: usize) -> Layout {
    Layout {
        width,
        lines: text
            .lines()
            .map(|l| escape_controls(l).into_owned())
            .collect(),
        links: Vec::new(),
        spans: Vec::new(),
    }
}

/// Elements whose content is not rendered.
fn is_hidden(node: &Node, tag: &str) -> bool {
    matches!(
        tag,
        "head"
            | "title"
            | "script"
            | "style"
            | "template"
            | "meta"
            | "link"
            | "base"
            | "datalist"
            | "param"
            | "source"
            | "track"
    ) || node.has_attr("hidden")
        || (tag == "input"
            && node
                .attr("type")
                .is_some_and(|t| t.eq_ignore_ascii_case("hidden")))
}

fn is_block(tag: &str) -> bool {
    matches!(
        tag,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "body"
            | "caption"
            | "center"
            | "dd"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hgroup"
            | "hr"
            | "html"
            | "legend"
            | "li"
            | "listing"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "plaintext"
            | "pre"
            | "search"
            | "section"
            | "summary"
            | "table"
            | "tbody"
            | "thead"
            | "tfoot"
            | "tr"
            | "ul"
            | "xmp"
            | "noscript"
            | "optgroup"
    )
}

/// Blocks set apart by a blank line above and below.
fn has_margin(tag: &str, node: &Node) -> bool {
    match tag {
        "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "pre" | "listing"
        | "xmp" | "table" | "figure" | "hr" | "dl" | "fieldset" | "address" | "menu" | "dir" => {
            true
        }
        // Nested lists hug their item.
        "ul" | "ol" => !node.has_ancestor("li"),
        _ => false,
    }
}

enum Step {
    Enter(Node),
    Exit(Node),
}

struct ListState {
    ordered: bool,
    next: i64,
    step: i64,
}

struct Builder<'a> {
    width: usize,
    base: &'a Url,
    lines: Vec<String>,
    links: Vec<Link>,
    /// Inline text of the block being built, whitespace collapsed.
    inline: String,
    indent: usize,
    /// Marker for the first line of the next block (a list bullet or number).
    marker: Option<String>,
    pre: usize,
    lists: Vec<ListState>,
    /// Link start: index into `links` and position in `inline`, for the link text.
    open_links: Vec<(usize, usize)>,
    select_depth: usize,
}

/// Lays a document out for `width` columns; links resolve against `base`.
pub fn layout_document(doc: &Document, base: &Url, width: usize) -> Layout {
    let width = width.clamp(20, 1000);
    let mut b = Builder {
        width,
        base,
        lines: Vec::new(),
        links: Vec::new(),
        inline: String::new(),
        indent: 0,
        marker: None,
        pre: 0,
        lists: Vec::new(),
        open_links: Vec::new(),
        select_depth: 0,
    };
    let mut stack = vec![Step::Enter(doc.root())];
    while let Some(step) = stack.pop() {
        match step {
            Step::Enter(node) => {
                if b.enter(&node) {
                    stack.push(Step::Exit(node.clone()));
                    for child in node.children().into_iter().rev() {
                        stack.push(Step::Enter(child));
                    }
                }
            }
            Step::Exit(node) => b.exit(&node),
        }
    }
    b.flush();
    while b.lines.last().is_some_and(|l| l.trim().is_empty()) {
        b.lines.pop();
    }
    while b.lines.first().is_some_and(|l| l.trim().is_empty()) {
        b.lines.remove(0);
    }
    let spans = link_marker_spans(&b.lines, b.links.len());
    Layout {
        width,
        lines: b.lines,
        links: b.links,
        spans,
    }
}

/// Finds the `[n]` markers of links 1..=count, in order, as link spans.
fn link_marker_spans(lines: &[String], count: usize) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut next = 1;
    for (index, line) in lines.iter().enumerate() {
        let mut from = 0;
        while next <= count {
            let marker = format!("[{next}]");
            let Some(at) = line[from..].find(&marker) else {
                break;
            };
            let start = from + at;
            spans.push(Span {
                line: index,
                start,
                end: start + marker.len(),
                style: SpanStyle::Link(next - 1),
            });
            from = start + marker.len();
            next += 1;
        }
    }
    spans
}

impl Builder<'_> {
    /// Handles an element's start; returns whether to walk its children.
    fn enter(&mut self, node: &Node) -> bool {
        if let Some(text) = node.text() {
            self.text(&text);
            return false;
        }
        let Some(tag) = node.tag() else {
            return true; // the document, comments and doctypes
        };
        let tag = tag.to_string();
        if is_hidden(node, &tag) {
            return false;
        }
        if self.select_depth > 0 && tag != "option" && tag != "optgroup" {
            return false;
        }
        if is_block(&tag) {
            self.flush();
            if has_margin(&tag, node) {
                self.blank();
            }
        }
        match tag.as_str() {
            "br" => self.line_break(),
            "wbr" => {}
            "hr" => {
                let rule = "-".repeat(self.width.saturating_sub(self.indent).max(1));
                self.lines
                    .push(format!("{}{rule}", " ".repeat(self.indent)));
            }
            "pre" | "listing" | "xmp" | "plaintext" | "textarea" => self.pre += 1,
            "ul" | "menu" | "dir" => self.lists.push(ListState {
                ordered: false,
                next: 1,
                step: 1,
            }),
            "ol" => self.enter_ordered_list(node),
            "li" => self.enter_list_item(node),
            "blockquote" | "dd" | "figure" => self.indent += 4,
            "a" => self.enter_link(node),
            "img" => self.image(node),
            "input" => self.input(node),
            "select" => {
                self.select(node);
                self.select_depth += 1;
                return false;
            }
            "iframe" | "frame" => self.frame(node),
            "td" | "th" if !self.inline.trim().is_empty() => self.inline.push_str("  "),
            "button" => self.inline.push('['),
            _ => {}
        }
        !matches!(
            tag.as_str(),
            "img" | "input" | "iframe" | "frame" | "br" | "hr"
        )
    }

    fn exit(&mut self, node: &Node) {
        let Some(tag) = node.tag() else {
            return;
        };
        let tag = tag.to_string();
        match tag.as_str() {
            "pre" | "listing" | "xmp" | "plaintext" | "textarea" => {
                self.flush();
                self.pre = self.pre.saturating_sub(1);
            }
            "ul" | "ol" | "menu" | "dir" => {
                self.lists.pop();
            }
            "blockquote" | "dd" | "figure" => {
                self.flush();
                self.indent = self.indent.saturating_sub(4);
            }
            "a" => self.exit_link(),
            "button" => self.inline.push(']'),
            "select" => self.select_depth = self.select_depth.saturating_sub(1),
            "tr" => self.flush(),
            _ => {}
        }
        if is_block(&tag) {
            self.flush();
            if matches!(tag.as_str(), "li") {
                self.indent = self.indent.saturating_sub(self.list_indent());
            }
            if has_margin(&tag, node) {
                self.blank();
            }
        }
    }

    fn list_indent(&self) -> usize {
        if self.lists.last().is_some_and(|l| l.ordered) {
            4
        } else {
            2
        }
    }

    fn enter_ordered_list(&mut self, node: &Node) {
        let reversed = node.has_attr("reversed");
        let count = node
            .children()
            .iter()
            .filter(|c| c.tag() == Some("li"))
            .count() as i64;
        let start = node
            .attr("start")
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(if reversed { count } else { 1 });
        self.lists.push(ListState {
            ordered: true,
            next: start,
            step: if reversed { -1 } else { 1 },
        });
    }

    fn enter_list_item(&mut self, node: &Node) {
        let depth = self.lists.len().max(1);
        let marker = match self.lists.last_mut() {
            Some(list) if list.ordered => {
                if let Some(v) = node
                    .attr("value")
                    .and_then(|v| v.trim().parse::<i64>().ok())
                {
                    list.next = v;
                }
                let n = list.next;
                list.next += list.step;
                format!("{n}. ")
            }
            _ => match depth {
                1 => "* ".to_string(),
                2 => "+ ".to_string(),
                _ => "- ".to_string(),
            },
        };
        self.marker = Some(marker);
        self.indent += self.list_indent();
    }

    fn enter_link(&mut self, node: &Node) {
        let Some(href) = node.attr("href") else {
            return;
        };
        let url = self
            .base
            .join(href.trim())
            .map(|u| u.to_string())
            .unwrap_or_else(|_| href.trim().to_string());
        self.links.push(Link {
            url: escape_controls(&url).into_owned(),
            text: String::new(),
        });
        let number = self.links.len();
        self.open_links.push((number - 1, self.inline.len()));
        self.inline.push_str(&format!("[{number}]"));
    }

    fn exit_link(&mut self) {
        if let Some((index, start)) = self.open_links.pop() {
            let text = self.inline.get(start..).unwrap_or_default();
            let text = text.split_once(']').map(|(_, t)| t).unwrap_or(text);
            if let Some(link) = self.links.get_mut(index) {
                link.text = text.trim().to_string();
            }
        }
    }

    fn image(&mut self, node: &Node) {
        let label = match node.attr("alt") {
            Some(alt) if alt.trim().is_empty() => return,
            Some(alt) => alt,
            None => {
                let src = node.attr("src").unwrap_or_default();
                let name = src
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .split(['?', '#'])
                    .next()
                    .unwrap_or_default();
                if name.is_empty() {
                    "image".to_string()
                } else {
                    name.to_string()
                }
            }
        };
        self.inline_text(&format!("[{}]", collapse(&label)));
    }

    fn input(&mut self, node: &Node) {
        let kind = node.attr("type").unwrap_or_default().to_ascii_lowercase();
        let value = node.attr("value").unwrap_or_default();
        let widget = match kind.as_str() {
            "checkbox" => {
                if node.has_attr("checked") {
                    "[x]".to_string()
                } else {
                    "[ ]".to_string()
                }
            }
            "radio" => {
                if node.has_attr("checked") {
                    "(o)".to_string()
                } else {
                    "( )".to_string()
                }
            }
            "submit" => format!(
                "[{}]",
                if value.is_empty() {
                    "Submit".into()
                } else {
                    collapse(&value)
                }
            ),
            "reset" => format!(
                "[{}]",
                if value.is_empty() {
                    "Reset".into()
                } else {
                    collapse(&value)
                }
            ),
            "button" => format!("[{}]", collapse(&value)),
            "image" => format!("[{}]", node.attr("alt").unwrap_or_else(|| "Submit".into())),
            "file" => "[Choose file]".to_string(),
            _ => {
                let shown = if value.is_empty() {
                    node.attr("placeholder").unwrap_or_default()
                } else {
                    value
                };
                let shown = collapse(&shown);
                let pad = 12usize.saturating_sub(shown.chars().count());
                format!("[{shown}{}]", "_".repeat(pad))
            }
        };
        self.inline_text(&widget);
    }

    fn select(&mut self, node: &Node) {
        let options: Vec<Node> = node.walk_options();
        let chosen = options
            .iter()
            .find(|o| o.has_attr("selected"))
            .or(options.first())
            .map(|o| collapse(&o.text_content()))
            .unwrap_or_default();
        self.inline_text(&format!("[{chosen} v]"));
    }

    fn frame(&mut self, node: &Node) {
        let Some(src) = node.attr("src") else {
            return;
        };
        let url = self
            .base
            .join(src.trim())
            .map(|u| u.to_string())
            .unwrap_or(src);
        let title = node
            .attr("title")
            .map(|t| collapse(&t))
            .unwrap_or_else(|| "frame".into());
        self.links.push(Link {
            url: escape_controls(&url).into_owned(),
            text: title.clone(),
        });
        let number = self.links.len();
        self.inline_text(&format!("[{number}]{title}"));
    }

    fn inline_text(&mut self, text: &str) {
        self.inline.push_str(&escape_controls(text));
    }

    fn text(&mut self, raw: &str) {
        if self.select_depth > 0 {
            return;
        }
        let safe = escape_controls(raw);
        if self.pre > 0 {
            self.inline.push_str(&safe);
            return;
        }
        let mut pending_space = false;
        for c in safe.chars() {
            if c.is_ascii_whitespace() {
                pending_space = true;
                continue;
            }
            if pending_space && !self.inline.is_empty() && !self.inline.ends_with(' ') {
                self.inline.push(' ');
            }
            pending_space = false;
            match c {
                '\u{a0}' => self.inline.push('\u{a0}'),
                '\u{ad}' => {} // soft hyphen: invisible unless a line breaks there
                c => self.inline.push(c),
            }
        }
        if pending_space && !self.inline.is_empty() && !self.inline.ends_with(' ') {
            self.inline.push(' ');
        }
    }

    fn line_break(&mut self) {
        if self.pre > 0 {
            self.inline.push('\n');
            return;
        }
        self.inline.push('\n');
    }

    fn blank(&mut self) {
        if self.lines.last().is_some_and(|l| !l.trim().is_empty()) {
            self.lines.push(String::new());
        }
    }

    /// Ends the block being built: wraps its inline text into lines.
    fn flush(&mut self) {
        let text = std::mem::take(&mut self.inline);
        if self.pre > 0 {
            let text = text.strip_prefix('\n').unwrap_or(&text);
            for line in text.trim_end_matches('\n').split('\n') {
                let line = line.replace('\t', "        ");
                self.lines
                    .push(format!("{}{}", " ".repeat(self.indent), line));
            }
            self.marker = None;
            return;
        }
        for (i, paragraph) in text.split('\n').enumerate() {
            let paragraph = paragraph.trim_matches(' ');
            if paragraph.is_empty() {
                if i > 0 {
                    // A <br> on an empty line still makes a line.
                    self.lines.push(String::new());
                }
                continue;
            }
            self.wrap(paragraph);
        }
    }

    fn wrap(&mut self, paragraph: &str) {
        let marker = self.marker.take().unwrap_or_default();
        let first_indent = format!(
            "{}{}",
            " ".repeat(self.indent.saturating_sub(marker.chars().count())),
            marker
        );
        let rest_indent = " ".repeat(self.indent);
        let options = textwrap::Options::new(self.width)
            .initial_indent(&first_indent)
            .subsequent_indent(&rest_indent)
            .break_words(true);
        for line in textwrap::wrap(paragraph, options) {
            // A no-break space holds words together while wrapping, and prints as a space.
            self.lines.push(line.replace('\u{a0}', " "));
        }
    }
}

/// Collapses whitespace runs to one space and trims.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

trait OptionWalk {
    fn walk_options(&self) -> Vec<Node>;
}

impl OptionWalk for Node {
    /// The `<option>` elements of a `<select>`, also inside `<optgroup>`.
    fn walk_options(&self) -> Vec<Node> {
        let mut out = Vec::new();
        let mut stack: Vec<Node> = self.children().into_iter().rev().collect();
        while let Some(n) = stack.pop() {
            match n.tag() {
                Some("option") => out.push(n),
                Some("optgroup") => stack.extend(n.children().into_iter().rev()),
                _ => {}
            }
        }
        out
    }
}
