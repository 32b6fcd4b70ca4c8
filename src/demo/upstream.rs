//! Reading another server's answer, for the two demo servers that pass requests on: the
//! front web server (to its backend) and the forward proxy (to any demo site). Both read
//! the head, bounded in size and time, and then stream the body through as it comes,
//! never holding a whole body (issue 16).

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest response (or request) head read.
pub const MAX_HEAD: usize = 64 * 1024;

/// Reads from `stream` until `buffer` holds a whole head; returns the head's length.
/// None: the peer closed, sent nothing for `idle`, or sent more than [`MAX_HEAD`].
pub async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
    idle: Duration,
) -> Option<usize> {
    let mut searched: usize = 0;
    loop {
        // Only the new bytes (and the three before them) can complete the blank line.
        let from = searched.saturating_sub(3);
        if let Some(end) = buffer[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(from + end + 4);
        }
        searched = buffer.len();
        if buffer.len() > MAX_HEAD {
            return None;
        }
        read_more(stream, buffer, idle).await?;
    }
}

/// Reads until `buffer` holds at least `len` bytes. None: the peer closed or was silent for
/// `idle`.
pub async fn read_at_least<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
    len: usize,
    idle: Duration,
) -> Option<()> {
    while buffer.len() < len {
        read_more(stream, buffer, idle).await?;
    }
    Some(())
}

/// One read onto the end of `buffer`, within `idle`. None: closed, failed or silent.
async fn read_more<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffer: &mut Vec<u8>,
    idle: Duration,
) -> Option<()> {
    let mut chunk = [0u8; 8192];
    let n = tokio::time::timeout(idle, stream.read(&mut chunk))
        .await
        .ok()?
        .ok()?;
    if n == 0 {
        return None;
    }
    buffer.extend_from_slice(&chunk[..n]);
    Some(())
}

/// How a response's body ends (RFC 9112 section 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body at all (a HEAD request, 1xx, 204, 304).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked: it ends with its last chunk.
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

/// A parsed response head.
#[derive(Clone, Debug)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    /// Names as sent; values as bytes (they may be anything but CR, LF and NUL).
    pub headers: Vec<(String, Vec<u8>)>,
    pub framing: Framing,
}

impl ResponseHead {
    /// Parses `head` (up to and including its blank line), the answer to a `method` request.
    pub fn parse(head: &[u8], method: &str) -> Option<ResponseHead> {
        let mut headers = [httparse::EMPTY_HEADER; 100];
        let mut response = httparse::Response::new(&mut headers);
        if !matches!(response.parse(head), Ok(httparse::Status::Complete(_))) {
            return None;
        }
        let status = response.code?;
        let headers: Vec<(String, Vec<u8>)> = response
            .headers
            .iter()
            .map(|h| (h.name.to_string(), h.value.to_vec()))
            .collect();
        let value = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| String::from_utf8_lossy(v).trim().to_ascii_lowercase())
        };
        let framing = if method.eq_ignore_ascii_case("HEAD")
            || (100..200).contains(&status)
            || status == 204
            || status == 304
        {
            Framing::Empty
        } else if value("transfer-encoding").is_some_and(|v| v.ends_with("chunked")) {
            Framing::Chunked
        } else if let Some(length) = value("content-length") {
            Framing::Length(length.parse().ok()?)
        } else {
            Framing::UntilClose
        };
        Some(ResponseHead {
            status,
            reason: response.reason.unwrap_or_default().to_string(),
            headers,
            framing,
        })
    }
}

/// Whether a header belongs to one hop only and must not be passed on (RFC 9110 7.6.1).
pub fn is_hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// `existing` with this hop added at the end, as each proxy on the way does (RFC 9110 7.6.3).
pub fn add_via(existing: Option<&[u8]>, this_hop: &str) -> String {
    match existing {
        Some(before) if !before.is_empty() => {
            format!("{}, {this_hop}", String::from_utf8_lossy(before))
        }
        _ => this_hop.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_follows_the_method_status_and_headers() {
        let parse = |text: &str, method| {
            ResponseHead::parse(text.as_bytes(), method).map(|h| (h.status, h.framing))
        };
        assert_eq!(
            parse("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", "GET"),
            Some((200, Framing::Length(5)))
        );
        assert_eq!(
            parse("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", "HEAD"),
            Some((200, Framing::Empty))
        );
        assert_eq!(
            parse(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                "GET"
            ),
            Some((200, Framing::Chunked))
        );
        assert_eq!(
            parse("HTTP/1.0 200 OK\r\n\r\n", "GET"),
            Some((200, Framing::UntilClose))
        );
        assert_eq!(
            parse("HTTP/1.1 304 Not Modified\r\n\r\n", "GET").map(|h| h.1),
            Some(Framing::Empty)
        );
        assert!(parse("HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n", "GET").is_none());
    }

    #[test]
    fn via_grows_by_one_hop() {
        assert_eq!(add_via(None, "1.1 a"), "1.1 a");
        assert_eq!(add_via(Some(b"1.0 b"), "1.1 a"), "1.0 b, 1.1 a");
    }

    #[tokio::test]
    async fn a_head_split_across_reads_is_found() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for piece in ["HTTP/1.1 200 OK\r", "\n\r", "\nbody"] {
                let _ = client.write_all(piece.as_bytes()).await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let mut buffer = Vec::new();
        let end = read_head(&mut server, &mut buffer, Duration::from_secs(1)).await;
        assert_eq!(end, Some(19));
        let _ = writer.await;
    }
}
