//! `--dump`: the page as plain text, like `lynx -dump`.

use std::borrow::Cow;

use crate::page::Page;
use crate::text::escape_controls;

/// The page's text, then (unless `no_list`) the numbered link references.
pub fn dump(page: &Page, no_list: bool) -> String {
    let text = page.layout.to_text(!no_list);
    match escape_controls(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(escaped) => escaped,
    }
}
