//! What kind of event a text reports: an attack that happened, or a plot
//! that was stopped before it happened.
//!
//! Linking keeps the two apart: a plot foiled in a city on the day of an
//! attack in the same city is a separate case, although both name the
//! city, perhaps the group and the kind of target. The text says which it
//! is in its verbs and nouns: "opened fire", "killed", "explosion" against
//! "foiled", "thwarted", "arrested ... on suspicion of planning". One
//! Aho-Corasick pass over the folded text counts the cues of each kind in
//! English, French, German, Spanish, Russian, Turkish and Arabic; casualty
//! figures count for an attack. A text with foiling cues and no more attack
//! cues than foiling ones, and no casualty figure, reports a foiled plot;
//! a text with attack cues or a figure reports an attack; any other says
//! nothing.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::fold::Folded;
use crate::{Entity, EntityKind};

/// Cues of a plot stopped before it was carried out (folded: lower case,
/// no diacritics). A cue is a whole word or words; one ending in `*` is a
/// stem that may run on ("взрыв*": взрыв, взрыва, взрывом).
const FOILED: &[&str] = &[
    // English
    "foiled",
    "foil a",
    "thwarted",
    "thwart a",
    "disrupted a plot",
    "disrupted an attack",
    "prevented an attack",
    "prevented a terrorist",
    "prevented a terror",
    "suspected of planning",
    "on suspicion of planning",
    "accused of planning",
    "averted",
    // French
    "dejoue*",
    "projet d'attentat",
    "projet d’attentat",
    "soupconnes de preparer",
    "soupconne de preparer",
    // German
    "vereitelt*",
    "anschlagsplan*",
    "verhindert*",
    // Spanish
    "frustrado",
    "frustro",
    "frustraron",
    "desarticulad*",
    "abortado",
    // Russian
    "предотврат*",
    "предотвращ*",
    "пресек*",
    // Turkish
    "engellendi",
    "onlendi",
    // Arabic
    "احباط*",
    "أحبط*",
    "احبط*",
];

/// Cues of an attack that was carried out.
const ATTACK: &[&str] = &[
    // English
    "opened fire",
    "gunmen",
    "gunman",
    "explosion*",
    "exploded",
    "blast*",
    "detonated",
    "suicide bomber",
    "suicide bombing",
    "stabbed",
    "stabbing",
    "rammed",
    "shooting",
    "were killed",
    "was killed",
    "killing",
    "death toll",
    "were wounded",
    "were injured",
    "massacre",
    "carried out the attack",
    "attackers",
    "survivors",
    "victims",
    // French
    "fusillade",
    "ont ouvert le feu",
    "tues",
    "blesses",
    "victimes",
    "kamikaze*",
    "bilan",
    // German
    "schusse",
    "schüsse",
    "getotet*",
    "todesopfer*",
    "verletzt*",
    "opfer*",
    "selbstmordattentat*",
    // Spanish
    "tiroteo",
    "explosion*",
    "muertos",
    "heridos",
    "victimas",
    "suicida",
    // Russian
    "погиб*",
    "ранен*",
    "пострадав*",
    "взрыв*",
    "стрельб*",
    "открыли огонь",
    "жертв*",
    // Turkish
    "hayatini kaybetti",
    "yaralandi",
    "patlama",
    // Arabic
    "قتلى*",
    "انفجار*",
    "جرحى*",
];

struct Cues {
    ac: AhoCorasick,
    /// Per pattern: a foiling cue (else an attack cue).
    foiled: Vec<bool>,
    /// Per pattern: a stem, which may run on to the end of a word.
    stem: Vec<bool>,
}

