//! Form fields as the user filled them in: each changed field's value drawn in the place
//! its widget has in the laid-out line (same width, so nothing else on the line moves),
//! and the dialog of a select's options.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::{centered, dialog, Theme};
use crate::form::{Control, ControlKind, Forms, Values};
use crate::layout::{Layout, SpanStyle};
use crate::text::escape_line;
use crate::tui::app::App;
use crate::tui::session::PageView;

/// Styled byte ranges of a line.
type Marks = Vec<(usize, usize, Style)>;

/// Line `index` with the values of its changed fields put in, and its marks moved with
/// them; None when no field on it changed (the line is drawn as laid out).
pub(super) fn line_with_values(
    app: &App,
    page: &PageView,
    index: usize,
    marks: &[(usize, usize, Style)],
    theme: &Theme,
) -> Option<(String, Marks)> {
    if app.form_values.0.is_empty() && app.editing.is_none() {
        return None;
    }
    let text = page.layout.lines.get(index)?;
    let mut out = text.clone();
    let mut marks = marks.to_vec();
    let mut changed = false;
    // Right to left, so that each replacement leaves the earlier offsets as they were.
    let fields = fields_on_line(&page.layout, index);
    for (link, start, end, node) in fields.into_iter().rev() {
        let Some((i, control)) = page.forms.control_at(node) else {
            continue;
        };
        let editing = app.editing.is_some_and(|e| e.control == i);
        if !editing && !app.form_values.0.contains_key(&i) {
            continue;
        }
        let marker = format!("[{}]", link + 1);
        let Some(widget_at) = text
            .get(start..end)
            .filter(|s| s.starts_with(&marker))
            .map(|_| start + marker.len())
        else {
            continue;
        };
        let width = UnicodeWidthStr::width(&text[widget_at..end]);
        let Some(shown) = widget(control, &page.forms, &app.form_values, i, width, editing) else {
            continue;
        };
        let delta = shown.len() as isize - (end - widget_at) as isize;
        out.replace_range(widget_at..end, &shown);
        for mark in marks.iter_mut() {
            if mark.0 >= end {
                mark.0 = (mark.0 as isize + delta) as usize;
            }
            if mark.1 >= end {
                mark.1 = (mark.1 as isize + delta) as usize;
            }
        }
        if editing {
            let typing = theme.search().add_modifier(Modifier::BOLD);
            marks.push((widget_at, (end as isize + delta) as usize, typing));
        }
        changed = true;
    }
    changed.then_some((out, marks))
}

/// The numbered fields on line `index`: (link index, byte start, byte end, DOM node).
fn fields_on_line(layout: &Layout, index: usize) -> Vec<(usize, usize, usize, u32)> {
    let from = layout.spans.partition_point(|s| s.line < index);
    layout.spans[from..]
        .iter()
        .take_while(|s| s.line == index)
        .filter_map(|s| match s.style {
            SpanStyle::Link(k) => layout
                .links
                .get(k)
                .and_then(|l| l.field)
                .map(|node| (k, s.start, s.end, node)),
            _ => None,
        })
        .collect()
}

