//! The preload scanner, as browsers have: while the document still downloads, a second
//! html5ever tokenizer reads the text as it arrives — ahead of the parse, which may be
//! waiting — and asks for the stylesheets, scripts and images it sees at once, so their
//! requests run beside the document's instead of after it.
//!
//! It is a guess, made without the tree: it follows only what a tokenizer alone can know
//! (raw-text elements such as `<script>` and `<style>` switch it as they would the parser;
//! nothing inside `<template>` or `<picture>` is asked for, since only the tree decides what
//! those load). The DOM walk after the parse is the truth: what it finds that the scanner
//! already asked for is not fetched again, and what the scanner asked for that the walk
//! never finds was fetched for nothing (the trace says both).

use std::cell::{Cell, RefCell};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use url::Url;

use crate::assets::{self, AssetKind, AssetRef, Attrs, Viewport};

/// A start tag the scanner looks at: its name and attributes.
struct Seen {
    name: String,
    attrs: Vec<(String, String)>,
}

impl Attrs for Seen {
    fn attr(&self, name: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
}

/// Start tags that may name a subresource, or change where the others resolve.
const LOOKED_AT: [&str; 4] = ["link", "script", "img", "base"];

/// The tokenizer's sink: keeps the tags of interest, and switches the tokenizer to raw
/// text where the parser would.
#[derive(Default)]
struct Finder {
    seen: RefCell<Vec<Seen>>,
    /// Open `<template>`s and `<picture>`s: what is inside is left to the DOM walk.
    template: Cell<u32>,
    picture: Cell<u32>,
}

impl TokenSink for Finder {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        let name = &*tag.name;
        let depth = match name {
            "template" => Some(&self.template),
            "picture" => Some(&self.picture),
            _ => None,
        };
        if let Some(depth) = depth {
            match tag.kind {
                TagKind::StartTag => depth.set(depth.get().saturating_add(1)),
                TagKind::EndTag => depth.set(depth.get().saturating_sub(1)),
            }
            return TokenSinkResult::Continue;
        }
        if tag.kind == TagKind::EndTag {
            return TokenSinkResult::Continue;
        }
        let inside = self.template.get() > 0 || (self.picture.get() > 0 && name == "img");
        if LOOKED_AT.contains(&name) && !inside {
            self.seen.borrow_mut().push(Seen {
                name: name.to_string(),
                attrs: tag
                    .attrs
                    .iter()
                    .map(|a| (a.name.local.to_string(), a.value.to_string()))
                    .collect(),
            });
        }
        // As the tree builder would tell the tokenizer (scripting off: `<noscript>` is
        // markup). Without a tree, `<title>` inside `<svg>` is taken for the HTML one.
        match name {
            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
            "style" | "xmp" | "iframe" | "noembed" | "noframes" => {
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        }
    }
}

/// The scanner of one document.
pub struct Scanner {
    tokenizer: Tokenizer<Finder>,
    queue: BufferQueue,
    page: Url,
    /// The first usable `<base href>` seen so far.
    base: Option<Url>,
    viewport: Viewport,
    /// Images asked for so far (the first screenful gets a higher priority).
    images: usize,
    /// Requests made; at most `max`.
    made: usize,
    max: usize,
}

impl Scanner {
    /// A scanner for the document at `page`, asking for at most `max` requests.
    pub fn new(page: &Url, viewport: Viewport, max: usize) -> Scanner {
        Scanner {
            tokenizer: Tokenizer::new(Finder::default(), TokenizerOpts::default()),
            queue: BufferQueue::default(),
            page: page.clone(),
            base: None,
            viewport,
            images: 0,
            made: 0,
            max,
        }
    }

    /// Reads the next piece of the document's text; returns what to ask for now.
    pub fn feed(&mut self, text: &str) -> Vec<AssetRef> {
        if text.is_empty() || self.made >= self.max {
            return Vec::new();
        }
        self.queue.push_back(StrTendril::from_slice(text));
        while !self.queue.is_empty() {
            let _ = self.tokenizer.feed(&self.queue);
        }
        self.found()
    }

    /// The document has ended: what its last bytes asked for.
    pub fn finish(&mut self) -> Vec<AssetRef> {
        self.tokenizer.end();
        self.found()
    }

