//! Style sharing: elements that cannot differ in style get the style computed for the first
//! of them, without matching a selector (Servo and Blink do the same). Generated pages
//! repeat a few shapes thousands of times: a table of contents is 20,000
//! `<li class="toctree-l2"><a class="reference internal" href=…>` alike but for the link.
//!
//! Two elements share when their *keys* are equal and the *structural* rules that could
//! match them matched both or neither. The key holds:
//!
//! - the sharing identity of the parent (so, by induction, the whole ancestor chains look
//!   alike: same tags, classes, ids and attributes that matter, all the way up, and the
//!   inherited style is the same);
//! - the tag and whether the element is HTML;
//! - every attribute's name, with its value when the value can matter: `class`, `id`,
//!   `style`, `type` (the UA sheet reads it), `lang` (`:lang()`), and any attribute a
//!   selector tests. Of the others (`href`, `src`, `title`…) only presence counts (`:link`,
//!   `[hidden]`, `:checked`…).
//!
//! With equal keys, a selector that only looks at the element and its ancestors matches
//! both or neither. A selector that also looks at siblings or children (`+`, `~`,
//! `:first-child`, `:nth-*`, `:empty`, `:has()`…) is *structural*: those among an element's
//! candidate rules are matched on every element, and their results are part of the
//! lookup (Servo's "revalidation selectors").

use rustc_hash::FxHashMap;
use selectors::parser::{Combinator, Component, Selector};

use super::css::Sheets;
use super::select::Simple;
use super::values::Style;
use crate::html::Node;

/// Keys longer than this (an element with a huge `style=""` or class list) are not worth
/// remembering: the element is styled on its own.
const MAX_KEY: usize = 4096;

/// The most outcomes of the structural rules kept for one key (a lookup tries each).
const MAX_VARIANTS: usize = 16;

/// Attributes whose values the cascade reads whether or not a selector tests them.
const VALUE_ATTRS: [&str; 5] = ["class", "id", "style", "type", "lang"];

/// What sharing needs to know about the page's rules.
pub struct ShareRules {
    /// Per rule: whether it is structural (see the module doc), so re-matched per element.
    structural: Vec<bool>,
    /// The attribute names some selector tests, lowercase.
    tested: Vec<Box<str>>,
    /// A selector that needs the whole tree to be matched (see `needs_whole_tree`).
    whole_tree: Option<String>,
}

impl ShareRules {
    pub fn of(sheets: &Sheets) -> ShareRules {
        let mut tested = Vec::new();
        let structural = sheets
            .rules
            .iter()
            .map(|rule| is_structural(&rule.selector, &mut tested))
            .collect();
        tested.sort_unstable();
        tested.dedup();
        let whole_tree = sheets
            .rules
            .iter()
            .find(|rule| {
                rule.selector
                    .iter_raw_match_order()
                    .any(needs_later_elements)
            })
            .map(|rule| {
                use cssparser::ToCss;
                format!(
                    "the selector {} needs the elements after the one it styles",
                    rule.selector.to_css_string()
                )
            });
        ShareRules {
            structural,
            tested,
            whole_tree,
        }
    }

    /// Why these rules cannot be matched on a tree that is still being read, if they cannot:
    /// `:has()` looks at descendants and later siblings, and `:nth-last-child()` and the like
    /// count elements still to come. (`:last-child`, `:only-child`, `:last-of-type` and
    /// `:empty` can be: see `select::World`.)
    pub fn needs_whole_tree(&self) -> Option<String> {
        self.whole_tree.clone()
    }

    pub fn is_structural(&self, rule: u32) -> bool {
        self.structural.get(rule as usize).copied().unwrap_or(true)
    }

    fn value_matters(&self, attr: &str) -> bool {
        VALUE_ATTRS.iter().any(|a| attr.eq_ignore_ascii_case(a))
            || self.tested.iter().any(|a| attr.eq_ignore_ascii_case(a))
    }
}

