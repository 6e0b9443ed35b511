//! `tearline-dev bench`: throughput of parse + release + leak check, with a
//! naive baseline measured in the same run.
//!
//! The corpus is generated: reports of about `--size` bytes with marked
//! portions at every level, `REL TO` lists, generalised and protected spans,
//! and registry terms planted in plain text in disguise (case, invisible
//! characters, hyphens, line breaks, diacritics). Each report is released
//! to the node's three default audiences, one thread. The baseline is what
//! a quick script would do: one case-insensitive regular expression that
//! alternates over the whole registry, run over the same reports; it only
//! scans, so the ratio flatters it.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use tearline_model::{parse_report, Audience, ProtectedTerm, TermKind};
use tearline_release::{clear, render_markdown, LeakGuard, Registry, Release, Rendered};

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Number of reports.
    #[arg(long, default_value_t = 200)]
    reports: usize,
    /// Size of each report in bytes.
    #[arg(long, default_value_t = 8192)]
    size: usize,
    /// Number of registry terms.
    #[arg(long, default_value_t = 10_000)]
    terms: usize,
    /// Seed for the generated corpus.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Measure Tearline only (for profiling).
    #[arg(long)]
    skip_baseline: bool,
}

/// A small deterministic generator (xorshift64*), so every run measures the
/// same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const WORDS: &[&str] = &[
    "the",
    "group",
    "plans",
    "to",
    "attack",
    "large",
    "gatherings",
    "in",
    "city",
    "within",
    "coming",
    "days",
    "members",
    "were",
    "seen",
    "near",
    "station",
    "and",
    "have",
    "acquired",
    "weapons",
    "according",
    "reporting",
    "security",
    "services",
    "should",
    "increase",
    "protective",
    "measures",
    "at",
    "venues",
    "including",
    "concerts",
    "festivals",
    "markets",
    "public",
    "transport",
    "hubs",
    "partner",
    "agencies",
    "are",
    "advised",
    "that",
    "threat",
    "remains",
    "high",
    "over",
    "weekend",
    "individuals",
    "travelled",
    "from",
    "region",
    "last",
    "month",
    "with",
    "intent",
    "carry",
    "out",
    "coordinated",
    "operation",
    "against",
    "crowded",
    "places",
    "authorities",
    "assess",
    "likely",
    "imminent",
    "no",
    "further",
    "details",
    "available",
    "this",
    "time",
    "surveillance",
    "of",
    "entrances",
    "was",
    "reported",
    "by",
    "several",
    "witnesses",
    "vehicle",
    "rented",
    "under",
    "false",
    "name",
    "may",
    "be",
    "used",
    "as",
    "part",
    "plot",
    "officials",
    "recommend",
    "vigilance",
    "around",
    "evening",
    "events",
];

const SYLLABLES: &[&str] = &[
    "ka", "ro", "mi", "vel", "ta", "zor", "qui", "bran", "dul", "esk", "fa", "gor", "hul", "ix",
    "jun", "kel", "lom", "nar", "oph", "pry", "rax", "sul", "tev", "ulm", "vok", "wen", "yar",
    "zed",
];

fn code_name(rng: &mut Rng) -> String {
    let n = 2 + rng.below(2);
    let word: String = (0..n).map(|_| rng.pick(SYLLABLES)).collect();
    word.to_uppercase()
}

fn registry_terms(rng: &mut Rng, n: usize) -> Vec<ProtectedTerm> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    let kinds = [
        TermKind::Source,
        TermKind::Method,
        TermKind::Asset,
        TermKind::Case,
    ];
    while out.len() < n {
        let t = format!("{} {}", code_name(rng), code_name(rng));
        if seen.insert(t.clone()) {
            out.push(ProtectedTerm {
                term: t,
                kind: kinds[out.len() % 4],
            });
        }
    }
    out
}

