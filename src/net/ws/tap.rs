//! The tap under tungstenite: the bytes both ways recorded (the Upgrade's heads, then each
//! frame's header and the start of its payload, in wire order, the excess counted), and
//! every read and write held to the deadline of the operation and the limits of the
//! message coming in.

use super::*;

/// A frame as the trace shows it.
#[derive(Debug, Clone)]
pub(super) struct FrameSummary {
    pub(super) opcode: &'static str,
    pub(super) fin: bool,
    pub(super) length: u64,
    pub(super) masked: bool,
    pub(super) header_bytes: u64,
    pub(super) preview: String,
    /// When its last byte was seen (the trace shows it then, not when it is reported).
    pub(super) at: Instant,
}

/// Which way a frame went: an index into [`WireOrder`]'s per-side counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Direction {
    Sent = 0,
    Received = 1,
}

impl Direction {
    pub(super) fn name(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }

    fn other(self) -> Direction {
        match self {
            Direction::Sent => Direction::Received,
            Direction::Received => Direction::Sent,
        }
    }
}

/// Frames of one kind that were counted instead of shown: how many, and their bytes.
pub(super) struct Counted {
    direction: Direction,
    last: FrameSummary,
    reply: bool,
    pub(super) frames: u64,
    bytes: u64,
    pub(super) header_bytes: u64,
}

/// The frames of both directions in the order they crossed the wire: a ping received comes
/// before the pong that answers it, a Close before the Close that answers it. Each is marked
/// when it answers the other side's ping or Close.
///
/// Between two messages, only the first [`FRAMES_SHOWN`] frames are kept one by one; the
/// rest are counted by kind, and the counts are shown when the next message ends (or a
/// Close comes, or every [`COUNT_EVERY`]): a server sending endless fragments or pings
/// costs a few lines, not a summary per frame.
#[derive(Default)]
pub(super) struct WireOrder {
    pub(super) frames: Vec<(Direction, FrameSummary, bool)>,
    /// Frames kept since the last message ended.
    shown: usize,
    /// Frames counted instead, by direction and opcode, and when the first of them came.
    counted: Vec<Counted>,
    counting_since: Option<Instant>,
    /// Pings of each side not answered yet, and whether each side has sent its Close.
    pings: [u32; 2],
    closed: [bool; 2],
}

impl WireOrder {
    /// Takes one frame, in the bytes' own order.
    fn push(&mut self, direction: Direction, frame: FrameSummary) {
        let (mine, theirs) = (direction as usize, direction.other() as usize);
        let reply = match frame.opcode {
            "ping" => {
                self.pings[mine] = self.pings[mine].saturating_add(1);
                false
            }
            "pong" if self.pings[theirs] > 0 => {
                self.pings[theirs] -= 1;
                true
            }
            "close" => {
                self.closed[mine] = true;
                self.closed[theirs]
            }
            _ => false,
        };
        let ends_message = frame.opcode == "close"
            || (frame.fin && matches!(frame.opcode, "text" | "binary" | "continuation"));
        if ends_message {
            self.show_counts();
            self.frames.push((direction, frame, reply));
            self.shown = 0;
        } else if self.shown < FRAMES_SHOWN {
            self.frames.push((direction, frame, reply));
            self.shown += 1;
        } else {
            self.count(direction, frame, reply);
            self.show_counts_if_due();
        }
    }

    fn count(&mut self, direction: Direction, frame: FrameSummary, reply: bool) {
        self.counting_since.get_or_insert_with(Instant::now);
        let opcode = frame.opcode;
        let same = |c: &&mut Counted| c.direction == direction && c.last.opcode == opcode;
        match self.counted.iter_mut().find(same) {
            Some(counted) => {
                counted.frames += 1;
                counted.bytes += frame.length;
                counted.header_bytes += frame.header_bytes;
                counted.reply = reply;
                counted.last = frame;
            }
            None => self.counted.push(Counted {
                direction,
                reply,
                frames: 1,
                bytes: frame.length,
                header_bytes: frame.header_bytes,
                last: frame,
            }),
        }
    }

