//! Drawing: a pure function of `&App`. Only the visible part of each pane is turned into
//! widgets, so a frame costs what the screen holds, not what the document holds.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::app::{App, LoadState, Overlay, Pane};
use super::keys::{self, Scope};
use crate::layout::SpanStyle;
use crate::text::escape_line;
use crate::trace::record::ConnectionUse;

mod chat;
mod fields;
mod network;
mod trace;

/// Styles, in colour or (NO_COLOR, monochrome) in reverse video, bold and underline only.
pub struct Theme {
    color: bool,
}

impl Theme {
    fn focus_border(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }
    fn focus_title(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }
    fn link(&self) -> Style {
        let s = Style::new().add_modifier(Modifier::UNDERLINED);
        if self.color {
            s.fg(Color::LightBlue)
        } else {
            s
        }
    }
    fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    fn related(&self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }
    fn search(&self) -> Style {
        if self.color {
            Style::new().bg(Color::Yellow).fg(Color::Black)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::UNDERLINED)
        }
    }
    fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    fn error(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }
    fn accent(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }
    /// A load moment's line on the waterfall: DevTools' blue (DOMContentLoaded) and red
    /// (load); green for the first render.
    fn moment(&self, moment: &str) -> Style {
        if !self.color {
            return Style::new();
        }
        Style::new().fg(match moment {
            "dom_content_loaded" => Color::Blue,
            "load" => Color::Red,
            _ => Color::Green,
        })
    }

    fn phase(&self, index: usize) -> Style {
        if !self.color {
            return Style::new();
        }
        let colors = [
            Color::Magenta,
            Color::Yellow,
            Color::LightMagenta,
            Color::Gray,
            Color::Green,
            Color::LightBlue,
        ];
        Style::new().fg(colors[index % colors.len()])
    }
}

/// Waterfall glyphs per phase (dns, connect, tls, send, wait, receive): distinct without colour.
const PHASE_GLYPHS: [char; 6] = ['d', 'c', 't', 's', '░', '█'];
const PHASE_NAMES: [&str; 6] = ["DNS", "connect", "TLS", "send", "wait", "receive"];

/// The panes' areas, for resizing the page and for tests.
pub struct Areas {
    pub page: Rect,
}

pub fn areas(app: &App, area: Rect) -> Areas {
    let [_, main, _] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    let page = if app.zoomed {
        main
    } else {
        let [left, _] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(main);
        left
    };
    Areas {
        page: Rect {
            x: page.x + 1,
            y: page.y + 1,
            width: page.width.saturating_sub(2),
            height: page.height.saturating_sub(2),
        },
    }
}

pub fn draw(frame: &mut Frame, app: &App) {
    let theme = Theme { color: app.color };
    let [top, main, bottom] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_address(frame, app, &theme, top);
    if app.zoomed {
        draw_pane(frame, app, &theme, app.focus, main);
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(main);
        let [net, trace] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(right);
        let left_pane = if app.chat.is_some() {
            Pane::Chat
        } else {
            app.left
        };
        draw_pane(frame, app, &theme, left_pane, left);
        draw_pane(frame, app, &theme, Pane::Network, net);
        draw_pane(frame, app, &theme, Pane::Trace, trace);
    }
    draw_footer(frame, app, &theme, bottom);
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help(scroll) => draw_help(frame, &theme, *scroll),
        Overlay::Detail(id) => draw_detail(frame, app, &theme, *id),
        Overlay::OpenUrl(text) => {
            draw_prompt(frame, &theme, "Open URL (Enter loads, Esc cancels)", text)
        }
        Overlay::Search(text) => draw_prompt(
            frame,
            &theme,
            "Search the page (Enter finds, Esc cancels)",
            text,
        ),
        Overlay::History(i) => draw_history(frame, app, &theme, *i),
        Overlay::Jar(lines) => draw_jar(frame, &theme, lines),
        Overlay::Choose {
            control,
            at,
            chosen,
        } => fields::draw_choose(frame, app, &theme, (*control, *at, chosen)),
        Overlay::FilePath { text, .. } => draw_prompt(
            frame,
            &theme,
            "File to send (a path; Enter sets it, empty: no file, Esc cancels)",
            text,
        ),
    }
}

