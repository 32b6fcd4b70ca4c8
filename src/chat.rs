//! The four ways a page can hear from its server, as chat clients of the demo room:
//! - refresh (no polling at all): the client learns of new messages only when it asks again,
//!   a plain GET of the messages every few seconds or when the user reloads — plus a POST per
//!   message sent;
//! - long polling: one GET held open by the server until there is news, answered, and at
//!   once the next one — plus a POST per message sent;
//! - Server-Sent Events: one GET the server keeps open and pushes each message into, as an
//!   event; reopened with `Last-Event-ID` when it ends — plus a POST per message sent
//!   (`chat/sse.rs`);
//! - WebSocket: one Upgrade request, then frames both ways on the same connection.
//!
//! All four report into the trace (every request, every frame) and count what keeping up
//! cost in the same [`Cost`] (requests and header bytes, per message): the comparison a
//! teacher points at.
//!
//! The public face: [`run`] (a [`ChatPlan`], a `show` callback for each [`Message`], and
//! optionally a [`Live`] for lines the user types), [`run_raw`] for any WebSocket server, and
//! [`backoff`]. The client reads the demo server's JSON into its own [`Message`]: it shares
//! the wire format, not the server's types.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::net::ws::{self, Incoming};
use crate::net::{Client, FetchLimits};
use crate::trace::{ms, EventKind, PollAnswer, Step, Trace};

mod sse;

/// A chat message as it travels: JSON `{"seq": 7, "name": "…", "text": "…"}` (the server
/// numbers what it stores; what the client sends has no `seq`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Message {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub name: String,
    pub text: String,
    /// How long it had waited at the server when the server handed it to this client, in
    /// ms, as the demo server measures it: the reader's wait for this technique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_ms: Option<u64>,
}

/// The longest message text the client lets a person type: the demo chat's own limit
/// (`demo::chat::MAX_TEXT`; a test keeps the two equal), so a typed message is never refused.
pub const MAX_TEXT: usize = 2000;

/// How the client keeps up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// No polling: ask again every `every` (and when the user reloads, or after sending).
    Refresh {
        every: Duration,
    },
    Poll,
    /// Server-Sent Events: one stream from the server, a POST per message sent.
    Sse,
    WebSocket,
}

impl Via {
    pub fn name(self) -> &'static str {
        match self {
            Via::Refresh { .. } => "refresh",
            Via::Poll => "poll",
            Via::Sse => "sse",
            Via::WebSocket => "ws",
        }
    }
}

/// A chat session: join, maybe send, show what arrives for a while, leave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatPlan {
    pub via: Via,
    pub name: String,
    pub send: Vec<String>,
    /// How long to stay.
    pub wait: Duration,
    /// Longest a single request may take (a held poll lasts up to 25 s).
    pub timeout: Duration,
}

/// An interactive chat: lines typed by the user, and a flag to leave. With
/// [`Via::Refresh`], an empty line is not a message but the user asking again (a reload).
pub struct Live {
    pub outbox: Receiver<String>,
    pub stop: Arc<AtomicBool>,
}

impl Live {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// What keeping up cost.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    pub messages: u64,
    pub requests: u64,
    pub header_bytes: u64,
}

/// A failure that ended the chat.
#[derive(Debug)]
pub struct ChatError {
    pub step: Step,
    pub message: String,
}

impl ChatError {
    /// A failure on the open WebSocket (sending or reading a frame).
    fn websocket(message: String) -> ChatError {
        ChatError {
            step: Step::WebSocket,
            message,
        }
    }

    /// The server ended the WebSocket, with its close code if it sent one.
    fn closed_by_server(code: Option<u16>) -> ChatError {
        ChatError::websocket(format!(
            "the server closed the connection{}",
            code.map(|c| format!(" (code {c})")).unwrap_or_default()
        ))
    }
}

impl std::fmt::Display for ChatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.step, self.message)
    }
}

/// The chat endpoints of the demo server that serves `page`.
fn endpoint(page: &Url, path: &str) -> Result<Url, ChatError> {
    page.join(path).map_err(|e| ChatError {
        step: Step::Url,
        message: format!("{page} has no {path}: {e}"),
    })
}

fn report(trace: &Trace, via: Via, direction: &str, message: &Message) {
    trace.emit(
        None,
        EventKind::Chat {
            via: via.name().into(),
            direction: direction.into(),
            name: message.name.clone(),
            text: message.text.clone(),
            message_seq: message.seq,
        },
    );
}

