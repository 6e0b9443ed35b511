//! `tearline-dev eval`: extraction and clustering quality on a labelled corpus.
//!
//! The corpus is a directory of `NAME.txt` documents, each opening with
//! `published:`, `lang:` and `case:` lines and a `---` line, and a
//! `NAME.gold` file beside each listing its entities as
//! `type<TAB>surface<TAB>canonical` (see `eval/README.md`). A predicted
//! entity matches a gold one of the same type when one surface contains the
//! other (case-insensitive). Precision counts the predictions that match
//! some gold entity, recall the gold entities some prediction matches.
//! Date accuracy is the share of gold dates and windows found *and*
//! resolved to the gold value. Clustering is scored with B-cubed F1 over
//! the `case:` labels, linking documents in order of publication.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde::Serialize;
use tearline_extract::{extract, Context, Entity, EntityKind};
use tearline_fuse::{features, Config, MemoryIndex};

use tearline_extract::Extraction;

/// Bad input in the corpus or the thresholds file.
fn bad(message: String) -> anyhow::Error {
    tearline_node::Error::bad(message).into()
}

struct Labelled {
    name: String,
    published: Option<String>,
    lang: Option<String>,
    case: String,
    text: String,
    gold: Vec<(EntityKind, String, String, usize)>,
    /// Labelled statements of blame and characterisations of a warning:
    /// (type, surface, canonical).
    statements: Vec<(String, String, String)>,
    /// Surfaces of casualty figures about another event than the case.
    other_event: Vec<String>,
}

const TYPES: [EntityKind; 8] = [
    EntityKind::Group,
    EntityKind::Person,
    EntityKind::Org,
    EntityKind::Place,
    EntityKind::Target,
    EntityKind::Date,
    EntityKind::Window,
    EntityKind::Casualty,
];

fn load(dir: &Path) -> Result<Vec<Labelled>> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("failed to read the evaluation corpus `{}`", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for path in names {
        let raw = std::fs::read_to_string(&path)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        let (head, text) = raw.split_once("\n---\n").ok_or_else(|| {
            bad(format!(
                "{}: no `---` line after the header",
                path.display()
            ))
        })?;
        let mut doc = Labelled {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            published: None,
            lang: None,
            case: String::new(),
            text: text.to_string(),
            gold: Vec::new(),
            statements: Vec::new(),
            other_event: Vec::new(),
        };
        for (i, line) in head.lines().enumerate() {
            let (k, v) = line.split_once(':').ok_or_else(|| {
                bad(format!(
                    "{}:{}: expected `key: value`",
                    path.display(),
                    i + 1
                ))
            })?;
            let v = v.trim().to_string();
            match k.trim() {
                "published" => doc.published = Some(v),
                "lang" => doc.lang = Some(v),
                "case" => doc.case = v,
                other => {
                    return Err(bad(format!(
                        "{}:{}: unknown header `{other}`",
                        path.display(),
                        i + 1
                    )))
                }
            }
        }
        if doc.case.is_empty() {
            return Err(bad(format!("{}: no `case:` line", path.display())));
        }
        let gold_path = path.with_extension("gold");
        let gold = std::fs::read_to_string(&gold_path)
            .with_context(|| format!("failed to read `{}`", gold_path.display()))?;
        for (i, line) in gold.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let at = || format!("{}:{}", gold_path.display(), i + 1);
            let cols: Vec<&str> = line.split('\t').collect();
            let (kind, surface, canonical, event) = match cols[..] {
                [k, s, c] => (k, s, c, None),
                [k, s, c, e] => match e.strip_prefix("event=") {
                    Some(e) if k == "casualty" && !e.is_empty() => (k, s, c, Some(e)),
                    _ => {
                        return Err(bad(format!(
                            "{}: a fourth column is `event=CASE`, on casualty lines only",
                            at()
                        )))
                    }
                },
                _ => {
                    return Err(bad(format!(
                        "{}: expected type<TAB>surface<TAB>canonical[<TAB>event=CASE]",
                        at()
                    )))
                }
            };
            // Statements of blame and characterisations of a warning are
            // labelled for the fact table; they are not entities.
            if matches!(kind, "blame" | "characterisation") {
                doc.statements
                    .push((kind.to_string(), surface.to_string(), canonical.to_string()));
                continue;
            }
            if let Some(e) = event {
                if e != doc.case {
                    doc.other_event.push(surface.to_string());
                }
            }
            let kind = EntityKind::parse(kind)
                .filter(|k| TYPES.contains(k))
                .ok_or_else(|| bad(format!("{}: unknown type `{kind}`", at())))?;
            if !doc.text.to_lowercase().contains(&surface.to_lowercase()) {
                return Err(bad(format!("{}: `{surface}` is not in the document", at())));
            }
            doc.gold
                .push((kind, surface.to_string(), canonical.to_string(), i + 1));
        }
        out.push(doc);
    }
    if out.is_empty() {
        return Err(bad(format!("no documents (*.txt) in `{}`", dir.display())));
    }
    Ok(out)
}

