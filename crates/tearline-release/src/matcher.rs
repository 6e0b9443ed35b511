//! Finding normalised terms in normalised text, on word boundaries.
//!
//! A term is found in a text's normal form and, when the text has one, in
//! its shape variant (see [`crate::normalize`]); both forms of every term
//! are compiled. A character of a script written without spaces is a word
//! of its own, so a term is found inside Chinese, Japanese or Thai text
//! with no space around it.
//!
//! Each distinct normalised term is compiled once, however many terms
//! share it: a span text repeated in many spans is one pattern, found once
//! at each place it stands (and reported as the first of its terms), not
//! once per copy at every place.
//!
//! Terms that come with a report (the originals of its spans) are compiled
//! for every check of it, and a report may hold thousands: [`TermMatcher::new`]
//! compiles them into an automaton ([`Trie`]) built in time linear in their
//! total length. The `aho-corasick` crate is not used there: whatever
//! automaton kind is asked for, its build first moves every match state
//! ahead of the others and then follows each state's cycle of moves once
//! per state on it, which is quadratic in the number of terms when most
//! states are matches (span names such as `venue 1` to `venue 9999`).
//! The trie holds the terms reversed and reads a text backwards, so that
//! the terms starting at each place come longest first, and
//! [`TermMatcher::find_disjoint`] looks at the few that reach furthest
//! instead of every overlapping hit (terms nested in each other, `a`,
//! `a a`, `a a a`, ..., all stand at every word of a text made of them).
//! Terms compiled once and searched for as long as the node runs — the
//! registry, the shipped country names — go to that crate's DFA instead
//! ([`TermMatcher::long_lived`]), which searches faster; a property test
//! checks that both choose the same hits.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::normalize::{normalize_term, normalize_term_shape, Normalized};

/// A set of terms, each with a caller's label, compiled once and matched
/// against any number of texts.
#[derive(Debug, Clone)]
pub struct TermMatcher<L> {
    /// The terms' normal forms.
    normal: Option<Compiled>,
    /// The terms' shape variants, when any differs from its normal form
    /// (else `normal` serves for both).
    shape: Option<Compiled>,
    labels: Vec<L>,
}

/// One place a term was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Which term (index into the matcher's terms).
    pub term: usize,
    /// Byte range in the original text, including any plural ending.
    pub start: usize,
    /// End of that range.
    pub end: usize,
}

impl<L> TermMatcher<L> {
    /// Compiles the terms of one report, in time linear in their total
    /// length. Terms whose normalised form is empty (no letters or digits)
    /// are skipped; callers reject those earlier.
    pub fn new(terms: impl IntoIterator<Item = (String, L)>) -> TermMatcher<L> {
        TermMatcher::build(terms, Engine::Linear)
    }

    /// Compiles terms that are kept and searched for a long time (the
    /// registry): into a DFA, which searches faster but takes longer to
    /// build.
    pub fn long_lived(terms: impl IntoIterator<Item = (String, L)>) -> TermMatcher<L> {
        TermMatcher::build(terms, Engine::Dfa)
    }

    fn build(terms: impl IntoIterator<Item = (String, L)>, engine: Engine) -> TermMatcher<L> {
        let mut patterns = Vec::new();
        let mut shapes = Vec::new();
        let mut labels = Vec::new();
        for (t, l) in terms {
            let n = normalize_term(&t);
            if n.is_empty() {
                continue;
            }
            let s = normalize_term_shape(&t);
            // A shape without letters would match everywhere: keep the
            // normal form there.
            shapes.push(if s.is_empty() { n.clone() } else { s });
            patterns.push(n);
            labels.push(l);
        }
        let shape = if shapes == patterns {
            None
        } else {
            Compiled::new(&shapes, engine)
        };
        TermMatcher {
            normal: Compiled::new(&patterns, engine),
            shape,
            labels,
        }
    }

    /// The label of term `i`.
    pub fn label(&self, i: usize) -> &L {
        &self.labels[i]
    }

