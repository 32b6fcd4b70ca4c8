//! Assets: the DOM walk that finds what a browser would load as subresources, and the rules
//! it shares with the preload scanner (`load::scanner`): which URL an element loads, and at
//! what priority. The fetching is the loader's (`load::loader`).
//!
//! "Subresource" follows what browsers load without user action: stylesheets, scripts,
//! icons, preloads, images (`src`, or the one `srcset`/`<picture>` candidate a 1x screen
//! would pick), frames, media and posters, objects. Navigation links (`<a>`,
//! `rel=next`, `canonical`…) are not fetched.

use std::collections::HashSet;

use url::Url;

use crate::html::{Document, Node};
use crate::net::{FetchError, FetchLimits, Purpose, Response};
use crate::trace::{EventKind, LoadDeadline, Trace};

/// Connections a browser opens to one host at most (HTTP/1.1).
pub const CONNECTIONS_PER_HOST: usize = 6;

/// What kind of subresource a reference is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssetKind {
    Stylesheet,
    Script,
    Icon,
    Preload,
    Image,
    Frame,
    Media,
    Object,
}

impl AssetKind {
    /// Whether the page's text can depend on it: a stylesheet (what shows, and how) or a
    /// frame's document (its text is the frame's). Browsers wait for these before the first
    /// render; images, scripts (this browser runs none), fonts and media cannot change the
    /// text laid out in a terminal.
    pub fn blocks_rendering(self) -> bool {
        matches!(self, AssetKind::Stylesheet | AssetKind::Frame)
    }

    pub fn name(self) -> &'static str {
        match self {
            AssetKind::Stylesheet => "stylesheet",
            AssetKind::Script => "script",
            AssetKind::Icon => "icon",
            AssetKind::Preload => "preload",
            AssetKind::Image => "image",
            AssetKind::Frame => "frame",
            AssetKind::Media => "media",
            AssetKind::Object => "object",
        }
    }

    pub fn purpose(self) -> Purpose {
        match self {
            AssetKind::Stylesheet => Purpose::Stylesheet,
            AssetKind::Script => Purpose::Script,
            AssetKind::Icon | AssetKind::Image => Purpose::Image,
            AssetKind::Preload | AssetKind::Object => Purpose::Other,
            AssetKind::Frame => Purpose::Frame,
            AssetKind::Media => Purpose::Media,
        }
    }
}

/// How soon a request goes out when connections are scarce, named as DevTools names them.
/// Declared from the first to go: the order of the variants is the order of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Highest,
    High,
    Medium,
    Low,
    Lowest,
}

impl Priority {
    pub fn name(self) -> &'static str {
        match self {
            Priority::Highest => "highest",
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
            Priority::Lowest => "lowest",
        }
    }
}

/// Images that count as the first screenful: the first five in document order (as
/// Chromium's loader guesses before layout, "the first five images are Medium"). Without
/// running a pixel layout the browser cannot know better, and neither does this one.
pub const FIRST_SCREEN_IMAGES: usize = 5;

/// What a browser gives a request of this kind, as Chromium does: the stylesheets the page
/// needs to render (`media` matching) first, frames' documents too; then scripts and fonts;
/// the first screenful of images; then the other images, media, icons; a stylesheet for
/// another medium (print) last. `images_before`: images found before this one, in document
/// order.
pub fn priority_of(
    kind: AssetKind,
    element: &impl Attrs,
    images_before: usize,
    viewport: Viewport,
) -> Priority {
    match kind {
        AssetKind::Stylesheet => match element.attr("media") {
            Some(m) if !m.trim().is_empty() && !media_matches(&m, viewport) => Priority::Lowest,
            _ => Priority::Highest,
        },
        AssetKind::Frame => Priority::Highest,
        AssetKind::Script => Priority::High,
        AssetKind::Preload => match element.attr("as").unwrap_or_default().trim() {
            "style" => Priority::Highest,
            "script" | "font" | "fetch" => Priority::High,
            "image" => Priority::Low,
            _ => Priority::Low,
        },
        AssetKind::Image if images_before < FIRST_SCREEN_IMAGES => Priority::Medium,
        AssetKind::Image | AssetKind::Media | AssetKind::Object | AssetKind::Icon => Priority::Low,
    }
}

/// An element's attributes, as the reference rules read them: the DOM's, or those of a tag
/// the preload scanner saw in the bytes.
pub trait Attrs {
    /// The attribute's value, if the element has it.
    fn attr(&self, name: &str) -> Option<String>;
}

