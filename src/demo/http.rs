//! The demo world's web server (axum): the embedded site plus the routes that teach
//! something a static file cannot — a redirect, a redirect loop, a 404, gzip, a cookie,
//! a legacy encoding — and the ones that misbehave on purpose, to show minibrowse's limits.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use include_dir::Dir;

use super::console::{Console, Handled, ServedLine, Server};

/// What every handler can see.
#[derive(Clone)]
pub struct Site {
    pub files: &'static Dir<'static>,
    /// The directory the files come from, as the console names it (`site`, `backend`).
    pub dir: &'static str,
    /// Where to pass on a request for a file this server lacks (the front server only).
    pub backend: Option<SocketAddr>,
    /// The address the demo names resolve to, for the `{{ADDRESS}}` placeholder.
    pub address: IpAddr,
    /// The server's port, for the `{{CDN}}` and `{{HOST}}` placeholders in pages.
    pub port: u16,
    /// The HTTPS site's port, for the `{{HTTPS}}` placeholder.
    pub https_port: u16,
    /// The backend's port, for the `{{BACKEND}}` placeholder.
    pub backend_port: u16,
    /// The demo DNS server's address, for the `{{DNS}}` placeholder.
    pub dns: String,
    pub latency: Duration,
    /// The chat room (long polling and WebSocket).
    pub room: Arc<super::chat::Room>,
    /// The demo authority's certificate (PEM), served at `/demo-ca.pem` so that a student
    /// who joined the teacher's world can trust its HTTPS site (`--cacert`).
    pub ca_pem: Arc<str>,
}

/// The router of the demo site.
pub fn router(site: Site) -> Router {
    let chat = super::chat::router(site.room.clone());
    let forms = super::forms::router(super::forms::Forms::new(site.files));
    let site = Arc::new(site);
    Router::new()
        .route(
            "/old-page",
            get(|| async { redirect(StatusCode::MOVED_PERMANENTLY, "/new-page.html") }),
        )
        .route(
            "/loop",
            get(|| async { redirect(StatusCode::FOUND, "/loop-back") }),
        )
        .route(
            "/loop-back",
            get(|| async { redirect(StatusCode::FOUND, "/loop") }),
        )
        .route("/cookie-check", get(cookie_check))
        .route("/echo", axum::routing::any(echo))
        .route("/demo-ca.pem", get(demo_ca))
        .route("/errors/slow", get(slow))
        .route("/errors/endless", get(endless))
        .route("/errors/trickle", get(trickle))
        .route("/errors/trickle-page", get(trickle_page))
        .route("/errors/bomb", get(bomb))
        .route("/errors/many-assets", get(many_assets))
        .route("/errors/hostile", get(hostile))
        .route("/errors/file-asset", get(file_asset))
        .route("/errors/broken-assets", get(broken_assets))
        .route(
            "/errors/to-ftp",
            get(|| async { redirect(StatusCode::FOUND, "ftp://www.minibrowse.test/") }),
        )
        .fallback(get(static_file))
        .with_state(site.clone())
        .merge(chat)
        .merge(forms)
        .layer(middleware::from_fn_with_state(site, add_latency))
}

/// The backend's router: its own files, nothing else (the latency is the front's).
pub fn backend_router(site: Site) -> Router {
    Router::new()
        .fallback(get(static_file))
        .with_state(Arc::new(site))
}

/// `router`, with one console line for each request it answers, as `server`.
pub fn reported(router: Router, server: Server, console: Console) -> Router {
    if !console.is_on() {
        return router;
    }
    router.layer(middleware::from_fn_with_state(
        (server, console),
        report_request,
    ))
}

async fn report_request(
    State((server, console)): State<(Server, Console)>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    let action = match response.extensions().get::<Handled>() {
        Some(Handled(action)) => action.clone(),
        None => made_by_code(&response),
    };
    let status = response.status();
    console.report(ServedLine {
        server,
        client,
        method,
        target,
        action,
        status: format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        ),
        took: Some(started.elapsed()),
    });
    response
}

