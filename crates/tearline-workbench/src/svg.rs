//! The workbench's small graphics, drawn as inline SVG on the server: the
//! specificity profile of a release beside the full report's, a warning's
//! timeline, and a case's timeline. Each carries `role="img"` and a label
//! that says in words what it shows; colours are presentation attributes
//! (the page's content security policy forbids inline styles).

use std::fmt::Write;

use chrono::{DateTime, NaiveDate, Utc};
use tearline_release::{Dimension, Profile};

/// Escapes text for HTML and SVG.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Events at the other end of a warning (the sender, seen by the receiver).
const SENDER: &str = "#35557a";
const INK: &str = "#1b1b1b";
const FULL: &str = "#6b6b6b";
const KEPT: &str = "#1f5fa8";
const LOST: &str = "#b3261e";
const TRACK: &str = "#e8e8e8";

/// Five bars, one per dimension: the outline is the full report's grade,
/// the fill this audience's; a red fill marks a dimension that lost grades.
pub fn profile(audience: &str, full: &Profile, got: &Profile) -> String {
    let (label_w, bar_w, row_h) = (52.0, 150.0, 22.0);
    let w = label_w + bar_w + 8.0;
    let h = row_h * 5.0 + 4.0;
    let words: Vec<String> = Dimension::ALL
        .iter()
        .map(|d| {
            format!(
                "{}: {} (full report: {})",
                d.name(),
                got.grade_name(*d),
                full.grade_name(*d)
            )
        })
        .collect();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="profile" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}"><title>{}</title>"#,
        esc(&format!("Specificity for {audience}: {}", words.join("; "))),
        esc(&format!("Specificity for {audience}")),
    );
    for (i, d) in Dimension::ALL.iter().enumerate() {
        let y = 2.0 + i as f64 * row_h;
        let top = (d.ladder().len() - 1) as f64;
        let fw = bar_w * f64::from(full.grade(*d)) / top;
        let gw = bar_w * f64::from(got.grade(*d)) / top;
        let fill = if got.grade(*d) < full.grade(*d) {
            LOST
        } else {
            KEPT
        };
        let _ = write!(
            s,
            r#"<text x="0" y="{ty}" font-size="12" fill="{INK}">{name}</text><rect x="{label_w}" y="{by}" width="{bar_w}" height="12" fill="{TRACK}"/><rect x="{label_w}" y="{by}" width="{gw:.1}" height="12" fill="{fill}"><title>{title}</title></rect><rect x="{label_w}" y="{by}" width="{fw:.1}" height="12" fill="none" stroke="{FULL}" stroke-width="1.5" stroke-dasharray="3 2"/>"#,
            ty = y + 12.0,
            by = y + 2.0,
            name = d.name(),
            title = esc(&words[i]),
        );
    }
    s.push_str("</svg>");
    s
}

/// A point on a timeline.
pub struct Mark {
    pub at: DateTime<Utc>,
    pub label: String,
    /// `event` (drawn as a dot), `sender` (an event at the other end,
    /// drawn as a square), `end` (the window's end) or `now`.
    pub kind: &'static str,
}

