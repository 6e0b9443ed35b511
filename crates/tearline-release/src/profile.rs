//! The specificity profile: how actionable a text still is.
//!
//! Each of who / what / where / when / how is graded on a ladder (see
//! [`Dimension::ladder`]). A text is graded unit by unit — an annotated
//! span, a substitute, a run of plain text — and the profile holds the
//! highest grade on each ladder together with the unit that earned it, so
//! that a cut can be explained: "where: venue → region (span 3
//! generalised)".
//!
//! Annotated spans are graded by their kind and wording (a named venue is
//! a venue; "a large concert venue in the Moscow region" is a region).
//! Plain text is graded by cue words: time expressions, attack and target
//! types, weapon classes, movement names, country names.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::RegexSet;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use tearline_model::SpanKind;

use crate::matcher::TermMatcher;
use crate::normalize::Normalized;

/// One axis of the profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// Who: the actor.
    Who,
    /// What: the kind of attack and its target.
    What,
    /// Where.
    Where,
    /// When.
    When,
    /// How: the means.
    How,
}

impl Dimension {
    /// All five, in display order.
    pub const ALL: [Dimension; 5] = [
        Dimension::Who,
        Dimension::What,
        Dimension::Where,
        Dimension::When,
        Dimension::How,
    ];

    /// The dimension's name.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Who => "who",
            Dimension::What => "what",
            Dimension::Where => "where",
            Dimension::When => "when",
            Dimension::How => "how",
        }
    }

    /// The grades, least specific first.
    pub fn ladder(self) -> &'static [&'static str] {
        match self {
            Dimension::Who => &["none", "generic", "movement", "named group", "named people"],
            Dimension::What => &[
                "none",
                "general threat",
                "attack type",
                "target type",
                "specific target",
            ],
            Dimension::Where => &["none", "country", "region", "city", "district", "venue"],
            Dimension::When => &["none", "months", "weeks", "days", "hours", "exact time"],
            Dimension::How => &["none", "general", "weapon class", "specific weapon"],
        }
    }

    fn idx(self) -> usize {
        self as usize
    }
}

/// Where a grade came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// Portion number in the report.
    pub portion: usize,
    /// Span number, when the grade came from a span.
    pub span: Option<usize>,
}

/// The grade of each dimension, with the unit that earned it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    grades: [u8; 5],
    evidence: [Option<Evidence>; 5],
}

impl Profile {
    /// The grade on `d`'s ladder (0 = none).
    pub fn grade(&self, d: Dimension) -> u8 {
        self.grades[d.idx()]
    }

    /// The grade's name, e.g. "city".
    pub fn grade_name(&self, d: Dimension) -> &'static str {
        d.ladder()[self.grade(d) as usize]
    }

    /// What earned the grade on `d`.
    pub fn evidence(&self, d: Dimension) -> Option<Evidence> {
        self.evidence[d.idx()]
    }

    /// Grades one unit of text (span kind and cue words) and keeps the
    /// higher grades.
    pub fn observe(&mut self, kind: Option<&SpanKind>, text: &str, ev: Evidence) {
        self.keep(grade_unit(kind, text), ev);
    }

    /// Grades a span by its kind and wording only.
    pub fn observe_span(&mut self, kind: &SpanKind, text: &str, ev: Evidence) {
        self.keep(kind_grades(kind, text), ev);
    }

    /// Grades a run of text by its cue words only.
    pub fn observe_text(&mut self, text: &str, ev: Evidence) {
        self.keep(cues(text), ev);
    }

    /// Grades a run of text nobody annotated by what the extractor reads in
    /// it (named groups, people, places with their kind, target types,
    /// dates and windows), and by its cue words.
    pub fn observe_unannotated(&mut self, text: &str, ev: Evidence) {
        let mut g = cues(text);
        for (a, b) in g.iter_mut().zip(extracted_grades(text)) {
            *a = (*a).max(b);
        }
        self.keep(g, ev);
    }

    fn keep(&mut self, g: [u8; 5], ev: Evidence) {
        for d in Dimension::ALL {
            let i = d.idx();
            if g[i] > self.grades[i] {
                self.grades[i] = g[i];
                self.evidence[i] = Some(ev);
            }
        }
    }
}

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5))?;
        for d in Dimension::ALL {
            m.serialize_entry(d.name(), self.grade_name(d))?;
        }
        m.end()
    }
}

