//! `serve`: only the demo world's servers, for a teacher's machine, how to reach them, and
//! then the server's side: one console line per request each server handled.
//!
//! stdout carries the banner and the console lines, written by one thread of their own
//! (`demo::console`): a paused terminal, `serve | head -1` or `serve > /dev/full` stop only
//! the writing, never a server. The warnings and the answers to the teacher's typed
//! commands (`backend off`, `backend on`) go to stderr.

use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use minibrowse::demo::console::{spawn_writer, CONSOLE_LINES};
use minibrowse::demo::{Console, DemoOptions, DemoWorld, Server, StartError};

use super::args::ServeArgs;
use super::error::{failed, CliError};

pub fn serve(args: ServeArgs) -> Result<ExitCode, CliError> {
    // Caught from the start: a Ctrl-C during start-up still removes the CA's directory.
    let stop = stop_on_signals()?;
    let listen = IpAddr::V4(args.listen);
    if listen.is_unspecified() {
        return Err(CliError::Usage(
            "--listen 0.0.0.0 cannot be told to students: the demo DNS answers the listening address, so give this computer's address on the class network (see `ip addr`)".into(),
        ));
    }
    let (console, lines) = Console::bounded(CONSOLE_LINES);
    let world = DemoWorld::start(DemoOptions {
        listen,
        http_port: args.http_port,
        https_port: args.https_port,
        dns_port: args.dns_port,
        backend_port: args.backend_port,
        backend_stopped: args.no_backend,
        proxy_port: Some(args.proxy_port),
        latency: Duration::from_millis(args.latency),
        console,
        ..DemoOptions::default()
    })
    .map_err(|e| start_failed(&e, listen))?;
    // The demo CA exists only in this process: a private file for `--cacert`, gone at exit.
    let ca = RunDir::create().and_then(|dir| {
        dir.write_private("demo-ca.pem", world.ca_pem.as_bytes())
            .map(|p| (dir, p))
    });
    if !listen.is_loopback() {
        warn(&exposure_warning(&world));
    }
    let mut out = std::io::stdout().lock();
    // A closed or full stdout is the console's business below; the banner does not care.
    let _ = out.write_all(banner(&world, ca.as_ref().ok().map(|(_, p)| p.as_path())).as_bytes());
    let _ = out.flush();
    drop(out);
    if let Err(e) = &ca {
        warn(&format!(
            "the demo CA could not be written ({e}): HTTPS cannot be trusted with --cacert"
        ));
    }
    spawn_writer(lines, std::io::stdout()).map_err(|e| failed(format!("serve: {e}")))?;
    run_until_stopped(&world, &stop);
    drop(world);
    drop(ca);
    Ok(ExitCode::SUCCESS)
}

/// The option that sets each server's port.
fn port_option(server: Server) -> &'static str {
    match server {
        Server::Web => "--http-port",
        Server::Https => "--https-port",
        Server::Backend => "--backend-port",
        Server::Dns => "--dns-port",
        Server::Proxy => "--proxy-port",
    }
}

/// One line that says what to change.
fn start_failed(error: &StartError, listen: IpAddr) -> CliError {
    match error {
        StartError::Bind { server, addr, .. } if error.port_taken() => failed(format!(
            "serve: port {} on {} is taken (the {} server wants it): stop the program using it, or choose another port with {} N",
            addr.port(),
            addr.ip(),
            server.name(),
            port_option(*server)
        )),
        StartError::Bind { error: e, .. } if e.kind() == std::io::ErrorKind::AddrNotAvailable => {
            failed(format!(
                "serve: --listen {listen}: this computer has no such address (see `ip addr`)"
            ))
        }
        other => failed(format!("serve: {other}")),
    }
}

fn warn(message: &str) {
    let _ = writeln!(std::io::stderr(), "minibrowse: WARNING: {message}");
}

/// What a class's network can reach, said before anything else.
fn exposure_warning(world: &DemoWorld) -> String {
    let mut servers = vec![
        format!("web {}", world.http_addr.port()),
        format!("HTTPS {}", world.https_addr.port()),
        format!("backend {}", world.backend_addr.port()),
        format!("DNS {} (UDP and TCP)", world.dns_addr.port()),
    ];
    if let Some(proxy) = world.proxy_addr {
        servers.push(format!("proxy {}", proxy.port()));
    }
    format!(
        "serving on {}, not loopback: anyone on that network can reach these servers ({}), browse the demo site, use the proxy to reach them, and post in the chat. Stop with Ctrl-C when the lesson is over.",
        world.listen,
        servers.join(", ")
    )
}

