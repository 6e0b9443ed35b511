//! The conformance suite: what every [`Store`] implementation must do.
//!
//! An implementation's tests call [`conformance`] with a function that
//! makes a fresh, empty store; every check runs on its own store and
//! panics with the check's name and what went wrong. The suite speaks only
//! the trait, so it runs unchanged against SQLite, PostgreSQL or any other
//! backend.
//!
//! ```text
//! #[test]
//! fn sqlite_keeps_the_contract() {
//!     let dir = tempfile::tempdir().unwrap();
//!     let n = std::cell::Cell::new(0);
//!     tearline_store::testing::conformance(&|| {
//!         n.set(n.get() + 1);
//!         Box::new(SqliteStore::open(&dir.path().join(format!("{}.db", n.get()))).unwrap())
//!     });
//! }
//! ```

use tearline_model::{parse_report, Audience, Level, ProtectedTerm, TermKind};
use tearline_release::{clear, ClearedObjects, LeakGuard, Registry, Release, Rendered};

use crate::*;

/// Makes a fresh, empty store.
pub type MakeStore<'a> = &'a dyn Fn() -> Box<dyn Store>;

/// One check of the contract, by name.
type Check = (&'static str, fn(&dyn Store));

/// Runs every check of the contract, each on a fresh store.
pub fn conformance(make: MakeStore<'_>) {
    let checks: [Check; 17] = [
        ("node and audiences", node_and_audiences),
        (
            "every write appends to the audit log and moves its head",
            audit_head_follows_writes,
        ),
        ("a release is one transaction", release_is_one_transaction),
        (
            "a release whose last step fails stores nothing",
            failed_release_stores_nothing,
        ),
        (
            "a release's objects go to the audience they were cleared for",
            release_keeps_its_audience,
        ),
        (
            "a stale re-issue is refused whole",
            stale_supersede_is_refused,
        ),
        (
            "only a release writes to a read collection",
            read_collections_are_release_only,
        ),
        (
            "collections page, filter and match versions",
            collections_page_and_filter,
        ),
        (
            "warning events are serialised",
            warning_events_are_serialised,
        ),
        ("a request is decided once", requests_are_decided_once),
        (
            "partners, remotes and the generation",
            partners_remotes_generation,
        ),
        ("document batches are whole or absent", document_batches),
        (
            "cases merge and are recomputed whole, with the audit log",
            cases_merge_and_relink,
        ),
        ("sync cursors and queued responses", cursors_and_responses),
        (
            "a sender's change sends in its transaction",
            changes_send_in_their_transaction,
        ),
        (
            "received warnings are followed and serialised",
            received_warnings,
        ),
        (
            "a release keeps its report's source",
            release_keeps_its_source,
        ),
    ];
    for (name, check) in checks {
        let store = make();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&*store)));
        if let Err(e) = outcome {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("store conformance: {name}: {why}");
        }
    }
}

const AT: &str = "2026-03-20T09:00:00.000Z";

fn entry(action: &str) -> NewAuditEntry {
    NewAuditEntry {
        at: AT.into(),
        actor: "tester".into(),
        action: action.into(),
        subject: "s".into(),
        detail: "{}".into(),
    }
}

fn created(s: &dyn Store) {
    let info = NodeInfo {
        name: "Test node".into(),
        created: AT.into(),
    };
    assert!(s
        .create_node(&info, &Audience::defaults(), entry("node.init"))
        .unwrap());
}

fn audience(name: &str, max: Level) -> Audience {
    Audience::new(name, max, false).unwrap()
}

/// The log verifies against the recorded head, which is its last entry.
fn verified(s: &dyn Store) -> usize {
    let log = s.audit_log().unwrap();
    let head = s.audit_head().unwrap();
    match (log.last(), &head) {
        (Some(last), Some((seq, hash))) => {
            assert_eq!(
                (last.seq, &last.hash),
                (*seq, hash),
                "the head is the last entry"
            )
        }
        (None, None) => {}
        (last, head) => panic!(
            "log ends at {:?} but the head is {head:?}",
            last.map(|e| e.seq)
        ),
    }
    verify_chain(&log, head.as_ref().map(|(s, h)| (*s, h.as_str()))).unwrap()
}

/// A release of a small warning to `audience`, cleared by the leak check.
fn cleared(audience_name: &str, max: Level, title: &str) -> ClearedObjects {
    let src = format!(
        "---\ntitle: {title}\nproduced: 2026-03-20T08:00:00Z\nvalid_until: 2026-03-22T08:00:00Z\n---\n\n\
         (TLP:CLEAR) [Wilayat Khorasan]{{actor}} plans attacks on [concerts]{{target}} in [Moscow]{{place}}.\n"
    );
    let report = parse_report("t.md", src.as_bytes()).unwrap();
    let a = audience(audience_name, max);
    let registry = Registry::new(vec![]);
    let release = Release::build(&report, &a, &registry);
    let guard = LeakGuard::new(&report, &a, &registry);
    let producer = tearline_stix::Producer::new("Test node", chrono::Utc::now());
    let bundle = tearline_stix::bundle(&release, &producer, chrono::Utc::now());
    clear(&guard, &release, Rendered::Json(bundle), None)
        .unwrap()
        .stix_objects()
        .unwrap()
}

