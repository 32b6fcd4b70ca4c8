//! The network stages: DNS (hickory-resolver), and HTTP over an instrumented connection (ureq).

pub mod cookies;
pub mod dns;
pub mod http;
pub mod proxy;
pub mod tls;
pub mod trust;
pub mod wire;
pub mod ws;

pub use dns::{Dns, DnsServers};
pub use http::{Client, FetchError, FetchLimits, HttpOptions, Purpose, Response};
