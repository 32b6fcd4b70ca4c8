//! Content codings: what a `Content-Encoding` header says was done to a body, undone.
//!
//! ureq decodes exactly `gzip` and `br` itself (and then drops the header from what it
//! returns); everything else comes through as it was sent, and is decoded here: `gzip` and
//! `x-gzip` in any case, `deflate` (zlib, as RFC 9110 means it, or raw deflate, as some
//! servers send and every browser accepts), `br`, `zstd` (with RFC 9659's 8 MiB window), and
//! chains of them (`gzip, br`: br was applied last, so it is undone first). Each decoder
//! stops one byte past the body limit, so a small bomb costs no more than the limit. A coding
//! this browser does not know is refused by name: its bytes are never shown as the page.

use std::io::{self, Read};

/// What this browser can undo, for `Accept-Encoding`.
pub const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// Why a body could not be decoded.
#[derive(Debug, PartialEq, Eq)]
pub enum CodingError {
    /// Decoded, it is larger than the limit.
    OverLimit,
    /// A coding this browser does not know.
    Unknown(String),
    /// The bytes are not what the coding says (`gzip: corrupt deflate stream`).
    Corrupt { coding: String, message: String },
}

impl std::fmt::Display for CodingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodingError::OverLimit => write!(f, "larger than the limit once decoded"),
            CodingError::Unknown(coding) => write!(
                f,
                "{coding}: not decoded (this browser knows gzip, deflate, br and zstd, and said so in Accept-Encoding)"
            ),
            CodingError::Corrupt { coding, message } => write!(f, "{coding}: corrupt ({message})"),
        }
    }
}

/// The codings of a `Content-Encoding` value, in the order they were applied, lowercased;
/// `identity` (no coding) left out.
pub fn codings(header: &str) -> Vec<String> {
    header
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && c != "identity")
        .collect()
}

/// Undoes `codings` (as [`codings`] lists them) on `body`, refusing more than `limit`
/// decoded bytes.
pub fn decode(codings: &[String], body: Vec<u8>, limit: u64) -> Result<Vec<u8>, CodingError> {
    let mut body = body;
    // The last coding applied is the first to undo.
    for coding in codings.iter().rev() {
        body = decode_one(coding, &body, limit)?;
    }
    Ok(body)
}

fn decode_one(coding: &str, body: &[u8], limit: u64) -> Result<Vec<u8>, CodingError> {
    let corrupt = |e: io::Error| CodingError::Corrupt {
        coding: coding.to_string(),
        message: e.to_string(),
    };
    let out = match coding {
        "gzip" | "x-gzip" => bounded(flate2::read::MultiGzDecoder::new(body), limit),
        "deflate" if is_zlib(body) => bounded(flate2::read::ZlibDecoder::new(body), limit),
        "deflate" => bounded(flate2::read::DeflateDecoder::new(body), limit),
        "br" => bounded(brotli_decompressor::Decompressor::new(body, 8192), limit),
        "zstd" => zstd::stream::read::Decoder::new(body)
            .and_then(|mut decoder| {
                // RFC 9659: a decoder may refuse windows over 8 MiB (libzstd allows 128 MiB).
                decoder.window_log_max(23)?;
                Ok(decoder)
            })
            .and_then(|decoder| bounded(decoder, limit)),
        other => return Err(CodingError::Unknown(other.to_string())),
    };
    match out {
        Ok(Some(out)) => Ok(out),
        Ok(None) => Err(CodingError::OverLimit),
        Err(e) => Err(corrupt(e)),
    }
}

/// One coding undone as the body's pieces arrive, so a page can be parsed while it still
/// downloads (over HTTP/2, where ureq does not decode as it reads). Each decoder writes
/// into a buffer that refuses to grow past the limit, so a bomb costs no more than that.
pub struct Streaming {
    coding: String,
    decoder: Decoder,
}

