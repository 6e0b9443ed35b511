//! A release as a MISP core-format event.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tearline_model::{Audience, Level, SpanKind};
use tearline_release::{render_markdown_body, Dimension, Release};
use tearline_stix::Producer;
use uuid::Uuid;

use crate::galaxy::{clusters_named, Cluster};
use crate::tlp_tag;

/// The namespace Tearline derives the UUIDs of an event's parts in.
const NAMESPACE: Uuid = Uuid::from_u128(0x3c1e_9a7d_52b4_4e0f_8d26_b1f0_7a4c_9e53);

/// The CAP `info` object template of MISP/misp-objects (`cap-info`).
const CAP_INFO_TEMPLATE: &str = "826c25e6-fdd5-4e4a-b081-be5ba3ac2c3d";

/// Colours of Tearline's own tags and of galaxy tags (MISP's default for
/// galaxies).
const TEARLINE_COLOUR: &str = "#375a7f";
const GALAXY_COLOUR: &str = "#0088cc";

/// How a release to an audience that is neither the public nor the node's
/// own staff is distributed in MISP (`[misp] distribution` in
/// `tearline.toml`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Restricted {
    /// A sharing group named after the audience (distribution 4).
    #[default]
    SharingGroup,
    /// This community only (distribution 1).
    Community,
    /// The receiving organisation only (distribution 0).
    Organisation,
}

/// A MISP distribution level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distribution {
    /// 0: your organisation only.
    Organisation,
    /// 1: this community only.
    Community,
    /// 3: all communities.
    AllCommunities,
    /// 4: a sharing group.
    SharingGroup,
}

impl Distribution {
    /// The level as MISP writes it.
    pub fn code(self) -> &'static str {
        match self {
            Distribution::Organisation => "0",
            Distribution::Community => "1",
            Distribution::AllCommunities => "3",
            Distribution::SharingGroup => "4",
        }
    }
}

/// The distribution of a release to `audience`: an audience cleared for
/// TLP:CLEAR only (the public) gets all communities; the node's own staff
/// (an audience that may see sources) the organisation only; any other
/// audience what `restricted` says.
pub fn distribution(audience: &Audience, restricted: Restricted) -> Distribution {
    if audience.max() == Level::Clear {
        Distribution::AllCommunities
    } else if audience.sees_sources() {
        Distribution::Organisation
    } else {
        match restricted {
            Restricted::SharingGroup => Distribution::SharingGroup,
            Restricted::Community => Distribution::Community,
            Restricted::Organisation => Distribution::Organisation,
        }
    }
}

/// What an event is made with besides the release.
pub struct Context<'a> {
    /// The node publishing it (the event's creator organisation).
    pub producer: &'a Producer,
    /// When it is published.
    pub now: DateTime<Utc>,
    /// How restricted audiences are distributed.
    pub restricted: Restricted,
}

/// The MISP core-format event (`{"Event": {...}}`) of a release.
///
/// Its UUID is the UUID of the release's STIX report, and the UUIDs of its
/// parts are derived from it and from what they hold, so the same report
/// released again to the same audience gives the same event. Nothing in it
/// is taken from withheld portions or from a span's original text the
/// audience may not see; it is made to be leak-checked whole, like every
/// output.
pub fn event(release: &Release, ctx: &Context<'_>) -> Value {
    let event_uuid = tearline_stix::report_id(release, ctx.producer).uuid();
    let ts = ctx.now.timestamp().to_string();
    let org = json!({"name": ctx.producer.name, "uuid": ctx.producer.id.uuid().to_string()});
    let b = Builder {
        event_uuid,
        ts: &ts,
        until: release.valid_until().map(|u| u.with_timezone(&Utc)),
        org: &org,
    };
    let dist = distribution(release.audience(), ctx.restricted);
    let date = release
        .valid_from()
        .unwrap_or_else(|| release.produced())
        .with_timezone(&Utc)
        .format("%Y-%m-%d")
        .to_string();
    let clusters = group_clusters(release);

    let mut e = Map::new();
    e.insert("uuid".into(), event_uuid.to_string().into());
    e.insert("info".into(), release.title().into());
    e.insert("date".into(), date.into());
    e.insert("threat_level_id".into(), "4".into());
    e.insert("analysis".into(), "2".into());
    e.insert("published".into(), true.into());
    e.insert("timestamp".into(), ts.clone().into());
    e.insert("publish_timestamp".into(), ts.clone().into());
    e.insert("distribution".into(), dist.code().into());
    if dist == Distribution::SharingGroup {
        e.insert(
            "SharingGroup".into(),
            sharing_group(release.audience(), ctx.producer, &org),
        );
    } else {
        e.insert("sharing_group_id".into(), "0".into());
    }
    e.insert("Orgc".into(), org.clone());
    e.insert("Tag".into(), tags(release, &clusters).into());
    e.insert("Galaxy".into(), galaxies(&clusters).into());
    e.insert("Attribute".into(), b.attributes(release).into());
    e.insert(
        "Object".into(),
        b.window_object(release, ctx.producer).into(),
    );
    e.insert("EventReport".into(), json!([b.report(release)]));
    json!({ "Event": e })
}

