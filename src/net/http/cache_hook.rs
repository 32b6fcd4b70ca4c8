//! The client's side of the HTTP cache: what it tells the cache about a request.

use super::{coding, Client, Hop, Purpose};
use crate::net::cache::{Asked, Lookup};
use crate::trace::CacheMode;

/// What the browser adds to a request's own headers: the cookie, and the cache's headers
/// (validators, or `no-cache` for a hard reload).
pub(super) type Added<'a> = (Option<&'a str>, &'a [(String, String)]);

impl Client {
    /// Asks the session's cache about this request: it may answer it, or add validators.
    pub(super) fn ask_cache(&self, hop: Hop<'_>, purpose: Purpose, method: &str) -> Lookup {
        let mut headers = vec![("accept".to_string(), purpose.accept().to_string())];
        if !self.has_own_header("accept-encoding") {
            headers.push(("accept-encoding".into(), coding::ACCEPT_ENCODING.into()));
        }
        // What a `Vary: Cookie` compares; the jar is only read here, not reported.
        if self.options.cookies {
            if let Some((cookie, _)) = self.jar.header_for(hop.url, hop.context) {
                headers.push(("cookie".into(), cookie));
            }
        }
        headers.extend(self.options.headers.iter().cloned());
        let mode = if self.options.no_cache {
            CacheMode::Bypass
        } else {
            hop.trace.cache_mode()
        };
        self.cache.before(Asked {
            trace: hop.trace,
            request: hop.request,
            url: hop.url,
            method,
            purpose: purpose.name(),
            headers,
            mode,
        })
    }

    /// Whether a `-H` header of this name replaces the browser's own.
    fn has_own_header(&self, name: &str) -> bool {
        self.options
            .headers
            .iter()
            .any(|(own, _)| own.eq_ignore_ascii_case(name))
    }
}