    /// Whether there is nothing to match.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Every occurrence of a term in `n` (or in its shape variant) that
    /// starts at a word start and ends at a word end, or is followed only
    /// by a plural ending (`s`, `es`) before the word end. Overlapping hits
    /// are all reported; terms with the same normal form are one term (the
    /// first of them).
    pub fn find_all(&self, n: &Normalized) -> Vec<Hit> {
        let Some(normal) = &self.normal else {
            return Vec::new();
        };
        let mut hits = find_in(normal, n);
        if let Some(v) = n.shape_variant() {
            hits.extend(find_in(self.shape.as_ref().unwrap_or(normal), &v));
            hits.sort_by_key(|h| (h.start, h.end, h.term));
            hits.dedup();
        }
        hits
    }

    /// Like [`TermMatcher::find_all`], but keeps only non-overlapping hits,
    /// preferring the leftmost and then the longest; between hits of the
    /// same place, the one whose match ends first in the normalised text
    /// (before any plural ending), or, when the text has a shape variant,
    /// the first term.
    ///
    /// A report's terms are not all enumerated: terms nested in each other
    /// (`a`, `a a`, `a a a`, ...) overlap at every word of a text made of
    /// them, so that listing every hit is quadratic. For each word start,
    /// only the hits that reach furthest from it are kept (the automaton
    /// lists the terms starting there, longest first), which is all that
    /// choosing the leftmost-longest needs.
    pub fn find_disjoint(&self, n: &Normalized) -> Vec<Hit> {
        let Some(normal) = &self.normal else {
            return Vec::new();
        };
        let hits = match normal.automaton {
            Automaton::Linear(_) => {
                let v = n.shape_variant();
                let mut c = furthest(normal, n);
                if let Some(v) = &v {
                    c.extend(furthest(self.shape.as_ref().unwrap_or(normal), v));
                }
                // Between hits of the same place, the order in which the
                // DFA's `find_all` lists them: by term when it merges both
                // forms, else as found, by the end of the match.
                let by_term = v.is_some();
                c.sort_by(|a, b| {
                    let (x, y) = (&a.hit, &b.hit);
                    let then = if by_term {
                        x.term.cmp(&y.term)
                    } else {
                        a.found.cmp(&b.found)
                    };
                    x.start.cmp(&y.start).then(y.end.cmp(&x.end)).then(then)
                });
                c.into_iter().map(|c| c.hit).collect()
            }
            Automaton::Dfa(_) => {
                let mut hits = self.find_all(n);
                hits.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
                hits
            }
        };
        let mut out: Vec<Hit> = Vec::new();
        for h in hits {
            if out.last().is_none_or(|l| h.start >= l.end) {
                out.push(h);
            }
        }
        out
    }
}

/// A hit that may be chosen by [`TermMatcher::find_disjoint`], with where
/// its match ends and starts in the normalised text (the order in which an
/// automaton read forwards finds hits).
struct Candidate {
    hit: Hit,
    found: (usize, usize),
}

/// How a set of patterns is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    /// [`Trie`]: built in linear time.
    Linear,
    /// The `aho-corasick` crate's DFA (or its NFA, for a few patterns).
    Dfa,
}

/// The distinct patterns of a matcher's terms, compiled.
#[derive(Debug, Clone)]
struct Compiled {
    automaton: Automaton,
    /// The first term of each distinct pattern.
    term: Vec<usize>,
}

#[derive(Debug, Clone)]
enum Automaton {
    Linear(Trie),
    Dfa(AhoCorasick),
}

impl Compiled {
    /// Compiles one form of every term (`forms[i]` is term `i`'s), each
    /// distinct form once; nothing when there are no terms.
    fn new(forms: &[String], engine: Engine) -> Option<Compiled> {
        if forms.is_empty() {
            return None;
        }
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(forms.len());
        let mut distinct: Vec<&[u8]> = Vec::new();
        let mut term = Vec::new();
        for (i, f) in forms.iter().enumerate() {
            index.entry(f.as_str()).or_insert_with(|| {
                distinct.push(f.as_bytes());
                term.push(i);
                distinct.len() - 1
            });
        }
        let automaton = match engine {
            Engine::Linear => {
                // Reversed, to be read backwards: the terms that start at a
                // place come out longest first.
                let reversed: Vec<Vec<u8>> = distinct
                    .iter()
                    .map(|p| p.iter().rev().copied().collect())
                    .collect();
                let reversed: Vec<&[u8]> = reversed.iter().map(Vec::as_slice).collect();
                Automaton::Linear(Trie::new(&reversed))
            }
            Engine::Dfa => Automaton::Dfa(dfa(&distinct)?),
        };
        Some(Compiled { automaton, term })
    }

