//! The `mailcfg` command line: the same engine as the window, for scripts and tests.
//! Exit codes: 0 all good, 1 a check or sign-in failed, 2 bad input (arguments, profile).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod probe_cmd;

use crate::oauth::{FlowEvent, TokenSource};
use crate::profile::{self, Finding, Profile, Severity};

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;

/// The export formats, a contract with scripts that call `mailcfg export`.
pub const EXPORT_FORMATS: &[&str] = &[
    "toml",
    "json",
    "thunderbird",
    "cerb",
    "ce",
    "um",
    "powershell",
    "env",
];

#[derive(Debug, Parser)]
#[command(
    name = "mailcfg",
    version,
    about = "Set up, test and export OAuth2 (XOAUTH2) mail accounts. Without a subcommand, opens the window."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub window: WindowArgs,
}

/// Options of the window (no subcommand).
#[derive(Debug, Clone, Default, Args)]
pub struct WindowArgs {
    /// Open this profile instead of the Microsoft 365 starting point.
    #[arg(long, value_name = "PROFILE")]
    pub open: Option<PathBuf>,
    /// Sign in and test every mailbox and transport as soon as the window opens.
    #[arg(long)]
    pub test_all: bool,
    /// Show this item first: account:NAME, transport:NAME, mailbox:NAME or settings (screenshots).
    #[arg(long, hide = true, value_name = "ITEM")]
    pub select: Option<String>,
    /// Close the window after this many frames (screenshots and smoke tests).
    #[arg(long, hide = true, value_name = "N")]
    pub exit_after_frames: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a profile file: syntax, keys, values and how the parts fit together.
    Validate {
        /// The profile (.toml, or .json).
        profile: PathBuf,
        /// One JSON object per finding, one per line.
        #[arg(long)]
        json: bool,
    },
    /// Sign in with a connected account and explain the token it gets.
    Token {
        #[arg(long)]
        profile: PathBuf,
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
        /// Print the access token itself to stdout (and nothing else).
        #[arg(long)]
        show_token: bool,
    },
    /// Test mailboxes and transports step by step.
    Test {
        #[arg(long)]
        profile: PathBuf,
        /// Test this mailbox (repeatable); without --mailbox and --transport, test everything.
        #[arg(long = "mailbox", value_name = "NAME")]
        mailboxes: Vec<String>,
        /// Test this transport (repeatable).
        #[arg(long = "transport", value_name = "NAME")]
        transports: Vec<String>,
        /// Send a short test message to this address through the transports.
        #[arg(long, value_name = "ADDR")]
        send_to: Option<String>,
        #[arg(long)]
        json: bool,
        /// Mailboxes tested at once (default: the profile's probe.concurrency).
        #[arg(long, value_name = "N")]
        concurrency: Option<u32>,
    },
    /// Write the profile's settings in another system's format.
    Export {
        #[arg(long)]
        profile: PathBuf,
        /// One of: toml, json, thunderbird, cerb, ce, um, powershell, env.
        #[arg(long)]
        format: String,
        /// Write here (atomically, mode 0600) instead of to stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Store an account's client secret in the OS keyring. The secret is read from standard input,
    /// never from the command line, where the shell history and other users could see it.
    Secret {
        #[arg(long)]
        profile: PathBuf,
        #[arg(long)]
        account: String,
        /// Remove the account's stored client secret and refresh token (sign out) instead.
        #[arg(long)]
        delete: bool,
    },
}

pub fn run(command: Command) -> ExitCode {
    ExitCode::from(match command {
        Command::Validate { profile, json } => validate(&profile, json),
        Command::Token {
            profile,
            account,
            json,
            show_token,
        } => token(&profile, &account, json, show_token),
        Command::Test {
            profile,
            mailboxes,
            transports,
            send_to,
            json,
            concurrency,
        } => test(
            &profile,
            &TestArgs {
                mailboxes,
                transports,
                send_to,
                json,
                concurrency,
            },
        ),
        Command::Export {
            profile,
            format,
            output,
        } => export(&profile, &format, output.as_deref()),
        Command::Secret {
            profile,
            account,
            delete,
        } => secret(&profile, &account, delete),
    })
}

fn validate(path: &Path, json: bool) -> u8 {
    let (findings, code, summary) = match profile::load(path) {
        Ok((p, warnings)) => {
            let count = |n: usize, what: &str| format!("{n} {what}{}", plural(n));
            let mut parts = vec![
                count(p.accounts.len(), "account"),
                count(p.transports.len(), "transport"),
                count(p.mailboxes.len(), "mailbox"),
            ];
            if !warnings.is_empty() {
                parts.push(count(warnings.len(), "warning"));
            }
            let summary = format!("{}: valid ({})", path.display(), parts.join(", "))
                .replace("mailboxs", "mailboxes");
            (warnings, EXIT_OK, summary)
        }
        Err(e) => {
            let errors = e
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            let summary = format!(
                "{}: invalid ({errors} error{}, {} warning{})",
                path.display(),
                plural(errors),
                e.findings.len() - errors,
                plural(e.findings.len() - errors)
            );
            (e.findings, EXIT_BAD_INPUT, summary)
        }
    };
    let mut out = std::io::stdout().lock();
    for f in &findings {
        let line = if json {
            serde_json::to_string(f).unwrap_or_default()
        } else {
            f.to_string()
        };
        let _ = writeln!(out, "{line}");
    }
    if !json {
        let _ = writeln!(out, "{summary}");
    }
    code
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Loads a profile for a command that needs a valid one; prints why not, otherwise.
fn load_or_report(path: &Path) -> Option<Profile> {
    match profile::load(path) {
        Ok((p, warnings)) => {
            print_findings(&warnings);
            Some(p)
        }
        Err(e) => {
            print_findings(&e.findings);
            None
        }
    }
}

fn print_findings(findings: &[Finding]) {
    for f in findings {
        eprintln!("{f}");
    }
}

/// The profile and one of its accounts, or the error said and `None`.
fn load_account(path: &Path, account: &str) -> Option<(Profile, crate::profile::Account)> {
    let p = load_or_report(path)?;
    let Some(acc) = p.account(account).cloned() else {
        eprintln!(
            "{}: error: no connected account named \"{account}\"",
            path.display()
        );
        eprintln!(
            "    fix: use one of: {}",
            names(p.accounts.iter().map(|a| a.name.as_str()))
        );
        return None;
    };
    Some((p, acc))
}

fn secret(path: &Path, account: &str, delete: bool) -> u8 {
    use crate::secrets::{Kind, Secrets, account_entry};
    let Some((_, acc)) = load_account(path, account) else {
        return EXIT_BAD_INPUT;
    };
    let secrets = Secrets::open();
    if !secrets.is_persistent() {
        eprintln!(
            "mailcfg secret: error: {}",
            secrets.notice().unwrap_or("no OS keyring is available")
        );
        return EXIT_FAILED;
    }
    let entry = account_entry(&acc.name);
    let value = if delete {
        None
    } else {
        let mut line = String::new();
        if let Err(e) = std::io::stdin().read_line(&mut line) {
            eprintln!("mailcfg secret: error: cannot read the secret from standard input: {e}");
            return EXIT_BAD_INPUT;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            eprintln!("mailcfg secret: error: standard input held no secret");
            eprintln!(
                "    fix: pipe the secret's Value in, e.g. `secret-tool lookup …  | mailcfg secret --profile P --account A`, or type it and press Enter"
            );
            return EXIT_BAD_INPUT;
        }
        Some(secrecy::SecretString::from(line.to_owned()))
    };
    let mut result = secrets.set(&entry, Kind::ClientSecret, value.as_ref());
    if delete && result.is_ok() {
        result = secrets.set(&entry, Kind::RefreshToken, None);
    }
    match result {
        Ok(()) if delete => {
            println!(
                "Removed the client secret and saved sign-in of account \"{}\" from the OS keyring.",
                acc.name
            );
            EXIT_OK
        }
        Ok(()) => {
            println!(
                "Stored the client secret of account \"{}\" in the OS keyring (service \"{}\", entry \"{entry}\").",
                acc.name,
                crate::secrets::SERVICE
            );
            EXIT_OK
        }
        Err(e) => {
            eprintln!("mailcfg secret: error: {e}");
            EXIT_FAILED
        }
    }
}

fn token(path: &Path, account: &str, json: bool, show_token: bool) -> u8 {
    let Some((p, acc)) = load_account(path, account) else {
        return EXIT_BAD_INPUT;
    };
    let secrets = crate::secrets::Secrets::open();
    if let Some(notice) = secrets.notice() {
        eprintln!("note: {notice}");
    }
    let source = match TokenSource::new(&p.tls, path.parent(), secrets) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mailcfg token: error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let Some(rt) = runtime() else {
        return EXIT_FAILED;
    };
    let result = rt.block_on(async {
        tokio::select! {
            r = source.token(&acc, &print_flow_event) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let token = match result {
        None => {
            eprintln!("mailcfg token: cancelled");
            return EXIT_FAILED;
        }
        Some(Err(e)) => {
            eprintln!("mailcfg token: sign-in for \"{account}\" failed:\n{e}");
            return EXIT_FAILED;
        }
        Some(Ok(t)) => t,
    };
    if show_token {
        println!("{}", crate::oauth::expose(&token));
        return EXIT_OK;
    }
    report_token(&p, &acc, &token, json)
}

/// The claims of a token and what the account's mailboxes and transports still lack.
fn report_token(
    p: &Profile,
    acc: &crate::profile::Account,
    token: &crate::oauth::AccessToken,
    json: bool,
) -> u8 {
    use crate::oauth::claims;
    let now = std::time::SystemTime::now();
    let expires = token
        .expires_at
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    let (decoded, problems) = match claims::decode(crate::oauth::expose(token)) {
        Ok(c) => {
            let problems = claims::check(
                &c,
                acc.flow,
                acc.provider,
                &claims::needs(p, &acc.name),
                now,
            );
            (Ok(c), problems)
        }
        Err(e) => (Err(e.to_string()), Vec::new()),
    };
    if json {
        let value = serde_json::json!({
            "account": acc.name,
            "expires_at": expires,
            "user": token.user,
            "claims": decoded.as_ref().ok(),
            "claims_error": decoded.as_ref().err(),
            "problems": problems,
        });
        println!("{value}");
    } else {
        println!("Signed in: account \"{}\" has an access token.", acc.name);
        match &decoded {
            Ok(c) => {
                for (label, value) in c.summary_lines(now) {
                    println!("  {label:<10} {value}");
                }
            }
            Err(e) => println!("  {e}"),
        }
        for pr in &problems {
            println!("problem: {}\n    fix: {}", pr.title, pr.fix);
        }
        if problems.is_empty() && decoded.is_ok() {
            println!("The token carries what this profile's mailboxes and transports need.");
        }
    }
    if problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

fn print_flow_event(e: FlowEvent) {
    match e {
        FlowEvent::Browser { url, opened } => {
            match opened {
                Ok(()) => eprintln!(
                    "Opened the sign-in page in your browser. If it did not appear, open this address:"
                ),
                Err(why) => {
                    eprintln!("Could not open a browser: {why}. Open this address to sign in:");
                }
            }
            eprintln!("  {url}");
            eprintln!("Waiting for the sign-in to finish (Ctrl+C cancels)…");
        }
        FlowEvent::Exchanging => eprintln!("Signed in in the browser; getting the tokens…"),
        FlowEvent::DeviceCode {
            user_code,
            verification_uri,
            expires_in_secs,
        } => {
            eprintln!("To sign in, open {verification_uri} on any device and enter the code:");
            eprintln!("  {user_code}");
            eprintln!(
                "(the code expires in {} min; Ctrl+C cancels)",
                expires_in_secs.div_ceil(60)
            );
        }
        FlowEvent::Cached | FlowEvent::Refreshed => {}
    }
}

/// The command line's runtime: one thread. The work is waiting on the network, and the little
/// CPU it needs (TLS handshakes: about half a millisecond each) does not gain from a second
/// worker, whose wake-ups cost more CPU than they save (BENCHMARKS.md, section 4).
fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("mailcfg: error: cannot start the network runtime: {e}");
            None
        }
    }
}

/// What `mailcfg test` was asked to do.
struct TestArgs {
    mailboxes: Vec<String>,
    transports: Vec<String>,
    send_to: Option<String>,
    json: bool,
    concurrency: Option<u32>,
}

fn test(path: &Path, args: &TestArgs) -> u8 {
    let (mailboxes, transports) = (&args.mailboxes, &args.transports);
    let Some(p) = load_or_report(path) else {
        return EXIT_BAD_INPUT;
    };
    let unknown = |wanted: &[String], have: Vec<&str>, kind: &str| -> bool {
        let missing: Vec<&String> = wanted
            .iter()
            .filter(|w| !have.contains(&w.as_str()))
            .collect();
        for m in &missing {
            eprintln!("{}: error: no {kind} named \"{m}\"", path.display());
            eprintln!("    fix: use one of: {}", names(have.iter().copied()));
        }
        !missing.is_empty()
    };
    let bad_mailbox = unknown(
        mailboxes,
        p.mailboxes.iter().map(|m| m.name.as_str()).collect(),
        "mailbox",
    );
    let bad_transport = unknown(
        transports,
        p.transports.iter().map(|t| t.name.as_str()).collect(),
        "transport",
    );
    if bad_mailbox || bad_transport {
        return EXIT_BAD_INPUT;
    }
    probe_cmd::run(path, &p, &args.selection())
}

impl TestArgs {
    fn selection(&self) -> probe_cmd::Selection {
        probe_cmd::Selection {
            mailboxes: self.mailboxes.clone(),
            transports: self.transports.clone(),
            send_to: self.send_to.clone(),
            json: self.json,
            concurrency: self.concurrency,
        }
    }
}

fn export(path: &Path, format: &str, output: Option<&Path>) -> u8 {
    use crate::export::{ExportError, ExportFormat, ExportOptions};
    let Ok(format) = format.parse::<ExportFormat>() else {
        eprintln!("mailcfg export: error: unknown format \"{format}\"");
        eprintln!("    fix: use one of: {}", ExportFormat::names());
        return EXIT_BAD_INPUT;
    };
    let Some(p) = load_or_report(path) else {
        return EXIT_BAD_INPUT;
    };
    // The command line never includes secrets (there is no flag for it): the window's "include
    // secrets" passes them in `opts.secrets`, and then the file is private and the user warned.
    // A sheet saved as .html is the printable page; everything else is as the format says.
    let is_html = |o: &Path| {
        o.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
    };
    let opts = ExportOptions {
        secrets: None,
        html: format.is_sheet() && output.is_some_and(is_html),
    };
    let text = match crate::export::export(&p, format, &opts) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}: error: {e}", path.display());
            eprintln!("    fix: {}", e.fix());
            return match e {
                ExportError::NotApplicable { .. } => EXIT_BAD_INPUT,
                ExportError::Encode { .. } => EXIT_FAILED,
            };
        }
    };
    let secret = opts.includes_secrets(format);
    match output {
        None => {
            if secret {
                eprintln!(
                    "mailcfg export: warning: this export contains secrets; do not keep it in a shared place"
                );
            }
            print!("{text}");
            EXIT_OK
        }
        // write_atomic creates the file 0600 in every case, which secrets need.
        Some(out) => match profile::write_atomic(out, text.as_bytes()) {
            Ok(()) => {
                if secret {
                    eprintln!(
                        "{}: warning: this file contains secrets; it is readable by you alone (0600). Delete it once the values are entered",
                        out.display()
                    );
                }
                EXIT_OK
            }
            Err(e) => {
                eprintln!("{}: error: cannot write the export: {e}", out.display());
                eprintln!("    fix: choose a folder you can write to");
                EXIT_FAILED
            }
        },
    }
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<String> = it.map(|n| format!("\"{n}\"")).collect();
    if all.is_empty() {
        "(none in this profile)".to_owned()
    } else {
        all.join(", ")
    }
}
