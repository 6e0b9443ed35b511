//! Exit codes, and errors that carry one.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success |
//! | 1 | failure: I/O, the store, or a bug |
//! | 2 | usage: unknown command or flag |
//! | 3 | bad input: a report that does not parse, an unknown audience, a bad value |
//! | 4 | refused by the leak check |
//! | 5 | the report has lint errors |
//! | 6 | the audit log does not verify |
//! | 7 | a signature does not verify |

use std::fmt;

pub const FAILURE: u8 = 1;
pub const BAD_INPUT: u8 = 3;
pub const LEAK: u8 = 4;
pub const LINT: u8 = 5;
pub const AUDIT: u8 = 6;
pub const SIGNATURE: u8 = 7;

/// An error with its exit code.
#[derive(Debug)]
pub struct Coded {
    pub code: u8,
    pub message: String,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Coded {}

pub fn coded(code: u8, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Coded {
        code,
        message: message.into(),
    })
}

/// The exit code for an error: the first [`Coded`] in its chain, else 1.
pub fn code_of(e: &anyhow::Error) -> u8 {
    e.chain()
        .find_map(|c| c.downcast_ref::<Coded>())
        .map_or(FAILURE, |c| c.code)
}
