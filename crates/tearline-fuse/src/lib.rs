//! Tearline's fusion: every document linked into cases.
//!
//! A *case* is the documents that concern one threat or event: a warning
//! and the attack it warned of, with the reporting about both, are one
//! case; a plot foiled in the same city at the same time is another; two
//! attacks by one group are two cases.
//!
//! # How documents are linked
//! 1. [`features`] reduces an [`Extraction`] to *keys* (the canonical ids
//!    of its groups, people, venues, districts, cities, regions,
//!    organisations and target types; the kind of event it reports, attack
//!    or foiled plot; the city it names most; and each group or person
//!    paired with each city), a
//!    *time span* (the days its events happen on or the window it warns
//!    of; none for a document with no date at all) and its *places*.
//! 2. [`related`] decides, for two documents, whether they concern one
//!    event. It reads nothing but the two documents and is symmetric.
//! 3. A case is a set of documents connected by [`related`] pairs. A new
//!    document is compared with the stored documents that carry its keys
//!    near its span ([`link`]); it joins the cases of those it is related
//!    to, and when there are several, it bridges them and they merge.
//!
//! Since the relation reads only the pair, the partition does not depend
//! on the order documents arrive in: the connected components of a graph
//! are the same however its edges are added. (The bounds on lookups,
//! [`Config::max_postings`] per key and [`Config::max_candidates`] per
//! document, keep linking cheap at a million documents; only a key carried
//! by more documents than that within one span can make order matter, and
//! recomputing every case in a fixed order, as `tearline cases rebuild`
//! does, settles it.)
//!
//! An undated document is placed by its content: a venue, or a group or a
//! person together with a city and a kind of target, found across all
//! time.
//!
//! [`facts`] turns a case's extractions into a fact table: for deaths,
//! injuries, claims, blame and warnings, what each source says, with
//! disagreements flagged.
#![deny(missing_docs)]

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDate};
use serde::Serialize;
use tearline_extract::{Casualty, EntityKind, Extraction, PlaceKind};

/// Tuning of the linker.
#[derive(Debug, Clone)]
pub struct Config {
    /// The largest gap, in days, between two documents' spans that still
    /// counts as the same event.
    pub max_gap_days: i64,
    /// The least score a candidate case needs.
    pub min_score: f64,
    /// Keys carried by more than this share of documents are not looked up.
    pub max_df_share: f64,
    /// At most this many postings are read per key.
    pub max_postings: usize,
    /// A span is cut to at most this many days.
    pub max_span_days: i64,
    /// At most this many candidate documents are read per link.
    pub max_candidates: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_gap_days: 3,
            min_score: 1.0,
            max_df_share: 0.05,
            max_postings: 200,
            max_span_days: 30,
            max_candidates: 64,
        }
    }
}

/// What linking needs to know of one document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Features {
    /// Canonical ids of its distinctive entities, each once.
    pub keys: Vec<String>,
    /// First day of its events, as days since 1970-01-01.
    pub from: Option<i64>,
    /// Last day of its events.
    pub until: Option<i64>,
    /// Its cities and countries (`city:...`, `country:XX`).
    pub places: Vec<String>,
}

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("bug: epoch"),
};

/// Days since 1970-01-01.
pub fn day_number(d: NaiveDate) -> i64 {
    (d - EPOCH).num_days()
}

