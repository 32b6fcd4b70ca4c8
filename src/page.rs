//! The pipeline: URL → DNS → HTTP → HTML → assets → layout, every step reported into the trace.
//!
//! ```text
//! let browser = Browser::new(options)?;
//! let page = browser.load("www.minibrowse.test:8080", &trace)?;
//! print!("{}", page.layout.to_text(true));
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

use crate::assets::{self, AssetKind, AssetResult};
use crate::html::{self, Document};
use crate::layout::{self, Layout, StyleSources};
use crate::net::{Client, Dns, DnsServers, HttpOptions};
use crate::trace::{ms, EventKind, LayoutDuringParse, Step, Trace};

/// Everything that shapes a load; the CLI fills it in.
#[derive(Clone, Debug)]
pub struct Options {
    pub dns: DnsServers,
    pub http: HttpOptions,
    /// The page's own request: its method and body (`-X`, `--data`); a GET by default.
    pub request: crate::net::RequestSpec,
    /// The page's own request, redirects included.
    pub timeout: Duration,
    /// Each asset's request.
    pub asset_timeout: Duration,
    /// One DNS question (never more than `timeout`).
    pub dns_timeout: Duration,
    /// Largest decoded body of the page or one asset.
    pub max_body: u64,
    /// Most assets fetched for one page.
    pub max_assets: usize,
    /// Decoded bytes of all assets together.
    pub max_asset_bytes: u64,
    /// Connections to one host at once while fetching assets (browsers use 6).
    pub connections_per_host: usize,
    pub fetch_assets: bool,
    /// Lay a local page out only once it is parsed, not while (to compare the two).
    pub layout_after_parse: bool,
    /// One stage after another (`--sequential`): the document downloaded whole, then parsed,
    /// then every asset fetched, then the layout — no preload scanner, no first render before
    /// the images. To compare; the TUI's tests use it so that every run draws one screen.
    pub sequential: bool,
    /// Columns the page is laid out for.
    pub width: usize,
    /// Form fields as text (`--dump`), or numbered like links (the TUI, to use them).
    pub fields: layout::Fields,
    /// Only the page's text is wanted (`--dump` alone): fetch only what can change it, the
    /// render-blocking stylesheets and frames' documents; images, scripts (never run),
    /// fonts and media cannot, and are not waited for.
    pub text_only: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dns: DnsServers::System,
            http: HttpOptions::default(),
            request: crate::net::RequestSpec::get(),
            timeout: Duration::from_secs(15),
            asset_timeout: Duration::from_secs(10),
            dns_timeout: Duration::from_secs(5),
            max_body: 10 * 1024 * 1024,
            max_assets: 300,
            max_asset_bytes: 64 * 1024 * 1024,
            connections_per_host: assets::CONNECTIONS_PER_HOST,
            fetch_assets: true,
            layout_after_parse: false,
            sequential: false,
            width: 80,
            fields: layout::Fields::AsText,
            text_only: false,
        }
    }
}

/// What the page turned out to be.
pub enum Content {
    Html(Document),
    Text(String),
    /// Neither HTML nor text: shown by its type and size.
    Other {
        media_type: String,
        bytes: u64,
    },
}

/// A load's end in the trace: a failure no request reported (the URL, a local file, the
/// parse, a form that could not be encoded — request-level failures were reported where they
/// happened), then the summary, whether the load worked or not. `form` is the action of the
/// form being submitted, if one is.
fn ended(
    result: Result<Page, LoadError>,
    form: Option<&Url>,
    trace: &Trace,
) -> Result<Page, LoadError> {
    if let Err(e) = &result {
        if matches!(e.step, Step::Url | Step::File | Step::Parse | Step::Form) {
            trace.emit(
                None,
                EventKind::Failed {
                    step: e.step,
                    message: e.message.clone(),
                    url: form.filter(|_| e.step == Step::Form).map(Url::to_string),
                },
            );
        }
    }
    trace.emit_summary();
    result
}

/// Called with the page at its first render: laid out, its images maybe still loading.
pub type OnFirstRender<'f> = &'f mut dyn FnMut(&Page);

