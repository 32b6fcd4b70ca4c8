//! The demo world's chat room, reachable three ways that see the same messages:
//! - refresh: `GET /chat/messages` answers at once with the recent messages;
//! - long polling: `POST /chat/send` adds a message; `GET /chat/poll?since=N` answers at once
//!   with the messages after N, or holds the request until one arrives (25 s at most);
//! - Server-Sent Events: `GET /chat/events` answers `text/event-stream`: the messages after
//!   the client's `Last-Event-ID` (all recent ones without it), then each new one as it is
//!   said, each with `id:` its number; a `retry:` line, a comment every 15 s, and an end
//!   after [`STREAM_LIFETIME`], after which the client reconnects (sending are POSTs);
//! - WebSocket: `GET /chat/ws` upgrades, then pushes every new message and takes new ones.
//!
//! Messages are JSON objects `{"name": "...", "text": "..."}`; the server adds `seq`.
//!
//! On a class's network anyone can reach it, so it defends itself (issue 16): a message is
//! posted only as `application/json` from the same origin (a cross-site page can send a
//! "simple" `text/plain` POST without asking), each client may post a few messages a second,
//! a WebSocket's queue of unsent frames is bounded, a client that does not read is closed,
//! and one that sends bytes without ever finishing a message runs out of budget.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Longest name and text accepted, in characters.
pub const MAX_NAME: usize = 64;
pub const MAX_TEXT: usize = 2000;
/// Messages the room remembers for pollers that fall behind.
const HISTORY: usize = 500;
/// How often the server pings an idle WebSocket.
const PING_EVERY: Duration = Duration::from_secs(10);
/// Largest WebSocket message the server accepts.
const MAX_WS_MESSAGE: usize = 16 * 1024;
/// Bytes of frames queued for one WebSocket client at most (pongs beyond it are dropped).
const MAX_WS_QUEUED: usize = 64 * 1024;
/// How long one frame may take to go out: a client that does not read is closed.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Messages one client may post in a burst, and per second after it.
const BURST: f64 = 10.0;
const PER_SECOND: f64 = 5.0;
/// How long the chat's event stream stays open before the server ends it (the client then
/// reconnects with Last-Event-ID: the lesson sees it happen once a minute).
pub const STREAM_LIFETIME: Duration = Duration::from_secs(60);
/// Clients whose rate is remembered at most (more: the oldest are forgotten).
const RATE_CLIENTS: usize = 4096;

/// A chat message as it travels (the server adds `seq`, and `age_ms` when it hands it out).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChatMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub name: String,
    pub text: String,
    /// How long the message had waited in the room when it was handed out, in ms: what
    /// keeping up by that technique made the reader wait (measured by this server's clock,
    /// so no two machines' clocks are compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_ms: Option<u64>,
    /// When the room took it.
    #[serde(skip)]
    pub posted: Option<Instant>,
}

impl ChatMessage {
    /// The message as handed out now, with its age.
    fn delivered(mut self) -> ChatMessage {
        self.age_ms = self.posted.map(|p| p.elapsed().as_millis() as u64);
        self
    }
}

/// The room: recent messages and a broadcast to every waiting poller and socket.
pub struct Room {
    state: Mutex<RoomState>,
    news: broadcast::Sender<ChatMessage>,
    hold: Duration,
    /// How long one event stream stays open.
    stream_lifetime: Duration,
    rates: Mutex<HashMap<IpAddr, Bucket>>,
}

/// A token bucket: the messages a client may still post now, and when it was last topped up.
#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

struct RoomState {
    next_seq: u64,
    recent: VecDeque<ChatMessage>,
}

impl Room {
    /// A room whose polls are held at most `hold` (25 s in the demo).
    pub fn new(hold: Duration) -> Arc<Room> {
        Room::with_stream(hold, STREAM_LIFETIME)
    }

    /// The same, its event streams ended after `stream_lifetime`.
    pub fn with_stream(hold: Duration, stream_lifetime: Duration) -> Arc<Room> {
        let (news, _) = broadcast::channel(256);
        Arc::new(Room {
            state: Mutex::new(RoomState {
                next_seq: 1,
                recent: VecDeque::new(),
            }),
            news,
            hold,
            stream_lifetime,
            rates: Mutex::new(HashMap::new()),
        })
    }

