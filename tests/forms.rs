//! Forms against the demo world: the submission a page's form makes, on the wire (the
//! request the trace recorded from the socket) and as the server received it (`/echo`);
//! the guest book's POST-redirect-GET; the login's session cookie.

mod common;

use minibrowse::form::{self, Forms, Submission, Value, Values};
use minibrowse::layout::Fields;
use minibrowse::page::{Browser, Content, Page};
use minibrowse::trace::EventKind;

use common::{load_in, options, submit_in, world, Load};

fn browser(world: &minibrowse::demo::DemoWorld) -> Browser {
    let mut opts = options(world);
    opts.fields = Fields::Numbered;
    Browser::new(opts).expect("browser")
}

/// A fresh demo world and browser on the page at `path`, with its forms.
fn open(path: &str) -> (minibrowse::demo::DemoWorld, Browser, Load, Forms) {
    let world = world();
    let browser = browser(&world);
    let page = load_in(&browser, &world.url(path));
    let forms = forms_of(page.page());
    (world, browser, page, forms)
}

fn forms_of(page: &Page) -> Forms {
    match &page.content {
        Content::Html(doc) => form::extract(doc, &doc.stats.encoding),
        _ => panic!("not a page"),
    }
}

fn control(forms: &Forms, name: &str) -> usize {
    forms
        .controls
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no control {name}"))
}

/// The submission of the form holding control `field`, by button `button` (a name or a label).
fn submit(
    page: &Page,
    forms: &Forms,
    values: &Values,
    field: &str,
    button: Option<&str>,
) -> Submission {
    let form = forms.controls[control(forms, field)].form.expect("owned");
    let submitter = button.map(|b| {
        forms
            .controls
            .iter()
            .position(|c| c.form == Some(form) && c.kind.submits() && (c.name == b || c.label == b))
            .unwrap_or_else(|| panic!("no button {b}"))
    });
    let base = page.url.clone();
    form::submission(forms, values, form, submitter, (&page.url, &base)).expect("submission")
}