fn report_cost(trace: &Trace, via: Via, cost: &Cost) {
    report_cost_after(trace, via, cost, None);
}

/// The cost so far, and the long poll whose answer just came, if one did.
fn report_cost_after(trace: &Trace, via: Via, cost: &Cost, poll: Option<PollAnswer>) {
    trace.emit(
        None,
        EventKind::ChatStats {
            via: via.name().into(),
            messages: cost.messages,
            requests: cost.requests,
            header_bytes: cost.header_bytes,
            poll,
        },
    );
}

/// Runs `plan` against the demo chat at `page`; every message received goes to `show`.
pub fn run(
    client: &Client,
    page: &Url,
    plan: &ChatPlan,
    trace: &Trace,
    show: &mut dyn FnMut(&Message),
    live: Option<Live>,
) -> Result<Cost, ChatError> {
    let result = match plan.via {
        Via::Refresh { every } => run_refreshing(client, page, plan, every, trace, show, live),
        Via::Poll => run_polling(client, page, plan, trace, show, live),
        Via::Sse => sse::run(client, page, plan, trace, show, live),
        Via::WebSocket => run_websocket(client, page, plan, trace, show, live),
    };
    match &result {
        Ok(cost) => report_cost(trace, plan.via, cost),
        Err(e) => trace.emit(
            None,
            EventKind::Failed {
                step: e.step,
                message: e.message.clone(),
                url: None,
            },
        ),
    }
    result
}

/// How much longer than the server's hold a poll may take: the answer's way back.
const ANSWER_MARGIN: Duration = Duration::from_secs(2);

/// Waits this long after the n-th failure in a row: 0.5 s, 1 s, 2 s … at most 8 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.saturating_sub(1).min(4)))
}

/// Counts one answered GET in `cost`, and reads its body as a JSON list of messages.
fn counted_messages(
    response: &crate::net::Response,
    cost: &Mutex<Cost>,
    what: &str,
) -> Result<Vec<Message>, ChatError> {
    {
        let mut cost = cost.lock().unwrap_or_else(PoisonError::into_inner);
        cost.requests += 1;
        cost.header_bytes += response.head_bytes.0 + response.head_bytes.1;
    }
    serde_json::from_slice(&response.body).map_err(|e| ChatError {
        step: Step::Chat,
        message: format!("{what} is not a JSON list of messages: {e}"),
    })
}

/// Says in the trace why the client asks again, and waits the backoff of the `attempt`-th
/// time in a row (never past `deadline`).
fn retry_later(trace: &Trace, attempt: u32, why: &str, deadline: Instant) {
    let delay = backoff(attempt);
    trace.emit(
        None,
        EventKind::Retry {
            attempt,
            delay_ms: delay.as_millis() as u64,
            error: why.to_string(),
        },
    );
    std::thread::sleep(delay.min(deadline.saturating_duration_since(Instant::now())));
}

/// POSTs one message; counts what it cost.
fn post_message(
    client: &Client,
    url: &Url,
    (name, text): (&str, &str),
    via: Via,
    trace: &Trace,
    cost: &Mutex<Cost>,
) -> Result<(), ChatError> {
    let message = Message {
        seq: None,
        name: name.to_string(),
        text: text.to_string(),
        age_ms: None,
    };
    let body = serde_json::to_vec(&message).unwrap_or_default();
    let limits = FetchLimits {
        timeout: Duration::from_secs(15),
        max_body: 64 * 1024,
    };
    let sent = client
        .post(url, &body, "application/json", limits, trace)
        .map_err(|e| ChatError {
            step: e.step,
            message: e.message,
        })?;
    if sent.status != 200 {
        return Err(ChatError {
            step: Step::Chat,
            message: format!(
                "the server refused the message: {} {}",
                sent.status,
                String::from_utf8_lossy(&sent.body).trim()
            ),
        });
    }
    let mut cost = cost.lock().unwrap_or_else(PoisonError::into_inner);
    cost.requests += 1;
    cost.header_bytes += sent.head_bytes.0 + sent.head_bytes.1;
    drop(cost);
    report(trace, via, "sent", &message);
    Ok(())
}

