//! The knowledge base: the shipped gazetteers, loaded once.
//!
//! Every name of every entry becomes one pattern of a single Aho-Corasick
//! automaton over folded text (see `fold.rs`). A pattern remembers which
//! entries carry that name and how it must be written to count: acronyms
//! only in capitals ("IS" is not "is"), proper names with their capitals
//! ("The Base" is not "the base"), target words in any case.

use std::collections::HashMap;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::fold::fold;
use crate::{EntityKind, PlaceKind};

/// One canonical entity the knowledge base knows.
#[derive(Debug, Clone)]
pub struct KbEntry {
    /// Canonical id, e.g. `group:is-k`, `city:524901`, `country:RU`.
    pub id: String,
    /// Canonical name.
    pub name: String,
    /// What it is.
    pub kind: EntityKind,
    /// For places: which kind.
    pub place_kind: Option<PlaceKind>,
    /// The parent entity's id: a group's movement, a city's region or
    /// country, a region's country.
    pub parent: Option<String>,
    /// ISO 3166-1 alpha-2 code of the country it is in (places, orgs).
    pub country: Option<String>,
    /// Population (cities, regions as the sum of their cities).
    pub population: u64,
    /// Designation lists (groups) or the organisation's kind (orgs).
    pub tags: Vec<String>,
    /// Every name it is known by, the canonical one first.
    pub aliases: Vec<String>,
}

/// How a name must be written in the text to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Casing {
    /// Any case (target words).
    Any,
    /// Exactly as written (acronyms of up to five capitals).
    Exact,
    /// At least this many words starting with a capital (proper names).
    Capitals(u8),
}

/// One entry carrying a name, and how the name must be written to mean it.
#[derive(Debug, Clone)]
pub(crate) struct Carrier {
    pub entry: u32,
    /// The name as written in the data file.
    pub written: String,
    pub casing: Casing,
    /// Counts only after a preposition ("in Reading"): the name is also a
    /// common word.
    pub needs_context: bool,
    /// It is the entry's own (first) name, not an old or foreign one.
    pub primary: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// Entries carrying this name.
    pub entries: Vec<Carrier>,
}

/// The loaded knowledge base.
pub struct Kb {
    entries: Vec<KbEntry>,
    by_id: HashMap<String, u32>,
    pub(crate) patterns: Vec<Pattern>,
    /// Leftmost-longest: the main scan.
    pub(crate) automaton: AhoCorasick,
    /// Every match, for the rare span whose longest name is written wrongly
    /// ("Amaq news agency" for "Amaq News Agency": "Amaq" still counts).
    pub(crate) overlapping: AhoCorasick,
}

static BUILTIN: LazyLock<Kb> = LazyLock::new(|| {
    Kb::from_sources(&Sources {
        groups: include_str!("../data/groups.tsv"),
        orgs: include_str!("../data/orgs.tsv"),
        countries: include_str!("../data/countries.tsv"),
        cities: include_str!("../data/cities.tsv"),
        targets: include_str!("../data/targets.tsv"),
    })
    .unwrap_or_else(|e| panic!("bug: the shipped knowledge base does not load: {e}"))
});

/// The texts of the data files a knowledge base is built from.
pub struct Sources<'a> {
    /// `groups.tsv`.
    pub groups: &'a str,
    /// `orgs.tsv`.
    pub orgs: &'a str,
    /// `countries.tsv`.
    pub countries: &'a str,
    /// `cities.tsv`.
    pub cities: &'a str,
    /// `targets.tsv`.
    pub targets: &'a str,
}

