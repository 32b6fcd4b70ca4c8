//! What a page's forms hold, read from the DOM once it is parsed: each `<form>` with its
//! attributes, each control with its form owner, its default value and whether it is
//! disabled. Plain data (the DOM stays on the load's thread), so the TUI can keep it and a
//! submission can be built from it and the values a person gave (`submit.rs`).

use std::collections::{HashMap, HashSet};

use crate::html::{Document, Node};

/// Controls read from one page at most; the rest are shown but cannot be used.
pub const MAX_CONTROLS: usize = 10_000;
/// `<option>`s read from one page at most.
pub const MAX_OPTIONS: usize = 50_000;

/// The forms of a page and their controls, in tree order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Forms {
    pub forms: Vec<Form>,
    pub controls: Vec<Control>,
    /// The document's character encoding (WHATWG name): what a form sends in, unless its
    /// `accept-charset` names another.
    pub encoding: String,
    /// Controls past [`MAX_CONTROLS`], not read.
    pub skipped: usize,
}

/// A `<form>` element's attributes, as written (resolved only when it is submitted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form {
    /// The element's DOM node.
    pub node: u32,
    pub action: Option<String>,
    pub method: Option<String>,
    pub enctype: Option<String>,
    pub accept_charset: Option<String>,
    pub name: Option<String>,
}

/// What kind of control an element is, for the form data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlKind {
    /// An `<input>` that takes a line of text: text, search, email, url, tel, number, the
    /// date and time types, and any type this browser does not know.
    Text,
    /// `<input type=password>`: a line of text never shown.
    Password,
    Hidden,
    Checkbox,
    Radio,
    File,
    /// `<input type=submit>` and `<button>` (type submit, the default).
    Submit,
    /// `<input type=image>`: a submit button that also sends where it was clicked.
    Image,
    Reset,
    /// A button that does something only with a script (`type=button`).
    Button,
    Select,
    Textarea,
}

impl ControlKind {
    /// A button that submits its form.
    pub fn submits(self) -> bool {
        matches!(self, ControlKind::Submit | ControlKind::Image)
    }

    /// Takes text a person types.
    pub fn is_typed(self) -> bool {
        matches!(
            self,
            ControlKind::Text | ControlKind::Password | ControlKind::Textarea
        )
    }
}

/// One `<option>` of a `<select>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectOption {
    /// What it sends: its `value`, else its text.
    pub value: String,
    /// What it shows: its `label`, else its text.
    pub label: String,
    /// Selected when the page loaded (the standard's selectedness setting applied).
    pub selected: bool,
    pub disabled: bool,
}

/// One control: `<input>`, `<button>`, `<select>` or `<textarea>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Control {
    /// The element's DOM node (the layout numbers the field by it).
    pub node: u32,
    /// Its form owner: an index into [`Forms::forms`].
    pub form: Option<usize>,
    pub kind: ControlKind,
    /// The `type` as written, lowercase (`email`, `search`…), for what the trace says.
    pub input_type: String,
    /// Its `name`; empty when it has none (then it sends nothing).
    pub name: String,
    /// Its default value: the `value` attribute, a textarea's text.
    pub value: Option<String>,
    /// A checkbox's or radio button's default checkedness.
    pub checked: bool,
    /// Disabled, itself or by a disabled `<fieldset>` around it.
    pub disabled: bool,
    pub readonly: bool,
    /// Inside a `<datalist>`: never submitted.
    pub in_datalist: bool,
    pub options: Vec<SelectOption>,
    pub multiple: bool,
    /// A button's overrides of its form's attributes.
    pub formaction: Option<String>,
    pub formmethod: Option<String>,
    pub formenctype: Option<String>,
    /// `dirname`: also send the text's direction under this name.
    pub dirname: Option<String>,
    /// `maxlength`, for what a person may type.
    pub maxlength: Option<usize>,
    /// What the button shows (its value, or the text of a `<button>`).
    pub label: String,
}

impl Forms {
    /// The control at DOM node `node`, with its index.
    pub fn control_at(&self, node: u32) -> Option<(usize, &Control)> {
        self.controls
            .iter()
            .position(|c| c.node == node)
            .map(|i| (i, &self.controls[i]))
    }

    /// The controls whose form owner is form `form`, with their indices, in tree order.
    pub fn controls_of(&self, form: usize) -> impl Iterator<Item = (usize, &Control)> {
        self.controls
            .iter()
            .enumerate()
            .filter(move |(_, c)| c.form == Some(form))
    }
}