    /// Whether `client` may post one more message now (and counts it if so).
    fn allow(&self, client: IpAddr) -> bool {
        let now = Instant::now();
        let mut rates = self.rates.lock().unwrap_or_else(PoisonError::into_inner);
        if rates.len() >= RATE_CLIENTS && !rates.contains_key(&client) {
            // Forget whoever has waited long enough to be full again.
            let full_after = Duration::from_secs_f64(BURST / PER_SECOND);
            rates.retain(|_, b| now.duration_since(b.at) < full_after);
            if rates.len() >= RATE_CLIENTS {
                return false;
            }
        }
        let bucket = rates.entry(client).or_insert(Bucket {
            tokens: BURST,
            at: now,
        });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * PER_SECOND;
        bucket.tokens = (bucket.tokens + refilled).min(BURST);
        bucket.at = now;
        if bucket.tokens < 1.0 {
            return false;
        }
        bucket.tokens -= 1.0;
        true
    }

    fn post(&self, name: &str, text: &str) -> Result<ChatMessage, String> {
        let name = name.trim();
        let text = text.trim();
        if name.is_empty() || text.is_empty() {
            return Err("name and text must not be empty".into());
        }
        if name.chars().count() > MAX_NAME || text.chars().count() > MAX_TEXT {
            return Err(format!(
                "name at most {MAX_NAME} characters, text at most {MAX_TEXT}"
            ));
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let message = ChatMessage {
            seq: Some(state.next_seq),
            name: name.into(),
            text: text.into(),
            age_ms: None,
            posted: Some(Instant::now()),
        };
        state.next_seq += 1;
        state.recent.push_back(message.clone());
        if state.recent.len() > HISTORY {
            state.recent.pop_front();
        }
        // Sent while the lock is held, so a poller that checked `after` cannot miss it.
        let _ = self.news.send(message.clone());
        Ok(message)
    }

    fn next_seq(&self) -> u64 {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next_seq
    }

    /// The messages after `since`, as handed out now (with their ages).
    fn after(&self, since: u64) -> Vec<ChatMessage> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .recent
            .iter()
            .filter(|m| m.seq.unwrap_or(0) > since)
            .cloned()
            .map(ChatMessage::delivered)
            .collect()
    }
}

pub fn router(room: Arc<Room>) -> Router {
    Router::new()
        .route("/chat/send", post(send))
        .route("/chat/messages", get(messages))
        .route("/chat/poll", get(poll))
        .route("/chat/ws", get(websocket))
        .route("/chat/events", get(events))
        .with_state(room)
}

/// Refresh: the recent messages, at once (what a page reloaded now would show).
async fn messages(State(room): State<Arc<Room>>) -> Response {
    let recent = room.after(0);
    let action = format!("the chat: the recent messages ({})", plural(recent.len()));
    handled(Json(recent).into_response(), action)
}

fn refused(status: StatusCode, why: &str) -> Response {
    handled(
        (status, format!("{why}\n")).into_response(),
        format!("the chat: refused, {why}"),
    )
}

/// Why a POST may not post: not JSON, or from a page of another site.
fn cross_site_refusal(headers: &HeaderMap) -> Option<&'static str> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Some("a message is posted as application/json (a page of another site can send text/plain without asking, so that is refused)");
    }
    // A browser names the page's origin; a page of this site has this server's host.
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (None, _) => None,
        (Some(origin), Some(host)) if origin_host(origin) == Some(host) => None,
        _ => Some("the message comes from a page of another site (its Origin is not this server)"),
    }
}

/// `host:port` of an origin `scheme://host:port`.
fn origin_host(origin: &str) -> Option<&str> {
    let (_, rest) = origin.split_once("://")?;
    Some(rest.trim_end_matches('/'))
}

async fn send(
    State(room): State<Arc<Room>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(why) = cross_site_refusal(&headers) {
        return refused(StatusCode::FORBIDDEN, why);
    }
    if !room.allow(client.ip()) {
        let mut response = refused(
            StatusCode::TOO_MANY_REQUESTS,
            "too many messages: wait a moment before sending more",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return response;
    }
    let message: ChatMessage = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("expected {{\"name\": …, \"text\": …}}: {e}\n"),
            )
                .into_response()
        }
    };
    match room.post(&message.name, &message.text) {
        Ok(stored) => handled(
            Json(serde_json::json!({ "seq": stored.seq })).into_response(),
            format!(
                "the chat: message #{} from {} stored, sent to everyone waiting",
                stored.seq.unwrap_or(0),
                stored.name
            ),
        ),
        Err(e) => refused(StatusCode::BAD_REQUEST, &e),
    }
}

