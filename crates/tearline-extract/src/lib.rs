//! Tearline's reader: free text in, entities out.
//!
//! Reports arrive as free text — liaison cables, analysts' notes, news
//! articles in several languages. This crate reads them into entities that
//! the rest of Tearline can count, compare and link: armed groups (one
//! canonical entity across all their aliases, kept apart from their parent
//! movement), people with the role stated next to them, organisations,
//! places with their kind and parent, target types, dates and validity
//! windows resolved against the publication date, casualty figures with
//! their qualifiers, and attributed statements (who said, claimed or
//! blamed what, according to whom). Groups the knowledge base does not know
//! are discovered from the way the text introduces them ("an IS offshoot
//! known as ...").
//!
//! # Design
//! * **A knowledge base, not a model.** The gazetteers ship as data files
//!   (`data/*.tsv`, each with its provenance) compiled into the binary.
//!   Every name of every entry is one pattern of a single Aho-Corasick
//!   automaton run over a case- and diacritic-folded copy of the text, so
//!   the cost of a lookup does not grow with the size of the gazetteer.
//! * **Rules over the original text** find what no list can hold: people
//!   next to their role, venues named only in the text, dates, figures.
//!   They are regular expressions with literal prefixes, so the scan stays
//!   at tens of megabytes a second.
//! * **Pure.** No I/O: text and publication date in, [`Extraction`] out.
//!
//! # Example
//! ```
//! use tearline_extract::{extract, Context, EntityKind};
//! let ctx = Context::published("2024-03-23").unwrap();
//! let x = extract("ISIS-K claimed the attack on Crocus City Hall in Krasnogorsk on Friday.", &ctx);
//! let group = x.entities.iter().find(|e| e.kind == EntityKind::Group).unwrap();
//! assert_eq!(group.id, "group:is-k");
//! let day = x.entities.iter().find(|e| e.kind == EntityKind::Date).unwrap();
//! assert_eq!(day.date.as_deref(), Some("2024-03-22"));
//! ```
#![deny(missing_docs)]

mod boiler;
mod dates;
mod events;
mod figures;
mod fold;
mod gate;
mod kb;
mod numbers;
mod rules;
mod text;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use figures::{Casualty, Figure};
pub use kb::{slug, Kb, KbEntry, KbError, Sources};

/// What an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    /// An armed group or movement.
    Group,
    /// A person.
    Person,
    /// An organisation: agency, ministry, embassy, media outlet.
    Org,
    /// A place (see [`PlaceKind`]).
    Place,
    /// A type of target: concerts, places of worship, airports.
    Target,
    /// A day.
    Date,
    /// A time window.
    Window,
    /// A casualty figure.
    Casualty,
    /// An attributed statement.
    Statement,
}

impl EntityKind {
    /// Every kind, in display order.
    pub const ALL: [EntityKind; 9] = [
        EntityKind::Group,
        EntityKind::Person,
        EntityKind::Org,
        EntityKind::Place,
        EntityKind::Target,
        EntityKind::Date,
        EntityKind::Window,
        EntityKind::Casualty,
        EntityKind::Statement,
    ];

    /// The kind's name as written in JSON and gold files.
    pub fn name(self) -> &'static str {
        match self {
            EntityKind::Group => "group",
            EntityKind::Person => "person",
            EntityKind::Org => "org",
            EntityKind::Place => "place",
            EntityKind::Target => "target",
            EntityKind::Date => "date",
            EntityKind::Window => "window",
            EntityKind::Casualty => "casualty",
            EntityKind::Statement => "statement",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// What kind of place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlaceKind {
    /// A named venue: a concert hall, a stadium, a mall.
    Venue,
    /// A facility: an airport, a station, an embassy building.
    Facility,
    /// A district of a city.
    District,
    /// A city.
    City,
    /// A first-level region (oblast, province, state).
    Region,
    /// A country.
    Country,
}

/// What is known about a text before it is read.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// When it was published: relative dates are resolved against it.
    pub published: Option<NaiveDate>,
    /// Its language (ISO 639-1), if known.
    pub lang: Option<String>,
}

impl Context {
    /// A context with a publication date written `YYYY-MM-DD` (a longer
    /// timestamp is cut to its date).
    pub fn published(date: &str) -> Option<Context> {
        let d = date.get(..10).unwrap_or(date);
        Some(Context {
            published: Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?),
            lang: None,
        })
    }
}

/// One entity found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// Character offset where it starts.
    pub start: usize,
    /// Character offset one past its end.
    pub end: usize,
    /// Byte offset (UTF-8) where it starts.
    pub byte_start: usize,
    /// Byte offset one past its end.
    pub byte_end: usize,
    /// What it is.
    #[serde(rename = "type")]
    pub kind: EntityKind,
    /// The surface form in the text.
    pub text: String,
    /// The canonical id (`group:is-k`, `city:524901`, `date:2024-03-22`).
    pub id: String,
    /// The canonical name.
    pub name: String,
    /// For places: which kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_kind: Option<PlaceKind>,
    /// The parent's id: a group's movement, a place's region or country, a
    /// venue's city.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The parent's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_name: Option<String>,
    /// ISO country code of a place or organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// A person's role as the text states it; an organisation's kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Part of the day ("early hours", "evening").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_of_day: Option<String>,
    /// A window's first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// A window's last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// A window's grain: hours, days, weeks, months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grain: Option<String>,
    /// A casualty figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub figure: Option<Figure>,
    /// A statement's speaker (entity id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// A statement's source ("according to"), entity id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub according_to: Option<String>,
    /// A statement's act: said, claimed, blamed, denied, warned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<String>,
    /// Who a claim or blame is about (entity id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// How the text introduced a group the knowledge base does not know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Entity {
    pub(crate) fn new(
        byte_start: usize,
        byte_end: usize,
        kind: EntityKind,
        text: &str,
        id: String,
        name: String,
    ) -> Entity {
        Entity {
            start: 0,
            end: 0,
            byte_start,
            byte_end,
            kind,
            text: text.to_string(),
            id,
            name,
            place_kind: None,
            parent: None,
            parent_name: None,
            country: None,
            role: None,
            date: None,
            part_of_day: None,
            from: None,
            until: None,
            grain: None,
            figure: None,
            speaker: None,
            according_to: None,
            act: None,
            about: None,
            description: None,
        }
    }

    /// A warning window stated outside the text — a report's front matter,
    /// a received warning's validity — from `from` (if given) to `until`
    /// (`YYYY-MM-DD`). `said` names where it was stated.
    pub fn stated_window(from: Option<&str>, until: &str, said: &str) -> Entity {
        let name = format!("{}..{until}", from.unwrap_or("?"));
        let mut e = Entity::new(
            0,
            0,
            EntityKind::Window,
            said,
            format!("window:{name}"),
            name,
        );
        e.from = from.map(str::to_string);
        e.until = Some(until.to_string());
        e.grain = Some("stated".into());
        e
    }
}

