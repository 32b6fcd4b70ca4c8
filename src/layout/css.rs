//! Author CSS: stylesheets parsed with `cssparser` into rules whose selectors are Servo's
//! `selectors`, keeping only the properties that change what text a terminal shows and how
//! it flows. Media queries are evaluated here, for a screen `columns × 8` px wide.
//! Anything not understood is skipped, never fatal (CSS's own error recovery).

use cssparser::{
    AtRuleParser, CowRcStr, DeclarationParser, ParseError, Parser, ParserState,
    QualifiedRuleParser, RuleBodyItemParser, RuleBodyParser, StyleSheetParser, Token,
};
use selectors::matching::{matches_selector, MatchingContext, QuirksMode};
use selectors::parser::{
    AncestorHashes, Combinator, Component, ParseRelative, Selector, SelectorList,
    SelectorParseErrorKind,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use rustc_hash::FxHashMap;
use url::Url;

use super::select::{self, El, PseudoElement, Simple};
use super::values::{Display, ListStyle, Transform, WhiteSpace};

/// The screen media queries are evaluated for.
#[derive(Clone, Copy, Debug)]
pub struct Media {
    pub width_px: f32,
    pub height_px: f32,
}

/// The narrowest screen media queries see, in CSS px: a desktop browser window.
///
/// A column is 8 px, but a terminal of 80 columns is not a phone: below desktop widths,
/// pages switch to mobile layouts that hide their menus and tables of contents behind
/// buttons that need JavaScript, which minibrowse does not run. So the media queries see
/// at least a 1000 px window (the width the fidelity references were taken at, too).
pub const MIN_SCREEN_PX: f32 = 1000.0;

impl Media {
    /// The screen for a terminal `columns` wide: 8 px a column, at least [`MIN_SCREEN_PX`].
    pub fn for_columns(columns: usize) -> Media {
        Media {
            width_px: (columns as f32 * 8.0).max(MIN_SCREEN_PX),
            height_px: 800.0,
        }
    }
}

/// A declaration minibrowse uses.
#[derive(Clone, Debug, PartialEq)]
pub enum Prop {
    Display(Display),
    Visible(bool),
    WhiteSpace(WhiteSpace),
    ListStyle(ListStyle),
    Transform(Transform),
    Bold(bool),
    Italic(bool),
    Underline(bool),
    MarginTop(bool),
    MarginBottom(bool),
    /// Index into [`Sheets::contents`]; None for `content: none | normal`.
    Content(Option<u32>),
}

#[derive(Clone, Debug)]
pub struct Decl {
    pub prop: Prop,
    pub important: bool,
}

/// A part of a `content` value.
#[derive(Clone, Debug, PartialEq)]
pub enum ContentPart {
    Text(String),
    Attr(String),
    OpenQuote,
    CloseQuote,
}

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

/// The stylesheets' text, by URL: what the asset walk fetched (and, for a page that is a
/// local file, the local files it links, read when the layout asks for them).
#[derive(Clone, Debug, Default)]
pub struct StyleSources {
    sheets: RefCell<HashMap<String, Option<Rc<str>>>>,
    local_files: bool,
}

/// The largest local stylesheet read, and how many at most.
const MAX_LOCAL_SHEET: u64 = 4 * 1024 * 1024;
const MAX_LOCAL_SHEETS: usize = 64;

impl StyleSources {
    pub fn new() -> StyleSources {
        StyleSources::default()
    }

    /// Sources that also read `file:` stylesheets from disk (only for pages that are local
    /// files themselves: a remote page never makes minibrowse read local files).
    pub fn with_local_files() -> StyleSources {
        StyleSources {
            local_files: true,
            ..StyleSources::default()
        }
    }

    pub fn insert(&mut self, url: &Url, text: String) {
        self.sheets
            .get_mut()
            .insert(without_fragment(url), Some(text.into()));
    }

    /// The text of the stylesheet at `url`, if it was fetched (or is a readable local file).
    pub fn get(&self, url: &Url) -> Option<Rc<str>> {
        let key = without_fragment(url);
        if let Some(found) = self.sheets.borrow().get(&key) {
            return found.clone();
        }
        if !self.local_files || url.scheme() != "file" {
            return None;
        }
        let read = self.sheets.borrow().len() < MAX_LOCAL_SHEETS;
        let text = read.then(|| read_local(url)).flatten();
        self.sheets.borrow_mut().insert(key, text.clone());
        text
    }

    pub fn contains(&self, url: &Url) -> bool {
        self.sheets.borrow().contains_key(&without_fragment(url))
    }

    pub fn len(&self) -> usize {
        self.sheets.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.sheets.borrow().is_empty()
    }
}

fn read_local(url: &Url) -> Option<Rc<str>> {
    use std::io::Read;
    let path = url.to_file_path().ok()?;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_LOCAL_SHEET).read_to_end(&mut bytes).ok()?;
    Some(encoding_rs::UTF_8.decode(&bytes).0.into())
}

