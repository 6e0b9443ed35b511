//! STIX 2.1 for Tearline.
//!
//! A release is published as a STIX 2.1 bundle: a `report` whose
//! `description` is the released text, the producer's `identity`, the TLP
//! 2.0 `marking-definition`s with their standard identifiers (from the
//! OASIS common objects, under the TLP 2.0 extension-definition),
//! domain objects for the entities the release names (`threat-actor`,
//! `identity`, `location`) with `targets` relationships, and Tearline's own
//! `extension-definition`, whose property extension on the report carries
//! the audience, the validity window and the specificity profile.
//!
//! Identifiers are [`StixId`]s, parsed once. Object ids are derived (UUID
//! version 5) from released content only, so the same report released
//! again to the same audience gets the same report id, and nothing about
//! withheld material can be read from an id.
#![deny(missing_docs)]

mod sign;

/// Ed25519 keys, re-exported for callers that sign and verify.
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use sign::{
    canonical, export_key, import_key, key_id, sign_bundle, verify_bundle, verify_object,
    SignatureError,
};

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tearline_model::{Level, SpanKind};
use tearline_release::{country_code, render_markdown_body, ts, Entity, Release};
use uuid::Uuid;

/// The namespace Tearline derives its identifiers in.
const NAMESPACE: Uuid = Uuid::from_u128(0x6d1f_2a4e_8b3c_4f57_9a0e_51c2_7d88_e3b1);

/// The OASIS TLP 2.0 extension-definition.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// Tearline's extension-definition for release properties.
pub const TEARLINE_EXTENSION: &str = "extension-definition--1f4a9c2e-7b3d-4e58-a6c1-0d9e8f7b2a53";

/// The identity that defines Tearline's extension.
pub const TEARLINE_IDENTITY: &str = "identity--8e2b5d71-3c4f-4a96-b0d8-6f1e2a9c7b45";

/// A STIX identifier, `type--uuid`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StixId {
    ty: String,
    uuid: Uuid,
}

/// A string that is not a STIX identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid STIX identifier `{0}`: expected `type--uuid`")]
pub struct BadId(String);

impl StixId {
    /// An id of type `ty` derived from `name`: the same name always gives
    /// the same id. The UUID is a SHA-256 of the namespace, type and name,
    /// with the version-4 and variant bits set, as STIX 2.1 asks of domain
    /// and relationship objects.
    pub fn derived(ty: &str, name: &str) -> StixId {
        let mut h = Sha256::new();
        h.update(NAMESPACE.as_bytes());
        h.update(ty.as_bytes());
        h.update([0]);
        h.update(name.as_bytes());
        let digest = h.finalize();
        let mut b = [0u8; 16];
        b.copy_from_slice(&digest[..16]);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        StixId {
            ty: ty.to_string(),
            uuid: Uuid::from_bytes(b),
        }
    }

    /// A fresh random id of type `ty`.
    pub fn random(ty: &str) -> StixId {
        StixId {
            ty: ty.to_string(),
            uuid: Uuid::new_v4(),
        }
    }

    /// The object type.
    pub fn object_type(&self) -> &str {
        &self.ty
    }

    /// The UUID after the type.
    pub fn uuid(&self) -> Uuid {
        self.uuid
    }
}

impl fmt::Display for StixId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}--{}", self.ty, self.uuid)
    }
}

impl FromStr for StixId {
    type Err = BadId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (ty, u) = s.split_once("--").ok_or_else(|| BadId(s.to_string()))?;
        let ok_ty = !ty.is_empty()
            && ty.len() <= 250
            && ty
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let uuid = Uuid::parse_str(u).map_err(|_| BadId(s.to_string()))?;
        if !ok_ty {
            return Err(BadId(s.to_string()));
        }
        Ok(StixId {
            ty: ty.to_string(),
            uuid,
        })
    }
}

impl Serialize for StixId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StixId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The standard id of a TLP 2.0 marking-definition.
pub fn tlp_marking_id(level: Level) -> &'static str {
    match level {
        Level::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Level::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Level::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Level::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Level::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The standard TLP 2.0 marking-definition object for a level.
pub fn tlp_marking_definition(level: Level) -> Value {
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": tlp_marking_id(level),
        "created": "2022-10-01T00:00:00.000Z",
        "name": level.to_string(),
        "extensions": {
            TLP2_EXTENSION: {
                "extension_type": "property-extension",
                "tlp_2_0": level.name().to_lowercase(),
            }
        }
    })
}

/// The node that publishes: its identity object's id, name and creation
/// time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Producer {
    /// The identity's id.
    pub id: StixId,
    /// The organisation's name.
    pub name: String,
    /// When the node was created.
    pub created: DateTime<Utc>,
}