enum Decoder {
    Gzip(flate2::write::MultiGzDecoder<Bounded>),
    Zlib(flate2::write::ZlibDecoder<Bounded>),
    Raw(flate2::write::DeflateDecoder<Bounded>),
    Br(Box<brotli_decompressor::DecompressorWriter<Bounded>>),
    Zstd(zstd::stream::write::Decoder<'static, Bounded>),
    /// `deflate` before its first two bytes say zlib or raw: the bytes so far, the limit.
    Undecided(Vec<u8>, u64),
}

impl Streaming {
    /// A decoder for a body coded with `codings`, when it is one coding this browser knows;
    /// None for a chain (decoded whole, at the end) or an unknown coding (refused then).
    pub fn new(codings: &[String], limit: u64) -> Option<Streaming> {
        let [coding] = codings else {
            return None;
        };
        let out = Bounded::new(limit);
        let decoder = match coding.as_str() {
            "gzip" | "x-gzip" => Decoder::Gzip(flate2::write::MultiGzDecoder::new(out)),
            "deflate" => Decoder::Undecided(Vec::new(), limit),
            "br" => Decoder::Br(Box::new(brotli_decompressor::DecompressorWriter::new(
                out, 8192,
            ))),
            "zstd" => {
                let mut decoder = zstd::stream::write::Decoder::new(out).ok()?;
                // RFC 9659: windows over 8 MiB may be refused (see decode_one).
                decoder.window_log_max(23).ok()?;
                Decoder::Zstd(decoder)
            }
            _ => return None,
        };
        Some(Streaming {
            coding: coding.clone(),
            decoder,
        })
    }

    /// Takes the next coded piece; returns what it decoded to.
    pub fn feed(&mut self, piece: &[u8]) -> Result<Vec<u8>, CodingError> {
        if let Decoder::Undecided(start, limit) = &mut self.decoder {
            start.extend_from_slice(piece);
            if start.len() < 2 {
                return Ok(Vec::new());
            }
            let out = Bounded::new(*limit);
            let start = std::mem::take(start);
            self.decoder = if is_zlib(&start) {
                Decoder::Zlib(flate2::write::ZlibDecoder::new(out))
            } else {
                Decoder::Raw(flate2::write::DeflateDecoder::new(out))
            };
            return self.feed(&start);
        }
        let written = match &mut self.decoder {
            Decoder::Gzip(d) => io::Write::write_all(d, piece),
            Decoder::Zlib(d) => io::Write::write_all(d, piece),
            Decoder::Raw(d) => io::Write::write_all(d, piece),
            Decoder::Br(d) => io::Write::write_all(d.as_mut(), piece),
            Decoder::Zstd(d) => io::Write::write_all(d, piece),
            Decoder::Undecided(..) => Ok(()),
        };
        written.map_err(|e| self.error(e))?;
        Ok(self.take())
    }

    /// The body is over: what the decoder still held, or why the body is not whole.
    pub fn finish(mut self) -> Result<Vec<u8>, CodingError> {
        if let Decoder::Undecided(start, _) = &self.decoder {
            if !start.is_empty() {
                return Err(self.error(io::ErrorKind::UnexpectedEof.into()));
            }
        }
        let finished = match &mut self.decoder {
            Decoder::Gzip(d) => d.try_finish(),
            Decoder::Zlib(d) => d.try_finish(),
            Decoder::Raw(d) => d.try_finish(),
            Decoder::Br(d) => d.close().map_err(io::Error::other),
            Decoder::Zstd(d) => io::Write::flush(d),
            Decoder::Undecided(..) => Ok(()),
        };
        finished.map_err(|e| self.error(e))?;
        Ok(self.take())
    }

    /// The bytes decoded since the last call.
    fn take(&mut self) -> Vec<u8> {
        let out = match &mut self.decoder {
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Zlib(d) => d.get_mut(),
            Decoder::Raw(d) => d.get_mut(),
            Decoder::Br(d) => d.get_mut(),
            Decoder::Zstd(d) => d.get_mut(),
            Decoder::Undecided(..) => return Vec::new(),
        };
        std::mem::take(&mut out.fresh)
    }

    fn error(&self, e: io::Error) -> CodingError {
        if e.get_ref().is_some_and(|inner| inner.is::<OverLimit>()) {
            return CodingError::OverLimit;
        }
        CodingError::Corrupt {
            coding: self.coding.clone(),
            message: e.to_string(),
        }
    }
}

/// Where a streaming decoder writes: the bytes not yet taken, and a count that may not pass
/// the limit.
struct Bounded {
    fresh: Vec<u8>,
    total: u64,
    limit: u64,
}

impl Bounded {
    fn new(limit: u64) -> Bounded {
        Bounded {
            fresh: Vec::new(),
            total: 0,
            limit,
        }
    }
}

/// The error a [`Bounded`] buffer gives when the body passes its limit.
#[derive(Debug)]
struct OverLimit;

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("larger than the limit once decoded")
    }
}

impl std::error::Error for OverLimit {}

