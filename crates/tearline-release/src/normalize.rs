//! Text normalisation for matching protected material in disguise.
//!
//! A protected term must be found whatever the writer or an adversary did
//! to it. The normalised form keeps only letters and digits:
//!
//! - **case**: full Unicode case folding (the `caseless` crate), so Greek
//!   `Σ`, `σ` and final `ς` are one letter and `ß` is `ss`;
//! - **compatibility forms and diacritics**: NFKD, with every combining
//!   mark dropped (fullwidth letters, ligatures, accents, Greek tonos);
//! - **look-alikes**: each letter outside ASCII becomes its UTS #39
//!   confusable prototype (the `unicode-security` crate's skeleton), and
//!   Latin small capitals (`ᴀ`, `ꜱ`) their letter, so Cyrillic `а` is `a`.
//!   ASCII letters are their own prototype: `m` and `rn` stay apart, or
//!   every Latin text would match unrelated terms. A second form, the
//!   *shape* variant, maps capitals outside ASCII by shape before folding
//!   their case (Greek `Η` reads as `H`, though `η` reads as `n`); it is
//!   made only for texts that hold such capitals
//!   ([`Normalized::shape_variant`]);
//! - **invisible characters** vanish: zero-width characters, soft hyphens,
//!   variation selectors, bidirectional controls, the Arabic tatweel;
//! - everything else — whitespace, line breaks, punctuation, hyphens, and
//!   the Hangul fillers that render as blanks — is a *separator*.
//!
//! Each normalised byte remembers where its character came from in the
//! original text and whether a separator came before it (a word start),
//! so that matches can require word boundaries and be mapped back to the
//! original for reporting and replacement. Scripts written without spaces
//! (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar, Yi, Bopomofo) have
//! no words to bound: each of their characters stands as a word of its own
//! ([`is_unspaced`]), so a term is found inside such text and runs of it
//! are counted in characters.

use caseless::Caseless;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use unicode_script::{Script, UnicodeScript};
use unicode_security::skeleton;

/// How letters outside ASCII are folded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Fold {
    /// Case first: full case folding, then the confusable prototype.
    #[default]
    Case,
    /// Shape first, for capitals: the prototype of the capital as written,
    /// then case folding.
    Shape,
}

/// Flag: a separator (or the start of the text) precedes this byte's
/// character.
const WORD_START: u8 = 1;
/// Flag: this byte's character is a word of its own (an unspaced script).
const UNSPACED: u8 = 2;

/// A text in normalised form, with a map back to the original.
#[derive(Debug, Default, Clone)]
pub struct Normalized<'a> {
    original: &'a str,
    text: String,
    /// Per normalised byte: byte offset where its original character starts.
    orig_start: Vec<u32>,
    /// Per normalised byte: [`WORD_START`] and [`UNSPACED`].
    flags: Vec<u8>,
    fold: Fold,
    /// Whether the text holds a capital outside ASCII, whose shape variant
    /// may differ.
    capitals: bool,
}