/// The MISP tag of a TLP 2.0 level, as MISP's `tlp` taxonomy spells it.
pub(crate) fn tlp_colour(level: Level) -> &'static str {
    match level {
        Level::Clear => "#ffffff",
        Level::Green => "#33FF00",
        Level::Amber | Level::AmberStrict => "#FFC000",
        Level::Red => "#FF2B2B",
    }
}

/// A tag object.
fn tag(name: &str, colour: &str) -> Value {
    json!({"name": name, "colour": colour, "exportable": true, "local": false})
}

/// The event's tags: exactly one TLP tag (the release's level), the
/// groups' galaxy clusters, the audience and the specificity profile.
fn tags(release: &Release, clusters: &[&Cluster]) -> Vec<Value> {
    let mut out = vec![tag(tlp_tag(release.level()), tlp_colour(release.level()))];
    out.extend(clusters.iter().map(|c| tag(&c.tag_name(), GALAXY_COLOUR)));
    out.push(tag(
        &format!("tearline:audience=\"{}\"", release.audience().name()),
        TEARLINE_COLOUR,
    ));
    let profile = release.profile();
    for d in Dimension::ALL {
        out.push(tag(
            &format!(
                "tearline:specificity-{}=\"{}\"",
                d.name(),
                profile.grade_name(d)
            ),
            TEARLINE_COLOUR,
        ));
    }
    out
}

/// The galaxy clusters of the groups the release names under their own
/// names, first mention first, each once.
fn group_clusters(release: &Release) -> Vec<&'static Cluster> {
    let mut out: Vec<&'static Cluster> = Vec::new();
    for e in release.entities() {
        if e.kind != SpanKind::Actor {
            continue;
        }
        for c in clusters_named(&e.name) {
            if !out.iter().any(|o| o.uuid == c.uuid) {
                out.push(c);
            }
        }
    }
    out
}

/// The `Galaxy` list: each galaxy with the clusters of it the release names.
fn galaxies(clusters: &[&Cluster]) -> Vec<Value> {
    let mut by: BTreeMap<&str, (Value, Vec<Value>)> = BTreeMap::new();
    for c in clusters {
        let g = c.galaxy;
        let entry = by.entry(g.kind).or_insert_with(|| {
            (
                json!({
                    "uuid": g.uuid,
                    "name": g.name,
                    "type": g.kind,
                    "namespace": g.namespace,
                    "description": g.description,
                    "version": g.version,
                }),
                Vec::new(),
            )
        });
        entry.1.push(json!({
            "uuid": c.uuid,
            "type": g.kind,
            "value": c.value,
            "tag_name": c.tag_name(),
        }));
    }
    by.into_values()
        .map(|(mut g, list)| {
            if let Value::Object(m) = &mut g {
                m.insert("GalaxyCluster".into(), list.into());
            }
            g
        })
        .collect()
}

/// The sharing group named after a restricted audience, with the
/// producer's organisation as its owner and first member. A MISP that does
/// not know the group creates it from this (given the right to), or keeps
/// the event to its own organisation.
fn sharing_group(audience: &Audience, producer: &Producer, org: &Value) -> Value {
    let uuid = derived(&[&producer.id.to_string(), "sharing-group", audience.name()]);
    json!({
        "uuid": uuid.to_string(),
        "name": format!("{} ({})", audience.name(), producer.name),
        "description": format!("The audience `{}` of the Tearline node {}: the partners its releases to that audience go to.", audience.name(), producer.name),
        "releasability": format!("Partners of {} in its audience `{}`", producer.name, audience.name()),
        "organisation_uuid": producer.id.uuid().to_string(),
        "Organisation": org,
        "SharingGroupOrg": [{"extend": true, "Organisation": org}],
    })
}

/// A UUID derived from `parts`: the same parts always give the same UUID
/// (version-4 and variant bits set, as MISP recommends version 4).
pub(crate) fn derived(parts: &[&str]) -> Uuid {
    let mut h = Sha256::new();
    h.update(NAMESPACE.as_bytes());
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    Uuid::from_bytes(b)
}

/// An RFC 3339 time with a `+00:00` offset, as MISP writes datetimes.
fn misp_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// What the parts of one event share.
struct Builder<'a> {
    event_uuid: Uuid,
    ts: &'a str,
    /// The end of the warning's window.
    until: Option<DateTime<Utc>>,
    /// The producer's organisation, which states the window's end.
    org: &'a Value,
}

