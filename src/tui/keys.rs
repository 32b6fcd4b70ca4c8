//! The key map, defined once: the help screen, the footer and the dispatch all read it.
//!
//! Keys never clash: focus moves with Tab/Shift-Tab (not letters the panes use), digits
//! type link numbers in the page, and the global letters are the same in every pane.

use ratatui::crossterm::event::KeyCode;
use Action::*;
use KeyCode::{
    BackTab, Backspace, Char, Down, End, Enter, Esc, Home, Left, PageDown, PageUp, Right, Tab, Up,
};

/// Where a key works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    Page,
    Network,
    Trace,
    Dom,
    Chat,
    Step,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::Page => "Page",
            Scope::Network => "Network (request log)",
            Scope::Trace => "Trace",
            Scope::Dom => "DOM",
            Scope::Chat => "Chat (typing goes into the message)",
            Scope::Step => "Step mode",
        }
    }
}

/// What a key does. The dispatch (`tui/input.rs`) turns a key into one of these through
/// [`action_for`], so a key works exactly where the help screen says it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    NextPane,
    PreviousPane,
    Zoom,
    OpenUrl,
    Back,
    Forward,
    History,
    CookieJar,
    /// J: join the demo chat of the current site.
    JoinChat,
    /// r: reload, the page revalidated (a conditional request), fresh assets from the cache.
    Reload,
    /// R: reload with the HTTP cache bypassed.
    HardReload,
    StepReload,
    /// Esc outside a dialog: forget a half-typed link number.
    Escape,
    Up,
    Down,
    PageUp,
    PageDown,
    First,
    Last,
    /// Enter: follow, open the detail, fold a DOM node.
    Activate,
    NextLink,
    PreviousLink,
    /// Backspace while typing a link number.
    EraseDigit,
    Search,
    NextMatch,
    PreviousMatch,
    /// → / l in the DOM.
    Open,
    /// ← / h in the DOM.
    Close,
    ToggleSource,
    Step,
    Autoplay,
    Faster,
    Slower,
    Continue,
}

pub struct Binding {
    pub keys: &'static str,
    pub action: &'static str,
    pub scope: Scope,
    /// The footer's short form when its scope is active ("" = help screen only).
    pub short: &'static str,
    /// The keys, each with what it does.
    pub codes: &'static [(KeyCode, Action)],
}

const fn b(
    keys: &'static str,
    action: &'static str,
    scope: Scope,
    short: &'static str,
    codes: &'static [(KeyCode, Action)],
) -> Binding {
    Binding {
        keys,
        action,
        scope,
        short,
        codes,
    }
}

/// What `code` does in the first of `scopes` that binds it.
pub fn action_for(scopes: &[Scope], code: KeyCode) -> Option<Action> {
    scopes.iter().find_map(|scope| {
        BINDINGS
            .iter()
            .filter(|b| b.scope == *scope)
            .flat_map(|b| b.codes.iter())
            .find(|(c, _)| *c == code)
            .map(|(_, action)| *action)
    })
}

