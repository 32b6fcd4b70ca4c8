//! The form data set and the encodings, against the HTML standard's rules and examples.

use url::Url;

use super::submit::multipart;
use super::*;

fn forms_of(html: &str) -> Forms {
    extract(&crate::html::parse(html), "UTF-8")
}

fn page() -> Url {
    Url::parse("http://www.example.test/dir/page.html?old=1").expect("url")
}

/// The entry list as `name=value` strings.
fn pairs(forms: &Forms, values: &Values, submitter: Option<usize>) -> Vec<String> {
    entry_list(forms, values, 0, submitter)
        .into_iter()
        .map(|e| match e.value {
            EntryValue::Text(t) => format!("{}={t}", e.name),
            EntryValue::File(f) => format!("{}=<file {f:?}>", e.name),
        })
        .collect()
}

fn index_named(forms: &Forms, name: &str) -> usize {
    forms
        .controls
        .iter()
        .position(|c| c.name == name)
        .expect("control")
}

#[test]
fn successful_controls_only_in_tree_order() {
    let forms = forms_of(
        r#"<form action="/go">
          <input name=q value="cats">
          <input type=hidden name=lang value=en>
          <input type=checkbox name=safe>
          <input type=checkbox name=fast checked>
          <input type=checkbox name=color value=red checked>
          <input type=radio name=size value=s>
          <input type=radio name=size value=m checked>
          <input name=off value=x disabled>
          <input value=nameless>
          <fieldset disabled><legend><input name=inlegend value=1></legend><input name=infield value=2></fieldset>
          <datalist><input name=inlist value=3></datalist>
          <select name=pick><option>one<option value=2>two</select>
          <select name=none size=3><option>a<option>b</select>
          <select name=many multiple><option selected>a<option>b<option selected disabled>c</select>
          <textarea name=msg>line</textarea>
          <input type=submit name=go value=Go>
          <button name=other value=b>Other</button>
          <input type=reset name=r>
        </form>"#,
    );
    assert_eq!(forms.forms.len(), 1);
    let values = Values::default();
    let go = index_named(&forms, "go");
    assert_eq!(
        pairs(&forms, &values, Some(go)),
        [
            "q=cats",
            "lang=en",
            "fast=on",
            "color=red",
            "size=m",
            "inlegend=1",
            "pick=one",
            "many=a",
            "msg=line",
            "go=Go",
        ]
    );
    // Without a submitter no button counts.
    assert!(!pairs(&forms, &values, None)
        .iter()
        .any(|p| p.starts_with("go=")));
}

#[test]
fn values_given_replace_the_defaults() {
    let forms = forms_of(
        r#"<form><input name=q value=old><input type=checkbox name=c>
           <input type=radio name=r value=a checked><input type=radio name=r value=b>
           <select name=s><option>x<option>y</select>
           <input type=password name=pw></form>"#,
    );
    let mut values = Values::default();
    values
        .0
        .insert(index_named(&forms, "q"), Value::Text("new\nline".into()));
    values.toggle(&forms, index_named(&forms, "c"));
    let b = forms
        .controls
        .iter()
        .position(|c| c.value.as_deref() == Some("b"))
        .expect("b");
    values.toggle(&forms, b);
    values
        .0
        .insert(index_named(&forms, "s"), Value::Selected(vec![1]));
    values
        .0
        .insert(index_named(&forms, "pw"), Value::Text("secret".into()));
    // A one-line field loses its line breaks; the radio group has one choice.
    assert_eq!(
        pairs(&forms, &values, None),
        ["q=newline", "c=on", "r=b", "s=y", "pw=secret"]
    );
}

#[test]
fn form_owner_by_attribute_and_nesting() {
    let forms = forms_of(
        r#"<input name=before form=f2 value=1>
           <form id=f1><input name=a value=1><input name=elsewhere form=f2 value=2></form>
           <form id=f2><input name=b value=3></form>
           <input name=nobody form=missing value=4>
           <div id=notaform></div><input name=div form=notaform>"#,
    );
    let owner = |name: &str| forms.controls[index_named(&forms, name)].form;
    assert_eq!(owner("before"), Some(1));
    assert_eq!(owner("a"), Some(0));
    assert_eq!(owner("elsewhere"), Some(1));
    assert_eq!(owner("b"), Some(1));
    assert_eq!(owner("nobody"), None);
    assert_eq!(owner("div"), None);
    let second: Vec<String> = entry_list(&forms, &Values::default(), 1, None)
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(second, ["before", "elsewhere", "b"]);
}

