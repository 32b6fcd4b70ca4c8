//! Computed style: the HTML standard's rendering defaults (its user-agent stylesheet, as
//! code) then the author's rules in cascade order, for the handful of properties that
//! decide what text shows and how it flows.

use selectors::bloom::{BloomFilter, BLOOM_HASH_MASK};
use selectors::context::{
    MatchingContext, MatchingForInvalidation, MatchingMode, NeedsSelectorFlags, QuirksMode,
    SelectorCaches,
};
use url::Url;

use super::css::{Bucket, Decl, Media, Prop, Sheets, StyleSources};
use super::hash::hash_name;
use super::select::{El, PseudoElement, Simple, World};
use super::share::{set_bit, ShareCache, ShareRules};
use super::tree::{Tree, NONE, PENDING};
use super::values::{Display, ListStyle, Style, WhiteSpace};

/// A declaration's value set on an element's style (`::before`/`::after` take theirs apart,
/// see `Cascade::style_of`).
fn apply_declaration(style: &mut Style, prop: &Prop) {
    match *prop {
        Prop::Display(d) => style.display = d,
        Prop::Visible(v) => style.visible = v,
        Prop::WhiteSpace(w) => style.white_space = w,
        Prop::ListStyle(l) => style.list_style = l,
        Prop::Transform(t) => style.transform = t,
        Prop::Bold(b) => style.bold = b,
        Prop::Italic(i) => style.italic = i,
        Prop::Underline(u) => style.underline = u,
        Prop::MarginTop(m) => style.margin_top = m,
        Prop::MarginBottom(m) => style.margin_bottom = m,
        Prop::Content(_) => {}
    }
}

/// Gathers the page's author stylesheets in document order: `<style>` blocks and
/// `<link rel=stylesheet>` whose text the asset walk fetched, each under its media.
fn collect_sheets(
    tree: &Tree,
    elements: &[u32],
    base: &Url,
    sources: &StyleSources,
    media: Media,
) -> Sheets {
    let mut sheets = Sheets::default();
    for &i in elements {
        let node = &tree.dom(i as usize);
        match node.tag() {
            Some("style") if node.is_html_element() => {
                let ok = node
                    .with_attr("media", |m| super::css::media_attr_matches(m, media))
                    .unwrap_or(true)
                    && node
                        .with_attr("type", |t| {
                            let t = t.trim();
                            t.is_empty() || t.eq_ignore_ascii_case("text/css")
                        })
                        .unwrap_or(true);
                if ok {
                    let css = node.text_content();
                    sheets.add(&css, Some(base), sources, media);
                }
            }
            Some("link") => {
                let is_sheet = node
                    .with_attr("rel", |r| {
                        let r = r.to_ascii_lowercase();
                        let rels: Vec<&str> = r.split_ascii_whitespace().collect();
                        rels.contains(&"stylesheet") && !rels.contains(&"alternate")
                    })
                    .unwrap_or(false);
                if !is_sheet || node.has_attr("disabled") {
                    continue;
                }
                let ok = node
                    .with_attr("media", |m| super::css::media_attr_matches(m, media))
                    .unwrap_or(true);
                let url = node
                    .with_attr("href", |h| base.join(h.trim()).ok())
                    .flatten();
                if let (true, Some(url)) = (ok, url) {
                    if let Some(text) = sources.get(&url) {
                        sheets.add(&text, Some(&url), sources, media);
                    }
                }
            }
            _ => {}
        }
    }
    sheets
}

/// The `<style>` and `<link>` elements of the tree (where stylesheets can come from).
pub fn sheet_elements(tree: &Tree) -> Vec<u32> {
    (0..tree.nodes.len() as u32)
        .filter(|&i| {
            !tree.nodes[i as usize].is_text
                && matches!(tree.dom(i as usize).tag(), Some("style" | "link"))
        })
        .collect()
}

/// The cascade over a tree in document order, resumable: a layout beside the parser calls
/// [`StyleEngine::advance`] each time the tree has grown.
pub struct StyleEngine {
    cascade: Cascade,
    share_rules: ShareRules,
    cache: ShareCache,
    ancestors: Ancestors,
    styles: Vec<Style>,
    /// Each element's sharing identity: the index of the element whose style it took.
    share_of: Vec<u32>,
    /// Elements styled before something their style depends on was known (a `:last-child`
    /// whose parent was still open): settled by [`StyleEngine::settle`].
    unsettled: Vec<bool>,
    /// The next element to style.
    next: usize,
    /// A hidden element whose subtree is skipped once its end is known.
    skipping: Option<u32>,
    /// Why the styles computed while the tree grew cannot be trusted, if they cannot.
    pub gave_up: Option<String>,
}

