//! The `minibrowse` command as a user runs it: exit codes, stdout, stderr.

mod common;

use std::process::{Command, Output};

use common::world;

/// The proxy variables minibrowse reads: cleared, so a test never leaves loopback.
const PROXY_VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

fn minibrowse(args: &[&str]) -> Output {
    minibrowse_env(args, &[])
}

fn minibrowse_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_minibrowse"));
    for var in PROXY_VARS {
        command.env_remove(var);
    }
    command
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("minibrowse runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn no_arguments_runs_the_demo_world_end_to_end() {
    let output = minibrowse(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("Demo world on loopback"));
    for step in [
        "START", "DNS", "TCP", "REQUEST", "RESPONSE", "BODY", "PARSE", "ASSET", "LAYOUT", "SUMMARY",
    ] {
        assert!(out.contains(step), "no {step} step in:\n{out}");
    }
    assert!(out.contains("Welcome to the minibrowse demo world"));
    assert!(out.contains("3 requests, 0 failed"), "{out}");
}

#[test]
fn dump_prints_the_page_and_its_links() {
    let world = world();
    let dns = world.dns_addr.to_string();
    let output = minibrowse(&[
        "--dump",
        "--dns-server",
        &dns,
        &world.url("/redirect-demo.html"),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(!out.contains("REQUEST"), "--dump alone prints no trace");
    assert!(out.contains("References"));
    assert!(out.contains(&world.url("/old-page")));
    let no_list = minibrowse(&[
        "--dump",
        "--no-list",
        "--dns-server",
        &dns,
        &world.url("/redirect-demo.html"),
    ]);
    assert!(!stdout(&no_list).contains("References"));
}

#[test]
fn json_is_one_event_object_per_line() {
    let world = world();
    let dns = world.dns_addr.to_string();
    let output = minibrowse(&["--json", "--dns-server", &dns, &world.url("/old-page")]);
    assert!(output.status.success(), "{}", stderr(&output));
    let events: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(kinds.first(), Some(&"start"));
    assert_eq!(kinds.last(), Some(&"summary"));
    let redirect = events
        .iter()
        .find(|e| e["event"] == "redirect")
        .expect("a redirect event");
    assert_eq!(redirect["status"], 301);
    assert_eq!(redirect["location"], "/new-page.html");
    assert_eq!(redirect["request"], 1);
    // seq numbers are 1, 2, 3, … in printing order.
    let seqs: Vec<u64> = events.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert_eq!(seqs, (1..=events.len() as u64).collect::<Vec<_>>());
}

#[test]
fn trace_explains_each_step() {
    let world = world();
    let dns = world.dns_addr.to_string();
    let output = minibrowse(&[
        "--trace",
        "--no-assets",
        "--dns-server",
        &dns,
        &world.url("/"),
    ]);
    let out = stdout(&output);
    assert!(
        out.contains("↳ Computers connect to numbers, not names"),
        "{out}"
    );
    assert!(out.contains("| GET / HTTP/1.1"));
    assert!(!out.contains("Welcome to"), "--trace alone prints no page");
    let quiet = minibrowse(&[
        "--trace",
        "--no-explain",
        "--no-assets",
        "--dns-server",
        &dns,
        &world.url("/"),
    ]);
    assert!(!stdout(&quiet).contains('↳'));
}

#[test]
fn failures_print_one_line_naming_the_step_and_exit_1() {
    let world = world();
    let dns = world.dns_addr.to_string();
    let port = world.http_addr.port();
    let cases = [
        (
            format!("http://nope.minibrowse.test:{port}/"),
            "minibrowse: dns: nope.minibrowse.test does not exist (NXDOMAIN",
        ),
        (world.url("/loop"), "minibrowse: redirect: redirect loop"),
        (
            "ftp://x.test/".to_string(),
            "minibrowse: url: the ftp: scheme is not supported",
        ),
    ];
    for (url, expected) in cases {
        let output = minibrowse(&["--trace", "--dns-server", &dns, &url]);
        assert_eq!(output.status.code(), Some(1), "{url}");
        let err = stderr(&output);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(expected), "{err}");
        // The trace still shows the steps up to the failure, and the summary.
        let out = stdout(&output);
        assert!(out.contains("FAILED") && out.contains("SUMMARY"), "{out}");
    }
}

#[test]
fn limits_exceeded_exit_1() {
    let world = world();
    let dns = world.dns_addr.to_string();
    let output = minibrowse(&[
        "--dump",
        "--max-body",
        "100000",
        "--dns-server",
        &dns,
        &world.url("/errors/endless"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output)
        .starts_with("minibrowse: receive: the body is larger than the limit of 100000 bytes"));
    let output = minibrowse(&[
        "--dump",
        "--max-assets",
        "10",
        "--dns-server",
        &dns,
        &world.url("/errors/many-assets"),
    ]);
    // The page is shown in full: assets over the limit are a warning, exit status 0.
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output).contains("400 images"),
        "the page is still shown"
    );
    assert!(stderr(&output).contains("minibrowse: warning: assets:"));
    assert!(stderr(&output).contains("more assets than the limit of 10"));
}

