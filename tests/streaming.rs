//! The layout that runs beside the parser (`layout::StreamingLayout`) must give exactly the
//! layout of the finished document: for every fixture page, for CSS whose outcome depends on
//! elements still to come (`:last-child`, `:empty`, `:last-of-type`), and for the cases
//! where it has to start again (the parser's repairs move what it read, a late stylesheet or
//! `<base>`, selectors that need the whole tree). Pages are padded past the size at which the
//! parse runs on two threads, so the layout really reads the document in pieces.

use minibrowse::html;
use minibrowse::layout::{self, Layout, StreamingLayout, WithParse};

mod common;

use common::{fixture_base as base, fixture_sources as sources, LAYOUT_FIXTURES as DIR};

/// Laid out while parsed, and how that went.
fn streamed(page: &str, width: usize) -> (Layout, WithParse, bool) {
    let sources = sources();
    let mut streaming = StreamingLayout::new(&base(), width, &sources);
    let (doc, changed) = html::parse_reading(page, &mut streaming);
    let (layout, with) = streaming.finish(&doc, changed);
    (layout, with, doc.stats.two_threads)
}

/// Laid out once the parse is over.
fn whole(page: &str, width: usize) -> Layout {
    let doc = html::parse(page);
    let base = minibrowse::assets::base_url(&doc, &base());
    layout::layout_document_styled(&doc, &base, width, &sources())
}

fn assert_same(a: &Layout, b: &Layout, what: &str) {
    if let Some(k) =
        (0..a.lines.len().max(b.lines.len())).find(|&k| a.lines.get(k) != b.lines.get(k))
    {
        panic!(
            "line {k} differs ({what}): streamed {:?}, whole {:?}",
            a.lines.get(k),
            b.lines.get(k)
        );
    }
    assert_eq!(a.spans, b.spans, "spans differ: {what}");
    assert_eq!(a.anchors, b.anchors, "anchors differ: {what}");
    let urls = |l: &Layout| l.links.iter().map(|k| k.url.clone()).collect::<Vec<_>>();
    let texts = |l: &Layout| l.links.iter().map(|k| k.text.clone()).collect::<Vec<_>>();
    assert_eq!(urls(a), urls(b), "links differ: {what}");
    assert_eq!(texts(a), texts(b), "link texts differ: {what}");
}

/// `head` + `body` repeated until the page is well past the two-thread size.
fn page(head: &str, body: &str) -> String {
    let mut page = format!("<!DOCTYPE html><html><head><title>t</title>{head}</head><body>");
    while page.len() < 100_000 {
        page.push_str(body);
        page.push('\n');
    }
    page
}

/// Streamed and whole give the same layout at three widths; returns how the streamed one went.
fn check(page: &str) -> WithParse {
    let mut last = WithParse::default();
    for width in [40, 80, 100] {
        let (streamed, with, two_threads) = streamed(page, width);
        assert!(two_threads, "the page should be parsed on two threads");
        assert_same(&streamed, &whole(page, width), &format!("width {width}"));
        last = with;
    }
    last
}

#[test]
fn a_plain_page_is_laid_out_while_it_is_parsed() {
    let with = check(&page(
        "",
        "<h2>Title</h2><p>Some <em>text</em> with <a href=/x>a link</a>.</p><ul><li>one<li>two</ul>",
    ));
    assert_eq!(with.restarted, None);
    assert!(with.ms_during_parse > 0.0);
}

#[test]
fn every_fixture_page_streams_to_the_same_layout() {
    for entry in std::fs::read_dir(DIR).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let mut text = std::fs::read_to_string(&path).unwrap();
        // The fixture first, then enough after it that the parse is streamed.
        while text.len() < 200_000 {
            text.push_str("<p>More text after the fixture, <b>to stream</b>.</p>\n");
        }
        check(&text);
    }
}