/// Writes `term` in one of the disguises the leak check must see through.
fn disguise(rng: &mut Rng, term: &str) -> String {
    match rng.below(5) {
        0 => term.to_lowercase(),
        1 => term.replacen(' ', "\u{200b}", 1),
        2 => term.replacen(' ', "-", 1),
        3 => term.replacen(' ', "\n", 1),
        _ => term.replacen('A', "Á", 1).replacen('O', "Ö", 1),
    }
}

fn report(rng: &mut Rng, size: usize, terms: &[ProtectedTerm], planted: &mut usize) -> String {
    let mut s = String::from("---\ntitle: Generated warning\nproduced: 2026-03-20T08:00:00Z\nvalid_until: 2026-03-22T08:00:00Z\n---\n");
    let markings = [
        "(TLP:CLEAR)",
        "(TLP:GREEN)",
        "(TLP:AMBER)",
        "(TLP:AMBER//REL TO liaison)",
        "(TLP:AMBER+STRICT)",
        "(TLP:RED)",
    ];
    while s.len() < size {
        s.push('\n');
        s.push_str(markings[rng.below(markings.len())]);
        for i in 0..40 {
            s.push(' ');
            match (i, rng.below(12)) {
                (5, _) => s.push_str("[the Moscow region]{place}"),
                (12, 0) => s.push_str("[Crocus City Hall]{venue level=AMBER sub=\"a large concert venue in the city\"}"),
                (20, 1) => {
                    let t = &terms[rng.below(terms.len())].term;
                    s.push_str(&format!("[{t}]{{source sub=\"a source\"}}"));
                }
                (30, 2) => {
                    let t = &terms[rng.below(terms.len())].term;
                    s.push_str(&disguise(rng, t));
                    *planted += 1;
                }
                _ => s.push_str(rng.pick(WORDS)),
            }
        }
        s.push_str(".\n");
    }
    s
}