impl Attrs for Node<'_> {
    fn attr(&self, name: &str) -> Option<String> {
        Node::attr(self, name)
    }
}

/// A subresource found in the DOM.
#[derive(Clone, Debug)]
pub struct AssetRef {
    pub kind: AssetKind,
    pub url: Url,
    /// The referencing element, as a short source snippet.
    pub element: String,
    /// The referencing node's position in document order (for the DOM view).
    pub node: u64,
    pub priority: Priority,
}

/// The result of fetching one asset.
#[derive(Debug)]
pub struct AssetResult {
    pub asset: AssetRef,
    pub outcome: Result<Response, FetchError>,
}

/// The screen the walk chooses image candidates for.
#[derive(Clone, Copy, Debug)]
pub struct Viewport {
    pub width_px: u32,
    pub device_pixel_ratio: f64,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport {
            width_px: 1000,
            device_pixel_ratio: 1.0,
        }
    }
}

/// Finds the page's subresources, each URL once, in document order; reports each find
/// (and each reference it will not fetch) into the trace.
pub fn discover(
    doc: &Document,
    page_url: &Url,
    viewport: Viewport,
    trace: &Trace,
    plan: &mut Plan,
) -> Vec<AssetRef> {
    let base = base_url(doc, page_url);
    report_refused_base(doc, page_url, &base, trace);
    let mut found = Vec::new();
    let mut images = 0;
    for (index, (node, _)) in doc.walk().enumerate() {
        for (kind, raw, shown) in references(&node, viewport) {
            let priority = priority_of(kind, &node, images, viewport);
            if kind == AssetKind::Image {
                images += 1;
            }
            let element = node.describe(shown);
            let url = match base.join(raw.trim()) {
                Ok(url) => url,
                Err(e) => {
                    refuse(
                        trace,
                        kind,
                        &raw,
                        &element,
                        format!("not a valid URL ({e})"),
                    );
                    continue;
                }
            };
            match url.scheme() {
                "http" | "https" => {}
                "data" => continue, // inline: nothing to fetch
                "file" => {
                    refuse(
                        trace,
                        kind,
                        url.as_str(),
                        &element,
                        refuse_file_reason(page_url),
                    );
                    continue;
                }
                other => {
                    refuse(
                        trace,
                        kind,
                        url.as_str(),
                        &element,
                        format!("the {other}: scheme is not fetched"),
                    );
                    continue;
                }
            }
            let mut key = url.clone();
            key.set_fragment(None);
            if !plan.seen.insert(key.to_string()) {
                continue;
            }
            if plan.room == 0 {
                plan.over_limit += 1;
                // The first few are named; the count says the rest.
                if plan.over_limit <= 20 {
                    let reason = format!(
                        "over the limit of {} assets per page (--max-assets)",
                        plan.max
                    );
                    refuse(trace, kind, url.as_str(), &element, reason);
                }
                continue;
            }
            plan.room -= 1;
            trace.emit(
                None,
                EventKind::AssetFound {
                    kind: kind.name().to_string(),
                    url: url.to_string(),
                    element: element.clone(),
                    node: index as u64,
                },
            );
            found.push(AssetRef {
                kind,
                url,
                element,
                node: index as u64,
                priority,
            });
        }
    }
    found
}

fn refuse_file_reason(page_url: &Url) -> String {
    if page_url.scheme() == "file" {
        "local files are read only as the page itself, not as its assets".to_string()
    } else {
        "a page from the network may not make the browser read local files".to_string()
    }
}

fn refuse(trace: &Trace, kind: AssetKind, url: &str, element: &str, reason: String) {
    trace.emit(
        None,
        EventKind::AssetRefused {
            kind: kind.name().to_string(),
            url: url.to_string(),
            element: element.to_string(),
            reason,
        },
    );
}

/// What the walks of one page (and its frames) found so far, and the room left.
pub struct Plan {
    seen: HashSet<String>,
    max: usize,
    room: usize,
    /// References found beyond the limit, not fetched.
    pub over_limit: usize,
}

impl Plan {
    pub fn new(max_assets: usize) -> Plan {
        Plan {
            seen: HashSet::new(),
            max: max_assets,
            room: max_assets,
            over_limit: 0,
        }
    }
}

