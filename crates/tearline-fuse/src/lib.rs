//! Tearline's fusion: every document linked into cases.
//!
//! A *case* is the documents that concern one threat or event. A new
//! document joins the case of the stored documents it shares the most
//! distinctive evidence with, provided their times and places agree;
//! otherwise it opens a case of its own.
//!
//! # How a document is linked
//! 1. [`features`] reduces an [`Extraction`] to *keys* (the canonical ids
//!    of its groups, people, venues, districts, cities, regions,
//!    organisations and target types), a *time span* (the days its events
//!    happen on or the window it warns of) and its *places* (cities and
//!    countries).
//! 2. [`link`] asks an [`Index`] for the stored documents carrying each
//!    key whose span lies near the new span. Each shared key adds its kind's
//!    weight times its rarity (inverse document frequency), so "Crocus City
//!    Hall" counts for far more than "Moscow", and keys so common that
//!    they distinguish nothing are not looked up at all.
//! 3. A candidate counts only if the spans are within
//!    [`Config::max_gap_days`] of each other and the places agree (a shared
//!    city when both name cities, else a shared country), and only if it
//!    shares something distinctive: a group, a person or a venue, or else
//!    both a city and a target type. Two events of one group in one city
//!    two weeks apart therefore stay in separate cases.
//!
//! The index lookups are bounded (per key, by span), so linking costs the
//! same whether the store holds a thousand documents or a million.
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
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_gap_days: 3,
            min_score: 1.0,
            max_df_share: 0.05,
            max_postings: 200,
            max_span_days: 30,
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
                _ => None,
            };
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
    places.sort();
    Features {
        keys,
        from,
        until,
        places,
    }
}

/// A stored document carrying a key.
#[derive(Debug, Clone, PartialEq)]
pub struct Posting {
    /// The document.
    pub doc: i64,
    /// Its case.
    pub case: i64,
    /// Its span.
    pub from: i64,
    /// Its span.
    pub until: i64,
}

/// What the linker reads from the store.
pub trait Index {
    /// The error of the store behind it.
    type Error;
    /// How many documents are stored.
    fn doc_count(&self) -> Result<u64, Self::Error>;
    /// How many documents carry `key`.
    fn doc_freq(&self, key: &str) -> Result<u64, Self::Error>;
    /// Up to `limit` documents carrying `key` whose span starts between
    /// `from_min` and `from_max` (inclusive) and ends on or after
    /// `until_min`.
    fn postings(
        &self,
        key: &str,
        from_min: i64,
        from_max: i64,
        until_min: i64,
        limit: usize,
    ) -> Result<Vec<Posting>, Self::Error>;
    /// A stored document's places.
    fn places(&self, doc: i64) -> Result<Vec<String>, Self::Error>;
}

/// The weight of a key's kind.
pub fn kind_weight(key: &str) -> f64 {
    match key.split(':').next().unwrap_or("") {
        "group" | "person" => 1.0,
        "venue" => 1.5,
        "district" => 0.8,
        "city" => 0.6,
        "region" | "org" | "target" => 0.3,
        _ => 0.3,
    }
}

fn distinctive(key: &str) -> bool {
    matches!(key.split(':').next(), Some("group" | "person" | "venue"))
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
/// score: its kind's weight times its rarity; `None` for a key too common
/// to distinguish anything (or carried by none).
pub fn key_weight(key: &str, df: u64, n: u64, cfg: &Config) -> Option<f64> {
    if df == 0 || (df as f64) > cfg.max_df_share * n as f64 && df > 20 {
        return None;
    }
    // A young store has few documents: rarity is judged as if it held at
    // least a hundred.
    let idf = (1.0 + (n.max(100) as f64) / df as f64).ln();
    Some(kind_weight(key) * idf)
}

/// The linker's decision for one document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Decision {
    /// The case to join; `None` opens a new one.
    pub case: Option<i64>,
    /// The winning case's score.
    pub score: f64,
    /// The keys it shares with that case.
    pub shared: Vec<String>,
}