fn without_fragment(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    url.to_string()
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
        let mut parser = DeclParser { sheets: self };
        for _ in RuleBodyParser::new(&mut input, &mut parser) {}
        self.decls.split_off(start)
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
        let mut parser = DeclParser {
            sheets: &mut *self.sheets,
        };
        for _ in RuleBodyParser::new(input, &mut parser) {}
        let end = self.sheets.decls.len() as u32;
        if end > start {
            self.sheets.add_rule(selectors, (start, end));
        }
        Ok(())
    }
}

fn skip_rest(input: &mut Parser<'_>) {
    while input.next().is_ok() {}
}

struct DeclParser<'s> {
    sheets: &'s mut Sheets,
}

impl<'i> DeclarationParser<'i> for DeclParser<'_> {
    type Declaration = ();
    type Error = ();

    fn parse_value(
        &mut self,
        name: CowRcStr<'i>,
        input: &mut Parser<'i>,
        _start: &ParserState,
    ) -> Result<(), ParseError<()>> {
        let name = name.to_ascii_lowercase();
        let props = parse_property(&name, input, self.sheets).ok_or(ParseError::custom(()))?;
        let important = input.try_parse(cssparser::parse_important).is_ok();
        input
            .expect_exhausted()
            .map_err(|_| ParseError::custom(()))?;
        for prop in props {
            self.sheets.decls.push(Decl { prop, important });
        }
        Ok(())
    }
}

impl<'i> AtRuleParser<'i> for DeclParser<'_> {
    type Prelude = ();
    type AtRule = ();
    type Error = ();
}

impl<'i> QualifiedRuleParser<'i> for DeclParser<'_> {
    type Prelude = ();
    type QualifiedRule = ();
    type Error = ();
}

impl<'i> RuleBodyItemParser<'i, (), ()> for DeclParser<'_> {
    fn parse_declarations(&self) -> bool {
        true
    }
    fn parse_qualified(&self) -> bool {
        false
    }
}

/// The idents of a value, lowercased, up to `!important`; None if anything else comes.
fn idents(input: &mut Parser<'_>) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let state = input.state();
        match input.next() {
            Ok(Token::Ident(s)) => out.push(s.to_ascii_lowercase()),
            Ok(_) => {
                input.reset(&state);
                return out;
            }
            Err(_) => return out,
        }
    }
}

/// Skips the rest of a value up to `!important` (left for the caller).
fn rest_tokens<'i>(input: &mut Parser<'i>) -> Vec<Token<'i>> {
    let mut out = Vec::new();
    loop {
        let state = input.state();
        match input.next() {
            Ok(Token::Delim('!')) => {
                input.reset(&state);
                return out;
            }
            Ok(t) => {
                let t = t.clone();
                if matches!(
                    t,
                    Token::Function(_)
                        | Token::ParenthesisBlock
                        | Token::SquareBracketBlock
                        | Token::CurlyBracketBlock
                ) {
                    let _ = input.parse_nested_block(|b| {
                        skip_rest(b);
                        Ok::<(), ParseError<()>>(())
                    });
                }
                out.push(t);
            }
            Err(_) => return out,
        }
    }
}

