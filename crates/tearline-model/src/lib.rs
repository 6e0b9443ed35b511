//! The vocabulary every other Tearline crate speaks.
//!
//! A threat report is written once, portion by portion: each paragraph,
//! heading or list item starts with a marking such as `(TLP:AMBER//REL TO
//! liaison)`, and annotated spans such as `[SAPPHIRE]{source sub="a source"}`
//! say which words are sensitive and what lower audiences get instead. This
//! crate holds the types for that ([`Report`], [`Portion`], [`Span`],
//! [`Marking`]), the audiences a node releases to ([`Audience`]), the
//! registry of protected terms ([`ProtectedTerm`]), and the parser that turns
//! the Markdown format described in `docs/report-format.md` into a [`Report`].
//!
//! The crate is pure: it does no I/O. The parser takes the report's bytes
//! and a display name for error messages; every [`ParseError`] names the
//! file, line and column where the input went wrong.
//!
//! ```
//! let text = "---\ntitle: Warning\nproduced: 2026-03-20T08:00:00Z\n---\n\n\
//!             (TLP:CLEAR) Attack planned in [Springfield]{place}.\n";
//! let report = tearline_model::parse_report("warning.md", text.as_bytes()).unwrap();
//! assert_eq!(report.portions().len(), 1);
//! assert_eq!(report.portions()[0].marking().level(), tearline_model::Level::Clear);
//! ```
#![deny(missing_docs)]

mod audience;
mod marking;
mod parse;
mod report;
mod span;

pub use audience::{Audience, AudienceError, ProtectedTerm, TermKind};
pub use marking::{Level, Marking, MarkingError};
pub use parse::{parse_report, ParseError, MAX_REPORT_BYTES, MAX_SPANS};
pub use report::{FrontMatter, LineMarking, Portion, PortionKind, Report, Segment, SourcePos};
pub use span::{Span, SpanKind};
