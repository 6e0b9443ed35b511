//! Casualty figures and their qualifiers.
//!
//! "at least 143 killed", "over 140 dead", "more than 100 injured",
//! "killing 12", "the death toll rose to 137": each becomes a figure of
//! a kind (killed or injured) with a lower bound, an upper bound, or an
//! exact value, and whether the source called it approximate.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::numbers::CARDINALS;
use crate::text::{re, whole_words};

/// What a casualty figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Casualty {
    /// Dead.
    Killed,
    /// Injured or wounded.
    Injured,
}

/// A casualty figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    /// What it counts.
    pub counts: Casualty,
    /// The stated number.
    pub value: u64,
    /// At least this many ("at least", "more than", "over").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u64>,
    /// At most this many ("up to", "nearly", "fewer than").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
    /// Exactly this many (no qualifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<u64>,
    /// "about", "around", "some".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub approximate: bool,
    /// More than `min`, not `min` itself ("over 140", "more than 100").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
    /// Stated as an update of an earlier figure ("rose to 137", "was
    /// revised to 253").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub update: bool,
}

pub(crate) struct Found {
    pub start: usize,
    pub end: usize,
    pub figure: Figure,
}

const QUAL: &str = r"at\s+least|more\s+than|over|upwards\s+of|as\s+many\s+as|up\s+to|nearly|almost|fewer\s+than|less\s+than|at\s+most|about|around|approximately|roughly|some|an\s+estimated|au\s+moins|plus\s+de|près\s+de|environ|mindestens|mehr\s+als|fast|etwa|rund|al\s+menos|más\s+de|casi|unos|не\s+менее|более|почти|около";
const NUM: &str = r"\d{1,3}(?:[,.\s]\d{3})+|\d+|один|два|две|три|четыре|пять|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|a\s+dozen|dozens|hundreds";
const WHO: &str = r"(?:сотрудника|сотрудников|people|persons|civilians|others|victims|attackers|gunmen|militants|fighters|assailants|members|staff|service\s+members|Afghans|worshippers|concertgoers|concert-goers|spectators|visitors|children|soldiers|police\s+officers|officers|policemen|personnes|Menschen|personas|человек)";
const KILLED: &str = r"killed|dead|died|deaths|fatalities|lives\s+lost|morts|tués|Tote|getötet|muertos|fallecidos|погибли|погибших|убиты|жертв";
const INJURED: &str = r"injured|wounded|hurt|injuries|blessés|Verletzte|verletzt|heridos|ранены|раненых|пострадали|пострадавших";

static RE: LazyLock<Regex> = LazyLock::new(|| {
    let a = format!(
        r"(?:(?P<q1>{QUAL})\s+)?(?P<n1>{NUM})\s+(?:{WHO}\s+)?(?:(?:were|was|have\s+been|had\s+been|are|sont|wurden|han\s+sido|были)\s+)?(?:(?:reported|confirmed|feared)\s+)?(?P<k1>{KILLED}|{INJURED})"
    );
    let b = format!(
        r"(?P<k2>killing|killed|injuring|injured|wounding|wounded|leaving|погибли|погибло|погиб|убиты|ранены|пострадали)\s+(?:(?P<q2>{QUAL})\s+)?(?P<n2>{NUM})(?:\s+{WHO})?(?:\s+(?P<k2b>dead|injured|wounded))?"
    );
    let c = format!(
        r"(?P<k3>death\s+toll|toll|number\s+of\s+(?:dead|injured|wounded)|Zahl\s+der\s+(?:Toten|Verletzten))(?:\s+(?:in|from|of|after)\s+[^.;:\d]{{0,80}}?)?\s+(?:has\s+|had\s+|was\s+)?(?:(?:rose|risen|rises|climbed|stands|stood|increased|revised\s+(?:up|down)|fell|stieg)\s+(?:to|at|auf)|reached|hit|is|was)\s+(?:(?P<q3>{QUAL})\s+)?(?P<n3>{NUM})"
    );
    // Boundaries are checked by `find` (see dates.rs).
    re(&format!(r"(?i)(?:{c}|{b}|{a})"))
});

