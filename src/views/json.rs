//! `--json`: one JSON object per event per line (schema in docs/trace.md).

use crate::text::escape_json_line;
use crate::trace::Event;

/// One event as a JSON line, safe to print on a terminal.
pub fn event_line(event: &Event) -> String {
    let json = serde_json::to_string(event).unwrap_or_else(|e| {
        format!(
            "{{\"event\":\"failed\",\"step\":\"json\",\"message\":\"cannot encode event: {e}\"}}"
        )
    });
    escape_json_line(&json).into_owned()
}
