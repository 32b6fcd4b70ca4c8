//! Layout tests: the dump of each fixture page under fixtures/layout/ (one page per part of
//! the layout: display model, author CSS, whitespace, blocks and lists, tables, links and
//! images, forms, Unicode), snapshotted with insta, plus properties every layout must have.

use minibrowse::html;
use minibrowse::layout::{self, Layout, SpanStyle};
use url::Url;

mod common;

use common::{fixture_base as base, fixture_sources as sources, LAYOUT_FIXTURES as DIR};

fn lay_out_bytes(bytes: &[u8], width: usize) -> Layout {
    let decoded = html::decode(bytes, None);
    let doc = html::parse(&decoded.text);
    layout::layout_document_styled(&doc, &base(), width, &sources())
}

fn lay_out(name: &str, width: usize) -> Layout {
    let bytes = std::fs::read(format!("{DIR}/{name}")).unwrap();
    let layout = lay_out_bytes(&bytes, width);
    check_invariants(&layout);
    layout
}

fn lay_out_html(html_text: &str, width: usize) -> Layout {
    let layout = lay_out_bytes(html_text.as_bytes(), width);
    check_invariants(&layout);
    layout
}

/// What must hold for any page: no control characters, spans inside their lines on
/// character boundaries, every link span covering its `[n]` marker.
fn check_invariants(layout: &Layout) {
    for (i, line) in layout.lines.iter().enumerate() {
        assert!(
            !line.chars().any(minibrowse::text::is_unsafe),
            "control character in line {i}: {line:?}"
        );
    }
    for span in &layout.spans {
        let line = &layout.lines[span.line];
        assert!(span.start < span.end, "empty span {span:?}");
        assert!(
            span.end <= line.len(),
            "span past its line: {span:?} in {line:?}"
        );
        assert!(line.is_char_boundary(span.start) && line.is_char_boundary(span.end));
    }
    for (index, _) in layout.links.iter().enumerate() {
        let marker = format!("[{}]", index + 1);
        let covered = layout.spans.iter().any(|s| {
            s.style == SpanStyle::Link(index)
                && layout.lines[s.line][s.start..s.end].starts_with(&marker)
        });
        assert!(
            covered,
            "link {marker} has no span covering its marker: {:?} {:?}",
            layout.lines, layout.spans
        );
    }
}

#[test]
fn display_model() {
    insta::assert_snapshot!(lay_out("display.html", 80).to_text(true));
}

#[test]
fn author_css() {
    insta::assert_snapshot!(lay_out("css.html", 80).to_text(true));
}

#[test]
fn whitespace() {
    insta::assert_snapshot!(lay_out("whitespace.html", 40).to_text(true));
}

#[test]
fn blocks_and_lists() {
    insta::assert_snapshot!(lay_out("blocks.html", 80).to_text(true));
}

#[test]
fn tables() {
    insta::assert_snapshot!(lay_out("tables.html", 70).to_text(true));
}

#[test]
fn links_and_images() {
    let layout = lay_out("links.html", 80);
    insta::assert_snapshot!(layout.to_text(true));
    // In-page fragments resolve to lines.
    let line = layout.anchor_line("section-2").expect("anchor");
    assert!(
        layout.lines[line].contains("Section two"),
        "{:?}",
        layout.lines[line]
    );
    let top = layout.anchor_line("top").expect("anchor");
    assert!(layout.lines[top].contains("Links and images"));
    assert!(layout.anchor_line("old-anchor").is_some());
}

#[test]
fn forms() {
    insta::assert_snapshot!(lay_out("forms.html", 80).to_text(true));
}

#[test]
fn unicode() {
    let layout = lay_out("unicode.html", 40);
    insta::assert_snapshot!(layout.to_text(true));
    for line in &layout.lines {
        let w = unicode_width::UnicodeWidthStr::width(line.as_str());
        assert!(w <= 40, "line wider than 40 columns ({w}): {line:?}");
    }
}

#[test]
fn no_line_is_wider_than_the_width() {
    for name in [
        "display.html",
        "css.html",
        "blocks.html",
        "tables.html",
        "links.html",
    ] {
        let layout = lay_out(name, 50);
        for line in &layout.lines {
            let w = unicode_width::UnicodeWidthStr::width(line.as_str());
            assert!(
                w <= 50,
                "{name}: line wider than 50 columns ({w}): {line:?}"
            );
        }
    }
}

#[test]
fn wraps_at_the_width() {
    let layout = lay_out_html(
        "<p>aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn</p>",
        20,
    );
    assert_eq!(
        layout.lines,
        vec![
            "aaaa bbbb cccc dddd",
            "eeee ffff gggg hhhh",
            "iiii jjjj kkkk llll",
            "mmmm nnnn"
        ]
    );
}

#[test]
fn styled_spans() {
    let layout = lay_out_html(
        "<h1>Head</h1><p><b>bold</b> <i>it</i> <u>under</u> <code>code</code> <a href=x>link</a></p>",
        80,
    );
    let styles: Vec<(String, SpanStyle)> = layout
        .spans
        .iter()
        .map(|s| (layout.lines[s.line][s.start..s.end].to_string(), s.style))
        .collect();
    assert!(
        styles.contains(&("Head".into(), SpanStyle::Heading)),
        "{styles:?}"
    );
    assert!(styles.contains(&("bold".into(), SpanStyle::Bold)));
    assert!(styles.contains(&("it".into(), SpanStyle::Italic)));
    assert!(styles.contains(&("under".into(), SpanStyle::Underline)));
    assert!(styles.contains(&("code".into(), SpanStyle::Code)));
    assert!(styles.contains(&("[1]link".into(), SpanStyle::Link(0))));
}

