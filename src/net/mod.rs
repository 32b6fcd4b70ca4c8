//! The network stages: DNS (hickory-resolver), one dial path (DNS, proxy, TCP, TLS) shared by
//! HTTP (ureq, over an instrumented connection) and WebSockets (tungstenite); Server-Sent
//! Events read over HTTP as they arrive.
//!
//! The files depend one way, from the bottom up: `phase` (budgets and dial failures), `dns`,
//! `proxy`, `trust`, `cookies`; `tls` (on `trust`); `dial` (on all of those); `wire` (ureq's
//! hooks, on `dial`); `http` (on `wire`); `ws` (on `dial` and `http`); `sse` (on `http`).

pub mod cache;
pub mod coding;
pub mod cookies;
pub(crate) mod dial;
pub mod dns;
pub(crate) mod eyeballs;
pub(crate) mod h2;
pub mod http;
pub(crate) mod phase;
pub mod proxy;
pub mod sse;
pub mod tls;
pub mod trust;
pub mod wire;
pub mod ws;

pub use dns::{Dns, DnsServers};
pub use http::{Client, FetchError, FetchLimits, HttpOptions, Purpose, RequestSpec, Response};
