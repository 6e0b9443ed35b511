//! End-to-end tests of reading documents in: `extract`, `ingest`, `cases`,
//! `case`, `eval`.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tl(node: &Path, args: &[&str]) -> Output {
    tl_at(node, "2026-03-20T09:00:00Z", args)
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn node() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node");
    let o = tl(&node, &["init", node.to_str().unwrap()]);
    assert!(o.status.success(), "{}", err(&o));
    (dir, node)
}

fn cases_json(node: &Path) -> serde_json::Value {
    let o = tl(node, &["cases", "--json"]);
    assert!(o.status.success(), "{}", err(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn extract_prints_offsets_ids_and_resolved_dates() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.txt");
    let text = "Kremlin spokesman Dmitry Peskov said on Friday that ISIS-K, also called Wilayat Khorasan, had killed at least 143 people at Crocus City Hall.";
    std::fs::write(&f, text).unwrap();
    let o = tl(
        dir.path(),
        &[
            "extract",
            f.to_str().unwrap(),
            "--published",
            "2024-03-23",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ents = v["entities"].as_array().unwrap();
    let chars: Vec<char> = text.chars().collect();
    for e in ents {
        let (s, t) = (
            e["start"].as_u64().unwrap() as usize,
            e["end"].as_u64().unwrap() as usize,
        );
        let surface: String = chars[s..t].iter().collect();
        assert_eq!(surface, e["text"].as_str().unwrap(), "offsets of {e}");
    }
    let find = |ty: &str, text: &str| {
        ents.iter()
            .find(|e| e["type"] == ty && e["text"] == text)
            .unwrap_or_else(|| panic!("no {ty} `{text}` in {ents:?}"))
    };
    assert_eq!(find("group", "ISIS-K")["id"], "group:is-k");
    assert_eq!(find("group", "Wilayat Khorasan")["id"], "group:is-k");
    assert_eq!(find("group", "ISIS-K")["parent"], "group:is");
    assert_eq!(find("person", "Dmitry Peskov")["role"], "Kremlin spokesman");
    assert_eq!(find("date", "on Friday")["date"], "2024-03-22");
    assert_eq!(
        find("casualty", "killed at least 143 people")["figure"]["min"],
        143
    );
    assert_eq!(find("place", "Crocus City Hall")["place_kind"], "venue");
}

#[test]
fn ingest_links_cases_and_is_idempotent() {
    let (dir, node) = node();
    let docs = dir.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(
        docs.join("news.jsonl"),
        concat!(
            r#"{"id":"w1","published":"2024-03-07","lang":"en","text":"The US Embassy in Moscow warned that ISIS-K plans to attack concerts in Moscow over the next 48 hours."}"#, "\n",
            r#"{"id":"n1","published":"2024-03-08","text":"Analysts saw Wilayat Khorasan supporters in Moscow discussing concerts on Thursday."}"#, "\n",
            r#"{"id":"a1","published":"2024-03-23","text":"Gunmen attacked Crocus City Hall in Krasnogorsk near Moscow on Friday, killing at least 143 people. Islamic State claimed the attack."}"#, "\n",
        ),
    )
    .unwrap();
    std::fs::write(docs.join("a2.html"), "<html><head><title>Toll rises</title><meta property=\"article:published_time\" content=\"2024-03-24T10:00:00Z\"></head><body><script>var x = 'Kabul';</script><p>The death toll in the Crocus City Hall attack rose to 137 on Saturday, the Investigative Committee said.</p></body></html>").unwrap();
    let o = tl(&node, &["ingest", docs.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", out(&o), err(&o));
    assert!(out(&o).contains("4 document(s) stored"), "{}", out(&o));
    let cases = cases_json(&node);
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 2, "{cases:?}");
    let sizes: Vec<i64> = cases
        .iter()
        .map(|c| c["documents"].as_i64().unwrap())
        .collect();
    assert_eq!(sizes, [2, 2]);
    // Again: nothing changes.
    let o = tl(&node, &["ingest", docs.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(
        out(&o).contains("0 document(s) stored") && out(&o).contains("4 unchanged"),
        "{}",
        out(&o)
    );
    assert_eq!(cases_json(&node).as_array().unwrap().len(), 2);
    // The attack's case: timeline and fact table with the disagreement.
    let attack = cases
        .iter()
        .find(|c| c["titles"].to_string().contains("Toll rises"))
        .unwrap();
    let id = attack["id"].as_i64().unwrap().to_string();
    let o = tl(&node, &["case", &id, "--json"]);
    assert!(o.status.success(), "{}", err(&o));
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let deaths = c["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fact"] == "deaths")
        .unwrap();
    assert_eq!(deaths["conflict"], true, "{deaths}");
    assert!(c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["date"] == "2024-03-22"));
    assert!(c["entities"].to_string().contains("Crocus City Hall"));
    // The script's text was not read.
    assert!(!c.to_string().contains("Kabul"));
}

#[test]
fn bad_documents_are_named_and_the_rest_is_stored() {
    let (dir, node) = node();
    let docs = dir.path().join("bad");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(docs.join("empty.txt"), "").unwrap();
    std::fs::write(
        docs.join("binary.txt"),
        [0x7f, b'E', b'L', b'F', 0, 1, 2, 0],
    )
    .unwrap();
    std::fs::write(
        docs.join("latin1.txt"),
        b"Caf\xe9 in Paris was attacked on Monday.",
    )
    .unwrap();
    std::fs::write(
        docs.join("huge.txt"),
        "Moscow. ".repeat(50 * 1024 * 1024 / 8),
    )
    .unwrap();
    std::fs::write(
        docs.join("mixed.jsonl"),
        concat!(
            r#"{"id":"ok1","published":"2024-03-23","text":"ISIS-K attacked a concert in Moscow on Friday."}"#, "\n",
            r#"{"id":"broken","text": "unterminated"#, "\n",
            r#"{"id":"nodate","published":"yesterday","text":"x"}"#, "\n",
            r#"{"id":"notext","published":"2024-03-23"}"#, "\n",
            r#"{"id":"ok2","published":"2024-03-23","text":"Police in Paris arrested two men on Monday."}"#, "\n",
        ),
    )
    .unwrap();
    // A JSON line over the per-document limit, then a good one.
    let mut big = br#"{"id":"big","text":""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 17 * 1024 * 1024));
    big.extend(b"\"}\n");
    big.extend(br#"{"id":"ok3","published":"2024-03-23","text":"Police in Lyon arrested a man on Sunday."}"#);
    big.push(b'\n');
    std::fs::write(docs.join("big.jsonl"), big).unwrap();
    let o = tl(&node, &["ingest", docs.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    let e = err(&o);
    for expect in [
        "empty.txt: the file is empty",
        "binary.txt: a binary file",
        "latin1.txt: not UTF-8 text: byte 0xe9 at offset 3",
        "huge.txt: 52428800 bytes is over the 16 MiB limit",
        "mixed.jsonl:2: not a JSON object",
        "mixed.jsonl:3 (id nodate): field `published`: `yesterday` is not a date",
        "mixed.jsonl:4 (id notext): field `text` is missing or empty",
        "big.jsonl:1: the line is over the 16 MiB limit",
    ] {
        assert!(e.contains(expect), "missing `{expect}` in:\n{e}");
    }
    assert!(out(&o).contains("3 document(s) stored"), "{}", out(&o));
    assert!(out(&o).contains("8 refused"), "{}", out(&o));
    let total: i64 = cases_json(&node)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["documents"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 3);
}

fn tl_at(node: &Path, now: &str, args: &[&str]) -> Output {
    common::run_at(node, Some(now), args)
}

#[test]
fn related_lists_the_warning_on_the_same_threat_while_it_is_live() {
    let (dir, node) = node();
    let report = repo().join("examples/embassy-warning.md");
    let out_file = dir.path().join("public.md");
    let o = tl_at(
        &node,
        "2026-03-20T09:00:00Z",
        &[
            "release",
            report.to_str().unwrap(),
            "--to",
            "public",
            "-o",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    // An unrelated article and a related one.
    let docs = dir.path().join("news.jsonl");
    std::fs::write(
        &docs,
        concat!(
            r#"{"id":"far","published":"2026-03-19","text":"Boko Haram fighters attacked a school near Maiduguri on Tuesday."}"#, "\n",
            r#"{"id":"near","published":"2026-03-19","text":"Wilayat Khorasan supporters in Moscow discussed concerts on Tuesday, analysts said."}"#, "\n",
        ),
    )
    .unwrap();
    assert!(tl(&node, &["ingest", docs.to_str().unwrap()])
        .status
        .success());
    let draft = dir.path().join("draft.md");
    std::fs::write(
        &draft,
        "---\ntitle: Note on ISIS-K in Moscow\nproduced: 2026-03-21T08:00:00Z\n---\n\n(TLP:AMBER) [ISIS-K]{actor} cells in [Moscow]{place} discussed a concert venue.\n",
    )
    .unwrap();
    let related = |now: &str| -> serde_json::Value {
        let o = tl_at(&node, now, &["related", draft.to_str().unwrap(), "--json"]);
        assert!(o.status.success(), "{}", err(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let r = related("2026-03-21T09:00:00Z");
    let r = r.as_array().unwrap();
    assert_eq!(r[0]["warning"]["id"], 1, "{r:?}");
    assert_eq!(r[0]["warning"]["live"], true);
    assert!(r[0]["shared"]
        .to_string()
        .contains("Islamic State Khorasan Province"));
    assert!(r.iter().any(|d| d["id"] == "near"));
    assert!(!r.iter().any(|d| d["id"] == "far"), "{r:?}");
    // `check` carries the same section.
    let o = tl_at(
        &node,
        "2026-03-21T09:00:00Z",
        &["check", draft.to_str().unwrap()],
    );
    assert!(
        out(&o).contains("related warnings and documents:"),
        "{}",
        out(&o)
    );
    assert!(out(&o).contains("** warning 1 to public"), "{}", out(&o));
    // Forty days after the window, nobody has decided: the warning is due
    // for review, and still flagged — a lapsed window is not an answer.
    let warning_of = |now: &str| {
        related(now)
            .as_array()
            .unwrap()
            .iter()
            .find(|d| !d["warning"].is_null())
            .unwrap()
            .clone()
    };
    let w = warning_of("2026-05-01T09:00:00Z");
    assert_eq!(
        (
            w["warning"]["live"].as_bool(),
            w["warning"]["state"].as_str()
        ),
        (Some(true), Some("review due")),
        "{w}"
    );
    // Closed, it is still listed but no longer flagged.
    let o = tl_at(
        &node,
        "2026-05-01T09:00:00Z",
        &["warning", "close", "1", "--outcome", "not-confirmed"],
    );
    assert!(o.status.success(), "{}", err(&o));
    let w = warning_of("2026-05-01T09:00:00Z");
    assert_eq!(w["warning"]["live"], false, "{w}");
}
