//! `--dump` alone prints the page's text as soon as it is final: only what can change the
//! text is fetched (stylesheets, frames' documents), not images, scripts, fonts or media.
//! Any other view still sees the whole load. Requests counted at the demo server.

mod common;

use std::time::Duration;

use common::{run_binary, served, world_with_console};

#[test]
fn dump_alone_fetches_only_what_can_change_the_text() {
    let (world, lines) = world_with_console();
    let dns = world.dns_addr.to_string();
    let url = world.url("/assets.html");
    let run = run_binary(
        &["--dns-server", &dns, "--dump", &url],
        Duration::from_secs(20),
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("A page with many assets"), "{text}");
    let asked: Vec<String> = served(&lines).into_iter().map(|l| l.target).collect();
    // The page, its two stylesheets, the frame and the frame's stylesheet; no image.
    assert!(asked.iter().any(|t| t == "/assets.html"), "{asked:?}");
    assert!(asked.iter().any(|t| t.ends_with(".css")), "{asked:?}");
    assert!(asked.iter().any(|t| t == "/frame.html"), "{asked:?}");
    assert!(
        !asked
            .iter()
            .any(|t| t.contains("/img/") || t.ends_with(".js") || t.ends_with(".webm")),
        "{asked:?}"
    );

    // With the trace too, the whole load happens.
    let run = run_binary(
        &["--dns-server", &dns, "--dump", "--trace", &url],
        Duration::from_secs(20),
    );
    assert!(run.status.success());
    let asked: Vec<String> = served(&lines).into_iter().map(|l| l.target).collect();
    assert!(asked.iter().any(|t| t.contains("/img/")), "{asked:?}");
}