    /// Shows what was counted so far as one line per kind of frame.
    pub(super) fn show_counts(&mut self) {
        self.counting_since = None;
        for counted in self.counted.drain(..) {
            let preview = format!(
                "and {} more {} frames like this one ({} bytes in all): counted, not shown one by one",
                counted.frames, counted.last.opcode, counted.bytes
            );
            let frame = FrameSummary {
                length: counted.bytes,
                header_bytes: counted.header_bytes,
                preview,
                ..counted.last
            };
            self.frames.push((counted.direction, frame, counted.reply));
        }
    }

    /// Shows the counts when they have been kept back for a while.
    pub(super) fn show_counts_if_due(&mut self) {
        if self
            .counting_since
            .is_some_and(|since| since.elapsed() >= COUNT_EVERY)
        {
            self.show_counts();
        }
    }
}

/// The data message a side is in the middle of: since when, and in how many frames so far.
#[derive(Clone, Copy, Debug)]
pub(super) struct Unfinished {
    began: Instant,
    fragments: u64,
    /// Payload bytes arrived so far.
    bytes: u64,
}

/// Finds frame boundaries in a byte stream without keeping the payloads.
#[derive(Default)]
pub(super) struct FrameScanner {
    header: Vec<u8>,
    current: Option<(FrameHeader, u64, u64, Vec<u8>, u64)>,
    /// The message whose frames are coming (from its first frame's header to its last byte).
    unfinished: Option<Unfinished>,
    broken: bool,
}

impl FrameScanner {
    /// Reads `bytes` on from where the last call stopped; each frame completed is handed to
    /// `done`.
    fn feed(&mut self, mut bytes: &[u8], done: &mut dyn FnMut(FrameSummary)) {
        while !bytes.is_empty() && !self.broken {
            match &mut self.current {
                None => {
                    self.header.push(bytes[0]);
                    bytes = &bytes[1..];
                    let mut cursor = Cursor::new(&self.header);
                    match FrameHeader::parse(&mut cursor) {
                        Ok(Some((header, length))) => {
                            let header_len = cursor.position();
                            self.header.clear();
                            self.begin(&header);
                            self.current = Some((header, length, length, Vec::new(), header_len));
                            self.finish_if_complete(done);
                        }
                        Ok(None) if self.header.len() < 14 => {}
                        _ => self.broken = true,
                    }
                }
                Some((header, _, remaining, preview, _)) => {
                    let take = (*remaining).min(bytes.len() as u64) as usize;
                    if let (OpCode::Data(_), Some(unfinished)) =
                        (header.opcode, &mut self.unfinished)
                    {
                        unfinished.bytes += take as u64;
                    }
                    let room = PREVIEW.saturating_sub(preview.len()).min(take);
                    preview.extend_from_slice(&bytes[..room]);
                    *remaining -= take as u64;
                    bytes = &bytes[take..];
                    self.finish_if_complete(done);
                }
            }
        }
    }

    /// A data frame's header: a message begins, or one more fragment of it comes.
    fn begin(&mut self, header: &FrameHeader) {
        match header.opcode {
            OpCode::Data(Data::Text | Data::Binary) => {
                self.unfinished = Some(Unfinished {
                    began: Instant::now(),
                    fragments: 1,
                    bytes: 0,
                });
            }
            OpCode::Data(Data::Continue) => {
                if let Some(unfinished) = &mut self.unfinished {
                    unfinished.fragments += 1;
                }
            }
            _ => {}
        }
    }

    fn finish_if_complete(&mut self, done: &mut dyn FnMut(FrameSummary)) {
        if !matches!(self.current, Some((_, _, 0, _, _))) {
            return;
        }
        let Some((header, length, _, preview, header_len)) = self.current.take() else {
            return;
        };
        if header.is_final && matches!(header.opcode, OpCode::Data(_)) {
            self.unfinished = None;
        }
        done(summary(&header, length, &preview, header_len));
    }

    /// The frame whose bytes are still coming, as far as it came.
    pub(super) fn partial(&self) -> Option<FrameSummary> {
        let (header, length, remaining, preview, header_len) = self.current.as_ref()?;
        let mut frame = summary(header, *length, preview, *header_len);
        frame.preview = format!(
            "{} ({} of its {length} bytes had come when the client stopped reading)",
            frame.preview,
            length - remaining
        );
        Some(frame)
    }
}

