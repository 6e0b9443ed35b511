//! `tearline-dev bench-parse`: how the time to read and assess a report
//! grows with hostile input.
//!
//! Each case builds a report from `n` copies of one pathology (unclosed
//! brackets, runs of backslashes, one very long line, many portions, many
//! spans, a long `REL TO` list, front-matter pathologies, ...) and from
//! `factor * n` copies, and times what `tearline check` does with each:
//! parse, lint, and every default audience's release and leak check. A
//! linear cost grows by about `factor`; a growth above `max_ratio` is
//! flagged, and any flagged case makes the command exit 1. Inputs that the
//! parser refuses are timed up to the refusal: that is all a hostile
//! report costs.

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use tearline_model::{parse_report, Audience, ProtectedTerm, TermKind};
use tearline_release::{clear, lint, render_markdown, LeakGuard, Registry, Release, Rendered};

#[derive(Args, Debug, Clone)]
pub struct ParseBenchArgs {
    /// Copies of each pathology in the small input.
    #[arg(long, default_value_t = 80_000)]
    n: usize,
    /// The large input holds this many times as many.
    #[arg(long, default_value_t = 10)]
    factor: usize,
    /// Flag (and exit 1) when the time grows by more than this.
    #[arg(long, default_value_t = 20.0)]
    max_ratio: f64,
    /// Run only the cases whose name contains this.
    #[arg(long)]
    only: Option<String>,
    /// Also print, for the large input, the time of each phase.
    #[arg(long)]
    phases: bool,
}

const HEAD: &str = "---\ntitle: Threat to concert venues\nproduced: 2026-03-20T08:00:00Z\n---\n\n";

/// One pathology: its name and the report it makes from `k` copies.
struct Case {
    name: &'static str,
    make: fn(usize) -> String,
}

fn body(text: String) -> String {
    format!("{HEAD}{text}")
}