fn parse_property(name: &str, input: &mut Parser<'_>, sheets: &mut Sheets) -> Option<Vec<Prop>> {
    let one = |p: Prop| Some(vec![p]);
    match name {
        "display" => {
            let words = idents(input);
            one(Prop::Display(display_from(&words)?))
        }
        "visibility" => match idents(input).as_slice() {
            [v] if v == "visible" => one(Prop::Visible(true)),
            [v] if v == "hidden" || v == "collapse" => one(Prop::Visible(false)),
            _ => None,
        },
        "white-space" => {
            let words = idents(input);
            let ws = match words.first().map(|s| s.as_str())? {
                "normal" => WhiteSpace::Normal,
                "nowrap" => WhiteSpace::Nowrap,
                "pre" => WhiteSpace::Pre,
                "pre-wrap" | "break-spaces" => WhiteSpace::PreWrap,
                "pre-line" => WhiteSpace::PreLine,
                "collapse" => WhiteSpace::Normal,
                "preserve" => WhiteSpace::PreWrap,
                _ => return None,
            };
            one(Prop::WhiteSpace(ws))
        }
        "list-style-type" => {
            if let Ok(s) = input.try_parse(|i| i.expect_string().map(|s| s.to_string())) {
                return one(Prop::ListStyle(ListStyle::from_string(&s)));
            }
            let words = idents(input);
            one(Prop::ListStyle(ListStyle::from_keyword(words.first()?)?))
        }
        "list-style" => {
            let tokens = rest_tokens(input);
            let mut found = None;
            let mut none = false;
            for t in &tokens {
                match t {
                    Token::Ident(s) => {
                        let s = s.to_ascii_lowercase();
                        if s == "none" {
                            none = true;
                        } else if let Some(ls) = ListStyle::from_keyword(&s) {
                            found = Some(ls);
                        }
                    }
                    Token::QuotedString(s) => found = Some(ListStyle::from_string(s)),
                    _ => {}
                }
            }
            let ls = found.or(none.then_some(ListStyle::None))?;
            one(Prop::ListStyle(ls))
        }
        "text-transform" => {
            let words = idents(input);
            let t = match words.first().map(|s| s.as_str())? {
                "none" => Transform::None,
                "uppercase" => Transform::Upper,
                "lowercase" => Transform::Lower,
                "capitalize" => Transform::Capitalize,
                _ => return None,
            };
            one(Prop::Transform(t))
        }
        "font-weight" => {
            let tokens = rest_tokens(input);
            match tokens.first()? {
                Token::Ident(s) => match s.to_ascii_lowercase().as_str() {
                    "bold" | "bolder" => one(Prop::Bold(true)),
                    "normal" | "lighter" => one(Prop::Bold(false)),
                    _ => None,
                },
                Token::Number { value, .. } => one(Prop::Bold(*value >= 600.0)),
                _ => None,
            }
        }
        "font-style" => match idents(input).first().map(|s| s.as_str())? {
            "italic" | "oblique" => one(Prop::Italic(true)),
            "normal" => one(Prop::Italic(false)),
            _ => None,
        },
        "font" => {
            let tokens = rest_tokens(input);
            let mut bold = false;
            let mut italic = false;
            for t in &tokens {
                match t {
                    Token::Ident(s) => match s.to_ascii_lowercase().as_str() {
                        "bold" | "bolder" => bold = true,
                        "italic" | "oblique" => italic = true,
                        "inherit" | "initial" | "unset" | "revert" => return None,
                        _ => {}
                    },
                    Token::Number { value, .. } if *value >= 600.0 && *value <= 1000.0 => {
                        bold = true
                    }
                    _ => {}
                }
            }
            Some(vec![Prop::Bold(bold), Prop::Italic(italic)])
        }
        "text-decoration" | "text-decoration-line" => {
            let tokens = rest_tokens(input);
            let mut underline = false;
            for t in &tokens {
                if let Token::Ident(s) = t {
                    if s.eq_ignore_ascii_case("underline") {
                        underline = true;
                    } else if s.eq_ignore_ascii_case("inherit") {
                        return None;
                    }
                }
            }
            one(Prop::Underline(underline))
        }
        "margin" | "margin-block" => {
            let tokens = rest_tokens(input);
            let lengths: Vec<Option<f32>> = tokens.iter().map(length_px).collect();
            if lengths.is_empty() || lengths.len() > 4 {
                return None;
            }
            let top = lengths[0];
            let bottom = if name == "margin-block" {
                lengths.get(1).copied().unwrap_or(top)
            } else {
                lengths.get(2).copied().unwrap_or(top)
            };
            Some(vec![
                Prop::MarginTop(top? >= 8.0),
                Prop::MarginBottom(bottom? >= 8.0),
            ])
        }
        "margin-top" | "margin-block-start" => {
            let tokens = rest_tokens(input);
            let [t] = tokens.as_slice() else { return None };
            one(Prop::MarginTop(length_px(t)? >= 8.0))
        }
        "margin-bottom" | "margin-block-end" => {
            let tokens = rest_tokens(input);
            let [t] = tokens.as_slice() else { return None };
            one(Prop::MarginBottom(length_px(t)? >= 8.0))
        }
        "content" => parse_content(input, sheets).map(|c| vec![Prop::Content(c)]),
        _ => None,
    }
}

