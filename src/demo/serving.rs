//! How the demo world's web servers take connections, so that a class's network (or a
//! script) cannot knock them over (issue 16):
//! - a cap on the connections one peer (IP address) may hold open at once, across servers;
//! - a deadline on every request head, which is also the idle limit of a kept-alive
//!   connection (hyper's `header_read_timeout`, which axum's own `serve` leaves off);
//! - a budget per WebSocket message: a client that keeps sending bytes (endless empty
//!   continuation frames) without ever finishing a message is cut off.
//!
//! Each connection runs hyper's HTTP/1.1 server with upgrades (for the WebSocket) around the
//! axum router; the peer's address and the message budget reach the handlers as request
//! extensions (`ConnectInfo<SocketAddr>`, [`MessageBudget`]).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;

/// Longest a request head may take to arrive, counted from the moment the server waits for
/// it: a half-sent head, or a kept-alive connection idle this long, is closed.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a TLS handshake may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections one peer may hold open at once, all the world's TCP servers together. A
/// browser opens at most 6 per host name and the demo site uses four names.
pub const PER_PEER: usize = 64;
/// Bytes a WebSocket client may send toward one message (its frames, fragments and headers
/// included) before the message must be complete: the 16 KiB message limit and room for
/// framing.
pub const MESSAGE_BUDGET_BYTES: u64 = 64 * 1024;
/// Longest one WebSocket message may take from its first byte to its last.
pub const MESSAGE_BUDGET_TIME: Duration = Duration::from_secs(10);
/// Largest request head (hyper's read buffer; HTTP/2's header list).
const MAX_HEAD: usize = 64 * 1024;
/// Streams one HTTP/2 connection may have open at once (its SETTINGS say so).
pub const H2_STREAMS: u32 = 128;

/// The open connections of each peer.
#[derive(Clone, Default)]
pub struct Peers {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    cap: Option<usize>,
}

impl Peers {
    /// Peers limited to `cap` connections each.
    pub fn capped(cap: usize) -> Peers {
        Peers {
            open: Arc::default(),
            cap: Some(cap),
        }
    }

    /// A slot for one more connection of `ip`, or None when it holds its cap already.
    pub fn admit(&self, ip: IpAddr) -> Option<PeerSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(ip).or_insert(0);
        if self.cap.is_some_and(|cap| *count >= cap) {
            return None;
        }
        *count += 1;
        Some(PeerSlot {
            peers: self.clone(),
            ip,
        })
    }

    /// Connections `ip` holds open now.
    pub fn open(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&ip).copied().unwrap_or(0)
    }
}

/// One admitted connection; dropping it frees the slot.
pub struct PeerSlot {
    peers: Peers,
    ip: IpAddr,
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut open = self
            .peers
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// What a WebSocket client has sent toward the message it has not finished yet. Inactive
/// until the WebSocket handler arms it (HTTP requests are bounded by hyper instead).
#[derive(Clone)]
pub struct MessageBudget(Arc<BudgetState>);

struct BudgetState {
    armed: AtomicBool,
    bytes: AtomicU64,
    /// Milliseconds after `origin` of the first byte of the unfinished message (0: none yet).
    first_byte_ms: AtomicU64,
    origin: Instant,
}

impl MessageBudget {
    fn new() -> MessageBudget {
        MessageBudget(Arc::new(BudgetState {
            armed: AtomicBool::new(false),
            bytes: AtomicU64::new(0),
            first_byte_ms: AtomicU64::new(0),
            origin: Instant::now(),
        }))
    }

    /// From now on, bytes count toward a message (the connection became a WebSocket).
    pub fn arm(&self) {
        self.message_done();
        self.0.armed.store(true, Ordering::Relaxed);
    }

    /// A whole message (or control frame) arrived: the next one starts from nothing.
    pub fn message_done(&self) {
        self.0.bytes.store(0, Ordering::Relaxed);
        self.0.first_byte_ms.store(0, Ordering::Relaxed);
    }

