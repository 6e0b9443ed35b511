//! Audiences and the protected-term registry.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Level;

/// A named recipient class: the highest level it may receive and whether it
/// may see sources and methods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    name: String,
    max: Level,
    #[serde(default)]
    sources: bool,
}

/// An audience definition that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudienceError {
    /// Names are lower-case letters, digits, `-` and `_`, starting with a
    /// letter.
    #[error("invalid audience name `{0}`: use lower-case letters, digits, `-` and `_`, starting with a letter")]
    BadName(String),
}

impl Audience {
    /// A new audience. The name is lower-cased.
    pub fn new(name: &str, max: Level, sources: bool) -> Result<Audience, AudienceError> {
        let name = name.trim().to_lowercase();
        let mut chars = name.chars();
        let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !ok {
            return Err(AudienceError::BadName(name));
        }
        Ok(Audience { name, max, sources })
    }

    /// The three audiences of a new node: `internal` (up to TLP:RED, may see
    /// sources), `liaison` (up to TLP:AMBER) and `public` (TLP:CLEAR only).
    pub fn defaults() -> Vec<Audience> {
        vec![
            Audience {
                name: "internal".into(),
                max: Level::Red,
                sources: true,
            },
            Audience {
                name: "liaison".into(),
                max: Level::Amber,
                sources: false,
            },
            Audience {
                name: "public".into(),
                max: Level::Clear,
                sources: false,
            },
        ]
    }

    /// The audience's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The highest level it may receive.
    pub fn max(&self) -> Level {
        self.max
    }
    /// Whether it may see sources, methods and registry terms. Such an
    /// audience is the node's own staff: `REL TO` lists, which name outside
    /// recipients, do not restrict it.
    pub fn sees_sources(&self) -> bool {
        self.sources
    }
}

/// What a registered protected term is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TermKind {
    /// A source code name.
    Source,
    /// A collection method.
    Method,
    /// An asset.
    Asset,
    /// A case or operation name.
    Case,
}

impl TermKind {
    /// The kind's name.
    pub fn name(self) -> &'static str {
        match self {
            TermKind::Source => "source",
            TermKind::Method => "method",
            TermKind::Asset => "asset",
            TermKind::Case => "case",
        }
    }

    /// What a release gets in place of a term of this kind.
    pub fn generic_substitute(self) -> &'static str {
        match self {
            TermKind::Source => "a source",
            TermKind::Method => "reporting",
            TermKind::Asset => "an asset",
            TermKind::Case => "an investigation",
        }
    }
}

impl fmt::Display for TermKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TermKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "source" => Ok(TermKind::Source),
            "method" => Ok(TermKind::Method),
            "asset" => Ok(TermKind::Asset),
            "case" => Ok(TermKind::Case),
            _ => Err(format!(
                "unknown term kind `{s}`: expected source, method, asset or case"
            )),
        }
    }
}

/// A term registered at the node that never appears in a release to an
/// audience that may not see sources.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProtectedTerm {
    /// The term as registered.
    pub term: String,
    /// What it is.
    pub kind: TermKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audience_names_are_checked() {
        assert!(Audience::new("Liaison", Level::Amber, false).is_ok());
        assert_eq!(
            Audience::new("Liaison", Level::Amber, false)
                .unwrap()
                .name(),
            "liaison"
        );
        assert!(Audience::new("9x", Level::Amber, false).is_err());
        assert!(Audience::new("a b", Level::Amber, false).is_err());
        assert!(Audience::new("", Level::Amber, false).is_err());
    }
}
