//! `<meta http-equiv="refresh">`: the HTML way to say "go there instead".
//!
//! A refresh with no delay is followed like a redirect, within the same rules: only to
//! `http:`/`https:`, at most [`MAX_REFRESHES`] in a row, never back to the page itself.
//! A refresh with a delay is not waited for (the page is shown, the trace says where it
//! would go). Each refusal is an `asset_refused` event of kind `refresh`.

use url::Url;

use crate::html;
use crate::trace::{EventKind, Trace};

/// Refreshes followed one after the other before it is called a loop.
pub const MAX_REFRESHES: u32 = 5;

/// Only the start of a page is read for its `<meta>` (it belongs in `<head>`).
const HEAD_BYTES: usize = 16 * 1024;

/// A refresh found in a page: its delay in seconds and target, as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Refresh {
    pub delay: f64,
    pub url: Option<String>,
    pub content: String,
}

/// Parses a refresh `content` attribute (`"0; url=/next"`), like the HTML standard's
/// "shared declarative refresh steps", without the corner cases that change nothing here.
pub fn parse_content(content: &str) -> Option<Refresh> {
    let text = content.trim_start();
    let number_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number = &text[..number_end];
    if number.is_empty() || !number.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let whole = number.split('.').next().unwrap_or("0");
    let delay = whole.parse::<f64>().unwrap_or(f64::MAX);
    let rest = text[number_end..].trim_start();
    let rest = rest.strip_prefix([';', ',']).unwrap_or(rest).trim_start();
    if rest.is_empty() {
        return Some(Refresh {
            delay,
            url: None,
            content: content.to_string(),
        });
    }
    let rest = match rest.get(..3) {
        Some(u) if u.eq_ignore_ascii_case("url") => {
            let after = rest[3..].trim_start();
            after.strip_prefix('=').map(str::trim_start).unwrap_or(rest)
        }
        _ => rest,
    };
    let url = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or_default(),
        _ => rest,
    };
    Some(Refresh {
        delay,
        url: Some(url.trim().to_string()),
        content: content.to_string(),
    })
}

/// The first refresh declared in the start of an HTML body.
pub fn find(body: &[u8], charset: Option<&str>) -> Option<Refresh> {
    let head = &body[..body.len().min(HEAD_BYTES)];
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    if !lower.contains("refresh") {
        return None;
    }
    let decoded = html::decode(head, charset);
    let doc = html::parse(&decoded.text);
    let found = doc.walk().find_map(|(node, _)| {
        let is_refresh = node.tag() == Some("meta")
            && node
                .attr("http-equiv")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh"));
        if is_refresh {
            node.attr("content").and_then(|c| parse_content(&c))
        } else {
            None
        }
    });
    found
}

/// Decides whether to follow `refresh` found on `page`; reports a refusal into the trace.
/// `followed` counts the refreshes already followed in this load.
pub fn next_url(
    refresh: &Refresh,
    page: &Url,
    followed: u32,
    trace: &Trace,
) -> Result<Option<Url>, String> {
    let refuse = |url: &str, reason: String| {
        trace.emit(
            None,
            EventKind::AssetRefused {
                kind: "refresh".into(),
                url: url.to_string(),
                element: format!(
                    "<meta http-equiv=\"refresh\" content=\"{}\">",
                    refresh.content
                ),
                reason,
            },
        );
    };
    let target = match &refresh.url {
        Some(raw) => match page.join(raw) {
            Ok(url) => url,
            Err(e) => {
                refuse(raw, format!("not a valid URL ({e})"));
                return Ok(None);
            }
        },
        None => page.clone(),
    };
    if !matches!(target.scheme(), "http" | "https") {
        refuse(
            target.as_str(),
            format!(
                "a refresh is followed only to http and https, not to {}:",
                target.scheme()
            ),
        );
        return Ok(None);
    }
    if refresh.delay > 0.0 {
        refuse(
            target.as_str(),
            format!(
                "a refresh after {} s is not waited for: the page is shown as it is",
                refresh.delay
            ),
        );
        return Ok(None);
    }
    if target == *page {
        refuse(
            target.as_str(),
            "a refresh to the page itself would reload it forever".into(),
        );
        return Ok(None);
    }
    if followed >= MAX_REFRESHES {
        let message = format!(
            "meta refresh loop: gave up after {MAX_REFRESHES} refreshes (the last pointed to {target})"
        );
        refuse(target.as_str(), message.clone());
        return Err(message);
    }
    Ok(Some(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_content_forms() {
        let r = parse_content("0; url=/next").unwrap();
        assert_eq!((r.delay, r.url.as_deref()), (0.0, Some("/next")));
        let r = parse_content("0;URL='/q'").unwrap();
        assert_eq!(r.url.as_deref(), Some("/q"));
        let r = parse_content("5").unwrap();
        assert_eq!((r.delay, r.url), (5.0, None));
        let r = parse_content("1.5, http://x.test/").unwrap();
        assert_eq!((r.delay, r.url.as_deref()), (1.0, Some("http://x.test/")));
        assert_eq!(parse_content("soon"), None);
        assert_eq!(parse_content(""), None);
    }
}
