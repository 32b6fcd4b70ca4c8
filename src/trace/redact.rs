//! Passwords never reach a view: a URL's `user:password@` and the credentials of an
//! `Authorization` header are replaced as each event enters the trace, so the `--trace` text,
//! `--json`, the TUI and the HAR all show what was sent without the secret itself.

use super::EventKind;

/// What stands for a password that was there.
pub const HIDDEN: &str = "***";

/// Hides the credentials an event carries (in place).
pub fn redact(kind: &mut EventKind) {
    match kind {
        EventKind::Start { input, url, .. } => {
            redact_url(input);
            redact_url(url);
        }
        EventKind::Request { url, head, .. } => {
            redact_url(url);
            redact_head(head);
        }
        EventKind::Redirect {
            location, next_url, ..
        } => {
            redact_url(location);
            redact_url(next_url);
        }
        EventKind::Cache(step) => {
            redact_url(&mut step.url);
            redact_words(&mut step.reason);
        }
        EventKind::Failed { message, .. } => redact_words(message),
        _ => {}
    }
}

/// `http://user:pw@host/` → `http://user:***@host/`; anything that does not parse as a URL
/// with a password is left as it is.
fn redact_url(text: &mut String) {
    let Ok(mut url) = url::Url::parse(text) else {
        return;
    };
    if url.password().is_some_and(|p| p != HIDDEN) && url.set_password(Some(HIDDEN)).is_ok() {
        *text = url.to_string();
    }
}

/// Each word of a message that is a URL with a password.
fn redact_words(text: &mut String) {
    if !text.contains('@') {
        return;
    }
    let words: Vec<String> = text
        .split(' ')
        .map(|word| {
            let mut word = word.to_string();
            redact_url(&mut word);
            word
        })
        .collect();
    *text = words.join(" ");
}

/// `authorization: Basic dXNlcjpwdw==` → `authorization: Basic ***` (the scheme stays: it
/// is the lesson), and the same for `proxy-authorization`.
fn redact_head(head: &mut String) {
    if !head.to_ascii_lowercase().contains("authorization:") {
        return;
    }
    let lines: Vec<String> = head
        .split("\r\n")
        .map(|line| {
            let Some((name, value)) = line.split_once(':') else {
                return line.to_string();
            };
            let name_lower = name.trim().to_ascii_lowercase();
            if name_lower != "authorization" && name_lower != "proxy-authorization" {
                return line.to_string();
            }
            let scheme = value.split_whitespace().next().unwrap_or_default();
            format!("{name}: {scheme} {HIDDEN}")
        })
        .collect();
    *head = lines.join("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_urls_and_heads() {
        let mut kind = EventKind::Request {
            method: "GET".into(),
            url: "http://ann:s3cret@www.minibrowse.test/".into(),
            purpose: "document".into(),
            head: "GET / HTTP/1.1\r\nauthorization: Basic YW5uOnMzY3JldA==\r\nhost: x\r\n\r\n"
                .into(),
            begun_ms: 0.0,
            send_ms: 0.0,
            body: None,
        };
        redact(&mut kind);
        let EventKind::Request { url, head, .. } = kind else {
            unreachable!("still a request")
        };
        assert_eq!(url, "http://ann:***@www.minibrowse.test/");
        assert_eq!(
            head,
            "GET / HTTP/1.1\r\nauthorization: Basic ***\r\nhost: x\r\n\r\n"
        );
        let mut plain = "http://www.minibrowse.test/".to_string();
        redact_url(&mut plain);
        assert_eq!(plain, "http://www.minibrowse.test/");
        let mut message = "cannot reach http://a:b@h/ now".to_string();
        redact_words(&mut message);
        assert_eq!(message, "cannot reach http://a:***@h/ now");
    }
}