impl<'a> Normalized<'a> {
    /// Normalises `s`.
    pub fn new(s: &'a str) -> Normalized<'a> {
        Normalized::with_fold(s, Fold::Case)
    }

    fn with_fold(s: &'a str, fold: Fold) -> Normalized<'a> {
        let mut n = Normalized {
            original: s,
            text: String::with_capacity(s.len()),
            orig_start: Vec::with_capacity(s.len()),
            flags: Vec::with_capacity(s.len()),
            fold,
            capitals: false,
        };
        let mut sep = true;
        for (off, c) in s.char_indices() {
            let off = off as u32;
            if c.is_ascii() {
                if c.is_ascii_alphanumeric() {
                    // Fast path: one ASCII byte in, one out.
                    n.text.push(c.to_ascii_lowercase());
                    n.orig_start.push(off);
                    n.flags.push(if sep { WORD_START } else { 0 });
                    sep = false;
                } else {
                    sep = true;
                }
                continue;
            }
            if is_blank(c) {
                sep = true;
                continue;
            }
            if is_invisible(c) || is_combining_mark(c) {
                continue;
            }
            let unspaced = is_unspaced(c);
            for d in std::iter::once(c).nfkd() {
                if is_combining_mark(d) || is_invisible(d) {
                    continue;
                }
                if d.is_ascii() {
                    n.emit(d.to_ascii_lowercase(), off, &mut sep, unspaced);
                    continue;
                }
                if d.is_uppercase() {
                    n.capitals = true;
                }
                fold_letter(d, fold, &mut |x| n.emit(x, off, &mut sep, unspaced));
            }
        }
        n
    }

    /// Appends one folded character of the original character at `off`.
    fn emit(&mut self, c: char, off: u32, sep: &mut bool, unspaced: bool) {
        if !c.is_alphanumeric() {
            *sep = true;
            return;
        }
        let unspaced = unspaced || is_unspaced(c);
        let mut flags = if *sep || unspaced { WORD_START } else { 0 };
        if unspaced {
            flags |= UNSPACED;
        }
        let mut buf = [0u8; 4];
        let s = c.encode_utf8(&mut buf);
        for i in 0..s.len() {
            self.orig_start.push(off);
            self.flags
                .push(if i == 0 { flags } else { flags & UNSPACED });
        }
        self.text.push_str(s);
        *sep = unspaced;
    }

    /// The shape variant of the text, when it holds capitals outside ASCII
    /// that may read as other letters than their lower case does (Greek
    /// `Ν` looks like `N`, `ν` like `v`). Matching both forms finds a term
    /// spelt in look-alike capitals as well as one spelt in another case.
    pub fn shape_variant(&self) -> Option<Normalized<'a>> {
        (self.fold == Fold::Case && self.capitals)
            .then(|| Normalized::with_fold(self.original, Fold::Shape))
    }

    /// The normalised text: letters and digits only.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether a separator (or the start of the text) precedes normalised
    /// byte `i`, or its character is a word of its own, or one ends just
    /// before it; true at the end of the text.
    pub fn is_word_start(&self, i: usize) -> bool {
        self.flags.get(i).is_none_or(|&f| f & WORD_START != 0)
    }

    /// Whether normalised byte `i` belongs to a character of a script
    /// written without spaces (a word of its own).
    pub fn is_unspaced(&self, i: usize) -> bool {
        self.flags.get(i).is_some_and(|&f| f & UNSPACED != 0)
    }

    /// The original byte range covered by normalised bytes `start..end`.
    pub fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        let s = self.orig_start.get(start).copied().unwrap_or(0) as usize;
        let e = match end.checked_sub(1).and_then(|i| self.orig_start.get(i)) {
            Some(&last) => {
                let last = last as usize;
                last + self
                    .original
                    .get(last..)
                    .and_then(|r| r.chars().next())
                    .map_or(0, char::len_utf8)
            }
            None => s,
        };
        (s, e.max(s))
    }

