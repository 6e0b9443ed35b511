//! MISP events and feeds as documents: a `.json` file holds MISP events
//! (read by `tearline_misp::read_events`); a directory with a
//! `manifest.json` is a MISP feed, whose manifest lists its event files.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::files::{DocError, MAX_DOCUMENT_BYTES};
use super::Doc;
use crate::{Error, Result};

/// The largest MISP JSON file read (a REST search answer holds many
/// events); each event's text is held to the document limit.
pub const MAX_MISP_FILE_BYTES: usize = 64 * 1024 * 1024;

/// The name of a feed's index.
pub const MANIFEST: &str = "manifest.json";

/// A file to read, with the SHA-256 a feed's manifest gives for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The file.
    pub path: PathBuf,
    /// Its SHA-256 (lower-case hex), when a manifest states it.
    pub sha256: Option<String>,
}

impl Input {
    /// A file with nothing known about it.
    pub fn file(path: PathBuf) -> Input {
        Input { path, sha256: None }
    }
}

/// Whether a directory is a MISP feed (it holds a `manifest.json`).
pub fn is_feed(dir: &Path) -> bool {
    dir.join(MANIFEST).is_file()
}

/// The event files of a MISP feed directory, in the manifest's order, each
/// with the SHA-256 the manifest gives. A manifest that cannot be read, is
/// not a manifest, or names a file outside the feed fails the whole ingest
/// before anything is stored; an event file it lists that is missing is
/// refused when it is read, like any unreadable file.
pub fn feed(dir: &Path) -> Result<Vec<Input>> {
    let manifest = dir.join(MANIFEST);
    let name = manifest.display();
    let bytes = read_bounded(&manifest, MAX_MISP_FILE_BYTES)
        .map_err(|e| Error::bad(format!("{name}: {e}")))?;
    let entries = tearline_misp::read_manifest(&bytes)
        .map_err(|e| Error::bad(format!("{name}: not a MISP feed manifest: {e}")))?;
    Ok(entries
        .into_iter()
        .map(|e| Input {
            path: dir.join(format!("{}.json", e.uuid)),
            sha256: e.sha256,
        })
        .collect())
}

/// Reads at most `limit` bytes of a file; a longer file is an error.
pub(crate) fn read_bounded(path: &Path, limit: usize) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() > limit {
        return Err(format!(
            "the file is over the {} MiB limit",
            limit / (1024 * 1024)
        ));
    }
    Ok(bytes)
}

/// The documents of a MISP JSON file, one per event: the file is refused
/// whole when it is not MISP JSON or does not match the SHA-256 its feed's
/// manifest gives; an event that cannot be read is refused alone, naming
/// the event and the field, and the others are read.
pub(crate) fn documents(
    source: &str,
    bytes: &[u8],
    sha256: Option<&str>,
) -> Vec<std::result::Result<Doc, DocError>> {
    let refuse = |reason: String| {
        vec![Err(DocError {
            at: source.to_string(),
            reason,
        })]
    };
    if let Some(want) = sha256 {
        let got = hex::encode(Sha256::digest(bytes));
        if got != want {
            return refuse(format!(
                "its SHA-256 is {got}, but the feed's manifest gives {want} (integrity:sha256): the file was altered or cut short"
            ));
        }
    }
    let events = match tearline_misp::read_events(bytes) {
        Ok(e) => e,
        Err(e) => return refuse(e.to_string()),
    };
    let many = events.len() > 1;
    events
        .into_iter()
        .map(|ev| {
            let ev = ev.map_err(|e| DocError {
                at: format!("{source}: {}", e.at),
                reason: e.message,
            })?;
            let at = if many {
                format!("{source}: {}", ev.at)
            } else {
                source.to_string()
            };
            if ev.text.len() > MAX_DOCUMENT_BYTES {
                return Err(DocError {
                    at,
                    reason: format!(
                        "the event's text is {} bytes, over the {} MiB limit for one document",
                        ev.text.len(),
                        MAX_DOCUMENT_BYTES / (1024 * 1024)
                    ),
                });
            }
            if ev.text.contains('\0') {
                return Err(DocError {
                    at,
                    reason: "the event's text holds a NUL character".into(),
                });
            }
            Ok(Doc {
                id: ev.uuid.as_ref().map(|u| format!("misp:{u}")),
                source: at,
                url: None,
                title: ev.info.chars().take(300).collect(),
                published: ev.published,
                lang: None,
                text: ev.text,
                window: ev.window,
                marking: Some(ev.marking),
                groups: ev.groups,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tearline_model::Level;

    #[test]
    fn events_become_documents_with_their_marking_and_groups() {
        let u = "5e2e4f54-1a2b-4c3d-8e9f-0a1b2c3d4e5f";
        let json = format!(
            r#"[{{"Event": {{"uuid": "{u}", "info": "Tagged", "date": "2024-03-22", "Tag": [{{"name": "tlp:green"}}],
                 "Galaxy": [{{"type": "threat-actor", "GalaxyCluster": [{{"type": "threat-actor", "value": "Sandworm"}}]}}]}}}},
               {{"Event": {{"info": "Untagged"}}}},
               {{"Event": {{"Tag": [{{"name": "tlp:clear"}}]}}}}]"#
        );
        let docs = documents("feed/x.json", json.as_bytes(), None);
        assert_eq!(docs.len(), 3);
        let d = docs[0].as_ref().unwrap();
        assert_eq!(d.id.as_deref(), Some(format!("misp:{u}").as_str()));
        assert_eq!(d.source, format!("feed/x.json: [0].Event (uuid {u})"));
        assert_eq!(d.marking, Some(Level::Green));
        assert_eq!(d.published.as_deref(), Some("2024-03-22"));
        assert_eq!(d.groups[0].name, "Sandworm");
        let d = docs[1].as_ref().unwrap();
        assert_eq!((d.id.as_deref(), d.marking), (None, Some(Level::Red)));
        let e = docs[2].as_ref().unwrap_err();
        assert_eq!(e.at, "feed/x.json: [2].Event");
        assert_eq!(e.reason, "field `[2].Event.info` is missing");
    }

    #[test]
    fn a_file_that_does_not_match_its_manifest_is_refused_whole() {
        let json = br#"{"Event": {"info": "x"}}"#;
        let good = hex::encode(Sha256::digest(json));
        assert!(documents("f.json", json, Some(&good))[0].is_ok());
        let bad = "0".repeat(64);
        let e = documents("f.json", json, Some(&bad)).remove(0).unwrap_err();
        assert!(
            e.reason.contains("the feed's manifest gives"),
            "{}",
            e.reason
        );
        let e = documents("f.json", b"{\"id\": 1}", None)
            .remove(0)
            .unwrap_err();
        assert_eq!(e.at, "f.json");
        assert!(e.reason.starts_with("not a MISP event"), "{}", e.reason);
    }
}
