//! MISP events read back: the text, marking, groups and dates of each
//! event in a MISP JSON file, and the events a feed's manifest lists.

use std::fmt::Write as _;

use serde_json::{Map, Value};
use tearline_model::Level;

use crate::galaxy::{cluster_of_tag, fold};
use crate::tag_level;

/// Galaxies whose clusters name groups: their clusters (and
/// `misp-galaxy:TYPE="VALUE"` tags) become the document's groups.
pub const GROUP_GALAXIES: [&str; 8] = [
    "threat-actor",
    "canada-listed-terrorist-entities",
    "mitre-intrusion-set",
    "mitre-enterprise-attack-intrusion-set",
    "mitre-mobile-attack-intrusion-set",
    "mitre-ics-groups",
    "microsoft-activity-group",
    "tidal-groups",
];

/// Attribute types whose values are text a reader reads (the values of
/// other types — hashes, addresses, files — are not prose).
pub const TEXT_TYPES: [&str; 8] = [
    "text",
    "comment",
    "other",
    "threat-actor",
    "campaign-name",
    "target-location",
    "target-org",
    "target-external",
];

/// One MISP event as a document.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDoc {
    /// Where it is in the file (`Event`, `response[2].Event`, `[0]`).
    pub at: String,
    /// Its UUID, if it has one.
    pub uuid: Option<String>,
    /// Its `info`.
    pub info: String,
    /// Its text: `info`, then each event report, then attribute comments
    /// and text-like values (of the event's attributes and its objects'),
    /// each once, blank-line separated.
    pub text: String,
    /// Its marking: the highest TLP level tagged on the event or on any
    /// attribute read into the text; TLP:RED when the event has no TLP tag.
    pub marking: Level,
    /// Whether the event itself carries a TLP tag.
    pub tagged: bool,
    /// When it was published: the event's `date` (`YYYY-MM-DD`), else its
    /// `publish_timestamp` or `timestamp` as RFC 3339.
    pub published: Option<String>,
    /// The groups its galaxy clusters, galaxy tags and `threat-actor`
    /// attributes name.
    pub groups: Vec<StatedGroup>,
    /// A warning window stated in a `cap-info` object (`effective` or
    /// `onset`, and `expires`): first and last day, `YYYY-MM-DD`.
    pub window: Option<(Option<String>, String)>,
}

/// A group an event names outside its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatedGroup {
    /// The name: a cluster's value, a tag's value, an attribute's value.
    pub name: String,
    /// Other names the cluster gives (its synonyms).
    pub synonyms: Vec<String>,
    /// Where it was stated: `misp-galaxy:TYPE` or `threat-actor attribute`.
    pub said: String,
}

/// Why one event could not be read: where and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {message}")]
pub struct EventError {
    /// The event (`Event`, `response[2].Event`), with its UUID when known.
    pub at: String,
    /// What is wrong, naming the field.
    pub message: String,
}

/// A file that is not MISP JSON at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

/// Reads the events of a MISP JSON file: `{"Event": {...}}`, a bare
/// event, a list of either, or a REST search answer `{"response": [...]}`.
/// The file fails as a whole when it is not JSON or holds none of these;
/// each event is read on its own, so one bad event does not stop the rest.
pub fn read_events(bytes: &[u8]) -> Result<Vec<Result<EventDoc, EventError>>, FileError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        FileError(format!(
            "not JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let shape = "expected a MISP event: {\"Event\": {...}}, an event object, a list of events or {\"response\": [...]}";
    let items: Vec<(String, &Value)> = match &v {
        Value::Object(m) if m.contains_key("Event") => vec![(String::new(), &v)],
        Value::Object(m) if m.contains_key("response") => match &m["response"] {
            Value::Array(list) => list
                .iter()
                .enumerate()
                .map(|(i, x)| (format!("response[{i}]"), x))
                .collect(),
            Value::Object(_) => vec![("response".to_string(), &m["response"])],
            _ => {
                return Err(FileError(format!(
                    "field `response` is not a list; {shape}"
                )))
            }
        },
        Value::Object(m) if m.contains_key("info") => vec![(String::new(), &v)],
        Value::Array(list) => list
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("[{i}]"), x))
            .collect(),
        _ => return Err(FileError(format!("not a MISP event: {shape}"))),
    };
    if items.is_empty() {
        return Err(FileError("holds no MISP event (the list is empty)".into()));
    }
    Ok(items
        .into_iter()
        .map(|(at, item)| {
            let (at, event) = match item.get("Event") {
                Some(e) => (join(&at, "Event"), e),
                None => (if at.is_empty() { "Event".into() } else { at }, item),
            };
            read_event(&at, event)
        })
        .collect())
}

