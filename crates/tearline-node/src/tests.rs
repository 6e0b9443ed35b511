//! The service layer over a node in a temporary directory.

use std::path::Path;

use chrono::{DateTime, Utc};
use tearline_store::Collection;

use super::*;
use crate::reports::{read_report, Format, ReleaseInput, Released};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-20T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn node(dir: &Path) -> Node {
    Node::init(
        dir,
        "Test node",
        &Caller::operator("ana"),
        fixed_clock(t0()),
    )
    .unwrap()
}

/// Everything a release could have written.
fn written(n: &Node) -> (usize, usize, usize, u64, usize) {
    let s = n.store();
    let q = tearline_store::ObjectQuery {
        added_after: None,
        ids: vec![],
        types: vec![],
        versions: tearline_store::VersionMatch::All,
        spec_versions: vec![],
        after_seq: None,
        limit: 10_000,
    };
    let objects: usize = n
        .audiences()
        .unwrap()
        .iter()
        .map(|a| {
            s.objects(&Collection::Read(a.name().into()), &q)
                .unwrap()
                .objects
                .len()
        })
        .sum();
    (
        s.releases().unwrap().len(),
        s.warnings().unwrap().len(),
        objects,
        s.document_count().unwrap(),
        s.audit_log().unwrap().len(),
    )
}

fn input<'a>(report: &'a tearline_model::Report, src: &'a [u8], to: &'a str) -> ReleaseInput<'a> {
    ReleaseInput {
        report,
        source: src,
        audience: to,
        format: Format::Md,
        output: None,
        supersedes: None,
        draft: None,
    }
}

#[test]
fn a_node_is_created_opened_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    assert_eq!(n.info().name, "Test node");
    assert!(dir.path().join(KEY).exists());
    drop(n);
    let n = Node::open(dir.path(), fixed_clock(t0())).unwrap();
    let v = n.verify_audit(&Caller::operator("ana")).unwrap();
    assert_eq!(v.entries, 2, "node.init and key.create");
    assert!(Node::init(
        dir.path(),
        "again",
        &Caller::operator("ana"),
        system_clock()
    )
    .is_err());
}

#[test]
fn an_older_node_moves_its_files_into_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join(SETTINGS),
        "[node]\nname = \"Old node\"\ncreated = \"2026-01-01T00:00:00Z\"\n\n[exchange]\npage_size = 50\n\n[[audience]]\nname = \"internal\"\nmax = \"TLP:RED\"\nsources = true\n\n[[audience]]\nname = \"north\"\nmax = \"TLP:AMBER\"\n",
    )
    .unwrap();
    std::fs::write(
        d.join("remotes.toml"),
        "[[remote]]\nname = \"sender\"\nurl = \"http://127.0.0.1:9\"\nuser = \"north\"\npassword = \"pw\"\n",
    )
    .unwrap();
    // The old head file names an entry the log no longer holds: the log
    // was cut short before the node moved, and that must still show.
    std::fs::write(d.join("audit.head"), "7 abcd\n").unwrap();
    std::fs::write(d.join(KEY), "11".repeat(32)).unwrap();
    let n = Node::open(d, fixed_clock(t0())).unwrap();
    assert_eq!(n.info().name, "Old node");
    assert_eq!(n.settings().exchange.page_size, 50);
    let names: Vec<String> = n
        .audiences()
        .unwrap()
        .iter()
        .map(|a| a.name().to_string())
        .collect();
    assert_eq!(names, ["internal", "north"]);
    let me = Caller::operator("ana");
    assert_eq!(n.remotes(&me).unwrap()[0].name, "sender");
    assert!(!d.join("remotes.toml").exists());
    assert!(!d.join("audit.head").exists());
    let text = std::fs::read_to_string(d.join(SETTINGS)).unwrap();
    assert!(
        !text.contains("[node]") && !text.contains("[[audience]]"),
        "{text}"
    );
    let e = n.verify_audit(&me).unwrap_err();
    assert_eq!(e.code(), Code::Audit);
    assert!(e.message().contains("entry 7"), "{}", e.message());
    // Opening again changes nothing more.
    drop(n);
    Node::open(d, fixed_clock(t0())).unwrap();
}

