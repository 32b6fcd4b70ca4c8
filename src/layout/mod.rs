//! Layout: DOM + CSS → lines of text for a terminal of a given width.
//!
//! The stage runs in five steps, each in its own module:
//!
//! 1. [`tree`]: the DOM flattened into an arena (parents, siblings, subtree ends), so
//!    nothing below recurses over the document (it can nest 100,000 levels deep);
//! 2. [`css`] + [`style`]: the author's stylesheets (`<link>`s, whose text the page's
//!    loader hands over in [`StyleSources`], `<style>` blocks, `style=""`) parsed with
//!    `cssparser`, matched with Servo's `selectors` (`select`), cascaded over the HTML
//!    standard's rendering defaults into the computed values of `values` — for the
//!    properties that decide what text shows and how it flows (`display`, `visibility`,
//!    `white-space`, `list-style-type`, `text-transform`, `::before`/`::after` strings,
//!    bold/italic/underline, margins);
//! 3. [`boxes`]: the box tree as a flat list of items: blocks, runs of text with
//!    whitespace processed, list markers, numbered links, images and form controls as text;
//! 4. [`flow`]: blocks stacked and inline text broken into lines (UAX #14 break
//!    opportunities, terminal column widths, graphemes kept whole, bidi runs isolated);
//! 5. [`table`]: data tables as grids (or stacked rows when too wide).
//!
//! The layout reads no files and fetches nothing: it is a function of the document, the
//! base URL, the width and the stylesheets' text. See docs/layout.md for the model and its
//! limits.

mod boxes;
pub mod css;
mod flow;
mod hash;
mod select;
mod share;
mod stream;
mod style;
mod table;
mod tree;
mod values;

use url::Url;

use crate::html::Document;
use crate::text::escape_controls;

pub use css::StyleSources;
pub use stream::{StreamingLayout, WithParse};

/// A laid-out page.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    pub width: usize,
    pub lines: Vec<String>,
    /// Numbered links, `[1]` first.
    pub links: Vec<Link>,
    /// Styled stretches of lines (links, headings, emphasis, code) for the TUI.
    pub spans: Vec<Span>,
    /// In-page targets (`id`, `<a name>`) and the line each starts on, in document order.
    pub anchors: Vec<(String, usize)>,
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

#[derive(Clone, Debug, Default)]
pub struct Link {
    pub url: String,
    pub text: String,
    /// A form field numbered like a link (in [`Fields::Numbered`] layouts): its control's
    /// DOM node. Its `url` is empty.
    pub field: Option<u32>,
}

/// How form fields are laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fields {
    /// As text only (`--dump`, as lynx -dump shows them).
    #[default]
    AsText,
    /// Numbered like links, so a person can pick one and use it (the TUI, as lynx and
    /// elinks number them): `[4][query______]`, the number and the field one unbreakable
    /// piece, so that the field's place on screen is known.
    Numbered,
}

impl Layout {
    /// The line an in-page fragment (`#name`) points at, if the page has that target.
    pub fn anchor_line(&self, fragment: &str) -> Option<usize> {
        self.anchors
            .iter()
            .find(|(name, _)| name == fragment)
            .map(|(_, line)| *line)
    }

