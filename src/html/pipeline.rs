//! The parse on two threads: html5ever's tokenizer on a thread of its own, handing its
//! tokens in batches to the tree builder, which builds the DOM on the calling thread.
//!
//! Tokenizing is most of the cost of a parse (on Python's 2.5 MB `contents.html` it is
//! three quarters of it), and it needs nothing from the tree but one thing: after a start
//! tag such as `<script>`, `<style>`, `<title>` or `<textarea>`, the tree builder tells the
//! tokenizer to read what follows as raw text — and whether it does depends on where in the
//! tree the tag lands (`<title>` inside `<svg>` is an ordinary element). So for exactly those
//! tags, and for `<![CDATA[`, the tokenizer thread waits for the tree builder's answer; for
//! every other token the answer cannot change what the tokenizer does next (an end tag
//! always leaves it in the data state), and it runs ahead. The DOM is therefore the one the
//! single-threaded parse builds — `tests` below compare the two on tricky markup.
//!
//! Tokens hold `StrTendril`s, which are not `Send` (their reference count is not atomic):
//! each string crosses the thread boundary as a `SendTendril`, which owns its buffer.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};

use html5ever::interface::TreeSink;
use html5ever::tendril::{fmt::UTF8, SendTendril, StrTendril};
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Doctype, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{TreeBuilder, TreeBuilderOpts};
use html5ever::{local_name, Attribute, LocalName, QualName};

use super::dom::{Document, ParseLimits};
use super::sink::{Handle, Sink, SLICE};
use super::stream::{Reader, Walker};

/// Tokens per batch sent to the tree builder: large enough that the channel costs little
/// per token, small enough that the tree builder starts early.
const BATCH: usize = 4096;
/// Batches in flight: bounds the memory the tokenizer can run ahead by (the tree builder
/// and the layout beside it are the slower side, so a short queue keeps it fed).
const IN_FLIGHT: usize = 4;

/// A token whose strings may cross threads.
enum Msg {
    Tag {
        kind: TagKind,
        name: LocalName,
        self_closing: bool,
        /// How many attributes it has: the next ones in the batch's `attrs`.
        attrs: u32,
        had_duplicate_attributes: bool,
        /// The tokenizer waits for the tree builder's answer to this one.
        answer: bool,
    },
    /// A run of text: where it is in the batch's `text`.
    Characters {
        start: u32,
        len: u32,
    },
    Comment {
        start: u32,
        len: u32,
    },
    Doctype {
        name: Option<SendTendril<UTF8>>,
        public_id: Option<SendTendril<UTF8>>,
        system_id: Option<SendTendril<UTF8>>,
        force_quirks: bool,
    },
    NullCharacter,
    Eof,
    ParseError(Cow<'static, str>),
    /// "Is the adjusted current node outside the HTML namespace?" (for `<![CDATA[`).
    AskForeign,
    /// The end of one slice of input: the tree builder checks the parse limits here.
    SliceEnd,
    /// The tokenizer is done.
    End,
}

/// What the tree builder tells the tokenizer.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Continue,
    Plaintext,
    RawData(RawKind),
    Foreign(bool),
}

/// The names of [`may_switch_tokenizer`], as text (for [`raw_text_tags`], which looks at
/// bytes; a test keeps the two lists the same).
const RAW_TEXT_TAGS: [&str; 10] = [
    "title",
    "textarea",
    "style",
    "xmp",
    "iframe",
    "noembed",
    "noframes",
    "noscript",
    "script",
    "plaintext",
];

/// Start tags after which the tree builder may switch the tokenizer to another state (the
/// names for which html5ever's rules return `ToRawData` or `ToPlaintext`).
fn may_switch_tokenizer(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("title")
            | local_name!("textarea")
            | local_name!("style")
            | local_name!("xmp")
            | local_name!("iframe")
            | local_name!("noembed")
            | local_name!("noframes")
            | local_name!("noscript")
            | local_name!("script")
            | local_name!("plaintext")
    )
}