static CUES: LazyLock<Cues> = LazyLock::new(|| {
    let mut pats: Vec<&str> = Vec::new();
    let mut foiled = Vec::new();
    let mut stem = Vec::new();
    for (list, f) in [(FOILED, true), (ATTACK, false)] {
        for p in list {
            pats.push(p.trim_end_matches('*'));
            stem.push(p.ends_with('*'));
            foiled.push(f);
        }
    }
    let ac = AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::DFA))
        .match_kind(MatchKind::LeftmostLongest)
        .build(&pats)
        .unwrap_or_else(|e| panic!("bug: event cues do not compile: {e}"));
    Cues { ac, foiled, stem }
});

/// The event a text reports, as a statement entity whose act is `attack`
/// or `foiled` (at its first cue), or `None`. News leads with its event,
/// so the first cue of the article decides: a report of a foiled plot may
/// go on to say that suspects were killed in a raid, and a report of an
/// attack may recall a plot foiled last year. Cues in `cut` (boilerplate)
/// are not the article's; `entities` are the text's other entities (a
/// casualty figure of this event is an attack cue where it stands).
pub(crate) fn event(
    text: &str,
    folded: &Folded,
    entities: &[Entity],
    cut: &[std::ops::Range<usize>],
) -> Option<Entity> {
    let cues = &*CUES;
    let outside = |at: usize| {
        let i = cut.partition_point(|r| r.end <= at);
        cut.get(i).is_none_or(|r| at < r.start)
    };
    let mut first: Option<((usize, usize), bool)> = None;
    for m in cues.ac.find_iter(&folded.text) {
        // A cue starts a word and, unless a stem, ends one.
        let before = folded.text[..m.start()].chars().next_back();
        let after = folded.text[m.end()..].chars().next();
        let p = m.pattern().as_usize();
        if before.is_some_and(char::is_alphanumeric)
            || (!cues.stem[p] && after.is_some_and(char::is_alphanumeric))
        {
            continue;
        }
        let span = folded.original(m.start(), m.end());
        if outside(span.0) {
            first = Some((span, cues.foiled[p]));
            break;
        }
    }
    let figure = entities
        .iter()
        .filter(|e| {
            e.kind == EntityKind::Casualty
                && e.about.is_none()
                && e.figure.as_ref().is_some_and(|f| f.value > 0)
        })
        .map(|e| (e.byte_start, e.byte_end))
        .min();
    let (at, foiled) = match (first, figure) {
        // A figure of this event before any cue: an attack.
        (Some((c, _)), Some(g)) if g.0 < c.0 => (g, false),
        (Some(c), _) => c,
        (None, Some(g)) => (g, false),
        (None, None) => return None,
    };
    let act = if foiled { "foiled" } else { "attack" };
    let surface = text.get(at.0..at.1).unwrap_or("");
    let mut e = Entity::new(
        at.0,
        at.1,
        EntityKind::Statement,
        surface,
        format!("event:{act}"),
        act.to_string(),
    );
    e.act = Some(act.to_string());
    Some(e)
}

/// Cues, in the sentence before a figure, that it is about another,
/// earlier event mentioned for comparison (folded text).
const ELSEWHEN: &[&str] = &[
    "deadliest since",
    "worst since",
    "since the",
    "previous attack",
    "earlier attack",
    "last attack",
    "a year earlier",
    "years earlier",
    "years ago",
    "a decade ago",
    "in a similar attack",
    "compared with",
    "recalling",
    "recalled",
    "echoes of",
    "le plus meurtrier depuis",
    "depuis l'attentat",
    "depuis l’attentat",
    "seit dem anschlag",
    "seit dem attentat",
    "todlichste seit",
    "desde el atentado",
    "mas mortifero desde",
    "el peor desde",
    "после теракта",
    "крупнейший с",
    "самый кровавый с",
];

static ELSEWHEN_AC: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(ELSEWHEN)
        .unwrap_or_else(|e| panic!("bug: comparison cues do not compile: {e}"))
});

