//! Form fields on the page, as lynx and elinks let you use them: a field is numbered like a
//! link; its number and Enter (or `]`/`[` and Enter) picks it. A text field then takes what
//! you type (Enter sends its form, Esc stops typing), a checkbox or radio button toggles, a
//! select offers its options, a file input asks for a file's path, a submit button submits.
//! The values live here, by control; the page's layout is not redone: the drawing puts
//! each changed field's value in its place (src/tui/draw/fields.rs).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use url::Url;

use super::app::{App, Command, Editing, Overlay};
use crate::form::{self, ControlKind, Value};

/// Most characters typed into one field (a `maxlength` may say fewer).
pub const MAX_TYPED: usize = 10_000;

impl App {
    /// Control `control` of the page's forms.
    pub fn field(&self, control: usize) -> Option<&form::Control> {
        self.page.as_ref()?.forms.controls.get(control)
    }

    /// Enter on link `link`, which is the form field at DOM node `node`.
    pub(super) fn activate_field(&mut self, link: usize, node: u32) -> Vec<Command> {
        self.show_link(link);
        let Some(page) = &self.page else {
            return Vec::new();
        };
        let Some((i, control)) = page.forms.control_at(node) else {
            self.message = Some(format!(
                "field [{}] is past the first {} controls this browser reads on a page",
                link + 1,
                form::model::MAX_CONTROLS
            ));
            return Vec::new();
        };
        let control = control.clone();
        self.selected_link = Some(link);
        let number = link + 1;
        if control.disabled {
            self.message = Some(format!(
                "field [{number}] is disabled: a browser lets nobody change it, and does not send it"
            ));
            return Vec::new();
        }
        match control.kind {
            ControlKind::Text | ControlKind::Password | ControlKind::Textarea => {
                if control.readonly {
                    self.message = Some(format!(
                        "field [{number}] is read-only: it is sent as it is, but cannot be changed"
                    ));
                    return Vec::new();
                }
                let text = self.form_values.text(&page.forms, i);
                self.form_values.0.insert(i, Value::Text(text));
                self.editing = Some(Editing { control: i, link });
            }
            ControlKind::Checkbox | ControlKind::Radio => {
                self.form_values.toggle(&page.forms, i);
            }
            ControlKind::Select => {
                let chosen = self.form_values.selected(&page.forms, i);
                self.overlay = Overlay::Choose {
                    control: i,
                    at: chosen.first().copied().unwrap_or(0),
                    chosen,
                };
            }
            ControlKind::File => {
                let now = self
                    .form_values
                    .file(i)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                self.overlay = Overlay::FilePath {
                    control: i,
                    text: now,
                };
            }
            ControlKind::Submit | ControlKind::Image => {
                return self.submit_form(control.form, Some(i))
            }
            ControlKind::Reset => {
                if let Some(f) = control.form {
                    let own: Vec<usize> = page.forms.controls_of(f).map(|(k, _)| k).collect();
                    self.form_values.0.retain(|k, _| !own.contains(k));
                    self.message = Some("the form is back as the page gave it".into());
                }
            }
            ControlKind::Button => {
                self.message = Some(format!(
                    "button [{number}] does something only with a script, and minibrowse runs none"
                ));
            }
            ControlKind::Hidden => {}
        }
        Vec::new()
    }

    /// Scrolls the page so that link `link` (a field being used) is on screen.
    fn show_link(&mut self, link: usize) {
        let Some(line) = self.page.as_ref().and_then(|p| {
            p.layout
                .spans
                .iter()
                .find(|s| s.style == crate::layout::SpanStyle::Link(link))
                .map(|s| s.line)
        }) else {
            return;
        };
        let height = self.page_height.max(1);
        if line < self.page_scroll || line >= self.page_scroll + height {
            self.page_scroll = line.saturating_sub(height / 3);
        }
    }

    /// Submits form `form` by button `submitter` (None: Enter in a field).
    fn submit_form(&mut self, form: Option<usize>, submitter: Option<usize>) -> Vec<Command> {
        let Some(page) = &self.page else {
            return Vec::new();
        };
        let Some(form) = form else {
            self.message = Some("this field belongs to no form: there is nothing to send".into());
            return Vec::new();
        };
        let (Ok(page_url), Ok(base)) = (Url::parse(&page.url), Url::parse(&page.base)) else {
            self.message = Some("a form is sent only from a web page".into());
            return Vec::new();
        };
        match form::submission(
            &page.forms,
            &self.form_values,
            form,
            submitter,
            (&page_url, &base),
        ) {
            Ok(submission) => {
                self.editing = None;
                vec![Command::Submit(Box::new(submission))]
            }
            Err(why) => {
                self.message = Some(why.0);
                Vec::new()
            }
        }
    }

