//! Replaced elements as text: what an image, a form control or a frame shows in a
//! terminal in place of what a browser would draw there.

use crate::html::Node;
use crate::layout::tree::Tree;
use crate::layout::Fields;

use super::text::collapse;

/// The text that replaces element `index` (an `<img>`, `<input>`, `<select>` or
/// `<textarea>`, `tag`), None when it shows nothing.
pub(super) fn replaced_text(tree: &Tree, index: u32, tag: &str, fields: Fields) -> Option<String> {
    let node = tree.dom(index as usize);
    match tag {
        "img" => image_label(&node).map(|label| format!("[{label}]")),
        "input" => input_widget(&node),
        "select" => Some(select_widget(tree, index, fields)),
        "textarea" => Some(textarea_widget(&node)),
        _ => None,
    }
}

/// A frame's name in the link list: its title, its name, else its document's file name.
pub(super) fn frame_title(node: &Node, src: &str) -> String {
    node.attr("title")
        .or_else(|| node.attr("name"))
        .map(|t| collapse(&t))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| file_name(src).unwrap_or("frame").to_string())
}

/// The last part of a URL's path, if not empty.
fn file_name(src: &str) -> Option<&str> {
    let path = src.split(['?', '#']).next().unwrap_or_default();
    path.rsplit('/').next().filter(|n| !n.is_empty())
}

/// What an image shows: its alt text, nothing for an empty alt, or its file name.
fn image_label(node: &Node) -> Option<String> {
    if let Some(alt) = node.attr("alt") {
        let alt = collapse(&alt);
        return (!alt.is_empty()).then_some(alt);
    }
    // A tracking pixel without alt shows nothing.
    let tiny = |name: &str| {
        node.attr(name)
            .and_then(|v| v.trim().trim_end_matches("px").parse::<u32>().ok())
            .is_some_and(|v| v <= 2)
    };
    if tiny("width") || tiny("height") {
        return None;
    }
    let src = node.attr("src").unwrap_or_default();
    Some(file_name(&src).unwrap_or("image").to_string())
}

/// An `<input>` as its widget (`[x]`, `( )`, `[Submit]`, a field of its `size`), None
/// for a hidden one or a button without a value.
fn input_widget(node: &Node) -> Option<String> {
    let kind = node
        .attr("type")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let value = node.attr("value").map(|v| collapse(&v)).unwrap_or_default();
    let label = |default: &str| {
        if value.is_empty() {
            format!("[{default}]")
        } else {
            format!("[{value}]")
        }
    };
    Some(match kind.as_str() {
        "hidden" => return None,
        "checkbox" => {
            if node.has_attr("checked") {
                "[x]".into()
            } else {
                "[ ]".into()
            }
        }
        "radio" => {
            if node.has_attr("checked") {
                "(o)".into()
            } else {
                "( )".into()
            }
        }
        "submit" => label("Submit"),
        "reset" => label("Reset"),
        "button" => {
            if value.is_empty() {
                return None;
            }
            label("")
        }
        "image" => format!(
            "[{}]",
            node.attr("alt")
                .map(|a| collapse(&a))
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| "Submit".into())
        ),
        "file" => "[Choose file]".into(),
        "range" => "[-----o-----]".into(),
        "color" => "[color]".into(),
        _ => {
            let size = node
                .attr("size")
                .and_then(|s| s.trim().parse::<usize>().ok())
                .unwrap_or(12)
                .clamp(4, 40);
            let shown = if kind == "password" {
                "*".repeat(value.chars().count())
            } else {
                value.clone()
            };
            let pad = size.saturating_sub(shown.chars().count());
            format!("[{shown}{}]", "_".repeat(pad))
        }
    })
}

/// A `<textarea>` as a field holding the start of its text.
fn textarea_widget(node: &Node) -> String {
    let text = collapse(&node.text_content());
    let shown: String = text.chars().take(40).collect();
    let pad = 12usize.saturating_sub(shown.chars().count());
    format!("[{shown}{}]", "_".repeat(pad))
}

/// A `<select>` as its chosen options (the first when none is, unless it is `multiple`).
/// Numbered (in the TUI), it is as wide as its longest option, so any choice fits.
fn select_widget(tree: &Tree, index: u32, fields: Fields) -> String {
    let tn = &tree.nodes[index as usize];
    let node = &tree.dom(index as usize);
    let multiple = node.has_attr("multiple");
    let mut first = None;
    let mut chosen = Vec::new();
    let mut widest = 0;
    for k in index + 1..tn.end {
        let n = &tree.nodes[k as usize];
        if n.is_text || tree.dom(k as usize).tag() != Some("option") {
            continue;
        }
        let option = tree.dom(k as usize);
        let label = option
            .attr("label")
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| option.text_content());
        let label = collapse(&label);
        widest = widest.max(unicode_width::UnicodeWidthStr::width(label.as_str()));
        if first.is_none() {
            first = Some(label.clone());
        }
        if option.has_attr("selected") {
            if !multiple {
                chosen.clear();
            }
            chosen.push(label);
        }
    }
    if chosen.is_empty() && !multiple {
        chosen.extend(first);
    }
    let shown = chosen.join(", ");
    let pad = match fields {
        Fields::Numbered if !multiple => {
            widest.saturating_sub(unicode_width::UnicodeWidthStr::width(shown.as_str()))
        }
        _ => 0,
    };
    format!("[{shown}{} ▾]", " ".repeat(pad))
}
