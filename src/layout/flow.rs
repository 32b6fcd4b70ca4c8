//! Block and inline formatting: items → lines of at most `width` columns.
//!
//! Blocks stack with their margins collapsed into at most one blank line; inline content
//! is gathered into a paragraph and broken into lines at the break opportunities of
//! UAX #14 (an ASCII fast path does the same for plain text), measured in terminal columns
//! (`unicode-width`: CJK and emoji take two), never inside a grapheme cluster. Data tables
//! are handed to `table`; everything else is iterative.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthChar;

use super::boxes::{Boxes, Item, Kind, F_BOLD, F_CODE, F_HEADING, F_ITALIC, F_NOWRAP, F_UNDERLINE};
use super::tree::NONE;
use super::{Span, SpanStyle};

/// A width that never wraps, for measuring content.
pub const MEASURE: usize = 1_000_000;
/// Data tables nested deeper than this are linearized.
const MAX_TABLE_DEPTH: usize = 4;

/// Rendered lines, with styled spans and anchors (line numbers relative to `lines`).
#[derive(Default, Debug)]
pub struct Out {
    pub lines: Vec<String>,
    pub spans: Vec<Span>,
    pub anchors: Vec<(u32, usize)>,
    /// The widest line, in columns.
    pub max_width: usize,
    /// The widest piece that cannot be broken, in columns (with its indentation).
    pub min_width: usize,
}

impl Out {
    /// Appends another block of lines, each prefixed by `indent` spaces.
    pub fn append(&mut self, other: Out, indent: usize) {
        let base = self.lines.len();
        let pad = " ".repeat(indent);
        for line in other.lines {
            if line.is_empty() {
                self.lines.push(line);
            } else {
                self.max_width = self.max_width.max(indent + width(&line));
                self.lines.push(format!("{pad}{line}"));
            }
        }
        for s in other.spans {
            self.spans.push(Span {
                line: s.line + base,
                start: s.start + indent,
                end: s.end + indent,
                style: s.style,
            });
        }
        for (a, l) in other.anchors {
            self.anchors.push((a, l + base));
        }
        self.min_width = self.min_width.max(other.min_width + indent);
    }
}

/// Display width in terminal columns; soft hyphens and zero-width spaces take none.
pub fn width(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    // Mostly ASCII still (a bullet and then words): printable ASCII eight bytes at a time,
    // the rest a character at a time (a printable one takes a column, no table look-up).
    let bytes = s.as_bytes();
    let mut w = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8) {
            let mask = crate::text::non_printable_mask(crate::text::word(chunk));
            if mask == 0 {
                w += 8;
                i += 8;
                continue;
            }
            let run = crate::text::first_flagged(mask);
            w += run;
            i += run;
        }
        // `i` is at a character boundary: only whole characters and ASCII bytes are passed.
        let Some(c) = s.get(i..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        w += if (' '..='~').contains(&c) {
            1
        } else {
            char_width(c)
        };
        i += c.len_utf8();
    }
    w
}

/// Appends `n` spaces.
fn push_spaces(line: &mut String, n: usize) {
    const SPACES: &str = "                                ";
    let mut left = n;
    while left > 0 {
        let k = left.min(SPACES.len());
        line.push_str(&SPACES[..k]);
        left -= k;
    }
}

fn char_width(c: char) -> usize {
    match c {
        '\u{ad}' | '\u{200b}' | '\u{200e}' | '\u{200f}' => 0,
        '\u{a0}' => 1,
        c => c.width().unwrap_or(0),
    }
}

struct Frame {
    indent: usize,
    /// The block's Open item: its bottom margin is read when the block closes (a layout
    /// beside the parser may only learn it then, e.g. for `:last-child`).
    open: usize,
    marker: bool,
}

#[derive(Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
    flags: u8,
    link: u32,
}

#[derive(Default)]
struct Para {
    text: String,
    runs: Vec<Run>,
    anchors: Vec<(usize, u32)>,
}

