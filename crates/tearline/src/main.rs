//! The `tearline` command: a node's command-line interface.
//!
//! Every command finds its node from `--node DIR`, else `TEARLINE_HOME`,
//! else the current directory. Errors are printed as `error: ...` with
//! their cause chain; the exit code says what kind of failure it was (see
//! `exit.rs` and the README).

mod bench;
mod commands;
mod corpus;
mod eval;
mod exit;
mod node;
mod partners;
mod reading;
mod remotes;
mod reports;
mod warnings;
mod workbench;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "tearline",
    version,
    about = "Write a threat report once; release it to every audience, leak-checked and profiled."
)]
struct Cli {
    /// The node directory (default: TEARLINE_HOME, else the current directory).
    #[arg(long, global = true, value_name = "DIR")]
    node: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a node: config, embedded store, audit log.
    Init {
        /// Where to create it (default: --node, TEARLINE_HOME or the current directory).
        dir: Option<PathBuf>,
        /// The organisation's name, published as the producer of releases.
        #[arg(long, default_value = "Tearline node")]
        name: String,
    },
    /// Manage the audiences this node releases to.
    Audience {
        #[command(subcommand)]
        action: AudienceCmd,
    },
    /// Manage the protected-term registry.
    Protect {
        #[command(subcommand)]
        action: ProtectCmd,
    },
    /// Lint a report and show, per audience, what it gets and what each cut costs.
    Check {
        report: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Write one audience's release of a report (leak-checked, recorded).
    Release {
        report: PathBuf,
        /// The audience.
        #[arg(long = "to", value_name = "AUDIENCE")]
        to: String,
        #[arg(long, value_enum, default_value_t = Format::Md)]
        format: Format,
        /// Write to FILE instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// This release re-issues warning N, which is closed as superseded.
        #[arg(long, value_name = "N")]
        supersedes: Option<i64>,
    },
    /// Warnings by state, with time left or overdue.
    Warnings {
        #[arg(long)]
        json: bool,
    },
    /// One warning's timeline (`tearline warning N`), or act on it.
    #[command(args_conflicts_with_subcommands = true)]
    Warning {
        /// The warning's number.
        id: Option<i64>,
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: Option<WarningCmd>,
    },
    /// Manage partners: credentials for reading an audience's releases over TAXII.
    Partner {
        #[command(subcommand)]
        action: PartnerCmd,
    },
    /// Manage the people who sign in to the workbench (`serve` at /ui).
    User {
        #[command(subcommand)]
        action: UserCmd,
    },
    /// Manage remotes: TAXII servers this node reads releases from.
    Remote {
        #[command(subcommand)]
        action: RemoteCmd,
    },
    /// Pull a remote's releases to this node and send it our responses.
    Sync { name: String },
    /// Queue an acknowledgement, measures taken or feedback on a received warning.
    Respond {
        /// The remote that released it.
        remote: String,
        /// The warning's report id (`report--...`).
        report: String,
        /// acknowledgement, measures or feedback.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        text: String,
    },
    /// Reports received from a remote.
    Received {
        remote: String,
        #[arg(long)]
        json: bool,
    },
    /// Read one document and print every entity found in it.
    Extract {
        file: PathBuf,
        /// Its publication date (YYYY-MM-DD): relative dates resolve against it.
        #[arg(long)]
        published: Option<String>,
        /// Its language (ISO 639-1).
        #[arg(long)]
        lang: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Read documents (.txt, .md, .html, .jsonl; directories are walked) and link them into cases.
    Ingest {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The publication date of documents that do not give one.
        #[arg(long)]
        published: Option<String>,
    },
    /// Stored warnings and documents related to a draft, with the entities they share.
    Related {
        draft: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Cases: documents linked by shared entities, times and places.
    Cases {
        #[arg(long)]
        json: bool,
    },
    /// One case: its documents, entities, timeline and fact table.
    Case {
        id: i64,
        #[arg(long)]
        json: bool,
    },
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
        #[arg(long)]
        json: bool,
    },
    /// Serve TAXII 2.1 to partners.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// The node's signing key.
    Key {
        #[command(subcommand)]
        action: KeyCmd,
    },
    /// Verify the signatures of a STIX bundle released by a node.
    Verify {
        bundle: PathBuf,
        /// The releasing node's public key (`ed25519:...`, from `tearline key export`).
        #[arg(long)]
        key: String,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditCmd,
    },
    /// Measure parse + release + leak check throughput against a naive baseline.
    Bench(bench::BenchArgs),
    /// Measure extraction throughput on one core (used by bench/extract.py).
    BenchExtract(bench::ExtractBenchArgs),
    /// Measure linking a new document into a store of many (default 1,000,000).
    BenchFuse(bench::FuseBenchArgs),
    /// Measure a TAXII 2.1 server: POST then GET a collection (used by bench/taxii.py).
    BenchTaxii(bench::TaxiiBenchArgs),
}

#[derive(Subcommand)]
enum AudienceCmd {
    /// Add an audience.
    Add {
        name: String,
        /// The highest TLP level it may receive, e.g. AMBER.
        #[arg(long)]
        max: String,
        /// It may see sources and methods (the node's own staff).
        #[arg(long)]
        sources: bool,
    },
    /// List audiences.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove an audience.
    Remove { name: String },
}

#[derive(Subcommand)]
enum ProtectCmd {
    /// Register a protected term.
    Add {
        term: String,
        #[arg(long, value_parser = ["source", "method", "asset", "case"])]
        kind: String,
    },
    /// Register every term in a file of `kind<TAB>term` lines (`#` starts a comment).
    Import { file: PathBuf },
    /// List protected terms.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a protected term.
    Remove { term: String },
}

#[derive(Subcommand)]
enum PartnerCmd {
    /// Add a partner bound to an audience; prints its credentials once.
    Add {
        name: String,
        #[arg(long)]
        audience: String,
    },
    /// List partners.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a partner; its credentials stop working at once.
    Remove { name: String },
    /// Replace a partner's password and token; prints the new ones once.
    Rotate { name: String },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user; prints a new password once unless --password-stdin.
    Add {
        name: String,
        /// analyst (writes; releases to internal), releaser (releases
        /// anywhere, decides warnings) or admin (audit log, users).
        #[arg(long)]
        role: String,
        /// Read the password (one line, at least 12 characters) from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users and roles.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Set a new password (and optionally a new role); open sessions end.
    Passwd {
        name: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user; their sessions end at their next request.
    Remove { name: String },
}

#[derive(Subcommand)]
enum WarningCmd {
    /// Close a warning with its outcome.
    Close {
        id: i64,
        /// confirmed, not-confirmed, event-occurred or superseded.
        #[arg(long)]
        outcome: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Extend a warning's validity window.
    Extend {
        id: i64,
        /// The new end of the window (RFC 3339).
        #[arg(long)]
        until: String,
    },
}

#[derive(Subcommand)]
enum RemoteCmd {
    /// Add a remote.
    Add {
        name: String,
        /// Its URL, e.g. http://127.0.0.1:8080
        url: String,
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        token: Option<String>,
        /// Its public key: every object pulled must carry a valid signature.
        #[arg(long)]
        key: Option<String>,
        /// A collection to pull (repeatable; default: every collection we may read but not write).
        #[arg(long = "collection", value_name = "ID")]
        collections: Vec<String>,
    },
    /// List remotes.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a remote.
    Remove { name: String },
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Print the node's public key.
    Export,
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Verify the hash chain and the release records.
    Verify,
    /// Print the audit log.
    Log {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Format {
    Md,
    Json,
    Stix,
}

impl Format {
    /// The name recorded with a release.
    pub fn name(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Json => "json",
            Format::Stix => "stix",
        }
    }
}

fn main() -> ExitCode {
    // Output piped into `head` ends quietly, as in other command-line tools,
    // instead of failing on a closed pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any other
    // thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(exit::code_of(&e))
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let home = || node::locate(cli.node.as_deref());
    let open = || node::Node::open(&home());
    match cli.command {
        Command::Init { dir, name } => commands::init(&dir.unwrap_or_else(home), &name),
        Command::Audience { action } => match action {
            AudienceCmd::Add { name, max, sources } => {
                commands::audience_add(&mut open()?, &name, &max, sources)
            }
            AudienceCmd::List { json } => commands::audience_list(&open()?, json),
            AudienceCmd::Remove { name } => commands::audience_remove(&mut open()?, &name),
        },
        Command::Protect { action } => match action {
            ProtectCmd::Add { term, kind } => commands::protect_add(&mut open()?, &term, &kind),
            ProtectCmd::Import { file } => commands::protect_import(&mut open()?, &file),
            ProtectCmd::List { json } => commands::protect_list(&open()?, json),
            ProtectCmd::Remove { term } => commands::protect_remove(&mut open()?, &term),
        },
        Command::Check { report, json } => reports::check(&mut open()?, &report, json),
        Command::Key {
            action: KeyCmd::Export,
        } => {
            let key = open()?.signing_key()?;
            println!("{}", tearline_stix::export_key(&key.verifying_key()));
            Ok(0)
        }
        Command::Verify { bundle, key } => reports::verify(&bundle, &key),
        Command::Release { report, to, format, output, supersedes } => {
            reports::release(&mut open()?, &report, &to, format, output.as_deref(), supersedes)
        }
        Command::Warnings { json } => warnings::list(&mut open()?, json),
        Command::Warning { id, json, action } => match (id, action) {
            (_, Some(WarningCmd::Close { id, outcome, note })) => warnings::close(&mut open()?, id, &outcome, &note),
            (_, Some(WarningCmd::Extend { id, until })) => warnings::extend(&mut open()?, id, &until),
            (Some(id), None) => warnings::show(&mut open()?, id, json),
            (None, None) => Err(exit::coded(
                exit::BAD_INPUT,
                "give a warning number, e.g. `tearline warning 3`, or `tearline warnings` for the list",
            )),
        },
        Command::Partner { action } => match action {
            PartnerCmd::Add { name, audience } => partners::add(&mut open()?, &name, &audience),
            PartnerCmd::List { json } => partners::list(&open()?, json),
            PartnerCmd::Remove { name } => partners::remove(&mut open()?, &name),
            PartnerCmd::Rotate { name } => partners::rotate(&mut open()?, &name),
        },
        Command::Serve { listen } => partners::serve(open()?, open()?, &listen),
        Command::User { action } => match action {
            UserCmd::Add { name, role, password_stdin } => {
                workbench::auth::add(&mut open()?, &name, &role, password_stdin)
            }
            UserCmd::List { json } => workbench::auth::list(&open()?, json),
            UserCmd::Passwd { name, role, password_stdin } => {
                workbench::auth::passwd(&mut open()?, &name, role.as_deref(), password_stdin)
            }
            UserCmd::Remove { name } => workbench::auth::remove(&mut open()?, &name),
        },
        Command::Remote { action } => match action {
            RemoteCmd::Add { name, url, user, password, token, key, collections } => {
                remotes::add(&mut open()?, &name, &url, user, password, token, key, collections)
            }
            RemoteCmd::List { json } => remotes::list(&open()?, json),
            RemoteCmd::Remove { name } => remotes::remove(&mut open()?, &name),
        },
        Command::Sync { name } => remotes::sync(&mut open()?, &name),
        Command::Respond { remote, report, kind, text } => remotes::respond(&mut open()?, &remote, &report, &kind, &text),
        Command::Received { remote, json } => remotes::received(&open()?, &remote, json),
        Command::Audit { action } => match action {
            AuditCmd::Verify => commands::audit_verify(&open()?),
            AuditCmd::Log { json } => commands::audit_log(&open()?, json),
        },
        Command::Extract { file, published, lang, json } => {
            reading::extract_cmd(&file, published.as_deref(), lang.as_deref(), json)
        }
        Command::Ingest { paths, published } => reading::ingest(&mut open()?, &paths, published.as_deref()),
        Command::Cases { json } => reading::cases(&open()?, json),
        Command::Related { draft, json } => reading::related(&mut open()?, &draft, json),
        Command::Case { id, json } => reading::case(&open()?, id, json),
        Command::Eval { dir, check, misses, json } => eval::run(&dir, check.as_deref(), json, misses),
        Command::Bench(args) => bench::run(&args),
        Command::BenchTaxii(args) => bench::taxii(&args),
        Command::BenchExtract(args) => bench::extract(&args),
        Command::BenchFuse(args) => bench::fuse(&args),
    }
}
