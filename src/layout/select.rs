//! Selector matching: the `selectors` crate (Servo's matcher) over the layout's node arena.
//!
//! What can be known without scripts or a pointer is matched statically: `:link` is an
//! `<a href>`, `:checked` a checked box, `:hover`/`:focus`/`:visited` never match.

use std::cell::RefCell;
use std::fmt;

use cssparser::{ParseError, ToCss};
use precomputed_hash::PrecomputedHash;
use selectors::attr::{AttrSelectorOperation, CaseSensitivity, NamespaceConstraint};
use selectors::bloom::BloomFilter;
use selectors::matching::{ElementSelectorFlags, MatchingContext};
use selectors::parser::{SelectorImpl, SelectorParseErrorKind};
use selectors::{Element, OpaqueElement};

use super::hash::hash_name;
use super::tree::{Tree, NONE};

/// An identifier (tag, class, id, attribute name or value) with its hash.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Ident {
    pub name: Box<str>,
    pub hash: u32,
}

impl<'a> From<&'a str> for Ident {
    fn from(s: &'a str) -> Self {
        Ident {
            name: s.into(),
            hash: hash_name(s),
        }
    }
}

impl AsRef<str> for Ident {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

impl ToCss for Ident {
    fn to_css<W: fmt::Write>(&self, dest: &mut W) -> fmt::Result {
        dest.write_str(&self.name)
    }
}

impl PrecomputedHash for Ident {
    fn precomputed_hash(&self) -> u32 {
        self.hash
    }
}

/// The selector flavour minibrowse parses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Simple;

impl SelectorImpl for Simple {
    type ExtraMatchingData<'a> = ();
    type AttrValue = Ident;
    type Identifier = Ident;
    type LocalName = Ident;
    type NamespaceUrl = Ident;
    type NamespacePrefix = Ident;
    type BorrowedNamespaceUrl = Ident;
    type BorrowedLocalName = Ident;
    type NonTSPseudoClass = PseudoClass;
    type PseudoElement = PseudoElement;
}

/// Pseudo-classes that are not about tree structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PseudoClass {
    /// `:link`, `:any-link`: an `<a>` or `<area>` with `href`.
    Link,
    /// `:checked`: a checked box or radio, a selected option.
    Checked,
    Disabled,
    Enabled,
    /// `:open` (details, dialog).
    Open,
    /// `:lang(xx)`.
    Lang(Box<str>),
    /// User-action and history states that a static page never has (`:hover`, `:visited`…).
    Never,
}

impl ToCss for PseudoClass {
    fn to_css<W: fmt::Write>(&self, dest: &mut W) -> fmt::Result {
        dest.write_str(match self {
            PseudoClass::Link => ":link",
            PseudoClass::Checked => ":checked",
            PseudoClass::Disabled => ":disabled",
            PseudoClass::Enabled => ":enabled",
            PseudoClass::Open => ":open",
            PseudoClass::Lang(_) => ":lang()",
            PseudoClass::Never => ":hover",
        })
    }
}

impl selectors::parser::NonTSPseudoClass for PseudoClass {
    fn is_active_or_hover(&self) -> bool {
        false
    }
    fn is_user_action_state(&self) -> bool {
        false
    }
}

/// Pseudo-elements: `::before` and `::after` make text; the others never match an element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PseudoElement {
    Before,
    After,
    Other,
}

impl ToCss for PseudoElement {
    fn to_css<W: fmt::Write>(&self, dest: &mut W) -> fmt::Result {
        dest.write_str(match self {
            PseudoElement::Before => "::before",
            PseudoElement::After => "::after",
            PseudoElement::Other => "::marker",
        })
    }
}

impl selectors::parser::PseudoElement for PseudoElement {
    fn valid_after_before_or_after(&self) -> bool {
        true
    }
    fn accepts_state_pseudo_classes(&self) -> bool {
        true
    }
}

/// The selector parser: knows the pseudo-classes and pseudo-elements a browser knows, so
/// that a rule naming `:hover` is kept (and never matches) instead of being dropped whole.
pub struct Parser;

impl<'i> selectors::parser::Parser<'i> for Parser {
    type Impl = Simple;
    type Error = SelectorParseErrorKind;

    fn parse_is_and_where(&self) -> bool {
        true
    }