    /// The words of the text: byte ranges in the normalised text between
    /// word starts. A character of an unspaced script is a word of its own.
    pub fn words(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let len = self.text.len();
        let mut i = 0;
        std::iter::from_fn(move || {
            if i >= len {
                return None;
            }
            let start = i;
            i += 1;
            while i < len && !self.is_word_start(i) {
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

/// The shape-variant form of a term (see [`Normalized::shape_variant`]);
/// the same as [`normalize_term`] for a term without capitals outside
/// ASCII.
pub fn normalize_term_shape(s: &str) -> String {
    Normalized::with_fold(s, Fold::Shape).text
}

/// Folds one character outside ASCII (decomposed, not a mark).
fn fold_letter(d: char, fold: Fold, emit: &mut dyn FnMut(char)) {
    if fold == Fold::Shape && d.is_uppercase() && d.is_alphanumeric() {
        let mut buf = [0u8; 4];
        for p in skeleton(d.encode_utf8(&mut buf)) {
            match p {
                _ if is_combining_mark(p) => {}
                // The prototype of every vertical stroke is `l`; a capital
                // stroke (Greek Ι, Cyrillic І, Ӏ) reads as the capital I.
                'l' => emit('i'),
                _ => fold_case(p, emit),
            }
        }
        return;
    }
    fold_case(d, emit);
}

/// Case first: full case folding, then each letter's prototype.
fn fold_case(d: char, emit: &mut dyn FnMut(char)) {
    if d.is_ascii() {
        emit(d.to_ascii_lowercase());
        return;
    }
    for f in std::iter::once(d).default_case_fold() {
        if f.is_ascii() {
            emit(f.to_ascii_lowercase());
        } else if let Some(s) = small_capital(f).or_else(|| fold(f)) {
            s.chars().for_each(&mut *emit);
        } else if !f.is_alphanumeric() {
            emit(f);
        } else {
            let mut buf = [0u8; 4];
            for p in skeleton(f.encode_utf8(&mut buf)) {
                if p.is_ascii() {
                    emit(p.to_ascii_lowercase());
                } else if !is_combining_mark(p) {
                    finish(p, emit);
                }
            }
        }
    }
}

/// The last step for a prototype outside ASCII: its compatibility form,
/// case folded, small capitals as their letter.
fn finish(p: char, emit: &mut dyn FnMut(char)) {
    for q in std::iter::once(p).nfkd() {
        if is_combining_mark(q) {
            continue;
        }
        for r in std::iter::once(q).default_case_fold() {
            match small_capital(r).or_else(|| fold(r)) {
                Some(s) => s.chars().for_each(&mut *emit),
                None => emit(r),
            }
        }
    }
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

/// Small capitals, which Unicode neither decomposes nor lists as
/// confusable with their letter (code points and names from the Unicode
/// Character Database: LATIN LETTER SMALL CAPITAL A is U+1D00, and so on).
fn small_capital(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{1D00}' => "a",
        '\u{1D01}' => "ae",
        '\u{0299}' | '\u{1D03}' => "b",
        '\u{1D04}' => "c",
        '\u{1D05}' | '\u{1D06}' => "d",
        '\u{1D07}' => "e",
        '\u{A730}' => "f",
        '\u{0262}' | '\u{029B}' => "g",
        '\u{029C}' => "h",
        '\u{026A}' | '\u{1D7B}' | '\u{A7AE}' => "i",
        '\u{1D0A}' => "j",
        '\u{1D0B}' => "k",
        '\u{029F}' | '\u{1D0C}' => "l",
        '\u{1D0D}' => "m",
        '\u{0274}' => "n",
        '\u{1D0F}' => "o",
        '\u{0276}' => "oe",
        '\u{1D15}' => "ou",
        '\u{1D18}' => "p",
        '\u{A7AF}' => "q",
        '\u{0280}' => "r",
        '\u{A731}' => "s",
        '\u{1D1B}' => "t",
        '\u{1D1C}' | '\u{1D7E}' => "u",
        '\u{1D20}' => "v",
        '\u{1D21}' => "w",
        '\u{028F}' => "y",
        '\u{1D22}' => "z",
        // Greek and Cyrillic small capitals: their lower-case letter.
        '\u{1D26}' => "γ",
        '\u{1D27}' => "λ",
        '\u{1D28}' => "π",
        '\u{1D29}' => "ρ",
        '\u{1D2A}' => "ψ",
        '\u{AB65}' => "ω",
        '\u{1D2B}' => "л",
        _ => return None,
    })
}

/// Whether `c` belongs to a script written without spaces between words:
/// Han, Hiragana, Katakana, Bopomofo, Thai, Lao, Khmer, Myanmar or Yi
/// (including characters shared by them only, such as the prolonged sound
/// mark `ー`).
pub fn is_unspaced(c: char) -> bool {
    if (c as u32) < 0x0E00 {
        return false;
    }
    let ext = c.script_extension();
    if ext.is_common() || ext.is_inherited() {
        return false;
    }
    [
        Script::Han,
        Script::Hiragana,
        Script::Katakana,
        Script::Bopomofo,
        Script::Thai,
        Script::Lao,
        Script::Khmer,
        Script::Myanmar,
        Script::Yi,
    ]
    .into_iter()
    .any(|s| ext.contains_script(s))
}

/// Characters that render as a blank space though Unicode calls them
/// letters: the Hangul fillers. They separate words.
pub fn is_blank(c: char) -> bool {
    matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}')
}

/// Default-ignorable code points, bidirectional controls and the Arabic
/// tatweel: characters that render as nothing (or only stretch a joining
/// line) and can be slipped inside a word to hide it.
pub fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x0640 | 0x17B4 | 0x17B5
        | 0x180B..=0x180F | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x206F | 0xFE00..=0xFE0F | 0xFEFF
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

    #[test]
    fn greek_case_accents_and_final_sigma_fold_alike() {
        let term = normalize_term("Οδυσσέας");
        for s in ["ΟΔΥΣΣΕΑΣ", "οδυσσεας", "ΟΔΥΣΣΈΑΣ", "Οδυσσεασ", "οδυςςεας"]
        {
            assert_eq!(normalize_term(s), term, "{s:?}");
        }
        assert_ne!(normalize_term("Αθήνα"), term);
    }

    #[test]
    fn look_alikes_fold_to_their_prototype() {
        for s in [
            "S\u{0410}PPHIRE", // Cyrillic А
            "s\u{0430}pphire", // Cyrillic а
            "ꜱᴀᴘᴘʜɪʀᴇ",        // small capitals
            "ѕарр\u{04BB}іrе", // Cyrillic ѕ а р р һ і е
            "SAPP\u{0397}IRE", // Greek Η, in the shape variant
        ] {
            let lower = normalize_term(s);
            let shape = normalize_term_shape(s);
            assert!(
                lower == "sapphire" || shape == "sapphire",
                "{s:?}: {lower} / {shape}"
            );
        }
        // ASCII letters are their own prototype.
        assert_ne!(normalize_term("com"), normalize_term("corn"));
        assert_ne!(normalize_term("hail"), normalize_term("hall"));
        assert_ne!(normalize_term("I0"), normalize_term("lO"));
    }

    #[test]
    fn shape_variant_only_for_capitals_outside_ascii() {
        assert!(Normalized::new("SAPPHIRE and café")
            .shape_variant()
            .is_none());
        let n = Normalized::new("ΝΑΙ");
        let s = n.shape_variant().unwrap();
        assert_eq!(s.as_str(), "nai");
        assert_eq!(n.as_str(), normalize_term("ναι"));
    }

    #[test]
    fn unspaced_scripts_are_one_word_per_character() {
        let n = Normalized::new("他说SAPPHIRE来了 ok");
        let words: Vec<_> = n.words().map(|(s, e)| &n.as_str()[s..e]).collect();
        assert_eq!(words, ["他", "说", "sapphire", "来", "了", "ok"]);
        assert!(n.is_unspaced(0) && !n.is_unspaced(6));
        let t = Normalized::new("ข่าวกรอง");
        assert!(t.words().count() >= 4, "{:?}", t.as_str());
        assert!(t.words().all(|(s, _)| t.is_unspaced(s)));
        // Korean is written with spaces: its words stay words.
        let k = Normalized::new("보안 정보");
        assert_eq!(k.words().count(), 2);
    }

    #[test]
    fn fillers_separate_and_invisibles_vanish() {
        let n = Normalized::new("the\u{3164}cell\u{FFA0}plans\u{115F}an\u{1160}attack");
        assert_eq!(n.words().count(), 5);
        assert_eq!(normalize_term("SAP\u{0640}PHIRE"), "sapphire");
        assert_eq!(
            normalize_term("\u{202E}SAP\u{2066}PHIRE\u{2069}\u{202C}"),
            "sapphire"
        );
        assert_eq!(
            normalize_term("SAP\u{200E}PH\u{200F}IRE\u{061C}"),
            "sapphire"
        );
        assert_eq!(normalize_term("قـــاعدة"), normalize_term("قاعدة"));
    }
}