fn banner(world: &DemoWorld, ca: Option<&Path>) -> String {
    let dns = world.dns_addr;
    let mut text = String::new();
    let mut line = |l: String| {
        text.push_str(&l);
        text.push('\n');
    };
    line("minibrowse demo world is running (Ctrl-C stops it)".into());
    line(format!(
        "  web server:  http://{}  (serves every *.minibrowse.test name)",
        world.http_addr
    ));
    line(format!(
        "  backend:     http://{}  (backend.minibrowse.test: the files the web server lacks{})",
        world.backend_addr,
        if world.backend_running() {
            ""
        } else {
            "; stopped"
        }
    ));
    line(format!(
        "  HTTPS site:  https://{}  (certificate for *.minibrowse.test)",
        world.https_addr
    ));
    line(format!(
        "  DNS server:  {dns} (UDP and TCP), answers {} for every minibrowse.test. name",
        world.listen
    ));
    if let Some(proxy) = world.proxy_addr {
        line(format!(
            "  proxy:       {proxy} (HTTP: http://{proxy}, SOCKS5: socks5h://{proxy})"
        ));
    }
    match ca {
        Some(path) => line(format!(
            "  demo CA:     {} (made at start, removed at exit; trust it with --cacert; students: {})",
            path.display(),
            world.url("/demo-ca.pem")
        )),
        None => line("  demo CA:     not written".into()),
    }
    line(String::new());
    line("From another terminal (or a student's computer):".into());
    line(format!(
        "  minibrowse --dns-server {dns} {}",
        world.home_url()
    ));
    line(format!(
        "  minibrowse --dns-server {dns} {}",
        world.url("/server.html")
    ));
    if let Some(path) = ca {
        line(format!(
            "  minibrowse --dns-server {dns} --cacert {} {}",
            path.display(),
            world.https_url("/")
        ));
    }
    if let Some(proxy) = world.proxy_addr {
        line(format!(
            "  minibrowse --dns-server {dns} --proxy http://{proxy} {}",
            world.home_url()
        ));
    }
    line(format!(
        "  minibrowse chat --dns-server {dns} --name alice {}",
        world.home_url()
    ));
    line(format!(
        "  dig @{} -p {} cdn.minibrowse.test",
        dns.ip(),
        dns.port()
    ));
    line(String::new());
    line(
        "Type `backend off` or `backend on` (then Enter) here to stop or start the backend.".into(),
    );
    line(
        "One line per request each server handles: server, client, request → what it did · status"
            .into(),
    );
    text
}

/// A flag raised by Ctrl-C (SIGINT), SIGTERM or SIGHUP.
fn stop_on_signals() -> Result<Arc<AtomicBool>, CliError> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| failed(format!("serve: cannot catch signals: {e}")))?;
    }
    Ok(stop)
}

/// Serves until `stop` is raised, meanwhile acting on the teacher's typed commands.
fn run_until_stopped(world: &DemoWorld, stop: &AtomicBool) {
    let commands = typed_commands();
    while !stop.load(Ordering::Relaxed) {
        match commands.recv_timeout(Duration::from_millis(100)) {
            Ok(command) => obey(world, command.trim()),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // stdin ended (no terminal, `< /dev/null`): keep serving until a signal.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(Duration::from_millis(100))
            }
        }
    }
    let _ = writeln!(std::io::stderr(), "minibrowse: serve stopped");
}

/// Lines typed on stdin, read on a thread of their own (a line is at most 1 KiB).
fn typed_commands() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::sync_channel(16);
    let _ = std::thread::Builder::new()
        .name("serve-commands".into())
        .spawn(move || {
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            let mut line = String::new();
            loop {
                line.clear();
                match std::io::Read::take(&mut input, 1024).read_line(&mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if tx.send(line.clone()).is_err() {
                            return;
                        }
                    }
                }
            }
        });
    rx
}

fn obey(world: &DemoWorld, command: &str) {
    let said = match command {
        "" => return,
        "backend off" | "backend stop" => {
            world.set_backend(false).map(|()| {
                format!("backend stopped: {} refuses connections, the web server answers 502 Bad Gateway for what it lacks", world.backend_addr)
            })
        }
        "backend on" | "backend start" => world
            .set_backend(true)
            .map(|()| format!("backend running again on {}", world.backend_addr)),
        other => Err(format!(
            "unknown command {:?}: type `backend off` or `backend on` (Ctrl-C stops everything)",
            minibrowse::text::escape_line(other)
        )),
    };
    let line = said.unwrap_or_else(|e| e);
    let _ = writeln!(std::io::stderr(), "minibrowse: {line}");
}

/// A directory made for this run only: a fresh name, created exclusively (never an
/// existing directory or a planted symlink), readable by its owner only; removed on drop.
struct RunDir {
    path: PathBuf,
}

impl RunDir {
    fn create() -> std::io::Result<RunDir> {
        use std::os::unix::fs::DirBuilderExt;
        let base = std::env::temp_dir();
        let mut last = None;
        for attempt in 0..16u32 {
            let name = minibrowse::random::bits(u64::from(attempt));
            let path = base.join(format!("minibrowse-serve-{name:016x}"));
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(RunDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no free name")))
    }

    /// Writes a new file (never an existing one) that only the owner can read.
    fn write_private(&self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.path.join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(bytes)?;
        Ok(path)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_names_every_exposed_server_and_port_and_the_chat() {
        let world = DemoWorld::start(DemoOptions {
            listen: IpAddr::from([127, 0, 0, 3]),
            proxy_port: Some(0),
            ..DemoOptions::default()
        })
        .expect("a world");
        let warning = exposure_warning(&world);
        eprintln!("{warning}");
        for port in [
            world.http_addr.port(),
            world.https_addr.port(),
            world.backend_addr.port(),
            world.dns_addr.port(),
        ] {
            assert!(warning.contains(&port.to_string()), "{warning}");
        }
        assert!(
            warning.contains("anyone on that network can reach"),
            "{warning}"
        );
        assert!(warning.contains("post in the chat"), "{warning}");
        assert!(
            warning.starts_with("serving on 127.0.0.3, not loopback"),
            "{warning}"
        );
    }
}
