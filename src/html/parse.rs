//! Parsing decoded text into a [`Document`]: on two threads for all but small pages
//! ([`super::pipeline`]: the tokenizer on one, the tree builder on this one), else on this
//! thread with html5ever's own driver; either way fed in slices, so that the sink's limits
//! can stop it ([`super::sink`]).

use std::time::Instant;

use html5ever::interface::TreeSink;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::TreeBuilder;

use super::dom::{Document, ParseLimits};
use super::sink::{Handle, Sink, SLICE};
use super::stream::Reader;

/// Below this size a page is parsed on one thread: starting a second costs more than it saves.
const TWO_THREADS_FROM: usize = 64 * 1024;

/// Parses decoded text the way a browser with scripting off does (so `<noscript>` content
/// is parsed as markup and shown), within the default [`ParseLimits`].
pub fn parse(text: &str) -> Document {
    parse_with_limits(text, ParseLimits::default())
}

/// [`parse`] within the given limits: on two threads for all but small pages (see
/// [`super::pipeline`]), on this one when no second thread can be had.
pub fn parse_with_limits(text: &str, limits: ParseLimits) -> Document {
    let started = Instant::now();
    let mut doc = if worth_two_threads(text) {
        super::pipeline::parse(text, limits, tree_builder_opts())
            .unwrap_or_else(|| parse_on_one_thread(text, limits))
    } else {
        parse_on_one_thread(text, limits)
    };
    doc.stats.ms = crate::trace::ms(started.elapsed());
    doc
}

/// [`parse`], giving `reader` the document's nodes as they become final, in document order,
/// while the parse goes on (see [`super::stream`]). Also returns why a node was changed
/// after it was read, if one was: then what `reader` was given is not the document, and
/// it must start again from the document returned.
pub fn parse_reading(text: &str, reader: &mut dyn Reader) -> (Document, Option<String>) {
    let started = Instant::now();
    let limits = ParseLimits::default();
    let (mut doc, changed) = if worth_two_threads(text) {
        super::pipeline::parse_read(text, limits, tree_builder_opts(), reader)
    } else {
        None
    }
    .unwrap_or_else(|| {
        // Small, or no second thread: parse, then read the finished document at once.
        let doc = parse_on_one_thread(text, limits);
        super::stream::read_all(&doc, reader);
        (doc, None)
    });
    doc.stats.ms = crate::trace::ms(started.elapsed());
    (doc, changed)
}

/// Whether a page is worth parsing on two threads: big enough to pay for the second thread,
/// and without so many raw-text elements (`<script>`, `<style>`, `<title>`…) that the
/// tokenizer would wait for the tree builder's answer every few hundred bytes — a page of
/// 40,000 inline scripts parses faster on one thread.
fn worth_two_threads(text: &str) -> bool {
    /// At most one raw-text start tag per this many bytes.
    const BYTES_PER_WAIT: usize = 4096;
    /// The part of the page looked at (counting through a whole big page costs more than
    /// it saves; a page that turns dense later is only slower, and no less right).
    const SAMPLE: usize = 256 * 1024;
    if text.len() < TWO_THREADS_FROM {
        return false;
    }
    let sample = &text.as_bytes()[..text.len().min(SAMPLE)];
    let allowed = sample.len() / BYTES_PER_WAIT;
    super::pipeline::raw_text_tags(sample, allowed + 1) <= allowed
}

/// How the tree builder is set up: as a browser with scripting off, so `<noscript>` content
/// is parsed as markup.
pub(super) fn tree_builder_opts() -> html5ever::tree_builder::TreeBuilderOpts {
    html5ever::tree_builder::TreeBuilderOpts {
        scripting_enabled: false,
        ..Default::default()
    }
}

/// The tree builder behind the sink's depth cap: the tokens [`Sink::admits`] refuses never
/// reach it (the two-thread parse applies the same check in `pipeline::build`).
struct Capped(TreeBuilder<Handle, Sink>);

impl TokenSink for Capped {
    type Handle = Handle;

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<Handle> {
        if !self.0.sink.admits(&token) {
            return TokenSinkResult::Continue;
        }
        match self.0.process_token(token, line) {
            // Scripts are not run, and the text is decoded already (a `<meta charset>` has
            // been read by then): the tokenizer need not stop after either, so every `feed`
            // reads all the input it was given.
            TokenSinkResult::Script(_) | TokenSinkResult::EncodingIndicator(_) => {
                TokenSinkResult::Continue
            }
            other => other,
        }
    }

    fn end(&self) {
        self.0.end()
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.0
            .adjusted_current_node_present_but_not_in_html_namespace()
    }
}

/// The whole parse on the calling thread, fed slice by slice.
pub(super) fn parse_on_one_thread(text: &str, limits: ParseLimits) -> Document {
    let builder = TreeBuilder::new(Sink::new(limits), tree_builder_opts());
    let tokenizer = Tokenizer::new(Capped(builder), TokenizerOpts::default());
    let input = BufferQueue::default();
    let mut at = 0;
    while at < text.len() {
        let mut end = (at + SLICE).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        // A copy per slice rather than of the whole text: the page is not held twice.
        input.push_back(StrTendril::from_slice(&text[at..end]));
        let _ = tokenizer.feed(&input);
        debug_assert!(
            input.is_empty(),
            "the tokenizer stopped before the slice's end"
        );
        at = end;
        let sink = &tokenizer.sink.0.sink;
        if let Some(reason) = sink.over_limit() {
            sink.stop(reason);
            break;
        }
    }
    tokenizer.end();
    tokenizer.sink.0.sink.finish()
}