impl Producer {
    /// The producer for a node named `name`, created at `created`.
    pub fn new(name: &str, created: DateTime<Utc>) -> Producer {
        Producer {
            id: StixId::derived("identity", name),
            name: name.to_string(),
            created,
        }
    }
}

/// A STIX timestamp: UTC, millisecond precision.
pub fn stix_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The STIX 2.1 bundle for a release, published at `now`.
pub fn bundle(release: &Release, producer: &Producer, now: DateTime<Utc>) -> Value {
    let bc = BundleContext {
        release,
        producer,
        now: stix_time(now),
        marking: tlp_marking_id(release.level()),
    };
    let mut objects = vec![producer_identity(producer)];
    let entities = entity_objects(&bc);
    let mut refs = entities.refs;
    objects.extend(entities.objects);
    for (id, relationship) in relationships(&bc, &entities.actors, &entities.targets) {
        refs.push(id.to_string());
        objects.push(relationship);
    }
    if refs.is_empty() {
        refs.push(producer.id.to_string());
    }
    let report_id = report_id(release, producer);
    objects.push(report(&bc, &report_id, refs));
    objects.extend(marking_definitions(release));
    objects.push(tearline_identity());
    objects.push(tearline_extension_definition());

    let bundle_id = StixId::derived("bundle", &format!("{report_id}/{}", bc.now));
    json!({ "type": "bundle", "id": bundle_id, "objects": objects })
}

/// What every object of one bundle shares.
struct BundleContext<'a> {
    /// The release published.
    release: &'a Release,
    /// The node publishing it.
    producer: &'a Producer,
    /// The publication time, as a STIX timestamp.
    now: String,
    /// The id of the release's TLP marking-definition.
    marking: &'static str,
}

/// The producer's `identity` object.
fn producer_identity(producer: &Producer) -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": producer.id,
        "created": stix_time(producer.created),
        "modified": stix_time(producer.created),
        "name": producer.name,
        "identity_class": "organization",
    })
}

/// The domain objects for a release's entities, in release order.
struct EntityObjects {
    /// The objects.
    objects: Vec<Value>,
    /// Their ids, for the report's `object_refs`.
    refs: Vec<String>,
    /// The ids of the threat actors.
    actors: Vec<StixId>,
    /// The ids of what they may target: places, venues, organisations.
    targets: Vec<StixId>,
}

/// The domain objects for the entities a release names, with the ids of actors and targets.
fn entity_objects(bc: &BundleContext) -> EntityObjects {
    let mut out = EntityObjects {
        objects: Vec::new(),
        refs: Vec::new(),
        actors: Vec::new(),
        targets: Vec::new(),
    };
    for e in bc.release.entities() {
        let Some((id, obj)) = entity_object(bc, e) else {
            continue;
        };
        match e.kind {
            SpanKind::Actor => out.actors.push(id.clone()),
            SpanKind::Place | SpanKind::Venue | SpanKind::Org => out.targets.push(id.clone()),
            _ => {}
        }
        out.refs.push(id.to_string());
        out.objects.push(obj);
    }
    out
}

/// The domain object for one entity and its id, if its kind has a STIX form.
fn entity_object(bc: &BundleContext, e: &Entity) -> Option<(StixId, Value)> {
    let (ty, extra) = entity_type(e)?;
    let key = format!(
        "{}/{}/{}",
        bc.producer.id,
        e.kind.name(),
        e.name.to_lowercase()
    );
    let id = StixId::derived(ty, &key);
    let mut obj = Map::new();
    obj.insert("type".into(), ty.into());
    obj.insert("spec_version".into(), "2.1".into());
    obj.insert("id".into(), id.to_string().into());
    obj.insert("created".into(), bc.now.clone().into());
    obj.insert("modified".into(), bc.now.clone().into());
    obj.insert("created_by_ref".into(), bc.producer.id.to_string().into());
    obj.insert("name".into(), e.name.clone().into());
    if let Value::Object(x) = extra {
        obj.extend(x);
    }
    obj.insert("object_marking_refs".into(), json!([bc.marking]));
    Some((id, Value::Object(obj)))
}

/// An entity's STIX object type and type-specific properties; `None` for a place without a country.
fn entity_type(e: &Entity) -> Option<(&'static str, Value)> {
    match &e.kind {
        SpanKind::Actor => Some(("threat-actor", json!({"threat_actor_types": ["terrorist"]}))),
        SpanKind::Person => Some(("identity", json!({"identity_class": "individual"}))),
        SpanKind::Org => Some(("identity", json!({"identity_class": "organization"}))),
        SpanKind::Place | SpanKind::Venue => country_code(&e.name)
            .or_else(|| trailing_country(&e.name))
            .map(|cc| ("location", json!({"country": cc}))),
        _ => None,
    }
}

