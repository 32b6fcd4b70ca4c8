//! Form submission, as the HTML standard's form-submission algorithm has it: the entry list
//! (which controls count, in tree order, with what value), the action, method and encoding
//! (the submitter's `formaction`/`formmethod`/`formenctype` first), and the request that
//! results: the query of a GET, or a body urlencoded, as multipart/form-data or as text.
//! <https://html.spec.whatwg.org/multipage/form-control-infrastructure.html#form-submission-algorithm>

use std::collections::HashMap;
use std::path::PathBuf;

use url::Url;

use super::model::{Control, ControlKind, Forms};
use crate::net::RequestSpec;

/// What a person gave a control: typed text, a box ticked, options chosen, a file named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Checked(bool),
    /// Indices into the control's options.
    Selected(Vec<usize>),
    /// A file to send (none: an empty file part, as a browser sends for no file).
    File(Option<PathBuf>),
}

/// The values a person gave a page's controls, by control index; a control missing here
/// has its default (from the page).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values(pub HashMap<usize, Value>);

impl Values {
    /// The text of control `i` now: what was typed, else its default value.
    pub fn text(&self, forms: &Forms, i: usize) -> String {
        match self.0.get(&i) {
            Some(Value::Text(t)) => t.clone(),
            _ => forms
                .controls
                .get(i)
                .and_then(|c| c.value.clone())
                .unwrap_or_default(),
        }
    }

    /// Whether checkbox or radio button `i` is checked now.
    pub fn checked(&self, forms: &Forms, i: usize) -> bool {
        match self.0.get(&i) {
            Some(Value::Checked(c)) => *c,
            _ => forms.controls.get(i).is_some_and(|c| c.checked),
        }
    }