/// Counts (up to `most`) the start tags after which the tokenizer may have to wait for the
/// tree builder: `<` then one of the names of [`may_switch_tokenizer`], in any case, then a
/// character that ends a tag name. A count, not a parse: comments and raw text are not
/// skipped, which only errs towards one thread.
pub(super) fn raw_text_tags(html: &[u8], most: usize) -> usize {
    let mut count = 0;
    for lt in memchr::memchr_iter(b'<', html) {
        let tag = &html[lt + 1..];
        // Most tags are ruled out by their first two letters.
        let two = match tag {
            [a, b, ..] => [a.to_ascii_lowercase(), b.to_ascii_lowercase()],
            _ => continue,
        };
        if !matches!(
            &two,
            b"ti" | b"te" | b"st" | b"sc" | b"xm" | b"if" | b"no" | b"pl"
        ) {
            continue;
        }
        let named = RAW_TEXT_TAGS.iter().map(|n| n.as_bytes()).any(|name| {
            tag.len() > name.len()
                && tag[..name.len()].eq_ignore_ascii_case(name)
                && matches!(
                    tag[name.len()],
                    b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'
                )
        });
        if named {
            count += 1;
            if count >= most {
                break;
            }
        }
    }
    count
}

fn send(t: StrTendril) -> SendTendril<UTF8> {
    t.into_send()
}

fn local(t: SendTendril<UTF8>) -> StrTendril {
    StrTendril::from(t)
}

/// Tokens on their way to the tree builder, with the text of their character and comment
/// tokens end to end. The tree builder makes its own strings from that text: a string
/// allocated on the tokenizer's thread and freed on the other makes glibc's allocator lock
/// the tokenizer's arena, and the two threads then wait on each other thousands of times a
/// page (text nodes are merged and grown on the tree builder's side).
#[derive(Default)]
struct Batch {
    msgs: Vec<(Msg, u64)>,
    text: String,
    /// The tags' attributes, in order (so that each tag's list is allocated, and freed, on
    /// the tree builder's side).
    attrs: Vec<(QualName, SendTendril<UTF8>)>,
}

impl Batch {
    fn with_capacity(tokens: usize) -> Batch {
        Batch {
            msgs: Vec::with_capacity(tokens),
            text: String::with_capacity(tokens * 16),
            attrs: Vec::with_capacity(tokens),
        }
    }

    /// Appends text to `self.text`, as (start, len).
    fn keep(&mut self, t: &str) -> (u32, u32) {
        let start = self.text.len() as u32;
        self.text.push_str(t);
        (start, t.len() as u32)
    }
}

/// A string of the tree builder's own, from a batch's text.
fn text_at(text: &str, start: u32, len: u32) -> StrTendril {
    let (start, len) = (start as usize, len as usize);
    StrTendril::from_slice(text.get(start..start + len).unwrap_or_default())
}

impl Msg {
    fn from_token(token: Token, batch: &mut Batch) -> Msg {
        match token {
            Token::TagToken(tag) => Msg::Tag {
                answer: tag.kind == TagKind::StartTag && may_switch_tokenizer(&tag.name),
                kind: tag.kind,
                name: tag.name,
                self_closing: tag.self_closing,
                attrs: {
                    let n = tag.attrs.len() as u32;
                    batch
                        .attrs
                        .extend(tag.attrs.into_iter().map(|a| (a.name, send(a.value))));
                    n
                },
                had_duplicate_attributes: tag.had_duplicate_attributes,
            },
            Token::CharacterTokens(t) => {
                let (start, len) = batch.keep(&t);
                Msg::Characters { start, len }
            }
            Token::CommentToken(t) => {
                let (start, len) = batch.keep(&t);
                Msg::Comment { start, len }
            }
            Token::DoctypeToken(d) => Msg::Doctype {
                name: d.name.map(send),
                public_id: d.public_id.map(send),
                system_id: d.system_id.map(send),
                force_quirks: d.force_quirks,
            },
            Token::NullCharacterToken => Msg::NullCharacter,
            Token::EOFToken => Msg::Eof,
            Token::ParseError(e) => Msg::ParseError(e),
        }
    }

