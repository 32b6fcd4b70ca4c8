//! Layout benchmark: parse and layout time for pages of about 0.25, 2.5 and 25 MB (real
//! pages concatenated), to show that layout time grows linearly with the page (per MB of
//! HTML and per line of output: the pages differ, so both are printed). The last column is
//! the path `--dump` of a local page takes: the parse on two threads with the layout read
//! beside it (`html::parse_reading` + `layout::StreamingLayout`), end to end.
//!
//!     cargo bench --bench layout                 # the three sizes
//!     cargo bench --bench layout -- FILE.html    # one page
//!
//! Pages come from Python's documentation (Debian's python3-doc), as the fidelity corpus
//! uses; set MINIBROWSE_BENCH_DIR to another directory of HTML pages to use those.
//! benches/compare.sh runs the whole binary against lynx, w3m, elinks and links2.

use std::time::{Duration, Instant};

use minibrowse::{html, layout};
use url::Url;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Some(file) = args.first() {
        let bytes = std::fs::read(file).expect("read the page");
        report(file, &bytes, 5);
        return;
    }
    let dir = std::env::var("MINIBROWSE_BENCH_DIR")
        .unwrap_or_else(|_| "/usr/share/doc/python3.11-doc/html".to_string());
    let mut pages = Vec::new();
    collect(std::path::Path::new(&dir), &mut pages);
    pages.sort();
    if pages.is_empty() {
        eprintln!("no HTML pages under {dir} (apt-get install python3.11-doc, or set MINIBROWSE_BENCH_DIR)");
        return;
    }
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>12} {:>12} {:>14}",
        "size", "parse ms", "layout ms", "lines", "layout MB/s", "lines/ms", "streamed ms"
    );
    for target in [256 * 1024, 2560 * 1024, 25 * 1024 * 1024] {
        let page = concatenate(&pages, target);
        report(
            &format!("{:.2} MB", page.len() as f64 / 1048576.0),
            &page,
            if target > 10_000_000 { 1 } else { 5 },
        );
    }
}

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

/// Real pages, their bodies one after the other, until `size` bytes.
fn concatenate(pages: &[std::path::PathBuf], size: usize) -> Vec<u8> {
    let mut out = b"<!DOCTYPE html><html><head><meta charset=utf-8></head><body>".to_vec();
    for page in pages.iter().cycle() {
        if out.len() >= size {
            break;
        }
        if let Ok(bytes) = std::fs::read(page) {
            // The body only: a page's stylesheets in the middle of the whole would make the
            // streamed layout start again (a stylesheet after content it styles).
            let find = |needle: &[u8]| bytes.windows(needle.len()).position(|w| w == needle);
            let start = find(b"<body").unwrap_or(0);
            let end = find(b"</body>").unwrap_or(bytes.len()).max(start);
            out.extend_from_slice(&bytes[start..end]);
        }
    }
    out
}

fn report(name: &str, bytes: &[u8], runs: usize) {
    let base = Url::parse("file:///bench/page.html").unwrap();
    let mut parse = Duration::MAX;
    let mut lay = Duration::MAX;
    let mut lines = 0;
    let mut streamed = Duration::MAX;
    let sources = layout::StyleSources::new();
    for _ in 0..runs {
        let started = Instant::now();
        let decoded = html::decode(bytes, None);
        let mut reader = layout::StreamingLayout::new(&base, 100, &sources);
        let (doc, changed) = html::parse_reading(&decoded.text, &mut reader);
        let (out, with) = reader.finish(&doc, changed);
        streamed = streamed.min(started.elapsed());
        if let Some(why) = with.restarted {
            eprintln!("{name}: the streamed layout started again: {why}");
        }
        drop((out, doc, decoded));
    }
    for _ in 0..runs {
        let started = Instant::now();
        let decoded = html::decode(bytes, None);
        let doc = html::parse(&decoded.text);
        drop(decoded);
        parse = parse.min(started.elapsed());
        let started = Instant::now();
        let out = layout::layout_document(&doc, &base, 100);
        lay = lay.min(started.elapsed());
        lines = out.lines.len();
        drop(out);
        drop(doc);
    }
    let mb = bytes.len() as f64 / 1048576.0;
    println!(
        "{:>8} {:>10.1} {:>10.1} {:>10} {:>12.1} {:>12.0} {:>14.1}",
        name,
        parse.as_secs_f64() * 1000.0,
        lay.as_secs_f64() * 1000.0,
        lines,
        mb / lay.as_secs_f64(),
        lines as f64 / (lay.as_secs_f64() * 1000.0),
        streamed.as_secs_f64() * 1000.0
    );
}
