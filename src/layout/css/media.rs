//! Media queries (Media Queries level 4, with its ranges) evaluated for the screen a
//! terminal stands for: `@media`, `@import … screen`, and `media=""` on `<style>` and
//! `<link>`.

use cssparser::{ParseError, Parser, Token};

use super::skip_rest;

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
}