/// Decides which case a document with `f` joins.
pub fn link<I: Index>(index: &I, f: &Features, cfg: &Config) -> Result<Decision, I::Error> {
    let (Some(from), Some(until)) = (f.from, f.until) else {
        return Ok(Decision::default());
    };
    let n = index.doc_count()?;
    // Per candidate document: score and shared keys.
    let mut cand: HashMap<i64, Candidate> = HashMap::new();
    for key in &f.keys {
        let Some(w) = key_weight(key, index.doc_freq(key)?, n, cfg) else {
            continue;
        };
        let postings = index.postings(
            key,
            from - cfg.max_span_days - cfg.max_gap_days,
            until + cfg.max_gap_days,
            from - cfg.max_gap_days,
            cfg.max_postings,
        )?;
        for p in postings {
            let c = cand.entry(p.doc).or_insert(Candidate {
                case: p.case,
                score: 0.0,
                shared: Vec::new(),
                from: p.from,
                until: p.until,
            });
            c.score += w;
            c.shared.push(key);
        }
    }
    let mut ranked: Vec<(i64, Candidate)> = cand.into_iter().collect();
    ranked.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(a.0.cmp(&b.0)));
    let mut cases: BTreeMap<i64, (f64, Vec<String>)> = BTreeMap::new();
    for (doc, c) in ranked.into_iter().take(32) {
        let Candidate {
            case,
            score,
            shared,
            from: pf,
            until: pu,
        } = c;
        let gap = (pf - until).max(from - pu);
        if gap > cfg.max_gap_days || score < cfg.min_score {
            continue;
        }
        if !shares_enough(&shared) {
            continue;
        }
        // A shared venue or person places the documents together; otherwise
        // their cities (or countries) must agree.
        let pinned = shared
            .iter()
            .any(|k| k.starts_with("venue:") || k.starts_with("person:"));
        if !pinned && !places_agree(&f.places, &index.places(doc)?) {
            continue;
        }
        let c = cases.entry(case).or_insert((0.0, Vec::new()));
        c.0 = c.0.max(score);
        for k in shared {
            if !c.1.iter().any(|x| x == k) {
                c.1.push(k.to_string());
            }
        }
    }
    Ok(cases
        .into_iter()
        .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0).then(b.0.cmp(&a.0)))
        .map(|(case, (score, shared))| Decision {
            case: Some(case),
            score,
            shared,
        })
        .unwrap_or_default())
}

struct Candidate<'a> {
    case: i64,
    score: f64,
    shared: Vec<&'a str>,
    from: i64,
    until: i64,
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
        let mut best: HashMap<Casualty, (u64, i64, i64, String, String)> = HashMap::new();
        for e in x.of(EntityKind::Casualty) {
            let Some(f) = &e.figure else { continue };
            let (lo, hi) = match (f.min, f.max, f.exact) {
                (Some(m), _, _) => (m as i64, i64::MAX),
                (_, Some(m), _) if f.approximate => ((m as i64) * 9 / 10, m as i64),
                (_, Some(m), _) => (0, m as i64),
                (_, _, Some(v)) if f.approximate => ((v as i64) * 9 / 10, (v as i64) * 11 / 10),
                (_, _, Some(v)) => (v as i64, v as i64),
                _ => continue,
            };
            let text = match (f.min, f.max, f.exact) {
                (Some(m), _, _) => format!("at least {m}"),
                (_, Some(m), _) => format!("up to {m}"),
                (_, _, Some(v)) if f.approximate => format!("about {v}"),
                _ => f.value.to_string(),
            };
            let slot = best
                .entry(f.counts)
                .or_insert((0, 0, 0, String::new(), String::new()));
            if f.value > slot.0 {
                *slot = (f.value, lo, hi, text, e.text.clone());
            }
        }
        let mut best: Vec<_> = best.into_iter().collect();
        best.sort_by_key(|(k, _)| *k as u8);
        for (kind, (_, lo, hi, text, ev)) in best {
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

/// An in-memory [`Index`], for tests and benchmarks.
#[derive(Debug, Default)]
pub struct MemoryIndex {
    docs: Vec<(i64, Features)>,
    by_key: HashMap<String, Vec<usize>>,
    next_case: i64,
}

impl MemoryIndex {
    /// Links a document and stores it; returns its case.
    pub fn add(&mut self, f: Features, cfg: &Config) -> (i64, Decision) {
        let d = match link(self, &f, cfg) {
            Ok(d) => d,
            Err(never) => match never {},
        };
        let case = d.case.unwrap_or_else(|| {
            self.next_case += 1;
            self.next_case
        });
        let i = self.docs.len();
        for k in &f.keys {
            self.by_key.entry(k.clone()).or_default().push(i);
        }
        self.docs.push((case, f));
        (case, d)
    }
}

impl Index for MemoryIndex {
    type Error = std::convert::Infallible;
    fn doc_count(&self) -> Result<u64, Self::Error> {
        Ok(self.docs.len() as u64)
    }
    fn doc_freq(&self, key: &str) -> Result<u64, Self::Error> {
        Ok(self.by_key.get(key).map_or(0, |v| v.len() as u64))
    }
    fn postings(
        &self,
        key: &str,
        from_min: i64,
        from_max: i64,
        until_min: i64,
        limit: usize,
    ) -> Result<Vec<Posting>, Self::Error> {
        Ok(self
            .by_key
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|&i| {
                let (case, f) = &self.docs[i];
                let (from, until) = (f.from?, f.until?);
                (from >= from_min && from <= from_max && until >= until_min).then_some(Posting {
                    doc: i as i64,
                    case: *case,
                    from,
                    until,
                })
            })
            .take(limit)
            .collect())
    }
    fn places(&self, doc: i64) -> Result<Vec<String>, Self::Error> {
        Ok(self
            .docs
            .get(doc as usize)
            .map(|d| d.1.places.clone())
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
