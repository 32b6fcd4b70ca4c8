//! The client's side of the HTTP cache: what it tells the cache about a request.

use std::ops::ControlFlow;

use super::{coding, Client, Hop, Purpose, Response};
use crate::net::cache::{Answer, Asked, Lookup, Plan, Received};
use crate::trace::{CacheMode, Trace};

impl Client {
    /// Asks the session's cache about this request: it may answer it (`Break`, the stored
    /// response, nothing on the wire), or let it go with validators to add (`Continue`).
    pub(super) fn ask_cache(
        &self,
        hop: Hop<'_>,
        purpose: Purpose,
        method: &str,
    ) -> ControlFlow<Response, Box<Plan>> {
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
        let asked = Asked {
            trace: hop.trace,
            request: hop.request,
            url: hop.url,
            method,
            purpose: purpose.name(),
            headers,
            mode,
        };
        match self.cache.before(asked) {
            Lookup::Send(plan) => ControlFlow::Continue(plan),
            Lookup::Answered(answer) => ControlFlow::Break(Response {
                request: hop.request,
                url: hop.url.clone(),
                status: answer.status,
                reason: answer.reason,
                headers: answer.headers,
                body: answer.body,
                wire_bytes: 0,
                head_bytes: (0, 0),
                hops: 0,
                incomplete: None,
            }),
        }
    }

    /// Hands the response read to the cache, which keeps it; after a 304 that matched what
    /// it held, the stored response is the answer (the wire sizes stay the 304's).
    pub(super) fn keep_in_cache(
        &self,
        trace: &Trace,
        plan: Box<Plan>,
        response: Response,
    ) -> Response {
        let got = Received {
            status: response.status,
            reason: &response.reason,
            headers: &response.headers,
            body: &response.body,
            complete: response.incomplete.is_none(),
        };
        match self.cache.finish(trace, plan, got) {
            Some(Answer {
                status,
                reason,
                headers,
                body,
            }) => Response {
                status,
                reason,
                headers,
                body,
                ..response
            },
            None => response,
        }
    }

    /// Whether a `-H` header of this name replaces the browser's own.
    fn has_own_header(&self, name: &str) -> bool {
        self.options
            .headers
            .iter()
            .any(|(own, _)| own.eq_ignore_ascii_case(name))
    }
}
