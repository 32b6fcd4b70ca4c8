//! The Network pane: the request log, one row per request, named like DevTools' Name
//! column, with its waterfall.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{human_bytes, truncate, Theme, PHASE_GLYPHS};
use crate::trace::{EventKind, RequestRecord};
use crate::tui::app::{App, Pane};

/// Which columns a row has at a width, and how wide the two shared ones are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Columns {
    /// The connection a request went on (`#2`; `#1 h2` for a stream of an HTTP/2 one).
    pub conn: bool,
    pub method: bool,
    pub kind: bool,
    pub size: bool,
    pub name: usize,
    pub bar: usize,
}

/// The narrowest name worth showing before a column is dropped (`pygments.css`).
const NAME_MIN: usize = 12;

impl Columns {
    /// Fits the row to `width` cells, for names up to `longest` wide: the method, then the
    /// type, then the size go before the name or the waterfall get too narrow; the name
    /// takes what it needs, and the waterfall keeps at least a few columns.
    pub(super) fn fit(width: usize, longest: usize, h2: bool) -> Columns {
        let bar_min = if width >= 58 { 8 } else { 5 };
        let mut columns = Columns {
            conn: true,
            method: true,
            kind: true,
            size: true,
            name: 0,
            bar: 0,
        };
        let fits = |c: &Columns| c.fixed() + NAME_MIN + bar_min <= width;
        // The connection column goes first, unless HTTP/2 carried requests: then it shows
        // one connection carrying them all, which matters more than the method (DevTools
        // shows no method by default).
        if h2 {
            if !fits(&columns) {
                columns.method = false;
            }
            if !fits(&columns) {
                columns.conn = false;
            }
        } else {
            if !fits(&columns) {
                columns.conn = false;
            }
            if !fits(&columns) {
                columns.method = false;
            }
        }
        if !fits(&columns) {
            columns.kind = false;
        }
        if !fits(&columns) {
            columns.size = false;
        }
        let shared = width.saturating_sub(columns.fixed());
        // Where the name can spare it, the waterfall gets 8 columns even on a small pane.
        let bar_min = if shared >= NAME_MIN + 8 { 8 } else { bar_min };
        columns.name = longest
            .max(4)
            .min(shared.saturating_sub(bar_min))
            .max(4.min(shared));
        columns.bar = shared - columns.name;
        columns
    }

    /// Cells taken by everything but the name and the waterfall (with their spaces).
    fn fixed(&self) -> usize {
        // "#" 3, status 3, time 7, each with a space, and the space after the name.
        let mut cells = 4 + 4 + 8 + 1;
        if self.method {
            cells += 5;
        }
        if self.kind {
            cells += 6;
        }
        if self.size {
            cells += 8;
        }
        if self.conn {
            cells += CONN_CELLS + 1;
        }
        cells
    }

    fn row(&self, cells: [&str; 8]) -> String {
        let [id, method, status, kind, name, size, time, conn] = cells;
        let mut out = format!("{id:>3} ");
        if self.method {
            out.push_str(&format!("{method:<4} "));
        }
        out.push_str(&format!("{status:>3} "));
        if self.kind {
            out.push_str(&format!("{kind:<5} "));
        }
        out.push_str(&format!("{name:<width$} ", width = self.name));
        if self.size {
            out.push_str(&format!("{size:>7} "));
        }
        out.push_str(&format!("{time:>7} "));
        if self.conn {
            out.push_str(&format!("{:<CONN_CELLS$} ", truncate(conn, CONN_CELLS)));
        }
        out
    }
}

/// Cells of the connection column.
const CONN_CELLS: usize = 6;

/// The connection column of a row: `#3`, or `#1 h2` for a stream of an HTTP/2 connection
/// (DevTools' Connection ID and Protocol), so one connection carrying every request shows.
fn connection_cell(row: &RequestRecord) -> String {
    match &row.connection {
        Some(c) if c.stream.is_some() => format!("#{} h2", c.id),
        Some(c) => format!("#{}", c.id),
        None => String::new(),
    }
}

