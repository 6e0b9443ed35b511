//! Reports: reading one, assessing it for every audience, and issuing a
//! release.
//!
//! [`Node::assess`] is the one per-audience assessment — lint, each
//! audience's release, its leak check, its specificity profile and what
//! each cut cost — used by `tearline check` and by the workbench preview.
//! [`Node::release`] is the one release path, used by `tearline release`,
//! by the workbench and by an approval under the two-person rule: it
//! checks the caller's role and the two-person rule, lints, builds the
//! release once, leak-checks each rendering once, stages the output file,
//! and writes everything in one store transaction whose last step moves
//! the file into place.

use std::path::Path;

use chrono::Utc;
use serde_json::json;
use sha2::{Digest, Sha256};
use tearline_model::{parse_report, Audience, Report, MAX_REPORT_BYTES};
use tearline_release::{
    clear, costs, everything, lint, render_json, render_markdown, Cleared, ClearedObjects, Cost,
    LeakFinding, LeakGuard, LintFinding, Profile, Registry, Release, Rendered, Severity,
};
use tearline_store::{
    Approval, NewDocument, NewRelease, NewWarning, Placement, ReleaseRecord, ReleaseRequest,
    ReleaseWrite, StoreError, Supersede,
};

use crate::files::{Placed, Staged};
use crate::{stamp, Caller, Code, Error, Node, Result, INTERNAL};

/// The output formats of a release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Markdown with markings.
    Md,
    /// Tearline's JSON.
    Json,
    /// A signed STIX 2.1 bundle.
    Stix,
    /// A MISP core-format event.
    Misp,
}

impl Format {
    /// The name recorded with a release.
    pub fn name(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Json => "json",
            Format::Stix => "stix",
            Format::Misp => "misp",
        }
    }
}

/// Reads and parses a report file, refusing oversized files before
/// reading them. Errors name the file, line and column.
pub fn read_report(path: &Path) -> Result<(Report, Vec<u8>)> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::bad(format!("failed to read report `{name}`: {e}")))?;
    if meta.len() > MAX_REPORT_BYTES as u64 {
        return Err(Error::bad(format!(
            "{name}:1:1: report is {} bytes; the limit is {MAX_REPORT_BYTES} bytes (10 MiB)",
            meta.len()
        )));
    }
    // Read no more than one byte past the limit, whatever the file is (a
    // pipe or a device has no length to check first).
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            use std::io::Read;
            f.take(MAX_REPORT_BYTES as u64 + 1).read_to_end(&mut bytes)
        })
        .map_err(|e| Error::bad(format!("failed to read report `{name}`: {e}")))?;
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(Error::bad(format!(
            "{name}:1:1: report is over {MAX_REPORT_BYTES} bytes, the limit (10 MiB)"
        )));
    }
    let report = parse(&name, &bytes)?;
    Ok((report, bytes))
}

/// Parses report text held in memory.
pub fn parse(name: &str, bytes: &[u8]) -> Result<Report> {
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(Error::bad(format!(
            "{name}:1:1: report is {} bytes; the limit is {MAX_REPORT_BYTES} bytes (10 MiB)",
            bytes.len()
        )));
    }
    parse_report(name, bytes).map_err(|e| Error::bad(e.to_string()))
}

/// The leak findings of a report as lines, placed in the report's source
/// where they can be.
pub fn leak_lines(report: &Report, findings: &[LeakFinding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            if f.in_source {
                format!("{}:{f}", report.name())
            } else {
                f.to_string()
            }
        })
        .collect()
}

/// A lint finding as a line: `file:line:column: message [code]`.
pub fn lint_line(report: &Report, f: &LintFinding) -> String {
    format!(
        "{}:{}:{}: {} [{}]",
        report.name(),
        f.line,
        f.column,
        f.message,
        f.code
    )
}

/// A report assessed for every audience of the node.
pub struct Assessment {
    /// The report.
    pub report: Report,
    /// Its lint findings.
    pub lint: Vec<LintFinding>,
    /// The full report's specificity.
    pub full: Profile,
    /// Each audience's release, in the node's order.
    pub audiences: Vec<AudienceAssessment>,
}

impl Assessment {
    /// Whether a lint finding is an error (a release would be refused).
    pub fn has_errors(&self) -> bool {
        self.lint.iter().any(|f| f.severity == Severity::Error)
    }

    /// Whether some audience's release would be refused by the leak check.
    pub fn has_leaks(&self) -> bool {
        self.audiences.iter().any(|a| !a.leaks.is_empty())
    }
}

