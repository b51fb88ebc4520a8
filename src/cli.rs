//! The `mailcfg` command line: the same engine as the window, for scripts and tests.
//! Exit codes: 0 all good, 1 a check or sign-in failed (or discovery found nothing), 2 bad input
//! (arguments, profile, address), 130 cancelled with Ctrl+C, 141 stdout's reader went away.
//! Every line goes through [`output`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod check_cmd;
mod discover_cmd;
pub mod output;
mod probe_cmd;
mod secret_cmd;
mod setup_result;

pub use discover_cmd::DiscoverArgs;
use output::{say, tell};

use crate::oauth::{FlowEvent, TokenSource};
use crate::profile::{self, Finding, Profile, Severity};

pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;
/// Cancelled by Ctrl+C (SIGINT): 128 + 2, as shells report it.
pub const EXIT_CANCELLED: u8 = 130;

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
    "setup",
];

/// `mailcfg --help`'s closing sections; the man pages (xtask/src/main.rs) render each
/// `Heading:` paragraph of an `after_long_help` as a section of their own.
const AFTER_LONG_HELP: &str = "\
Exit status:
  0    all good
  1    a test or sign-in failed, the output could not be written, or discovery found nothing
  2    bad input: an argument, the profile or the address (the message names the field)
  130  cancelled with Ctrl+C
  141  the reader of the output went away (as with `| head`)
  `mailcfg check` follows the Monitoring Plugins contract instead: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

Environment:
  MAILCFG_CLIENT_SECRET        an app-only account's client secret, instead of the OS keyring's
  MAILCFG_SERVICE_ACCOUNT_KEY  the path of a Google service account's JSON key, instead of the
                               key that the OS keyring keeps
  CREDENTIALS_DIRECTORY        systemd's credentials folder: its file mailcfg-client-secret is the
                               client secret (LoadCredential=mailcfg-client-secret:FILE in the unit)
  BROWSER                      the browser that delegated sign-in opens, instead of the system's

Files:
  A profile is a TOML file (JSON with the same shape when it ends in .json), written atomically with
  mode 0600. Secrets are never in it: client secrets, passwords and refresh tokens live in the OS
  keyring (Secret Service on Linux), service \"mailcfg\". The window keeps the last profile's path and
  a draft of unsaved changes in ~/.config/mailcfg ($XDG_CONFIG_HOME/mailcfg). The Debian package puts
  example profiles, a systemd timer and monitoring samples in /usr/share/doc/mailcfg/examples.

See also:
  mailcfg help COMMAND, or man mailcfg-COMMAND, for each command.";

/// Set up, test and export mail accounts that sign in with OAuth2 (XOAUTH2, OAUTHBEARER)
///
/// Without a command, mailcfg opens its window: connected accounts, SMTP transports and mailboxes
/// with their forms, sign-in with the token explained, the connection test step by step with a
/// diagnosis of each failure, and the exports. The commands do the same headless, for scripts
/// and monitoring. Microsoft 365 first; Gmail and any standards-following provider too.
#[derive(Debug, Parser)]
#[command(
    name = "mailcfg",
    version = env!("MAILCFG_VERSION"),
    after_help = "Exit status: 0 all good, 1 a test or sign-in failed, 2 bad input, 130 cancelled.\n\
                  More: mailcfg help COMMAND, mailcfg --help, man mailcfg.",
    after_long_help = AFTER_LONG_HELP
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
    /// Show this item first: account:NAME, transport:NAME, mailbox:NAME, setup:NAME (the account
    /// with "Set it up for me…" open) or settings (screenshots).
    #[arg(long, hide = true, value_name = "ITEM")]
    pub select: Option<String>,
    /// Close the window after this many frames (screenshots and smoke tests).
    #[arg(long, hide = true, value_name = "N")]
    pub exit_after_frames: Option<u64>,
    /// Light or dark, over the window's saved setting (screenshots).
    #[arg(long, hide = true, value_name = "THEME", value_parser = theme)]
    pub theme: Option<crate::ui::Theme>,
}