/// A data file that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct KbError {
    /// The data file.
    pub file: &'static str,
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn rows<'a>(
    file: &'static str,
    text: &'a str,
    columns: usize,
) -> impl Iterator<Item = Result<(usize, Vec<&'a str>), KbError>> + 'a {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(move |(i, l)| {
            let cols: Vec<&str> = l.split('\t').collect();
            if cols.len() != columns {
                return Err(KbError {
                    file,
                    line: i + 1,
                    message: format!(
                        "expected {columns} tab-separated columns, found {}",
                        cols.len()
                    ),
                });
            }
            Ok((i + 1, cols))
        })
}

fn names(s: &str) -> Vec<String> {
    s.split('|')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// The names of a row, which must hold at least one.
fn named(file: &'static str, line: usize, s: &str) -> Result<Vec<String>, KbError> {
    let n = names(s);
    if n.is_empty() {
        return Err(KbError {
            file,
            line,
            message: "the row names nothing (the names column is empty)".into(),
        });
    }
    Ok(n)
}

fn opt(s: &str) -> Option<String> {
    (s != "-" && !s.is_empty()).then(|| s.to_string())
}

impl Kb {
    /// The knowledge base shipped inside the binary.
    pub fn builtin() -> &'static Kb {
        &BUILTIN
    }

    /// Builds a knowledge base from data files.
    pub fn from_sources(src: &Sources) -> Result<Kb, KbError> {
        let mut entries = Vec::new();
        read_groups(src.groups, &mut entries)?;
        read_orgs(src.orgs, &mut entries)?;
        read_countries(src.countries, &mut entries)?;
        let city_names = read_cities(src.cities, &mut entries)?;
        name_regions(&mut entries, &city_names);
        read_targets(src.targets, &mut entries)?;

        let (patterns, keys) = name_patterns(&entries);
        let automaton = name_automaton(&keys, MatchKind::LeftmostLongest)?;
        let overlapping = name_automaton(&keys, MatchKind::Standard)?;
        let by_id = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i as u32))
            .collect();
        Ok(Kb {
            entries,
            by_id,
            patterns,
            automaton,
            overlapping,
        })
    }

    /// Every entry.
    pub fn entries(&self) -> &[KbEntry] {
        &self.entries
    }

    /// An entry by index.
    pub(crate) fn entry(&self, i: u32) -> &KbEntry {
        &self.entries[i as usize]
    }

    /// An entry by canonical id.
    pub fn get(&self, id: &str) -> Option<&KbEntry> {
        self.by_id.get(id).map(|&i| self.entry(i))
    }

    /// Whether a group is a movement other groups belong to (Islamic
    /// State, al-Qaeda), rather than one named group.
    pub fn is_movement(&self, id: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.kind == EntityKind::Group && e.parent.as_deref() == Some(id))
    }

    /// The armed group known by exactly this name (any case, diacritics
    /// and apostrophes; an acronym of up to five capitals only as written),
    /// if the knowledge base holds one.
    pub fn group_named(&self, name: &str) -> Option<&KbEntry> {
        let key = fold(name.trim());
        if key.is_empty() {
            return None;
        }
        self.entries.iter().find(|e| {
            e.kind == EntityKind::Group
                && e.aliases.iter().any(|a| {
                    let a = a.strip_prefix('~').unwrap_or(a);
                    fold(a) == key && casing_ok(casing_of(a), a, name.trim())
                })
        })
    }

    /// How many names the automaton knows.
    pub fn name_count(&self) -> usize {
        self.patterns.len()
    }
}

/// Appends the armed groups of `groups.tsv`.
fn read_groups(text: &str, entries: &mut Vec<KbEntry>) -> Result<(), KbError> {
    for row in rows("groups.tsv", text, 4) {
        let (line, c) = row?;
        let aliases = named("groups.tsv", line, c[3])?;
        entries.push(KbEntry {
            id: format!("group:{}", c[0]),
            name: aliases[0].clone(),
            kind: EntityKind::Group,
            place_kind: None,
            parent: opt(c[1]).map(|p| format!("group:{p}")),
            country: None,
            population: 0,
            tags: c[2]
                .split(',')
                .filter(|t| *t != "-")
                .map(str::to_string)
                .collect(),
            aliases,
        });
    }
    Ok(())
}

/// Appends the organisations of `orgs.tsv`.
fn read_orgs(text: &str, entries: &mut Vec<KbEntry>) -> Result<(), KbError> {
    for row in rows("orgs.tsv", text, 4) {
        let (line, c) = row?;
        let aliases = named("orgs.tsv", line, c[3])?;
        entries.push(KbEntry {
            id: format!("org:{}", c[0]),
            name: aliases[0].clone(),
            kind: EntityKind::Org,
            place_kind: None,
            parent: None,
            country: opt(c[2]),
            population: 0,
            tags: vec![c[1].to_string()],
            aliases,
        });
    }
    Ok(())
}

