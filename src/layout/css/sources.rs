//! The stylesheets' text, by URL, as whoever loads the page hands it to the layout. The
//! layout reads no files and fetches nothing: a remote page's sheets are fetched by the
//! asset walk before the layout starts ([`StyleSources::insert`]); a local page is laid
//! out while it is parsed, so which sheets it links is known only as the layout reaches
//! them, and its loader gives a function that reads one when asked
//! ([`StyleSources::with_reader`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use url::Url;

/// Reads the text of a stylesheet nobody handed over (None: there is none to have).
type ReadSheet = dyn Fn(&Url) -> Option<String>;

/// The stylesheets' text, by URL (without its fragment).
#[derive(Default)]
pub struct StyleSources {
    /// What was handed over or read; None: asked for, and there was none.
    sheets: RefCell<HashMap<String, Option<Rc<str>>>>,
    /// Asked, once per URL, for a sheet not in `sheets`.
    read: Option<Box<ReadSheet>>,
}

impl StyleSources {
    pub fn new() -> StyleSources {
        StyleSources::default()
    }

    /// Sources that ask `read` for a sheet they were not given, the first time it is
    /// wanted, and keep its answer.
    pub fn with_reader(read: impl Fn(&Url) -> Option<String> + 'static) -> StyleSources {
        StyleSources {
            read: Some(Box::new(read)),
            ..StyleSources::default()
        }
    }

    pub fn insert(&mut self, url: &Url, text: String) {
        self.sheets
            .get_mut()
            .insert(without_fragment(url), Some(text.into()));
    }

    /// The text of the stylesheet at `url`, if it was handed over (or the reader has it).
    pub fn get(&self, url: &Url) -> Option<Rc<str>> {
        let key = without_fragment(url);
        if let Some(found) = self.sheets.borrow().get(&key) {
            return found.clone();
        }
        let read = self.read.as_ref()?;
        let text: Option<Rc<str>> = read(url).map(Rc::from);
        self.sheets.borrow_mut().insert(key, text.clone());
        text
    }

    pub fn contains(&self, url: &Url) -> bool {
        self.sheets.borrow().contains_key(&without_fragment(url))
    }

    pub fn len(&self) -> usize {
        self.sheets.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.sheets.borrow().is_empty()
    }
}

impl std::fmt::Debug for StyleSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StyleSources")
            .field("urls", &self.sheets.borrow().keys().collect::<Vec<_>>())
            .field("reader", &self.read.is_some())
            .finish()
    }
}

/// The key a sheet is kept under: its URL without the fragment (`a.css#x` is `a.css`).
pub(super) fn without_fragment(url: &Url) -> String {
    let mut url = url.clone();
    url.set_fragment(None);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use url::Url;

    use super::StyleSources;

    #[test]
    fn the_reader_is_asked_once_per_sheet_and_after_what_was_handed_over() {
        let asked = Rc::new(Cell::new(0));
        let counter = Rc::clone(&asked);
        let mut sources = StyleSources::with_reader(move |url| {
            counter.set(counter.get() + 1);
            (url.path() == "/read.css").then(|| "p { display: none }".to_string())
        });
        let url = |s: &str| Url::parse(s).expect("a URL");
        sources.insert(&url("file:///given.css"), "given".into());
        assert_eq!(
            sources.get(&url("file:///given.css#x")).as_deref(),
            Some("given")
        );
        assert_eq!(asked.get(), 0);
        for _ in 0..2 {
            let read = sources.get(&url("file:///read.css"));
            assert_eq!(read.as_deref(), Some("p { display: none }"));
            assert_eq!(sources.get(&url("file:///missing.css")), None);
        }
        assert_eq!(asked.get(), 2, "each URL asked once, a missing one too");
        assert!(StyleSources::new().get(&url("file:///read.css")).is_none());
    }
}
