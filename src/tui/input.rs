//! Keys to actions: every key outside a dialog and the chat line goes through the one key
//! table (`keys::BINDINGS`, which the help screen and the footer also read), and each
//! [`Action`] is carried out here.

use std::time::{Duration, Instant};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Command, Overlay, Pane, StepState};
use super::keys::{action_for, Action, Scope};

impl App {
    /// Handles one key; returns what the runtime must do.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return vec![Command::Quit];
        }
        if self.overlay != Overlay::None {
            return self.on_overlay_key(key);
        }
        if self.focus == Pane::Chat {
            return self.on_chat_key(key);
        }
        if self.editing.is_some() && self.focus == Pane::Page {
            return self.on_field_key(key);
        }
        self.message = None;
        // Digits type a link number (Enter follows it). Typed in another pane, they bring the
        // page back: after looking at a request, a class goes on with the next link at once.
        if let KeyCode::Char('0'..='9') = key.code {
            if self.focus != Pane::Page && self.left == Pane::Page && self.page.is_some() {
                self.set_focus(Pane::Page);
            }
        }
        if self.focus == Pane::Page {
            if let KeyCode::Char(c @ '0'..='9') = key.code {
                if self.link_number.len() < 6 {
                    self.link_number.push(c);
                }
                return Vec::new();
            }
        }
        match action_for(&self.active_scopes(), key.code) {
            Some(action) => self.apply(action),
            None => Vec::new(),
        }
    }

    /// The scopes whose keys work now, the first that binds a key winning: step mode's,
    /// then the global keys, then the focused pane's.
    fn active_scopes(&self) -> Vec<Scope> {
        let pane = match self.focus {
            Pane::Page => Scope::Page,
            Pane::Network => Scope::Network,
            Pane::Trace => Scope::Trace,
            Pane::Dom => Scope::Dom,
            Pane::Chat => Scope::Chat,
        };
        let mut scopes = Vec::with_capacity(3);
        if self.step.enabled {
            scopes.push(Scope::Step);
        }
        scopes.extend([Scope::Global, pane]);
        scopes
    }

    fn apply(&mut self, action: Action) -> Vec<Command> {
        match action {
            Action::Quit => return vec![Command::Quit],
            Action::Help => self.overlay = Overlay::Help(0),
            Action::NextPane => self.set_focus(self.focus.next(1, self.chat.is_some())),
            Action::PreviousPane => self.set_focus(self.focus.next(-1, self.chat.is_some())),
            Action::Zoom => self.zoomed = !self.zoomed,
            Action::OpenUrl => self.overlay = Overlay::OpenUrl(String::new()),
            Action::Back => return self.go_history(-1),
            Action::Forward => return self.go_history(1),
            Action::History => self.overlay = Overlay::History(self.history_pos),
            Action::CookieJar => return vec![Command::ShowJar],
            Action::JoinChat => return self.join_chat(),
            Action::Reload => return self.reload(false),
            Action::HardReload => return self.reload_bypassing_cache(),
            Action::StepReload => return self.reload(true),
            Action::Escape => self.link_number.clear(),
            Action::Step => return self.step_once(Instant::now()),
            Action::Autoplay => {
                self.step.autoplay = match self.step.autoplay {
                    Some(_) => None,
                    None => Some(Duration::from_millis(800)),
                };
            }
            Action::Faster => self.adjust_autoplay(0.5),
            Action::Slower => self.adjust_autoplay(2.0),
            Action::Continue => {
                self.step = StepState::default();
                return vec![Command::RunFreely];
            }
            pane_action => return self.apply_in_pane(pane_action),
        }
        Vec::new()
    }

    /// An action that means something in the focused pane (moving, Enter, ...).
    fn apply_in_pane(&mut self, action: Action) -> Vec<Command> {
        match self.focus {
            Pane::Page => return self.apply_in_page(action),
            Pane::Network => self.apply_in_network(action),
            Pane::Trace => {
                self.apply_in_trace(action);
                self.sync_from_trace();
            }
            Pane::Dom => self.apply_in_dom(action),
            Pane::Chat => {}
        }
        Vec::new()
    }

    fn apply_in_page(&mut self, action: Action) -> Vec<Command> {
        let height = self.page_height.max(1);
        match action {
            Action::Up => self.scroll_page(-1),
            Action::Down => self.scroll_page(1),
            Action::PageUp => self.scroll_page(-(height as isize - 1)),
            Action::PageDown => self.scroll_page(height as isize - 1),
            Action::First => self.page_scroll = 0,
            Action::Last => self.page_scroll = self.page_lines().saturating_sub(height),
            Action::NextLink => self.move_link(1),
            Action::PreviousLink => self.move_link(-1),
            Action::Search => self.overlay = Overlay::Search(String::new()),
            Action::NextMatch => self.next_match(1),
            Action::PreviousMatch => self.next_match(-1),
            Action::EraseDigit => {
                self.link_number.pop();
            }
            Action::Activate => {
                let target = if self.link_number.is_empty() {
                    self.selected_link
                } else {
                    let n: usize = self.link_number.parse().unwrap_or(0);
                    self.link_number.clear();
                    n.checked_sub(1)
                };
                return self.follow(target);
            }
            _ => {}
        }
        Vec::new()
    }

    fn apply_in_network(&mut self, action: Action) {
        let last = self.requests.len().saturating_sub(1);
        match action {
            Action::Up => self.net_selected = self.net_selected.saturating_sub(1),
            Action::Down => self.net_selected = (self.net_selected + 1).min(last),
            Action::First => self.net_selected = 0,
            Action::Last => self.net_selected = last,
            Action::Activate => {
                if let Some(row) = self.requests.get(self.net_selected) {
                    self.overlay = Overlay::Detail(row.id);
                }
            }
            _ => {}
        }
    }

    fn apply_in_trace(&mut self, action: Action) {
        let last = self.events.len().saturating_sub(1);
        let current = self.trace_selected.unwrap_or(last);
        match action {
            Action::Up => self.trace_selected = Some(current.saturating_sub(1)),
            // Past the newest step the pane follows the load again.
            Action::Down if current + 1 >= last => self.trace_selected = None,
            Action::Down => self.trace_selected = Some(current + 1),
            Action::PageUp => self.trace_selected = Some(current.saturating_sub(10)),
            Action::PageDown => self.trace_selected = Some((current + 10).min(last)),
            Action::First => self.trace_selected = Some(0),
            Action::Last => self.trace_selected = None,
            Action::Activate => {
                if let Some(id) = self.selected_event().and_then(|e| e.request) {
                    self.overlay = Overlay::Detail(id);
                }
            }
            _ => {}
        }
    }

    fn apply_in_dom(&mut self, action: Action) {
        if action == Action::ToggleSource {
            self.dom_source = !self.dom_source;
            self.dom_selected = 0;
            return;
        }
        let count = if self.dom_source {
            self.page.as_ref().map(|p| p.source.len()).unwrap_or(0)
        } else {
            self.visible_dom_rows().len()
        };
        let last = count.saturating_sub(1);
        match action {
            Action::Up => self.dom_selected = self.dom_selected.saturating_sub(1),
            Action::Down => self.dom_selected = (self.dom_selected + 1).min(last),
            Action::PageUp => self.dom_selected = self.dom_selected.saturating_sub(10),
            Action::PageDown => self.dom_selected = (self.dom_selected + 10).min(last),
            Action::First => self.dom_selected = 0,
            Action::Last => self.dom_selected = last,
            Action::Activate | Action::Open | Action::Close if !self.dom_source => {
                self.fold_dom_node(action)
            }
            _ => {}
        }
    }

    /// Opens or closes the selected DOM node (Enter toggles it).
    fn fold_dom_node(&mut self, action: Action) {
        let Some(node) = self
            .visible_dom_rows()
            .get(self.dom_selected)
            .map(|row| row.node)
        else {
            return;
        };
        let close = action == Action::Close
            || (action == Action::Activate && !self.dom_collapsed.contains(&node));
        if close {
            self.dom_collapsed.insert(node);
        } else {
            self.dom_collapsed.remove(&node);
        }
    }
}