/// A length in px for margins (percentages and `auto` count as zero).
fn length_px(t: &Token<'_>) -> Option<f32> {
    match t {
        Token::Number { value, .. } => Some(value.max(0.0)),
        Token::Dimension { value, unit, .. } => {
            let v = value.max(0.0);
            Some(match unit.to_ascii_lowercase().as_str() {
                "px" => v,
                "em" | "rem" | "lh" | "rlh" => v * 16.0,
                "ex" | "ch" => v * 8.0,
                "pt" => v * 4.0 / 3.0,
                "pc" => v * 16.0,
                "in" => v * 96.0,
                "cm" => v * 37.8,
                "mm" => v * 3.78,
                _ => 0.0,
            })
        }
        Token::Percentage { .. } => Some(0.0),
        Token::Ident(s) if s.eq_ignore_ascii_case("auto") => Some(0.0),
        Token::Function(_) => Some(0.0),
        _ => None,
    }
}

fn parse_content(input: &mut Parser<'_>, sheets: &mut Sheets) -> Option<Option<u32>> {
    let mut parts = Vec::new();
    loop {
        let state = input.state();
        let token = match input.next() {
            Ok(t) => t.clone(),
            Err(_) => break,
        };
        match token {
            Token::QuotedString(s) => parts.push(ContentPart::Text(s.to_string())),
            Token::Ident(s) => match s.to_ascii_lowercase().as_str() {
                "none" | "normal" => return Some(None),
                "open-quote" => parts.push(ContentPart::OpenQuote),
                "close-quote" => parts.push(ContentPart::CloseQuote),
                "no-open-quote" | "no-close-quote" => {}
                _ => return None,
            },
            Token::Function(f) => {
                let f = f.to_ascii_lowercase();
                let attr = input
                    .parse_nested_block(|b| {
                        let name = if f == "attr" {
                            b.expect_ident().ok().map(|s| s.to_ascii_lowercase())
                        } else {
                            None
                        };
                        skip_rest(b);
                        Ok::<_, ParseError<()>>(name)
                    })
                    .ok()
                    .flatten();
                if let Some(name) = attr {
                    parts.push(ContentPart::Attr(name));
                }
                // counter(), url(), image functions: nothing a terminal can show
            }
            Token::UnquotedUrl(_) => {}
            Token::Delim('/') => {
                // alt text after a slash: `content: url(x) / "alt"`; keep what came before
                skip_rest_until_important(input);
                break;
            }
            Token::Delim('!') => {
                input.reset(&state);
                break;
            }
            _ => return None,
        }
    }
    let index = sheets.contents.len() as u32;
    sheets.contents.push(parts);
    Some(Some(index))
}

