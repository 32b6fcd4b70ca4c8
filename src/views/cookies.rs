//! `--cookies`: the session's cookie jar as a table (also the TUI's jar view).

use crate::net::cookies::JarEntry;
use crate::text::escape_line;

/// The jar as lines of text, one cookie per line, values escaped for the terminal.
pub fn jar_lines(entries: &[JarEntry]) -> Vec<String> {
    if entries.is_empty() {
        return vec![
            "The cookie jar is empty: no server asked this browser to remember anything.".into(),
        ];
    }
    let mut lines = vec![format!(
        "The cookie jar ({} cookie{}): sent back with every request that matches the domain and path.",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" }
    )];
    for c in entries {
        let mut flags = Vec::new();
        flags.push(match &c.expires {
            Some(at) => format!("expires {at}"),
            None => "session".to_string(),
        });
        if c.secure {
            flags.push("Secure".into());
        }
        if c.http_only {
            flags.push("HttpOnly".into());
        }
        if let Some(same_site) = &c.same_site {
            flags.push(format!("SameSite={same_site}"));
        }
        let domain = if c.host_only {
            c.domain.clone()
        } else {
            format!(".{}", c.domain)
        };
        lines.push(
            escape_line(&format!(
                "  {domain}{}  {}={}  ({})",
                c.path,
                c.name,
                c.value,
                flags.join(", ")
            ))
            .into_owned(),
        );
    }
    lines
}
