//! A page's load as a browser of today runs it, from the document's request to the `load`
//! moment:
//!
//! ```text
//! document bytes ──▶ decode ──▶ parse (tokenizer thread ▶ tree builder) ──▶ DOM ─▶ DOM walk
//!        │                 └──▶ preload scanner ──┐                                  │
//!        │                                         ▼                                  ▼
//!        │                          asset loader: one priority queue, 6 connections per host
//!        ▼
//! render-blocking stylesheets (@imports too) and frames in ─▶ layout = first render
//! every other asset settled ─▶ load
//! ```
//!
//! The document is parsed as it arrives (`html::Incoming`), and a preload scanner reads the
//! same text ahead of the parser and asks for what it sees at once ([`scanner`]), so the
//! requests run beside the document's download. The DOM walk after the parse claims what
//! the scanner asked for and adds the rest ([`loader`] fetches each once, by priority). The
//! page is laid out as soon as what can change its text is in; images, scripts, fonts and
//! media go on loading after that first render. The trace has the moments browsers report:
//! `dom_content_loaded`, `first_render`, `load`.

pub mod loader;
pub mod scanner;

use std::sync::mpsc;
use std::time::Instant;

use url::Url;

use crate::assets::{self, AssetKind, AssetLimits, AssetRef, AssetResult, Priority, Viewport};
use crate::html::{self, Document, Incoming};
use crate::layout::{self, StyleSources};
use crate::net::http::BodyChunk;
use crate::net::{FetchError, FetchLimits, Purpose, RequestSpec, Response};
use crate::page::{self, Browser, Content, LoadError, OnFirstRender, Page};
use crate::refresh;
use crate::trace::{EventKind, LoadDeadline, Step, Trace};
use loader::{blocks_render, By, CloseOnDrop, Loader, Ticket};
use scanner::Scanner;

impl Browser {
    /// Fetches `url` with `spec` as the page, following redirects and `<meta refresh>`, and
    /// loads it (see the module's picture).
    pub(crate) fn navigate(
        &self,
        url: Url,
        spec: RequestSpec,
        width: usize,
        trace: &Trace,
        first_render: OnFirstRender<'_>,
    ) -> Result<Page, LoadError> {
        let mut url = url;
        let mut refreshes = 0;
        // A page that refreshes itself is fetched with a GET, as browsers do.
        let mut spec = spec;
        loop {
            let sent = std::mem::replace(&mut spec, RequestSpec::get());
            let one = OneLoad {
                browser: self,
                width,
                viewport: viewport_for(width),
                trace,
            };
            match one.run(&url, &sent, refreshes, first_render)? {
                Next::Refresh(next) => {
                    refreshes += 1;
                    url = next;
                }
                Next::Shown(page) => return Ok(*page),
            }
        }
    }
}

/// The screen image candidates are chosen for: 8 pixels a column, as the DOM walk assumes.
fn viewport_for(width: usize) -> Viewport {
    Viewport {
        width_px: (width as u32).saturating_mul(8).max(320),
        device_pixel_ratio: 1.0,
    }
}

enum Next {
    /// The page said `<meta http-equiv=refresh>` to this URL.
    Refresh(Url),
    Shown(Box<Page>),
}

/// One document's load.
struct OneLoad<'b> {
    browser: &'b Browser,
    width: usize,
    viewport: Viewport,
    trace: &'b Trace,
}

/// What the document's download thread brings back.
struct Downloaded {
    result: Result<Response, FetchError>,
    /// The decoded text, when the body was HTML read as it came.
    decoded: Option<html::Decoded>,
    streamed_bytes: u64,
}