#[test]
fn a_release_to_a_directory_records_and_delivers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    let (report, src) = read_report(&example("embassy-warning.md")).unwrap();
    let before = written(&n);
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let mut i = input(&report, &src, "liaison");
    i.output = Some(&out_dir);
    let e = n.release(&Caller::operator("ana"), &i).err().unwrap();
    assert_eq!(e.code(), Code::BadInput, "{e}");
    assert!(e.message().contains("is a directory"), "{e}");
    // A directory that cannot be written is refused the same way.
    let missing = dir.path().join("no/such/dir/out.md");
    i.output = Some(&missing);
    assert!(n.release(&Caller::operator("ana"), &i).is_err());
    assert_eq!(written(&n), before, "nothing recorded, delivered or opened");
    // And to a file it is whole: recorded, delivered, a warning opened,
    // the report stored as a document, the file in place.
    let file = out_dir.join("liaison.md");
    i.output = Some(&file);
    let Released::Issued(done) = n.release(&Caller::operator("ana"), &i).unwrap() else {
        panic!("no two-person rule here");
    };
    assert_eq!(std::fs::read(&file).unwrap(), done.bytes);
    let after = written(&n);
    assert_eq!((after.0, after.1, after.3), (1, 1, 1));
    assert!(after.2 > 0);
    n.verify_audit(&Caller::operator("ana")).unwrap();
}

#[test]
fn the_two_person_rule_binds_the_operator() {
    let dir = tempfile::tempdir().unwrap();
    drop(node(dir.path()));
    let mut s = Settings::default();
    s.workbench.two_person_rule = true;
    settings::write(dir.path(), &s).unwrap();
    let n = Node::open(dir.path(), fixed_clock(t0())).unwrap();
    let (ana, rhea) = (Caller::operator("ana"), Caller::operator("rhea"));
    let (report, src) = read_report(&example("embassy-warning.md")).unwrap();
    // Internal is not held.
    assert!(matches!(
        n.release(&ana, &input(&report, &src, "internal")).unwrap(),
        Released::Issued(_)
    ));
    let Released::Requested(r) = n.release(&ana, &input(&report, &src, "liaison")).unwrap() else {
        panic!("a release to liaison waits for a second person");
    };
    assert_eq!(n.store().releases().unwrap().len(), 1);
    let e = n.approve(&ana, r.id, "", Format::Stix, None).err().unwrap();
    assert_eq!(e.code(), Code::Forbidden, "{e}");
    let done = n.approve(&rhea, r.id, "ok", Format::Md, None).unwrap();
    assert_eq!(done.record.actor, "rhea");
    let got = n.store().request(r.id).unwrap().unwrap();
    assert_eq!(
        (got.state.as_str(), got.release_id),
        ("released", Some(done.record.id))
    );
    assert_eq!(
        n.approve(&rhea, r.id, "", Format::Md, None)
            .err()
            .unwrap()
            .code(),
        Code::Conflict,
        "decided once"
    );
    // A rejected request releases nothing.
    let Released::Requested(r2) = n.release(&ana, &input(&report, &src, "public")).unwrap() else {
        panic!("held");
    };
    n.reject(&rhea, r2.id, "too specific").unwrap();
    assert_eq!(n.store().request(r2.id).unwrap().unwrap().state, "rejected");
    assert_eq!(n.store().releases().unwrap().len(), 2);
    let log = n.store().audit_log().unwrap();
    for action in [
        "release.request",
        "release.approve",
        "release.request.released",
        "release.reject",
    ] {
        assert!(log.iter().any(|e| e.entry.action == action), "{action}");
    }
    n.verify_audit(&ana).unwrap();
}

