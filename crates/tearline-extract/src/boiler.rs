//! Boilerplate: the parts of a web page that are not its article.
//!
//! Pages arrive with their navigation menus, breadcrumbs, lists of site
//! sections, bylines and time stamps, image credits and captions, share
//! buttons, newsletter and cookie prompts, and lists of other stories
//! ("Read more", "Most read") that name other cities, groups and tolls.
//! None of it is the article's content: entities found there would link
//! a page to cases it has nothing to do with.
//!
//! A line is boilerplate when
//! - it starts with a cue of its kind ("Read more", "Photo:", "Share",
//!   "Subscribe", "Lire aussi", "Lesen Sie auch", "Читайте также", ...),
//! - it is a menu or breadcrumb: three or more separators (`|`, `·`, `•`,
//!   `›`, `»`, `>`, `/`) between short items,
//! - it is a short label with no sentence in it (one to three words, no
//!   full stop), or
//! - it follows a list heading ("Most read", "Related", "Lire aussi") in
//!   the same block: the headlines listed under it.
//!
//! The article's lines — its headline, dateline and paragraphs — are kept.
//! [`boilerplate`] gives the byte ranges of boilerplate lines; the reader
//! drops every entity inside them, and [`headline`] gives the first line
//! that is not boilerplate.

use std::ops::Range;

/// Cues that start a boilerplate line whatever follows (compared with the
/// line's start, lower-cased).
const STRONG_CUES: &[&str] = &[
    "read more",
    "read also",
    "read next",
    "also read",
    "related:",
    "related stories",
    "related articles",
    "more on this",
    "most read",
    "photo:",
    "photos:",
    "image:",
    "picture:",
    "credit:",
    "caption:",
    "foto:",
    "bild:",
    "©",
    "(c) ",
    "copyright",
    "all rights reserved",
    "we use cookies",
    "this site uses cookies",
    "skip to",
    "lire aussi",
    "a lire aussi",
    "à lire aussi",
    "lesen sie auch",
    "mehr zum thema",
    "leer más",
    "lee también",
    "te puede interesar",
    "читайте также",
    "смотрите также",
    "ayrıca okuyun",
    "ilginizi çekebilir",
    "اقرأ أيضا",
    "اقرأ أيضاً",
];

/// Cues that start a boilerplate line of ten words or fewer: words an
/// article's sentence may also start with ("Share prices fell ...").
const WEAK_CUES: &[&str] = &[
    "share",
    "follow us",
    "sign up",
    "subscribe",
    "newsletter",
    "cookie",
    "accept all",
    "advertisement",
    "sponsored",
    "comments",
    "tags:",
    "topics:",
    "menu",
    "log in",
    "sign in",
    "updated",
    "published",
    "last updated",
    "trending",
    "recommended",
    "see also",
    "watch:",
    "video:",
    "more from",
    "more stories",
    "most popular",
    "most viewed",
    "voir aussi",
    "les plus lus",
    "partager",
    "abonnez-vous",
    "meistgelesen",
    "teilen",
    "compartir",
    "lo más leído",
    "поделиться",
    "подписывайтесь",
    "paylaş",
    "شارك",
];

/// Headings of a list of other stories: the lines under them, to the end
/// of the block, are headlines of other pages.
const LIST_HEADINGS: &[&str] = &[
    "read more",
    "read also",
    "also read",
    "related",
    "related stories",
    "related articles",
    "more on this",
    "more stories",
    "most read",
    "most popular",
    "most viewed",
    "trending",
    "recommended",
    "see also",
    "lire aussi",
    "a lire aussi",
    "à lire aussi",
    "les plus lus",
    "lesen sie auch",
    "mehr zum thema",
    "meistgelesen",
    "leer más",
    "lee también",
    "lo más leído",
    "te puede interesar",
    "читайте также",
    "смотрите также",
    "ilginizi çekebilir",
    "اقرأ أيضا",
    "اقرأ أيضاً",
];

const SEPARATORS: &[char] = &['|', '·', '•', '›', '»', '>', '/', '–'];