/// A frame as the trace shows it, from its header and the first bytes of its payload.
pub(super) fn summary(
    header: &FrameHeader,
    length: u64,
    preview: &[u8],
    header_len: u64,
) -> FrameSummary {
    let mut preview = preview.to_vec();
    if let Some(mask) = header.mask {
        for (i, byte) in preview.iter_mut().enumerate() {
            *byte ^= mask[i % 4];
        }
    }
    let opcode = match header.opcode {
        OpCode::Data(Data::Text) => "text",
        OpCode::Data(Data::Binary) => "binary",
        OpCode::Data(Data::Continue) => "continuation",
        OpCode::Control(Control::Close) => "close",
        OpCode::Control(Control::Ping) => "ping",
        OpCode::Control(Control::Pong) => "pong",
        _ => "reserved",
    };
    let shown = match opcode {
        "close" if preview.len() >= 2 => format!(
            "code {} {}",
            u16::from_be_bytes([preview[0], preview[1]]),
            String::from_utf8_lossy(&preview[2..])
        ),
        "close" => "no code".to_string(),
        "binary" => preview
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::from_utf8_lossy(&preview).into_owned(),
    };
    let cut = if length > preview.len() as u64 && opcode != "binary" {
        "…"
    } else {
        ""
    };
    FrameSummary {
        opcode,
        fin: header.is_final,
        length,
        masked: header.mask.is_some(),
        header_bytes: header_len,
        preview: format!("{shown}{cut}"),
        at: Instant::now(),
    }
}

/// One direction of the tap: the HTTP head first, then frames.
#[derive(Default)]
pub(super) struct Recorder {
    pub(super) head: Vec<u8>,
    head_done: bool,
    pub(super) frames: FrameScanner,
}

impl Recorder {
    fn feed(&mut self, mut bytes: &[u8], done: &mut dyn FnMut(FrameSummary)) {
        if !self.head_done {
            while let Some((&b, rest)) = bytes.split_first() {
                bytes = rest;
                if self.head.len() < MAX_HEAD_BYTES {
                    self.head.push(b);
                }
                if self.head.ends_with(b"\r\n\r\n") {
                    self.head_done = true;
                    break;
                }
            }
        }
        if self.head_done {
            self.frames.feed(bytes, done);
        }
    }
}

/// The connection with a recording tap on both directions, and the clock every read and
/// write is held to.
///
/// tungstenite's `read()` returns only with a whole message, and it loops over frames that
/// make none (empty continuation frames without FIN), so a socket timeout never fires while
/// bytes keep coming. The tap is under it: each read and write checks the deadline of the
/// operation and the limits of the message coming in, and fails once they are passed.
pub(super) struct Tap {
    pub(super) inner: Stream,
    /// The same socket, for read and write timeouts.
    pub(super) socket: Arc<TcpStream>,
    pub(super) sent: Recorder,
    pub(super) received: Recorder,
    /// The frames of both recorders, in the order they crossed the wire.
    pub(super) order: WireOrder,
    pub(super) first_byte: Option<Instant>,
    /// When the current operation (the Upgrade, a read, a send, the close) must be over.
    pub(super) until: Option<Instant>,
    /// Longest one write may block: a pong answered during a read waits only briefly for
    /// room in the socket (tungstenite keeps it and tries again), a message sent waits
    /// until the deadline.
    pub(super) write_patience: Duration,
    /// How long one message from the server may take from its first byte to its last.
    pub(super) message_time: Duration,
    /// Why the tap stopped the connection (a message over a limit), in words.
    pub(super) refused: Option<String>,
}

impl Tap {
    /// Holds the operation starting now to `until`, each write to `patience`.
    pub(super) fn hold_to(&mut self, until: Instant, patience: Duration) {
        self.until = Some(until);
        self.write_patience = patience;
    }