#[test]
fn roles_are_checked_by_the_service_layer() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    let analyst = Caller::user("ana", Role::Analyst);
    let (report, src) = read_report(&example("embassy-warning.md")).unwrap();
    let e = n
        .release(&analyst, &input(&report, &src, "public"))
        .err()
        .unwrap();
    assert_eq!(e.code(), Code::Forbidden);
    assert!(n
        .release(&analyst, &input(&report, &src, "internal"))
        .is_ok());
    assert_eq!(
        n.protect_add(&analyst, "SAPPHIRE", "source")
            .err()
            .unwrap()
            .code(),
        Code::Forbidden
    );
    assert_eq!(
        n.verify_audit(&analyst).err().unwrap().code(),
        Code::Forbidden
    );
    let w = n.warnings(&analyst).unwrap()[0].id;
    let e = n
        .close_warning(&analyst, w, tearline_lifecycle::Outcome::Confirmed, "")
        .err()
        .unwrap();
    assert_eq!(e.code(), Code::Forbidden);
}

#[test]
fn a_re_issue_closes_the_old_warning_in_its_own_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    let me = Caller::operator("ana");
    let (report, src) = read_report(&example("embassy-warning.md")).unwrap();
    let Released::Issued(first) = n.release(&me, &input(&report, &src, "liaison")).unwrap() else {
        panic!()
    };
    let mut again = input(&report, &src, "liaison");
    again.supersedes = first.warning;
    let Released::Issued(second) = n.release(&me, &again).unwrap() else {
        panic!()
    };
    assert_eq!(second.superseded, first.warning);
    let old = n.warning(&me, first.record.id).unwrap();
    assert_eq!(old.row.state.name(), "closed");
    assert!(old
        .events
        .iter()
        .any(|e| e.text == format!("re-issued as release {}", second.record.id)));
    // A closed warning cannot be superseded again; nothing is written.
    let before = written(&n);
    assert!(n.release(&me, &again).is_err());
    assert_eq!(written(&n), before);
}

#[test]
fn a_log_cut_short_before_the_move_is_still_detected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // An older node: five audit entries, its head in `audit.head`, then
    // the last entry deleted before this version opens it.
    let store = tearline_store_sqlite::SqliteStore::open(&d.join(DATABASE)).unwrap();
    let mut last = None;
    for i in 0..5 {
        last = Some(
            store
                .audit(tearline_store::NewAuditEntry {
                    at: "2026-01-01T00:00:00Z".into(),
                    actor: "old".into(),
                    action: format!("old.{i}"),
                    subject: String::new(),
                    detail: "{}".into(),
                })
                .unwrap(),
        );
    }
    drop(store);
    let five = last.unwrap();
    std::fs::write(d.join("audit.head"), format!("5 {}\n", five.hash)).unwrap();
    std::fs::write(d.join(KEY), "11".repeat(32)).unwrap();
    std::fs::write(
        d.join(SETTINGS),
        "[node]\nname = \"Old node\"\ncreated = \"2026-01-01T00:00:00Z\"\n\n[[audience]]\nname = \"internal\"\nmax = \"TLP:RED\"\nsources = true\n",
    )
    .unwrap();
    let conn = rusqlite::Connection::open(d.join(DATABASE)).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_no_delete; DROP TRIGGER audit_head_forward; DELETE FROM audit WHERE seq = 5;
         UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit WHERE seq = 4);",
    )
    .unwrap();
    drop(conn);
    // Opening moves the node into the store and appends `node.migrate` as
    // entry 5; the cut must still show.
    let n = Node::open(d, fixed_clock(t0())).unwrap();
    let log = n.store().audit_log().unwrap();
    assert_eq!(log[4].entry.action, "node.migrate");
    let e = n.verify_audit(&Caller::operator("ana")).unwrap_err();
    assert_eq!(e.code(), Code::Audit);
    assert!(e.message().contains("entry 5"), "{}", e.message());
    assert!(!d.join("audit.head").exists());
}

