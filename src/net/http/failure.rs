//! Why a request failed, in a student's words: the step it failed in (from the exchange the
//! transport kept) and a sentence for ureq's error.

use super::*;

/// Turns a ureq error into the step that failed and a sentence for the user.
pub(super) fn describe_failure(
    error: &ureq::Error,
    exchange: Option<Exchange>,
    hop: Hop<'_>,
) -> (Step, String) {
    // The request could not even be written: nothing went over the network.
    if let ureq::Error::Http(e) = error {
        return (Step::Url, unwritable_request(&e.to_string()));
    }
    let Some(x) = exchange else {
        return (Step::Send, one_line(&error.to_string()));
    };
    if let Some(Err(failure)) = &x.resolved {
        dial::emit_dns(hop.trace, hop.request, &failure.asked);
        return (Step::Dns, failure.message.clone());
    }
    let host = hop.url.host_str().unwrap_or_default();
    let message = match error {
        ureq::Error::Timeout(_) => timed_out(x.phase, host, hop.timeout),
        _ if x.failure.is_some() => x.failure.clone().unwrap_or_default(),
        ureq::Error::Protocol(p) => not_http(&p.to_string(), host, &x.head),
        ureq::Error::LargeResponseHeader(n, limit) => {
            format!("the response head is larger than {limit} bytes ({n} bytes)")
        }
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            format!("{host} closed the connection without answering")
        }
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
            format!("{host} reset the connection")
        }
        other => one_line(&other.to_string()),
    };
    (x.phase, message)
}

/// Why a request could not be written, in a student's words (the http crate's are terse).
fn unwritable_request(error: &str) -> String {
    match error {
        "uri too long" => {
            "the URL is too long to be sent: a request line carries at most 65,534 bytes".into()
        }
        "failed to parse header value" => {
            "a header value holds a character HTTP does not allow (a control character)".into()
        }
        other => format!("the request cannot be written: {}", one_line(other)),
    }
}

/// A timeout, named by the phase it hit.
pub(super) fn timed_out(phase: Step, host: &str, timeout: Duration) -> String {
    format!(
        "timed out after {:.1} s {}",
        timeout.as_secs_f64(),
        match phase {
            Step::Connect => format!("connecting to {host}"),
            Step::Tls => format!("in the TLS handshake with {host}"),
            Step::Send => format!("sending the request to {host}"),
            Step::Wait => format!("waiting for {host} to answer"),
            _ => format!("receiving the answer from {host}"),
        }
    )
}

/// An answer ureq could not read as HTTP: too many header lines, a broken head, or no
/// status line at all (`head` is what arrived).
fn not_http(problem: &str, host: &str, head: &[u8]) -> String {
    if problem.contains("too many headers") {
        return format!(
            "the response head from {host} has more than {MAX_RESPONSE_HEADERS} header lines (the limit)"
        );
    }
    let got = String::from_utf8_lossy(&head[..head.len().min(40)]).into_owned();
    if head.is_empty() || head.starts_with(b"HTTP/") {
        format!(
            "{host} sent something that is not a valid HTTP response: {} (it began {got:?})",
            one_line(problem)
        )
    } else {
        format!(
            "{host} answered without an HTTP status line (it began {got:?}): an HTTP/0.9-style or non-HTTP reply, which minibrowse does not accept"
        )
    }
}

pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
