//! HTTP/2 frames as they cross the connection, read from the plaintext between TLS and the
//! `h2` crate (which shows no frames of its own, only the data of DATA frames): a 9-byte
//! header (length, type, flags, stream) and, for the control frames, the part of the payload
//! that says what they did (RFC 9113 section 6).

use std::fmt::Write as _;

/// The client's connection preface (RFC 9113 section 3.4), before its first frame.
pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Payload bytes kept of one frame: enough for every field reported (a GOAWAY's debug text
/// is cut there).
const KEPT: usize = 96;
/// Frame types (RFC 9113 section 6).
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const PRIORITY: u8 = 0x2;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PUSH_PROMISE: u8 = 0x5;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const WINDOW_UPDATE: u8 = 0x8;
const CONTINUATION: u8 = 0x9;

/// One frame, its header and what its payload said.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FrameInfo {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    /// Payload bytes (the frame's length field).
    pub length: u32,
    /// The start of the payload, for the control frames.
    pub payload: Vec<u8>,
}

impl FrameInfo {
    /// The frame type's name as the RFC writes it (`preface` for the client's preface).
    pub fn name(&self) -> String {
        match self.kind {
            DATA => "DATA".into(),
            HEADERS => "HEADERS".into(),
            PRIORITY => "PRIORITY".into(),
            RST_STREAM => "RST_STREAM".into(),
            SETTINGS => "SETTINGS".into(),
            PUSH_PROMISE => "PUSH_PROMISE".into(),
            PING => "PING".into(),
            GOAWAY => "GOAWAY".into(),
            WINDOW_UPDATE => "WINDOW_UPDATE".into(),
            CONTINUATION => "CONTINUATION".into(),
            other => format!("unknown type 0x{other:02x}"),
        }
    }

    pub fn is_data(&self) -> bool {
        self.kind == DATA
    }

    /// DATA and WINDOW_UPDATE: frequent enough that after the first few of a stream they
    /// are summed in the trace instead of said one by one.
    pub fn is_summable(&self) -> bool {
        matches!(self.kind, DATA | WINDOW_UPDATE)
    }

    /// A HEADERS frame (not its CONTINUATION).
    pub fn opens_header_block(&self) -> bool {
        self.kind == HEADERS
    }

    pub fn is_headers(&self) -> bool {
        matches!(self.kind, HEADERS | CONTINUATION)
    }

    /// The flags set, by name (their meaning depends on the type).
    pub fn flag_names(&self) -> Vec<String> {
        let f = self.flags;
        let mut names = Vec::new();
        let mut add = |bit: u8, name: &str| {
            if f & bit != 0 {
                names.push(name.to_string());
            }
        };
        match self.kind {
            DATA => {
                add(0x1, "END_STREAM");
                add(0x8, "PADDED");
            }
            HEADERS => {
                add(0x1, "END_STREAM");
                add(0x4, "END_HEADERS");
                add(0x8, "PADDED");
                add(0x20, "PRIORITY");
            }
            CONTINUATION => add(0x4, "END_HEADERS"),
            SETTINGS | PING => add(0x1, "ACK"),
            _ => {}
        }
        names
    }

    pub fn ends_stream(&self) -> bool {
        matches!(self.kind, DATA | HEADERS) && self.flags & 0x1 != 0
    }

    /// What the payload says, in the RFC's words: the settings, the window increment, the
    /// error code, the last stream a GOAWAY lets finish.
    pub fn detail(&self) -> String {
        let p = &self.payload;
        match self.kind {
            SETTINGS if self.flags & 0x1 != 0 => "the peer's settings are taken".into(),
            SETTINGS => settings(p),
            WINDOW_UPDATE => format!("+{} bytes", u32_at(p, 0) & 0x7fff_ffff),
            RST_STREAM => error_code(u32_at(p, 0)).to_string(),
            GOAWAY => {
                let debug = String::from_utf8_lossy(p.get(8..).unwrap_or_default());
                let mut text = format!(
                    "last stream {}, {}",
                    u32_at(p, 0) & 0x7fff_ffff,
                    error_code(u32_at(p, 4))
                );
                if !debug.trim().is_empty() {
                    let _ = write!(text, ", {:?}", crate::text::escape_line(&debug));
                }
                text
            }
            PING => format!("opaque {}", hex(p)),
            HEADERS | CONTINUATION => format!("{} bytes of HPACK-coded header block", self.length),
            DATA => format!("{} bytes of body", self.length),
            _ => String::new(),
        }
    }

    /// For GOAWAY: the highest stream the peer will still finish.
    pub fn last_stream(&self) -> Option<u32> {
        (self.kind == GOAWAY).then(|| u32_at(&self.payload, 0) & 0x7fff_ffff)
    }
}