    fn parse_has(&self) -> bool {
        true
    }

    fn parse_nth_child_of(&self) -> bool {
        true
    }

    fn parse_non_ts_pseudo_class(
        &self,
        name: &str,
    ) -> Result<PseudoClass, ParseError<Self::Error>> {
        let lower = name.to_ascii_lowercase();
        let pc = match lower.as_str() {
            "link" | "any-link" => PseudoClass::Link,
            "checked" => PseudoClass::Checked,
            "disabled" => PseudoClass::Disabled,
            "enabled" => PseudoClass::Enabled,
            "open" => PseudoClass::Open,
            "visited" | "hover" | "active" | "focus" | "focus-visible" | "focus-within"
            | "target" | "target-within" | "indeterminate" | "invalid" | "valid"
            | "user-invalid" | "user-valid" | "required" | "optional" | "placeholder-shown"
            | "autofill" | "read-only" | "read-write" | "default" | "in-range" | "out-of-range"
            | "playing" | "paused" | "fullscreen" | "modal" | "popover-open" | "defined"
            | "closed" | "local-link" | "blank" | "current" | "past" | "future" | "scope"
            | "picture-in-picture" | "muted" | "seeking" | "stalled" | "buffering"
            | "volume-locked" => PseudoClass::Never,
            _ if lower.starts_with("-webkit-") => PseudoClass::Never,
            _ => {
                return Err(ParseError::custom(
                    SelectorParseErrorKind::UnsupportedPseudoClassOrElement,
                ))
            }
        };
        Ok(pc)
    }

    fn parse_non_ts_functional_pseudo_class(
        &self,
        name: &str,
        parser: &mut cssparser::Parser<'i>,
        _after_part: bool,
    ) -> Result<PseudoClass, ParseError<Self::Error>> {
        match name.to_ascii_lowercase().as_str() {
            "lang" => {
                let lang = parser.expect_ident_or_string()?.to_ascii_lowercase();
                Ok(PseudoClass::Lang(lang.into()))
            }
            "dir" | "state" => {
                parser.expect_ident()?;
                Ok(PseudoClass::Never)
            }
            _ => Err(ParseError::custom(
                SelectorParseErrorKind::UnsupportedPseudoClassOrElement,
            )),
        }
    }

    fn parse_pseudo_element(&self, name: &str) -> Result<PseudoElement, ParseError<Self::Error>> {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "before" => Ok(PseudoElement::Before),
            "after" => Ok(PseudoElement::After),
            "marker"
            | "placeholder"
            | "selection"
            | "first-line"
            | "first-letter"
            | "backdrop"
            | "file-selector-button"
            | "cue"
            | "target-text"
            | "spelling-error"
            | "grammar-error" => Ok(PseudoElement::Other),
            _ if lower.starts_with("-webkit-") => Ok(PseudoElement::Other),
            _ => Err(ParseError::custom(
                SelectorParseErrorKind::UnsupportedPseudoClassOrElement,
            )),
        }
    }
}

/// What matching may take for granted about a tree that is still being read (a layout that
/// runs beside the parser, see `layout::stream`): an element whose parent is still open may
/// get next siblings, and an open element children. Such a fact is *unknown*. Matching
/// notes the unknown facts it asks, in order, and answers the k-th one with `answers[k]` —
/// "more will come" (true, a stand-in sibling of the same type) or, past the end of
/// `answers`, "nothing more will come"; a fact asked again gets the same answer. Matching
/// again with other answers walks the other branches: a selector that matches alike on every
/// branch is decided (see `style::Cascade::decided`).
#[derive(Default)]
pub struct World {
    /// The tree may still grow (false: it is the whole document, nothing is unknown).
    pub growing: bool,
    answers: RefCell<Vec<bool>>,
    /// The facts asked so far: (element, whether it is about its children).
    asked: RefCell<Vec<(u32, bool)>>,
}

impl World {
    /// Starts a matching that answers the facts it asks with `answers`, in order.
    pub fn start(&self, answers: &[bool]) {
        let mut given = self.answers.borrow_mut();
        given.clear();
        given.extend_from_slice(answers);
        self.asked.borrow_mut().clear();
    }

    /// How many different unknown facts the matching asked.
    pub fn unknowns(&self) -> usize {
        self.asked.borrow().len()
    }

