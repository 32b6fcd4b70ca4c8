//! `serve`: only the demo world's servers, for a teacher's machine, and how to reach them.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use minibrowse::demo::{DemoOptions, DemoWorld};

use super::args::ServeArgs;
use super::error::{failed, CliError};

pub fn serve(args: ServeArgs) -> Result<ExitCode, CliError> {
    let options = DemoOptions {
        http_port: args.http_port,
        https_port: args.https_port,
        proxy_port: args.proxy_port,
        print_proxy_log: true,
        dns_port: args.dns_port,
        latency: Duration::from_millis(args.latency),
        ..DemoOptions::default()
    };
    let world = DemoWorld::start(options).map_err(|e| failed(format!("serve: {e}")))?;
    println!("minibrowse demo world is running (Ctrl-C stops it)");
    println!(
        "  web server:  http://{}  (serves every *.minibrowse.test name)",
        world.http_addr
    );
    println!(
        "  HTTPS site:  https://{}  (certificate for *.minibrowse.test)",
        world.https_addr
    );
    println!(
        "  DNS server:  {} (UDP and TCP), authoritative for minibrowse.test.",
        world.dns_addr
    );
    // The demo CA exists only in this process: write it where a client can be told to trust it.
    let ca_path =
        std::env::temp_dir().join(format!("minibrowse-demo-ca-{}.pem", std::process::id()));
    let ca_note = match std::fs::write(&ca_path, &world.ca_pem) {
        Ok(()) => format!(
            "  demo CA:     {} (made at start; trust it with --cacert)",
            ca_path.display()
        ),
        Err(e) => format!(
            "  demo CA:     could not be written to {} ({e})",
            ca_path.display()
        ),
    };
    println!("{ca_note}");
    if let Some(proxy) = world.proxy_addr {
        println!(
            "  proxy:       {proxy} (HTTP: http://{proxy}, SOCKS5: socks5h://{proxy}); it logs below what it forwards"
        );
    }
    println!();
    println!("From another terminal:");
    println!(
        "  minibrowse --dns-server {} {}",
        world.dns_addr,
        world.home_url()
    );
    println!(
        "  minibrowse --dns-server {} --cacert {} {}",
        world.dns_addr,
        ca_path.display(),
        world.https_url("/")
    );
    if let Some(proxy) = world.proxy_addr {
        println!(
            "  minibrowse --dns-server {} --proxy http://{proxy} {}",
            world.dns_addr,
            world.home_url()
        );
    }
    println!(
        "  dig @{} -p {} cdn.minibrowse.test",
        world.dns_addr.ip(),
        world.dns_addr.port()
    );
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