pub const BINDINGS: &[Binding] = &[
    b("q", "quit", Scope::Global, "q quit", &[(Char('q'), Quit)]),
    b(
        "?",
        "help: every key",
        Scope::Global,
        "? help",
        &[(Char('?'), Help)],
    ),
    b(
        "Tab / Shift-Tab",
        "next / previous pane",
        Scope::Global,
        "Tab pane",
        &[(Tab, NextPane), (BackTab, PreviousPane)],
    ),
    b(
        "z",
        "zoom the pane to full screen (again: back)",
        Scope::Global,
        "z zoom",
        &[(Char('z'), Zoom)],
    ),
    b(
        "o",
        "open a URL",
        Scope::Global,
        "o open",
        &[(Char('o'), OpenUrl)],
    ),
    b(
        "b / f",
        "back / forward",
        Scope::Global,
        "b/f back/fwd",
        &[(Char('b'), Back), (Char('f'), Forward)],
    ),
    b(
        "H",
        "history list",
        Scope::Global,
        "",
        &[(Char('H'), History)],
    ),
    b(
        "C",
        "the cookie jar: what this browser remembers",
        Scope::Global,
        "",
        &[(Char('C'), CookieJar)],
    ),
    b(
        "J",
        "join this site's demo chat (Ctrl-T: next technique)",
        Scope::Global,
        "",
        &[(Char('J'), JoinChat)],
    ),
    b(
        "r",
        "reload (the page revalidated: a 304 if unchanged)",
        Scope::Global,
        "",
        &[(Char('r'), Reload)],
    ),
    b(
        "R",
        "hard reload (the HTTP cache not asked)",
        Scope::Global,
        "",
        &[(Char('R'), HardReload)],
    ),
    b(
        "S",
        "reload in step mode",
        Scope::Global,
        "S step-load",
        &[(Char('S'), StepReload)],
    ),
    b("Esc", "close a dialog", Scope::Global, "", &[(Esc, Escape)]),
    b(
        "↑ ↓ / j k",
        "scroll",
        Scope::Page,
        "",
        &[
            (Up, Action::Up),
            (Down, Action::Down),
            (Char('k'), Action::Up),
            (Char('j'), Action::Down),
        ],
    ),
    b(
        "PgUp PgDn / Home End / g G",
        "scroll by page / to the ends",
        Scope::Page,
        "",
        &[
            (PageUp, Action::PageUp),
            (PageDown, Action::PageDown),
            (Home, First),
            (End, Last),
            (Char('g'), First),
            (Char('G'), Last),
        ],
    ),
    b(
        "mouse wheel",
        "scroll the pane under focus",
        Scope::Page,
        "",
        &[],
    ),
    b(
        "] / [",
        "next / previous link",
        Scope::Page,
        "]/[ link",
        &[(Char(']'), NextLink), (Char('['), PreviousLink)],
    ),
    b(
        "Enter",
        "follow the selected link",
        Scope::Page,
        "Enter follow",
        &[(Enter, Activate)],
    ),
    b(
        "0-9 Enter",
        "follow link N, from any pane (Backspace corrects)",
        Scope::Page,
        "",
        &[(Backspace, EraseDigit)],
    ),
    b(
        "0-9 Enter on a field",
        "use a form field: type, tick, choose, send",
        Scope::Page,
        "",
        &[],
    ),
    b(
        "/",
        "search the page",
        Scope::Page,
        "/ search",
        &[(Char('/'), Search)],
    ),
    b(
        "n / N",
        "next / previous match",
        Scope::Page,
        "",
        &[(Char('n'), NextMatch), (Char('N'), PreviousMatch)],
    ),
    b(
        "↑ ↓ / j k",
        "select a request",
        Scope::Network,
        "↑↓ select",
        &[
            (Up, Action::Up),
            (Down, Action::Down),
            (Char('k'), Action::Up),
            (Char('j'), Action::Down),
            (Home, First),
            (End, Last),
        ],
    ),
    b(
        "Enter",
        "request detail (headers, timing, DNS)",
        Scope::Network,
        "Enter detail",
        &[(Enter, Activate)],
    ),
    b(
        "↑ ↓ / j k",
        "select a step",
        Scope::Trace,
        "↑↓ step",
        &[
            (Up, Action::Up),
            (Down, Action::Down),
            (Char('k'), Action::Up),
            (Char('j'), Action::Down),
            (PageUp, Action::PageUp),
            (PageDown, Action::PageDown),
        ],
    ),
    b(
        "Home / End",
        "first step / follow the newest",
        Scope::Trace,
        "",
        &[(Home, First), (End, Last)],
    ),
    b(
        "Enter",
        "detail of the step's request",
        Scope::Trace,
        "",
        &[(Enter, Activate)],
    ),
    b(
        "↑ ↓ / j k",
        "move",
        Scope::Dom,
        "↑↓ move",
        &[
            (Up, Action::Up),
            (Down, Action::Down),
            (Char('k'), Action::Up),
            (Char('j'), Action::Down),
            (PageUp, Action::PageUp),
            (PageDown, Action::PageDown),
            (Home, First),
            (End, Last),
        ],
    ),
    b(
        "Enter / → ← / l h",
        "open / close a node",
        Scope::Dom,
        "Enter fold",
        &[
            (Enter, Activate),
            (Right, Open),
            (Char('l'), Open),
            (Left, Close),
            (Char('h'), Close),
        ],
    ),
    b(
        "s",
        "source view on / off",
        Scope::Dom,
        "s source",
        &[(Char('s'), ToggleSource)],
    ),
    b("Enter", "send the message", Scope::Chat, "Enter send", &[]),
    b(
        "Ctrl-Z",
        "zoom the chat to full screen (again: back)",
        Scope::Chat,
        "Ctrl-Z zoom",
        &[],
    ),
    b(
        "Ctrl-T",
        "the chat by the next technique, to compare costs",
        Scope::Chat,
        "Ctrl-T technique",
        &[],
    ),
    b(
        "Esc / Tab",
        "leave the message line (then q quits)",
        Scope::Chat,
        "Esc leave input",
        &[],
    ),
    b(
        "Space",
        "run the next step",
        Scope::Step,
        "Space next step",
        &[(Char(' '), Step)],
    ),
    b(
        "a",
        "auto-play on / off",
        Scope::Step,
        "a auto-play",
        &[(Char('a'), Autoplay)],
    ),
    b(
        "+ / -",
        "auto-play faster / slower",
        Scope::Step,
        "",
        &[(Char('+'), Faster), (Char('-'), Slower)],
    ),
    b(
        "c",
        "continue without stopping",
        Scope::Step,
        "c continue",
        &[(Char('c'), Continue)],
    ),
];