/// One audience's release of an assessed report.
pub struct AudienceAssessment {
    /// The audience.
    pub audience: Audience,
    /// What it would receive.
    pub release: Release,
    /// What the leak check finds in it (empty: it would pass).
    pub leaks: Vec<LeakFinding>,
    /// The findings as lines, placed in the report's source.
    pub leak_lines: Vec<String>,
    /// What each cut cost, against the full report.
    pub costs: Vec<Cost>,
}

/// A release to be issued: the report, where it goes and how.
pub struct ReleaseInput<'a> {
    /// The parsed report.
    pub report: &'a Report,
    /// Its source bytes (their SHA-256 is recorded).
    pub source: &'a [u8],
    /// The audience.
    pub audience: &'a str,
    /// The output format.
    pub format: Format,
    /// Write the release to this file (else only to the collection and
    /// the caller).
    pub output: Option<&'a Path>,
    /// This release re-issues warning N, which is closed as superseded.
    pub supersedes: Option<i64>,
    /// The workbench draft it comes from, if any.
    pub draft: Option<i64>,
}

/// What [`Node::release`] did.
pub enum Released {
    /// The release was issued.
    Issued(Issued),
    /// The two-person rule holds it as a request for a second releaser.
    Requested(ReleaseRequest),
}

/// A release that was recorded and delivered.
pub struct Issued {
    /// Its record.
    pub record: ReleaseRecord,
    /// The released bytes (what was written to the output file).
    pub bytes: Vec<u8>,
    /// Portions released, withheld, and in the report.
    pub kept: usize,
    /// Portions withheld.
    pub withheld: usize,
    /// Portions in the report.
    pub total: usize,
    /// STIX objects delivered to the audience's collection.
    pub objects: usize,
    /// That collection's id.
    pub collection: String,
    /// The warning it opened (its number is the release's).
    pub warning: Option<i64>,
    /// The warning it superseded.
    pub superseded: Option<i64>,
}

/// What one release writes, prepared before its transaction.
struct Commit<'a> {
    record: &'a NewRelease,
    at: &'a str,
    checked: &'a Checked,
    warning: Option<&'a NewWarning>,
    /// The warning re-issued, with the events its timeline held.
    supersedes: Option<(i64, usize)>,
    request: Option<Approval<'a>>,
    document: Option<(&'a NewDocument, &'a Placement)>,
    /// The report's source (name, text), kept for later changes.
    source: Option<(&'a str, &'a str)>,
}

/// A report with a validity window is a warning, followed until a person
/// closes it: the warning its release opens.
fn warning_of(
    report: &Report,
    audience: &Audience,
    checked: &Checked,
) -> Result<Option<NewWarning>> {
    let Some(until) = report.meta().valid_until else {
        return Ok(None);
    };
    let report_id = checked
        .objects
        .report_id()
        .ok_or_else(|| Error::new(Code::Internal, "bug: a STIX release has no report object"))?;
    Ok(Some(NewWarning {
        report_id: report_id.to_string(),
        audience: audience.name().to_string(),
        title: checked.release.title().to_string(),
        valid_from: report
            .meta()
            .valid_from
            .map(|t| stamp(t.with_timezone(&Utc))),
        valid_until: stamp(until.with_timezone(&Utc)),
    }))
}

/// A release built, rendered and leak-checked for one audience.
struct Checked {
    release: Release,
    output: Cleared,
    objects: ClearedObjects,
}

impl Node {
    /// Lints a report and builds and leak-checks every audience's release.
    /// Writes nothing.
    pub fn assess(&self, report: Report) -> Result<Assessment> {
        let registry = self.registry()?;
        let audiences = self.audiences()?;
        let findings = lint(&report, &audiences, &registry);
        let full = Release::build(&report, &everything(), &registry);
        let mut out = Vec::new();
        for a in audiences {
            let release = Release::build(&report, &a, &registry);
            let guard = LeakGuard::new(&report, &a, &registry);
            let rendered = Rendered::Text(render_markdown(&release));
            let leaks = clear(&guard, &release, rendered, None)
                .err()
                .unwrap_or_default();
            out.push(AudienceAssessment {
                leak_lines: leak_lines(&report, &leaks),
                costs: costs(full.profile(), &release),
                audience: a,
                release,
                leaks,
            });
        }
        Ok(Assessment {
            full: full.profile().clone(),
            lint: findings,
            audiences: out,
            report,
        })
    }

