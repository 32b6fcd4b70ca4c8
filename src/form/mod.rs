//! Forms: what a page's `<form>`s hold ([`model`]: read from the DOM once it is parsed,
//! plain data), the values a person gives their controls ([`Values`]), and the HTML
//! standard's form submission ([`submit`]): the entry list, the submitter's overrides, and
//! the request that results (a GET's query, or a urlencoded, multipart or text body).

pub mod model;
pub mod submit;

pub use model::{extract, Control, ControlKind, Form, Forms, SelectOption};
pub use submit::{
    entry_list, submission, Enctype, Entry, EntryValue, NotSubmitted, Submission, Value, Values,
};

/// The input types whose Enter submits the form (the standard's "fields that block
/// implicit submission"): with two or more of them and no submit button, Enter does nothing.
const BLOCKS_IMPLICIT: [&str; 12] = [
    "text",
    "search",
    "url",
    "tel",
    "email",
    "password",
    "date",
    "month",
    "week",
    "time",
    "datetime-local",
    "number",
];

/// What Enter in a text field of form `form` does (the standard's implicit submission):
/// the form's default button (its first submit button) submits it, unless disabled; with no
/// submit button the form is submitted without one when it has a single such field.
pub fn implicit_submitter(forms: &Forms, form: usize) -> Result<Option<usize>, NotSubmitted> {
    if let Some((i, button)) = forms.controls_of(form).find(|(_, c)| c.kind.submits()) {
        if button.disabled {
            return Err(NotSubmitted(
                "the form's default button is disabled: Enter does nothing".into(),
            ));
        }
        return Ok(Some(i));
    }
    let blocking = forms
        .controls_of(form)
        .filter(|(_, c)| {
            matches!(c.kind, ControlKind::Text | ControlKind::Password)
                && BLOCKS_IMPLICIT.contains(&c.input_type.as_str())
        })
        .count();
    if blocking > 1 {
        return Err(NotSubmitted(
            "this form has no submit button and several text fields: Enter does nothing (as in any browser)"
                .into(),
        ));
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