#[test]
fn bad_options_are_usage_errors() {
    assert_eq!(
        minibrowse(&["--timeout", "-1", "x.test"]).status.code(),
        Some(2)
    );
    assert_eq!(
        minibrowse(&["-H", "no colon", "x.test"]).status.code(),
        Some(2)
    );
    assert_eq!(
        minibrowse(&["--dns-server", "not-an-address", "x.test"])
            .status
            .code(),
        Some(2)
    );
    let help = minibrowse(&["--help"]);
    assert!(help.status.success());
    assert!(stdout(&help).contains("--dns-server"));
}

#[test]
fn custom_headers_and_user_agent_are_sent() {
    let world = world();
    let dns = world.dns_addr.to_string();
    let output = minibrowse(&[
        "--json",
        "--no-assets",
        "--user-agent",
        "classroom/1.0",
        "-H",
        "X-Lesson: dns",
        "--dns-server",
        &dns,
        &world.url("/"),
    ]);
    let request = stdout(&output)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "request")
        .expect("a request event");
    let head = request["head"].as_str().unwrap_or_default();
    assert!(head.contains("user-agent: classroom/1.0\r\n"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("x-lesson: dns\r\n"),
        "{head}"
    );
}

#[test]
fn hostile_page_cannot_reach_the_terminal() {
    let world = world();
    let dns = world.dns_addr.to_string();
    let output = minibrowse(&["--dns-server", &dns, &world.url("/errors/hostile")]);
    assert!(output.status.success());
    let out = stdout(&output);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{9b}') && !out.contains('\u{202e}'));
    assert!(out.contains("\\x1b[2J"));
}