/// A release of `objects` by `tester` with nothing else beside it.
fn plain<'a>(release: &'a NewRelease, objects: &'a ClearedObjects) -> ReleaseWrite<'a> {
    ReleaseWrite {
        release,
        actor: "tester",
        at: AT,
        objects,
        warning: None,
        supersedes: None,
        request: None,
        document: None,
        source: None,
    }
}

fn new_release(audience: &str) -> NewRelease {
    NewRelease {
        audience: audience.into(),
        format: "stix".into(),
        report_name: "t.md".into(),
        report_title: "Warning".into(),
        report_sha256: "aa".into(),
        content_sha256: "bb".into(),
        output: None,
    }
}

fn event(kind: &str) -> StoredEvent {
    StoredEvent {
        at: AT.into(),
        actor: "tester".into(),
        event: format!("{{\"kind\":\"{kind}\"}}"),
    }
}

fn document(id: &str, keys: &[&str], day: i64) -> NewDocument {
    NewDocument {
        id: id.into(),
        source: "t".into(),
        url: None,
        title: id.into(),
        published: Some("2024-03-23".into()),
        lang: None,
        sha256: format!("sha-{id}"),
        text: format!("text of {id}"),
        extraction: "[]".into(),
        keys: keys.iter().map(|k| k.to_string()).collect(),
        from_day: Some(day),
        until_day: Some(day + 1),
        places: vec!["city:1".into()],
        ingested_at: AT.into(),
        marking: Some("TLP:AMBER".into()),
    }
}

fn query(limit: usize) -> ObjectQuery {
    ObjectQuery {
        added_after: None,
        ids: vec![],
        types: vec![],
        versions: VersionMatch::All,
        spec_versions: vec![],
        after_seq: None,
        limit,
    }
}

fn status(owner: &str) -> EnvelopeStatus {
    EnvelopeStatus {
        id: format!("status-{owner}-{}", AT),
        owner: owner.into(),
        request_timestamp: AT.into(),
        successes: vec![],
        failures: vec![],
    }
}

fn note(id: &str, modified: &str) -> NewObject {
    let json = format!(
        "{{\"type\":\"note\",\"spec_version\":\"2.1\",\"id\":\"{id}\",\"created\":\"2026-03-20T08:00:00.000Z\",\"modified\":\"{modified}\",\"content\":\"x\"}}"
    );
    NewObject {
        id: id.into(),
        object_type: "note".into(),
        version: modified.into(),
        spec_version: "2.1".into(),
        json,
    }
}

fn node_and_audiences(s: &dyn Store) {
    assert_eq!(s.node().unwrap(), None);
    created(s);
    let info = s.node().unwrap().unwrap();
    assert_eq!(info.name, "Test node");
    assert!(
        !s.create_node(&info, &[], entry("node.init")).unwrap(),
        "a node is created once"
    );
    assert_eq!(s.audiences().unwrap(), Audience::defaults());
    let g = s.generation().unwrap();
    assert!(s
        .audience_add(&audience("north", Level::Amber), entry("a"))
        .unwrap());
    assert!(!s
        .audience_add(&audience("north", Level::Green), entry("a"))
        .unwrap());
    let g2 = s.generation().unwrap();
    assert_ne!(g, g2, "adding an audience changes the generation");
    assert!(s
        .audience_update(&audience("north", Level::Green), entry("a"))
        .unwrap());
    assert!(!s
        .audience_update(&audience("nobody", Level::Green), entry("a"))
        .unwrap());
    assert_ne!(g2, s.generation().unwrap());
    let names: Vec<_> = s.audiences().unwrap();
    assert_eq!(names.last().unwrap().max(), Level::Green);
    assert_eq!(names.len(), 4, "in the order added");
    assert!(s.audience_remove("north", entry("a")).unwrap());
    assert!(!s.audience_remove("north", entry("a")).unwrap());
    assert_eq!(verified(s), 4);
}

