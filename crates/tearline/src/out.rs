//! Everything the command line prints goes through here: errors with
//! their findings and exit code, JSON, tables, and text from outside the
//! node made safe for a terminal.

use tearline_node::Code;

/// Prints an error — the finding lines behind it, the message, its causes
/// — and returns the exit code its kind gives.
pub fn error(e: &anyhow::Error) -> u8 {
    let node = e
        .chain()
        .find_map(|c| c.downcast_ref::<tearline_node::Error>());
    if let Some(n) = node {
        let prefix = match n.code() {
            Code::Lint => "error: ",
            Code::Leak => "leak: ",
            _ => "",
        };
        for d in n.details() {
            eprintln!("{prefix}{d}");
        }
    }
    eprintln!("error: {e}");
    for cause in e.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    node.map_or(1, |n| n.code().exit())
}

/// Prints a value as pretty JSON.
pub fn json(v: &impl serde::Serialize) -> anyhow::Result<u8> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(0)
}

/// `yes` or `no`.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `1 span`, `2 spans`.
pub fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Prints rows as columns padded to their widest cell.
pub fn table(rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{s}{}", " ".repeat(widths[i] - s.chars().count())))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}

/// Text that came from outside the node (a partner's note, a document's
/// title), with control characters shown as escapes so that it cannot
/// move the cursor or forge lines.
pub fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if (c.is_control() && c != '\n' && c != '\t') || moves_text(c) {
                c.escape_unicode().to_string()
            } else if c == '\n' {
                "\\n".into()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Characters that break a line or reorder what a terminal shows without
/// being control characters: line and paragraph separators and the
/// bidirectional embeddings, overrides, isolates and marks.
fn moves_text(c: char) -> bool {
    matches!(
        c,
        '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
    )
}