impl io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.total + buf.len() as u64 > self.limit {
            return Err(io::Error::other(OverLimit));
        }
        self.total += buf.len() as u64;
        self.fresh.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads all of `reader`, or None when it holds more than `limit` bytes (it stops reading
/// one byte past the limit).
fn bounded(reader: impl Read, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut out)?;
    Ok((out.len() as u64 <= limit).then_some(out))
}

/// `deflate` as RFC 9110 means it starts with a zlib header (RFC 1950): method 8, a window
/// of at most 32 KiB, and a check that makes the first two bytes a multiple of 31.
fn is_zlib(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const TEXT: &[u8] = b"<p>the same page, whatever the coding</p>";

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap_or_default();
        e.finish().unwrap_or_default()
    }

    #[test]
    fn every_coding_and_chains_of_them_are_undone() {
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(TEXT).unwrap_or_default();
        let zlib = zlib.finish().unwrap_or_default();
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(TEXT).unwrap_or_default();
        let raw = raw.finish().unwrap_or_default();
        let zstd = zstd::encode_all(TEXT, 3).unwrap_or_default();
        for (header, body) in [
            ("gzip", gzip(TEXT)),
            ("X-GZIP", gzip(TEXT)),
            ("deflate", zlib),
            ("deflate", raw),
            ("zstd", zstd.clone()),
            ("identity", TEXT.to_vec()),
            (
                "gzip, zstd",
                zstd::encode_all(&gzip(TEXT)[..], 3).unwrap_or_default(),
            ),
        ] {
            assert_eq!(
                decode(&codings(header), body, 1 << 20).as_deref(),
                Ok(TEXT),
                "{header}"
            );
        }
    }

    #[test]
    fn a_coding_undone_piece_by_piece_gives_the_whole_body() {
        let page: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(&page).unwrap_or_default();
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(&page).unwrap_or_default();
        for (coding, body) in [
            ("gzip", gzip(&page)),
            ("deflate", zlib.finish().unwrap_or_default()),
            ("deflate", raw.finish().unwrap_or_default()),
            // (br: no brotli encoder among the crates; the whole-body path covers it.)
            ("zstd", zstd::encode_all(&page[..], 3).unwrap_or_default()),
        ] {
            for piece in [1, 7, 16_384] {
                let mut decoder = Streaming::new(&codings(coding), 1 << 24).expect("known");
                let mut out = Vec::new();
                for chunk in body.chunks(piece) {
                    out.extend(decoder.feed(chunk).expect("decodes"));
                }
                out.extend(decoder.finish().expect("ends"));
                assert!(out == page, "{coding} in pieces of {piece}");
            }
        }
        assert!(Streaming::new(&codings("gzip, br"), 1 << 20).is_none());
        // A bomb stops at the limit, as the whole-body decoder does.
        let bomb = zstd::encode_all(&vec![0u8; 64 << 20][..], 19).unwrap_or_default();
        let mut decoder = Streaming::new(&codings("zstd"), 1 << 20).expect("zstd");
        let over = bomb.chunks(4096).find_map(|c| decoder.feed(c).err());
        assert_eq!(over, Some(CodingError::OverLimit));
        // A cut body is corrupt, not a shorter page.
        let cut = gzip(&page);
        let mut decoder = Streaming::new(&codings("gzip"), 1 << 24).expect("gzip");
        let _ = decoder.feed(&cut[..cut.len() / 2]);
        assert!(matches!(decoder.finish(), Err(CodingError::Corrupt { .. })));
    }

    #[test]
    fn unknown_broken_and_oversized_bodies_are_named() {
        assert_eq!(
            decode(&codings("x-squeeze"), TEXT.to_vec(), 1 << 20),
            Err(CodingError::Unknown("x-squeeze".into()))
        );
        let mut broken = gzip(TEXT);
        broken.truncate(broken.len() / 2);
        let Err(CodingError::Corrupt { coding, .. }) = decode(&codings("gzip"), broken, 1 << 20)
        else {
            panic!("a cut gzip body is corrupt");
        };
        assert_eq!(coding, "gzip");
        // 64 MiB of zeros in a few KiB: stopped at the limit, not decoded whole.
        let bomb = zstd::encode_all(&vec![0u8; 64 << 20][..], 19).unwrap_or_default();
        assert!(bomb.len() < 64 * 1024);
        assert_eq!(
            decode(&codings("zstd"), bomb, 1 << 20),
            Err(CodingError::OverLimit)
        );
    }
}