/// The date of a day number.
pub fn day_date(n: i64) -> NaiveDate {
    EPOCH + Duration::days(n)
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// Reduces an extraction to what linking needs.
pub fn features(x: &Extraction, published: Option<NaiveDate>, cfg: &Config) -> Features {
    let mut keys = Vec::new();
    let mut seen = HashSet::new();
    let mut places = Vec::new();
    let mut days: Vec<NaiveDate> = Vec::new();
    for e in &x.entities {
        let key = match (e.kind, e.place_kind) {
            (EntityKind::Group | EntityKind::Person | EntityKind::Target, _) => true,
            (EntityKind::Org, _) => e.role.as_deref() != Some("media"),
            (EntityKind::Place, Some(PlaceKind::Country)) => false,
            (EntityKind::Place, _) => true,
            (EntityKind::Statement, _) => e.id.starts_with("event:"),
            _ => false,
        };
        if key && seen.insert(e.id.clone()) {
            keys.push(e.id.clone());
        }
        // A branch's documents also speak of its movement: "IS claimed" and
        // "ISIS-K carried out" concern one event.
        if e.kind == EntityKind::Group {
            if let Some(p) = &e.parent {
                if seen.insert(p.clone()) {
                    keys.push(p.clone());
                }
            }
        }
        if e.kind == EntityKind::Place {
            let place = match e.place_kind {
                Some(PlaceKind::City | PlaceKind::Country) => Some(e.id.clone()),
                // A venue's city is where the document is.
                _ => e.parent.clone().filter(|p| p.starts_with("city:")),
            };
            if let Some(city) = place.as_ref().filter(|p| p.starts_with("city:")) {
                if seen.insert(city.clone()) {
                    keys.push(city.clone());
                }
            }
            let country = e.country.as_ref().map(|c| format!("country:{c}"));
            for p in place.into_iter().chain(country) {
                if !places.contains(&p) {
                    places.push(p);
                }
            }
        }
        let near = |d: NaiveDate| {
            published.is_none_or(|p| (d - p).num_days() >= -60 && (d - p).num_days() <= 30)
        };
        match e.kind {
            EntityKind::Date => {
                days.extend(e.date.as_deref().and_then(parse_day).filter(|d| near(*d)))
            }
            EntityKind::Window => {
                days.extend(e.from.as_deref().and_then(parse_day).filter(|d| near(*d)));
                days.extend(e.until.as_deref().and_then(parse_day).filter(|d| near(*d)));
            }
            _ => {}
        }
    }
    if days.is_empty() {
        days.extend(published);
    }
    let from = days.iter().min().map(|d| day_number(*d));
    let until = days
        .iter()
        .max()
        .map(|d| day_number(*d))
        .zip(from)
        .map(|(u, f)| u.min(f + cfg.max_span_days));
    // A warning that reports neither an attack nor a foiled plot is a
    // warning: of a plot that may be the attack, never the foiled one.
    if !keys.iter().any(|k| k.starts_with("event:")) && x.of(EntityKind::Window).next().is_some() {
        keys.push("event:warning".into());
    }
    // The city it names most is where it is; the first city named (in
    // the headline or the lead) counts twice, and of equals the first
    // wins.
    let mut count: Vec<(&str, usize, usize)> = Vec::new();
    for (i, e) in x.entities.iter().enumerate() {
        let city = match e.place_kind {
            Some(PlaceKind::City) => Some(e.id.as_str()),
            Some(PlaceKind::Venue | PlaceKind::District | PlaceKind::Facility) => {
                e.parent.as_deref().filter(|p| p.starts_with("city:"))
            }
            _ => None,
        };
        if let Some(c) = city {
            let first = count.is_empty();
            match count.iter_mut().find(|x| x.0 == c) {
                Some(x) => x.1 += 1,
                None => count.push((c, 1 + usize::from(first), i)),
            }
        }
    }
    if let Some((c, _, _)) = count.iter().max_by_key(|x| (x.1, std::cmp::Reverse(x.2))) {
        keys.push(format!("main:{c}"));
    }
    // A group or a person with a city places a document on its own, dated
    // or not: the pair is a key of its own.
    let cities: Vec<&String> = keys.iter().filter(|k| k.starts_with("city:")).collect();
    let pairs: Vec<String> = keys
        .iter()
        .filter(|k| k.starts_with("group:") || k.starts_with("person:"))
        .flat_map(|w| cities.iter().map(move |c| format!("pair:{w}|{c}")))
        .collect();
    keys.extend(pairs);
    places.sort();
    Features {
        keys,
        from,
        until,
        places,
    }
}

/// The first and last day of an undated document, as the store keeps it.
pub const UNDATED: i64 = -1_000_000;

/// A stored document carrying a key.
#[derive(Debug, Clone, PartialEq)]
pub struct Posting {
    /// The document.
    pub doc: i64,
    /// Its case.
    pub case: i64,
    /// Its span ([`UNDATED`] when it has none).
    pub from: i64,
    /// Its span.
    pub until: i64,
}

/// What the linker reads from the store.
pub trait Index {
    /// The error of the store behind it.
    type Error;
    /// Up to `limit` documents carrying `key` whose span starts between
    /// `from_min` and `from_max` (inclusive) and ends on or after
    /// `until_min`, latest first. Undated documents have the span
    /// [`UNDATED`]..[`UNDATED`].
    fn postings(
        &self,
        key: &str,
        from_min: i64,
        from_max: i64,
        until_min: i64,
        limit: usize,
    ) -> Result<Vec<Posting>, Self::Error>;
    /// A stored document's keys and places.
    fn profile(&self, doc: i64) -> Result<(Vec<String>, Vec<String>), Self::Error>;
}

fn kind_of(key: &str) -> &str {
    key.split(':').next().unwrap_or("")
}

/// The weight of a key's kind (0 for keys that say nothing of an entity:
/// an event kind, a group-and-city pair).
pub fn kind_weight(key: &str) -> f64 {
    match kind_of(key) {
        "group" | "person" => 1.0,
        "venue" => 1.5,
        "district" => 0.8,
        "city" => 0.6,
        "event" | "pair" | "main" => 0.0,
        _ => 0.3,
    }
}

fn distinctive(key: &str) -> bool {
    matches!(kind_of(key), "group" | "person" | "venue")
}

/// Whether a key names an entity (not an event kind or a pair).
pub fn is_entity_key(key: &str) -> bool {
    !matches!(kind_of(key), "event" | "pair" | "main")
}

/// Whether shared keys are enough to call two documents related: a group,
/// a person or a venue, or else both a city (or district) and a target
/// type. A shared city alone is not.
pub fn shares_enough<K: AsRef<str>>(shared: &[K]) -> bool {
    let has = |f: &dyn Fn(&str) -> bool| shared.iter().any(|k| f(k.as_ref()));
    has(&distinctive)
        || (has(&|k| k.starts_with("city:") || k.starts_with("district:"))
            && has(&|k| k.starts_with("target:")))
}

/// What a shared `key` carried by `df` of `n` stored documents adds to a
/// relatedness score: its kind's weight times its rarity; `None` for a key
/// too common to distinguish anything (or carried by none).
pub fn key_weight(key: &str, df: u64, n: u64, cfg: &Config) -> Option<f64> {
    if df == 0 || kind_weight(key) == 0.0 || (df as f64) > cfg.max_df_share * n as f64 && df > 20 {
        return None;
    }
    // A young store has few documents: rarity is judged as if it held at
    // least a hundred.
    let idf = (1.0 + (n.max(100) as f64) / df as f64).ln();
    Some(kind_weight(key) * idf)
}

/// Whether two documents concern one event: the rule every link and merge
/// follows. It is symmetric and reads only the two documents, so the
/// partition into cases (the connected documents) does not depend on the
/// order they arrive in. Returns the entity keys they share.
///
/// - A foiled plot is never one event with an attack or with a warning.
/// - Two documents naming venues, none shared, are not one event.
/// - Dated documents: spans within [`Config::max_gap_days`], sharing a
///   group, a person or a venue, or a city and a target type (or, for two
///   reports of an attack a day apart at most, a city); their places
///   agree unless they share a venue.
/// - When either is undated, content must place them together: a shared
///   venue, or a shared group or person with a shared city and target
///   type, with places that agree.
pub fn related(a: &Features, b: &Features, cfg: &Config) -> Option<Vec<String>> {
    let event = |f: &Features, e: &str| f.keys.iter().any(|k| k == e);
    let foiled = |x: &Features, y: &Features| {
        event(x, "event:foiled") && (event(y, "event:attack") || event(y, "event:warning"))
    };
    if foiled(a, b) || foiled(b, a) {
        return None;
    }
    let shared: Vec<String> = a
        .keys
        .iter()
        .filter(|k| is_entity_key(k) && b.keys.contains(k))
        .cloned()
        .collect();
    let venues = |f: &Features| f.keys.iter().any(|k| k.starts_with("venue:"));
    let shared_venue = shared.iter().any(|k| k.starts_with("venue:"));
    if venues(a) && venues(b) && !shared_venue {
        return None;
    }
    let ok = match (a.from.zip(a.until), b.from.zip(b.until)) {
        (Some((af, au)), Some((bf, bu))) => {
            let gap = (bf - au).max(af - bu);
            // Two reports of an attack in one city on the same or the next
            // day are one attack, even when one names the group and the
            // other only the place.
            let main = |f: &Features| f.keys.iter().find(|k| k.starts_with("main:")).cloned();
            let same_attack = gap <= 1
                && event(a, "event:attack")
                && event(b, "event:attack")
                && main(a).is_some()
                && main(a) == main(b);
            gap <= cfg.max_gap_days
                && (shares_enough(&shared) || same_attack)
                && (shared_venue || places_agree(&a.places, &b.places))
        }
        _ => {
            let has = |p: &str| shared.iter().any(|k| k.starts_with(p));
            let who = has("group:") || has("person:");
            (shared_venue || (who && has("city:") && has("target:")))
                && places_agree(&a.places, &b.places)
        }
    };
    ok.then_some(shared)
}

/// The linker's decision for one document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Decision {
    /// The case to join (the oldest of the cases it is related to); `None`
    /// opens a new one.
    pub case: Option<i64>,
    /// Other cases it is related to: the document bridges them, and they
    /// merge into `case`.
    pub merge: Vec<i64>,
    /// The score of the strongest link (the kind weights of the keys shared).
    pub score: f64,
    /// The keys it shares with the documents it links to.
    pub shared: Vec<String>,
}

