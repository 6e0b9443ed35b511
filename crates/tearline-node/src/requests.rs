//! The two-person rule: a release outside `internal` waits for a second
//! releaser.
//!
//! With `two_person_rule = true` in `tearline.toml`, [`Node::release`]
//! records a request (with the exact report text) instead of releasing.
//! Another releaser approves it — the release then happens under their
//! name, through the same path as any release, and the request names both
//! — or rejects it. The one who asked can never decide. The approval is
//! part of the release's transaction (pending → released), so two
//! approvers cannot both release it, and a release that fails leaves the
//! request pending.

use std::path::Path;

use serde_json::json;
use sha2::{Digest, Sha256};
use tearline_store::{Approval, ReleaseRequest, RequestMove};

use crate::reports::{Format, Issued, ReleaseInput};
use crate::{stamp, Caller, Code, Error, Node, Result};

impl Node {
    /// Every release request, newest first.
    pub fn requests(&self, _caller: &Caller) -> Result<Vec<ReleaseRequest>> {
        Ok(self.store.requests()?)
    }

    /// The pending requests.
    pub fn pending_requests(&self) -> Result<usize> {
        Ok(self
            .store
            .requests()?
            .iter()
            .filter(|r| r.state == "pending")
            .count())
    }

    /// A request the caller may decide: it exists, is pending, and someone
    /// else asked for it.
    fn decidable(&self, caller: &Caller, id: i64) -> Result<ReleaseRequest> {
        caller.may_decide("approve or reject a release")?;
        let r = self
            .store
            .request(id)?
            .ok_or_else(|| Error::not_found(format!("there is no request {id}")))?;
        if r.requested_by == caller.name() {
            return Err(Error::forbidden(
                "a second releaser must decide: you asked for this release",
            ));
        }
        if r.state != "pending" {
            return Err(Error::new(
                Code::Conflict,
                format!("request {id} is already {}", r.state),
            ));
        }
        Ok(r)
    }

    /// Moves a request from pending to `to` (approved or rejected) with its
    /// audit entry; a request decided meanwhile is refused.
    fn claim(
        &self,
        caller: &Caller,
        r: &ReleaseRequest,
        to: &str,
        action: &str,
        note: &str,
    ) -> Result<String> {
        let at = stamp(self.now());
        let detail = json!({ "requested_by": r.requested_by, "audience": r.audience, "report_sha256": r.report_sha256, "note": note });
        let entry = self.entry(caller, action, &format!("request {}", r.id), detail);
        let m = RequestMove {
            id: r.id,
            from: "pending",
            to,
            by: caller.name(),
            at: &at,
            note: Some(note),
        };
        if !self.store.request_move(&m, entry)? {
            return Err(Error::new(
                Code::Conflict,
                format!("request {} was decided meanwhile", r.id),
            ));
        }
        Ok(at)
    }

    /// Approves another releaser's request and releases it, as `format`
    /// (written to `output` when given). The approval and the release are
    /// one transaction: a second approver's attempt, or a failed release,
    /// leaves the request pending and nothing released. A failure is
    /// recorded in the audit log.
    pub fn approve(
        &self,
        caller: &Caller,
        id: i64,
        note: &str,
        format: Format,
        output: Option<&Path>,
    ) -> Result<Issued> {
        let r = self.decidable(caller, id)?;
        let outcome = self.release_request(caller, &r, note, format, output);
        if let Err(e) = &outcome {
            self.store.audit(self.entry(
                caller,
                "release.approve.failed",
                &format!("request {id}"),
                json!({ "reason": e.message() }),
            ))?;
        }
        outcome
    }

    fn release_request(
        &self,
        caller: &Caller,
        r: &ReleaseRequest,
        note: &str,
        format: Format,
        output: Option<&Path>,
    ) -> Result<Issued> {
        if hex::encode(Sha256::digest(r.body.as_bytes())) != r.report_sha256 {
            return Err(Error::new(
                Code::Conflict,
                format!("request {}: the stored text does not match its hash", r.id),
            ));
        }
        let name = r
            .name
            .clone()
            .unwrap_or_else(|| format!("request-{}.md", r.id));
        let report = crate::reports::parse(&name, r.body.as_bytes())?;
        let audience = self.audience(&r.audience)?;
        let input = ReleaseInput {
            report: &report,
            source: r.body.as_bytes(),
            audience: &r.audience,
            format,
            output,
            supersedes: r.supersedes,
            draft: r.draft_id,
        };
        let detail = json!({ "requested_by": r.requested_by, "audience": r.audience, "report_sha256": r.report_sha256, "note": note });
        let approval = Approval {
            id: r.id,
            note,
            audit: self.entry(
                caller,
                "release.approve",
                &format!("request {}", r.id),
                detail,
            ),
        };
        self.issue(caller, &input, &audience, Some(approval))
    }

    /// Rejects another releaser's request; nothing is released.
    pub fn reject(&self, caller: &Caller, id: i64, note: &str) -> Result<()> {
        let r = self.decidable(caller, id)?;
        self.claim(caller, &r, "rejected", "release.reject", note)?;
        Ok(())
    }
}
