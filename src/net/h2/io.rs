//! The TLS connection the dial path opened (blocking: it is traced step by step, handshake
//! included) carried on as an async byte stream for the `h2` crate, which is async.
//!
//! rustls itself is sans-IO: [`rustls::ClientConnection`] takes ciphertext in and gives
//! plaintext out, so the same finished connection can go on over tokio's socket. (tokio-rustls
//! does this too, but only for a handshake it ran itself; the one here was run, timed and
//! reported by `net::tls`.)

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::net::tls::TlsStream;

/// Ciphertext read from the socket at once, at most: one TLS record and a little more.
const READ_CHUNK: usize = 18 * 1024;
/// Plaintext taken for encryption while ciphertext still waits to be written: h2 is told
/// to wait instead, so the buffer stays bounded.
const MAX_PENDING: usize = 64 * 1024;

/// A finished TLS connection on tokio's socket.
pub(crate) struct TlsIo {
    tls: rustls::ClientConnection,
    tcp: tokio::net::TcpStream,
    /// Ciphertext rustls has produced and the socket has not yet taken.
    pending: Vec<u8>,
    /// Ciphertext read from the socket that rustls has not taken yet: it holds at most
    /// 16 KiB of plaintext the reader has not read, so a read's worth is fed a piece at a
    /// time.
    incoming: Vec<u8>,
    /// The peer closed the TCP connection.
    eof: bool,
}

impl TlsIo {
    /// Moves a connection the dial path finished onto tokio's socket. Must run inside the
    /// runtime that will drive it.
    pub(crate) fn new(stream: TlsStream) -> io::Result<TlsIo> {
        let rustls::StreamOwned { conn, sock } = stream;
        sock.set_nonblocking(true)?;
        // The blocking dial set timeouts on the socket; tokio's reads never block, and the
        // h2 layer bounds every wait with its own deadline.
        Ok(TlsIo {
            tls: conn,
            tcp: tokio::net::TcpStream::from_std(sock)?,
            pending: Vec::new(),
            incoming: Vec::new(),
            eof: false,
        })
    }

    /// Writes out what rustls has encrypted; Ready once all of it went to the socket.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            while self.tls.wants_write() && self.pending.len() < MAX_PENDING {
                self.tls.write_tls(&mut self.pending)?;
            }
            if self.pending.is_empty() {
                return Poll::Ready(Ok(()));
            }
            let written = ready!(Pin::new(&mut self.tcp).poll_write(cx, &self.pending))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..written);
        }
    }

    /// Reads ciphertext from the socket (when none is left over) and feeds rustls until it
    /// has plaintext for the reader. Ready(false) at the end of the stream.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        if self.incoming.is_empty() {
            let mut chunk = [0u8; READ_CHUNK];
            let mut buf = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut self.tcp).poll_read(cx, &mut buf))?;
            if buf.filled().is_empty() {
                self.eof = true;
                return Poll::Ready(Ok(false));
            }
            self.incoming.extend_from_slice(buf.filled());
        }
        while !self.incoming.is_empty() {
            let taken = self.tls.read_tls(&mut &self.incoming[..])?;
            self.incoming.drain(..taken);
            let state = self
                .tls
                .process_new_packets()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            // The reader takes this before rustls may take more.
            if state.plaintext_bytes_to_read() > 0 {
                break;
            }
            if taken == 0 {
                // rustls took nothing and gave nothing: it would go round forever.
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "TLS stalled: the connection's records could not be read",
                )));
            }
        }
        Poll::Ready(Ok(true))
    }
}

impl AsyncRead for TlsIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match this.tls.reader().read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            if this.eof {
                // The peer closed without close_notify: rustls says UnexpectedEof above,
                // unless nothing was ever pending; either way, nothing more comes.
                return Poll::Ready(Ok(()));
            }
            // Alerts or key updates rustls wants to send go out before we wait for more.
            if this.tls.wants_write() {
                let _ = this.poll_drain(cx)?;
            }
            ready!(this.poll_fill(cx))?;
        }
    }
}

impl AsyncWrite for TlsIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.pending.len() >= MAX_PENDING {
            ready!(this.poll_drain(cx))?;
        }
        // rustls takes nothing while its own buffer of ciphertext is full: drain it, once.
        for _ in 0..2 {
            let taken = this.tls.writer().write(buf)?;
            if taken > 0 || buf.is_empty() {
                // Best effort now; poll_flush finishes it.
                let _ = this.poll_drain(cx)?;
                return Poll::Ready(Ok(taken));
            }
            ready!(this.poll_drain(cx))?;
        }
        Poll::Ready(Err(io::ErrorKind::WriteZero.into()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.tls.send_close_notify();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.tcp).poll_shutdown(cx)
    }
}