fn draw_pane(frame: &mut Frame, app: &App, theme: &Theme, pane: Pane, area: Rect) {
    let focused = app.focus == pane;
    let title = match pane {
        Pane::Page => match app.page.as_ref().and_then(|p| p.title.clone()) {
            Some(t) => format!(" Page: {} ", escape_line(&t)),
            None => " Page ".to_string(),
        },
        Pane::Network => format!(
            " Network: {} request{} ",
            app.requests.len(),
            if app.requests.len() == 1 { "" } else { "s" }
        ),
        Pane::Trace => format!(
            " Trace: {} step{} ",
            app.events.len(),
            if app.events.len() == 1 { "" } else { "s" }
        ),
        Pane::Dom if app.dom_source => " Source (s: DOM tree) ".to_string(),
        Pane::Dom => " DOM (s: source) ".to_string(),
        Pane::Chat => chat::chat_title(app, area.width as usize),
    };
    let mut block = Block::default().borders(Borders::ALL).title(Span::styled(
        title,
        if focused {
            theme.focus_title()
        } else {
            Style::new()
        },
    ));
    if focused {
        block = block.border_style(theme.focus_border());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    match pane {
        Pane::Page => draw_page(frame, app, theme, inner),
        Pane::Network => network::draw_network(frame, app, theme, inner),
        Pane::Trace => trace::draw_trace(frame, app, theme, inner),
        Pane::Dom => draw_dom(frame, app, theme, inner),
        Pane::Chat => chat::draw_chat(frame, app, theme, inner),
    }
}

fn draw_address(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    const SPIN: [&str; 4] = ["|", "/", "-", "\\"];
    let (done, total, bytes) = app.progress();
    let status = match &app.state {
        LoadState::Idle => Span::raw("idle"),
        LoadState::Loading { .. } if app.chat.is_some() => Span::styled(
            format!(
                "{} live chat: {total} request{} so far, {}",
                SPIN[app.spinner % 4],
                if total == 1 { "" } else { "s" },
                human_bytes(bytes)
            ),
            theme.accent(),
        ),
        LoadState::Loading { since } if !app.step.enabled => Span::styled(
            format!(
                "{} loading {done}/{total} requests, {} in {:.1} s",
                SPIN[app.spinner % 4],
                human_bytes(bytes),
                since.elapsed().as_secs_f64()
            ),
            theme.accent(),
        ),
        LoadState::Loading { .. } => Span::styled(
            format!("step mode: {done}/{total} requests, {}", human_bytes(bytes)),
            theme.accent(),
        ),
        LoadState::Done { ms, failed } => {
            let code = app
                .page
                .as_ref()
                .and_then(|p| p.status)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "file".into());
            let cached = app.requests.iter().filter(|r| r.from_cache()).count();
            let done = format!(
                "{code} · {total} request{}{} · {} · {ms:.0} ms",
                if total == 1 { "" } else { "s" },
                match cached {
                    0 => String::new(),
                    n => format!(" ({n} from the cache)"),
                },
                human_bytes(bytes)
            );
            // A load that lost something says so where everyone looks (the trace says what).
            match failed {
                0 => Span::raw(done),
                n => Span::styled(
                    format!("{done} · {n} failed (see the trace)"),
                    theme.error(),
                ),
            }
        }
        LoadState::Failed(e) => Span::styled(format!("failed: {}", escape_line(e)), theme.error()),
    };
    let line1 = Line::from(vec![
        Span::styled(" URL ", theme.focus_title()),
        Span::raw(" "),
        Span::raw(escape_line(&app.url).into_owned()),
    ]);
    let line2 = match (&app.step.waiting, app.step.enabled) {
        (Some(next), _) => step_line(app, next, theme),
        (None, true) => {
            let running = app.step.running.as_deref().unwrap_or("the load");
            Line::from(vec![
                Span::styled(" ▶ running: ", theme.accent()),
                Span::raw(escape_line(running).into_owned()),
                Span::raw("   "),
                status,
            ])
        }
        _ => {
            let mut spans = vec![Span::raw(" "), status];
            // --insecure is said loudly: on every screen where an unchecked handshake happened.
            if app
                .requests
                .iter()
                .any(|r| r.tls.as_ref().is_some_and(|t| !t.verified))
            {
                spans.push(Span::styled(
                    "  !!! NOT VERIFIED (--insecure): certificates were not checked",
                    theme.error(),
                ));
            }
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(vec![line1, line2]), area);
}

/// What step mode runs next, and how many steps wait behind it for a Space each.
fn step_line<'a>(app: &App, next: &str, theme: &Theme) -> Line<'a> {
    let mut spans = vec![
        Span::styled(" ⏸ next: ", theme.accent()),
        Span::raw(escape_line(next).into_owned()),
    ];
    let behind = app.step.queued.len();
    if behind > 0 {
        spans.push(Span::styled(
            format!(
                "  (then {behind} more step{} ready)",
                if behind == 1 { "" } else { "s" }
            ),
            theme.accent(),
        ));
    }
    spans.push(Span::styled(
        match app.step.autoplay {
            Some(d) => format!("   (auto-play every {} ms; a stops it)", d.as_millis()),
            None => "   — Space runs it, a auto-plays, c continues".to_string(),
        },
        theme.dim(),
    ));
    Line::from(spans)
}

fn draw_footer(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let pane_scope = match app.focus {
        Pane::Page => Scope::Page,
        Pane::Network => Scope::Network,
        Pane::Trace => Scope::Trace,
        Pane::Dom => Scope::Dom,
        Pane::Chat => Scope::Chat,
    };
    // While typing a chat message every key is text: show only the chat's own keys.
    let mut scopes = if pane_scope == Scope::Chat {
        vec![Scope::Chat]
    } else {
        vec![Scope::Global, pane_scope]
    };
    if app.step.enabled {
        scopes.push(Scope::Step);
    }
    let mut spans = Vec::new();
    if let Some(editing) = app.editing.filter(|_| app.focus == Pane::Page) {
        let textarea = app
            .field(editing.control)
            .is_some_and(|c| c.kind == crate::form::ControlKind::Textarea);
        let hint = if textarea {
            format!(
                " typing into field [{}] · Enter: new line · Esc: done ",
                editing.link + 1
            )
        } else {
            format!(
                " typing into field [{}] · Enter sends the form · Esc stops · Ctrl-U clears ",
                editing.link + 1
            )
        };
        spans.push(Span::styled(hint, theme.accent()));
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    if let Some(message) = &app.message {
        spans.push(Span::styled(
            format!(" {} ", escape_line(message)),
            theme.accent(),
        ));
    } else if !app.link_number.is_empty() {
        spans.push(Span::styled(
            format!(" link {}_ (Enter follows) ", app.link_number),
            theme.accent(),
        ));
    }
    for entry in keys::footer(&scopes) {
        let (key, action) = entry.split_once(' ').unwrap_or((entry, ""));
        spans.push(Span::styled(key, theme.selected()));
        spans.push(Span::raw(format!(" {action}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_page(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let Some(page) = &app.page else {
        let text = match &app.state {
            LoadState::Failed(e) => vec![Line::styled(escape_line(e).into_owned(), theme.error())],
            _ => vec![Line::styled(
                "(the page appears when it has loaded)",
                theme.dim(),
            )],
        };
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), area);
        return;
    };
    let height = area.height as usize;
    let first = app.page_scroll;
    let last = (first + height).min(page.layout.lines.len());
    // Only the visible lines' spans are looked at: spans are sorted by line.
    let start_span = page.layout.spans.partition_point(|s| s.line < first);
    let mut lines = Vec::with_capacity(height);
    for index in first..last {
        let text = &page.layout.lines[index];
        let mut marks: Vec<(usize, usize, Style)> = Vec::new();
        for span in page.layout.spans[start_span..]
            .iter()
            .take_while(|s| s.line <= index)
            .filter(|s| s.line == index)
        {
            let style = match span.style {
                SpanStyle::Link(i) if app.selected_link == Some(i) => theme.selected(),
                SpanStyle::Link(_) => theme.link(),
                SpanStyle::Heading | SpanStyle::Bold => Style::new().add_modifier(Modifier::BOLD),
                SpanStyle::Italic => Style::new().add_modifier(Modifier::ITALIC),
                SpanStyle::Underline => Style::new().add_modifier(Modifier::UNDERLINED),
                SpanStyle::Code => theme.dim(),
            };
            marks.push((span.start, span.end, style));
        }
        if let Some(search) = &app.search {
            for (n, (line, start, end)) in search.matches.iter().enumerate() {
                if *line == index {
                    let style = if n == search.current {
                        theme.search().add_modifier(Modifier::BOLD)
                    } else {
                        theme.search()
                    };
                    marks.push((*start, *end, style));
                }
            }
        }
        match fields::line_with_values(app, page, index, &marks, theme) {
            Some((filled, marks)) => lines.push(owned_line(&filled, &marks)),
            None => lines.push(styled_line(text, &marks)),
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// [`styled_line`] of a line made for this frame (a field's value put in).
fn owned_line(text: &str, marks: &[(usize, usize, Style)]) -> Line<'static> {
    let line = styled_line(text, marks);
    Line::from(
        line.spans
            .into_iter()
            .map(|s| Span::styled(s.content.into_owned(), s.style))
            .collect::<Vec<_>>(),
    )
}

/// A line with styled byte ranges (later marks win where they overlap).
fn styled_line<'a>(text: &'a str, marks: &[(usize, usize, Style)]) -> Line<'a> {
    if marks.is_empty() {
        return Line::raw(text);
    }
    let mut cuts: Vec<usize> = vec![0, text.len()];
    for (s, e, _) in marks {
        cuts.push((*s).min(text.len()));
        cuts.push((*e).min(text.len()));
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut spans = Vec::new();
    for pair in cuts.windows(2) {
        let (s, e) = (pair[0], pair[1]);
        let Some(piece) = text.get(s..e) else {
            continue;
        };
        let style = marks
            .iter()
            .filter(|(ms, me, _)| *ms <= s && e <= *me)
            .fold(Style::new(), |acc, (_, _, st)| acc.patch(*st));
        spans.push(Span::styled(piece, style));
    }
    Line::from(spans)
}

fn draw_dom(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let Some(page) = &app.page else {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "(the DOM appears when the page has loaded)",
                theme.dim(),
            )),
            area,
        );
        return;
    };
    let rows = area.height as usize;
    let first = app.dom_selected.saturating_sub(rows.saturating_sub(1));
    let mut lines = Vec::new();
    if app.dom_source {
        for (i, line) in page.source.iter().enumerate().skip(first).take(rows) {
            let style = if i == app.dom_selected {
                theme.selected()
            } else {
                Style::new()
            };
            lines.push(Line::styled(format!("{:>5} {line}", i + 1), style));
        }
    } else {
        let visible = app.visible_dom_rows();
        let highlight = app.highlighted_node();
        for (i, row) in visible.iter().enumerate().skip(first).take(rows) {
            let marker = match (row.has_children, app.dom_collapsed.contains(&row.node)) {
                (true, true) => "▸ ",
                (true, false) => "▾ ",
                _ => "  ",
            };
            let style = if i == app.dom_selected && app.focus == Pane::Dom {
                theme.selected()
            } else if Some(row.node) == highlight {
                theme.related()
            } else {
                Style::new()
            };
            let indent = "  ".repeat(row.depth.min(40));
            lines.push(Line::styled(
                format!("{indent}{marker}{}", row.label),
                style,
            ));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// A centred rectangle for dialogs.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn dialog<'a>(title: &'a str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.focus_border())
        .title(Span::styled(format!(" {title} "), theme.focus_title()))
}

fn draw_help(frame: &mut Frame, theme: &Theme, scroll: u16) {
    let mut lines = Vec::new();
    let mut scope = None;
    for binding in keys::BINDINGS {
        if scope != Some(binding.scope) {
            scope = Some(binding.scope);
            lines.push(Line::styled(binding.scope.title(), theme.accent()));
        }
        lines.push(Line::from(vec![
            Span::raw(format!("  {:<28}", binding.keys)),
            Span::raw(binding.action),
        ]));
    }
    lines.push(Line::styled("Esc or ? closes this help.", theme.dim()));
    let area = centered(frame.area(), 84, lines.len() as u16 + 2);
    // On a small terminal the list scrolls; the title says so and how far down it is.
    let visible = area.height.saturating_sub(2) as usize;
    let hidden = lines.len().saturating_sub(visible);
    let scroll = (scroll as usize).min(hidden);
    let title = if hidden > 0 {
        format!("Keys · ↑↓ scroll ({}/{})", scroll, hidden)
    } else {
        "Keys".to_string()
    };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll as u16, 0))
            .block(dialog(&title, theme)),
        area,
    );
}