fn audit_head_follows_writes(s: &dyn Store) {
    assert_eq!(s.audit_head().unwrap(), None);
    created(s);
    let t = ProtectedTerm {
        term: "SAPPHIRE".into(),
        kind: TermKind::Source,
    };
    assert!(s.protect_add(&t, "sapphire", entry("protect.add")).unwrap());
    assert!(!s.protect_add(&t, "sapphire", entry("protect.add")).unwrap());
    assert_eq!(s.protected_terms().unwrap()[0].term, t);
    let e = s.audit(entry("on.its.own")).unwrap();
    assert_eq!(s.audit_head().unwrap(), Some((e.seq, e.hash.clone())));
    let since = s.audit_since(1, 10).unwrap();
    assert_eq!(since.first().map(|x| x.seq), Some(2));
    assert_eq!(since.last().map(|x| x.seq), Some(e.seq));
    assert_eq!(s.audit_since(1, 1).unwrap().len(), 1);
    let u = User {
        name: "ana".into(),
        role: "analyst".into(),
        password_hash: "h".into(),
        created_at: AT.into(),
        updated_at: AT.into(),
    };
    s.user_add(&u, entry("user.add")).unwrap();
    assert!(s.user_add(&u, entry("user.add")).is_err());
    let d = s
        .draft_save(None, "Draft", "body", "ana", AT, entry("draft.save"))
        .unwrap();
    assert_eq!(s.draft(d).unwrap().unwrap().body, "body");
    assert!(s
        .draft_save(Some(d + 100), "x", "y", "ana", AT, entry("draft.save"))
        .is_err());
    assert!(s
        .protect_remove("sapphire", entry("protect.remove"))
        .unwrap());
    assert!(!s
        .protect_remove("sapphire", entry("protect.remove"))
        .unwrap());
    // node, term, own, user, draft, removal: one entry each.
    assert_eq!(verified(s), 6);
}

fn release_is_one_transaction(s: &dyn Store) {
    created(s);
    let objects = cleared("liaison", Level::Amber, "Warning");
    let report_id = objects.report_id().unwrap().to_string();
    let warning = NewWarning {
        report_id: report_id.clone(),
        audience: "liaison".into(),
        title: "Warning".into(),
        valid_from: None,
        valid_until: "2026-03-22T08:00:00.000Z".into(),
    };
    let issued = event("issued");
    let doc = document("report:1", &["group:is-k"], 100);
    let rec = s
        .release(
            &ReleaseWrite {
                warning: Some((&warning, &issued)),
                document: Some((&doc, &Placement::default())),
                ..plain(&new_release("liaison"), &objects)
            },
            &mut || Ok(()),
        )
        .unwrap();
    assert_eq!(s.releases().unwrap(), vec![rec.clone()]);
    let page = s
        .objects(&Collection::Read("liaison".into()), &query(100))
        .unwrap();
    assert_eq!(page.objects.len(), objects.objects().len());
    let w = s.warning(rec.id).unwrap().unwrap();
    assert_eq!(w.events, vec![issued.clone()]);
    assert_eq!(
        s.warning_for_report(&report_id, "liaison")
            .unwrap()
            .unwrap()
            .id,
        rec.id
    );
    assert_eq!(s.document_count().unwrap(), 1);
    let log = s.audit_log().unwrap();
    verify_releases(&s.releases().unwrap(), &log).unwrap();
    assert!(log.iter().any(|e| e.entry.action == "warning.event"));
    verified(s);

    // A re-issue closes the old warning in the new release's transaction.
    let again = cleared("liaison", Level::Amber, "Warning, updated");
    let rec2 = s
        .release(
            &ReleaseWrite {
                supersedes: Some(Supersede {
                    warning: rec.id,
                    events_seen: 1,
                    events: &|by| vec![event(&format!("reissued-{by}")), event("closed")],
                }),
                ..plain(&new_release("liaison"), &again)
            },
            &mut || Ok(()),
        )
        .unwrap();
    let w = s.warning(rec.id).unwrap().unwrap();
    assert_eq!(w.events.len(), 3);
    assert!(w.events[1].event.contains(&format!("reissued-{}", rec2.id)));
    verified(s);
}

fn failed_release_stores_nothing(s: &dyn Store) {
    created(s);
    let objects = cleared("liaison", Level::Amber, "Warning");
    let warning = NewWarning {
        report_id: objects.report_id().unwrap().to_string(),
        audience: "liaison".into(),
        title: "Warning".into(),
        valid_from: None,
        valid_until: "2026-03-22T08:00:00.000Z".into(),
    };
    let issued = event("issued");
    let doc = document("report:1", &["group:is-k"], 100);
    let before = s.audit_log().unwrap();
    let err = s
        .release(
            &ReleaseWrite {
                warning: Some((&warning, &issued)),
                document: Some((&doc, &Placement::default())),
                ..plain(&new_release("liaison"), &objects)
            },
            &mut || Err("the output file could not be written".into()),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Aborted(_)), "{err}");
    assert!(s.releases().unwrap().is_empty());
    assert!(s.warnings().unwrap().is_empty());
    assert!(s
        .objects(&Collection::Read("liaison".into()), &query(10))
        .unwrap()
        .objects
        .is_empty());
    assert_eq!(s.document_count().unwrap(), 0);
    assert_eq!(s.audit_log().unwrap(), before);
    verified(s);
}

fn release_keeps_its_audience(s: &dyn Store) {
    created(s);
    let objects = cleared("public", Level::Clear, "Warning");
    let r = s.release(
        &ReleaseWrite {
            ..plain(&new_release("liaison"), &objects)
        },
        &mut || Ok(()),
    );
    assert!(
        r.is_err(),
        "objects cleared for public are not a release to liaison"
    );
    assert!(s.releases().unwrap().is_empty());
}

