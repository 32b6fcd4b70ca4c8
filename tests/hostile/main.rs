//! Hardening (issue 7): minibrowse against a hostile web server and a hostile DNS server,
//! both in-process on loopback. Each case runs the real binary with `--trace --dump` and
//! checks what a class could break: the exit status, the time taken, the size of the
//! output, that no terminal control and no local file content reaches stdout or stderr,
//! and the peak memory of the process.

mod dns;
mod http;

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use dns::HostileDns;
use http::HostileHttp;

/// What one run of the binary did.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// Peak resident memory of the largest child so far, in bytes.
    pub max_rss: u64,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Longest any run may take before the test calls it a hang.
const WATCHDOG: Duration = Duration::from_secs(90);

fn server() -> &'static HostileHttp {
    static SERVER: OnceLock<HostileHttp> = OnceLock::new();
    SERVER.get_or_init(HostileHttp::start)
}

fn dns_server() -> &'static HostileDns {
    static SERVER: OnceLock<HostileDns> = OnceLock::new();
    SERVER.get_or_init(HostileDns::start)
}

/// Runs minibrowse with `args`, killing it if it outlives the watchdog.
pub fn run(args: &[&str]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_minibrowse"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start minibrowse");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("minibrowse {args:?} still ran after {WATCHDOG:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    let stdout = out.join().expect("stdout reader");
    let stderr = err.join().expect("stderr reader");
    let run = Run {
        code: status.code(),
        stdout: checked_text(&stdout, "stdout", args),
        stderr: checked_text(&stderr, "stderr", args),
        elapsed,
        max_rss: children_max_rss(),
    };
    assert!(
        run.stdout.len() + run.stderr.len() < 4 << 20,
        "{args:?}: {} bytes of output",
        run.stdout.len() + run.stderr.len()
    );
    assert!(
        run.max_rss < 256 << 20,
        "{args:?}: peak RSS {} MB",
        run.max_rss >> 20
    );
    run
}

/// Output must be UTF-8 with no character a terminal would obey.
fn checked_text(bytes: &[u8], which: &str, args: &[&str]) -> String {
    if std::env::var_os("HOSTILE_LAX").is_some() {
        return format!("{:?}", String::from_utf8_lossy(bytes)).replace("\\n", "\n");
    }
    let text = match String::from_utf8(bytes.to_vec()) {
        Ok(t) => t,
        Err(e) => panic!("{args:?}: {which} is not UTF-8: {e}"),
    };
    if let Some((line, c)) = text
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.chars().find(|c| is_unsafe(*c)).map(|c| (i, c)))
    {
        panic!(
            "{args:?}: {which} line {} holds U+{:04X}: {:?}",
            line + 1,
            u32::from(c),
            text.lines().nth(line)
        );
    }
    text
}

/// C0 except newline and tab, DEL, C1, bidi embeddings/overrides/isolates.
fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn children_max_rss() -> u64 {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } == 0;
    if ok {
        (usage.ru_maxrss.max(0) as u64) * 1024
    } else {
        0
    }
}

/// `--trace --dump` of a hostile path, with a page timeout of `timeout` seconds.
fn browse(path: &str, timeout: &str) -> Run {
    let url = server().url(path);
    run(&["--trace", "--dump", "--timeout", timeout, &url])
}

fn assert_fails(run: &Run, step: &str, words: &str) {
    assert_eq!(run.code, Some(1), "exit status\n{}", run.all());
    let line = format!("minibrowse: {step}: ");
    assert!(
        run.stderr.contains(&line) && run.stderr.contains(words),
        "stderr should name {step:?} and say {words:?}:\n{}",
        run.stderr
    );
    assert!(
        run.stdout.contains(&format!("FAILED   {step}: ")),
        "the trace shows the failure:\n{}",
        run.stdout
    );
}

fn assert_within(run: &Run, limit: Duration) {
    assert!(
        run.elapsed < limit,
        "took {:?} (limit {limit:?})\n{}",
        run.elapsed,
        run.all()
    );
}

#[test]
#[ignore = "prints every case for a person to read"]
fn explore() {
    let paths = std::env::var("HOSTILE_PATHS").unwrap_or_default();
    for path in paths.split(',') {
        let run = browse(path, "3");
        println!(
            "=== {path}: exit {:?} in {:?}, rss {} MB\n{}\n--- stderr\n{}",
            run.code,
            run.elapsed,
            run.max_rss >> 20,
            run.stdout.chars().take(3000).collect::<String>(),
            run.stderr
        );
    }
}