impl StyleEngine {
    /// An engine with the stylesheets of `sheet_elements` (indices into `tree`).
    pub fn new(
        tree: &Tree,
        sheet_elements: &[u32],
        base: &Url,
        sources: &StyleSources,
        media: Media,
    ) -> StyleEngine {
        let sheets = collect_sheets(tree, sheet_elements, base, sources, media);
        let share_rules = ShareRules::of(&sheets);
        StyleEngine {
            cascade: Cascade {
                have_rules: !sheets.rules.is_empty(),
                sheets,
                bloom: BloomFilter::new(),
                use_bloom: true,
                caches: SelectorCaches::default(),
                candidates: Vec::new(),
                matched: Vec::new(),
                structural: Vec::new(),
                bits: Vec::new(),
                asked: Vec::new(),
                branches: Vec::new(),
                branch_answers: Vec::new(),
                world: World::default(),
            },
            share_rules,
            cache: ShareCache::default(),
            ancestors: Ancestors::default(),
            styles: Vec::new(),
            share_of: Vec::new(),
            unsettled: Vec::new(),
            next: 0,
            skipping: None,
            gave_up: None,
        }
    }

    /// Why these stylesheets cannot be matched on a tree still being read, if they cannot:
    /// `:has()` and counting from the end (`:nth-last-child(2)`) need elements yet to come.
    pub fn needs_whole_tree(&self) -> Option<String> {
        self.share_rules.needs_whole_tree()
    }

    /// Styles the elements the tree holds so far. With `growing`, more may come: an element
    /// whose style depends on what comes later is marked unsettled.
    pub fn advance(&mut self, tree: &Tree, growing: bool) {
        self.cascade.world.growing = growing;
        let len = tree.nodes.len();
        self.styles.resize(len, Style::default());
        self.share_of.resize(len, NONE);
        self.unsettled.resize(len, false);
        let root = Style {
            display: Display::Block,
            ..Style::default()
        };
        let mut i = self.next;
        while i < len {
            if let Some(hidden) = self.skipping {
                // Nothing below a hidden element is shown: skip its subtree.
                let end = tree.nodes[hidden as usize].end;
                if end == PENDING {
                    break;
                }
                self.skipping = None;
                i = end as usize;
                continue;
            }
            let n = &tree.nodes[i];
            if n.is_text {
                i += 1;
                continue;
            }
            self.ancestors.leave_to(n.parent, &mut self.cascade.bloom);
            let node = tree.dom(i);
            let parent_share = if n.parent == NONE {
                NONE
            } else {
                self.share_of[n.parent as usize]
            };
            self.cascade.world.start(&[]);
            let keyed = self.cache.set_key(&self.share_rules, parent_share, &node);
            let entry = if keyed { self.cache.entry() } else { None };
            let shared = entry.and_then(|entry| {
                self.cascade.revalidate(tree, i as u32, &entry.structural);
                let found = entry.find(&self.cascade.bits);
                if found.is_some() {
                    // The rules `decided` looks at below.
                    self.cascade.structural.clear();
                    self.cascade.structural.extend_from_slice(&entry.structural);
                }
                found
            });
            let style = match shared {
                Some((share, style)) => {
                    self.share_of[i] = share;
                    style
                }
                None => {
                    let parent = if n.parent == NONE {
                        &root
                    } else {
                        &self.styles[n.parent as usize]
                    };
                    let style = self.cascade.style_of(tree, i, parent, &self.share_rules);
                    self.share_of[i] = i as u32;
                    if keyed {
                        self.cache.insert(
                            &self.cascade.structural,
                            &self.cascade.bits,
                            i as u32,
                            style,
                        );
                    }
                    style
                }
            };
            self.styles[i] = style;
            if growing && self.cascade.asked_any() {
                let structural = std::mem::take(&mut self.cascade.structural);
                self.unsettled[i] = !self.cascade.decided(tree, i as u32, &structural);
                self.cascade.structural = structural;
            }
            if style.display == Display::None {
                self.skipping = Some(i as u32);
                continue;
            }
            if n.first_child != NONE || tree.is_open(i as u32) {
                let tag = node.tag().unwrap_or_default();
                self.ancestors
                    .enter(i as u32, tree, tag, &mut self.cascade.bloom);
            }
            i += 1;
        }
        self.next = i;
    }

