//! Style rules: a stylesheet parsed with `cssparser` into rules whose selectors are
//! Servo's `selectors`, in cascade order (`@import`s first, their text looked up in
//! [`StyleSources`]), the rules under `@media`/`@supports` kept only when their conditions
//! hold, and each rule filed in a bucket by what its rightmost compound must have, so that
//! an element tries only the rules that could match it.

use cssparser::{
    AtRuleParser, CowRcStr, ParseError, Parser, ParserState, QualifiedRuleParser, RuleBodyParser,
    StyleSheetParser, Token,
};
use selectors::matching::{matches_selector, MatchingContext, QuirksMode};
use selectors::parser::{
    AncestorHashes, Combinator, Component, ParseRelative, Selector, SelectorList,
    SelectorParseErrorKind,
};

use rustc_hash::FxHashMap;
use url::Url;

use super::media::{media_list_matches, Media};
use super::props::{ContentPart, Decl, DeclParser};
use super::skip_rest;
use super::sources::{without_fragment, StyleSources};
use crate::layout::select::{self, El, PseudoElement, Simple};

/// One selector of a style rule, with what the cascade needs to order it.
pub struct Rule {
    pub selector: Selector<Simple>,
    pub hashes: AncestorHashes,
    pub pseudo: Option<PseudoElement>,
    /// Where matching starts in the selector (past a pseudo-element).
    pub offset: usize,
    pub specificity: u32,
    pub order: u32,
    pub decls: (u32, u32),
}

impl Rule {
    /// Whether the rule's selector matches `el` (from its offset, with its ancestor hashes
    /// for the bloom filter).
    pub fn matches(&self, el: El, context: &mut MatchingContext<'_, Simple>) -> bool {
        matches_selector(&self.selector, self.offset, Some(&self.hashes), el, context)
    }
}

/// Where a rule is filed, by the rightmost compound selector's most specific part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    Id(u32),
    Class(u32),
    Tag(u32),
    Any,
}

/// All author rules of a page, in cascade order.
#[derive(Default)]
pub struct Sheets {
    pub rules: Vec<Rule>,
    pub decls: Vec<Decl>,
    pub contents: Vec<Vec<ContentPart>>,
    pub buckets: FxHashMap<Bucket, Vec<u32>>,
    /// Rules whose rightmost compound has no id, class or tag but which need the parent to
    /// have one (`td > :first-child`, `div.sidebar > :last-child`): filed under the
    /// parent's, so that only the children of such parents try them (see `parent_bucket`).
    pub parent_buckets: FxHashMap<Bucket, Vec<u32>>,
    pub any: Vec<u32>,
    /// Whether any rule has a `::before`/`::after`.
    pub has_pseudo: bool,
}

const MAX_IMPORT_DEPTH: usize = 8;

impl Sheets {
    /// Adds a stylesheet's rules (its `@import`s first, looked up in `sources`).
    pub fn add(&mut self, css: &str, url: Option<&Url>, sources: &StyleSources, media: Media) {
        let mut seen = Vec::new();
        self.add_nested(css, url, sources, media, 0, &mut seen);
    }

    fn add_nested(
        &mut self,
        css: &str,
        url: Option<&Url>,
        sources: &StyleSources,
        media: Media,
        depth: usize,
        seen: &mut Vec<String>,
    ) {
        // `@import`s come before any rule, so their rules go first in cascade order.
        for import in leading_imports(css, media) {
            if depth >= MAX_IMPORT_DEPTH {
                break;
            }
            let target = match url {
                Some(base) => base.join(&import).ok(),
                None => Url::parse(&import).ok(),
            };
            let Some(target) = target else {
                continue;
            };
            let key = without_fragment(&target);
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            if let Some(text) = sources.get(&target) {
                self.add_nested(&text, Some(&target), sources, media, depth + 1, seen);
            }
        }
        let mut parser_input = Parser::new(css);
        let mut top = TopParser {
            sheets: self,
            media,
        };
        for _ in StyleSheetParser::new(&mut parser_input, &mut top) {}
    }

    /// Parses a `style=""` attribute into declarations (returned, not filed as a rule).
    pub fn parse_inline(&mut self, css: &str) -> Vec<Decl> {
        let start = self.decls.len();
        let mut input = Parser::new(css);
        let mut parser = self.decl_parser();
        for _ in RuleBodyParser::new(&mut input, &mut parser) {}
        self.decls.split_off(start)
    }