fn run_polling(
    client: &Client,
    page: &Url,
    plan: &ChatPlan,
    trace: &Trace,
    show: &mut dyn FnMut(&Message),
    live: Option<Live>,
) -> Result<Cost, ChatError> {
    let send_url = endpoint(page, "/chat/send")?;
    let cost = Mutex::new(Cost::default());
    let Some(live) = live else {
        return poll_loop(client, page, plan, trace, show, &cost, None, &send_url);
    };
    // Typed lines go out on their own thread: a held poll must not delay them.
    let Live { outbox, stop } = live;
    let (cost_ref, url_ref, stopping) = (&cost, &send_url, stop.clone());
    std::thread::scope(|scope| {
        scope.spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                if let Ok(text) = outbox.recv_timeout(Duration::from_millis(100)) {
                    let sent = post_message(
                        client,
                        url_ref,
                        (&plan.name, &text),
                        Via::Poll,
                        trace,
                        cost_ref,
                    );
                    if let Err(e) = sent {
                        trace.emit(
                            None,
                            EventKind::Failed {
                                step: e.step,
                                message: e.message,
                                url: None,
                            },
                        );
                    }
                }
            }
        });
        let result = poll_loop(
            client,
            page,
            plan,
            trace,
            show,
            &cost,
            Some(&stop),
            &send_url,
        );
        stop.store(true, Ordering::Relaxed);
        result
    })
}

#[allow(clippy::too_many_arguments)]
fn poll_loop(
    client: &Client,
    page: &Url,
    plan: &ChatPlan,
    trace: &Trace,
    show: &mut dyn FnMut(&Message),
    cost: &Mutex<Cost>,
    stop: Option<&AtomicBool>,
    send_url: &Url,
) -> Result<Cost, ChatError> {
    let deadline = Instant::now() + plan.wait;
    let mut since = 0u64;
    let mut to_send = plan.send.iter();
    let mut failures = 0u32;
    let mut empty_at_once = 0u32;
    let mut joined = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            return Ok(cost.lock().unwrap_or_else(PoisonError::into_inner).clone());
        }
        let mut poll_url = endpoint(page, "/chat/poll")?;
        // Joining asks without waiting (the history, maybe empty). After that the server
        // holds the poll, at most until the visit ends and well within the request's
        // timeout: its answer, empty or not, comes back before the client stops waiting,
        // so the end of a visit is a normal end, never a timed-out request.
        let hold = if joined {
            left.min(plan.timeout.mul_f64(0.8))
        } else {
            Duration::ZERO
        };
        poll_url.set_query(Some(&format!(
            "since={since}&wait={:.3}",
            hold.as_secs_f64()
        )));
        let limits = FetchLimits {
            timeout: (hold + ANSWER_MARGIN).min(plan.timeout),
            max_body: 1024 * 1024,
        };
        let asked = Instant::now();
        let answer = client.fetch(&poll_url, crate::net::Purpose::Fetch, limits, trace);
        let response = match answer {
            Ok(r) if r.status == 200 => r,
            Ok(r) => {
                return Err(ChatError {
                    step: Step::Chat,
                    message: format!("{poll_url} answered {} {}", r.status, r.reason),
                })
            }
            Err(_) if Instant::now() >= deadline => {
                // The visit ended while the server was holding the poll: a normal goodbye.
                return Ok(cost.lock().unwrap_or_else(PoisonError::into_inner).clone());
            }
            Err(e) => {
                failures += 1;
                retry_later(trace, failures, &e.to_string(), deadline);
                continue;
            }
        };
        failures = 0;
        let answered = asked.elapsed();
        let messages = counted_messages(&response, cost, "the poll answer")?;
        let poll = PollAnswer {
            wait_ms: ms(hold),
            answered_ms: ms(answered),
            messages: messages.len() as u64,
            // What the loop's next turn checks first.
            leaving: Instant::now() >= deadline || stop.is_some_and(|s| s.load(Ordering::Relaxed)),
        };
        // Numbers lower than ours: the server restarted with an empty room; follow it.
        if messages
            .first()
            .and_then(|m| m.seq)
            .is_some_and(|first| first <= since)
        {
            since = 0;
        }
        // Nothing, and at once, though the server was asked to hold: a server that does not
        // hold would have the client ask again and again.
        let nothing_at_once =
            messages.is_empty() && hold >= Duration::from_secs(1) && answered < hold / 2;
        let news = !messages.is_empty();
        for message in messages {
            since = since.max(message.seq.unwrap_or(since));
            cost.lock().unwrap_or_else(PoisonError::into_inner).messages += 1;
            report(trace, Via::Poll, "received", &message);
            show(&message);
        }
        // One cost line per answer, with how long it was held and what it brought.
        report_cost_after(
            trace,
            Via::Poll,
            &cost.lock().unwrap_or_else(PoisonError::into_inner),
            Some(poll),
        );
        if nothing_at_once {
            // Wait a little more each time.
            empty_at_once += 1;
            retry_later(
                trace,
                empty_at_once,
                "the server answered at once with nothing instead of holding the poll",
                deadline,
            );
        } else if news {
            empty_at_once = 0;
        }
        if !joined {
            joined = true;
            for text in to_send.by_ref() {
                post_message(client, send_url, (&plan.name, text), Via::Poll, trace, cost)?;
            }
        }
    }
}