/// Whether a selector component needs elements after the one matched, beyond whether one
/// more comes.
fn needs_later_elements(c: &Component<Simple>) -> bool {
    match c {
        Component::Has(_) | Component::NthOf(_) => true,
        Component::Nth(nth) => {
            let last_one = nth.an_plus_b.0 == 0 && nth.an_plus_b.1 == 1;
            nth.ty.is_from_end() && !last_one && !nth.ty.is_only()
        }
        Component::Negation(list) | Component::Is(list) | Component::Where(list) => list
            .slice()
            .iter()
            .any(|s| s.iter_raw_match_order().any(needs_later_elements)),
        _ => false,
    }
}

/// Whether a selector looks beyond the element and its ancestors' own tags, classes, ids
/// and attributes; collects the attribute names it tests on the way.
fn is_structural(selector: &Selector<Simple>, tested: &mut Vec<Box<str>>) -> bool {
    let mut structural = false;
    for component in selector.iter_raw_match_order() {
        structural |= component_is_structural(component, tested);
    }
    structural
}

fn component_is_structural(c: &Component<Simple>, tested: &mut Vec<Box<str>>) -> bool {
    match c {
        Component::Combinator(comb) => !matches!(
            comb,
            Combinator::Child | Combinator::Descendant | Combinator::PseudoElement
        ),
        Component::AttributeInNoNamespaceExists {
            local_name_lower, ..
        } => {
            tested.push(local_name_lower.name.to_ascii_lowercase().into());
            false
        }
        Component::AttributeInNoNamespace { local_name, .. } => {
            tested.push(local_name.name.to_ascii_lowercase().into());
            false
        }
        Component::AttributeOther(attr) => {
            tested.push(attr.local_name_lower.name.to_ascii_lowercase().into());
            false
        }
        Component::Negation(list) | Component::Is(list) | Component::Where(list) => {
            let mut structural = false;
            for s in list.slice() {
                structural |= is_structural(s, tested);
            }
            structural
        }
        Component::LocalName(_)
        | Component::ID(_)
        | Component::Class(_)
        | Component::ExplicitUniversalType
        | Component::ExplicitAnyNamespace
        | Component::ExplicitNoNamespace
        | Component::DefaultNamespace(_)
        | Component::Namespace(..)
        | Component::Root
        | Component::NonTSPseudoClass(_)
        | Component::PseudoElement(_) => false,
        // Siblings, children, scoping and anything new: matched on every element.
        _ => true,
    }
}

/// The cache: keys seen so far, each with the styles found for it.
#[derive(Default)]
pub struct ShareCache {
    entries: FxHashMap<Box<[u8]>, Entry>,
    /// The current element's key (reused, so a lookup does not allocate).
    key: Vec<u8>,
}

/// The elements seen with one key.
pub struct Entry {
    /// The structural rules among the candidates of every element with this key, in order.
    pub structural: Vec<u32>,
    variants: Vec<Variant>,
}

/// One outcome of the structural rules, and the style it gave.
struct Variant {
    /// Bit k: whether `structural[k]` matched.
    bits: Vec<u64>,
    share: u32,
    style: Style,
}

impl Entry {
    /// The sharing identity and style of the elements whose structural rules gave `bits`.
    pub fn find(&self, bits: &[u64]) -> Option<(u32, Style)> {
        self.variants
            .iter()
            .find(|v| v.bits == bits)
            .map(|v| (v.share, v.style))
    }
}

impl ShareCache {
    /// Makes `node`'s key the current one; false when the element is not to be shared.
    pub fn set_key(&mut self, rules: &ShareRules, parent_share: u32, node: &Node) -> bool {
        let key = &mut self.key;
        key.clear();
        key.extend_from_slice(&parent_share.to_le_bytes());
        key.push(u8::from(node.is_html_element()));
        push_field(key, node.tag().unwrap_or_default());
        node.for_each_attr(|name, value| {
            push_field(key, name);
            if rules.value_matters(name) {
                key.push(1);
                push_field(key, value);
            } else {
                key.push(0);
            }
        });
        key.len() <= MAX_KEY
    }