/// The URL relative references resolve against: the first `<base href>`, if it is usable.
pub fn base_url(doc: &Document, page_url: &Url) -> Url {
    base_url_among(doc.walk().map(|(n, _)| n), page_url)
}

/// [`base_url`] from the given nodes, in document order (a layout reading the DOM as it is
/// parsed asks with the part read so far).
pub fn base_url_among<'a>(mut nodes: impl Iterator<Item = Node<'a>>, page_url: &Url) -> Url {
    nodes
        .find(|n| n.tag() == Some("base") && n.has_attr("href"))
        .and_then(|n| n.attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .filter(|base| {
            base.scheme() == page_url.scheme() || matches!(base.scheme(), "http" | "https")
        })
        .unwrap_or_else(|| page_url.clone())
}

/// A `<base href>` that [`base_url`] ignored (a `file:` base on a page from the network)
/// is said in the trace, so the student sees why links resolve against the page instead.
fn report_refused_base(doc: &Document, page_url: &Url, used: &Url, trace: &Trace) {
    let Some(node) = doc
        .walk()
        .map(|(n, _)| n)
        .find(|n| n.tag() == Some("base") && n.has_attr("href"))
    else {
        return;
    };
    let href = node.attr("href").unwrap_or_default();
    let wanted = page_url.join(href.trim());
    if wanted.as_ref().is_ok_and(|w| w == used) {
        return;
    }
    let reason = match &wanted {
        Ok(w) => format!(
            "a page from {}: may not take its base URL from {}: (relative links resolve against the page's own URL)",
            page_url.scheme(),
            w.scheme()
        ),
        Err(e) => format!("not a valid URL ({e}); relative links resolve against the page's own URL"),
    };
    trace.emit(
        None,
        EventKind::AssetRefused {
            kind: "base".into(),
            url: wanted.map(|w| w.to_string()).unwrap_or(href),
            element: node.describe(&["href"]),
            reason,
        },
    );
}

/// The subresource references one element makes: (kind, raw URL, attributes to show).
fn references(
    node: &Node,
    viewport: Viewport,
) -> Vec<(AssetKind, String, &'static [&'static str])> {
    let Some(tag) = node.tag() else {
        return Vec::new();
    };
    let attr = |name: &str| node.attr(name).filter(|v| !v.trim().is_empty());
    let mut refs = Vec::new();
    match tag {
        "link" => {
            let kind = link_kind(&node.attr("rel").unwrap_or_default());
            if let (Some(kind), Some(href)) = (kind, attr("href")) {
                refs.push((kind, href, &["rel", "href"][..]));
            }
        }
        "script" => {
            if let Some(src) = attr("src") {
                refs.push((AssetKind::Script, src, &["src"][..]));
            }
        }
        "img" => {
            // Inside <picture>, a matching <source> wins over the img's own candidates.
            let from_picture = node
                .parent()
                .filter(|p| p.tag() == Some("picture"))
                .and_then(|p| picture_source(&p, viewport));
            let choice = from_picture.or_else(|| choose_image(node, viewport));
            if let Some(url) = choice {
                refs.push((AssetKind::Image, url, &["src", "srcset", "alt"][..]));
            }
        }
        "iframe" | "frame" => {
            if let Some(src) = attr("src") {
                refs.push((AssetKind::Frame, src, &["src"][..]));
            }
        }
        "video" | "audio" => {
            if let Some(poster) = attr("poster") {
                refs.push((AssetKind::Image, poster, &["poster"][..]));
            }
            let src = attr("src").or_else(|| {
                node.children()
                    .into_iter()
                    .find(|c| c.tag() == Some("source") && c.has_attr("src"))
                    .and_then(|c| c.attr("src"))
            });
            if let Some(src) = src {
                refs.push((AssetKind::Media, src, &["src"][..]));
            }
        }
        "input" => {
            let is_image = node
                .attr("type")
                .is_some_and(|t| t.eq_ignore_ascii_case("image"));
            if let (true, Some(src)) = (is_image, attr("src")) {
                refs.push((AssetKind::Image, src, &["type", "src"][..]));
            }
        }
        "embed" => {
            if let Some(src) = attr("src") {
                refs.push((AssetKind::Object, src, &["src"][..]));
            }
        }
        "object" => {
            if let Some(data) = attr("data") {
                refs.push((AssetKind::Object, data, &["data"][..]));
            }
        }
        _ => {}
    }
    refs
}

