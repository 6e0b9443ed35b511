//! Tearline's release engine: one report in, one leak-checked release per
//! audience out.
//!
//! Given a parsed [`tearline_model::Report`], an [`tearline_model::Audience`] and the
//! node's protected-term [`Registry`], [`Release::build`] decides what the
//! audience gets:
//!
//! - a portion is *withheld* when its level is above the audience's
//!   maximum, or its `REL TO` list does not name the audience;
//! - a span is *generalised* (replaced by its `sub`, or a generic phrase of
//!   its kind) when its `level` is above the audience's maximum, or it is a
//!   `source`/`method` span and the audience may not see sources;
//! - registry terms are replaced for audiences that may not see sources.
//!
//! Building a release is only half of it. The [`LeakGuard`] then checks the
//! result independently — on normalised text, so disguises do not help —
//! and [`clear`] returns a [`Cleared`] output only when nothing protected
//! is found. There is no other way to obtain a `Cleared`, and nothing else
//! is written or sent.
//!
//! The crate also grades how actionable a text is ([`Profile`], on the
//! who / what / where / when / how ladders), explains what each cut cost
//! ([`costs`]), and lints reports ([`lint`]).
//!
//! ```
//! use tearline_model::{parse_report, Audience};
//! use tearline_release::{clear, render_markdown, LeakGuard, Registry, Release, Rendered};
//!
//! let src = "---\ntitle: Warning\nproduced: 2026-03-20T08:00:00Z\n---\n\n\
//!     (TLP:CLEAR) An attack on [concerts]{target} is planned.\n\n\
//!     (TLP:RED) [SAPPHIRE]{source sub=\"a source\"} reported it.\n";
//! let report = parse_report("warning.md", src.as_bytes()).unwrap();
//! let public = Audience::new("public", tearline_model::Level::Clear, false).unwrap();
//! let registry = Registry::new(vec![]);
//! let release = Release::build(&report, &public, &registry);
//! let guard = LeakGuard::new(&report, &public, &registry);
//! let out = clear(&guard, &release, Rendered::Text(render_markdown(&release)), None).unwrap();
//! assert!(!String::from_utf8_lossy(out.bytes()).contains("SAPPHIRE"));
//! ```
#![deny(missing_docs)]

mod leak;
mod lint;
mod matcher;
pub mod normalize;
mod profile;
mod release;
mod view;

pub use leak::{
    clear, clear_objects, Cleared, ClearedObject, ClearedObjects, LeakFinding, LeakGuard,
    Protected, Rendered, RUN_CHARS, RUN_WORDS,
};
pub use lint::{costs, everything, lint, Cost, LintFinding, Severity};
pub use matcher::{Hit, TermMatcher};
pub use profile::{country_code, country_names, grade_unit, Dimension, Evidence, Profile};
pub use release::{
    receives, render_json, render_markdown, render_markdown_body, sees_original, ts, Entity, Piece,
    Registry, Release, ReleasedPortion,
};