    /// Calls `f(term, start, end)` for every occurrence of a pattern in
    /// `text`, overlapping ones included.
    fn each_match(&self, text: &str, mut f: impl FnMut(usize, usize, usize)) {
        match &self.automaton {
            Automaton::Linear(t) => t.scan_backwards(text.as_bytes(), |s, state| {
                for p in t.chain(state) {
                    f(self.term[p], s, s + t.len[p] as usize);
                }
            }),
            Automaton::Dfa(ac) => {
                for m in ac.find_overlapping_iter(text) {
                    f(self.term[m.pattern().as_usize()], m.start(), m.end());
                }
            }
        }
    }
}

/// Compiles patterns compiled once and searched often: a DFA pays off for
/// many; for a few, an NFA is as quick to search and quicker to build.
fn dfa(patterns: &[&[u8]]) -> Option<AhoCorasick> {
    let kind = if patterns.len() > 64 {
        AhoCorasickKind::DFA
    } else {
        AhoCorasickKind::ContiguousNFA
    };
    AhoCorasickBuilder::new()
        .kind(Some(kind))
        .match_kind(MatchKind::Standard)
        .build(patterns)
        .ok()
}

/// The occurrences of `c`'s patterns in `n` on word boundaries.
fn find_in(c: &Compiled, n: &Normalized) -> Vec<Hit> {
    let mut hits = Vec::new();
    c.each_match(n.as_str(), |term, s, e| {
        if !n.is_word_start(s) {
            return;
        }
        if let Some(end) = word_end(n, e) {
            let (os, oe) = n.original_range(s, end);
            hits.push(Hit {
                term,
                start: os,
                end: oe,
            });
        }
    });
    if matches!(c.automaton, Automaton::Linear(_)) {
        // Found from the last start to the first.
        hits.sort_by_key(|h| (h.start, h.end, h.term));
    }
    hits
}

/// Where a hit whose match ends at normalised byte `e` ends: there, at a
/// word end; after a plural ending (`s`, `es`) that ends the word; or
/// nowhere (the match ends inside a word).
fn word_end(n: &Normalized, e: usize) -> Option<usize> {
    if n.is_word_start(e) {
        return Some(e);
    }
    let t = n.as_str().as_bytes();
    if t.get(e) == Some(&b's') && n.is_word_start(e + 1) {
        return Some(e + 1);
    }
    if t.get(e..e + 2) == Some(b"es") && !n.is_word_start(e + 1) && n.is_word_start(e + 2) {
        return Some(e + 2);
    }
    None
}

/// For each word start of `n`, the hits of `c`'s patterns (a [`Trie`])
/// that start there and end furthest in the original text. The terms
/// starting at a place come longest first: those ending inside a word are
/// passed over, and after the first that ends on a word boundary only the
/// few whose ends fall in the same original character can tie with it.
fn furthest(c: &Compiled, n: &Normalized) -> Vec<Candidate> {
    let Automaton::Linear(t) = &c.automaton else {
        return Vec::new();
    };
    let len = n.as_str().len();
    let mut out = Vec::new();
    t.scan_backwards(n.as_str().as_bytes(), |s, state| {
        if !n.is_word_start(s) {
            return;
        }
        let mut best = None;
        for p in t.chain(state) {
            let e = s + t.len[p] as usize;
            // A shorter match can end at most a plural ending further.
            if best.is_some_and(|b| n.original_range(s, (e + 2).min(len)).1 < b) {
                break;
            }
            let Some(end) = word_end(n, e) else {
                continue;
            };
            let (os, oe) = n.original_range(s, end);
            if best.is_some_and(|b| oe < b) {
                continue;
            }
            best = Some(oe);
            out.push(Candidate {
                hit: Hit {
                    term: c.term[p],
                    start: os,
                    end: oe,
                },
                found: (e, s),
            });
        }
    });
    out
}

