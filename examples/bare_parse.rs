//! The reference points for `benches/compare.sh`: what html5ever costs on its own.
//!
//!     cargo build --release --example bare_parse
//!     target/release/examples/bare_parse rcdom FILE      # parse into markup5ever_rcdom, then exit
//!     target/release/examples/bare_parse tokenize FILE   # only html5ever's tokenizer (no tree)
//!
//! The targets are stated against these: `minibrowse --dump` must be faster than the
//! fastest classic text browser and use at most 1.5× the memory of the bare rcdom parse.

use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tokenizer::{
    BufferQueue, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use markup5ever_rcdom::RcDom;
use std::cell::Cell;

struct Count(Cell<usize>);

impl TokenSink for Count {
    type Handle = ();
    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if matches!(token, Token::TagToken(_)) {
            self.0.set(self.0.get() + 1);
        }
        TokenSinkResult::Continue
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(file)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: bare_parse rcdom|tokenize FILE");
        std::process::exit(2);
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("bare_parse: {file}: {e}");
            std::process::exit(1);
        }
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match mode.as_str() {
        "rcdom" => {
            let dom = html5ever::parse_document(RcDom::default(), Default::default()).one(text);
            println!("{}", dom.document.children.borrow().len());
        }
        "tokenize" => {
            let tokenizer = Tokenizer::new(Count(Cell::new(0)), TokenizerOpts::default());
            let queue = BufferQueue::default();
            queue.push_back(StrTendril::from(text));
            let _ = tokenizer.feed(&queue);
            tokenizer.end();
            println!("{} tags", tokenizer.sink.0.get());
        }
        _ => {
            eprintln!("bare_parse: unknown mode {mode}");
            std::process::exit(2);
        }
    }
}