/// Keys looked up for a document: entity keys for a dated one, and for an
/// undated one the keys that can place it alone (venues, group-and-city
/// pairs).
fn lookup_keys(f: &Features) -> impl Iterator<Item = &String> {
    let dated = f.from.is_some();
    f.keys.iter().filter(move |k| match kind_of(k) {
        "event" | "main" => false,
        "pair" | "venue" => true,
        _ => dated,
    })
}

/// Decides which case a document with `f` joins and which cases it
/// bridges: every stored document [`related`] to it counts (up to
/// [`Config::max_postings`] per key and [`Config::max_candidates`]
/// documents read).
pub fn link<I: Index>(index: &I, f: &Features, cfg: &Config) -> Result<Decision, I::Error> {
    // Per candidate document: its case, span, and the weight of the keys
    // it was found by.
    let mut cand: HashMap<i64, (Posting, f64)> = HashMap::new();
    let mut add = |ps: Vec<Posting>, key: &str| {
        for p in ps {
            cand.entry(p.doc).or_insert((p, 0.0)).1 += kind_weight(key).max(0.1);
        }
    };
    for key in lookup_keys(f) {
        match f.from.zip(f.until) {
            Some((from, until)) => {
                if kind_of(key) != "pair" {
                    add(
                        index.postings(
                            key,
                            from - cfg.max_span_days - cfg.max_gap_days,
                            until + cfg.max_gap_days,
                            from - cfg.max_gap_days,
                            cfg.max_postings,
                        )?,
                        key,
                    );
                }
                if matches!(kind_of(key), "pair" | "venue") {
                    add(
                        index.postings(key, UNDATED, UNDATED, UNDATED, cfg.max_postings)?,
                        key,
                    );
                }
            }
            None => add(
                index.postings(key, i64::MIN, i64::MAX, i64::MIN, cfg.max_postings)?,
                key,
            ),
        }
    }
    let mut ranked: Vec<(i64, (Posting, f64))> = cand.into_iter().collect();
    ranked.sort_by(|a, b| b.1 .1.total_cmp(&a.1 .1).then(a.0.cmp(&b.0)));
    let mut linked: BTreeMap<i64, f64> = BTreeMap::new();
    let mut shared_all: Vec<String> = Vec::new();
    let mut read = 0;
    for (doc, (p, _)) in ranked {
        let case = p.case;
        if linked.contains_key(&case) {
            continue;
        }
        if read == cfg.max_candidates {
            break;
        }
        read += 1;
        let (keys, places) = index.profile(doc)?;
        let dated = p.from != UNDATED;
        let other = Features {
            keys,
            from: dated.then_some(p.from),
            until: dated.then_some(p.until),
            places,
        };
        let Some(shared) = related(f, &other, cfg) else {
            continue;
        };
        let score: f64 = shared.iter().map(|k| kind_weight(k)).sum();
        linked.insert(case, score);
        for k in shared {
            if !shared_all.contains(&k) {
                shared_all.push(k);
            }
        }
    }
    let mut cases = linked.keys().copied();
    let Some(case) = cases.next() else {
        return Ok(Decision::default());
    };
    Ok(Decision {
        case: Some(case),
        merge: cases.collect(),
        score: linked.values().copied().fold(0.0, f64::max),
        shared: shared_all,
    })
}

