//! The Chat pane: the messages, the input line, and what keeping up has cost in its title.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::Theme;
use crate::text::escape_line;
use crate::tui::app::{App, Pane};

/// The chat's title for a pane `width` cells wide (borders included): the running cost,
/// what a teacher points at. When it does not fit, words go before numbers do, and the
/// number of messages (the least telling) before the technique's name.
pub(super) fn chat_title(app: &App, width: usize) -> String {
    let Some(chat) = &app.chat else {
        return " Chat ".into();
    };
    let (via, short) = match chat.via.as_str() {
        "poll" => ("long polling", "poll"),
        "ws" => ("WebSocket", "ws"),
        "sse" => ("Server-Sent Events", "sse"),
        "refresh" => ("refreshing", "refresh"),
        other => (other, other),
    };
    let candidates: Vec<String> = match chat.cost {
        Some((messages, requests, bytes)) if messages > 0 => {
            let per = bytes / messages;
            let m = if messages == 1 { "message" } else { "messages" };
            let r = if requests == 1 { "request" } else { "requests" };
            vec![
                format!("Chat by {via}: {messages} {m} · {requests} {r} · {bytes} header bytes · {per} B/message"),
                format!("Chat by {via}: {messages} msg · {requests} req · {bytes} header bytes · {per} B/msg"),
                format!("{via}: {messages} msg · {requests} req · {bytes} B headers · {per} B/msg"),
                format!("{short}: {messages} msg · {requests} req · {bytes} B hdr · {per} B/msg"),
                format!("{short}: {requests} req · {bytes} B hdr · {per} B/msg"),
                format!("{short}: {requests} req · {bytes} B · {per} B/msg"),
                format!("{short}: {requests} req · {per} B/msg"),
                format!("{requests} req · {per} B/msg"),
                format!("{per} B/msg"),
            ]
        }
        _ => vec![format!("Chat by {via}"), via.to_string(), short.to_string()],
    };
    // The corners take one cell each, the title's own spaces one each.
    let room = width.saturating_sub(4);
    candidates
        .into_iter()
        .find(|t| t.chars().count() <= room)
        .map(|t| format!(" {t} "))
        .unwrap_or_default()
}

/// The cost table's height: a header, a row per technique, a hint.
const COST_ROWS: u16 = 6;

/// A duration as a class reads it: ms under a second, then seconds.
fn short_duration(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// What each technique cost in this session, one row each, the current one marked; cells
/// of a technique not tried yet are dashes. Narrow panes get the short column names.
fn cost_table<'a>(app: &App, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    let current = app
        .chat
        .as_ref()
        .map(|c| c.via.as_str())
        .unwrap_or_default();
    let wide = width >= 58;
    let header = if wide {
        format!(
            " {:<13}{:>6}{:>10}{:>10}{:>7}{:>11}",
            "technique", "msgs", "requests", "header B", "B/msg", "waited"
        )
    } else {
        format!(
            " {:<7}{:>4}{:>4}{:>6}{:>6}{:>8}",
            "", "msg", "req", "hdr B", "B/msg", "waited"
        )
    };
    let mut lines = vec![Line::styled(header, theme.dim())];
    for (via, name, cost) in app.chat_costs.rows() {
        let mark = if via == current { "▶" } else { " " };
        let dash = || "–".to_string();
        let (messages, requests, bytes, per, seen) = match cost {
            Some(c) => (
                c.messages.to_string(),
                c.requests.to_string(),
                c.header_bytes.to_string(),
                c.bytes_per_message().map_or_else(dash, |b| b.to_string()),
                c.send_to_seen().map_or_else(dash, short_duration),
            ),
            None => (dash(), dash(), dash(), dash(), dash()),
        };
        let row = if wide {
            format!("{mark}{name:<13}{messages:>6}{requests:>10}{bytes:>10}{per:>7}{seen:>11}")
        } else {
            format!("{mark}{via:<7}{messages:>4}{requests:>4}{bytes:>6}{per:>6}{seen:>8}")
        };
        let style = if via == current {
            theme.accent()
        } else {
            ratatui::style::Style::default()
        };
        lines.push(Line::styled(row, style));
    }
    let hint = match (current == "refresh", wide) {
        (true, true) => " Ctrl-T: next technique · Enter on an empty line refreshes",
        (true, false) => " Ctrl-T next · empty Enter refreshes",
        (false, true) => " Ctrl-T: the same chat by the next technique",
        (false, false) => " Ctrl-T: next technique",
    };
    lines.push(Line::styled(hint, theme.dim()));
    lines
}

pub(super) fn draw_chat(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let Some(chat) = &app.chat else { return };
    if area.height < 2 {
        return;
    }
    // The three techniques side by side, above the messages, when there is room for both.
    let table_rows = if area.height >= 12 { COST_ROWS } else { 0 };
    let [costs, messages, input] = Layout::vertical([
        Constraint::Length(table_rows),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    if table_rows > 0 {
        frame.render_widget(
            Paragraph::new(cost_table(app, costs.width as usize, theme)),
            costs,
        );
    }
    let rows = messages.height as usize;
    let first = chat.lines.len().saturating_sub(rows);
    let mut lines: Vec<Line> = chat.lines[first..]
        .iter()
        .map(|l| Line::raw(l.as_str()))
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled(
            "(no messages yet: type one below and press Enter)",
            theme.dim(),
        ));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), messages);
    let prompt = if app.focus == Pane::Chat {
        theme.selected()
    } else {
        theme.dim()
    };
    let shown: String = {
        // The end of a long line stays visible.
        let width = input.width.saturating_sub(3) as usize;
        let count = chat.input.chars().count();
        chat.input
            .chars()
            .skip(count.saturating_sub(width))
            .collect()
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("> ", prompt),
            Span::raw(escape_line(&shown).into_owned()),
            Span::raw("▏"),
        ])),
        input,
    );
}

#[cfg(test)]
mod tests {
    use super::chat_title;
    use crate::tui::app::{App, ChatView};

    #[test]
    fn the_cost_title_is_never_cut() {
        let mut app = App::new(false);
        app.chat = Some(ChatView {
            via: "poll".into(),
            cost: Some((12, 31, 9123)),
            ..ChatView::default()
        });
        assert_eq!(
            chat_title(&app, 120),
            " Chat by long polling: 12 messages · 31 requests · 9123 header bytes · 760 B/message "
        );
        for width in 0..130 {
            let title = chat_title(&app, width);
            assert!(
                title.chars().count() + 2 <= width.max(2),
                "{width}: {title}"
            );
            if width >= 16 {
                assert!(title.contains("760 B/m"), "{width}: {title}");
            }
            if width >= 30 {
                assert!(
                    title.contains("poll") && title.contains("31 req"),
                    "{width}: {title}"
                );
            }
        }
        app.chat = Some(ChatView {
            via: "ws".into(),
            ..ChatView::default()
        });
        assert_eq!(chat_title(&app, 40), " Chat by WebSocket ");
        assert_eq!(chat_title(&app, 12), " ws ");
    }
}
