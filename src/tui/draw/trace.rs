//! The Trace pane: one line per step (wrapped when the pane is zoomed, so every step's
//! whole text is on screen), and the explanation of the selected one.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthChar;

use super::Theme;
use crate::text::escape_line;
use crate::trace::{explain, Event, EventKind};
use crate::tui::app::App;
use crate::views::trace_text;

/// Cells before a step's summary: time, request and label (`  12.0  #3 RESPONSE `).
const HEAD_WIDTH: usize = 21;

fn step_text(event: &Event) -> String {
    let (label, summary) = trace_text::headline(&event.kind);
    let request = event.request.map(|r| format!("#{r}")).unwrap_or_default();
    format!(
        "{:>7.1} {:>3} {:<8} {}",
        event.t_ms,
        request,
        label,
        escape_line(&summary)
    )
}

/// Breaks `text` into lines of at most `width` cells, at spaces where it can; lines after
/// the first are indented by `indent` cells (under the summary).
pub(super) fn wrap(text: &str, width: usize, indent: usize) -> Vec<String> {
    let width = width.max(1);
    let indent = if indent + 10 > width { 0 } else { indent };
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut cells = 0;
    // Where the line could break: the byte after its last space, and the cells before it.
    let mut last_space: Option<(usize, usize)> = None;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if cells + w > width && cells > indent {
            let rest = match last_space {
                Some((at, before)) if before > indent => {
                    let rest = line.split_off(at);
                    line.truncate(line.trim_end().len());
                    rest
                }
                _ => String::new(),
            };
            lines.push(std::mem::take(&mut line));
            line = " ".repeat(indent);
            line.push_str(rest.trim_start());
            cells = line.chars().map(|c| c.width().unwrap_or(0)).sum();
            last_space = None;
        }
        line.push(c);
        cells += w;
        if c == ' ' {
            last_space = Some((line.len(), cells));
        }
    }
    if !line.trim().is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

pub(super) fn draw_trace(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    if area.height < 3 {
        return;
    }
    let explain_height = (area.height / 3).clamp(2, 7);
    let [list_area, explain_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(explain_height)]).areas(area);
    let selected = app
        .trace_selected
        .unwrap_or(app.events.len().saturating_sub(1));
    let rows = list_area.height as usize;
    let width = list_area.width as usize;
    // Zoomed, a step takes as many lines as its text needs; otherwise one, cut at the edge.
    let text_of = |i: usize| -> Vec<String> {
        let text = app.events.get(i).map(step_text).unwrap_or_default();
        if app.zoomed {
            wrap(&text, width, HEAD_WIDTH)
        } else {
            vec![text]
        }
    };
    // The first step shown: as far back as still leaves the whole selected step on screen.
    let mut first = selected.min(app.events.len().saturating_sub(1));
    let mut used = text_of(first).len();
    while first > 0 {
        let above = text_of(first - 1).len();
        if used + above > rows {
            break;
        }
        used += above;
        first -= 1;
    }
    let mut lines = Vec::new();
    for (i, event) in app.events.iter().enumerate().skip(first) {
        if lines.len() >= rows {
            break;
        }
        let style = if i == selected {
            theme.selected()
        } else {
            Style::new()
        };
        let style = if matches!(event.kind, EventKind::Failed { .. }) {
            style.patch(theme.error())
        } else {
            style
        };
        lines.extend(text_of(i).into_iter().map(|l| Line::styled(l, style)));
    }
    lines.truncate(rows);
    frame.render_widget(Paragraph::new(lines), list_area);
    let explanation = app
        .selected_event()
        .map(|e| explain(&e.kind))
        .unwrap_or_else(|| "Steps appear here as the browser takes them.".into());
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Span::styled(" what happened ", theme.dim()));
    frame.render_widget(
        Paragraph::new(escape_line(&explanation).into_owned())
            .wrap(Wrap { trim: true })
            .block(block),
        explain_area,
    );
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrapping_keeps_every_word_and_indents_under_the_summary() {
        let text =
            "   12.0  #3 RESPONSE 200 OK, first byte after 1.017 ms from www.minibrowse.test";
        let lines = wrap(text, 40, 21);
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(line.chars().count() <= 40, "{line:?}");
        }
        for line in &lines[1..] {
            assert!(line.starts_with(&" ".repeat(21)), "{line:?}");
        }
        let words: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
        // A word longer than the line is cut, not lost.
        let long = wrap(&format!("{}x{}", " ".repeat(21), "a".repeat(60)), 40, 21);
        assert_eq!(long.concat().matches('a').count(), 60);
        assert_eq!(wrap("short", 40, 21), vec!["short".to_string()]);
        assert_eq!(wrap("", 40, 21), vec![String::new()]);
    }
}
