//! Bytes → page text: encoding sniffing, HTML parse, CSS (inline `<style>` and `style=`),
//! layout, and the `--dump` view. Nothing may panic, and what reaches the terminal may hold
//! no control character (C0 but newline/tab, DEL, C1, bidi overrides/isolates).

#![no_main]

use libfuzzer_sys::fuzz_target;
use minibrowse::{html, layout, text};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the width and whether an HTTP charset is given.
    let (width, charset, body) = match data.split_first() {
        Some((&b, rest)) => (
            20 + usize::from(b % 128),
            match b >> 6 {
                0 => None,
                1 => Some("windows-1252"),
                2 => Some("utf-8"),
                _ => Some("shift_jis"),
            },
            rest,
        ),
        None => (80, None, data),
    };
    let decoded = html::decode(body, charset);
    let doc = html::parse(&decoded.text);
    let base = url::Url::parse("http://fuzz.test/dir/page.html").expect("a valid base");
    let page = layout::layout_document(&doc, &base, width);
    let shown = text::escape_controls(&page.to_text(true)).into_owned();
    assert!(!shown.chars().any(text::is_unsafe), "unsafe character in the dump");
    let title = doc.title().unwrap_or_default();
    assert!(!text::escape_line(&title).chars().any(text::is_unsafe));
    let plain = layout::layout_plain_text(&decoded.text, width);
    let shown = text::escape_controls(&plain.to_text(false)).into_owned();
    assert!(!shown.chars().any(text::is_unsafe));
});