pub fn run(args: &BenchArgs) -> Result<u8> {
    let mut rng = Rng(args.seed.max(1));
    let terms = registry_terms(&mut rng, args.terms);
    let mut planted = 0;
    let reports: Vec<String> = (0..args.reports)
        .map(|_| report(&mut rng, args.size, &terms, &mut planted))
        .collect();
    let bytes: usize = reports.iter().map(String::len).sum();
    let audiences = Audience::defaults();

    let t = Instant::now();
    let registry = Registry::new(terms.clone());
    let compile = t.elapsed();

    // Warm up lazily built tables.
    if let Some(r) = reports.first() {
        let rep =
            parse_report("bench.md", r.as_bytes()).context("generated report does not parse")?;
        let _ = Release::build(&rep, &audiences[0], &registry);
    }

    let (mut parse, mut build, mut render, mut leak) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    let mut releases = 0usize;
    let mut refused = 0usize;
    for r in &reports {
        for a in &audiences {
            let t0 = Instant::now();
            let rep = parse_report("bench.md", r.as_bytes())
                .context("generated report does not parse")?;
            let t1 = Instant::now();
            let rel = Release::build(&rep, a, &registry);
            let t2 = Instant::now();
            let md = render_markdown(&rel);
            let t3 = Instant::now();
            let guard = LeakGuard::new(&rep, a, &registry);
            let ok = clear(&guard, &rel, Rendered::Text(md), None).is_ok();
            let t4 = Instant::now();
            parse += t1 - t0;
            build += t2 - t1;
            render += t3 - t2;
            leak += t4 - t3;
            releases += 1;
            refused += usize::from(!ok);
        }
    }
    let total = parse + build + render + leak;
    let processed = bytes * audiences.len();
    let ours_mbs = processed as f64 / 1e6 / total.as_secs_f64();

    let pct = |d: Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64();
    println!(
        "tearline-dev bench: {} reports of ~{:.1} KB ({:.2} MB), {} registry terms, {} audiences, 1 thread",
        reports.len(),
        args.size as f64 / 1024.0,
        bytes as f64 / 1e6,
        terms.len(),
        audiences.len()
    );
    println!("registry compiled in {:.1} ms", compile.as_secs_f64() * 1e3);
    println!(
        "tearline  parse + release + leak check: {releases} releases in {:.3} s = {:.0} releases/s, {:.1} MB/s ({refused} refused)",
        total.as_secs_f64(),
        releases as f64 / total.as_secs_f64(),
        ours_mbs
    );
    println!(
        "          time share: parse {:.0}%, release {:.0}%, render {:.0}%, leak check {:.0}%",
        pct(parse),
        pct(build),
        pct(render),
        pct(leak)
    );
    if args.skip_baseline {
        return Ok(0);
    }

    // The naive baseline: one alternation over the registry.
    let t = Instant::now();
    let pattern = format!(
        "(?i)\\b(?:{})\\b",
        terms
            .iter()
            .map(|t| regex::escape(&t.term))
            .collect::<Vec<_>>()
            .join("|")
    );
    let naive = regex::RegexBuilder::new(&pattern)
        .size_limit(1 << 30)
        .dfa_size_limit(1 << 30)
        .build()
        .context("the baseline pattern does not compile")?;
    let naive_compile = t.elapsed();
    let mut naive_found = 0usize;
    let t = Instant::now();
    for r in &reports {
        naive_found += naive.find_iter(r).count();
    }
    let naive_time = t.elapsed();
    let naive_mbs = bytes as f64 / 1e6 / naive_time.as_secs_f64();
    // What each finds of the planted disguised terms (plain-text plants
    // only: the baseline's count also includes terms inside source spans).
    let ours_found: usize = reports.iter().map(|r| registry.find(r).len()).sum();

    println!(
        "baseline  one regex alternation over the registry (scan only): {:.1} MB/s (compiled in {:.0} ms)",
        naive_mbs,
        naive_compile.as_secs_f64() * 1e3
    );
    println!(
        "ratio     tearline / baseline throughput: {:.1}x",
        ours_mbs / naive_mbs
    );
    println!(
        "disguised registry terms planted in plain text: {planted}; registry matches found by tearline: {ours_found}, by the baseline: {}",
        naive_found
    );
    println!(
        "target    >= 50 MB/s per core for parse + release + leak check: {}",
        if ours_mbs >= 50.0 { "met" } else { "NOT met" }
    );
    Ok(0)
}

/// `tearline-dev bench-taxii`: one client, the same for every server measured.
#[derive(Args, Debug, Clone)]
pub struct TaxiiBenchArgs {
    /// What to call the server in the output.
    #[arg(long)]
    label: String,
    /// The collection's URL (`.../collections/ID/`).
    #[arg(long)]
    collection: String,
    #[arg(long)]
    user: String,
    #[arg(long)]
    password: String,
    /// Objects to post, then read back.
    #[arg(long, default_value_t = 100_000)]
    objects: usize,
    /// Objects per POST envelope.
    #[arg(long, default_value_t = 100)]
    envelope: usize,
    /// Objects per GET page.
    #[arg(long, default_value_t = 100)]
    page: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

fn bench_object(i: usize) -> serde_json::Value {
    serde_json::json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--{:08x}-{:04x}-4444-8444-444444444444", i / 65536, i % 65536),
        "created": "2026-03-21T10:00:00.000Z",
        "modified": "2026-03-21T10:00:00.000Z",
        "name": format!("Reconnaissance of concert venue entrances, pattern {i}"),
        "pattern": format!("[url:value = 'http://example.test/{i}']"),
        "pattern_type": "stix",
        "valid_from": "2026-03-21T10:00:00Z",
    })
}