    /// The page as `--dump` prints it: the lines, then the numbered link list.
    pub fn to_text(&self, with_link_list: bool) -> String {
        let size = self.lines.iter().map(|l| l.len() + 1).sum::<usize>()
            + self.links.iter().map(|l| l.url.len() + 10).sum::<usize>();
        let mut out = String::with_capacity(size + 16);
        for line in &self.lines {
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if with_link_list && !self.links.is_empty() {
            out.push_str("\nReferences\n\n");
            // `{:>w$}. {url}` by hand: the fmt machinery cost more than the rest of the dump.
            let w = decimal_digits(self.links.len()) + 2;
            for (i, link) in self.links.iter().enumerate() {
                let n = i + 1;
                out.extend(std::iter::repeat_n(
                    ' ',
                    w.saturating_sub(decimal_digits(n)),
                ));
                push_decimal(&mut out, n);
                out.push_str(". ");
                out.push_str(&link.url);
                out.push('\n');
            }
        }
        out
    }
}

/// How many decimal digits `n` has.
fn decimal_digits(n: usize) -> usize {
    let mut digits = 1;
    let mut rest = n / 10;
    while rest > 0 {
        digits += 1;
        rest /= 10;
    }
    digits
}

/// Appends `n` in decimal (without the fmt machinery, which costs more per number).
pub(crate) fn push_decimal(out: &mut String, n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    // ASCII digits: always UTF-8.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// Lays plain text out the way browsers show `text/plain` (`white-space: pre-wrap`): lines
/// and spaces kept, tabs to the next multiple of eight, and a line wider than the page
/// wrapped after its last space that fits (or between graphemes in a long word).
pub fn layout_plain_text(text: &str, width: usize) -> Layout {
    let width = width.clamp(20, 1000);
    let mut lines = Vec::new();
    for line in text.lines() {
        let line = escape_controls(line);
        wrap_preformatted(&expand_tabs(&line), width, &mut lines);
    }
    Layout {
        width,
        lines,
        links: Vec::new(),
        spans: Vec::new(),
        anchors: Vec::new(),
    }
}

fn expand_tabs(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('\t') {
        return line.into();
    }
    let mut out = String::with_capacity(line.len() + 8);
    let mut column = 0;
    for c in line.chars() {
        if c == '\t' {
            let to = (column / 8 + 1) * 8;
            out.extend(std::iter::repeat_n(' ', to - column));
            column = to;
        } else {
            out.push(c);
            column += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        }
    }
    out.into()
}

/// Breaks one preformatted line into pieces at most `width` columns wide.
fn wrap_preformatted(line: &str, width: usize, out: &mut Vec<String>) {
    use unicode_segmentation::UnicodeSegmentation;
    use unicode_width::UnicodeWidthStr;
    let mut rest = line;
    while rest.width() > width {
        // The longest prefix of whole graphemes that fits, and its last space.
        let mut end = 0;
        let mut used = 0;
        let mut last_space = None;
        for (at, g) in rest.grapheme_indices(true) {
            let w = g.width();
            if used + w > width {
                break;
            }
            used += w;
            end = at + g.len();
            if g == " " {
                last_space = Some(end);
            }
        }
        // After the last space that fits, else mid-word; a grapheme wider than the page
        // still takes a line of its own, so the loop always moves on.
        let cut = last_space
            .unwrap_or(end)
            .max(rest.graphemes(true).next().map_or(rest.len(), str::len));
        out.push(rest[..cut].to_string());
        rest = &rest[cut..];
    }
    out.push(rest.to_string());
}

/// Lays a document out for `width` columns with only its `<style>` blocks and `style=""`
/// attributes (no fetched stylesheets); links resolve against `base`.
pub fn layout_document(doc: &Document, base: &Url, width: usize) -> Layout {
    layout_document_styled(doc, base, width, &StyleSources::new())
}

/// Lays a document out for `width` columns, with the stylesheets the asset walk fetched
/// (`sources`, by URL; `@import`s are looked up there too).
pub fn layout_document_styled(
    doc: &Document,
    base: &Url,
    width: usize,
    sources: &StyleSources,
) -> Layout {
    layout_document_with(doc, base, width, sources, Fields::AsText)
}

/// [`layout_document_styled`], with form fields laid out as `fields` says.
pub fn layout_document_with(
    doc: &Document,
    base: &Url,
    width: usize,
    sources: &StyleSources,
    fields: Fields,
) -> Layout {
    let width = width.clamp(20, 1000);
    let tree_data = tree::TreeData::build(doc);
    let tree = tree_data.view(doc);
    let media = css::Media::for_columns(width);
    let sheets = style::sheet_elements(&tree);
    let mut styles = style::StyleEngine::new(&tree, &sheets, base, sources, media);
    styles.advance(&tree, false);
    let boxes = boxes::build(&tree, &mut styles, base, fields);
    drop(styles);
    drop(tree_data);
    let out = flow::render(&boxes, 0, boxes.items.len(), width, 0);
    assemble(out, boxes, width)
}

/// The laid-out lines and the boxes' links and anchors, as a [`Layout`].
pub(crate) fn assemble(out: flow::Out, boxes: boxes::Boxes, width: usize) -> Layout {
    let boxes::Boxes {
        links,
        anchors: names,
        ..
    } = boxes;
    let mut lines = out.lines;
    let mut spans = out.spans;
    let mut anchors: Vec<(String, usize)> = Vec::with_capacity(out.anchors.len());
    // The layout never starts with a blank line; drop trailing ones.
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let last = lines.len().saturating_sub(1);
    spans.retain(|s| s.line < lines.len());
    let mut names: Vec<Option<String>> = names.into_iter().map(Some).collect();
    for (index, line) in out.anchors {
        if let Some(name) = names.get_mut(index as usize).and_then(Option::take) {
            anchors.push((escape_controls(&name).into_owned(), line.min(last)));
        }
    }
    Layout {
        width,
        lines,
        links,
        spans,
        anchors,
    }
}

#[cfg(test)]
mod tests {
    use super::{decimal_digits, push_decimal, Layout, Link};

    #[test]
    fn decimals_as_fmt_writes_them() {
        for n in [0, 1, 9, 10, 99, 100, 999, 1000, 12345, usize::MAX] {
            let mut out = String::from("x");
            push_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}"));
            assert_eq!(decimal_digits(n), n.to_string().len());
        }
    }

    #[test]
    fn link_list_aligned_as_before() {
        for count in [1, 9, 10, 11, 100, 101] {
            let layout = Layout {
                lines: vec!["a  ".into(), "b".into()],
                links: (0..count)
                    .map(|i| Link {
                        url: format!("http://x.test/{i}"),
                        ..Link::default()
                    })
                    .collect(),
                ..Layout::default()
            };
            let digits = count.to_string().len();
            let mut expected = String::from("a\nb\n\nReferences\n\n");
            for (i, link) in layout.links.iter().enumerate() {
                expected.push_str(&format!("{:>w$}. {}\n", i + 1, link.url, w = digits + 2));
            }
            assert_eq!(layout.to_text(true), expected);
            assert_eq!(layout.to_text(false), "a\nb\n");
        }
    }
}