fn skip_rest_until_important(input: &mut Parser<'_>) {
    let _ = rest_tokens(input);
}

fn display_from(words: &[String]) -> Option<Display> {
    let has = |w: &str| words.iter().any(|x| x == w);
    let first = words.first()?.as_str();
    Some(match first {
        "none" => Display::None,
        "contents" => Display::Contents,
        _ if has("list-item") => Display::ListItem,
        "inline" if words.len() > 1 && !has("flow") => Display::InlineBlock,
        "inline" => Display::Inline,
        "block" | "flex" | "grid" | "flow-root" | "run-in" | "-webkit-box" | "-ms-flexbox"
        | "-webkit-flex" | "-ms-grid" | "flow" => Display::Block,
        "inline-block"
        | "inline-flex"
        | "inline-grid"
        | "inline-flow-root"
        | "-webkit-inline-box"
        | "-webkit-inline-flex"
        | "-ms-inline-flexbox" => Display::InlineBlock,
        "table" | "inline-table" => Display::Table,
        "table-row-group" => Display::RowGroup,
        "table-header-group" => Display::HeaderGroup,
        "table-footer-group" => Display::FooterGroup,
        "table-row" => Display::Row,
        "table-cell" => Display::Cell,
        "table-caption" => Display::Caption,
        "table-column" | "table-column-group" => Display::Column,
        "ruby"
        | "ruby-base"
        | "ruby-text"
        | "ruby-base-container"
        | "ruby-text-container"
        | "math" => Display::Inline,
        _ => return None,
    })
}

/// Evaluates a media query list (`screen and (min-width: 40em), print`); empty = all.
pub fn media_list_matches(input: &mut Parser<'_>, media: Media) -> bool {
    if input.is_exhausted() {
        return true;
    }
    let mut any = false;
    loop {
        let one = input
            .parse_until_before(cssparser::Delimiter::Comma, |i| {
                let v = media_query(i, media);
                skip_rest(i);
                Ok::<bool, ParseError<()>>(v)
            })
            .unwrap_or(false);
        any |= one;
        match input.next() {
            Ok(Token::Comma) => continue,
            _ => break,
        }
    }
    any
}

/// The same for a `media=""` attribute's text.
pub fn media_attr_matches(text: &str, media: Media) -> bool {
    let mut input = Parser::new(text);
    media_list_matches(&mut input, media)
}

fn media_query(input: &mut Parser<'_>, media: Media) -> bool {
    let mut negate = false;
    let state = input.state();
    match input.next() {
        Ok(Token::Ident(s)) => {
            let s = s.to_ascii_lowercase();
            let type_ok = match s.as_str() {
                "not" => {
                    negate = true;
                    match input.next() {
                        Ok(Token::Ident(t)) => media_type(&t.to_ascii_lowercase()),
                        _ => {
                            // `not (condition)`
                            input.reset(&state);
                            return media_condition(input, media);
                        }
                    }
                }
                "only" => match input.next() {
                    Ok(Token::Ident(t)) => media_type(&t.to_ascii_lowercase()),
                    _ => return false,
                },
                t => media_type(t),
            };
            // then: and (feature) and ...
            let mut ok = type_ok;
            loop {
                match input.next() {
                    Ok(Token::Ident(s)) if s.eq_ignore_ascii_case("and") => {
                        ok &= media_in_parens(input, media);
                    }
                    Ok(_) => return false,
                    Err(_) => break,
                }
            }
            ok != negate
        }
        Ok(_) => {
            input.reset(&state);
            media_condition(input, media)
        }
        Err(_) => true,
    }
}

fn media_type(t: &str) -> bool {
    matches!(t, "all" | "screen")
}

