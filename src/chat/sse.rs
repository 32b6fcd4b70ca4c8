//! The chat by Server-Sent Events: one GET of `/chat/events` that the server keeps open and
//! pushes each message into, as an event whose `id` is the message's number; reopened with
//! `Last-Event-ID` when the server ends it. The stream goes one way only, so each message
//! sent is a POST, as with polling: what the cost table sets beside WebSocket's two ways.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use url::Url;

use super::{
    endpoint, post_message, report, report_cost, ChatError, ChatPlan, Cost, Live, Message, Via,
};
use crate::net::sse::{EventSource, News, SourceOptions, SourceStats, IDLE};
use crate::net::Client;
use crate::trace::{EventKind, Trace};

/// Joins, listens until the visit ends (or the user leaves), and sends what the plan and
/// the user say, each by a POST on a thread of its own (a stream being read holds its
/// thread's exchange, and a message must not wait for the next event).
pub(super) fn run(
    client: &Client,
    page: &Url,
    plan: &ChatPlan,
    trace: &Trace,
    show: &mut dyn FnMut(&Message),
    live: Option<Live>,
) -> Result<Cost, ChatError> {
    let stream_url = endpoint(page, "/chat/events")?;
    let send_url = endpoint(page, "/chat/send")?;
    let (outbox, stop) = match live {
        Some(Live { outbox, stop }) => (Some(outbox), stop),
        None => (None, Arc::new(AtomicBool::new(false))),
    };
    let sending = Mutex::new(Cost::default());
    let joined = AtomicBool::new(false);
    // Chat messages received (an event that is not one is not counted).
    let received = AtomicU64::new(0);
    let options = SourceOptions {
        wait: plan.wait,
        timeout: plan.timeout.min(Duration::from_secs(15)),
        idle: IDLE,
        reconnect: true,
    };
    let mut source = EventSource::new(client, &stream_url, trace, options);
    std::thread::scope(|scope| {
        let (sending, joined, stop_ref) = (&sending, &joined, &stop);
        let send_url = &send_url;
        scope.spawn(move || {
            // What the plan says goes out once the stream is open (as a poller sends after
            // joining), then whatever the user types.
            while !joined.load(Ordering::Relaxed) && !stop_ref.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
            }
            for text in plan
                .send
                .iter()
                .take_while(|_| !stop_ref.load(Ordering::Relaxed))
            {
                send(client, send_url, (&plan.name, text), trace, sending);
            }
            let Some(outbox) = outbox else { return };
            while !stop_ref.load(Ordering::Relaxed) {
                if let Ok(text) = outbox.recv_timeout(Duration::from_millis(100)) {
                    send(client, send_url, (&plan.name, &text), trace, sending);
                }
            }
        });
        let mut on_news = |news: News<'_>, stats: &SourceStats| match news {
            News::Opened => joined.store(true, Ordering::Relaxed),
            News::Event(event) => {
                let Ok(message) = serde_json::from_str::<Message>(&event.data) else {
                    return; // an event of another kind, or another server's idea of a message
                };
                received.fetch_add(1, Ordering::Relaxed);
                report(trace, Via::Sse, "received", &message);
                show(&message);
                let cost = total(sending, stats, &received);
                report_cost(trace, Via::Sse, &cost);
            }
        };
        let result = source.run(Some(&stop), &mut on_news);
        stop.store(true, Ordering::Relaxed);
        result
    })
    .map_err(|e| ChatError {
        step: e.step,
        message: e.message,
    })?;
    Ok(total(&sending, &source.stats, &received))
}

/// POSTs one message; a failure is said in the trace and the chat goes on.
fn send(client: &Client, url: &Url, (name, text): (&str, &str), trace: &Trace, cost: &Mutex<Cost>) {
    if let Err(e) = post_message(client, url, (name, text), Via::Sse, trace, cost) {
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

/// The stream's cost and the POSTs' together: each connection of the stream is a request,
/// its heads and its framing (what is not the messages) are the overhead.
fn total(sending: &Mutex<Cost>, stream: &SourceStats, received: &AtomicU64) -> Cost {
    let posts = sending.lock().unwrap_or_else(PoisonError::into_inner);
    Cost {
        messages: received.load(Ordering::Relaxed),
        requests: posts.requests + stream.connections,
        header_bytes: posts.header_bytes + stream.overhead_bytes(),
    }
}