fn stale_supersede_is_refused(s: &dyn Store) {
    created(s);
    let objects = cleared("liaison", Level::Amber, "Warning");
    let warning = NewWarning {
        report_id: objects.report_id().unwrap().to_string(),
        audience: "liaison".into(),
        title: "Warning".into(),
        valid_from: None,
        valid_until: "2026-03-22T08:00:00.000Z".into(),
    };
    let rec = s
        .release(
            &ReleaseWrite {
                warning: Some((&warning, &event("issued"))),
                ..plain(&new_release("liaison"), &objects)
            },
            &mut || Ok(()),
        )
        .unwrap();
    let before = s.audit_log().unwrap();
    let r = s.release(
        &ReleaseWrite {
            supersedes: Some(Supersede {
                warning: rec.id,
                events_seen: 0,
                events: &|_| vec![event("closed")],
            }),
            ..plain(
                &new_release("liaison"),
                &cleared("liaison", Level::Amber, "Other"),
            )
        },
        &mut || Ok(()),
    );
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(s.releases().unwrap().len(), 1);
    assert_eq!(s.audit_log().unwrap(), before);
}

fn read_collections_are_release_only(s: &dyn Store) {
    created(s);
    let mut st = status("north");
    let r = s.add_objects(
        &Collection::Read("liaison".into()),
        &[note("note--11111111-1111-4111-8111-111111111111", AT)],
        &mut st,
    );
    assert!(r.is_err());
    assert!(s
        .objects(&Collection::Read("liaison".into()), &query(10))
        .unwrap()
        .objects
        .is_empty());
}

fn collections_page_and_filter(s: &dyn Store) {
    created(s);
    let inbox = Collection::Inbox("north".into());
    let a = "note--11111111-1111-4111-8111-111111111111";
    let b = "note--22222222-2222-4222-8222-222222222222";
    let objects = [
        note(a, "2026-03-20T08:00:00.000Z"),
        note(a, "2026-03-20T08:30:00.000Z"),
        note(b, "2026-03-20T08:10:00.000Z"),
    ];
    let mut st = status("north");
    s.add_objects(&inbox, &objects, &mut st).unwrap();
    assert_eq!(st.successes.len(), 3);
    let mut again = status("north2");
    s.add_objects(&inbox, &objects[..1], &mut again).unwrap();
    assert_eq!(
        again.successes.len(),
        1,
        "a stored version counts as stored"
    );
    assert_eq!(s.status(&st.id).unwrap().unwrap().successes.len(), 3);
    let all = s.objects(&inbox, &query(100)).unwrap();
    assert_eq!(all.objects.len(), 3, "not stored twice");
    let dates: Vec<_> = all.objects.iter().map(|o| o.date_added.clone()).collect();
    let mut sorted = dates.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(dates, sorted, "date_added unique and increasing");
    // Paging by sequence.
    let first = s.objects(&inbox, &query(2)).unwrap();
    assert!(first.more);
    let mut q = query(2);
    q.after_seq = first.objects.last().map(|o| o.seq);
    let rest = s.objects(&inbox, &q).unwrap();
    assert!(!rest.more);
    assert_eq!(first.objects.len() + rest.objects.len(), 3);
    // Versions.
    let mut q = query(100);
    q.versions = VersionMatch::Last;
    q.ids = vec![a.into()];
    let last = s.objects(&inbox, &q).unwrap();
    assert_eq!(last.objects.len(), 1);
    assert_eq!(last.objects[0].object.version, "2026-03-20T08:30:00.000Z");
    q.versions = VersionMatch::First;
    assert_eq!(
        s.objects(&inbox, &q).unwrap().objects[0].object.version,
        "2026-03-20T08:00:00.000Z"
    );
    q.versions = VersionMatch::Exact(vec!["2026-03-20T08:30:00Z".into()]);
    assert_eq!(s.objects(&inbox, &q).unwrap().objects.len(), 1);
    let mut q = query(100);
    q.added_after = Some(all.objects[0].date_added.clone());
    assert_eq!(s.objects(&inbox, &q).unwrap().objects.len(), 2);
    // Other collections are apart.
    assert!(s
        .objects(&Collection::Inbox("south".into()), &query(10))
        .unwrap()
        .objects
        .is_empty());
    // Deleting one version, then the rest.
    let n = s
        .delete_object(
            &inbox,
            a,
            &["2026-03-20T08:00:00.000Z".into()],
            entry("delete"),
        )
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(s.delete_object(&inbox, a, &[], entry("delete")).unwrap(), 1);
    assert_eq!(s.delete_object(&inbox, a, &[], entry("delete")).unwrap(), 0);
    verified(s);
}

