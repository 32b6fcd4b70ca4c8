//! Data tables as a grid: cells placed in slots (`colspan`, `rowspan`), each column as wide
//! as its content wants (CSS 2.1's automatic table layout: between the widest unbreakable
//! piece and the widest line), text wrapped inside its cell, the header rows set apart by
//! a rule. When even the narrowest columns do not fit, the rows are stacked instead: each
//! cell as a block, one row after the other.

use super::boxes::{Boxes, Item, Kind};
use super::flow::{self, Out, MEASURE};

const SEP: &str = " │ ";
const SEP_WIDTH: usize = 3;
const MAX_COLUMNS: usize = 60;

struct Cell {
    from: usize,
    to: usize,
    row: usize,
    col: usize,
    colspan: usize,
    rowspan: usize,
    head: bool,
}

/// Lays out the table whose items are `from..to` (inside its Open/Close) for `width`.
pub fn render(boxes: &Boxes, from: usize, to: usize, width: usize, depth: usize) -> Out {
    let mut table = read_table(&boxes.items, from, to);
    let nrows = table.rows_head.len();
    let ncols = place_cells(&mut table.cells, nrows);
    let mut out = Out::default();
    for &(a, b) in &table.captions {
        let caption = flow::render(boxes, a, b, width, depth);
        out.append(caption, 0);
    }
    for &a in &table.stray_anchors {
        out.anchors.push((a, 0));
    }
    let cells = &table.cells;
    if cells.is_empty() {
        return out;
    }
    if ncols > MAX_COLUMNS {
        return stacked(boxes, cells, nrows, width, depth, out);
    }
    let columns = Columns::measure(boxes, cells, ncols, depth);
    let Some(widths) = columns.widths_within(width) else {
        return stacked(boxes, cells, nrows, width, depth, out);
    };
    let grid = Grid::lay_out(boxes, cells, nrows, columns.shown.clone(), widths, depth);
    let mut drawn = grid.draw(last_header_row(cells, &table.rows_head));
    drawn.min_width = columns.total_min();
    out.append(drawn, 0);
    out
}

/// A table as its items give it.
struct Table {
    /// The captions' items (from, to).
    captions: Vec<(usize, usize)>,
    /// Per row: whether it is in a header group (`<thead>`).
    rows_head: Vec<bool>,
    cells: Vec<Cell>,
    /// Anchors in the table but in no cell: they land on its first line.
    stray_anchors: Vec<u32>,
}

/// Reads the rows and cells of the table whose items are `from..to`. A nested table is
/// part of the cell it is in; a cell outside any row gets a row of its own.
fn read_table(items: &[Item], from: usize, to: usize) -> Table {
    let mut table = Table {
        captions: Vec::new(),
        rows_head: Vec::new(),
        cells: Vec::new(),
        stray_anchors: Vec::new(),
    };
    // The open row groups (their end, and whether they are a header), and the open row's end.
    let mut groups: Vec<(usize, bool)> = Vec::new();
    let mut row_end: Option<usize> = None;
    let mut k = from;
    while k < to {
        while groups.last().is_some_and(|g| g.0 < k) {
            groups.pop();
        }
        if row_end.is_some_and(|e| e < k) {
            row_end = None;
        }
        let in_head = groups.last().is_some_and(|g| g.1);
        match items[k] {
            Item::Open {
                kind: Kind::Caption,
                end,
                ..
            } => {
                table.captions.push((k, end as usize + 1));
                k = end as usize + 1;
                continue;
            }
            Item::Open {
                kind: Kind::RowGroup { head },
                end,
                ..
            } => groups.push((end as usize, head)),
            Item::Open {
                kind: Kind::Row,
                end,
                ..
            } => {
                table.rows_head.push(in_head);
                row_end = Some(end as usize);
            }
            Item::Open {
                kind:
                    Kind::Cell {
                        colspan,
                        rowspan,
                        head,
                    },
                end,
                ..
            } => {
                if row_end.is_none() {
                    table.rows_head.push(in_head);
                    row_end = Some(end as usize);
                }
                table.cells.push(Cell {
                    from: k + 1,
                    to: end as usize,
                    row: table.rows_head.len() - 1,
                    col: 0,
                    colspan: usize::from(colspan.max(1)),
                    rowspan: usize::from(rowspan),
                    head,
                });
                k = end as usize + 1;
                continue;
            }
            Item::Open {
                kind: Kind::Table { .. },
                end,
                ..
            } => {
                k = end as usize + 1;
                continue;
            }
            Item::Anchor(a) => table.stray_anchors.push(a),
            _ => {}
        }
        k += 1;
    }
    table
}