/// `<media-condition>`: `not X`, `X and Y and …`, `X or Y or …`.
fn media_condition(input: &mut Parser<'_>, media: Media) -> bool {
    if input.try_parse(|i| i.expect_ident_matching("not")).is_ok() {
        return !media_in_parens(input, media);
    }
    let mut value = media_in_parens(input, media);
    loop {
        match input.next() {
            Ok(Token::Ident(s)) if s.eq_ignore_ascii_case("and") => {
                value &= media_in_parens(input, media)
            }
            Ok(Token::Ident(s)) if s.eq_ignore_ascii_case("or") => {
                value |= media_in_parens(input, media)
            }
            Ok(_) => return false,
            Err(_) => return value,
        }
    }
}

fn media_in_parens(input: &mut Parser<'_>, media: Media) -> bool {
    match input.next() {
        Ok(Token::ParenthesisBlock) => input
            .parse_nested_block(|b| {
                let state = b.state();
                // A nested condition, or a feature.
                let nested = matches!(b.next(), Ok(Token::ParenthesisBlock))
                    || matches!(b.next(), Ok(Token::Ident(ref s)) if s.eq_ignore_ascii_case("not"));
                b.reset(&state);
                let v = if nested {
                    media_condition(b, media)
                } else {
                    media_feature(b, media)
                };
                skip_rest(b);
                Ok::<bool, ParseError<()>>(v)
            })
            .unwrap_or(false),
        _ => false,
    }
}

/// A value for a media feature: a length in px, a number or a keyword.
#[derive(Debug)]
enum FeatureValue {
    Num(f32),
    Word(String),
}

fn feature_value(t: &Token<'_>) -> Option<FeatureValue> {
    match t {
        Token::Number { value, .. } => Some(FeatureValue::Num(*value)),
        Token::Dimension { value, unit, .. } => {
            let u = unit.to_ascii_lowercase();
            let v = *value;
            Some(FeatureValue::Num(match u.as_str() {
                "px" => v,
                "em" | "rem" => v * 16.0,
                "ex" | "ch" => v * 8.0,
                "pt" => v * 4.0 / 3.0,
                "in" => v * 96.0,
                "cm" => v * 37.8,
                "mm" => v * 3.78,
                "dppx" | "x" => v,
                "dpi" => v / 96.0,
                "dpcm" => v * 2.54 / 96.0,
                "vw" | "vh" => return None,
                _ => return None,
            }))
        }
        Token::Ident(s) => Some(FeatureValue::Word(s.to_ascii_lowercase())),
        _ => None,
    }
}

fn media_feature(input: &mut Parser<'_>, media: Media) -> bool {
    let tokens: Vec<Token<'_>> = {
        let mut v = Vec::new();
        while let Ok(t) = input.next() {
            v.push(t.clone());
        }
        v
    };
    let num_of = |name: &str| -> Option<f32> {
        Some(match name {
            "width" | "device-width" => media.width_px,
            "height" | "device-height" => media.height_px,
            "aspect-ratio" | "device-aspect-ratio" => media.width_px / media.height_px,
            "resolution" | "-webkit-device-pixel-ratio" | "device-pixel-ratio" => 1.0,
            "color" => 8.0,
            "monochrome" | "grid" => 0.0,
            "color-index" => 0.0,
            _ => return None,
        })
    };
    match tokens.as_slice() {
        [Token::Ident(name)] => {
            let name = name.to_ascii_lowercase();
            matches!(
                name.as_str(),
                "color" | "hover" | "any-hover" | "pointer" | "any-pointer" | "width" | "height"
            )
        }
        [Token::Ident(name), Token::Colon, value @ ..] => {
            let name = name.to_ascii_lowercase();
            let Some(value) = value.first().and_then(feature_value) else {
                return false;
            };
            let (prefix, base) = if let Some(b) = name.strip_prefix("min-") {
                ("min", b)
            } else if let Some(b) = name.strip_prefix("max-") {
                ("max", b)
            } else if let Some(b) = name.strip_prefix("-webkit-min-") {
                ("min", b)
            } else if let Some(b) = name.strip_prefix("-webkit-max-") {
                ("max", b)
            } else {
                ("", name.as_str())
            };
            if let (FeatureValue::Num(v), Some(actual)) = (&value, num_of(base)) {
                // aspect-ratio: 16/9 comes as number, delim, number; approximate by first
                return match prefix {
                    "min" => actual >= *v,
                    "max" => actual <= *v,
                    _ => (actual - v).abs() < 0.5,
                };
            }
            let FeatureValue::Word(word) = value else {
                return false;
            };
            match (base, word.as_str()) {
                ("orientation", w) => (w == "landscape") == (media.width_px >= media.height_px),
                ("prefers-color-scheme", w) => w == "light",
                ("prefers-reduced-motion", w) => w == "no-preference",
                ("prefers-contrast", w) => w == "no-preference",
                ("prefers-reduced-transparency", w) => w == "no-preference",
                ("forced-colors", w) => w == "none",
                ("inverted-colors", w) => w == "none",
                ("hover" | "any-hover", w) => w == "hover",
                ("pointer" | "any-pointer", w) => w == "fine",
                ("scripting", w) => w == "none",
                ("display-mode", w) => w == "browser",
                ("update", w) => w == "fast",
                ("overflow-block", w) => w == "scroll",
                ("overflow-inline", w) => w == "scroll",
                ("color-gamut", w) => w == "srgb",
                ("dynamic-range" | "video-dynamic-range", w) => w == "standard",
                _ => false,
            }
        }
        _ => range_feature(&tokens, &num_of),
    }
}