    /// Keys while a field takes typing: text goes into it.
    pub(super) fn on_field_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let (Some(editing), Some(page)) = (self.editing, &self.page) else {
            self.editing = None;
            return Vec::new();
        };
        let Some(control) = page.forms.controls.get(editing.control) else {
            self.editing = None;
            return Vec::new();
        };
        let (kind, form, limit) = (
            control.kind,
            control.form,
            control.maxlength.unwrap_or(MAX_TYPED).min(MAX_TYPED),
        );
        let mut text = self.form_values.text(&page.forms, editing.control);
        let control_key = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('u') if control_key => text.clear(),
            KeyCode::Char(_) if control_key => return Vec::new(),
            KeyCode::Char(c) if text.chars().count() < limit && !c.is_control() => text.push(c),
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Enter if kind == ControlKind::Textarea && text.chars().count() < limit => {
                text.push('\n')
            }
            KeyCode::Enter if kind != ControlKind::Textarea => {
                return match form {
                    Some(f) => match form::implicit_submitter(&page.forms, f) {
                        Ok(submitter) => self.submit_form(Some(f), submitter),
                        Err(why) => {
                            self.message = Some(why.0);
                            Vec::new()
                        }
                    },
                    None => self.submit_form(None, None),
                };
            }
            KeyCode::Esc | KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                self.editing = None;
                return Vec::new();
            }
            _ => {}
        }
        self.form_values
            .0
            .insert(editing.control, Value::Text(text));
        Vec::new()
    }

    /// Keys in a field's dialog: a select's options, or a file input's path.
    pub(super) fn on_field_dialog_key(&mut self, dialog: Overlay, key: KeyEvent) {
        match (dialog, key.code) {
            (
                Overlay::Choose {
                    control,
                    at,
                    chosen,
                },
                _,
            ) => self.on_choose_key(control, at, chosen, key),
            (Overlay::FilePath { control, text }, KeyCode::Enter) => {
                self.choose_file(control, &text)
            }
            (Overlay::FilePath { control, mut text }, code) => {
                if super::app::edit_line(&mut text, code) {
                    self.overlay = Overlay::FilePath { control, text };
                }
            }
            (other, _) => self.overlay = other,
        }
    }

    /// Keys in a select's list of options.
    fn on_choose_key(
        &mut self,
        control: usize,
        mut at: usize,
        mut chosen: Vec<usize>,
        key: KeyEvent,
    ) {
        let Some(select) = self.field(control) else {
            return;
        };
        let count = select.options.len();
        let multiple = select.multiple;
        let enabled = |k: usize| select.options.get(k).is_some_and(|o| !o.disabled);
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => at = at.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => at = (at + 1).min(count.saturating_sub(1)),
            KeyCode::Char(' ') if multiple && enabled(at) => {
                match chosen.iter().position(|&k| k == at) {
                    Some(p) => {
                        chosen.remove(p);
                    }
                    None => {
                        chosen.push(at);
                        chosen.sort_unstable();
                    }
                }
            }
            KeyCode::Enter if multiple => {
                self.form_values.0.insert(control, Value::Selected(chosen));
                return;
            }
            KeyCode::Enter if enabled(at) => {
                self.form_values
                    .0
                    .insert(control, Value::Selected(vec![at]));
                return;
            }
            KeyCode::Enter => {
                self.message = Some("that option is disabled".into());
            }
            KeyCode::Esc => return,
            _ => {}
        }
        self.overlay = Overlay::Choose {
            control,
            at,
            chosen,
        };
    }

    /// Enter in the file dialog: the file a file input sends (nothing typed: no file).
    fn choose_file(&mut self, control: usize, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            self.form_values.0.insert(control, Value::File(None));
            return;
        }
        let path = match text.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME")
                .map(|home| std::path::PathBuf::from(home).join(rest))
                .unwrap_or_else(|| text.into()),
            None => std::path::PathBuf::from(text),
        };
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => {
                self.form_values.0.insert(control, Value::File(Some(path)));
            }
            Ok(_) => self.message = Some(format!("{text} is not a regular file")),
            Err(e) => self.message = Some(format!("{text}: {e}")),
        }
    }
}