/// Places the cells in slots (each in the first column its row has free, past the cells
/// spanning down from rows above), their row spans cut at the table's end (`rowspan=0`:
/// to the end). Gives the number of columns.
fn place_cells(cells: &mut [Cell], nrows: usize) -> usize {
    // Per column: the first row no cell placed so far covers.
    let mut busy_until: Vec<usize> = Vec::new();
    for cell in cells.iter_mut() {
        let r = cell.row;
        let mut col = 0;
        // cells come in row order; find the first free column in this row
        while col < busy_until.len() && busy_until[col] > r {
            col += 1;
        }
        cell.col = col;
        let span = if cell.rowspan == 0 {
            nrows - r
        } else {
            cell.rowspan.min(nrows - r)
        };
        cell.rowspan = span.max(1);
        if busy_until.len() < col + cell.colspan {
            busy_until.resize(col + cell.colspan, 0);
        }
        for slot in &mut busy_until[col..col + cell.colspan] {
            *slot = r + cell.rowspan;
        }
    }
    busy_until.len()
}

/// What each column's content wants: at least its widest unbreakable piece, at most its
/// widest line (CSS 2.1's automatic table layout).
struct Columns {
    min: Vec<usize>,
    max: Vec<usize>,
    /// Whether a column shows: one with nothing in any of its cells takes no room.
    shown: Vec<bool>,
    /// The room the separators between shown columns take.
    seps: usize,
}

impl Columns {
    /// Measures each cell without wrapping; a cell spanning columns spreads what its own
    /// give it too little of over them.
    fn measure(boxes: &Boxes, cells: &[Cell], ncols: usize, depth: usize) -> Columns {
        let measured: Vec<(usize, usize)> = cells
            .iter()
            .map(|c| {
                let m = flow::render(boxes, c.from, c.to, MEASURE, depth);
                (m.min_width, m.max_width)
            })
            .collect();
        let mut min = vec![0usize; ncols];
        let mut max = vec![0usize; ncols];
        for (c, &(mn, mx)) in cells.iter().zip(&measured) {
            if c.colspan == 1 {
                min[c.col] = min[c.col].max(mn);
                max[c.col] = max[c.col].max(mx);
            }
        }
        for (c, &(mn, mx)) in cells.iter().zip(&measured) {
            if c.colspan > 1 {
                let range = c.col..c.col + c.colspan;
                let seps = SEP_WIDTH * (c.colspan - 1);
                spread(&mut min[range.clone()], mn.saturating_sub(seps));
                spread(&mut max[range], mx.saturating_sub(seps));
            }
        }
        for c in 0..ncols {
            max[c] = max[c].max(min[c]);
        }
        let shown: Vec<bool> = max.iter().map(|&w| w > 0).collect();
        let seps = SEP_WIDTH * shown.iter().filter(|&&s| s).count().saturating_sub(1);
        Columns {
            min,
            max,
            shown,
            seps,
        }
    }

    /// The narrowest the table can be.
    fn total_min(&self) -> usize {
        self.min.iter().sum::<usize>() + self.seps
    }

    /// The columns' widths in `width` columns: as wide as they want when that fits, else
    /// the room above their minimums shared in proportion to what each wants more. None:
    /// even the minimums do not fit.
    fn widths_within(&self, width: usize) -> Option<Vec<usize>> {
        let total_min = self.total_min();
        let total_max = self.max.iter().sum::<usize>() + self.seps;
        if total_max <= width {
            return Some(self.max.clone());
        }
        if total_min > width {
            return None;
        }
        let room = width - total_min;
        let want = total_max - total_min;
        let mut w: Vec<usize> = (0..self.min.len())
            .map(|c| self.min[c] + (self.max[c] - self.min[c]) * room / want.max(1))
            .collect();
        // What rounding down left over, a column at a time from the left.
        let mut left = width.saturating_sub(w.iter().sum::<usize>() + self.seps);
        for (given, &max) in w.iter_mut().zip(&self.max) {
            if left == 0 {
                break;
            }
            if *given < max {
                *given += 1;
                left -= 1;
            }
        }
        Some(w)
    }
}

