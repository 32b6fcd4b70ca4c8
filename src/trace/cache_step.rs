//! What the HTTP cache did, as the trace says it: a load's cache mode, each decision and the
//! response it concerned.

use serde::{Deserialize, Serialize};

/// How a load treats the HTTP cache: set by whoever starts it (a TUI reload, `--no-cache`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CacheMode {
    /// Fresh responses come from the store, stale ones are revalidated.
    #[default]
    Normal,
    /// A reload: the page itself is revalidated even when fresh (a conditional request),
    /// its subresources are used while fresh.
    Revalidate,
    /// A hard reload: the store is not read; what comes back replaces what it held.
    Bypass,
}

/// What the cache did (the `action` of a `cache` event).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheAction {
    /// Answered from the store: no request went out.
    Fresh,
    /// A stored response needs checking: a conditional request goes out.
    Revalidate,
    /// A stored response could not be used (stale with no validator, or `Vary` differs):
    /// an ordinary request goes out.
    Miss,
    /// The server answered the conditional request with 304: the stored body is used.
    NotModified,
    /// The response was stored.
    Stored,
    /// The response was not stored, and why.
    NotStored,
    /// A hard reload: the store was not asked.
    Bypass,
    /// An unsafe method (POST, PUT, DELETE…) succeeded: the stored response for its URL
    /// was dropped (RFC 9111 section 4.4).
    Invalidated,
    /// A stored entry on disk could not be read: ignored.
    Unreadable,
}

/// One decision of the HTTP cache.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CacheStep {
    pub action: CacheAction,
    pub method: String,
    pub url: String,
    /// What the request was for (`document`, `stylesheet`…), as the `request` event says.
    pub purpose: String,
    /// Why, in words, from the headers (`Cache-Control: max-age=60`).
    pub reason: String,
    /// How long the stored response stays fresh from now, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_s: Option<u64>,
    /// How old the stored response is, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_s: Option<u64>,
    /// The validators a conditional request carries (`If-None-Match: "…"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// The stored response that answered (`fresh`, `not_modified`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored: Option<StoredResponse>,
}

/// A response as the cache holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub reason: String,
    /// The response head as it was received (updated by a 304's headers).
    pub head: String,
    /// The body's size, decoded.
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// When it was received (RFC 3339).
    pub stored_at: String,
    /// Times the store answered with it (this time included).
    pub hits: u64,
}
