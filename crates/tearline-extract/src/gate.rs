//! Which sentences each rule can match in.
//!
//! Every rule needs a word of its own in the sentence it matches: a date
//! needs a month, a weekday, a digit or a word like "yesterday"; a figure a
//! word like "killed" or "toll"; a person a role, a title or a verb of
//! saying. One Aho-Corasick pass over the folded text finds those words and
//! marks their sentences, and each rule then reads only its sentences. The
//! words are stems matched anywhere, so a sentence is never skipped that a
//! rule could match; most sentences of a news text are skipped by most
//! rules.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// A rule that reads only marked sentences.
#[derive(Clone, Copy)]
pub(crate) enum Rule {
    Dates = 1,
    Figures = 2,
    People = 4,
    Venues = 8,
    Orgs = 16,
    NewGroups = 32,
    Statements = 64,
}

const WORDS: &[(u8, &[&str])] = &[
    (
        Rule::Dates as u8,
        &[
            "jan",
            "feb",
            "mar",
            "apr",
            "may",
            "jun",
            "jul",
            "aug",
            "sep",
            "oct",
            "nov",
            "dec",
            "janv",
            "fevr",
            "avr",
            "mai",
            "juin",
            "juil",
            "aout",
            "dez",
            "ene",
            "abr",
            "ago",
            "dic",
            "marz",
            "janu",
            "febr",
            "juni",
            "juli",
            "okt",
            "mayo",
            "enero",
            "febrero",
            "marzo",
            "abril",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
            "lundi",
            "mardi",
            "mercredi",
            "jeudi",
            "vendredi",
            "samedi",
            "dimanche",
            "montag",
            "dienstag",
            "mittwoch",
            "donnerstag",
            "freitag",
            "samstag",
            "sonntag",
            "lunes",
            "martes",
            "miercoles",
            "jueves",
            "viernes",
            "sabado",
            "domingo",
            "yesterday",
            "today",
            "tonight",
            "tomorrow",
            "last night",
            "this morning",
            "this evening",
            "hier",
            "aujourd",
            "demain",
            "gestern",
            "heute",
            "morgen",
            "ayer",
            "hoy",
            "manana",
            "ago",
            "next",
            "coming",
            "following",
            "until",
            "through",
            "till",
            "jusqu",
            "bis zum",
            "hasta",
            "week",
            "semaine",
            "woche",
            "semana",
            "prochain",
            "kommenden",
            "proximos",
            "январ",
            "феврал",
            "март",
            "апрел",
            "ма",
            "июн",
            "июл",
            "август",
            "сентябр",
            "октябр",
            "ноябр",
            "декабр",
            "понедельник",
            "вторник",
            "сред",
            "четверг",
            "пятниц",
            "суббот",
            "воскресень",
            "вчера",
            "сегодня",
            "завтра",
            "ближайш",
            "недел",
            "до ",
            "-0",
            "-1",
        ],
    ),
    (
        Rule::Figures as u8,
        &[
            "kill",
            "dead",
            "died",
            "death",
            "fatalit",
            "lives",
            "injur",
            "wound",
            "hurt",
            "toll",
            "leaving",
            "mort",
            "tue",
            "blesse",
            "tote",
            "getotet",
            "verletz",
            "muert",
            "fallecid",
            "herid",
            "погиб",
            "убит",
            "ранен",
            "пострада",
            "жертв",
            "zahl der",
        ],
    ),
    (
        Rule::People as u8,
        &[
            "spokes",
            "secretary",
            "director",
            "chief",
            "head",
            "minister",
            "president",
            "commander",
            "leader",
            "ambassador",
            "general",
            "governor",
            "mayor",
            "official",
            "prosecutor",
            "chair",
            "deputy",
            "emir",
            "analyst",
            "researcher",
            "correspondent",
            "coordinator",
            "senator",
            "envoy",
            "founder",
            "ministre",
            "porte-parole",
            "sprecher",
            "direktor",
            "praesident",
            "prasident",
            "portavoz",
            "ministro",
            "директор",
            "пресс-секретар",
            "президент",
            "министр",
            "глава",
            "представител",
            "said",
            "says",
            "told",
            "added",
            "stated",
            "warned",
            "wrote",
            "announced",
            "confirmed",
            "denied",
            "insisted",
            "noted",
            "mr",
            "mrs",
            "ms",
            "dr",
            "gen",
            "col",
            "lt",
            "sgt",
            "maj",
        ],
    ),
    (
        Rule::Venues as u8,
        &[
            "hall",
            "arena",
            "stadium",
            "theatre",
            "theater",
            "mall",
            "cathedral",
            "mosque",
            "church",
            "synagogue",
            "hotel",
            "centre",
            "center",
            "airport",
            "station",
            "square",
            "market",
            "palace",
            "club",
            "temple",
            "venue",
            "district",
            "neighbo",
            "suburb",
            "arrondissement",
        ],
    ),
    (Rule::Orgs as u8, &["embassy", "ministry", "police"]),
    (
        Rule::NewGroups as u8,
        &[
            "known as",
            "called",
            "calling itself",
            "calls itself",
            "named",
            "dubbed",
            "groupe",
            "gruppe",
            "grupo",
            "группировк",
            "offshoot",
            "affiliate",
            "branch",
            "faction",
            "splinter",
            "cell",
            "group",
            "network",
            "wing",
            "franchise",
            "organisation",
            "organization",
            "movement",
            "la cellule",
        ],
    ),
    (
        Rule::Statements as u8,
        &[
            "claim",
            "blamed",
            "accused",
            "denied",
            "warned",
            "said",
            "says",
            "told",
            "stated",
            "announced",
            "added",
            "confirmed",
            "declare",
            "a dit",
            "revendiqu",
            "sagte",
            "erklarte",
            "bekannte",
            "dijo",
            "declaro",
            "reivindic",
            "заявил",
            "сообщил",
            "взял",
            "according to",
            "selon",
            "laut",
            "segun",
            "по данным",
            "по словам",
        ],
    ),
];

struct Gate {
    ac: AhoCorasick,
    masks: Vec<u8>,
}

static GATE: LazyLock<Gate> = LazyLock::new(|| {
    let mut words = Vec::new();
    let mut masks = Vec::new();
    for (mask, ws) in WORDS {
        for w in *ws {
            words.push(crate::fold::fold(w));
            masks.push(*mask);
        }
    }
    let ac = AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::DFA))
        .match_kind(MatchKind::Standard)
        .build(&words)
        .unwrap_or_else(|e| panic!("bug: trigger words do not build: {e}"));
    Gate { ac, masks }
});

/// Per sentence (`bounds`, byte ranges of the original text in order), the
/// rules that may match in it. `folded` is the folded text.
pub(crate) fn marks(folded: &crate::fold::Folded, bounds: &[(usize, usize)]) -> Vec<u8> {
    let g = &*GATE;
    let mut out = vec![0u8; bounds.len()];
    for m in g.ac.find_overlapping_iter(&folded.text) {
        let (s, _) = folded.original(m.start(), m.end());
        let i = bounds.partition_point(|b| b.1 <= s);
        if let Some(slot) = out.get_mut(i) {
            *slot |= g.masks[m.pattern().as_usize()];
        }
    }
    out
}

/// Runs of consecutive sentences marked for `rule`, as byte ranges.
pub(crate) fn runs(bounds: &[(usize, usize)], marks: &[u8], rule: Rule) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (b, m) in bounds.iter().zip(marks) {
        if m & rule as u8 == 0 {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.1 == b.0 => last.1 = b.1,
            _ => out.push(*b),
        }
    }
    out
}