fn theme(s: &str) -> Result<crate::ui::Theme, String> {
    match s {
        "light" => Ok(crate::ui::Theme::Light),
        "dark" => Ok(crate::ui::Theme::Dark),
        "system" => Ok(crate::ui::Theme::System),
        _ => Err("expected light, dark or system".into()),
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a profile file: syntax, keys, values and how the parts fit together
    ///
    /// Every finding names the file, the line, the key and the fix. Secrets in the file are
    /// refused. Exits 0 when the profile is valid (warnings are printed, but pass), 2 when not.
    #[command(
        after_help = "Example:\n  mailcfg validate /usr/share/doc/mailcfg/examples/microsoft365-app-only.toml"
    )]
    Validate {
        /// The profile (.toml, or .json).
        profile: PathBuf,
        /// One JSON object per finding, one per line (and no summary line).
        #[arg(long)]
        json: bool,
    },
    /// Sign in with a connected account and explain the token it gets
    ///
    /// Runs the account's flow: app-only takes the client secret from the OS keyring (stored by
    /// `mailcfg secret`) or MAILCFG_CLIENT_SECRET, and a Google service account signs a token
    /// request for one mailbox user with its key; delegated opens the system browser, with a
    /// one-shot listener on localhost for the answer; device-code prints a code to enter. Then it
    /// prints the token's audience, tenant, app, roles or scopes, user and expiry, and what the
    /// profile's mailboxes and transports still lack. An identity provider's refusal (AADSTS…)
    /// comes back with its cause and fix. The token itself is printed only with --show-token.
    /// Ctrl+C cancels; a browser sign-in gives up after 5 minutes.
    #[command(
        after_help = "Example:\n  MAILCFG_CLIENT_SECRET=… mailcfg token --profile support.toml --account Office365"
    )]
    Token {
        /// The profile (.toml, or .json).
        #[arg(long)]
        profile: PathBuf,
        /// The connected account to sign in with (its `name` in the profile).
        #[arg(long, value_name = "NAME")]
        account: String,
        /// One JSON object with the claims and what is missing (on failure too).
        #[arg(long)]
        json: bool,
        /// Print the access token itself to stdout (and nothing else).
        #[arg(long)]
        show_token: bool,
        /// A Google service account: the mailbox user to get the token for (default: the user of
        /// the account's first mailbox or transport).
        #[arg(long, value_name = "ADDRESS")]
        user: Option<String>,
    },
    /// Test mailboxes and transports step by step
    ///
    /// Signs in once per connected account, then tests the mailboxes and transports at once:
    /// DNS, TCP, TLS (version, cipher, certificate), greeting, capabilities, sign-in (XOAUTH2, or
    /// a password), then EXAMINE INBOX (IMAP), STAT (POP3), or MAIL FROM and RCPT TO (SMTP). Each
    /// step prints as it ends. Every failure gets one diagnosis with its evidence, the fix and the
    /// admin commands to copy. Secrets are masked in all output. Exits 0 when everything passed,
    /// 1 when something failed.
    #[command(
        after_help = "Examples:\n  mailcfg test --profile support.toml\n  mailcfg test --profile support.toml --transport 'Office365 SMTP' --send-to you@contoso.com"
    )]
    Test {
        /// The profile (.toml, or .json).
        #[arg(long)]
        profile: PathBuf,
        /// Test this mailbox (repeatable); without --mailbox and --transport, test everything.
        #[arg(long = "mailbox", value_name = "NAME")]
        mailboxes: Vec<String>,
        /// Test this transport (repeatable).
        #[arg(long = "transport", value_name = "NAME")]
        transports: Vec<String>,
        /// Send a short test message to this address through the transports, instead of
        /// stopping after RCPT TO (Exchange reports some refusals only at the end of DATA).
        #[arg(long, value_name = "ADDR")]
        send_to: Option<String>,
        /// One JSON object per event, one per line: each step, the token check, each target's
        /// report with its diagnosis, the summary.
        #[arg(long)]
        json: bool,
        /// Mailboxes tested at once (default: the profile's probe.concurrency).
        #[arg(long, value_name = "N")]
        concurrency: Option<u32>,
    },
    /// Check for a monitoring system (Nagios, Icinga, Prometheus)
    ///
    /// Signs in and tests like `mailcfg test`, but never asks anyone: a delegated account
    /// refreshes the sign-in stored in the keyring, and a refused refresh is CRITICAL with its fix.
    /// Adds what decays: the client secret's expiry (`client_secret_expires` in the profile) and
    /// each server certificate's. Exits as a monitoring plugin does: 0 OK, 1 WARNING, 2 CRITICAL,
    /// 3 UNKNOWN (a bad profile, no secret, no stored sign-in). A systemd timer and alert rules are
    /// in /usr/share/doc/mailcfg/examples (the Debian package) or assets/monitoring.
    #[command(
        after_help = "Examples:\n  mailcfg check --profile lab.toml\n  mailcfg check --profile lab.toml --format prometheus --output /var/lib/prometheus/node-exporter/mailcfg-lab.prom"
    )]
    Check {
        /// The profile (.toml, or .json).
        #[arg(long)]
        profile: PathBuf,
        /// Check this mailbox (repeatable); without --mailbox and --transport, everything.
        #[arg(long = "mailbox", value_name = "NAME")]
        mailboxes: Vec<String>,
        /// Check this transport (repeatable).
        #[arg(long = "transport", value_name = "NAME")]
        transports: Vec<String>,
        /// How to write the result.
        #[arg(long, value_enum, default_value = "nagios")]
        format: check_cmd::Format,
        /// Warn when a secret or certificate has fewer than this many days left.
        #[arg(long, value_name = "DAYS", default_value_t = 30)]
        warn_days: i64,
        /// Critical when a secret or certificate has fewer than this many days left.
        #[arg(long, value_name = "DAYS", default_value_t = 7)]
        crit_days: i64,
        /// Write here (atomically, mode 0644 for node_exporter's textfile collector); `-` or none: stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Give up after this many seconds in all (UNKNOWN), below the monitoring system's own limit.
        #[arg(long, value_name = "SECS", default_value_t = 55)]
        timeout: u64,
    },
    /// Write the profile's settings in another system's format
    ///
    /// toml and json: the profile itself; thunderbird: a Thunderbird autoconfig file
    /// (config-v1.1.xml); cerb, ce and um: settings sheets for those systems; powershell: the
    /// Exchange Online PowerShell steps of the set-up, with the app's IDs filled in; env: KEY=value
    /// lines for scripts; setup: one PowerShell script for Azure Cloud Shell that does every Entra
    /// ID and Exchange Online step of an account (its result goes back in with `mailcfg
    /// setup-result`). No export holds a secret.
    #[command(
        after_help = "Examples:\n  mailcfg export --profile support.toml --format powershell --output steps.ps1\n  mailcfg export --profile support.toml --format setup --account Office365 --output setup.ps1"
    )]
    Export {
        /// The profile (.toml, or .json).
        #[arg(long)]
        profile: PathBuf,
        /// One of: toml, json, thunderbird, cerb, ce, um, powershell, env, setup.
        #[arg(long)]
        format: String,
        /// Write here (atomically, mode 0600) instead of to stdout; `-` is stdout. Only a regular
        /// file is replaced, never the profile itself.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// setup: the account to set up (needed when the profile has several).
        #[arg(long, value_name = "NAME")]
        account: Option<String>,
        /// setup: how many months the new client secret is valid (1 to 24).
        #[arg(long, value_name = "N", default_value_t = crate::export::setup::DEFAULT_SECRET_MONTHS,
              value_parser = clap::value_parser!(u32).range(1..=24))]
        secret_months: u32,
        /// setup: end the script with `Invoke-MailcfgSetup -WhatIf`, a preview that changes nothing.
        #[arg(long)]
        what_if: bool,
    },
    /// Read the set-up script's result back into the account
    ///
    /// Reads the lines that the script of `mailcfg export --format setup` printed in Azure Cloud
    /// Shell from standard input: the tenant, client ID, enterprise object ID and the secret's
    /// expiry go into the profile (saved atomically), the new client secret into the OS keyring,
    /// never the profile. Then it prints the set-up checklist with the steps the script did, and
    /// the test to run next. docs/setup.md has the steps.
    #[command(
        after_help = "Example:\n  mailcfg setup-result --profile support.toml --account Office365 < cloud-shell-output.txt"
    )]
    SetupResult {
        /// The profile (.toml, or .json) to fill in.
        #[arg(long)]
        profile: PathBuf,
        /// The connected account that the script set up (its `name` in the profile).
        #[arg(long, value_name = "NAME")]
        account: String,
    },
    /// Start from an e-mail address: find the provider and the servers, write a draft profile
    ///
    /// Asks every source at once, each within its own time limit: the domain's MX records,
    /// Microsoft's tenant discovery, Thunderbird autoconfig (the domain's file, its .well-known
    /// copy, the ISPDB for the domain and for its MX records' provider) and the SRV records of
    /// RFC 6186 and 8314. Prints one line per source as
    /// it answers (on stderr), where each field of the draft came from, then the draft profile,
    /// which `mailcfg validate` accepts. Exits 0 when something was found, 1 when nothing was, 2
    /// for a bad address. Ctrl+C cancels.
    #[command(after_help = "Example:\n  mailcfg discover you@contoso.com --output contoso.toml")]
    Discover(DiscoverArgs),
    /// Store an account's client secret, or a Google service account's key, in the OS keyring
    ///
    /// The secret is read from the first line of standard input, never from the command line,
    /// where the shell history and other users could see it. It is kept under service "mailcfg",
    /// entry "account:NAME", where `token`, `test` and the window find it. A service account's
    /// JSON key is read from the file that --service-account-key names and checked field by field.
    #[command(
        after_help = "Examples:\n  mailcfg secret --profile support.toml --account Office365 < secret.txt\n  mailcfg secret --profile workspace.toml --account Workspace --service-account-key key.json"
    )]
    Secret {
        /// The profile (.toml, or .json).
        #[arg(long)]
        profile: PathBuf,
        /// The connected account whose secret this is (its `name` in the profile).
        #[arg(long, value_name = "NAME")]
        account: String,
        /// Remove the account's stored client secret, service account key and refresh token
        /// (sign out) instead.
        #[arg(long, conflicts_with = "service_account_key")]
        delete: bool,
        /// Import a Google service account's JSON key: the private key goes to the keyring, its
        /// address, key ID and token endpoint to the profile.
        #[arg(long, value_name = "FILE")]
        service_account_key: Option<PathBuf>,
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
            user,
        } => token(&profile, &account, user.as_deref(), json, show_token),
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
        Command::Check {
            profile,
            mailboxes,
            transports,
            format,
            warn_days,
            crit_days,
            output,
            timeout,
        } => check_cmd::run(
            &profile,
            &check_cmd::CheckArgs {
                profile: profile.clone(),
                mailboxes,
                transports,
                format,
                warn_days,
                crit_days,
                output,
                timeout_secs: timeout,
            },
        ),
        Command::Export {
            profile,
            format,
            output,
            account,
            secret_months,
            what_if,
        } => export(
            &profile,
            &format,
            output.as_deref(),
            crate::export::setup::SetupOptions {
                account: account.as_deref(),
                secret_months,
                what_if,
            },
        ),
        Command::SetupResult { profile, account } => setup_result::run(&profile, &account),
        Command::Secret {
            profile,
            account,
            delete,
            service_account_key,
        } => {
            let what = match (&service_account_key, delete) {
                (Some(file), _) => secret_cmd::What::ServiceAccountKey(file),
                (None, true) => secret_cmd::What::Delete,
                (None, false) => secret_cmd::What::ClientSecret,
            };
            secret_cmd::run(&profile, &account, &what)
        }
        Command::Discover(args) => discover_cmd::run(&args),
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
    for f in &findings {
        if json {
            output::json(serde_json::to_value(f).unwrap_or_default());
        } else {
            say!("{f}");
        }
    }
    if !json {
        say!("{summary}");
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
        tell!("{f}");
    }
}

