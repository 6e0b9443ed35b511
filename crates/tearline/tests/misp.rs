//! End-to-end tests of MISP at the command line: `release --format misp`
//! (one event per audience, its marking, distribution and groups; the leak
//! check over every field of it) and `ingest` of MISP events and feeds
//! (marking, an untagged event as RED, galaxy clusters as groups).
//!
//! The expected events of the embassy warning are in
//! `tests/data/misp/` (`UPDATE_EXPECT=1` rewrites them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

mod common;

const AUDIENCES: [&str; 5] = [
    "internal",
    "liaison",
    "public",
    "liaison-north",
    "liaison-south",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tl(node: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tearline"))
        .arg("--node")
        .arg(node)
        .args(args)
        .env("TEARLINE_NOW", "2026-03-20T09:00:00Z")
        .env("TEARLINE_ACTOR", "tester")
        .env_remove("TEARLINE_HOME")
        .output()
        .expect("run tearline")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        out(o),
        err(o)
    );
    out(o)
}

/// A node with the example registry and two liaison partners.
fn node() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ok(&tl(
        dir.path(),
        &["init", "--name", "Embassy security section"],
    ));
    let reg = repo().join("examples/registry.tsv");
    ok(&tl(
        dir.path(),
        &["protect", "import", reg.to_str().unwrap()],
    ));
    for a in ["liaison-north", "liaison-south"] {
        ok(&tl(dir.path(), &["audience", "add", a, "--max", "AMBER"]));
    }
    dir
}

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    v.sort();
    v
}

fn release(node: &Path, report: &Path, audience: &str, format: &str) -> Output {
    tl(
        node,
        &[
            "release",
            report.to_str().unwrap(),
            "--to",
            audience,
            "--format",
            format,
        ],
    )
}

fn json_of(o: &Output) -> Value {
    serde_json::from_str(&ok(o)).unwrap()
}