/// What a `<link rel>` asks to fetch, if anything.
pub fn link_kind(rel: &str) -> Option<AssetKind> {
    let rel = rel.to_ascii_lowercase();
    let rels: Vec<&str> = rel.split_ascii_whitespace().collect();
    if rels.contains(&"stylesheet") && !rels.contains(&"alternate") {
        Some(AssetKind::Stylesheet)
    } else if rels.contains(&"icon") || rels.contains(&"apple-touch-icon") {
        Some(AssetKind::Icon)
    } else if rels.contains(&"preload") || rels.contains(&"modulepreload") {
        Some(AssetKind::Preload)
    } else {
        None
    }
}

/// Image types browsers decode; a `<source type>` outside them is skipped.
const SUPPORTED_IMAGE_TYPES: &[&str] = &[
    "image/avif",
    "image/webp",
    "image/png",
    "image/apng",
    "image/jpeg",
    "image/gif",
    "image/svg+xml",
    "image/bmp",
    "image/x-icon",
    "image/vnd.microsoft.icon",
];

/// The first `<source>` of a `<picture>` a browser would use, and its chosen candidate.
fn picture_source(picture: &Node, viewport: Viewport) -> Option<String> {
    for source in picture.children() {
        match source.tag() {
            Some("img") => return None,
            Some("source") => {}
            _ => continue,
        }
        let type_ok = source.attr("type").is_none_or(|t| {
            let t = t.trim().to_ascii_lowercase();
            t.is_empty() || SUPPORTED_IMAGE_TYPES.contains(&t.as_str())
        });
        let media_ok = source
            .attr("media")
            .is_none_or(|m| media_matches(&m, viewport));
        if !(type_ok && media_ok) {
            continue;
        }
        let srcset = source.attr("srcset").unwrap_or_default();
        let sizes = source.attr("sizes");
        if let Some(url) = pick_candidate(&srcset, None, sizes.as_deref(), viewport) {
            return Some(url);
        }
    }
    None
}

/// The URL an `<img>` (not in a `<picture>`) loads: its `srcset` candidate for this screen,
/// else its `src`.
pub fn choose_image(img: &impl Attrs, viewport: Viewport) -> Option<String> {
    let src = img.attr("src").filter(|s| !s.trim().is_empty());
    match img.attr("srcset") {
        Some(srcset) => pick_candidate(
            &srcset,
            src.as_deref(),
            img.attr("sizes").as_deref(),
            viewport,
        ),
        None => src,
    }
}

/// A `srcset` candidate: URL and its density on this viewport.
#[derive(Debug, PartialEq)]
struct Candidate {
    url: String,
    density: f64,
}

/// Picks the candidate a browser would for this screen: the smallest density at or above
/// the device pixel ratio, else the densest there is. `src` counts as `1x` when no
/// candidate has density 1 (HTML standard, "update the source set").
fn pick_candidate(
    srcset: &str,
    src: Option<&str>,
    sizes: Option<&str>,
    viewport: Viewport,
) -> Option<String> {
    let slot = sizes
        .and_then(|s| source_size(s, viewport))
        .unwrap_or(f64::from(viewport.width_px));
    let mut candidates = parse_srcset(srcset, slot);
    if let Some(src) = src {
        if !candidates.iter().any(|c| c.density == 1.0) {
            candidates.push(Candidate {
                url: src.to_string(),
                density: 1.0,
            });
        }
    }
    let dpr = viewport.device_pixel_ratio;
    let at_or_above = candidates
        .iter()
        .filter(|c| c.density >= dpr)
        .min_by(|a, b| a.density.total_cmp(&b.density));
    at_or_above
        .or_else(|| {
            candidates
                .iter()
                .max_by(|a, b| a.density.total_cmp(&b.density))
        })
        .map(|c| c.url.clone())
}

/// Parses `srcset` per the HTML standard's algorithm (URLs may contain commas; descriptors
/// are `Nx`, `Nw` or `Nh`). `slot_px` turns width descriptors into densities.
fn parse_srcset(srcset: &str, slot_px: f64) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut rest = srcset;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if rest.is_empty() {
            return out;
        }
        let url_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let mut url = &rest[..url_end];
        rest = &rest[url_end..];
        let mut descriptors = "";
        if url.ends_with(',') {
            url = url.trim_end_matches(',');
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            descriptors = rest[..end].trim();
            rest = &rest[end..];
        }
        let density = descriptors
            .split_whitespace()
            .find_map(|d| {
                if let Some(x) = d.strip_suffix('x') {
                    x.parse::<f64>().ok()
                } else if let Some(w) = d.strip_suffix('w') {
                    w.parse::<f64>().ok().map(|w| w / slot_px.max(1.0))
                } else {
                    None
                }
            })
            .unwrap_or(1.0);
        if !url.is_empty() && density > 0.0 {
            out.push(Candidate {
                url: url.to_string(),
                density,
            });
        }
    }
}