#[test]
fn a_released_warning_takes_its_window_from_the_front_matter_not_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    let me = Caller::operator("ana");
    // The text speaks loosely of three days; the front matter states the
    // window, and that is the only window the case's facts hold.
    let path = dir.path().join("warning.md");
    std::fs::write(
        &path,
        "---\ntitle: Threat to concerts\nproduced: 2026-03-20T08:00:00Z\nvalid_from: 2026-03-20T08:00:00Z\nvalid_until: 2026-03-22T08:00:00Z\n---\n\n\
         (TLP:CLEAR) Extremists linked to [Wilayat Khorasan]{actor} may attack [concerts]{target} in [Moscow]{place} over the next 72 hours, between 21 and 24 March.\n",
    )
    .unwrap();
    let (report, src) = read_report(&path).unwrap();
    let Released::Issued(_) = n.release(&me, &input(&report, &src, "public")).unwrap() else {
        panic!()
    };
    let case = n.cases().unwrap()[0].id;
    let facts = n.case(case).unwrap().facts;
    let window: Vec<_> = facts
        .iter()
        .filter(|f| f.fact.contains("window"))
        .flat_map(|f| f.claims.iter())
        .collect();
    assert_eq!(window.len(), 1, "{facts:?}");
    assert!(
        window[0].value.contains("2026-03-20") && window[0].value.contains("2026-03-22"),
        "{window:?}"
    );
    assert!(facts.iter().all(|f| !f.conflict), "{facts:?}");
}

#[test]
fn a_live_warning_ranks_first_however_many_documents_share_its_group_and_city() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    let me = Caller::operator("ana");
    let path = dir.path().join("warning.md");
    std::fs::write(
        &path,
        "---\ntitle: Threat to concerts\nproduced: 2026-03-20T08:00:00Z\nvalid_from: 2026-03-20T08:00:00Z\nvalid_until: 2026-03-22T08:00:00Z\n---\n\n\
         (TLP:CLEAR) [Wilayat Khorasan]{actor} may attack [concerts]{target} in [Moscow]{place} in the next 48 hours.\n",
    )
    .unwrap();
    let (report, src) = read_report(&path).unwrap();
    let Released::Issued(_) = n.release(&me, &input(&report, &src, "public")).unwrap() else {
        panic!()
    };
    // Months of news: a fifth of it on the same group in the same city
    // (so common that the group and the city no longer distinguish
    // anything), all of it newer than the warning, and the rest on other
    // attacks elsewhere.
    let others = [
        ("Boko Haram", "Maiduguri", "a market"),
        ("al-Shabaab", "Mogadishu", "a hotel"),
        ("Hamas", "Jerusalem", "a bus stop"),
        ("the Taliban", "Kabul", "a mosque"),
    ];
    let mut lines = String::new();
    for i in 0..400 {
        let day = format!("2026-03-{:02}", 21 + i % 8);
        let text = if i % 5 == 0 {
            format!("Supporters of Wilayat Khorasan in Moscow were detained on {day}, police said; concerts went ahead (report {i}).")
        } else {
            let (g, c, t) = others[i % 4];
            format!("{g} fighters attacked {t} in {c} on {day}, killing {} people, officials said (report {i}).", 3 + i % 40)
        };
        lines.push_str(
            &serde_json::json!({"id": format!("news-{i}"), "published": day, "text": text})
                .to_string(),
        );
        lines.push('\n');
    }
    let news = dir.path().join("news.jsonl");
    std::fs::write(&news, lines).unwrap();
    let s = n.ingest(&me, &[news], None, &mut |_| {}).unwrap();
    assert_eq!(s.stored, 400, "{s:?}");
    let related = n
        .related_text(
            "draft.md",
            b"---\ntitle: Note\nproduced: 2026-03-29T08:00:00Z\n---\n\n(TLP:AMBER) [ISIS-K]{actor} cells in [Moscow]{place} discussed a concert venue.\n",
        )
        .unwrap();
    let first = related.first().expect("something related");
    let w = first.warning.as_ref().expect("the warning comes first");
    assert!(w.live, "{first:?}");
}