/// Selectors decided by what follows an element: the layout must not take a guess it
/// cannot undo.
#[test]
fn selectors_about_what_follows_are_honoured() {
    let cases = [
        // Only the bottom margin depends on the future: settled when the list closes.
        (
            "<style>ul > li:last-child > :last-child { margin-bottom: 0 } p { margin: 1em 0 }</style>",
            "<ul><li><p>a</p><p>b</p></li><li><p>c</p><p>d</p></li></ul>",
        ),
        // How an element shows depends on the future.
        ("<style>li:last-child { display: none }</style>", "<ul><li>one<li>two<li>three</ul>"),
        ("<style>p:empty { display: none } p:empty::before { content: 'EMPTY' }</style>", "<p></p><p>full</p><div><p></p></div>"),
        ("<style>span:last-of-type::after { content: '!' }</style>", "<p><span>a</span><b>x</b><span>b</span><i>y</i></p>"),
        ("<style>li:only-child { text-transform: uppercase }</style>", "<ul><li>alone</ul><ul><li>one<li>two</ul>"),
        ("<style>li:not(:last-child)::after { content: ',' }</style>", "<ul><li>a<li>b<li>c</ul>"),
        ("<style>div:last-child p:first-child { font-weight: bold }</style>", "<div><p>one</p><p>two</p></div><div><p>three</p></div>"),
    ];
    for (head, body) in cases {
        check(&page(head, body));
    }
}

/// What the streamed layout cannot know until the end makes it start again (and still give
/// the document's layout).
#[test]
fn lost_bets_start_the_layout_again() {
    let restarted = |page: &str| check(page).restarted;
    // Selectors that need the elements after the one styled.
    let why = restarted(&page(
        "<style>li:nth-last-child(2) { display: none }</style>",
        "<ul><li>a<li>b<li>c</ul>",
    ));
    assert!(why.is_some_and(|w| w.contains("nth-last-child")));
    let why = restarted(&page(
        "<style>div:has(> p.x) { display: none }</style>",
        "<div><p>a</p><p class=x>b</p></div>",
    ));
    assert!(why.is_some_and(|w| w.contains(":has")));
    // A stylesheet after the content it styles.
    let mut late_style = page("", "<p class=x>text</p>");
    late_style.push_str("<style>.x { display: none }</style>");
    assert!(restarted(&late_style).is_some_and(|w| w.contains("stylesheet")));
    // A second <body> tag adds attributes to the body already read.
    let mut second_body = page(
        "<style>body.late p { text-transform: uppercase }</style>",
        "<p>text</p>",
    );
    second_body.push_str("<body class=late><p>end");
    assert!(restarted(&second_body).is_some_and(|w| w.contains("attributes")));
    // A <base> after links it changes.
    let mut late_base = page("", "<p><a href=x.html>x</a></p>");
    late_base.push_str("<base href='http://elsewhere.test/dir/'>");
    assert!(restarted(&late_base).is_some_and(|w| w.contains("base")));
}

/// The parser's repairs happen inside what the layout takes whole, so they cost no restart.
#[test]
fn repairs_inside_formatting_elements_and_tables_need_no_restart() {
    let with = check(&page(
        "",
        "<p><b>1<p>2</b>3</p><table><tr><td>a</td></tr>stray<tr><td>b</td></tr></table><a href=/y><div>block in link</div></a>",
    ));
    assert_eq!(with.restarted, None);
}

/// Elements the box builder needs whole (numbered lists, selects, textareas) and hidden
/// subtrees longer than a batch of tokens.
#[test]
fn long_elements_are_waited_for() {
    let mut long_list = String::from("<ol reversed>");
    let mut long_select = String::from("<select>");
    for i in 0..2_000 {
        long_list.push_str(&format!("<li>item {i}"));
        long_select.push_str(&format!(
            "<option{}>choice {i}",
            if i == 1_500 { " selected" } else { "" }
        ));
    }
    long_list.push_str("</ol>");
    long_select.push_str("</select>");
    let hidden = format!(
        "<div style='display:none'>{}</div><p>shown</p>",
        "<p>hidden text</p>".repeat(3_000)
    );
    let table = format!(
        "<table><tr><th>h1<th>h2</tr>{}</table>",
        "<tr><td>cell<td>more</tr>".repeat(2_000)
    );
    for body in [long_list, long_select, hidden, table] {
        assert_eq!(check(&page("", &body)).restarted, None);
    }
}