    /// The token again, on the tree builder's side, and whether the tokenizer waits for
    /// the answer. None for the messages that are not tokens.
    fn into_token(
        self,
        text: &str,
        attrs: &mut impl Iterator<Item = (QualName, SendTendril<UTF8>)>,
    ) -> Option<(Token, bool)> {
        Some(match self {
            Msg::Tag {
                kind,
                name,
                self_closing,
                attrs: n_attrs,
                had_duplicate_attributes,
                answer,
            } => (
                Token::TagToken(Tag {
                    kind,
                    name,
                    self_closing,
                    attrs: attrs
                        .by_ref()
                        .take(n_attrs as usize)
                        .map(|(name, value)| Attribute {
                            name,
                            value: local(value),
                        })
                        .collect(),
                    had_duplicate_attributes,
                }),
                answer,
            ),
            Msg::Characters { start, len } => {
                (Token::CharacterTokens(text_at(text, start, len)), false)
            }
            Msg::Comment { start, len } => (Token::CommentToken(text_at(text, start, len)), false),
            Msg::Doctype {
                name,
                public_id,
                system_id,
                force_quirks,
            } => (
                Token::DoctypeToken(Doctype {
                    name: name.map(local),
                    public_id: public_id.map(local),
                    system_id: system_id.map(local),
                    force_quirks,
                }),
                false,
            ),
            Msg::NullCharacter => (Token::NullCharacterToken, false),
            Msg::Eof => (Token::EOFToken, false),
            Msg::ParseError(e) => (Token::ParseError(e), false),
            Msg::AskForeign | Msg::SliceEnd | Msg::End => return None,
        })
    }
}

/// The tokenizer thread's sink: batches tokens and forwards them.
struct Forward {
    batch: RefCell<Batch>,
    to_builder: SyncSender<Batch>,
    answers: Receiver<Answer>,
    /// Emptied batches back from the tree builder, to fill again without allocating.
    empties: Receiver<Batch>,
    /// The tree builder has gone (it stopped at a limit, or failed): stop tokenizing.
    gone: Cell<bool>,
}

impl Forward {
    fn push(&self, msg: Msg, line: u64) {
        let full = {
            let mut batch = self.batch.borrow_mut();
            batch.msgs.push((msg, line));
            batch.msgs.len() >= BATCH
        };
        if full {
            self.flush();
        }
    }

    fn flush(&self) {
        let fresh = self
            .empties
            .try_recv()
            .unwrap_or_else(|_| Batch::with_capacity(BATCH));
        let batch = std::mem::replace(&mut *self.batch.borrow_mut(), fresh);
        if !batch.msgs.is_empty() && self.to_builder.send(batch).is_err() {
            self.gone.set(true);
        }
    }

    /// Sends what is batched and waits for the tree builder's answer to its last message.
    fn ask(&self, msg: Msg, line: u64) -> Answer {
        self.push(msg, line);
        self.flush();
        match self.answers.recv() {
            Ok(answer) => answer,
            Err(_) => {
                self.gone.set(true);
                Answer::Continue
            }
        }
    }
}

impl TokenSink for Forward {
    type Handle = ();

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<()> {
        let msg = Msg::from_token(token, &mut self.batch.borrow_mut());
        if !matches!(msg, Msg::Tag { answer: true, .. }) {
            self.push(msg, line);
            return TokenSinkResult::Continue;
        }
        match self.ask(msg, line) {
            Answer::Plaintext => TokenSinkResult::Plaintext,
            Answer::RawData(kind) => TokenSinkResult::RawData(kind),
            Answer::Continue | Answer::Foreign(_) => TokenSinkResult::Continue,
        }
    }