impl Para {
    fn push(&mut self, s: &str, flags: u8, link: u32) {
        let start = self.text.len();
        self.text.push_str(s);
        let end = self.text.len();
        if let Some(last) = self.runs.last_mut() {
            if last.end == start && last.flags == flags && last.link == link {
                last.end = end;
                return;
            }
        }
        self.runs.push(Run {
            start,
            end,
            flags,
            link,
        });
    }

    fn is_empty(&self) -> bool {
        self.text.is_empty() && self.anchors.is_empty()
    }

    /// Empties the paragraph, keeping its buffers for the next one.
    fn clear(&mut self) {
        self.text.clear();
        self.runs.clear();
        self.anchors.clear();
    }
}

struct Flow<'a> {
    boxes: &'a Boxes,
    s: FlowState,
}

/// Where a flow of items is: what it has laid out, and the open blocks and paragraph. Kept
/// between calls when the items arrive in pieces (a layout that runs beside the parser).
#[derive(Default)]
pub struct FlowState {
    width: usize,
    out: Out,
    indent: usize,
    frames: Vec<Frame>,
    pending_marker: Option<u32>,
    pending_blank: bool,
    para: Para,
    /// The next item to lay out.
    next: usize,
    depth: usize,
    /// Buffers kept from line to line (allocating them for each line cost more than the
    /// breaking): break opportunities and a line's spans.
    opps: Vec<usize>,
    spans: Vec<(usize, usize, SpanStyle)>,
}

impl FlowState {
    /// A flow `width` columns wide, at `depth` tables deep, from item `from`.
    pub fn new(width: usize, from: usize, depth: usize) -> FlowState {
        FlowState {
            width: width.max(1),
            next: from,
            depth,
            ..FlowState::default()
        }
    }

    /// Lays out the items up to `to` (not included).
    pub fn advance(&mut self, boxes: &Boxes, to: usize) {
        let mut flow = Flow {
            boxes,
            s: std::mem::take(self),
        };
        flow.run(to);
        *self = flow.s;
    }

    /// Ends the flow: the last paragraph and any marker left over.
    pub fn finish(self, boxes: &Boxes) -> Out {
        let mut flow = Flow { boxes, s: self };
        flow.flush();
        if flow.s.pending_marker.is_some() {
            flow.emit_marker_only();
        }
        flow.s.out
    }
}

/// Lays out items `from..to` for `width` columns.
pub fn render(boxes: &Boxes, from: usize, to: usize, width: usize, depth: usize) -> Out {
    let mut state = FlowState::new(width, from, depth);
    state.advance(boxes, to);
    state.finish(boxes)
}

impl Flow<'_> {
    fn run(&mut self, to: usize) {
        let boxes = self.boxes;
        let items = &boxes.items;
        let depth = self.s.depth;
        let mut k = self.s.next;
        while k < to {
            match items[k] {
                Item::Open {
                    kind: Kind::Table { data: true },
                    end,
                    margin_top,
                    margin_bottom,
                    ..
                } if depth < MAX_TABLE_DEPTH && (end as usize) < to => {
                    self.flush();
                    self.s.pending_blank |= margin_top;
                    let indent = self.effective_indent();
                    let inner = self.s.width.saturating_sub(indent).max(1);
                    let table = super::table::render(boxes, k + 1, end as usize, inner, depth + 1);
                    self.place_block(table, indent);
                    self.s.pending_blank |= margin_bottom;
                    k = end as usize + 1;
                    continue;
                }
                Item::Open {
                    margin_top,
                    indent,
                    marker,
                    ..
                } => {
                    self.flush();
                    self.s.pending_blank |= margin_top;
                    if marker != NONE {
                        if self.s.pending_marker.is_some() {
                            self.emit_marker_only();
                        }
                        self.s.pending_marker = Some(marker);
                    }
                    self.s.frames.push(Frame {
                        indent: self.s.indent,
                        open: k,
                        marker: marker != NONE,
                    });
                    self.s.indent += usize::from(indent);
                }
                Item::Close => {
                    self.flush();
                    if let Some(frame) = self.s.frames.pop() {
                        if frame.marker && self.s.pending_marker.is_some() {
                            self.emit_marker_only();
                        }
                        self.s.indent = frame.indent;
                        if let Item::Open { margin_bottom, .. } = items[frame.open] {
                            self.s.pending_blank |= margin_bottom;
                        }
                    }
                }
                Item::Text {
                    start,
                    end,
                    flags,
                    link,
                } => {
                    let s = &boxes.text[start as usize..end as usize];
                    self.s.para.push(s, flags, link);
                }
                Item::Break => self.s.para.push("\n", 0, NONE),
                Item::Anchor(a) => {
                    let at = self.s.para.text.len();
                    self.s.para.anchors.push((at, a));
                }
                Item::Rule => {
                    self.flush();
                    let indent = self.effective_indent();
                    let n = if self.s.width >= MEASURE {
                        3
                    } else {
                        self.s.width.saturating_sub(indent).max(1)
                    };
                    let line = format!("{}{}", " ".repeat(indent), "─".repeat(n));
                    self.push_line(line, &[]);
                }
                Item::Nop => {}
            }
            k += 1;
        }
        self.s.next = k;
    }
}