fn draw_jar(frame: &mut Frame, theme: &Theme, jar: &[String]) {
    let area = centered(
        frame.area(),
        100,
        (jar.len() as u16).saturating_add(4).min(30),
    );
    let mut lines: Vec<Line> = jar.iter().map(|l| Line::raw(l.as_str())).collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Each cookie goes back in a Cookie header to its domain and path. Esc closes.",
        theme.dim(),
    ));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(dialog("Cookie jar", theme)),
        area,
    );
}

fn draw_prompt(frame: &mut Frame, theme: &Theme, title: &str, text: &str) {
    let area = centered(frame.area(), 70, 3);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(format!("{}▏", escape_line(text))).block(dialog(title, theme)),
        area,
    );
}

fn draw_history(frame: &mut Frame, app: &App, theme: &Theme, selected: usize) {
    let area = centered(
        frame.area(),
        80,
        (app.history.len() as u16 + 2).clamp(3, 20),
    );
    let lines: Vec<Line> = app
        .history
        .iter()
        .enumerate()
        .map(|(i, url)| {
            let current = if i == app.history_pos { "*" } else { " " };
            let style = if i == selected {
                theme.selected()
            } else {
                Style::new()
            };
            Line::styled(format!("{current} {}", escape_line(url)), style)
        })
        .collect();
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(dialog("History (Enter opens)", theme)),
        area,
    );
}

