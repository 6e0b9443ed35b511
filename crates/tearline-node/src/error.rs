//! One error kind per failure, declared once.
//!
//! Every error of the service layer carries a [`Code`]; the command line's
//! exit code and the workbench's HTTP status are both derived from it
//! ([`Code::exit`], [`Code::status`]), so the two front ends can never
//! disagree about what kind of failure something was. An internal error's
//! details are for the node's log: [`Error::public_message`] is what a
//! browser or a partner may be told.

use std::fmt;

/// What kind of failure an error is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// The input is wrong: a report that does not parse, a bad value, an
    /// unknown audience.
    BadInput,
    /// The thing named does not exist (or is not the caller's to see).
    NotFound,
    /// It conflicts with what is stored: a name taken, a state that moved
    /// meanwhile, a request already decided.
    Conflict,
    /// The caller's role, or the two-person rule, does not allow it.
    Forbidden,
    /// No valid sign-in.
    Unauthorized,
    /// Too many failed sign-ins: wait.
    Throttled,
    /// The input is over a size limit (a report over the workbench's
    /// `max_report_bytes`).
    TooLarge,
    /// Refused by the leak check.
    Leak,
    /// The report has lint errors.
    Lint,
    /// The audit log does not verify.
    Audit,
    /// A signature does not verify.
    Signature,
    /// A remote failed or answered wrongly.
    Remote,
    /// Something failed inside the node: the store, a file, a bug.
    Internal,
}

impl Code {
    /// The command line's exit code (see the README's table).
    pub fn exit(self) -> u8 {
        match self {
            Code::BadInput
            | Code::NotFound
            | Code::Conflict
            | Code::Unauthorized
            | Code::TooLarge => 3,
            Code::Leak => 4,
            Code::Lint => 5,
            Code::Audit => 6,
            Code::Signature => 7,
            Code::Forbidden => 8,
            Code::Throttled | Code::Remote | Code::Internal => 1,
        }
    }

    /// The HTTP status the workbench answers with.
    pub fn status(self) -> u16 {
        match self {
            Code::BadInput => 400,
            Code::Unauthorized => 401,
            Code::Forbidden => 403,
            Code::NotFound => 404,
            Code::Conflict | Code::Audit => 409,
            Code::Leak | Code::Lint | Code::Signature => 422,
            Code::TooLarge => 413,
            Code::Throttled => 429,
            Code::Internal => 500,
            Code::Remote => 502,
        }
    }
}

/// Anything that knows what kind of failure it is.
pub trait ErrorCode {
    /// Its kind.
    fn code(&self) -> Code;
}

/// An error of the service layer: its kind, a message that names what
/// failed and where, optional detail lines (each lint or leak finding), and
/// the underlying cause.
#[derive(Debug)]
pub struct Error {
    code: Code,
    message: String,
    details: Vec<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// An error of kind `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            details: Vec::new(),
            source: None,
        }
    }

    /// Bad input.
    pub fn bad(message: impl Into<String>) -> Error {
        Error::new(Code::BadInput, message)
    }

    /// Something that does not exist.
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(Code::NotFound, message)
    }

    /// Not allowed.
    pub fn forbidden(message: impl Into<String>) -> Error {
        Error::new(Code::Forbidden, message)
    }

    /// A failure inside the node, with its cause.
    pub fn internal(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error {
            code: Code::Internal,
            message: message.into(),
            details: Vec::new(),
            source: Some(Box::new(source)),
        }
    }

    /// The same error with detail lines.
    pub fn with_details(mut self, details: Vec<String>) -> Error {
        self.details = details;
        self
    }

    /// Its kind.
    pub fn code(&self) -> Code {
        self.code
    }

    /// What failed, for the node's own user (the command line, the log).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Each finding behind the error (lint or leak lines).
    pub fn details(&self) -> &[String] {
        &self.details
    }

    /// The message with its causes, for the node's own log or user.
    pub fn with_causes(&self) -> String {
        let mut out = self.message.clone();
        let mut cur = std::error::Error::source(self);
        while let Some(c) = cur {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cur = c.source();
        }
        out
    }

    /// What a browser or a partner may be told: the message, except for
    /// internal failures, whose details stay in the node's log.
    pub fn public_message(&self) -> String {
        match self.code {
            Code::Internal => "something failed inside Tearline; the server log says what".into(),
            _ => self.message.clone(),
        }
    }
}

impl ErrorCode for Error {
    fn code(&self) -> Code {
        self.code
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl ErrorCode for tearline_store::StoreError {
    fn code(&self) -> Code {
        use tearline_store::StoreError as S;
        match self {
            S::Conflict(_) => Code::Conflict,
            S::Missing(_) => Code::NotFound,
            S::Database(_) | S::Corrupt(_) | S::Aborted(_) => Code::Internal,
        }
    }
}

impl From<tearline_store::StoreError> for Error {
    fn from(e: tearline_store::StoreError) -> Error {
        let code = e.code();
        match code {
            Code::Internal => Error::internal("the store failed", e),
            _ => Error::new(code, e.to_string()),
        }
    }
}

impl ErrorCode for tearline_lifecycle::apply::ApplyError {
    fn code(&self) -> Code {
        use tearline_lifecycle::apply::ApplyError as A;
        match self {
            A::Lifecycle(_) | A::Received(_) => Code::Conflict,
            A::Missing(_) => Code::NotFound,
            A::Busy(_) => Code::Conflict,
            A::Store(e) => e.code(),
            A::Corrupt(..) => Code::Internal,
        }
    }
}

impl From<tearline_lifecycle::apply::ApplyError> for Error {
    fn from(e: tearline_lifecycle::apply::ApplyError) -> Error {
        let code = e.code();
        match code {
            Code::Internal => Error::internal("a warning could not be updated", e),
            _ => Error::new(code, e.to_string()),
        }
    }
}

/// The service layer's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_and_statuses_follow_the_kind() {
        let table = [
            (Code::BadInput, 3, 400),
            (Code::NotFound, 3, 404),
            (Code::Conflict, 3, 409),
            (Code::Forbidden, 8, 403),
            (Code::Unauthorized, 3, 401),
            (Code::Throttled, 1, 429),
            (Code::TooLarge, 3, 413),
            (Code::Leak, 4, 422),
            (Code::Lint, 5, 422),
            (Code::Audit, 6, 409),
            (Code::Signature, 7, 422),
            (Code::Remote, 1, 502),
            (Code::Internal, 1, 500),
        ];
        for (code, exit, status) in table {
            assert_eq!((code.exit(), code.status()), (exit, status), "{code:?}");
        }
    }

    #[test]
    fn internal_details_are_not_public() {
        let e = Error::internal(
            "the store failed",
            std::io::Error::other("disk /var/secret full"),
        );
        assert!(!e.public_message().contains("secret"));
        assert_eq!(
            Error::bad("no audience `x`").public_message(),
            "no audience `x`"
        );
    }
}
