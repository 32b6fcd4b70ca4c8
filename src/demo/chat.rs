//! The demo world's chat room, reachable two ways that see the same messages:
//! - long polling: `POST /chat/send` adds a message; `GET /chat/poll?since=N` answers at once
//!   with the messages after N, or holds the request until one arrives (25 s at most);
//! - WebSocket: `GET /chat/ws` upgrades, then pushes every new message and takes new ones.
//!
//! Messages are JSON objects `{"name": "...", "text": "..."}`; the server adds `seq`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
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

/// A chat message as it travels (the server adds `seq`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChatMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub name: String,
    pub text: String,
}

/// The room: recent messages and a broadcast to every waiting poller and socket.
pub struct Room {
    state: Mutex<RoomState>,
    news: broadcast::Sender<ChatMessage>,
    hold: Duration,
}

struct RoomState {
    next_seq: u64,
    recent: VecDeque<ChatMessage>,
}

impl Room {
    /// A room whose polls are held at most `hold` (25 s in the demo).
    pub fn new(hold: Duration) -> Arc<Room> {
        let (news, _) = broadcast::channel(256);
        Arc::new(Room {
            state: Mutex::new(RoomState {
                next_seq: 1,
                recent: VecDeque::new(),
            }),
            news,
            hold,
        })
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

    fn after(&self, since: u64) -> Vec<ChatMessage> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .recent
            .iter()
            .filter(|m| m.seq.unwrap_or(0) > since)
            .cloned()
            .collect()
    }
}

pub fn router(room: Arc<Room>) -> Router {
    Router::new()
        .route("/chat/send", post(send))
        .route("/chat/poll", get(poll))
        .route("/chat/ws", get(websocket))
        .with_state(room)
}

async fn send(State(room): State<Arc<Room>>, body: axum::body::Bytes) -> Response {
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
        Ok(stored) => Json(serde_json::json!({ "seq": stored.seq })).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    }
}

#[derive(Deserialize)]
struct PollQuery {
    #[serde(default)]
    since: u64,
    /// Seconds to hold the request without news (at most the room's hold; 0 answers at once).
    wait: Option<u64>,
}

/// Answers with the messages after `since`; with none yet, holds the request until one comes.
async fn poll(State(room): State<Arc<Room>>, Query(mut query): Query<PollQuery>) -> Response {
    let mut news = room.news.subscribe();
    // A client ahead of the room saw an earlier run of this server: start it over.
    if query.since >= room.next_seq() {
        query.since = 0;
    }
    let waiting = room.after(query.since);
    let hold = query
        .wait
        .map_or(room.hold, |w| room.hold.min(Duration::from_secs(w)));
    if !waiting.is_empty() || hold.is_zero() {
        return Json(waiting).into_response();
    }
    let deadline = tokio::time::sleep(hold);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => return Json(Vec::<ChatMessage>::new()).into_response(),
            received = news.recv() => match received {
                Ok(m) if m.seq.unwrap_or(0) > query.since => return Json(room.after(query.since)).into_response(),
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => return Json(room.after(query.since)).into_response(),
                Err(broadcast::error::RecvError::Closed) => return Json(Vec::<ChatMessage>::new()).into_response(),
            }
        }
    }
}

async fn websocket(State(room): State<Arc<Room>>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE)
        .on_upgrade(move |socket| serve_socket(room, socket))
}

/// Sends the history, then pushes every new message to the socket and posts what it sends.
async fn serve_socket(room: Arc<Room>, mut socket: WebSocket) {
    let mut news = room.news.subscribe();
    // A newcomer first gets what was said before, as a poller's first answer does.
    let history = room.after(0);
    let mut last_sent = history.last().and_then(|m| m.seq).unwrap_or(0);
    for message in history {
        let json = serde_json::to_string(&message).unwrap_or_default();
        if socket.send(WsMessage::Text(json.into())).await.is_err() {
            return;
        }
    }
    // A ping now and then: the client must answer with a pong (and the trace shows both).
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            _ = ping.tick() => {
                if socket.send(WsMessage::Ping(axum::body::Bytes::from_static(b"still there?"))).await.is_err() {
                    return;
                }
            }
            received = socket.recv() => match received {
                Some(Ok(WsMessage::Text(text))) => {
                    let reply = match serde_json::from_str::<ChatMessage>(&text) {
                        Ok(m) => room.post(&m.name, &m.text).err(),
                        Err(e) => Some(format!("expected {{\"name\": …, \"text\": …}}: {e}")),
                    };
                    if let Some(error) = reply {
                        let error = serde_json::json!({ "error": error }).to_string();
                        if socket.send(WsMessage::Text(error.into())).await.is_err() {
                            return;
                        }
                    }
                }
                // Keep reading after a Close so axum sends the closing reply.
                Some(Ok(WsMessage::Close(_))) => continue,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return,
            },
            pushed = news.recv() => match pushed {
                // Said while the history was being sent: already there.
                Ok(message) if message.seq.unwrap_or(0) <= last_sent => continue,
                Ok(message) => {
                    last_sent = message.seq.unwrap_or(last_sent);
                    let json = serde_json::to_string(&message).unwrap_or_default();
                    if socket.send(WsMessage::Text(json.into())).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
