//! Text helpers shared by the rules: compiling patterns, word boundaries,
//! and the text just before a match.

use regex::Regex;

/// Whether `text[start..end]` starts and ends at word boundaries.
pub(crate) fn whole_words(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let first = text[start..end].chars().next();
    let last = text[start..end].chars().next_back();
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let glued_before = word(before) && word(first);
    let glued_after = word(after) && word(last);
    !glued_before && !glued_after
}

/// Up to `n` bytes of `text` before byte `at`, cut at a character boundary.
pub(crate) fn before(text: &str, at: usize, n: usize) -> &str {
    let mut s = at.saturating_sub(n);
    while !text.is_char_boundary(s) {
        s += 1;
    }
    &text[s..at]
}

/// Compiles one of this crate's patterns (constants: a test compiles them
/// all). The lazy DFA gets room for the Unicode classes of names, so that
/// searches stay on it instead of falling back to the slower engines.
///
/// Word boundaries are ASCII (`(?-u:\b)`): a Unicode boundary would make
/// the lazy DFA quit at the first non-ASCII byte (a curly quote is enough)
/// and leave the search to the slowest engine.
pub(crate) fn re(pattern: &str) -> Regex {
    let pattern = pattern.replace(r"\b", r"(?-u:\b)");
    regex::RegexBuilder::new(&pattern)
        .dfa_size_limit(64 << 20)
        .size_limit(64 << 20)
        .build()
        .unwrap_or_else(|e| panic!("bug: bad pattern: {e}"))
}
