//! The demo world's forms: a search (a GET: the words travel in the URL), a guest book (a
//! POST, answered with a redirect to a GET: POST-redirect-GET, so a reload does not sign
//! twice) and a login (a POST that gives a session cookie: the server knows you on the next
//! request only because the browser sends it back). Everything is kept in memory, bounded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use include_dir::Dir;
use serde::Deserialize;

use super::console::Handled;

/// Guest book entries kept (the oldest go first).
const MAX_ENTRIES: usize = 50;
/// Sessions kept (the oldest is forgotten first: that user is signed out).
const MAX_SESSIONS: usize = 1000;
/// Longest name and message accepted.
const MAX_NAME: usize = 40;
const MAX_MESSAGE: usize = 500;
/// Largest form body read.
const MAX_FORM_BODY: usize = 16 * 1024;
/// Longest search accepted, and most results shown.
const MAX_QUERY: usize = 100;
const MAX_RESULTS: usize = 20;
/// The demo login's password, for every user name (the page says so).
pub const PASSWORD: &str = "demo";

/// What the forms remember.
pub struct Forms {
    files: &'static Dir<'static>,
    book: Mutex<VecDeque<(String, String)>>,
    /// Session id → user name, oldest first.
    sessions: Mutex<VecDeque<(String, String)>>,
}

impl Forms {
    pub fn new(files: &'static Dir<'static>) -> Arc<Forms> {
        Arc::new(Forms {
            files,
            book: Mutex::new(VecDeque::new()),
            sessions: Mutex::new(VecDeque::new()),
        })
    }

    fn user_of(&self, headers: &HeaderMap) -> Option<String> {
        let id = session_cookie(headers)?;
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions
            .iter()
            .find(|(known, _)| *known == id)
            .map(|(_, user)| user.clone())
    }
}

pub fn router(forms: Arc<Forms>) -> Router {
    Router::new()
        .route("/search", get(search))
        .route("/guestbook", get(guestbook).post(sign))
        .route("/login", get(login_page).post(login))
        .route("/account", get(account))
        .route("/logout", post(logout))
        .layer(DefaultBodyLimit::max(MAX_FORM_BODY))
        .with_state(forms)
}

/// Text put into HTML: the five characters that could start markup escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str, action: String) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"/style.css\"></head>\n<body>\n<h1>{title}</h1>\n{body}\n\
         <p><a href=\"/forms.html\">All the forms</a> · <a href=\"/\">Home</a></p>\n</body></html>\n"
    );
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Made for this request: never kept by a cache.
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response();
    response.extensions_mut().insert(Handled(action));
    response
}

