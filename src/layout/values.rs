//! Computed values: what the cascade (`style`) gives each element, for the properties
//! minibrowse uses, and what the box builder reads. Apart from the cascade so that the CSS
//! parser (whose declarations carry these values) and the style sharing cache (which keeps
//! whole styles) can name them without depending on the cascade itself.

use super::tree::NONE;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    None,
    Inline,
    Block,
    ListItem,
    InlineBlock,
    Table,
    RowGroup,
    HeaderGroup,
    FooterGroup,
    Row,
    Cell,
    Caption,
    Column,
    Contents,
}

impl Display {
    /// Starts a block of its own (a line break before and after).
    pub fn is_block_level(self) -> bool {
        !matches!(
            self,
            Display::None | Display::Inline | Display::InlineBlock | Display::Contents
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhiteSpace {
    Normal,
    Nowrap,
    Pre,
    PreWrap,
    PreLine,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListStyle {
    Disc,
    Circle,
    Square,
    Decimal,
    DecimalLeadingZero,
    LowerAlpha,
    UpperAlpha,
    LowerRoman,
    UpperRoman,
    LowerGreek,
    DisclosureOpen,
    DisclosureClosed,
    Dash,
    None,
}

impl ListStyle {
    pub fn from_keyword(k: &str) -> Option<ListStyle> {
        Some(match k {
            "disc" => ListStyle::Disc,
            "circle" => ListStyle::Circle,
            "square" => ListStyle::Square,
            "decimal" | "cjk-decimal" | "arabic-indic" | "persian" | "devanagari" | "bengali"
            | "thai" => ListStyle::Decimal,
            "decimal-leading-zero" => ListStyle::DecimalLeadingZero,
            "lower-alpha" | "lower-latin" => ListStyle::LowerAlpha,
            "upper-alpha" | "upper-latin" => ListStyle::UpperAlpha,
            "lower-roman" => ListStyle::LowerRoman,
            "upper-roman" => ListStyle::UpperRoman,
            "lower-greek" => ListStyle::LowerGreek,
            "disclosure-open" => ListStyle::DisclosureOpen,
            "disclosure-closed" => ListStyle::DisclosureClosed,
            "none" => ListStyle::None,
            _ => return None,
        })
    }

    /// `list-style-type: "…"`: a dash-like string becomes a dash, anything else a bullet.
    pub fn from_string(s: &str) -> ListStyle {
        match s.trim() {
            "" => ListStyle::None,
            "-" | "–" | "—" => ListStyle::Dash,
            _ => ListStyle::Disc,
        }
    }

    /// The marker for the `n`th item, with its trailing space.
    pub fn marker(self, n: i64) -> String {
        match self {
            ListStyle::Disc => "• ".into(),
            ListStyle::Circle => "◦ ".into(),
            ListStyle::Square => "▪ ".into(),
            ListStyle::Dash => "- ".into(),
            ListStyle::DisclosureOpen => "▾ ".into(),
            ListStyle::DisclosureClosed => "▸ ".into(),
            ListStyle::None => String::new(),
            ListStyle::Decimal => format!("{n}. "),
            ListStyle::DecimalLeadingZero => format!("{n:02}. "),
            ListStyle::LowerAlpha => format!("{}. ", alpha(n, b'a')),
            ListStyle::UpperAlpha => format!("{}. ", alpha(n, b'A')),
            ListStyle::LowerRoman => format!("{}. ", roman(n).to_lowercase()),
            ListStyle::UpperRoman => format!("{}. ", roman(n)),
            ListStyle::LowerGreek => {
                let letters = "αβγδεζηθικλμνξοπρστυφχψω";
                let i = (n - 1).rem_euclid(24) as usize;
                format!("{}. ", letters.chars().nth(i).unwrap_or('α'))
            }
        }
    }

    pub fn is_ordered(self) -> bool {
        !matches!(
            self,
            ListStyle::Disc
                | ListStyle::Circle
                | ListStyle::Square
                | ListStyle::Dash
                | ListStyle::DisclosureOpen
                | ListStyle::DisclosureClosed
                | ListStyle::None
        )
    }
}

fn alpha(n: i64, base: u8) -> String {
    if n <= 0 {
        return n.to_string();
    }
    let mut n = n;
    let mut out = Vec::new();
    while n > 0 {
        n -= 1;
        out.push(base + (n % 26) as u8);
        n /= 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn roman(n: i64) -> String {
    if !(1..4000).contains(&n) {
        return n.to_string();
    }
    let table = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut n = n;
    let mut out = String::new();
    for (v, s) in table {
        while n >= v {
            out.push_str(s);
            n -= v;
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transform {
    None,
    Upper,
    Lower,
    Capitalize,
}

/// The computed style of one element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    pub display: Display,
    pub visible: bool,
    pub white_space: WhiteSpace,
    pub list_style: ListStyle,
    pub transform: Transform,
    pub bold: bool,
    pub italic: bool,
    pub underline: bool,
    pub code: bool,
    pub heading: bool,
    pub margin_top: bool,
    pub margin_bottom: bool,
    /// `::before` / `::after` content: an index into `Sheets::contents`, or NONE.
    pub before: u32,
    pub after: u32,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            display: Display::Inline,
            visible: true,
            white_space: WhiteSpace::Normal,
            list_style: ListStyle::Disc,
            transform: Transform::None,
            bold: false,
            italic: false,
            underline: false,
            code: false,
            heading: false,
            margin_top: false,
            margin_bottom: false,
            before: NONE,
            after: NONE,
        }
    }
}

impl Style {
    /// What a child starts from: the inherited properties.
    pub fn inherit(&self) -> Style {
        Style {
            visible: self.visible,
            white_space: self.white_space,
            list_style: self.list_style,
            transform: self.transform,
            bold: self.bold,
            italic: self.italic,
            underline: self.underline,
            code: self.code,
            heading: self.heading,
            ..Style::default()
        }
    }
}
