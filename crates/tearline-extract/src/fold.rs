//! Case and diacritic folding with a map back to the original text.
//!
//! Gazetteer names are matched on a folded copy of the text: lower case,
//! no diacritics, typographic apostrophes and dashes made plain, every
//! kind of whitespace a space. Each folded byte remembers the byte offset
//! of the original character it came from, so matches map back exactly.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// A folded text and its map to the original.
pub(crate) struct Folded {
    pub text: String,
    /// Per folded byte, plus one past the end: the original byte offset.
    map: Vec<u32>,
}

impl Folded {
    pub fn new(s: &str) -> Folded {
        let mut text = String::with_capacity(s.len());
        let mut map = Vec::with_capacity(s.len() + 1);
        for (off, c) in s.char_indices() {
            let off = off as u32;
            if c.is_ascii() {
                let b = if c.is_ascii_whitespace() {
                    ' '
                } else {
                    c.to_ascii_lowercase()
                };
                text.push(b);
                map.push(off);
                continue;
            }
            let before = text.len();
            fold_char(c, &mut text);
            map.resize(map.len() + (text.len() - before), off);
        }
        map.push(s.len() as u32);
        Folded { text, map }
    }

    /// The original byte range of a folded byte range.
    pub fn original(&self, start: usize, end: usize) -> (usize, usize) {
        let s = self.map[start] as usize;
        // The end maps to where the character after the match starts.
        let e = self.map[end] as usize;
        (s, e)
    }
}

/// Folds one name the way [`Folded::new`] folds a text.
pub(crate) fn fold(s: &str) -> String {
    Folded::new(s).text
}

fn fold_char(c: char, out: &mut String) {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{02BB}' | '\u{2032}' | '`' | '\u{00B4}' => {
            out.push('\'')
        }
        '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{3000}' => out.push(' '),
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => {}
        // Cyrillic letters whose decomposition would lose them.
        'й' | 'Й' => out.push('й'),
        'ё' | 'Ё' => out.push('е'),
        _ => {
            for d in c.nfd() {
                if is_combining_mark(d) {
                    continue;
                }
                for l in d.to_lowercase() {
                    out.push(l);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_and_maps_back() {
        let s = "État “Islamique” — Daesh’s Москва";
        let f = Folded::new(s);
        assert!(f.text.starts_with("etat"));
        let i = f.text.find("daesh's").unwrap();
        let (a, b) = f.original(i, i + "daesh's".len());
        assert_eq!(&s[a..b], "Daesh’s");
        let i = f.text.find("москва").unwrap();
        let (a, b) = f.original(i, i + "москва".len());
        assert_eq!(&s[a..b], "Москва");
    }
}
