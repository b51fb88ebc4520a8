//! The `mailcfg` command line: the same engine as the window, for scripts and tests.
//! Exit codes: 0 all good, 1 a check or sign-in failed, 2 bad input (arguments, profile).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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
            ..
        } => test(&profile, &mailboxes, &transports),
        Command::Export {
            profile,
            format,
            output,
        } => export(&profile, &format, output.as_deref()),
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

fn token(path: &Path, account: &str, _json: bool, _show_token: bool) -> u8 {
    let Some(p) = load_or_report(path) else {
        return EXIT_BAD_INPUT;
    };
    if p.account(account).is_none() {
        eprintln!(
            "{}: error: no connected account named \"{account}\"",
            path.display()
        );
        eprintln!(
            "    fix: use one of: {}",
            names(p.accounts.iter().map(|a| a.name.as_str()))
        );
        return EXIT_BAD_INPUT;
    }
    not_yet(
        "token",
        "signing in (delegated, app-only and device code) is not available in this version yet",
    )
}

fn test(path: &Path, mailboxes: &[String], transports: &[String]) -> u8 {
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
    not_yet(
        "test",
        "connection tests are not available in this version yet",
    )
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

fn not_yet(command: &str, what: &str) -> u8 {
    eprintln!("mailcfg {command}: {what}. The profile itself was checked and is valid.");
    EXIT_FAILED
}
