//! minibrowse: a browser-like terminal client that shows, step by step, what a browser does.
//!
//! The pipeline, one module per stage, each reporting into one [`trace::Trace`]:
//! [`page::Browser::load`] turns what the user typed into a URL, asks DNS for the host's
//! address ([`net::dns`], hickory-resolver), connects and speaks HTTP ([`net::http`], ureq on
//! an instrumented connection, [`net::wire`]), decodes and parses the HTML into a DOM
//! ([`html`], html5ever) as it arrives, while a preload scanner asks for what it sees; walks
//! the DOM for subresources ([`assets`]) and fetches them by priority ([`load`]), and lays the
//! page out as text ([`layout`]) as soon as what can change its text is in. The [`views`] turn the trace and
//! the layout into `--trace`, `--json` and `--dump` output. [`demo`] is the offline world
//! (DNS + web server on loopback) that the default command and the tests browse.

pub mod assets;
pub mod chat;
pub mod demo;
pub mod form;
pub mod html;
pub mod layout;
pub mod load;
pub mod net;
pub mod page;
pub mod random;
pub mod refresh;
pub mod text;
pub mod trace;
pub mod tui;
pub mod views;