pub fn taxii(args: &TaxiiBenchArgs) -> Result<u8> {
    use base64::Engine;
    let agent = ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(600))
        .build();
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", args.user, args.password))
    );
    let media = "application/taxii+json;version=2.1";
    let base = args.collection.trim_end_matches('/');

    let mut post_lat = Vec::new();
    let t = Instant::now();
    let mut i = 0;
    while i < args.objects {
        let n = args.envelope.min(args.objects - i);
        let body =
            serde_json::json!({ "objects": (i..i + n).map(bench_object).collect::<Vec<_>>() })
                .to_string();
        let t0 = Instant::now();
        let r = agent
            .post(&format!("{base}/objects/"))
            .set("Accept", media)
            .set("Content-Type", media)
            .set("Authorization", &auth)
            .send_string(&body)
            .with_context(|| format!("{}: POST failed", args.label))?;
        let _ = r.into_string();
        post_lat.push(t0.elapsed());
        i += n;
    }
    let post_total = t.elapsed();

    let mut get_lat = Vec::new();
    let mut got = 0usize;
    let mut next: Option<String> = None;
    let t = Instant::now();
    loop {
        let mut url = format!("{base}/objects/?limit={}", args.page);
        if let Some(n) = &next {
            url.push_str(&format!("&next={n}"));
        }
        let t0 = Instant::now();
        let r = agent
            .get(&url)
            .set("Accept", media)
            .set("Authorization", &auth)
            .call()
            .with_context(|| format!("{}: GET failed", args.label))?;
        let v: serde_json::Value = serde_json::from_str(&r.into_string()?)?;
        get_lat.push(t0.elapsed());
        got += v["objects"].as_array().map_or(0, Vec::len);
        match (v["more"].as_bool(), v["next"].as_str()) {
            (Some(true), Some(n)) => next = Some(n.to_string()),
            _ => break,
        }
    }
    let get_total = t.elapsed();
    post_lat.sort();
    get_lat.sort();
    let out = serde_json::json!({
        "label": args.label,
        "objects": args.objects,
        "read_back": got,
        "post_objects_per_s": args.objects as f64 / post_total.as_secs_f64(),
        "post_p50_ms": percentile(&post_lat, 0.50),
        "post_p99_ms": percentile(&post_lat, 0.99),
        "get_objects_per_s": got as f64 / get_total.as_secs_f64(),
        "get_pages": get_lat.len(),
        "get_p50_ms": percentile(&get_lat, 0.50),
        "get_p99_ms": percentile(&get_lat, 0.99),
    });
    println!("{out}");
    Ok(0)
}

/// `tearline-dev bench-extract`: extraction throughput on one core.
#[derive(clap::Args)]
pub struct ExtractBenchArgs {
    /// Megabytes of synthetic news to read.
    #[arg(long, default_value_t = 64)]
    pub mb: usize,
    /// Also write the corpus here, one article per line (for a peer to read).
    #[arg(long, value_name = "FILE")]
    pub write_corpus: Option<std::path::PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn extract(args: &ExtractBenchArgs) -> Result<u8> {
    use crate::corpus::{article, Rng, Vocabulary};
    let kb = tearline_extract::Kb::builtin();
    let vocab = Vocabulary::from_kb(kb);
    let mut rng = Rng::new(7);
    let target = args.mb * 1024 * 1024;
    let mut docs = Vec::new();
    let mut bytes = 0;
    while bytes < target {
        let a = article(&mut rng, &vocab);
        bytes += a.len();
        docs.push(a);
    }
    if let Some(path) = &args.write_corpus {
        let mut out = docs.join("\n");
        out.push('\n');
        std::fs::write(path, out)
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    let ctx = tearline_extract::Context::published("2024-03-23")
        .ok_or_else(|| anyhow::anyhow!("bug: bad fixed date"))?;
    // Warm up: the knowledge base loads once per process.
    let _ = tearline_extract::extract(&docs[0], &ctx);
    let start = std::time::Instant::now();
    let mut entities = 0usize;
    for d in &docs {
        entities += tearline_extract::extract(d, &ctx).entities.len();
    }
    let secs = start.elapsed().as_secs_f64();
    let mb_s = bytes as f64 / 1e6 / secs;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"documents": docs.len(), "bytes": bytes, "seconds": secs, "mb_per_s": mb_s, "entities": entities})
        );
    } else {
        println!(
            "tearline extract: {} documents, {:.1} MB in {secs:.2} s on one core: {mb_s:.1} MB/s, {entities} entities ({:.1} per KB)",
            docs.len(),
            bytes as f64 / 1e6,
            entities as f64 / (bytes as f64 / 1024.0)
        );
    }
    Ok(0)
}