/// A small, repeatable generator of pages: random nesting of the elements the layout treats
/// specially, under random rules from a pool of selectors that look at what follows.
struct Pages(u64);

impl Pages {
    fn next(&mut self) -> u64 {
        // xorshift64*: repeatable, no dependency.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }

    fn element(&mut self, depth: usize, out: &mut String) {
        const TAGS: &[&str] = &[
            "div",
            "p",
            "span",
            "ul",
            "li",
            "ol",
            "b",
            "em",
            "section",
            "dl",
            "dd",
            "blockquote",
            "a",
        ];
        const CLASSES: &[&str] = &["", " class=x", " class=y", " class='x y'"];
        let tag = self.pick(TAGS);
        let class = self.pick(CLASSES);
        let href = if tag == "a" { " href=/l" } else { "" };
        out.push_str(&format!("<{tag}{class}{href}>"));
        let children = if depth > 4 { 0 } else { self.next() % 5 };
        for _ in 0..children {
            if self.next().is_multiple_of(3) {
                out.push_str(self.pick(&["word ", "two words ", " ", "x"]));
            } else {
                self.element(depth + 1, out);
            }
        }
        // Sometimes leave it open, for the parser to close (or repair).
        if !self.next().is_multiple_of(7) {
            out.push_str(&format!("</{tag}>"));
        }
    }
}

#[test]
fn random_pages_stream_to_the_same_layout() {
    const RULES: &[&str] = &[
        "li:last-child { display: none }",
        ":last-child { margin-bottom: 0 }",
        "p:last-child::after { content: '<' }",
        ".x:first-child { text-transform: uppercase }",
        "span:last-of-type::before { content: '^' }",
        ":empty { display: none }",
        "div > :only-child { font-style: italic }",
        "li:not(:last-child)::after { content: ',' }",
        ".y:last-child .x { display: none }",
        "ul > li:last-child > :last-child { margin-bottom: 0 }",
        "p + p { margin-top: 0 }",
        "em ~ span { text-transform: lowercase }",
        "dd:only-of-type { display: block }",
        "section:last-child p:first-child { font-weight: bold }",
    ];
    let mut gen = Pages(0x5eed_1234_abcd_ef01);
    for round in 0..8 {
        let mut head = String::from("<style>p { margin: 1em 0 }");
        for _ in 0..4 {
            head.push_str(gen.pick(RULES));
        }
        head.push_str("</style>");
        let mut body = String::new();
        while body.len() < 3_000 {
            gen.element(0, &mut body);
        }
        let page = page(&head, &body);
        for width in [40, 100] {
            let (streamed, _, _) = streamed(&page, width);
            assert_same(
                &streamed,
                &whole(&page, width),
                &format!("round {round}, width {width}, rules {head}"),
            );
        }
    }
}

/// The tokenizer waits for the tree builder after each `<script>`: a page dense with them is
/// parsed on one thread (it would be four times slower on two), and still laid out right.
#[test]
fn a_page_dense_with_scripts_is_parsed_on_one_thread() {
    let dense = page("", "<script>x</script><p>text</p>");
    let (layout, _, two_threads) = streamed(&dense, 80);
    assert!(!two_threads);
    assert_same(&layout, &whole(&dense, 80), "dense scripts");
    let sparse = page("<script>x</script>", "<p>text</p>");
    assert!(streamed(&sparse, 80).2);
}