#[derive(Deserialize)]
struct PollQuery {
    #[serde(default)]
    since: u64,
    /// Seconds to hold the request without news (at most the room's hold; 0 answers at once).
    wait: Option<f64>,
}

/// Answers with the messages after `since`; with none yet, holds the request until one comes.
async fn poll(State(room): State<Arc<Room>>, Query(mut query): Query<PollQuery>) -> Response {
    let started = Instant::now();
    let mut news = room.news.subscribe();
    // A client ahead of the room saw an earlier run of this server: start it over.
    if query.since >= room.next_seq() {
        query.since = 0;
    }
    let hold = match query.wait {
        Some(w) if w.is_finite() && w >= 0.0 => {
            room.hold.min(Duration::from_secs_f64(w.min(3600.0)))
        }
        _ => room.hold,
    };
    let mut answer = room.after(query.since);
    if answer.is_empty() && !hold.is_zero() {
        let deadline = tokio::time::sleep(hold);
        tokio::pin!(deadline);
        answer = loop {
            tokio::select! {
                _ = &mut deadline => break Vec::new(),
                received = news.recv() => match received {
                    Ok(m) if m.seq.unwrap_or(0) > query.since => break room.after(query.since),
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => break room.after(query.since),
                    Err(broadcast::error::RecvError::Closed) => break Vec::new(),
                }
            }
        };
    }
    let held = started.elapsed();
    let action = match (answer.len(), held >= Duration::from_millis(100)) {
        (0, true) => format!(
            "the chat: held {:.1} s, no news, answered empty",
            held.as_secs_f64()
        ),
        (0, false) => "the chat: no news, answered at once".to_string(),
        (n, true) => format!(
            "the chat: held {:.1} s until news, answered {}",
            held.as_secs_f64(),
            plural(n)
        ),
        (n, false) => format!("the chat: answered {} at once", plural(n)),
    };
    handled(Json(answer).into_response(), action)
}

/// The reconnection time the event stream asks for (its `retry:` line).
const STREAM_RETRY: Duration = Duration::from_secs(2);
/// How often the event stream says something when no one does (a comment).
const STREAM_HEARTBEAT: Duration = Duration::from_secs(15);

/// What one event stream has still to send, and until when.
struct StreamState {
    room: Arc<Room>,
    news: broadcast::Receiver<ChatMessage>,
    /// Said before the stream opened (or while the client lagged), not sent yet.
    backlog: VecDeque<ChatMessage>,
    last_sent: u64,
    ends: tokio::time::Instant,
    /// The first event of a stream carries the `retry:` line.
    told_retry: bool,
}

/// One message as an event: its number is its `id:`, so a reconnecting client says where
/// it was.
fn message_event(message: ChatMessage) -> SseEvent {
    let seq = message.seq.unwrap_or(0);
    let json = serde_json::to_string(&message).unwrap_or_default();
    SseEvent::default().id(seq.to_string()).data(json)
}