/// The slot width from `sizes`: the first entry whose media condition matches.
fn source_size(sizes: &str, viewport: Viewport) -> Option<f64> {
    for entry in sizes.split(',') {
        let entry = entry.trim();
        let (condition, size) = match entry.rfind(')') {
            Some(close) => (Some(&entry[..=close]), entry[close + 1..].trim()),
            None => (None, entry),
        };
        if condition.is_some_and(|c| !media_matches(c, viewport)) {
            continue;
        }
        return length_px(size, viewport);
    }
    None
}

fn length_px(length: &str, viewport: Viewport) -> Option<f64> {
    let length = length.trim();
    if let Some(v) = length.strip_suffix("vw") {
        return v
            .parse::<f64>()
            .ok()
            .map(|v| v * f64::from(viewport.width_px) / 100.0);
    }
    if let Some(v) = length.strip_suffix("px") {
        return v.parse().ok();
    }
    if let Some(v) = length.strip_suffix("em") {
        return v.parse::<f64>().ok().map(|v| v * 16.0);
    }
    None
}

/// Evaluates the simple media conditions pages use for images: `(min-width: N)`,
/// `(max-width: N)`, `screen`, `print`, `all`, joined with `and`. Anything else is
/// taken not to match (a browser that cannot read a condition does not use its source).
pub fn media_matches(media: &str, viewport: Viewport) -> bool {
    let width = f64::from(viewport.width_px);
    media.split(" and ").all(|part| {
        let part = part.trim().trim_start_matches("only ").trim();
        match part {
            "" | "all" | "screen" => return true,
            "print" => return false,
            _ => {}
        }
        let inner = part.trim_start_matches('(').trim_end_matches(')');
        let Some((feature, value)) = inner.split_once(':') else {
            return false;
        };
        let Some(px) = length_px(value, viewport) else {
            return false;
        };
        match feature.trim() {
            "min-width" => width >= px,
            "max-width" => width <= px,
            _ => false,
        }
    })
}

/// Limits for a page's assets.
#[derive(Clone, Debug)]
pub struct AssetLimits {
    pub fetch: FetchLimits,
    /// Connections to one host at once (browsers: 6).
    pub per_host: usize,
    /// Decoded bytes of all assets together.
    pub max_total_bytes: u64,
    /// When the page's asset fetching must be over (a page of stalling assets costs no more),
    /// on the load's clock.
    pub deadline: Option<LoadDeadline>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vp() -> Viewport {
        Viewport::default()
    }

    #[test]
    fn srcset_density_picks_1x() {
        let pick = pick_candidate("a.png 1x, b.png 2x", Some("c.png"), None, vp());
        assert_eq!(pick.as_deref(), Some("a.png"));
    }

    #[test]
    fn srcset_src_is_1x_when_missing() {
        let pick = pick_candidate("b.png 2x", Some("c.png"), None, vp());
        assert_eq!(pick.as_deref(), Some("c.png"));
    }

    #[test]
    fn srcset_widths_use_viewport() {
        let pick = pick_candidate("s.png 480w, m.png 1080w, l.png 2000w", None, None, vp());
        assert_eq!(pick.as_deref(), Some("m.png"));
        let pick = pick_candidate(
            "s.png 480w, m.png 1080w",
            None,
            Some("(max-width: 600px) 100vw, 400px"),
            vp(),
        );
        assert_eq!(pick.as_deref(), Some("s.png"));
    }

    #[test]
    fn srcset_urls_may_hold_commas() {
        let c = parse_srcset("a.png?x=1,2 1x,b.png 2x", 1000.0);
        assert_eq!(c[0].url, "a.png?x=1,2");
        assert_eq!(c[1].url, "b.png");
    }

    #[test]
    fn media_conditions() {
        assert!(media_matches("(min-width: 800px)", vp()));
        assert!(!media_matches("(max-width: 800px)", vp()));
        assert!(!media_matches("print", vp()));
        assert!(media_matches("screen and (min-width: 40em)", vp()));
    }
}
