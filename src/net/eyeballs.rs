//! Happy Eyeballs (RFC 8305): connecting to a name with IPv6 and IPv4 addresses the way
//! browsers do. The addresses are tried IPv6 first, the two families taking turns; the
//! next attempt starts 250 ms after the last one began, or at once when one fails; the first
//! to connect wins and the others are abandoned. So a broken IPv6 path costs a quarter of a
//! second, not a whole connect timeout.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::phase::Budget;
use crate::trace::{ms, ConnectAttempt};

/// How long an attempt has before the next address is tried too (RFC 8305's recommended
/// "Connection Attempt Delay").
pub const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Addresses tried for one connection at most: each attempt is a thread, and a DNS answer
/// may list hundreds (ureq's resolver holds 16 too).
pub const MAX_ADDRESSES: usize = 16;

/// The order to try addresses in (RFC 8305 section 4): IPv6 first, then the families
/// taking turns, each family in the order DNS gave it; the first [`MAX_ADDRESSES`].
pub fn interleave(addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    let (v6, v4): (Vec<SocketAddr>, Vec<SocketAddr>) = addrs.iter().partition(|a| a.is_ipv6());
    let mut out = Vec::with_capacity(addrs.len());
    for i in 0..v6.len().max(v4.len()) {
        out.extend(v6.get(i));
        out.extend(v4.get(i));
    }
    out.truncate(MAX_ADDRESSES);
    out
}

/// Why an attempt did not connect, in words.
pub fn failure(addr: &SocketAddr, error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            format!("{addr}: no answer (timed out)")
        }
        io::ErrorKind::ConnectionRefused => {
            format!("{addr}: connection refused (nothing listens on that port)")
        }
        _ => format!("{addr}: {error}"),
    }
}

/// What racing the addresses came to: the connection, or each attempt's failure; and every
/// attempt, for the trace.
pub struct Race {
    pub result: Result<TcpStream, Vec<String>>,
    pub attempts: Vec<ConnectAttempt>,
}

/// Connects to the first of `addrs` (already in order) that answers, within `budget`.
pub fn race(addrs: &[SocketAddr], budget: Budget) -> Race {
    let deadline = budget.deadline();
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<(usize, io::Result<TcpStream>, Duration)>();
    let mut attempts: Vec<ConnectAttempt> = Vec::new();
    let mut finished: Vec<bool> = Vec::new();
    let mut errors = Vec::new();
    let mut next = 0;
    let mut pending = 0;
    let mut last_start = started;
    let mut start_now = true;
    loop {
        let due = start_now || pending == 0 || last_start.elapsed() >= ATTEMPT_DELAY;
        if next < addrs.len() && due && deadline.left().is_none_or(|l| !l.is_zero()) {
            let addr = addrs[next];
            attempts.push(ConnectAttempt {
                addr: addr.to_string(),
                after_ms: ms(started.elapsed()),
                ms: 0.0,
                outcome: "still connecting when another won: abandoned".into(),
            });
            finished.push(false);
            start_now = false;
            let sender = tx.clone();
            let left = deadline.left();
            let index = next;
            let spawned = std::thread::Builder::new()
                .name("connect".into())
                .spawn(move || {
                    let begun = Instant::now();
                    let result = match left {
                        Some(left) => TcpStream::connect_timeout(&addr, left),
                        None => TcpStream::connect(addr),
                    };
                    // The race may be over: then nobody listens, and the socket just closes.
                    let _ = sender.send((index, result, begun.elapsed()));
                });
            if let Err(e) = spawned {
                let _ = tx.send((index, Err(e), Duration::ZERO));
            }
            next += 1;
            pending += 1;
            last_start = Instant::now();
        }
        if pending == 0 {
            break;
        }
        let until_next = if next < addrs.len() {
            ATTEMPT_DELAY.saturating_sub(last_start.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        let wait = match deadline.left() {
            Some(left) => until_next.min(left + Duration::from_millis(50)),
            None => until_next,
        };
        match rx.recv_timeout(wait) {
            Ok((index, Ok(stream), took)) => {
                finished[index] = true;
                attempts[index].ms = ms(took);
                attempts[index].outcome = "connected first: this one is used".into();
                return Race {
                    result: Ok(stream),
                    attempts,
                };
            }
            Ok((index, Err(e), took)) => {
                pending -= 1;
                finished[index] = true;
                let why = failure(&addrs[index], &e);
                attempts[index].ms = ms(took);
                let own = format!("{}: ", addrs[index]);
                attempts[index].outcome = why.strip_prefix(&own).unwrap_or(&why).to_string();
                errors.push(why);
                // A failure starts the next attempt at once (RFC 8305 section 5).
                start_now = true;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if deadline.left().is_some_and(|l| l.is_zero()) {
                    for (index, attempt) in attempts.iter_mut().enumerate() {
                        if !finished[index] {
                            attempt.ms = ms(started.elapsed()) - attempt.after_ms;
                            attempt.outcome = "no answer (timed out)".to_string();
                            errors.push(format!("{}: no answer (timed out)", addrs[index]));
                        }
                    }
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    Race {
        result: Err(errors),
        attempts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_first_then_taking_turns() {
        let a = |s: &str| s.parse::<SocketAddr>().expect("addr");
        let order = interleave(&[
            a("127.0.0.1:1"),
            a("127.0.0.2:1"),
            a("[::1]:1"),
            a("[::2]:1"),
        ]);
        assert_eq!(
            order,
            [
                a("[::1]:1"),
                a("127.0.0.1:1"),
                a("[::2]:1"),
                a("127.0.0.2:1")
            ]
        );
    }

    #[test]
    fn a_long_answer_is_tried_only_so_far() {
        let many: Vec<SocketAddr> = (0..200u16)
            .map(|i| SocketAddr::from(([127, 0, (i >> 8) as u8, i as u8], 80)))
            .collect();
        assert_eq!(interleave(&many).len(), MAX_ADDRESSES);
    }

    #[test]
    fn a_refused_ipv6_hands_over_to_ipv4_at_once() {
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = v4.local_addr().expect("addr").port();
        // Nothing on [::1] at that port (or no IPv6 at all): refused or unreachable at once.
        let addrs = [
            SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], port)),
            SocketAddr::from(([127, 0, 0, 1], port)),
        ];
        let started = Instant::now();
        let race = race(&addrs, Budget::new(Some(Duration::from_secs(2))));
        assert!(race.result.is_ok());
        assert!(started.elapsed() < ATTEMPT_DELAY, "{:?}", started.elapsed());
        assert_eq!(race.attempts.len(), 2);
        assert!(race.attempts[1].outcome.starts_with("connected first"));
    }

    #[test]
    fn every_failure_is_named() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = closed.local_addr().expect("addr").port();
        drop(closed);
        let addrs = [SocketAddr::from(([127, 0, 0, 1], port))];
        let race = race(&addrs, Budget::new(Some(Duration::from_secs(2))));
        let errors = race.result.expect_err("refused");
        assert!(errors[0].contains("connection refused"), "{errors:?}");
    }
}