/// The next event of a stream, or None when its time is over (the response then ends).
async fn next_event(
    mut state: StreamState,
) -> Option<(Result<SseEvent, std::convert::Infallible>, StreamState)> {
    if !state.told_retry {
        state.told_retry = true;
        let said = match state.last_sent {
            0 => "the messages said so far, then each new one".to_string(),
            n => format!("the messages after #{n}, then each new one"),
        };
        let event = SseEvent::default().retry(STREAM_RETRY).comment(said);
        return Some((Ok(event), state));
    }
    loop {
        if let Some(message) = state.backlog.pop_front() {
            state.last_sent = message.seq.unwrap_or(state.last_sent);
            return Some((Ok(message_event(message)), state));
        }
        tokio::select! {
            _ = tokio::time::sleep_until(state.ends) => return None,
            pushed = state.news.recv() => match pushed {
                Ok(message) if message.seq.unwrap_or(0) <= state.last_sent => continue,
                Ok(message) => state.backlog.push_back(message.delivered()),
                // Fell behind the broadcast: the room still has them.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    state.backlog = state.room.after(state.last_sent).into();
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Server-Sent Events: the messages after `Last-Event-ID` (all recent ones without it), then
/// each new one as it is said, until the stream's lifetime is over.
async fn events(State(room): State<Arc<Room>>, headers: HeaderMap) -> Response {
    let news = room.news.subscribe();
    let asked = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // A client ahead of the room saw an earlier run of this server: start it over.
    let since = asked.filter(|&n| n < room.next_seq()).unwrap_or(0);
    let backlog: VecDeque<ChatMessage> = room.after(since).into();
    let action = match asked {
        Some(n) => format!(
            "the chat: event stream reopened after #{n}, {} to catch up, then each new one",
            plural(backlog.len())
        ),
        None => format!(
            "the chat: event stream opened, {} said so far, then each new one",
            plural(backlog.len())
        ),
    };
    let state = StreamState {
        ends: tokio::time::Instant::now() + room.stream_lifetime,
        room,
        news,
        backlog,
        last_sent: since,
        told_retry: false,
    };
    let stream = futures_util::stream::unfold(state, next_event);
    let keep_alive = KeepAlive::new()
        .interval(STREAM_HEARTBEAT)
        .text("keep-alive");
    handled(
        Sse::new(stream).keep_alive(keep_alive).into_response(),
        action,
    )
}

fn plural(messages: usize) -> String {
    match messages {
        1 => "1 message".into(),
        n => format!("{n} messages"),
    }
}

/// `response`, with what the chat did for the console.
fn handled(mut response: Response, action: String) -> Response {
    response
        .extensions_mut()
        .insert(super::console::Handled(action));
    response
}

async fn websocket(
    State(room): State<Arc<Room>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    budget: Option<axum::Extension<super::serving::MessageBudget>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE)
        // Each frame is written at once, and at most 64 KiB wait for a client that does not
        // read: a ping flood's pongs beyond that are dropped instead of piling up.
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WS_QUEUED)
        .on_upgrade(move |socket| {
            let budget = budget.map(|axum::Extension(b)| b);
            if let Some(budget) = &budget {
                budget.arm();
            }
            serve_socket(room, socket, client.ip(), budget)
        })
}

/// Sends one frame, or gives up on a client that has not taken it in [`SEND_TIMEOUT`].
async fn send_frame(socket: &mut WebSocket, frame: WsMessage) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(frame)).await,
        Ok(Ok(()))
    )
}

/// Sends the history, then pushes every new message to the socket and posts what it sends.
async fn serve_socket(
    room: Arc<Room>,
    mut socket: WebSocket,
    client: IpAddr,
    budget: Option<super::serving::MessageBudget>,
) {
    let mut news = room.news.subscribe();
    // A newcomer first gets what was said before, as a poller's first answer does.
    let history = room.after(0);
    let mut last_sent = history.last().and_then(|m| m.seq).unwrap_or(0);
    for message in history {
        let json = serde_json::to_string(&message).unwrap_or_default();
        if !send_frame(&mut socket, WsMessage::Text(json.into())).await {
            return;
        }
    }
    // A ping now and then: the client must answer with a pong (and the trace shows both).
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            _ = ping.tick() => {
                if !send_frame(&mut socket, WsMessage::Ping(axum::body::Bytes::from_static(b"still there?"))).await {
                    return;
                }
            }
            received = socket.recv() => {
                // A whole message (or control frame) came: the next starts a fresh budget.
                if let Some(budget) = &budget {
                    budget.message_done();
                }
                match received {
                Some(Ok(WsMessage::Text(text))) => {
                    let reply = match serde_json::from_str::<ChatMessage>(&text) {
                        Ok(_) if !room.allow(client) => Some("too many messages: wait a moment before sending more".to_string()),
                        Ok(m) => room.post(&m.name, &m.text).err(),
                        Err(e) => Some(format!("expected {{\"name\": …, \"text\": …}}: {e}")),
                    };
                    if let Some(error) = reply {
                        let error = serde_json::json!({ "error": error }).to_string();
                        if !send_frame(&mut socket, WsMessage::Text(error.into())).await {
                            return;
                        }
                    }
                }
                // Keep reading after a Close so axum sends the closing reply.
                Some(Ok(WsMessage::Close(_))) => continue,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return,
                }
            },
            pushed = news.recv() => match pushed {
                // Said while the history was being sent: already there.
                Ok(message) if message.seq.unwrap_or(0) <= last_sent => continue,
                Ok(message) => {
                    last_sent = message.seq.unwrap_or(last_sent);
                    let json = serde_json::to_string(&message.delivered()).unwrap_or_default();
                    if !send_frame(&mut socket, WsMessage::Text(json.into())).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