/// An Aho-Corasick automaton over bytes, built in time linear in the total
/// length of its patterns (a sibling list walk of at most 256 per byte),
/// and run over a text in time linear in its length; listing the matches
/// at a place costs one step each ([`Trie::chain`]). A report's matcher
/// holds its terms reversed and runs backwards ([`Trie::scan_backwards`]).
///
/// State 0 is the root. Each state's transitions are a sorted slice of
/// `bytes` and `next`; the root's are also a table. A state's failure link
/// leads to the state of its longest proper suffix in the trie, and its
/// output link to the nearest state along the failure links where a
/// pattern ends, so that every pattern ending at a position is reported
/// without walking states where none ends.
#[derive(Debug, Clone)]
struct Trie {
    /// Per state, where its transitions start in `bytes` and `next` (with
    /// one more entry, the end of the last state's).
    first: Vec<u32>,
    bytes: Vec<u8>,
    next: Vec<u32>,
    /// The root's transitions by byte: 0 where there is none.
    root: Box<[u32; 256]>,
    fail: Vec<u32>,
    /// The next state along the failure links where a pattern ends; 0 for
    /// none (no pattern ends at the root: patterns are not empty).
    output: Vec<u32>,
    /// The pattern ending at each state, or [`Trie::NONE`].
    pattern: Vec<u32>,
    /// Each pattern's length.
    len: Vec<u32>,
}

impl Trie {
    const NONE: u32 = u32::MAX;

    /// Compiles distinct, non-empty patterns.
    fn new(patterns: &[&[u8]]) -> Trie {
        // The trie: each state's children as a list sorted by byte, linked
        // through `sibling` (a few bytes a state, where a vector per state
        // would cost dozens), the root's also in a table.
        let none = Trie::NONE;
        let mut root = Box::new([0u32; 256]);
        let mut child = vec![none];
        let mut sibling = vec![none];
        let mut byte = vec![0u8];
        let mut pattern = vec![none];
        for (i, p) in patterns.iter().enumerate() {
            let mut s = 0usize;
            for &b in *p {
                let new = byte.len() as u32;
                if s == 0 {
                    match root[b as usize] {
                        0 => {
                            root[b as usize] = new;
                            sibling.push(none);
                        }
                        c => {
                            s = c as usize;
                            continue;
                        }
                    }
                } else {
                    let (mut prev, mut c) = (none, child[s]);
                    while c != none && byte[c as usize] < b {
                        prev = c;
                        c = sibling[c as usize];
                    }
                    if c != none && byte[c as usize] == b {
                        s = c as usize;
                        continue;
                    }
                    // A new child, between `prev` and `c`.
                    if prev == none {
                        child[s] = new;
                    } else {
                        sibling[prev as usize] = new;
                    }
                    sibling.push(c);
                }
                byte.push(b);
                child.push(none);
                pattern.push(none);
                s = new as usize;
            }
            if pattern[s] == none {
                pattern[s] = i as u32;
            }
        }
        let states = byte.len();
        // Each state's transitions, contiguous and sorted by byte.
        let mut first = Vec::with_capacity(states + 1);
        let mut bytes = Vec::with_capacity(states);
        let mut next = Vec::with_capacity(states);
        first.push(0);
        for (b, &c) in root.iter().enumerate() {
            if c != 0 {
                bytes.push(b as u8);
                next.push(c);
            }
        }
        for &head in &child[1..] {
            first.push(bytes.len() as u32);
            let mut c = head;
            while c != none {
                bytes.push(byte[c as usize]);
                next.push(c);
                c = sibling[c as usize];
            }
        }
        first.push(bytes.len() as u32);
        drop((child, sibling, byte));
        let mut t = Trie {
            first,
            bytes,
            next,
            root,
            fail: vec![0; states],
            output: vec![0; states],
            pattern,
            len: patterns.iter().map(|p| p.len() as u32).collect(),
        };
        // Failure and output links, breadth first: a state's links depend
        // only on shallower states'.
        let mut queue = Vec::with_capacity(states);
        queue.extend(t.children(0).map(|(_, c)| c));
        let mut head = 0;
        while let Some(&s) = queue.get(head) {
            head += 1;
            let range = t.first[s as usize] as usize..t.first[s as usize + 1] as usize;
            for k in range {
                let (b, c) = (t.bytes[k], t.next[k]);
                let mut f = t.fail[s as usize];
                let to = loop {
                    if let Some(n) = t.step(f, b) {
                        break n;
                    }
                    if f == 0 {
                        break 0;
                    }
                    f = t.fail[f as usize];
                };
                t.fail[c as usize] = to;
                t.output[c as usize] = if t.pattern[to as usize] != Trie::NONE {
                    to
                } else {
                    t.output[to as usize]
                };
                queue.push(c);
            }
        }
        t
    }