    /// The options of select `i` chosen now.
    pub fn selected(&self, forms: &Forms, i: usize) -> Vec<usize> {
        match self.0.get(&i) {
            Some(Value::Selected(s)) => s.clone(),
            _ => forms
                .controls
                .get(i)
                .map(|c| {
                    c.options
                        .iter()
                        .enumerate()
                        .filter(|(_, o)| o.selected)
                        .map(|(k, _)| k)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The file named for file input `i`.
    pub fn file(&self, i: usize) -> Option<PathBuf> {
        match self.0.get(&i) {
            Some(Value::File(f)) => f.clone(),
            _ => None,
        }
    }

    /// Toggles checkbox `i`, or checks radio button `i` and unchecks the others of its
    /// group (same form owner, same name).
    pub fn toggle(&mut self, forms: &Forms, i: usize) {
        let Some(control) = forms.controls.get(i) else {
            return;
        };
        match control.kind {
            ControlKind::Checkbox => {
                let now = self.checked(forms, i);
                self.0.insert(i, Value::Checked(!now));
            }
            ControlKind::Radio => {
                for (k, other) in forms.controls.iter().enumerate() {
                    let same_group = other.kind == ControlKind::Radio
                        && other.form == control.form
                        && !control.name.is_empty()
                        && other.name == control.name;
                    if same_group && k != i {
                        self.0.insert(k, Value::Checked(false));
                    }
                }
                self.0.insert(i, Value::Checked(true));
            }
            _ => {}
        }
    }
}

/// One entry of the form data set: a name and a string, or a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryValue {
    Text(String),
    /// The file a person named, or none (an empty part named "").
    File(Option<PathBuf>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub value: EntryValue,
    /// A password's: the trace does not show it.
    pub secret: bool,
}

/// The standard's entry list of form `form` submitted by control `submitter` (None: an
/// implicit submission without a button): successful controls only, in tree order.
pub fn entry_list(
    forms: &Forms,
    values: &Values,
    form: usize,
    submitter: Option<usize>,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (i, control) in forms.controls_of(form) {
        if control.in_datalist || control.disabled {
            continue;
        }
        let is_submitter = submitter == Some(i);
        match control.kind {
            // Buttons count only as the submitter; reset and plain buttons never.
            ControlKind::Submit | ControlKind::Reset | ControlKind::Button if !is_submitter => {
                continue
            }
            ControlKind::Image if is_submitter => {
                // Where the image was clicked: a keyboard has no point, so 0,0.
                let prefix = if control.name.is_empty() {
                    String::new()
                } else {
                    format!("{}.", control.name)
                };
                entries.push(text_entry(format!("{prefix}x"), "0".into()));
                entries.push(text_entry(format!("{prefix}y"), "0".into()));
                continue;
            }
            ControlKind::Image => continue,
            ControlKind::Checkbox | ControlKind::Radio if !values.checked(forms, i) => continue,
            _ => {}
        }
        if control.name.is_empty() {
            continue;
        }
        push_control(&mut entries, forms, values, i, control);
    }
    entries
}

fn text_entry(name: String, value: String) -> Entry {
    Entry {
        name,
        value: EntryValue::Text(value),
        secret: false,
    }
}

/// The entries one successful, named control adds.
fn push_control(
    entries: &mut Vec<Entry>,
    forms: &Forms,
    values: &Values,
    i: usize,
    control: &Control,
) {
    let name = control.name.clone();
    match control.kind {
        ControlKind::Select => {
            for k in values.selected(forms, i) {
                if let Some(option) = control.options.get(k).filter(|o| !o.disabled) {
                    entries.push(text_entry(name.clone(), option.value.clone()));
                }
            }
        }
        ControlKind::Checkbox | ControlKind::Radio => {
            let value = control.value.clone().unwrap_or_else(|| "on".into());
            entries.push(text_entry(name, value));
        }
        ControlKind::File => entries.push(Entry {
            name,
            value: EntryValue::File(values.file(i)),
            secret: false,
        }),
        // `_charset_` without a value sends the encoding the form is sent in.
        ControlKind::Hidden
            if name.eq_ignore_ascii_case("_charset_") && control.value.is_none() =>
        {
            entries.push(text_entry(name, forms.encoding.clone()))
        }
        _ => {
            let mut value = values.text(forms, i);
            if control.kind != ControlKind::Textarea {
                // A one-line field's value sanitization: no line breaks.
                value.retain(|c| c != '\n' && c != '\r');
            }
            entries.push(Entry {
                secret: control.kind == ControlKind::Password,
                ..text_entry(name, value)
            });
            if let Some(dirname) = control.dirname.clone().filter(|_| control.kind.is_typed()) {
                entries.push(text_entry(dirname, "ltr".into()));
            }
        }
    }
}

/// How a form's entries are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enctype {
    UrlEncoded,
    Multipart,
    TextPlain,
}

impl Enctype {
    /// The `enctype` attribute's keyword; anything else is the default.
    fn parse(value: Option<&str>) -> Enctype {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            Some("multipart/form-data") => Enctype::Multipart,
            Some("text/plain") => Enctype::TextPlain,
            _ => Enctype::UrlEncoded,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Enctype::UrlEncoded => "application/x-www-form-urlencoded",
            Enctype::Multipart => "multipart/form-data",
            Enctype::TextPlain => "text/plain",
        }
    }
}

/// A form submission, decided but not yet encoded (a file is read only when it is sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// The action resolved against the page's base URL.
    pub action: Url,
    /// GET or POST.
    pub method: String,
    pub enctype: Enctype,
    /// The encoding names and values are sent in (WHATWG name).
    pub encoding: String,
    pub entries: Vec<Entry>,
    /// The button that submitted it, as the trace names it (`[Sign]`), if any.
    pub submitter: Option<String>,
    /// Which attributes decided it: (`action`, `formaction`, …) for the trace.
    pub decided_by: Vec<String>,
    /// The form's name or number, for the trace.
    pub form: String,
}

/// Why a form was not submitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotSubmitted(pub String);

/// Builds the submission of form `form` by `submitter`, on a page at `page_url` whose base
/// URL is `base`.
pub fn submission(
    forms: &Forms,
    values: &Values,
    form: usize,
    submitter: Option<usize>,
    (page_url, base): (&Url, &Url),
) -> Result<Submission, NotSubmitted> {
    let f = forms
        .forms
        .get(form)
        .ok_or_else(|| NotSubmitted("no such form".into()))?;
    let button = submitter.and_then(|i| forms.controls.get(i));
    let mut decided_by = Vec::new();
    let mut pick = |own: Option<&String>,
                    own_name: &str,
                    form_attr: Option<&String>,
                    name: &str| match (own, form_attr) {
        (Some(v), _) => {
            decided_by.push(own_name.to_string());
            Some(v.clone())
        }
        (None, Some(v)) => {
            decided_by.push(name.to_string());
            Some(v.clone())
        }
        _ => None,
    };
    let action = pick(
        button.and_then(|b| b.formaction.as_ref()),
        "formaction",
        f.action.as_ref(),
        "action",
    );
    let method = pick(
        button.and_then(|b| b.formmethod.as_ref()),
        "formmethod",
        f.method.as_ref(),
        "method",
    );
    let enctype = pick(
        button.and_then(|b| b.formenctype.as_ref()),
        "formenctype",
        f.enctype.as_ref(),
        "enctype",
    );
    let method = match method.map(|m| m.trim().to_ascii_lowercase()).as_deref() {
        Some("post") => "POST",
        Some("dialog") => {
            return Err(NotSubmitted(
                "method=dialog closes a dialog box with a script; nothing is sent".into(),
            ))
        }
        _ => "GET",
    };
    // An empty action is the document itself (its URL, not the base URL).
    let action = match action.as_deref().map(str::trim) {
        None | Some("") => page_url.clone(),
        Some(a) => base
            .join(a)
            .map_err(|e| NotSubmitted(format!("the form's action {a:?} is not a URL ({e})")))?,
    };
    if !matches!(action.scheme(), "http" | "https") {
        return Err(NotSubmitted(format!(
            "this browser sends forms only to http and https, not to {}:",
            action.scheme()
        )));
    }
    Ok(Submission {
        action,
        method: method.to_string(),
        enctype: Enctype::parse(enctype.as_deref()),
        encoding: form_encoding(f.accept_charset.as_deref(), &forms.encoding),
        entries: entry_list(forms, values, form, submitter),
        submitter: button.map(|b| format!("[{}]", button_label(b))),
        decided_by,
        form: f
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("form {}", form + 1)),
    })
}

