//! The second web server of the demo world (the "backend", `backend.minibrowse.test`), and
//! how the front server passes on a request for a file it does not have: a reverse proxy.
//!
//! The seed's story of the server's side: "the server maps the requested resource to its
//! directory and returns the file; if it doesn't have it, it passes the request to another
//! server; if no server has it, it returns an error". The front server maps a path to
//! `site/`; what is not there it asks the backend for, which maps it to `backend/`. The
//! answer is streamed back through, with `Via: 1.1 www.minibrowse.test` added to say who
//! passed it on. A backend that does not answer is a `502 Bad Gateway` (or `504 Gateway
//! Timeout`); a file neither has is the backend's `404 Not Found`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::console::Handled;
use super::upstream::{add_via, is_hop_by_hop, read_head, Framing, ResponseHead};

/// What the front server adds to a forwarded answer (and request): who passed it on.
pub const VIA: &str = "1.1 www.minibrowse.test";
/// Longest the backend may take to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest the backend may take to start its answer, and then between two pieces of it.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes read from the backend at a time while streaming a body through.
const PIECE: usize = 16 * 1024;

/// Passes a request for a file the front server lacks to the backend at `backend`.
pub async fn forward(
    backend: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    let to = format!("forwarded to the backend {backend}");
    match ask(backend, method, uri, headers).await {
        Ok(response) => with_action(response, format!("not in site/, {to}")),
        Err(Failure::Timeout) => with_action(
            gateway_page(
                StatusCode::GATEWAY_TIMEOUT,
                "The backend did not answer in time",
                &format!("The front server passed your request to the backend server ({backend}), which did not answer within {} seconds.", ANSWER_TIMEOUT.as_secs()),
            ),
            format!("not in site/, {to}: it did not answer in time"),
        ),
        Err(Failure::Unreachable(why)) => with_action(
            gateway_page(
                StatusCode::BAD_GATEWAY,
                "The backend did not answer",
                &format!("The front server does not have this file, so it passed your request to the backend server ({backend}). The backend did not answer ({why}): it is not running. The front server is fine; the server behind it is not."),
            ),
            format!("not in site/, {to}: it did not answer ({why})"),
        ),
    }
}

enum Failure {
    Unreachable(String),
    Timeout,
}

fn with_action(mut response: Response, action: String) -> Response {
    response.extensions_mut().insert(Handled(action));
    response
}

/// The request to the backend and its answer's head; the body streams after.
async fn ask(
    backend: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, Failure> {
    let mut upstream =
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(backend)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(Failure::Unreachable(connect_error(&e))),
            Err(_) => return Err(Failure::Timeout),
        };
    let _ = upstream.set_nodelay(true);
    let request = request_head(method, uri, headers);
    match tokio::time::timeout(ANSWER_TIMEOUT, upstream.write_all(&request)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(Failure::Unreachable(e.to_string())),
        Err(_) => return Err(Failure::Timeout),
    }
    let mut buffer = Vec::new();
    let head_len = read_head(&mut upstream, &mut buffer, ANSWER_TIMEOUT)
        .await
        .ok_or(Failure::Timeout)?;
    let head = ResponseHead::parse(&buffer[..head_len], method.as_str())
        .ok_or_else(|| Failure::Unreachable("its answer was not HTTP".into()))?;
    let early = Bytes::copy_from_slice(&buffer[head_len..]);
    Ok(relayed(head, early, upstream))
}

fn connect_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        _ => e.to_string(),
    }
}

