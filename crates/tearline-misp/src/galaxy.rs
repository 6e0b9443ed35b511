//! MISP galaxy clusters that name groups, from the shipped mapping
//! (`data/galaxy-clusters.tsv`, built by `scripts/gen-misp-galaxy.py` from
//! MISP/misp-galaxy).

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// A MISP galaxy whose clusters name groups.
#[derive(Debug, PartialEq, Eq)]
pub struct Galaxy {
    /// Its type, which is also the namespace of its tags
    /// (`misp-galaxy:TYPE="VALUE"`).
    pub kind: &'static str,
    /// Its UUID in MISP/misp-galaxy (`galaxies/*.json`).
    pub uuid: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Its namespace.
    pub namespace: &'static str,
    /// Its description.
    pub description: &'static str,
    /// The version of its galaxy definition.
    pub version: &'static str,
}

/// The galaxies of the shipped mapping: MISP's threat actors, and the
/// terrorist entities listed by Canada (the one MISP galaxy that holds the
/// designated groups Tearline's knowledge base knows).
pub const GALAXIES: [Galaxy; 2] = [
    Galaxy {
        kind: "threat-actor",
        uuid: "698774c7-8022-42c4-917f-8d6e4f06ada3",
        name: "Threat Actor",
        namespace: "misp",
        description: "Threat actors are characteristics of malicious actors (or adversaries) representing a cyber attack threat including presumed intent and historically observed behaviour.",
        version: "3",
    },
    Galaxy {
        kind: "canada-listed-terrorist-entities",
        uuid: "14804140-18e2-478e-a608-f9929006cc4f",
        name: "Canada Listed Terrorist Entities",
        namespace: "ca",
        description: "Entities listed under Canada's Criminal Code as terrorist entities.",
        version: "1",
    },
];

/// One galaxy cluster.
#[derive(Debug)]
pub struct Cluster {
    /// The galaxy it belongs to.
    pub galaxy: &'static Galaxy,
    /// Its UUID.
    pub uuid: String,
    /// Its value (its name in MISP).
    pub value: String,
    names: Vec<String>,
}

impl Cluster {
    /// The MISP tag that attaches it: `misp-galaxy:TYPE="VALUE"`.
    pub fn tag_name(&self) -> String {
        format!("misp-galaxy:{}=\"{}\"", self.galaxy.kind, self.value)
    }

    /// Every name it is matched by, its value first.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// The shipped mapping, indexed by folded name.
struct Mapping {
    clusters: Vec<Cluster>,
    by_name: HashMap<String, Vec<usize>>,
    by_tag: HashMap<(String, String), usize>,
}

/// A line of the mapping that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("galaxy-clusters.tsv:{line}: {message}")]
pub(crate) struct MappingError {
    line: usize,
    message: String,
}

static MAPPING: LazyLock<Mapping> = LazyLock::new(|| {
    parse(include_str!("../data/galaxy-clusters.tsv"))
        .unwrap_or_else(|e| panic!("bug: the shipped galaxy mapping does not load: {e}"))
});

fn parse(text: &str) -> Result<Mapping, MappingError> {
    let mut m = Mapping {
        clusters: Vec::new(),
        by_name: HashMap::new(),
        by_tag: HashMap::new(),
    };
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| MappingError {
            line: i + 1,
            message,
        };
        let cols: Vec<&str> = line.split('\t').collect();
        let [kind, uuid, value, names] = cols[..] else {
            return Err(bad(format!(
                "expected 4 tab-separated columns, found {}",
                cols.len()
            )));
        };
        let galaxy = GALAXIES
            .iter()
            .find(|g| g.kind == kind)
            .ok_or_else(|| bad(format!("unknown galaxy `{kind}`")))?;
        if uuid::Uuid::parse_str(uuid).is_err() {
            return Err(bad(format!("`{uuid}` is not a UUID")));
        }
        if value.is_empty() || value.contains('"') {
            return Err(bad(format!("bad cluster value `{value}`")));
        }
        let names: Vec<String> = names
            .split('|')
            .filter(|n| !n.trim().is_empty())
            .map(str::to_string)
            .collect();
        if names.first().map(|n| fold(n)) != Some(fold(value)) {
            return Err(bad(format!(
                "the names of `{value}` must start with its value"
            )));
        }
        let at = m.clusters.len();
        for n in &names {
            let v = m.by_name.entry(fold(n)).or_default();
            if !v.contains(&at) {
                v.push(at);
            }
        }
        m.by_tag.insert((kind.to_string(), value.to_string()), at);
        m.clusters.push(Cluster {
            galaxy,
            uuid: uuid.to_string(),
            value: value.to_string(),
            names,
        });
    }
    Ok(m)
}