/// What a button shows (`Submit` when it says nothing).
pub fn button_label(control: &Control) -> String {
    let label = control.label.trim();
    if !label.is_empty() {
        return label.to_string();
    }
    match control.kind {
        ControlKind::Reset => "Reset".into(),
        _ => "Submit".into(),
    }
}

/// The standard's "picking an encoding for the form": the first label of `accept-charset`
/// that names an encoding, else the document's; UTF-16 is sent as UTF-8.
fn form_encoding(accept_charset: Option<&str>, document: &str) -> String {
    let chosen = accept_charset
        .into_iter()
        .flat_map(|a| a.split_ascii_whitespace())
        .find_map(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
        .or_else(|| encoding_rs::Encoding::for_label(document.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    chosen.output_encoding().name().to_string()
}

/// The largest file a form may send (as `--data @FILE`'s limit does for the CLI).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

impl Submission {
    /// The URL the request goes to: for a GET, the action with the entries as its query.
    pub fn url(&self) -> Url {
        let mut url = self.action.clone();
        if self.method == "GET" {
            let query = urlencoded(&self.entries, self.encoding_rs());
            url.set_query(Some(&query));
        }
        url
    }

    /// The trace's account of the decision (a password's value hidden: the projector
    /// shows the trace; the body, as sent, is the lesson about http://).
    pub fn event(&self) -> crate::trace::EventKind {
        let fields = self
            .entries
            .iter()
            .map(|e| {
                let value = match &e.value {
                    _ if e.secret => crate::trace::redact::HIDDEN.to_string(),
                    EntryValue::Text(t) => t.clone(),
                    EntryValue::File(None) => "<no file>".to_string(),
                    EntryValue::File(Some(_)) => format!("<file {}>", entry_text(&e.value)),
                };
                (e.name.clone(), value)
            })
            .collect();
        crate::trace::EventKind::FormSubmit {
            form: self.form.clone(),
            submitter: self.submitter.clone(),
            method: self.method.clone(),
            action: self.action.to_string(),
            enctype: if self.method == "GET" {
                Enctype::UrlEncoded.name().to_string()
            } else {
                self.enctype.name().to_string()
            },
            encoding: self.encoding.clone(),
            fields,
            decided_by: self.decided_by.clone(),
        }
    }

    /// The request: for a GET, the action with the entries as its query; for a POST, the
    /// action and the body in the form's encoding. Reads the files named (regular files of
    /// at most [`MAX_FILE_BYTES`]).
    pub fn request(&self) -> Result<(Url, RequestSpec), NotSubmitted> {
        if self.method == "GET" {
            return Ok((self.url(), RequestSpec::get()));
        }
        let (body, content_type) = match self.enctype {
            Enctype::UrlEncoded => (
                urlencoded(&self.entries, self.encoding_rs()).into_bytes(),
                Enctype::UrlEncoded.name().to_string(),
            ),
            Enctype::TextPlain => (
                text_plain(&self.entries, self.encoding_rs()),
                "text/plain".to_string(),
            ),
            Enctype::Multipart => {
                let boundary = boundary();
                (
                    multipart(&self.entries, self.encoding_rs(), &boundary)?,
                    format!("multipart/form-data; boundary={boundary}"),
                )
            }
        };
        Ok((
            self.action.clone(),
            RequestSpec {
                method: "POST".into(),
                body: Some((body, content_type)),
            },
        ))
    }

    fn encoding_rs(&self) -> &'static encoding_rs::Encoding {
        encoding_rs::Encoding::for_label(self.encoding.as_bytes()).unwrap_or(encoding_rs::UTF_8)
    }
}

/// Line breaks as CRLF, as the standard normalizes names and values before encoding them.
fn crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                out.push_str("\r\n");
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
            }
            '\n' => out.push_str("\r\n"),
            c => out.push(c),
        }
    }
    out
}