/// Each request's head as it went on the wire, and its body.
fn requests(load: &Load) -> Vec<(String, Option<Vec<u8>>)> {
    load.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Request { head, body, .. } => Some((
                head.clone(),
                body.as_ref().map(|b| b.preview.clone().into_bytes()),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_get_form_puts_its_fields_in_the_query() {
    let (_world, browser, page, forms) = open("/forms.html");
    let mut values = Values::default();
    values
        .0
        .insert(control(&forms, "q"), Value::Text("dns lookup".into()));
    let sub = submit(page.page(), &forms, &values, "q", None);
    let load = submit_in(&browser, &sub);
    let (head, body) = &requests(&load)[0];
    assert!(
        head.starts_with("GET /search?q=dns+lookup HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(body.is_none());
    // The trace says what the form decided, before the request.
    let names = load.names();
    let form_at = names
        .iter()
        .position(|n| *n == "form_submit")
        .expect("form event");
    assert!(form_at < names.iter().position(|n| *n == "request").expect("request"));
    let dump = load.dump();
    assert!(dump.contains("q=dns lookup"), "{dump}");
    assert!(dump.contains("Stop 1 of 10: DNS"), "{dump}");
}

#[test]
fn multipart_and_urlencoded_posts_as_sent_and_received() {
    let (_world, browser, page, forms) = open("/forms.html");
    let mut values = Values::default();
    values
        .0
        .insert(control(&forms, "secret"), Value::Text("hunter2".into()));
    values.toggle(&forms, control(&forms, "urgent"));
    // The first radio button of "size" (small).
    values.toggle(&forms, control(&forms, "size"));
    values
        .0
        .insert(control(&forms, "colour"), Value::Selected(vec![2]));
    let upload = std::env::temp_dir().join(format!("minibrowse-upload-{}.txt", std::process::id()));
    std::fs::write(&upload, b"file body\n").expect("write");
    values
        .0
        .insert(control(&forms, "upload"), Value::File(Some(upload.clone())));

    let sub = submit(
        page.page(),
        &forms,
        &values,
        "name",
        Some("Send as multipart"),
    );
    let load = submit_in(&browser, &sub);
    let (head, body) = &requests(&load)[0];
    assert!(head.starts_with("POST /echo HTTP/1.1\r\n"), "{head}");
    let boundary = head
        .split("boundary=")
        .nth(1)
        .and_then(|b| b.split("\r\n").next())
        .expect("boundary")
        .to_string();
    let file_name = upload
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let expected = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAda\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\nhunter2\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"size\"\r\n\r\nsmall\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"subscribe\"\r\n\r\non\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"urgent\"\r\n\r\nyes\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"colour\"\r\n\r\nblue\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nTwo\r\nlines\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"{file_name}\"\r\nContent-Type: text/plain\r\n\r\nfile body\n\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"lesson\"\r\n\r\nforms\r\n\
         --{b}--\r\n",
        b = boundary
    );
    assert_eq!(
        String::from_utf8_lossy(body.as_deref().expect("body")),
        expected
    );
    // The server got those bytes.
    assert!(load.dump().contains("file body"), "{}", load.dump());
    // The trace's account hides the password; the body does not (that is the lesson).
    let fields = load
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::FormSubmit {
                fields, submitter, ..
            } => Some((fields.clone(), submitter.clone())),
            _ => None,
        })
        .expect("form event");
    assert!(fields
        .0
        .contains(&("secret".to_string(), "***".to_string())));
    assert_eq!(fields.1.as_deref(), Some("[Send as multipart]"));

    // The same form by its urlencoded button (formenctype).
    let sub = submit(
        page.page(),
        &forms,
        &values,
        "name",
        Some("Send urlencoded"),
    );
    let load = submit_in(&browser, &sub);
    let (head, body) = &requests(&load)[0];
    assert!(
        head.contains("\r\ncontent-type: application/x-www-form-urlencoded\r\n"),
        "{head}"
    );
    assert_eq!(
        String::from_utf8_lossy(body.as_deref().expect("body")),
        format!("name=Ada&secret=hunter2&size=small&subscribe=on&urgent=yes&colour=blue&note=Two%0D%0Alines&upload={file_name}&lesson=forms")
    );
    let _ = std::fs::remove_file(upload);
}

#[test]
fn the_guest_book_answers_a_post_with_a_redirect_to_a_get() {
    let (_world, browser, page, forms) = open("/guestbook");
    let mut values = Values::default();
    values
        .0
        .insert(control(&forms, "name"), Value::Text("Grace".into()));
    values.0.insert(
        control(&forms, "message"),
        Value::Text("hello, class".into()),
    );
    let sub = submit(
        page.page(),
        &forms,
        &values,
        "name",
        Some("Sign the guest book"),
    );
    let load = submit_in(&browser, &sub);
    let redirect = load
        .events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Redirect {
                status,
                method,
                next_method,
                ..
            } => Some((*status, method.clone(), next_method.clone())),
            _ => None,
        })
        .expect("a redirect");
    assert_eq!(redirect, (303, Some("POST".into()), Some("GET".into())));
    let heads = requests(&load);
    assert!(heads[0].0.starts_with("POST /guestbook HTTP/1.1"));
    assert!(heads[1].0.starts_with("GET /guestbook HTTP/1.1"));
    assert!(heads[1].1.is_none(), "the GET after a 303 has no body");
    let dump = load.dump();
    assert!(dump.contains("Grace: hello, class 👋"), "{dump}");
    assert!(dump.contains("1 signature"), "{dump}");
}

#[test]
fn logging_in_gives_a_session_cookie_the_next_request_carries() {
    let (world, browser, page, forms) = open("/login");
    let mut values = Values::default();
    values
        .0
        .insert(control(&forms, "user"), Value::Text("ada".into()));
    values
        .0
        .insert(control(&forms, "password"), Value::Text("wrong".into()));
    let refused = submit_in(
        &browser,
        &submit(page.page(), &forms, &values, "user", None),
    );
    assert_eq!(refused.page().status, Some(403));
    values
        .0
        .insert(control(&forms, "password"), Value::Text("demo".into()));
    // Enter in a field: the form's default button submits it.
    let submitter = form::implicit_submitter(&forms, 0).expect("implicit");
    assert!(submitter.is_some());
    let load = submit_in(
        &browser,
        &submit(page.page(), &forms, &values, "user", None),
    );
    assert_eq!(load.count("set_cookie"), 1);
    assert!(load.dump().contains("Signed in as ada"), "{}", load.dump());
    // A new request carries the cookie: the server knows who it is.
    let again = load_in(&browser, &world.url("/account"));
    assert!(
        requests(&again)[0].0.contains("\r\ncookie: session="),
        "{}",
        requests(&again)[0].0
    );
    assert!(again.dump().contains("Signed in as ada"));
    // Signing out deletes it.
    let account = forms_of(again.page());
    let out = submit_in(
        &browser,
        &submit(
            again.page(),
            &account,
            &Values::default(),
            "",
            Some("Sign out"),
        ),
    );
    assert!(out.dump().contains("not signed in"), "{}", out.dump());
}
