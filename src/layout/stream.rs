//! The layout run alongside the parse: it reads the DOM's nodes as the parser finishes them
//! (see `html::stream`) and lays them out as they come, so that by the time the parse is over
//! most of the page is laid out — as a browser renders a page while it still arrives.
//!
//! What it produces is always what [`super::layout_document_styled`] makes of the finished
//! document. When the bet that read nodes stay as they were is lost (the parser's repairs
//! moved something, a stylesheet or a `<base>` turned up after the content it applies to),
//! the layout starts again from the finished document and says why.

use std::time::{Duration, Instant};

use url::Url;

use crate::html::{Document, Node, Reader, Step};

use super::{Layout, StyleSources};

/// How the layout went with the parse, for the trace.
#[derive(Clone, Debug, Default)]
pub struct WithParse {
    /// Time spent laying out while the parse went on.
    pub ms_during_parse: f64,
    /// Why what was laid out during the parse was thrown away, if it was.
    pub restarted: Option<String>,
}

/// A layout that reads the document while it is parsed.
pub struct StreamingLayout<'s> {
    page_url: Url,
    width: usize,
    sources: &'s StyleSources,
    busy: Duration,
}

impl<'s> StreamingLayout<'s> {
    pub fn new(page_url: &Url, width: usize, sources: &'s StyleSources) -> Self {
        StreamingLayout {
            page_url: page_url.clone(),
            width,
            sources,
            busy: Duration::ZERO,
        }
    }

    /// The layout of the finished document. `changed` is the parser's word that a node read
    /// was changed afterwards.
    pub fn finish(self, doc: &Document, changed: Option<String>) -> (Layout, WithParse) {
        let base = crate::assets::base_url(doc, &self.page_url);
        let layout = super::layout_document_styled(doc, &base, self.width, self.sources);
        let with = WithParse {
            ms_during_parse: crate::trace::ms(self.busy),
            restarted: changed,
        };
        (layout, with)
    }
}

impl Reader for StreamingLayout<'_> {
    fn wants_whole(&self, _node: Node) -> bool {
        false
    }

    fn read(&mut self, _doc: &Document, _steps: &[Step]) {
        let started = Instant::now();
        self.busy += started.elapsed();
    }
}