/// The settings of a SETTINGS frame, by name.
fn settings(p: &[u8]) -> String {
    let names = |id: u16| match id {
        1 => "HEADER_TABLE_SIZE".to_string(),
        2 => "ENABLE_PUSH".into(),
        3 => "MAX_CONCURRENT_STREAMS".into(),
        4 => "INITIAL_WINDOW_SIZE".into(),
        5 => "MAX_FRAME_SIZE".into(),
        6 => "MAX_HEADER_LIST_SIZE".into(),
        8 => "ENABLE_CONNECT_PROTOCOL".into(),
        9 => "NO_RFC7540_PRIORITIES".into(),
        other => format!("0x{other:x}"),
    };
    let pairs: Vec<String> = p
        .chunks_exact(6)
        .map(|s| {
            let id = u16::from_be_bytes([s[0], s[1]]);
            format!("{}={}", names(id), u32_at(s, 2))
        })
        .collect();
    if pairs.is_empty() {
        "none: the defaults hold".into()
    } else {
        pairs.join(", ")
    }
}

/// An HTTP/2 error code's name (RFC 9113 section 7).
pub(crate) fn error_code(code: u32) -> &'static str {
    match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        _ => "an unknown error code",
    }
}

fn u32_at(p: &[u8], at: usize) -> u32 {
    match p.get(at..at + 4) {
        Some(b) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

fn hex(p: &[u8]) -> String {
    p.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Splits one direction's bytes into frames as they pass, whatever pieces they come in.
#[derive(Debug)]
pub(crate) struct FrameReader {
    /// Bytes of the client preface still to pass (sent direction only).
    preface_left: usize,
    header: [u8; 9],
    header_len: usize,
    /// The frame whose payload is passing, and how much of it is still to come.
    current: Option<FrameInfo>,
    payload_left: u32,
}

impl FrameReader {
    /// The client's writes: the preface first.
    pub fn sent() -> FrameReader {
        FrameReader::with_preface(PREFACE.len())
    }

    /// The server's bytes: frames from the first byte.
    pub fn received() -> FrameReader {
        FrameReader::with_preface(0)
    }

    fn with_preface(preface_left: usize) -> FrameReader {
        FrameReader {
            preface_left,
            header: [0; 9],
            header_len: 0,
            current: None,
            payload_left: 0,
        }
    }

    /// Takes the next bytes; returns the frames they completed (and `true` first when they
    /// finished the preface).
    pub fn feed(&mut self, mut bytes: &[u8]) -> (bool, Vec<FrameInfo>) {
        let mut preface_done = false;
        if self.preface_left > 0 {
            let n = self.preface_left.min(bytes.len());
            self.preface_left -= n;
            bytes = &bytes[n..];
            preface_done = self.preface_left == 0;
        }
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            if let Some(frame) = self.current.as_mut() {
                let n = (self.payload_left as usize).min(bytes.len());
                let room = KEPT.saturating_sub(frame.payload.len()).min(n);
                if frame.kind != DATA {
                    frame.payload.extend_from_slice(&bytes[..room]);
                }
                self.payload_left -= n as u32;
                bytes = &bytes[n..];
                if self.payload_left == 0 {
                    frames.extend(self.current.take());
                }
                continue;
            }
            let n = (9 - self.header_len).min(bytes.len());
            self.header[self.header_len..self.header_len + n].copy_from_slice(&bytes[..n]);
            self.header_len += n;
            bytes = &bytes[n..];
            if self.header_len == 9 {
                self.header_len = 0;
                let h = self.header;
                let frame = FrameInfo {
                    length: u32::from_be_bytes([0, h[0], h[1], h[2]]),
                    kind: h[3],
                    flags: h[4],
                    stream: u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff,
                    payload: Vec::new(),
                };
                self.payload_left = frame.length;
                if frame.length == 0 {
                    frames.push(frame);
                } else {
                    self.current = Some(frame);
                }
            }
        }
        (preface_done, frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut out = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
        out.extend_from_slice(&stream.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn frames_are_found_however_the_bytes_are_cut() {
        let mut wire = PREFACE.to_vec();
        wire.extend(frame(
            SETTINGS,
            0,
            0,
            &[0, 3, 0, 0, 0, 100, 0, 4, 0, 1, 0, 0],
        ));
        wire.extend(frame(HEADERS, 0x5, 1, &[0x82, 0x87]));
        wire.extend(frame(DATA, 0x1, 1, &[7; 40_000][..]));
        wire.extend(frame(GOAWAY, 0, 0, b"\0\0\0\x01\0\0\0\x0bslow down"));
        for cut in [1, 7, 9, 100, wire.len()] {
            let mut reader = FrameReader::sent();
            let mut frames = Vec::new();
            let mut preface = false;
            for piece in wire.chunks(cut) {
                let (done, got) = reader.feed(piece);
                preface |= done;
                frames.extend(got);
            }
            assert!(preface, "cut {cut}");
            let names: Vec<String> = frames.iter().map(FrameInfo::name).collect();
            assert_eq!(
                names,
                ["SETTINGS", "HEADERS", "DATA", "GOAWAY"],
                "cut {cut}"
            );
            assert_eq!(
                frames[0].detail(),
                "MAX_CONCURRENT_STREAMS=100, INITIAL_WINDOW_SIZE=65536"
            );
            assert_eq!(frames[1].flag_names(), ["END_STREAM", "END_HEADERS"]);
            assert_eq!(frames[2].length, 40_000);
            assert!(frames[2].payload.is_empty(), "DATA payloads are not kept");
            assert_eq!(
                frames[3].detail(),
                "last stream 1, ENHANCE_YOUR_CALM, \"slow down\""
            );
            assert_eq!(frames[3].last_stream(), Some(1));
        }
    }
}
