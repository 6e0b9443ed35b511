//! The leak check's central property, over random reports.
//!
//! For random reports — random markings and `REL TO` lists, generalised
//! and protected spans, registry terms planted in random disguises (case,
//! invisible characters, hyphens, line breaks, diacritics, fullwidth forms)
//! in text, span text, substitutes and the title, and runs of words copied
//! from one portion into another — every audience's release either
//! contains none of the protected material or is refused.
//!
//! "Contains" is decided by an oracle independent of the crate's
//! normaliser: the output and the protected text are both squashed to
//! lower-case letters and digits without marks, and searched as plain
//! substrings (stricter than the leak check, which matches on word
//! boundaries). Protected strings carry digits so that the oracle does not
//! find them by chance.

use proptest::prelude::*;
use tearline_model::{parse_report, Audience, Level, ProtectedTerm, TermKind};
use tearline_release::{
    clear, receives, render_json, render_markdown, sees_original, LeakGuard, Registry, Release,
    Rendered,
};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let x = self.0;
        (x ^ (x >> 33)).wrapping_mul(0xff51afd7ed558ccd) ^ (x >> 29)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const WORDS: &[&str] = &[
    "the",
    "cell",
    "plans",
    "an",
    "attack",
    "on",
    "crowded",
    "venues",
    "in",
    "city",
    "during",
    "week",
    "members",
    "were",
    "seen",
    "near",
    "station",
    "with",
    "weapons",
    "partners",
    "should",
    "raise",
    "protective",
    "measures",
    "at",
    "concerts",
    "markets",
    "and",
    "transport",
    "hubs",
    "threat",
    "remains",
    "high",
    "over",
    "weekend",
];
const SYLLABLES: &[&str] = &[
    "zor", "ka", "vel", "mi", "ro", "tav", "quin", "esk", "brun", "dal",
];
const MARKINGS: &[&str] = &["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];
const REL: &[&str] = &["liaison", "partner-a", "partner-b", "ghost"];

fn code(rng: &mut Rng) -> String {
    let mut s: String = (0..3).map(|_| rng.pick(SYLLABLES)).collect();
    s.push_str(&format!("{}", 10 + rng.below(90)));
    s.to_uppercase()
}

/// Writes `term` in random disguises.
fn disguise(rng: &mut Rng, term: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = term.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let c = match rng.below(8) {
            0 => c.to_ascii_lowercase(),
            1 => match c {
                'A' => 'Á',
                'E' => 'È',
                'O' => 'Ö',
                'I' => 'Î',
                'U' => 'Ü',
                x => x,
            },
            2 if c.is_ascii_alphanumeric() => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c),
            _ => c,
        };
        out.push(c);
        if rng.chance(10) && c.is_alphabetic() {
            out.push('\u{0301}');
        }
        if i + 1 < chars.len() {
            match rng.below(12) {
                0 => out.push('\u{200b}'),
                1 => out.push('\u{00ad}'),
                2 => out.push('-'),
                3 => out.push('\n'),
                4 => out.push('.'),
                5 => out.push('\u{2060}'),
                _ => {}
            }
        }
    }
    out
}

struct Case {
    source: String,
    terms: Vec<ProtectedTerm>,
}

fn words(rng: &mut Rng, n: usize) -> Vec<String> {
    (0..n).map(|_| rng.pick(WORDS).to_string()).collect()
}

fn generate(seed: u64) -> Case {
    let mut rng = Rng(seed);
    let kinds = [
        TermKind::Source,
        TermKind::Method,
        TermKind::Asset,
        TermKind::Case,
    ];
    let terms: Vec<ProtectedTerm> = (0..1 + rng.below(4))
        .map(|i| ProtectedTerm {
            term: code(&mut rng),
            kind: kinds[i % 4],
        })
        .collect();
    let mut title = format!("Warning {}", rng.pick(WORDS));
    if rng.chance(15) {
        let t = terms[rng.below(terms.len())].term.clone();
        title.push(' ');
        title.push_str(&disguise(&mut rng, &t).replace('\n', " "));
    }
    let mut src = format!("---\ntitle: \"{title}\"\nproduced: 2026-03-20T08:00:00Z\n---\n");
    let mut bodies: Vec<Vec<String>> = Vec::new();
    for _ in 0..1 + rng.below(6) {
        let mut marking = format!("(TLP:{}", rng.pick(MARKINGS));
        if rng.chance(30) {
            let n = 1 + rng.below(3);
            let names: Vec<&str> = (0..n).map(|_| rng.pick(REL)).collect();
            marking.push_str(&format!("//REL TO {}", names.join(", ")));
        }
        marking.push(')');
        let n = 6 + rng.below(20);
        let mut body = words(&mut rng, n);
        // Copy a run of words from an earlier portion.
        if !bodies.is_empty() && rng.chance(25) {
            let prev = bodies[rng.below(bodies.len())].clone();
            if prev.len() >= 8 {
                let at = rng.below(body.len());
                let start = rng.below(prev.len() - 7);
                let len = 8 + rng.below(prev.len() - start - 7);
                body.splice(at..at, prev[start..start + len].iter().cloned());
            }
        }
        bodies.push(body.clone());
        let mut text: Vec<String> = body;
        for _ in 0..rng.below(4) {
            let at = rng.below(text.len() + 1);
            let original = format!(
                "{} Hall {}",
                rng.pick(&["Zorka", "Velmi", "Brunda"]),
                10 + rng.below(90)
            );
            let span = match rng.below(6) {
                0 => format!(
                    "[{original}]{{venue level={} sub=\"a large venue in the city\"}}",
                    rng.pick(MARKINGS)
                ),
                1 => format!(
                    "[{}]{{source sub=\"a source\"}}",
                    terms[rng.below(terms.len())].term
                ),
                2 => format!("[{original}]{{method}}"),
                3 => {
                    let t = terms[rng.below(terms.len())].term.clone();
                    format!(
                        "[{original}]{{place sub=\"near {}\"}}",
                        disguise(&mut rng, &t).replace('\n', " ")
                    )
                }
                4 => format!("[{original}]{{actor level={}}}", rng.pick(MARKINGS)),
                _ => format!("[{original}]{{place}}"),
            };
            text.insert(at, span);
        }
        for _ in 0..rng.below(3) {
            let at = rng.below(text.len() + 1);
            let t = terms[rng.below(terms.len())].term.clone();
            text.insert(at, disguise(&mut rng, &t));
        }
        src.push_str(&format!("\n{marking} {}.\n", text.join(" ")));
    }
    Case { source: src, terms }
}