    fn end(&self) {
        self.push(Msg::End, 0);
        self.flush();
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        matches!(self.ask(Msg::AskForeign, 0), Answer::Foreign(true))
    }
}

/// Where the tokenizer's text comes from: all of it at once, or pieces as they arrive (a
/// page still downloading; the channel closes at its end).
pub(super) enum Source<'t> {
    Text(&'t str),
    Pieces(Receiver<String>),
}

impl Source<'_> {
    /// The text in slices of at most [`SLICE`] bytes (cut at character boundaries), each one
    /// handed to `f` until it returns false, with whether it ends a piece that arrived.
    fn each_slice(self, mut f: impl FnMut(&str, bool) -> bool) {
        let mut slices = |text: &str, piece: bool| {
            let mut at = 0;
            while at < text.len() {
                let mut end = (at + SLICE).min(text.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                if !f(&text[at..end], piece && end == text.len()) {
                    return false;
                }
                at = end;
            }
            true
        };
        match self {
            Source::Text(text) => {
                slices(text, false);
            }
            // Each piece as soon as it comes: the parse keeps up with the download.
            Source::Pieces(pieces) => {
                for piece in pieces {
                    if !slices(&piece, true) {
                        return;
                    }
                }
            }
        }
    }
}

/// Tokenizes the source in slices, stopping early when the tree builder asks it to.
fn tokenize(source: Source<'_>, forward: Forward, stop: &AtomicBool) {
    let tokenizer = Tokenizer::new(forward, TokenizerOpts::default());
    let queue = BufferQueue::default();
    source.each_slice(|slice, ends_piece| {
        if stop.load(Ordering::Relaxed) || tokenizer.sink.gone.get() {
            return false;
        }
        // A copy per slice rather than of the whole text: the page is not held twice.
        queue.push_back(StrTendril::from_slice(slice));
        // `feed` returns early for a script end tag or an encoding declaration; neither
        // changes how the rest is read here (scripts do not run), so it is fed again.
        while !queue.is_empty() && !tokenizer.sink.gone.get() {
            let _ = tokenizer.feed(&queue);
        }
        tokenizer.sink.push(Msg::SliceEnd, 0);
        if ends_piece {
            // Sent now, not when the batch is full: the tree builder works while more arrives.
            tokenizer.sink.flush();
        }
        true
    });
    tokenizer.end();
}

