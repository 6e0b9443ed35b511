//! End-to-end tests of the `tearline` binary.
//!
//! Data-driven where they can be: every example report's release to every
//! audience, and its `check` table, are compared with files in
//! `tests/data/examples/` (run with `UPDATE_EXPECT=1` to rewrite them after
//! an intended change); every bad report in `tests/data/bad/` must fail
//! with exit code 3 and the message in its `.err` file, leaving the store
//! untouched.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
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

/// `tearline release REPORT --to AUDIENCE -o OUT`.
fn release_to_file(node: &Path, report: &Path, audience: &str, out: &Path) -> Output {
    tl(
        node,
        &[
            "release",
            report.to_str().unwrap(),
            "--to",
            audience,
            "-o",
            out.to_str().unwrap(),
        ],
    )
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

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
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
    ok(&tl(
        dir.path(),
        &["audience", "add", "liaison-north", "--max", "AMBER"],
    ));
    ok(&tl(
        dir.path(),
        &["audience", "add", "liaison-south", "--max", "AMBER"],
    ));
    dir
}

fn expect(file: &Path, actual: &str) {
    if std::env::var_os("UPDATE_EXPECT").is_some() {
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

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    v.sort();
    assert!(v.len() >= 3, "the examples are missing");
    v
}

#[test]
fn example_releases_match_expected_files() {
    let n = node();
    for ex in examples() {
        let stem = ex.file_stem().unwrap().to_string_lossy().to_string();
        // Relative names keep the expected files free of temporary paths.
        let rel = format!("examples/{stem}.md");
        for aud in AUDIENCES {
            let o = Command::new(env!("CARGO_BIN_EXE_tearline"))
                .current_dir(repo())
                .args([
                    "--node",
                    n.path().to_str().unwrap(),
                    "release",
                    &rel,
                    "--to",
                    aud,
                ])
                .env("TEARLINE_NOW", "2026-03-20T09:00:00Z")
                .output()
                .unwrap();
            expect(&data().join(format!("examples/{stem}.{aud}.md")), &ok(&o));
        }
        let o = Command::new(env!("CARGO_BIN_EXE_tearline"))
            .current_dir(repo())
            .args(["--node", n.path().to_str().unwrap(), "check", &rel])
            .env("TEARLINE_NOW", "2026-03-20T09:00:00Z")
            .env_remove("TEARLINE_HOME")
            .output()
            .unwrap();
        expect(&data().join(format!("examples/{stem}.check.txt")), &ok(&o));
    }
    ok(&tl(n.path(), &["audit", "verify"]));
}

#[test]
fn example_releases_never_contain_protected_material() {
    let n = node();
    for ex in examples() {
        let src = std::fs::read_to_string(&ex).unwrap();
        for aud in ["liaison", "public", "liaison-north", "liaison-south"] {
            for fmt in ["md", "json", "stix", "misp"] {
                let o = ok(&tl(
                    n.path(),
                    &[
                        "release",
                        ex.to_str().unwrap(),
                        "--to",
                        aud,
                        "--format",
                        fmt,
                    ],
                ));
                for secret in [
                    "SAPPHIRE",
                    "NIGHTJAR",
                    "intercepted messenger traffic",
                    "telephone intercept",
                ] {
                    assert!(
                        !o.contains(secret),
                        "{secret} leaked to {aud} ({fmt}) from {}",
                        ex.display()
                    );
                }
                if aud == "public" && src.contains("Crocus City Hall]{venue level=AMBER") {
                    assert!(!o.contains("Crocus"), "generalised venue leaked to public");
                }
            }
        }
    }
}

#[test]
fn stix_release_has_the_standard_objects() {
    let n = node();
    let out = n.path().join("warning.stix.json");
    let ex = repo().join("examples/embassy-warning.md");
    ok(&tl(
        n.path(),
        &[
            "release",
            ex.to_str().unwrap(),
            "--to",
            "liaison",
            "--format",
            "stix",
            "-o",
            out.to_str().unwrap(),
        ],
    ));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["type"], "bundle");
    let objs = v["objects"].as_array().unwrap();
    let of = |t: &str| objs.iter().filter(|o| o["type"] == t).collect::<Vec<_>>();
    let report = of("report")[0];
    assert!(report["description"]
        .as_str()
        .unwrap()
        .contains("Wilayat Khorasan"));
    assert_eq!(
        report["object_marking_refs"][0],
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    );
    let ext = &report["extensions"]["extension-definition--1f4a9c2e-7b3d-4e58-a6c1-0d9e8f7b2a53"];
    assert_eq!(ext["audience"], "liaison");
    assert_eq!(ext["valid_until"], "2026-03-22T08:00:00.000Z");
    assert_eq!(ext["specificity"]["where"], "city");
    assert_eq!(of("threat-actor")[0]["name"], "Wilayat Khorasan");
    // One marking-definition, the release's own: the CLEAR portions do
    // not add a second one (a converter would make it a second tag).
    let markings = of("marking-definition");
    assert_eq!(markings.len(), 1);
    assert_eq!(
        markings[0]["id"],
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    );
    assert_eq!(of("extension-definition").len(), 1);
}

