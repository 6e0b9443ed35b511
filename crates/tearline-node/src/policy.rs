//! Who may do what: roles, the caller of an operation, and the checks.
//!
//! Every operation of the service layer takes a [`Caller`] and checks its
//! role here, whichever front end it came from. The workbench's callers
//! are its signed-in users; the command line's caller is the node's
//! operator — whoever runs `tearline` on the node's files — named by
//! `TEARLINE_ACTOR` or the login name, who may do anything a releaser and
//! an admin may. The two-person rule binds the operator too: a release
//! outside `internal` becomes a request that someone else approves.

use crate::error::{Error, Result};

/// The audience anyone may release to.
pub const INTERNAL: &str = "internal";

/// What a caller may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Writes and previews reports; releases only to `internal`.
    Analyst,
    /// An analyst who may also release to any audience, approve another
    /// releaser's request, and close or extend warnings.
    Releaser,
    /// An analyst who may also read and verify the audit log and list
    /// users.
    Admin,
    /// The node's operator at the command line: everything.
    Operator,
}

impl Role {
    /// A workbench user's role by name.
    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "analyst" => Ok(Role::Analyst),
            "releaser" => Ok(Role::Releaser),
            "admin" => Ok(Role::Admin),
            _ => Err(Error::bad(format!(
                "unknown role `{s}`: expected analyst, releaser or admin"
            ))),
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Releaser => "releaser",
            Role::Admin => "admin",
            Role::Operator => "operator",
        }
    }

    /// Only a releaser (or the operator) releases outside `internal`.
    pub fn may_release(self, audience: &str) -> bool {
        audience == INTERNAL || matches!(self, Role::Releaser | Role::Operator)
    }

    /// Approving requests, closing and extending warnings.
    pub fn may_decide(self) -> bool {
        matches!(self, Role::Releaser | Role::Operator)
    }

    /// Reading and verifying the audit log.
    pub fn may_audit(self) -> bool {
        matches!(self, Role::Releaser | Role::Admin | Role::Operator)
    }

    /// Listing and managing users.
    pub fn may_admin(self) -> bool {
        matches!(self, Role::Admin | Role::Operator)
    }

    /// Changing the node: audiences, the registry, partners, remotes.
    pub fn may_configure(self) -> bool {
        self == Role::Operator
    }
}

/// Who is calling: a name for the audit log and a role for the checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    name: String,
    role: Role,
}

impl Caller {
    /// The node's operator at the command line.
    pub fn operator(name: &str) -> Caller {
        Caller {
            name: name.to_string(),
            role: Role::Operator,
        }
    }

    /// A signed-in workbench user.
    pub fn user(name: &str, role: Role) -> Caller {
        Caller {
            name: name.to_string(),
            role,
        }
    }

    /// The name recorded in the audit log.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    pub(crate) fn may_release(&self, audience: &str) -> Result<()> {
        if self.role.may_release(audience) {
            return Ok(());
        }
        Err(Error::forbidden(format!(
            "only a releaser may release to `{audience}`; an {} may release to `{INTERNAL}`",
            self.role.name()
        )))
    }

    pub(crate) fn may_decide(&self, what: &str) -> Result<()> {
        if self.role.may_decide() {
            return Ok(());
        }
        Err(Error::forbidden(format!("only a releaser may {what}")))
    }

    pub(crate) fn may_audit(&self) -> Result<()> {
        if self.role.may_audit() {
            return Ok(());
        }
        Err(Error::forbidden(
            "only a releaser or an admin may read the audit log",
        ))
    }

    pub(crate) fn may_admin(&self) -> Result<()> {
        if self.role.may_admin() {
            return Ok(());
        }
        Err(Error::forbidden("only an admin may manage users"))
    }

    pub(crate) fn may_configure(&self) -> Result<()> {
        if self.role.may_configure() {
            return Ok(());
        }
        Err(Error::forbidden(
            "only the node's operator changes audiences, the registry, partners and remotes",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_the_table_says() {
        let table = [
            (Role::Analyst, [true, false, false, false, false, false]),
            (Role::Releaser, [true, true, true, true, false, false]),
            (Role::Admin, [true, false, false, true, true, false]),
            (Role::Operator, [true, true, true, true, true, true]),
        ];
        for (r, want) in table {
            let got = [
                r.may_release(INTERNAL),
                r.may_release("public"),
                r.may_decide(),
                r.may_audit(),
                r.may_admin(),
                r.may_configure(),
            ];
            assert_eq!(got, want, "{r:?}");
        }
        assert!(Role::parse("operator").is_err(), "not a user's role");
    }
}