/// One entry of a feed's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The event's UUID; its file is `UUID.json` beside the manifest.
    pub uuid: String,
    /// The SHA-256 of that file, when the manifest gives one
    /// (`integrity:sha256`), lower-case hex.
    pub sha256: Option<String>,
}

/// Reads a MISP feed's `manifest.json`: an object whose keys are the UUIDs
/// of the feed's events. A key that is not a UUID is refused (it would name
/// a file outside the feed).
pub fn read_manifest(bytes: &[u8]) -> Result<Vec<ManifestEntry>, FileError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        FileError(format!(
            "not JSON: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(m) = v else {
        return Err(FileError(
            "not a MISP feed manifest: expected an object keyed by event UUID".into(),
        ));
    };
    let mut out = Vec::with_capacity(m.len());
    for (key, entry) in &m {
        let ok = key.len() == 36
            && key.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
            && uuid::Uuid::parse_str(key).is_ok();
        if !ok {
            return Err(FileError(format!(
                "key `{}` is not an event UUID",
                key.escape_default()
            )));
        }
        let sha256 = match entry.get("integrity:sha256") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) => {
                Some(s.to_ascii_lowercase())
            }
            Some(_) => {
                return Err(FileError(format!(
                    "field `{key}.integrity:sha256` is not a SHA-256 in hex"
                )))
            }
        };
        out.push(ManifestEntry {
            uuid: key.clone(),
            sha256,
        });
    }
    Ok(out)
}

fn join(at: &str, field: &str) -> String {
    if at.is_empty() {
        field.to_string()
    } else {
        format!("{at}.{field}")
    }
}

/// What reading one event collects.
struct Reader<'a> {
    at: &'a str,
    texts: Vec<String>,
    marking: Option<Level>,
    groups: Vec<StatedGroup>,
}