/// A file entry's string form where files cannot be sent: its file name.
fn entry_text(value: &EntryValue) -> String {
    match value {
        EntryValue::Text(t) => t.clone(),
        EntryValue::File(path) => file_name(path.as_deref()),
    }
}

fn file_name(path: Option<&std::path::Path>) -> String {
    path.and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `application/x-www-form-urlencoded` (the URL standard's serializer: `+` for a space),
/// names and values in `encoding` (a character it cannot hold becomes `&#N;`, as in
/// browsers).
pub fn urlencoded(entries: &[Entry], encoding: &'static encoding_rs::Encoding) -> String {
    let encode: &dyn Fn(&str) -> std::borrow::Cow<'_, [u8]> = &|s| {
        if encoding == encoding_rs::UTF_8 {
            std::borrow::Cow::Borrowed(s.as_bytes())
        } else {
            std::borrow::Cow::Owned(encoding.encode(s).0.into_owned())
        }
    };
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    serializer.encoding_override(Some(encode));
    for entry in entries {
        serializer.append_pair(&crlf(&entry.name), &crlf(&entry_text(&entry.value)));
    }
    serializer.finish()
}

/// `text/plain`: `name=value` lines, for people to read (the standard warns it cannot be
/// read back reliably).
fn text_plain(entries: &[Entry], encoding: &'static encoding_rs::Encoding) -> Vec<u8> {
    let mut out = String::new();
    for entry in entries {
        out.push_str(&crlf(&entry.name));
        out.push('=');
        out.push_str(&crlf(&entry_text(&entry.value)));
        out.push_str("\r\n");
    }
    encoding.encode(&out).0.into_owned()
}

/// A boundary unlikely to occur in any part: a fixed prefix and 128 random bits.
fn boundary() -> String {
    format!("----minibrowse{}", crate::random::hex128())
}

/// A name or file name in a part's header: line breaks and quotes escaped as the standard
/// says (`%0A`, `%0D`, `%22`).
fn header_escape(text: &str) -> String {
    crlf(text)
        .replace('\n', "%0A")
        .replace('\r', "%0D")
        .replace('"', "%22")
}

/// `multipart/form-data` (RFC 7578 as the HTML standard profiles it): one part per entry,
/// files read now.
pub fn multipart(
    entries: &[Entry],
    encoding: &'static encoding_rs::Encoding,
    boundary: &str,
) -> Result<Vec<u8>, NotSubmitted> {
    let mut out = Vec::new();
    for entry in entries {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let name = header_escape(&entry.name);
        match &entry.value {
            EntryValue::Text(text) => {
                let head = format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n");
                out.extend_from_slice(&encoding.encode(&head).0);
                out.extend_from_slice(&encoding.encode(&crlf(text)).0);
            }
            EntryValue::File(path) => {
                let file = header_escape(&file_name(path.as_deref()));
                let (bytes, media_type) = match path {
                    Some(p) => (read_file(p)?, media_type_of(p)),
                    None => (Vec::new(), "application/octet-stream"),
                };
                let head = format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: {media_type}\r\n\r\n"
                );
                out.extend_from_slice(&encoding.encode(&head).0);
                out.extend_from_slice(&bytes);
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok(out)
}

/// A file a person named for a file input: a regular file (not a FIFO that would never
/// end) of at most [`MAX_FILE_BYTES`].
fn read_file(path: &std::path::Path) -> Result<Vec<u8>, NotSubmitted> {
    use std::io::Read;
    let shown = path.display();
    let file =
        std::fs::File::open(path).map_err(|e| NotSubmitted(format!("cannot read {shown}: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| NotSubmitted(format!("cannot read {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(NotSubmitted(format!("{shown} is not a regular file")));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| NotSubmitted(format!("cannot read {shown}: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(NotSubmitted(format!(
            "{shown} is larger than the {} MiB a form may send",
            MAX_FILE_BYTES >> 20
        )));
    }
    Ok(bytes)
}

/// A file part's type, by its extension (browsers ask the system; this is the usual table).
fn media_type_of(path: &std::path::Path) -> &'static str {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" => "text/plain",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "js" => "text/javascript",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}