fn starts_with_cue(lower: &str, cues: &[&str]) -> bool {
    cues.iter().any(|c| {
        lower.starts_with(c)
            && lower[c.len()..]
                .chars()
                .next()
                .is_none_or(|n| !n.is_alphanumeric() || c.ends_with(' '))
    })
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// Whether one line (trimmed, non-empty) is boilerplate on its own.
fn is_boilerplate(line: &str) -> bool {
    let lower = line.to_lowercase();
    let lower = lower.trim_start_matches(['-', '*', '•', '·', '▸', '►', ' ']);
    let n = words(line);
    if starts_with_cue(lower, STRONG_CUES) || (n <= 10 && starts_with_cue(lower, WEAK_CUES)) {
        return true;
    }
    // A byline: "By Anna Petrova", "By Anna Petrova and John Smith, Reuters".
    if lower.starts_with("by ") && n <= 7 && !line.ends_with('.') {
        return true;
    }
    let seps = line.chars().filter(|c| SEPARATORS.contains(c)).count();
    if seps >= 3 {
        let items: Vec<&str> = line.split(SEPARATORS).collect();
        let short = items.iter().filter(|i| words(i) <= 3).count();
        if short * 4 >= items.len() * 3 {
            return true;
        }
    }
    let sentence = line.contains(['.', '!', '?', '。', '؟']);
    n <= 3 && !sentence && !line.chars().any(|c| c.is_ascii_digit())
}

/// Byte ranges of the boilerplate lines of `text`.
pub fn boilerplate(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut in_list = false;
    let mut at = 0;
    for raw in text.split_inclusive('\n') {
        let range = at..at + raw.len();
        at += raw.len();
        let line = raw.trim();
        if line.is_empty() {
            in_list = false;
            continue;
        }
        let lower = line.to_lowercase();
        let heading =
            starts_with_cue(lower.trim_end_matches(':'), LIST_HEADINGS) && words(line) <= 4;
        if heading {
            in_list = true;
            out.push(range);
            continue;
        }
        // Under a list heading: short lines are other stories' headlines;
        // a long paragraph ends the list.
        if in_list && words(line) <= 20 {
            out.push(range);
            continue;
        }
        in_list = false;
        if is_boilerplate(line) {
            out.push(range);
        }
    }
    out
}

/// The page's headline: its first line that is not boilerplate and holds
/// three words or more, trimmed.
pub fn headline(text: &str) -> Option<&str> {
    let cut = boilerplate(text);
    let mut at = 0;
    for raw in text.split_inclusive('\n') {
        let start = at;
        at += raw.len();
        let line = raw.trim();
        if line.is_empty() || words(line) < 3 {
            continue;
        }
        if cut.iter().any(|r| r.start == start) {
            continue;
        }
        return Some(line);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(text: &str) -> Vec<&str> {
        let cut = boilerplate(text);
        let mut at = 0;
        let mut out = Vec::new();
        for raw in text.split_inclusive('\n') {
            let start = at;
            at += raw.len();
            if !raw.trim().is_empty() && !cut.iter().any(|r| r.start == start) {
                out.push(raw.trim());
            }
        }
        out
    }

    #[test]
    fn menus_credits_and_story_lists_are_cut_and_the_article_kept() {
        let page = "Home | World | Europe | Politics | Sport | Video\n\
                    World\n\
                    Gunmen kill dozens at concert hall near Moscow\n\
                    By Anna Petrova\n\
                    Updated 23 March 2024, 08:14 GMT\n\
                    Photo: Reuters / Maxim Shemetov\n\
                    MOSCOW, March 23 (Reuters) - Gunmen opened fire at Crocus City Hall on Friday.\n\
                    Share on Facebook Twitter WhatsApp\n\
                    \n\
                    Most read\n\
                    Paris police foil plot against church\n\
                    Islamic State claims attack in Kabul\n\
                    \n\
                    We use cookies to improve your experience.\n";
        assert_eq!(
            kept(page),
            [
                "Gunmen kill dozens at concert hall near Moscow",
                "MOSCOW, March 23 (Reuters) - Gunmen opened fire at Crocus City Hall on Friday."
            ]
        );
        assert_eq!(
            headline(page),
            Some("Gunmen kill dozens at concert hall near Moscow")
        );
    }

    #[test]
    fn other_languages_cues_are_cut() {
        for line in [
            "Lire aussi : Attentat à Paris",
            "Lesen Sie auch: Anschlag in Wien",
            "Читайте также: взрыв в Кермане",
            "Leer más: atentado en Barcelona",
        ] {
            assert!(kept(line).is_empty(), "{line}");
        }
    }

    #[test]
    fn an_article_sentence_that_opens_with_a_cue_word_is_kept() {
        for line in [
            "Share prices fell in Moscow on Monday after the attack on the concert hall.",
            "By Friday evening, the toll had risen to 60.",
            "Updated figures from the health ministry put the number of injured at 180 and rising.",
        ] {
            assert_eq!(kept(line), [line]);
        }
    }
}