/// A horizontal timeline of events, with the window's end and now as
/// vertical lines.
pub fn timeline(title: &str, marks: &[Mark]) -> String {
    let (w, h, pad) = (760.0, 150.0, 40.0);
    let Some(t0) = marks.iter().map(|m| m.at).min() else {
        return String::new();
    };
    let t1 = marks.iter().map(|m| m.at).max().unwrap_or(t0);
    let span = (t1 - t0).num_seconds().max(60) as f64;
    let x = |t: DateTime<Utc>| pad + (w - 2.0 * pad) * ((t - t0).num_seconds() as f64 / span);
    let axis = h / 2.0;
    let words: Vec<String> = marks
        .iter()
        .map(|m| format!("{} {}", m.at.format("%Y-%m-%d %H:%M UTC"), m.label))
        .collect();
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="timeline" viewBox="0 0 {w} {h}" role="img" aria-label="{}"><title>{}</title><line x1="{pad}" y1="{axis}" x2="{}" y2="{axis}" stroke="{INK}" stroke-width="1.5"/>"#,
        esc(&format!("{title}: {}", words.join("; "))),
        esc(title),
        w - pad
    );
    // Label rows, as offsets from the axis: above, below, then outwards.
    const ROWS: [f64; 6] = [-14.0, 22.0, -28.0, 36.0, -42.0, 50.0];
    let mut rows: [Vec<(f64, f64)>; 6] = Default::default();
    let mut n = 0;
    for (m, word) in marks.iter().zip(&words) {
        let mx = x(m.at);
        match m.kind {
            "end" | "now" => {
                let (colour, dash, ty) = if m.kind == "end" {
                    (LOST, "", 14.0)
                } else {
                    (FULL, r#" stroke-dasharray="4 3""#, h - 4.0)
                };
                let _ = write!(
                    s,
                    r#"<line x1="{mx:.1}" y1="18" x2="{mx:.1}" y2="{}" stroke="{colour}" stroke-width="1.5"{dash}><title>{}</title></line><text x="{mx:.1}" y="{ty}" font-size="11" text-anchor="middle" fill="{INK}">{}</text>"#,
                    h - 16.0,
                    esc(word),
                    esc(&m.label)
                );
            }
            _ => {
                let anchor = if mx < w * 0.2 {
                    "start"
                } else if mx > w * 0.8 {
                    "end"
                } else {
                    "middle"
                };
                // Each label takes the first row, above or below the axis
                // and stepping outwards, where it overlaps no label placed
                // before it, so that close events stay readable.
                let width = m.label.chars().count() as f64 * 6.2;
                let span = match anchor {
                    "start" => (mx, mx + width),
                    "end" => (mx - width, mx),
                    _ => (mx - width / 2.0, mx + width / 2.0),
                };
                let free = |row: usize| {
                    rows[row]
                        .iter()
                        .all(|&(a, b): &(f64, f64)| span.1 + 4.0 <= a || b + 4.0 <= span.0)
                };
                let row = (0..ROWS.len())
                    .find(|&r| free(r))
                    .unwrap_or_else(|| n % ROWS.len());
                rows[row].push(span);
                let ly = axis + ROWS[row];
                let shape = if m.kind == "sender" {
                    format!(
                        r#"<rect x="{:.1}" y="{}" width="10" height="10" fill="{SENDER}">"#,
                        mx - 5.0,
                        axis - 5.0
                    )
                } else {
                    format!(r#"<circle cx="{mx:.1}" cy="{axis}" r="5" fill="{KEPT}">"#)
                };
                let close = if m.kind == "sender" {
                    "</rect>"
                } else {
                    "</circle>"
                };
                let _ = write!(
                    s,
                    r#"{shape}<title>{}</title>{close}<text x="{mx:.1}" y="{ly}" font-size="11" text-anchor="{anchor}" fill="{INK}">{}</text>"#,
                    esc(word),
                    esc(&m.label)
                );
                n += 1;
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// A case's dated statements on one axis: one dot per date, larger for
/// more statements, with the first and last dates written under it.
pub fn days(title: &str, dates: &[(NaiveDate, String)]) -> String {
    let (w, h, pad) = (760.0, 90.0, 40.0);
    let Some(d0) = dates.iter().map(|d| d.0).min() else {
        return String::new();
    };
    let d1 = dates.iter().map(|d| d.0).max().unwrap_or(d0);
    let span = (d1 - d0).num_days() as f64;
    // One day alone sits in the middle.
    let x = |d: NaiveDate| {
        if span == 0.0 {
            w / 2.0
        } else {
            pad + (w - 2.0 * pad) * ((d - d0).num_days() as f64 / span)
        }
    };
    let mut per_day: std::collections::BTreeMap<NaiveDate, Vec<&str>> = Default::default();
    for (d, t) in dates {
        per_day.entry(*d).or_default().push(t);
    }
    let axis = 40.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="timeline" viewBox="0 0 {w} {h}" role="img" aria-label="{}"><title>{}</title><line x1="{pad}" y1="{axis}" x2="{}" y2="{axis}" stroke="{INK}" stroke-width="1.5"/>"#,
        esc(&format!(
            "{title}: {} dated statements from {d0} to {d1}",
            dates.len()
        )),
        esc(title),
        w - pad
    );
    for (d, texts) in &per_day {
        let r = 4.0 + (texts.len() as f64).sqrt() * 2.0;
        let tip: Vec<String> = texts.iter().map(|t| esc(t)).collect();
        let _ = write!(
            s,
            r#"<circle cx="{:.1}" cy="{axis}" r="{r:.1}" fill="{KEPT}" fill-opacity="0.8"><title>{d}: {}</title></circle>"#,
            x(*d),
            tip.join(" | ")
        );
    }
    let ends: &[(NaiveDate, &str)] = if d0 == d1 {
        &[(d0, "middle")]
    } else {
        &[(d0, "start"), (d1, "end")]
    };
    for &(d, anchor) in ends {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" font-size="12" text-anchor="{anchor}" fill="{INK}">{d}</text>"#,
            x(d),
            axis + 30.0
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-03-20T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let s = timeline(
            "<b>",
            &[Mark {
                at: t,
                label: "acknowledged by <script>".into(),
                kind: "event",
            }],
        );
        assert!(!s.contains("<script>"));
        assert!(s.contains("&lt;script&gt;"));
        assert!(s.contains(r#"role="img""#));
    }

    #[test]
    fn profile_marks_lost_grades() {
        let full = Profile::default();
        let s = profile("public", &full, &full);
        assert_eq!(s.matches("<rect").count(), 15);
        assert!(s.contains("who: none (full report: none)"));
    }
}