    /// How far styles are computed: elements before this index have theirs.
    pub fn done(&self) -> usize {
        self.next
    }

    pub fn style(&self, index: usize) -> Style {
        self.styles.get(index).copied().unwrap_or_default()
    }

    /// Element `index`'s style once nothing it depends on is unknown any more: its own
    /// (unchanged) when it was settled from the start, recomputed when it was not. None
    /// while it still depends on what is to come. Should the recomputed style differ in more
    /// than what a layout can still take late (the bottom margin and `::after`, used when
    /// the element closes), the engine gives up (see `gave_up`).
    pub fn settle(&mut self, tree: &Tree, index: usize) -> Option<Style> {
        if !self.unsettled.get(index).copied().unwrap_or(false) {
            return Some(self.style(index));
        }
        let n = &tree.nodes[index];
        let parent = if n.parent == NONE {
            Style {
                display: Display::Block,
                ..Style::default()
            }
        } else {
            self.styles[n.parent as usize]
        };
        // Away from the walk, the bloom filter does not hold this element's ancestors.
        self.cascade.use_bloom = false;
        self.cascade.world.start(&[]);
        let fresh = self
            .cascade
            .style_of(tree, index, &parent, &self.share_rules);
        self.cascade.use_bloom = true;
        if self.cascade.asked_any() {
            return None;
        }
        let used = self.styles[index];
        if !same_at_start(&used, &fresh) && self.gave_up.is_none() {
            self.gave_up = Some(format!(
                "a selector that depends on what follows an element (such as :last-child) changed how <{}> shows, after it was laid out",
                tree.dom(index).tag().unwrap_or_default()
            ));
        }
        self.styles[index] = fresh;
        self.unsettled[index] = false;
        Some(fresh)
    }

    /// Settles every element still unsettled, on the finished tree (those the layout did not
    /// reach, such as hidden ones: their display may have been decided wrongly).
    pub fn settle_all(&mut self, tree: &Tree) {
        self.cascade.world.growing = false;
        for i in 0..self.unsettled.len() {
            if self.unsettled[i] {
                self.settle(tree, i);
            }
        }
    }

    pub fn sheets(&self) -> &Sheets {
        &self.cascade.sheets
    }
}

/// Whether two styles agree in everything a layout uses when an element starts (all but
/// the bottom margin and `::after`, which are used when it ends).
fn same_at_start(a: &Style, b: &Style) -> bool {
    let late = |s: &Style| Style {
        margin_bottom: false,
        after: NONE,
        ..*s
    };
    late(a) == late(b)
}

/// The open ancestors of the element being styled, with the hashes each put in the bloom
/// filter (one flat list, so entering an element does not allocate).
#[derive(Default)]
struct Ancestors {
    /// (element, where its hashes start in `hashes`).
    open: Vec<(u32, usize)>,
    hashes: Vec<u32>,
}

impl Ancestors {
    /// Leaves the ancestors that `parent` is not (it stays open, with those above it).
    fn leave_to(&mut self, parent: u32, bloom: &mut BloomFilter) {
        while let Some(&(top, start)) = self.open.last() {
            if top == parent {
                break;
            }
            for h in self.hashes.drain(start..) {
                bloom.remove_hash(h);
            }
            self.open.pop();
        }
    }

    /// Opens `index` (its tag, id and classes go into the bloom filter).
    fn enter(&mut self, index: u32, tree: &Tree, tag: &str, bloom: &mut BloomFilter) {
        let start = self.hashes.len();
        let n = &tree.nodes[index as usize];
        self.hashes.push(hash_name(tag) & BLOOM_HASH_MASK);
        if n.id_hash != 0 {
            self.hashes.push(n.id_hash & BLOOM_HASH_MASK);
        }
        for &c in tree.class_hashes(index) {
            self.hashes.push(c & BLOOM_HASH_MASK);
        }
        for &h in &self.hashes[start..] {
            bloom.insert_hash(h);
        }
        self.open.push((index, start));
    }
}

/// A matched rule: whether for its `!important` declarations, specificity, order, the
/// rule's index and its pseudo-element.
type Matched = (bool, u32, u32, u32, Option<PseudoElement>);

