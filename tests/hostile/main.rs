//! Hardening (issue 7): minibrowse against a hostile web server and a hostile DNS server,
//! both in-process on loopback. Each case runs the real binary with `--trace --dump` and
//! checks what a class could break: the exit status, the time taken, the size of the
//! output, that no terminal control and no local file content reaches stdout or stderr,
//! and the peak memory of the process.

#[path = "../common/mod.rs"]
mod common;
mod dns;
mod http;
mod sse;

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
    /// Peak resident memory of this run's process (its VmHWM), in bytes.
    pub max_rss: u64,
    /// Why the watcher killed the process, if it did (too long, too big).
    pub killed: Option<String>,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Longest any run may take before the test calls it a hang.
const WATCHDOG: Duration = Duration::from_secs(90);
/// Most memory any run may take; past it the process is killed, before it fills the machine.
const RSS_CAP: u64 = 1 << 30;

fn server() -> &'static HostileHttp {
    static SERVER: OnceLock<HostileHttp> = OnceLock::new();
    SERVER.get_or_init(HostileHttp::start)
}

fn dns_server() -> &'static HostileDns {
    static SERVER: OnceLock<HostileDns> = OnceLock::new();
    SERVER.get_or_init(HostileDns::start)
}

/// Runs minibrowse with `args`, killing it if it outlives the watchdog or outgrows the cap.
pub fn run(args: &[&str]) -> Run {
    let run = watch(args, WATCHDOG, RSS_CAP);
    if let Some(why) = &run.killed {
        panic!("minibrowse {args:?} was killed: {why}\n{}", run.all());
    }
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

/// Runs minibrowse with `args` and watches its own peak memory while it runs (VmHWM in
/// /proc, then the kernel's figure for the child when it is reaped); kills it once it has
/// taken longer than `limit` or more than `cap` bytes.
fn watch(args: &[&str], limit: Duration, cap: u64) -> Run {
    let started = Instant::now();
    // Reaped by wait4 below, which also gives the child's own peak memory.
    let common::Spawned {
        child,
        stdout,
        stderr,
    } = common::spawn_binary(args);
    let pid = child.id() as libc::pid_t;
    // The kernel's figure for a reaped child counts the memory of the process it was spawned
    // from (the spawn shares this test process's memory until the exec): it tells the
    // child's own peak only when it is above this process's.
    let own = vm_hwm(std::process::id() as libc::pid_t);
    let mut peak = 0;
    let mut killed = None;
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: wait4 only writes into the status and the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            break (status, usage);
        }
        assert!(
            reaped == 0
                || std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted,
            "wait4: {}",
            std::io::Error::last_os_error()
        );
        peak = peak.max(vm_hwm(pid));
        if killed.is_none() && (peak > cap || started.elapsed() > limit) {
            killed = Some(format!(
                "after {:?} at {} MB",
                started.elapsed(),
                peak >> 20
            ));
            // SAFETY: the child is not reaped yet, so `pid` is still ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    Run {
        code,
        stdout: checked_text(&stdout, "stdout", args),
        stderr: checked_text(&stderr, "stderr", args),
        elapsed,
        max_rss: peak.max(
            Some((usage.ru_maxrss.max(0) as u64) * 1024)
                .filter(|&r| r > own)
                .unwrap_or(0),
        ),
        killed,
    }
}

/// The peak resident memory of a running process so far (0 once it is gone).
fn vm_hwm(pid: libc::pid_t) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
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

// --- terminal safety ---

#[test]
fn controls_in_head_page_and_links_are_escaped() {
    for path in [
        "/controls",
        "/controls-1252",
        "/controls-text",
        "/redirect-controls",
    ] {
        let run = browse(path, "5");
        // run() already checked stdout and stderr for raw controls.
        assert_eq!(run.code, Some(0), "{path}\n{}", run.all());
        let json = run_json(path);
        assert_eq!(json.code, Some(0), "{path}\n{}", json.all());
    }
    // They are shown escaped, so the student sees they were there.
    let run = browse("/controls", "5");
    for shown in ["\\x9b31m\\u{202e}", "\\x1b[2J", "X-C1: \\x9b[31m"] {
        assert!(run.stdout.contains(shown), "{shown}\n{}", run.stdout);
    }
    let run = browse("/controls-1252", "5");
    assert!(
        run.stdout.contains("\\x81\\x8f\\x90\\x9d"),
        "{}",
        run.stdout
    );
}

