//! `minibrowse serve` as a child process: started on free ports (port 0 for every server;
//! the banner says which it got), its console read line by line, its stdin there to type
//! the teacher's commands, stopped with SIGINT (or killed) on drop.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// Where the child's stdout goes.
pub enum Stdout {
    /// Read line by line by the test (the banner, then the console).
    Read,
    /// A pipe the test reads only the first line of, then closes (`serve | head -1`).
    HeadOne,
    /// A pipe nobody reads (`serve | sleep 100`).
    Blocked,
    /// `/dev/full`: every write fails.
    Full,
}

pub struct ServeChild {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    lines: Option<Receiver<String>>,
    /// Held open and unread, for [`Stdout::Blocked`].
    _blocked: Option<std::process::ChildStdout>,
    pub web: SocketAddr,
    pub https: SocketAddr,
    pub backend: SocketAddr,
    pub dns: SocketAddr,
    pub proxy: SocketAddr,
    pub ca: Option<std::path::PathBuf>,
    /// The banner, as far as it was read.
    pub banner: Vec<String>,
}

/// The address after `label` in a banner line such as `  web server:  http://127.0.0.2:41234`.
fn address_in(line: &str, label: &str) -> Option<SocketAddr> {
    let rest = line.trim_start().strip_prefix(label)?.trim_start();
    let rest = rest
        .strip_prefix("http://")
        .or_else(|| rest.strip_prefix("https://"))
        .unwrap_or(rest);
    rest.split_whitespace().next()?.parse().ok()
}

impl ServeChild {
    /// `minibrowse serve --listen LISTEN` with every port 0, plus `extra` arguments.
    pub fn start(listen: &str, extra: &[&str], stdout: Stdout) -> ServeChild {
        ServeChild::spawn(listen, &Ports::any(), extra, stdout)
    }