/// No polling: the messages are asked for again every `every` (or when the user reloads, or
/// after sending), with a plain GET that the server answers at once. Between two asks the
/// client knows nothing new, however much was said.
fn run_refreshing(
    client: &Client,
    page: &Url,
    plan: &ChatPlan,
    every: Duration,
    trace: &Trace,
    show: &mut dyn FnMut(&Message),
    live: Option<Live>,
) -> Result<Cost, ChatError> {
    let via = Via::Refresh { every };
    let deadline = Instant::now() + plan.wait;
    let send_url = endpoint(page, "/chat/send")?;
    let mut reader = Refresher {
        via,
        url: endpoint(page, "/chat/messages")?,
        seen: 0,
        failures: 0,
        cost: Mutex::new(Cost::default()),
    };
    let every = every.max(Duration::from_millis(100));
    reader.refresh(client, plan, trace, show, deadline)?;
    for text in &plan.send {
        post_message(
            client,
            &send_url,
            (&plan.name, text),
            via,
            trace,
            &reader.cost,
        )?;
        reader.refresh(client, plan, trace, show, deadline)?;
    }
    let mut next = Instant::now() + every;
    loop {
        let now = Instant::now();
        if now >= deadline || live.as_ref().is_some_and(Live::stopped) {
            break;
        }
        let until = next.min(deadline).saturating_duration_since(now);
        // Live: a typed line goes out at once (and the page is asked again after it); an
        // empty one is a reload. Otherwise: nothing happens until the next refresh.
        let typed = match &live {
            Some(live) => match live
                .outbox
                .recv_timeout(until.min(Duration::from_millis(100)))
            {
                Ok(text) => Some(text),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(until.min(Duration::from_millis(100)));
                    None
                }
            },
            None => {
                std::thread::sleep(until);
                None
            }
        };
        match typed {
            Some(text) if !text.trim().is_empty() => {
                post_message(
                    client,
                    &send_url,
                    (&plan.name, &text),
                    via,
                    trace,
                    &reader.cost,
                )?;
            }
            Some(_) => {}
            None if Instant::now() < next => continue,
            None => {}
        }
        if Instant::now() >= deadline {
            break;
        }
        reader.refresh(client, plan, trace, show, deadline)?;
        next = Instant::now() + every;
    }
    Ok(reader
        .cost
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner))
}

/// The refresh client's state: where the messages are, the last one shown, what it cost.
struct Refresher {
    via: Via,
    url: Url,
    /// The highest message number shown so far.
    seen: u64,
    failures: u32,
    cost: Mutex<Cost>,
}

impl Refresher {
    /// One plain GET of the messages; shows those not seen yet. A failed GET is retried at
    /// the next refresh (and said in the trace); one the server refuses ends the chat.
    fn refresh(
        &mut self,
        client: &Client,
        plan: &ChatPlan,
        trace: &Trace,
        show: &mut dyn FnMut(&Message),
        deadline: Instant,
    ) -> Result<(), ChatError> {
        let left = deadline.saturating_duration_since(Instant::now());
        let limits = FetchLimits {
            timeout: plan.timeout.min(left + ANSWER_MARGIN),
            max_body: 1024 * 1024,
        };
        let response = match client.fetch(&self.url, crate::net::Purpose::Fetch, limits, trace) {
            Ok(r) if r.status == 200 => r,
            Ok(r) => {
                return Err(ChatError {
                    step: Step::Chat,
                    message: format!("{} answered {} {}", self.url, r.status, r.reason),
                })
            }
            Err(e) => {
                self.failures += 1;
                trace.emit(
                    None,
                    EventKind::Retry {
                        attempt: self.failures,
                        delay_ms: 0,
                        error: format!("{e} (asked again at the next refresh)"),
                    },
                );
                return Ok(());
            }
        };
        self.failures = 0;
        let via = self.via;
        let messages = counted_messages(&response, &self.cost, "the messages")?;
        let mut cost = self.cost.lock().unwrap_or_else(PoisonError::into_inner);
        // All numbers lower than ours: the server restarted with an empty room; follow it.
        let newest = messages.iter().filter_map(|m| m.seq).max().unwrap_or(0);
        if newest < self.seen {
            self.seen = 0;
        }
        for message in messages {
            let seq = message.seq.unwrap_or(0);
            if seq <= self.seen {
                continue; // shown at an earlier refresh
            }
            self.seen = seq;
            cost.messages += 1;
            report(trace, via, "received", &message);
            show(&message);
        }
        report_cost(trace, via, &cost);
        Ok(())
    }
}