/// The grades `[who, what, where, when, how]` of one unit: its cue words,
/// and, for a span, its kind and wording.
pub fn grade_unit(kind: Option<&SpanKind>, text: &str) -> [u8; 5] {
    let mut g = cues(text);
    if let Some(k) = kind {
        for (a, b) in g.iter_mut().zip(kind_grades(k, text)) {
            *a = (*a).max(b);
        }
    }
    g
}

fn kind_grades(kind: &SpanKind, text: &str) -> [u8; 5] {
    let mut g = [0u8; 5];
    let named = named_head(text);
    let mut up = |d: Dimension, v: u8| {
        let i = d.idx();
        g[i] = g[i].max(v);
    };
    match kind {
        SpanKind::Actor => {
            let l = text.to_lowercase();
            if MOVEMENT_WORDS.iter().any(|w| l.contains(w)) {
                up(Dimension::Who, 2);
            } else if names_someone(text) {
                up(Dimension::Who, 3);
            } else {
                up(Dimension::Who, 1);
            }
        }
        SpanKind::Person => up(Dimension::Who, if names_someone(text) { 4 } else { 1 }),
        SpanKind::Place => up(Dimension::Where, place_grade(text, named, false)),
        SpanKind::Venue => {
            up(Dimension::Where, place_grade(text, named, true));
            up(Dimension::What, if named { 4 } else { 3 });
        }
        SpanKind::Target => up(Dimension::What, if named { 4 } else { 3 }),
        SpanKind::Weapon => {
            let specific = named || text.chars().any(|c| c.is_ascii_digit());
            up(Dimension::How, if specific { 3 } else { 2 });
        }
        // A time is graded by its wording, credited to the span.
        SpanKind::Time => up(Dimension::When, cues(text)[Dimension::When.idx()]),
        SpanKind::Org => {}
        // Sources and methods say how the service knows, not how the attack
        // will be carried out; unknown kinds say nothing.
        SpanKind::Source | SpanKind::Method | SpanKind::Unknown(_) => {}
    }
    g
}

const ARTICLES: [&str; 7] = ["a", "an", "the", "some", "one", "several", "its"];
const MOVEMENT_WORDS: [&str; 9] = [
    "offshoot",
    "affiliate",
    "branch",
    "faction",
    "cell",
    "supporters",
    "sympathis",
    "inspired",
    "linked",
];

/// Words that describe people without naming them: a span of such words
/// ("Extremists", "Unnamed extremists", "Two armed men") names no one,
/// however it is capitalised.
const GENERIC_WHO: [&str; 40] = [
    "extremists",
    "extremist",
    "militants",
    "militant",
    "terrorists",
    "terrorist",
    "gunmen",
    "gunman",
    "attackers",
    "attacker",
    "assailants",
    "assailant",
    "radicals",
    "jihadists",
    "jihadist",
    "insurgents",
    "insurgent",
    "operatives",
    "operative",
    "individuals",
    "individual",
    "persons",
    "person",
    "people",
    "men",
    "man",
    "women",
    "suspects",
    "suspect",
    "members",
    "group",
    "groups",
    "unnamed",
    "unknown",
    "unidentified",
    "armed",
    "violent",
    "several",
    "two",
    "three",
];

/// Whether a who-span names someone: it holds a capitalised word (or a
/// digit) that is not a word that merely describes people.
fn names_someone(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .filter(|w| {
            let l = w
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            !ARTICLES.contains(&l.as_str()) && !GENERIC_WHO.contains(&l.as_str())
        })
        .any(|w| {
            w.chars()
                .find(|c| c.is_alphanumeric())
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        })
}

/// Whether the text names something: after any leading article, its first
/// word starts with a capital letter or a digit.
fn named_head(text: &str) -> bool {
    let mut words = text.split_whitespace();
    let Some(mut w) = words.next() else {
        return false;
    };
    if ARTICLES.contains(&w.to_lowercase().as_str()) {
        match words.next() {
            Some(n) => w = n,
            None => return false,
        }
    }
    w.chars()
        .find(|c| c.is_alphanumeric())
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
}

fn place_grade(text: &str, named: bool, venue: bool) -> u8 {
    let l = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| contains_word(&l, w));
    if venue && named {
        return 5;
    }
    if named && has(FACILITY_WORDS) {
        return 5;
    }
    if has(&[
        "district",
        "quarter",
        "neighbourhood",
        "neighborhood",
        "borough",
        "arrondissement",
        "suburb",
        "suburbs",
    ]) {
        return 4;
    }
    if !venue && named {
        if is_country(text) {
            return 1;
        }
        if has(REGION_WORDS) {
            return 2;
        }
        return 3;
    }
    if has(REGION_WORDS) {
        return 2;
    }
    if has(&["city", "capital", "town", "metropolitan", "downtown"]) {
        return 3;
    }
    if has(&["country", "nation"]) || country_in(text) {
        return 1;
    }
    0
}