const CASES: &[Case] = &[
    Case {
        name: "unclosed `[`, then one `]` (plain text)",
        make: |k| body(format!("(TLP:CLEAR) {}]\n", "[".repeat(k))),
    },
    Case {
        name: "unclosed `[` (refused)",
        make: |k| body(format!("(TLP:CLEAR) {}\n", "[".repeat(k))),
    },
    Case {
        name: "`[a] ` without attributes",
        make: |k| body(format!("(TLP:CLEAR) {}\n", "[a] ".repeat(k))),
    },
    Case {
        name: "unclosed `{` (refused)",
        make: |k| body(format!("(TLP:CLEAR) {}\n", "[a]{".repeat(k))),
    },
    Case {
        name: "`{` and `}` in plain text",
        make: |k| body(format!("(TLP:CLEAR) {}\n", "{a} ".repeat(k))),
    },
    Case {
        name: "run of `\\`",
        make: |k| body(format!("(TLP:CLEAR) {}x\n", "\\".repeat(2 * k))),
    },
    Case {
        name: "nested `[` (refused)",
        make: |k| {
            body(format!(
                "(TLP:CLEAR) {}a{}{{place}}\n",
                "[".repeat(k),
                "]".repeat(k)
            ))
        },
    },
    Case {
        name: "nested `[`, no attributes",
        make: |k| body(format!("(TLP:CLEAR) {}a{}\n", "[".repeat(k), "]".repeat(k))),
    },
    Case {
        name: "one very long line of words",
        make: |k| body(format!("(TLP:AMBER) {}\n", words(k))),
    },
    Case {
        name: "one long non-ASCII line, a finding per word",
        make: |k| body(format!("(TLP:GREEN) {}\n", "été SAPPHIRE ".repeat(k / 2))),
    },
    Case {
        name: "many portions",
        make: |k| {
            let mut s = String::new();
            for i in 0..k / 4 {
                let level = ["CLEAR", "GREEN", "AMBER", "RED"][i % 4];
                s.push_str(&format!("(TLP:{level}) The cell met near station {i}.\n\n"));
            }
            body(s)
        },
    },
    Case {
        name: "many spans (k/80, at most 10,000)",
        make: |k| {
            let mut s = String::from("(TLP:GREEN) ");
            for i in 0..k / 80 {
                let kind = ["place", "actor", "source", "venue"][i % 4];
                s.push_str(&format!(
                    "[name{i}]{{{kind} level=AMBER sub=\"a {kind}\"}} and "
                ));
            }
            body(s + "\n")
        },
    },
    Case {
        name: "one span text in k/80 spans and in the text",
        make: |k| {
            // Every copy is the same original, and it also stands in
            // plain text: a place for each word.
            body(format!(
                "(TLP:GREEN) {}{}\n",
                "[a]{source} ".repeat(k / 80),
                "a word ".repeat(k / 8)
            ))
        },
    },
    Case {
        name: "span texts nested in each other, and their words",
        make: |k| {
            // `a`, `a a`, `a a a`, ...: withheld originals that all stand
            // at every word of the released text. As many spans as the
            // square root of the text, so that the input grows as k does.
            let m = ((k / 2) as f64).sqrt() as usize;
            let mut s = String::from("(TLP:RED)");
            for i in 1..=m {
                s.push_str(&format!(" [{}]{{source}}", vec!["a"; i].join(" ")));
            }
            body(format!("{s}\n\n(TLP:CLEAR) {}\n", "a ".repeat(k)))
        },
    },
    Case {
        name: "spans in many portions (k/80)",
        make: |k| {
            let mut s = String::new();
            for i in 0..k / 80 {
                s.push_str(&format!(
                    "(TLP:CLEAR) At [venue {i}]{{venue level=RED sub=\"a venue\"}} soon.\n\n"
                ));
            }
            body(s)
        },
    },
    Case {
        name: "long REL TO list",
        make: |k| {
            let names: Vec<String> = (0..k / 2).map(|i| format!("partner-{i}")).collect();
            body(format!(
                "(TLP:AMBER//REL TO {}, liaison) {}\n",
                names.join(", "),
                words(k / 2)
            ))
        },
    },
    Case {
        name: "long REL TO list, markings at line starts",
        make: |k| {
            let names: Vec<String> = (0..k / 2).map(|i| format!("partner-{i}")).collect();
            let mut s = format!("(TLP:AMBER//REL TO {}, liaison) start\n", names.join(", "));
            for _ in 0..k / 40 {
                s.push_str("(tlp:green) line\n");
            }
            body(s)
        },
    },
    Case {
        name: "markings at line starts inside a portion",
        make: |k| {
            let mut s = String::from("(TLP:CLEAR) start\n");
            for i in 0..k / 4 {
                s.push_str(&format!(
                    "(tlp:{}) line\n",
                    ["green", "amber", "red"][i % 3]
                ));
            }
            body(s)
        },
    },
    Case {
        name: "many lines in one paragraph",
        make: |k| body(format!("(TLP:CLEAR) {}\n", "a\n".repeat(k))),
    },
    Case {
        name: "CR-only line ends",
        make: |k| {
            let mut s = String::from(HEAD);
            for _ in 0..k / 4 {
                s.push_str("(TLP:GREEN) one\rtwo\r\r");
            }
            s.replace('\n', "\r")
        },
    },
    Case {
        name: "front matter: title continued over many lines",
        make: |k| {
            format!(
                "---\ntitle: start\n{}produced: 2026-03-20T08:00:00Z\n---\n\n(TLP:CLEAR) x\n",
                "  more words\n".repeat(k / 4)
            )
        },
    },
    Case {
        name: "front matter: many comments and blank lines",
        make: |k| {
            format!(
                "---\n{}title: T\nproduced: 2026-03-20T08:00:00Z\n---\n\n(TLP:CLEAR) x\n",
                "# note\n\n".repeat(k / 4)
            )
        },
    },
    Case {
        name: "front matter: nested `[` (refused)",
        make: |k| format!("---\ntitle: {}\n---\n", "[".repeat(k)),
    },
    Case {
        name: "front matter: long quoted value with escapes",
        make: |k| {
            format!(
                "---\ntitle: \"{}\"\nproduced: 2026-03-20T08:00:00Z\n---\n\n(TLP:CLEAR) x\n",
                "\\\"a".repeat(k)
            )
        },
    },
    Case {
        name: "front matter: never closed (refused)",
        make: |k| format!("---\n{}", "title: x\n".repeat(k / 4)),
    },
    Case {
        name: "registry terms in plain text",
        make: |k| {
            let mut s = String::from("(TLP:GREEN) ");
            for i in 0..k / 4 {
                s.push_str(if i % 2 == 0 { "SAPPHIRE " } else { "word " });
            }
            body(s + "\n")
        },
    },
];

/// `k` words of prose.
fn words(k: usize) -> String {
    const W: [&str; 8] = [
        "the", "group", "plans", "an", "attack", "near", "Moscow", "soon",
    ];
    let mut s = String::with_capacity(k * 6);
    for i in 0..k {
        s.push_str(W[i % W.len()]);
        s.push(' ');
    }
    s
}