#[test]
fn the_exported_audit_log_holds_no_registered_term_and_no_plain_digest() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    let me = Caller::operator("ana");
    n.protect_add(&me, "Opal Harbor", "source").unwrap();
    // A file name, a title and a note that name the term.
    let path = dir.path().join("opal-harbor-update.md");
    std::fs::write(
        &path,
        "---\ntitle: OPAL HARBOR update\nproduced: 2026-03-20T08:00:00Z\nvalid_until: 2026-03-22T08:00:00Z\n---\n\n(TLP:AMBER) Opal Harbor reports a plan to attack [concerts]{target} in [Moscow]{place}.\n",
    )
    .unwrap();
    let (report, src) = read_report(&path).unwrap();
    let Released::Issued(r) = n.release(&me, &input(&report, &src, "internal")).unwrap() else {
        panic!()
    };
    n.close_warning(
        &me,
        r.warning.unwrap(),
        tearline_lifecycle::Outcome::NotConfirmed,
        "Opal Harbor withdrew the report",
    )
    .unwrap();
    let log = n.audit_log(&me).unwrap();
    let text = serde_json::to_string(&log).unwrap().to_lowercase();
    assert!(!text.contains("opal"), "{text}");
    assert!(text.contains("[registered term withheld]"));
    let plain = hex::encode(sha2::Sha256::digest(b"opalharbor"));
    assert!(!text.contains(&plain));
    let add = log
        .iter()
        .find(|e| e.entry.action == "protect.add")
        .unwrap();
    assert!(add.entry.detail.contains("key_hmac"), "{:?}", add.entry);
    // The stored log is unchanged and verifies.
    n.verify_audit(&me).unwrap();
    assert!(n.store().audit_log().unwrap().iter().any(|e| e
        .entry
        .detail
        .to_lowercase()
        .contains("opal")));
}

#[test]
fn the_workbench_report_cap_is_a_checked_setting() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    assert_eq!(n.settings().workbench.max_report_bytes, 1024 * 1024);
    let ana = Caller::operator("ana");
    let big = "x".repeat(1024 * 1024 + 1);
    let e = n.save_draft(&ana, None, &big).err().unwrap();
    assert_eq!((e.code(), e.code().status()), (Code::TooLarge, 413));
    assert!(e.message().contains("max_report_bytes"), "{e}");
    // CRLF counts as LF.
    let crlf = "ab\r\n".repeat(300_000);
    assert!(n.clean_body(&crlf).is_ok());
    drop(n);
    for (value, ok) in [("1023", false), ("20000000", false), ("4096", true)] {
        std::fs::write(
            dir.path().join(SETTINGS),
            format!("[workbench]\nmax_report_bytes = {value}\n"),
        )
        .unwrap();
        match Node::open(dir.path(), fixed_clock(t0())) {
            Ok(n) => {
                assert!(ok, "{value}");
                assert_eq!(n.settings().workbench.max_report_bytes, 4096);
                let e = n.save_draft(&ana, None, &"y".repeat(5000)).err().unwrap();
                assert!(e.message().contains("at most 4096 bytes"), "{e}");
            }
            Err(e) => {
                assert!(!ok, "{value}: {e}");
                assert!(
                    e.message().contains("max_report_bytes must be between"),
                    "{e}"
                );
            }
        }
    }
}

#[test]
fn read_report_refuses_more_than_the_limit_from_a_stream() {
    // A pipe has no length to check first: the read itself stops.
    let o = read_report(Path::new("/dev/zero")).err().unwrap();
    assert_eq!(o.code(), Code::BadInput);
    assert!(
        o.message().starts_with("/dev/zero:1:1: report is over"),
        "{o}"
    );
}

/// The labelled evaluation documents of `dir` (relative to the
/// workspace) as documents to ingest, named by file.
fn eval_docs(dir: &str) -> Vec<crate::reading::Doc> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let raw = std::fs::read_to_string(p).unwrap();
            let (head, text) = raw.split_once("\n---\n").unwrap();
            let field = |k: &str| {
                head.lines()
                    .find_map(|l| l.strip_prefix(k))
                    .map(|v| v.trim().to_string())
            };
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            crate::reading::Doc {
                id: Some(name.clone()),
                source: name.clone(),
                url: None,
                title: name,
                published: field("published:"),
                lang: field("lang:"),
                text: text.to_string(),
                window: None,
                groups: Vec::new(),
                marking: None,
            }
        })
        .collect()
}

