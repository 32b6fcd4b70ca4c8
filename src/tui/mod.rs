//! The classroom TUI (ratatui + crossterm): address bar, page, request log with waterfall,
//! trace with explanations, DOM and source; step mode pauses the pipeline before each step.
//!
//! The pipeline runs on worker threads ([`session`]); this thread only folds their
//! messages into [`app::App`] and draws it ([`draw`]), so a dead server never freezes keys.
//! The terminal is restored on quit, on panic, on Ctrl-C and on SIGTERM/SIGHUP.

pub mod address;
pub mod app;
pub mod costs;
pub mod draw;
pub mod forms;
mod input;
pub mod keys;
pub mod session;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::backend::Backend;
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent,
};
use ratatui::crossterm::execute;
use ratatui::Terminal;

use crate::page::Browser;
use crate::trace::CacheMode;
use app::{App, Command};
use session::{Msg, Session};

/// How often the screen is redrawn while nothing happens (spinner, auto-play).
const TICK: Duration = Duration::from_millis(50);
/// Pipeline messages folded before a redraw, so a flood cannot starve the keys.
const MAX_MSGS_PER_FRAME: usize = 5000;

/// Where terminal input comes from: the real terminal, or a script in tests.
pub trait Input {
    /// The next input event, or None when `timeout` passes without one.
    fn next(&mut self, timeout: Duration) -> io::Result<Option<TermEvent>>;
}

/// The real terminal's input.
pub struct TerminalInput;

impl Input for TerminalInput {
    fn next(&mut self, timeout: Duration) -> io::Result<Option<TermEvent>> {
        if event::poll(timeout)? {
            Ok(Some(event::read()?))
        } else {
            Ok(None)
        }
    }
}

/// Runs the TUI on the real terminal until the user quits.
pub fn run(browser: Browser, start: Command) -> io::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, stop.clone())?;
    }
    exit_if_stuck_after_stop(stop.clone());
    let mut terminal = ratatui::try_init()?;
    // ratatui's panic hook restores the screen; mouse reporting must be turned off too.
    let ratatui_hook = std::panic::take_hook();
    let ui_thread = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        // A worker's panic is caught by its load thread and shown as that load's failure
        // (printing it here would scribble over the screen); only a panic of the UI thread
        // itself ends the UI and restores the terminal.
        if std::thread::current().id() != ui_thread {
            return;
        }
        let _ = execute!(io::stdout(), DisableMouseCapture);
        ratatui_hook(info);
    }));
    let _ = execute!(io::stdout(), EnableMouseCapture);
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut app = App::new(color);
    let mut session = Session::new(Arc::new(browser));
    let result = event_loop(
        &mut terminal,
        &mut app,
        &mut session,
        &mut TerminalInput,
        start,
        &stop,
    );
    let _ = execute!(io::stdout(), DisableMouseCapture);
    ratatui::restore();
    result
}

/// Ends the process if the UI has not stopped within a second of SIGTERM or SIGHUP.
///
/// Once the terminal is gone (its window closed, tmux killed), crossterm's reader retries
/// reads that return 0 bytes forever, inside `event::poll`, so the loop never sees the stop
/// flag: the process would spin on a core with no screen. There is no terminal left to
/// restore after a hangup, so leaving at once is right.
fn exit_if_stuck_after_stop(stop: Arc<AtomicBool>) {
    let watchdog = std::thread::Builder::new()
        .name("stop-watchdog".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
            }
            std::thread::sleep(Duration::from_secs(1));
            // Best effort, and silent: printing to a terminal that is gone would panic.
            let _ = execute!(io::stdout(), DisableMouseCapture);
            let _ = ratatui::try_restore();
            std::process::exit(1);
        });
    // Without the thread the UI still runs; only this rescue is lost.
    drop(watchdog);
}

/// The UI loop, generic over the backend and the input so tests can drive it.
pub fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    session: &mut Session,
    input: &mut dyn Input,
    start: Command,
    stop: &AtomicBool,
) -> io::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    size_page(terminal, app)?;
    execute_commands(app, session, vec![start]);
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        for msg in session.rx.try_iter().take(MAX_MSGS_PER_FRAME) {
            app.on_msg(msg);
        }
        let resized = size_page(terminal, app)?;
        execute_commands(app, session, resized);
        terminal
            .draw(|frame| draw::draw(frame, app))
            .map_err(io::Error::other)?;
        let commands = match input.next(TICK)? {
            Some(TermEvent::Key(key)) if key.is_press() => app.on_key(key),
            Some(TermEvent::Mouse(mouse)) => {
                app.on_mouse(mouse);
                Vec::new()
            }
            _ => app.tick(Instant::now()),
        };
        if commands.contains(&Command::Quit) {
            return Ok(());
        }
        execute_commands(app, session, commands);
    }
}

/// Tells the app the page pane's size; returns a relayout when its width changed.
fn size_page<B: Backend>(terminal: &Terminal<B>, app: &mut App) -> io::Result<Vec<Command>>
where
    B::Error: Send + Sync + 'static,
{
    let size = terminal.size().map_err(io::Error::other)?;
    let area = ratatui::layout::Rect::new(0, 0, size.width, size.height);
    let page = draw::areas(app, area).page;
    Ok(app.resize_page(page.width as usize, page.height as usize))
}

pub fn execute_commands(app: &mut App, session: &mut Session, commands: Vec<Command>) {
    for command in commands {
        match command {
            Command::Load { url, step } => {
                let record_history = !app.is_history_load(&url);
                let generation = session.load(&url, app.page_width, step);
                app.on_msg(Msg::LoadBegun {
                    generation,
                    url,
                    step,
                    record_history,
                });
            }
            Command::Reload { url, step, hard } => {
                let record_history = !app.is_history_load(&url);
                let mode = if hard {
                    CacheMode::Bypass
                } else {
                    CacheMode::Revalidate
                };
                let generation = session.load_as(&url, app.page_width, step, mode);
                app.on_msg(Msg::LoadBegun {
                    generation,
                    url,
                    step,
                    record_history,
                });
            }
            Command::Chat { page, plan } => {
                let generation = session.chat(page.clone(), plan.clone());
                app.on_msg(Msg::ChatBegun {
                    generation,
                    page,
                    plan,
                });
            }
            Command::Submit(submission) => {
                let url = submission.url().to_string();
                let generation = session.submit(*submission, app.page_width);
                app.on_msg(Msg::LoadBegun {
                    generation,
                    url,
                    step: false,
                    record_history: true,
                });
            }
            Command::SendChat(text) => session.send_chat(text),
            Command::Step => session.step(),
            Command::RunFreely => session.run_freely(),
            Command::Relayout(width) => session.relayout(width),
            Command::ShowJar => app.on_msg(Msg::Jar(session.cookie_jar())),
            Command::Quit => {}
        }
    }
}
