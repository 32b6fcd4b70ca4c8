//! Worst cases (issue 7): the time and peak memory of the whole release binary on hostile
//! pages, one process per case so each peak RSS is its own.
//!
//!     cargo bench --bench worst_cases            # every case
//!     cargo bench --bench worst_cases -- table   # the cases whose name contains "table"
//!
//! Pages are generated into a temporary directory and loaded as `file:` pages (no network),
//! except the cases that need a server (many assets, a gzip bomb), which a loopback server
//! in this process answers. Each run is `minibrowse --dump`; its output goes to a pipe
//! whose bytes are counted. A case that runs past 120 s is killed and reported as such.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CAP: Duration = Duration::from_secs(120);

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let dir = std::env::temp_dir().join(format!("minibrowse-worst-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let server = start_server();
    let cases: Vec<(&str, Source)> = vec![
        (
            "nested divs 10,000",
            page(&dir, "div10k", &nested("div", 10_000)),
        ),
        (
            "nested divs 100,000",
            page(&dir, "div100k", &nested("div", 100_000)),
        ),
        (
            "nested spans 100,000",
            page(&dir, "span100k", &nested("span", 100_000)),
        ),
        (
            "nested tables 2,000",
            page(&dir, "table-nest", &nested_tables(2_000)),
        ),
        (
            "table 5,000 columns",
            page(&dir, "table-wide", &table(1, 5_000)),
        ),
        (
            "table 20,000 rows x 10",
            page(&dir, "table-long", &table(20_000, 10)),
        ),
        (
            "word of 10 MB",
            page(&dir, "word", &format!("<p>{}</p>", "x".repeat(10_000_000))),
        ),
        (
            "9 MB of links",
            page(&dir, "links", &"<a href=/x>l</a> ".repeat(500_000)),
        ),
        (
            "many assets (3,000 x 64 KB)",
            Source::Url(format!("http://{server}/assets")),
        ),
        (
            "gzip bomb (endless)",
            Source::Url(format!("http://{server}/bomb")),
        ),
    ];
    println!(
        "{:<30} {:>10} {:>12} {:>14} {:>6}",
        "case", "seconds", "peak RSS MB", "output bytes", "exit"
    );
    for (name, source) in cases {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let target = match &source {
            Source::File(path) => path.display().to_string(),
            Source::Url(url) => url.clone(),
        };
        let (elapsed, rss, out, code) = measure(&target);
        let shown = if elapsed >= CAP {
            format!(">{}", CAP.as_secs())
        } else {
            format!("{:.2}", elapsed.as_secs_f64())
        };
        println!(
            "{name:<30} {shown:>10} {:>12.1} {out:>14} {code:>6}",
            rss as f64 / 1_048_576.0
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

enum Source {
    File(PathBuf),
    Url(String),
}

fn page(dir: &Path, name: &str, html: &str) -> Source {
    let path = dir.join(format!("{name}.html"));
    std::fs::write(&path, html).expect("write page");
    Source::File(path)
}

fn nested(tag: &str, depth: usize) -> String {
    let mut out = String::with_capacity(depth * (tag.len() * 2 + 5) + 16);
    for _ in 0..depth {
        out.push_str(&format!("<{tag}>"));
    }
    out.push_str("deep");
    for _ in 0..depth {
        out.push_str(&format!("</{tag}>"));
    }
    out
}

fn nested_tables(depth: usize) -> String {
    "<table><tr><td>".repeat(depth) + "cell" + &"</td></tr></table>".repeat(depth)
}

fn table(rows: usize, cols: usize) -> String {
    let mut out = String::from("<table>");
    for r in 0..rows {
        out.push_str("<tr>");
        for c in 0..cols {
            out.push_str(&format!("<td>r{r}c{c}</td>"));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

/// Runs the binary on `target`; returns wall time, peak RSS in bytes, output bytes, exit code.
#[allow(clippy::zombie_processes)] // reaped by wait4, which std cannot see
fn measure(target: &str) -> (Duration, u64, u64, i32) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_minibrowse"))
        .args(["--dump", "--timeout", "60", target])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start minibrowse");
    let mut stdout = child.stdout.take().expect("stdout");
    let counter = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        total
    });
    let pid = child.id() as libc::pid_t;
    let killer = std::thread::spawn(move || {
        while started.elapsed() < CAP {
            std::thread::sleep(Duration::from_millis(50));
            // SAFETY: kill(pid, 0) only probes whether the process still exists.
            if unsafe { libc::kill(pid, 0) } != 0 {
                return;
            }
        }
        // SAFETY: the child is ours and not yet reaped (wait4 below reaps it).
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let mut status = 0;
    // wait4 (not Child::wait) because it also gives this child's own peak RSS.
    // SAFETY: rusage is plain data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    let _ = killer.join();
    let out = counter.join().unwrap_or(0);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (elapsed, usage.ru_maxrss.max(0) as u64 * 1024, out, code)
}

/// A loopback server for the cases that need one: `/assets` (a page of 3,000 images of
/// 64 KB each) and `/bomb` (an endless gzip stream of spaces).
fn start_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    addr
}

fn serve(mut stream: TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split(' ').nth(1).unwrap_or("/");
    if path == "/assets" {
        let body: String = (0..3000)
            .map(|i| format!("<img src=\"/a/{i}.png\" alt=\"{i}\">"))
            .collect();
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    } else if path == "/bomb" {
        use flate2::write::GzEncoder;
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
        let block = vec![b' '; 1 << 20];
        for _ in 0..4096 {
            if gz.write_all(&block).and_then(|_| gz.flush()).is_err() {
                return;
            }
            let chunk = std::mem::take(gz.get_mut());
            if chunk.is_empty() {
                continue;
            }
            let framed = stream
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .and_then(|_| stream.write_all(&chunk))
                .and_then(|_| stream.write_all(b"\r\n"));
            if framed.is_err() {
                return;
            }
        }
    } else {
        let body = vec![0u8; 64 * 1024];
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(&body);
    }
}