/// A node's partition of its documents into cases, by document id.
fn partition_of(n: &Node) -> Vec<Vec<String>> {
    let mut parts: Vec<Vec<String>> = n
        .store()
        .cases()
        .unwrap()
        .iter()
        .map(|c| {
            let mut ids: Vec<String> = n
                .store()
                .case_documents(c.id)
                .unwrap()
                .into_iter()
                .map(|d| d.doc.id)
                .collect();
            ids.sort();
            ids
        })
        .collect();
    parts.sort();
    parts
}

#[test]
fn the_evaluation_sets_give_one_partition_whatever_the_order_of_ingest() {
    for set in ["eval/corpus", "eval/real/dev"] {
        let docs = eval_docs(set);
        let mut first: Option<Vec<Vec<String>>> = None;
        let mut seed = 0x5eed_u64;
        for round in 0..4 {
            let mut order: Vec<usize> = (0..docs.len()).collect();
            if round > 0 {
                for i in (1..order.len()).rev() {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    order.swap(i, (seed >> 33) as usize % (i + 1));
                }
            }
            let dir = tempfile::tempdir().unwrap();
            let n = node(dir.path());
            for &i in &order {
                crate::reading::ingest_one(&*n.store, &docs[i], "2026-01-01T00:00:00Z", "ana")
                    .unwrap();
            }
            let parts = partition_of(&n);
            match &first {
                None => first = Some(parts.clone()),
                Some(f) => assert_eq!(&parts, f, "{set}: order {round} differs"),
            }
            if round == 1 {
                // Recomputing every case gives the same partition, and the
                // audit log says so.
                let r = n.rebuild_cases(&Caller::operator("ana")).unwrap();
                assert_eq!(r.documents, docs.len());
                assert_eq!(r.moved, 0, "{set}: {r:?}");
                assert_eq!(&partition_of(&n), first.as_ref().unwrap());
                n.verify_audit(&Caller::operator("ana")).unwrap();
                assert!(n
                    .store()
                    .audit_log()
                    .unwrap()
                    .iter()
                    .any(|e| e.entry.action == "cases.rebuild"));
            }
        }
    }
}

#[test]
fn a_bridging_document_merges_two_cases_and_case_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    let doc = |id: &str, published: &str, text: &str| crate::reading::Doc {
        id: Some(id.into()),
        source: id.into(),
        url: None,
        title: id.into(),
        published: Some(published.into()),
        lang: None,
        text: text.into(),
        window: None,
        groups: Vec::new(),
        marking: None,
    };
    let at = "2026-01-01T00:00:00Z";
    let ingest =
        |d: &crate::reading::Doc| crate::reading::ingest_one(&*n.store, d, at, "ana").unwrap();
    let warning = ingest(&doc(
        "warning",
        "2024-03-07",
        "ISIS-K plans to attack concerts in Moscow over the next 48 hours.",
    ));
    let attack = ingest(&doc(
        "attack",
        "2024-03-23",
        "Gunmen from ISKP opened fire at a concert in Moscow on Friday, killing at least 143.",
    ));
    use crate::reading::Ingested;
    let (Ingested::Stored { case: a, .. }, Ingested::Stored { case: b, .. }) = (warning, attack)
    else {
        panic!()
    };
    assert_ne!(a, b);
    let bridge = ingest(&doc(
        "bridge",
        "2024-03-26",
        "On March 7 the US warned that ISIS-K would attack concerts in Moscow; on March 22 gunmen killed 140 at a concert there.",
    ));
    let Ingested::Stored { case, merged, .. } = bridge else {
        panic!()
    };
    assert_eq!((case, merged), (a.min(b), vec![a.max(b)]));
    let v = n.case(case).unwrap();
    assert_eq!(v.documents.len(), 3);
    assert_eq!(v.merged.len(), 1);
    assert_eq!(
        (v.merged[0].from, v.merged[0].by.as_str()),
        (a.max(b), "bridge")
    );
    assert!(n.case(a.max(b)).is_err(), "the merged case is gone");
    let log = n.store().audit_log().unwrap();
    let m = log.iter().find(|e| e.entry.action == "case.merge").unwrap();
    assert_eq!(m.entry.subject, format!("case {case}"));
    assert!(m.entry.detail.contains("bridge"), "{:?}", m.entry);
}