impl Reader<'_> {
    fn err(&self, message: String) -> EventError {
        EventError {
            at: self.at.to_string(),
            message,
        }
    }

    fn add_text(&mut self, t: &str) {
        let t = t.trim();
        if !t.is_empty() && !self.texts.iter().any(|x| x == t) {
            self.texts.push(t.to_string());
        }
    }

    fn raise(&mut self, level: Level) {
        self.marking = Some(self.marking.map_or(level, |m| m.max(level)));
    }

    fn add_group(&mut self, name: &str, synonyms: Vec<String>, said: String) {
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let key = fold(name);
        if let Some(g) = self.groups.iter_mut().find(|g| fold(&g.name) == key) {
            for s in synonyms {
                if !g.synonyms.contains(&s) {
                    g.synonyms.push(s);
                }
            }
            return;
        }
        self.groups.push(StatedGroup {
            name: name.to_string(),
            synonyms,
            said,
        });
    }

    /// The TLP levels and galaxy groups of a `Tag` list; the highest TLP
    /// level, if any.
    fn tags(
        &mut self,
        owner: &Map<String, Value>,
        path: &str,
    ) -> Result<Option<Level>, EventError> {
        let mut level = None;
        for (i, name) in tag_names(owner, path).map_err(|m| self.err(m))? {
            let here = format!("{path}.Tag[{i}]");
            if let Some(l) = tag_level(&name) {
                level = Some(level.map_or(l, |x: Level| x.max(l)));
            }
            if let Some((kind, value)) = galaxy_tag(&name) {
                if GROUP_GALAXIES.contains(&kind) {
                    let synonyms = cluster_of_tag(kind, value)
                        .and_then(|c| c.names().get(1..))
                        .map(<[String]>::to_vec)
                        .unwrap_or_default();
                    self.add_group(value, synonyms, format!("{here}: misp-galaxy:{kind}"));
                }
            }
        }
        Ok(level)
    }

    /// The groups of a `Galaxy` list (event or attribute level).
    fn galaxies(&mut self, owner: &Map<String, Value>, path: &str) -> Result<(), EventError> {
        let Some(list) = list_field(owner, "Galaxy", path).map_err(|m| self.err(m))? else {
            return Ok(());
        };
        for (i, g) in list.iter().enumerate() {
            let here = format!("{path}.Galaxy[{i}]");
            let Value::Object(g) = g else {
                return Err(self.err(format!("field `{here}` is not an object")));
            };
            let galaxy_type = str_field(g, "type", &here).map_err(|m| self.err(m))?;
            let Some(clusters) = list_field(g, "GalaxyCluster", &here).map_err(|m| self.err(m))?
            else {
                continue;
            };
            for (j, c) in clusters.iter().enumerate() {
                let at = format!("{here}.GalaxyCluster[{j}]");
                let Value::Object(c) = c else {
                    return Err(self.err(format!("field `{at}` is not an object")));
                };
                let kind = str_field(c, "type", &at)
                    .map_err(|m| self.err(m))?
                    .or(galaxy_type);
                if !kind.is_some_and(|k| GROUP_GALAXIES.contains(&k)) {
                    continue;
                }
                let Some(value) = str_field(c, "value", &at).map_err(|m| self.err(m))? else {
                    return Err(self.err(format!("field `{at}.value` is missing")));
                };
                let synonyms = match c.get("meta").and_then(|m| m.get("synonyms")) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(s)) => s
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect(),
                    Some(Value::String(s)) => vec![s.clone()],
                    Some(_) => {
                        return Err(
                            self.err(format!("field `{at}.meta.synonyms` is not a list of names"))
                        )
                    }
                };
                self.add_group(
                    value,
                    synonyms,
                    format!("{at}: misp-galaxy:{}", kind.unwrap_or("")),
                );
            }
        }
        Ok(())
    }

    /// An attribute: its comment and text-like value go into the text, its
    /// TLP tags raise the marking, a `threat-actor` value and galaxy
    /// clusters name groups. Deleted attributes are skipped.
    fn attribute(&mut self, a: &Value, path: &str) -> Result<(), EventError> {
        let Value::Object(a) = a else {
            return Err(self.err(format!("field `{path}` is not an object")));
        };
        if a.get("deleted").is_some_and(truthy) {
            return Ok(());
        }
        let Some(ty) = str_field(a, "type", path).map_err(|m| self.err(m))? else {
            return Err(self.err(format!("field `{path}.type` is missing")));
        };
        let value = match a.get("value") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            None | Some(Value::Null) => {
                return Err(self.err(format!("field `{path}.value` is missing")))
            }
            Some(_) => return Err(self.err(format!("field `{path}.value` is not a string"))),
        };
        if let Some(l) = self.tags(a, path)? {
            self.raise(l);
        }
        self.galaxies(a, path)?;
        if let Some(c) = str_field(a, "comment", path).map_err(|m| self.err(m))? {
            self.add_text(c);
        }
        if TEXT_TYPES.contains(&ty) {
            self.add_text(&value);
        }
        if ty == "threat-actor" {
            self.add_group(
                &value,
                Vec::new(),
                format!("{path}: threat-actor attribute"),
            );
        }
        Ok(())
    }
}

/// The names of a `Tag` list, each with its index.
fn tag_names(owner: &Map<String, Value>, path: &str) -> Result<Vec<(usize, String)>, String> {
    let Some(list) = list_field(owner, "Tag", path)? else {
        return Ok(Vec::new());
    };
    list.iter()
        .enumerate()
        .map(|(i, t)| {
            let here = format!("{path}.Tag[{i}]");
            let t = t.get("Tag").unwrap_or(t);
            match t.get("name") {
                Some(Value::String(s)) => Ok((i, s.clone())),
                Some(_) => Err(format!("field `{here}.name` is not a string")),
                None => Err(format!("field `{here}.name` is missing")),
            }
        })
        .collect()
}

