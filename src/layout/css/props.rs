//! Declarations: the properties minibrowse uses, parsed from a declaration block into
//! computed values (`layout::values`); any other property, or a value not
//! understood, is dropped as CSS's error recovery says.

use cssparser::{
    AtRuleParser, CowRcStr, DeclarationParser, ParseError, Parser, ParserState,
    QualifiedRuleParser, RuleBodyItemParser, Token,
};

use super::skip_rest;
use crate::layout::values::{Display, ListStyle, Transform, WhiteSpace};

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
    /// Index into `Sheets::contents`; None for `content: none | normal`.
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

/// Parses a declaration block (a rule's or a `style=""` attribute's) into `decls`, the
/// `content` values it holds into `contents` (where `Prop::Content` points).
pub(super) struct DeclParser<'s> {
    pub(super) decls: &'s mut Vec<Decl>,
    pub(super) contents: &'s mut Vec<Vec<ContentPart>>,
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
        let props = parse_property(&name, input, self.contents).ok_or(ParseError::custom(()))?;
        let important = input.try_parse(cssparser::parse_important).is_ok();
        input
            .expect_exhausted()
            .map_err(|_| ParseError::custom(()))?;
        for prop in props {
            self.decls.push(Decl { prop, important });
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

/// The declarations a property's value gives (a shorthand gives several), None when it is
/// not one minibrowse uses or its value is not understood.
fn parse_property(
    name: &str,
    input: &mut Parser<'_>,
    contents: &mut Vec<Vec<ContentPart>>,
) -> Option<Vec<Prop>> {
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
        "list-style" => list_style_shorthand(input),
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
        "font" => font_shorthand(input),
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
        "margin" | "margin-block" => margin_shorthand(name, input),
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
        "content" => parse_content(input, contents).map(|c| vec![Prop::Content(c)]),
        _ => None,
    }
}

/// `list-style`: its type (a keyword or a string) wherever it comes; `none` alone means
/// no marker (it may also be the image).
fn list_style_shorthand(input: &mut Parser<'_>) -> Option<Vec<Prop>> {
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
    Some(vec![Prop::ListStyle(ls)])
}

/// `font`: bold and italic as the shorthand sets them (what it leaves out is reset).
fn font_shorthand(input: &mut Parser<'_>) -> Option<Vec<Prop>> {
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
            Token::Number { value, .. } if *value >= 600.0 && *value <= 1000.0 => bold = true,
            _ => {}
        }
    }
    Some(vec![Prop::Bold(bold), Prop::Italic(italic)])
}

/// `margin`, `margin-block`: whether the top and bottom margins are at least 8 px (a
/// terminal shows a margin as a blank line or not at all).
fn margin_shorthand(name: &str, input: &mut Parser<'_>) -> Option<Vec<Prop>> {
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

/// A `content` value, added to `contents`: its index there, None for `none`/`normal`.
fn parse_content(
    input: &mut Parser<'_>,
    contents: &mut Vec<Vec<ContentPart>>,
) -> Option<Option<u32>> {
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
    let index = contents.len() as u32;
    contents.push(parts);
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