    /// Counts `n` bytes read from the client; an error once the message is over budget.
    fn charge(&self, n: usize) -> io::Result<()> {
        let state = &self.0;
        if n == 0 || !state.armed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let now_ms = (state.origin.elapsed().as_millis() as u64).max(1);
        let first = match state.first_byte_ms.compare_exchange(
            0,
            now_ms,
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => now_ms,
            Err(first) => first,
        };
        let bytes = state.bytes.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if bytes > MESSAGE_BUDGET_BYTES {
            return Err(io::Error::other(format!(
                "{bytes} bytes sent without finishing a message (budget {MESSAGE_BUDGET_BYTES})"
            )));
        }
        if now_ms.saturating_sub(first) > MESSAGE_BUDGET_TIME.as_millis() as u64 {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "a message took longer than its time budget",
            ));
        }
        Ok(())
    }
}

/// A connection counted against its peer's cap, its reads charged to its message budget.
pub struct Guarded<Io> {
    io: Io,
    budget: MessageBudget,
    _slot: PeerSlot,
}

impl<Io: AsyncRead + Unpin> AsyncRead for Guarded<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let read = buf.filled().len() - before;
            if let Err(e) = self.budget.charge(read) {
                return Poll::Ready(Err(e));
            }
        }
        polled
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Guarded<Io> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Serves `app` on `listener` (behind TLS when `tls` is given) until the task is dropped.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
    peers: Peers,
) {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            // Out of descriptors, most likely: wait for some to close.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        // Over its cap, the peer's connection is closed at once: the others go on.
        let Some(slot) = peers.admit(peer.ip()) else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let budget = MessageBudget::new();
        let io = Guarded {
            io: tcp,
            budget: budget.clone(),
            _slot: slot,
        };
        let app = app.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match acceptor {
                // Each handshake on its own task, bounded: a stalled one holds up nobody.
                Some(acceptor) => {
                    if let Ok(Ok(tls)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(io)).await
                    {
                        if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
                            serve_h2(tls, peer, app).await;
                        } else {
                            serve_connection(tls, peer, budget, app).await;
                        }
                    }
                }
                None => serve_connection(io, peer, budget, app).await,
            }
        });
    }
}

async fn serve_connection<Io>(io: Io, peer: SocketAddr, budget: MessageBudget, app: Router)
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(budget.clone());
        let mut app = app.clone();
        tower_service::Service::call(&mut app, request.map(Body::new))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD);
    let _ = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades()
        .await;
}

/// One HTTP/2 connection (its TLS handshake chose `h2`): every request a stream, at most
/// [`H2_STREAMS`] at once, each head within [`MAX_HEAD`]; a peer that stops answering
/// pings is dropped.
async fn serve_h2<Io>(io: Io, peer: SocketAddr, app: Router)
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let mut app = app.clone();
        tower_service::Service::call(&mut app, request.map(Body::new))
    });
    let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .max_concurrent_streams(H2_STREAMS)
        .max_header_list_size(MAX_HEAD as u32)
        .keep_alive_interval(Some(HEAD_TIMEOUT))
        .keep_alive_timeout(HANDSHAKE_TIMEOUT);
    let _ = builder.serve_connection(TokioIo::new(io), service).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_at_its_cap_waits_for_a_slot_to_free() {
        let peers = Peers::capped(2);
        let ip = IpAddr::from([127, 0, 0, 3]);
        let first = peers.admit(ip);
        let second = peers.admit(ip);
        assert!(first.is_some() && second.is_some());
        assert!(peers.admit(ip).is_none(), "a third is over the cap");
        assert!(peers.admit(IpAddr::from([127, 0, 0, 4])).is_some());
        drop(first);
        assert!(peers.admit(ip).is_some(), "a freed slot is free again");
    }

    #[test]
    fn a_message_that_never_ends_runs_out_of_budget() {
        let budget = MessageBudget::new();
        assert!(budget.charge(1 << 20).is_ok(), "not armed: plain HTTP");
        budget.arm();
        let mut result = Ok(());
        for _ in 0..20_000 {
            result = budget.charge(6); // an empty masked continuation frame
            if result.is_err() {
                break;
            }
        }
        assert!(result.is_err());
        budget.message_done();
        assert!(budget.charge(6).is_ok(), "a new message starts afresh");
    }
}