    fn found(&mut self) -> Vec<AssetRef> {
        let seen = std::mem::take(&mut *self.tokenizer.sink.seen.borrow_mut());
        let mut out = Vec::new();
        for tag in seen {
            if tag.name == "base" {
                self.take_base(&tag);
                continue;
            }
            let Some((kind, raw, shown)) = reference(&tag, self.viewport) else {
                continue;
            };
            let base = self.base.as_ref().unwrap_or(&self.page);
            let Ok(url) = base.join(raw.trim()) else {
                continue;
            };
            // Refusals (other schemes, local files) are the DOM walk's to say.
            if !matches!(url.scheme(), "http" | "https") || self.made >= self.max {
                continue;
            }
            let priority = assets::priority_of(kind, &tag, self.images, self.viewport);
            if kind == AssetKind::Image {
                self.images += 1;
            }
            self.made += 1;
            out.push(AssetRef {
                kind,
                url,
                element: describe(&tag, shown),
                node: 0,
                priority,
            });
        }
        out
    }

    /// The first `<base href>` decides, as [`assets::base_url`] does.
    fn take_base(&mut self, tag: &Seen) {
        if self.base.is_some() {
            return;
        }
        let Some(href) = tag.attr("href") else {
            return;
        };
        let base =
            self.page.join(href.trim()).ok().filter(|b| {
                b.scheme() == self.page.scheme() || matches!(b.scheme(), "http" | "https")
            });
        self.base = Some(base.unwrap_or_else(|| self.page.clone()));
    }
}

/// What one tag asks for, by the DOM walk's rules: (kind, raw URL, attributes to show).
fn reference(
    tag: &Seen,
    viewport: Viewport,
) -> Option<(AssetKind, String, &'static [&'static str])> {
    let nonempty = |name: &str| tag.attr(name).filter(|v| !v.trim().is_empty());
    match tag.name.as_str() {
        "link" => {
            let kind = assets::link_kind(&tag.attr("rel").unwrap_or_default())?;
            Some((kind, nonempty("href")?, &["rel", "href"][..]))
        }
        "script" => Some((AssetKind::Script, nonempty("src")?, &["src"][..])),
        "img" => Some((
            AssetKind::Image,
            assets::choose_image(tag, viewport)?,
            &["src", "srcset", "alt"][..],
        )),
        _ => None,
    }
}

/// The tag as a short snippet, like the DOM walk's `Node::describe`.
fn describe(tag: &Seen, shown: &[&str]) -> String {
    let mut out = format!("<{}", tag.name);
    for name in shown {
        if let Some(value) = tag.attr(name) {
            let value: String = value.chars().take(80).collect();
            out.push_str(&format!(" {name}=\"{value}\""));
        }
    }
    out.push('>');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(pieces: &[&str]) -> Vec<(AssetKind, String, &'static str)> {
        let page = Url::parse("http://www.site.test/dir/page.html").expect("a URL");
        let mut scanner = Scanner::new(&page, Viewport::default(), 100);
        let mut out = Vec::new();
        for piece in pieces {
            out.extend(scanner.feed(piece));
        }
        out.extend(scanner.finish());
        out.into_iter()
            .map(|a| (a.kind, a.url.to_string(), a.priority.name()))
            .collect()
    }

    #[test]
    fn finds_what_the_dom_walk_would_in_pieces_cut_anywhere() {
        let page = "<!doctype html><head><link rel=stylesheet href=a.css>\
            <link rel=stylesheet href=print.css media=print><script src=/s.js></script>\
            <base href=/other/><link rel=preload as=font href=f.woff2></head>\
            <body><img src=1.png><img srcset=\"small.png 1x, big.png 2x\">\
            <script>var x = '<img src=no.png>';</script><style>p{}</style>\
            <template><img src=no2.png></template><picture><source srcset=p.png><img src=no3.png></picture>\
            <!-- <img src=no4.png> --><textarea><img src=no5.png></textarea>";
        let whole = scan(&[page]);
        let names: Vec<&str> = whole.iter().map(|(_, u, _)| u.as_str()).collect();
        assert_eq!(
            names,
            [
                "http://www.site.test/dir/a.css",
                "http://www.site.test/dir/print.css",
                "http://www.site.test/s.js",
                "http://www.site.test/other/f.woff2",
                "http://www.site.test/other/1.png",
                "http://www.site.test/other/small.png",
            ]
        );
        let priorities: Vec<&str> = whole.iter().map(|(_, _, p)| *p).collect();
        assert_eq!(
            priorities,
            ["highest", "lowest", "high", "high", "medium", "medium"]
        );
        // One character at a time: the same finds.
        let chars: Vec<String> = page.chars().map(String::from).collect();
        let pieces: Vec<&str> = chars.iter().map(String::as_str).collect();
        assert_eq!(scan(&pieces), whole);
    }

    #[test]
    fn images_past_the_first_screenful_are_low() {
        let page: String = (0..8).map(|i| format!("<img src={i}.png>")).collect();
        let priorities: Vec<&str> = scan(&[&page]).iter().map(|(_, _, p)| *p).collect();
        assert_eq!(&priorities[..5], ["medium"; 5]);
        assert_eq!(&priorities[5..], ["low"; 3]);
    }
}
