//! The pipeline off the UI thread: each load runs on a worker thread that sends its trace
//! events, step-mode pauses and result over a channel. The worker keeps the page (its DOM
//! is not `Send`) and lays it out again when the terminal is resized.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::html::Document;
use crate::layout::Layout;
use crate::page::{Browser, Content, Page};
use crate::trace::{CacheMode, Event, FnSink, Gate, Trace};

/// What a load tells the UI. Each carries the load's generation, so a message from a
/// load the user has already left is ignored.
#[derive(Debug)]
pub enum Msg {
    Event(u64, Event),
    /// Step mode: the pipeline waits before this step.
    Waiting(u64, String),
    Loaded(u64, Box<PageView>),
    Failed(u64, String),
    Relaid(u64, Layout),
    /// A chat message to show (as `name: text`).
    ChatLine(u64, crate::chat::Message),
    /// The runtime started a load of `url` (as generation `generation`): show it.
    LoadBegun {
        generation: u64,
        url: String,
        step: bool,
        /// A new page for the history (not a step back or forward in it).
        record_history: bool,
    },
    /// The runtime joined the chat of `page` with `plan`.
    ChatBegun {
        generation: u64,
        page: url::Url,
        plan: crate::chat::ChatPlan,
    },
    /// The session's cookie jar, as asked for.
    Jar(Vec<crate::net::cookies::JarEntry>),
}

impl Msg {
    /// The load a message belongs to; None for the runtime's own messages, which always
    /// apply (a begun load makes its generation the current one).
    pub fn generation(&self) -> Option<u64> {
        match self {
            Msg::Event(g, _)
            | Msg::Waiting(g, _)
            | Msg::Loaded(g, _)
            | Msg::Failed(g, _)
            | Msg::Relaid(g, _)
            | Msg::ChatLine(g, _) => Some(*g),
            Msg::LoadBegun { .. } | Msg::ChatBegun { .. } | Msg::Jar(_) => None,
        }
    }
}

/// What the UI shows of a loaded page; plain data, safe to send between threads.
#[derive(Clone, Debug, Default)]
pub struct PageView {
    pub url: String,
    pub title: Option<String>,
    pub status: Option<u16>,
    pub layout: Layout,
    pub dom: Vec<DomRow>,
    pub source: Vec<String>,
    pub problems: Vec<String>,
    /// The page's forms and controls (read when its fields are numbered, to be used).
    pub forms: crate::form::Forms,
    /// The page's base URL, against which a form's action is resolved.
    pub base: String,
}

/// One node of the DOM tree as a row of the DOM pane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomRow {
    /// The node's position in document order (what asset events name).
    pub node: u64,
    pub depth: usize,
    pub label: String,
    pub has_children: bool,
}

impl PageView {
    fn from_page(page: &Page) -> PageView {
        let dom = match &page.content {
            Content::Html(doc) => dom_rows(doc),
            _ => Vec::new(),
        };
        let (forms, base) = match &page.content {
            Content::Html(doc) if page.fields == crate::layout::Fields::Numbered => (
                crate::form::extract(doc, &doc.stats.encoding),
                crate::assets::base_url(doc, &page.url).to_string(),
            ),
            _ => (crate::form::Forms::default(), page.url.to_string()),
        };
        PageView {
            url: page.url.to_string(),
            title: page.title(),
            status: page.status,
            layout: page.layout.clone(),
            dom,
            source: page
                .source
                .as_deref()
                .unwrap_or_default()
                .lines()
                .map(|l| crate::text::escape_controls(l).replace('\t', "    "))
                .collect(),
            problems: page.problems.clone(),
            forms,
            base,
        }
    }
}

/// The DOM as rows, in document order; node numbers match the asset events'.
pub fn dom_rows(doc: &Document) -> Vec<DomRow> {
    let mut rows: Vec<DomRow> = Vec::new();
    for (index, (node, depth)) in doc.walk().enumerate() {
        let label = if node.is_element() {
            node.describe(&["id", "class", "href", "src", "rel"])
        } else if let Some(text) = node.text() {
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if text.is_empty() {
                continue;
            }
            let short: String = text.chars().take(60).collect();
            format!(
                "\"{}{}\"",
                short,
                if text.chars().count() > 60 { "…" } else { "" }
            )
        } else if depth == 0 {
            "#document".to_string()
        } else {
            continue; // comments and doctypes
        };
        if let Some(parent) = rows.last_mut() {
            if depth > parent.depth {
                parent.has_children = true;
            }
        }
        rows.push(DomRow {
            node: index as u64,
            depth,
            label: crate::text::escape_line(&label).into_owned(),
            has_children: false,
        });
    }
    rows
}

