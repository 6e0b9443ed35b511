//! Text normalisation for matching protected material in disguise.
//!
//! A protected term must be found whatever the writer or an adversary did
//! to it: case, Unicode compatibility forms (fullwidth letters, ligatures),
//! diacritics, zero-width and other invisible characters, and whitespace,
//! line breaks, punctuation or hyphens inside it. The normalised form keeps
//! only letters and digits, folded to lower case without diacritics;
//! everything else is a *separator* and invisible characters vanish
//! entirely. Each normalised byte remembers where its character came from
//! in the original text and whether a separator came before it (a word
//! start), so that matches can require word boundaries and be mapped back
//! to the original for reporting and replacement.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// A text in normalised form, with a map back to the original.
#[derive(Debug, Default, Clone)]
pub struct Normalized<'a> {
    original: &'a str,
    text: String,
    /// Per normalised byte: byte offset where its original character starts.
    orig_start: Vec<u32>,
    /// Per normalised byte: a separator came before its character.
    word_start: Vec<bool>,
}

impl<'a> Normalized<'a> {
    /// Normalises `s`.
    pub fn new(s: &'a str) -> Normalized<'a> {
        let mut n = Normalized {
            original: s,
            text: String::with_capacity(s.len()),
            orig_start: Vec::with_capacity(s.len()),
            word_start: Vec::with_capacity(s.len()),
        };
        let mut sep = true;
        for (off, c) in s.char_indices() {
            let off = off as u32;
            if c.is_ascii() {
                if c.is_ascii_alphanumeric() {
                    // Safe fast path: one ASCII byte in, one out.
                    n.text.push(c.to_ascii_lowercase());
                    n.orig_start.push(off);
                    n.word_start.push(sep);
                    sep = false;
                } else {
                    sep = true;
                }
                continue;
            }
            if is_invisible(c) || is_combining_mark(c) {
                continue;
            }
            for d in std::iter::once(c).nfkd() {
                if is_combining_mark(d) || is_invisible(d) {
                    continue;
                }
                for l in d.to_lowercase() {
                    if let Some(folded) = fold(l) {
                        for f in folded.chars() {
                            n.push(f, off, sep);
                            sep = false;
                        }
                    } else if l.is_alphanumeric() {
                        n.push(l, off, sep);
                        sep = false;
                    } else if !is_combining_mark(l) {
                        sep = true;
                    }
                }
            }
        }
        n
    }

    fn push(&mut self, c: char, start: u32, word_start: bool) {
        let mut buf = [0u8; 4];
        let s = c.encode_utf8(&mut buf);
        for i in 0..s.len() {
            self.orig_start.push(start);
            self.word_start.push(word_start && i == 0);
        }
        self.text.push_str(s);
    }

    /// The normalised text: letters and digits only.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether a separator (or the start of the text) precedes normalised
    /// byte `i`; true at the end of the text.
    pub fn is_word_start(&self, i: usize) -> bool {
        self.word_start.get(i).copied().unwrap_or(true)
    }

    /// The original byte range covered by normalised bytes `start..end`.
    pub fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        let s = self.orig_start.get(start).copied().unwrap_or(0) as usize;
        let e = match end.checked_sub(1).and_then(|i| self.orig_start.get(i)) {
            Some(&last) => {
                let last = last as usize;
                last + self.original[last..]
                    .chars()
                    .next()
                    .map_or(0, char::len_utf8)
            }
            None => s,
        };
        (s, e.max(s))
    }

    /// The words of the text: byte ranges in the normalised text between
    /// word starts.
    pub fn words(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let len = self.text.len();
        let mut i = 0;
        std::iter::from_fn(move || {
            if i >= len {
                return None;
            }
            let start = i;
            i += 1;
            while i < len && !self.word_start[i] {
                i += 1;
            }
            Some((start, i))
        })
    }
}

/// The normalised form of a term on its own (letters and digits only).
pub fn normalize_term(s: &str) -> String {
    Normalized::new(s).text
}

/// Letters that Unicode does not decompose but readers take as a base
/// letter with a mark, or as two letters.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'ı' => "i",
        'ø' => "o",
        'đ' => "d",
        'ł' => "l",
        'ħ' => "h",
        'æ' => "ae",
        'œ' => "oe",
        'þ' => "th",
        _ => return None,
    })
}

/// Default-ignorable code points: characters that render as nothing and
/// can be slipped inside a word to hide it.
pub fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5
        | 0x180B..=0x180F | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_disguises() {
        for s in [
            "SAPPHIRE",
            "sap\u{200b}phire",
            "Sap-phire",
            "S.A.P.P.H.I.R.E",
            "Ｓａｐｐｈｉｒｅ",
            "Sápphíre",
            "sap\nphire",
            "sa\u{00ad}pphire",
            "sap\u{0301}phire",
        ] {
            assert_eq!(normalize_term(s), "sapphire", "{s:?}");
        }
        assert_eq!(normalize_term("Straße"), "strasse");
        assert_eq!(normalize_term("ﬁle"), "file");
    }

    #[test]
    fn maps_back_and_marks_word_starts() {
        let n = Normalized::new("the Sáp-phire's");
        assert_eq!(n.as_str(), "thesapphires");
        assert!(n.is_word_start(0) && n.is_word_start(3) && !n.is_word_start(4));
        // "sapphire" is normalised bytes 3..11
        assert_eq!(n.original_range(3, 11), (4, 14));
        let words: Vec<_> = n.words().map(|(s, e)| &n.as_str()[s..e]).collect();
        assert_eq!(words, ["the", "sap", "phire", "s"]);
    }
}