    /// Issues a release of a report to one audience, or — under the
    /// two-person rule, outside `internal` — records a request for a second
    /// releaser. Nothing is written when it is refused (by role, lint or the
    /// leak check), and a failure at any step, the output file included,
    /// leaves nothing recorded, delivered or opened.
    pub fn release(&self, caller: &Caller, input: &ReleaseInput<'_>) -> Result<Released> {
        caller.may_release(input.audience)?;
        let audience = self.audience(input.audience)?;
        if self.settings.workbench.two_person_rule && audience.name() != INTERNAL {
            // A request that could never be released is refused now, not
            // at approval: the same lint and leak check as a release.
            let registry = self.registry()?;
            self.refuse_lint_errors(input.report, &registry)?;
            let file_name = input
                .output
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().to_string());
            self.checked(
                input.report,
                &audience,
                &registry,
                input.format,
                file_name.as_deref(),
                None,
            )?;
            return Ok(Released::Requested(
                self.request_release(caller, input, &audience)?,
            ));
        }
        Ok(Released::Issued(
            self.issue(caller, input, &audience, None)?,
        ))
    }

    /// Issues a release (the policy checks are done). `request` is the
    /// approved request it fulfils.
    pub(crate) fn issue(
        &self,
        caller: &Caller,
        input: &ReleaseInput<'_>,
        audience: &Audience,
        request: Option<Approval<'_>>,
    ) -> Result<Issued> {
        let report = input.report;
        let superseded = match input.supersedes {
            Some(id) => Some(self.open_warning(id)?),
            None => None,
        };
        let supersedes = superseded.as_ref().map(|w| (w.id, w.events.len()));
        let registry = self.registry()?;
        self.refuse_lint_errors(report, &registry)?;
        let file_name = input
            .output
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().to_string());
        let old_report = superseded.as_ref().map(|w| w.warning.report_id.as_str());
        let checked = self.checked(
            report,
            audience,
            &registry,
            input.format,
            file_name.as_deref(),
            old_report,
        )?;
        let staged = match input.output {
            Some(p) => Some(Staged::new(p, checked.output.bytes())?),
            None => None,
        };
        let at = stamp(self.now());
        let record = NewRelease {
            audience: audience.name().to_string(),
            format: input.format.name().to_string(),
            report_name: report.name().to_string(),
            report_title: report.meta().title.clone(),
            report_sha256: hex::encode(Sha256::digest(input.source)),
            content_sha256: hex::encode(Sha256::digest(checked.output.bytes())),
            output: input.output.map(|p| p.display().to_string()),
        };
        // The full report joins the node's documents, so that later reports
        // and articles on the same threat are linked to it.
        let document = self.report_document(report, &record.report_sha256, &at, caller.name())?;
        let warning = match warning_of(report, audience, &checked)? {
            // One warning per report and audience: a report released again
            // to the same audience (in another format, say) is followed by
            // the warning it already has while that is open. A re-issue
            // always opens its own.
            Some(w) if supersedes.is_none() && self.open_for(&w)?.is_some() => None,
            w => w,
        };
        let followed = match &warning {
            None if supersedes.is_none() => match warning_of(report, audience, &checked)? {
                Some(w) => self.open_for(&w)?,
                None => None,
            },
            _ => None,
        };
        let source = std::str::from_utf8(input.source).ok();
        let rec = self.commit(
            caller,
            Commit {
                record: &record,
                at: &at,
                checked: &checked,
                warning: warning.as_ref(),
                supersedes,
                request,
                document: document.as_ref().map(|(d, place)| (d, place)),
                source: source.map(|t| (report.name(), t)),
            },
            staged,
        )?;
        Ok(Issued {
            kept: checked.release.portions().len(),
            withheld: checked.release.withheld().len(),
            total: report.portions().len(),
            objects: checked.objects.objects().len(),
            collection: tearline_exchange::read_collection_id(audience.name()),
            warning: warning.map(|_| rec.id).or(followed),
            superseded: input.supersedes,
            bytes: checked.output.bytes().to_vec(),
            record: rec,
        })
    }

    /// Refuses a report with lint errors, each named with its place.
    fn refuse_lint_errors(&self, report: &Report, registry: &Registry) -> Result<()> {
        let errors: Vec<String> = lint(report, &self.audiences()?, registry)
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| lint_line(report, f))
            .collect();
        if errors.is_empty() {
            return Ok(());
        }
        Err(Error::new(
            Code::Lint,
            format!(
                "`{}` has {} lint error(s); nothing was released",
                report.name(),
                errors.len()
            ),
        )
        .with_details(errors))
    }

    /// Writes a release in one store transaction; the staged output file
    /// goes into place as its last step, and is taken back out if the
    /// commit then fails.
    fn commit(
        &self,
        caller: &Caller,
        c: Commit<'_>,
        staged: Option<Staged>,
    ) -> Result<ReleaseRecord> {
        let now = self.now();
        let issued = crate::warnings::event(caller, now, tearline_lifecycle::EventKind::Issued);
        let closing = |by: i64| crate::warnings::superseded_events(caller, now, by);
        let write = ReleaseWrite {
            release: c.record,
            actor: caller.name(),
            at: c.at,
            objects: &c.checked.objects,
            warning: c.warning.map(|w| (w, &issued)),
            supersedes: c.supersedes.map(|(warning, events_seen)| Supersede {
                warning,
                events_seen,
                events: &closing,
            }),
            request: c.request,
            document: c.document,
            source: c.source,
        };
        let mut staged = staged;
        let mut placed: Option<Placed> = None;
        let mut finish = || -> std::result::Result<(), String> {
            if let Some(s) = staged.take() {
                placed = Some(s.place().map_err(|e| e.with_causes())?);
            }
            Ok(())
        };
        match self.store.release(&write, &mut finish) {
            Ok(rec) => {
                if let Some(p) = placed {
                    p.keep();
                }
                Ok(rec)
            }
            Err(e) => {
                if let Some(p) = placed {
                    p.undo();
                }
                Err(match e {
                    StoreError::Aborted(m) => Error::new(Code::Internal, m),
                    other => other.into(),
                })
            }
        }
    }

    /// Builds one audience's release once, renders it in `format` and as
    /// STIX (the same rendering when the format is STIX), and leak-checks
    /// each rendering once.
    fn checked(
        &self,
        report: &Report,
        audience: &Audience,
        registry: &Registry,
        format: Format,
        file_name: Option<&str>,
        supersedes: Option<&str>,
    ) -> Result<Checked> {
        let release = Release::build(report, audience, registry);
        let guard = LeakGuard::new(report, audience, registry);
        let refused = |leaks: Vec<LeakFinding>, stix: bool| {
            let lines = leak_lines(report, &leaks);
            let what = if stix {
                format!(
                    "the STIX form of the release to `{}` was refused by the leak check",
                    audience.name()
                )
            } else {
                format!(
                    "release of `{}` to `{}` refused by the leak check: {} finding(s)",
                    report.name(),
                    audience.name(),
                    lines.len()
                )
            };
            Error::new(Code::Leak, format!("{what}; nothing was written")).with_details(lines)
        };
        let stix = self.stix_bundle(&release, supersedes);
        let output = match format {
            Format::Md => Rendered::Text(render_markdown(&release)),
            Format::Json => Rendered::Json(render_json(&release)),
            Format::Stix => Rendered::Json(stix.clone()),
            Format::Misp => Rendered::Json(self.misp_event(&release)),
        };
        let output = clear(&guard, &release, output, file_name).map_err(|l| refused(l, false))?;
        // The release is also delivered: its STIX objects, cleared for the
        // same audience, go into the audience's TAXII collection.
        let objects = if format == Format::Stix {
            output.stix_objects()
        } else {
            clear(&guard, &release, Rendered::Json(stix), None)
                .map_err(|l| refused(l, true))?
                .stix_objects()
        }
        .map_err(|m| Error::new(Code::Internal, format!("bug: a cleared STIX release: {m}")))?;
        Ok(Checked {
            release,
            output,
            objects,
        })
    }

    /// A release's STIX bundle, signed with the node's key.
    /// A re-issue's bundle also holds a note that links the new report to
    /// the one it supersedes (`supersedes`), so a receiver — Tearline or
    /// not — can follow the chain.
    fn stix_bundle(&self, release: &Release, supersedes: Option<&str>) -> serde_json::Value {
        let mut b = tearline_stix::bundle(release, &self.producer(), self.now());
        if let Some(old) = supersedes {
            let report = b["objects"]
                .as_array()
                .and_then(|o| o.iter().find(|x| x["type"] == "report"))
                .cloned();
            if let (Some(r), Some(list)) = (report, b["objects"].as_array_mut()) {
                let new_id = r["id"].clone();
                let at = r["modified"].clone();
                list.push(json!({
                    "type": "note",
                    "spec_version": "2.1",
                    "id": tearline_stix::StixId::derived("note", &format!("{new_id}/supersedes/{old}")),
                    "created": at,
                    "modified": at,
                    "created_by_ref": r["created_by_ref"],
                    "content": "This report re-issues an earlier warning, which it supersedes.",
                    "object_refs": [new_id, old],
                    "object_marking_refs": r["object_marking_refs"],
                    "extensions": { tearline_stix::TEARLINE_EXTENSION: {
                        "extension_type": "property-extension",
                        "lifecycle": "supersedes",
                        "supersedes": old,
                    }},
                }));
            }
        }
        tearline_stix::sign_bundle(&mut b, &self.key);
        b
    }

    /// The node as the producer of what it publishes: the STIX identity,
    /// and the creator organisation of a MISP event.
    fn producer(&self) -> tearline_stix::Producer {
        let created = chrono::DateTime::parse_from_rfc3339(&self.info.created)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| self.now());
        tearline_stix::Producer::new(&self.info.name, created)
    }

    /// A release as a MISP event, distributed as `[misp]` says; it is
    /// leak-checked like every rendering before anything is written.
    fn misp_event(&self, release: &Release) -> serde_json::Value {
        let producer = self.producer();
        tearline_misp::event(
            release,
            &tearline_misp::Context {
                producer: &producer,
                now: self.now(),
                restricted: self.settings.misp.distribution.into(),
            },
        )
    }

    /// The open warning that already follows this report and audience.
    fn open_for(&self, w: &NewWarning) -> Result<Option<i64>> {
        let Some(rec) = self.store.warning_for_report(&w.report_id, &w.audience)? else {
            return Ok(None);
        };
        let open = tearline_lifecycle::apply::warning(&rec)?
            .state(self.now())
            .is_open();
        Ok(open.then_some(rec.id))
    }

    /// The report as a document for fusion, with the case it joins; `None`
    /// when the same report source is already stored.
    fn report_document(
        &self,
        report: &Report,
        report_sha256: &str,
        at: &str,
        actor: &str,
    ) -> Result<Option<(NewDocument, Placement)>> {
        let doc = crate::reading::report_doc(report, report_sha256);
        crate::reading::prepare(&*self.store, &doc, at, actor)
    }

    /// Records a request for a second releaser (the two-person rule).
    fn request_release(
        &self,
        caller: &Caller,
        input: &ReleaseInput<'_>,
        audience: &Audience,
    ) -> Result<ReleaseRequest> {
        let body = std::str::from_utf8(input.source)
            .map_err(|_| Error::bad("the report is not UTF-8 text"))?
            .to_string();
        let sha = hex::encode(Sha256::digest(input.source));
        let at = stamp(self.now());
        let entry = self.entry(
            caller,
            "release.request",
            "",
            json!({ "draft": input.draft, "audience": audience.name(), "report_sha256": sha, "report": input.report.name() }),
        );
        let mut r = ReleaseRequest {
            id: 0,
            draft_id: input.draft,
            body,
            report_sha256: sha,
            audience: audience.name().to_string(),
            requested_by: caller.name().to_string(),
            requested_at: at,
            state: "pending".into(),
            decided_by: None,
            decided_at: None,
            note: None,
            release_id: None,
            supersedes: input.supersedes,
            name: Some(input.report.name().to_string()),
        };
        r.id = self.store.request_add(&r, entry)?;
        Ok(r)
    }
}

/// Verifies the signatures of a STIX bundle file against a node's public
/// key (`ed25519:...`); returns how many objects verified, or an error of
/// kind [`Code::Signature`] whose details name each altered object.
pub fn verify_bundle(path: &Path, key: &str) -> Result<(usize, String)> {
    let key = tearline_stix::import_key(key).map_err(|e| Error::bad(format!("--key: {e}")))?;
    let name = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| Error::bad(format!("failed to read `{name}`: {e}")))?;
    let bundle: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| Error::bad(format!("{name}: not JSON: {e}")))?;
    if bundle.get("type").and_then(|t| t.as_str()) != Some("bundle") {
        return Err(Error::bad(format!("{name}: not a STIX bundle")));
    }
    match tearline_stix::verify_bundle(&bundle, &key) {
        Ok(n) => Ok((n, tearline_stix::key_id(&key))),
        Err(errors) => Err(Error::new(
            Code::Signature,
            format!("{name}: {} object(s) failed verification", errors.len()),
        )
        .with_details(errors.iter().map(|e| format!("{name}: {e}")).collect())),
    }
}