/// A fact's claims, each with the range of values it allows.
type Rows = Vec<(Claim, (i64, i64))>;

/// Places agree when both name cities and share one, or else when they
/// share a country, or when either names none.
pub fn places_agree(a: &[String], b: &[String]) -> bool {
    let cities = |x: &[String]| -> Vec<String> {
        x.iter()
            .filter(|p| p.starts_with("city:"))
            .cloned()
            .collect()
    };
    let (ca, cb) = (cities(a), cities(b));
    if !ca.is_empty() && !cb.is_empty() {
        return ca.iter().any(|c| cb.contains(c));
    }
    let countries = |x: &[String]| -> Vec<String> {
        x.iter()
            .filter(|p| p.starts_with("country:"))
            .cloned()
            .collect()
    };
    let (na, nb) = (countries(a), countries(b));
    na.is_empty() || nb.is_empty() || na.iter().any(|c| nb.contains(c))
}

/// One source's statement of one fact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    /// The document.
    pub doc: String,
    /// What it says, as text ("at least 143", "group:is-k").
    pub value: String,
    /// Where in the document (the surface text).
    pub evidence: String,
}

/// One kind of fact and what each source says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    /// deaths, injuries, claimed by, blamed on, warning window.
    pub fact: String,
    /// What each source says.
    pub claims: Vec<Claim>,
    /// The sources disagree.
    pub conflict: bool,
}