/// `--json` of a hostile path: every line is one JSON object, controls as `\u` escapes.
fn run_json(path: &str) -> Run {
    let url = server().url(path);
    let run = run(&["--json", "--timeout", "5", &url]);
    for line in run.stdout.lines() {
        assert!(line.starts_with('{') && line.ends_with('}'), "{line}");
    }
    run
}

#[test]
fn control_bytes_in_a_header_value_are_taken_as_browsers_do_and_shown_escaped() {
    let run = browse("/header-controls", "5");
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("hi"), "{}", run.stdout);
    assert!(
        run.stdout.contains("X-Bell: ring\\x07 \\x1b[2J done"),
        "{}",
        run.stdout
    );
}

#[test]
fn early_hints_come_before_the_answer_and_do_not_count_as_its_first_byte() {
    let json = run_json("/early-hints");
    assert_eq!(json.code, Some(0), "{}", json.all());
    let response: serde_json::Value = json
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "response")
        .expect("a response event");
    assert_eq!(response["status"], 200, "{response}");
    let head = response["head"].as_str().unwrap_or_default();
    assert!(head.starts_with("HTTP/1.1 103 Early Hints"), "{head}");
    assert!(head.contains("HTTP/1.1 200 OK"), "{head}");
    let ttfb = response["ttfb_ms"].as_f64().unwrap_or_default();
    assert!(
        ttfb >= 250.0,
        "time to first byte {ttfb} ms: the hints' time, not the answer's"
    );
    let run = browse("/early-hints", "5");
    assert!(
        run.stdout.contains("after an interim 103 Early Hints"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_status_line_with_escape_is_refused_and_quoted_safely() {
    let run = browse("/status-esc", "5");
    assert_fails(&run, "receive", "not a valid HTTP response");
    assert!(run.stderr.contains("\\u{1b}[2J"), "{}", run.stderr);
}

// --- time: every wait is bounded by the timeout ---

/// The timeout given, and the most a run may take with it on a loaded 2-core machine.
const SHORT: &str = "2";
const SHORT_BOUND: Duration = Duration::from_secs(10);

#[test]
fn a_server_that_never_answers_costs_the_timeout() {
    let run = browse("/stall", SHORT);
    assert_within(&run, SHORT_BOUND);
    assert!(
        run.elapsed >= Duration::from_millis(1900),
        "{:?}",
        run.elapsed
    );
    assert_fails(&run, "wait", "timed out after 2.0 s waiting for 127.0.0.1");
}

#[test]
fn a_body_that_stops_coming_costs_the_timeout() {
    let run = browse("/stall-body", SHORT);
    assert_within(&run, SHORT_BOUND);
    assert_fails(
        &run,
        "receive",
        "timed out after 2.0 s while receiving the body",
    );
}

#[test]
fn a_head_that_trickles_forever_costs_the_timeout() {
    let run = browse("/trickle-head", SHORT);
    assert_within(&run, SHORT_BOUND);
    assert_fails(&run, "receive", "timed out after 2.0 s");
}

#[test]
fn a_body_that_trickles_forever_costs_the_timeout() {
    let run = browse("/trickle-body", SHORT);
    assert_within(&run, SHORT_BOUND);
    assert_fails(
        &run,
        "receive",
        "timed out after 2.0 s while receiving the body",
    );
}

#[test]
fn stalling_assets_share_the_page_timeout() {
    // 120 assets that never answer, 6 at a time: one timeout each would be 40 s.
    let run = browse("/stalled-assets", SHORT);
    assert_within(&run, Duration::from_secs(15));
    assert!(run.stdout.contains("\ntext[stall]"), "{}", run.stdout);
    assert!(
        run.stdout.contains("used up the page's time (--timeout)"),
        "{}",
        run.stdout
    );
}

// --- broken servers ---

#[test]
fn malformed_status_lines_name_the_step() {
    for (path, words) in [
        ("/status/garbage", "not a valid HTTP response"),
        ("/status/huge-code", "not a valid HTTP response"),
        ("/status/not-http", "without an HTTP status line"),
        ("/http09", "HTTP/0.9"),
        ("/empty", "closed the connection without answering"),
        ("/reset", "reset the connection"),
    ] {
        let run = browse(path, "5");
        assert_within(&run, SHORT_BOUND);
        assert_eq!(run.code, Some(1), "{path}: {}", run.all());
        assert!(run.stderr.contains(words), "{path}: {}", run.stderr);
    }
}

#[test]
fn tls_to_a_server_that_answers_in_plain_text_fails_the_tls_step() {
    let url = format!("https://localhost:{}/", server().addr.port());
    let run = run(&["--trace", "--dump", "--timeout", "5", &url]);
    assert_within(&run, SHORT_BOUND);
    assert_fails(&run, "tls", "TLS handshake with localhost failed");
}

#[test]
fn truncated_bodies_show_the_partial_page_with_a_warning() {
    for (path, text) in [
        ("/truncated", "The first part of the page arrived"),
        ("/chunk-truncated", "chunked, cut"),
        ("/reset-mid-body", "some of it"),
    ] {
        let run = browse(path, "5");
        assert_eq!(run.code, Some(1), "{path}: {}", run.all());
        assert!(
            run.stdout.contains(text),
            "{path}: the partial page\n{}",
            run.stdout
        );
        assert!(
            run.stderr
                .contains("minibrowse: receive: the body broke off"),
            "{path}: {}",
            run.stderr
        );
        assert!(run.stdout.contains("FAILED   receive: the body broke off"));
    }
}

#[test]
fn broken_chunked_framing_names_the_receive_step() {
    for path in ["/chunk-overflow", "/chunk-garbage"] {
        let run = browse(path, "5");
        assert_eq!(run.code, Some(1), "{path}: {}", run.all());
        assert!(
            run.stderr.contains("minibrowse: receive: "),
            "{path}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_body_longer_than_its_content_length_is_cut_at_the_length() {
    let run = browse("/length-short", "5");
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("hello") || run.stdout.contains("he"));
    assert!(!run.stdout.contains("past the length"), "{}", run.stdout);
}

// --- memory and output ---

#[test]
fn compression_bombs_are_stopped_at_the_decoded_limit() {
    for path in ["/gzip-bomb", "/br-bomb"] {
        let run = browse(path, "20");
        assert_fails(&run, "receive", "once decompressed");
        assert!(run.max_rss < 256 << 20);
    }
    // A lower limit stops it earlier.
    let url = server().url("/br-bomb");
    let run = run(&["--trace", "--max-body", "100000", &url]);
    assert_fails(
        &run,
        "receive",
        "larger than the limit of 100000 bytes once decompressed",
    );
}

#[test]
fn undecoded_and_endless_bodies_stop_at_a_limit() {
    for (path, words) in [
        ("/endless", "larger than the limit"),
        ("/deflate-bomb", "receive"),
    ] {
        let run = browse(path, "3");
        assert_within(&run, SHORT_BOUND);
        assert_eq!(run.code, Some(1), "{path}: {}", run.all());
        assert!(run.stderr.contains(words), "{path}: {}", run.stderr);
    }
}

#[test]
fn every_content_coding_is_decoded_and_an_unknown_or_broken_one_is_named() {
    for (case, coding) in [
        ("zlib", "deflate"),
        ("raw-deflate", "deflate"),
        ("zstd", "zstd"),
        ("gzip-upper", "GZIP"),
        ("gzip-then-zstd", "gzip, zstd"),
    ] {
        let run = browse(&format!("/coding/{case}"), "5");
        assert_eq!(run.code, Some(0), "{case}: {}", run.all());
        assert!(
            run.stdout.contains("The same page in every coding."),
            "{case}: {}",
            run.stdout
        );
        assert!(
            run.stdout.contains(&format!("({coding})")),
            "{case}: {}",
            run.stdout
        );
    }
    let squeezed = browse("/coding/x-squeeze", "5");
    assert_fails(&squeezed, "receive", "x-squeeze: not decoded");
    assert!(
        !squeezed.stdout.contains("The same page"),
        "never shown as the page"
    );
    for case in ["gzip-cut", "ours-gzip-cut"] {
        let cut = browse(&format!("/coding/{case}"), "5");
        assert_eq!(cut.code, Some(1), "{case}: {}", cut.all());
        // Named, with the coding: ours says "x-gzip: corrupt (…)", ureq's own gzip
        // "gzip decompression failed: incomplete deflate stream" (the part decoded shown).
        assert!(
            cut.stderr.contains("gzip: corrupt")
                || cut.stderr.contains("gzip decompression failed"),
            "{case}: {}",
            cut.stderr
        );
    }
    // A zstd bomb: 64 MiB of spaces in a few KiB, stopped at the decoded limit.
    let url = server().url("/coding/zstd-bomb");
    let run = run(&["--trace", "--max-body", "100000", &url]);
    assert_within(&run, SHORT_BOUND);
    assert!(
        run.stderr
            .contains("larger than the limit of 100000 bytes once decompressed"),
        "{}",
        run.stderr
    );
    assert!(run.max_rss < 100 << 20, "{} bytes", run.max_rss);
}

#[test]
fn oversized_heads_are_refused() {
    for (path, words) in [
        (
            "/header-huge",
            "the response head is larger than 65536 bytes",
        ),
        ("/header-many", "more than 128 header lines"),
        ("/header-endless", "more than 128 header lines"),
    ] {
        let run = browse(path, "5");
        assert_within(&run, SHORT_BOUND);
        assert_fails(&run, "receive", words);
    }
}

#[test]
fn assets_are_bounded_in_count_and_bytes() {
    // 3,000 images of 1 MiB each.
    // The page itself is shown in full, so this is a warning with exit 0,
    // not a failure: the assets over the limits are said on stderr.
    let run = browse("/many-assets", "30");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "minibrowse: warning: assets: the page references 2700 more assets than the limit of 300"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("already reached the limit of 67108864 bytes"),
        "the byte budget stops the fetching"
    );
    let fetched = run.stdout.matches(" BODY ").count();
    assert!(fetched <= 64 + 24, "{fetched} assets fetched");
}

// --- local safety ---

fn assert_no_secret(run: &Run) {
    let marker = &server().secret_marker;
    // The file is there and readable: a browser that read it would show the marker.
    let contents = std::fs::read_to_string(&server().secret).expect("the secret file");
    assert!(contents.contains(marker.as_str()));
    assert!(
        !run.all().contains(marker.as_str()),
        "local file contents leaked:\n{}",
        run.all()
    );
}

#[test]
fn redirects_to_other_schemes_are_refused() {
    for (path, scheme) in [
        ("/redirect/file", "file:"),
        ("/redirect/data", "data:"),
        ("/redirect/javascript", "javascript:"),
        ("/redirect/ftp", "ftp:"),
    ] {
        let run = browse(path, "5");
        assert_fails(&run, "redirect", "only http and https are followed");
        assert!(run.stderr.contains(scheme), "{path}: {}", run.stderr);
        assert_no_secret(&run);
    }
}

#[test]
fn redirect_loops_are_bounded() {
    let run = browse("/redirect/loop", "10");
    assert_fails(
        &run,
        "redirect",
        "redirect loop: gave up after 20 redirects",
    );
}

#[test]
fn file_assets_and_file_bases_are_refused_and_logged() {
    let run = browse("/file-assets", "5");
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_no_secret(&run);
    let refused = run
        .stdout
        .matches("a page from the network may not make the browser read local files")
        .count();
    assert!(refused >= 6, "{refused} refusals\n{}", run.stdout);

    let run = browse("/base-file", "5");
    assert_no_secret(&run);
    assert!(
        run.stdout.contains("REFUSED  base file://"),
        "{}",
        run.stdout
    );
    // Relative references resolve against the page instead.
    assert!(run.stdout.contains(&server().url("/minibrowse-secret-")));
}

#[test]
fn meta_refresh_is_followed_only_within_the_rules() {
    let run = browse("/refresh/ok", "5");
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("A fine page."), "{}", run.stdout);
    assert!(
        run.stdout.contains("REDIRECT hop 1: 200 →"),
        "{}",
        run.stdout
    );

    for path in ["/refresh/file", "/refresh/data"] {
        let run = browse(path, "5");
        assert_eq!(run.code, Some(0), "{path}: {}", run.all());
        assert!(
            run.stdout.contains("REFUSED  refresh"),
            "{path}: {}",
            run.stdout
        );
        assert!(run
            .stdout
            .contains("a refresh is followed only to http and https"));
        assert_no_secret(&run);
    }

    let run = browse("/refresh/loop", "5");
    assert!(
        run.stdout.contains("a refresh to the page itself"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.matches("REQUEST").count(), 1);

    let run = browse("/refresh/later", "5");
    assert!(run.stdout.contains("is not waited for"), "{}", run.stdout);
    assert!(run.stdout.contains("stays"));
}

// --- broken DNS: each a clear error within the DNS timeout ---

/// Browses `name` through the hostile DNS server with a 2 s timeout (so 2 s per question).
fn resolve(name: &str) -> Run {
    let dns = dns_server().addr.to_string();
    let url = format!("http://{name}:9/");
    run(&[
        "--trace",
        "--dump",
        "--timeout",
        SHORT,
        "--dns-server",
        &dns,
        &url,
    ])
}

#[test]
fn dns_failures_are_clear_and_bounded() {
    for (name, words) in [
        ("nx.hostile.test", "does not exist (NXDOMAIN"),
        ("empty.hostile.test", "with no A or AAAA record"),
        ("loop.hostile.test", "CNAME records go round in a loop"),
        ("servfail.hostile.test", "refused to answer"),
        ("refused.hostile.test", "refused to answer"),
        ("trunc.hostile.test", "truncated reply"),
        ("garbage.hostile.test", "cannot be decoded"),
        ("short.hostile.test", "cannot be decoded"),
        ("badid.hostile.test", "within 2.0 s"),
        ("ptrloop.hostile.test", "cannot be decoded"),
        ("silent.hostile.test", "no answer from the DNS server"),
        ("selfloop.hostile.test", "go round in a loop"),
    ] {
        let run = resolve(name);
        eprintln!("{name}: {:?}: {}", run.elapsed, run.stderr.trim());
        assert_eq!(run.code, Some(1), "{name}: {}", run.all());
        assert!(
            run.stderr.contains("minibrowse: dns: "),
            "{name}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(words), "{name}: {}", run.all());
        // Two questions (A, then AAAA) at most, each within the DNS timeout.
        assert_within(&run, SHORT_BOUND);
        assert!(
            run.stdout.contains(" DNS "),
            "{name}: the question is shown"
        );
    }
}

#[test]
fn nxdomain_and_timeouts_are_named_in_the_dns_step() {
    let run = resolve("nx.hostile.test");
    assert!(
        run.stdout.contains("(NXDOMAIN: the name does not exist)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("(no records of this type)"));
    let run = resolve("silent.hostile.test");
    // The wait said is the wait configured, and it is what the question took.
    assert!(run.stderr.contains("within 2.0 s"), "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(6), "{:?}", run.elapsed);
}

#[test]
fn the_questions_of_one_lookup_share_the_dns_timeout() {
    // Each answer comes 1.5 s late, empty. AAAA and A go out together (1.5 s); the CNAME
    // question that would show a loop would take 1.5 s more: the lookup's one deadline
    // (2 s) ends it. With 2 s per question it would be 3 s; asked one by one, 4.5 s.
    let run = resolve("slow.hostile.test");
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("has no address"), "{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_millis(2800),
        "{:?}",
        run.elapsed
    );
}

// --- WebSockets (`minibrowse ws`) ---

#[test]
fn websocket_servers_cannot_hang_flood_or_scribble() {
    let ws = |path: &str| {
        let url = format!("ws://{}{path}", server().addr);
        run(&["ws", "--wait", "2", "--timeout", SHORT, &url])
    };
    let run = ws("/ws-stall");
    assert_within(&run, SHORT_BOUND);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stderr.contains("minibrowse: websocket: "),
        "{}",
        run.stderr
    );

    let run = ws("/ws-huge");
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("over the limit"), "{}", run.stderr);

    let run = ws("/ws-controls");
    assert!(run.stdout.contains("x\\x1b[2J"), "{}", run.all());
}

// --- WebSockets: every wait a deadline, every message bounded (issue 16) ---

/// Most memory a WebSocket client may take against a hostile server.
const WS_MEMORY: u64 = 100 << 20;

/// `minibrowse ws --wait 3 --timeout 2` (and `extra`) against a hostile WebSocket path.
fn ws_args(path: &str, extra: &[&str]) -> Vec<String> {
    let url = format!("ws://{}{path}", server().addr);
    let mut args = vec!["ws", "--wait", "3", "--timeout", SHORT];
    args.extend_from_slice(extra);
    args.push(&url);
    args.into_iter().map(String::from).collect()
}

/// `minibrowse chat --via ws --wait 3 --timeout 2` of the hostile server's page: the chat
/// opens the page's /chat/ws, which sends endless empty fragments.
fn chat_ws_args() -> Vec<String> {
    let page = server().url("/");
    [
        "chat",
        "--via",
        "ws",
        "--wait",
        "3",
        "--timeout",
        SHORT,
        &page,
    ]
    .map(String::from)
    .to_vec()
}

fn run_owned(args: &[String]) -> Run {
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn ws_run(path: &str, extra: &[&str]) -> Run {
    run_owned(&ws_args(path, extra))
}

/// Exit 1 with one line naming the websocket step and saying `words`, in little memory.
fn assert_ws_fails(run: &Run, words: &str) {
    assert_eq!(run.code, Some(1), "exit status\n{}", run.all());
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines.len() == 1
            && lines[0].starts_with("minibrowse: websocket: ")
            && lines[0].contains(words),
        "stderr should be one line saying {words:?}:\n{}",
        run.stderr
    );
    assert_small(run);
}

/// At least `at_least` (the deadline was waited for), less than `limit` (and no longer).
fn assert_took(run: &Run, at_least: Duration, limit: Duration) {
    assert!(
        run.elapsed >= at_least,
        "took {:?}, less than {at_least:?}\n{}",
        run.elapsed,
        run.all()
    );
    assert_within(run, limit);
}

fn assert_small(run: &Run) {
    assert!(
        run.max_rss < WS_MEMORY,
        "peak RSS {} MB (limit {} MB)\n{}",
        run.max_rss >> 20,
        WS_MEMORY >> 20,
        run.all()
    );
}

/// The trace shows a few frames one by one and counts the rest.
fn assert_frames_counted(run: &Run, opcode: &str) {
    let counted = format!("more {opcode} frames like this one");
    assert!(run.stdout.contains(&counted), "{counted:?}\n{}", run.stdout);
    let frames = run.stdout.matches("FRAME").count();
    assert!(frames < 60, "{frames} frames shown\n{}", run.stdout);
}

#[test]
fn websocket_endless_empty_fragments_stop_at_the_fragment_limit() {
    // Before: `read()` never returned, and a summary per frame piled up (476 MB in 10 s).
    let run = ws_run("/ws-endless-fragments", &["--trace"]);
    assert_within(&run, Duration::from_secs(3));
    assert_ws_fails(
        &run,
        "the server split one message into more than 1024 frames",
    );
    assert_frames_counted(&run, "continuation");
}

#[test]
fn websocket_slow_fragments_stop_at_the_timeout() {
    // An empty fragment every 5 ms: the fragment limit is 5 s away, the timeout 2 s.
    let run = ws_run("/ws-slow-fragments", &["--trace"]);
    assert_took(&run, Duration::from_millis(1900), Duration::from_secs(6));
    assert_ws_fails(&run, "the server's message did not end within 2.0 s");
    assert_frames_counted(&run, "continuation");
}

#[test]
fn websocket_wait_is_a_deadline_while_fragments_keep_coming() {
    // Before: `--wait` was a socket timeout, which bytes every 5 ms never let fire: the
    // wait went on until the process was killed. Now: the wait (1 s), then the close
    // handshake (2 s at most), and the end.
    let url = format!("ws://{}/ws-slow-fragments", server().addr);
    let run = run(&["ws", "--wait", "1", "--timeout", "5", &url]);
    assert_took(&run, Duration::from_millis(900), Duration::from_secs(6));
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_small(&run);
}

#[test]
fn websocket_fragments_count_against_the_message_limit() {
    let run = ws_run("/ws-big-fragments", &[]);
    assert_within(&run, Duration::from_secs(3));
    assert_ws_fails(&run, "over the limit: Message too long");
}

#[test]
fn websocket_slow_payload_stops_at_the_timeout() {
    // One frame of 60 KiB, a byte every 10 ms: under the size limit, over the time.
    let run = ws_run("/ws-slow-payload", &[]);
    assert_took(&run, Duration::from_millis(1900), Duration::from_secs(6));
    assert_ws_fails(
        &run,
        "the server's message did not end within 2.0 s (1 frame so far, ",
    );
}

#[test]
fn websocket_ping_flood_keeps_memory_flat_and_the_trace_short() {
    // Pings as fast as the server can, and it reads none of the pongs: one pong waits at a
    // time, the rest are dropped; the trace counts them. The wait ends at --wait, then the
    // close handshake has its own 2 s.
    let run = ws_run("/ws-ping-flood", &["--trace"]);
    assert_took(&run, Duration::from_millis(2900), Duration::from_secs(9));
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert_small(&run);
    assert_frames_counted(&run, "ping");
    assert_frames_counted(&run, "pong");
}

#[test]
fn websocket_chat_against_endless_fragments_stops() {
    let run = run_owned(&chat_ws_args());
    assert_within(&run, Duration::from_secs(3));
    assert_ws_fails(
        &run,
        "the server split one message into more than 1024 frames",
    );
}

/// The hostile WebSocket servers, each with the command that meets it.
fn websocket_cases() -> Vec<(&'static str, Vec<String>)> {
    let mut cases: Vec<(&str, Vec<String>)> = [
        "/ws-endless-fragments",
        "/ws-slow-fragments",
        "/ws-big-fragments",
        "/ws-slow-payload",
        "/ws-ping-flood",
    ]
    .into_iter()
    .map(|path| (path, ws_args(path, &[])))
    .collect();
    cases.push(("chat --via ws", chat_ws_args()));
    cases
}

#[test]
#[ignore = "prints each hostile WebSocket case's figures for a person to read"]
fn explore_websockets() {
    // HOSTILE_WS_TRACE=1: with --trace, and the trace printed.
    let traced = std::env::var_os("HOSTILE_WS_TRACE").is_some();
    for (case, args) in websocket_cases() {
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        if traced {
            args.insert(1, "--trace");
        }
        // At most 10 s and 1 GiB each: enough to see a case grow, not to fill the machine.
        let run = watch(&args, Duration::from_secs(10), 1 << 30);
        println!(
            "=== {case}: exit {:?} in {:.2} s, peak RSS {} MB{}\n--- stderr\n{}",
            run.code,
            run.elapsed.as_secs_f64(),
            run.max_rss >> 20,
            run.killed
                .map(|why| format!(", KILLED {why}"))
                .unwrap_or_default(),
            run.stderr.trim()
        );
        if traced {
            println!("--- stdout\n{}", run.stdout);
        }
    }
}
