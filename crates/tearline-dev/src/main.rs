//! `tearline-dev`: the tools that measure Tearline, kept out of the shipped
//! binary.
//!
//! - `bench`: parse + release + leak check throughput against a naive
//!   regular-expression baseline measured in the same run;
//! - `bench-parse`: how reading and assessing a report grows with hostile
//!   input (each pathology at n and 10n; super-linear growth is flagged);
//! - `bench-extract`: extraction throughput on one core (driven by
//!   `bench/extract.py`, which measures spaCy on the same text);
//! - `bench-fuse`: linking a new document into a store of many;
//! - `bench-taxii`: one TAXII client measuring any server (driven by
//!   `bench/taxii.py`, which starts `tearline serve` and medallion);
//! - `eval`: extraction and case-linking quality on the labelled corpus
//!   in `eval/`, checked against recorded minimums.
//!
//! The corpus generator (`corpus`) feeds the benchmarks.

mod bench;
mod bench_parse;
mod corpus;
mod eval;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tearline-dev",
    about = "Benchmarks and evaluation for Tearline."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure parse + release + leak check throughput against a naive baseline.
    Bench(bench::BenchArgs),
    /// Measure how parse, lint and the leak check grow with hostile input (n and 10n).
    BenchParse(bench_parse::ParseBenchArgs),
    /// Measure extraction throughput on one core (used by bench/extract.py).
    BenchExtract(bench::ExtractBenchArgs),
    /// Measure linking a new document into a store of many (default 1,000,000).
    BenchFuse(bench::FuseBenchArgs),
    /// Measure a TAXII 2.1 server: POST then GET a collection (used by bench/taxii.py).
    BenchTaxii(bench::TaxiiBenchArgs),
    /// Score extraction and case linking against a labelled corpus (eval/corpus).
    Eval {
        /// The corpus directory.
        #[arg(default_value = "eval/corpus")]
        dir: PathBuf,
        /// Fail (exit 1) if a figure is below the minimum recorded in this file.
        #[arg(long, value_name = "FILE")]
        check: Option<PathBuf>,
        /// List every missed, extra and wrongly resolved entity.
        #[arg(long)]
        misses: bool,
        /// Also link the documents in this many random orders and fail
        /// (exit 1) unless every order gives the same cases.
        #[arg(long, default_value_t = 0)]
        orders: usize,
        /// Print the linking features (keys, span, places) of every
        /// document whose name contains this.
        #[arg(long, value_name = "NAME")]
        features: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(a) => bench::run(&a),
        Command::BenchParse(a) => bench_parse::run(&a),
        Command::BenchExtract(a) => bench::extract(&a),
        Command::BenchFuse(a) => bench::fuse(&a),
        Command::BenchTaxii(a) => bench::taxii(&a),
        Command::Eval {
            dir,
            check,
            misses,
            orders,
            features,
            json,
        } => eval::run(
            &dir,
            check.as_deref(),
            json,
            misses,
            orders,
            features.as_deref(),
        ),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            let code = e
                .chain()
                .find_map(|c| c.downcast_ref::<tearline_node::Error>())
                .map_or(1, |n| n.code().exit());
            ExitCode::from(code)
        }
    }
}
