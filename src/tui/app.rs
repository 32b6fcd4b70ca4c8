//! The TUI's state and how keys and pipeline messages change it. Plain data: drawing is a
//! function of `&App` (draw.rs), and the only side effects are the [`Command`]s returned.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use url::Url;

use super::session::{Msg, PageView};
use crate::layout::SpanStyle;
use crate::trace::{Event, EventKind, RequestLog};

/// What the App asks the runtime to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Load {
        url: String,
        step: bool,
    },
    /// Join the demo chat served with `page`.
    Chat {
        page: Url,
        plan: crate::chat::ChatPlan,
    },
    /// Send a line typed in the chat.
    SendChat(String),
    /// Submit a form: load what its submission brings.
    Submit(Box<crate::form::Submission>),
    Step,
    RunFreely,
    Relayout(usize),
    /// Load the current page again: `hard` bypasses the HTTP cache, else the page is
    /// revalidated and fresh subresources come from the cache.
    Reload {
        url: String,
        step: bool,
        hard: bool,
    },
    /// Read the session's cookie jar and show it (answered with `Msg::Jar`).
    ShowJar,
    Quit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Page,
    Network,
    Trace,
    Dom,
    Chat,
}

impl Pane {
    const BROWSING: [Pane; 4] = [Pane::Page, Pane::Network, Pane::Trace, Pane::Dom];
    const CHATTING: [Pane; 3] = [Pane::Chat, Pane::Network, Pane::Trace];

    pub(super) fn next(self, by: isize, chatting: bool) -> Pane {
        let order: &[Pane] = if chatting {
            &Pane::CHATTING
        } else {
            &Pane::BROWSING
        };
        let i = order.iter().position(|p| *p == self).unwrap_or(0) as isize;
        order[(i + by).rem_euclid(order.len() as isize) as usize]
    }
}

/// Seconds between two asks when Ctrl-T moves a chat to refreshing (as `chat --refresh`).
const DEFAULT_REFRESH: Duration = Duration::from_secs(5);

/// The chat pane's state.
#[derive(Clone, Debug)]
pub struct ChatView {
    pub via: String,
    /// The chat's page and plan, for Ctrl-T (the same chat by the next technique).
    pub page: Option<url::Url>,
    pub plan: Option<crate::chat::ChatPlan>,
    /// When this chat began (messages older than it are the history a newcomer is shown).
    pub joined: Instant,
    pub lines: Vec<String>,
    pub input: String,
    /// (messages, requests, header bytes) so far.
    pub cost: Option<(u64, u64, u64)>,
}

impl Default for ChatView {
    fn default() -> Self {
        ChatView {
            via: String::new(),
            page: None,
            plan: None,
            joined: Instant::now(),
            lines: Vec::new(),
            input: String::new(),
            cost: None,
        }
    }
}

/// How far the help can scroll (the drawing clamps it to what is left below).
pub const HELP_SCROLL_MAX: u16 = 200;

/// The field being typed into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Editing {
    /// The control's index in the page's forms.
    pub control: usize,
    /// Its number on the page, less one (its index among the links).
    pub link: usize,
}

