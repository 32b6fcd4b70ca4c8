//! The HTTP cache against the demo world, browsed for real: what a second load asks the
//! server (counted at the server's console), what a reload and a hard reload send, 304s,
//! `no-store`, `Vary`, the heuristic, `--cache-dir` across two runs of the binary, step
//! mode and the HAR.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{options, served, world_with_console};
use minibrowse::demo::DemoWorld;
use minibrowse::page::{Browser, Options};
use minibrowse::trace::{
    CacheAction, CacheMode, CacheStep, Collector, EventKind, Gate, RequestLog, Trace,
};

/// A load in `browser` with the cache mode of a reload (`Normal` for a plain visit).
fn visit(browser: &Browser, url: &str, mode: CacheMode) -> common::Load {
    let collector = Arc::new(Collector::default());
    let trace = Trace::new(collector.clone());
    trace.set_cache_mode(mode);
    let result = browser.load(url, &trace);
    common::Load {
        result,
        events: collector.events(),
    }
}

fn cache_steps(load: &common::Load) -> Vec<(Option<u32>, CacheStep)> {
    load.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Cache(step) => Some((e.request, step.clone())),
            _ => None,
        })
        .collect()
}

fn actions(load: &common::Load) -> Vec<(String, CacheAction)> {
    cache_steps(load)
        .into_iter()
        .map(|(_, s)| {
            (
                s.url.rsplit('/').next().unwrap_or_default().to_string(),
                s.action,
            )
        })
        .collect()
}