/// A `targets` relationship from every actor to every target, each with its id.
fn relationships(
    bc: &BundleContext,
    actors: &[StixId],
    targets: &[StixId],
) -> Vec<(StixId, Value)> {
    let mut out = Vec::new();
    for a in actors {
        for t in targets {
            let id = StixId::derived("relationship", &format!("{a}/targets/{t}"));
            let relationship = json!({
                "type": "relationship",
                "spec_version": "2.1",
                "id": id,
                "created": bc.now,
                "modified": bc.now,
                "created_by_ref": bc.producer.id,
                "relationship_type": "targets",
                "source_ref": a,
                "target_ref": t,
                "object_marking_refs": [bc.marking],
            });
            out.push((id, relationship));
        }
    }
    out
}

/// The report's id, derived from the producer, production time, title and
/// audience: released content only, so the same report released again to
/// the same audience has the same id (and its MISP event the same UUID).
pub fn report_id(release: &Release, producer: &Producer) -> StixId {
    StixId::derived(
        "report",
        &format!(
            "{}/{}/{}/{}",
            producer.id,
            ts(release.produced()),
            release.title(),
            release.audience().name()
        ),
    )
}

/// The `report` object carrying the released text and referring to `refs`.
fn report(bc: &BundleContext, report_id: &StixId, refs: Vec<String>) -> Value {
    let release = bc.release;
    json!({
        "type": "report",
        "spec_version": "2.1",
        "id": report_id,
        "created": bc.now,
        "modified": bc.now,
        "created_by_ref": bc.producer.id,
        "name": release.title(),
        "description": render_markdown_body(release),
        "published": stix_time(release.produced().with_timezone(&Utc)),
        "report_types": ["threat-report"],
        "object_refs": refs,
        "object_marking_refs": [bc.marking],
        "extensions": { TEARLINE_EXTENSION: Value::Object(release_extension(release)) },
    })
}

/// Tearline's property extension on the report: audience, marking, validity, specificity, portions.
fn release_extension(release: &Release) -> Map<String, Value> {
    let mut ext = Map::new();
    ext.insert("extension_type".into(), "property-extension".into());
    ext.insert("audience".into(), release.audience().name().into());
    ext.insert("marking".into(), release.level().to_string().into());
    if let Some(f) = release.valid_from() {
        ext.insert("valid_from".into(), stix_time(f.with_timezone(&Utc)).into());
    }
    if let Some(u) = release.valid_until() {
        ext.insert(
            "valid_until".into(),
            stix_time(u.with_timezone(&Utc)).into(),
        );
    }
    ext.insert(
        "specificity".into(),
        serde_json::to_value(release.profile()).unwrap_or(Value::Null),
    );
    let portions: Vec<Value> = release
        .portions()
        .iter()
        .map(|p| json!({"marking": p.level().to_string(), "text": p.text()}))
        .collect();
    // STIX forbids empty lists: a release with no portions has none.
    if !portions.is_empty() {
        ext.insert("portions".into(), portions.into());
    }
    ext
}

/// The TLP marking-definition of the release's level: the one marking every
/// object of the release refers to. Lower portions' levels are not added as
/// marking-definitions of their own: a consumer that turns every
/// marking-definition in a bundle into a tag (MISP's converter does) would
/// otherwise tag the release with two levels.
fn marking_definitions(release: &Release) -> Vec<Value> {
    vec![tlp_marking_definition(release.level())]
}

/// The identity that defines Tearline's extension (the same in every
/// bundle).
pub fn tearline_identity() -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": TEARLINE_IDENTITY,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Tearline",
        "identity_class": "system",
    })
}

/// Tearline's extension-definition (the same in every bundle).
pub fn tearline_extension_definition() -> Value {
    json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": TEARLINE_EXTENSION,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "created_by_ref": TEARLINE_IDENTITY,
        "name": "Tearline release properties",
        "description": "Properties of a Tearline release: the audience it was released to, its marking, the warning's validity window, the specificity profile and the marked portions.",
        "schema": "Property extension on report. audience: string, the audience name. marking: string, the highest TLP 2.0 level released. valid_from, valid_until: optional timestamps bounding the warning's validity window. specificity: object with keys who, what, where, when, how, each a grade name on Tearline's ladders. portions: array of objects with marking (TLP 2.0 level) and text.",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    })
}