    /// Parses declarations into this page's lists.
    fn decl_parser(&mut self) -> DeclParser<'_> {
        DeclParser {
            decls: &mut self.decls,
            contents: &mut self.contents,
        }
    }

    fn add_rule(&mut self, selectors: SelectorList<Simple>, decls: (u32, u32)) {
        for selector in selectors.slice() {
            let mut pseudo = None;
            let mut offset = 0;
            if selector.has_pseudo_element() {
                // The pseudo-element sits rightmost; match from just past it.
                for (i, c) in selector.iter_raw_match_order().enumerate() {
                    match c {
                        Component::PseudoElement(pe) => pseudo = Some(*pe),
                        Component::Combinator(_) => {
                            offset = i + 1;
                            break;
                        }
                        _ => {}
                    }
                }
                match pseudo {
                    Some(PseudoElement::Before | PseudoElement::After) => self.has_pseudo = true,
                    _ => continue,
                }
            }
            let index = self.rules.len() as u32;
            let bucket = bucket_of(selector, offset);
            self.rules.push(Rule {
                selector: selector.clone(),
                hashes: AncestorHashes::new(selector, QuirksMode::NoQuirks),
                pseudo,
                offset,
                specificity: selector.specificity(),
                order: index,
                decls,
            });
            match bucket {
                Bucket::Any => match parent_bucket(selector, offset) {
                    Bucket::Any => self.any.push(index),
                    b => self.parent_buckets.entry(b).or_default().push(index),
                },
                b => self.buckets.entry(b).or_default().push(index),
            }
        }
    }
}

fn bucket_of(selector: &Selector<Simple>, offset: usize) -> Bucket {
    let mut best = Bucket::Any;
    for c in selector.iter_from(offset) {
        match c {
            Component::ID(id) => return Bucket::Id(id.hash),
            Component::Class(class) => best = Bucket::Class(class.hash),
            Component::LocalName(name) if best == Bucket::Any => {
                best = Bucket::Tag(name.lower_name.hash)
            }
            _ => {}
        }
    }
    best
}

/// For a selector whose rightmost compound is then joined by `>`: the bucket of the compound
/// to its left, which the element's parent must match. Any: no such constraint.
///
/// A tag is used only when written in lowercase: the cascade looks the parent's tag up as
/// it is, and an element that is not HTML (SVG's `foreignObject`) matches a tag selector
/// case-sensitively — so a lowercase selector tag can only match a lowercase element tag,
/// whose hash is the one looked up, and no candidate that could match is missed.
fn parent_bucket(selector: &Selector<Simple>, offset: usize) -> Bucket {
    let mut iter = selector.iter_from(offset);
    for _ in iter.by_ref() {}
    if iter.next_sequence() != Some(Combinator::Child) {
        return Bucket::Any;
    }
    let mut best = Bucket::Any;
    for c in iter {
        match c {
            Component::ID(id) => return Bucket::Id(id.hash),
            Component::Class(class) => best = Bucket::Class(class.hash),
            Component::LocalName(name) if best == Bucket::Any && name.name == name.lower_name => {
                best = Bucket::Tag(name.lower_name.hash)
            }
            _ => {}
        }
    }
    best
}

struct TopParser<'s> {
    sheets: &'s mut Sheets,
    media: Media,
}

/// The URLs of the `@import` rules at the top of a stylesheet whose conditions hold.
pub fn leading_imports(css: &str, media: Media) -> Vec<String> {
    let mut input = Parser::new(css);
    let mut out = Vec::new();
    loop {
        let url = input.try_parse(|i| -> Result<Option<String>, ParseError<()>> {
            let name = match i.next() {
                Ok(Token::AtKeyword(name)) => name.to_ascii_lowercase(),
                _ => return Err(ParseError::custom(())),
            };
            match name.as_str() {
                "charset" | "layer" | "namespace" => {
                    i.parse_until_after(cssparser::Delimiter::Semicolon, |b| {
                        skip_rest(b);
                        Ok::<(), ParseError<()>>(())
                    })?;
                    Ok(None)
                }
                "import" => i.parse_until_after(cssparser::Delimiter::Semicolon, |b| {
                    let mut top = ImportPrelude { media };
                    top.prelude(b)
                }),
                _ => Err(ParseError::custom(())),
            }
        });
        match url {
            Ok(Some(url)) => out.push(url),
            Ok(None) => {}
            Err(_) => break,
        }
    }
    out
}

struct ImportPrelude {
    media: Media,
}