    /// An unknown fact asked: whether more comes (a next sibling after `element`, or with
    /// `children`, a child inside it).
    fn ask(&self, element: u32, children: bool) -> bool {
        let mut asked = self.asked.borrow_mut();
        let k = match asked.iter().position(|&f| f == (element, children)) {
            Some(k) => k,
            None => {
                asked.push((element, children));
                asked.len() - 1
            }
        };
        self.answers.borrow().get(k).copied().unwrap_or(false)
    }
}

/// The flag marking an index as the stand-in "next sibling still to come" of the element
/// with the rest of the index.
const STAND_IN: u32 = 1 << 31;

/// One element of the arena, as the matcher sees it.
#[derive(Clone, Copy)]
pub struct El<'a> {
    pub tree: &'a Tree<'a>,
    pub index: u32,
    pub world: &'a World,
}

impl fmt::Debug for El<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "El({})", self.index)
    }
}

impl<'a> El<'a> {
    fn at(&self, index: u32) -> Option<El<'a>> {
        (index != NONE).then_some(El {
            tree: self.tree,
            index,
            world: self.world,
        })
    }

    /// A stand-in for an element still to come: it has the type of the element before it
    /// (so that `:last-of-type` is decided too) and nothing else.
    fn is_stand_in(&self) -> bool {
        self.index & STAND_IN != 0
    }

    /// The real element: this one, or for a stand-in the one before it.
    fn real(&self) -> usize {
        (self.index & !STAND_IN) as usize
    }

    fn node(&self) -> &super::tree::TreeNode {
        &self.tree.nodes[self.real()]
    }

    fn tag(&self) -> &str {
        self.tree.dom(self.real()).tag().unwrap_or_default()
    }

    /// Whether more children may still come to element `index`.
    fn may_grow(&self, index: u32) -> bool {
        self.world.growing && self.tree.is_open(index)
    }
}

impl<'a> Element for El<'a> {
    type Impl = Simple;

    fn opaque(&self) -> OpaqueElement {
        if self.is_stand_in() {
            return OpaqueElement::new(&self.node().end);
        }
        OpaqueElement::new(self.node())
    }

    fn parent_element(&self) -> Option<Self> {
        self.at(self.node().parent)
    }

    fn parent_node_is_shadow_root(&self) -> bool {
        false
    }

    fn containing_shadow_host(&self) -> Option<Self> {
        None
    }

    fn is_pseudo_element(&self) -> bool {
        false
    }

    fn prev_sibling_element(&self) -> Option<Self> {
        if self.is_stand_in() {
            return self.at(self.real() as u32);
        }
        self.at(self.node().prev)
    }

    fn next_sibling_element(&self) -> Option<Self> {
        if self.is_stand_in() {
            return None;
        }
        let node = self.node();
        if node.next == NONE && node.parent != NONE && self.may_grow(node.parent) {
            return self.world.ask(self.index, false).then_some(El {
                index: self.index | STAND_IN,
                ..*self
            });
        }
        self.at(node.next)
    }

    fn first_element_child(&self) -> Option<Self> {
        if self.is_stand_in() {
            return None;
        }
        self.at(self.node().first_child)
    }

    fn is_html_element_in_html_document(&self) -> bool {
        self.tree.dom(self.real()).is_html_element()
    }

    fn has_local_name(&self, name: &Ident) -> bool {
        let tag = self.tag();
        if self.tree.dom(self.real()).is_html_element() {
            tag.eq_ignore_ascii_case(&name.name)
        } else {
            tag == &*name.name
        }
    }

    fn has_namespace(&self, ns: &Ident) -> bool {
        let html = self.tree.dom(self.real()).is_html_element();
        match &*ns.name {
            "http://www.w3.org/1999/xhtml" => html,
            "" => false,
            _ => !html,
        }
    }

    fn is_same_type(&self, other: &Self) -> bool {
        self.tag() == other.tag()
    }

    fn attr_matches(
        &self,
        _ns: &NamespaceConstraint<&Ident>,
        local_name: &Ident,
        operation: &AttrSelectorOperation<&Ident>,
    ) -> bool {
        if self.is_stand_in() {
            return false;
        }
        let mut found = false;
        self.tree
            .dom(self.index as usize)
            .for_each_attr(|name, value| {
                if !found && name.eq_ignore_ascii_case(&local_name.name) {
                    found = operation.eval_str(value);
                }
            });
        found
    }