/// The canonical value of a predicted entity, written as gold files write it.
fn canonical(e: &Entity) -> String {
    match e.kind {
        EntityKind::Date => e.date.clone().unwrap_or_default(),
        EntityKind::Window => format!(
            "{}..{}",
            e.from.as_deref().unwrap_or("?"),
            e.until.as_deref().unwrap_or("?")
        ),
        EntityKind::Casualty => e.figure.as_ref().map_or(String::new(), |f| {
            let k = match f.counts {
                tearline_extract::Casualty::Killed => "killed",
                tearline_extract::Casualty::Injured => "injured",
            };
            match (f.min, f.max, f.exact) {
                (Some(v), _, _) => format!("{k}>={v}"),
                (_, Some(v), _) => format!("{k}<={v}"),
                (_, _, Some(v)) if f.approximate => format!("{k}~{v}"),
                (_, _, Some(v)) => format!("{k}={v}"),
                _ => k.to_string(),
            }
        }),
        _ => e.name.clone(),
    }
}

fn matches(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_lowercase(), b.to_lowercase());
    a.contains(&b) || b.contains(&a)
}

#[derive(Default, Serialize, Clone, Copy)]
struct Counts {
    predicted: usize,
    correct: usize,
    gold: usize,
    found: usize,
    canonical_ok: usize,
}