/// A request's name as DevTools' Name column gives it: the file name and query
/// (`jquery.js?v=3`), the path when it names a directory (`/`, `/docs/`), and the host
/// after it only when it is not the page's (`logo.png · cdn.minibrowse.test`).
pub(super) fn request_name(row: &RequestRecord, page_host: &str) -> String {
    let target = if row.path.is_empty() {
        row.url.as_str()
    } else {
        row.path.as_str()
    };
    if target.is_empty() {
        // Before its request event a record has no URL yet.
        return "…".into();
    }
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let mut name = if path.ends_with('/') {
        path.to_string()
    } else {
        path.rsplit('/').next().unwrap_or(path).to_string()
    };
    if name.is_empty() {
        name.push('/');
    }
    if let Some(query) = query {
        name.push('?');
        name.push_str(query);
    }
    if !row.host.is_empty() && row.host != page_host {
        name.push_str(" · ");
        name.push_str(&row.host);
    }
    name
}

/// The page's host: its first request's, or the address bar's before that has one.
fn page_host(app: &App) -> String {
    match app.requests.first() {
        Some(first) if !first.host.is_empty() => first.host.clone(),
        _ => url::Url::parse(&app.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default(),
    }
}

pub(super) fn draw_network(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    if area.height == 0 {
        return;
    }
    let total_ms = app
        .requests
        .iter()
        .filter_map(|r| r.end_ms())
        .fold(0.0_f64, f64::max)
        .max(app.events.last().map(|e| e.t_ms).unwrap_or(0.0))
        .max(1.0);
    let rows = area.height as usize - 1;
    let first = app.net_selected.saturating_sub(rows.saturating_sub(1));
    let host = page_host(app);
    let visible: Vec<(usize, &RequestRecord, String)> = app
        .requests
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, row)| (i, row, request_name(row, &host)))
        .collect();
    let longest = visible
        .iter()
        .map(|(_, _, name)| name.chars().count())
        .max()
        .unwrap_or(0)
        .max("name".len());
    let h2 = visible
        .iter()
        .any(|(_, row, _)| row.connection.as_ref().is_some_and(|c| c.stream.is_some()));
    let columns = Columns::fit(area.width as usize, longest, h2);
    let header = columns.row(["#", "mth", "st", "type", "name", "size", "time", "conn"])
        + &truncate("waterfall", columns.bar);
    let mut lines = vec![Line::styled(
        header,
        Style::new().add_modifier(Modifier::BOLD),
    )];
    let related = app.highlighted_request();
    let marks = moment_marks(app, theme, total_ms, columns.bar);
    for (i, row, name) in visible {
        let style = if i == app.net_selected && app.focus == Pane::Network {
            theme.selected()
        } else if Some(row.id) == related && app.focus == Pane::Trace {
            theme.related()
        } else if row.error.is_some() || row.status().is_some_and(|s| s >= 400) {
            theme.error()
        } else {
            Style::new()
        };
        let status = match (&row.error, row.status()) {
            (Some(_), _) => "ERR".to_string(),
            (None, Some(s)) => s.to_string(),
            (None, None) => "…".to_string(),
        };
        // As DevTools does: a response the HTTP cache gave, with no request, is "(cache)".
        let size = match &row.body {
            _ if row.from_cache() => "(cache)".to_string(),
            Some(b) => human_bytes(b.decoded_bytes),
            None => "-".into(),
        };
        let time = match row.end_ms() {
            Some(end) => format!("{:.0}ms", end - row.first_ms),
            None if row.error.is_none() => "pending".into(),
            None => "-".into(),
        };
        let method = truncate(
            if row.method.is_empty() {
                "GET"
            } else {
                &row.method
            },
            4,
        );
        let text = columns.row([
            &row.id.to_string(),
            &method,
            &status,
            short_purpose(&row.purpose),
            &truncate(&name, columns.name),
            &size,
            &time,
            &connection_cell(row),
        ]);
        let mut spans = vec![Span::styled(text, style)];
        spans.extend(waterfall(row, total_ms, columns.bar, theme, &marks));
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// Where the load's moments fall on the waterfall, as DevTools draws them: a blue line at
/// DOMContentLoaded, a red one at load (and first render, green, where this browser shows
/// the page).
fn moment_marks(app: &App, theme: &Theme, total_ms: f64, width: usize) -> Vec<(usize, Style)> {
    if width == 0 {
        return Vec::new();
    }
    let scale = width as f64 / total_ms;
    app.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::LoadMoment { moment, ms } => {
                let cell = ((ms * scale) as usize).min(width - 1);
                Some((cell, theme.moment(moment)))
            }
            _ => None,
        })
        .collect()
}

