//! The server's side, visible: one line for each request a demo server handled.
//!
//! The servers never print. Each reports a [`ServedLine`] into one bounded channel
//! ([`Console`]); whoever runs the world (`minibrowse serve`) drains it on one plain thread
//! ([`spawn_writer`]). A full channel drops the line and counts it; a blocked or closed
//! stdout stops only that thread, never a server: a paused terminal, `serve | head -1` or
//! `serve > /dev/full` leave every server answering (issue 16).

use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

/// Lines waiting for the writer at most; beyond that they are dropped (and counted).
pub const CONSOLE_LINES: usize = 1024;
/// Longest path (or DNS name) shown on a line, in characters.
const MAX_SHOWN: usize = 200;

/// Which of the demo world's servers handled the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    Web,
    Https,
    Backend,
    Dns,
    Proxy,
}

impl Server {
    pub fn name(self) -> &'static str {
        match self {
            Server::Web => "web",
            Server::Https => "https",
            Server::Backend => "backend",
            Server::Dns => "dns",
            Server::Proxy => "proxy",
        }
    }
}

/// One request one server handled: who asked, what for, what the server did, how it ended.
/// What a server did with a request, in words, for its console line: a response extension
/// the handlers set (the front server, the backend, the chat) and the console layer reads.
#[derive(Clone, Debug)]
pub struct Handled(pub String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServedLine {
    pub server: Server,
    pub client: SocketAddr,
    /// `GET`, `POST`, `CONNECT`, `SOCKS5`, or the DNS record type asked (`A?`).
    pub method: String,
    /// The path, the proxied URL, or the DNS name.
    pub target: String,
    /// What the server did with it, in words: `site/style.css`, `forwarded to …`, `no such file`.
    pub action: String,
    /// The status (`200 OK`, `502 Bad Gateway`, `NOERROR`, `NXDOMAIN`).
    pub status: String,
    pub took: Option<Duration>,
}

impl fmt::Display for ServedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target: String = self.target.chars().take(MAX_SHOWN).collect();
        let cut = if target.len() < self.target.len() {
            "…"
        } else {
            ""
        };
        write!(
            f,
            "{:<7} {:<21} {} {target}{cut} → {} · {}",
            self.server.name(),
            self.client.to_string(),
            self.method,
            self.action,
            self.status
        )?;
        if let Some(took) = self.took {
            write!(f, " ({:.1} ms)", took.as_secs_f64() * 1000.0)?;
        }
        Ok(())
    }
}

/// The sending end: cheap to clone, never blocks, never fails a server.
#[derive(Clone)]
pub struct Console {
    lines: Option<SyncSender<ServedLine>>,
    dropped: Arc<AtomicU64>,
}

impl Console {
    /// A console that shows nothing (`minibrowse demo`, the tests): lines are not even made.
    pub fn silent() -> Console {
        Console {
            lines: None,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A console of at most `capacity` waiting lines, and the end they come out of.
    pub fn bounded(capacity: usize) -> (Console, ConsoleLines) {
        let (tx, rx) = sync_channel(capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        (
            Console {
                lines: Some(tx),
                dropped: dropped.clone(),
            },
            ConsoleLines { rx, dropped },
        )
    }

    /// Whether anyone reads the lines (so a server can skip making one).
    pub fn is_on(&self) -> bool {
        self.lines.is_some()
    }

    /// Hands a line to the console; when it is full, the line is dropped and counted.
    pub fn report(&self, line: ServedLine) {
        let Some(lines) = &self.lines else {
            return;
        };
        match lines.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            // The reader is gone: nobody wants the lines any more.
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

impl fmt::Debug for Console {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Console")
            .field("on", &self.is_on())
            .finish_non_exhaustive()
    }
}

impl Default for Console {
    fn default() -> Self {
        Console::silent()
    }
}

/// The receiving end of a [`Console`].
pub struct ConsoleLines {
    rx: Receiver<ServedLine>,
    dropped: Arc<AtomicU64>,
}

impl ConsoleLines {
    /// The next line, waiting at most `wait`.
    pub fn next(&self, wait: Duration) -> Option<ServedLine> {
        self.rx.recv_timeout(wait).ok()
    }

    /// Lines dropped since the last call because the console was full.
    pub fn take_dropped(&self) -> u64 {
        self.dropped.swap(0, Ordering::Relaxed)
    }
}

/// Writes every line to `out` on a thread of its own, each escaped and on one line. A write
/// error (a closed pipe, a full disk) ends nothing but the writing: lines are then read and
/// thrown away, so the servers never notice.
pub fn spawn_writer<W: Write + Send + 'static>(
    lines: ConsoleLines,
    mut out: W,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("serve-console".into())
        .spawn(move || {
            let mut writable = true;
            loop {
                let line = match lines.rx.recv() {
                    Ok(line) => line,
                    Err(_) => return, // every Console is gone: the world stopped
                };
                if !writable {
                    continue;
                }
                let mut text = String::new();
                let dropped = lines.take_dropped();
                if dropped > 0 {
                    text.push_str(&format!(
                        "console: {dropped} line{} dropped (the console could not keep up)\n",
                        if dropped == 1 { "" } else { "s" }
                    ));
                }
                text.push_str(&crate::text::escape_line(&line.to_string()));
                text.push('\n');
                writable = out
                    .write_all(text.as_bytes())
                    .and_then(|()| out.flush())
                    .is_ok();
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u16) -> ServedLine {
        ServedLine {
            server: Server::Web,
            client: SocketAddr::from(([127, 0, 0, 1], 40000 + n)),
            method: "GET".into(),
            target: format!("/{n}"),
            action: "site/x".into(),
            status: "200 OK".into(),
            took: None,
        }
    }

    #[test]
    fn a_full_console_drops_and_counts_instead_of_waiting() {
        let (console, lines) = Console::bounded(2);
        for n in 0..5 {
            console.report(line(n));
        }
        assert_eq!(lines.take_dropped(), 3);
        assert_eq!(
            lines.next(Duration::from_millis(10)).map(|l| l.target),
            Some("/0".into())
        );
    }

    #[test]
    fn a_line_names_server_client_request_action_and_status() {
        let mut l = line(1);
        l.target = "/a\u{1b}[2J".into();
        l.took = Some(Duration::from_millis(3));
        let shown = crate::text::escape_line(&l.to_string()).into_owned();
        assert_eq!(
            shown,
            "web     127.0.0.1:40001       GET /a\\x1b[2J → site/x · 200 OK (3.0 ms)"
        );
    }

    /// A writer that always fails, like stdout on a full disk.
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("no space left"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_writer_keeps_draining_so_servers_never_fill_it() {
        let (console, lines) = Console::bounded(4);
        let writer = spawn_writer(lines, Full).expect("thread");
        for round in 0..3 {
            for n in 0..4 {
                console.report(line(round * 4 + n));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(console.dropped.load(Ordering::Relaxed), 0);
        drop(console);
        writer.join().expect("the writer ends when the world does");
    }
}