    fn match_non_ts_pseudo_class(
        &self,
        pc: &PseudoClass,
        _context: &mut MatchingContext<'_, Simple>,
    ) -> bool {
        if self.is_stand_in() {
            return false;
        }
        let node = &self.tree.dom(self.index as usize);
        match pc {
            PseudoClass::Link => matches!(self.tag(), "a" | "area") && node.has_attr("href"),
            PseudoClass::Checked => match self.tag() {
                "input" => node.has_attr("checked"),
                "option" => node.has_attr("selected"),
                _ => false,
            },
            PseudoClass::Disabled => is_form_control(self.tag()) && node.has_attr("disabled"),
            PseudoClass::Enabled => is_form_control(self.tag()) && !node.has_attr("disabled"),
            PseudoClass::Open => {
                matches!(self.tag(), "details" | "dialog") && node.has_attr("open")
            }
            PseudoClass::Lang(lang) => {
                let mut at = Some(*self);
                while let Some(el) = at {
                    if let Some(found) = el.tree.dom(el.index as usize).with_attr("lang", |l| {
                        let l = l.to_ascii_lowercase();
                        l == **lang || l.starts_with(&format!("{lang}-"))
                    }) {
                        return found;
                    }
                    at = el.parent_element();
                }
                false
            }
            PseudoClass::Never => false,
        }
    }

    fn match_pseudo_element(
        &self,
        _pe: &PseudoElement,
        _context: &mut MatchingContext<'_, Simple>,
    ) -> bool {
        false
    }

    fn apply_selector_flags(&self, _flags: ElementSelectorFlags) {}

    /// The matcher asks this of every element a selector steps through, only to choose how
    /// `:visited` is matched (and for a quirk of quirks mode, which is never on here).
    /// `:visited` never matches and `:link` is `PseudoClass::Link`, so the answer changes
    /// nothing: "no" saves reading the element's tag and attributes each time.
    fn is_link(&self) -> bool {
        false
    }

    fn is_html_slot_element(&self) -> bool {
        false
    }

    fn has_id(&self, id: &Ident, case_sensitivity: CaseSensitivity) -> bool {
        !self.is_stand_in()
            && self.node().id_hash == id.hash
            && self
                .tree
                .dom(self.index as usize)
                .with_attr("id", |v| {
                    case_sensitivity.eq(v.as_bytes(), id.name.as_bytes())
                })
                .unwrap_or(false)
    }

    fn has_class(&self, name: &Ident, case_sensitivity: CaseSensitivity) -> bool {
        if self.is_stand_in() {
            return false;
        }
        if !self.tree.class_hashes(self.index).contains(&name.hash)
            && case_sensitivity == CaseSensitivity::CaseSensitive
        {
            return false;
        }
        self.tree
            .dom(self.index as usize)
            .with_attr("class", |v| {
                v.split_ascii_whitespace()
                    .any(|c| case_sensitivity.eq(c.as_bytes(), name.name.as_bytes()))
            })
            .unwrap_or(false)
    }

    fn has_custom_state(&self, _name: &Ident) -> bool {
        false
    }

    fn imported_part(&self, _name: &Ident) -> Option<Ident> {
        None
    }

    fn is_part(&self, _name: &Ident) -> bool {
        false
    }

    fn is_empty(&self) -> bool {
        if self.is_stand_in() {
            return true;
        }
        if self.may_grow(self.index) {
            // Open: not empty once a child was read (the parser makes no empty text).
            let read_a_child = self
                .tree
                .nodes
                .get(self.real() + 1)
                .is_some_and(|n| n.parent == self.index);
            return !read_a_child && !self.world.ask(self.index, true);
        }
        let node = &self.tree.dom(self.index as usize);
        node.children()
            .all(|child| !child.is_element() && child.text_str().is_none_or(str::is_empty))
    }

    fn is_root(&self) -> bool {
        !self.is_stand_in() && self.node().parent == NONE
    }

    fn add_element_unique_hashes(&self, _filter: &mut BloomFilter) -> bool {
        false
    }
}

fn is_form_control(tag: &str) -> bool {
    matches!(
        tag,
        "input" | "button" | "select" | "textarea" | "option" | "optgroup" | "fieldset"
    )
}