fn warning_events_are_serialised(s: &dyn Store) {
    created(s);
    let objects = cleared("liaison", Level::Amber, "Warning");
    let warning = NewWarning {
        report_id: objects.report_id().unwrap().to_string(),
        audience: "liaison".into(),
        title: "Warning".into(),
        valid_from: None,
        valid_until: "2026-03-22T08:00:00.000Z".into(),
    };
    let rec = s
        .release(
            &ReleaseWrite {
                warning: Some((&warning, &event("issued"))),
                ..plain(&new_release("liaison"), &objects)
            },
            &mut || Ok(()),
        )
        .unwrap();
    assert!(s
        .warning_event(rec.id, 1, &event("delivered"), &Outgoing::default())
        .unwrap());
    // A second writer that read the timeline before the first wrote.
    assert!(!s
        .warning_event(rec.id, 1, &event("closed"), &Outgoing::default())
        .unwrap());
    assert_eq!(s.warning(rec.id).unwrap().unwrap().events.len(), 2);
    assert!(s
        .warning_event(rec.id + 99, 0, &event("x"), &Outgoing::default())
        .is_err());
    verified(s);
}

fn requests_are_decided_once(s: &dyn Store) {
    created(s);
    let r = ReleaseRequest {
        id: 0,
        draft_id: None,
        body: "body".into(),
        report_sha256: "aa".into(),
        audience: "liaison".into(),
        requested_by: "ana".into(),
        requested_at: AT.into(),
        state: "pending".into(),
        decided_by: None,
        decided_at: None,
        note: None,
        release_id: None,
        supersedes: Some(4),
        name: Some("w.md".into()),
    };
    let id = s.request_add(&r, entry("release.request")).unwrap();
    assert_eq!(s.request(id).unwrap().unwrap().supersedes, Some(4));
    assert_eq!(s.request(id).unwrap().unwrap().state, "pending");
    // The release that fulfils it approves it, in its transaction.
    let objects = cleared("liaison", Level::Amber, "Warning");
    let approval = |by: &str| Approval {
        id,
        note: "checked",
        audit: NewAuditEntry {
            actor: by.into(),
            ..entry("release.approve")
        },
    };
    let rec = s
        .release(
            &ReleaseWrite {
                actor: "rhea",
                request: Some(approval("rhea")),
                ..plain(&new_release("liaison"), &objects)
            },
            &mut || Ok(()),
        )
        .unwrap();
    let got = s.request(id).unwrap().unwrap();
    assert_eq!(
        (
            got.state.as_str(),
            got.release_id,
            got.decided_by.as_deref()
        ),
        ("released", Some(rec.id), Some("rhea"))
    );
    // A second approver's release is refused whole.
    let before = s.audit_log().unwrap();
    let again = s.release(
        &ReleaseWrite {
            actor: "ravi",
            request: Some(approval("ravi")),
            ..plain(&new_release("liaison"), &objects)
        },
        &mut || Ok(()),
    );
    assert!(
        matches!(again, Err(StoreError::Conflict(_))),
        "decided once"
    );
    assert_eq!(s.releases().unwrap().len(), 1);
    assert_eq!(s.audit_log().unwrap(), before);
    // A rejection moves a pending request once.
    let id2 = s.request_add(&r, entry("release.request")).unwrap();
    let m = |by| RequestMove {
        id: id2,
        from: "pending",
        to: "rejected",
        by,
        at: AT,
        note: None,
    };
    assert!(s.request_move(&m("rhea"), entry("reject")).unwrap());
    assert!(
        !s.request_move(&m("ravi"), entry("reject")).unwrap(),
        "claimed once"
    );
    assert_eq!(s.requests().unwrap().len(), 2);
    verified(s);
}