#[test]
fn get_replaces_the_query_and_keeps_the_action() {
    let forms =
        forms_of(r#"<form action="search?x=1#top"><input name=q value="two words&more"></form>"#);
    let sub = submission(&forms, &Values::default(), 0, None, (&page(), &page())).expect("sub");
    let (url, spec) = sub.request().expect("request");
    assert_eq!(
        url.as_str(),
        "http://www.example.test/dir/search?q=two+words%26more#top"
    );
    assert_eq!(spec, crate::net::RequestSpec::get());
    assert_eq!(sub.decided_by, ["action"]);
}

#[test]
fn empty_action_is_the_document_and_submitter_overrides() {
    let forms = forms_of(
        r#"<form method=get><input name=a value=1>
           <button name=b value=2 formaction="/other" formmethod=post>Send</button></form>"#,
    );
    let plain = submission(&forms, &Values::default(), 0, None, (&page(), &page())).expect("sub");
    assert_eq!(
        plain.request().expect("req").0.as_str(),
        "http://www.example.test/dir/page.html?a=1"
    );
    let button = index_named(&forms, "b");
    let sub = submission(
        &forms,
        &Values::default(),
        0,
        Some(button),
        (&page(), &page()),
    )
    .expect("sub");
    assert_eq!(sub.submitter.as_deref(), Some("[Send]"));
    assert_eq!(sub.decided_by, ["formaction", "formmethod"]);
    let (url, spec) = sub.request().expect("req");
    assert_eq!(url.as_str(), "http://www.example.test/other");
    assert_eq!(spec.method, "POST");
    let (body, content_type) = spec.body.expect("body");
    assert_eq!(content_type, "application/x-www-form-urlencoded");
    assert_eq!(body, b"a=1&b=2");
}

#[test]
fn post_encodings() {
    let forms = forms_of(
        r#"<form method=post enctype="multipart/form-data" action=/up>
           <input name="na&quot;me" value="é ü"><textarea name=t>a
b</textarea><input type=file name=f></form>"#,
    );
    let sub = submission(&forms, &Values::default(), 0, None, (&page(), &page())).expect("sub");
    let body = multipart(&sub.entries, encoding_rs::UTF_8, "XyZ").expect("body");
    let expected = "--XyZ\r\nContent-Disposition: form-data; name=\"na%22me\"\r\n\r\né ü\r\n\
        --XyZ\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\na\r\nb\r\n\
        --XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n\
        --XyZ--\r\n";
    assert_eq!(String::from_utf8(body).expect("utf-8"), expected);
    let (_, spec) = sub.request().expect("req");
    let (_, content_type) = spec.body.expect("body");
    assert!(content_type.starts_with("multipart/form-data; boundary=----minibrowse"));

    let text = forms_of(
        r#"<form method=post enctype=TEXT/PLAIN><input name=a value="b c"><input name=d value=e></form>"#,
    );
    let sub = submission(&text, &Values::default(), 0, None, (&page(), &page())).expect("sub");
    let (_, spec) = sub.request().expect("req");
    assert_eq!(
        spec.body,
        Some((b"a=b c\r\nd=e\r\n".to_vec(), "text/plain".into()))
    );
}

#[test]
fn names_and_values_in_the_documents_encoding() {
    let doc = crate::html::parse("<form><input name=q value='café €'></form>");
    let latin = extract(&doc, "windows-1252");
    let sub = submission(&latin, &Values::default(), 0, None, (&page(), &page())).expect("sub");
    assert_eq!(sub.request().expect("req").0.query(), Some("q=caf%E9+%80"));
    // A character the encoding lacks is sent as a numeric reference, as browsers do.
    let mut values = Values::default();
    values.0.insert(0, Value::Text("日".into()));
    let sub = submission(&latin, &values, 0, None, (&page(), &page())).expect("sub");
    assert_eq!(
        sub.request().expect("req").0.query(),
        Some("q=%26%2326085%3B")
    );
    // accept-charset wins over the document's.
    let utf = extract(
        &crate::html::parse("<form accept-charset='bogus utf-8'><input name=q value='é'></form>"),
        "windows-1252",
    );
    let sub = submission(&utf, &Values::default(), 0, None, (&page(), &page())).expect("sub");
    assert_eq!(sub.encoding, "UTF-8");
    assert_eq!(sub.request().expect("req").0.query(), Some("q=%C3%A9"));
}

#[test]
fn image_buttons_charset_and_dirname() {
    let forms = forms_of(
        r#"<form><input type=hidden name=_charset_><input name=t dirname=t.dir value=x>
           <input type=image name=map alt=Map><input type=image alt=Anon></form>"#,
    );
    let map = index_named(&forms, "map");
    assert_eq!(
        pairs(&forms, &Values::default(), Some(map)),
        ["_charset_=UTF-8", "t=x", "t.dir=ltr", "map.x=0", "map.y=0"]
    );
    let anon = forms.controls.len() - 1;
    assert_eq!(
        pairs(&forms, &Values::default(), Some(anon))[3..],
        ["x=0", "y=0"]
    );
}

#[test]
fn implicit_submission_rules() {
    let one = forms_of("<form><input name=q></form>");
    assert_eq!(implicit_submitter(&one, 0), Ok(None));
    let two = forms_of("<form><input name=a><input name=b type=email></form>");
    assert!(implicit_submitter(&two, 0).is_err());
    let with_button =
        forms_of("<form><input name=a><input name=b><button>Go</button><input type=submit></form>");
    assert_eq!(implicit_submitter(&with_button, 0), Ok(Some(2)));
    let disabled = forms_of("<form><input name=a><button disabled>Go</button></form>");
    assert!(implicit_submitter(&disabled, 0).is_err());
}

#[test]
fn refused_submissions() {
    let dialog = forms_of("<form method=dialog><input name=a></form>");
    assert!(submission(&dialog, &Values::default(), 0, None, (&page(), &page())).is_err());
    let mailto = forms_of("<form action='mailto:a@b.test'><input name=a></form>");
    let err =
        submission(&mailto, &Values::default(), 0, None, (&page(), &page())).expect_err("refused");
    assert!(err.0.contains("mailto"), "{}", err.0);
}

#[test]
fn select_selectedness() {
    let forms = forms_of(
        "<form><select name=a><option selected>1<option selected>2<option>3</select>\
         <select name=b><option disabled>x<option>y</select>\
         <select name=c multiple><option>p<option>q</select></form>",
    );
    assert_eq!(pairs(&forms, &Values::default(), None), ["a=2", "b=y"]);
}
