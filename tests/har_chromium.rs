//! Our HAR next to Chromium's: Debian's chromium, driven by Playwright, records the same demo
//! page, and every field Chromium writes in an entry must be in ours too; then Chromium
//! replays the page from our file alone (the demo world stopped) and must get it whole.
//!
//! A bare `cargo test` skips it (with a message) without chromium and Python's playwright;
//! `.ci/run` installs both (scripts/install-test-deps.sh) and sets
//! MINIBROWSE_REQUIRE_INTEROP=1, which makes it mandatory.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;

use minibrowse::page::Browser;
use minibrowse::trace::{Collector, Trace};
use minibrowse::views::har::{build, HarSource};
use serde_json::Value;

fn available() -> bool {
    let playwright = Command::new("python3")
        .args(["-c", "import playwright.async_api"])
        .output()
        .is_ok_and(|o| o.status.success());
    let chromium = std::path::Path::new("/usr/bin/chromium").exists();
    if !(playwright && chromium) {
        if std::env::var_os("MINIBROWSE_REQUIRE_INTEROP").is_some() {
            panic!(
                "chromium and Python's playwright are required (run scripts/install-test-deps.sh)"
            );
        }
        eprintln!("skipped: needs /usr/bin/chromium and Python's playwright");
    }
    playwright && chromium
}

fn script() -> String {
    format!(
        "{}/tests/python/har_chromium.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Every key path of a JSON value (`response.content.mimeType`), arrays looked into.
fn paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = format!("{prefix}{k}");
                out.insert(path.clone());
                paths(v, &format!("{path}."), out);
            }
        }
        Value::Array(items) => {
            for item in items {
                paths(item, prefix, out);
            }
        }
        _ => {}
    }
}

#[test]
fn our_har_has_chromiums_shape_and_chromium_replays_it() {
    if !available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("minibrowse-chromium-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (ours, theirs) = (dir.join("ours.har"), dir.join("chromium.har"));
    let world = common::world();
    let url = world.url("/assets.html");

    let browser = Browser::new(common::options(&world)).expect("browser");
    let collector = Arc::new(Collector::default());
    let trace = Trace::keeping_bodies(collector.clone(), 1024 * 1024);
    let page = browser.load(&url, &trace).expect("load");
    let har = build(&HarSource {
        events: &collector.events(),
        started: trace.start_wall(),
        bodies: &trace.kept_bodies(),
        title: page.title(),
    });
    std::fs::write(&ours, serde_json::to_string(&har).expect("json")).expect("write");

    let recorded = Command::new("python3")
        .arg(script())
        .args(["record", &url])
        .arg(&theirs)
        .output()
        .expect("python3 runs");
    assert!(
        recorded.status.success(),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    let chromium: Value =
        serde_json::from_slice(&std::fs::read(&theirs).expect("chromium's HAR")).expect("json");

    let (mut theirs_paths, mut ours_paths) = (BTreeSet::new(), BTreeSet::new());
    for entry in chromium["log"]["entries"].as_array().expect("entries") {
        paths(entry, "", &mut theirs_paths);
    }
    for entry in har["log"]["entries"].as_array().expect("entries") {
        paths(entry, "", &mut ours_paths);
    }
    // Underscore fields are each tool's own extensions.
    let missing: Vec<&String> = theirs_paths
        .iter()
        .filter(|p| !p.split('.').any(|part| part.starts_with('_')))
        .filter(|p| !ours_paths.contains(*p))
        .collect();
    assert!(
        missing.is_empty(),
        "fields Chromium writes and we do not: {missing:?}"
    );
    let page_keys = |v: &Value| {
        let mut out = BTreeSet::new();
        paths(&v["log"]["pages"], "", &mut out);
        out
    };
    assert!(page_keys(&chromium)
        .iter()
        .filter(|p| !p.starts_with('_'))
        .all(|p| page_keys(&har).contains(p)));

    // Chromium rebuilds the page from our file alone.
    drop(world);
    let replayed = Command::new("python3")
        .arg(script())
        .arg("replay")
        .arg(&ours)
        .arg(&url)
        .output()
        .expect("python3 runs");
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    let result: Value = serde_json::from_slice(&replayed.stdout).expect("json");
    assert_eq!(result["title"], "A page with many assets");
    assert!(result["finished"].as_u64().unwrap_or(0) >= 10, "{result}");
    assert_eq!(
        result["image_width"], 16,
        "the PNG came from our base64: {result}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