/// Builds the tree from the tokenizer's batches; returns when the tokenizer is done.
fn build(
    builder: &TreeBuilder<Handle, Sink>,
    batches: Receiver<Batch>,
    answers: mpsc::Sender<Answer>,
    empties: mpsc::Sender<Batch>,
    stop: &AtomicBool,
    after_batch: &mut dyn FnMut(&Sink),
) {
    // After a limit is hit, the rest is drained unparsed, save the end of the document.
    let mut stopped = false;
    for mut batch in batches {
        let mut msgs = std::mem::take(&mut batch.msgs);
        let mut attrs = batch.attrs.drain(..);
        for (msg, line) in msgs.drain(..) {
            match msg {
                Msg::SliceEnd if !stopped => {
                    if let Some(reason) = builder.sink.over_limit() {
                        builder.sink.stop(reason);
                        stopped = true;
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                Msg::AskForeign => {
                    let foreign = !stopped
                        && builder.adjusted_current_node_present_but_not_in_html_namespace();
                    let _ = answers.send(Answer::Foreign(foreign));
                }
                Msg::End => {
                    builder.end();
                    return;
                }
                msg => {
                    let is_eof = matches!(msg, Msg::Eof);
                    let Some((token, wants_answer)) = msg.into_token(&batch.text, &mut attrs)
                    else {
                        continue;
                    };
                    let answer = if (stopped && !is_eof) || !builder.sink.admits(&token) {
                        Answer::Continue
                    } else {
                        match builder.process_token(token, line) {
                            TokenSinkResult::Plaintext => Answer::Plaintext,
                            TokenSinkResult::RawData(kind) => Answer::RawData(kind),
                            _ => Answer::Continue,
                        }
                    };
                    if wants_answer {
                        let _ = answers.send(answer);
                    }
                }
            }
        }
        drop(attrs);
        after_batch(&builder.sink);
        batch.msgs = msgs;
        batch.text.clear();
        let _ = empties.send(batch);
    }
}

/// Parses on two threads. None when no thread could be started (the caller then parses on
/// this one).
pub(super) fn parse(text: &str, limits: ParseLimits, opts: TreeBuilderOpts) -> Option<Document> {
    run(Source::Text(text), limits, opts, &mut |_| {}).map(|(doc, _)| doc)
}

/// Parses text that arrives in `pieces`, as they arrive. None when no thread could be
/// started (the pieces are then lost: the caller parses the text it kept).
pub(super) fn parse_pieces(
    pieces: Receiver<String>,
    limits: ParseLimits,
    opts: TreeBuilderOpts,
) -> Option<Document> {
    run(Source::Pieces(pieces), limits, opts, &mut |_| {}).map(|(doc, _)| doc)
}

/// [`parse`], giving `reader` the nodes that can no longer change between two batches of
/// tokens (see [`super::stream`]). Also returns why a node was changed after it was read, if
/// one was: then what the reader was given is not the document.
pub(super) fn parse_read(
    text: &str,
    limits: ParseLimits,
    opts: TreeBuilderOpts,
    reader: &mut dyn Reader,
) -> Option<(Document, Option<String>)> {
    let mut walker = Walker::default();
    let mut changed = None;
    let (doc, changed_at_end) = run(Source::Text(text), limits, opts, &mut |sink| {
        if changed.is_some() {
            return;
        }
        changed = sink.changed_after_read();
        if changed.is_none() {
            walker.advance(&sink.document(), &mut sink.read_marks(), false, reader);
        }
    })?;
    let changed = changed.or(changed_at_end);
    if changed.is_none() {
        // The end: every node is final now.
        walker.advance(&doc, &mut Vec::new(), true, reader);
    }
    Some((doc, changed))
}

fn run(
    source: Source<'_>,
    limits: ParseLimits,
    opts: TreeBuilderOpts,
    after_batch: &mut dyn FnMut(&Sink),
) -> Option<(Document, Option<String>)> {
    let (to_builder, batches) = mpsc::sync_channel(IN_FLIGHT);
    let (recycle, empties) = mpsc::channel();
    let (answer_tx, answers) = mpsc::channel();
    let stop = AtomicBool::new(false);
    let builder = TreeBuilder::new(Sink::new(limits), opts);
    let started = std::thread::scope(|scope| {
        let forward = Forward {
            batch: RefCell::new(Batch::with_capacity(BATCH)),
            to_builder,
            answers,
            empties,
            gone: Cell::new(false),
        };
        let stop = &stop;
        let tokenizer = std::thread::Builder::new()
            .name("tokenizer".into())
            .spawn_scoped(scope, move || tokenize(source, forward, stop));
        if tokenizer.is_err() {
            return false;
        }
        build(&builder, batches, answer_tx, recycle, stop, after_batch);
        true
    });
    if !started {
        return None;
    }
    let changed = builder.sink.changed_after_read();
    let mut doc = builder.sink.finish();
    doc.stats.two_threads = true;
    Some((doc, changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline(doc: &Document) -> String {
        doc.outline()
    }

    fn opts() -> TreeBuilderOpts {
        TreeBuilderOpts {
            scripting_enabled: false,
            ..Default::default()
        }
    }

    fn both(html: &str) -> (Document, Document) {
        let one = super::super::parse::parse_on_one_thread(html, ParseLimits::default());
        let two = parse(html, ParseLimits::default(), opts()).expect("a second thread");
        (one, two)
    }

    /// Markup where the tokenizer's next state depends on the tree: raw-text elements in
    /// and out of foreign content, in `<select>`, in tables, after `</html>`; CDATA in and
    /// out of SVG; `<plaintext>`; and the repairs that move nodes (foster parenting, the
    /// adoption agency), which must come out the same.
    const TRICKY: &[&str] = &[
        "<title>a <b> c</title><p>x",
        "<svg><title>a <b>bold</b></title><style>p{}</style><desc><style>q</style></desc></svg><style>x<y</style>",
        "<math><mi><style>p<q</style></mi><mtext><textarea>t<u</textarea></mtext></math>",
        "<svg><foreignObject><title>t<b>x</b></title></foreignObject><script>a<b</script></svg>",
        "<select><xmp>x<b></xmp><textarea>t<p></textarea><option>o</select><xmp>a<b>c</xmp>",
        "<table><style>s<t</style><tr><td><title>x<y</title>text<script>1<2</script></table>",
        "<p><svg><![CDATA[a<b]]></svg><![CDATA[c<d]]><math><![CDATA[e]]></math>",
        "<noscript><p>shown</p></noscript><noembed><b>x</noembed><noframes><b>y</noframes><iframe><b>z</iframe>",
        "<script><!--<script></script>--></script><p>after",
        "<a href=x><div>one<p>two</a>three</div>four",
        "<table><tr><td>a</td></tr>stray<b>bold</b><tr><td>b</table>",
        "<b><i>1</b>2</i>3<p>4<b>5<p>6</b>",
        "</html><title>late</title><style>x</style>",
        "<frameset><noframes><b>x</noframes></frameset>",
        "<body><textarea>\n\nkept</textarea><pre>\n\nx</pre><listing>\ny</listing>",
        "<div><plaintext><b>everything</b></div></plaintext>",
    ];

    #[test]
    fn two_threads_build_the_same_tree_as_one() {
        for html in TRICKY {
            let (one, two) = both(html);
            assert_eq!(outline(&one), outline(&two), "for {html}");
            assert_eq!(one.stats.error_count, two.stats.error_count, "for {html}");
        }
    }

    /// Each case repeated past many batches and slices, with a raw-text element right at
    /// the start of most slices.
    #[test]
    fn the_same_tree_over_many_batches() {
        let mut page = String::from("<!DOCTYPE html><html><head><title>t</title></head><body>");
        let mut i = 0;
        // `<plaintext>` would swallow the rest, and `<frameset>` drop it.
        let cases: Vec<&str> = TRICKY
            .iter()
            .filter(|c| !c.contains("plaintext") && !c.contains("frameset"))
            .copied()
            .collect();
        while page.len() < 300_000 {
            page.push_str(cases[i % cases.len()]);
            page.push_str("<p class=c id=i>text &amp; more</p>\n");
            i += 1;
        }
        let (one, two) = both(&page);
        assert!(one.stats.nodes > 20_000, "{}", one.stats.nodes);
        assert_eq!(outline(&one), outline(&two));
        assert_eq!(one.stats.error_count, two.stats.error_count);
    }

    /// Our arena against html5ever's reference tree (markup5ever_rcdom), node by node: names
    /// with namespaces, attributes, text — the tree sink must build what the standard says.
    #[test]
    fn the_arena_matches_html5evers_reference_tree() {
        use html5ever::tendril::TendrilSink;
        use markup5ever_rcdom::{NodeData, RcDom};
        fn rc_outline(handle: &markup5ever_rcdom::Handle, depth: usize, out: &mut String) {
            let line = match &handle.data {
                NodeData::Document => "#document".to_string(),
                NodeData::Doctype { .. } => "<!DOCTYPE>".to_string(),
                NodeData::Text { contents } => format!("{:?}", &**contents.borrow()),
                NodeData::Comment { .. } => "<!-- -->".to_string(),
                NodeData::ProcessingInstruction { .. } => "<?pi?>".to_string(),
                NodeData::Element { name, attrs, .. } => {
                    let mut s = format!("<{:?} {}", name.ns, name.local);
                    for a in attrs.borrow().iter() {
                        s.push_str(&format!(" {}={:?}", a.name.local, &*a.value));
                    }
                    s + ">"
                }
            };
            out.push_str(&"  ".repeat(depth));
            out.push_str(&line);
            out.push('\n');
            for child in handle.children.borrow().iter() {
                rc_outline(child, depth + 1, out);
            }
        }
        for html in TRICKY {
            let opts = html5ever::ParseOpts {
                tree_builder: opts(),
                ..Default::default()
            };
            let dom = html5ever::parse_document(RcDom::default(), opts).one(*html);
            let mut reference = String::new();
            rc_outline(&dom.document, 0, &mut reference);
            let (one, two) = both(html);
            assert_eq!(outline(&one), reference, "one thread, for {html}");
            assert_eq!(outline(&two), reference, "two threads, for {html}");
        }
    }

    #[test]
    fn the_two_lists_of_raw_text_tags_agree() {
        for name in RAW_TEXT_TAGS {
            assert!(may_switch_tokenizer(&LocalName::from(name)), "{name}");
        }
        for name in ["p", "div", "svg", "template", "select", "option", "a"] {
            assert!(!may_switch_tokenizer(&LocalName::from(name)), "{name}");
        }
    }

    #[test]
    fn raw_text_tags_are_counted_in_any_case() {
        let html = b"<SCRIPT src=x></script><style>p{}</style><scripts><titlex><Title>t</title><p>";
        assert_eq!(raw_text_tags(html, 100), 3);
        assert_eq!(raw_text_tags(html, 2), 2);
        assert_eq!(raw_text_tags(b"<p>no tags here</p>", 100), 0);
    }

    #[test]
    fn deep_ordinary_nesting_is_flattened_alike_on_one_thread_and_two() {
        let page = "<div>".repeat(5_000) + &"<p>x</p>".repeat(20_000);
        let one = super::super::parse::parse_on_one_thread(&page, ParseLimits::default());
        let two = parse(&page, ParseLimits::default(), opts()).expect("a second thread");
        assert_eq!(one.stats.stopped, None);
        assert_eq!(outline(&one), outline(&two));
        assert_eq!(one.stats.flattened, 5_000 - 510);
        assert_eq!(one.stats.flattened, two.stats.flattened);
        assert!(one.stats.max_depth <= super::super::sink::FLATTEN_AT + 3);
    }

    #[test]
    fn a_limit_stops_both_alike() {
        // Tables are not flattened (their own rules place what is in them): nested ones
        // still meet the nesting limit.
        let page = "<table><tr><td>".repeat(2_000) + &"<p>x</p>".repeat(20_000);
        let limits = ParseLimits {
            max_depth: 1_024,
            max_nodes: 1_000_000,
        };
        let one = super::super::parse::parse_on_one_thread(&page, limits);
        let two = parse(&page, limits, opts()).expect("a second thread");
        assert!(one.stats.stopped.is_some());
        assert_eq!(one.stats.stopped, two.stats.stopped);
        let limits = ParseLimits {
            max_depth: 1_024,
            max_nodes: 5_000,
        };
        let page = "<p>x</p>".repeat(50_000);
        let one = super::super::parse::parse_on_one_thread(&page, limits);
        let two = parse(&page, limits, opts()).expect("a second thread");
        assert_eq!(one.stats.stopped, two.stats.stopped);
        assert!(two.stats.stopped.is_some());
        // Stopped at the same slice: the trees differ at most in the tokenizer's last flush.
        assert!(
            two.stats.nodes.abs_diff(one.stats.nodes) < 10,
            "{} {}",
            one.stats.nodes,
            two.stats.nodes
        );
    }
}
