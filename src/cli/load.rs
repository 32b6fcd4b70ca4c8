//! Loading a page: the options from the command line, then the full-screen UI or the text
//! views (`--trace`, `--json`, `--dump`, `--har`, `--cookies`).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use minibrowse::demo::{DemoOptions, DemoWorld};
use minibrowse::net::proxy::Proxies;
use minibrowse::net::{DnsServers, HttpOptions, RequestSpec};
use minibrowse::page::{Browser, Options};
use minibrowse::views::{cookies, dump};

use super::args::{LoadArgs, TrustArgs};
use super::error::{failed, usage, CliError};
use super::output::{print_line, print_text, printer, EventView, Traced};
use super::{seconds, MAX_TIMEOUT};

/// Starts the demo world and loads one of its pages through it.
pub fn demo(
    mut args: LoadArgs,
    latency: u64,
    (path, https): (&str, bool),
) -> Result<ExitCode, CliError> {
    let world = DemoWorld::start(DemoOptions {
        latency: Duration::from_millis(latency),
        ..Default::default()
    })
    .map_err(|e| failed(format!("demo: {e}")))?;
    args.dns_server.get_or_insert(world.dns_addr);
    args.url = Some(if https {
        world.https_url(path)
    } else {
        world.url(path)
    });
    load(&args, Some(&world))
}

/// Which views print, as the command line asks.
struct Views {
    trace: bool,
    json: bool,
    dump: bool,
}

impl Views {
    fn of(args: &LoadArgs) -> Views {
        // With no view named, show both the steps and the page.
        let nothing_chosen = !(args.trace || args.json || args.dump);
        Views {
            trace: args.trace || nothing_chosen,
            json: args.json,
            dump: args.dump || nothing_chosen,
        }
    }

    fn events(&self, explain: bool) -> EventView {
        if self.json {
            EventView::Json
        } else if self.trace {
            EventView::Text {
                explain,
                grouped: true,
            }
        } else {
            EventView::Quiet
        }
    }
}