/// Objects whose content is published and fixed: the TLP 2.0 markings and
/// Tearline's own identity and extension-definition. They are checked by
/// content, not signed.
pub fn is_published_object(o: &Value) -> bool {
    let c = canonical(o);
    Level::ALL
        .iter()
        .any(|&l| canonical(&tlp_marking_definition(l)) == c)
        || canonical(&tearline_identity()) == c
        || canonical(&tearline_extension_definition()) == c
}

/// `"Krasnogorsk, Russia"` → the code of the country after the last comma.
fn trailing_country(name: &str) -> Option<&'static str> {
    name.rsplit_once(',')
        .and_then(|(_, c)| country_code(c.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_and_derive() {
        let id: StixId = "report--6d1f2a4e-8b3c-4f57-9a0e-51c27d88e3b1"
            .parse()
            .unwrap();
        assert_eq!(id.object_type(), "report");
        assert_eq!(
            id.to_string(),
            "report--6d1f2a4e-8b3c-4f57-9a0e-51c27d88e3b1"
        );
        assert!("report-6d1f".parse::<StixId>().is_err());
        assert!("Report--6d1f2a4e-8b3c-4f57-9a0e-51c27d88e3b1"
            .parse::<StixId>()
            .is_err());
        assert_eq!(
            StixId::derived("identity", "x"),
            StixId::derived("identity", "x")
        );
        assert_ne!(
            StixId::derived("identity", "x"),
            StixId::derived("identity", "y")
        );
    }

    #[test]
    fn derived_ids_are_uuid_version_4() {
        let id = StixId::derived("report", "anything");
        assert_eq!(id.uuid.get_version_num(), 4);
        assert_eq!(id.uuid.get_variant(), uuid::Variant::RFC4122);
    }

    #[test]
    fn a_release_with_nothing_in_it_has_no_empty_lists() {
        let src = "---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\n---\n\n(TLP:RED) secret\n";
        let report = tearline_model::parse_report("r.md", src.as_bytes()).unwrap();
        let public = tearline_model::Audience::new("public", Level::Clear, false).unwrap();
        let release = Release::build(&report, &public, &tearline_release::Registry::new(vec![]));
        let producer = Producer::new("Node", Utc::now());
        let b = bundle(&release, &producer, Utc::now());
        fn no_empty(v: &Value) -> bool {
            match v {
                Value::Array(a) => !a.is_empty() && a.iter().all(no_empty),
                Value::Object(m) => m.values().all(no_empty),
                _ => true,
            }
        }
        assert!(no_empty(&b), "{b:#}");
    }

    #[test]
    fn every_object_of_a_release_carries_only_the_release_marking() {
        // Portions at CLEAR and AMBER: the release is AMBER, and nothing in
        // the bundle says CLEAR — no marking-definition a converter could
        // turn into a second tag, no object marked otherwise.
        let src = "---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\n---\n\n(TLP:CLEAR) An attack in [Moscow, Russia]{place}.\n\n(TLP:AMBER) [Wilayat Khorasan]{actor} plans it.\n";
        let report = tearline_model::parse_report("r.md", src.as_bytes()).unwrap();
        let liaison = tearline_model::Audience::new("liaison", Level::Amber, false).unwrap();
        let release = Release::build(&report, &liaison, &tearline_release::Registry::new(vec![]));
        let b = bundle(&release, &Producer::new("Node", Utc::now()), Utc::now());
        let objects = b["objects"].as_array().unwrap();
        let markings: Vec<&Value> = objects
            .iter()
            .filter(|o| o["type"] == "marking-definition")
            .collect();
        assert_eq!(markings.len(), 1);
        assert_eq!(markings[0]["id"], tlp_marking_id(Level::Amber));
        let amber = json!([tlp_marking_id(Level::Amber)]);
        for o in objects {
            match o["type"].as_str().unwrap() {
                // Shared and fixed: the producer, Tearline's identity and
                // extension, the marking itself.
                "marking-definition" | "extension-definition" => {}
                "identity" if o.get("created_by_ref").is_none() => {}
                _ => assert_eq!(o["object_marking_refs"], amber, "{o}"),
            }
        }
        assert!(objects.iter().any(|o| o["type"] == "threat-actor"));
        assert!(objects.iter().any(|o| o["type"] == "relationship"));
    }

    #[test]
    fn tlp_markings_are_standard() {
        let m = tlp_marking_definition(Level::AmberStrict);
        assert_eq!(m["name"], "TLP:AMBER+STRICT");
        assert_eq!(m["extensions"][TLP2_EXTENSION]["tlp_2_0"], "amber+strict");
    }
}