/// `misp-galaxy:TYPE="VALUE"` → (TYPE, VALUE).
fn galaxy_tag(name: &str) -> Option<(&str, &str)> {
    let rest = name.trim().strip_prefix("misp-galaxy:")?;
    let (kind, value) = rest.split_once('=')?;
    let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
    Some((kind.trim(), value))
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64() != Some(0),
        Value::String(s) => !matches!(s.as_str(), "" | "0" | "false"),
        _ => false,
    }
}

/// A string field; `None` when absent or null.
fn str_field<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("field `{path}.{key}` is not a string")),
    }
}

/// A list field; `None` when absent or null.
fn list_field<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Vec<Value>>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(format!("field `{path}.{key}` is not a list")),
    }
}

/// A Unix time written as a string or a number; 0 is "never".
fn unix_time(m: &Map<String, Value>, key: &str, path: &str) -> Result<Option<i64>, String> {
    let t = match m.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    match t {
        Some(0) => Ok(None),
        Some(t) => Ok(Some(t)),
        None => Err(format!(
            "field `{path}.{key}` is not a Unix time (seconds since 1970)"
        )),
    }
}

/// MISP's own Markdown references in event reports
/// (`@[attribute](UUID)`, `@[tag](name)`): a reader sees nothing of them.
fn without_references(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("@[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let scope_end = after.find("](");
        let is_ref = scope_end.is_some_and(|e| {
            matches!(
                &after[..e],
                "attribute" | "object" | "tag" | "galaxymatrix" | "eventgraph"
            )
        });
        match (
            is_ref,
            scope_end,
            scope_end.and_then(|e| after[e..].find(')')),
        ) {
            (true, Some(e), Some(close)) => rest = &after[e + close + 1..],
            _ => {
                out.push_str("@[");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A portion marking at the start of a line (`(TLP:AMBER) `, as a Tearline
/// release writes its event report) is not text a reader should extract.
fn without_markings(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let lead = line.len() - line.trim_start_matches(['#', '-', '*', ' ']).len();
        let (head, body) = line.split_at(lead);
        let stripped = body
            .strip_prefix('(')
            .and_then(|b| b.split_once(')'))
            .filter(|(m, _)| m.to_ascii_uppercase().starts_with("TLP:"))
            .map(|(_, after)| after.trim_start());
        out.push_str(head);
        out.push_str(stripped.unwrap_or(body));
    }
    out
}

fn read_event(at: &str, v: &Value) -> Result<EventDoc, EventError> {
    let Value::Object(e) = v else {
        return Err(EventError {
            at: at.to_string(),
            message: "the event is not an object".into(),
        });
    };
    let uuid = match e.get("uuid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() => Some(s.to_ascii_lowercase()),
        Some(_) => {
            return Err(EventError {
                at: at.to_string(),
                message: format!("field `{at}.uuid` is not a UUID"),
            })
        }
    };
    let at_id = match &uuid {
        Some(u) => format!("{at} (uuid {u})"),
        None => at.to_string(),
    };
    let mut r = Reader {
        at: &at_id,
        texts: Vec::new(),
        marking: None,
        groups: Vec::new(),
    };
    let info = match e.get("info") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(_) => return Err(r.err(format!("field `{at}.info` is not a string"))),
        None => return Err(r.err(format!("field `{at}.info` is missing"))),
    };
    r.add_text(&info);

    // The event's own TLP tags decide; without one it is RED.
    let event_level = r.tags(e, at)?;
    let tagged = event_level.is_some();
    r.raise(event_level.unwrap_or(Level::Red));
    r.galaxies(e, at)?;

    if let Some(reports) = list_field(e, "EventReport", at).map_err(|m| r.err(m))? {
        for (here, rep) in
            live_objects(reports, &format!("{at}.EventReport")).map_err(|m| r.err(m))?
        {
            if let Some(name) = str_field(rep, "name", &here).map_err(|m| r.err(m))? {
                if name.trim() != info {
                    r.add_text(name);
                }
            }
            let content = str_field(rep, "content", &here).map_err(|m| r.err(m))?;
            if let Some(c) = content {
                r.add_text(&without_markings(&without_references(c)));
            }
        }
    }
    if let Some(list) = list_field(e, "Attribute", at).map_err(|m| r.err(m))? {
        for (i, a) in list.iter().enumerate() {
            r.attribute(a, &format!("{at}.Attribute[{i}]"))?;
        }
    }
    let mut window = None;
    if let Some(objects) = list_field(e, "Object", at).map_err(|m| r.err(m))? {
        for (here, o) in live_objects(objects, &format!("{at}.Object")).map_err(|m| r.err(m))? {
            if let Some(c) = str_field(o, "comment", &here).map_err(|m| r.err(m))? {
                r.add_text(c);
            }
            let attrs = list_field(o, "Attribute", &here).map_err(|m| r.err(m))?;
            for (j, a) in attrs.into_iter().flatten().enumerate() {
                r.attribute(a, &format!("{here}.Attribute[{j}]"))?;
            }
            if str_field(o, "name", &here).map_err(|m| r.err(m))? == Some("cap-info") {
                window = window.or_else(|| cap_window(attrs.map_or(&[][..], Vec::as_slice)));
            }
        }
    }

    let published = published(e, at).map_err(|m| r.err(m))?;
    let mut text = String::new();
    for (i, t) in r.texts.iter().enumerate() {
        if i > 0 {
            text.push_str("\n\n");
        }
        let _ = write!(text, "{t}");
    }
    if text.trim().is_empty() {
        return Err(r.err(format!(
            "the event has no text: `{at}.info` is empty and it has no event report, comment or text attribute"
        )));
    }
    Ok(EventDoc {
        at: at_id.clone(),
        uuid,
        info,
        text,
        marking: r.marking.unwrap_or(Level::Red),
        tagged,
        published,
        groups: r.groups,
        window,
    })
}

/// The event's `date`, else its publication or modification time.
fn published(e: &Map<String, Value>, at: &str) -> Result<Option<String>, String> {
    if let Some(d) = str_field(e, "date", at)? {
        return match chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d") {
            Ok(d) => Ok(Some(d.to_string())),
            Err(_) => Err(format!(
                "field `{at}.date`: `{d}` is not a date (YYYY-MM-DD)"
            )),
        };
    }
    let t = match unix_time(e, "publish_timestamp", at)? {
        Some(t) => Some(t),
        None => unix_time(e, "timestamp", at)?,
    };
    Ok(t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
}

/// The window a `cap-info` object states: (`effective` or `onset`,
/// `expires`) as days.
fn cap_window(attrs: &[Value]) -> Option<(Option<String>, String)> {
    let value = |relation: &str| {
        attrs
            .iter()
            .find(|a| a.get("object_relation").and_then(Value::as_str) == Some(relation))
            .and_then(|a| a.get("value"))
            .and_then(Value::as_str)
            .and_then(|v| chrono::DateTime::parse_from_rfc3339(v.trim()).ok())
            .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%d").to_string())
    };
    let until = value("expires")?;
    Some((value("effective").or_else(|| value("onset")), until))
}

/// A MISP object with its place in the event (`Object[2]`).
type Placed<'a> = (String, &'a serde_json::Map<String, Value>);

/// The entries of a MISP list that are not deleted, each with its place
/// (`at[i]`); an entry that is not an object is refused, naming it.
fn live_objects<'a>(list: &'a [Value], at: &str) -> Result<Vec<Placed<'a>>, String> {
    let mut out = Vec::new();
    for (i, v) in list.iter().enumerate() {
        let here = format!("{at}[{i}]");
        let Value::Object(o) = v else {
            return Err(format!("field `{here}` is not an object"));
        };
        if !o.get("deleted").is_some_and(truthy) {
            out.push((here, o));
        }
    }
    Ok(out)
}
