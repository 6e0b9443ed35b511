//! Reading one document and showing every entity found in it.

use std::path::Path;

use serde::Serialize;
use tearline_extract::{extract, Entity};

use super::{context_of, parse_published, read_file};
use crate::{Error, Result};

/// One document read into entities.
#[derive(Debug, Serialize)]
pub struct Extracted {
    /// Where it was read from.
    pub source: String,
    /// Its publication date, if known.
    pub published: Option<String>,
    /// Its text.
    pub text: String,
    /// Every entity, with character and byte offsets.
    pub entities: Vec<Entity>,
}

/// Reads the one document in `file` (`published` resolves relative dates;
/// `lang` is its language) and extracts every entity. Needs no node.
pub fn extract_file(file: &Path, published: Option<&str>, lang: Option<&str>) -> Result<Extracted> {
    let mut docs = read_file(file);
    if docs.len() != 1 {
        return Err(Error::bad(format!(
            "`{}` holds {} documents; `extract` reads one (use `ingest` for JSON Lines)",
            file.display(),
            docs.len()
        )));
    }
    let mut doc = match docs.pop() {
        Some(Ok(d)) => d,
        Some(Err(e)) => return Err(Error::bad(format!("{}: {}", e.at, e.reason))),
        None => {
            return Err(Error::bad(format!(
                "`{}` holds no document",
                file.display()
            )))
        }
    };
    if let Some(p) = published {
        if parse_published(p).is_none() {
            return Err(Error::bad(format!(
                "--published `{p}` is not a date (YYYY-MM-DD)"
            )));
        }
        doc.published = Some(p.to_string());
    }
    if let Some(l) = lang {
        doc.lang = Some(l.to_string());
    }
    let x = extract(&doc.text, &context_of(&doc));
    Ok(Extracted {
        source: doc.source,
        published: doc.published,
        text: doc.text,
        entities: x.entities,
    })
}

/// A casualty figure in words: `killed >= 143`.
pub fn figure_text(f: &tearline_extract::Figure) -> String {
    let kind = match f.counts {
        tearline_extract::Casualty::Killed => "killed",
        tearline_extract::Casualty::Injured => "injured",
    };
    match (f.min, f.max, f.exact) {
        (Some(v), _, _) => format!("{kind} >= {v}"),
        (_, Some(v), _) => format!("{kind} <= {v}"),
        (_, _, Some(v)) if f.approximate => format!("{kind} ~ {v}"),
        (_, _, Some(v)) => format!("{kind} = {v}"),
        _ => kind.to_string(),
    }
}
