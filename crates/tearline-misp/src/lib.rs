//! MISP for Tearline: a release as a MISP core-format event, and MISP
//! events and feeds read back as documents.
//!
//! Most of Tearline's users run MISP. A release given to one of them
//! should land there as an analyst of that MISP would have entered it
//! herself, and an event from their MISP should read into Tearline's cases
//! with its marking intact. This crate is the mapping both ways, and
//! nothing else: no I/O, no files, no HTTP.
//!
//! # Out: [`event`]
//!
//! A release becomes one event (`{"Event": {...}}`, the MISP core format
//! of draft-dulaunoy-misp-core-format, written as a MISP feed writes its
//! event files: no instance-local ids):
//!
//! - **Marking.** Exactly one `tlp:` tag, the release's level, spelt as
//!   MISP's `tlp` taxonomy spells TLP 2.0: `tlp:clear`, `tlp:green`,
//!   `tlp:amber`, `tlp:amber+strict`, `tlp:red`. Portions keep their own
//!   markings in the event report's text, not as tags.
//! - **Distribution** from the audience ([`distribution`]): the public (an
//!   audience cleared for TLP:CLEAR only) gets all communities (3); the
//!   node's own staff (an audience that may see sources) its organisation
//!   only (0); any other audience a sharing group named after it (4, with
//!   the group's definition, so a MISP that lacks it can create it) or, as
//!   the node chooses ([`Restricted`]), this community only (1) or the
//!   organisation only (0).
//! - **Text.** `info` is the title; the released portions, each with its
//!   marking, are the event report (Markdown, as MISP's reports are).
//! - **Groups** named in the release under their own names are
//!   `threat-actor` attributes and, where a MISP galaxy knows them, galaxy
//!   clusters — a `misp-galaxy:TYPE="VALUE"` tag and a `Galaxy` entry —
//!   matched by name and synonyms through the shipped mapping
//!   (`data/galaxy-clusters.tsv`, from MISP/misp-galaxy's `threat-actor`
//!   and Canada's listed terrorist entities; see [`clusters_named`]).
//! - **Places, venues, organisations and target types** are
//!   `target-location`, `target-org` and `target-external` attributes.
//! - **The validity window** of a warning sets the event's `date` (the
//!   window's start), is a CAP `info` object (MISP's `cap-info` template:
//!   `effective`, `expires`, with the object's `first_seen`/`last_seen`),
//!   and gives every attribute an expiration sighting at its end, which
//!   MISP's decaying and expiration filters read.
//! - **The specificity profile** is five tags,
//!   `tearline:specificity-who="named group"` and so on; the audience is
//!   `tearline:audience="..."`.
//! - **Identity.** The event's UUID is the UUID of the release's STIX
//!   report, and every other UUID is derived from it and from what the
//!   part holds, so releasing the same report again to the same audience
//!   updates the same event, and the STIX and MISP forms of one release
//!   name one thing. The creator organisation is the node, with the UUID
//!   of its STIX identity. MISP events are not signed here: MISP's
//!   protected events sign with the instance's own keys over its own sync;
//!   the release's STIX objects, delivered alongside, carry Tearline's
//!   Ed25519 signatures.
//!
//! The event is built from the [`tearline_release::Release`] only — what
//! the audience receives — and is then leak-checked whole, every key and
//! string, by the same [`tearline_release::clear`] as every other format;
//! this crate cannot write anything out.
//!
//! # In: [`read_events`] and [`read_manifest`]
//!
//! A MISP JSON file (`{"Event": ...}`, a bare event, a list, or a REST
//! search's `{"response": [...]}`) reads into one [`EventDoc`] per event:
//! its text is `info`, the event reports and the attributes' comments and
//! text-like values; its marking the highest TLP tag of the event and of
//! the attributes read — and **TLP:RED when the event carries no TLP tag**,
//! never CLEAR; its groups the galaxy clusters (of the galaxies in
//! [`GROUP_GALAXIES`]), galaxy tags and `threat-actor` attributes; its date
//! the event's `date`. A feed's `manifest.json` lists the event files of
//! the feed. Errors name the event and the field.
//!
//! ```
//! use tearline_model::{parse_report, Audience, Level};
//! use tearline_release::{Registry, Release};
//!
//! let src = "---\ntitle: Warning\nproduced: 2026-03-20T08:00:00Z\n---\n\n\
//!     (TLP:AMBER) [Wilayat Khorasan]{actor} plans an attack on [concerts]{target}.\n";
//! let report = parse_report("w.md", src.as_bytes()).unwrap();
//! let liaison = Audience::new("liaison", Level::Amber, false).unwrap();
//! let release = Release::build(&report, &liaison, &Registry::new(vec![]));
//! let producer = tearline_stix::Producer::new("Node", chrono::Utc::now());
//! let ctx = tearline_misp::Context { producer: &producer, now: chrono::Utc::now(), restricted: Default::default() };
//! let ev = tearline_misp::event(&release, &ctx);
//! assert_eq!(ev["Event"]["Tag"][0]["name"], "tlp:amber");
//! assert_eq!(ev["Event"]["distribution"], "4");
//!
//! let back = tearline_misp::read_events(ev.to_string().as_bytes()).unwrap();
//! let doc = back[0].as_ref().unwrap();
//! assert_eq!(doc.marking, Level::Amber);
//! assert!(doc.groups.iter().any(|g| g.name == "Wilayat Khorasan"));
//! ```
#![deny(missing_docs)]

mod event;
mod galaxy;
mod read;

pub use event::{distribution, event, Context, Distribution, Restricted};
pub use galaxy::{cluster_of_tag, clusters_named, fold, Cluster, Galaxy, GALAXIES};
pub use read::{
    read_events, read_manifest, EventDoc, EventError, FileError, ManifestEntry, StatedGroup,
    GROUP_GALAXIES, TEXT_TYPES,
};

use tearline_model::Level;

/// The MISP tag of a TLP 2.0 level, as MISP's `tlp` taxonomy spells it.
pub fn tlp_tag(level: Level) -> &'static str {
    match level {
        Level::Clear => "tlp:clear",
        Level::Green => "tlp:green",
        Level::Amber => "tlp:amber",
        Level::AmberStrict => "tlp:amber+strict",
        Level::Red => "tlp:red",
    }
}

/// The level a MISP tag gives, if it is a TLP tag (`tlp:...`, any case):
/// the five TLP 2.0 levels, TLP 1.0's `tlp:white` as CLEAR, and — failing
/// closed — `tlp:unclear` and any other `tlp:` value as RED. `tlp:ex:chr`
/// (the Chatham House rule) is a handling rule, not a level: `None`.
pub fn tag_level(name: &str) -> Option<Level> {
    let n = name.trim().to_ascii_lowercase();
    let value = n.strip_prefix("tlp:")?.trim();
    Some(match value {
        "clear" | "white" => Level::Clear,
        "green" => Level::Green,
        "amber" => Level::Amber,
        "amber+strict" => Level::AmberStrict,
        "red" => Level::Red,
        v if v.starts_with("ex:") => return None,
        _ => Level::Red,
    })
}

#[cfg(test)]
mod tests;