fn partners_remotes_generation(s: &dyn Store) {
    created(s);
    let p = Partner {
        name: "north".into(),
        audience: "liaison".into(),
        password_sha256: "p".into(),
        token_sha256: "t".into(),
        created_at: AT.into(),
        rotated_at: AT.into(),
        client_cert_sha256: None,
    };
    let g = s.generation().unwrap();
    s.partner_add(&p, entry("partner.add")).unwrap();
    assert!(matches!(
        s.partner_add(&p, entry("partner.add")),
        Err(StoreError::Conflict(_))
    ));
    let mut stray = p.clone();
    stray.name = "stray".into();
    stray.audience = "nobody".into();
    stray.token_sha256 = "t2".into();
    assert!(matches!(
        s.partner_add(&stray, entry("partner.add")),
        Err(StoreError::Missing(_))
    ));
    let g2 = s.generation().unwrap();
    assert_ne!(g, g2, "adding a partner changes the generation");
    assert!(matches!(
        s.audience_remove("liaison", entry("audience.remove")),
        Err(StoreError::Conflict(_))
    ));
    assert!(s
        .partner_rotate("north", "p2", "t3", AT, entry("partner.rotate"))
        .unwrap());
    assert!(!s
        .partner_rotate("nobody", "p2", "t3", AT, entry("partner.rotate"))
        .unwrap());
    assert_eq!(s.partners().unwrap()[0].token_sha256, "t3");
    assert_ne!(g2, s.generation().unwrap());
    // A client certificate binding is stored, changed and cleared, and
    // moves the generation like any change to partners.
    let fp = "ab".repeat(32);
    let g3 = s.generation().unwrap();
    assert!(s
        .partner_set_client_cert("north", Some(&fp), entry("partner.cert"))
        .unwrap());
    assert_eq!(s.partners().unwrap()[0].client_cert_sha256, Some(fp));
    assert_ne!(g3, s.generation().unwrap());
    assert!(!s
        .partner_set_client_cert("nobody", Some("00"), entry("partner.cert"))
        .unwrap());
    assert!(s
        .partner_set_client_cert("north", None, entry("partner.cert"))
        .unwrap());
    assert_eq!(s.partners().unwrap()[0].client_cert_sha256, None);
    let mut bound = p.clone();
    bound.name = "west".into();
    bound.token_sha256 = "t4".into();
    bound.client_cert_sha256 = Some("cd".repeat(32));
    s.partner_add(&bound, entry("partner.add")).unwrap();
    assert_eq!(s.partners().unwrap()[1], bound, "added with its binding");
    assert!(s.partner_remove("west", entry("partner.remove")).unwrap());
    assert!(s.partner_remove("north", entry("partner.remove")).unwrap());
    assert!(!s.partner_remove("north", entry("partner.remove")).unwrap());
    assert!(s
        .audience_remove("liaison", entry("audience.remove"))
        .unwrap());
    s.partner_seen("north", AT).unwrap();
    assert_eq!(
        s.partners_seen().unwrap(),
        vec![("north".to_string(), AT.to_string())]
    );

    let r = RemoteRecord {
        name: "sender".into(),
        url: "http://127.0.0.1:8080".into(),
        user: Some("north".into()),
        password: Some("pw".into()),
        token: None,
        key: None,
        collections: vec!["a".into(), "b".into()],
        added_at: AT.into(),
        ca_pem: None,
        client_cert_pem: None,
        client_key_pem: None,
    };
    s.remote_add(&r, entry("remote.add")).unwrap();
    assert!(s.remote_add(&r, entry("remote.add")).is_err());
    assert_eq!(s.remotes().unwrap(), vec![r.clone()]);
    // A remote's CA and our client certificate and key are kept whole.
    let tls = RemoteRecord {
        name: "secure".into(),
        url: "https://127.0.0.1:8443".into(),
        ca_pem: Some("-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n".into()),
        client_cert_pem: Some(
            "-----BEGIN CERTIFICATE-----\nVVM=\n-----END CERTIFICATE-----\n".into(),
        ),
        client_key_pem: Some(
            "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n".into(),
        ),
        ..r
    };
    s.remote_add(&tls, entry("remote.add")).unwrap();
    assert_eq!(s.remotes().unwrap()[0], tls);
    assert!(s.remote_remove("secure", entry("remote.remove")).unwrap());
    assert!(s.remote_remove("sender", entry("remote.remove")).unwrap());
    assert!(!s.remote_remove("sender", entry("remote.remove")).unwrap());
    verified(s);
}