/// A case's fact table from its documents' extractions (`(document name,
/// extraction)` pairs).
pub fn facts(docs: &[(String, Extraction)]) -> Vec<Fact> {
    let mut table: BTreeMap<&'static str, Rows> = BTreeMap::new();
    for (name, x) in docs {
        // Per document, the largest figure of each kind (a text that
        // reports "12 killed" early and "143 killed" later means 143).
        #[allow(clippy::type_complexity)]
        let mut best: HashMap<Casualty, (u64, i64, i64, String, String, bool, usize)> =
            HashMap::new();
        for e in x.of(EntityKind::Casualty) {
            let Some(f) = &e.figure else { continue };
            // A toll of another event, mentioned for comparison, is not
            // this event's.
            if e.about.as_deref() == Some(tearline_extract::OTHER_EVENT) {
                continue;
            }
            let (lo, hi) = match (f.min, f.max, f.exact) {
                (Some(m), _, _) if f.strict => (m as i64 + 1, i64::MAX),
                (Some(m), _, _) => (m as i64, i64::MAX),
                (_, Some(m), _) if f.approximate => ((m as i64) * 9 / 10, m as i64),
                (_, Some(m), _) => (0, m as i64),
                (_, _, Some(v)) if f.approximate => ((v as i64) * 9 / 10, (v as i64) * 11 / 10),
                (_, _, Some(v)) => (v as i64, v as i64),
                _ => continue,
            };
            let text = match (f.min, f.max, f.exact) {
                (Some(m), _, _) if f.strict => format!("more than {m}"),
                (Some(m), _, _) => format!("at least {m}"),
                (_, Some(m), _) => format!("up to {m}"),
                (_, _, Some(v)) if f.approximate => format!("about {v}"),
                _ => f.value.to_string(),
            };
            // Per document and kind: the last update if the text updates
            // its figure ("rose to 137", "revised to 253"), else the
            // largest (a text that reports "12 killed" early and "143
            // killed" later means 143). A figure repeated counts once.
            let slot =
                best.entry(f.counts)
                    .or_insert((0, 0, 0, String::new(), String::new(), false, 0));
            let replaces = if f.update {
                !slot.5 || e.byte_start > slot.6
            } else {
                !slot.5 && f.value > slot.0
            };
            if replaces {
                *slot = (
                    f.value,
                    lo,
                    hi,
                    text,
                    e.text.clone(),
                    f.update,
                    e.byte_start,
                );
            }
        }
        let mut best: Vec<_> = best.into_iter().collect();
        best.sort_by_key(|(k, _)| *k as u8);
        for (kind, (_, lo, hi, text, ev, _, _)) in best {
            let fact = match kind {
                Casualty::Killed => "deaths",
                Casualty::Injured => "injuries",
            };
            table.entry(fact).or_default().push((
                Claim {
                    doc: name.clone(),
                    value: text,
                    evidence: ev,
                },
                (lo, hi),
            ));
        }
        for e in x.of(EntityKind::Statement) {
            let (fact, value) = match e.act.as_deref() {
                Some("claimed") => ("claimed by", e.speaker.clone()),
                Some("blamed") => ("blamed on", e.about.clone()),
                _ => continue,
            };
            let Some(value) = value else { continue };
            let name_of = x
                .entities
                .iter()
                .find(|n| n.id == value)
                .map_or(value.clone(), |n| n.name.clone());
            table.entry(fact).or_default().push((
                Claim {
                    doc: name.clone(),
                    value: name_of,
                    evidence: e.text.clone(),
                },
                (0, 0),
            ));
        }
        for e in x.of(EntityKind::Window) {
            let Some(u) = &e.until else { continue };
            table.entry("warning window").or_default().push((
                Claim {
                    doc: name.clone(),
                    value: format!("{} to {u}", e.from.as_deref().unwrap_or("?")),
                    evidence: e.text.clone(),
                },
                (0, 0),
            ));
        }
    }
    table
        .into_iter()
        .map(|(fact, rows)| {
            let conflict = match fact {
                "deaths" | "injuries" => {
                    // Ranges that do not all overlap disagree.
                    let lo = rows.iter().map(|r| r.1 .0).max().unwrap_or(0);
                    let hi = rows.iter().map(|r| r.1 .1).min().unwrap_or(0);
                    lo > hi
                }
                _ => {
                    let mut v: Vec<&str> = rows.iter().map(|r| r.0.value.as_str()).collect();
                    v.sort();
                    v.dedup();
                    v.len() > 1
                }
            };
            Fact {
                fact: fact.to_string(),
                claims: rows.into_iter().map(|r| r.0).collect(),
                conflict,
            }
        })
        .collect()
}