/// Marks casualty figures that concern another event: a figure whose
/// sentence, before it, holds a comparison cue ("the deadliest since the
/// 2004 siege, which killed 334") or a year other than the year of
/// publication ("In 2017, a bomb killed 22").
pub(crate) fn mark_other_event_figures(
    text: &str,
    folded: &Folded,
    bounds: &[(usize, usize)],
    entities: &mut [Entity],
    published: Option<chrono::NaiveDate>,
) {
    // Cue positions in the original text.
    let cues: Vec<usize> = ELSEWHEN_AC
        .find_iter(&folded.text)
        .map(|m| folded.original(m.start(), m.end()).0)
        .collect();
    let year = published.map(|d| chrono::Datelike::year(&d));
    for e in entities
        .iter_mut()
        .filter(|e| e.kind == EntityKind::Casualty)
    {
        let i = bounds.partition_point(|b| b.1 <= e.byte_start);
        let Some(&(s, _)) = bounds.get(i) else {
            continue;
        };
        let before = text.get(s..e.byte_start).unwrap_or("");
        let cue = cues.iter().any(|&c| c >= s && c < e.byte_start);
        let other_year = year.is_some_and(|y| {
            before
                .split(|c: char| !c.is_ascii_digit())
                .filter(|w| w.len() == 4)
                .filter_map(|w| w.parse::<i32>().ok())
                .any(|n| (1900..y).contains(&n))
        });
        if cue || other_year {
            e.about = Some(crate::OTHER_EVENT.to_string());
        }
        // "rose to 137", "revised down to 253": an update of an earlier
        // figure, close before the number.
        let near = folded_tail(before, 40);
        if UPDATE.iter().any(|u| near.contains(u)) {
            if let Some(f) = e.figure.as_mut() {
                f.update = true;
            }
        }
    }
}

/// Words that make a figure an update of an earlier one (folded).
const UPDATE: &[&str] = &[
    "rose to",
    "risen to",
    "climbed to",
    "increased to",
    "revised to",
    "revised down to",
    "revised up to",
    "cut to",
    "lowered to",
    "reduced to",
    "now stands at",
    "has reached",
    "passe a",
    "s'eleve desormais a",
    "stieg auf",
    "gestiegen auf",
    "ascendio a",
    "aumento a",
    "возросло до",
    "выросло до",
    "увеличилось до",
];

/// The last `n` characters of `s`, lower-cased with diacritics dropped.
fn folded_tail(s: &str, n: usize) -> String {
    let start = s
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    crate::fold::fold(&s[start..])
}

#[cfg(test)]
mod tests {
    use crate::{extract, Context, EntityKind};

    fn act(text: &str) -> Option<String> {
        let ctx = Context::published("2024-03-23").unwrap();
        extract(text, &ctx)
            .of(EntityKind::Statement)
            .find(|e| e.id.starts_with("event:"))
            .and_then(|e| e.act.clone())
    }

    #[test]
    fn attacks_and_foiled_plots_are_told_apart() {
        for (text, want) in [
            ("Gunmen opened fire on concertgoers in Krasnogorsk on Friday, killing at least 40.", Some("attack")),
            ("Police in Vienna arrested three men suspected of planning an attack on a Pride parade.", Some("foiled")),
            ("Les services ont déjoué un projet d'attentat visant une église à Paris.", Some("foiled")),
            ("Die Polizei hat einen Anschlag auf einen Weihnachtsmarkt vereitelt.", Some("foiled")),
            ("ФСБ предотвратила теракт в синагоге в Москве.", Some("foiled")),
            ("Al menos 13 muertos en un atentado en Barcelona.", Some("attack")),
            ("Взрыв на концерте: погибли 12 человек.", Some("attack")),
            ("The ministry published its annual report on Tuesday.", None),
        ] {
            assert_eq!(act(text).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn a_cue_inside_a_word_is_no_cue() {
        // "overblast", "unfoiled" are not cues.
        assert_eq!(act("The overblasted trumpets of the parade."), None);
    }
}