/// Words that make a named place a facility: venue-level precision.
const FACILITY_WORDS: &[&str] = &[
    "crossing",
    "checkpoint",
    "bridge",
    "airport",
    "station",
    "port",
    "base",
    "camp",
    "hall",
    "stadium",
    "arena",
    "hotel",
    "church",
    "mosque",
    "synagogue",
    "temple",
    "cathedral",
    "market",
    "mall",
    "embassy",
    "terminal",
];

const REGION_WORDS: &[&str] = &[
    "region",
    "oblast",
    "province",
    "county",
    "krai",
    "governorate",
    "prefecture",
    "territory",
    "state",
];

fn contains_word(haystack: &str, word: &str) -> bool {
    haystack.match_indices(word).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + word.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric())
            && after.is_none_or(|c| !c.is_alphanumeric() || c == 's')
    })
}

static COUNTRIES: LazyLock<TermMatcher<&'static str>> = LazyLock::new(|| {
    TermMatcher::long_lived(country_names().map(|(code, name)| (name.to_string(), code)))
});

/// A fast, ASCII case-insensitive automaton over country names, for
/// grading plain text (the profile needs no defence against disguise).
static COUNTRY_SCAN: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::DFA))
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        .build(country_names().map(|(_, n)| n))
        .ok()
});

/// `(ISO 3166-1 alpha-2 code, English name)` for every country and
/// alternative name in the shipped list.
pub fn country_names() -> impl Iterator<Item = (&'static str, &'static str)> {
    include_str!("../data/countries.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .flat_map(|(code, names)| names.split('|').map(move |n| (code, n)))
}

/// The ISO code of the country a text is exactly the name of.
pub fn country_code(text: &str) -> Option<&'static str> {
    let n = Normalized::new(text);
    COUNTRIES
        .find_all(&n)
        .into_iter()
        .find(|h| h.start == 0 && h.end >= text.trim_end().len())
        .map(|h| *COUNTRIES.label(h.term))
}

fn is_country(text: &str) -> bool {
    country_code(text.trim()).is_some()
}

fn country_in(text: &str) -> bool {
    let Some(ac) = COUNTRY_SCAN.as_ref() else {
        return false;
    };
    let b = text.as_bytes();
    ac.find_iter(text).any(|m| {
        let before = m.start().checked_sub(1).map(|i| b[i]);
        let after = b.get(m.end()).copied();
        let first_upper = b.get(m.start()).is_some_and(u8::is_ascii_uppercase);
        first_upper
            && before.is_none_or(|c| !c.is_ascii_alphanumeric())
            && after.is_none_or(|c| !c.is_ascii_alphanumeric())
    })
}

struct Cues {
    set: RegexSet,
    /// `(dimension, grade)` of each pattern in the set.
    grades: Vec<(Dimension, u8)>,
}