pub use boiler::{boilerplate, headline};

/// The `about` of a casualty figure that concerns another event than the
/// one the text reports (an earlier attack mentioned for comparison).
pub const OTHER_EVENT: &str = "event:other";

impl Entity {
    /// A group a document names outside its text — a MISP galaxy cluster,
    /// a `threat-actor` attribute — by `name` or one of its `synonyms`: the
    /// knowledge base's group when it knows one of the names (the name
    /// first), else a group of its own (`group:new:...`), as a group
    /// discovered in a text is. Its surface form is `name`.
    pub fn stated_group(name: &str, synonyms: &[String]) -> Entity {
        let kb = Kb::builtin();
        let known = std::iter::once(name)
            .chain(synonyms.iter().map(String::as_str))
            .find_map(|n| kb.group_named(n));
        match known {
            Some(k) => {
                let mut e =
                    Entity::new(0, 0, EntityKind::Group, name, k.id.clone(), k.name.clone());
                e.parent = k.parent.clone();
                e.parent_name = k
                    .parent
                    .as_deref()
                    .and_then(|p| kb.get(p))
                    .map(|p| p.name.clone());
                e
            }
            None => {
                let mut e = Entity::new(
                    0,
                    0,
                    EntityKind::Group,
                    name,
                    format!("group:new:{}", slug(name)),
                    name.trim().to_string(),
                );
                e.description = Some("named outside the text".into());
                e
            }
        }
    }
}

/// Everything read from one text.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Extraction {
    /// Every entity, in text order (statements after the entities they
    /// contain).
    pub entities: Vec<Entity>,
}

impl Extraction {
    /// Entities of one kind.
    pub fn of(&self, kind: EntityKind) -> impl Iterator<Item = &Entity> {
        self.entities.iter().filter(move |e| e.kind == kind)
    }
}

/// Reads `text` with the shipped knowledge base.
pub fn extract(text: &str, ctx: &Context) -> Extraction {
    extract_with(Kb::builtin(), text, ctx)
}

/// Reads `text` with a given knowledge base.
pub fn extract_with(kb: &Kb, text: &str, ctx: &Context) -> Extraction {
    let mut entities = rules::read(kb, text, ctx);
    char_offsets(text, &mut entities);
    Extraction { entities }
}

/// Fills the character offsets from the byte offsets, in one walk over the
/// text whatever the number of entities.
fn char_offsets(text: &str, entities: &mut [Entity]) {
    let mut marks: Vec<usize> = entities
        .iter()
        .flat_map(|e| [e.byte_start, e.byte_end])
        .collect();
    marks.sort_unstable();
    marks.dedup();
    let mut chars_at = Vec::with_capacity(marks.len());
    let (mut chars, mut prev) = (0usize, 0usize);
    for &m in &marks {
        let m = m.min(text.len());
        let seg = text.get(prev..m).unwrap_or("");
        // ASCII runs count bytes; only other text needs a char walk.
        chars += if seg.is_ascii() {
            seg.len()
        } else {
            seg.chars().count()
        };
        prev = m;
        chars_at.push(chars);
    }
    let at = |b: usize| marks.binary_search(&b).map_or(0, |i| chars_at[i]);
    for e in entities {
        e.start = at(e.byte_start);
        e.end = at(e.byte_end);
    }
}

#[cfg(test)]
mod stated_tests {
    use super::*;

    #[test]
    fn a_stated_group_is_the_known_group_by_any_name_else_a_group_of_its_own() {
        let e = Entity::stated_group("Islamic State Khorasan Province", &[]);
        assert_eq!(
            (e.id.as_str(), e.parent.as_deref()),
            ("group:is-k", Some("group:is"))
        );
        assert_eq!(e.text, "Islamic State Khorasan Province");
        // Known by a synonym only.
        let e = Entity::stated_group("Khorasan branch", &["ISIS-K".to_string()]);
        assert_eq!(e.id, "group:is-k");
        assert_eq!(e.text, "Khorasan branch");
        // An acronym counts only as written: "is" is not the Islamic State.
        assert_eq!(Entity::stated_group("IS", &[]).id, "group:is");
        assert_eq!(Entity::stated_group("is", &[]).id, "group:new:is");
        let e = Entity::stated_group("Sandworm", &["Voodoo Bear".to_string()]);
        assert_eq!(
            (e.id.as_str(), e.name.as_str()),
            ("group:new:sandworm", "Sandworm")
        );
        assert_eq!(e.kind, EntityKind::Group);
    }
}