/// The words for an answer no file was behind: a route of the server's own code.
fn made_by_code(response: &Response) -> String {
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
    match (response.status(), location) {
        (StatusCode::SWITCHING_PROTOCOLS, _) => "switched to the WebSocket protocol".into(),
        (status, Some(to)) if status.is_redirection() => format!("a redirect to {to}"),
        _ => "made by the server's code (no file)".into(),
    }
}

/// `--latency MS`: every answer waits this long, so the waterfall is visible.
async fn add_latency(State(site): State<Arc<Site>>, request: Request, next: Next) -> Response {
    if !site.latency.is_zero() {
        tokio::time::sleep(site.latency).await;
    }
    next.run(request).await
}

fn redirect(status: StatusCode, to: &'static str) -> Response {
    (status, [(header::LOCATION, to)]).into_response()
}

/// Most body bytes `/echo` repeats.
const ECHO_BODY: usize = 16 * 1024;

/// What the server received, said back as text: the request line's method and target, the
/// headers and the body (its first 16 KiB) — the other side of `--data`, `-X` and a form.
async fn echo(method: Method, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    let mut text = format!(
        "The server received this request:\n\n{method} {}\n",
        uri.path_and_query().map_or("/echo", |p| p.as_str())
    );
    for (name, value) in &headers {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    text.push('\n');
    if body.is_empty() {
        text.push_str("(no body)\n");
    } else {
        text.push_str(&String::from_utf8_lossy(&body[..body.len().min(ECHO_BODY)]));
        text.push_str(&format!("\n\n({} bytes of body)\n", body.len()));
    }
    let action = format!("echoed a {method} with {} bytes of body", body.len());
    let mut response =
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response();
    response.extensions_mut().insert(Handled(action));
    response
}

async fn cookie_check(headers: HeaderMap) -> Response {
    let cookie = headers
        .get(header::COOKIE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    // A visit counter kept in a cookie: only the client's memory makes it count.
    let visits: u64 = cookie
        .as_deref()
        .and_then(|c| {
            c.split(';')
                .find_map(|pair| pair.trim().strip_prefix("visits="))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0);
    let visit = visits.saturating_add(1);
    let text = match cookie {
        Some(c) => format!("Your browser sent this Cookie header:\n\n    Cookie: {c}\n\nThe server remembers you only because your client sent this header.\nThis is your visit number {visit} to this page (the count travels in the visits cookie).\n"),
        None => "Your browser sent no Cookie header, so to this server you are a stranger.\nThis is your visit number 1, every time, until your client keeps cookies\n(load /cookie.html first, and do not use --no-cookies).\n".to_string(),
    };
    let set = format!("visits={visit}; Path=/cookie-check; Max-Age=3600");
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::SET_COOKIE, set),
        ],
        text,
    )
        .into_response()
}

/// The demo authority, as text: what `--cacert` reads. Over plain HTTP, as a school hands
/// out its inspection CA: whoever could change this answer could change everything, which
/// is the lesson of stop 4.
async fn demo_ca(State(site): State<Arc<Site>>) -> Response {
    let pem = site.ca_pem.to_string();
    let action = "the demo CA's certificate".to_string();
    let mut response = ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], pem).into_response();
    response.extensions_mut().insert(Handled(action));
    response
}

/// Answers only after a minute: shows what a timeout looks like.
async fn slow() -> Response {
    tokio::time::sleep(Duration::from_secs(60)).await;
    "too late".into_response()
}