/// The oracle's squash: letters and digits only, lower case, no marks.
fn squash(s: &str) -> String {
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Words for the run oracle: split on anything that is not a letter, digit
/// or an invisible character.
fn squashed_words(s: &str) -> Vec<String> {
    s.split(|c: char| {
        !c.is_alphanumeric()
            && !matches!(c, '\u{200b}' | '\u{00ad}' | '\u{2060}')
            && !is_combining_mark(c)
    })
    .map(squash)
    .filter(|w| !w.is_empty())
    .collect()
}

fn audiences() -> Vec<Audience> {
    vec![
        Audience::new("internal", Level::Red, true).unwrap(),
        Audience::new("liaison", Level::Amber, false).unwrap(),
        Audience::new("public", Level::Clear, false).unwrap(),
        Audience::new("partner-a", Level::Green, false).unwrap(),
        Audience::new("partner-b", Level::AmberStrict, false).unwrap(),
    ]
}

fn check_case(seed: u64) -> Result<(), TestCaseError> {
    let case = generate(seed);
    let report = parse_report("r.md", case.source.as_bytes()).map_err(|e| {
        TestCaseError::fail(format!(
            "generated report does not parse: {e}\n{}",
            case.source
        ))
    })?;
    let registry = Registry::new(case.terms.clone());
    for a in audiences() {
        let release = Release::build(&report, &a, &registry);
        let guard = LeakGuard::new(&report, &a, &registry);
        for rendered in [
            Rendered::Text(render_markdown(&release)),
            Rendered::Json(render_json(&release)),
        ] {
            let Ok(out) = clear(&guard, &release, rendered, None) else {
                prop_assert!(
                    a.name() != "internal",
                    "the internal release was refused\n{}",
                    case.source
                );
                continue;
            };
            let text = String::from_utf8_lossy(out.bytes()).replace("\\n", "\n");
            let flat = squash(&text);
            if !a.sees_sources() {
                for t in &case.terms {
                    prop_assert!(
                        !flat.contains(&squash(&t.term)),
                        "{} leaked to {}\n{}\n---\n{}",
                        t.term,
                        a.name(),
                        case.source,
                        text
                    );
                }
            }
            for (p, s) in report.spans() {
                if !sees_original(&a, s) {
                    prop_assert!(
                        !flat.contains(&squash(s.text())),
                        "span `{}` (portion {}) leaked to {}\n{}\n---\n{}",
                        s.text(),
                        p.number(),
                        a.name(),
                        case.source,
                        text
                    );
                }
            }
            let out_words = format!(" {} ", squashed_words(&text).join(" "));
            for p in report.portions().iter().filter(|p| !receives(&a, p)) {
                let w = squashed_words(&p.plain_text());
                for run in w.windows(8) {
                    let needle = format!(" {} ", run.join(" "));
                    prop_assert!(
                        !out_words.contains(&needle),
                        "words of withheld portion {} leaked to {}: `{needle}`\n{}\n---\n{}",
                        p.number(),
                        a.name(),
                        case.source,
                        text
                    );
                }
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("TEARLINE_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_release_is_clean_or_refused(seed in any::<u64>()) {
        check_case(seed)?;
    }
}

#[test]
fn the_generator_exercises_both_outcomes() {
    // The property is not vacuous: over many seeds some releases pass and
    // some are refused.
    let (mut passed, mut refused) = (0, 0);
    for seed in 0..300 {
        let case = generate(seed);
        let report = parse_report("r.md", case.source.as_bytes()).unwrap();
        let registry = Registry::new(case.terms.clone());
        for a in audiences().into_iter().filter(|a| !a.sees_sources()) {
            let release = Release::build(&report, &a, &registry);
            let guard = LeakGuard::new(&report, &a, &registry);
            match clear(
                &guard,
                &release,
                Rendered::Text(render_markdown(&release)),
                None,
            ) {
                Ok(_) => passed += 1,
                Err(_) => refused += 1,
            }
        }
    }
    assert!(
        passed > 100 && refused > 40,
        "passed {passed}, refused {refused}"
    );
}