fn tag_names(ev: &Value) -> Vec<String> {
    ev["Event"]["Tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

fn expect(file: &Path, actual: &str) {
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(file).unwrap_or_else(|e| {
        panic!(
            "missing expected file {} ({e}); run with UPDATE_EXPECT=1",
            file.display()
        )
    });
    assert_eq!(actual, want, "output differs from {}", file.display());
}

#[test]
fn every_example_releases_as_a_misp_event_with_one_tlp_tag_its_marking() {
    let n = node();
    for ex in examples() {
        for aud in AUDIENCES {
            let marking = json_of(&release(n.path(), &ex, aud, "json"))["marking"]
                .as_str()
                .unwrap()
                .to_string();
            let ev = json_of(&release(n.path(), &ex, aud, "misp"));
            let want = format!("tlp:{}", marking["TLP:".len()..].to_lowercase());
            let tlp: Vec<String> = tag_names(&ev)
                .into_iter()
                .filter(|t| t.to_lowercase().starts_with("tlp:"))
                .collect();
            assert_eq!(tlp, [want], "{} to {aud}", ex.display());
            let e = &ev["Event"];
            let distribution = match aud {
                "public" => "3",
                "internal" => "0",
                _ => "4",
            };
            assert_eq!(e["distribution"], distribution, "{aud}");
            let md = ok(&release(n.path(), &ex, aud, "md"));
            assert!(md.contains(&format!("title: {}", e["info"].as_str().unwrap())));
            let body = md.split("\n---\n\n").nth(1).unwrap();
            assert_eq!(e["EventReport"][0]["content"], body, "{aud}");
        }
    }
    ok(&tl(n.path(), &["audit", "verify"]));
}

#[test]
fn the_embassy_warning_events_match_expected_files() {
    let n = node();
    let ex = repo().join("examples/embassy-warning.md");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/misp");
    for aud in AUDIENCES {
        let o = ok(&release(n.path(), &ex, aud, "misp"));
        expect(&data.join(format!("embassy-warning.{aud}.json")), &o);
    }
    // Released again later: the same event (same UUIDs), a new timestamp.
    let a = json_of(&release(n.path(), &ex, "liaison", "misp"));
    let later = Command::new(env!("CARGO_BIN_EXE_tearline"))
        .args(["--node", n.path().to_str().unwrap(), "release"])
        .arg(&ex)
        .args(["--to", "liaison", "--format", "misp"])
        .env("TEARLINE_NOW", "2026-03-21T09:00:00Z")
        .env_remove("TEARLINE_HOME")
        .output()
        .unwrap();
    let b = json_of(&later);
    assert_eq!(a["Event"]["uuid"], b["Event"]["uuid"]);
    assert_eq!(
        a["Event"]["Attribute"][0]["uuid"],
        b["Event"]["Attribute"][0]["uuid"]
    );
    assert_ne!(a["Event"]["timestamp"], b["Event"]["timestamp"]);
    // The MISP event is the release's STIX report.
    let stix = json_of(&release(n.path(), &ex, "liaison", "stix"));
    let report = stix["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["type"] == "report")
        .unwrap();
    assert_eq!(
        report["id"],
        format!("report--{}", a["Event"]["uuid"].as_str().unwrap())
    );
}

#[test]
fn misp_distribution_of_partner_audiences_is_a_setting() {
    let n = node();
    let settings = n.path().join("tearline.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    // A new node writes the default down.
    let default = "[misp]\ndistribution = \"sharing-group\"\n";
    assert!(text.contains(default), "{text}");
    let set = |value: &str| {
        let with = text.replace(default, &format!("[misp]\ndistribution = \"{value}\"\n"));
        std::fs::write(&settings, with).unwrap();
    };
    set("community");
    let ex = repo().join("examples/embassy-warning.md");
    let ev = json_of(&release(n.path(), &ex, "liaison", "misp"));
    assert_eq!(ev["Event"]["distribution"], "1");
    assert!(ev["Event"].get("SharingGroup").is_none());
    // The public and the node's own staff are not a matter of setting.
    assert_eq!(
        json_of(&release(n.path(), &ex, "public", "misp"))["Event"]["distribution"],
        "3"
    );
    set("organisation");
    assert_eq!(
        json_of(&release(n.path(), &ex, "liaison", "misp"))["Event"]["distribution"],
        "0"
    );
    set("everyone");
    let o = release(n.path(), &ex, "liaison", "misp");
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(
        err(&o).contains("unknown variant `everyone`"),
        "{}",
        err(&o)
    );
}

#[test]
fn a_misp_release_naming_a_registered_term_is_refused_and_nothing_is_written() {
    let n = node();
    let ex = repo().join("examples/embassy-warning.md");
    // The group's name in MISP's galaxy is registered: the text never
    // holds it (the report says "Wilayat Khorasan"), the event's galaxy
    // tag and cluster would.
    ok(&tl(
        n.path(),
        &[
            "protect",
            "add",
            "Islamic State Khorasan Province",
            "--kind",
            "case",
        ],
    ));
    let before = ok(&tl(n.path(), &["audit", "log", "--json"]));
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("liaison.misp.json");
    let o = tl(
        n.path(),
        &[
            "release",
            ex.to_str().unwrap(),
            "--to",
            "liaison",
            "--format",
            "misp",
            "-o",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains("Event.Tag[1].name at line 1, column 47: registered case term"),
        "{e}"
    );
    assert!(
        e.contains("Event.Galaxy[0].GalaxyCluster[0].value at line 1"),
        "every field is checked: {e}"
    );
    assert!(
        e.contains("refused by the leak check") && e.contains("nothing was written"),
        "{e}"
    );
    assert!(!target.exists());
    assert_eq!(ok(&tl(n.path(), &["audit", "log", "--json"])), before);
    // The Markdown release of the same report passes: it never names the
    // galaxy's cluster.
    let md = ok(&release(n.path(), &ex, "liaison", "md"));
    assert!(md.contains("Wilayat Khorasan"));
    // A registered term in the output file's name is refused too.
    let named = dir.path().join("SAPPHIRE.misp.json");
    let o = tl(
        n.path(),
        &[
            "release",
            ex.to_str().unwrap(),
            "--to",
            "public",
            "--format",
            "misp",
            "-o",
            named.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", err(&o));
    assert!(!named.exists());
}

fn case_docs(node: &Path) -> Vec<Value> {
    let cases = json_of(&tl(node, &["cases", "--json"]));
    let mut docs = Vec::new();
    for c in cases.as_array().unwrap() {
        let id = c["id"].as_i64().unwrap().to_string();
        let v = json_of(&tl(node, &["case", &id, "--json"]));
        for d in v["documents"].as_array().unwrap() {
            let mut d = d.clone();
            d["entities"] = v["entities"].clone();
            docs.push(d);
        }
    }
    docs
}

fn doc_titled<'a>(docs: &'a [Value], title: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["title"] == title)
        .unwrap_or_else(|| panic!("no document `{title}` in {docs:#?}"))
}

#[test]
fn ingest_reads_misp_events_with_and_without_tlp() {
    let n = node();
    let dir = tempfile::tempdir().unwrap();
    let events = json!({"response": [
        {"Event": {"uuid": "0b7f8c1e-2d3a-4b5c-8d6e-7f8091a2b3c4", "info": "Threat to concerts in Moscow",
            "date": "2024-03-07", "Tag": [{"name": "tlp:green"}],
            "Galaxy": [{"type": "canada-listed-terrorist-entities", "name": "Canada Listed Terrorist Entities",
                "GalaxyCluster": [{"type": "canada-listed-terrorist-entities", "value": "Islamic State Khorasan Province"}]}],
            "EventReport": [{"name": "Warning", "content": "Extremists plan to attack concerts in Moscow within 48 hours."}],
            "Attribute": [{"type": "target-location", "category": "Targeting data", "value": "Moscow", "comment": "the city named in the warning"}]}},
        {"Event": {"uuid": "1c8f9d2f-3e4b-4c6d-9e7f-8091a2b3c4d5", "info": "Untagged note on Sandworm",
            "date": "2024-03-08", "Tag": [{"name": "misp-galaxy:threat-actor=\"Sandworm\""}],
            "Attribute": [{"type": "text", "value": "A note with no marking at all."}]}},
        {"Event": {"uuid": "2d9fae30-4f5c-4d7e-8f80-91a2b3c4d5e6", "info": "Old white event",
            "date": "2024-03-09", "Tag": [{"name": "tlp:white"}],
            "Attribute": [{"type": "comment", "value": "Published guidance.", "Tag": [{"name": "tlp:amber"}]}]}}
    ]});
    let file = dir.path().join("events.json");
    std::fs::write(&file, events.to_string()).unwrap();
    let o = ok(&tl(n.path(), &["ingest", file.to_str().unwrap()]));
    assert!(o.contains("3 document(s) stored"), "{o}");
    let docs = case_docs(n.path());
    let tagged = doc_titled(&docs, "Threat to concerts in Moscow");
    assert_eq!(tagged["marking"], "TLP:GREEN");
    assert_eq!(tagged["id"], "misp:0b7f8c1e-2d3a-4b5c-8d6e-7f8091a2b3c4");
    assert_eq!(tagged["published"], "2024-03-07");
    assert!(
        tagged["entities"].to_string().contains("group:is-k"),
        "the galaxy cluster is the known group: {}",
        tagged["entities"]
    );
    let untagged = doc_titled(&docs, "Untagged note on Sandworm");
    assert_eq!(untagged["marking"], "TLP:RED", "an untagged event is RED");
    assert!(untagged["entities"]
        .to_string()
        .contains("group:new:sandworm"));
    // TLP 1.0's white is CLEAR; an attribute tagged AMBER raises it.
    assert_eq!(doc_titled(&docs, "Old white event")["marking"], "TLP:AMBER");
    // The case listing shows the marking too.
    let c = tl(n.path(), &["case", "1"]);
    assert!(out(&c).contains("(TLP:"), "{}", out(&c));
    // Again: nothing changes.
    let again = ok(&tl(n.path(), &["ingest", file.to_str().unwrap()]));
    assert!(again.contains("0 document(s) stored") && again.contains("3 unchanged"));
}

#[test]
fn a_misp_release_reads_back_with_its_marking_and_group() {
    let n = node();
    let ex = repo().join("examples/embassy-warning.md");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("liaison.json");
    ok(&tl(
        n.path(),
        &[
            "release",
            ex.to_str().unwrap(),
            "--to",
            "liaison",
            "--format",
            "misp",
            "-o",
            file.to_str().unwrap(),
        ],
    ));
    let other = tempfile::tempdir().unwrap();
    ok(&tl(other.path(), &["init"]));
    ok(&tl(other.path(), &["ingest", file.to_str().unwrap()]));
    let docs = case_docs(other.path());
    let d = doc_titled(&docs, "Security alert - threat to large gatherings");
    assert_eq!(d["marking"], "TLP:AMBER");
    assert!(d["entities"].to_string().contains("group:is-k"));
    // The sender keeps the full report as a document, at its highest
    // portion's level.
    let docs = case_docs(n.path());
    let d = doc_titled(&docs, "Security alert - threat to large gatherings");
    assert_eq!(d["marking"], "TLP:RED");
}

#[test]
fn a_misp_feed_is_read_by_its_manifest_and_bad_events_are_named() {
    let n = node();
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed");
    std::fs::create_dir(&feed).unwrap();
    let good = "3eaabf41-5a6d-4e8f-9091-a2b3c4d5e6f7";
    let altered = "4fbbc052-6b7e-4f90-a1a2-b3c4d5e6f708";
    let broken = "50ccd163-7c8f-4a01-b2b3-c4d5e6f70819";
    let missing = "61dde274-8d90-4b12-83c4-d5e6f708192a";
    let ev = |uuid: &str, info: &str| {
        json!({"Event": {"uuid": uuid, "info": info, "date": "2024-03-10", "Tag": [{"name": "tlp:amber"}]}})
            .to_string()
    };
    std::fs::write(feed.join(format!("{good}.json")), ev(good, "Feed event")).unwrap();
    std::fs::write(
        feed.join(format!("{altered}.json")),
        ev(altered, "Altered event"),
    )
    .unwrap();
    std::fs::write(
        feed.join(format!("{broken}.json")),
        json!({"Event": {"uuid": broken, "info": "Broken", "Tag": [{"name": 3}]}}).to_string(),
    )
    .unwrap();
    // Not in the manifest: not part of the feed.
    std::fs::write(feed.join("stray.json"), ev(good, "Stray")).unwrap();
    std::fs::write(feed.join("hashes.csv"), "").unwrap();
    let manifest = json!({
        good: {"info": "Feed event", "Orgc": {"name": "x", "uuid": good}, "timestamp": "1", "date": "2024-03-10", "analysis": "2", "threat_level_id": "4"},
        altered: {"info": "Altered event", "Orgc": {"name": "x", "uuid": good}, "timestamp": "1", "date": "2024-03-10",
                  "integrity:sha256": "0".repeat(64)},
        broken: {"info": "Broken", "Orgc": {"name": "x", "uuid": good}, "timestamp": "1", "date": "2024-03-10"},
        missing: {"info": "Missing", "Orgc": {"name": "x", "uuid": good}, "timestamp": "1", "date": "2024-03-10"},
    });
    std::fs::write(feed.join("manifest.json"), manifest.to_string()).unwrap();
    let o = tl(n.path(), &["ingest", feed.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    let e = err(&o);
    for want in [
        format!("{altered}.json: its SHA-256 is"),
        format!("{broken}.json: Event (uuid {broken}): field `Event.Tag[0].name` is not a string"),
        format!("{missing}.json: cannot read it"),
    ] {
        assert!(e.contains(&want), "missing `{want}` in:\n{e}");
    }
    assert!(
        out(&o).contains("1 document(s) stored") && out(&o).contains("3 refused"),
        "{}",
        out(&o)
    );
    let docs = case_docs(n.path());
    assert_eq!(docs.len(), 1, "{docs:#?}");
    assert_eq!(docs[0]["title"], "Feed event");
    // A manifest that names a file outside the feed stops the whole run.
    std::fs::write(
        feed.join("manifest.json"),
        json!({"../../secret": {"info": "x"}}).to_string(),
    )
    .unwrap();
    let o = tl(n.path(), &["ingest", feed.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(
        err(&o).contains(
            "manifest.json: not a MISP feed manifest: key `../../secret` is not an event UUID"
        ),
        "{}",
        err(&o)
    );
    // A file that is not MISP JSON is named.
    let notmisp = dir.path().join("other.json");
    std::fs::write(&notmisp, "{\"id\": 1}").unwrap();
    let o = tl(n.path(), &["ingest", notmisp.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        err(&o).contains("other.json: not a MISP event"),
        "{}",
        err(&o)
    );
}
