//! End to end in a real terminal: tmux runs `minibrowse demo --step`, send-keys drives it,
//! capture-pane reads the screen. Skipped when tmux is missing, unless
//! MINIBROWSE_REQUIRE_INTEROP=1 (as `.ci/run` sets, after installing tmux).

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, command: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            if std::env::var_os("MINIBROWSE_REQUIRE_INTEROP").is_some() {
                panic!("tmux is required (run scripts/install-test-deps.sh)");
            }
            eprintln!("skipped: tmux not installed (run scripts/install-test-deps.sh)");
            return None;
        }
        let tmux = Tmux {
            socket: format!("minibrowse-{name}-{}", std::process::id()),
        };
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            "100",
            "-y",
            "30",
            command,
        ]);
        tmux.run(&["set-option", "-t", "e2e", "remain-on-exit", "on"]);
        Some(tmux)
    }

    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", "e2e", key]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "e2e", "-l", text]);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "e2e"])
    }

    /// Waits until the screen shows `text` (10 s at most).
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

#[test]
fn step_through_a_load_inspect_follow_open_back_quit() {
    let command = format!(
        "NO_COLOR=1 {} demo --step",
        env!("CARGO_BIN_EXE_minibrowse")
    );
    let Some(tmux) = Tmux::start("e2e", &command) else {
        return;
    };
    tmux.wait_for("next: DNS lookup of www.minibrowse.test");
    tmux.keys(&["Space"]);
    tmux.wait_for("next: TCP connect to 127.0.0.1:");
    tmux.keys(&["Space"]);
    tmux.wait_for("next: send GET");
    tmux.keys(&["Space"]);
    tmux.wait_for("next: receive the body");
    // c: let the rest run without stopping.
    tmux.keys(&["c"]);
    // The requests can all be listed a frame before the laid-out page arrives.
    tmux.wait_for("Network: 3 requests");
    let screen = tmux.wait_for("Welcome to the minibrowse demo world");
    assert!(screen.contains("Network: 3 requests"), "{screen}");
    let port = screen
        .split("www.minibrowse.test:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("the address bar shows the port")
        .to_string();

    // The request log: Tab to it, Enter opens the detail of request #1.
    tmux.keys(&["Tab", "Enter"]);
    tmux.wait_for("Request #1");
    // The capture may catch a frame half drawn: wait for the detail's last section.
    let detail = tmux.wait_for("DNS answer used for www.minibrowse.test");
    assert!(detail.contains("GET / HTTP/1.1"), "{detail}");
    assert!(
        detail.contains("DNS answer used for www.minibrowse.test"),
        "{detail}"
    );
    // A lone ESC is told from the start of an escape sequence by the pause after it.
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(400));
    tmux.keys(&["BTab"]);

    // Follow link 1 by its number: the lesson's first stop.
    tmux.keys(&["1", "Enter"]);
    tmux.wait_for("Page: Stop 1 of 10: DNS");

    // o: open a URL.
    tmux.keys(&["o"]);
    tmux.wait_for("Open URL");
    tmux.type_text(&format!("http://www.minibrowse.test:{port}/text.txt"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("Not everything on the web is HTML");

    // b: back.
    tmux.keys(&["b"]);
    tmux.wait_for("Page: Stop 1 of 10: DNS");

    // q: quit, and the terminal is itself again.
    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !tmux
        .run(&["list-panes", "-t", "e2e", "-F", "#{pane_dead}"])
        .contains('1')
    {
        assert!(Instant::now() < deadline, "minibrowse did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = tmux.screen();
    assert!(
        !after.contains("┌ Page"),
        "the alternate screen was left behind:\n{after}"
    );
}

#[test]
fn dump_on_a_terminal_fits_its_width() {
    // No --width: on a 100-column terminal the page is laid out for 100 columns, not 80.
    let command = format!(
        "{} --dump --no-list demo /layout.html",
        env!("CARGO_BIN_EXE_minibrowse")
    );
    let Some(tmux) = Tmux::start("width", &command) else {
        return;
    };
    tmux.wait_for("Back to the top");
    // The whole output, scrolled-off lines included.
    let screen = tmux.run(&["capture-pane", "-p", "-S", "-200", "-t", "e2e"]);
    let widest = screen.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(
        (81..=100).contains(&widest),
        "widest line {widest}:\n{screen}"
    );
}

#[test]
fn closing_the_terminal_ends_the_process() {
    // When the terminal goes away (tmux killed, a window closed) minibrowse must not stay
    // behind: crossterm's reader spins once its terminal is gone.
    let command = format!("{} demo", env!("CARGO_BIN_EXE_minibrowse"));
    let Some(tmux) = Tmux::start("hangup", &command) else {
        return;
    };
    tmux.wait_for("Welcome to the minibrowse demo world");
    let pane = tmux.run(&["display-message", "-p", "-t", "e2e", "#{pane_pid}"]);
    let pane: u32 = pane.trim().parse().expect("tmux names the pane's process");
    // The pane runs `sh -c COMMAND` or the command itself: find minibrowse.
    let children = Command::new("pgrep")
        .args(["-P", &pane.to_string()])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    let pid = children
        .split_whitespace()
        .next()
        .and_then(|p| p.parse::<u32>().ok())
        .unwrap_or(pane);
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    tmux.run(&["kill-server"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.split_whitespace().nth(2) == Some("Z") {
            break; // exited, not yet reaped by its parent
        }
        assert!(
            Instant::now() < deadline,
            "minibrowse (pid {pid}) is still running 5 s after its terminal closed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sign_in_with_the_login_form_in_a_real_terminal() {
    let command = format!(
        "NO_COLOR=1 {} demo /login",
        env!("CARGO_BIN_EXE_minibrowse")
    );
    let Some(tmux) = Tmux::start("form", &command) else {
        return;
    };
    // The fields are numbered like links.
    tmux.wait_for("[1][____");
    tmux.keys(&["1", "Enter"]);
    tmux.wait_for("typing into field [1]");
    tmux.type_text("ada");
    tmux.wait_for("[1][ada");
    // Esc stops typing (a lone ESC needs the pause after it).
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(400));
    tmux.keys(&["2", "Enter"]);
    tmux.wait_for("typing into field [2]");
    tmux.type_text("demo");
    // A password field shows no characters.
    let screen = tmux.wait_for("[2][****");
    assert!(!screen.contains("[2][demo"), "{screen}");
    // Enter sends the form: a POST, a 303 and the account page, known by its cookie.
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Signed in as ada");
    assert!(screen.contains("1 303 doc   login"), "{screen}");
    tmux.keys(&["q"]);
}
