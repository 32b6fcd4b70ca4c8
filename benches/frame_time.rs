//! Frame time of the TUI for a short and a huge page: drawing must cost what the screen
//! holds, not what the document holds. `cargo bench --bench frame_time`.

use std::hint::black_box;
use std::time::Instant;

use minibrowse::layout::{Layout, Link, Span, SpanStyle};
use minibrowse::tui::app::App;
use minibrowse::tui::draw;
use minibrowse::tui::session::PageView;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// A page of `lines` lines, each with a link, like a long link-heavy document.
fn page(lines: usize) -> PageView {
    let mut layout = Layout {
        width: 58,
        ..Layout::default()
    };
    for i in 0..lines {
        let text = format!(
            "[{}]Line {i} of a long document, with a link at its start and some words after it.",
            i + 1
        );
        layout.spans.push(Span {
            line: i,
            start: 0,
            end: 10,
            style: SpanStyle::Link(i),
        });
        layout.links.push(Link {
            url: format!("http://www.minibrowse.test/{i}"),
            text: format!("Line {i}"),
            field: None,
        });
        layout.lines.push(text);
    }
    PageView {
        url: "http://www.minibrowse.test/".into(),
        title: Some("bench".into()),
        layout,
        ..PageView::default()
    }
}

/// Mean time of one frame, in microseconds, scrolled to the middle of the page.
fn frame_time(lines: usize, frames: u32) -> f64 {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    let mut app = App::new(true);
    app.page = Some(page(lines));
    app.page_scroll = lines / 2;
    app.page_height = 36;
    for _ in 0..20 {
        terminal.draw(|f| draw::draw(f, &app)).expect("draw");
    }
    let started = Instant::now();
    for _ in 0..frames {
        terminal
            .draw(|f| draw::draw(f, black_box(&app)))
            .expect("draw");
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(frames)
}

fn main() {
    let frames = 500;
    let small = frame_time(100, frames);
    let large = frame_time(100_000, frames);
    println!("frame time, 120x40 terminal, {frames} frames each (TestBackend, no terminal I/O)");
    println!("  100-line page:      {small:8.1} µs/frame");
    println!("  100,000-line page:  {large:8.1} µs/frame");
    println!("  ratio:              {:8.2} (target < 2)", large / small);
}