#[test]
fn options_before_demo_still_run_the_demo() {
    let output = minibrowse(&["--dump", "demo"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("Welcome to the minibrowse demo world"));
    let output = minibrowse(&["demo", "--dump", "/text.txt"]);
    assert!(stdout(&output).starts_with("Not everything on the web is HTML"));
    // Options first, then `demo` and a page of the demo site.
    let output = minibrowse(&["--dump", "demo", "/text.txt"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("Not everything on the web is HTML"));
    // Two URLs are a usage error, not a silently ignored argument.
    let output = minibrowse(&["--dump", "http://a.test/", "http://b.test/"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("one URL at a time"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn har_file_and_cookie_jar_at_exit() {
    let world = world();
    let dns = world.dns_addr.to_string();
    let dir = std::env::temp_dir().join(format!("minibrowse-har-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("load.har");
    let path_text = path.to_string_lossy().into_owned();
    let output = minibrowse(&[
        "--dump",
        "--cookies",
        "--har",
        &path_text,
        // Cookies are in the HAR only when asked for (issue 16: a sanitized export by default).
        "--har-sensitive",
        "--dns-server",
        &dns,
        &world.url("/cookie.html"),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(out.contains("The cookie jar (1 cookie)"), "{out}");
    assert!(
        out.contains("www.minibrowse.test/  visitor=student  (session, HttpOnly)"),
        "{out}"
    );
    let har = har::from_path(&path).expect("a HAR file");
    let har::Spec::V1_2(log) = har.log else {
        panic!("not HAR 1.2")
    };
    assert_eq!(log.entries.len(), 2, "the page and its stylesheet");
    assert_eq!(log.entries[0].response.cookies[0].name, "visitor");
    let _ = std::fs::remove_dir_all(&dir);

    // Without cookies the jar stays empty; an unwritable HAR path is a clear failure.
    let output = minibrowse(&[
        "--dump",
        "--no-cookies",
        "--cookies",
        "--har",
        "/nonexistent-dir/x.har",
        "--dns-server",
        &dns,
        &world.url("/cookie.html"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("har: cannot write /nonexistent-dir/x.har"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn proxy_from_the_environment_in_either_case_and_the_flag() {
    let world = minibrowse::demo::DemoWorld::start(minibrowse::demo::DemoOptions {
        proxy_port: Some(0),
        ..Default::default()
    })
    .expect("the demo world starts");
    let proxy = format!("http://{}", world.proxy_addr.expect("a proxy"));
    let dns = world.dns_addr.to_string();
    let url = world.url("/text.txt");
    let args = ["--trace", "--no-explain", "--dns-server", &dns, &url];
    for var in ["http_proxy", "HTTP_PROXY"] {
        let output = minibrowse_env(&args, &[(var, &proxy)]);
        assert!(output.status.success(), "{}", stderr(&output));
        let out = stdout(&output);
        assert!(out.contains("PROXY"), "{var}: {out}");
        assert!(out.contains(&format!("proxy from {var}")), "{out}");
        assert!(out.contains("via: 1.1 minibrowse-demo-proxy"), "{out}");
    }
    // no_proxy sends the name direct; --proxy wins over the environment.
    let output = minibrowse_env(
        &args,
        &[("http_proxy", &proxy), ("no_proxy", "www.minibrowse.test")],
    );
    assert!(!stdout(&output).contains("PROXY"));
    let output = minibrowse_env(
        &[
            "--proxy",
            &proxy,
            "--trace",
            "--no-explain",
            "--dns-server",
            &dns,
            &url,
        ],
        &[("http_proxy", "http://127.0.0.1:9")],
    );
    assert!(
        stdout(&output).contains("proxy from --proxy"),
        "{}",
        stdout(&output)
    );
    // A proxy URL minibrowse cannot use is a usage error.
    let output = minibrowse(&["--proxy", "ftp://x", "--dump", &url]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--proxy: the ftp: scheme is not a proxy kind"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn runaway_nesting_is_shown_whole_and_exits_0() {
    let path = std::env::temp_dir().join(format!("minibrowse-deep-{}.html", std::process::id()));
    let page = format!("<p>before</p>{}after", "<div>".repeat(100_000));
    std::fs::write(&path, page).expect("write the page");
    let output = minibrowse(&["--dump", path.to_str().unwrap_or_default()]);
    let traced = minibrowse(&["--trace", "--no-explain", path.to_str().unwrap_or_default()]);
    let _ = std::fs::remove_file(&path);
    // Nested no deeper than 512, as Chromium does: all of it is shown, and nothing failed.
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("before"), "{}", stdout(&output));
    assert!(stdout(&output).contains("after"));
    assert_eq!(stderr(&output), "");
    assert!(
        stdout(&traced).contains("99490 elements kept at depth 512"),
        "{}",
        stdout(&traced)
    );
}

/// A write error on stdout is reported with a non-zero status (a closed pipe stays quiet).
#[test]
fn output_to_a_full_disk_is_an_error() {
    let page = format!("{}/fixtures/site/index.html", env!("CARGO_MANIFEST_DIR"));
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let output = Command::new(env!("CARGO_BIN_EXE_minibrowse"))
        .args(["--dump", &page])
        .stdout(full)
        .output()
        .expect("minibrowse runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("output: cannot write to stdout"),
        "{}",
        stderr(&output)
    );
}

/// A FIFO is refused at once, as a page (`file:`) and as the HAR's destination, instead of
/// waiting for a writer or a reader that never comes.
#[test]
fn fifos_are_refused_instead_of_waited_for() {
    let dir = std::env::temp_dir().join(format!("minibrowse-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let fifo = dir.join("pipe");
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let fifo = fifo.to_string_lossy().into_owned();
    let page = format!("{}/fixtures/site/index.html", env!("CARGO_MANIFEST_DIR"));
    let as_page = common::run_binary(&["--dump", &fifo], std::time::Duration::from_secs(10));
    assert_eq!(as_page.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&as_page.stderr).contains("not a regular file"));
    let as_har = common::run_binary(
        &["--dump", "--har", &fifo, &page],
        std::time::Duration::from_secs(10),
    );
    assert_eq!(as_har.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&as_har.stderr).contains("a FIFO that nobody reads"));
    // A local page whose stylesheet is a FIFO: the sheet is skipped, the page shown.
    let styled = dir.join("styled.html");
    std::fs::write(
        &styled,
        "<link rel=stylesheet href=pipe><p>shown without its sheet</p>",
    )
    .expect("write the page");
    let with_sheet = common::run_binary(
        &["--dump", &styled.to_string_lossy()],
        std::time::Duration::from_secs(10),
    );
    assert_eq!(with_sheet.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&with_sheet.stdout).contains("shown without its sheet"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The completion script and the man page come from the clap definitions: the script is
/// valid bash and completes the subcommands, the page names every option.
#[test]
fn completions_and_man_page_are_generated() {
    let script = minibrowse(&["completions", "bash"]);
    assert!(script.status.success(), "{}", stderr(&script));
    let path = std::env::temp_dir().join(format!("minibrowse-{}.bash", std::process::id()));
    std::fs::write(&path, &script.stdout).expect("write the script");
    let checked = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .status()
        .expect("bash");
    let _ = std::fs::remove_file(&path);
    assert!(checked.success(), "bash -n refused the completion script");
    let text = stdout(&script);
    for word in ["serve", "demo", "chat", "--dump", "--dns-server"] {
        assert!(text.contains(word), "no {word} in the completions");
    }
    let man = minibrowse(&["man"]);
    assert!(man.status.success());
    let page = stdout(&man);
    assert!(
        page.starts_with(".ie") || page.contains(".TH minibrowse"),
        "{page}"
    );
    for option in ["trace", "dump", "har", "timeout"] {
        assert!(page.contains(option), "no --{option} in the man page");
    }
}

/// A password in the URL never reaches the trace or the HAR, and the HAR leaves cookies and
/// credentials out unless `--har-sensitive` asks for them.
#[test]
fn passwords_are_redacted_and_the_har_is_sanitized() {
    let world = world();
    let dns = world.dns_addr.to_string();
    let url = world
        .url("/cookie-check")
        .replace("http://", "http://ann:s3cret@");
    let dir = std::env::temp_dir().join(format!("minibrowse-har-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    let plain = dir.join("plain.har").to_string_lossy().into_owned();
    let sensitive = dir.join("sensitive.har").to_string_lossy().into_owned();
    let output = minibrowse(&["--trace", "--dns-server", &dns, "--har", &plain, &url]);
    assert!(output.status.success(), "{}", stderr(&output));
    let trace = stdout(&output);
    assert!(!trace.contains("s3cret"), "{trace}");
    assert!(trace.contains("ann:***@"), "{trace}");
    assert!(trace.contains("authorization: Basic ***"), "{trace}");
    let har = std::fs::read_to_string(&plain).expect("the HAR");
    assert!(
        !har.contains("s3cret") && !har.contains("YW5uOnMzY3JldA"),
        "{har}"
    );
    assert!(
        !har.to_ascii_lowercase().contains("\"set-cookie\""),
        "{har}"
    );
    assert!(har.contains("sanitized"));
    let output = minibrowse(&[
        "--dump",
        "--dns-server",
        &dns,
        "--har",
        &sensitive,
        "--har-sensitive",
        &url,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let har = std::fs::read_to_string(&sensitive).expect("the HAR");
    assert!(har.to_ascii_lowercase().contains("\"set-cookie\""), "{har}");
    assert!(!har.contains("s3cret"), "the password is never kept");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A request that cannot be written fails in the step that it is, not in DNS: a URL too long
/// for a request line, a header value with a control character.
#[test]
fn unwritable_requests_name_their_own_step() {
    let world = world();
    let dns = world.dns_addr.to_string();
    let long = format!("{}{}", world.url("/"), "a".repeat(70_000));
    let output = minibrowse(&["--dump", "--dns-server", &dns, &long]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("minibrowse: url: the URL is too long"),
        "{}",
        stderr(&output)
    );
    let output = minibrowse(&["--dump", "-H", "X-A: a\u{1}b", &world.url("/")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("is not a valid HTTP header"));
}

/// A server that records every request it gets (head and body) and answers by path:
/// `/r301`, `/r302`, `/r303`, `/r307`, `/r308` redirect to `/end`, which answers 200.
fn recording_server() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            // The head, then as many body bytes as Content-Length says.
            let body_at = loop {
                let Ok(n) = stream.read(&mut buf) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                data.extend_from_slice(&buf[..n]);
                if let Some(p) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(p + 4);
                }
            };
            let Some(body_at) = body_at else { continue };
            let head = String::from_utf8_lossy(&data[..body_at]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while data.len() < body_at + length {
                let Ok(n) = stream.read(&mut buf) else { break };
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
            }
            let request = String::from_utf8_lossy(&data).into_owned();
            let path = request.split(' ').nth(1).unwrap_or("/").to_string();
            log.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(request);
            let answer = match path.strip_prefix("/r") {
                Some(code) => format!("HTTP/1.1 {code} Moved\r\nLocation: /end\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                None => "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndone".to_string(),
            };
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (port, seen)
}

/// `--data` and `-X`, as curl users expect: the exact bytes on the wire, and after a
/// redirect the standard's method rules.
#[test]
fn data_and_method_send_the_body_and_redirects_keep_the_method_rules() {
    let (port, seen) = recording_server();
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let taken = || {
        std::mem::take(
            &mut *seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    };
    let output = minibrowse(&["--dump", "--data", "a=1&b=two words", &url("/form")]);
    assert!(output.status.success(), "{}", stderr(&output));
    let requests = taken();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].starts_with("POST /form HTTP/1.1\r\n"),
        "{}",
        requests[0]
    );
    assert!(requests[0].contains("content-type: application/x-www-form-urlencoded\r\n"));
    assert!(requests[0].contains("content-length: 15\r\n"));
    assert!(
        requests[0].ends_with("\r\n\r\na=1&b=two words"),
        "{}",
        requests[0]
    );

    // 303 and 302 turn the POST into a GET without its body; 307 and 308 repeat it.
    for (status, method, body) in [
        ("303", "GET", false),
        ("302", "GET", false),
        ("301", "GET", false),
        ("307", "POST", true),
        ("308", "POST", true),
    ] {
        let output = minibrowse(&["--trace", "--data", "x=1", &url(&format!("/r{status}"))]);
        assert!(output.status.success(), "{status}: {}", stderr(&output));
        let requests = taken();
        assert_eq!(requests.len(), 2, "{status}: {requests:?}");
        assert!(
            requests[1].starts_with(&format!("{method} /end ")),
            "{status}: {}",
            requests[1]
        );
        assert_eq!(
            requests[1].ends_with("\r\n\r\nx=1"),
            body,
            "{status}: {}",
            requests[1]
        );
        assert!(
            stdout(&output).contains(&format!("method: POST → {method}")) || method == "POST",
            "{status}: the trace says which rule applied\n{}",
            stdout(&output)
        );
    }

    // -X with a JSON body from a file, and a body type of one's own.
    let file = std::env::temp_dir().join(format!("minibrowse-data-{}.json", std::process::id()));
    std::fs::write(&file, br#"{"k":"v"}"#).expect("write");
    let at = format!("@{}", file.display());
    let output = minibrowse(&[
        "--dump",
        "-X",
        "put",
        "-H",
        "Content-Type: application/json",
        "--data",
        &at,
        &url("/item"),
    ]);
    let _ = std::fs::remove_file(&file);
    assert!(output.status.success(), "{}", stderr(&output));
    let requests = taken();
    assert!(
        requests[0].starts_with("PUT /item HTTP/1.1\r\n"),
        "{}",
        requests[0]
    );
    assert_eq!(
        requests[0].matches("content-type:").count(),
        1,
        "{}",
        requests[0]
    );
    assert!(requests[0].contains("content-type: application/json\r\n"));
    assert!(requests[0].ends_with(r#"{"k":"v"}"#));

    // A method nobody sends, and a HEAD with a body: usage errors.
    for args in [vec!["-X", "BREW"], vec!["-X", "HEAD", "--data", "x"]] {
        let mut args = args.clone();
        let target = url("/");
        args.extend(["--dump", &target]);
        let output = minibrowse(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}