/// The request heads as sent, by request id.
fn request_head(load: &common::Load, id: u32) -> String {
    load.of_request(id)
        .iter()
        .find_map(|k| match k {
            EventKind::Request { head, .. } => Some(head.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn browser(world: &DemoWorld) -> Browser {
    Browser::new(options(world)).expect("the browser starts")
}

/// The home page is `max-age=60`, its icon `max-age=3600`, its stylesheet `no-cache`.
#[test]
fn a_second_visit_within_max_age_asks_only_about_the_no_cache_stylesheet() {
    let (world, lines) = world_with_console();
    let browser = browser(&world);
    let first = visit(&browser, &world.url("/"), CacheMode::Normal);
    assert_eq!(first.count("request"), 3, "{:?}", first.names());
    assert_eq!(served(&lines).len(), 3);
    let stored = actions(&first);
    assert!(
        stored.iter().all(|(_, a)| *a == CacheAction::Stored),
        "{stored:?}"
    );

    let second = visit(&browser, &world.url("/"), CacheMode::Normal);
    assert_eq!(second.count("request"), 1, "{:?}", second.names());
    let asked = served(&lines);
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].target, "/style.css");
    assert!(asked[0].status.starts_with("304"), "{asked:?}");
    assert_eq!(
        second.dump(),
        first.dump(),
        "the page from the cache is the page"
    );

    // Each answer from the store is a row of its own, with no phases and no wire bytes.
    let log = RequestLog::of(&second.events);
    assert_eq!(log.len(), 3);
    let stylesheet = log
        .iter()
        .find(|r| r.url.ends_with("/style.css"))
        .expect("the stylesheet's row");
    assert!(stylesheet.revalidated() && !stylesheet.from_cache());
    assert_eq!(stylesheet.status(), Some(304));
    for row in log.iter().filter(|r| !r.url.ends_with("/style.css")) {
        assert!(row.from_cache(), "{} not from the cache", row.url);
        assert!(row.is_finished());
        assert_eq!(row.wire_bytes(), Some(0));
        assert_eq!(row.phases().durations(), [0.0; 6], "{}", row.url);
        assert!(row.request.is_none(), "no request head: none was sent");
    }
    let page = &cache_steps(&second)[0].1;
    let ttl = page.ttl_s.expect("a lifetime");
    assert!((55..=60).contains(&ttl), "max-age=60, just stored: {ttl}");
    assert_eq!(page.reason, "Cache-Control: max-age=60");
    assert_eq!(page.stored.as_ref().map(|s| s.status), Some(200));
    let summary = second.events.last().map(|e| e.kind.clone());
    assert!(
        matches!(
            summary,
            Some(EventKind::Summary {
                requests: 1,
                from_cache: 2,
                wire_bytes: 0,
                ..
            })
        ),
        "{summary:?}"
    );
}

#[test]
fn a_reload_revalidates_the_page_and_takes_fresh_assets_from_the_cache() {
    let (world, lines) = world_with_console();
    let browser = browser(&world);
    let first = visit(&browser, &world.url("/"), CacheMode::Normal);
    served(&lines);
    let reload = visit(&browser, &world.url("/"), CacheMode::Revalidate);
    // The page, conditional; the no-cache stylesheet too; the icon comes from the store.
    assert_eq!(reload.count("request"), 2, "{:?}", actions(&reload));
    let head = request_head(&reload, 1);
    let etag = first
        .of_request(1)
        .iter()
        .find_map(|k| match k {
            EventKind::Response { head, .. } => head
                .lines()
                .find_map(|l| l.strip_prefix("etag: ").map(str::to_string)),
            _ => None,
        })
        .expect("the page had an ETag");
    assert!(
        head.contains(&format!("if-none-match: {etag}")),
        "no If-None-Match with {etag}:\n{head}"
    );
    assert!(head.contains("cache-control: max-age=0"), "{head}");
    let asked = served(&lines);
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(
        asked.iter().all(|l| l.status.starts_with("304")),
        "{asked:?}"
    );
    assert!(asked[0].action.contains("unchanged (If-None-Match)"));
    let mut done = actions(&reload);
    done.sort_by_key(|(name, _)| name.clone());
    assert_eq!(
        done,
        vec![
            (String::new(), CacheAction::Revalidate),
            (String::new(), CacheAction::NotModified),
            ("favicon.svg".to_string(), CacheAction::Fresh),
            ("style.css".to_string(), CacheAction::Revalidate),
            ("style.css".to_string(), CacheAction::NotModified),
        ]
    );
    // The 304 carried no body; the page shown is the stored one.
    assert_eq!(reload.page().status, Some(200));
    assert_eq!(reload.dump(), first.dump());
    let log = RequestLog::of(&reload.events);
    let page_row = log.by_id(1).expect("the page's row");
    assert_eq!(page_row.status(), Some(304));
    assert!(page_row.revalidated());
    assert_eq!(page_row.wire_bytes(), Some(0));
}

#[test]
fn a_hard_reload_asks_for_everything_and_says_no_cache() {
    let (world, lines) = world_with_console();
    let browser = browser(&world);
    visit(&browser, &world.url("/"), CacheMode::Normal);
    served(&lines);
    let hard = visit(&browser, &world.url("/"), CacheMode::Bypass);
    assert_eq!(hard.count("request"), 3);
    let asked = served(&lines);
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert!(
        asked.iter().all(|l| l.status.starts_with("200")),
        "{asked:?}"
    );
    for id in 1..=3 {
        let head = request_head(&hard, id);
        assert!(head.contains("cache-control: no-cache"), "{head}");
        assert!(!head.contains("if-none-match"), "{head}");
    }
    let bypassed = actions(&hard)
        .iter()
        .filter(|(_, a)| *a == CacheAction::Bypass)
        .count();
    assert_eq!(bypassed, 3);
}

#[test]
fn a_no_cache_stylesheet_is_checked_every_time_and_the_304_answers_with_the_stored_body() {
    let (world, lines) = world_with_console();
    let browser = browser(&world);
    let url = world.url("/style.css");
    let first = visit(&browser, &url, CacheMode::Normal);
    let second = visit(&browser, &url, CacheMode::Normal);
    let steps = cache_steps(&second);
    let revalidate = &steps[0].1;
    assert_eq!(revalidate.action, CacheAction::Revalidate);
    assert!(
        revalidate.reason.contains("no-cache"),
        "{}",
        revalidate.reason
    );
    // Both validators: the ETag and the Last-Modified date it was stored with.
    assert_eq!(
        revalidate.conditions.len(),
        2,
        "{:?}",
        revalidate.conditions
    );
    assert!(revalidate.conditions[0].starts_with("If-None-Match: \""));
    assert!(revalidate.conditions[1].starts_with("If-Modified-Since: "));
    let head = request_head(&second, 1);
    assert!(head.contains("if-modified-since: "), "{head}");
    let not_modified = steps
        .iter()
        .find(|(_, s)| s.action == CacheAction::NotModified)
        .expect("a 304 merged");
    let stored = not_modified.1.stored.as_ref().expect("the stored response");
    assert_eq!(
        stored.bytes,
        first.page().source.as_ref().map_or(0, |s| s.len() as u64)
    );
    assert_eq!(stored.hits, 1);
    assert_eq!(second.dump(), first.dump());
    let statuses: Vec<String> = served(&lines).into_iter().map(|l| l.status).collect();
    assert!(
        statuses[statuses.len() - 1].starts_with("304"),
        "{statuses:?}"
    );
}

#[test]
fn a_no_store_page_is_never_kept() {
    let (world, lines) = world_with_console();
    let mut opts = options(&world);
    opts.fetch_assets = false;
    let browser = Browser::new(opts).expect("the browser starts");
    for _ in 0..2 {
        let load = visit(&browser, &world.url("/cookie.html"), CacheMode::Normal);
        assert_eq!(load.count("request"), 1);
        let steps = cache_steps(&load);
        assert_eq!(steps.len(), 1, "{steps:?}");
        assert_eq!(steps[0].1.action, CacheAction::NotStored);
        assert!(
            steps[0].1.reason.contains("no-store"),
            "{}",
            steps[0].1.reason
        );
    }
    assert_eq!(served(&lines).len(), 2);
}

#[test]
fn an_immutable_asset_is_kept_for_a_year_and_a_reload_does_not_ask_for_it() {
    let world = common::world();
    let browser = browser(&world);
    let first = visit(&browser, &world.url("/assets.html"), CacheMode::Normal);
    let logo = cache_steps(&first)
        .into_iter()
        .map(|(_, s)| s)
        .find(|s| s.url.ends_with("/img/logo.svg"))
        .expect("the logo was stored");
    assert_eq!(logo.action, CacheAction::Stored);
    assert!(logo.ttl_s.is_some_and(|t| t > 364 * 86_400), "{logo:?}");
    assert!(logo.reason.contains("immutable"), "{}", logo.reason);
    // A reload asks about the page only; the logo comes from the store, unasked.
    let reload = visit(&browser, &world.url("/assets.html"), CacheMode::Revalidate);
    let again = cache_steps(&reload)
        .into_iter()
        .map(|(_, s)| s)
        .find(|s| s.url.ends_with("/img/logo.svg"))
        .expect("the logo was looked up");
    assert_eq!(again.action, CacheAction::Fresh);
    assert!(reload.request_for("/img/logo.svg").is_none());
}

#[test]
fn a_file_with_only_last_modified_gets_the_heuristic_lifetime() {
    let world = common::world();
    let load = common::load(&world, "/text.txt");
    let head = load
        .of_request(1)
        .iter()
        .find_map(|k| match k {
            EventKind::Response { head, .. } => Some(head.clone()),
            _ => None,
        })
        .expect("a response");
    assert!(
        !head.to_ascii_lowercase().contains("cache-control"),
        "{head}"
    );
    let field = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
            .unwrap_or_else(|| panic!("no {name} in\n{head}"))
    };
    let age = field("date:")
        .duration_since(field("last-modified:"))
        .expect("modified before sent")
        .as_secs();
    let stored = &cache_steps(&load)[0].1;
    assert_eq!(stored.action, CacheAction::Stored);
    assert!(stored.reason.contains("heuristic"), "{}", stored.reason);
    // RFC 9111 4.2.2's usual choice, as http-cache-semantics makes it: 10% of the age.
    let ttl = stored.ttl_s.expect("a lifetime");
    assert!(
        ttl.abs_diff(age / 10) <= 1,
        "ttl {ttl} s for an age of {age} s"
    );
}

/// A directory for one test's cache, removed at the end.
struct CacheDir(PathBuf);

impl CacheDir {
    fn new(label: &str) -> CacheDir {
        let dir = std::env::temp_dir().join(format!(
            "minibrowse-test-cache-{label}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        CacheDir(dir)
    }
}

impl Drop for CacheDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn browser_in(world: &DemoWorld, dir: &CacheDir, edit: impl FnOnce(&mut Options)) -> Browser {
    let mut opts = options(world);
    opts.http.cache_dir = Some(dir.0.clone());
    edit(&mut opts);
    Browser::new(opts).expect("the browser starts")
}

#[test]
fn vary_keeps_a_stored_response_from_a_request_with_other_headers() {
    let world = common::world();
    let dir = CacheDir::new("vary");
    let url = world.url("/compressed.html");
    let first = browser_in(&world, &dir, |o| o.fetch_assets = false);
    let gzipped = visit(&first, &url, CacheMode::Normal);
    assert_eq!(actions(&gzipped)[0].1, CacheAction::Stored);
    drop(first);
    // The same Accept-Encoding: the stored (gzipped) response answers.
    let same = browser_in(&world, &dir, |o| o.fetch_assets = false);
    assert_eq!(visit(&same, &url, CacheMode::Normal).count("request"), 0);
    // Another Accept-Encoding: Vary says the stored one does not answer this request.
    let other = browser_in(&world, &dir, |o| {
        o.fetch_assets = false;
        o.http
            .headers
            .push(("Accept-Encoding".into(), "identity".into()));
    });
    let plain = visit(&other, &url, CacheMode::Normal);
    let steps = cache_steps(&plain);
    assert_eq!(steps[0].1.action, CacheAction::Miss, "{steps:?}");
    assert!(
        steps[0].1.reason.contains("Vary: Accept-Encoding"),
        "{}",
        steps[0].1.reason
    );
    assert_eq!(plain.count("request"), 1);
    assert_eq!(plain.dump(), gzipped.dump());
}

#[test]
fn the_cache_dir_keeps_the_cache_across_two_runs_of_the_binary() {
    let world = common::world();
    let dir = CacheDir::new("cli");
    let dns = world.dns_addr.to_string();
    let url = world.url("/");
    let cache_dir = dir.0.display().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec![
            url.as_str(),
            "--json",
            "--dns-server",
            &dns,
            "--cache-dir",
            &cache_dir,
        ];
        args.extend_from_slice(extra);
        let run = common::run_binary(&args, Duration::from_secs(20));
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        String::from_utf8_lossy(&run.stdout).into_owned()
    };
    let count = |json: &str, needle: &str| json.lines().filter(|l| l.contains(needle)).count();
    let first = run(&[]);
    assert_eq!(count(&first, "\"event\":\"request\""), 3, "{first}");
    assert_eq!(count(&first, "\"action\":\"stored\""), 3, "{first}");
    // The page and its icon are fresh; the stylesheet (no-cache) is asked about: a 304.
    let second = run(&[]);
    assert_eq!(count(&second, "\"event\":\"request\""), 1, "{second}");
    assert_eq!(count(&second, "\"action\":\"fresh\""), 2, "{second}");
    assert_eq!(count(&second, "\"action\":\"not_modified\""), 1, "{second}");
    assert!(second.contains("\"from_cache\":2"), "{second}");
    // --no-cache: everything asked again, and stored again.
    let hard = run(&["--no-cache"]);
    assert_eq!(count(&hard, "\"event\":\"request\""), 3, "{hard}");
    assert_eq!(count(&hard, "\"action\":\"bypass\""), 3, "{hard}");

    // A foreign file under a cache entry's name: the next run says so and asks the network.
    for entry in std::fs::read_dir(&dir.0).expect("the cache dir").flatten() {
        std::fs::write(entry.path(), b"GIF89a not a cache entry").expect("overwritten");
    }
    let after = run(&[]);
    assert_eq!(count(&after, "\"action\":\"unreadable\""), 3, "{after}");
    assert_eq!(count(&after, "\"event\":\"request\""), 3, "{after}");
}

#[test]
fn a_cache_dir_that_is_a_file_is_a_clear_error() {
    let dir = CacheDir::new("file");
    std::fs::write(&dir.0, b"a file").expect("written");
    let path = dir.0.display().to_string();
    let run = common::run_binary(
        &["http://127.0.0.1:9/", "--cache-dir", &path],
        Duration::from_secs(10),
    );
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("--cache-dir"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    let _ = std::fs::remove_file(&dir.0);
}

/// Records the steps step mode would pause at, letting each run at once.
#[derive(Default)]
struct Steps(Mutex<Vec<String>>);

impl Gate for Steps {
    fn wait(&self, next: &str) {
        self.0.lock().expect("not poisoned").push(next.to_string());
    }
}

#[test]
fn in_step_mode_an_answer_from_the_cache_is_a_step() {
    let world = common::world();
    let browser = browser(&world);
    visit(&browser, &world.url("/"), CacheMode::Normal);
    let steps = Arc::new(Steps::default());
    let trace = Trace::with_gate(Arc::new(Collector::default()), steps.clone());
    browser.load(&world.url("/"), &trace).expect("the load");
    let seen = steps.0.lock().expect("not poisoned").clone();
    let from_cache: Vec<&String> = seen.iter().filter(|s| s.contains("HTTP cache")).collect();
    assert_eq!(from_cache.len(), 2, "{seen:?}");
    assert!(
        from_cache[0].starts_with("take http://www.minibrowse.test"),
        "{seen:?}"
    );
    // The one request made is the no-cache stylesheet's.
    let sent: Vec<&String> = seen.iter().filter(|s| s.starts_with("send ")).collect();
    assert_eq!(sent.len(), 1, "{seen:?}");
    assert!(sent[0].ends_with("/style.css"), "{seen:?}");
}

#[test]
fn the_har_marks_answers_from_the_cache_and_fills_its_cache_fields() {
    let world = common::world();
    let browser = browser(&world);
    visit(&browser, &world.url("/"), CacheMode::Normal);
    let collector = Arc::new(Collector::default());
    let trace = Trace::keeping_bodies(collector.clone(), 1 << 20);
    browser.load(&world.url("/"), &trace).expect("the load");
    let events = collector.events();
    let bodies = trace.kept_bodies();
    let archive = minibrowse::views::har::build(&minibrowse::views::har::HarSource {
        events: &events,
        started: trace.start_wall(),
        bodies: &bodies,
        title: None,
    });
    let text = serde_json::to_string(&archive).expect("JSON");
    let read = har::from_reader(text.as_bytes()).expect("the har crate reads it");
    let har::Spec::V1_2(log) = read.log else {
        panic!("HAR 1.2 expected");
    };
    assert_eq!(log.entries.len(), 3);
    for entry in &log.entries {
        let after = entry.cache.after_request.as_ref().expect("afterRequest");
        assert_eq!(after.hit_count, 1, "{}", entry.request.url);
        assert!(after.e_tag.starts_with('"'), "{}", after.e_tag);
        assert!(
            entry.response.content.text.is_some(),
            "the stored body is in the HAR"
        );
    }
    assert_eq!(archive["log"]["entries"][0]["_fromCache"], "disk");
}
