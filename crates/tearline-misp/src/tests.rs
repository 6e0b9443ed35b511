use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tearline_model::{parse_report, Audience, Level};
use tearline_release::{Registry, Release};
use tearline_stix::Producer;

use super::*;

const EMBASSY: &str = include_str!("../../../examples/embassy-warning.md");

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn release_of(src: &str, audience: &Audience) -> Release {
    let report = parse_report("r.md", src.as_bytes()).unwrap();
    Release::build(&report, audience, &Registry::new(vec![]))
}

fn event_of(src: &str, audience: &Audience, restricted: Restricted, now: &str) -> Value {
    let producer = Producer::new("Embassy security section", at("2026-01-01T00:00:00Z"));
    let ctx = Context {
        producer: &producer,
        now: at(now),
        restricted,
    };
    event(&release_of(src, audience), &ctx)
}

fn audiences() -> Vec<Audience> {
    Audience::defaults()
}

fn tags(ev: &Value) -> Vec<String> {
    ev["Event"]["Tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_audience_gets_exactly_one_tlp_tag_its_level() {
    for a in audiences() {
        let ev = event_of(EMBASSY, &a, Restricted::default(), "2026-03-20T09:00:00Z");
        let release = release_of(EMBASSY, &a);
        let tlp: Vec<String> = tags(&ev)
            .into_iter()
            .filter(|t| t.starts_with("tlp:"))
            .collect();
        assert_eq!(tlp, [tlp_tag(release.level())], "{}", a.name());
    }
    let spelt: Vec<&str> = Level::ALL.iter().map(|&l| tlp_tag(l)).collect();
    assert_eq!(
        spelt,
        [
            "tlp:clear",
            "tlp:green",
            "tlp:amber",
            "tlp:amber+strict",
            "tlp:red"
        ]
    );
}

#[test]
fn distribution_follows_the_audience_and_the_setting() {
    let d = |name: &str, r: Restricted| {
        let a = audiences().into_iter().find(|a| a.name() == name).unwrap();
        let ev = event_of(EMBASSY, &a, r, "2026-03-20T09:00:00Z");
        (
            ev["Event"]["distribution"].as_str().unwrap().to_string(),
            ev["Event"].get("SharingGroup").cloned(),
            ev["Event"].get("sharing_group_id").cloned(),
        )
    };
    let (public, sg, id) = d("public", Restricted::SharingGroup);
    assert_eq!((public.as_str(), sg, id), ("3", None, Some(json!("0"))));
    let (internal, sg, _) = d("internal", Restricted::SharingGroup);
    assert_eq!((internal.as_str(), sg), ("0", None));
    let (liaison, sg, id) = d("liaison", Restricted::SharingGroup);
    assert_eq!(liaison, "4");
    assert_eq!(
        id, None,
        "a sharing group is named by its UUID, not a local id"
    );
    let sg = sg.unwrap();
    assert_eq!(sg["name"], "liaison (Embassy security section)");
    assert_eq!(
        sg["SharingGroupOrg"][0]["Organisation"]["name"],
        "Embassy security section"
    );
    assert_eq!(d("liaison", Restricted::Community).0, "1");
    assert_eq!(d("liaison", Restricted::Organisation).0, "0");
    // The group is the same for every release to the audience.
    let other = "---\ntitle: Other\nproduced: 2026-04-01T08:00:00Z\n---\n\n(TLP:GREEN) text\n";
    let liaison = Audience::new("liaison", Level::Amber, false).unwrap();
    let a = event_of(
        EMBASSY,
        &liaison,
        Restricted::SharingGroup,
        "2026-03-20T09:00:00Z",
    );
    let b = event_of(
        other,
        &liaison,
        Restricted::SharingGroup,
        "2026-04-01T09:00:00Z",
    );
    assert_eq!(
        a["Event"]["SharingGroup"]["uuid"],
        b["Event"]["SharingGroup"]["uuid"]
    );
}

/// Every UUID in an event, with where it is.
fn uuids(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{path}.{k}");
                if k == "uuid" || k.ends_with("_uuid") {
                    out.push((p.clone(), x.as_str().unwrap_or("").to_string()));
                }
                uuids(x, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                uuids(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn a_release_again_gives_the_same_uuids_and_a_new_timestamp() {
    let liaison = Audience::new("liaison", Level::Amber, false).unwrap();
    let a = event_of(
        EMBASSY,
        &liaison,
        Restricted::default(),
        "2026-03-20T09:00:00Z",
    );
    let b = event_of(
        EMBASSY,
        &liaison,
        Restricted::default(),
        "2026-03-21T09:00:00Z",
    );
    let (mut ua, mut ub) = (Vec::new(), Vec::new());
    uuids(&a, "", &mut ua);
    uuids(&b, "", &mut ub);
    assert!(ua.len() > 8, "{ua:?}");
    assert_eq!(ua, ub);
    for (p, u) in &ua {
        assert!(uuid::Uuid::parse_str(u).is_ok(), "{p}: {u}");
    }
    assert_ne!(a["Event"]["timestamp"], b["Event"]["timestamp"]);
    // The event is the release's STIX report.
    let producer = Producer::new("Embassy security section", at("2026-01-01T00:00:00Z"));
    let report = tearline_stix::report_id(&release_of(EMBASSY, &liaison), &producer);
    assert_eq!(a["Event"]["uuid"], report.uuid().to_string());
    assert_eq!(a["Event"]["Orgc"]["uuid"], producer.id.uuid().to_string());
    // Another audience's release is another event, with other parts.
    let public = Audience::new("public", Level::Clear, false).unwrap();
    let c = event_of(
        EMBASSY,
        &public,
        Restricted::default(),
        "2026-03-20T09:00:00Z",
    );
    assert_ne!(a["Event"]["uuid"], c["Event"]["uuid"]);
    assert_ne!(
        a["Event"]["EventReport"][0]["uuid"],
        c["Event"]["EventReport"][0]["uuid"]
    );
}

#[test]
fn groups_are_galaxy_clusters_where_misp_knows_them() {
    let liaison = Audience::new("liaison", Level::Amber, false).unwrap();
    let ev = event_of(
        EMBASSY,
        &liaison,
        Restricted::default(),
        "2026-03-20T09:00:00Z",
    );
    let tag = "misp-galaxy:canada-listed-terrorist-entities=\"Islamic State Khorasan Province\"";
    assert!(tags(&ev).contains(&tag.to_string()), "{:?}", tags(&ev));
    let g = &ev["Event"]["Galaxy"][0];
    assert_eq!(g["type"], "canada-listed-terrorist-entities");
    assert_eq!(g["GalaxyCluster"][0]["tag_name"], tag);
    assert_eq!(
        g["GalaxyCluster"][0]["value"],
        "Islamic State Khorasan Province"
    );
    let actor = ev["Event"]["Attribute"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "threat-actor")
        .unwrap();
    assert_eq!(actor["value"], "Wilayat Khorasan");
    assert_eq!(actor["category"], "Attribution");
    // The public gets the substitute, which names no group: no cluster.
    let public = Audience::new("public", Level::Clear, false).unwrap();
    let ev = event_of(
        EMBASSY,
        &public,
        Restricted::default(),
        "2026-03-20T09:00:00Z",
    );
    assert!(!tags(&ev).iter().any(|t| t.starts_with("misp-galaxy:")));
    assert_eq!(ev["Event"]["Galaxy"], json!([]));
    assert!(!ev.to_string().contains("Khorasan"));
    // A cyber threat actor in an actor span.
    let src = "---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\n---\n\n(TLP:GREEN) [Fancy Bear]{actor} targets [embassies]{target}.\n";
    let ev = event_of(
        src,
        &public_green(),
        Restricted::default(),
        "2026-03-20T09:00:00Z",
    );
    assert!(tags(&ev).contains(&"misp-galaxy:threat-actor=\"APT28\"".to_string()));
}

fn public_green() -> Audience {
    Audience::new("partners", Level::Green, false).unwrap()
}

#[test]
fn the_window_is_the_date_a_cap_object_and_expiration_sightings() {
    let liaison = Audience::new("liaison", Level::Amber, false).unwrap();
    let ev = event_of(
        EMBASSY,
        &liaison,
        Restricted::default(),
        "2026-03-20T09:00:00Z",
    );
    let e = &ev["Event"];
    assert_eq!(e["date"], "2026-03-20");
    let cap = &e["Object"][0];
    assert_eq!(cap["name"], "cap-info");
    assert_eq!(cap["template_uuid"], "826c25e6-fdd5-4e4a-b081-be5ba3ac2c3d");
    assert_eq!(cap["first_seen"], "2026-03-20T08:00:00+00:00");
    assert_eq!(cap["last_seen"], "2026-03-22T08:00:00+00:00");
    let rel = |r: &str| {
        cap["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["object_relation"] == r)
            .map(|a| (a["type"].clone(), a["value"].clone()))
            .unwrap()
    };
    assert_eq!(
        rel("expires"),
        (json!("datetime"), json!("2026-03-22T08:00:00+00:00"))
    );
    assert_eq!(
        rel("effective"),
        (json!("datetime"), json!("2026-03-20T08:00:00+00:00"))
    );
    assert_eq!(rel("category").1, "Security");
    let until = at("2026-03-22T08:00:00Z").timestamp().to_string();
    for a in e["Attribute"].as_array().unwrap() {
        assert_eq!(a["Sighting"][0]["type"], "2", "{a}");
        assert_eq!(
            a["Sighting"][0]["Organisation"]["name"],
            "Embassy security section"
        );
        assert_eq!(a["Sighting"][0]["date_sighting"], until.as_str());
    }
    // A report with no window has no window object and no sightings.
    let src = "---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\n---\n\n(TLP:GREEN) An attack on [concerts]{target} in [Moscow]{place}.\n";
    let ev = event_of(
        src,
        &public_green(),
        Restricted::default(),
        "2026-03-21T09:00:00Z",
    );
    assert_eq!(ev["Event"]["Object"], json!([]));
    assert_eq!(ev["Event"]["date"], "2026-03-20");
    assert!(ev["Event"]["Attribute"][0].get("Sighting").is_none());
}

#[test]
fn the_text_is_an_event_report_and_the_profile_is_tagged() {
    let liaison = Audience::new("liaison", Level::Amber, false).unwrap();
    let ev = event_of(
        EMBASSY,
        &liaison,
        Restricted::default(),
        "2026-03-20T09:00:00Z",
    );
    let e = &ev["Event"];
    assert_eq!(e["info"], "Security alert - threat to large gatherings");
    let report = &e["EventReport"][0];
    assert_eq!(report["name"], e["info"]);
    let content = report["content"].as_str().unwrap();
    assert!(content.contains("(TLP:AMBER) Two operatives armed with automatic rifles"));
    assert!(!content.contains("SAPPHIRE") && !content.contains("Crocus"));
    let t = tags(&ev);
    for d in ["who", "what", "where", "when", "how"] {
        assert_eq!(
            t.iter()
                .filter(|x| x.starts_with(&format!("tearline:specificity-{d}=")))
                .count(),
            1,
            "{t:?}"
        );
    }
    assert!(t.contains(&"tearline:audience=\"liaison\"".to_string()));
    assert!(t.contains(&"tearline:specificity-who=\"named group\"".to_string()));
}

/// MISP's category for each attribute type this crate writes, from the
/// core format's table of valid combinations.
#[test]
fn attribute_categories_and_types_are_valid_combinations() {
    let valid = [
        ("Attribution", "threat-actor"),
        ("Targeting data", "target-location"),
        ("Targeting data", "target-org"),
        ("Targeting data", "target-external"),
        ("Other", "text"),
        ("Other", "datetime"),
    ];
    let src = "---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\nvalid_until: 2026-03-22T08:00:00Z\n---\n\n(TLP:GREEN) [Fancy Bear]{actor} and the [FSB]{org} at [Crocus City Hall]{venue} in [Moscow]{place}: [concerts]{target}.\n";
    let ev = event_of(
        src,
        &public_green(),
        Restricted::default(),
        "2026-03-20T09:00:00Z",
    );
    let mut all: Vec<&Value> = ev["Event"]["Attribute"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    for o in ev["Event"]["Object"].as_array().unwrap() {
        all.extend(o["Attribute"].as_array().unwrap());
    }
    assert!(all.len() >= 11, "{}", all.len());
    for a in all {
        let pair = (a["category"].as_str().unwrap(), a["type"].as_str().unwrap());
        assert!(valid.contains(&pair), "{pair:?}");
    }
}

#[test]
fn tlp_tags_read_fail_closed() {
    let cases = [
        ("tlp:clear", Some(Level::Clear)),
        ("TLP:WHITE", Some(Level::Clear)),
        ("tlp:green", Some(Level::Green)),
        (" tlp:amber ", Some(Level::Amber)),
        ("tlp:amber+strict", Some(Level::AmberStrict)),
        ("tlp:red", Some(Level::Red)),
        ("tlp:unclear", Some(Level::Red)),
        ("tlp:purple", Some(Level::Red)),
        ("tlp:ex:chr", None),
        ("pap:green", None),
        ("misp-galaxy:threat-actor=\"APT28\"", None),
    ];
    for (tag, level) in cases {
        assert_eq!(tag_level(tag), level, "{tag}");
    }
}

fn one(json: &Value) -> EventDoc {
    let mut all = read_events(json.to_string().as_bytes()).unwrap();
    assert_eq!(all.len(), 1);
    all.remove(0).unwrap()
}

#[test]
fn a_release_reads_back_with_its_marking_groups_window_and_text() {
    for a in audiences() {
        let ev = event_of(EMBASSY, &a, Restricted::default(), "2026-03-20T09:00:00Z");
        let release = release_of(EMBASSY, &a);
        let doc = one(&ev);
        assert_eq!(doc.marking, release.level(), "{}", a.name());
        assert!(doc.tagged);
        assert_eq!(doc.info, release.title());
        assert_eq!(doc.published.as_deref(), Some("2026-03-20"));
        assert_eq!(
            doc.window,
            Some((Some("2026-03-20".into()), "2026-03-22".into()))
        );
        assert!(doc.text.contains("Avoid crowded places"), "{}", doc.text);
        assert!(!doc.text.contains("(TLP:"), "markings are not text");
        let named = doc.groups.iter().any(|g| g.name == "Wilayat Khorasan");
        assert_eq!(
            named,
            a.max() >= Level::Amber,
            "{}: {:?}",
            a.name(),
            doc.groups
        );
    }
}

#[test]
fn an_untagged_event_is_red_and_tags_anywhere_raise_the_marking() {
    let bare = json!({"info": "Untagged", "Attribute": [{"type": "text", "value": "a note"}]});
    let doc = one(&bare);
    assert_eq!((doc.marking, doc.tagged), (Level::Red, false));
    assert_eq!(doc.at, "Event");
    assert_eq!(doc.text, "Untagged\n\na note");

    let ev = json!({"Event": {"info": "Mixed", "uuid": "5e2e4f54-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        "Tag": [{"name": "tlp:white"}, {"name": "tlp:ex:chr"}],
        "Attribute": [
            {"type": "text", "value": "green note", "Tag": [{"name": "tlp:green"}]},
            {"type": "ip-dst", "value": "192.0.2.1", "comment": "seen at the gate"},
            {"type": "text", "value": "withdrawn", "deleted": true, "Tag": [{"name": "tlp:red"}]},
        ],
        "Object": [{"name": "report", "Attribute": [
            {"type": "text", "object_relation": "summary", "value": "amber summary", "Tag": [{"name": "tlp:amber"}]}]}]}});
    let doc = one(&ev);
    assert!(doc.tagged);
    assert_eq!(doc.marking, Level::Amber);
    assert_eq!(
        doc.uuid.as_deref(),
        Some("5e2e4f54-1a2b-4c3d-8e9f-0a1b2c3d4e5f")
    );
    assert_eq!(
        doc.text,
        "Mixed\n\ngreen note\n\nseen at the gate\n\namber summary"
    );
    assert!(!doc.text.contains("192.0.2.1"), "addresses are not prose");
    assert!(
        !doc.text.contains("withdrawn"),
        "deleted attributes are skipped"
    );
}

#[test]
fn galaxy_clusters_tags_and_threat_actor_attributes_name_groups() {
    let ev = json!({"Event": {"info": "Cluster", "date": "2024-03-23",
        "Tag": [{"name": "tlp:green"},
                {"name": "misp-galaxy:canada-listed-terrorist-entities=\"Islamic State Khorasan Province\""},
                {"name": "misp-galaxy:sector=\"Entertainment\""}],
        "Galaxy": [{"type": "threat-actor", "name": "Threat Actor", "GalaxyCluster": [
            {"type": "threat-actor", "value": "Sandworm", "meta": {"synonyms": ["Voodoo Bear"]}}]},
            {"type": "country", "GalaxyCluster": [{"type": "country", "value": "russia"}]}],
        "Attribute": [{"type": "threat-actor", "value": "Turla"}],
        "EventReport": [{"name": "Cluster", "content": "The group @[attribute](5e2e4f54-1a2b-4c3d-8e9f-0a1b2c3d4e5f) struck @[tag](tlp:green)."}]}});
    let doc = one(&ev);
    let names: Vec<&str> = doc.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        ["Islamic State Khorasan Province", "Sandworm", "Turla"]
    );
    assert!(doc.groups[0].synonyms.iter().any(|s| s == "ISIS-K"));
    assert_eq!(doc.groups[1].synonyms, ["Voodoo Bear"]);
    assert_eq!(doc.published.as_deref(), Some("2024-03-23"));
    assert!(doc.text.contains("The group  struck ."), "{}", doc.text);
}

#[test]
fn lists_and_search_answers_read_each_event_on_its_own() {
    let list = json!([{"Event": {"info": "one", "Tag": [{"name": "tlp:green"}]}}, {"info": 7}, {"info": "three"}]);
    let all = read_events(list.to_string().as_bytes()).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].as_ref().unwrap().at, "[0].Event");
    assert_eq!(
        all[1].as_ref().unwrap_err().to_string(),
        "[1]: field `[1].info` is not a string"
    );
    assert_eq!(all[2].as_ref().unwrap().marking, Level::Red);
    let answer = json!({"response": [{"Event": {"info": "x", "timestamp": "1711152000"}}]});
    let all = read_events(answer.to_string().as_bytes()).unwrap();
    let doc = all[0].as_ref().unwrap();
    assert_eq!(doc.at, "response[0].Event");
    assert_eq!(doc.published.as_deref(), Some("2024-03-23T00:00:00Z"));
}

#[test]
fn bad_input_is_named_by_event_and_field() {
    let file_err = |s: &str| read_events(s.as_bytes()).unwrap_err().to_string();
    assert!(
        file_err("{nope").starts_with("not JSON"),
        "{}",
        file_err("{nope")
    );
    assert!(file_err("{\"id\": 1}").starts_with("not a MISP event"));
    assert!(file_err("[]").contains("no MISP event"));
    assert!(file_err("{\"response\": 3}").contains("`response` is not a list"));
    let ev_err = |v: Value| {
        read_events(v.to_string().as_bytes()).unwrap()[0]
            .as_ref()
            .unwrap_err()
            .to_string()
    };
    let u = "5e2e4f54-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
    assert_eq!(
        ev_err(json!({"Event": {"uuid": u}})),
        format!("Event (uuid {u}): field `Event.info` is missing")
    );
    assert_eq!(
        ev_err(json!({"Event": {"info": "x", "uuid": "nope"}})),
        "Event: field `Event.uuid` is not a UUID"
    );
    assert_eq!(
        ev_err(json!({"Event": {"info": "x", "Tag": [{"name": 3}]}})),
        "Event: field `Event.Tag[0].name` is not a string"
    );
    assert_eq!(
        ev_err(json!({"Event": {"info": "x", "Tag": "tlp:green"}})),
        "Event: field `Event.Tag` is not a list"
    );
    assert_eq!(
        ev_err(json!({"Event": {"info": "x", "date": "23/03/2024"}})),
        "Event: field `Event.date`: `23/03/2024` is not a date (YYYY-MM-DD)"
    );
    assert_eq!(
        ev_err(json!({"Event": {"info": "x", "Attribute": [{"type": "text"}]}})),
        "Event: field `Event.Attribute[0].value` is missing"
    );
    assert_eq!(
        ev_err(
            json!({"Event": {"info": "x", "Attribute": [{"type": "text", "value": "v", "Tag": [{"name": "tlp:red"}, {}]}]}})
        ),
        "Event: field `Event.Attribute[0].Tag[1].name` is missing"
    );
    assert_eq!(
        ev_err(json!({"Event": {"info": "x", "timestamp": "soon"}})),
        "Event: field `Event.timestamp` is not a Unix time (seconds since 1970)"
    );
    assert!(ev_err(json!({"Event": {"info": " "}})).contains("the event has no text"));
}

#[test]
fn a_manifest_lists_event_uuids_and_refuses_anything_else() {
    let u = "5e2e4f54-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
    let h = "ab".repeat(32);
    let m = json!({u: {"info": "x", "integrity:sha256": h.to_uppercase()}});
    assert_eq!(
        read_manifest(m.to_string().as_bytes()).unwrap(),
        [ManifestEntry {
            uuid: u.into(),
            sha256: Some(h)
        }]
    );
    let bad = json!({"../../etc/passwd": {"info": "x"}});
    let e = read_manifest(bad.to_string().as_bytes()).unwrap_err();
    assert_eq!(e.to_string(), "key `../../etc/passwd` is not an event UUID");
    let bad = json!({u: {"integrity:sha256": "xyz"}});
    assert!(read_manifest(bad.to_string().as_bytes())
        .unwrap_err()
        .to_string()
        .contains("integrity:sha256"));
    assert!(read_manifest(b"[]").is_err());
}
