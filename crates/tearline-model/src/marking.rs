//! TLP 2.0 levels and portion markings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A TLP 2.0 level. The order is the order of sensitivity:
/// `Clear < Green < Amber < AmberStrict < Red`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    /// TLP:CLEAR — no limit on disclosure.
    #[serde(rename = "TLP:CLEAR")]
    Clear,
    /// TLP:GREEN — the recipient's community.
    #[serde(rename = "TLP:GREEN")]
    Green,
    /// TLP:AMBER — the recipient's organisation and its clients.
    #[serde(rename = "TLP:AMBER")]
    Amber,
    /// TLP:AMBER+STRICT — the recipient's organisation only.
    #[serde(rename = "TLP:AMBER+STRICT")]
    AmberStrict,
    /// TLP:RED — named recipients only.
    #[serde(rename = "TLP:RED")]
    Red,
}

impl Level {
    /// Every level, least sensitive first.
    pub const ALL: [Level; 5] = [
        Level::Clear,
        Level::Green,
        Level::Amber,
        Level::AmberStrict,
        Level::Red,
    ];

    /// The name after `TLP:`, e.g. `AMBER+STRICT`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Clear => "CLEAR",
            Level::Green => "GREEN",
            Level::Amber => "AMBER",
            Level::AmberStrict => "AMBER+STRICT",
            Level::Red => "RED",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLP:{}", self.name())
    }
}

/// A level name that is not TLP 2.0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkingError {
    /// The text is not one of the five TLP 2.0 levels.
    #[error("unknown marking `{0}`: expected TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT or TLP:RED")]
    UnknownLevel(String),
    /// TLP 1.0's WHITE, renamed CLEAR in TLP 2.0.
    #[error("unknown marking `{0}`: TLP 2.0 calls this level TLP:CLEAR")]
    White(String),
}

impl FromStr for Level {
    type Err = MarkingError;

    /// Accepts `AMBER`, `TLP:AMBER`, any case, with or without spaces
    /// (`tlp : amber + strict`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let upper: String = t
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bare = upper.strip_prefix("TLP:").unwrap_or(&upper);
        match bare {
            "CLEAR" => Ok(Level::Clear),
            "GREEN" => Ok(Level::Green),
            "AMBER" => Ok(Level::Amber),
            "AMBER+STRICT" => Ok(Level::AmberStrict),
            "RED" => Ok(Level::Red),
            "WHITE" => Err(MarkingError::White(t.to_string())),
            _ => Err(MarkingError::UnknownLevel(t.to_string())),
        }
    }
}

/// The marking of one portion: a level, optionally restricted to named
/// audiences (`REL TO`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marking {
    level: Level,
    rel_to: Vec<String>,
}

impl Marking {
    /// A marking; audience names in `rel_to` are compared case-insensitively
    /// and stored in lower case.
    pub fn new(level: Level, rel_to: Vec<String>) -> Marking {
        let rel_to = rel_to
            .into_iter()
            .map(|mut n| {
                // In place when it can be: a list may hold many names.
                if n.is_ascii() {
                    n.make_ascii_lowercase();
                    n
                } else {
                    n.to_lowercase()
                }
            })
            .collect();
        Marking { level, rel_to }
    }

    /// The TLP level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The audiences named after `REL TO`; empty when the portion is not
    /// restricted.
    pub fn rel_to(&self) -> &[String] {
        &self.rel_to
    }
}

impl fmt::Display for Marking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.level)?;
        if !self.rel_to.is_empty() {
            write!(f, "//REL TO {}", self.rel_to.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_order() {
        assert_eq!("tlp:amber+strict".parse::<Level>(), Ok(Level::AmberStrict));
        assert_eq!("RED".parse::<Level>(), Ok(Level::Red));
        assert_eq!(
            " tlp : Amber + Strict ".parse::<Level>(),
            Ok(Level::AmberStrict)
        );
        assert!(matches!(
            "TLP:WHITE".parse::<Level>(),
            Err(MarkingError::White(_))
        ));
        assert!(matches!(
            "PURPLE".parse::<Level>(),
            Err(MarkingError::UnknownLevel(_))
        ));
        assert!(Level::Clear < Level::Green && Level::Amber < Level::AmberStrict);
        assert_eq!(Level::AmberStrict.to_string(), "TLP:AMBER+STRICT");
    }

    #[test]
    fn marking_display_round_trips_rel_to() {
        let m = Marking::new(Level::Amber, vec!["Liaison".into(), "partner-b".into()]);
        assert_eq!(m.to_string(), "TLP:AMBER//REL TO liaison, partner-b");
    }
}