fn span_styles(flags: u8, link: u32, mut f: impl FnMut(SpanStyle)) {
    if link != NONE {
        f(SpanStyle::Link(link as usize));
    }
    if flags & F_HEADING != 0 {
        f(SpanStyle::Heading);
    }
    if flags & F_BOLD != 0 {
        f(SpanStyle::Bold);
    }
    if flags & F_ITALIC != 0 {
        f(SpanStyle::Italic);
    }
    if flags & F_UNDERLINE != 0 {
        f(SpanStyle::Underline);
    }
    if flags & F_CODE != 0 {
        f(SpanStyle::Code);
    }
}

impl Flow<'_> {
    /// Where the next line will go (after the blank line a pending margin adds).
    fn next_line_index(&self) -> usize {
        self.s.out.lines.len()
            + usize::from(
                self.s.pending_blank && self.s.out.lines.last().is_some_and(|l| !l.is_empty()),
            )
    }

    fn effective_indent(&self) -> usize {
        self.s.indent.min(self.s.width / 2)
    }

    /// Adds a finished line, with the blank line a pending margin asks for.
    fn push_line(&mut self, line: String, spans: &[(usize, usize, SpanStyle)]) {
        if self.s.pending_blank {
            if self.s.out.lines.last().is_some_and(|l| !l.is_empty()) {
                self.s.out.lines.push(String::new());
            }
            self.s.pending_blank = false;
        }
        let index = self.s.out.lines.len();
        self.s.out.max_width = self.s.out.max_width.max(width(&line));
        for &(start, end, style) in spans {
            self.s.out.spans.push(Span {
                line: index,
                start,
                end,
                style,
            });
        }
        self.s.out.lines.push(line);
    }

    fn place_block(&mut self, block: Out, indent: usize) {
        if block.lines.is_empty() {
            for (a, _) in block.anchors {
                self.s.out.anchors.push((a, self.s.out.lines.len()));
            }
            return;
        }
        if self.s.pending_blank {
            if self.s.out.lines.last().is_some_and(|l| !l.is_empty()) {
                self.s.out.lines.push(String::new());
            }
            self.s.pending_blank = false;
        }
        self.s.out.append(block, indent);
    }

    /// Starts a line: the indentation, with the pending list marker (if any) at its end.
    fn push_marker_prefix(&mut self, line: &mut String) {
        let indent = self.effective_indent();
        match self.s.pending_marker.take() {
            Some(m) => {
                let marker = &self.boxes.markers[m as usize];
                push_spaces(line, indent.saturating_sub(width(marker)));
                line.push_str(marker);
            }
            None => push_spaces(line, indent),
        }
    }

    fn emit_marker_only(&mut self) {
        let mut line = String::new();
        self.push_marker_prefix(&mut line);
        line.truncate(line.trim_end().len());
        self.push_line(line, &[]);
    }

    /// Breaks the gathered paragraph into lines.
    fn flush(&mut self) {
        if self.s.para.is_empty() {
            return;
        }
        let mut para = std::mem::take(&mut self.s.para);
        self.break_para(&para);
        // Nothing is added to the paragraph while it is broken: give its buffers back.
        para.clear();
        self.s.para = para;
    }

    fn break_para(&mut self, para: &Para) {
        if para.text.is_empty() {
            let next = self.next_line_index();
            for &(_, a) in &para.anchors {
                self.s.out.anchors.push((a, next));
            }
            return;
        }
        let mut anchor_at = 0;
        let mut start = 0;
        let text = &para.text;
        loop {
            let nl = text[start..].find('\n').map(|p| start + p);
            let end = nl.unwrap_or(text.len());
            if nl.is_none() && start == text.len() && start > 0 {
                // nothing after the last break
                break;
            }
            self.wrap_hard_line(para, start, end, &mut anchor_at);
            match nl {
                Some(p) => start = p + 1,
                None => break,
            }
        }
        // Anchors at the very end belong with the next line.
        for &(_, a) in &para.anchors[anchor_at..] {
            self.s.out.anchors.push((a, self.s.out.lines.len()));
        }
    }

    fn wrap_hard_line(&mut self, para: &Para, a: usize, b: usize, anchor_at: &mut usize) {
        let indent = self.effective_indent();
        let avail = self.s.width.saturating_sub(indent).max(1);
        let text = &para.text;
        if a == b {
            self.emit(para, a, b, anchor_at, false);
            return;
        }
        let slice = &text[a..b];
        let ascii = slice.is_ascii();
        // Break opportunities: positions where a new line may start.
        let mut opps = std::mem::take(&mut self.s.opps);
        opps.clear();
        if ascii {
            let bytes = slice.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                let c = bytes[i];
                if c == b' ' {
                    let mut j = i + 1;
                    while j < bytes.len() && bytes[j] == b' ' {
                        j += 1;
                    }
                    if j < bytes.len() {
                        opps.push(a + j);
                    }
                    i = j;
                    continue;
                }
                if c == b'-'
                    && i > 0
                    && i + 1 < bytes.len()
                    && bytes[i - 1].is_ascii_alphanumeric()
                    && bytes[i + 1].is_ascii_alphabetic()
                {
                    opps.push(a + i + 1);
                }
                i += 1;
            }
        } else {
            for (p, _) in unicode_linebreak::linebreaks(slice) {
                if p < slice.len() {
                    opps.push(a + p);
                }
            }
        }
        // No breaks inside nowrap / pre text.
        if para.runs.iter().any(|r| r.flags & F_NOWRAP != 0) {
            opps.retain(|&p| {
                // the run holding byte p - 1
                let k = para.runs.partition_point(|r| r.end < p);
                !para
                    .runs
                    .get(k)
                    .is_some_and(|r| r.start < p && r.flags & F_NOWRAP != 0)
            });
        }
        opps.push(b);
        let mut line_start = a;
        let mut line_w = 0usize;
        let mut seg_start = a;
        for &seg_end in &opps {
            let seg = &text[seg_start..seg_end];
            let word = seg.trim_end_matches(' ');
            let word_w = width(word);
            let all_w = word_w + (seg.len() - word.len());
            self.s.out.min_width = self.s.out.min_width.max(indent + word_w);
            if seg_start > line_start && line_w + word_w > avail {
                self.emit(para, line_start, seg_start, anchor_at, true);
                line_start = seg_start;
                line_w = 0;
            }
            if word_w > avail && !self.is_nowrap(para, seg_start) {
                // A word wider than the line: split between grapheme clusters.
                let mut piece_start = seg_start;
                let mut w = 0;
                for (off, g) in word.grapheme_indices(true) {
                    let gw = width(g);
                    if w + gw > avail && w > 0 {
                        self.emit(
                            para,
                            line_start.max(piece_start),
                            seg_start + off,
                            anchor_at,
                            false,
                        );
                        piece_start = seg_start + off;
                        line_start = piece_start;
                        w = 0;
                    }
                    w += gw;
                }
                line_w = w + (seg.len() - word.len());
            } else {
                line_w += all_w;
            }
            seg_start = seg_end;
        }
        self.emit(para, line_start, b, anchor_at, false);
        self.s.opps = opps;
    }

    fn is_nowrap(&self, para: &Para, pos: usize) -> bool {
        para.runs
            .iter()
            .find(|r| r.start <= pos && pos < r.end)
            .is_some_and(|r| r.flags & F_NOWRAP != 0)
    }

    /// Emits text[a..b] as one line (trailing spaces dropped), with its spans.
    fn emit(&mut self, para: &Para, a: usize, b: usize, anchor_at: &mut usize, soft: bool) {
        let text = &para.text;
        let mut b2 = b;
        while b2 > a && text.as_bytes()[b2 - 1] == b' ' {
            b2 -= 1;
        }
        let mut line = String::with_capacity(self.effective_indent() + 8 + (b2 - a));
        self.push_marker_prefix(&mut line);
        let mut spans = std::mem::take(&mut self.s.spans);
        spans.clear();
        // runs overlapping [a, b2)
        let first = para.runs.partition_point(|r| r.end <= a);
        for run in &para.runs[first..] {
            if run.start >= b2 {
                break;
            }
            let s = run.start.max(a);
            let e = run.end.min(b2);
            if s >= e {
                continue;
            }
            let piece = &text[s..e];
            let at = line.len();
            if piece.is_ascii() {
                line.push_str(piece);
            } else {
                for c in piece.chars() {
                    match c {
                        '\u{a0}' => line.push(' '),
                        '\u{ad}' | '\u{200b}' | '\n' => {}
                        c => line.push(c),
                    }
                }
            }
            let end = line.len();
            // A collapsed space that joined this run to the one before is not styled.
            let at = at + line[at..end].len() - line[at..end].trim_start_matches(' ').len();
            if end > at {
                span_styles(run.flags, run.link, |style| spans.push((at, end, style)));
            }
        }
        // A line broken at a soft hyphen shows the hyphen.
        if soft && text[..b2].ends_with('\u{ad}') {
            let at = line.len();
            line.push('-');
            if let Some(last) = spans.last_mut() {
                if last.1 == at {
                    last.1 = line.len();
                }
            }
        }
        let index = self.next_line_index();
        while *anchor_at < para.anchors.len() && para.anchors[*anchor_at].0 < b.max(a + 1) {
            self.s.out.anchors.push((para.anchors[*anchor_at].1, index));
            *anchor_at += 1;
        }
        let line = if line.is_ascii() {
            line
        } else {
            isolate_rtl(line, &mut spans)
        };
        self.push_line(line, &spans);
        self.s.spans = spans;
    }
}