/// Appends the countries of `countries.tsv`.
fn read_countries(text: &str, entries: &mut Vec<KbEntry>) -> Result<(), KbError> {
    for row in rows("countries.tsv", text, 2) {
        let (line, c) = row?;
        let aliases = named("countries.tsv", line, c[1])?;
        entries.push(KbEntry {
            id: format!("country:{}", c[0]),
            name: aliases[0].clone(),
            kind: EntityKind::Place,
            place_kind: Some(PlaceKind::Country),
            parent: None,
            country: Some(c[0].to_string()),
            population: 0,
            tags: Vec::new(),
            aliases,
        });
    }
    Ok(())
}

/// Appends the cities of `cities.tsv` and their regions; returns every city name, folded.
fn read_cities(text: &str, entries: &mut Vec<KbEntry>) -> Result<HashMap<String, ()>, KbError> {
    let mut regions: HashMap<(String, String), usize> = HashMap::new();
    let mut city_names: HashMap<String, ()> = HashMap::new();
    for row in rows("cities.tsv", text, 5) {
        let (line, c) = row?;
        let population: u64 = c[3].parse().map_err(|_| KbError {
            file: "cities.tsv",
            line,
            message: format!("population `{}` is not a number", c[3]),
        })?;
        let aliases = names(c[4]);
        if aliases
            .first()
            .is_none_or(|a| a.trim_start_matches('~').is_empty())
        {
            return Err(KbError {
                file: "cities.tsv",
                line,
                message: "a city needs a name".into(),
            });
        }
        let parent = city_parent(entries, &mut regions, c[1], c[2], population);
        for a in &aliases {
            city_names.insert(fold(a.trim_start_matches('~')), ());
        }
        entries.push(KbEntry {
            id: format!("city:{}", c[0]),
            name: aliases[0].trim_start_matches('~').to_string(),
            kind: EntityKind::Place,
            place_kind: Some(PlaceKind::City),
            parent: Some(parent),
            country: Some(c[1].to_string()),
            population,
            tags: Vec::new(),
            aliases,
        });
    }
    Ok(city_names)
}

/// A city's parent id: its region (added on first mention, summing populations) or its country.
fn city_parent(
    entries: &mut Vec<KbEntry>,
    regions: &mut HashMap<(String, String), usize>,
    country: &str,
    region: &str,
    population: u64,
) -> String {
    if region.is_empty() {
        return format!("country:{country}");
    }
    let key = (country.to_string(), region.to_string());
    let next = entries.len();
    let idx = *regions.entry(key).or_insert(next);
    if idx == next {
        entries.push(KbEntry {
            id: format!("region:{country}:{}", slug(region)),
            name: region.to_string(),
            kind: EntityKind::Place,
            place_kind: Some(PlaceKind::Region),
            parent: Some(format!("country:{country}")),
            country: Some(country.to_string()),
            population: 0,
            tags: Vec::new(),
            aliases: Vec::new(),
        });
    }
    entries[idx].population += population;
    entries[idx].id.clone()
}

/// Gives each region its names: the bare name unless a city has it, and the suffixed names.
fn name_regions(entries: &mut [KbEntry], city_names: &HashMap<String, ()>) {
    // A region is matched by its name when no city has it, and always
    // with a suffix: "Moscow Oblast", "Moscow region".
    for e in entries.iter_mut() {
        if e.place_kind == Some(PlaceKind::Region) && e.aliases.is_empty() {
            let n = e.name.clone();
            // The bare name ("Kaduna", "Western") counts only after a
            // preposition: many are also common words.
            if !city_names.contains_key(&fold(&n)) && n.chars().count() > 3 {
                e.aliases.push(format!("~{n}"));
            }
            for suffix in [
                "Region",
                "region",
                "Oblast",
                "oblast",
                "Province",
                "province",
                "Governorate",
                "State",
            ] {
                if !n.ends_with(suffix) {
                    e.aliases.push(format!("{n} {suffix}"));
                }
            }
        }
    }
}

/// Appends the target types of `targets.tsv`.
fn read_targets(text: &str, entries: &mut Vec<KbEntry>) -> Result<(), KbError> {
    for row in rows("targets.tsv", text, 3) {
        let (_, c) = row?;
        let mut aliases = vec![c[1].to_string()];
        aliases.extend(names(c[2]));
        entries.push(KbEntry {
            id: format!("target:{}", c[0]),
            name: c[1].to_string(),
            kind: EntityKind::Target,
            place_kind: None,
            parent: None,
            country: None,
            population: 0,
            tags: Vec::new(),
            aliases,
        });
    }
    Ok(())
}