/// The request as the backend sees it: origin form, the client's end-to-end headers, Via.
/// HTTP/1.0, as nginx asks its upstreams by default: the answer then comes with a length
/// or ends with the connection, never chunked, so its body can be streamed through as is.
fn request_head(method: &Method, uri: &Uri, headers: &HeaderMap) -> Vec<u8> {
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut head = format!("{method} {target} HTTP/1.0\r\n").into_bytes();
    for (name, value) in headers {
        if is_hop_by_hop(name.as_str()) || name == header::VIA {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    let via = add_via(headers.get(header::VIA).map(HeaderValue::as_bytes), VIA);
    head.extend_from_slice(format!("via: {via}\r\nconnection: close\r\n\r\n").as_bytes());
    head
}

/// The backend's answer as the front server's: same status and headers (but hop-by-hop
/// ones), `Via` added, the body streamed from the backend piece by piece.
fn relayed(head: ResponseHead, early: Bytes, upstream: TcpStream) -> Response {
    let status = StatusCode::from_u16(head.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut headers = HeaderMap::new();
    let mut via_before = None;
    for (name, value) in &head.headers {
        if is_hop_by_hop(name) {
            continue;
        }
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) else {
            continue;
        };
        if name == header::VIA {
            via_before = Some(value);
            continue;
        }
        headers.append(name, value);
    }
    let via = add_via(via_before.as_ref().map(HeaderValue::as_bytes), VIA);
    if let Ok(via) = HeaderValue::from_str(&via) {
        headers.insert(header::VIA, via);
    }
    let left = match head.framing {
        Framing::Empty => Some(0),
        Framing::Length(n) => Some(n),
        // Asked in HTTP/1.0, a server may not chunk; one that does is passed on to the end.
        Framing::Chunked | Framing::UntilClose => None,
    };
    let body = match left {
        Some(0) => Body::empty(),
        _ => Body::from_stream(body_stream(early, upstream, left)),
    };
    (status, headers, body).into_response()
}

/// The body's pieces as they arrive: `early` (read with the head), then the rest, at most
/// `left` bytes (None: until the backend closes), each piece within [`ANSWER_TIMEOUT`].
fn body_stream(
    early: Bytes,
    upstream: TcpStream,
    left: Option<u64>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send {
    struct Relay {
        early: Option<Bytes>,
        upstream: TcpStream,
        left: Option<u64>,
        done: bool,
    }
    let relay = Relay {
        early: (!early.is_empty()).then_some(early),
        upstream,
        left,
        done: false,
    };
    stream::unfold(relay, |mut relay| async move {
        if relay.done || relay.left == Some(0) {
            return None;
        }
        let piece = match relay.early.take() {
            // More than announced is cut at the announced length.
            Some(early) => Ok(match relay.left {
                Some(left) if early.len() as u64 > left => early.slice(..left as usize),
                _ => early,
            }),
            None => {
                let want = relay.left.map_or(PIECE, |n| n.min(PIECE as u64) as usize);
                let mut buffer = vec![0u8; want];
                match tokio::time::timeout(ANSWER_TIMEOUT, relay.upstream.read(&mut buffer)).await {
                    Ok(Ok(0)) if relay.left.is_none() => return None,
                    Ok(Ok(0)) => Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the backend closed before the end of the body",
                    )),
                    Ok(Ok(n)) => {
                        buffer.truncate(n);
                        Ok(Bytes::from(buffer))
                    }
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the backend stopped sending the body",
                    )),
                }
            }
        };
        match &piece {
            Ok(bytes) => {
                if let Some(left) = relay.left.as_mut() {
                    *left = left.saturating_sub(bytes.len() as u64);
                }
            }
            // An error ends the body (the client sees a cut answer); nothing more is read.
            Err(_) => relay.done = true,
        }
        Some((piece, relay))
    })
}

/// The small page of a 502 or 504: which server failed, in words.
fn gateway_page(status: StatusCode, title: &str, why: &str) -> Response {
    let code = status.as_u16();
    let reason = status.canonical_reason().unwrap_or_default();
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{code} {reason}</title>\n\
         <link rel=\"stylesheet\" href=\"/style.css\">\n</head>\n<body>\n<h1>{code} {reason}</h1>\n\
         <p><strong>{title}.</strong> {why}</p>\n\
         <p>A <code>5xx</code> status is the server's side failing, not your request: the same \
         request works again once the backend is back (the teacher types <code>backend on</code> \
         in the <code>minibrowse serve</code> terminal).</p>\n\
         <p><a href=\"/server.html\">Back to the server's side</a></p>\n</body>\n</html>\n"
    );
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::VIA, HeaderValue::from_static(VIA)),
        ],
        html,
    )
        .into_response()
}