fn is_rtl(c: char) -> bool {
    use unicode_bidi::BidiClass;
    // Hebrew is the first right-to-left script; below it, no table look-up. Nor for the
    // punctuation and symbols a page of Latin text has (bullets, dashes, quotes, arrows, box
    // drawing), none of them right-to-left (a test checks every one).
    c >= '\u{590}'
        && !NOT_RTL.iter().any(|r| r.contains(&c))
        && matches!(unicode_bidi::bidi_class(c), BidiClass::R | BidiClass::AL)
}

/// Ranges without a right-to-left character (U+200F RIGHT-TO-LEFT MARK is one, so the
/// first range starts after it).
const NOT_RTL: [std::ops::RangeInclusive<char>; 1] = ['\u{2010}'..='\u{2bff}'];

fn is_strong(c: char) -> Option<bool> {
    use unicode_bidi::BidiClass;
    if c.is_ascii() {
        return c.is_ascii_alphabetic().then_some(false);
    }
    match unicode_bidi::bidi_class(c) {
        BidiClass::R | BidiClass::AL => Some(true),
        BidiClass::L => Some(false),
        _ => None,
    }
}

/// Right-to-left text stays in logical order; a LEFT-TO-RIGHT MARK after each run of it
/// (and at the start of a line that begins with it) keeps a bidi-aware terminal from
/// reordering the rest of the line around it: markers, numbers and punctuation stay put.
fn isolate_rtl(line: String, spans: &mut [(usize, usize, SpanStyle)]) -> String {
    if !has_rtl(&line) {
        return line;
    }
    const LRM: char = '\u{200e}';
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    // For each position: is the next strong character (after it) right-to-left?
    let mut next_strong_rtl = vec![false; chars.len() + 1];
    let mut state = false;
    for k in (0..chars.len()).rev() {
        next_strong_rtl[k + 1] = state;
        if let Some(rtl) = is_strong(chars[k].1) {
            state = rtl;
        }
    }
    let first_strong_rtl = state;
    let mut out = String::with_capacity(line.len() + 16);
    let mut inserted: Vec<usize> = Vec::new(); // original byte offsets where an LRM went
    if first_strong_rtl {
        out.push(LRM);
        inserted.push(0);
    }
    for (k, &(at, c)) in chars.iter().enumerate() {
        out.push(c);
        if is_rtl(c) && !next_strong_rtl[k + 1] {
            // the run ends here unless only combining marks follow
            let next_is_mark = chars
                .get(k + 1)
                .is_some_and(|&(_, n)| unicode_bidi::bidi_class(n) == unicode_bidi::BidiClass::NSM);
            if !next_is_mark {
                out.push(LRM);
                inserted.push(at + c.len_utf8());
            }
        }
    }
    let shift = |pos: usize, is_end: bool| -> usize {
        let n = inserted
            .iter()
            .filter(|&&p| if is_end { p < pos } else { p <= pos })
            .count();
        pos + n * LRM.len_utf8()
    };
    for span in spans.iter_mut() {
        *span = (shift(span.0, false), shift(span.1, true), span.2);
    }
    out
}