/// A field's widget showing its value now, `width` columns wide (None: it shows no value
/// of its own, a button).
fn widget(
    control: &Control,
    forms: &Forms,
    values: &Values,
    i: usize,
    width: usize,
    editing: bool,
) -> Option<String> {
    let inner = width.saturating_sub(2);
    Some(match control.kind {
        ControlKind::Checkbox => if values.checked(forms, i) {
            "[x]"
        } else {
            "[ ]"
        }
        .into(),
        ControlKind::Radio => if values.checked(forms, i) {
            "(o)"
        } else {
            "( )"
        }
        .into(),
        ControlKind::Select => {
            let labels: Vec<&str> = values
                .selected(forms, i)
                .into_iter()
                .filter_map(|k| control.options.get(k).map(|o| o.label.as_str()))
                .collect();
            // `[label ▾]`: the label gets what the brackets and the arrow leave.
            let label = fit(
                &escape_line(&labels.join(", ")),
                inner.saturating_sub(2),
                ' ',
            );
            format!("[{label} ▾]")
        }
        ControlKind::File => {
            let name = values
                .file(i)
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "Choose file".into());
            format!("[{}]", fit(&escape_line(&name), inner, ' '))
        }
        ControlKind::Text | ControlKind::Password | ControlKind::Textarea => {
            let text = values.text(forms, i);
            let mut shown: String = match control.kind {
                ControlKind::Password => "*".repeat(text.chars().count()),
                _ => escape_line(&text.replace('\n', "↵")).into_owned(),
            };
            if editing {
                shown.push('▏');
            }
            format!("[{}]", fit_tail(&shown, inner))
        }
        _ => return None,
    })
}

/// `text` in exactly `width` columns: cut with `…`, or padded with `pad`.
fn fit(text: &str, width: usize, pad: char) -> String {
    let mut out = String::new();
    let mut used = 0;
    let full = UnicodeWidthStr::width(text) <= width;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width.saturating_sub(usize::from(!full)) {
            break;
        }
        out.push(c);
        used += w;
    }
    if !full && used < width {
        out.push('…');
        used += 1;
    }
    out.extend(std::iter::repeat_n(pad, width.saturating_sub(used)));
    out
}

/// `text` in exactly `width` columns, its end kept (what is being typed), padded with `_`.
fn fit_tail(text: &str, width: usize) -> String {
    if UnicodeWidthStr::width(text) <= width {
        return fit(text, width, '_');
    }
    let mut kept: Vec<char> = Vec::new();
    let mut used = 1; // the `…` in front
    for c in text.chars().rev() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > width {
            break;
        }
        kept.push(c);
        used += w;
    }
    let mut out = String::from("…");
    out.extend(kept.into_iter().rev());
    fit(&out, width, '_')
}

/// A select's options: the cursor, and what is chosen.
pub(super) fn draw_choose(
    frame: &mut Frame,
    app: &App,
    theme: &Theme,
    (control, at, chosen): (usize, usize, &[usize]),
) {
    let Some(select) = app.field(control) else {
        return;
    };
    let area = centered(
        frame.area(),
        60,
        (select.options.len() as u16).saturating_add(3).min(20),
    );
    let visible = area.height.saturating_sub(3) as usize;
    let first = at.saturating_sub(visible.saturating_sub(1));
    let mut lines: Vec<Line> = select
        .options
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(k, option)| {
            let mark = match (select.multiple, chosen.contains(&k)) {
                (true, true) => "[x] ",
                (true, false) => "[ ] ",
                (false, true) => "(o) ",
                (false, false) => "( ) ",
            };
            let text = format!("{mark}{}", escape_line(&option.label));
            let style = match (k == at, option.disabled) {
                (true, _) => theme.selected(),
                (false, true) => theme.dim(),
                _ => Style::new(),
            };
            Line::from(Span::styled(text, style))
        })
        .collect();
    lines.push(Line::styled(
        if select.multiple {
            "↑↓ move · Space chooses or drops · Enter done · Esc cancels"
        } else {
            "↑↓ move · Enter chooses · Esc cancels"
        },
        theme.dim(),
    ));
    let title = format!("Choose: {}", escape_line(&select.name));
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(lines).block(dialog(&title, theme)), area);
}

#[cfg(test)]
mod tests {
    use super::{fit, fit_tail};

    #[test]
    fn fitting_keeps_the_width() {
        assert_eq!(fit("abc", 5, '_'), "abc__");
        assert_eq!(fit("abcdef", 4, ' '), "abc…");
        assert_eq!(fit_tail("abcdef", 4), "…def");
        assert_eq!(fit_tail("ab", 4), "ab__");
        assert_eq!(fit_tail("日本語です", 5), "…です");
    }
}