pub fn load(args: &LoadArgs, world: Option<&DemoWorld>) -> Result<ExitCode, CliError> {
    let mut options = options_from(args).map_err(usage)?;
    // The demo world's HTTPS site is signed by its own CA, made at start: trust it.
    if let Some(world) = world {
        options.http.extra_roots.push(world.ca_der.clone());
    }
    warn_if_insecure(&args.trust);
    // No view asked for and a terminal to draw on: the full-screen UI.
    let wants_text = args.trace || args.json || args.dump || args.har.is_some() || args.cookies;
    if !wants_text && std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        return browse(options, args.url.as_deref().unwrap_or_default(), args.step);
    }
    if args.step {
        return Err(usage(
            "--step needs the full-screen UI (a terminal, and no --dump/--trace/--json)",
        ));
    }
    let views = Views::of(args);
    // Made before the trace starts: reading the system's trust store is not part of a load.
    let browser = Browser::new(options).map_err(|e| failed(format!("setup: {e}")))?;
    let traced = Traced::new(
        printer(views.events(!args.no_explain)),
        args.har.as_deref(),
        args.har_sensitive,
    );
    if let Some(world) = world {
        if views.trace && !views.json {
            print_text(&format!(
                "Demo world on loopback: web server {}, HTTPS site {}, DNS server {} (minibrowse.test.)\n\n",
                world.http_addr, world.https_addr, world.dns_addr
            ));
        }
    }
    let input = args.url.clone().unwrap_or_default();
    let result = browser.load(&input, &traced.trace);
    traced.write_har(result.as_ref().ok().and_then(|p| p.title()))?;
    let problem = match result {
        Ok(page) => {
            if views.dump {
                if views.trace || views.json {
                    print_text("\n");
                }
                print_text(&dump::dump(&page, args.no_list));
            }
            for warning in &page.warnings {
                let _ = writeln!(
                    std::io::stderr(),
                    "minibrowse: warning: {}",
                    minibrowse::text::escape_line(warning)
                );
            }
            let problem = page.problems.first().cloned();
            // Layout stage: the process ends right after this, so the DOM and the layout
            // are not torn down node by node (that takes longer than laying the page out).
            std::mem::forget(page);
            problem
        }
        Err(e) => Some(e.to_string()),
    };
    if args.cookies {
        print_jar(&browser, views.json);
    }
    match problem {
        Some(problem) => Err(CliError::Failed(problem)),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// The full-screen UI on this terminal.
fn browse(mut options: Options, url: &str, step: bool) -> Result<ExitCode, CliError> {
    // Form fields numbered like links, so a person can fill them in.
    options.fields = minibrowse::layout::Fields::Numbered;
    let browser = Browser::new(options).map_err(|e| failed(format!("setup: {e}")))?;
    let start = minibrowse::tui::app::Command::Load {
        url: url.to_string(),
        step,
    };
    minibrowse::tui::run(browser, start).map_err(|e| failed(format!("terminal: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

fn options_from(args: &LoadArgs) -> Result<Options, String> {
    let timeout = seconds(args.timeout, "--timeout", MAX_TIMEOUT)?;
    let asset_timeout = seconds(args.asset_timeout, "--asset-timeout", MAX_TIMEOUT)?;
    let dns_timeout = seconds(args.dns_timeout, "--dns-timeout", MAX_TIMEOUT)?;
    let mut http = HttpOptions {
        headers: parse_headers(&args.headers)?,
        cookies: !args.no_cookies,
        max_redirects: args.max_redirects,
        cache_dir: args.cache_dir.clone(),
        no_cache: args.no_cache,
        http1_only: args.http1_1,
        ..HttpOptions::default()
    };
    apply_trust(&args.trust, &mut http)?;
    if let Some(ua) = &args.user_agent {
        if ua.contains(['\r', '\n']) {
            return Err("--user-agent must be one line".into());
        }
        http.user_agent = ua.clone();
    }
    let request = request_from(args, &mut http.headers)?;
    Ok(Options {
        request,
        dns: args
            .dns_server
            .map(DnsServers::Explicit)
            .unwrap_or(DnsServers::System),
        http,
        timeout,
        asset_timeout: timeout.min(asset_timeout),
        dns_timeout: timeout.min(dns_timeout),
        max_body: args.max_body,
        max_assets: args.max_assets,
        max_asset_bytes: args.max_asset_bytes,
        connections_per_host: usize::from(args.connections_per_host),
        fetch_assets: !args.no_assets,
        layout_after_parse: args.layout_after_parse,
        sequential: args.sequential,
        width: args.width.unwrap_or_else(default_width).clamp(20, 1000),
        fields: minibrowse::layout::Fields::AsText,
        // `--dump` alone prints the text as soon as it is final; every other view (the
        // trace, the JSON, the HAR, the jar an image may have changed) wants the whole load.
        text_only: args.dump && !(args.trace || args.json || args.cookies) && args.har.is_none(),
    })
}

/// `--cacert`, `--insecure` and `--proxy` (or the proxy environment), into `http`.
pub fn apply_trust(trust: &TrustArgs, http: &mut HttpOptions) -> Result<(), String> {
    http.insecure = trust.insecure;
    for path in &trust.cacert {
        http.extra_roots.extend(read_certificates(path)?);
    }
    http.proxies = Proxies::from_settings(trust.proxy.as_deref(), |name| std::env::var(name).ok())?;
    Ok(())
}

/// Said before anything runs: with --insecure, HTTPS proves nothing.
pub fn warn_if_insecure(trust: &TrustArgs) {
    if trust.insecure {
        let _ = writeln!(
            std::io::stderr(),
            "minibrowse: WARNING: --insecure: certificates are not checked, so HTTPS cannot tell who is at the other end"
        );
    }
}

/// The page's method and body from `-X` and `--data` (`@FILE` read, at most --max-body
/// bytes); the body's type from a `-H Content-Type`, which then leaves the headers (the
/// request sets it once), else form-urlencoded, as curl does.
fn request_from(
    args: &LoadArgs,
    headers: &mut Vec<(String, String)>,
) -> Result<RequestSpec, String> {
    let body = match args.data.as_deref() {
        None => None,
        Some(data) => Some(match data.strip_prefix('@') {
            Some(path) => read_data_file(path, args.max_body)?,
            None => data.as_bytes().to_vec(),
        }),
    };
    let method = match &args.method {
        Some(m) => m.to_ascii_uppercase(),
        None if body.is_some() => "POST".to_string(),
        None => "GET".to_string(),
    };
    if !RequestSpec::METHODS.contains(&method.as_str()) {
        return Err(format!(
            "-X {method}: the methods are {}",
            RequestSpec::METHODS.join(", ")
        ));
    }
    if method == "HEAD" && body.is_some() {
        return Err("-X HEAD with --data: a HEAD request has no body".into());
    }
    let body = body.map(|bytes| {
        let given = headers
            .iter()
            .position(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        let content_type = match given {
            Some(i) => headers.remove(i).1,
            None => "application/x-www-form-urlencoded".to_string(),
        };
        (bytes, content_type)
    });
    Ok(RequestSpec { method, body })
}

/// `--data @FILE`: a regular file, at most `max` bytes.
fn read_data_file(path: &str, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| format!("--data @{path}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("--data @{path}: not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("--data @{path}: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "--data @{path}: larger than {max} bytes (--max-body)"
        ));
    }
    Ok(bytes)
}

fn parse_headers(raw: &[String]) -> Result<Vec<(String, String)>, String> {
    raw.iter()
        .map(|h| {
            let (name, value) = h
                .split_once(':')
                .ok_or_else(|| format!("the header {h:?} is not 'Name: value'"))?;
            let name = name.trim();
            let valid_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
            // A value is visible characters, spaces and tabs (RFC 9110 section 5.5).
            let valid_value = !value.chars().any(|c| c.is_control() && c != '\t');
            if !valid_name || !valid_value {
                return Err(format!("the header {h:?} is not a valid HTTP header"));
            }
            Ok((name.to_string(), value.trim().to_string()))
        })
        .collect()
}

/// The certificates in a `--cacert` file: PEM (one or more) or a single DER certificate.
fn read_certificates(path: &std::path::Path) -> Result<Vec<Vec<u8>>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let bytes = std::fs::read(path)
        .map_err(|e| format!("--cacert {}: cannot read it ({e})", path.display()))?;
    let pem: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .map(|c| c.as_ref().to_vec())
        .collect();
    if !pem.is_empty() {
        return Ok(pem);
    }
    if x509_parser::parse_x509_certificate(&bytes).is_ok() {
        return Ok(vec![bytes]);
    }
    Err(format!(
        "--cacert {}: no certificate in it (expected PEM with BEGIN CERTIFICATE, or DER)",
        path.display()
    ))
}

/// `--cookies`: the jar at the end of the session (a JSON line with `--json`).
fn print_jar(browser: &Browser, json: bool) {
    let entries = browser.client().cookie_jar().entries();
    if json {
        let cookies: Vec<serde_json::Value> = entries
            .iter()
            .map(|c| {
                serde_json::json!({
                    "domain": c.domain, "host_only": c.host_only, "path": c.path,
                    "name": c.name, "value": c.value, "expires": c.expires,
                    "secure": c.secure, "http_only": c.http_only, "same_site": c.same_site,
                })
            })
            .collect();
        let line = serde_json::json!({ "cookie_jar": cookies }).to_string();
        print_line(&minibrowse::text::escape_json_line(&line));
    } else {
        print_text("\n");
        for line in cookies::jar_lines(&entries) {
            print_line(&line);
        }
    }
}

/// The width `--dump` lays out for when none is given: the terminal's, as lynx and w3m
/// do, or 80 columns when the output goes to a file or a pipe.
fn default_width() -> usize {
    if std::io::stdout().is_terminal() {
        if let Ok((columns, _)) = ratatui::crossterm::terminal::size() {
            return usize::from(columns);
        }
    }
    80
}