/// ::before / ::after as the cascade finds them: content (None: not set) and display.
type Pseudo = (Option<Option<u32>>, Option<Display>);

/// Selector matching and the cascade, with their scratch space.
struct Cascade {
    sheets: Sheets,
    have_rules: bool,
    /// The open ancestors' tags, ids and classes (fills as the walk descends).
    bloom: BloomFilter,
    /// Whether `bloom` holds the ancestors of the element being matched.
    use_bloom: bool,
    /// What may be assumed of a tree still being read.
    world: World,
    caches: SelectorCaches,
    candidates: Vec<u32>,
    matched: Vec<Matched>,
    /// The structural rules among the last element's candidates (see `share`), and
    /// which of them matched.
    structural: Vec<u32>,
    bits: Vec<u64>,
    /// Per rule of `structural`: how many unknown facts matching it asked.
    asked: Vec<u32>,
    /// `decided`'s scratch: the branches still to walk, and their answers end to end.
    branches: Vec<(usize, usize)>,
    branch_answers: Vec<bool>,
}

/// Pushes the branches a matching with `given` answers leaves to walk: each unknown fact it
/// asked past them was answered "nothing more", so for each such fact k there is a branch
/// where the facts before k are as answered and more does come at k.
fn push_branches(
    branches: &mut Vec<(usize, usize)>,
    store: &mut Vec<bool>,
    given: &[bool],
    asked: usize,
) {
    for k in given.len()..asked {
        let start = store.len();
        store.extend_from_slice(given);
        store.resize(start + k, false);
        store.push(true);
        branches.push((start, k + 1));
    }
}

/// How minibrowse matches: normal mode, no quirks, no invalidation bookkeeping; `bloom`
/// holds the element's ancestors when given.
fn matching_context<'c>(
    bloom: Option<&'c BloomFilter>,
    caches: &'c mut SelectorCaches,
) -> MatchingContext<'c, Simple> {
    MatchingContext::new(
        MatchingMode::Normal,
        bloom,
        caches,
        QuirksMode::NoQuirks,
        NeedsSelectorFlags::No,
        MatchingForInvalidation::No,
    )
}

/// Bit `k` of a bit set.
fn get_bit(bits: &[u64], k: usize) -> bool {
    bits.get(k / 64).is_some_and(|w| w & (1 << (k % 64)) != 0)
}