/// A loaded page.
pub struct Page {
    pub url: Url,
    /// The final HTTP status (None for local files).
    pub status: Option<u16>,
    pub content: Content,
    pub layout: Layout,
    pub assets: Vec<AssetResult>,
    /// Failures that cut the page short but did not stop it (exit status 1).
    pub problems: Vec<String>,
    /// What the page left out though it was shown in full (assets over a limit): said on
    /// stderr and in the trace, exit status 0.
    pub warnings: Vec<String>,
    /// The document's text as decoded (HTML source or plain text), for a source view.
    pub source: Option<String>,
    /// The style sheets the layout used (kept for laying out again).
    pub styles: StyleSources,
    /// How form fields were laid out (kept for laying out again).
    pub fields: layout::Fields,
}

impl Page {
    /// Lays the page out again for another width (a resized terminal).
    pub fn relayout(&mut self, width: usize) {
        self.layout = layout_content(&self.content, &self.url, width, &self.styles, self.fields);
    }

    pub fn title(&self) -> Option<String> {
        match &self.content {
            Content::Html(doc) => doc.title(),
            _ => None,
        }
    }
}

/// A load that failed, naming the step.
#[derive(Clone, Debug)]
pub struct LoadError {
    pub step: Step,
    pub message: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.step, self.message)
    }
}

/// A browsing session: one DNS cache, one connection pool, one cookie jar.
pub struct Browser {
    client: Client,
    options: Options,
}