#[test]
fn link_span_covers_a_wrapped_link_on_each_line() {
    let layout = lay_out_html(
        "<p>xxxxxxxxxxxxxxx <a href=/a>a link whose text wraps over lines</a></p>",
        20,
    );
    let link_lines: Vec<usize> = layout
        .spans
        .iter()
        .filter(|s| s.style == SpanStyle::Link(0))
        .map(|s| s.line)
        .collect();
    assert!(
        link_lines.len() >= 2,
        "{:?} {:?}",
        layout.lines,
        layout.spans
    );
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    // Just under the parser's nesting limit: everything is shown.
    let depth = 1_000;
    let mut page = String::with_capacity(depth * 14);
    for _ in 0..depth {
        page.push_str("<span>");
    }
    page.push_str("deep");
    let layout = lay_out_html(&page, 80);
    assert_eq!(layout.lines, vec!["deep"]);
    let mut page = String::new();
    for _ in 0..500 {
        page.push_str("<div><blockquote>");
    }
    page.push_str("quoted");
    let layout = lay_out_html(&page, 80);
    assert!(layout.lines.iter().any(|l| l.trim() == "quoted"));
}

#[test]
fn runaway_nesting_is_shown_whole_nested_no_deeper_than_the_cap() {
    // 100,000 nested <div>: as Chromium does, the tree stops growing deeper at 512 and the
    // rest of the content goes into the element at that depth. html5ever's tree builder is
    // quadratic in the depth, so this is also what keeps the parse fast.
    let mut page = String::from("<p>before</p>");
    for _ in 0..100_000 {
        page.push_str("<div>");
    }
    page.push_str("after");
    let started = std::time::Instant::now();
    let doc = html::parse(&page);
    let took = started.elapsed();
    assert_eq!(doc.stats.stopped, None);
    assert!(
        doc.stats.max_depth <= html::FLATTEN_AT + 3,
        "{}",
        doc.stats.max_depth
    );
    assert!(doc.stats.flattened > 99_000, "{}", doc.stats.flattened);
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    let layout = layout::layout_document(&doc, &Url::parse("http://x.test/").unwrap(), 80);
    assert_eq!(layout.lines.first().map(String::as_str), Some("before"));
    assert!(
        layout.lines.iter().any(|l| l.contains("after")),
        "shown whole"
    );
    // Nesting that is not flattened (tables place what is in them by their own rules)
    // still meets the nesting limit: the page is what came before it.
    let page = String::from("<p>before</p>") + &"<table><tr><td>".repeat(3_000) + "after";
    let doc = html::parse(&page);
    let limit = html::ParseLimits::default().max_depth;
    let stopped = doc.stats.stopped.as_deref().unwrap_or_default();
    assert!(stopped.contains("nested"), "{stopped:?}");
    assert!(doc.stats.max_depth > limit, "{}", doc.stats.max_depth);
    // Within the limit, nothing is stopped.
    let doc = html::parse("<div><div><p>fine</p></div></div>");
    assert_eq!(doc.stats.stopped, None);
    assert_eq!(doc.stats.max_depth, 6); // html, body, div, div, p, its text
}

#[test]
fn encodings_are_sniffed() {
    // windows-1252 by default, a <meta> charset, a BOM.
    let latin = b"<p>caf\xe9 \x80</p>";
    assert_eq!(lay_out_bytes(latin, 80).lines, vec!["café €"]);
    let meta = b"<meta charset=iso-8859-2><p>\xb1</p>";
    assert_eq!(lay_out_bytes(meta, 80).lines, vec!["ą"]);
    let bom = b"\xef\xbb\xbf<p>\xc3\xa9t\xc3\xa9</p>";
    assert_eq!(lay_out_bytes(bom, 80).lines, vec!["été"]);
}

#[test]
fn plain_text_keeps_lines() {
    let layout = layout::layout_plain_text("one\n  two\x1b[0m\n", 80);
    assert_eq!(layout.lines, vec!["one", "  two\\x1b[0m"]);
    // Wider than the page: wrapped after the last space that fits (pre-wrap), tabs expanded.
    let text = "alpha beta gamma delta epsilon zeta\n\tx\n";
    let layout = layout::layout_plain_text(text, 20);
    assert_eq!(
        layout.lines,
        vec!["alpha beta gamma ", "delta epsilon zeta", "        x"]
    );
    // One unbroken word: cut between graphemes, never inside one (é as e + combining mark).
    let word = "e\u{301}".repeat(50);
    let layout = layout::layout_plain_text(&word, 20);
    assert_eq!(layout.lines.len(), 3);
    assert!(layout
        .lines
        .iter()
        .all(|l| l.starts_with('e') && l.ends_with('\u{301}')));
}

#[test]
fn dump_lists_links_unless_asked_not_to() {
    let layout = lay_out_html("<p><a href='/a'>A</a></p>", 80);
    assert!(layout.to_text(true).contains("http://example.test/a"));
    assert!(!layout.to_text(false).contains("http://example.test/a"));
}