/// The clusters a group name stands for: at most one per galaxy, matched
/// by any of their names (value, synonyms, and the aliases Tearline's
/// knowledge base gives the same group), ignoring case, diacritics,
/// apostrophes and punctuation.
pub fn clusters_named(name: &str) -> Vec<&'static Cluster> {
    let m = &*MAPPING;
    let Some(found) = m.by_name.get(&fold(name)) else {
        return Vec::new();
    };
    found.iter().map(|&i| &m.clusters[i]).collect()
}

/// The cluster a galaxy tag names, if the mapping holds it.
pub fn cluster_of_tag(kind: &str, value: &str) -> Option<&'static Cluster> {
    let m = &*MAPPING;
    m.by_tag
        .get(&(kind.to_string(), value.to_string()))
        .map(|&i| &m.clusters[i])
}

/// How names are compared: case folded, without diacritics and
/// apostrophes, every run of other non-word characters one space.
pub fn fold(s: &str) -> String {
    let folded = caseless::default_case_fold_str(s);
    let mut out = String::with_capacity(folded.len());
    let mut gap = false;
    for c in folded.nfkd() {
        if is_combining_mark(c) || matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{02BC}') {
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_mapping_loads_and_every_name_leads_to_its_cluster() {
        let m = parse(include_str!("../data/galaxy-clusters.tsv")).unwrap();
        assert!(m.clusters.len() > 1000, "{}", m.clusters.len());
        for (i, c) in m.clusters.iter().enumerate() {
            assert_eq!(fold(&c.names[0]), fold(&c.value), "{c:?}");
            for n in &c.names {
                assert!(m.by_name[&fold(n)].contains(&i), "{n}");
            }
        }
        // One galaxy never has two clusters for one name.
        for (name, found) in &m.by_name {
            let galaxies: Vec<&str> = found.iter().map(|&i| m.clusters[i].galaxy.kind).collect();
            let mut unique = galaxies.clone();
            unique.dedup();
            assert_eq!(galaxies.len(), unique.len(), "{name}: {galaxies:?}");
        }
    }

    #[test]
    fn groups_are_found_by_any_of_their_names() {
        let by = |n: &str| {
            clusters_named(n)
                .iter()
                .map(|c| c.tag_name())
                .collect::<Vec<_>>()
        };
        let iskp =
            "misp-galaxy:canada-listed-terrorist-entities=\"Islamic State Khorasan Province\"";
        // The cluster's value, an alias from Tearline's knowledge base, and
        // a spelling with other case, dashes and diacritics.
        assert_eq!(by("Islamic State Khorasan Province"), [iskp]);
        assert_eq!(by("Wilayat Khorasan"), [iskp]);
        assert_eq!(by("isis-k"), [iskp]);
        assert_eq!(by("APT28"), ["misp-galaxy:threat-actor=\"APT28\""]);
        assert_eq!(by("Fancy Bear"), ["misp-galaxy:threat-actor=\"APT28\""]);
        assert!(by("Extremists linked to the Islamic State").is_empty());
        assert!(by("").is_empty());
        assert!(cluster_of_tag("threat-actor", "APT28").is_some());
        assert!(cluster_of_tag("threat-actor", "No such group").is_none());
    }

    #[test]
    fn folding_ignores_case_diacritics_apostrophes_and_punctuation() {
        assert_eq!(fold("Jama’at Nusrat al-Islam"), "jamaat nusrat al islam");
        assert_eq!(fold("Cártel  de   Sinaloa"), "cartel de sinaloa");
        assert_eq!(fold("  IS-K "), "is k");
        assert_eq!(fold("Исламское Государство"), "исламское государство");
    }

    #[test]
    fn a_malformed_line_is_named() {
        let e = parse("# header\nthreat-actor\tnot-a-uuid\tX\tX\n")
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "galaxy-clusters.tsv:2: `not-a-uuid` is not a UUID"
        );
        let e = parse("nope\t7cdff317-a673-4474-84ec-4f1754947823\tX\tX\n")
            .err()
            .unwrap();
        assert!(e.to_string().contains("unknown galaxy `nope`"), "{e}");
        let e = parse("threat-actor\t7cdff317-a673-4474-84ec-4f1754947823\tX\t\n")
            .err()
            .unwrap();
        assert!(e.to_string().contains("must start with its value"), "{e}");
    }
}