fn document_batches(s: &dyn Store) {
    created(s);
    let mut seen = 0;
    s.documents(&mut |b| {
        let (_, case) = b.add_document(&document("a", &["group:is", "city:1"], 100), None)?;
        // The batch sees what it added.
        seen = b.key_df("group:is")?;
        b.add_document(&document("b", &["group:is"], 101), Some(case))?;
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, 1);
    assert_eq!(s.document_count().unwrap(), 2);
    assert_eq!(s.key_df("group:is").unwrap(), 2);
    let postings = s.key_postings("group:is", 90, 100, 0, 10).unwrap();
    assert_eq!(postings.len(), 1, "bounded by first day");
    assert_eq!(s.key_documents("group:is", 10).unwrap().len(), 2);
    // A failing batch stores nothing of itself.
    let r = s.documents(&mut |b| {
        b.add_document(&document("c", &["group:x"], 100), None)?;
        Err(StoreError::Conflict("stop".into()))
    });
    assert!(r.is_err());
    assert_eq!(s.document_count().unwrap(), 2);
    assert_eq!(s.document_sha("c").unwrap(), None);
    // Replacing a document by id replaces its keys.
    s.documents(&mut |b| {
        b.add_document(&document("a", &["venue:x"], 100), None)?;
        Ok(())
    })
    .unwrap();
    assert_eq!(s.document_count().unwrap(), 2);
    assert_eq!(s.key_df("group:is").unwrap(), 1);
    assert_eq!(s.document_sha("a").unwrap().as_deref(), Some("sha-a"));
    let seq = s.document_seq("a").unwrap().unwrap();
    assert_eq!(s.document(seq).unwrap().unwrap().doc.id, "a");
    assert_eq!(s.document_seq("nothing").unwrap(), None);
    let cases = s.cases().unwrap();
    assert_eq!(cases.iter().map(|c| c.documents).sum::<i64>(), 2);
    let first = cases.iter().find(|c| c.documents == 1).unwrap();
    let docs = s.case_documents(first.id).unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(
        s.document(docs[0].seq).unwrap().unwrap().doc.id,
        docs[0].doc.id
    );
    assert_eq!(s.document_places(docs[0].seq).unwrap(), ["city:1"]);
}

fn cases_merge_and_relink(s: &dyn Store) {
    created(s);
    let mut undated = document("u", &["venue:x"], 0);
    undated.from_day = None;
    undated.until_day = None;
    let (mut c1, mut c2, mut c3) = (0, 0, 0);
    s.documents(&mut |b| {
        c1 = b.add_document(&document("a", &["group:is"], 100), None)?.1;
        c2 = b.add_document(&document("b", &["group:is"], 200), None)?.1;
        c3 = b.add_document(&undated, None)?.1;
        Ok(())
    })
    .unwrap();
    // Undated documents are found by the undated span, and by a lookup
    // over all time.
    let p = s
        .key_postings("venue:x", NO_DAY, NO_DAY, NO_DAY, 10)
        .unwrap();
    assert_eq!((p.len(), p[0].from_day, p[0].case_id), (1, NO_DAY, c3));
    assert_eq!(
        s.key_postings("group:is", i64::MIN, i64::MAX, i64::MIN, 10)
            .unwrap()
            .len(),
        2
    );
    let seq_b = s.document_seq("b").unwrap().unwrap();
    assert_eq!(
        s.document_profile(seq_b).unwrap(),
        (vec!["group:is".to_string()], vec!["city:1".to_string()])
    );
    let head = s.audit_head().unwrap();
    // A merge moves every document of the merged cases, records itself and
    // its audit entry; postings give the new case.
    let merge = NewCaseMerge {
        into: c1,
        from: vec![c2, c3],
        at: AT.into(),
        by: "bridge".into(),
        shared: vec!["group:is".into()],
    };
    s.documents(&mut |b| {
        b.merge_cases(&merge, entry("case.merge"))?;
        Ok(())
    })
    .unwrap();
    assert_ne!(
        s.audit_head().unwrap(),
        head,
        "the merge is in the audit log"
    );
    assert_eq!(s.cases().unwrap().len(), 1);
    assert_eq!(s.case_documents(c1).unwrap().len(), 3);
    assert!(s
        .key_postings("group:is", 0, 300, 0, 10)
        .unwrap()
        .iter()
        .all(|p| p.case_id == c1));
    let merges = s.case_merges(c1).unwrap();
    assert_eq!(merges.len(), 2);
    assert_eq!((merges[0].into, merges[0].by.as_str()), (c1, "bridge"));
    // A merge naming a case that is not there changes nothing.
    let r = s.documents(&mut |b| {
        b.merge_cases(
            &NewCaseMerge {
                into: c1,
                from: vec![c2],
                ..merge.clone()
            },
            entry("case.merge"),
        )
    });
    assert!(r.is_err());
    assert_eq!(s.case_documents(c1).unwrap().len(), 3);
    // A recomputation lists every document, or changes nothing.
    let feats = s.document_features().unwrap();
    assert_eq!(feats.len(), 3);
    let relinked: Vec<Relinked> = feats
        .iter()
        .enumerate()
        .map(|(i, f)| Relinked {
            seq: f.seq,
            keys: vec![format!("group:k{i}")],
            from_day: Some(10),
            until_day: Some(11),
            places: vec![],
            case: i as i64 + 1,
        })
        .collect();
    assert!(s.relink(&relinked[..2], entry("cases.rebuild")).is_err());
    assert_eq!(s.cases().unwrap().len(), 1);
    s.relink(&relinked, entry("cases.rebuild")).unwrap();
    assert_eq!(s.cases().unwrap().len(), 3);
    assert!(s.case_merges(c1).unwrap().is_empty());
    assert_eq!(s.key_df("group:is").unwrap(), 0);
    assert_eq!(s.key_df("group:k1").unwrap(), 1);
    assert_eq!(s.document_count().unwrap(), 3);
    verified(s);
}

fn cursors_and_responses(s: &dyn Store) {
    created(s);
    assert_eq!(s.cursor("pull/x/c").unwrap(), None);
    let objects = [note("note--33333333-3333-4333-8333-333333333333", AT)];
    s.add_pulled(
        "sender",
        &objects,
        AT,
        "pull/x/c",
        Some("2026-03-20T09:00:00.000001Z"),
    )
    .unwrap();
    assert_eq!(
        s.cursor("pull/x/c").unwrap().as_deref(),
        Some("2026-03-20T09:00:00.000001Z")
    );
    assert_eq!(
        s.objects(&Collection::Received("sender".into()), &query(10))
            .unwrap()
            .objects
            .len(),
        1
    );
    s.queue_responses("sender", &objects, AT, entry("remote.respond"))
        .unwrap();
    assert_eq!(
        s.objects(&Collection::Outbox("sender".into()), &query(10))
            .unwrap()
            .objects
            .len(),
        1
    );
    s.set_cursor("push/x", "5").unwrap();
    assert_eq!(s.cursor("push/x").unwrap().as_deref(), Some("5"));
    verified(s);
}

fn warning_to_liaison(s: &dyn Store) -> (i64, String) {
    let objects = cleared("liaison", Level::Amber, "Warning");
    let report_id = objects.report_id().unwrap().to_string();
    let warning = NewWarning {
        report_id: report_id.clone(),
        audience: "liaison".into(),
        title: "Warning".into(),
        valid_from: None,
        valid_until: "2026-03-22T08:00:00.000Z".into(),
    };
    let rec = s
        .release(
            &ReleaseWrite {
                warning: Some((&warning, &event("issued"))),
                ..plain(&new_release("liaison"), &objects)
            },
            &mut || Ok(()),
        )
        .unwrap();
    (rec.id, report_id)
}

fn changes_send_in_their_transaction(s: &dyn Store) {
    created(s);
    let (id, _) = warning_to_liaison(s);
    let read = Collection::Read("liaison".into());
    let before = s.objects(&read, &query(1000)).unwrap().objects.len();
    let update = cleared("liaison", Level::Amber, "Warning, extended");
    let out = Outgoing {
        publish: Some(&update),
        reply: None,
    };
    assert!(s.warning_event(id, 1, &event("extended"), &out).unwrap());
    let after = s.objects(&read, &query(1000)).unwrap().objects.len();
    assert!(after > before, "published with the event");
    // Objects cleared for another audience are refused, and the event
    // with them.
    let wrong = cleared("public", Level::Clear, "Warning, public");
    let out = Outgoing {
        publish: Some(&wrong),
        reply: None,
    };
    let log = s.audit_log().unwrap();
    assert!(s.warning_event(id, 2, &event("closed"), &out).is_err());
    assert_eq!(s.warning(id).unwrap().unwrap().events.len(), 2);
    assert_eq!(s.audit_log().unwrap(), log);
    // A reply goes to the partner's inbox when cleared for its audience.
    let p = Partner {
        name: "north".into(),
        audience: "liaison".into(),
        password_sha256: "p".into(),
        token_sha256: "t".into(),
        created_at: AT.into(),
        rotated_at: AT.into(),
        client_cert_sha256: None,
    };
    s.partner_add(&p, entry("partner.add")).unwrap();
    let reply = cleared("liaison", Level::Amber, "Reply");
    let out = Outgoing {
        publish: None,
        reply: Some(("north", &reply)),
    };
    assert!(s.warning_event(id, 2, &event("late"), &out).unwrap());
    assert!(!s
        .objects(&Collection::Inbox("north".into()), &query(10))
        .unwrap()
        .objects
        .is_empty());
    verified(s);
}

fn received_warnings(s: &dyn Store) {
    created(s);
    let w = NewReceived {
        remote: "sender".into(),
        report_id: "report--11111111-1111-4111-8111-111111111111".into(),
        title: "Warning".into(),
        marking: Some("TLP:AMBER".into()),
        valid_from: None,
        valid_until: "2026-03-22T08:00:00.000Z".into(),
        received_at: AT.into(),
    };
    let id = s.received_add(&w, &event("received")).unwrap().unwrap();
    assert_eq!(
        s.received_add(&w, &event("received")).unwrap(),
        None,
        "followed once"
    );
    let ack = [note("note--44444444-4444-4444-8444-444444444444", AT)];
    assert!(s
        .received_event(id, 1, &event("acknowledged"), &ack)
        .unwrap());
    assert!(
        !s.received_event(id, 1, &event("stale"), &[]).unwrap(),
        "serialised"
    );
    let rec = s.received_warning(id).unwrap().unwrap();
    assert_eq!(rec.events.len(), 2);
    assert_eq!(rec.warning, w);
    assert_eq!(
        s.received_for("sender", &w.report_id).unwrap().unwrap().id,
        id
    );
    assert_eq!(s.received_for("other", &w.report_id).unwrap(), None);
    assert_eq!(s.received_warnings().unwrap().len(), 1);
    assert_eq!(
        s.objects(&Collection::Outbox("sender".into()), &query(10))
            .unwrap()
            .objects
            .len(),
        1,
        "the response is queued with the event"
    );
    assert!(s.received_event(id + 9, 0, &event("x"), &[]).is_err());
    let log = s.audit_log().unwrap();
    assert_eq!(
        log.iter()
            .filter(|e| e.entry.action == "received.event")
            .count(),
        2
    );
    verified(s);
}

fn release_keeps_its_source(s: &dyn Store) {
    created(s);
    let objects = cleared("liaison", Level::Amber, "Warning");
    let rel = new_release("liaison");
    s.release(
        &ReleaseWrite {
            source: Some(("w.md", "(TLP:CLEAR) text")),
            ..plain(&rel, &objects)
        },
        &mut || Ok(()),
    )
    .unwrap();
    assert_eq!(
        s.report_source(&rel.report_sha256).unwrap(),
        Some(("w.md".to_string(), "(TLP:CLEAR) text".to_string()))
    );
    assert_eq!(s.report_source("nothing").unwrap(), None);
}
