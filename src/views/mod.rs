//! Views of the trace and the page. Each is a pure function of events or of a layout;
//! none does I/O, so the CLI (and later the TUI) decides where the text goes.

pub mod cookies;
pub mod dump;
pub mod har;
pub mod json;
pub mod trace_text;