/// A dialog over the panes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    None,
    /// The key list, scrolled this many lines (it is taller than a small terminal).
    Help(u16),
    /// The detail of one request (its id).
    Detail(u32),
    OpenUrl(String),
    Search(String),
    History(usize),
    /// The cookie jar, as lines read from the session's jar when it was opened.
    Jar(Vec<String>),
    /// A select's options: the one under the cursor, and those chosen so far.
    Choose {
        control: usize,
        at: usize,
        chosen: Vec<usize>,
    },
    /// The path of the file a file input sends.
    FilePath {
        control: usize,
        text: String,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum LoadState {
    Idle,
    Loading {
        since: Instant,
    },
    /// `failed`: the steps that failed (the page still showed).
    Done {
        ms: f64,
        failed: u32,
    },
    Failed(String),
}

/// An active search in the page.
#[derive(Clone, Debug, Default)]
pub struct Search {
    pub query: String,
    /// (line, byte start, byte end)
    pub matches: Vec<(usize, usize, usize)>,
    pub current: usize,
}

/// Step mode.
#[derive(Clone, Debug, Default)]
pub struct StepState {
    pub enabled: bool,
    /// The step the pipeline waits before (the oldest, when several wait).
    pub waiting: Option<String>,
    /// Steps waiting behind it (assets wait on several threads at once), each for a Space
    /// of its own, in the order they run.
    pub queued: std::collections::VecDeque<String>,
    /// The step let go last (running, or done while nothing waits yet).
    pub running: Option<String>,
    pub autoplay: Option<Duration>,
    pub last_step: Option<Instant>,
}

pub struct App {
    pub focus: Pane,
    /// Which of Page and DOM the left side shows.
    pub left: Pane,
    pub zoomed: bool,
    pub overlay: Overlay,
    pub url: String,
    pub state: LoadState,
    pub events: Vec<Event>,
    /// Every request of the load, folded from the trace (the request log and detail).
    pub requests: RequestLog,
    /// Asset URL → the DOM node that referenced it.
    pub page: Option<PageView>,
    pub page_scroll: usize,
    pub page_height: usize,
    pub page_width: usize,
    pub selected_link: Option<usize>,
    pub link_number: String,
    pub search: Option<Search>,
    pub trace_selected: Option<usize>,
    pub net_selected: usize,
    pub dom_selected: usize,
    pub dom_collapsed: HashSet<u64>,
    pub dom_source: bool,
    pub history: Vec<String>,
    pub history_pos: usize,
    pub step: StepState,
    pub message: Option<String>,
    pub spinner: usize,
    pub color: bool,
    /// Set in chat mode: the left side is the chat.
    pub chat: Option<ChatView>,
    /// What each of the chat's techniques cost in this session, side by side.
    pub chat_costs: super::costs::ChatCosts,
    /// What the user gave the page's form fields.
    pub form_values: crate::form::Values,
    /// The field that takes typing, if one does.
    pub editing: Option<Editing>,
    generation: u64,
}

impl App {
    pub fn new(color: bool) -> App {
        App {
            focus: Pane::Page,
            left: Pane::Page,
            zoomed: false,
            overlay: Overlay::None,
            url: String::new(),
            state: LoadState::Idle,
            events: Vec::new(),
            requests: RequestLog::default(),
            page: None,
            page_scroll: 0,
            page_height: 20,
            page_width: 80,
            selected_link: None,
            link_number: String::new(),
            search: None,
            trace_selected: None,
            net_selected: 0,
            dom_selected: 0,
            dom_collapsed: HashSet::new(),
            dom_source: false,
            history: Vec::new(),
            history_pos: 0,
            step: StepState::default(),
            message: None,
            spinner: 0,
            color,
            chat: None,
            chat_costs: super::costs::ChatCosts::default(),
            form_values: crate::form::Values::default(),
            editing: None,
            generation: 0,
        }
    }

    /// Forgets the previous page: a new load (generation) starts.
    fn begin_load(&mut self, url: &str, step: bool, generation: u64, record_history: bool) {
        self.url = url.to_string();
        self.state = LoadState::Loading {
            since: Instant::now(),
        };
        self.events.clear();
        self.requests.clear();
        self.page = None;
        // A page load ends a chat (the session stopped it): the left side is the page again.
        if self.chat.take().is_some() {
            self.left = Pane::Page;
            self.focus = Pane::Page;
        }
        self.page_scroll = 0;
        self.selected_link = None;
        self.form_values = crate::form::Values::default();
        self.editing = None;
        self.search = None;
        self.trace_selected = None;
        self.net_selected = 0;
        self.dom_selected = 0;
        self.dom_collapsed.clear();
        self.step = StepState {
            enabled: step,
            autoplay: self.step.autoplay.filter(|_| step),
            ..StepState::default()
        };
        self.message = None;
        self.generation = generation;
        if record_history {
            self.history
                .truncate(self.history_pos + usize::from(!self.history.is_empty()));
            if self.history.last() != Some(&url.to_string()) {
                self.history.push(url.to_string());
            }
            self.history_pos = self.history.len().saturating_sub(1);
        }
    }

    /// Chat mode: the left side becomes the chat of a new session (generation).
    fn begin_chat(&mut self, page: url::Url, plan: crate::chat::ChatPlan, generation: u64) {
        self.url = page.to_string();
        self.state = LoadState::Loading {
            since: Instant::now(),
        };
        // A new chat (Ctrl-T: the next technique) is a new trace: its own requests only.
        self.events.clear();
        self.requests.clear();
        self.trace_selected = None;
        self.net_selected = 0;
        let via = plan.via.name();
        self.chat_costs.begin(via);
        self.chat = Some(ChatView {
            via: via.to_string(),
            page: Some(page),
            plan: Some(plan),
            joined: Instant::now(),
            lines: Vec::new(),
            input: String::new(),
            cost: None,
        });
        self.focus = Pane::Chat;
        self.generation = generation;
    }

    /// Folds one message from the pipeline into the state.
    pub fn on_msg(&mut self, msg: Msg) {
        if msg.generation().is_some_and(|g| g != self.generation) {
            return;
        }
        match msg {
            Msg::LoadBegun {
                generation,
                url,
                step,
                record_history,
            } => self.begin_load(&url, step, generation, record_history),
            Msg::ChatBegun {
                generation,
                page,
                plan,
            } => self.begin_chat(page, plan, generation),
            Msg::Jar(entries) => self.show_jar(&entries),
            Msg::Event(_, event) => self.on_event(event),
            Msg::Waiting(_, next) => match self.step.waiting {
                None => self.step.waiting = Some(next),
                Some(_) => self.step.queued.push_back(next),
            },
            Msg::Loaded(_, view) => {
                self.end_stepping();
                self.url = view.url.clone();
                if let Some(entry) = self.history.get_mut(self.history_pos) {
                    *entry = view.url.clone();
                }
                self.page = Some(*view);
                self.select_first_visible_link();
            }
            Msg::Failed(_, error) => {
                self.end_stepping();
                self.state = LoadState::Failed(error);
            }
            Msg::ChatLine(_, line) => {
                if let Some(chat) = &mut self.chat {
                    let mine = chat.plan.as_ref().is_some_and(|p| p.name == line.name);
                    if let (false, Some(age)) = (mine, line.age_ms) {
                        self.chat_costs.waited(
                            &chat.via,
                            Duration::from_millis(age),
                            chat.joined.elapsed(),
                        );
                    }
                    let line = format!("{}: {}", line.name, line.text);
                    chat.lines
                        .push(crate::text::escape_line(&line).into_owned());
                    if chat.lines.len() > 2000 {
                        chat.lines.drain(..1000);
                    }
                }
            }
            Msg::Relaid(_, layout) => {
                if let Some(page) = &mut self.page {
                    page.layout = layout;
                    self.page_scroll = self
                        .page_scroll
                        .min(page.layout.lines.len().saturating_sub(1));
                    self.selected_link = None;
                    self.redo_search();
                }
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        self.requests.fold(&event);
        match &event.kind {
            EventKind::ChatStats {
                messages,
                requests,
                header_bytes,
                ..
            } => {
                if let Some(chat) = &mut self.chat {
                    chat.cost = Some((*messages, *requests, *header_bytes));
                    self.chat_costs
                        .counted(&chat.via, *messages, *requests, *header_bytes);
                }
            }
            EventKind::Summary { ms, failed, .. }
                if !matches!(self.state, LoadState::Failed(_)) =>
            {
                self.state = LoadState::Done {
                    ms: *ms,
                    failed: *failed,
                };
            }
            _ => {}
        }
        self.events.push(event);
    }

    /// Requests finished and known so far.
    pub fn progress(&self) -> (usize, usize, u64) {
        let done = self.requests.iter().filter(|r| !r.is_pending()).count();
        let bytes = self.requests.iter().filter_map(|r| r.wire_bytes()).sum();
        (done, self.requests.len(), bytes)
    }

    /// Called on every tick: spinner and auto-play.
    pub fn tick(&mut self, now: Instant) -> Vec<Command> {
        self.spinner = self.spinner.wrapping_add(1);
        if let (Some(delay), Some(_)) = (self.step.autoplay, &self.step.waiting) {
            if self
                .step
                .last_step
                .is_none_or(|t| now.duration_since(t) >= delay)
            {
                return self.step_once(now);
            }
        }
        Vec::new()
    }

    /// The load is over: nothing waits, and step mode's keys leave the footer. (Autoplay's
    /// pace stays for the next stepped load.)
    fn end_stepping(&mut self) {
        self.step = StepState {
            autoplay: self.step.autoplay,
            ..StepState::default()
        };
    }

    pub(super) fn step_once(&mut self, now: Instant) -> Vec<Command> {
        if let Some(step) = self.step.waiting.take() {
            self.step.running = Some(step);
            self.step.waiting = self.step.queued.pop_front();
            self.step.last_step = Some(now);
            return vec![Command::Step];
        }
        Vec::new()
    }

    pub fn on_mouse(&mut self, mouse: MouseEvent) {
        match mouse.kind {
            MouseEventKind::ScrollDown => self.scroll_focused(3),
            MouseEventKind::ScrollUp => self.scroll_focused(-3),
            _ => {}
        }
    }

    /// J: the demo chat of the current site, by long polling first (Ctrl-T then tries the
    /// others), under the user's login name. Only a web page has a site to chat on.
    pub(super) fn join_chat(&mut self) -> Vec<Command> {
        let page = match url::Url::parse(&self.url) {
            Ok(page) if matches!(page.scheme(), "http" | "https") => page,
            _ => {
                self.message = Some("J joins the chat of a web page's site: open one first".into());
                return Vec::new();
            }
        };
        let name: String = std::env::var("USER")
            .ok()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "student".to_string())
            .chars()
            .filter(|c| !c.is_control())
            .take(32)
            .collect();
        let plan = crate::chat::ChatPlan {
            via: crate::chat::Via::Poll,
            name,
            send: Vec::new(),
            // Until the user leaves it: a new page, or q.
            wait: Duration::from_secs(86_400),
            timeout: Duration::from_secs(30),
        };
        vec![Command::Chat { page, plan }]
    }

    /// Keys while the chat input has focus: typing goes into the line.
    pub(super) fn on_chat_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let Some(chat) = &mut self.chat else {
            return Vec::new();
        };
        match key.code {
            // Every letter is text here, so the zoom is Ctrl-Z (z everywhere else).
            KeyCode::Char('z') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.zoomed = !self.zoomed
            }
            // Ctrl-T: the same chat by the next technique, to compare what each costs.
            KeyCode::Char('t') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                if let (Some(page), Some(plan)) = (&chat.page, &chat.plan) {
                    let every = match plan.via {
                        crate::chat::Via::Refresh { every } => every,
                        _ => DEFAULT_REFRESH,
                    };
                    let plan = crate::chat::ChatPlan {
                        via: super::costs::next_via(plan.via, every),
                        ..plan.clone()
                    };
                    return vec![Command::Chat {
                        page: page.clone(),
                        plan,
                    }];
                }
            }
            KeyCode::Enter => {
                let text = std::mem::take(&mut chat.input);
                let text = text.trim();
                if !text.is_empty() {
                    return vec![Command::SendChat(text.to_string())];
                }
                // Refreshing, an empty line is the user asking again (a reload).
                if chat.via == "refresh" {
                    return vec![Command::SendChat(String::new())];
                }
            }
            KeyCode::Backspace => {
                chat.input.pop();
            }
            KeyCode::Char(c) if chat.input.chars().count() < crate::chat::MAX_TEXT => {
                chat.input.push(c)
            }
            KeyCode::Tab => self.set_focus(Pane::Network),
            KeyCode::BackTab => self.set_focus(Pane::Trace),
            KeyCode::Esc => self.set_focus(Pane::Network),
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn adjust_autoplay(&mut self, factor: f64) {
        if let Some(delay) = self.step.autoplay {
            let ms = (delay.as_millis() as f64 * factor).clamp(100.0, 5000.0);
            self.step.autoplay = Some(Duration::from_millis(ms as u64));
        }
    }

    pub(super) fn set_focus(&mut self, pane: Pane) {
        self.focus = pane;
        if matches!(pane, Pane::Page | Pane::Dom) {
            self.left = pane;
        }
    }

    pub(super) fn reload(&mut self, step: bool) -> Vec<Command> {
        if self.url.is_empty() {
            return Vec::new();
        }
        vec![Command::Reload {
            url: self.url.clone(),
            step,
            hard: false,
        }]
    }

    pub(super) fn reload_bypassing_cache(&mut self) -> Vec<Command> {
        if self.url.is_empty() {
            return Vec::new();
        }
        vec![Command::Reload {
            url: self.url.clone(),
            step: false,
            hard: true,
        }]
    }

    pub(super) fn go_history(&mut self, by: isize) -> Vec<Command> {
        let target = self.history_pos as isize + by;
        if target < 0 || target as usize >= self.history.len() {
            self.message = Some(
                if by < 0 {
                    "no page before this one"
                } else {
                    "no page after this one"
                }
                .into(),
            );
            return Vec::new();
        }
        self.history_pos = target as usize;
        vec![Command::Load {
            url: self.history[self.history_pos].clone(),
            step: false,
        }]
    }

    /// Whether the next load comes from history navigation (not recorded again).
    pub fn is_history_load(&self, url: &str) -> bool {
        self.history.get(self.history_pos).is_some_and(|h| h == url)
    }

    pub(super) fn on_overlay_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let overlay = std::mem::replace(&mut self.overlay, Overlay::None);
        match (overlay, key.code) {
            (Overlay::OpenUrl(text), KeyCode::Enter) if !text.trim().is_empty() => {
                // `/cookie.html` is that page on the current site (src/tui/address.rs).
                return vec![Command::Load {
                    url: super::address::resolve(&text, &self.url),
                    step: false,
                }];
            }
            (Overlay::Search(query), KeyCode::Enter) => self.start_search(&query),
            (dialog @ (Overlay::Choose { .. } | Overlay::FilePath { .. }), _) => {
                self.on_field_dialog_key(dialog, key)
            }
            (Overlay::OpenUrl(mut text), code) => {
                if edit_line(&mut text, code) {
                    self.overlay = Overlay::OpenUrl(text);
                }
            }
            (Overlay::Search(mut text), code) => {
                if edit_line(&mut text, code) {
                    self.overlay = Overlay::Search(text);
                }
            }
            (Overlay::History(i), KeyCode::Up | KeyCode::Char('k')) => {
                self.overlay = Overlay::History(i.saturating_sub(1))
            }
            (Overlay::History(i), KeyCode::Down | KeyCode::Char('j')) => {
                self.overlay = Overlay::History((i + 1).min(self.history.len().saturating_sub(1)))
            }
            (Overlay::History(i), KeyCode::Enter) => {
                if let Some(url) = self.history.get(i).cloned() {
                    self.history_pos = i;
                    return vec![Command::Load { url, step: false }];
                }
            }
            (Overlay::Help(at), KeyCode::Up | KeyCode::Char('k')) => {
                self.overlay = Overlay::Help(at.saturating_sub(1))
            }
            (Overlay::Help(at), KeyCode::Down | KeyCode::Char('j')) => {
                self.overlay = Overlay::Help((at + 1).min(HELP_SCROLL_MAX))
            }
            (Overlay::Help(at), KeyCode::PageUp) => {
                self.overlay = Overlay::Help(at.saturating_sub(10))
            }
            (Overlay::Help(at), KeyCode::PageDown) => {
                self.overlay = Overlay::Help((at + 10).min(HELP_SCROLL_MAX))
            }
            (Overlay::Detail(id), KeyCode::Up | KeyCode::Char('k')) => {
                self.overlay = Overlay::Detail(self.neighbour_request(id, -1))
            }
            (Overlay::Detail(id), KeyCode::Down | KeyCode::Char('j')) => {
                self.overlay = Overlay::Detail(self.neighbour_request(id, 1))
            }
            (
                Overlay::Help(_) | Overlay::Detail(_) | Overlay::History(_) | Overlay::Jar(_),
                KeyCode::Esc
                | KeyCode::Enter
                | KeyCode::Char('q')
                | KeyCode::Char('?')
                | KeyCode::Char('C'),
            ) => {}
            (other, _) => self.overlay = other,
        }
        Vec::new()
    }

    /// Shows the cookie jar (the runtime read it from the session for `Command::ShowJar`).
    fn show_jar(&mut self, entries: &[crate::net::cookies::JarEntry]) {
        self.overlay = Overlay::Jar(crate::views::cookies::jar_lines(entries));
    }

    fn neighbour_request(&mut self, id: u32, by: isize) -> u32 {
        let at = self.requests.position(id).unwrap_or(0) as isize + by;
        let at = at.clamp(0, self.requests.len().saturating_sub(1) as isize) as usize;
        self.net_selected = at;
        self.requests.get(at).map(|r| r.id).unwrap_or(id)
    }

    pub(super) fn follow(&mut self, link: Option<usize>) -> Vec<Command> {
        let Some(page) = &self.page else {
            return Vec::new();
        };
        match link.and_then(|i| page.layout.links.get(i)) {
            Some(target) if target.field.is_some() => {
                let node = target.field.unwrap_or_default();
                self.activate_field(link.unwrap_or_default(), node)
            }
            Some(target) => {
                let url = target.url.clone();
                // A page from the network cannot send the browser to a local file (or data:,
                // javascript:...): the user may type such an address, a link may not open it.
                let from_network = page.url.starts_with("http:") || page.url.starts_with("https:");
                let to_web = url.starts_with("http:") || url.starts_with("https:");
                if from_network && !to_web {
                    self.message = Some(
                        format!(
                            "refused: a page from the network may not open {}",
                            url.split(':').next().unwrap_or_default()
                        ) + ": links (type the address to open it yourself)",
                    );
                    return Vec::new();
                }
                // A link to a place in this page scrolls there instead of loading.
                if let (Ok(to), Ok(here)) = (Url::parse(&url), Url::parse(&page.url)) {
                    if let Some(fragment) = to.fragment().filter(|_| {
                        to[..url::Position::AfterQuery] == here[..url::Position::AfterQuery]
                    }) {
                        self.message = Some(self.scroll_to_fragment(fragment));
                        return Vec::new();
                    }
                }
                vec![Command::Load { url, step: false }]
            }
            None => {
                self.message = Some("no such link".into());
                Vec::new()
            }
        }
    }

    /// Scrolls the page to an in-page target (`#id`, `<a name>`), as a browser does for a
    /// link into the same page; says where it went, or that the page has no such target.
    fn scroll_to_fragment(&mut self, fragment: &str) -> String {
        let Some(page) = &self.page else {
            return String::new();
        };
        let decoded = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
        let shown = crate::text::escape_line(&decoded).into_owned();
        // The HTML standard's order: an element with that id or name first, then "top".
        let target = page
            .layout
            .anchor_line(fragment)
            .or_else(|| page.layout.anchor_line(&decoded));
        match target {
            Some(line) => {
                self.page_scroll = line;
                format!("#{shown}: line {} of this page", line + 1)
            }
            None if fragment.is_empty() || decoded.eq_ignore_ascii_case("top") => {
                self.page_scroll = 0;
                "top of the page".to_string()
            }
            None => format!("#{shown}: no such place on this page"),
        }
    }

    /// The DOM rows not hidden under a collapsed node.
    pub fn visible_dom_rows(&self) -> Vec<&super::session::DomRow> {
        let Some(page) = &self.page else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut hidden_below: Option<usize> = None;
        for row in &page.dom {
            if let Some(depth) = hidden_below {
                if row.depth > depth {
                    continue;
                }
                hidden_below = None;
            }
            if self.dom_collapsed.contains(&row.node) {
                hidden_below = Some(row.depth);
            }
            out.push(row);
        }
        out
    }

    /// The event the trace pane shows as selected (the newest when following).
    pub fn selected_event(&self) -> Option<&Event> {
        match self.trace_selected {
            Some(i) => self.events.get(i),
            None => self.events.last(),
        }
    }

    /// The DOM node the current selection relates to (an asset's element).
    pub fn highlighted_node(&self) -> Option<u64> {
        if self.focus == Pane::Network {
            return self
                .requests
                .get(self.net_selected)
                .and_then(|r| r.initiator_node());
        }
        let event = self.selected_event()?;
        match &event.kind {
            EventKind::AssetFound { node, .. } => Some(*node),
            _ => event
                .request
                .and_then(|id| self.requests.by_id(id))
                .and_then(|r| r.initiator_node()),
        }
    }

    /// The request the current trace selection belongs to.
    pub fn highlighted_request(&self) -> Option<u32> {
        let event = self.selected_event()?;
        match &event.kind {
            EventKind::AssetFound { url, .. } => {
                self.requests.iter().find(|r| &r.url == url).map(|r| r.id)
            }
            _ => event.request,
        }
    }

    /// Moves the network and DOM selections to what the selected step relates to.
    pub(super) fn sync_from_trace(&mut self) {
        if let Some(id) = self.highlighted_request() {
            if let Some(i) = self.requests.position(id) {
                self.net_selected = i;
            }
        }
        if let Some(node) = self.highlighted_node() {
            if let Some(i) = self.visible_dom_rows().iter().position(|r| r.node == node) {
                self.dom_selected = i;
            }
        }
    }

    pub(super) fn page_lines(&self) -> usize {
        self.page
            .as_ref()
            .map(|p| p.layout.lines.len())
            .unwrap_or(0)
    }

    fn scroll_focused(&mut self, by: isize) {
        match self.focus {
            Pane::Page => self.scroll_page(by),
            Pane::Network => {
                self.net_selected = (self.net_selected as isize + by)
                    .clamp(0, self.requests.len().saturating_sub(1) as isize)
                    as usize
            }
            Pane::Trace => {
                let last = self.events.len().saturating_sub(1) as isize;
                let current = self.trace_selected.unwrap_or(last as usize) as isize;
                self.trace_selected = Some((current + by).clamp(0, last) as usize);
            }
            Pane::Dom => self.dom_selected = (self.dom_selected as isize + by).max(0) as usize,
            Pane::Chat => {}
        }
    }

    pub(super) fn scroll_page(&mut self, by: isize) {
        let max = self.page_lines().saturating_sub(self.page_height.max(1));
        self.page_scroll = (self.page_scroll as isize + by).clamp(0, max as isize) as usize;
    }

    /// Link spans in document order: (link index, line, start, end).
    fn link_positions(&self) -> Vec<(usize, usize, usize, usize)> {
        let Some(page) = &self.page else {
            return Vec::new();
        };
        let mut seen = HashSet::new();
        page.layout
            .spans
            .iter()
            .filter_map(|s| match s.style {
                SpanStyle::Link(i) if seen.insert(i) => Some((i, s.line, s.start, s.end)),
                _ => None,
            })
            .collect()
    }

    fn select_first_visible_link(&mut self) {
        let top = self.page_scroll;
        self.selected_link = self
            .link_positions()
            .iter()
            .find(|p| p.1 >= top)
            .map(|p| p.0);
    }

    pub(super) fn move_link(&mut self, by: isize) {
        let links = self.link_positions();
        if links.is_empty() {
            self.message = Some("this page has no links".into());
            return;
        }
        let at = self
            .selected_link
            .and_then(|l| links.iter().position(|p| p.0 == l));
        let next = match at {
            Some(i) => (i as isize + by).clamp(0, links.len() as isize - 1) as usize,
            None => 0,
        };
        let (link, line, _, _) = links[next];
        self.selected_link = Some(link);
        self.reveal(line);
    }

    /// Scrolls so that `line` is on screen.
    fn reveal(&mut self, line: usize) {
        let height = self.page_height.max(1);
        if line < self.page_scroll {
            self.page_scroll = line;
        } else if line >= self.page_scroll + height {
            self.page_scroll = line + 1 - height;
        }
    }

    fn start_search(&mut self, query: &str) {
        if query.is_empty() {
            self.search = None;
            return;
        }
        self.search = Some(Search {
            query: query.to_string(),
            ..Search::default()
        });
        self.redo_search();
        match self.search.as_ref().map(|s| s.matches.len()) {
            Some(0) => self.message = Some(format!("not found: {query}")),
            _ => self.next_match(0),
        }
    }

    fn redo_search(&mut self) {
        let Some(search) = &mut self.search else {
            return;
        };
        let Some(page) = &self.page else { return };
        let needle = search.query.to_lowercase();
        search.matches.clear();
        for (i, line) in page.layout.lines.iter().enumerate() {
            let hay = line.to_lowercase();
            // Lowercasing can change byte lengths; only exact-length matches map back safely.
            if hay.len() != line.len() {
                continue;
            }
            let mut from = 0;
            while let Some(at) = hay[from..].find(&needle) {
                search
                    .matches
                    .push((i, from + at, from + at + needle.len()));
                from += at + needle.len().max(1);
            }
        }
        search.current = search.current.min(search.matches.len().saturating_sub(1));
    }

    pub(super) fn next_match(&mut self, by: isize) {
        let Some(search) = &mut self.search else {
            self.message = Some("no search: press / first".into());
            return;
        };
        if search.matches.is_empty() {
            return;
        }
        let n = search.matches.len() as isize;
        search.current = (search.current as isize + by).rem_euclid(n) as usize;
        let line = search.matches[search.current].0;
        let shown = format!("match {} of {}", search.current + 1, n);
        self.reveal(line);
        self.message = Some(shown);
    }

    /// The page pane's size changed: lay the page out again when the width did.
    pub fn resize_page(&mut self, width: usize, height: usize) -> Vec<Command> {
        self.page_height = height;
        if width != self.page_width && width >= 20 {
            self.page_width = width;
            if self.page.is_some() {
                return vec![Command::Relayout(width)];
            }
        }
        Vec::new()
    }
}

/// Edits a one-line input; returns false when the dialog closes.
pub(super) fn edit_line(text: &mut String, code: KeyCode) -> bool {
    match code {
        KeyCode::Esc => return false,
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char(c) if text.len() < 2048 => text.push(c),
        _ => {}
    }
    true
}