/// Level 4 ranges: `(width >= 600px)`, `(400px < width <= 700px)`.
fn range_feature(tokens: &[Token<'_>], num_of: &dyn Fn(&str) -> Option<f32>) -> bool {
    // Split into operands and operators.
    let mut operands: Vec<Option<f32>> = Vec::new();
    let mut ops: Vec<String> = Vec::new();
    let mut i = 0;
    let mut name_seen = false;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Delim(c @ ('<' | '>' | '=')) => {
                let mut op = c.to_string();
                if let Some(Token::Delim('=')) = tokens.get(i + 1) {
                    op.push('=');
                    i += 1;
                }
                ops.push(op);
            }
            Token::Ident(s) => {
                let name = s.to_ascii_lowercase();
                match num_of(&name) {
                    Some(v) => {
                        name_seen = true;
                        operands.push(Some(v));
                    }
                    None => return false,
                }
            }
            t => match feature_value(t) {
                Some(FeatureValue::Num(v)) => operands.push(Some(v)),
                _ => return false,
            },
        }
        i += 1;
    }
    if !name_seen || operands.len() != ops.len() + 1 || ops.is_empty() {
        return false;
    }
    ops.iter().enumerate().all(|(k, op)| {
        let (Some(a), Some(b)) = (operands[k], operands[k + 1]) else {
            return false;
        };
        match op.as_str() {
            "<" => a < b,
            "<=" => a <= b,
            ">" => a > b,
            ">=" => a >= b,
            "=" => (a - b).abs() < 0.5,
            _ => false,
        }
    })
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

    fn media(text: &str, width: f32) -> bool {
        media_attr_matches(
            text,
            Media {
                width_px: width,
                height_px: 800.0,
            },
        )
    }

    #[test]
    fn media_queries() {
        assert!(media("", 640.0));
        assert!(media("screen", 640.0));
        assert!(!media("print", 640.0));
        assert!(media("screen, print", 640.0));
        assert!(media("(max-width: 1023px)", 640.0));
        assert!(!media("(min-width: 1024px)", 640.0));
        assert!(media("only screen and (min-width: 30em)", 640.0));
        assert!(!media("not screen", 640.0));
        assert!(media("not print", 640.0));
        assert!(media("(width >= 600px)", 640.0));
        assert!(!media("(400px <= width <= 600px)", 640.0));
        assert!(media("(prefers-color-scheme: light)", 640.0));
        assert!(!media("(prefers-color-scheme: dark)", 640.0));
        assert!(media("(min-width: 500px) and (max-width: 700px)", 640.0));
        assert!(!media("(min-width: 500px) and (max-width: 600px)", 640.0));
        assert!(media("not (max-width: 600px)", 640.0));
        assert!(!media("(unknown-feature: 3)", 640.0));
    }

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