    /// The limits of the message coming in, then the operation's deadline.
    fn check(&mut self) -> io::Result<()> {
        if let Some(why) = self.over_limit() {
            self.refused = Some(why.clone());
            return Err(io::Error::other(why));
        }
        if self.until.is_some_and(|until| Instant::now() >= until) {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the deadline passed",
            ));
        }
        Ok(())
    }

    fn over_limit(&self) -> Option<String> {
        let message = self.received.frames.unfinished?;
        let taken = message.began.elapsed();
        if message.fragments > MAX_FRAGMENTS {
            Some(format!(
                "the server split one message into more than {MAX_FRAGMENTS} frames ({} so far in {:.1} s, {} bytes in all): a message may have at most {MAX_FRAGMENTS}",
                message.fragments,
                taken.as_secs_f64(),
                message.bytes
            ))
        } else if taken >= self.message_time {
            Some(format!(
                "the server's message did not end within {:.1} s ({} so far, {} bytes): a message must arrive within the timeout (--timeout)",
                self.message_time.as_secs_f64(),
                match message.fragments {
                    1 => "1 frame".to_string(),
                    n => format!("{n} frames"),
                },
                message.bytes
            ))
        } else {
            None
        }
    }

    /// The time one blocking read may take: to the deadline, or to the end of the
    /// message's time if that comes first.
    fn read_patience(&self) -> Option<Duration> {
        let now = Instant::now();
        let message_end = self
            .received
            .frames
            .unfinished
            .map(|m| m.began + self.message_time);
        let end = match (self.until, message_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }?;
        Some(
            end.saturating_duration_since(now)
                .max(Duration::from_millis(1)),
        )
    }
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.check()?;
        if let Some(patience) = self.read_patience() {
            let _ = self.socket.set_read_timeout(Some(patience));
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if is_timeout(&e) => {
                // Which clock ran out: the message's says why.
                self.check()?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if n > 0 && self.first_byte.is_none() {
            self.first_byte = Some(Instant::now());
        }
        let order = &mut self.order;
        self.received.feed(&buf[..n], &mut |frame| {
            order.push(Direction::Received, frame)
        });
        Ok(n)
    }
}

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(until) = self.until {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the deadline passed",
                ));
            }
            let patience = left.min(self.write_patience).max(Duration::from_millis(1));
            let _ = self.socket.set_write_timeout(Some(patience));
        }
        let n = self.inner.write(buf)?;
        let order = &mut self.order;
        self.sent
            .feed(&buf[..n], &mut |frame| order.push(Direction::Sent, frame));
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pieces` to a scanner, one call each, and keeps what it completed.
    fn scan(scanner: &mut FrameScanner, pieces: &[&[u8]]) -> Vec<FrameSummary> {
        let mut frames = Vec::new();
        for piece in pieces {
            scanner.feed(piece, &mut |frame| frames.push(frame));
        }
        frames
    }

    #[test]
    fn scanner_finds_frames_and_unmasks_previews() {
        let mut scanner = FrameScanner::default();
        // Server text frame "hi", then a masked client frame "ok" split across feeds, then
        // a close frame with code 1000.
        let masked = [0x81, 0x82, 1, 2, 3, 4, b'o' ^ 1, b'k' ^ 2];
        let frames: Vec<(&str, u64, bool, String)> = scan(
            &mut scanner,
            &[
                &[0x81, 0x02, b'h', b'i'],
                &masked[..3],
                &masked[3..],
                &[0x88, 0x02, 0x03, 0xe8],
            ],
        )
        .into_iter()
        .map(|f| (f.opcode, f.length, f.masked, f.preview))
        .collect();
        assert_eq!(
            frames,
            vec![
                ("text", 2, false, "hi".to_string()),
                ("text", 2, true, "ok".to_string()),
                ("close", 2, false, "code 1000 ".to_string())
            ]
        );
    }

    #[test]
    fn frames_keep_their_wire_order_and_answers_are_marked() {
        let mut order = WireOrder::default();
        let (mut sent, mut received) = (Recorder::default(), Recorder::default());
        sent.head_done = true;
        received.head_done = true;
        // The server's ping, our pong; then our close, the server's close.
        let mut sent_feed = |order: &mut WireOrder, bytes: &[u8]| {
            sent.feed(bytes, &mut |f| order.push(Direction::Sent, f));
        };
        received.feed(&[0x89, 0], &mut |f| order.push(Direction::Received, f));
        sent_feed(&mut order, &[0x8a, 0x80, 1, 2, 3, 4]);
        sent_feed(&mut order, &[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
        received.feed(&[0x88, 2, 0x03, 0xe8], &mut |f| {
            order.push(Direction::Received, f)
        });
        let seen: Vec<(&str, &str, bool)> = order
            .frames
            .iter()
            .map(|(d, f, reply)| (d.name(), f.opcode, *reply))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("received", "ping", false),
                ("sent", "pong", true),
                ("sent", "close", false),
                ("received", "close", true),
            ]
        );
    }

    #[test]
    fn scanner_counts_a_huge_frame_without_keeping_it() {
        let mut scanner = FrameScanner::default();
        let mut frame = vec![0x82, 127];
        frame.extend_from_slice(&(1_000_000u64).to_be_bytes());
        let mut pieces: Vec<&[u8]> = vec![&frame];
        let zeros = [0u8; 1000];
        pieces.extend(std::iter::repeat_n(&zeros[..], 1000));
        let frames = scan(&mut scanner, &pieces);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].length, 1_000_000);
        assert!(scanner.current.is_none());
    }

    #[test]
    fn endless_fragments_are_counted_not_kept() {
        let mut order = WireOrder::default();
        let mut scanner = FrameScanner::default();
        // A text frame without FIN, then 100,000 empty continuation frames.
        let mut bytes = vec![0x01, 0x02, b'h', b'i'];
        bytes.extend([0x00, 0x00].repeat(100_000));
        scanner.feed(&bytes, &mut |f| order.push(Direction::Received, f));
        assert_eq!(order.frames.len(), FRAMES_SHOWN);
        let unfinished = scanner.unfinished.expect("the message goes on");
        assert_eq!((unfinished.fragments, unfinished.bytes), (100_001, 2));
        // The last fragment ends the message: the count comes before it.
        scanner.feed(&[0x80, 0x01, b'!'], &mut |f| {
            order.push(Direction::Received, f)
        });
        assert!(scanner.unfinished.is_none());
        let tail: Vec<(&str, u64, &str)> = order.frames[FRAMES_SHOWN..]
            .iter()
            .map(|(_, f, _)| (f.opcode, f.length, f.preview.as_str()))
            .collect();
        let counted = 100_001 - FRAMES_SHOWN as u64;
        let words = format!("and {counted} more continuation frames like this one (0 bytes in all): counted, not shown one by one");
        assert_eq!(
            tail,
            vec![
                ("continuation", 0, words.as_str()),
                ("continuation", 1, "!")
            ]
        );
        assert_eq!(order.shown, 0);
    }

    #[test]
    fn a_ping_flood_is_counted_by_kind_and_pongs_stay_answers() {
        let mut order = WireOrder::default();
        let (mut sent, mut received) = (Recorder::default(), Recorder::default());
        sent.head_done = true;
        received.head_done = true;
        for _ in 0..1000 {
            received.feed(&[0x89, 0x01, b'p'], &mut |f| {
                order.push(Direction::Received, f)
            });
            sent.feed(&[0x8a, 0x81, 0, 0, 0, 0, b'p'], &mut |f| {
                order.push(Direction::Sent, f)
            });
        }
        assert_eq!(order.frames.len(), FRAMES_SHOWN);
        order.show_counts();
        let counts: Vec<(&str, &str, u64, bool)> = order.frames[FRAMES_SHOWN..]
            .iter()
            .map(|(d, f, reply)| (d.name(), f.opcode, f.length, *reply))
            .collect();
        let each = 1000 - FRAMES_SHOWN as u64 / 2;
        assert_eq!(
            counts,
            vec![
                ("received", "ping", each, false),
                ("sent", "pong", each, true)
            ]
        );
        // The overhead still counts every frame's header.
        let header_bytes: u64 = order.frames.iter().map(|(_, f, _)| f.header_bytes).sum();
        assert_eq!(header_bytes, 1000 * 2 + 1000 * 6);
    }
}