#[derive(Serialize)]
struct TypeScore {
    #[serde(rename = "type")]
    kind: &'static str,
    precision: f64,
    recall: f64,
    f1: f64,
    canonical_accuracy: f64,
    #[serde(flatten)]
    counts: Counts,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// B-cubed precision, recall and F1 of `predicted` clusters against `gold`.
pub fn bcubed(gold: &[String], predicted: &[i64]) -> (f64, f64, f64) {
    let n = gold.len();
    if n == 0 {
        return (1.0, 1.0, 1.0);
    }
    let (mut p, mut r) = (0.0, 0.0);
    for i in 0..n {
        let same_pred: Vec<usize> = (0..n).filter(|&j| predicted[j] == predicted[i]).collect();
        let same_gold: Vec<usize> = (0..n).filter(|&j| gold[j] == gold[i]).collect();
        let both = same_pred.iter().filter(|&&j| gold[j] == gold[i]).count() as f64;
        p += both / same_pred.len() as f64;
        r += both / same_gold.len() as f64;
    }
    let (p, r) = (p / n as f64, r / n as f64);
    (p, r, f1(p, r))
}

/// What matching predictions against gold found.
#[derive(Default)]
struct Tally {
    counts: BTreeMap<EntityKind, Counts>,
    dates_gold: usize,
    dates_ok: usize,
    /// Gold casualty figures, and those attributed to the right event: a
    /// figure of the case found as the case's, a figure of another event
    /// not given to the case.
    figures_gold: usize,
    figures_right: usize,
    miss_lines: Vec<String>,
}

/// Every figure of one run.
struct Summary {
    documents: usize,
    bytes: usize,
    scores: Vec<TypeScore>,
    total: Counts,
    tally: Tally,
    names: Vec<String>,
    gold_cases: Vec<String>,
    predicted_cases: Vec<i64>,
    bcubed: (f64, f64, f64),
    metrics: BTreeMap<String, f64>,
}

/// `tearline-dev eval`: scores the corpus in `dir`, prints the figures, and
/// with `thresholds` fails (exit 1) when one is below its recorded minimum.
pub fn run(
    dir: &Path,
    thresholds: Option<&Path>,
    json: bool,
    misses: bool,
    orders: usize,
    show: Option<&str>,
) -> Result<u8> {
    let docs = load(dir)?;
    let extractions: Vec<(Extraction, Context)> = docs.iter().map(read).collect();
    let predicted_cases = link_in_order(&docs, &extractions);
    if orders > 0 {
        let want = partition(&predicted_cases);
        let mut seed = 0x7ea1_11e5_u64;
        for k in 0..orders {
            let mut order: Vec<usize> = (0..docs.len()).collect();
            for i in (1..order.len()).rev() {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                order.swap(i, (seed >> 33) as usize % (i + 1));
            }
            let got = partition(&link_in(&order, &extractions));
            if got != want {
                eprintln!("order {k}: the partition differs from the one in publication order");
                for (a, b) in want.iter().zip(&got).filter(|(a, b)| a != b).take(3) {
                    let names = |v: &Vec<usize>| {
                        v.iter()
                            .map(|&i| docs[i].name.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    eprintln!("  expected {{{}}}, got {{{}}}", names(a), names(b));
                }
                return Ok(1);
            }
        }
        println!(
            "order independence: {orders} random orders of {} documents give the partition of publication order",
            docs.len()
        );
    }
    if let Some(name) = show {
        let cfg = Config::default();
        for (d, (x, ctx)) in docs.iter().zip(&extractions) {
            if d.name.contains(name) {
                let f = features(x, ctx.published, &cfg);
                println!(
                    "{} ({}): span {:?}..{:?}\n  keys {}\n  places {}",
                    d.name,
                    d.case,
                    f.from.map(tearline_fuse::day_date),
                    f.until.map(tearline_fuse::day_date),
                    f.keys.join(", "),
                    f.places.join(", ")
                );
            }
        }
    }
    if misses {
        // Every pair of documents of different gold cases the linker
        // relates: what merged them.
        let cfg = Config::default();
        let feats: Vec<_> = extractions
            .iter()
            .map(|(x, ctx)| features(x, ctx.published, &cfg))
            .collect();
        for i in 0..docs.len() {
            for j in i + 1..docs.len() {
                if docs[i].case == docs[j].case {
                    continue;
                }
                if let Some(shared) = tearline_fuse::related(&feats[i], &feats[j], &cfg) {
                    println!(
                        "  related across cases: {} ~ {}: {}",
                        docs[i].name,
                        docs[j].name,
                        shared.join(", ")
                    );
                }
            }
        }
    }
    let mut tally = Tally::default();
    for (d, (x, _)) in docs.iter().zip(&extractions) {
        score_document(d, x, misses, &mut tally);
    }
    let s = summarise(&docs, tally, predicted_cases);
    if json {
        print_json(&s)?;
    } else {
        print_text(&s);
    }
    match thresholds {
        Some(path) => check_thresholds(path, &s.metrics),
        None => Ok(0),
    }
}

/// One labelled document read into entities.
fn read(d: &Labelled) -> (Extraction, Context) {
    let ctx = Context {
        published: d
            .published
            .as_deref()
            .and_then(tearline_node::reading::parse_published),
        lang: d.lang.clone(),
    };
    (extract(&d.text, &ctx), ctx)
}

/// Links the documents into cases in order of publication; each
/// document's predicted case.
fn link_in_order(docs: &[Labelled], extractions: &[(Extraction, Context)]) -> Vec<i64> {
    let mut order: Vec<usize> = (0..docs.len()).collect();
    order.sort_by(|&a, &b| {
        docs[a]
            .published
            .cmp(&docs[b].published)
            .then(docs[a].name.cmp(&docs[b].name))
    });
    link_in(&order, extractions)
}

/// Links the documents in `order`; each document's case (after every
/// merge).
fn link_in(order: &[usize], extractions: &[(Extraction, Context)]) -> Vec<i64> {
    let cfg = Config::default();
    let mut index = MemoryIndex::default();
    for &i in order {
        let (x, ctx) = &extractions[i];
        index.add(features(x, ctx.published, &cfg), &cfg);
    }
    let mut predicted = vec![0i64; extractions.len()];
    for (pos, case) in index.cases().into_iter().enumerate() {
        predicted[order[pos]] = case;
    }
    predicted
}

/// A partition as sorted sets of document numbers.
fn partition(cases: &[i64]) -> Vec<Vec<usize>> {
    let mut by: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        by.entry(*c).or_default().push(i);
    }
    let mut v: Vec<Vec<usize>> = by.into_values().collect();
    v.sort();
    v
}

/// Whether a predicted casualty figure is given to the document's own
/// event (not marked as about another).
fn own_event(e: &Entity) -> bool {
    e.about.as_deref() != Some(tearline_extract::OTHER_EVENT)
}

/// Matches one document's predictions against its gold entities.
fn score_document(d: &Labelled, x: &Extraction, misses: bool, t: &mut Tally) {
    for g in d.gold.iter().filter(|g| g.0 == EntityKind::Casualty) {
        t.figures_gold += 1;
        let other = d.other_event.contains(&g.1);
        let given = x
            .of(EntityKind::Casualty)
            .any(|p| matches(&p.text, &g.1) && own_event(p));
        if given != other {
            t.figures_right += 1;
        } else if misses {
            t.miss_lines.push(format!(
                "{}:{}: figure `{}` {}",
                d.name,
                g.3,
                g.1,
                if other {
                    "is about another event but was given to this one"
                } else {
                    "was not given to this event"
                }
            ));
        }
    }
    for kind in TYPES {
        let pred: Vec<&Entity> = x.of(kind).collect();
        let gold: Vec<&(EntityKind, String, String, usize)> =
            d.gold.iter().filter(|g| g.0 == kind).collect();
        let c = t.counts.entry(kind).or_default();
        c.predicted += pred.len();
        c.gold += gold.len();
        for p in &pred {
            if gold.iter().any(|g| matches(&p.text, &g.1)) {
                c.correct += 1;
            } else if misses {
                t.miss_lines.push(format!(
                    "{}: extra {} `{}` ({})",
                    d.name,
                    kind.name(),
                    p.text,
                    canonical(p)
                ));
            }
        }
        for g in &gold {
            let is_date = matches!(kind, EntityKind::Date | EntityKind::Window);
            if is_date {
                t.dates_gold += 1;
            }
            let hits: Vec<&&Entity> = pred.iter().filter(|p| matches(&p.text, &g.1)).collect();
            let c = t.counts.entry(kind).or_default();
            if hits.is_empty() {
                if misses {
                    t.miss_lines.push(format!(
                        "{}:{}: missed {} `{}`",
                        d.name,
                        g.3,
                        kind.name(),
                        g.1
                    ));
                }
                continue;
            }
            c.found += 1;
            if hits.iter().any(|p| canonical(p).eq_ignore_ascii_case(&g.2)) {
                c.canonical_ok += 1;
                if is_date {
                    t.dates_ok += 1;
                }
            } else if misses {
                t.miss_lines.push(format!(
                    "{}:{}: {} `{}` resolved to `{}`, gold `{}`",
                    d.name,
                    g.3,
                    kind.name(),
                    g.1,
                    hits.first().map(|p| canonical(p)).unwrap_or_default(),
                    g.2
                ));
            }
        }
    }
}

/// The scores per type and overall, B-cubed, and the named metrics that
/// thresholds refer to.
fn summarise(docs: &[Labelled], tally: Tally, predicted_cases: Vec<i64>) -> Summary {
    let scores: Vec<TypeScore> = tally
        .counts
        .iter()
        .map(|(k, c)| {
            let (p, r) = (ratio(c.correct, c.predicted), ratio(c.found, c.gold));
            TypeScore {
                kind: k.name(),
                precision: p,
                recall: r,
                f1: f1(p, r),
                canonical_accuracy: ratio(c.canonical_ok, c.found),
                counts: *c,
            }
        })
        .collect();
    let total = tally
        .counts
        .values()
        .fold(Counts::default(), |a, c| Counts {
            predicted: a.predicted + c.predicted,
            correct: a.correct + c.correct,
            gold: a.gold + c.gold,
            found: a.found + c.found,
            canonical_ok: a.canonical_ok + c.canonical_ok,
        });
    let gold_cases: Vec<String> = docs.iter().map(|d| d.case.clone()).collect();
    let bcubed = bcubed(&gold_cases, &predicted_cases);
    let mut metrics: BTreeMap<String, f64> = BTreeMap::new();
    for s in &scores {
        metrics.insert(format!("{}.f1", s.kind), s.f1);
        metrics.insert(format!("{}.precision", s.kind), s.precision);
        metrics.insert(format!("{}.recall", s.kind), s.recall);
    }
    let (mp, mr) = (
        ratio(total.correct, total.predicted),
        ratio(total.found, total.gold),
    );
    metrics.insert("all.f1".into(), f1(mp, mr));
    metrics.insert(
        "all.canonical_accuracy".into(),
        ratio(total.canonical_ok, total.found),
    );
    metrics.insert(
        "dates.accuracy".into(),
        ratio(tally.dates_ok, tally.dates_gold),
    );
    metrics.insert("cases.bcubed_f1".into(), bcubed.2);
    metrics.insert(
        "figures.right_event".into(),
        ratio(tally.figures_right, tally.figures_gold),
    );
    Summary {
        documents: docs.len(),
        bytes: docs.iter().map(|d| d.text.len()).sum(),
        scores,
        total,
        tally,
        names: docs.iter().map(|d| d.name.clone()).collect(),
        gold_cases,
        predicted_cases,
        bcubed,
        metrics,
    }
}

/// How many distinct values.
fn distinct<T: Ord + Clone>(v: &[T]) -> usize {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v.len()
}

fn print_json(s: &Summary) -> Result<()> {
    let (bp, br, bf) = s.bcubed;
    let t = &s.tally;
    let out = serde_json::json!({
        "documents": s.documents,
        "bytes": s.bytes,
        "types": s.scores,
        "dates": {"gold": t.dates_gold, "resolved_correctly": t.dates_ok, "accuracy": ratio(t.dates_ok, t.dates_gold)},
        "cases": {"gold_cases": distinct(&s.gold_cases), "predicted_cases": distinct(&s.predicted_cases), "bcubed_precision": bp, "bcubed_recall": br, "bcubed_f1": bf},
        "metrics": s.metrics,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn print_text(s: &Summary) {
    let total = &s.total;
    println!(
        "{} documents, {} bytes, {} gold entities\n",
        s.documents, s.bytes, total.gold
    );
    println!(
        "{:<10} {:>9} {:>7} {:>6} {:>10} {:>6} {:>6}",
        "type", "precision", "recall", "F1", "canonical", "gold", "pred"
    );
    let row = |kind: &str, p: f64, r: f64, f: f64, c: f64, gold: usize, pred: usize| {
        println!("{kind:<10} {p:>9.3} {r:>7.3} {f:>6.3} {c:>10.3} {gold:>6} {pred:>6}");
    };
    for x in &s.scores {
        row(
            x.kind,
            x.precision,
            x.recall,
            x.f1,
            x.canonical_accuracy,
            x.counts.gold,
            x.counts.predicted,
        );
    }
    let (mp, mr) = (
        ratio(total.correct, total.predicted),
        ratio(total.found, total.gold),
    );
    row(
        "all",
        mp,
        mr,
        f1(mp, mr),
        ratio(total.canonical_ok, total.found),
        total.gold,
        total.predicted,
    );
    let t = &s.tally;
    println!(
        "\ndate resolution: {}/{} gold dates and windows found and resolved correctly ({:.3})",
        t.dates_ok,
        t.dates_gold,
        ratio(t.dates_ok, t.dates_gold)
    );
    println!(
        "figures attributed to the right event: {}/{} ({:.3})",
        t.figures_right,
        t.figures_gold,
        ratio(t.figures_right, t.figures_gold)
    );
    let (bp, br, bf) = s.bcubed;
    println!(
        "cases: {} predicted for {} gold; B-cubed precision {bp:.3}, recall {br:.3}, F1 {bf:.3}",
        distinct(&s.predicted_cases),
        distinct(&s.gold_cases)
    );
    for m in &t.miss_lines {
        println!("  {m}");
    }
    if !t.miss_lines.is_empty() || s.bcubed.2 < 1.0 {
        // Each predicted case whose documents are not one gold case.
        let mut by: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, c) in s.predicted_cases.iter().enumerate() {
            by.entry(*c).or_default().push(i);
        }
        for (c, docs) in by {
            let gold: Vec<&str> = docs.iter().map(|&i| s.gold_cases[i].as_str()).collect();
            let whole = s.gold_cases.iter().filter(|g| *g == gold[0]).count() == docs.len();
            if gold.iter().all(|g| *g == gold[0]) && whole {
                continue;
            }
            let names: Vec<String> = docs
                .iter()
                .map(|&i| format!("{} ({})", s.names[i], s.gold_cases[i]))
                .collect();
            println!("  predicted case {c}: {}", names.join(", "));
        }
    }
}

/// Compares the metrics with the minimums recorded in `path`
/// (`metric<TAB>minimum` lines).
fn check_thresholds(path: &Path, metrics: &BTreeMap<String, f64>) -> Result<u8> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read thresholds `{}`", path.display()))?;
    let mut failed = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let at = format!("{}:{}", path.display(), i + 1);
        let (name, min) = line
            .split_once('\t')
            .ok_or_else(|| bad(format!("{at}: expected metric<TAB>minimum")))?;
        let min: f64 = min
            .trim()
            .parse()
            .map_err(|_| bad(format!("{at}: `{}` is not a number", min.trim())))?;
        let got = *metrics
            .get(name)
            .ok_or_else(|| bad(format!("{at}: unknown metric `{name}`")))?;
        if got + 1e-9 < min {
            failed.push(format!("{name} is {got:.3}, below the recorded {min:.3}"));
        }
    }
    if failed.is_empty() {
        eprintln!("eval: every figure is at or above {}", path.display());
        Ok(0)
    } else {
        anyhow::bail!("evaluation dropped: {}", failed.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::bcubed;

    #[test]
    fn bcubed_of_perfect_and_merged_clusterings() {
        let gold: Vec<String> = ["a", "a", "b", "b"].iter().map(|s| s.to_string()).collect();
        assert_eq!(bcubed(&gold, &[1, 1, 2, 2]), (1.0, 1.0, 1.0));
        let (p, r, _) = bcubed(&gold, &[1, 1, 1, 1]);
        assert!((p - 0.5).abs() < 1e-9 && (r - 1.0).abs() < 1e-9);
        let (p, r, _) = bcubed(&gold, &[1, 2, 3, 4]);
        assert!((p - 1.0).abs() < 1e-9 && (r - 0.5).abs() < 1e-9);
    }
}