/// Finds every casualty figure in `text`.
pub(crate) fn find(text: &str) -> Vec<Found> {
    let mut out = Vec::new();
    for c in RE.captures_iter(text) {
        let Some(m) = c.get(0) else { continue };
        if !whole_words(text, m.start(), m.end()) {
            continue;
        }
        let (q, n, kind) = if let Some(n) = c.name("n3") {
            let k = c
                .name("k3")
                .map(|k| k.as_str().to_lowercase())
                .unwrap_or_default();
            let kind = if k.contains("injured") || k.contains("wounded") || k.contains("verletzt") {
                Casualty::Injured
            } else {
                Casualty::Killed
            };
            (c.name("q3"), n.as_str(), kind)
        } else if let Some(n) = c.name("n2") {
            let k = c
                .name("k2")
                .map(|k| k.as_str().to_lowercase())
                .unwrap_or_default();
            let kb = c.name("k2b").map(|k| k.as_str().to_lowercase());
            let kind = match (k.as_str(), kb.as_deref()) {
                ("leaving", Some("dead")) => Casualty::Killed,
                ("leaving", Some(_)) => Casualty::Injured,
                ("leaving", None) => continue,
                (k, _)
                    if k.starts_with("kill") || k.starts_with("погиб") || k.starts_with("убит") =>
                {
                    Casualty::Killed
                }
                _ => Casualty::Injured,
            };
            (c.name("q2"), n.as_str(), kind)
        } else if let Some(n) = c.name("n1") {
            let k = c
                .name("k1")
                .map(|k| k.as_str().to_lowercase())
                .unwrap_or_default();
            let kind = if INJURED.split('|').any(|w| w.to_lowercase() == k) {
                Casualty::Injured
            } else {
                Casualty::Killed
            };
            (c.name("q1"), n.as_str(), kind)
        } else {
            continue;
        };
        let Some(value) = parse_number(n) else {
            continue;
        };
        // Years and clock times are not casualty counts.
        if (1900..=2100).contains(&value) && !n.contains(',') && q.is_none() {
            continue;
        }
        let q = q.map(|q| {
            q.as_str()
                .to_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        });
        let mut figure = Figure {
            counts: kind,
            value,
            min: None,
            max: None,
            exact: None,
            approximate: false,
            strict: false,
            update: false,
        };
        let vague = matches!(n.to_lowercase().as_str(), "dozens" | "hundreds");
        match q.as_deref() {
            None if vague => {
                figure.min = Some(value);
                figure.approximate = true;
            }
            None => figure.exact = Some(value),
            Some("at least" | "au moins" | "mindestens" | "al menos" | "не менее") => {
                figure.min = Some(value)
            }
            Some(
                "more than" | "over" | "upwards of" | "plus de" | "mehr als" | "más de" | "более",
            ) => {
                figure.min = Some(value);
                figure.strict = true;
            }
            Some("up to" | "as many as" | "fewer than" | "less than" | "at most") => {
                figure.max = Some(value)
            }
            Some("nearly" | "almost" | "près de" | "fast" | "casi" | "почти") => {
                figure.max = Some(value);
                figure.approximate = true;
            }
            Some(_) => {
                figure.exact = Some(value);
                figure.approximate = true;
            }
        }
        out.push(Found {
            start: m.start(),
            end: m.end(),
            figure,
        });
    }
    out
}

fn parse_number(n: &str) -> Option<u64> {
    let n = n.to_lowercase();
    let vague: &[(&str, u64)] = &[("dozens", 24), ("hundreds", 200)];
    if let Some(&(_, v)) = CARDINALS.iter().chain(vague).find(|(w, _)| *w == n) {
        return Some(v);
    }
    if n.split_whitespace().collect::<Vec<_>>() == ["a", "dozen"] {
        return Some(12);
    }
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figs(t: &str) -> Vec<String> {
        find(t)
            .into_iter()
            .map(|f| {
                let g = f.figure;
                let b = match (g.min, g.max, g.exact) {
                    (Some(v), _, _) => format!(">={v}"),
                    (_, Some(v), _) => format!("<={v}"),
                    (_, _, Some(v)) => format!("={v}"),
                    _ => "?".into(),
                };
                format!("{:?}{b}", g.counts)
            })
            .collect()
    }

    #[test]
    fn figures_with_qualifiers() {
        assert_eq!(figs("at least 143 people were killed"), ["Killed>=143"]);
        assert_eq!(
            figs("over 140 dead and more than 100 injured"),
            ["Killed>=140", "Injured>=100"]
        );
        assert_eq!(
            figs("The death toll rose to 145 on Monday."),
            ["Killed=145"]
        );
        assert_eq!(
            figs("killing 12 and wounding up to 30 people"),
            ["Killed=12", "Injured<=30"]
        );
        assert_eq!(figs("au moins 143 morts"), ["Killed>=143"]);
        assert_eq!(figs("In 2024 killed"), Vec::<String>::new());
        assert_eq!(figs("1,200 injured"), ["Injured=1200"]);
        assert_eq!(figs("погибли два сотрудника"), ["Killed=2"]);
        assert_eq!(
            figs("the death toll from the bombing at Kabul airport rose to about 170"),
            ["Killed=170"]
        );
    }
}
