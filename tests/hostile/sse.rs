//! Event streams that misbehave: a line that never ends, events that never end, a stream
//! that comes one byte at a time, a flood of comments. Each is read by the real binary (as a
//! page, and by `chat --via sse`), which must keep its memory and its trace small and stop
//! when its time is up, with exit 0: an event stream has no end of its own.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{assert_within, run, server, Run};

/// How long a hostile stream goes on at most.
const HOLD: Duration = Duration::from_secs(60);
/// Memory a run may take while a stream floods it.
const SSE_MEMORY: u64 = 100 << 20;

/// Serves `path`'s misbehaving event stream until the client goes away.
pub fn serve_stream(stream: &mut TcpStream, path: &str) {
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
    if stream.write_all(head).is_err() {
        return;
    }
    let started = Instant::now();
    let (first, piece, every): (&[u8], Vec<u8>, Duration) = match path {
        // "data: xxxx…" with no line end, as fast as the client reads.
        "/sse/endless-line" => (b"data: ", vec![b'x'; 64 * 1024], Duration::ZERO),
        // Data lines, never a blank line: one event that never ends.
        "/sse/no-blank-line" | "/chat/events" => (
            b"",
            b"data: 0123456789abcdef\n".repeat(2048),
            Duration::ZERO,
        ),
        // A whole event, one byte every 20 ms.
        "/sse/trickle" => (b"", b"data: hello\n\n".to_vec(), Duration::from_millis(20)),
        // Comments, as fast as the client reads.
        _ => (b"", b": flood\n".repeat(8192), Duration::ZERO),
    };
    if stream.write_all(first).is_err() {
        return;
    }
    while started.elapsed() < HOLD {
        let sent = if every.is_zero() {
            stream.write_all(&piece)
        } else {
            piece.iter().try_for_each(|byte| {
                std::thread::sleep(every);
                stream.write_all(&[*byte])
            })
        };
        if sent.is_err() {
            return;
        }
    }
}

/// `--trace --timeout 2` of a hostile stream as a page.
fn read_page(path: &str) -> Run {
    let url = server().url(path);
    run(&["--trace", "--timeout", "2", &url])
}

/// Ends in little memory with a short trace: after its time, normally (exit 0), or, for a
/// stream that floods, sooner, at `--max-body`, said in one line (exit 1).
fn assert_bounded(run: &Run) {
    match run.code {
        Some(0) => assert!(
            run.elapsed >= Duration::from_millis(1900),
            "read until the time was up: {:?}",
            run.elapsed
        ),
        Some(1) => assert!(
            run.stderr.lines().count() == 1 && run.stderr.contains("(raise it with --max-body)"),
            "stopped at the body limit, said once:\n{}",
            run.stderr
        ),
        other => panic!("exit status {other:?}\n{}", run.stderr),
    }
    assert_within(run, Duration::from_secs(10));
    assert!(
        run.max_rss < SSE_MEMORY,
        "peak RSS {} MB\n{}",
        run.max_rss >> 20,
        run.stderr
    );
    let steps = run.stdout.matches(" SSE ").count();
    assert!(steps <= 1001, "{steps} SSE steps in the trace");
}

#[test]
fn an_endless_line_is_dropped_as_it_comes() {
    let run = read_page("/sse/endless-line");
    assert_bounded(&run);
    assert!(
        run.stdout.contains("skipped") && run.stdout.contains("line of more than"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_event_that_never_ends_is_dropped_at_its_limit() {
    let run = read_page("/sse/no-blank-line");
    assert_bounded(&run);
    assert!(
        run.stdout.contains("more than 65536 bytes of data"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("← message"), "nothing dispatched");
}

#[test]
fn a_one_byte_trickle_costs_only_the_time() {
    let run = read_page("/sse/trickle");
    assert_bounded(&run);
    // 13 bytes every 260 ms: a few whole events in two seconds, each when its blank line came.
    let events = run.stdout.matches("← message: hello").count();
    assert!((3..=9).contains(&events), "{events} events\n{}", run.stdout);
}

#[test]
fn a_comment_flood_is_traced_up_to_its_cap() {
    let run = read_page("/sse/comments");
    assert_bounded(&run);
    assert!(
        run.stdout.contains("the rest are read, not traced"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_sse_chat_against_an_endless_event_leaves_after_its_wait() {
    let page = server().url("/");
    let run = run(&[
        "chat",
        "--via",
        "sse",
        "--wait",
        "2",
        "--timeout",
        "2",
        "--trace",
        &page,
    ]);
    assert_bounded(&run);
    assert!(
        run.stdout.contains("more than 65536 bytes of data"),
        "{}",
        run.stdout
    );
}