/// Step mode: the pipeline waits at each checkpoint for a permit from the UI.
pub struct StepGate {
    state: Mutex<GateState>,
    changed: Condvar,
    notify: Mutex<Option<(u64, Sender<Msg>)>>,
}

/// Waiting steps take tickets in arrival order; each permit lets the oldest one run, so the
/// step the UI announces is the step that runs (assets wait on several threads at once).
#[derive(Default)]
struct GateState {
    next_ticket: u64,
    granted: u64,
    /// Open: nothing waits any more (step mode left, or the load abandoned).
    open: bool,
}

impl StepGate {
    pub fn new() -> Arc<StepGate> {
        Arc::new(StepGate {
            state: Mutex::new(GateState::default()),
            changed: Condvar::new(),
            notify: Mutex::new(None),
        })
    }

    /// Lets one waiting step run.
    pub fn step(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .granted += 1;
        self.changed.notify_all();
    }

    /// Lets every step run from now on.
    pub fn open(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .open = true;
        self.changed.notify_all();
    }
}

impl Gate for StepGate {
    fn wait(&self, next: &str) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.open {
            return;
        }
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        // Announced under the lock, so the UI hears of waiting steps in ticket order.
        if let Some((generation, tx)) = self
            .notify
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            let _ = tx.send(Msg::Waiting(*generation, next.to_string()));
        }
        while !state.open && ticket >= state.granted {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// What a load goes to: what the user typed (or a link), or a form's submission.
enum Navigation {
    Input(String),
    Form(Box<crate::form::Submission>),
}

/// Starts and follows loads for the UI.
pub struct Session {
    browser: Arc<Browser>,
    tx: Sender<Msg>,
    pub rx: Receiver<Msg>,
    generation: u64,
    gate: Option<Arc<StepGate>>,
    relayout: Option<Sender<usize>>,
    chat: Option<(Sender<String>, Arc<std::sync::atomic::AtomicBool>)>,
}

impl Session {
    pub fn new(browser: Arc<Browser>) -> Session {
        let (tx, rx) = mpsc::channel();
        Session {
            browser,
            tx,
            rx,
            generation: 0,
            gate: None,
            relayout: None,
            chat: None,
        }
    }

    /// Joins the demo chat served with `page` on a worker thread; returns its generation.
    pub fn chat(&mut self, page: url::Url, plan: crate::chat::ChatPlan) -> u64 {
        self.abandon();
        self.generation += 1;
        let generation = self.generation;
        let tx = self.tx.clone();
        let events = tx.clone();
        let trace = Trace::new(Arc::new(FnSink(move |e: &Event| {
            let _ = events.send(Msg::Event(generation, e.clone()));
        })));
        let (outbox_tx, outbox) = mpsc::channel();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        self.chat = Some((outbox_tx, stop.clone()));
        let browser = self.browser.clone();
        let spawned = std::thread::Builder::new()
            .name("chat".into())
            .spawn(move || {
                let lines = tx.clone();
                let mut show = |m: &crate::chat::Message| {
                    let _ = lines.send(Msg::ChatLine(generation, m.clone()));
                };
                let live = crate::chat::Live { outbox, stop };
                if let Err(e) = crate::chat::run(
                    browser.client(),
                    &page,
                    &plan,
                    &trace,
                    &mut show,
                    Some(live),
                ) {
                    let _ = tx.send(Msg::Failed(generation, e.to_string()));
                }
            });
        if let Err(e) = spawned {
            let _ = self.tx.send(Msg::Failed(
                generation,
                format!("cannot start the chat: {e}"),
            ));
        }
        generation
    }

    /// Sends a line typed in the chat.
    pub fn send_chat(&self, text: String) {
        if let Some((outbox, _)) = &self.chat {
            let _ = outbox.send(text);
        }
    }

    /// The session's cookies, as they are now.
    pub fn cookie_jar(&self) -> Vec<crate::net::cookies::JarEntry> {
        self.browser.client().cookie_jar().entries()
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Starts loading `input` (in step mode, paused before its first step) laid out for `width`.
    pub fn load(&mut self, input: &str, width: usize, step: bool) -> u64 {
        self.load_as(input, width, step, CacheMode::Normal)
    }

    /// Starts a load that treats the HTTP cache as `cache` says (a reload, a hard reload).
    pub fn load_as(&mut self, input: &str, width: usize, step: bool, cache: CacheMode) -> u64 {
        self.navigate(Navigation::Input(input.to_string()), width, step, cache)
    }

    /// Starts a form's submission, as a load of the page it brings.
    pub fn submit(&mut self, submission: crate::form::Submission, width: usize) -> u64 {
        let to = Navigation::Form(Box::new(submission));
        self.navigate(to, width, false, CacheMode::Normal)
    }

    fn navigate(&mut self, to: Navigation, width: usize, step: bool, cache: CacheMode) -> u64 {
        self.abandon();
        self.generation += 1;
        let generation = self.generation;
        let tx = self.tx.clone();
        let events = tx.clone();
        let sink = Arc::new(FnSink(move |e: &Event| {
            let _ = events.send(Msg::Event(generation, e.clone()));
        }));
        let trace = if step {
            let gate = StepGate::new();
            *gate.notify.lock().unwrap_or_else(PoisonError::into_inner) =
                Some((generation, tx.clone()));
            self.gate = Some(gate.clone());
            Trace::with_gate(sink, gate)
        } else {
            Trace::new(sink)
        };
        trace.set_cache_mode(cache);
        let (relayout_tx, relayout_rx) = mpsc::channel::<usize>();
        self.relayout = Some(relayout_tx);
        let browser = self.browser.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("load-{generation}"))
            .spawn(move || {
                // A panic in the pipeline is a bug: it becomes this load's failure, and the
                // UI (and the terminal) carry on.
                let failed = tx.clone();
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                    // The page is shown at its first render, its text final while its
                    // images still load (the trace goes on filling the panes); in step
                    // mode, at the end, when the person has stepped through it all.
                    let mut shown = false;
                    let mut first_render = |page: &Page| {
                        if !step {
                            let view = Box::new(PageView::from_page(page));
                            shown = tx.send(Msg::Loaded(generation, view)).is_ok();
                        }
                    };
                    let loaded = match &to {
                        Navigation::Input(input) => {
                            browser.load_progressive(input, width, &trace, &mut first_render)
                        }
                        Navigation::Form(submission) => {
                            browser.submit_form(submission, width, &trace)
                        }
                    };
                    let mut page = match loaded {
                        Ok(page) => page,
                        Err(e) => {
                            let _ = tx.send(Msg::Failed(generation, e.to_string()));
                            return;
                        }
                    };
                    let view = || Box::new(PageView::from_page(&page));
                    if !shown && tx.send(Msg::Loaded(generation, view())).is_err() {
                        return;
                    }
                    // Keep the page for relayouts until the UI moves on to another load.
                    while let Ok(mut width) = relayout_rx.recv() {
                        while let Ok(newer) = relayout_rx.try_recv() {
                            width = newer;
                        }
                        page.relayout(width);
                        if tx
                            .send(Msg::Relaid(generation, page.layout.clone()))
                            .is_err()
                        {
                            return;
                        }
                    }
                }));
                if let Err(payload) = outcome {
                    let _ = failed.send(Msg::Failed(generation, panic_message(payload.as_ref())));
                }
            });
        if let Err(e) = spawned {
            let _ = self.tx.send(Msg::Failed(
                generation,
                format!("cannot start the load: {e}"),
            ));
        }
        generation
    }

    /// Step mode: lets the next step run.
    pub fn step(&self) {
        if let Some(gate) = &self.gate {
            gate.step();
        }
    }

    /// Leaves step mode for the current load: the rest runs freely.
    pub fn run_freely(&self) {
        if let Some(gate) = &self.gate {
            gate.open();
        }
    }

    pub fn relayout(&self, width: usize) {
        if let Some(tx) = &self.relayout {
            let _ = tx.send(width);
        }
    }

    /// Lets a paused load finish unobserved (its messages are ignored from now on).
    fn abandon(&mut self) {
        if let Some(gate) = self.gate.take() {
            gate.open();
        }
        self.relayout = None;
        if let Some((_, stop)) = self.chat.take() {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.abandon();
    }
}

/// What a worker thread's panic says, for the status line.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    format!("internal error, a bug in minibrowse: {text}")
}
