//! A response head: reported exactly as it arrived (the bytes the transport recorded) and
//! parsed into its status line and header lines.

use super::*;

/// Reports the response head exactly as it arrived (stamped when its first byte came) and
/// returns it parsed.
pub(super) fn report_head(response: &ureq::http::Response<ureq::Body>, hop: Hop<'_>) -> ParsedHead {
    let recorded = wire::with_exchange(|x| {
        // To the answer's first byte: an interim 103 before it is not the answer.
        let answered = x.answer_first_byte.or(x.first_byte);
        let ttfb = match (x.send_end, answered) {
            (Some(sent), Some(first)) => ms(first.saturating_duration_since(sent)),
            _ => 0.0,
        };
        (
            String::from_utf8_lossy(&x.head).into_owned(),
            ttfb,
            answered,
        )
    });
    let (raw_head, ttfb_ms, first_byte) = recorded.unwrap_or_default();
    let parsed = parse_head(&raw_head).unwrap_or_else(|| ParsedHead::as_ureq_read(response));
    hop.trace.emit_started(
        Some(hop.request),
        first_byte.unwrap_or_else(Instant::now),
        EventKind::Response {
            status: parsed.status,
            reason: parsed.reason.clone(),
            version: parsed.version.clone(),
            head: raw_head,
            ttfb_ms,
            url: Some(hop.url.to_string()),
        },
    );
    parsed
}

/// A response head: the status line and the header lines, in order, as received.
#[derive(Clone)]
pub(super) struct ParsedHead {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

impl ParsedHead {
    /// The head as ureq read it, when the recorded bytes do not parse (they always should).
    fn as_ureq_read(response: &ureq::http::Response<ureq::Body>) -> ParsedHead {
        ParsedHead {
            version: format!("{:?}", response.version()),
            status: response.status().as_u16(),
            reason: response
                .status()
                .canonical_reason()
                .unwrap_or("")
                .to_string(),
            headers: response
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
        }
    }
}

/// Parses the raw response head the transport recorded (after any interim 1xx heads).
fn parse_head(raw: &str) -> Option<ParsedHead> {
    let start = wire::final_head_start(raw.as_bytes()).unwrap_or(0);
    let raw = raw.get(start..).unwrap_or(raw);
    let mut headers = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(raw.as_bytes()) {
        Ok(httparse::Status::Complete(_)) => Some(ParsedHead {
            version: format!("HTTP/1.{}", response.version.unwrap_or(1)),
            status: response.code?,
            // httparse gives no reason phrase when it holds bytes from 0x80 (obs-text).
            reason: match response.reason.unwrap_or_default() {
                "" => raw_reason(raw),
                reason => reason.to_string(),
            },
            headers: response
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_string(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect(),
        }),
        _ => None,
    }
}

/// The reason phrase as written: the status line after the code.
fn raw_reason(raw: &str) -> String {
    let line = raw.split("\r\n").next().unwrap_or_default();
    line.splitn(3, ' ').nth(2).unwrap_or_default().to_string()
}
