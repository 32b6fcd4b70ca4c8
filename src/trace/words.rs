//! Numbers in words for the explanations: a count with its noun, a duration as a person
//! reads it. Shared by `explain.rs` and `explain_sse.rs`.

/// A count and its noun: "1 request", "2 requests", "0 requests".
pub(crate) fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A duration as a person reads it: "0.8 ms", "250.0 ms", "4.3 s".
pub(crate) fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// A step for the trace's text: its tag, its line, and the lines under it.
pub(super) type Described = (&'static str, String, Vec<String>);
