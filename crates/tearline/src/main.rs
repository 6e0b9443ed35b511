//! The `tearline` command: a node's command-line interface.
//!
//! A front end over the service layer (`tearline_node`): each command
//! parses its arguments, calls one service function as the node's operator
//! and prints the view it returns. Every command finds its node from
//! `--node DIR`, else `TEARLINE_HOME`, else the current directory. Errors
//! are printed as `error: ...` with their cause chain, after any finding
//! lines; the exit code is derived from the error's kind
//! (`tearline_node::Code::exit`, see the README).

mod admin;
mod out;
mod reading;
mod received;
mod releases;
mod serve;
mod warnings;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tearline_node::{Caller, Clock, Node};

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

/// `tearline cases ...`.
#[derive(Subcommand)]
enum CasesCmd {
    /// Recompute every case from the stored extractions, in a fixed order
    /// (the result depends only on what is stored).
    Rebuild {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Create a node: settings, embedded store, signing key, audit log.
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
    /// Write one audience's release of a report (leak-checked, recorded, delivered).
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
    /// Releases waiting for a second person under the two-person rule.
    Request {
        #[command(subcommand)]
        action: RequestCmd,
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
    /// Warnings received from partners, by state (`tearline received`), or act on one.
    #[command(args_conflicts_with_subcommands = true)]
    Received {
        /// Only warnings received from this remote.
        remote: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: Option<ReceivedCmd>,
    },
    /// Send pending notifications (webhooks, email) now; `serve` does this by itself.
    Notify,
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
        #[command(subcommand)]
        action: Option<CasesCmd>,
        #[arg(long)]
        json: bool,
    },
    /// One case: its documents, entities, timeline and fact table.
    Case {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Serve TAXII 2.1 to partners and the workbench (under /ui) to users.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Serve HTTPS with this certificate chain (PEM, the server's own
        /// certificate first); with --tls-key. Default: [exchange] tls_cert.
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key (PEM) of --tls-cert.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Ask clients for a certificate, verified against this CA (PEM);
        /// partners bound to a certificate must present theirs. Default:
        /// [exchange] tls_client_ca.
        #[arg(long, value_name = "FILE")]
        tls_client_ca: Option<PathBuf>,
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
    /// Change an audience's highest level (and whether it sees sources);
    /// holds at once for what was released to it before.
    Set {
        name: String,
        #[arg(long)]
        max: String,
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
enum RequestCmd {
    /// List release requests.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Approve another person's request: the release happens now, under your name.
    Approve {
        id: i64,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long, value_enum, default_value_t = Format::Md)]
        format: Format,
        /// Write the release to FILE instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Reject another person's request; nothing is released.
    Reject {
        id: i64,
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Subcommand)]
enum PartnerCmd {
    /// Add a partner bound to an audience; prints its credentials once.
    Add {
        name: String,
        #[arg(long)]
        audience: String,
        /// The audience sees sources and methods (e.g. `internal`): the
        /// partner will receive releases that name them. Required for such
        /// an audience.
        #[arg(long)]
        with_sources: bool,
        /// Bind it to a TLS client certificate, by its SHA-256 fingerprint
        /// (`openssl x509 -noout -fingerprint -sha256 -in CERT`): its
        /// requests need that certificate and its password or token.
        #[arg(long, value_name = "SHA256", conflicts_with = "client_cert")]
        client_cert_fingerprint: Option<String>,
        /// Bind it to the TLS client certificate in this PEM file.
        #[arg(long, value_name = "FILE")]
        client_cert: Option<PathBuf>,
    },
    /// Bind a partner to a TLS client certificate, or --clear the binding;
    /// holds from its next request.
    #[command(group(clap::ArgGroup::new("binding").required(true).args(["fingerprint", "client_cert", "clear"])))]
    Cert {
        name: String,
        /// The certificate's SHA-256 fingerprint (hex, colons allowed).
        #[arg(long, value_name = "SHA256")]
        fingerprint: Option<String>,
        /// The certificate itself (PEM file).
        #[arg(long, value_name = "FILE")]
        client_cert: Option<PathBuf>,
        /// Remove the binding: its password or token alone suffice again.
        #[arg(long)]
        clear: bool,
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
    /// Withdraw a warning: closed as withdrawn; partners get its report revoked.
    Withdraw {
        id: i64,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Re-issue a warning from an updated report, to the same audience.
    Reissue {
        id: i64,
        /// The updated report.
        report: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Md)]
        format: Format,
        /// Write to FILE instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the source of the report a warning released (to edit for a re-issue).
    Source { id: i64 },
}

#[derive(Subcommand)]
enum ReceivedCmd {
    /// One received warning: the sender's and this node's events.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge it (the sender is told at the next sync).
    Acknowledge {
        id: i64,
        #[arg(long, default_value = "")]
        text: String,
    },
    /// Record the measures put in force.
    Measures {
        id: i64,
        #[arg(long)]
        text: String,
    },
    /// Keep the measures until a new review date.
    Keep {
        id: i64,
        /// The new review date (RFC 3339).
        #[arg(long)]
        until: String,
        #[arg(long, default_value = "")]
        text: String,
    },
    /// Lift the measures, with a reason (closes it).
    Lift {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Close it: measures-lifted, event-occurred, ended (no measures) or withdrawn (after the sender withdrew it).
    Close {
        id: i64,
        #[arg(long)]
        outcome: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Judge its specificity: which of who/what/where/when/how say enough to act, and what more is needed.
    Judge {
        id: i64,
        /// Dimensions that say enough, comma-separated (e.g. `who,when`).
        #[arg(long, value_delimiter = ',')]
        enough: Vec<String>,
        /// A dimension that needs more, and what: `where=which venues` (repeatable).
        #[arg(long, value_name = "DIMENSION=WHAT")]
        need: Vec<String>,
    },
    /// Every report received from a remote, warning or not.
    Reports {
        remote: String,
        #[arg(long)]
        json: bool,
    },
}

// Parsed once per run: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum RemoteCmd {
    /// Add a remote.
    Add {
        name: String,
        /// Its URL, e.g. http://127.0.0.1:8080
        url: String,
        #[arg(long)]
        user: Option<String>,
        /// Generated secrets may start with `-`: taken as they are.
        #[arg(long, allow_hyphen_values = true)]
        password: Option<String>,
        #[arg(long, allow_hyphen_values = true)]
        token: Option<String>,
        /// Its public key: every object pulled must carry a valid signature.
        #[arg(long)]
        key: Option<String>,
        /// A collection to pull (repeatable; default: every collection we may read but not write).
        #[arg(long = "collection", value_name = "ID")]
        collections: Vec<String>,
        /// Trust this CA (PEM) for its HTTPS certificate, instead of the
        /// public roots.
        #[arg(long, value_name = "FILE")]
        ca: Option<PathBuf>,
        /// Present this TLS client certificate (PEM) to it; with --client-key.
        #[arg(long, value_name = "FILE", requires = "client_key")]
        client_cert: Option<PathBuf>,
        /// The private key (PEM) of --client-cert; kept in the node's store.
        #[arg(long, value_name = "FILE", requires = "client_cert")]
        client_key: Option<PathBuf>,
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

/// The formats of `--format`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum Format {
    /// Markdown with markings.
    Md,
    /// Tearline's JSON.
    Json,
    /// A signed STIX 2.1 bundle.
    Stix,
    /// A MISP core-format event.
    Misp,
}

impl From<Format> for tearline_node::reports::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Md => tearline_node::reports::Format::Md,
            Format::Json => tearline_node::reports::Format::Json,
            Format::Stix => tearline_node::reports::Format::Stix,
            Format::Misp => tearline_node::reports::Format::Misp,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Output piped into `head` ends quietly, as in other command-line tools,
    // instead of failing on a closed pipe. A server keeps running when
    // whoever read its log goes away.
    #[cfg(unix)]
    if !matches!(cli.command, Command::Serve { .. }) {
        // SAFETY: restoring the default disposition of SIGPIPE before any
        // other thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => ExitCode::from(out::error(&e)),
    }
}

/// Where to look for the node: `--node`, else `TEARLINE_HOME`, else the
/// current directory.
fn locate(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    match std::env::var_os("TEARLINE_HOME") {
        Some(h) if !h.is_empty() => PathBuf::from(h),
        _ => PathBuf::from("."),
    }
}

/// Who runs the command: `TEARLINE_ACTOR`, else the login name. The
/// command line acts as the node's operator.
fn caller() -> Caller {
    let name = ["TEARLINE_ACTOR", "USER", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_string());
    Caller::operator(&name)
}

/// The clock: `TEARLINE_NOW` (RFC 3339) fixes it, for reproducible output
/// and tests.
fn clock() -> anyhow::Result<Clock> {
    match std::env::var("TEARLINE_NOW") {
        Ok(s) if !s.is_empty() => {
            let t = chrono::DateTime::parse_from_rfc3339(&s).map_err(|e| {
                tearline_node::Error::bad(format!(
                    "TEARLINE_NOW `{s}` is not an RFC 3339 timestamp: {e}"
                ))
            })?;
            Ok(tearline_node::fixed_clock(t.with_timezone(&chrono::Utc)))
        }
        _ => Ok(tearline_node::system_clock()),
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let home = || locate(cli.node.as_deref());
    let open = || -> anyhow::Result<Node> { Ok(Node::open(&home(), clock()?)?) };
    let me = caller();
    match cli.command {
        Command::Init { dir, name } => admin::init(&dir.unwrap_or_else(home), &name, &me, clock()?),
        Command::Audience { action } => {
            let n = open()?;
            match action {
                AudienceCmd::Add { name, max, sources } => admin::audience_add(&n, &me, &name, &max, sources),
                AudienceCmd::Set { name, max, sources } => admin::audience_set(&n, &me, &name, &max, sources),
                AudienceCmd::List { json } => admin::audience_list(&n, json),
                AudienceCmd::Remove { name } => admin::audience_remove(&n, &me, &name),
            }
        }
        Command::Protect { action } => {
            let n = open()?;
            match action {
                ProtectCmd::Add { term, kind } => admin::protect_add(&n, &me, &term, &kind),
                ProtectCmd::Import { file } => admin::protect_import(&n, &me, &file),
                ProtectCmd::List { json } => admin::protect_list(&n, &me, json),
                ProtectCmd::Remove { term } => admin::protect_remove(&n, &me, &term),
            }
        }
        Command::Check { report, json } => releases::check(&open()?, &report, json),
        Command::Release { report, to, format, output, supersedes } => {
            releases::release(&open()?, &me, &report, &to, format.into(), output.as_deref(), supersedes)
        }
        Command::Request { action } => {
            let n = open()?;
            match action {
                RequestCmd::List { json } => releases::requests(&n, &me, json),
                RequestCmd::Approve { id, note, format, output } => {
                    releases::approve(&n, &me, id, &note, format.into(), output.as_deref())
                }
                RequestCmd::Reject { id, note } => releases::reject(&n, &me, id, &note),
            }
        }
        Command::Key { action: KeyCmd::Export } => {
            println!("{}", open()?.public_key());
            Ok(0)
        }
        Command::Verify { bundle, key } => releases::verify(&bundle, &key),
        Command::Warnings { json } => warnings::list(&open()?, &me, json),
        Command::Warning { id, json, action } => match (id, action) {
            (_, Some(WarningCmd::Close { id, outcome, note })) => warnings::close(&open()?, &me, id, &outcome, &note),
            (_, Some(WarningCmd::Extend { id, until })) => warnings::extend(&open()?, &me, id, &until),
            (_, Some(WarningCmd::Withdraw { id, note })) => warnings::withdraw(&open()?, &me, id, &note),
            (_, Some(WarningCmd::Reissue { id, report, format, output })) => {
                warnings::reissue(&open()?, &me, id, &report, format.into(), output.as_deref())
            }
            (_, Some(WarningCmd::Source { id })) => warnings::source(&open()?, &me, id),
            (Some(id), None) => warnings::show(&open()?, &me, id, json),
            (None, None) => Err(tearline_node::Error::bad(
                "give a warning number, e.g. `tearline warning 3`, or `tearline warnings` for the list",
            )
            .into()),
        },
        Command::Partner { action } => {
            let n = open()?;
            match action {
                PartnerCmd::Add {
                    name,
                    audience,
                    with_sources,
                    client_cert_fingerprint,
                    client_cert,
                } => {
                    let cert = admin::client_cert(client_cert_fingerprint, client_cert);
                    admin::partner_add(&n, &me, &name, &audience, with_sources, cert.as_ref())
                }
                PartnerCmd::Cert { name, fingerprint, client_cert, clear: _ } => {
                    let cert = admin::client_cert(fingerprint, client_cert);
                    admin::partner_cert(&n, &me, &name, cert.as_ref())
                }
                PartnerCmd::List { json } => admin::partner_list(&n, &me, json),
                PartnerCmd::Remove { name } => admin::partner_remove(&n, &me, &name),
                PartnerCmd::Rotate { name } => admin::partner_rotate(&n, &me, &name),
            }
        }
        Command::Serve { listen, tls_cert, tls_key, tls_client_ca } => {
            let flags = tearline_node::TlsFlags { cert: tls_cert, key: tls_key, client_ca: tls_client_ca };
            serve::serve(open()?, &listen, &flags)
        }
        Command::User { action } => {
            let n = open()?;
            match action {
                UserCmd::Add { name, role, password_stdin } => admin::user_add(&n, &me, &name, &role, password_stdin),
                UserCmd::List { json } => admin::user_list(&n, &me, json),
                UserCmd::Passwd { name, role, password_stdin } => {
                    admin::user_passwd(&n, &me, &name, role.as_deref(), password_stdin)
                }
                UserCmd::Remove { name } => admin::user_remove(&n, &me, &name),
            }
        }
        Command::Remote { action } => {
            let n = open()?;
            match action {
                RemoteCmd::Add { name, url, user, password, token, key, collections, ca, client_cert, client_key } => {
                    let input = tearline_node::remotes::RemoteInput {
                        name, url, user, password, token, key, collections, ca, client_cert, client_key,
                    };
                    admin::remote_add(&n, &me, &input)
                }
                RemoteCmd::List { json } => admin::remote_list(&n, &me, json),
                RemoteCmd::Remove { name } => admin::remote_remove(&n, &me, &name),
            }
        }
        Command::Sync { name } => reading::sync(&open()?, &me, &name),
        Command::Respond { remote, report, kind, text } => {
            reading::respond(&open()?, &me, &remote, &report, &kind, &text)
        }
        Command::Received { remote, json, action } => {
            let n = open()?;
            match action {
                None => received::list(&n, &me, remote.as_deref(), json),
                Some(ReceivedCmd::Show { id, json }) => received::show(&n, &me, id, json),
                Some(ReceivedCmd::Reports { remote, json }) => reading::received(&n, &me, &remote, json),
                Some(act) => received::act(&n, &me, act),
            }
        }
        Command::Notify => admin::notify(&open()?, &me),
        Command::Audit { action } => {
            let n = open()?;
            match action {
                AuditCmd::Verify => admin::audit_verify(&n, &me),
                AuditCmd::Log { json } => admin::audit_log(&n, &me, json),
            }
        }
        Command::Extract { file, published, lang, json } => {
            reading::extract(&file, published.as_deref(), lang.as_deref(), json)
        }
        Command::Ingest { paths, published } => reading::ingest(&open()?, &me, &paths, published.as_deref()),
        Command::Cases {
            action: Some(CasesCmd::Rebuild { json }),
            ..
        } => reading::rebuild_cases(&open()?, &me, json),
        Command::Cases { action: None, json } => reading::cases(&open()?, json),
        Command::Related { draft, json } => reading::related(&open()?, &draft, json),
        Command::Case { id, json } => reading::case(&open()?, id, json),
    }
}
