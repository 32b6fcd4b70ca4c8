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
    let items = &boxes.items;
    let mut captions: Vec<(usize, usize)> = Vec::new();
    let mut rows_head: Vec<bool> = Vec::new();
    let mut cells: Vec<Cell> = Vec::new();
    let mut groups: Vec<(usize, bool)> = Vec::new();
    let mut row_end: Option<usize> = None;
    let mut stray_anchors: Vec<u32> = Vec::new();
    let mut k = from;
    while k < to {
        while groups.last().is_some_and(|g| g.0 < k) {
            groups.pop();
        }
        if row_end.is_some_and(|e| e < k) {
            row_end = None;
        }
        match items[k] {
            Item::Open {
                kind: Kind::Caption,
                end,
                ..
            } => {
                captions.push((k, end as usize + 1));
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
                rows_head.push(groups.last().is_some_and(|g| g.1));
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
                    // A cell outside any row gets a row of its own.
                    rows_head.push(groups.last().is_some_and(|g| g.1));
                    row_end = Some(end as usize);
                }
                cells.push(Cell {
                    from: k + 1,
                    to: end as usize,
                    row: rows_head.len() - 1,
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
            Item::Anchor(a) => stray_anchors.push(a),
            _ => {}
        }
        k += 1;
    }
    let nrows = rows_head.len();
    // Place cells in slots.
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
    let ncols = busy_until.len();
    let mut out = Out::default();
    for &(a, b) in &captions {
        let caption = flow::render(boxes, a, b, width, depth);
        out.append(caption, 0);
    }
    for a in stray_anchors {
        out.anchors.push((a, 0));
    }
    if cells.is_empty() {
        return out;
    }
    if ncols > MAX_COLUMNS {
        return stacked(boxes, &cells, nrows, width, depth, out);
    }
    // Measure.
    let measured: Vec<(usize, usize)> = cells
        .iter()
        .map(|c| {
            let m = flow::render(boxes, c.from, c.to, MEASURE, depth);
            (m.min_width, m.max_width)
        })
        .collect();
    let mut col_min = vec![0usize; ncols];
    let mut col_max = vec![0usize; ncols];
    for (c, &(mn, mx)) in cells.iter().zip(&measured) {
        if c.colspan == 1 {
            col_min[c.col] = col_min[c.col].max(mn);
            col_max[c.col] = col_max[c.col].max(mx);
        }
    }
    for (c, &(mn, mx)) in cells.iter().zip(&measured) {
        if c.colspan > 1 {
            let range = c.col..c.col + c.colspan;
            let seps = SEP_WIDTH * (c.colspan - 1);
            spread(&mut col_min[range.clone()], mn.saturating_sub(seps));
            spread(&mut col_max[range], mx.saturating_sub(seps));
        }
    }
    for c in 0..ncols {
        col_max[c] = col_max[c].max(col_min[c]);
    }
    let shown: Vec<bool> = col_max.iter().map(|&w| w > 0).collect();
    let seps = SEP_WIDTH * shown.iter().filter(|&&s| s).count().saturating_sub(1);
    let total_min: usize = col_min.iter().sum::<usize>() + seps;
    let total_max: usize = col_max.iter().sum::<usize>() + seps;
    let widths: Vec<usize> = if total_max <= width {
        col_max.clone()
    } else if total_min > width {
        return stacked(boxes, &cells, nrows, width, depth, out);
    } else {
        let room = width - total_min;
        let want = total_max - total_min;
        let mut w: Vec<usize> = (0..ncols)
            .map(|c| col_min[c] + (col_max[c] - col_min[c]) * room / want.max(1))
            .collect();
        let mut left = width.saturating_sub(w.iter().sum::<usize>() + seps);
        for c in 0..ncols {
            if left == 0 {
                break;
            }
            if w[c] < col_max[c] {
                w[c] += 1;
                left -= 1;
            }
        }
        w
    };
    let span_width = |col: usize, span: usize| -> usize {
        let cols = col..col + span;
        let visible = cols.clone().filter(|&c| shown[c]).count();
        cols.map(|c| widths[c]).sum::<usize>() + SEP_WIDTH * visible.saturating_sub(1)
    };
    // Lay each cell out at its width.
    let rendered: Vec<Out> = cells
        .iter()
        .map(|c| {
            flow::render(
                boxes,
                c.from,
                c.to,
                span_width(c.col, c.colspan).max(1),
                depth,
            )
        })
        .collect();
    let mut heights = vec![0usize; nrows];
    for (c, r) in cells.iter().zip(&rendered) {
        if c.rowspan == 1 {
            heights[c.row] = heights[c.row].max(r.lines.len());
        }
    }
    for (c, r) in cells.iter().zip(&rendered) {
        if c.rowspan > 1 {
            let have: usize = heights[c.row..c.row + c.rowspan].iter().sum();
            if r.lines.len() > have {
                heights[c.row + c.rowspan - 1] += r.lines.len() - have;
            }
        }
    }
    for h in heights.iter_mut() {
        *h = (*h).max(1);
    }
    // Which cell owns each slot.
    let mut owner = vec![usize::MAX; nrows * ncols];
    for (i, c) in cells.iter().enumerate() {
        for r in c.row..c.row + c.rowspan {
            for col in c.col..c.col + c.colspan {
                owner[r * ncols + col] = i;
            }
        }
    }
    let mut row_start = vec![0usize; nrows + 1];
    for r in 0..nrows {
        row_start[r + 1] = row_start[r] + heights[r];
    }
    let multi_line = heights.iter().any(|&h| h > 1);
    // A row is a header row in a <thead>, or when all its cells are <th>.
    let mut head_rows: Vec<bool> = vec![true; nrows];
    for c in &cells {
        head_rows[c.row] &= c.head;
    }
    for (head, in_thead) in head_rows.iter_mut().zip(&rows_head) {
        *head |= *in_thead;
    }
    let last_head = (0..nrows).take_while(|&r| head_rows[r]).last();
    let rule: String = {
        let parts: Vec<String> = (0..ncols)
            .filter(|&c| shown[c])
            .map(|c| "─".repeat(widths[c]))
            .collect();
        parts.join("─┼─")
    };
    let mut grid = Out::default();
    for r in 0..nrows {
        for l in 0..heights[r] {
            let mut line = String::new();
            let mut spans = Vec::new();
            let mut anchors = Vec::new();
            let mut col = 0;
            let mut first = true;
            while col < ncols {
                let o = owner[r * ncols + col];
                let (span, content_line) = if o == usize::MAX {
                    (1, None)
                } else {
                    let c = &cells[o];
                    let offset = row_start[r] - row_start[c.row] + l;
                    // only the slot where the cell starts draws it
                    (c.colspan - (col - c.col), Some((o, offset)))
                };
                let visible = (col..col + span).any(|c| shown[c]);
                if !visible {
                    col += span;
                    continue;
                }
                if !first {
                    line.push_str(SEP);
                }
                first = false;
                let w = span_width(col, span);
                let at = line.len();
                let mut text_w = 0;
                if let Some((o, offset)) = content_line {
                    let cell_out = &rendered[o];
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
            let index = grid.lines.len();
            for (s, e, style) in spans {
                grid.spans.push(super::Span {
                    line: index,
                    start: s,
                    end: e.min(line.len()),
                    style,
                });
            }
            for a in anchors {
                grid.anchors.push((a, index));
            }
            grid.max_width = grid.max_width.max(flow::width(&line));
            grid.lines.push(line);
        }
        let is_last_head = Some(r) == last_head;
        if r + 1 < nrows && (is_last_head || multi_line) {
            grid.lines.push(rule.clone());
        }
    }
    grid.min_width = total_min;
    out.append(grid, 0);
    out
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