static CUES: LazyLock<Cues> = LazyLock::new(|| {
    let months = "january|february|april|june|july|august|september|october|november|december";
    let all_months =
        "january|february|march|april|may|june|july|august|september|october|november|december";
    let days = "monday|tuesday|wednesday|thursday|friday|saturday|sunday";
    let spec: Vec<(Dimension, u8, String)> = vec![
        (Dimension::When, 5, r"\b\d{1,2}:\d{2}\b|\b\d{1,2}\s?(a\.?m\.?|p\.?m\.?)(\W|$)|\bat (noon|midnight)\b".into()),
        (Dimension::When, 4, r"\bhours?\b|\btonight\b|\btoday\b|\bthis (morning|afternoon|evening)\b".into()),
        (Dimension::When, 3, format!(r"\bdays?\b|\btomorrow\b|\bweekend\b|\b({days})s?\b|\b\d{{1,2}}(st|nd|rd|th)?\s+({all_months})\b|\b({all_months})\s+\d{{1,2}}(st|nd|rd|th)?\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b")),
        (Dimension::When, 2, r"\bweeks?\b|\bfortnight\b".into()),
        (Dimension::When, 1, format!(r"\bmonths?\b|\b({months})\b|\bthis year\b|\bseason\b")),
        (Dimension::What, 3, r"\b(concerts?|gatherings?|places? of worship|churche?s?|mosques?|synagogues?|temples?|hotels?|airports?|stations?|public transport|transport|metro|subway|railways?|trains?|stadiums?|festivals?|markets?|shopping (centres?|centers?|malls?)|malls?|schools?|embass(y|ies)|concert halls?|venues?|crowds?|theatres?|theaters?|nightclubs?|parades?)\b".into()),
        (Dimension::What, 2, r"\b(attacks?|bombings?|shootings?|stabbings?|hostage|mass[- ]casualty|assaults?|arson|explosions?|ramming|kidnappings?)\b".into()),
        (Dimension::What, 1, r"\b(threats?|plots?|plans?|planning|danger|risk)\b".into()),
        (Dimension::How, 3, r"\b(ak-?47s?|kalashnikovs?|tatp|vbieds?|ar-?15s?)\b".into()),
        (Dimension::How, 2, r"\b(firearms?|guns?|rifles?|explosives?|bombs?|ieds?|improvised explosive|grenades?|knives|knife|vehicles?|drones?|incendiar(y|ies)|suicide vests?)\b".into()),
        (Dimension::How, 1, r"\b(armed|weapons?)\b".into()),
        (Dimension::Who, 2, r"\b(islamic state|isis|isil|daesh|al[- ]qa[ei]da|offshoot|affiliate)\b".into()),
        (Dimension::Who, 1, r"\b(extremists?|terrorists?|militants?|jihadists?|attackers?|gunmen|a group|armed group|armed men)\b".into()),
    ];
    let grades = spec.iter().map(|(d, g, _)| (*d, *g)).collect();
    // The patterns are constants of this file; a test compiles them all.
    // ASCII word boundaries keep the set on the fast lazy DFA.
    let set = RegexSet::new(
        spec.iter()
            .map(|(_, _, re)| format!("(?i){}", re.replace(r"\b", r"(?-u:\b)"))),
    )
    .unwrap_or_else(|e| panic!("bug: bad cue pattern: {e}"));
    Cues { set, grades }
});

/// Grades from the entities the extractor finds.
pub fn extracted_grades(text: &str) -> [u8; 5] {
    use tearline_extract::{EntityKind, Kb, PlaceKind};
    let mut g = [0u8; 5];
    let mut up = |d: Dimension, v: u8| {
        let i = d.idx();
        g[i] = g[i].max(v);
    };
    let kb = Kb::builtin();
    let x = tearline_extract::extract(text, &tearline_extract::Context::default());
    for e in &x.entities {
        match e.kind {
            EntityKind::Person => up(Dimension::Who, 4),
            EntityKind::Group if kb.is_movement(&e.id) => up(Dimension::Who, 2),
            EntityKind::Group => up(Dimension::Who, 3),
            EntityKind::Target => up(Dimension::What, 3),
            EntityKind::Place => up(
                Dimension::Where,
                match e.place_kind {
                    Some(PlaceKind::Venue | PlaceKind::Facility) => 5,
                    Some(PlaceKind::District) => 4,
                    Some(PlaceKind::City) => 3,
                    Some(PlaceKind::Region) => 2,
                    _ => 1,
                },
            ),
            EntityKind::Date => up(Dimension::When, if e.part_of_day.is_some() { 4 } else { 3 }),
            EntityKind::Window => up(
                Dimension::When,
                match e.grain.as_deref() {
                    Some("hours") => 4,
                    Some("days") => 3,
                    Some("weeks") => 2,
                    _ => 1,
                },
            ),
            _ => {}
        }
    }
    g
}