/// The request detail's line about its connection: new, reused, an HTTP/2 stream, or none.
fn connection_line(row: &crate::trace::RequestRecord) -> String {
    match &row.connection {
        Some(ConnectionUse {
            id,
            reused,
            stream: Some(stream),
            ..
        }) => format!(
            "HTTP/2 stream {stream} on connection #{id}{}",
            if *reused {
                ", shared with this origin's other requests"
            } else {
                ", new"
            }
        ),
        Some(c) if c.reused => format!(
            "connection #{}, reused (keep-alive: no DNS, no connect)",
            c.id
        ),
        Some(c) => format!("connection #{}, new", c.id),
        None if row.from_cache() => {
            "answered by the HTTP cache: no DNS, no connection, no request".to_string()
        }
        None => "no connection".to_string(),
    }
}

fn draw_detail(frame: &mut Frame, app: &App, theme: &Theme, id: u32) {
    let area = centered(
        frame.area(),
        frame.area().width.saturating_sub(4),
        frame.area().height.saturating_sub(2),
    );
    let Some(row) = app.requests.by_id(id) else {
        return;
    };
    let mut lines = vec![Line::styled(
        format!("{} {}", row.method, escape_line(&row.url)),
        theme.accent(),
    )];
    if let Some(node) = row.initiator_node() {
        lines.push(Line::raw(format!(
            "asked for by DOM node {node} ({})",
            row.purpose
        )));
    }
    if let Some(queued) = &row.queued {
        lines.push(Line::raw(escape_line(&queued.describe()).into_owned()));
    }
    lines.push(Line::raw(connection_line(row)));
    if let Some(proxy) = &row.proxy {
        lines.push(Line::raw(escape_line(&proxy.summary).into_owned()));
    }
    if let Some(tls) = &row.tls {
        lines.push(Line::raw(format!("TLS {}", escape_line(&tls.summary))));
        if !tls.verification.is_empty() {
            let text = escape_line(&tls.verification).into_owned();
            lines.push(if tls.verified {
                Line::raw(format!("  {text}"))
            } else {
                Line::styled(format!("  !!! {text}"), theme.error())
            });
        }
    }
    for cookie in &row.cookies {
        lines.push(Line::raw(format!("cookie: {}", escape_line(cookie))));
    }
    lines.push(Line::styled("Timing", theme.accent()));
    for (i, ms) in row.phases().durations().iter().enumerate() {
        let shown = if *ms > 0.0 {
            format!("{ms:.3} ms")
        } else {
            "-".into()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", PHASE_GLYPHS[i]), theme.phase(i)),
            Span::raw(format!("{:<8} {shown}", PHASE_NAMES[i])),
        ]));
    }
    for dns in &row.dns {
        lines.push(Line::styled(
            format!(
                "DNS answer used for {} {}?{}",
                dns.host,
                dns.record_type,
                if dns.cached { " (from the cache)" } else { "" }
            ),
            theme.accent(),
        ));
        if dns.records.is_empty() {
            lines.push(Line::raw("  (no records of this type)"));
        }
        for r in &dns.records {
            lines.push(Line::raw(format!(
                "  {} {} {} {}",
                r.name,
                r.ttl,
                r.record_type,
                escape_line(&r.data)
            )));
        }
    }
    lines.push(Line::styled("Request", theme.accent()));
    lines.extend(head_lines(row.request.as_ref().map_or("", |r| &r.head)));
    if let Some(body) = row.request.as_ref().and_then(|r| r.body.as_ref()) {
        // The body as it went, after the head's empty line (escaped; the first 2 KiB).
        lines.push(Line::styled(
            format!(
                "  (body: {} bytes of {}{})",
                body.bytes,
                escape_line(&body.content_type),
                if body.bytes as usize > body.preview.len() {
                    ", the first shown"
                } else {
                    ""
                }
            ),
            theme.dim(),
        ));
        lines.extend(
            body.preview
                .split('\n')
                .map(|l| Line::raw(format!("  {}", escape_line(l.trim_end_matches('\r'))))),
        );
    }
    if row.request.is_none() && row.from_cache() {
        lines.push(Line::raw(
            "  (none sent: the stored response below answered)",
        ));
    }
    lines.push(Line::styled("Response", theme.accent()));
    lines.extend(head_lines(row.response.as_ref().map_or("", |r| &r.head)));
    if let Some(body) = &row.body {
        lines.push(Line::raw(format!(
            "body: {} on the wire, {} decoded",
            human_bytes(body.wire_bytes),
            human_bytes(body.decoded_bytes)
        )));
    }
    lines.extend(cache_lines(row, theme));
    if let Some(hop) = &row.redirect {
        lines.push(Line::styled(
            format!("redirect {} → {}", hop.status, escape_line(&hop.next_url)),
            theme.accent(),
        ));
    }
    if let Some(error) = &row.error {
        lines.push(Line::styled(
            format!("error: {}", escape_line(error)),
            theme.error(),
        ));
    }
    lines.push(Line::styled("↑↓ other requests · Esc closes", theme.dim()));
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(dialog(&format!("Request #{id}"), theme)),
        area,
    );
}

/// The detail's "Cache" section: what the cache did, and the response's cache headers with
/// what each means.
fn cache_lines(row: &crate::trace::RequestRecord, theme: &Theme) -> Vec<Line<'static>> {
    let head = row.response.as_ref().map_or("", |r| r.head.as_str());
    let explained = crate::trace::cache_headers_explained(head);
    if row.cache.is_empty() && explained.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![Line::styled("Cache", theme.accent())];
    for step in &row.cache {
        let kind = crate::trace::EventKind::Cache(step.clone());
        let (_, summary) = crate::trace::headline(&kind);
        lines.push(Line::raw(format!("  {}", escape_line(&summary))));
        lines.push(Line::raw(format!("    why: {}", escape_line(&step.reason))));
    }
    lines.extend(explained.into_iter().map(|l| Line::raw(format!("  {l}"))));
    lines
}

fn head_lines(head: &str) -> Vec<Line<'static>> {
    head.trim_end()
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| Line::raw(format!("  {}", escape_line(l))))
        .collect()
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return escape_line(text).into_owned();
    }
    let cut: String = text.chars().take(width.saturating_sub(1)).collect();
    format!("{}…", escape_line(&cut))
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{:.1} MB", n as f64 / (1024.0 * 1024.0)),
    }
}