impl Cascade {
    /// Whether the structural rules among element `index`'s candidates are decided although
    /// the tree is still growing: each is matched on every branch of the unknown facts it
    /// asks (whether more comes after an open element's last child, whether an open
    /// element gets children), and must come out the same on all. A rule that branches too
    /// much is taken as undecided.
    ///
    /// `structural` is the list last matched on this element (by `revalidate` or
    /// `match_rules`), whose results (`bits`) and unknown facts asked (`asked`) are those of
    /// the first branch, where every unknown fact is answered "nothing more": a rule that
    /// asked none is decided, and the others start from the branches that first matching
    /// left to walk.
    fn decided(&mut self, tree: &Tree, index: u32, structural: &[u32]) -> bool {
        /// Matchings tried per rule before calling it undecided.
        const MAX_BRANCHES: usize = 16;
        // The branches still to walk, as a stack: (start, length) of their answers in
        // `store` (the last branch's answers are always at the end of `store`).
        let mut branches = std::mem::take(&mut self.branches);
        let mut store = std::mem::take(&mut self.branch_answers);
        let mut branch = Vec::new();
        let mut decided = true;
        'rules: for (k, &r) in structural.iter().enumerate() {
            let first_asked = self.asked.get(k).copied().unwrap_or(0) as usize;
            if first_asked == 0 {
                continue;
            }
            let outcome = get_bit(&self.bits, k);
            branches.clear();
            store.clear();
            push_branches(&mut branches, &mut store, &[], first_asked);
            let mut tried = 1;
            while let Some((start, len)) = branches.pop() {
                tried += 1;
                if tried > MAX_BRANCHES {
                    decided = false;
                    break 'rules;
                }
                branch.clear();
                branch.extend_from_slice(&store[start..start + len]);
                store.truncate(start);
                self.world.start(&branch);
                self.forget_counts_from_end();
                let mut context =
                    matching_context(self.use_bloom.then_some(&self.bloom), &mut self.caches);
                let el = El {
                    tree,
                    index,
                    world: &self.world,
                };
                let rule = &self.sheets.rules[r as usize];
                let hit = rule.matches(el, &mut context);
                if hit != outcome {
                    decided = false;
                    break 'rules;
                }
                push_branches(&mut branches, &mut store, &branch, self.world.unknowns());
            }
        }
        self.branches = branches;
        self.branch_answers = store;
        self.world.start(&[]);
        self.forget_counts_from_end();
        decided
    }

    /// Whether the last matching (`revalidate` or `match_rules`) asked any unknown fact.
    fn asked_any(&self) -> bool {
        self.asked.iter().any(|&n| n > 0)
    }

    /// While the tree grows, a position counted from the end (`:last-of-type`) is not final,
    /// and a branch of `decided` assumes other facts than the last: forget the ones the
    /// matcher cached.
    fn forget_counts_from_end(&mut self) {
        if self.world.growing {
            let nth = &mut self.caches.nth_index;
            drop(std::mem::take(nth.get::<Simple>(true, true, &[])));
            drop(std::mem::take(nth.get::<Simple>(false, true, &[])));
        }
    }

    /// Matches `structural` (the structural rules of an element's candidates) on element
    /// `index`, into `self.bits`.
    fn revalidate(&mut self, tree: &Tree, index: u32, structural: &[u32]) {
        self.bits.clear();
        self.asked.clear();
        if structural.is_empty() {
            return;
        }
        self.forget_counts_from_end();
        let mut context = matching_context(self.use_bloom.then_some(&self.bloom), &mut self.caches);
        let el = El {
            tree,
            index,
            world: &self.world,
        };
        for (k, &r) in structural.iter().enumerate() {
            let rule = &self.sheets.rules[r as usize];
            // Facts are counted per rule: one asked again by a later rule counts for it too.
            self.world.start(&[]);
            if rule.matches(el, &mut context) {
                set_bit(&mut self.bits, k);
            }
            self.asked.push(self.world.unknowns() as u32);
        }
    }

    /// The candidate rules of element `i`: those filed under its id, classes and tag, those
    /// filed under its parent's (see `Sheets::parent_buckets`) and those filed under none.
    /// All depend only on what the sharing key holds (the parent's identity stands for its
    /// tag, id and classes), so elements that share have the same candidates.
    fn gather_candidates(&mut self, tree: &Tree, i: usize, tag: &str) {
        let n = &tree.nodes[i];
        let sheets = &self.sheets;
        let candidates = &mut self.candidates;
        candidates.clear();
        if !self.have_rules {
            return;
        }
        if n.id_hash != 0 {
            if let Some(list) = sheets.buckets.get(&Bucket::Id(n.id_hash)) {
                candidates.extend_from_slice(list);
            }
        }
        for &c in tree.class_hashes(i as u32) {
            if let Some(list) = sheets.buckets.get(&Bucket::Class(c)) {
                candidates.extend_from_slice(list);
            }
        }
        if let Some(list) = sheets.buckets.get(&Bucket::Tag(hash_name(tag))) {
            candidates.extend_from_slice(list);
        }
        candidates.extend_from_slice(&sheets.any);
        if n.parent != NONE && !sheets.parent_buckets.is_empty() {
            // Rules such as `td > :first-child`, filed under what the parent must have.
            let p = &tree.nodes[n.parent as usize];
            if p.id_hash != 0 {
                if let Some(list) = sheets.parent_buckets.get(&Bucket::Id(p.id_hash)) {
                    candidates.extend_from_slice(list);
                }
            }
            for &c in tree.class_hashes(n.parent) {
                if let Some(list) = sheets.parent_buckets.get(&Bucket::Class(c)) {
                    candidates.extend_from_slice(list);
                }
            }
            let parent_tag = tree.dom(n.parent as usize).tag().unwrap_or_default();
            if let Some(list) = sheets
                .parent_buckets
                .get(&Bucket::Tag(hash_name(parent_tag)))
            {
                candidates.extend_from_slice(list);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
    }

    /// Matches the candidates on element `i` into `self.matched` (in cascade order), and
    /// records the structural ones and their results.
    fn match_rules(&mut self, tree: &Tree, i: usize, share_rules: &ShareRules) {
        self.matched.clear();
        self.structural.clear();
        self.bits.clear();
        self.asked.clear();
        if self.candidates.is_empty() {
            return;
        }
        self.forget_counts_from_end();
        let mut context = matching_context(self.use_bloom.then_some(&self.bloom), &mut self.caches);
        let el = El {
            tree,
            index: i as u32,
            world: &self.world,
        };
        let sheets = &self.sheets;
        for &r in &self.candidates {
            let rule = &sheets.rules[r as usize];
            let structural = share_rules.is_structural(r);
            if structural {
                // Facts are counted per rule (only structural rules ask any).
                self.world.start(&[]);
            }
            let hit = rule.matches(el, &mut context);
            if structural {
                if hit {
                    set_bit(&mut self.bits, self.structural.len());
                }
                self.structural.push(r);
                self.asked.push(self.world.unknowns() as u32);
            }
            if !hit {
                continue;
            }
            let decls = &sheets.decls[rule.decls.0 as usize..rule.decls.1 as usize];
            for important in [false, true] {
                if decls.iter().any(|d| d.important == important) {
                    self.matched
                        .push((important, rule.specificity, rule.order, r, rule.pseudo));
                }
            }
        }
        self.matched.sort_unstable_by_key(|m| (m.0, m.1, m.2));
    }

    /// Element `i`'s style, computed: inherited from `parent`, the UA defaults, then the
    /// matched rules and `style=""` in cascade order.
    fn style_of(
        &mut self,
        tree: &Tree,
        i: usize,
        parent: &Style,
        share_rules: &ShareRules,
    ) -> Style {
        let n = &tree.nodes[i];
        let mut style = parent.inherit();
        let node = &tree.dom(i);
        let tag = node.tag().unwrap_or_default();
        user_agent(&mut style, tag, node);
        let mut before: Pseudo = (None, None);
        let mut after: Pseudo = (None, None);
        self.structural.clear();
        self.bits.clear();
        self.asked.clear();
        let has_inline = node.has_attr("style");
        if self.have_rules || has_inline {
            self.gather_candidates(tree, i, tag);
            self.match_rules(tree, i, share_rules);
            let inline = node
                .with_attr("style", |css| self.sheets.parse_inline(css))
                .unwrap_or_default();
            let sheets = &self.sheets;
            let apply = |style: &mut Style, pb: &mut Pseudo, pa: &mut Pseudo, m: &Matched| {
                let rule = &sheets.rules[m.3 as usize];
                for d in &sheets.decls[rule.decls.0 as usize..rule.decls.1 as usize] {
                    if d.important != m.0 {
                        continue;
                    }
                    match m.4 {
                        None => apply_declaration(style, &d.prop),
                        Some(pe) => {
                            let target = if pe == PseudoElement::Before {
                                &mut *pb
                            } else {
                                &mut *pa
                            };
                            match d.prop {
                                Prop::Content(c) => target.0 = Some(c),
                                Prop::Display(disp) => target.1 = Some(disp),
                                _ => {}
                            }
                        }
                    }
                }
            };
            let apply_inline = |style: &mut Style, decls: &[Decl], important: bool| {
                for d in decls.iter().filter(|d| d.important == important) {
                    apply_declaration(style, &d.prop);
                }
            };
            let split = self.matched.partition_point(|m| !m.0);
            for m in &self.matched[..split] {
                apply(&mut style, &mut before, &mut after, m);
            }
            apply_inline(&mut style, &inline, false);
            for m in &self.matched[split..] {
                apply(&mut style, &mut before, &mut after, m);
            }
            apply_inline(&mut style, &inline, true);
        }
        if let (Some(Some(c)), display) = before {
            if display != Some(Display::None) {
                style.before = c;
            }
        }
        if let (Some(Some(c)), display) = after {
            if display != Some(Display::None) {
                style.after = c;
            }
        }
        if n.parent == NONE && style.display != Display::None {
            style.display = Display::Block;
        }
        style
    }
}

/// The HTML standard's rendering section, for the properties minibrowse uses.
fn user_agent(s: &mut Style, tag: &str, node: &crate::html::Node) {
    if !node.is_html_element() {
        // SVG and MathML: SVG draws pictures (its text is not page text); MathML flows inline.
        s.display = match tag {
            "svg" => Display::None,
            _ if node.has_attr("hidden") => Display::None,
            _ => Display::Inline,
        };
        return;
    }
    use Display::*;
    s.display = match tag {
        "head" | "script" | "style" | "template" | "title" | "meta" | "link" | "base"
        | "datalist" | "param" | "source" | "track" | "area" | "noembed" | "noframes" | "rp"
        | "map" => None,
        "html" | "body" | "address" | "blockquote" | "center" | "div" | "figure" | "figcaption"
        | "footer" | "form" | "header" | "hr" | "legend" | "listing" | "main" | "p"
        | "plaintext" | "pre" | "search" | "xmp" | "article" | "aside" | "h1" | "h2" | "h3"
        | "h4" | "h5" | "h6" | "hgroup" | "nav" | "section" | "dd" | "dl" | "dt" | "menu"
        | "ol" | "ul" | "dir" | "details" | "fieldset" | "optgroup" | "frameset" | "frame"
        | "option" => Block,
        "dialog" if node.has_attr("open") => Block,
        "dialog" => None,
        "li" => ListItem,
        "summary" => ListItem,
        "table" => Table,
        "caption" => Caption,
        "colgroup" | "col" => Column,
        "thead" => HeaderGroup,
        "tbody" => RowGroup,
        "tfoot" => FooterGroup,
        "tr" => Row,
        "td" | "th" => Cell,
        "input"
            if node
                .with_attr("type", |t| t.trim().eq_ignore_ascii_case("hidden"))
                .unwrap_or(false) =>
        {
            None
        }
        _ => Inline,
    };
    if node.has_attr("hidden") {
        s.display = None;
        return;
    }
    match tag {
        "p" | "blockquote" | "figure" | "dl" | "pre" | "listing" | "xmp" | "plaintext" | "hr"
        | "table" | "fieldset" => {
            s.margin_top = true;
            s.margin_bottom = true;
        }
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
            s.margin_top = true;
            s.margin_bottom = true;
            s.bold = true;
            s.heading = true;
        }
        "ul" | "ol" | "menu" | "dir" => {
            s.list_style = match tag {
                "ol" => ListStyle::Decimal,
                _ => ListStyle::Disc,
            };
            if tag == "ol" {
                if let Some(t) = node.attr("type") {
                    s.list_style = match t.trim() {
                        "a" => ListStyle::LowerAlpha,
                        "A" => ListStyle::UpperAlpha,
                        "i" => ListStyle::LowerRoman,
                        "I" => ListStyle::UpperRoman,
                        _ => ListStyle::Decimal,
                    };
                }
            } else if let Some(t) = node.attr("type") {
                if let Some(ls) = ListStyle::from_keyword(&t.trim().to_ascii_lowercase()) {
                    s.list_style = ls;
                }
            }
            // A list inside a list hugs its item; otherwise it is set apart.
            let nested = node.parent().is_some_and(|p| {
                matches!(p.tag(), Some("li" | "dd" | "ul" | "ol" | "menu" | "dir"))
            });
            s.margin_top = !nested;
            s.margin_bottom = !nested;
        }
        "li" => {
            if let Some(t) = node.attr("type") {
                s.list_style = match t.trim() {
                    "a" => ListStyle::LowerAlpha,
                    "A" => ListStyle::UpperAlpha,
                    "i" => ListStyle::LowerRoman,
                    "I" => ListStyle::UpperRoman,
                    "1" => ListStyle::Decimal,
                    other => {
                        ListStyle::from_keyword(&other.to_ascii_lowercase()).unwrap_or(s.list_style)
                    }
                };
            }
        }
        "b" | "strong" | "th" => s.bold = true,
        "i" | "em" | "cite" | "var" | "dfn" | "address" => s.italic = true,
        "u" | "ins" => s.underline = true,
        "code" | "kbd" | "samp" | "tt" => s.code = true,
        "summary" => {
            s.list_style = if node.parent().is_some_and(|p| p.has_attr("open")) {
                ListStyle::DisclosureOpen
            } else {
                ListStyle::DisclosureClosed
            };
        }
        _ => {}
    }
    match tag {
        "pre" | "listing" | "xmp" | "plaintext" => {
            s.white_space = WhiteSpace::Pre;
            s.code = true;
        }
        "textarea" => s.white_space = WhiteSpace::PreWrap,
        "nobr" => s.white_space = WhiteSpace::Nowrap,
        "td" | "th" if node.has_attr("nowrap") => s.white_space = WhiteSpace::Nowrap,
        "table" => {
            // Tables reset text properties in quirks mode; inherit is what pages expect.
        }
        _ => {}
    }
}