/// The last of the rows the table starts with that are header rows (in a `<thead>`, or
/// all `<th>`): the rule drawn under it sets the header apart.
fn last_header_row(cells: &[Cell], rows_head: &[bool]) -> Option<usize> {
    let mut head_rows: Vec<bool> = vec![true; rows_head.len()];
    for c in cells {
        head_rows[c.row] &= c.head;
    }
    for (head, in_thead) in head_rows.iter_mut().zip(rows_head) {
        *head |= *in_thead;
    }
    (0..head_rows.len()).take_while(|&r| head_rows[r]).last()
}

/// The grid: the cells laid out at the widths of the columns they span, in their slots.
struct Grid<'a> {
    cells: &'a [Cell],
    /// Each cell's lines.
    rendered: Vec<Out>,
    ncols: usize,
    widths: Vec<usize>,
    shown: Vec<bool>,
    /// Which cell owns each slot (row × column), usize::MAX for none.
    owner: Vec<usize>,
    /// The first line of each row in the grid (and, last, the line past the grid).
    row_start: Vec<usize>,
}

impl<'a> Grid<'a> {
    fn lay_out(
        boxes: &Boxes,
        cells: &'a [Cell],
        nrows: usize,
        shown: Vec<bool>,
        widths: Vec<usize>,
        depth: usize,
    ) -> Grid<'a> {
        let mut grid = Grid {
            cells,
            rendered: Vec::new(),
            ncols: widths.len(),
            widths,
            shown,
            owner: Vec::new(),
            row_start: Vec::new(),
        };
        grid.rendered = cells
            .iter()
            .map(|c| {
                let width = grid.span_width(c.col, c.colspan).max(1);
                flow::render(boxes, c.from, c.to, width, depth)
            })
            .collect();
        grid.row_start = grid.row_starts(nrows);
        grid.owner = grid.slot_owners(nrows);
        grid
    }

    /// The width of `span` columns from `col`, with the separators between those shown.
    fn span_width(&self, col: usize, span: usize) -> usize {
        let cols = col..col + span;
        let visible = cols.clone().filter(|&c| self.shown[c]).count();
        cols.map(|c| self.widths[c]).sum::<usize>() + SEP_WIDTH * visible.saturating_sub(1)
    }

    /// Where each row starts: a row is as tall as its tallest cell (at least one line); a
    /// cell spanning rows that needs more makes its last row taller.
    fn row_starts(&self, nrows: usize) -> Vec<usize> {
        let mut heights = vec![0usize; nrows];
        for (c, r) in self.cells.iter().zip(&self.rendered) {
            if c.rowspan == 1 {
                heights[c.row] = heights[c.row].max(r.lines.len());
            }
        }
        for (c, r) in self.cells.iter().zip(&self.rendered) {
            if c.rowspan > 1 {
                let have: usize = heights[c.row..c.row + c.rowspan].iter().sum();
                if r.lines.len() > have {
                    heights[c.row + c.rowspan - 1] += r.lines.len() - have;
                }
            }
        }
        let mut row_start = vec![0usize; nrows + 1];
        for r in 0..nrows {
            row_start[r + 1] = row_start[r] + heights[r].max(1);
        }
        row_start
    }

    fn slot_owners(&self, nrows: usize) -> Vec<usize> {
        let mut owner = vec![usize::MAX; nrows * self.ncols];
        for (i, c) in self.cells.iter().enumerate() {
            for r in c.row..c.row + c.rowspan {
                for col in c.col..c.col + c.colspan {
                    owner[r * self.ncols + col] = i;
                }
            }
        }
        owner
    }

    /// The grid's lines: each row's, then a rule under the header, or under every row
    /// when some row takes more than one line (so rows stay told apart).
    fn draw(&self, last_head: Option<usize>) -> Out {
        let nrows = self.row_start.len() - 1;
        let height = |r: usize| self.row_start[r + 1] - self.row_start[r];
        let multi_line = (0..nrows).any(|r| height(r) > 1);
        let rule = self.rule();
        let mut out = Out::default();
        for r in 0..nrows {
            for l in 0..height(r) {
                self.draw_line(r, l, &mut out);
            }
            let is_last_head = Some(r) == last_head;
            if r + 1 < nrows && (is_last_head || multi_line) {
                out.lines.push(rule.clone());
            }
        }
        out
    }

    /// `───┼───`, across the shown columns.
    fn rule(&self) -> String {
        let parts: Vec<String> = (0..self.ncols)
            .filter(|&c| self.shown[c])
            .map(|c| "─".repeat(self.widths[c]))
            .collect();
        parts.join("─┼─")
    }

    /// Line `l` of row `r`: each slot's part of its cell (the slot where a cell starts
    /// draws it across its columns), padded to the columns' width, between separators.
    fn draw_line(&self, r: usize, l: usize, out: &mut Out) {
        let mut line = String::new();
        let mut spans = Vec::new();
        let mut anchors = Vec::new();
        let mut col = 0;
        let mut first = true;
        while col < self.ncols {
            let o = self.owner[r * self.ncols + col];
            let (span, content_line) = if o == usize::MAX {
                (1, None)
            } else {
                let c = &self.cells[o];
                let offset = self.row_start[r] - self.row_start[c.row] + l;
                // only the slot where the cell starts draws it
                (c.colspan - (col - c.col), Some((o, offset)))
            };
            let visible = (col..col + span).any(|c| self.shown[c]);
            if !visible {
                col += span;
                continue;
            }
            if !first {
                line.push_str(SEP);
            }
            first = false;
            let w = self.span_width(col, span);
            let at = line.len();
            let mut text_w = 0;
            if let Some((o, offset)) = content_line {
                let cell_out = &self.rendered[o];
                if let Some(text) = cell_out.lines.get(offset) {
                    line.push_str(text);
                    text_w = flow::width(text);
                    for s in cell_out.spans.iter().filter(|s| s.line == offset) {
                        spans.push((s.start + at, s.end + at, s.style));
                    }
                }
                if l == 0 || offset == 0 {
                    for &(a, al) in &cell_out.anchors {
                        if al == offset {
                            anchors.push(a);
                        }
                    }
                }
            }
            for _ in text_w..w {
                line.push(' ');
            }
            col += span;
        }
        let trimmed = line.trim_end().len();
        line.truncate(trimmed);
        let index = out.lines.len();
        for (s, e, style) in spans {
            out.spans.push(super::Span {
                line: index,
                start: s,
                end: e.min(line.len()),
                style,
            });
        }
        for a in anchors {
            out.anchors.push((a, index));
        }
        out.max_width = out.max_width.max(flow::width(&line));
        out.lines.push(line);
    }
}

/// Makes a group of columns at least `need` wide, spreading what is missing evenly.
fn spread(cols: &mut [usize], need: usize) {
    let have: usize = cols.iter().sum();
    if have >= need || cols.is_empty() {
        return;
    }
    let missing = need - have;
    let n = cols.len();
    for (i, c) in cols.iter_mut().enumerate() {
        *c += missing / n + usize::from(i < missing % n);
    }
}

/// The fallback when the grid cannot fit: each row's cells one under the other.
fn stacked(
    boxes: &Boxes,
    cells: &[Cell],
    nrows: usize,
    width: usize,
    depth: usize,
    mut out: Out,
) -> Out {
    let mut by_row: Vec<Vec<&Cell>> = (0..nrows).map(|_| Vec::new()).collect();
    for c in cells {
        by_row[c.row].push(c);
    }
    for row_cells in by_row {
        let mut row = Out::default();
        for c in row_cells {
            let cell = flow::render(boxes, c.from, c.to, width, depth);
            row.append(cell, 0);
        }
        if row.lines.is_empty() {
            continue;
        }
        if !out.lines.is_empty() {
            out.lines.push(String::new());
        }
        out.append(row, 0);
    }
    out.min_width = out.min_width.min(width);
    out
}
