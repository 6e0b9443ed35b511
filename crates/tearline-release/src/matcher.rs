//! Finding normalised terms in normalised text, on word boundaries.
//!
//! A term is found in a text's normal form and, when the text has one, in
//! its shape variant (see [`crate::normalize`]); both forms of every term
//! are compiled. A character of a script written without spaces is a word
//! of its own, so a term is found inside Chinese, Japanese or Thai text
//! with no space around it.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::normalize::{normalize_term, normalize_term_shape, Normalized};

/// A set of terms, each with a caller's label, compiled once and matched
/// against any number of texts.
#[derive(Debug, Clone)]
pub struct TermMatcher<L> {
    ac: Option<AhoCorasick>,
    /// The terms' shape variants, when any differs from its normal form
    /// (else `ac` serves for both).
    shape: Option<AhoCorasick>,
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
    /// Compiles the terms. Terms whose normalised form is empty (no letters
    /// or digits) are skipped; callers reject those earlier.
    pub fn new(terms: impl IntoIterator<Item = (String, L)>) -> TermMatcher<L> {
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
            // normal form there, so that pattern numbers stay aligned.
            shapes.push(if s.is_empty() { n.clone() } else { s });
            patterns.push(n);
            labels.push(l);
        }
        let shape = if shapes == patterns {
            None
        } else {
            automaton(&shapes)
        };
        TermMatcher {
            ac: automaton(&patterns),
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
    /// are all reported.
    pub fn find_all(&self, n: &Normalized) -> Vec<Hit> {
        let Some(ac) = &self.ac else {
            return Vec::new();
        };
        let mut hits = find_in(ac, n);
        if let Some(v) = n.shape_variant() {
            hits.extend(find_in(self.shape.as_ref().unwrap_or(ac), &v));
            hits.sort_by_key(|h| (h.start, h.end, h.term));
            hits.dedup();
        }
        hits
    }

    /// Like [`TermMatcher::find_all`], but keeps only non-overlapping hits,
    /// preferring the leftmost and then the longest.
    pub fn find_disjoint(&self, n: &Normalized) -> Vec<Hit> {
        let mut hits = self.find_all(n);
        hits.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut out: Vec<Hit> = Vec::with_capacity(hits.len());
        for h in hits {
            if out.last().is_none_or(|l| h.start >= l.end) {
                out.push(h);
            }
        }
        out
    }
}

/// Compiles normalised patterns, or nothing when there are none.
fn automaton(patterns: &[String]) -> Option<AhoCorasick> {
    if patterns.is_empty() {
        return None;
    }
    // A registry is compiled once and searched often: a DFA pays off. The
    // few terms of one report are compiled per release: an NFA is quicker
    // to build.
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

/// The occurrences of `ac`'s patterns in `n` on word boundaries.
fn find_in(ac: &AhoCorasick, n: &Normalized) -> Vec<Hit> {
    let text = n.as_str();
    let bytes = text.as_bytes();
    let mut hits = Vec::new();
    for m in ac.find_overlapping_iter(text) {
        let (s, e) = (m.start(), m.end());
        if !n.is_word_start(s) {
            continue;
        }
        let end = if n.is_word_start(e) {
            Some(e)
        } else {
            let mut w = e;
            while w < bytes.len() && !n.is_word_start(w) {
                w += 1;
            }
            match text.get(e..w) {
                Some("s" | "es") => Some(w),
                _ => None,
            }
        };
        if let Some(end) = end {
            let (os, oe) = n.original_range(s, end);
            hits.push(Hit {
                term: m.pattern().as_usize(),
                start: os,
                end: oe,
            });
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(terms: &[&str], text: &str) -> Vec<(usize, String)> {
        let m = TermMatcher::new(terms.iter().map(|t| (t.to_string(), ())));
        m.find_disjoint(&Normalized::new(text))
            .into_iter()
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
}
