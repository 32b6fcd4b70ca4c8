//! `--dump`: the page as plain text, like `lynx -dump`.

use crate::page::Page;
use crate::text::escape_controls;

/// The page's text, then (unless `no_list`) the numbered link references.
pub fn dump(page: &Page, no_list: bool) -> String {
    escape_controls(&page.layout.to_text(!no_list)).into_owned()
}