/// What the walk keeps about the elements around the current node.
enum Scope {
    Form(usize),
    /// A disabled `<fieldset>`; its number among those open.
    DisabledFieldset(usize),
    /// The first `<legend>` child of disabled fieldset number N: what is in it stays enabled.
    ExemptLegend(usize),
    Datalist,
    Other,
}

/// Reads every form and control of `doc`, in tree order. `encoding` is the document's.
pub fn extract(doc: &Document, encoding: &str) -> Forms {
    let mut out = Forms {
        encoding: encoding.to_string(),
        ..Forms::default()
    };
    // The forms first: a control's `form` attribute may name one further down the page.
    // The forms, and the ids `form=` attributes name, first: a control may name a form
    // further down the page.
    let mut wanted = HashSet::new();
    for (node, _) in doc.walk().filter(|(n, _)| n.is_html_element()) {
        if node.tag() == Some("form") {
            out.forms.push(read_form(&node));
        }
        if let Some(id) = node.attr_str("form") {
            wanted.insert(id);
        }
    }
    let form_index: HashMap<u32, usize> = out
        .forms
        .iter()
        .enumerate()
        .map(|(i, f)| (f.node, i))
        .collect();
    let ids = form_ids(doc, &wanted);
    let mut scopes: Vec<(usize, Scope)> = Vec::new();
    let mut fieldsets = 0usize;
    let mut legend_seen: Vec<bool> = Vec::new();
    let mut options = 0usize;
    for (node, depth) in doc.walk() {
        while scopes.last().is_some_and(|(d, _)| *d >= depth) {
            if let Some((_, Scope::DisabledFieldset(_))) = scopes.pop() {
                fieldsets -= 1;
                legend_seen.pop();
            }
        }
        if !node.is_html_element() {
            continue;
        }
        let tag = node.tag().unwrap_or_default();
        let scope = match tag {
            "form" => match form_index.get(&node.id()) {
                Some(i) => Scope::Form(*i),
                None => Scope::Other,
            },
            "fieldset" if node.has_attr("disabled") => {
                fieldsets += 1;
                legend_seen.push(false);
                Scope::DisabledFieldset(fieldsets - 1)
            }
            "legend" => exempt_legend(&scopes, depth, &mut legend_seen),
            "datalist" => Scope::Datalist,
            "input" | "button" | "select" | "textarea" => {
                if out.controls.len() >= MAX_CONTROLS {
                    out.skipped += 1;
                } else {
                    let mut control = read_control(&node, tag, &mut options);
                    control.form = form_owner(&node, &scopes, &ids, &form_index);
                    control.disabled |= disabled_by_fieldset(&scopes);
                    control.in_datalist = scopes.iter().any(|(_, s)| matches!(s, Scope::Datalist));
                    out.controls.push(control);
                }
                Scope::Other
            }
            _ => Scope::Other,
        };
        scopes.push((depth, scope));
    }
    out
}

/// The ids `form=` attributes name (`wanted`), each with the first element that has it: a
/// form's node when that element is a form, else None (the attribute then names no form).
fn form_ids<'a>(doc: &'a Document, wanted: &HashSet<&str>) -> HashMap<&'a str, Option<u32>> {
    let mut ids = HashMap::new();
    if wanted.is_empty() {
        return ids;
    }
    for (node, _) in doc.walk() {
        let Some(id) = node.attr_str("id").filter(|id| wanted.contains(id)) else {
            continue;
        };
        ids.entry(id).or_insert_with(|| {
            (node.is_html_element() && node.tag() == Some("form")).then(|| node.id())
        });
    }
    ids
}

/// The standard's form owner: the form the `form` attribute names (none if it names no
/// form), else the nearest `<form>` around the control.
fn form_owner(
    node: &Node,
    scopes: &[(usize, Scope)],
    ids: &HashMap<&str, Option<u32>>,
    form_index: &HashMap<u32, usize>,
) -> Option<usize> {
    if let Some(id) = node.attr_str("form") {
        let form_node = (*ids.get(id)?)?;
        return form_index.get(&form_node).copied();
    }
    scopes.iter().rev().find_map(|(_, s)| match s {
        Scope::Form(i) => Some(*i),
        _ => None,
    })
}

/// A `<legend>` that is the first legend child of a disabled fieldset exempts its content.
fn exempt_legend(scopes: &[(usize, Scope)], depth: usize, seen: &mut [bool]) -> Scope {
    match scopes.last() {
        Some((d, Scope::DisabledFieldset(n))) if *d + 1 == depth && !seen[*n] => {
            seen[*n] = true;
            Scope::ExemptLegend(*n)
        }
        _ => Scope::Other,
    }
}