impl Builder<'_> {
    fn uuid(&self, parts: &[&str]) -> String {
        let mut all = vec![self.event_uuid.to_string()];
        all.extend(parts.iter().map(|p| p.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        derived(&refs).to_string()
    }

    /// One attribute, inheriting the event's distribution. A warning's
    /// attribute carries an expiration sighting at the end of the window,
    /// so MISP's decaying and expiration views see when it stops holding.
    fn attribute(&self, ty: &str, category: &str, value: &str, comment: &str) -> Value {
        let uuid = self.uuid(&["attribute", ty, &crate::galaxy::fold(value)]);
        let mut a = json!({
            "uuid": uuid,
            "type": ty,
            "category": category,
            "value": value,
            "to_ids": false,
            "distribution": "5",
            "sharing_group_id": "0",
            "timestamp": self.ts,
            "comment": comment,
            "deleted": false,
            "disable_correlation": false,
        });
        if let (Some(until), Value::Object(m)) = (self.until, &mut a) {
            m.insert(
                "Sighting".into(),
                json!([{
                    "uuid": self.uuid(&["expiration", &uuid]),
                    "type": "2",
                    "date_sighting": until.timestamp().to_string(),
                    "source": "Tearline: end of the warning's validity window",
                    "Organisation": self.org,
                }]),
            );
        }
        a
    }

    /// The entities the release names under their own names, as
    /// attributes: groups (`threat-actor`), places and venues
    /// (`target-location`), organisations (`target-org`) and target types
    /// (`target-external`).
    fn attributes(&self, release: &Release) -> Vec<Value> {
        let mut out = Vec::new();
        for e in release.entities() {
            let (ty, category, comment) = match e.kind {
                SpanKind::Actor => ("threat-actor", "Attribution", "group named in the release"),
                SpanKind::Place => (
                    "target-location",
                    "Targeting data",
                    "place named in the release",
                ),
                SpanKind::Venue => (
                    "target-location",
                    "Targeting data",
                    "venue named in the release",
                ),
                SpanKind::Org => (
                    "target-org",
                    "Targeting data",
                    "organisation named in the release",
                ),
                SpanKind::Target => (
                    "target-external",
                    "Targeting data",
                    "target type named in the release",
                ),
                _ => continue,
            };
            out.push(self.attribute(ty, category, &e.name, comment));
        }
        out
    }

    /// A warning's validity window as a CAP `info` object (MISP's
    /// `cap-info` template): `effective` and `expires` datetimes, the
    /// object's `first_seen` and `last_seen`, headline, audience and
    /// sender. None for a report without a window.
    fn window_object(&self, release: &Release, producer: &Producer) -> Vec<Value> {
        let Some(until) = self.until else {
            return Vec::new();
        };
        let from = release
            .valid_from()
            .unwrap_or_else(|| release.produced())
            .with_timezone(&Utc);
        let object_uuid = self.uuid(&["object", "cap-info"]);
        let attr = |relation: &str, ty: &str, value: &str| {
            json!({
                "uuid": self.uuid(&["object", "cap-info", relation]),
                "object_relation": relation,
                "type": ty,
                "category": "Other",
                "value": value,
                "to_ids": false,
                "distribution": "5",
                "sharing_group_id": "0",
                "timestamp": self.ts,
                "comment": "",
                "deleted": false,
                "disable_correlation": true,
            })
        };
        vec![json!({
            "uuid": object_uuid,
            "name": "cap-info",
            "meta-category": "misc",
            "description": "Common Alerting Protocol Version (CAP) info object",
            "template_uuid": CAP_INFO_TEMPLATE,
            "template_version": "1",
            "timestamp": self.ts,
            "distribution": "5",
            "sharing_group_id": "0",
            "comment": "The warning's validity window",
            "deleted": false,
            "first_seen": misp_time(from),
            "last_seen": misp_time(until),
            "ObjectReference": [],
            "Attribute": [
                attr("category", "text", "Security"),
                attr("headline", "text", release.title()),
                attr("effective", "datetime", &misp_time(from)),
                attr("expires", "datetime", &misp_time(until)),
                attr("audience", "text", release.audience().name()),
                attr("senderName", "text", &producer.name),
            ],
        })]
    }

    /// The released text as an event report: each portion with its
    /// marking, in Markdown.
    fn report(&self, release: &Release) -> Value {
        json!({
            "uuid": self.uuid(&["report"]),
            "name": release.title(),
            "content": render_markdown_body(release),
            "distribution": "5",
            "sharing_group_id": "0",
            "timestamp": self.ts,
            "deleted": false,
        })
    }
}