/// One pattern per distinct folded name, with its carriers; and the names in pattern order.
fn name_patterns(entries: &[KbEntry]) -> (Vec<Pattern>, Vec<String>) {
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut patterns: Vec<Pattern> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        for (n, a) in e.aliases.iter().enumerate() {
            if a.contains('(') {
                continue; // a display name with a disambiguator
            }
            let (a, needs_context) = match a.strip_prefix('~') {
                Some(rest) => (rest, true),
                None => (a.as_str(), false),
            };
            let casing = if e.kind == EntityKind::Target {
                Casing::Any
            } else {
                casing_of(a)
            };
            let key = fold(a);
            let p = *by_name.entry(key).or_insert_with(|| {
                patterns.push(Pattern {
                    entries: Vec::new(),
                });
                patterns.len() - 1
            });
            let pat = &mut patterns[p];
            if !pat.entries.iter().any(|c| c.entry == i as u32) {
                pat.entries.push(Carrier {
                    entry: i as u32,
                    written: a.to_string(),
                    casing,
                    needs_context,
                    primary: n == 0,
                });
            }
        }
    }
    let mut keys: Vec<(usize, String)> = by_name.into_iter().map(|(k, v)| (v, k)).collect();
    keys.sort();
    (patterns, keys.into_iter().map(|(_, k)| k).collect())
}

/// The name automaton over `keys`, with the given match semantics.
fn name_automaton(keys: &[String], match_kind: MatchKind) -> Result<AhoCorasick, KbError> {
    // A contiguous NFA: with tens of thousands of names it scans faster
    // than a DFA (whose tables miss the cache) and builds in a fraction
    // of the time.
    AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .match_kind(match_kind)
        .build(keys)
        .map_err(|e| KbError {
            file: "knowledge base",
            line: 0,
            message: format!("cannot build the name automaton: {e}"),
        })
}

fn casing_of(a: &str) -> Casing {
    let letters: Vec<char> = a.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() <= 5 && letters.iter().all(|c| c.is_uppercase()) && !letters.is_empty() {
        return Casing::Exact;
    }
    let caps = a
        .split([' ', '-'])
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .count();
    Casing::Capitals(caps.min(255) as u8)
}

/// Whether `surface` (from the text) is written as the pattern requires.
pub(crate) fn casing_ok(casing: Casing, written: &str, surface: &str) -> bool {
    match casing {
        Casing::Any => true,
        Casing::Exact => {
            // Acronyms: the same letters in the same case (a possessive or
            // dash variant still counts).
            let w: Vec<char> = written.chars().filter(|c| c.is_alphanumeric()).collect();
            let s: Vec<char> = surface.chars().filter(|c| c.is_alphanumeric()).collect();
            w == s
        }
        Casing::Capitals(n) => {
            let caps = surface
                .split([' ', '-', '\n', '\t'])
                .filter(|w| w.chars().next().is_some_and(|c| !c.is_lowercase()))
                .count();
            let first_ok = !written.chars().next().is_some_and(char::is_uppercase)
                || surface.chars().next().is_some_and(|c| !c.is_lowercase());
            caps >= n as usize && first_ok
        }
    }
}

/// A lower-case, dash-separated form of a name for ids.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in fold(s).chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources<'a>(groups: &'a str, countries: &'a str, cities: &'a str) -> Sources<'a> {
        Sources {
            groups,
            orgs: "",
            countries,
            cities,
            targets: "",
        }
    }

    #[test]
    fn malformed_rows_are_named_by_file_and_line() {
        let cases = [
            (sources("is\t-\t-\n", "", ""), "groups.tsv:1: expected 4"),
            (
                sources("# c\nis\t-\t-\t | \n", "", ""),
                "groups.tsv:2: the row names nothing",
            ),
            (
                sources("", "RU\t\n", ""),
                "countries.tsv:1: the row names nothing",
            ),
            (
                sources("", "RU\tRussia\n", "1\tRU\tM\tmany\tMoscow\n"),
                "cities.tsv:1: population `many`",
            ),
        ];
        for (src, want) in cases {
            let e = Kb::from_sources(&src).err().map(|e| e.to_string());
            assert!(
                e.as_deref().is_some_and(|e| e.starts_with(want)),
                "{e:?} should start with {want}"
            );
        }
    }
}