/// A body that never ends: shows the body-size limit.
async fn endless() -> Response {
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    let stream = futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
    (
        [(header::CONTENT_TYPE, "text/plain")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// A body that comes one byte a second: shows the timeout on receiving.
async fn trickle() -> Response {
    let stream = futures_util::stream::unfold(0u32, |n| async move {
        if n > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        (n < 600).then(|| (Ok::<_, std::io::Error>(Bytes::from_static(b".")), n + 1))
    });
    (
        [(header::CONTENT_TYPE, "text/plain")],
        Body::from_stream(stream),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct TricklePage {
    /// How long the body takes to arrive, in ms (at most 10 s).
    ms: Option<u64>,
    /// Images at the end of the page (at most 100).
    images: Option<usize>,
}

/// A page whose body trickles in over `ms` (1.5 s by default) in 15 parts, with a stylesheet
/// in its head: the preload scanner asks for the stylesheet while the rest still comes,
/// and the parse keeps up with the download.
async fn trickle_page(axum::extract::Query(query): axum::extract::Query<TricklePage>) -> Response {
    const PARTS: u64 = 15;
    let pause = Duration::from_millis(query.ms.unwrap_or(1500).min(10_000) / PARTS);
    let images = query.images.unwrap_or(0).min(100);
    let head = "<!doctype html><html><head><title>A page that trickles in</title>\n\
        <link rel=\"stylesheet\" href=\"/style.css\"></head><body>\n\
        <h1>A page that trickles in</h1>\n";
    let stream = futures_util::stream::unfold(0u64, move |n| async move {
        if n > PARTS {
            return None;
        }
        if n > 0 {
            tokio::time::sleep(pause).await;
        }
        let part = match n {
            0 => head.to_string(),
            PARTS => {
                let mut tail: String = (0..images)
                    .map(|i| format!("<img src=\"/img/cat-small.png?t={i}\" alt=\"cat {i}\">\n"))
                    .collect();
                tail.push_str("<p>The end.</p></body></html>\n");
                tail
            }
            n => format!(
                "<p>Part {n} of the text, sent {} ms after the first.</p>\n",
                n * pause.as_millis() as u64
            ),
        };
        Some((Ok::<_, std::io::Error>(Bytes::from(part)), n + 1))
    });
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// 16 KiB of gzip that inflates to 16 MiB (more than the default 10 MiB limit): shows that
/// the limit counts decoded bytes.
async fn bomb() -> Response {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    let bytes = BOMB.get_or_init(|| {
        // Runs of one byte compress about 1000:1 at any level; the fast one builds it quickly.
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![b' '; 1024 * 1024];
        for _ in 0..16 {
            let _ = encoder.write_all(&zeros);
        }
        encoder.finish().unwrap_or_default()
    });
    (
        [
            (header::CONTENT_TYPE, "text/html"),
            (header::CONTENT_ENCODING, "gzip"),
        ],
        bytes.clone(),
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct ManyAssets {
    n: Option<usize>,
}

/// A page with 400 images: more than a page may load at its default limit of 300 (`?n=42`:
/// that many, up to 400, as the benchmark of a page's text before its images uses).
async fn many_assets(axum::extract::Query(query): axum::extract::Query<ManyAssets>) -> Response {
    let n = query.n.unwrap_or(400).min(400);
    let mut html = format!(
        "<!doctype html><title>Many assets</title><h1>{n} images</h1>\n<p>The text of the page comes before its pictures.</p>\n"
    );
    for i in 0..n {
        html.push_str(&format!(
            "<img src=\"/img/cat-small.png?n={i}\" alt=\"cat {i}\">\n"
        ));
    }
    html_response(html.into_bytes(), "text/html; charset=utf-8")
}

/// Text that tries to take over the terminal: escape sequences, C1 controls, bidi overrides.
async fn hostile() -> Response {
    let html = "<!doctype html><title>Hostile \u{1b}]0;owned\u{7}</title>\n\
        <p>Clear screen: \u{1b}[2J here. CSI: \u{9b}31m red. Numeric: &#x1b;[5m blink &#155;1m.</p>\n\
        <p>Reversed: \u{202e}txet desrever\u{202c} and isolate \u{2067}abc\u{2069}.</p>\n\
        <p><a href=\"/\u{1b}[31m\">link\u{1b}[0m</a></p>\n";
    html_response(html.as_bytes().to_vec(), "text/html; charset=utf-8")
}

/// A page that asks for a local file as an asset: must be refused.
async fn file_asset() -> Response {
    let html = "<!doctype html><title>Local file</title><p>This page tries to read a file on your computer:\n\
        <img src=\"file:///etc/passwd\" alt=\"passwd\"></p>";
    html_response(html.as_bytes().to_vec(), "text/html; charset=utf-8")
}

/// Assets that cannot load: a name that does not exist, a port nobody listens on.
async fn broken_assets(State(site): State<Arc<Site>>) -> Response {
    let html = format!(
        "<!doctype html><title>Broken assets</title><h1>Broken assets</h1>\n\
         <p>The page itself loads; its two images cannot.</p>\n\
         <img src=\"http://nope.minibrowse.test:{}/a.png\" alt=\"from a name that does not exist\">\n\
         <img src=\"http://127.0.0.1:1/b.png\" alt=\"from a port nobody listens on\">\n",
        site.port
    );
    html_response(html.into_bytes(), "text/html; charset=utf-8")
}

fn html_response(body: Vec<u8>, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Maps the path to a file of the site's directory and returns it; a path with no file
/// goes to the backend (on the front server) or gets the 404 page (on the backend).
async fn static_file(
    State(site): State<Arc<Site>>,
    method: Method,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path.to_string()
    };
    let Some(file) = site.files.get_file(&path) else {
        if let Some(backend) = site.backend {
            return super::backend::forward(backend, &method, &uri, &headers).await;
        }
        let body = site
            .files
            .get_file("404.html")
            .map(|f| fill_placeholders(f.contents(), &site))
            .unwrap_or_else(|| b"404 Not Found".to_vec());
        let mut response = (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response();
        response
            .extensions_mut()
            .insert(Handled(format!("no such file in {}/", site.dir)));
        return response;
    };
    let handled = Handled(format!("{}/{path}", site.dir));
    let content_type = content_type_for(&path);
    let filled = content_type.starts_with("text/html");
    let mut body = if filled {
        fill_placeholders(file.contents(), &site)
    } else {
        file.contents().to_vec()
    };
    let mut response_headers = HeaderMap::new();
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    match path.as_str() {
        "latin1.html" => {
            // Sent as windows-1252 with no charset in the header: only the <meta> tells.
            let text = String::from_utf8_lossy(&body).into_owned();
            body = encoding_rs::WINDOWS_1252.encode(&text).0.into_owned();
            response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        }
        "cookie.html" => {
            response_headers.insert(
                header::SET_COOKIE,
                HeaderValue::from_static("visitor=student; Path=/; HttpOnly"),
            );
        }
        "compressed.html" if accepts_gzip(&headers) => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            if encoder.write_all(&body).is_ok() {
                if let Ok(gz) = encoder.finish() {
                    body = gz;
                    response_headers
                        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                    response_headers
                        .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
                }
            }
        }
        _ => {}
    }
    let validation = super::caching::mark(&path, &body, filled, &headers, &mut response_headers);
    if let super::caching::Validation::NotModified(by) = validation {
        // No body follows: the fields that describe one stay out (RFC 9110 15.4.5).
        response_headers.remove(header::CONTENT_ENCODING);
        response_headers.remove(header::CONTENT_TYPE);
        let mut response = (StatusCode::NOT_MODIFIED, response_headers).into_response();
        let unchanged = format!("{}/{path} unchanged ({by})", site.dir);
        response.extensions_mut().insert(Handled(unchanged));
        return response;
    }
    let mut response = (response_headers, body).into_response();
    response.extensions_mut().insert(handled);
    response
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

/// Pages name the CDN host and this server's port through placeholders.
fn fill_placeholders(contents: &[u8], site: &Site) -> Vec<u8> {
    let port = site.port;
    String::from_utf8_lossy(contents)
        .replace("{{DNS}}", &site.dns)
        .replace("{{ADDRESS}}", &site.address.to_string())
        .replace("{{CDN}}", &format!("http://cdn.minibrowse.test:{port}"))
        .replace("{{HOST}}", &format!("www.minibrowse.test:{port}"))
        .replace("{{PORT}}", &port.to_string())
        .replace(
            "{{BACKEND}}",
            &format!("http://backend.minibrowse.test:{}", site.backend_port),
        )
        .replace(
            "{{HTTPS}}",
            &format!("https://secure.minibrowse.test:{}", site.https_port),
        )
        .into_bytes()
}

fn content_type_for(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or_default();
    match ext {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "webm" => "video/webm",
        _ => "application/octet-stream",
    }
}