    fn spawn(listen: &str, ports: &Ports, extra: &[&str], stdout: Stdout) -> ServeChild {
        let ports = [
            ("--http-port", ports.web),
            ("--https-port", ports.https),
            ("--dns-port", ports.dns),
            ("--backend-port", ports.backend),
            ("--proxy-port", ports.proxy),
        ];
        let mut args: Vec<String> = vec!["serve".into(), "--listen".into(), listen.into()];
        for (option, port) in ports {
            args.push(option.into());
            args.push(port.to_string());
        }
        args.extend(extra.iter().map(|a| a.to_string()));
        let out = match stdout {
            Stdout::Full => Stdio::from(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .expect("/dev/full"),
            ),
            _ => Stdio::piped(),
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_minibrowse"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(Stdio::piped())
            .spawn()
            .expect("minibrowse serve starts");
        let stdin = child.stdin.take();
        // The addresses come from the banner; with no readable stdout the test gives the
        // ports itself (`start_on`).
        let (lines, blocked, banner) = match stdout {
            Stdout::Read | Stdout::HeadOne => {
                let pipe = child.stdout.take().expect("stdout");
                let (tx, rx) = channel();
                let head_one = matches!(stdout, Stdout::HeadOne);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(pipe);
                    let mut line = String::new();
                    while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                        if tx.send(line.trim_end().to_string()).is_err() {
                            return;
                        }
                        line.clear();
                        if head_one {
                            return; // dropping the reader closes the pipe, as `head -1` does
                        }
                    }
                });
                (Some(rx), None, Vec::new())
            }
            Stdout::Blocked => (None, child.stdout.take(), Vec::new()),
            Stdout::Full => (None, None, Vec::new()),
        };
        let mut serve = ServeChild {
            child,
            stdin,
            lines,
            _blocked: blocked,
            web: SocketAddr::from(([0, 0, 0, 0], 0)),
            https: SocketAddr::from(([0, 0, 0, 0], 0)),
            backend: SocketAddr::from(([0, 0, 0, 0], 0)),
            dns: SocketAddr::from(([0, 0, 0, 0], 0)),
            proxy: SocketAddr::from(([0, 0, 0, 0], 0)),
            ca: None,
            banner,
        };
        serve.read_banner();
        serve
    }

    /// Reads the banner up to its last line and takes the addresses from it. Without a
    /// readable stdout the test must give the ports itself (see [`ServeChild::start_on`]).
    fn read_banner(&mut self) {
        let Some(lines) = &self.lines else {
            return;
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let line = match lines.recv_timeout(Duration::from_millis(100)) {
                Ok(line) => line,
                // The reader stopped (`head -1`): the rest of the banner is not for us.
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!("serve ended early ({status}): {}", self.stderr_now());
                    }
                    continue;
                }
            };
            let found = |label| address_in(&line, label);
            if let Some(a) = found("web server:") {
                self.web = a;
            }
            if let Some(a) = found("backend:") {
                self.backend = a;
            }
            if let Some(a) = found("HTTPS site:") {
                self.https = a;
            }
            if let Some(a) = found("DNS server:") {
                self.dns = a;
            }
            if let Some(a) = found("proxy:") {
                self.proxy = a;
            }
            if let Some(path) = line.trim_start().strip_prefix("demo CA:") {
                self.ca = path.split_whitespace().next().map(Into::into);
            }
            let last = line.starts_with("One line per request");
            self.banner.push(line);
            if last {
                return;
            }
        }
    }

    /// `serve` with fixed ports (for a stdout the test cannot read the banner from).
    pub fn start_on(listen: &str, ports: &Ports, stdout: Stdout) -> ServeChild {
        let mut serve = ServeChild::spawn(listen, ports, &[], stdout);
        let ip: std::net::IpAddr = listen.parse().expect("an address");
        serve.web = SocketAddr::new(ip, ports.web);
        serve.https = SocketAddr::new(ip, ports.https);
        serve.backend = SocketAddr::new(ip, ports.backend);
        serve.dns = SocketAddr::new(ip, ports.dns);
        serve.proxy = SocketAddr::new(ip, ports.proxy);
        serve.wait_until_listening();
        serve
    }

    /// Waits until the web server accepts connections (20 s at most).
    pub fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect_timeout(&self.web, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("serve ended early ({status}): {}", self.stderr_now());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("serve did not listen on {} within 20 s", self.web);
    }

    /// The next console line that `wanted` accepts, within `wait`.
    pub fn console_line(&self, wait: Duration, wanted: impl Fn(&str) -> bool) -> Option<String> {
        let lines = self.lines.as_ref()?;
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if let Ok(line) = lines.recv_timeout(Duration::from_millis(50)) {
                if wanted(&line) {
                    return Some(line);
                }
            }
        }
        None
    }

    /// Console lines as they come, until `done` says enough (or `wait` passes).
    pub fn console_until(&self, wait: Duration, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        let Some(lines) = self.lines.as_ref() else {
            return seen;
        };
        let deadline = Instant::now() + wait;
        while !done(&seen) && Instant::now() < deadline {
            if let Ok(line) = lines.recv_timeout(Duration::from_millis(50)) {
                seen.push(line);
            }
        }
        seen
    }

    /// Types a line into serve's terminal.
    pub fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .expect("serve reads its stdin");
        let _ = stdin.flush();
    }

    /// Whether serve is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The child's resident memory now, in bytes (Linux: /proc).
    pub fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    }

    /// Stops serve with SIGINT (as Ctrl-C does); returns its exit status and its stderr.
    pub fn interrupt(mut self) -> (Option<i32>, String) {
        // SAFETY: kill only sends a signal to the child we started.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                break status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (status, self.stderr_now())
    }

    fn stderr_now(&mut self) -> String {
        use std::io::Read;
        let mut text = String::new();
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            if let Some(mut err) = self.child.stderr.take() {
                let _ = err.read_to_string(&mut text);
            }
        }
        text
    }
}

impl Drop for ServeChild {
    /// Stops serve as Ctrl-C does (so it removes its CA directory), killing it only if it
    /// has not ended within 3 s.
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        // SAFETY: kill only sends a signal to the child we started.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fixed ports for a serve whose banner cannot be read.
pub struct Ports {
    pub web: u16,
    pub https: u16,
    pub backend: u16,
    pub dns: u16,
    pub proxy: u16,
}

impl Ports {
    /// Port 0 everywhere: any free port, as the banner then says.
    pub fn any() -> Ports {
        Ports {
            web: 0,
            https: 0,
            backend: 0,
            dns: 0,
            proxy: 0,
        }
    }

    /// Ports free on `ip` just now (TCP, and UDP for the DNS port). Another program could
    /// take one before serve binds it; then serve fails and says so.
    pub fn free(ip: std::net::IpAddr) -> Ports {
        let tcp = || {
            std::net::TcpListener::bind((ip, 0))
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("a free port")
        };
        let dns = loop {
            let udp = std::net::UdpSocket::bind((ip, 0)).expect("udp");
            let port = udp.local_addr().expect("addr").port();
            if std::net::TcpListener::bind((ip, port)).is_ok() {
                break port;
            }
        };
        Ports {
            web: tcp(),
            https: tcp(),
            backend: tcp(),
            dns,
            proxy: tcp(),
        }
    }
}

/// Runs minibrowse as a student would (60 s at most): whether it succeeded, its stdout and
/// its stderr.
pub fn student(args: &[&str]) -> (bool, String, String) {
    let run = super::run_binary(args, Duration::from_secs(60));
    (
        run.status.success(),
        String::from_utf8_lossy(&run.stdout).into_owned(),
        String::from_utf8_lossy(&run.stderr).into_owned(),
    )
}
