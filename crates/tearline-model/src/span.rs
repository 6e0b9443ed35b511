//! Annotated spans: `[text]{kind sub="..." level=LEVEL}`.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::Level;

/// What an annotated span names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SpanKind {
    /// An armed group or threat actor.
    Actor,
    /// A named person.
    Person,
    /// An organisation.
    Org,
    /// A place: country, region, city or district.
    Place,
    /// A venue or facility.
    Venue,
    /// What is targeted.
    Target,
    /// A time or time window.
    Time,
    /// A collection method (protected).
    Method,
    /// A source (protected).
    Source,
    /// A weapon or means of attack.
    Weapon,
    /// A kind the format does not define; `check` reports it and `release`
    /// refuses the report until it is fixed.
    Unknown(String),
}

impl SpanKind {
    /// Every kind the format defines.
    pub const KNOWN: [SpanKind; 10] = [
        SpanKind::Actor,
        SpanKind::Person,
        SpanKind::Org,
        SpanKind::Place,
        SpanKind::Venue,
        SpanKind::Target,
        SpanKind::Time,
        SpanKind::Method,
        SpanKind::Source,
        SpanKind::Weapon,
    ];

    /// Parses a kind name; unknown names are kept as [`SpanKind::Unknown`].
    pub fn from_name(name: &str) -> SpanKind {
        match name.to_ascii_lowercase().as_str() {
            "actor" => SpanKind::Actor,
            "person" => SpanKind::Person,
            "org" => SpanKind::Org,
            "place" => SpanKind::Place,
            "venue" => SpanKind::Venue,
            "target" => SpanKind::Target,
            "time" => SpanKind::Time,
            "method" => SpanKind::Method,
            "source" => SpanKind::Source,
            "weapon" => SpanKind::Weapon,
            _ => SpanKind::Unknown(name.to_string()),
        }
    }

    /// The kind's name as written in reports.
    pub fn name(&self) -> &str {
        match self {
            SpanKind::Actor => "actor",
            SpanKind::Person => "person",
            SpanKind::Org => "org",
            SpanKind::Place => "place",
            SpanKind::Venue => "venue",
            SpanKind::Target => "target",
            SpanKind::Time => "time",
            SpanKind::Method => "method",
            SpanKind::Source => "source",
            SpanKind::Weapon => "weapon",
            SpanKind::Unknown(n) => n,
        }
    }

    /// Sources and methods are protected: an audience that may not see
    /// sources always gets a substitute.
    pub fn is_protected(&self) -> bool {
        matches!(self, SpanKind::Source | SpanKind::Method)
    }

    /// What an audience gets for a span of this kind when the writer gave
    /// no `sub`.
    pub fn generic_substitute(&self) -> &'static str {
        match self {
            SpanKind::Actor => "a group",
            SpanKind::Person => "an individual",
            SpanKind::Org => "an organisation",
            SpanKind::Place => "a location",
            SpanKind::Venue => "a venue",
            SpanKind::Target => "a target",
            SpanKind::Time => "an unspecified time",
            SpanKind::Method => "reporting",
            SpanKind::Source => "a source",
            SpanKind::Weapon => "a weapon",
            SpanKind::Unknown(_) => "[withheld]",
        }
    }
}

impl fmt::Display for SpanKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for SpanKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One annotated span inside a portion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    pub(crate) number: usize,
    pub(crate) kind: SpanKind,
    pub(crate) text: String,
    pub(crate) sub: Option<String>,
    pub(crate) level: Option<Level>,
    pub(crate) offset: usize,
}

impl Span {
    /// The span's number in the report, counting from 1.
    pub fn number(&self) -> usize {
        self.number
    }
    /// What the span names.
    pub fn kind(&self) -> &SpanKind {
        &self.kind
    }
    /// The original text between the brackets.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The writer's substitute for lower audiences (`sub="..."`).
    pub fn sub(&self) -> Option<&str> {
        self.sub.as_deref()
    }
    /// The lowest level that may see the original (`level=...`).
    pub fn level(&self) -> Option<Level> {
        self.level
    }
    /// Byte offset of the opening `[` in the report source.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The level an audience needs to see the original text: the explicit
    /// `level`, else TLP:RED when a `sub` is given without one (a
    /// substitute with no level protects the original from everyone below
    /// the top), else no constraint beyond the portion's own marking.
    pub fn required_level(&self) -> Option<Level> {
        match (self.level, &self.sub) {
            (Some(l), _) => Some(l),
            (None, Some(_)) => Some(Level::Red),
            (None, None) => None,
        }
    }

    /// What an audience that may not see the original gets.
    pub fn substitute(&self) -> &str {
        self.sub
            .as_deref()
            .unwrap_or_else(|| self.kind.generic_substitute())
    }
}