impl ImportPrelude {
    fn prelude(&mut self, input: &mut Parser<'_>) -> Result<Option<String>, ParseError<()>> {
        let url = input
            .expect_url_or_string()
            .map_err(|_| ParseError::custom(()))?
            .to_string();
        // Optional layer / layer(...) / supports(...) before the media list.
        let _ = input.try_parse(|i| -> Result<(), ParseError<()>> {
            match i.next().map_err(|_| ParseError::custom(()))? {
                Token::Ident(s) if s.eq_ignore_ascii_case("layer") => Ok(()),
                Token::Function(s) if s.eq_ignore_ascii_case("layer") => {
                    i.parse_nested_block(|b| {
                        skip_rest(b);
                        Ok::<(), ParseError<()>>(())
                    })
                }
                _ => Err(ParseError::custom(())),
            }
        });
        let supported = input
            .try_parse(|i| -> Result<bool, ParseError<()>> {
                i.expect_function_matching("supports")
                    .map_err(|_| ParseError::custom(()))?;
                i.parse_nested_block(|b| Ok::<bool, ParseError<()>>(supports_matches(b)))
            })
            .unwrap_or(true);
        Ok((supported && media_list_matches(input, self.media)).then_some(url))
    }
}

enum AtPrelude {
    /// A block whose rules apply (true) or not.
    Group(bool),
    Skip,
}

impl<'i> AtRuleParser<'i> for TopParser<'_> {
    type Prelude = AtPrelude;
    type AtRule = ();
    type Error = ();

    fn parse_prelude(
        &mut self,
        name: CowRcStr<'i>,
        input: &mut Parser<'i>,
    ) -> Result<AtPrelude, ParseError<()>> {
        let name = name.to_ascii_lowercase();
        let prelude = match name.as_str() {
            "media" => AtPrelude::Group(media_list_matches(input, self.media)),
            "supports" => AtPrelude::Group(supports_matches(input)),
            "layer" | "scope" => {
                skip_rest(input);
                AtPrelude::Group(true)
            }
            _ => {
                skip_rest(input);
                AtPrelude::Skip
            }
        };
        Ok(prelude)
    }

    fn rule_without_block(&mut self, _prelude: AtPrelude, _start: &ParserState) -> Result<(), ()> {
        Ok(())
    }

    fn parse_block(
        &mut self,
        prelude: AtPrelude,
        _start: &ParserState,
        input: &mut Parser<'i>,
    ) -> Result<(), ParseError<()>> {
        if let AtPrelude::Group(true) = prelude {
            let mut nested = TopParser {
                sheets: &mut *self.sheets,
                media: self.media,
            };
            for _ in StyleSheetParser::new(input, &mut nested) {}
        }
        Ok(())
    }
}

impl<'i> QualifiedRuleParser<'i> for TopParser<'_> {
    type Prelude = Option<SelectorList<Simple>>;
    type QualifiedRule = ();
    type Error = ();

    fn parse_prelude(&mut self, input: &mut Parser<'i>) -> Result<Self::Prelude, ParseError<()>> {
        // An invalid selector drops the rule (the block is still consumed).
        let list = SelectorList::parse(&select::Parser, input, ParseRelative::No)
            .map_err(|_: ParseError<SelectorParseErrorKind>| ())
            .ok();
        if list.is_none() {
            skip_rest(input);
        }
        Ok(list)
    }

    fn parse_block(
        &mut self,
        prelude: Self::Prelude,
        _start: &ParserState,
        input: &mut Parser<'i>,
    ) -> Result<(), ParseError<()>> {
        let Some(selectors) = prelude else {
            return Ok(());
        };
        let start = self.sheets.decls.len() as u32;
        let mut parser = self.sheets.decl_parser();
        for _ in RuleBodyParser::new(input, &mut parser) {}
        let end = self.sheets.decls.len() as u32;
        if end > start {
            self.sheets.add_rule(selectors, (start, end));
        }
        Ok(())
    }
}

/// `@supports`: browsers support nearly everything pages test for, so a condition holds
/// unless it is a plain `not (…)`.
fn supports_matches(input: &mut Parser<'_>) -> bool {
    let negated = input.try_parse(|i| i.expect_ident_matching("not")).is_ok();
    skip_rest(input);
    !negated
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::css::{ContentPart, Media, StyleSources};

    #[test]
    fn rules_and_declarations() {
        let mut sheets = Sheets::default();
        let css = "a.headerlink { visibility: hidden } \
                   @media print { p { display: none } } \
                   div, span:hover { display: none !important; } \
                   p:no-such-thing { display: none } \
                   p::before { content: \"» \" attr(title) } \
                   li { list-style: square inside; margin: 0 }";
        sheets.add(css, None, &StyleSources::new(), Media::for_columns(80));
        let count = sheets.rules.len();
        assert_eq!(count, 5, "{count} rules");
        assert!(sheets.decls.iter().any(|d| d.important));
        assert_eq!(
            sheets.contents[0],
            vec![
                ContentPart::Text("» ".into()),
                ContentPart::Attr("title".into())
            ]
        );
        let inline = sheets.parse_inline("display: none; color: red; white-space: pre");
        assert_eq!(inline.len(), 2);
    }
}