fn store_state(node: &Path) -> String {
    ok(&tl(node, &["audit", "log", "--json"]))
}

#[test]
fn bad_reports_fail_with_location_and_change_nothing() {
    let n = node();
    let before = store_state(n.path());
    let mut cases = 0;
    for e in std::fs::read_dir(data().join("bad")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "md") {
            continue;
        }
        let want = std::fs::read_to_string(p.with_extension("err")).unwrap();
        for cmd in [
            &["release", p.to_str().unwrap(), "--to", "public"][..],
            &["check", p.to_str().unwrap()][..],
        ] {
            let o = tl(n.path(), cmd);
            assert_eq!(o.status.code(), Some(3), "{}: {}", p.display(), err(&o));
            assert!(
                err(&o).contains(want.trim()),
                "{}: stderr `{}` lacks `{}`",
                p.display(),
                err(&o),
                want.trim()
            );
        }
        cases += 1;
    }
    assert!(cases >= 10);

    let dir = tempfile::tempdir().unwrap();
    let bad_utf8 = dir.path().join("latin1.md");
    let mut b = b"---\ntitle: t\nproduced: 2026-03-20T08:00:00Z\n---\n\n(TLP:CLEAR) caf".to_vec();
    b.push(0xe9);
    std::fs::write(&bad_utf8, b).unwrap();
    let o = tl(
        n.path(),
        &["release", bad_utf8.to_str().unwrap(), "--to", "public"],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(
        err(&o).contains("latin1.md:6:16: invalid UTF-8"),
        "{}",
        err(&o)
    );

    let huge = dir.path().join("huge.md");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(50 * 1024 * 1024).unwrap();
    let o = tl(
        n.path(),
        &["release", huge.to_str().unwrap(), "--to", "public"],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(
        err(&o).contains("huge.md:1:1: report is 52428800 bytes; the limit is"),
        "{}",
        err(&o)
    );

    let o = tl(
        n.path(),
        &[
            "release",
            dir.path().join("absent.md").to_str().unwrap(),
            "--to",
            "public",
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(err(&o).contains("failed to read report"), "{}", err(&o));

    let o = tl(
        n.path(),
        &[
            "release",
            repo().join("examples/embassy-warning.md").to_str().unwrap(),
            "--to",
            "nobody",
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(err(&o).contains("unknown audience `nobody`"), "{}", err(&o));

    assert_eq!(
        store_state(n.path()),
        before,
        "a failed command changed the store"
    );
}

#[test]
fn lint_errors_stop_a_release() {
    let n = node();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("kind.md");
    std::fs::write(&p, "---\ntitle: t\nproduced: 2026-03-20T08:00:00Z\n---\n\n(TLP:CLEAR) seen at [the port]{harbour}\n").unwrap();
    let before = store_state(n.path());
    let o = tl(
        n.path(),
        &["release", p.to_str().unwrap(), "--to", "internal"],
    );
    assert_eq!(o.status.code(), Some(5), "{}", err(&o));
    assert!(
        err(&o).contains("kind.md:6:21: unknown span kind `harbour`"),
        "{}",
        err(&o)
    );
    let o = tl(n.path(), &["check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5));
    assert_eq!(store_state(n.path()), before);
}

#[test]
fn a_marking_inside_a_portion_stops_check_and_release() {
    let n = node();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("inside.md");
    // CR-only line ends (an old Mac file) are read as lines too.
    std::fs::write(&p, "---\rtitle: t\rproduced: 2026-03-20T08:00:00Z\r---\r\r(TLP:CLEAR) The embassy is open.\r  (Tlp:Red) SAPPHIRE saw the cell.\r").unwrap();
    let before = store_state(n.path());
    let o = tl(n.path(), &["check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5), "{}", err(&o));
    assert!(
        err(&o).contains("inside.md:7:3: the marking (TLP:RED) starts a line inside portion 1"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("[marking-inside-portion]"), "{}", err(&o));
    for to in ["public", "internal"] {
        let o = tl(n.path(), &["release", p.to_str().unwrap(), "--to", to]);
        assert_eq!(o.status.code(), Some(5), "{to}: {}", err(&o));
        assert!(!out(&o).contains("SAPPHIRE"), "{to}");
    }
    assert_eq!(store_state(n.path()), before);
}

#[test]
fn a_leaking_release_is_refused_and_nothing_is_written() {
    let n = node();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("leak.md");
    std::fs::write(
        &p,
        "---\ntitle: t\nproduced: 2026-03-20T08:00:00Z\n---\n\n\
         (TLP:CLEAR) Staff of [Crocus City Hall]{venue level=AMBER sub=\"a venue\"} were warned.\n\n\
         (TLP:CLEAR) Crocus City\nHall is large.\n\n\
         (TLP:RED) The cell met on the eastern side of the river near the old market square at dawn.\n\n\
         (TLP:CLEAR) Witnesses say the cell met on the eastern side of the river near the market.\n",
    )
    .unwrap();
    let before = store_state(n.path());
    let target = dir.path().join("out.md");
    let o = release_to_file(n.path(), &p, "public", &target);
    assert_eq!(o.status.code(), Some(4), "{}", err(&o));
    let e = err(&o);
    assert!(
        e.contains("leak.md:8:13: portion 2: original of generalised venue span 1"),
        "{e}"
    );
    assert!(
        e.contains("portion 4: a run of 8 or more words from withheld portion 3"),
        "{e}"
    );
    assert!(!target.exists());
    assert_eq!(store_state(n.path()), before);
    // The file name is checked too.
    let named = dir.path().join("SAPPHIRE-release.md");
    let ex = repo().join("examples/embassy-warning.md");
    let o = release_to_file(n.path(), &ex, "public", &named);
    assert_eq!(o.status.code(), Some(4), "{}", err(&o));
    assert!(err(&o).contains("output file name"), "{}", err(&o));
    assert!(!named.exists());
}

#[test]
fn releases_are_recorded_and_tampering_is_detected() {
    let n = node();
    let ex = repo().join("examples/embassy-warning.md");
    let out = n.path().join("public.md");
    ok(&release_to_file(n.path(), &ex, "public", &out));
    ok(&tl(
        n.path(),
        &["release", ex.to_str().unwrap(), "--to", "liaison"],
    ));
    let v = ok(&tl(n.path(), &["audit", "verify"]));
    assert!(v.contains("2 releases"), "{v}");

    let db = n.path().join("tearline.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    // Editing a release record is caught by its audit entry.
    conn.execute("UPDATE releases SET audience = 'internal' WHERE id = 1", [])
        .unwrap();
    let o = tl(n.path(), &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(6));
    assert!(
        err(&o).contains("release 1 does not match audit entry"),
        "{}",
        err(&o)
    );
    conn.execute("UPDATE releases SET audience = 'public' WHERE id = 1", [])
        .unwrap();
    ok(&tl(n.path(), &["audit", "verify"]));

    // Editing an audit row (after removing the guard trigger) is caught.
    conn.execute_batch(
        "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'mallory' WHERE seq = 3;",
    )
    .unwrap();
    let o = tl(n.path(), &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(6));
    assert!(
        err(&o).contains("audit entry 3: content does not match its hash"),
        "{}",
        err(&o)
    );

    // Cutting the log short is caught by the recorded head.
    let n2 = node();
    ok(&tl(
        n2.path(),
        &["release", ex.to_str().unwrap(), "--to", "public"],
    ));
    let conn = rusqlite::Connection::open(n2.path().join("tearline.db")).unwrap();
    let last: i64 = conn
        .query_row("SELECT max(seq) FROM audit", [], |r| r.get(0))
        .unwrap();
    conn.execute_batch(&format!(
        "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = {last}; DELETE FROM warning_events; DELETE FROM warnings; DELETE FROM releases;"
    ))
    .unwrap();
    let o = tl(n2.path(), &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(6));
    assert!(
        err(&o).contains(&format!("audit entry {last}: missing")),
        "{}",
        err(&o)
    );
}

#[test]
fn node_is_found_from_tearline_home_and_commands_need_one() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tearline"))
        .args(["audience", "list"])
        .current_dir(dir.path())
        .env_remove("TEARLINE_HOME")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(err(&o).contains("no Tearline node"), "{}", err(&o));
    let n = node();
    let o = Command::new(env!("CARGO_BIN_EXE_tearline"))
        .args(["audience", "list", "--json"])
        .env("TEARLINE_HOME", n.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 5);
    let before = store_state(n.path());
    let o = ok(&tl(n.path(), &["init", "--name", "Other"]));
    assert!(
        o.contains("already Tearline node `Embassy security section`; nothing changed"),
        "{o}"
    );
    assert_eq!(
        store_state(n.path()),
        before,
        "init over an existing node changed it"
    );
}

#[test]
fn audiences_and_registry_are_managed() {
    let n = node();
    let o = tl(n.path(), &["audience", "add", "Bad Name", "--max", "GREEN"]);
    assert_eq!(o.status.code(), Some(3));
    let o = tl(n.path(), &["audience", "add", "isac", "--max", "PURPLE"]);
    assert_eq!(o.status.code(), Some(3));
    ok(&tl(
        n.path(),
        &["audience", "add", "isac", "--max", "GREEN"],
    ));
    assert!(ok(&tl(n.path(), &["audience", "list"])).contains("isac"));
    ok(&tl(n.path(), &["audience", "remove", "isac"]));
    assert!(!ok(&tl(n.path(), &["audience", "list"])).contains("isac"));

    let o = tl(
        n.path(),
        &["protect", "add", "sápphire", "--kind", "source"],
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "a disguised duplicate is the same term"
    );
    let o = tl(
        n.path(),
        &["protect", "add", "--kind", "source", "--", "---"],
    );
    assert_eq!(o.status.code(), Some(3));
    ok(&tl(
        n.path(),
        &["protect", "add", "Operation Kestrel", "--kind", "case"],
    ));
    let list: serde_json::Value =
        serde_json::from_str(&ok(&tl(n.path(), &["protect", "list", "--json"]))).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 4);
    ok(&tl(n.path(), &["protect", "remove", "operation kestrel"]));
    let list: serde_json::Value =
        serde_json::from_str(&ok(&tl(n.path(), &["protect", "list", "--json"]))).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
    // The audit log never holds the terms themselves.
    let log = store_state(n.path());
    assert!(
        !log.contains("Kestrel") && !log.contains("SAPPHIRE"),
        "{log}"
    );
    ok(&tl(n.path(), &["audit", "verify"]));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("reg.tsv");
    std::fs::write(&bad, "source\tONE\nnot-a-kind\tTWO\n").unwrap();
    let before = store_state(n.path());
    let o = tl(n.path(), &["protect", "import", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        err(&o).contains("reg.tsv:2:1: unknown term kind"),
        "{}",
        err(&o)
    );
    assert_eq!(
        store_state(n.path()),
        before,
        "a bad import stored part of the file"
    );
}

#[test]
fn stix_releases_are_signed_and_tampering_is_named() {
    let n = node();
    let public = ok(&tl(n.path(), &["key", "export"]));
    let public = public.trim();
    assert!(public.starts_with("ed25519:"), "{public}");
    let out = n.path().join("liaison.json");
    let ex = repo().join("examples/embassy-warning.md");
    ok(&tl(
        n.path(),
        &[
            "release",
            ex.to_str().unwrap(),
            "--to",
            "liaison",
            "--format",
            "stix",
            "-o",
            out.to_str().unwrap(),
        ],
    ));
    let v = ok(&tl(
        n.path(),
        &["verify", out.to_str().unwrap(), "--key", public],
    ));
    assert!(v.contains("all 6 objects verified"), "{v}");

    let mut bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let actor = bundle["objects"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["type"] == "threat-actor")
        .unwrap();
    actor["name"] = "Someone else".into();
    let actor_id = actor["id"].as_str().unwrap().to_string();
    let tampered = n.path().join("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let o = tl(
        n.path(),
        &["verify", tampered.to_str().unwrap(), "--key", public],
    );
    assert_eq!(o.status.code(), Some(7));
    assert!(
        err(&o).contains(&format!(
            "object {actor_id} was altered after it was signed"
        )),
        "{}",
        err(&o)
    );

    let other = node();
    let other_key = ok(&tl(other.path(), &["key", "export"]));
    let o = tl(
        n.path(),
        &["verify", out.to_str().unwrap(), "--key", other_key.trim()],
    );
    assert_eq!(o.status.code(), Some(7));
    assert!(err(&o).contains("not by this key"), "{}", err(&o));
    let o = tl(
        n.path(),
        &["verify", out.to_str().unwrap(), "--key", "ed25519:nonsense"],
    );
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn partners_get_credentials_once_and_releases_reach_their_collection() {
    let n = node();
    let o = ok(&tl(
        n.path(),
        &["partner", "add", "north", "--audience", "liaison-north"],
    ));
    assert!(o.contains("password:") && o.contains("token:"), "{o}");
    let o = tl(
        n.path(),
        &["partner", "add", "north", "--audience", "liaison-north"],
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "a second partner of the same name"
    );
    let o = tl(
        n.path(),
        &["partner", "add", "south", "--audience", "nobody"],
    );
    assert_eq!(o.status.code(), Some(3));
    // An audience that sees sources takes a flag that says so.
    let o = tl(
        n.path(),
        &["partner", "add", "desk", "--audience", "internal"],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(err(&o).contains("--with-sources"), "{}", err(&o));
    let added = ok(&tl(
        n.path(),
        &[
            "partner",
            "add",
            "desk",
            "--audience",
            "internal",
            "--with-sources",
        ],
    ));
    assert!(added.contains("sees sources and methods"), "{added}");
    ok(&tl(n.path(), &["partner", "remove", "desk"]));
    let list: serde_json::Value =
        serde_json::from_str(&ok(&tl(n.path(), &["partner", "list", "--json"]))).unwrap();
    assert_eq!(list[0]["name"], "north");
    assert!(
        list.to_string().find("password").is_none(),
        "secrets are never listed"
    );
    let rotated = ok(&tl(n.path(), &["partner", "rotate", "north"]));
    assert!(rotated.contains("old ones no longer work"), "{rotated}");
    ok(&tl(n.path(), &["partner", "remove", "north"]));
    assert_eq!(
        tl(n.path(), &["partner", "remove", "north"]).status.code(),
        Some(3)
    );
    let log = store_state(n.path());
    assert!(
        log.contains("partner.add")
            && log.contains("partner.rotate")
            && log.contains("partner.remove")
    );
    ok(&tl(n.path(), &["audit", "verify"]));
}

fn tl_at(node: &Path, now: &str, args: &[&str]) -> Output {
    common::run_at(node, Some(now), args)
}

#[test]
fn warnings_become_review_due_and_only_a_person_closes_them() {
    let n = node();
    let ex = repo().join("examples/embassy-warning.md");
    let out = n.path().join("w.md");
    ok(&release_to_file(n.path(), &ex, "liaison", &out));
    let list = ok(&tl_at(n.path(), "2026-03-21T08:00:00Z", &["warnings"]));
    assert!(
        list.contains("ISSUED") && list.contains("1d 0h left"),
        "{list}"
    );

    // Long after the window: review due, not closed.
    let list = ok(&tl_at(n.path(), "2026-04-30T08:00:00Z", &["warnings"]));
    assert!(
        list.contains("REVIEW DUE") && list.contains("overdue"),
        "{list}"
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&tl_at(
        n.path(),
        "2026-04-30T09:00:00Z",
        &["warning", "1", "--json"],
    )))
    .unwrap();
    assert_eq!(v["state"], "review due");
    let kinds: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["issued", "review-due"],
        "review due is recorded once"
    );

    let o = tl_at(
        n.path(),
        "2026-04-30T09:00:00Z",
        &["warning", "extend", "1", "--until", "2026-03-01T00:00:00Z"],
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "an extension must move the end later"
    );
    ok(&tl_at(
        n.path(),
        "2026-04-30T09:00:00Z",
        &["warning", "extend", "1", "--until", "2026-05-02T00:00:00Z"],
    ));
    let v: serde_json::Value = serde_json::from_str(&ok(&tl_at(
        n.path(),
        "2026-04-30T10:00:00Z",
        &["warning", "1", "--json"],
    )))
    .unwrap();
    assert_eq!(v["state"], "issued");
    let o = tl_at(
        n.path(),
        "2026-04-30T10:00:00Z",
        &["warning", "close", "1", "--outcome", "maybe"],
    );
    assert_eq!(o.status.code(), Some(3));
    ok(&tl_at(
        n.path(),
        "2026-04-30T10:00:00Z",
        &[
            "warning",
            "close",
            "1",
            "--outcome",
            "not-confirmed",
            "--note",
            "no attack",
        ],
    ));
    let shown = ok(&tl_at(n.path(), "2026-04-30T11:00:00Z", &["warning", "1"]));
    assert!(
        shown.contains("closed (not-confirmed)")
            && shown.contains("closed: not-confirmed (no attack)"),
        "{shown}"
    );
    let o = tl_at(
        n.path(),
        "2026-04-30T11:00:00Z",
        &["warning", "close", "1", "--outcome", "confirmed"],
    );
    assert_eq!(o.status.code(), Some(3), "a closed warning stays closed");

    // Re-issue: the old warning is closed as superseded by the new release.
    ok(&release_to_file(n.path(), &ex, "public", &out));
    let o = tl_at(
        n.path(),
        "2026-03-21T09:00:00Z",
        &[
            "release",
            ex.to_str().unwrap(),
            "--to",
            "public",
            "--supersedes",
            "2",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let v: serde_json::Value = serde_json::from_str(&ok(&tl_at(
        n.path(),
        "2026-03-21T09:00:00Z",
        &["warning", "2", "--json"],
    )))
    .unwrap();
    assert_eq!(
        (v["state"].as_str(), v["outcome"].as_str()),
        (Some("closed"), Some("superseded"))
    );
    let o = tl_at(
        n.path(),
        "2026-03-21T09:00:00Z",
        &[
            "release",
            ex.to_str().unwrap(),
            "--to",
            "public",
            "--supersedes",
            "2",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "a closed warning cannot be superseded again"
    );
    ok(&tl(n.path(), &["audit", "verify"]));
}

#[test]
fn a_release_whose_output_cannot_be_written_records_and_delivers_nothing() {
    let n = node();
    let ex = repo().join("examples/embassy-warning.md");
    let dir = tempfile::tempdir().unwrap();
    let before = store_state(n.path());
    // An existing directory (bad input, exit 3), and a directory that does
    // not exist (an I/O failure, exit 1, with its cause).
    let o = release_to_file(n.path(), &ex, "liaison", dir.path());
    assert_eq!(o.status.code(), Some(3), "{}", err(&o));
    assert!(err(&o).contains("is a directory"), "{}", err(&o));
    let o = release_to_file(
        n.path(),
        &ex,
        "liaison",
        &dir.path().join("missing/dir/out.md"),
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("cannot write"), "{}", err(&o));
    assert!(err(&o).contains("caused by"), "{}", err(&o));
    assert_eq!(store_state(n.path()), before, "nothing recorded");
    let w = ok(&tl(n.path(), &["warnings", "--json"]));
    assert_eq!(w.trim(), "[]", "no warning opened");
    let conn = rusqlite::Connection::open(n.path().join("tearline.db")).unwrap();
    let objects: i64 = conn
        .query_row("SELECT COUNT(*) FROM objects", [], |r| r.get(0))
        .unwrap();
    assert_eq!(objects, 0, "nothing delivered");
}

#[test]
fn the_two_person_rule_holds_at_the_command_line() {
    let n = node();
    std::fs::write(
        n.path().join("tearline.toml"),
        "[workbench]\ntwo_person_rule = true\n",
    )
    .unwrap();
    let ex = repo().join("examples/embassy-warning.md");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("liaison.md");
    let o = release_to_file(n.path(), &ex, "liaison", &out);
    assert_eq!(o.status.code(), Some(9), "held: {}", err(&o));
    assert!(err(&o).contains("request 1 waits"), "{}", err(&o));
    assert!(!out.exists(), "nothing released yet");
    let list: serde_json::Value =
        serde_json::from_str(&ok(&tl(n.path(), &["request", "list", "--json"]))).unwrap();
    assert_eq!(list[0]["state"], "pending");
    assert_eq!(list[0]["requested_by"], "tester");
    // The one who asked cannot approve: exit 8, nothing released.
    let o = tl(
        n.path(),
        &["request", "approve", "1", "-o", out.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(8), "{}", err(&o));
    assert!(
        err(&o).contains("a second releaser must decide"),
        "{}",
        err(&o)
    );
    // Someone else does.
    let o = Command::new(env!("CARGO_BIN_EXE_tearline"))
        .arg("--node")
        .arg(n.path())
        .args(["request", "approve", "1", "-o", out.to_str().unwrap()])
        .env("TEARLINE_NOW", "2026-03-20T09:00:00Z")
        .env("TEARLINE_ACTOR", "second")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", err(&o));
    assert!(out.exists());
    let list: serde_json::Value =
        serde_json::from_str(&ok(&tl(n.path(), &["request", "list", "--json"]))).unwrap();
    assert_eq!(list[0]["state"], "released");
    assert_eq!(list[0]["decided_by"], "second");
    let log = store_state(n.path());
    assert!(log.contains("release.request.released"), "{log}");
    // Internal needs no second person.
    let o = tl(
        n.path(),
        &["release", ex.to_str().unwrap(), "--to", "internal"],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(!err(&o).contains("waits"));
    ok(&tl(n.path(), &["audit", "verify"]));
}
