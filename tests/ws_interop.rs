//! WebSocket interop both ways with a third-party implementation, Python's `websockets`:
//! our client against its server, and its client chatting on our demo server.
//! Skipped when the package is missing, unless MINIBROWSE_REQUIRE_INTEROP=1 (as `.ci/run`
//! sets, after installing it).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::options;
use minibrowse::chat::Message as ChatMessage;
use minibrowse::chat::{self, Via};
use minibrowse::demo::{DemoOptions, DemoWorld};
use minibrowse::page::Browser;
use minibrowse::trace::{Collector, Trace};
use std::sync::atomic::{AtomicBool, Ordering};

fn python_websockets() -> bool {
    let available = Command::new("python3")
        .args(["-c", "import websockets.asyncio.server"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        if std::env::var_os("MINIBROWSE_REQUIRE_INTEROP").is_some() {
            panic!("Python's websockets package is required (run scripts/install-test-deps.sh)");
        }
        eprintln!("skipped: Python's websockets package is not installed (run scripts/install-test-deps.sh)");
    }
    available
}

fn script(name: &str) -> String {
    format!("{}/tests/python/{name}", env!("CARGO_MANIFEST_DIR"))
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn our_client_talks_to_a_python_websockets_server() {
    if !python_websockets() {
        return;
    }
    let mut server = Command::new("python3")
        .args([script("echo_server.py").as_str(), "30"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let stdout = server.stdout.take().expect("stdout");
    let server = Killed(server);
    let mut port = String::new();
    BufReader::new(stdout)
        .read_line(&mut port)
        .expect("the server prints its port");
    let port = port.trim().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_minibrowse"))
        .args([
            "ws",
            "--send",
            "ping from rust",
            "--send",
            "second",
            "--wait",
            "1",
            &format!("ws://127.0.0.1:{port}/"),
        ])
        .output()
        .expect("minibrowse runs");
    drop(server);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "echo: ping from rust\necho: second\n"
    );
}

#[test]
fn a_python_websockets_client_chats_on_our_demo_server() {
    if !python_websockets() {
        return;
    }
    // Short holds: the poller notices it should leave within half a second.
    let world = Arc::new(
        DemoWorld::start(DemoOptions {
            chat_hold: Some(Duration::from_millis(500)),
            ..Default::default()
        })
        .expect("world"),
    );
    // Our poller listens while the Python client speaks, until told to leave.
    let listening = world.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let leave = stop.clone();
    let (_outbox, outbox) = std::sync::mpsc::channel();
    let poller = std::thread::spawn(move || {
        let browser = Browser::new(options(&listening)).expect("browser");
        let trace = Trace::new(Arc::new(Collector::default()));
        let page = url::Url::parse(&listening.home_url()).expect("url");
        let mut shown = Vec::new();
        let plan = chat::ChatPlan {
            via: Via::Poll,
            name: "rust".into(),
            send: vec![],
            wait: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        };
        let live = chat::Live {
            outbox,
            stop: leave,
        };
        chat::run(
            browser.client(),
            &page,
            &plan,
            &trace,
            &mut |m: &ChatMessage| shown.push(format!("{}: {}", m.name, m.text)),
            Some(live),
        )
        .expect("poller");
        shown
    });
    std::thread::sleep(Duration::from_millis(500));
    // The Python client reaches the server by address (Python asks the system DNS, not ours).
    let url = format!("ws://127.0.0.1:{}/chat/ws", world.http_addr.port());
    let output = Command::new("python3")
        .args([
            script("chat_client.py").as_str(),
            &url,
            "python",
            "hello from Python",
        ])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("python: hello from Python"));
    std::thread::sleep(Duration::from_millis(800));
    stop.store(true, Ordering::Relaxed);
    let shown = poller.join().expect("poller");
    assert_eq!(shown, vec!["python: hello from Python".to_string()]);
}
