//! Author CSS, for the properties that change what text a terminal shows and how it flows.
//! Anything not understood is skipped, never fatal (CSS's own error recovery).
//!
//! - `sources`: the stylesheets' text by URL, handed over by the page's loader;
//! - `sheet`: stylesheets parsed (`cssparser`) into rules with Servo's `selectors`, in
//!   cascade order, filed in buckets for the cascade;
//! - `props`: the declarations minibrowse uses, parsed into computed values;
//! - `media`: media queries, evaluated for a screen `columns × 8` px wide.

mod media;
mod props;
mod sheet;
mod sources;

pub use media::{media_attr_matches, media_list_matches, Media, MIN_SCREEN_PX};
pub use props::{ContentPart, Decl, Prop};
pub use sheet::{leading_imports, Bucket, Rule, Sheets};
pub use sources::StyleSources;

use cssparser::Parser;

/// Consumes what is left of `input` (a block or a value being dropped).
fn skip_rest(input: &mut Parser<'_>) {
    while input.next().is_ok() {}
}