/// Grades from cue words alone.
fn cues(text: &str) -> [u8; 5] {
    let mut g = [0u8; 5];
    for i in CUES.set.matches(text).iter() {
        let (d, grade) = CUES.grades[i];
        let j = d.idx();
        g[j] = g[j].max(grade);
    }
    if country_in(text) {
        g[Dimension::Where.idx()] = g[Dimension::Where.idx()].max(1);
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grade(kind: Option<SpanKind>, text: &str, d: Dimension) -> &'static str {
        d.ladder()[grade_unit(kind.as_ref(), text)[d.idx()] as usize]
    }

    #[test]
    fn unannotated_text_is_graded_by_the_extractor() {
        let g = extracted_grades(
            "Wilayat Khorasan plans to attack the Crocus City Hall concert venue in Krasnogorsk over the next 48 hours.",
        );
        let name = |d: Dimension| d.ladder()[g[d.idx()] as usize];
        assert_eq!(name(Dimension::Who), "named group");
        assert_eq!(name(Dimension::Where), "venue");
        assert_eq!(name(Dimension::When), "hours");
        assert_eq!(name(Dimension::What), "target type");
        let g =
            extracted_grades("An Islamic State offshoot may act in Russia in the coming weeks.");
        let name = |d: Dimension| d.ladder()[g[d.idx()] as usize];
        assert_eq!(name(Dimension::Who), "movement");
        assert_eq!(name(Dimension::Where), "country");
        assert_eq!(name(Dimension::When), "weeks");
    }

    #[test]
    fn where_ladder() {
        use Dimension::Where;
        assert_eq!(
            grade(Some(SpanKind::Venue), "Crocus City Hall", Where),
            "venue"
        );
        assert_eq!(
            grade(
                Some(SpanKind::Venue),
                "a large concert venue in the Moscow region",
                Where
            ),
            "region"
        );
        assert_eq!(
            grade(
                Some(SpanKind::Venue),
                "a large concert venue in the city",
                Where
            ),
            "city"
        );
        assert_eq!(grade(Some(SpanKind::Place), "Moscow", Where), "city");
        assert_eq!(grade(Some(SpanKind::Place), "Russia", Where), "country");
        assert_eq!(
            grade(Some(SpanKind::Place), "the Moscow region", Where),
            "region"
        );
        assert_eq!(
            grade(Some(SpanKind::Place), "the Krasnogorsk district", Where),
            "district"
        );
        assert_eq!(grade(Some(SpanKind::Place), "a location", Where), "none");
        assert_eq!(
            grade(Some(SpanKind::Place), "the Lake Verkh crossing", Where),
            "venue"
        );
        assert_eq!(
            grade(Some(SpanKind::Place), "a border crossing", Where),
            "none"
        );
    }

    #[test]
    fn when_ladder() {
        use Dimension::When;
        assert_eq!(grade(Some(SpanKind::Time), "next 48 hours", When), "hours");
        assert_eq!(
            grade(Some(SpanKind::Time), "Friday 22 March at 19:30", When),
            "exact time"
        );
        assert_eq!(grade(Some(SpanKind::Time), "the coming days", When), "days");
        assert_eq!(grade(Some(SpanKind::Time), "within weeks", When), "weeks");
        assert_eq!(
            grade(Some(SpanKind::Time), "in the coming months", When),
            "months"
        );
        assert_eq!(
            grade(Some(SpanKind::Time), "an unspecified time", When),
            "none"
        );
        assert_eq!(grade(None, "you may see them", When), "none");
    }

    #[test]
    fn who_what_how() {
        assert_eq!(
            grade(Some(SpanKind::Actor), "Wilayat Khorasan", Dimension::Who),
            "named group"
        );
        assert_eq!(
            grade(
                Some(SpanKind::Actor),
                "an Islamic State offshoot",
                Dimension::Who
            ),
            "movement"
        );
        // A capitalised description names no one.
        for generic in [
            "Extremists",
            "Unnamed extremists",
            "Armed Militants",
            "Unknown Gunmen",
        ] {
            assert_eq!(
                grade(Some(SpanKind::Actor), generic, Dimension::Who),
                "generic",
                "{generic}"
            );
        }
        assert_eq!(
            grade(Some(SpanKind::Actor), "ISIS-K", Dimension::Who),
            "named group"
        );
        assert_eq!(
            grade(Some(SpanKind::Person), "Two operatives", Dimension::Who),
            "generic"
        );
        assert_eq!(
            grade(None, "Extremists plan to attack", Dimension::Who),
            "generic"
        );
        assert_eq!(
            grade(Some(SpanKind::Person), "Ivan Petrov", Dimension::Who),
            "named people"
        );
        assert_eq!(
            grade(Some(SpanKind::Target), "concerts", Dimension::What),
            "target type"
        );
        assert_eq!(
            grade(None, "a mass-casualty attack", Dimension::What),
            "attack type"
        );
        assert_eq!(
            grade(Some(SpanKind::Weapon), "AK-47 rifles", Dimension::How),
            "specific weapon"
        );
        assert_eq!(
            grade(Some(SpanKind::Weapon), "firearms", Dimension::How),
            "weapon class"
        );
    }

    #[test]
    fn countries_resolve() {
        assert_eq!(country_code("Russia"), Some("RU"));
        assert_eq!(country_code("the United Kingdom"), None);
        assert_eq!(country_code("United Kingdom"), Some("GB"));
        assert_eq!(country_code("Moscow"), None);
        assert!(country_names().count() > 200);
    }
}
