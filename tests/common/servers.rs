//! Third-party servers for the tests (nginx, dnsmasq, tinyproxy): found on the machine or
//! skipped (failed when `MINIBROWSE_REQUIRE_INTEROP` is set, as CI does), started on free
//! loopback ports in temp dirs of their own, killed when dropped.

use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Longest wait for a server to come up, or for the CLI to finish.
pub const DEADLINE: Duration = Duration::from_secs(10);
/// Start attempts, each on a new port: another process may take a port between the probe
/// that found it free and the server's bind.
pub const START_ATTEMPTS: u32 = 3;

// ---------------------------------------------------------------------------------------
// Gating

/// Whether a missing server fails the test instead of skipping it.
pub fn interop_required() -> bool {
    std::env::var("MINIBROWSE_REQUIRE_INTEROP").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The server binary, looked for on PATH and in the sbin folders (Debian puts both servers
/// in /usr/sbin, which a non-root PATH may lack).
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The binary, or None after printing why the test is skipped.
pub fn binary_or_skip(name: &str) -> Option<PathBuf> {
    if let Some(path) = find_binary(name) {
        return Some(path);
    }
    if interop_required() {
        panic!(
            "{name} is not installed, and MINIBROWSE_REQUIRE_INTEROP is set so the interop \
             tests may not be skipped: run scripts/install-test-deps.sh"
        );
    }
    println!("skipped: {name} not installed (run scripts/install-test-deps.sh)");
    None
}

// ---------------------------------------------------------------------------------------
// Temp dirs, ports, processes

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "minibrowse-interop-{label}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_tcp_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// A port on 127.0.0.1 free for both UDP and TCP (a DNS server listens on both).
pub fn free_udp_tcp_port() -> u16 {
    for _ in 0..20 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind udp 127.0.0.1:0");
        let port = udp.local_addr().expect("local addr").port();
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("found no port free for both UDP and TCP on 127.0.0.1");
}

/// A loopback address where nothing answers: the DNS server of loads that must not need one.
pub fn dead_dns_server() -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, free_udp_tcp_port()))
}

/// A running server process: killed, reaped and its temp dir removed on drop.
pub struct Server {
    pub name: &'static str,
    pub child: Child,
    pub log: PathBuf,
    pub addr: SocketAddr,
    /// Dropped after the process is killed (fields drop after `Drop::drop`).
    pub dir: TempDir,
}

impl Server {
    /// Spawns `command` with stdout and stderr going to `log` in `dir`.
    pub fn spawn(
        name: &'static str,
        mut command: Command,
        dir: TempDir,
        addr: SocketAddr,
    ) -> Result<Server, String> {
        let log = dir.path().join(format!("{name}.out"));
        let out =
            File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Server {
            name,
            child,
            log,
            addr,
            dir,
        })
    }

    /// What the process printed, plus any log files in its temp dir.
    pub fn logs(&self) -> String {
        let mut text = format!("--- {} output ---\n{}", self.name, read_lossy(&self.log));
        let error_log = self.dir.path().join("error.log");
        if error_log.exists() {
            text.push_str(&format!("--- error.log ---\n{}", read_lossy(&error_log)));
        }
        text
    }

    /// Polls `ready` until it says yes, the process exits, or the deadline passes.
    pub fn wait_ready(&mut self, mut ready: impl FnMut(SocketAddr) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}) before it was ready on {}\n{}",
                    self.name,
                    self.addr,
                    self.logs()
                ));
            }
            if ready(self.addr) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} was not ready on {} within {} s\n{}",
                    self.name,
                    self.addr,
                    DEADLINE.as_secs(),
                    self.logs()
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn read_lossy(path: &Path) -> String {
    let mut bytes = Vec::new();
    let _ = File::open(path).and_then(|mut f| f.read_to_end(&mut bytes));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Runs `start` up to [`START_ATTEMPTS`] times (each picks a new port).
pub fn start_with_retries(what: &str, mut start: impl FnMut() -> Result<Server, String>) -> Server {
    let mut errors = Vec::new();
    for _ in 0..START_ATTEMPTS {
        match start() {
            Ok(server) => return server,
            Err(e) => errors.push(e),
        }
    }
    panic!("{what} did not start:\n{}", errors.join("\n\n"));
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("read_dir {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}