/// The footer's text for the active scopes.
pub fn footer(scopes: &[Scope]) -> Vec<&'static str> {
    // Pane keys first: they change with the focus, so they are what a user looks for.
    let mut keys: Vec<&'static str> = Vec::new();
    for scope in scopes.iter().rev() {
        keys.extend(
            BINDINGS
                .iter()
                .filter(|b| !b.short.is_empty() && b.scope == *scope)
                .map(|b| b.short),
        );
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key may mean one thing globally, and pane keys may not reuse a global key: checked
    /// on the key codes the dispatch reads, not only on the help screen's words.
    #[test]
    fn no_key_clashes() {
        let global: Vec<KeyCode> = BINDINGS
            .iter()
            .filter(|b| b.scope == Scope::Global || b.scope == Scope::Step)
            .flat_map(|b| b.codes.iter().map(|(code, _)| *code))
            .collect();
        for binding in BINDINGS
            .iter()
            .filter(|b| !matches!(b.scope, Scope::Global | Scope::Step))
        {
            for (code, _) in binding.codes {
                assert!(
                    !global.contains(code),
                    "{code:?} is both global and {:?}",
                    binding.scope
                );
            }
        }
    }

    /// Every row of the help screen that names keys the dispatch handles has its codes, so
    /// the help cannot list a key that does nothing. (The mouse wheel, the chat line, a
    /// form field taking typing and link digits are handled before the table.)
    #[test]
    fn every_listed_key_is_dispatched() {
        for binding in BINDINGS {
            let typed = binding.keys == "mouse wheel"
                || binding.keys.ends_with("on a field")
                || binding.scope == Scope::Chat;
            assert_eq!(binding.codes.is_empty(), typed, "{}", binding.keys);
        }
        assert_eq!(action_for(&[Scope::Global], Char('q')), Some(Quit));
        assert_eq!(action_for(&[Scope::Page], Char('q')), None);
        assert_eq!(
            action_for(&[Scope::Step, Scope::Global], Char(' ')),
            Some(Step)
        );
    }
}