/// What `check` does with a report: parse, lint, and each audience's
/// release and leak check. Returns whether it parsed.
fn assess(src: &str, audiences: &[Audience], registry: &Registry) -> bool {
    let Ok(report) = parse_report("bench.md", src.as_bytes()) else {
        return false;
    };
    let findings = lint(&report, audiences, registry);
    std::hint::black_box(findings.len());
    for a in audiences {
        let release = Release::build(&report, a, registry);
        let guard = LeakGuard::new(&report, a, registry);
        let text = render_markdown(&release);
        let ok = clear(&guard, &release, Rendered::Text(text), None).is_ok();
        std::hint::black_box(ok);
    }
    true
}

/// The time of each phase on one input: parse, lint, releases, leak checks.
fn phases(src: &str, audiences: &[Audience], registry: &Registry) -> [Duration; 4] {
    let mut out = [Duration::ZERO; 4];
    let t = Instant::now();
    let Ok(report) = parse_report("bench.md", src.as_bytes()) else {
        out[0] = t.elapsed();
        return out;
    };
    out[0] = t.elapsed();
    let t = Instant::now();
    std::hint::black_box(lint(&report, audiences, registry).len());
    out[1] = t.elapsed();
    for a in audiences {
        let t = Instant::now();
        let release = Release::build(&report, a, registry);
        let text = render_markdown(&release);
        out[2] += t.elapsed();
        let t = Instant::now();
        let guard = LeakGuard::new(&report, a, registry);
        std::hint::black_box(clear(&guard, &release, Rendered::Text(text), None).is_ok());
        out[3] += t.elapsed();
    }
    out
}

fn timed(src: &str, audiences: &[Audience], registry: &Registry) -> Duration {
    let t = Instant::now();
    std::hint::black_box(assess(src, audiences, registry));
    t.elapsed()
}

pub fn run(args: &ParseBenchArgs) -> Result<u8> {
    let audiences = Audience::defaults();
    let registry = Registry::new(vec![ProtectedTerm {
        term: "SAPPHIRE".into(),
        kind: TermKind::Source,
    }]);
    let (small, large) = (args.n, args.n * args.factor);
    println!(
        "tearline-dev bench-parse: parse + lint + {} audiences' release and leak check, {small} and {large} copies of each pathology (linear: about {}x; flagged above {}x)",
        audiences.len(),
        args.factor,
        args.max_ratio
    );
    println!(
        "{:<50} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "case", "MB", "s", "MB", "s", "growth"
    );
    let mut flagged = Vec::new();
    for case in CASES {
        if args.only.as_deref().is_some_and(|o| !case.name.contains(o)) {
            continue;
        }
        let a = (case.make)(small);
        let b = (case.make)(large);
        // Once to warm up lazily built tables, then the best of three (of
        // two for the large input, when it is quick): a single run of a few
        // milliseconds is noisy.
        let _ = timed(&a, &audiences, &registry);
        let ta = (0..3).map(|_| timed(&a, &audiences, &registry)).min();
        let ta = ta.unwrap_or_default();
        let mut tb = timed(&b, &audiences, &registry);
        if tb < Duration::from_millis(500) {
            tb = tb.min(timed(&b, &audiences, &registry));
        }
        // Below two milliseconds the ratio is noise: compare with a floor.
        let floor = Duration::from_millis(2);
        let ratio = tb.max(floor).as_secs_f64() / ta.max(floor).as_secs_f64();
        let mark = if ratio > args.max_ratio {
            flagged.push(case.name);
            "  FLAG: super-linear"
        } else {
            ""
        };
        println!(
            "{:<50} {:>9.2} {:>9.4} {:>9.2} {:>9.4} {:>6.1}x{mark}",
            case.name,
            a.len() as f64 / 1e6,
            ta.as_secs_f64(),
            b.len() as f64 / 1e6,
            tb.as_secs_f64(),
            ratio
        );
        if args.phases {
            let p = phases(&b, &audiences, &registry);
            println!(
                "    large input: parse {:.4} s, lint {:.4} s, releases {:.4} s, leak checks {:.4} s",
                p[0].as_secs_f64(),
                p[1].as_secs_f64(),
                p[2].as_secs_f64(),
                p[3].as_secs_f64()
            );
        }
    }
    if flagged.is_empty() {
        println!("bench-parse: every case grows linearly");
        Ok(0)
    } else {
        println!(
            "bench-parse: {} case(s) grow faster than linear: {}",
            flagged.len(),
            flagged.join("; ")
        );
        Ok(1)
    }
}