impl Browser {
    pub fn new(options: Options) -> Result<Browser, String> {
        let dns_timeout = options.timeout.min(options.dns_timeout);
        let dns = Arc::new(Dns::new(&options.dns, dns_timeout)?);
        let client = Client::new(dns, options.http.clone())?;
        Ok(Browser { client, options })
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The session's HTTP client (its DNS cache, connection pool and cookie jar).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Loads what the user typed, through the whole pipeline. The trace ends with a
    /// summary whether the load worked or not.
    pub fn load(&self, input: &str, trace: &Trace) -> Result<Page, LoadError> {
        self.load_with_width(input, self.options.width, trace)
    }

    /// Like [`Browser::load`], laid out for `width` columns (the TUI's page pane).
    pub fn load_with_width(
        &self,
        input: &str,
        width: usize,
        trace: &Trace,
    ) -> Result<Page, LoadError> {
        self.load_progressive(input, width, trace, &mut |_| {})
    }

    /// Like [`Browser::load_with_width`], handing `first_render` the page as soon as it is
    /// laid out — its render-blocking stylesheets and frames in — while its images, scripts,
    /// fonts and media go on loading; returns the page once every asset has settled.
    pub fn load_progressive(
        &self,
        input: &str,
        width: usize,
        trace: &Trace,
        first_render: OnFirstRender<'_>,
    ) -> Result<Page, LoadError> {
        ended(
            self.load_inner(input, width, trace, first_render),
            None,
            trace,
        )
    }

    fn load_inner(
        &self,
        input: &str,
        width: usize,
        trace: &Trace,
        first_render: OnFirstRender<'_>,
    ) -> Result<Page, LoadError> {
        let (url, note) = parse_input(input)?;
        trace.emit(
            None,
            EventKind::Start {
                input: input.to_string(),
                url: url.to_string(),
                note,
            },
        );
        if url.scheme() == "file" {
            return self.load_file(url, width, trace);
        }
        // The user's method and body (`-X`, `--data`) go with the first request.
        let spec = self.options.request.clone();
        self.navigate(url, spec, width, trace, first_render)
    }

    /// Submits a form (the TUI's): the standard's decision goes into the trace, then the
    /// request it makes is a navigation like any other (redirects by the method rules).
    pub fn submit_form(
        &self,
        submission: &crate::form::Submission,
        width: usize,
        trace: &Trace,
    ) -> Result<Page, LoadError> {
        let result = self.submit_inner(submission, width, trace);
        ended(result, Some(&submission.action), trace)
    }

    fn submit_inner(
        &self,
        submission: &crate::form::Submission,
        width: usize,
        trace: &Trace,
    ) -> Result<Page, LoadError> {
        let shown = submission.url();
        trace.emit(
            None,
            EventKind::Start {
                input: submission.form.clone(),
                url: shown.to_string(),
                note: Some(format!(
                    "{}'s submission, by {}",
                    submission.form, submission.method
                )),
            },
        );
        trace.emit(None, submission.event());
        trace.checkpoint("encode the form's fields into the request");
        let (url, spec) = submission.request().map_err(|e| LoadError {
            step: Step::Form,
            message: e.0,
        })?;
        self.navigate(url, spec, width, trace, &mut |_| {})
    }

    fn load_file(&self, url: Url, width: usize, trace: &Trace) -> Result<Page, LoadError> {
        let path = url.to_file_path().map_err(|_| LoadError {
            step: Step::File,
            message: format!("{url} is not a local path"),
        })?;
        let started = Instant::now();
        let bytes = read_limited(&path, self.options.max_body)?;
        trace.emit_started(
            None,
            started,
            EventKind::LocalFile {
                path: path.display().to_string(),
                bytes: bytes.len() as u64,
                ms: ms(started.elapsed()),
            },
        );
        let media_type = media_type_for_path(&path, &bytes);
        // A local page's stylesheets are local files, read when the layout asks for them: it
        // can lay the page out while it is parsed.
        let (content, source, layout, styles) =
            if is_html(&media_type) && !self.options.layout_after_parse {
                let styles = local_style_sources();
                let (document, source, layout) =
                    self.parse_and_lay_out(&bytes, &url, width, &styles, trace);
                (Content::Html(document), Some(source), layout, styles)
            } else {
                let (content, source) = self.content_from(&bytes, &media_type, None, None, trace);
                let styles = match &content {
                    Content::Html(_) => local_style_sources(),
                    _ => StyleSources::new(),
                };
                let layout = self.lay_out(&content, &url, width, &styles, trace);
                (content, source, layout, styles)
            };
        Ok(Page {
            url,
            status: None,
            problems: parse_problems(&content),
            warnings: Vec::new(),
            content,
            layout,
            assets: Vec::new(),
            source,
            styles,
            fields: self.options.fields,
        })
    }

    /// Decodes and parses a body according to its media type.
    pub(crate) fn content_from(
        &self,
        bytes: &[u8],
        media_type: &str,
        charset: Option<&str>,
        request: Option<u32>,
        trace: &Trace,
    ) -> (Content, Option<String>) {
        if is_html(media_type) {
            trace.checkpoint("parse the HTML into a DOM");
            let (document, source) = parse_traced(bytes, charset, request, trace);
            return (Content::Html(document), Some(source));
        }
        if is_text(media_type) {
            let decoded = html::decode(bytes, charset.or(Some("utf-8")));
            return (Content::Text(decoded.text.clone()), Some(decoded.text));
        }
        let content = Content::Other {
            media_type: media_type.to_string(),
            bytes: bytes.len() as u64,
        };
        (content, None)
    }

    /// Parses an HTML page and lays it out at the same time: the layout reads the DOM as the
    /// parser finishes its parts.
    fn parse_and_lay_out(
        &self,
        bytes: &[u8],
        url: &Url,
        width: usize,
        styles: &StyleSources,
        trace: &Trace,
    ) -> (Document, String, Layout) {
        trace.checkpoint("parse the HTML into a DOM, laying it out as it grows");
        let mut streaming =
            layout::StreamingLayout::new(url, width, styles).with_fields(self.options.fields);
        let (document, source, changed) =
            parse_traced_reading(bytes, None, None, trace, Some(&mut streaming));
        let started = Instant::now();
        let (layout, with) = streaming.finish(&document, changed);
        let during_parse = LayoutDuringParse {
            ms: with.ms_during_parse,
            restarted: with.restarted,
        };
        report_layout(trace, started, width, &layout, Some(during_parse));
        (document, source, layout)
    }

    pub(crate) fn lay_out(
        &self,
        content: &Content,
        url: &Url,
        width: usize,
        styles: &StyleSources,
        trace: &Trace,
    ) -> Layout {
        trace.checkpoint("lay the page out as text");
        let started = Instant::now();
        let layout = layout_content(content, url, width, styles, self.options.fields);
        report_layout(trace, started, width, &layout, None);
        layout
    }
}

/// Reports the layout step, timed from `started`.
fn report_layout(
    trace: &Trace,
    started: Instant,
    width: usize,
    layout: &Layout,
    during_parse: Option<LayoutDuringParse>,
) {
    trace.emit_started(
        None,
        started,
        EventKind::Layout {
            width: width as u32,
            lines: layout.lines.len() as u64,
            links: layout.links.len() as u64,
            ms: ms(started.elapsed()),
            during_parse,
        },
    );
}

/// The layout of any kind of content for `width` columns, with the page's style sheets.
fn layout_content(
    content: &Content,
    url: &Url,
    width: usize,
    styles: &StyleSources,
    fields: layout::Fields,
) -> Layout {
    match content {
        Content::Html(doc) => {
            let base = assets::base_url(doc, url);
            layout::layout_document_with(doc, &base, width, styles, fields)
        }
        Content::Text(text) => layout::layout_plain_text(text, width),
        Content::Other { media_type, bytes } => layout::layout_plain_text(
            &format!("({media_type}, {bytes} bytes: not a page minibrowse can show as text)"),
            width,
        ),
    }
}

/// Adds a fetched stylesheet's text to `sources` and its `@import` targets to `imports`.
pub(crate) fn add_style_source(
    sources: &mut StyleSources,
    result: &AssetResult,
    media: layout::css::Media,
    imports: &mut Vec<(Url, Url)>,
) {
    let Ok(response) = &result.outcome else {
        return;
    };
    let html_error = response.media_type().is_some_and(|t| is_html(&t));
    if result.asset.kind != AssetKind::Stylesheet
        || !(200..300).contains(&response.status)
        || html_error
    {
        return;
    }
    let text = decode_css(&response.body, response.charset().as_deref());
    for import in layout::css::leading_imports(&text, media) {
        if let Ok(url) = response.url.join(&import) {
            imports.push((url, response.url.clone()));
        }
    }
    if response.url != result.asset.url {
        sources.insert(&response.url, text.clone());
    }
    sources.insert(&result.asset.url, text);
}

/// The most stylesheets a local page's layout has read from disk, and the most bytes read
/// of one (a longer one is cut there).
const MAX_LOCAL_SHEETS: usize = 64;
const MAX_LOCAL_SHEET: u64 = 4 * 1024 * 1024;

/// A local page's stylesheets, read from disk when its layout asks for them: the layout runs
/// beside the parser, so which sheets the page links is known only as it reaches them. Only
/// `file:` URLs, and only for a page that is a local file itself: a remote page never makes
/// minibrowse read local files (its sheets are fetched, see `style_sources`).
fn local_style_sources() -> StyleSources {
    let reads = std::cell::Cell::new(0);
    StyleSources::with_reader(move |url| {
        // Each URL is asked once (the sources keep the answer), so this counts sheets.
        if url.scheme() != "file" || reads.get() >= MAX_LOCAL_SHEETS {
            return None;
        }
        reads.set(reads.get() + 1);
        read_local_sheet(url)
    })
}

/// A local stylesheet's text, its first [`MAX_LOCAL_SHEET`] bytes; None when it cannot be
/// read (a missing sheet is one a browser skips too).
fn read_local_sheet(url: &Url) -> Option<String> {
    use std::io::Read;
    let path = url.to_file_path().ok()?;
    // Only a regular file, looked at before it is opened: opening a FIFO with no writer
    // would wait forever (as `read_limited` says of pages).
    if !std::fs::metadata(&path).ok()?.is_file() {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_LOCAL_SHEET).read_to_end(&mut bytes).ok()?;
    Some(decode_css(&bytes, None))
}

/// CSS text: a BOM, then the HTTP charset, then UTF-8 (`@charset` names UTF-8 in practice).
fn decode_css(bytes: &[u8], charset: Option<&str>) -> String {
    let encoding = charset
        .and_then(|c| encoding_rs::Encoding::for_label(c.trim().as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode(bytes).0.into_owned()
}

/// A parse stopped at a limit is a page shown only in part: said, and exit status 1.
pub(crate) fn parse_problems(content: &Content) -> Vec<String> {
    match content {
        Content::Html(doc) => doc
            .stats
            .stopped
            .iter()
            .map(|reason| {
                format!("parse: stopped early, {reason}; the page shows what came before")
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Decodes and parses an HTML body, reporting the parse step.
pub(crate) fn parse_traced(
    bytes: &[u8],
    charset: Option<&str>,
    request: Option<u32>,
    trace: &Trace,
) -> (Document, String) {
    let (document, source, _) = parse_traced_reading(bytes, charset, request, trace, None);
    (document, source)
}

/// [`parse_traced`], with a reader given the DOM as it is built (see `html::stream`); also
/// returns why a node it read was changed afterwards, if one was.
fn parse_traced_reading(
    bytes: &[u8],
    charset: Option<&str>,
    request: Option<u32>,
    trace: &Trace,
    reader: Option<&mut dyn html::Reader>,
) -> (Document, String, Option<String>) {
    let started = Instant::now();
    let decoded = html::decode(bytes, charset);
    let (mut document, changed) = match reader {
        Some(reader) => html::parse_reading(&decoded.text, reader),
        None => (html::parse(&decoded.text), None),
    };
    document.stats.encoding = decoded.encoding.name().to_string();
    let bytes = bytes.len() as u64;
    report_parse(trace, request, started, bytes, &decoded, &document, false);
    (document, decoded.text, changed)
}

/// Reports the parse of `bytes` bytes decoded as `decoded` into `document`, begun at
/// `started`.
pub(crate) fn report_parse(
    trace: &Trace,
    request: Option<u32>,
    started: Instant,
    bytes: u64,
    decoded: &html::Decoded,
    document: &Document,
    streamed: bool,
) {
    let stats = &document.stats;
    trace.emit_started(
        request,
        started,
        EventKind::Parse {
            bytes,
            encoding: decoded.encoding.name().to_string(),
            encoding_source: decoded.source.describe().to_string(),
            nodes: stats.nodes,
            elements: stats.elements,
            errors: stats.error_count,
            error_samples: stats.errors.iter().take(5).cloned().collect(),
            max_depth: stats.max_depth,
            flattened: stats.flattened,
            stopped: stats.stopped.clone(),
            two_threads: stats.two_threads,
            streamed,
            ms: ms(started.elapsed()),
        },
    );
}

pub(crate) fn is_html(media_type: &str) -> bool {
    matches!(media_type, "text/html" | "application/xhtml+xml")
}

fn is_text(media_type: &str) -> bool {
    media_type.starts_with("text/")
        || matches!(
            media_type,
            "application/json" | "application/javascript" | "application/xml" | "image/svg+xml"
        )
}

/// A body without Content-Type: HTML if it looks like markup, text if it decodes as
/// UTF-8 without controls, otherwise unknown binary.
pub(crate) fn sniff_media_type(body: &[u8]) -> String {
    let head = &body[..body.len().min(512)];
    let lower = String::from_utf8_lossy(head)
        .trim_start()
        .to_ascii_lowercase();
    if lower.starts_with("<!doctype html")
        || lower.starts_with("<html")
        || lower.contains("<body")
        || lower.contains("<head")
    {
        return "text/html".into();
    }
    match std::str::from_utf8(head) {
        Ok(text) if !text.chars().any(|c| c.is_control() && !c.is_whitespace()) => {
            "text/plain".into()
        }
        _ => "application/octet-stream".into(),
    }
}

fn media_type_for_path(path: &Path, bytes: &[u8]) -> String {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" | "xhtml" => "text/html".into(),
        "txt" | "text" | "md" => "text/plain".into(),
        "css" => "text/css".into(),
        "js" => "text/javascript".into(),
        _ => sniff_media_type(bytes),
    }
}

fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, LoadError> {
    use std::io::Read;
    let fail = |message: String| LoadError {
        step: Step::File,
        message,
    };
    // Looked at before it is opened: opening a FIFO with no writer would wait forever.
    let kind = std::fs::metadata(path)
        .map_err(|e| fail(format!("cannot open {}: {e}", path.display())))?
        .file_type();
    if kind.is_dir() {
        return Err(fail(format!("{} is a directory", path.display())));
    }
    if !kind.is_file() {
        return Err(fail(format!(
            "{} is not a regular file (a FIFO, a socket or a device): only files are read",
            path.display()
        )));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| fail(format!("cannot open {}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() as u64 > max {
        return Err(fail(format!(
            "{} is larger than the limit of {max} bytes (raise it with --max-body)",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Turns what a user typed into a URL, the way browsers' address bars do: a bare host gets
/// `http://`, a path to an existing file becomes a `file:` URL.
pub fn parse_input(input: &str) -> Result<(Url, Option<String>), LoadError> {
    let input = input.trim();
    let fail = |message: String| LoadError {
        step: Step::Url,
        message,
    };
    if input.is_empty() {
        return Err(fail("no URL given".into()));
    }
    let has_scheme = input.contains("://") || input.starts_with("file:");
    if has_scheme {
        let url =
            Url::parse(input).map_err(|e| fail(format!("{input:?} is not a valid URL ({e})")))?;
        return match url.scheme() {
            "http" | "https" | "file" => {
                if url.scheme() != "file" && url.host_str().is_none_or(str::is_empty) {
                    return Err(fail(format!("{input:?} has no host name")));
                }
                Ok((url, None))
            }
            other => Err(fail(format!(
                "the {other}: scheme is not supported (minibrowse speaks http, https and file)"
            ))),
        };
    }
    let looks_like_path = input.starts_with('/')
        || input.starts_with("./")
        || input.starts_with("../")
        || input.starts_with('~');
    if looks_like_path || Path::new(input).exists() {
        let path = std::fs::canonicalize(input).unwrap_or_else(|_| PathBuf::from(input));
        let url = Url::from_file_path(&path)
            .map_err(|_| fail(format!("{input:?} is not a usable file path")))?;
        return Ok((
            url,
            Some("a local file: no DNS, no TCP, no HTTP needed".into()),
        ));
    }
    if let Some((scheme, _)) = input.split_once(':') {
        let is_scheme = !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphabetic())
            && input[scheme.len() + 1..]
                .chars()
                .next()
                .is_some_and(|c| !c.is_ascii_digit());
        if is_scheme {
            return Err(fail(format!(
                "the {scheme}: scheme is not supported (minibrowse speaks http, https and file)"
            )));
        }
    }
    let url = Url::parse(&format!("http://{input}"))
        .map_err(|e| fail(format!("{input:?} is not a valid URL ({e})")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(fail(format!("{input:?} has no host name")));
    }
    Ok((
        url,
        Some("no scheme typed: http:// assumed, as browsers do".into()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_host_gets_http() {
        let (url, note) = parse_input("example.com").unwrap();
        assert_eq!(url.as_str(), "http://example.com/");
        assert!(note.is_some());
        let (url, _) = parse_input("localhost:8080/a").unwrap();
        assert_eq!(url.as_str(), "http://localhost:8080/a");
    }

    #[test]
    fn unsupported_schemes_are_refused() {
        assert_eq!(parse_input("ftp://x.test/").unwrap_err().step, Step::Url);
        assert!(parse_input("javascript:alert(1)")
            .unwrap_err()
            .message
            .contains("javascript:"));
        assert!(parse_input("http://").is_err());
    }

    #[test]
    fn a_local_pages_sheets_are_read_from_disk_up_to_the_limits() {
        let dir = std::env::temp_dir().join(format!("minibrowse-sheets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let sheet = |n: usize| Url::from_file_path(dir.join(format!("{n}.css"))).expect("a path");
        for n in 0..=MAX_LOCAL_SHEETS {
            std::fs::write(dir.join(format!("{n}.css")), format!("/* {n} */")).expect("a write");
        }
        let big = dir.join("big.css");
        std::fs::write(&big, vec![b'a'; MAX_LOCAL_SHEET as usize + 10]).expect("a write");
        let sources = local_style_sources();
        let http = Url::parse("http://x.test/0.css").expect("a URL");
        assert!(sources.get(&http).is_none(), "a local page fetches nothing");
        let read = sources.get(&Url::from_file_path(&big).expect("a path"));
        assert_eq!(read.map(|t| t.len()), Some(MAX_LOCAL_SHEET as usize));
        for n in 0..MAX_LOCAL_SHEETS - 1 {
            assert_eq!(
                sources.get(&sheet(n)).as_deref(),
                Some(&*format!("/* {n} */"))
            );
        }
        assert!(
            sources.get(&sheet(MAX_LOCAL_SHEETS)).is_none(),
            "past the limit"
        );
        assert!(sources.get(&sheet(0)).is_some(), "read before, kept");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
