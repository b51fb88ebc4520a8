//! `mailcfg check`: the monitoring plugin. One run of sign-ins and tests like `mailcfg test`
//! (never asking anyone: delegated accounts refresh their stored sign-in), judged with the
//! expiries against `--warn-days`/`--crit-days`, written as Nagios plugin output, Prometheus text
//! or JSON; the exit code is the plugin state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::output::{self, say, tell};
use super::probe_cmd::{self, Seen, Selection, Setup};
use super::runtime;
use crate::diagnosis::Diagnosis;
use crate::monitor::{self, Check, State, Thresholds};
use crate::profile::{self, Severity};

/// How the check is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A Nagios/Icinga plugin's status line and perfdata
    Nagios,
    /// Prometheus text exposition format, for node_exporter's textfile collector
    Prometheus,
    /// One JSON object
    Json,
}

pub(super) struct CheckArgs {
    pub profile: PathBuf,
    pub mailboxes: Vec<String>,
    pub transports: Vec<String>,
    pub format: Format,
    pub warn_days: i64,
    pub crit_days: i64,
    pub output: Option<PathBuf>,
    pub timeout_secs: u64,
}

fn render(check: &Check, format: Format) -> String {
    match format {
        Format::Nagios => monitor::nagios::render(check),
        Format::Prometheus => monitor::prometheus::render(check),
        Format::Json => check.json().to_string() + "\n",
    }
}

/// Writes the check where asked and returns its state's exit code (UNKNOWN when it cannot). Every
/// known secret is masked on the way, to stdout and into the file alike.
fn emit(check: &Check, args: &CheckArgs) -> u8 {
    match args.output.as_deref().filter(|p| *p != Path::new("-")) {
        None if args.format == Format::Json => output::json(check.json()),
        None => output::out(render(check, args.format).trim_end()),
        Some(path) => {
            if let Err(why) = super::output_target(&args.profile, path) {
                tell!("mailcfg check: error: --output {}: {why}", path.display());
                say!("MAILCFG UNKNOWN - --output {}: {why}", path.display());
                return State::Unknown.code();
            }
            let text = crate::redact::mask(&render(check, args.format));
            // Readable by node_exporter's textfile collector, which runs as another user.
            if let Err(e) = profile::write_atomic_mode(path, text.as_bytes(), 0o644) {
                tell!("mailcfg check: error: cannot write {}: {e}", path.display());
                say!("MAILCFG UNKNOWN - cannot write {}: {e}", path.display());
                return State::Unknown.code();
            }
        }
    }
    check.state.code()
}

pub(super) fn run(path: &Path, args: &CheckArgs) -> u8 {
    let now = SystemTime::now();
    if args.crit_days > args.warn_days || args.crit_days < 0 {
        let why = format!(
            "--crit-days {} must be between 0 and --warn-days {}",
            args.crit_days, args.warn_days
        );
        return emit(&monitor::unknown(&why, now), args);
    }
    let p = match profile::load(path) {
        Ok((p, _)) => p,
        Err(e) => {
            let first = e
                .findings
                .iter()
                .find(|f| f.severity == Severity::Error)
                .map_or_else(|| e.to_string(), ToString::to_string);
            for f in &e.findings {
                tell!("{f}");
            }
            let why = format!("the profile {} is invalid: {first}", path.display());
            return emit(&monitor::unknown(&why, now), args);
        }
    };
    let sel = Selection {
        mailboxes: args.mailboxes.clone(),
        transports: args.transports.clone(),
        send_to: None,
        json: false,
        concurrency: None,
    };
    let targets = probe_cmd::selected(&p, &sel);
    if targets.is_empty() {
        let why = "nothing to check: no mailbox or transport matches (see --mailbox, --transport)";
        return emit(&monitor::unknown(why, now), args);
    }
    let Ok(setup) = Setup::new(path, &p, None, None, false) else {
        return emit(
            &monitor::unknown("cannot set up the check (see stderr)", now),
            args,
        );
    };
    let Some(rt) = runtime() else {
        return emit(&monitor::unknown("cannot start the runtime", now), args);
    };
    let deadline = Duration::from_secs(args.timeout_secs.max(1));
    let mut findings: BTreeMap<String, Vec<Diagnosis>> = BTreeMap::new();
    let mut on = |seen: Seen<'_>| {
        if let Seen::SignIn(name, _, _, found) = seen {
            findings
                .entry(name.to_owned())
                .or_default()
                .extend(found.iter().cloned());
        }
    };
    let outcome = rt.block_on(async {
        let run = probe_cmd::sign_in_and_test(&p, targets, &setup, &|_| {}, &mut on);
        tokio::time::timeout(deadline, run).await.ok()
    });
    let outcome = outcome.map(|o| (o, findings));
    let Some((outcome, findings)) = outcome else {
        let why = format!(
            "the check did not finish within {} s (--timeout)",
            deadline.as_secs()
        );
        return emit(&monitor::unknown(&why, now), args);
    };
    let check = monitor::judge(
        &p,
        &outcome.seen,
        &findings,
        &outcome.reports,
        &outcome.not_tested,
        Thresholds {
            warn_days: args.warn_days,
            crit_days: args.crit_days,
        },
        now,
    );
    emit(&check, args)
}