    /// The transitions of state `s`.
    fn children(&self, s: u32) -> impl Iterator<Item = (u8, u32)> + '_ {
        let range = self.first[s as usize] as usize..self.first[s as usize + 1] as usize;
        range.map(|k| (self.bytes[k], self.next[k]))
    }

    /// The state reached from `s` on byte `b`, if the trie has it.
    fn step(&self, s: u32, b: u8) -> Option<u32> {
        if s == 0 {
            let n = self.root[b as usize];
            return (n != 0).then_some(n);
        }
        let (lo, hi) = (
            self.first[s as usize] as usize,
            self.first[s as usize + 1] as usize,
        );
        let k = self.bytes[lo..hi].binary_search(&b).ok()?;
        Some(self.next[lo + k])
    }

    /// Reads `hay` backwards, calling `f(i, state)` at each byte, from the
    /// last to the first, with the state reached having read `hay[i..]`
    /// backwards. For a trie of reversed patterns, [`Trie::chain`] of that
    /// state lists the patterns that occur in `hay` starting at `i`,
    /// longest first. Linear in `hay`.
    fn scan_backwards(&self, hay: &[u8], mut f: impl FnMut(usize, u32)) {
        let mut s = 0u32;
        for (i, &b) in hay.iter().enumerate().rev() {
            s = loop {
                if s == 0 {
                    break self.root[b as usize];
                }
                if let Some(n) = self.step(s, b) {
                    break n;
                }
                s = self.fail[s as usize];
            };
            f(i, s);
        }
    }

    /// The patterns ending at state `s`: its own, then those along its
    /// output links, longest first.
    fn chain(&self, s: u32) -> impl Iterator<Item = usize> + '_ {
        let mut o = if self.pattern[s as usize] != Trie::NONE {
            s
        } else {
            self.output[s as usize]
        };
        std::iter::from_fn(move || {
            if o == 0 {
                return None;
            }
            let p = self.pattern[o as usize] as usize;
            o = self.output[o as usize];
            Some(p)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn find(terms: &[&str], text: &str) -> Vec<(usize, String)> {
        let m = TermMatcher::new(terms.iter().map(|t| (t.to_string(), ())));
        let long = TermMatcher::long_lived(terms.iter().map(|t| (t.to_string(), ())));
        let n = Normalized::new(text);
        let hits = m.find_disjoint(&n);
        assert_eq!(hits, long.find_disjoint(&n), "{terms:?} in {text:?}");
        hits.into_iter()
            .map(|h| (h.term, text[h.start..h.end].to_string()))
            .collect()
    }

    #[test]
    fn word_boundaries_and_plurals() {
        assert_eq!(
            find(&["SAPPHIRE"], "SAPPHIRE's report"),
            [(0, "SAPPHIRE".into())]
        );
        assert_eq!(
            find(&["sapphire"], "two SAPPHIREs"),
            [(0, "SAPPHIREs".into())]
        );
        assert!(find(&["sapphire"], "SAPPHIREX and xsapphire").is_empty());
        assert!(find(&["era"], "general").is_empty());
        assert_eq!(
            find(&["red sky"], "the Red-Sky team"),
            [(0, "Red-Sky".into())]
        );
        assert_eq!(
            find(&["red sky"], "the red\u{200b}sky"),
            [(0, "red\u{200b}sky".into())]
        );
    }

    #[test]
    fn overlapping_terms_prefer_longest() {
        assert_eq!(
            find(&["blue", "blue fox"], "a Blue Fox ran"),
            [(1, "Blue Fox".into())]
        );
    }

    #[test]
    fn a_repeated_term_is_one_pattern_reported_as_its_first() {
        let terms: Vec<(String, usize)> = (0..1000).map(|i| ("Opal".to_string(), i)).collect();
        let m = TermMatcher::new(terms);
        let hits = m.find_all(&Normalized::new("opal, OPAL and Opal."));
        assert_eq!(hits.len(), 3);
        assert!(hits.iter().all(|h| *m.label(h.term) == 0));
    }

    /// Every `(pattern, start, end)` the crate's automaton reports.
    fn crate_matches(patterns: &[&[u8]], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .unwrap();
        let mut v: Vec<_> = ac
            .find_overlapping_iter(hay)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        v.sort_unstable();
        v
    }

    /// The same, from a trie of the reversed patterns read backwards.
    fn trie_matches(patterns: &[&[u8]], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let reversed: Vec<Vec<u8>> = patterns
            .iter()
            .map(|p| p.iter().rev().copied().collect())
            .collect();
        let reversed: Vec<&[u8]> = reversed.iter().map(Vec::as_slice).collect();
        let t = Trie::new(&reversed);
        let mut v = Vec::new();
        t.scan_backwards(hay, |s, state| {
            let lens: Vec<u32> = t.chain(state).map(|p| t.len[p]).collect();
            assert!(lens.windows(2).all(|w| w[0] > w[1]), "longest first");
            v.extend(t.chain(state).map(|p| (p, s, s + t.len[p] as usize)));
        });
        v.sort_unstable();
        v
    }

    #[test]
    fn the_trie_finds_what_aho_corasick_finds() {
        let patterns: Vec<&[u8]> = vec![b"he", b"she", b"his", b"hers", b"h", b"e", b"shes"];
        for hay in [&b"ushers"[..], b"shehishers", b"", b"hhhh", b"xyz"] {
            assert_eq!(trie_matches(&patterns, hay), crate_matches(&patterns, hay));
        }
    }

    /// A text or a term made of `pieces`: words that nest and overlap,
    /// plural endings, a Greek capital (a shape variant), Chinese
    /// characters (words of their own), an `ß` (two letters from one).
    fn made_of(pieces: &[usize]) -> String {
        const P: &[&str] = &[
            "a", "a", "a", "a", "b", "ab", "s", "es", " ", " ", " ", " ", " ", "a a", "-", "Η",
            "η", "中", "文", "中", "ß", "ss", "e", " a",
        ];
        pieces.iter().map(|&i| P[i % P.len()]).collect()
    }

    /// Pieces that make terms nest and overlap: `a`, `s`, `es`, spaces,
    /// `a a`, ` a`, `ß`, `ss`, `Η`.
    const NESTED: [usize; 24] = [
        0, 0, 0, 0, 0, 0, 6, 6, 7, 7, 8, 8, 8, 8, 13, 13, 23, 23, 20, 21, 1, 2, 3, 15,
    ];

    proptest! {
        #[test]
        fn a_report_s_matcher_chooses_as_the_registry_s_does(
            terms in proptest::collection::vec(proptest::collection::vec(0usize..24, 1..5), 1..12),
            text in proptest::collection::vec(0usize..24, 0..40),
        ) {
            let terms: Vec<(String, usize)> =
                terms.iter().enumerate().map(|(i, t)| (made_of(t), i)).collect();
            let text = made_of(&text);
            let n = Normalized::new(&text);
            let ours = TermMatcher::new(terms.clone()).find_disjoint(&n);
            let theirs = TermMatcher::long_lived(terms.clone()).find_disjoint(&n);
            prop_assert_eq!(ours, theirs, "{:?} in {:?}", terms, text);
        }

        #[test]
        fn nested_terms_are_chosen_as_the_registry_s_are(
            terms in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(&NESTED[..]), 1..5), 1..12),
            text in proptest::collection::vec(proptest::sample::select(&NESTED[..]), 0..60),
        ) {
            let terms: Vec<(String, usize)> =
                terms.iter().enumerate().map(|(i, t)| (made_of(t), i)).collect();
            let text = made_of(&text);
            let n = Normalized::new(&text);
            let ours = TermMatcher::new(terms.clone()).find_disjoint(&n);
            let theirs = TermMatcher::long_lived(terms.clone()).find_disjoint(&n);
            prop_assert_eq!(ours, theirs, "{:?} in {:?}", terms, text);
        }

        #[test]
        fn the_trie_agrees_with_aho_corasick(
            words in proptest::collection::hash_set("[abc]{1,6}", 1..40),
            hay in "[abcd]{0,200}",
        ) {
            let patterns: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
            prop_assert_eq!(
                trie_matches(&patterns, hay.as_bytes()),
                crate_matches(&patterns, hay.as_bytes())
            );
        }
    }
}