/// Disabled by a disabled fieldset around it, unless inside that fieldset's first legend.
fn disabled_by_fieldset(scopes: &[(usize, Scope)]) -> bool {
    scopes.iter().any(|(_, s)| match s {
        Scope::DisabledFieldset(n) => !scopes
            .iter()
            .any(|(_, e)| matches!(e, Scope::ExemptLegend(m) if m == n)),
        _ => false,
    })
}

fn read_form(node: &Node) -> Form {
    Form {
        node: node.id(),
        action: node.attr("action"),
        method: node.attr("method"),
        enctype: node.attr("enctype"),
        accept_charset: node.attr("accept-charset"),
        name: node.attr("name"),
    }
}

/// The kind of an `<input>` by its `type` (an unknown type is a text field, as the
/// standard says), or of the other controls by their tag.
fn kind_of(node: &Node, tag: &str) -> (ControlKind, String) {
    let kind_attr = node
        .attr("type")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let kind = match (tag, kind_attr.as_str()) {
        ("select", _) => ControlKind::Select,
        ("textarea", _) => ControlKind::Textarea,
        ("button", "reset") => ControlKind::Reset,
        ("button", "button") => ControlKind::Button,
        ("button", _) => ControlKind::Submit,
        (_, "password") => ControlKind::Password,
        (_, "hidden") => ControlKind::Hidden,
        (_, "checkbox") => ControlKind::Checkbox,
        (_, "radio") => ControlKind::Radio,
        (_, "file") => ControlKind::File,
        (_, "submit") => ControlKind::Submit,
        (_, "image") => ControlKind::Image,
        (_, "reset") => ControlKind::Reset,
        (_, "button") => ControlKind::Button,
        _ => ControlKind::Text,
    };
    let shown = match tag {
        "input" if kind_attr.is_empty() => "text".to_string(),
        "input" => kind_attr,
        _ => tag.to_string(),
    };
    (kind, shown)
}

fn read_control(node: &Node, tag: &str, options_read: &mut usize) -> Control {
    let (kind, input_type) = kind_of(node, tag);
    let value = match kind {
        ControlKind::Textarea => Some(node.text_content()),
        _ => node.attr("value"),
    };
    let label = match tag {
        "button" => collapse(&node.text_content()),
        _ => value.clone().unwrap_or_default(),
    };
    let multiple = node.has_attr("multiple");
    let options = if kind == ControlKind::Select {
        read_options(node, multiple, options_read)
    } else {
        Vec::new()
    };
    Control {
        node: node.id(),
        form: None,
        kind,
        input_type,
        name: node.attr("name").unwrap_or_default(),
        value,
        checked: node.has_attr("checked"),
        disabled: node.has_attr("disabled"),
        readonly: node.has_attr("readonly"),
        in_datalist: false,
        options,
        multiple,
        formaction: node.attr("formaction"),
        formmethod: node.attr("formmethod"),
        formenctype: node.attr("formenctype"),
        dirname: node.attr("dirname").filter(|d| !d.is_empty()),
        maxlength: node
            .attr("maxlength")
            .and_then(|m| m.trim().parse::<usize>().ok()),
        label,
    }
}

/// A select's options with the standard's selectedness: in a single select shown as a
/// drop-down, the last option marked `selected` wins, and with none the first enabled
/// option is the one chosen.
fn read_options(select: &Node, multiple: bool, read: &mut usize) -> Vec<SelectOption> {
    let mut options = Vec::new();
    for (node, _) in select.descendants() {
        if !node.is_html_element() || node.tag() != Some("option") {
            continue;
        }
        if *read >= MAX_OPTIONS {
            break;
        }
        *read += 1;
        let text = collapse(&node.text_content());
        let in_disabled_group = node
            .parent()
            .is_some_and(|p| p.tag() == Some("optgroup") && p.has_attr("disabled"));
        options.push(SelectOption {
            value: node.attr("value").unwrap_or_else(|| text.clone()),
            label: node
                .attr("label")
                .filter(|l| !l.trim().is_empty())
                .unwrap_or(text),
            selected: node.has_attr("selected"),
            disabled: node.has_attr("disabled") || in_disabled_group,
        });
    }
    let size = select
        .attr("size")
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(if multiple { 4 } else { 1 });
    if !multiple {
        if let Some(last) = options.iter().rposition(|o| o.selected) {
            for (i, o) in options.iter_mut().enumerate() {
                o.selected = i == last;
            }
        } else if size == 1 {
            if let Some(first) = options.iter_mut().find(|o| !o.disabled) {
                first.selected = true;
            }
        }
    }
    options
}

/// Whitespace collapsed and trimmed (the standard's "strip and collapse ASCII whitespace").
fn collapse(text: &str) -> String {
    text.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}