fn see_other(to: &str, cookie: Option<String>, action: String) -> Response {
    let mut response =
        (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    if let Some(cookie) = cookie.and_then(|c| header::HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response.extensions_mut().insert(Handled(action));
    response
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    only: String,
}

const SEARCH_FORM: &str = "<form action=\"/search\" method=\"get\">\
    <p><label>Words: <input type=\"search\" name=\"q\" value=\"{Q}\" size=\"24\"></label> \
    <select name=\"only\"><option value=\"\">every page</option>\
    <option value=\"lesson\"{LESSON}>the lesson's stops</option></select> \
    <button>Search</button></p></form>";

/// `GET /search?q=…`: the pages of the demo site whose text has the words.
async fn search(State(forms): State<Arc<Forms>>, Query(query): Query<SearchQuery>) -> Response {
    let q: String = query.q.trim().chars().take(MAX_QUERY).collect();
    let form = SEARCH_FORM.replace("{Q}", &escape(&q)).replace(
        "{LESSON}",
        if query.only == "lesson" {
            " selected"
        } else {
            ""
        },
    );
    if q.is_empty() {
        let body = format!(
            "<p>A GET form: what you type goes into the URL, after a <code>?</code>.</p>{form}"
        );
        return page(
            StatusCode::OK,
            "Search the demo site",
            &body,
            "showed the search form".into(),
        );
    }
    let hits = find_pages(forms.files, &q, query.only == "lesson");
    let mut body = format!(
        "<p>The server read your words from the URL's query: <code>q={}</code>.</p>{form}<p>{} page{} with “{}”:</p><ul>",
        escape(&q),
        hits.len(),
        if hits.len() == 1 { "" } else { "s" },
        escape(&q)
    );
    for (path, title) in &hits {
        body.push_str(&format!(
            "<li><a href=\"/{}\">{}</a></li>",
            escape(path),
            escape(title)
        ));
    }
    body.push_str("</ul>");
    let action = format!("searched the site for {q:?}: {} pages", hits.len());
    page(StatusCode::OK, "Search results", &body, action)
}

/// The site's pages (path, title) whose text has every word of `q`, case ignored.
fn find_pages(files: &'static Dir<'static>, q: &str, lesson_only: bool) -> Vec<(String, String)> {
    let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
    let mut pages = Vec::new();
    let mut stack = vec![files];
    while let Some(dir) = stack.pop() {
        stack.extend(dir.dirs());
        for file in dir.files() {
            let path = file.path().to_string_lossy().into_owned();
            if !path.ends_with(".html") || (lesson_only && !path.starts_with("lesson/")) {
                continue;
            }
            let doc = crate::html::parse(&String::from_utf8_lossy(file.contents()));
            let text = doc.root().text_content().to_lowercase();
            if words.iter().all(|w| text.contains(w.as_str())) {
                pages.push((path.clone(), doc.title().unwrap_or(path)));
            }
        }
    }
    pages.sort();
    pages.truncate(MAX_RESULTS);
    pages
}

const BOOK_FORM: &str = "<form action=\"/guestbook\" method=\"post\">\
    <p><label>Your name: <input name=\"name\" maxlength=\"40\" size=\"20\"></label></p>\
    <p><label>Message: <textarea name=\"message\" rows=\"3\" cols=\"40\"></textarea></label></p>\
    <p><label><input type=\"checkbox\" name=\"wave\" value=\"yes\" checked> wave at the class</label></p>\
    <p><button>Sign the guest book</button></p></form>";

/// `GET /guestbook`: the entries, newest first, and the form.
async fn guestbook(State(forms): State<Arc<Forms>>) -> Response {
    let book = forms.book.lock().unwrap_or_else(PoisonError::into_inner);
    let mut body = String::from(
        "<p>A POST form. The server answers a signature with <em>303 See Other</em> to this page: \
         the browser then GETs it, so reloading the result does not sign twice \
         (POST-redirect-GET).</p>",
    );
    body.push_str(BOOK_FORM);
    body.push_str(&format!(
        "<h2>{} signature{}</h2><ul>",
        book.len(),
        if book.len() == 1 { "" } else { "s" }
    ));
    for (name, message) in book.iter().rev() {
        body.push_str(&format!(
            "<li><b>{}</b>: {}</li>",
            escape(name),
            escape(message)
        ));
    }
    body.push_str("</ul>");
    let action = format!("showed the guest book ({} entries)", book.len());
    page(StatusCode::OK, "Guest book", &body, action)
}

#[derive(Deserialize)]
struct Signature {
    #[serde(default)]
    name: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    wave: String,
}

/// `POST /guestbook`: a signature kept, then a redirect to the book.
async fn sign(State(forms): State<Arc<Forms>>, Form(sig): Form<Signature>) -> Response {
    let name = sig.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME
        || sig.message.chars().count() > MAX_MESSAGE
    {
        let body = format!(
            "<p>A name (up to {MAX_NAME} characters) is needed, and a message of at most {MAX_MESSAGE}.</p>{BOOK_FORM}"
        );
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not signed",
            &body,
            "refused a signature".into(),
        );
    }
    let mut message = sig.message.trim().to_string();
    if sig.wave == "yes" {
        message.push_str(" 👋");
    }
    let mut book = forms.book.lock().unwrap_or_else(PoisonError::into_inner);
    if book.len() >= MAX_ENTRIES {
        book.pop_front();
    }
    book.push_back((name.to_string(), message));
    let action = format!(
        "signed the guest book for {name:?}, sent the browser on with 303 (POST-redirect-GET)"
    );
    see_other("/guestbook", None, action)
}

const LOGIN_FORM: &str = "<form action=\"/login\" method=\"post\">\
    <p><label>User name: <input name=\"user\" size=\"16\" autocomplete=\"username\"></label></p>\
    <p><label>Password: <input type=\"password\" name=\"password\" size=\"16\"></label> (it is <code>demo</code>)</p>\
    <p><input type=\"submit\" value=\"Sign in\"></p></form>";

/// `GET /login`: the form.
async fn login_page() -> Response {
    let body = format!(
        "<p>Sign in with any name; the password is <code>demo</code>. The server answers with a \
         session cookie, and knows you on later requests only because the browser sends it back.</p>{LOGIN_FORM}"
    );
    page(
        StatusCode::OK,
        "Sign in",
        &body,
        "showed the login form".into(),
    )
}

#[derive(Deserialize)]
struct Login {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
}

/// `POST /login`: the right password gets a session cookie and a redirect to the account.
async fn login(State(forms): State<Arc<Forms>>, Form(login): Form<Login>) -> Response {
    let user = login.user.trim();
    if user.is_empty() || user.chars().count() > MAX_NAME || login.password != PASSWORD {
        let body = format!("<p><strong>Wrong name or password.</strong> The password is <code>demo</code>.</p>{LOGIN_FORM}");
        return page(
            StatusCode::FORBIDDEN,
            "Sign in",
            &body,
            "refused a login: wrong password".into(),
        );
    }
    let id = session_id();
    let mut sessions = forms
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if sessions.len() >= MAX_SESSIONS {
        sessions.pop_front();
    }
    sessions.push_back((id.clone(), user.to_string()));
    let cookie = format!("session={id}; Path=/; HttpOnly; SameSite=Lax");
    let action = format!("signed {user:?} in: a new session, sent in Set-Cookie");
    see_other("/account", Some(cookie), action)
}

/// `GET /account`: who the session cookie says you are.
async fn account(State(forms): State<Arc<Forms>>, headers: HeaderMap) -> Response {
    match forms.user_of(&headers) {
        Some(user) => {
            let body = format!(
                "<p>Signed in as <strong>{}</strong>. The server knew it from the <code>session</code> \
                 cookie your browser sent with this request; without it, this page would not know you.</p>\
                 <form action=\"/logout\" method=\"post\"><p><button>Sign out</button></p></form>",
                escape(&user)
            );
            page(
                StatusCode::OK,
                "Your account",
                &body,
                format!("knew {user:?} by the session cookie"),
            )
        }
        None => {
            let body = "<p>You are not signed in: this request carried no session cookie the server knows. \
                 <a href=\"/login\">Sign in</a>.</p>";
            page(
                StatusCode::OK,
                "Your account",
                body,
                "no session cookie: not signed in".into(),
            )
        }
    }
}

/// `POST /logout`: the session forgotten, the cookie deleted (Max-Age=0).
async fn logout(State(forms): State<Arc<Forms>>, headers: HeaderMap) -> Response {
    if let Some(id) = session_cookie(&headers) {
        let mut sessions = forms
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        sessions.retain(|(known, _)| *known != id);
    }
    let cookie = "session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0".to_string();
    see_other(
        "/account",
        Some(cookie),
        "signed out: the session cookie deleted".into(),
    )
}

/// The `session` cookie of a request.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == "session" && !value.is_empty()).then(|| value.to_string())
        })
}

/// A session id nobody can guess: 128 random bits.
fn session_id() -> String {
    crate::random::hex128()
}