impl OneLoad<'_> {
    fn run(
        &self,
        url: &Url,
        spec: &RequestSpec,
        refreshes: u32,
        first_render: OnFirstRender<'_>,
    ) -> Result<Next, LoadError> {
        let options = self.browser.options();
        // All of a page's assets share one budget of time: the page's own timeout, on the
        // load's clock, counted again from when the document is in.
        let loader = Loader::new(
            self.browser.client(),
            self.asset_limits(self.trace.deadline(options.timeout)),
            self.trace,
        );
        std::thread::scope(|scope| {
            let close = CloseOnDrop(&loader);
            let workers = if options.fetch_assets {
                loader::MAX_WORKERS
            } else {
                1
            };
            loader.run_workers(scope, workers);
            let (downloaded, streamed) = self.download_and_parse(url, spec, &loader, scope);
            let response = downloaded.result.map_err(|e| {
                loader.cancel();
                LoadError {
                    step: e.step,
                    message: e.message,
                }
            })?;
            loader.set_deadline(self.trace.deadline(options.timeout));
            let refresh = match refresh_from(&response, refreshes, self.trace) {
                Ok(Some(next)) => {
                    loader.cancel();
                    return Ok(Next::Refresh(next));
                }
                Ok(None) => None,
                Err(loop_message) => Some(loop_message),
            };
            let streamed = streamed.filter(|_| {
                downloaded.streamed_bytes == response.body.len() as u64
                    && downloaded.decoded.is_some()
            });
            let (content, source) = self.content(&response, streamed, downloaded.decoded);
            self.moment("dom_content_loaded");
            let mut page = self.show(response, content, source, &loader, first_render);
            if let Some(message) = refresh {
                page.problems.push(format!("redirect: {message}"));
            }
            drop(close);
            Ok(Next::Shown(Box::new(page)))
        })
    }

    fn asset_limits(&self, deadline: LoadDeadline) -> AssetLimits {
        let options = self.browser.options();
        AssetLimits {
            fetch: FetchLimits {
                timeout: options.asset_timeout,
                max_body: options.max_body,
            },
            max_total_bytes: options.max_asset_bytes,
            per_host: options.connections_per_host,
            deadline: Some(deadline),
        }
    }

    /// The document's download on a thread of its own, its text decoded and scanned as it
    /// arrives; the parse on this thread (the DOM stays on it), reading the text as it comes.
    fn download_and_parse<'s>(
        &'s self,
        url: &'s Url,
        spec: &'s RequestSpec,
        loader: &'s Loader<'_>,
        scope: &'s std::thread::Scope<'s, '_>,
    ) -> (Downloaded, Option<(Document, Instant)>) {
        let (pieces_tx, pieces_rx) = mpsc::channel();
        let download = scope.spawn(move || self.download(url, spec, loader, pieces_tx));
        // Waits for the first piece of an HTML body (or the download's end, bounded by the
        // page's timeout); then parses as the rest comes.
        // The parse mostly waits for the download's pieces: set aside, like any wait for
        // another thread of the load (step mode's clock).
        let parsed = self.trace.aside(|| {
            let pieces = pieces_rx.recv().ok()?;
            let started = Instant::now();
            html::parse_incoming(pieces).map(|doc| (doc, started))
        });
        let downloaded = self
            .trace
            .aside(|| download.join())
            .unwrap_or_else(|_| Downloaded {
                result: Err(FetchError {
                    step: Step::Receive,
                    message: "the download's thread failed".into(),
                    request: None,
                }),
                decoded: None,
                streamed_bytes: 0,
            });
        (downloaded, parsed)
    }

    /// The document's fetch, handing the text of an HTML body to the parser and the preload
    /// scanner piece by piece.
    fn download(
        &self,
        url: &Url,
        spec: &RequestSpec,
        loader: &Loader<'_>,
        pieces_tx: mpsc::Sender<html::Pieces>,
    ) -> Downloaded {
        let options = self.browser.options();
        let limits = FetchLimits {
            timeout: options.timeout,
            max_body: options.max_body,
        };
        // The document holds one of its host's connections until it is in.
        let _document = loader.occupy(url);
        let mut incoming: Option<Incoming> = None;
        let mut scanner: Option<(Scanner, Url)> = None;
        let mut on_chunk = |chunk: BodyChunk<'_>| {
            // In step mode the document is one step, then its parse another, as with
            // `--sequential`: a person paces the steps, not the bytes.
            if options.sequential || self.trace.is_paced() {
                return;
            }
            if incoming.is_none() {
                if !chunk.media_type().as_deref().is_some_and(page::is_html) {
                    return;
                }
                let (fresh, pieces) = Incoming::new(chunk.charset().as_deref());
                if pieces_tx.send(pieces).is_err() {
                    return;
                }
                incoming = Some(fresh);
                if options.fetch_assets {
                    let max = options.max_assets;
                    scanner = Some((
                        Scanner::new(chunk.url, self.viewport, max),
                        chunk.url.clone(),
                    ));
                }
            }
            let Some(incoming) = incoming.as_mut() else {
                return;
            };
            let text = incoming.push(chunk.bytes);
            if let Some((scanner, page)) = scanner.as_mut() {
                let found = scanner.feed(text);
                self.ask_early(loader, page, found);
            }
        };
        let result = self.browser.client().fetch_as_streaming(
            url,
            Purpose::Document,
            spec,
            limits,
            self.trace,
            &mut on_chunk,
        );
        if let Some((scanner, page)) = scanner.as_mut() {
            let found = scanner.finish();
            self.ask_early(loader, page, found);
        }
        let streamed_bytes = incoming.as_ref().map_or(0, Incoming::bytes);
        Downloaded {
            result,
            decoded: incoming.map(Incoming::finish),
            streamed_bytes,
        }
    }

    /// Asks the loader for what the scanner found (only what can change the text, when the
    /// text is all that is wanted).
    fn ask_early(&self, loader: &Loader<'_>, page: &Url, mut found: Vec<AssetRef>) {
        if self.browser.options().text_only {
            found.retain(blocks_render);
        }
        if !found.is_empty() {
            loader.request_all(page, found, By::Scanner);
        }
    }

    /// The page's content: the streamed parse when it read the whole body, else the body
    /// decoded and parsed now (an answer from the cache, a body in a coding decoded at its
    /// end, a page that is not HTML).
    fn content(
        &self,
        response: &Response,
        streamed: Option<(Document, Instant)>,
        decoded: Option<html::Decoded>,
    ) -> (Content, Option<String>) {
        if let (Some((mut doc, started)), Some(decoded)) = (streamed, decoded) {
            doc.stats.encoding = decoded.encoding.name().to_string();
            page::report_parse(
                self.trace,
                Some(response.request),
                started,
                response.body.len() as u64,
                &decoded,
                &doc,
                true,
            );
            return (Content::Html(doc), Some(decoded.text));
        }
        let media_type = response
            .media_type()
            .unwrap_or_else(|| page::sniff_media_type(&response.body));
        let charset = response.charset();
        self.browser.content_from(
            &response.body,
            &media_type,
            charset.as_deref(),
            Some(response.request),
            self.trace,
        )
    }

    fn moment(&self, moment: &str) {
        let ms = self.trace.elapsed_ms();
        self.trace.emit(
            None,
            EventKind::LoadMoment {
                moment: moment.to_string(),
                ms,
            },
        );
    }

    /// The DOM walk, the render-blocking resources, the first render; then the rest of the
    /// assets, and the `load` moment.
    fn show(
        &self,
        response: Response,
        content: Content,
        source: Option<String>,
        loader: &Loader<'_>,
        first_render: OnFirstRender<'_>,
    ) -> Page {
        let options = self.browser.options();
        let mut problems = page::parse_problems(&content);
        if let Some(warning) = &response.incomplete {
            problems.push(format!("receive: {warning}"));
        }
        let mut warnings = Vec::new();
        let mut walked = match (&content, options.fetch_assets) {
            (Content::Html(doc), true) => self.walk(doc, &response.url, loader, &mut warnings),
            _ => Walked::default(),
        };
        let styles = self.style_sources(&response.url, loader, &mut walked);
        let deadline = self.trace.deadline(options.timeout);
        if options.sequential {
            // Every asset before the layout, as a browser without a first render would.
            loader.wait(&walked.rest, &deadline);
        }
        let layout = self
            .browser
            .lay_out(&content, &response.url, self.width, &styles, self.trace);
        let mut page = Page {
            url: response.url,
            status: Some(response.status),
            content,
            layout,
            assets: walked.blocking,
            problems,
            warnings,
            source,
            styles,
            fields: options.fields,
        };
        self.moment("first_render");
        first_render(&page);
        // The rest: images, scripts, fonts, media (none asked for when only the text is).
        loader.wait(&walked.rest, &deadline);
        page.assets.extend(loader.take(&walked.rest));
        loader.report_unclaimed();
        if !options.text_only {
            // Whatever the scanner asked for settles too: `load` waits for every request.
            loader.wait(&loader.tickets(), &deadline);
            self.moment("load");
        }
        page
    }

    /// Walks the DOM (and frames' documents, three levels at most) for assets and asks the
    /// loader for them; waits for the render-blocking ones (a frame's document must be in to
    /// be walked in turn).
    fn walk(
        &self,
        doc: &Document,
        page_url: &Url,
        loader: &Loader<'_>,
        warnings: &mut Vec<String>,
    ) -> Walked {
        let options = self.browser.options();
        let deadline = self.trace.deadline(options.timeout);
        let mut plan = assets::Plan::new(options.max_assets);
        let mut walked = Walked::default();
        self.trace.checkpoint("walk the DOM for assets");
        let mut wave = assets::discover(doc, page_url, self.viewport, self.trace, &mut plan);
        for _depth in 0..3 {
            if options.text_only {
                wave.retain(blocks_render);
            }
            let renders: Vec<bool> = wave.iter().map(blocks_render).collect();
            let tickets = loader.request_all(page_url, std::mem::take(&mut wave), By::DomWalk);
            let mut blocking = Vec::new();
            for (ticket, render) in tickets.into_iter().zip(renders) {
                match render {
                    true => blocking.push(ticket),
                    false => walked.rest.push(ticket),
                }
            }
            if options.sequential {
                // The whole wave before the next (a frame's assets after the page's).
                loader.wait(&walked.rest, &deadline);
            }
            if blocking.is_empty() {
                break;
            }
            loader.wait(&blocking, &deadline);
            let results = loader.take(&blocking);
            for result in &results {
                wave.extend(self.frame_assets(result, page_url, &mut plan));
            }
            walked.blocking.extend(results);
        }
        if plan.over_limit > 0 {
            let message = format!(
                "the page references {} more assets than the limit of {} (--max-assets); the rest were not fetched",
                plan.over_limit, options.max_assets
            );
            self.trace.emit(
                None,
                EventKind::Failed {
                    step: Step::Assets,
                    message: message.clone(),
                    url: None,
                },
            );
            warnings.push(format!("assets: {message}"));
        }
        walked
    }

    /// A frame's document parsed and walked in turn; nothing for any other asset.
    fn frame_assets(
        &self,
        result: &AssetResult,
        page_url: &Url,
        plan: &mut assets::Plan,
    ) -> Vec<AssetRef> {
        let Ok(response) = &result.outcome else {
            return Vec::new();
        };
        let is_frame_doc = result.asset.kind == AssetKind::Frame
            && response.media_type().is_none_or(|t| page::is_html(&t));
        if !is_frame_doc {
            return Vec::new();
        }
        let (frame, _) = page::parse_traced(
            &response.body,
            response.charset().as_deref(),
            Some(response.request),
            self.trace,
        );
        let _ = page_url;
        assets::discover(&frame, &response.url, self.viewport, self.trace, plan)
    }

    /// The text of the stylesheets the walk fetched, by URL, for the layout; the `@import`s
    /// they make are fetched here too (four levels at most) and added to the results.
    fn style_sources(
        &self,
        page_url: &Url,
        loader: &Loader<'_>,
        walked: &mut Walked,
    ) -> StyleSources {
        let options = self.browser.options();
        let deadline = self.trace.deadline(options.timeout);
        let mut sources = StyleSources::new();
        let media = layout::css::Media::for_columns(options.width);
        let mut imports = Vec::new();
        for result in &walked.blocking {
            page::add_style_source(&mut sources, result, media, &mut imports);
        }
        for _depth in 0..4 {
            let mut wave: Vec<Ticket> = Vec::new();
            let mut asked: Vec<Url> = Vec::new();
            for (url, from) in imports.drain(..) {
                let known = sources.contains(&url)
                    || asked.contains(&url)
                    || walked.blocking.iter().any(|a| a.asset.url == url);
                if known || !matches!(url.scheme(), "http" | "https") {
                    continue;
                }
                if walked.blocking.len() + wave.len() >= options.max_assets {
                    break;
                }
                asked.push(url.clone());
                let asset = AssetRef {
                    kind: AssetKind::Stylesheet,
                    url,
                    element: format!("@import in {from}"),
                    node: 0,
                    priority: Priority::Highest,
                };
                wave.push(loader.request(page_url, asset, By::Import));
            }
            if wave.is_empty() {
                break;
            }
            loader.wait(&wave, &deadline);
            let results = loader.take(&wave);
            for result in &results {
                page::add_style_source(&mut sources, result, media, &mut imports);
            }
            walked.blocking.extend(results);
        }
        sources
    }
}

/// The tickets of a page's walks: those the first render waits for (their results, once in)
/// and the rest.
#[derive(Default)]
struct Walked {
    blocking: Vec<AssetResult>,
    rest: Vec<Ticket>,
}

/// A `<meta http-equiv="refresh">` to follow (reported as a redirect), none, or the loop it
/// would make.
fn refresh_from(response: &Response, refreshes: u32, trace: &Trace) -> Result<Option<Url>, String> {
    let found = match response.media_type() {
        Some(t) if page::is_html(&t) => {
            refresh::find(&response.body, response.charset().as_deref())
        }
        _ => None,
    };
    let Some(found) = found else {
        return Ok(None);
    };
    let next = refresh::next_url(&found, &response.url, refreshes, trace)?;
    if let Some(next) = &next {
        trace.emit(
            Some(response.request),
            EventKind::Redirect {
                status: response.status,
                location: "<meta http-equiv=\"refresh\">".into(),
                next_url: next.to_string(),
                hop: refreshes + 1,
                method: None,
                next_method: None,
            },
        );
    }
    Ok(next)
}