/// An in-memory [`Index`], for tests, evaluation and benchmarks.
#[derive(Debug, Default)]
pub struct MemoryIndex {
    docs: Vec<(i64, Features)>,
    by_key: HashMap<String, Vec<usize>>,
    next_case: i64,
}

impl MemoryIndex {
    /// Links a document and stores it, merging the cases it bridges;
    /// returns its case.
    pub fn add(&mut self, f: Features, cfg: &Config) -> (i64, Decision) {
        let d = match link(self, &f, cfg) {
            Ok(d) => d,
            Err(never) => match never {},
        };
        let case = d.case.unwrap_or_else(|| {
            self.next_case += 1;
            self.next_case
        });
        if !d.merge.is_empty() {
            for doc in &mut self.docs {
                if d.merge.contains(&doc.0) {
                    doc.0 = case;
                }
            }
        }
        let i = self.docs.len();
        for k in &f.keys {
            self.by_key.entry(k.clone()).or_default().push(i);
        }
        self.docs.push((case, f));
        (case, d)
    }

    /// Each document's case, in the order they were added.
    pub fn cases(&self) -> Vec<i64> {
        self.docs.iter().map(|d| d.0).collect()
    }
}

impl Index for MemoryIndex {
    type Error = std::convert::Infallible;
    fn postings(
        &self,
        key: &str,
        from_min: i64,
        from_max: i64,
        until_min: i64,
        limit: usize,
    ) -> Result<Vec<Posting>, Self::Error> {
        let mut out: Vec<Posting> = self
            .by_key
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|&i| {
                let (case, f) = &self.docs[i];
                let (from, until) = (f.from.unwrap_or(UNDATED), f.until.unwrap_or(UNDATED));
                (from >= from_min && from <= from_max && until >= until_min).then_some(Posting {
                    doc: i as i64,
                    case: *case,
                    from,
                    until,
                })
            })
            .collect();
        out.sort_by(|a, b| b.from.cmp(&a.from).then(b.doc.cmp(&a.doc)));
        out.truncate(limit);
        Ok(out)
    }
    fn profile(&self, doc: i64) -> Result<(Vec<String>, Vec<String>), Self::Error> {
        Ok(self
            .docs
            .get(doc as usize)
            .map(|d| (d.1.keys.clone(), d.1.places.clone()))
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tearline_extract::{extract, Context};

    fn feat(text: &str, published: &str) -> Features {
        let ctx = Context::published(published).unwrap();
        features(&extract(text, &ctx), ctx.published, &Config::default())
    }

    #[test]
    fn same_group_city_week_links_and_two_weeks_apart_does_not() {
        let cfg = Config::default();
        let mut idx = MemoryIndex::default();
        let filler = [
            (
                "Police in Paris arrested two men on Monday over a plot against a church.",
                "2024-01-10",
            ),
            (
                "Al-Shabaab fighters attacked a hotel in Mogadishu on Sunday, killing 12.",
                "2024-02-12",
            ),
            (
                "Boko Haram abducted students near Maiduguri on Friday.",
                "2024-02-20",
            ),
        ];
        for (t, p) in filler {
            idx.add(feat(t, p), &cfg);
        }
        let (warning, _) = idx.add(
            feat(
                "ISIS-K plans to attack concerts in Moscow over the next 48 hours.",
                "2024-03-07",
            ),
            &cfg,
        );
        let (note, d) = idx.add(feat("Analysts report Wilayat Khorasan supporters in Moscow discussing concerts on Friday.", "2024-03-09"), &cfg);
        assert_eq!(note, warning, "{d:?}");
        assert!(d.shared.contains(&"group:is-k".to_string()));
        let (attack, _) = idx.add(
            feat(
                "Gunmen from ISKP attacked a concert in Moscow on Friday, killing at least 143.",
                "2024-03-23",
            ),
            &cfg,
        );
        assert_ne!(attack, warning);
        let (report, _) = idx.add(
            feat(
                "Islamic State Khorasan Province claimed the attack in Moscow last Friday.",
                "2024-03-24",
            ),
            &cfg,
        );
        assert_eq!(report, attack);
        let (other_city, _) = idx.add(
            feat(
                "ISIS-K supporters were arrested in Kabul on Friday.",
                "2024-03-23",
            ),
            &cfg,
        );
        assert_ne!(other_city, attack);
    }

    fn feat_undated(text: &str) -> Features {
        features(
            &extract(text, &Context::default()),
            None,
            &Config::default(),
        )
    }

    /// The partition (sets of document numbers) of `docs` added in `order`.
    fn partition(docs: &[Features], order: &[usize]) -> Vec<Vec<usize>> {
        let cfg = Config::default();
        let mut idx = MemoryIndex::default();
        for &i in order {
            idx.add(docs[i].clone(), &cfg);
        }
        let cases = idx.cases();
        let mut by_case: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (pos, &i) in order.iter().enumerate() {
            by_case.entry(cases[pos]).or_default().push(i);
        }
        let mut parts: Vec<Vec<usize>> = by_case
            .into_values()
            .map(|mut v| {
                v.sort();
                v
            })
            .collect();
        parts.sort();
        parts
    }

    fn story() -> Vec<Features> {
        vec![
            feat("ISIS-K plans to attack concerts in Moscow over the next 48 hours.", "2024-03-07"),
            feat("Gunmen from ISKP attacked a concert at Crocus City Hall in Krasnogorsk, near Moscow, on Friday, killing at least 143.", "2024-03-23"),
            feat("Islamic State Khorasan Province claimed the attack in Moscow last Friday.", "2024-03-24"),
            // Bridges the warning and the attack: it speaks of both.
            feat("On March 7 the US warned that ISIS-K planned to attack concerts in Moscow; on March 22 gunmen killed 140 at a concert there.", "2024-03-26"),
            // A plot foiled in the same city on the same day: another case.
            feat("Police in Moscow arrested two men suspected of planning an attack on a concert on Friday.", "2024-03-23"),
            // Undated, placed by its venue.
            feat_undated("Flowers piled up outside Crocus City Hall as survivors described the gunmen."),
            // Another group elsewhere.
            feat("Al-Shabaab fighters attacked a hotel in Mogadishu on Sunday, killing 12.", "2024-03-24"),
        ]
    }

    #[test]
    fn a_bridging_document_merges_cases_and_the_order_does_not_matter() {
        let docs = story();
        let first = partition(&docs, &[0, 1, 2, 3, 4, 5, 6]);
        assert!(first.contains(&vec![0, 1, 2, 3, 5]), "{first:?}");
        assert!(
            first.contains(&vec![4]),
            "the foiled plot stands apart: {first:?}"
        );
        assert!(first.contains(&vec![6]), "{first:?}");
        // Every order gives the same partition.
        let mut order: Vec<usize> = (0..docs.len()).collect();
        let mut seed = 7u64;
        for _ in 0..40 {
            for i in (1..order.len()).rev() {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                order.swap(i, (seed >> 33) as usize % (i + 1));
            }
            assert_eq!(partition(&docs, &order), first, "{order:?}");
        }
    }

    #[test]
    fn the_relation_is_symmetric() {
        let docs = story();
        let cfg = Config::default();
        for a in &docs {
            for b in &docs {
                assert_eq!(related(a, b, &cfg).is_some(), related(b, a, &cfg).is_some());
            }
        }
    }

    #[test]
    fn an_undated_document_needs_a_venue_or_a_group_with_a_city() {
        let cfg = Config::default();
        let attack = feat(
            "ISKP gunmen attacked a concert at Crocus City Hall in Krasnogorsk on Friday.",
            "2024-03-23",
        );
        let by_pair = feat_undated(
            "ISIS-K fighters were behind the attack on the concert in Krasnogorsk, officials say.",
        );
        assert!(related(&attack, &by_pair, &cfg).is_some(), "{by_pair:?}");
        let no_target =
            feat_undated("ISIS-K fighters were behind the attack in Krasnogorsk, officials say.");
        assert!(
            related(&attack, &no_target, &cfg).is_none(),
            "{no_target:?}"
        );
        assert!(related(&attack, &by_pair, &cfg).is_some(), "{by_pair:?}");
        let group_only = feat_undated("ISIS-K has grown stronger, analysts say.");
        assert!(related(&attack, &group_only, &cfg).is_none());
        let other_venue = feat_undated("ISIS-K gunmen attacked the Bataclan in Paris.");
        assert!(related(&attack, &other_venue, &cfg).is_none());
    }

    #[test]
    fn fact_table_flags_conflicting_figures() {
        let ctx = Context::published("2024-03-23").unwrap();
        let a = extract(
            "At least 143 people were killed. ISIS-K claimed responsibility.",
            &ctx,
        );
        let b = extract(
            "The death toll rose to 115. Officials blamed Ukraine.",
            &ctx,
        );
        let f = facts(&[("a".into(), a), ("b".into(), b)]);
        let deaths = f.iter().find(|f| f.fact == "deaths").unwrap();
        assert!(deaths.conflict, "{f:?}");
        assert_eq!(deaths.claims.len(), 2);
        assert!(f
            .iter()
            .any(|f| f.fact == "claimed by"
                && f.claims[0].value == "Islamic State Khorasan Province"));
    }
}