    /// The entry for the current key.
    pub fn entry(&self) -> Option<&Entry> {
        self.entries.get(self.key.as_slice())
    }

    /// Remembers a style for the current key.
    pub fn insert(&mut self, structural: &[u32], bits: &[u64], share: u32, style: Style) {
        let variant = Variant {
            bits: bits.to_vec(),
            share,
            style,
        };
        if let Some(entry) = self.entries.get_mut(self.key.as_slice()) {
            if entry.variants.len() < MAX_VARIANTS {
                entry.variants.push(variant);
            }
            return;
        }
        self.entries.insert(
            self.key.as_slice().into(),
            Entry {
                structural: structural.to_vec(),
                variants: vec![variant],
            },
        );
    }
}

/// A length-prefixed field, so that no two different sequences of fields make one key.
fn push_field(key: &mut Vec<u8>, s: &str) {
    key.extend_from_slice(&(s.len() as u32).to_le_bytes());
    key.extend_from_slice(s.as_bytes());
}

/// Sets bit `k` of a bit set.
pub fn set_bit(bits: &mut Vec<u64>, k: usize) {
    let word = k / 64;
    if bits.len() <= word {
        bits.resize(word + 1, 0);
    }
    bits[word] |= 1 << (k % 64);
}

#[cfg(test)]
mod tests {
    use url::Url;

    use crate::html;
    use crate::layout::css::{Media, StyleSources};
    use crate::layout::layout_document;

    use super::super::css::Sheets;
    use super::ShareRules;

    fn lines(page: &str) -> Vec<String> {
        let doc = html::parse(page);
        let base = Url::parse("http://x.test/dir/page.html").expect("a URL");
        layout_document(&doc, &base, 80).lines
    }

    fn rules(css: &str) -> ShareRules {
        let mut sheets = Sheets::default();
        sheets.add(css, None, &StyleSources::new(), Media::for_columns(80));
        ShareRules::of(&sheets)
    }

    #[test]
    fn structural_selectors_are_told_apart() {
        let selectors = [
            ".a span",
            "li:first-child a",
            "h2 + p",
            "h2 ~ p",
            "p:not(:last-child)",
            "div:has(p)",
            "p:empty",
            ":is(ul, ol) > li",
            "a[href$='.pdf']",
        ];
        let css: String = selectors
            .iter()
            .map(|s| format!("{s} {{ display: block }}\n"))
            .collect();
        let r = rules(&css);
        let structural: Vec<bool> = (0..9).map(|k| r.is_structural(k)).collect();
        assert_eq!(
            structural,
            [false, true, true, true, true, true, true, false, false]
        );
        assert!(r.value_matters("href") && r.value_matters("HREF"));
        assert!(r.value_matters("class") && !r.value_matters("title"));
    }

    #[test]
    fn a_parents_position_is_rematched() {
        let page = "<style>li:first-child span { text-transform: uppercase }</style>\
                    <ul><li><span class=x>one</span><li><span class=x>two</span>\
                    <li><span class=x>three</span></ul>";
        assert_eq!(lines(page), ["• ONE", "• two", "• three"]);
    }

    #[test]
    fn a_siblings_position_is_rematched() {
        let page = "<style>span:last-child { text-transform: uppercase } \
                    h2 + p { text-transform: uppercase }</style>\
                    <div><span>a</span> <span>b</span> <span>c</span></div>\
                    <h2>T</h2><p>first</p><p>second</p>";
        assert_eq!(lines(page), ["a b C", "", "T", "", "FIRST", "", "second"]);
    }