fn run_websocket(
    client: &Client,
    page: &Url,
    plan: &ChatPlan,
    trace: &Trace,
    show: &mut dyn FnMut(&Message),
    live: Option<Live>,
) -> Result<Cost, ChatError> {
    let deadline = Instant::now() + plan.wait;
    let url = endpoint(page, "/chat/ws")?;
    let mut socket = ws::connect(
        client,
        &url,
        plan.timeout.min(Duration::from_secs(15)),
        trace,
    )
    .map_err(|e| ChatError {
        step: e.step,
        message: e.message,
    })?;
    let mut cost = Cost {
        requests: 1,
        ..Cost::default()
    };
    let send = |socket: &mut ws::WsClient, text: &str| -> Result<(), ChatError> {
        let message = Message {
            seq: None,
            name: plan.name.clone(),
            text: text.to_string(),
            age_ms: None,
        };
        let json = serde_json::to_string(&message).unwrap_or_default();
        socket.send_text(&json).map_err(ChatError::websocket)?;
        report(trace, Via::WebSocket, "sent", &message);
        Ok(())
    };
    for text in &plan.send {
        send(&mut socket, text)?;
    }
    loop {
        let now = Instant::now();
        if now >= deadline || live.as_ref().is_some_and(Live::stopped) {
            break;
        }
        // Live: look at the typed lines at least every 100 ms.
        let until = if live.is_some() {
            deadline.min(now + Duration::from_millis(100))
        } else {
            deadline
        };
        if let Some(live) = &live {
            while let Ok(text) = live.outbox.try_recv() {
                send(&mut socket, &text)?;
            }
        }
        match socket.read_until(until).map_err(ChatError::websocket)? {
            Some(Incoming::Text(text)) => {
                let Ok(message) = serde_json::from_str::<Message>(&text) else {
                    continue; // an error notice or another client's idea of a message
                };
                cost.messages += 1;
                cost.header_bytes = socket.overhead_bytes;
                report(trace, Via::WebSocket, "received", &message);
                show(&message);
                report_cost(trace, Via::WebSocket, &cost);
            }
            Some(Incoming::Closed(code)) => {
                return Err(ChatError::closed_by_server(code));
            }
            Some(Incoming::Binary(_)) | None => {}
        }
    }
    cost.header_bytes = socket.overhead_bytes;
    socket.close();
    Ok(cost)
}

/// `minibrowse ws URL`: any WebSocket server; every text frame received goes to `show`.
pub fn run_raw(
    client: &Client,
    url: &Url,
    send: &[String],
    wait: Duration,
    timeout: Duration,
    trace: &Trace,
    show: &mut dyn FnMut(&str),
) -> Result<(), ChatError> {
    let deadline = Instant::now() + wait;
    let mut socket = ws::connect(client, url, timeout, trace).map_err(|e| ChatError {
        step: e.step,
        message: e.message,
    })?;
    for text in send {
        socket.send_text(text).map_err(ChatError::websocket)?;
    }
    while Instant::now() < deadline {
        match socket.read_until(deadline).map_err(ChatError::websocket)? {
            Some(Incoming::Text(text)) => show(&text),
            Some(Incoming::Closed(code)) => {
                return Err(ChatError::closed_by_server(code));
            }
            Some(Incoming::Binary(_)) | None => {}
        }
    }
    socket.close();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_eight_seconds() {
        let delays: Vec<u64> = (1..=7).map(|n| backoff(n).as_millis() as u64).collect();
        assert_eq!(delays, vec![500, 1000, 2000, 4000, 8000, 8000, 8000]);
    }
}
