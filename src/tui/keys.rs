//! The key map, defined once: the help screen, the footer and the dispatch all read it.
//!
//! Keys never clash: focus moves with Tab/Shift-Tab (not letters the panes use), digits
//! type link numbers in the page, and the global letters are the same in every pane.

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

pub struct Binding {
    pub keys: &'static str,
    pub action: &'static str,
    pub scope: Scope,
    /// The footer's short form when its scope is active ("" = help screen only).
    pub short: &'static str,
}

const fn b(keys: &'static str, action: &'static str, scope: Scope, short: &'static str) -> Binding {
    Binding {
        keys,
        action,
        scope,
        short,
    }
}

pub const BINDINGS: &[Binding] = &[
    b("q", "quit", Scope::Global, "q quit"),
    b("?", "help: every key", Scope::Global, "? help"),
    b(
        "Tab / Shift-Tab",
        "next / previous pane",
        Scope::Global,
        "Tab pane",
    ),
    b(
        "z",
        "zoom the pane to full screen (again: back)",
        Scope::Global,
        "z zoom",
    ),
    b("o", "open a URL", Scope::Global, "o open"),
    b("b / f", "back / forward", Scope::Global, "b/f back/fwd"),
    b("H", "history list", Scope::Global, ""),
    b(
        "C",
        "the cookie jar: what this browser remembers",
        Scope::Global,
        "",
    ),
    b("r", "reload", Scope::Global, ""),
    b("S", "reload in step mode", Scope::Global, "S step-load"),
    b("Esc", "close a dialog", Scope::Global, ""),
    b("↑ ↓ / j k", "scroll", Scope::Page, ""),
    b(
        "PgUp PgDn / Home End / g G",
        "scroll by page / to the ends",
        Scope::Page,
        "",
    ),
    b(
        "mouse wheel",
        "scroll the pane under focus",
        Scope::Page,
        "",
    ),
    b("] / [", "next / previous link", Scope::Page, "]/[ link"),
    b(
        "Enter",
        "follow the selected link",
        Scope::Page,
        "Enter follow",
    ),
    b(
        "0-9 Enter",
        "follow link number N (Backspace corrects)",
        Scope::Page,
        "",
    ),
    b("/", "search the page", Scope::Page, "/ search"),
    b("n / N", "next / previous match", Scope::Page, ""),
    b("↑ ↓ / j k", "select a request", Scope::Network, "↑↓ select"),
    b(
        "Enter",
        "request detail (headers, timing, DNS)",
        Scope::Network,
        "Enter detail",
    ),
    b("↑ ↓ / j k", "select a step", Scope::Trace, "↑↓ step"),
    b(
        "Home / End",
        "first step / follow the newest",
        Scope::Trace,
        "",
    ),
    b("Enter", "detail of the step's request", Scope::Trace, ""),
    b("↑ ↓ / j k", "move", Scope::Dom, "↑↓ move"),
    b(
        "Enter / → ← / l h",
        "open / close a node",
        Scope::Dom,
        "Enter fold",
    ),
    b("s", "source view on / off", Scope::Dom, "s source"),
    b("Enter", "send the message", Scope::Chat, "Enter send"),
    b(
        "Ctrl-Z",
        "zoom the chat to full screen (again: back)",
        Scope::Chat,
        "Ctrl-Z zoom",
    ),
    b(
        "Esc / Tab",
        "leave the message line (then q quits)",
        Scope::Chat,
        "Esc leave input",
    ),
    b("Space", "run the next step", Scope::Step, "Space next step"),
    b("a", "auto-play on / off", Scope::Step, "a auto-play"),
    b("+ / -", "auto-play faster / slower", Scope::Step, ""),
    b("c", "continue without stopping", Scope::Step, "c continue"),
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
    use std::collections::HashSet;

    /// A key may mean one thing globally, and pane keys may not reuse a global key.
    #[test]
    fn no_key_clashes() {
        let global: HashSet<&str> = BINDINGS
            .iter()
            .filter(|b| b.scope == Scope::Global || b.scope == Scope::Step)
            .flat_map(|b| b.keys.split(" / "))
            .collect();
        // The chat line owns every key while it has focus (it is left with Esc or Tab), so
        // its keys are not checked against the global ones.
        for binding in BINDINGS
            .iter()
            .filter(|b| !matches!(b.scope, Scope::Global | Scope::Step | Scope::Chat))
        {
            for key in binding.keys.split(" / ") {
                assert!(
                    !global.contains(key),
                    "{key} is both global and {:?}",
                    binding.scope
                );
            }
        }
    }
}