/// The profile and one of its accounts, or the error said and `None`.
fn load_account(path: &Path, account: &str) -> Option<(Profile, crate::profile::Account)> {
    let p = load_or_report(path)?;
    let Some(acc) = p.account(account).cloned() else {
        tell!(
            "{}: error: no connected account named \"{account}\"",
            path.display()
        );
        tell!(
            "    fix: use one of: {}",
            names(p.accounts.iter().map(|a| a.name.as_str()))
        );
        return None;
    };
    Some((p, acc))
}

fn token(path: &Path, account: &str, user: Option<&str>, json: bool, show_token: bool) -> u8 {
    let Some((p, acc)) = load_account(path, account) else {
        return EXIT_BAD_INPUT;
    };
    // A service account's token is one user's: the one named, else its first target's.
    let user = user.map(str::to_owned).or_else(|| {
        acc.is_service_account()
            .then(|| p.users_of(&acc.name).into_iter().next())
            .flatten()
    });
    if let Some(u) = &user
        && let Err(why) = profile::mail_address(u)
    {
        tell!(
            "mailcfg token: error: --user \"{}\" {why}",
            profile::shown(u)
        );
        tell!("    fix: give the mailbox user's address, such as alice@example.com");
        return EXIT_BAD_INPUT;
    }
    let secrets = crate::secrets::Secrets::open();
    if let Some(notice) = secrets.notice() {
        tell!("note: {notice}");
    }
    let source = match TokenSource::new(&p.tls, path.parent(), secrets) {
        Ok(s) => s,
        Err(e) => {
            tell!("mailcfg token: error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let Some(rt) = runtime() else {
        return EXIT_FAILED;
    };
    let result = rt.block_on(async {
        tokio::select! {
            r = source.token_for(&acc, user.as_deref(), &print_flow_event) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let token = match result {
        None => {
            tell!("mailcfg token: cancelled");
            return EXIT_CANCELLED;
        }
        Some(Err(e)) => {
            if json {
                // Scripts that read JSON get JSON for a failure too.
                let explanation = match &e {
                    crate::oauth::OAuthError::Idp(x) => serde_json::to_value(x).ok(),
                    _ => None,
                };
                // The same shape as `mailcfg test --json`'s sign_in_failed, diagnosis included.
                let failed = crate::diagnosis::SignInSeen::Failed(
                    crate::diagnosis::SignInFailure::from_error(&e).for_user(user.as_deref()),
                );
                let mut ev = crate::diagnosis::Evidence::new(&p, std::time::SystemTime::now());
                ev.sign_ins.push((&acc.name, &failed));
                let place = crate::diagnosis::Place::Cli {
                    profile: path.display().to_string(),
                };
                let d = crate::diagnosis::for_account(&ev, &acc.name, &place);
                output::json(serde_json::json!({
                    "type": "sign_in_failed",
                    "account": acc.name,
                    "user": user,
                    "error": e.to_string(),
                    "explanation": explanation,
                    "diagnosis": d.first(),
                }));
            }
            let as_user = user
                .as_deref()
                .map_or_else(String::new, |u| format!(" as {u}"));
            tell!("mailcfg token: sign-in for \"{account}\"{as_user} failed:\n{e}");
            return EXIT_FAILED;
        }
        Some(Ok(t)) => t,
    };
    if show_token {
        // What was asked for: the token itself, unmasked (still EPIPE- and ENOSPC-safe).
        output::data(&format!("{}\n", crate::oauth::expose(&token)));
        return EXIT_OK;
    }
    report_token(&p, &acc, &token, json, path)
}

/// The claims of a token and what the account's mailboxes and transports still lack.
fn report_token(
    p: &Profile,
    acc: &crate::profile::Account,
    token: &crate::oauth::AccessToken,
    json: bool,
    path: &Path,
) -> u8 {
    use crate::diagnosis::{self, Evidence, Place, SignInSeen, TokenSeen};
    let now = std::time::SystemTime::now();
    let expires = token
        .expires_at
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    let seen = TokenSeen::of(token);
    let decoded = seen.claims.clone();
    let signed_in = SignInSeen::Token(seen);
    let problems = {
        let mut ev = Evidence::new(p, now);
        ev.sign_ins.push((&acc.name, &signed_in));
        let place = Place::Cli {
            profile: path.display().to_string(),
        };
        diagnosis::for_account(&ev, &acc.name, &place)
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
        output::json(value);
    } else {
        say!("Signed in: account \"{}\" has an access token.", acc.name);
        match &decoded {
            Ok(c) => {
                for (label, value) in c.summary_lines(now) {
                    say!("  {label:<10} {value}");
                }
            }
            Err(e) => say!("  {e}"),
        }
        for pr in &problems {
            say!("problem: {} [{}]", pr.title, pr.kind);
            for e in &pr.evidence {
                say!("    because {e}");
            }
            say!("    fix: {}", pr.fix);
        }
        if problems.is_empty() && decoded.is_ok() {
            say!("The token carries what this profile's mailboxes and transports need.");
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
                Ok(()) => tell!(
                    "Opened the sign-in page in your browser. If it did not appear, open this address:"
                ),
                Err(why) => {
                    tell!("Could not open a browser: {why}. Open this address to sign in:");
                }
            }
            tell!("  {url}");
            tell!("Waiting for the sign-in to finish (Ctrl+C cancels)…");
        }
        FlowEvent::Exchanging => tell!("Signed in in the browser; getting the tokens…"),
        FlowEvent::DeviceCode {
            user_code,
            verification_uri,
            expires_in_secs,
        } => {
            tell!("To sign in, open {verification_uri} on any device and enter the code:");
            tell!("  {user_code}");
            tell!(
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
            tell!("mailcfg: error: cannot start the network runtime: {e}");
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
            tell!("{}: error: no {kind} named \"{m}\"", path.display());
            tell!("    fix: use one of: {}", names(have.iter().copied()));
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

fn export(
    path: &Path,
    format: &str,
    output: Option<&Path>,
    setup: crate::export::setup::SetupOptions<'_>,
) -> u8 {
    use crate::export::{ExportError, ExportFormat, ExportOptions};
    let Ok(format) = format.parse::<ExportFormat>() else {
        tell!("mailcfg export: error: unknown format \"{format}\"");
        tell!("    fix: use one of: {}", ExportFormat::names());
        return EXIT_BAD_INPUT;
    };
    // `-` is standard output, as for most tools.
    let output = output.filter(|o| o.as_os_str() != "-");
    if let Some(out) = output
        && let Err(why) = output_target(path, out)
    {
        tell!("{}: error: {why}", out.display());
        tell!(
            "    fix: give the path of a new file or of an existing regular file to replace, or `-` (or no --output) for standard output"
        );
        return EXIT_BAD_INPUT;
    }
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
        setup,
    };
    let text = match crate::export::export(&p, format, &opts) {
        Ok(t) => t,
        Err(e) => {
            tell!("{}: error: {e}", path.display());
            tell!("    fix: {}", e.fix());
            return match e {
                ExportError::NotApplicable { .. }
                | ExportError::AccountNeeded { .. }
                | ExportError::NoSuchAccount { .. } => EXIT_BAD_INPUT,
                ExportError::Encode { .. } => EXIT_FAILED,
            };
        }
    };
    let secret = opts.includes_secrets(format);
    match output {
        None => {
            if secret {
                tell!(
                    "mailcfg export: warning: this export contains secrets; do not keep it in a shared place"
                );
            }
            output::data(&text);
            EXIT_OK
        }
        // write_atomic creates the file 0600 in every case, which secrets need.
        Some(out) => match profile::write_atomic(out, text.as_bytes()) {
            Ok(()) => {
                if secret {
                    tell!(
                        "{}: warning: this file contains secrets; it is readable by you alone (0600). Delete it once the values are entered",
                        out.display()
                    );
                }
                EXIT_OK
            }
            Err(e) => {
                tell!("{}: error: cannot write the export: {e}", out.display());
                tell!("    fix: choose a folder you can write to");
                EXIT_FAILED
            }
        },
    }
}

/// Whether `--output` may be written: a new file or a regular one, and not the profile itself.
pub(crate) fn output_target(profile: &Path, out: &Path) -> Result<(), String> {
    if crate::files::same_file(profile, out) {
        return Err("this is the profile itself: writing the output there would replace it".into());
    }
    crate::files::check_replaceable(out)
        .map_err(|e| format!("--output is refused: {e}, and only a regular file is replaced"))
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<String> = it.map(|n| format!("\"{n}\"")).collect();
    if all.is_empty() {
        "(none in this profile)".to_owned()
    } else {
        all.join(", ")
    }
}