/// `tearline-dev bench-fuse`: linking a new document into a large store.
#[derive(clap::Args)]
pub struct FuseBenchArgs {
    /// Documents to store before measuring.
    #[arg(long, default_value_t = 1_000_000)]
    pub docs: usize,
    /// New documents to link and time at each size.
    #[arg(long, default_value_t = 1000)]
    pub probes: usize,
    /// Where to keep the store (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// One synthetic event: the entities its documents name.
struct Event {
    group: String,
    city: String,
    country: String,
    venue: Option<String>,
    target: String,
    day: i64,
}

pub fn fuse(args: &FuseBenchArgs) -> Result<u8> {
    use crate::corpus::{Rng, Vocabulary};
    use tearline_extract::{EntityKind, PlaceKind};
    use tearline_store::DocumentStore;

    let kb = tearline_extract::Kb::builtin();
    let vocab = Vocabulary::from_kb(kb);
    let groups: Vec<&tearline_extract::KbEntry> = kb
        .entries()
        .iter()
        .filter(|e| e.kind == EntityKind::Group)
        .collect();
    let cities: Vec<&tearline_extract::KbEntry> = kb
        .entries()
        .iter()
        .filter(|e| e.place_kind == Some(PlaceKind::City) && e.population > 300_000)
        .collect();
    let targets: Vec<&tearline_extract::KbEntry> = kb
        .entries()
        .iter()
        .filter(|e| e.kind == EntityKind::Target)
        .collect();
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("fuse-bench.db");
    let _ = std::fs::remove_file(&db);
    let store = tearline_store_sqlite::SqliteStore::open(&db)?;
    let mut rng = Rng::new(11);
    // Events over ten years; three documents each on average. Groups and
    // cities are drawn with a skew (a few are named far more often), as in
    // real reporting.
    let skew = |rng: &mut Rng, n: usize| -> usize {
        let a = rng.below(n);
        let b = rng.below(n);
        a.min(b)
    };
    let day0 = tearline_fuse::day_number(
        chrono::NaiveDate::from_ymd_opt(2016, 1, 1).context("bug: date")?,
    );
    let n_events = (args.docs / 3).max(1);
    let make_event = |rng: &mut Rng| {
        let g = groups[skew(rng, groups.len())];
        let c = cities[skew(rng, cities.len())];
        Event {
            group: g.id.clone(),
            city: c.id.clone(),
            country: format!("country:{}", c.country.clone().unwrap_or_default()),
            venue: (rng.below(3) == 0).then(|| format!("venue:bench-{}", rng.next() % 1_000_000)),
            target: rng.pick(&targets).id.clone(),
            day: day0 + rng.below(3650) as i64,
        }
    };
    let events: Vec<Event> = (0..n_events).map(|_| make_event(&mut rng)).collect();
    let at = "2026-01-01T00:00:00Z";
    let doc_of = |i: usize, e: &Event, rng: &mut Rng| {
        let mut keys = vec![e.group.clone(), e.city.clone(), e.target.clone()];
        if let Some(v) = &e.venue {
            keys.push(v.clone());
        }
        if rng.below(2) == 0 {
            keys.push(format!("person:bench-{}", rng.next() % 200_000));
        }
        let from = e.day + rng.below(2) as i64;
        tearline_store::NewDocument {
            id: format!("bench-{i}"),
            source: "bench".into(),
            url: None,
            title: format!("event on day {}", e.day),
            published: Some(tearline_fuse::day_date(from).to_string()),
            lang: Some("en".into()),
            sha256: format!("{i:064x}"),
            text: String::new(),
            extraction: "[]".into(),
            keys,
            from_day: Some(from),
            until_day: Some(from),
            marking: None,
            places: vec![e.city.clone(), e.country.clone()],
            ingested_at: at.into(),
        }
    };
    println!(
        "fusion benchmark: {} documents about {n_events} events ({} groups, {} cities), SQLite store, one thread",
        args.docs,
        groups.len(),
        cities.len()
    );
    let checkpoints = [args.docs / 10, args.docs];
    let mut stored = 0usize;
    let load_start = Instant::now();
    let mut results = Vec::new();
    for &upto in &checkpoints {
        let mut batch = Vec::with_capacity(10_000);
        while stored < upto {
            let ev = stored % n_events;
            let d = doc_of(stored, &events[ev], &mut rng);
            batch.push((d, ev as i64 + 1));
            stored += 1;
            if batch.len() == 10_000 || stored == upto {
                store.documents(&mut |b| {
                    for (d, case) in &batch {
                        b.add_document(d, Some(*case))?;
                    }
                    Ok(())
                })?;
                batch.clear();
            }
        }
        let loaded = load_start.elapsed().as_secs_f64();
        // New documents: real text about a stored event, read and linked.
        let mut times = Vec::with_capacity(args.probes);
        let mut joined = 0usize;
        for p in 0..args.probes {
            let e = &events[rng.below(n_events.min(upto.max(1)))];
            let group = kb.get(&e.group).map(|g| g.name.clone()).unwrap_or_default();
            let city = kb.get(&e.city).map(|c| c.name.clone()).unwrap_or_default();
            let date = tearline_fuse::day_date(e.day);
            let text = format!(
                "{group} claimed an attack in {city} on {}, officials said, killing at least {} people. {}",
                date.format("%-d %B %Y"),
                3 + rng.below(50),
                rng.pick(&vocab.orgs)
            );
            let doc = tearline_node::reading::Doc {
                id: Some(format!("probe-{upto}-{p}")),
                source: "probe".into(),
                url: None,
                title: "probe".into(),
                published: Some((date + chrono::Duration::days(1)).to_string()),
                lang: None,
                text,
                window: None,
                marking: None,
                groups: Vec::new(),
            };
            let t = Instant::now();
            let r = tearline_node::reading::ingest_one(&store, &doc, at, "bench")?;
            times.push(t.elapsed());
            if matches!(
                r,
                tearline_node::reading::Ingested::Stored { joined: true, .. }
            ) {
                joined += 1;
            }
        }
        times.sort();
        let pct = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        let db_bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0)
            + std::fs::metadata(dir.join("fuse-bench.db-wal"))
                .map(|m| m.len())
                .unwrap_or(0);
        println!(
            "{:>9} documents stored (bulk load {:.0} s): link one new document p50 {:.2} ms, p99 {:.2} ms; {}/{} joined their event's case; store {:.0} MB ({} bytes/document); peak memory {} MB",
            upto,
            loaded,
            pct(0.5).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            joined,
            args.probes,
            db_bytes as f64 / 1e6,
            db_bytes / upto.max(1) as u64,
            rss_kib().unwrap_or(0) / 1024
        );
        results.push((upto, pct(0.99)));
    }
    if let (Some(small), Some(large)) = (results.first(), results.last()) {
        println!(
            "growth: {}x the documents, p99 {:.2}x",
            large.0 / small.0.max(1),
            large.1.as_secs_f64() / small.1.as_secs_f64().max(1e-9)
        );
        let p99 = large.1.as_secs_f64() * 1e3;
        println!(
            "target p99 <= 10 ms at {} documents: {} ({p99:.2} ms)",
            large.0,
            if p99 <= 10.0 { "met" } else { "NOT met" }
        );
    }
    Ok(0)
}