    #[test]
    fn tested_attribute_values_are_compared() {
        let page = "<style>a[href$='.pdf'] { display: none } \
                    div[data-x='1'] span { text-transform: uppercase }</style>\
                    <p><a href=a.pdf>pdf</a> <a href=b.html>html</a> <a href=c.pdf>pdf</a></p>\
                    <div data-x=1><span>one</span></div><div data-x=2><span>two</span></div>";
        assert_eq!(lines(page), ["[1]html", "", "ONE", "two"]);
    }

    #[test]
    fn ancestors_classes_and_inline_styles_count() {
        let page = "<style>.a span { text-transform: uppercase }</style>\
                    <div class=a><p><span>x</span></p></div>\
                    <div class=b><p><span>y</span></p></div>\
                    <p><span style='text-transform: uppercase'>s</span> <span>t</span></p>";
        assert_eq!(lines(page), ["X", "", "y", "", "S t"]);
    }

    #[test]
    fn untested_attribute_values_do_not_split_styles() {
        // Twenty links alike but for href: one style, and every link still its own.
        let mut page = String::from("<style>a.r { text-transform: uppercase }</style><ul>");
        for k in 0..20 {
            page.push_str(&format!("<li><a class=r href='p{k}.html#s'>x{k}</a>"));
        }
        page.push_str("</ul>");
        let got = lines(&page);
        assert_eq!(got.len(), 20);
        assert_eq!(got[0], "• [1]X0");
        assert_eq!(got[19], "• [20]X19");
    }

    /// The page laid out whole, and laid out while it is parsed (which must agree, without
    /// starting over).
    fn both_ways(page: &str) -> Vec<String> {
        let base = Url::parse("http://x.test/dir/page.html").expect("a URL");
        let whole = lines(page);
        let sources = crate::layout::StyleSources::new();
        let mut streaming = crate::layout::StreamingLayout::new(&base, 80, &sources);
        let (doc, changed) = html::parse_reading(page, &mut streaming);
        let (layout, with) = streaming.finish(&doc, changed);
        assert_eq!(with.restarted, None);
        assert_eq!(layout.lines, whole);
        whole
    }

    #[test]
    fn rules_filed_under_the_parent_still_apply() {
        // `div.sidebar > :last-child` is tried only on children of a `.sidebar`, `td >
        // :first-child` only on children of a `td`: the rules must still reach them (and
        // only them: not grandchildren, not children of other parents).
        let page = "<style>div.sidebar > :last-child { display: none }                     td > :first-child { text-transform: uppercase }                     #box > :first-child { font-weight: bold; text-transform: uppercase }                    </style>                    <div class=sidebar><p>keep</p><p><span>a</span><span>b</span></p></div>                    <div class=other><p>c</p><p>d</p></div>                    <table><tr><td><span>e</span> <span>f</span></td></tr></table>                    <div id=box><span>g</span> <span>h</span></div>";
        assert_eq!(
            both_ways(page),
            ["keep", "", "c", "", "d", "", "E f", "", "G h"]
        );
    }

    #[test]
    fn rules_filed_under_the_parent_need_the_parent_not_an_ancestor() {
        // `.x > :first-child` needs `.x` on the parent; on a grandparent only descendant
        // rules (`div.x p`) apply.
        let page = "<style>.x > :first-child { text-transform: uppercase }                     div.x p { font-style: italic; text-transform: lowercase }</style>                    <div class=x><div><p>One</p><p>Two</p></div></div>                    <div class=x><span>three</span> <span>four</span></div>";
        assert_eq!(both_ways(page), ["one", "", "two", "", "THREE four"]);
    }

    #[test]
    fn a_chain_of_children_filed_under_the_parent() {
        let page = "<style>:not(li) > ul > li:first-child > :first-child                     { text-transform: uppercase }                     :not(li) > ul > li:last-child > :last-child { display: none }                     DIV > :first-child { text-transform: uppercase }</style>                    <ul><li><span>a</span> <span>b</span></li><li><span>c</span>                     <span>d</span></li></ul>                    <div><span>e</span> <span>f</span></div>";
        assert_eq!(both_ways(page), ["• A b", "• c", "", "E f"]);
    }
}
