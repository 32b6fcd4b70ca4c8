//! A hostile DNS server: raw UDP on loopback, the first label of the name picks the fault.
//!
//! `ok.*` answers 127.0.0.1; `nx` NXDOMAIN; `empty` no answer; `loop` a CNAME loop; `trunc`
//! a truncated answer (and nothing on TCP); `garbage` random bytes; `badid` the wrong id;
//! `ptrloop` a compression pointer to itself; `servfail` SERVFAIL; `silent` nothing at all;
//! `slow` an empty answer to every question, each 1.5 s late.

use std::net::{SocketAddr, UdpSocket};
use std::thread;

pub struct HostileDns {
    pub addr: SocketAddr,
}

impl HostileDns {
    pub fn start() -> HostileDns {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind loopback UDP");
        let addr = socket.local_addr().expect("local addr");
        thread::spawn(move || {
            let mut buf = [0u8; 1500];
            loop {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let query = buf[..n].to_vec();
                let Some(reply) = answer(&query) else {
                    continue;
                };
                let slow = question(&query).is_some_and(|(labels, _, _)| labels[0] == "slow");
                match socket.try_clone() {
                    // `slow.*` answers every question (empty) after 1.5 s.
                    Ok(late) if slow => {
                        thread::spawn(move || {
                            thread::sleep(std::time::Duration::from_millis(1500));
                            let _ = late.send_to(&reply, from);
                        });
                    }
                    _ => {
                        let _ = socket.send_to(&reply, from);
                    }
                }
            }
        });
        HostileDns { addr }
    }
}

/// The question's name (its labels), its type, and where the question section ends.
fn question(query: &[u8]) -> Option<(Vec<String>, u16, usize)> {
    let mut labels = Vec::new();
    let mut at = 12;
    loop {
        let len = usize::from(*query.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    Some((labels, qtype, at + 4))
}

fn encode_name(labels: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for label in labels {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// A reply header + the question copied from the query.
fn header(query: &[u8], end: usize, id: u16, flags: u16, answers: u16) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&answers.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&query[12..end]);
    out
}

fn record(out: &mut Vec<u8>, name: &[u8], rtype: u16, rdata: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&60u32.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
}

const A: u16 = 1;
const CNAME: u16 = 5;
/// QR + AA + RD + RA.
const OK: u16 = 0x8580;

fn answer(query: &[u8]) -> Option<Vec<u8>> {
    let id = u16::from_be_bytes([*query.first()?, *query.get(1)?]);
    let (labels, qtype, end) = question(query)?;
    let first = labels.first().map(String::as_str).unwrap_or_default();
    let rest: Vec<&str> = labels.iter().skip(1).map(String::as_str).collect();
    let reply = match first {
        "ok" if qtype == A => {
            let mut out = header(query, end, id, OK, 1);
            record(&mut out, &[0xc0, 12], A, &[127, 0, 0, 1]);
            out
        }
        "ok" | "empty" | "slow" => header(query, end, id, OK, 0),
        "nx" => header(query, end, id, OK | 3, 0),
        "servfail" => header(query, end, id, OK | 2, 0),
        "refused" => header(query, end, id, OK | 5, 0),
        "loop" => {
            // loop.X → loop2.X → loop.X
            let mut other = vec!["loop2"];
            other.extend(&rest);
            let other = encode_name(&other);
            let mut out = header(query, end, id, OK, 2);
            record(&mut out, &[0xc0, 12], CNAME, &other);
            let mut back = vec!["loop"];
            back.extend(&rest);
            record(&mut out, &other, CNAME, &encode_name(&back));
            out
        }
        "selfloop" => {
            let mut out = header(query, end, id, OK, 1);
            record(&mut out, &[0xc0, 12], CNAME, &[0xc0, 12]);
            out
        }
        // TC set, no answers: the resolver must retry over TCP, where nothing listens.
        "trunc" => header(query, end, id, OK | 0x0200, 0),
        "garbage" => {
            let mut out = id.to_be_bytes().to_vec();
            let mut x: u32 = 0x9e37_79b9;
            for _ in 0..200 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                out.push(x as u8);
            }
            out
        }
        "short" => query[..6.min(query.len())].to_vec(),
        "badid" => {
            let mut out = header(query, end, id.wrapping_add(1), OK, 1);
            record(&mut out, &[0xc0, 12], A, &[127, 0, 0, 1]);
            out
        }
        "ptrloop" => {
            // The answer's name is a compression pointer to itself.
            let mut out = header(query, end, id, OK, 1);
            let here = out.len() as u16;
            let pointer = (0xc000 | here).to_be_bytes();
            record(&mut out, &pointer, A, &[127, 0, 0, 1]);
            out
        }
        "silent" => return None,
        _ => header(query, end, id, OK | 3, 0),
    };
    Some(reply)
}