/// The request's phases drawn to scale on the page's timeline, the load's moments as lines
/// where the row leaves room.
fn waterfall(
    row: &RequestRecord,
    total_ms: f64,
    width: usize,
    theme: &Theme,
    marks: &[(usize, Style)],
) -> Vec<Span<'static>> {
    if width == 0 {
        return Vec::new();
    }
    let scale = width as f64 / total_ms;
    let offset = ((row.first_ms * scale) as usize).min(width.saturating_sub(1));
    let mut cells: Vec<(char, Style)> = vec![(' ', Style::new()); offset];
    for (i, ms) in row.phases().durations().iter().enumerate() {
        if *ms <= 0.0 {
            continue;
        }
        let n = ((ms * scale).round() as usize)
            .max(1)
            .min(width.saturating_sub(cells.len()));
        if n == 0 {
            break;
        }
        cells.extend(std::iter::repeat_n((PHASE_GLYPHS[i], theme.phase(i)), n));
    }
    let pending = row.is_pending() && cells.len() < width;
    if pending {
        cells.push(('…', theme.dim()));
    }
    for &(at, style) in marks {
        if at >= cells.len() {
            cells.resize(at + 1, (' ', Style::new()));
        }
        if cells[at].0 == ' ' {
            cells[at] = ('│', style);
        }
    }
    while cells.last().is_some_and(|c| c.0 == ' ') {
        cells.pop();
    }
    // Runs of one style make one span each.
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut run = String::new();
    let mut run_style = Style::new();
    for (c, style) in cells {
        if style != run_style && !run.is_empty() {
            spans.push(Span::styled(std::mem::take(&mut run), run_style));
        }
        run_style = style;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, run_style));
    }
    spans
}

fn short_purpose(purpose: &str) -> &'static str {
    match purpose {
        "document" => "doc",
        "stylesheet" => "css",
        "script" => "js",
        "image" => "img",
        "font" => "font",
        "frame" => "frame",
        "media" => "media",
        "fetch" => "fetch",
        "websocket" => "ws",
        "eventsource" => "sse",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(url: &str) -> RequestRecord {
        let parsed = url::Url::parse(url).expect("url");
        RequestRecord {
            url: url.to_string(),
            host: parsed.host_str().unwrap_or_default().to_string(),
            path: parsed[url::Position::BeforePath..].to_string(),
            ..RequestRecord::default()
        }
    }

    #[test]
    fn names_are_the_file_and_query_with_a_foreign_host_after() {
        let page = "www.minibrowse.test";
        let name = |url: &str| request_name(&record(url), page);
        assert_eq!(name("http://www.minibrowse.test:8080/"), "/");
        assert_eq!(name("http://www.minibrowse.test/docs/"), "/docs/");
        assert_eq!(
            name("http://www.minibrowse.test/_static/pygments.css"),
            "pygments.css"
        );
        assert_eq!(
            name("http://www.minibrowse.test/js/jquery.js?v=3"),
            "jquery.js?v=3"
        );
        assert_eq!(name("http://www.minibrowse.test/?q=1"), "/?q=1");
        assert_eq!(
            name("http://cdn.minibrowse.test/img/logo.png"),
            "logo.png · cdn.minibrowse.test"
        );
        assert_eq!(request_name(&RequestRecord::default(), page), "…");
    }

    #[test]
    fn narrow_panes_keep_the_name_and_a_waterfall() {
        // 80×24: the Network pane is 38 cells inside its border.
        let small = Columns::fit(38, 30, true);
        assert!(!small.method && !small.conn && !small.kind && !small.size);
        assert!(small.bar >= 8 && small.name >= NAME_MIN, "{small:?}");
        assert_eq!(small.fixed() + small.name + small.bar, 38);
        // 120×36: 58 cells, every column but one, and a waterfall of 8 at least: over
        // HTTP/1.1 the method, over HTTP/2 the connection (one for every request).
        let wide = Columns::fit(58, 30, false);
        assert!(wide.method && !wide.conn && wide.kind && wide.size);
        let wide = Columns::fit(58, 30, true);
        assert!(!wide.method && wide.conn && wide.kind && wide.size);
        assert!(wide.bar >= 8 && wide.name >= NAME_MIN, "{wide:?}");
        // Short names leave the rest to the waterfall.
        let roomy = Columns::fit(100, 12, false);
        assert_eq!((roomy.name, roomy.bar), (12, 100 - 43 - 12));
        for width in 0..200 {
            let c = Columns::fit(width, 40, width % 2 == 0);
            if width >= 26 {
                assert_eq!(c.fixed() + c.name + c.bar, width, "{c:?}");
                assert!(c.bar >= 5, "{width}: {c:?}");
            }
            if width >= 58 {
                assert!(c.bar >= 8, "{width}: {c:?}");
            }
        }
    }
}