/// Whether `line` has a right-to-left character. Only a lead byte of U+0590 or above
/// (0xD6 and up) can start one: the characters are decoded only there.
fn has_rtl(line: &str) -> bool {
    line.bytes()
        .enumerate()
        .filter(|&(_, b)| b >= 0xd6)
        .any(|(at, _)| {
            line.get(at..)
                .and_then(|rest| rest.chars().next())
                .is_some_and(is_rtl)
        })
}

#[cfg(test)]
mod tests {
    use super::{has_rtl, is_rtl, width, NOT_RTL};
    use unicode_bidi::BidiClass;

    #[test]
    fn ranges_skipped_hold_no_rtl() {
        for c in NOT_RTL.iter().flat_map(|r| r.clone()) {
            assert!(
                !matches!(unicode_bidi::bidi_class(c), BidiClass::R | BidiClass::AL),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn rtl_found_as_by_each_character() {
        let lines = [
            "plain ascii",
            "  • [12]What’s new — “quoted” ─────",
            "שלום",
            "ab مرحبا cd",
            "x\u{200f}y",
            "é ü ñ 中文 😀",
            "\u{fb1d}",
            "\u{10800}",
        ];
        for line in lines {
            assert_eq!(has_rtl(line), line.chars().any(is_rtl), "{line:?}");
        }
    }

    #[test]
    fn width_agrees_with_each_character() {
        let each = |s: &str| -> usize {
            if s.is_ascii() {
                return s.len();
            }
            s.chars()
                .map(|c| {
                    if (' '..='~').contains(&c) {
                        1
                    } else {
                        super::char_width(c)
                    }
                })
                .sum()
        };
        let lines = [
            "",
            "plain ascii, longer than eight bytes",
            "tab\there",
            "  • [12]What’s new in Python 3.11 — and more text\u{ad}here",
            "中文字符 and 😀 emoji\u{200b}, nbsp\u{a0}x",
            "\u{7f}\u{1b}é\tab\ncontrol mix with é at the end é",
            "éeeeeeeeeeeeeeeeé",
        ];
        for line in lines {
            assert_eq!(width(line), each(line), "{line:?}");
        }
    }
}
