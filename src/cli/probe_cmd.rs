//! `mailcfg test`: one token per connected account, then every selected mailbox and transport
//! tested at once (bounded by `--concurrency` / `probe.concurrency`), each step printed as it
//! ends, then the diagnoses and a summary. `--json`: one object per line (`type` = `event`,
//! `sign_in_failed`, `report`, `summary`). Ctrl+C cancels. Secrets never reach the output: the
//! probe masks its transcript, and tokens are only handed to it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::time::Duration;

use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, print_flow_event, runtime};
use crate::oauth::{AccessToken, TokenSource};
use crate::probe::batch::{self, Job, Target};
use crate::probe::{Event, Options, Report, Status};
use crate::profile::Profile;
use crate::secrets::Secrets;

pub(super) struct Selection {
    pub mailboxes: Vec<String>,
    pub transports: Vec<String>,
    pub send_to: Option<String>,
    pub json: bool,
    pub concurrency: Option<u32>,
}

fn selected(p: &Profile, sel: &Selection) -> Vec<Target> {
    let all = sel.mailboxes.is_empty() && sel.transports.is_empty();
    let mut targets: Vec<Target> = p
        .mailboxes
        .iter()
        .filter(|m| all || sel.mailboxes.contains(&m.name))
        .cloned()
        .map(Target::Mailbox)
        .collect();
    targets.extend(
        p.transports
            .iter()
            .filter(|t| all || sel.transports.contains(&t.name))
            .cloned()
            .map(Target::Transport),
    );
    targets
}

pub(super) fn run(path: &Path, p: &Profile, sel: &Selection) -> u8 {
    let targets = selected(p, sel);
    if targets.is_empty() {
        eprintln!(
            "{}: error: the profile has no mailbox or transport to test",
            path.display()
        );
        eprintln!("    fix: add a [[mailboxes]] or [[transports]] section");
        return EXIT_BAD_INPUT;
    }
    if let Some(to) = &sel.send_to
        && !to.contains('@')
    {
        eprintln!("mailcfg test: error: --send-to \"{to}\" is not a mail address");
        eprintln!("    fix: give an address such as someone@example.com");
        return EXIT_BAD_INPUT;
    }
    if sel.concurrency == Some(0) {
        eprintln!("mailcfg test: error: --concurrency 0 would test nothing");
        eprintln!("    fix: give 1 or more (the default is the profile's probe.concurrency)");
        return EXIT_BAD_INPUT;
    }
    let secrets = Secrets::open();
    if let Some(notice) = secrets.notice() {
        eprintln!("note: {notice}");
    }
    let base = path.parent();
    let source = match TokenSource::new(&p.tls, base, secrets) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mailcfg test: error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let opts = Options {
        timeout: Duration::from_secs(p.probe.timeout_secs.max(1)),
        ca_file: p
            .tls
            .ca_file
            .as_ref()
            .map(|c| base.map_or_else(|| c.clone(), |d| d.join(c))),
        send_to: sel.send_to.clone(),
    };
    crate::probe::warm_up(opts.ca_file.clone());
    let concurrency = sel.concurrency.unwrap_or(p.probe.concurrency).max(1);
    let Some(rt) = runtime() else {
        return EXIT_FAILED;
    };
    rt.block_on(async {
        tokio::select! {
            code = test_all(p, targets, &source, &opts, concurrency as usize, sel.json) => code,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("mailcfg test: cancelled");
                EXIT_FAILED
            }
        }
    })
}

async fn test_all(
    p: &Profile,
    targets: Vec<Target>,
    source: &TokenSource,
    opts: &Options,
    concurrency: usize,
    json: bool,
) -> u8 {
    let mut out = Printer::new(json, &targets);
    // One token per account, whatever the number of mailboxes it serves.
    let accounts: BTreeSet<String> = targets
        .iter()
        .filter_map(Target::account)
        .map(str::to_owned)
        .collect();
    let mut tokens: BTreeMap<String, AccessToken> = BTreeMap::new();
    let mut refused = 0usize;
    for name in accounts {
        let Some(acc) = p.account(&name) else {
            continue;
        };
        match source.token(acc, &print_flow_event).await {
            Ok(t) => {
                tokens.insert(name, t);
            }
            Err(e) => out.sign_in_failed(&name, &e.to_string()),
        }
    }
    let mut jobs = Vec::new();
    for target in targets {
        match batch::credential(
            &target,
            target.account().and_then(|a| tokens.get(a)),
            source.secrets(),
        ) {
            Ok(cred) => jobs.push(Job { target, cred }),
            Err(why) => {
                refused += 1;
                out.not_tested(target.name(), &why);
            }
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let runner = async move {
        let reports = batch::run_all(jobs, opts, concurrency, &tx).await;
        drop(tx);
        reports
    };
    let printer = async {
        while let Some(e) = rx.recv().await {
            out.event(&e);
            // What else is there already goes out with it, in one write.
            while let Ok(e) = rx.try_recv() {
                out.event(&e);
            }
            out.flush();
        }
    };
    let (reports, ()) = tokio::join!(runner, printer);
    let reports: Vec<Report> = reports
        .into_iter()
        .map(|mut r| {
            r.diagnosis = r.diagnosis.map(|d| batch::fill_app(p, &r.target, d));
            r
        })
        .collect();
    out.reports(&reports);
    out.summary(&reports, refused);
    out.flush();
    if refused == 0 && reports.iter().all(|r| r.ok) {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

/// Writes the run as text (colour on a terminal) or as JSON lines. Lines are kept until
/// [`Printer::flush`], which the event loop calls whenever no event is waiting: one write for
/// what came at once, not one per line (hundreds of mailboxes make thousands of lines).
struct Printer {
    json: bool,
    color: bool,
    /// The width of the target column.
    width: usize,
    pending: String,
}

impl Printer {
    fn new(json: bool, targets: &[Target]) -> Self {
        Self {
            json,
            color: !json && std::io::stdout().is_terminal(),
            width: targets
                .iter()
                .map(|t| t.name().chars().count())
                .max()
                .unwrap_or(0),
            pending: String::new(),
        }
    }

    fn line(&mut self, text: &str) {
        self.pending.push_str(text);
        self.pending.push('\n');
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(self.pending.as_bytes());
        let _ = o.flush();
        self.pending.clear();
    }

    /// `value` as one JSON line with `"type": kind` first (serialised once, straight to text).
    fn json_line(&mut self, kind: &str, value: &impl serde::Serialize) {
        let Ok(text) = serde_json::to_string(value) else {
            return;
        };
        let rest = text.strip_prefix('{').unwrap_or(&text);
        let sep = if rest.starts_with('}') { "" } else { "," };
        self.line(&format!("{{\"type\":\"{kind}\"{sep}{rest}"));
    }

    fn paint(&self, status: Status) -> String {
        let (code, text) = match status {
            Status::Ok => ("32", "ok"),
            Status::Warning => ("33", "warning"),
            Status::Failed => ("31;1", "FAILED"),
            Status::Skipped => ("2", "skipped"),
            Status::Running => ("2", "running"),
        };
        if self.color {
            format!("\x1b[{code}m{text:<7}\x1b[0m")
        } else {
            format!("{text:<7}")
        }
    }

    fn event(&mut self, e: &Event) {
        if self.json {
            self.json_line("event", e);
            return;
        }
        if e.status == Status::Running {
            return;
        }
        self.line(&format!(
            "{} {:<width$}  {:<12} {:>5} ms  {}",
            self.paint(e.status),
            e.target,
            e.step.to_string(),
            e.elapsed.as_millis(),
            e.detail,
            width = self.width
        ));
    }

    fn sign_in_failed(&mut self, account: &str, error: &str) {
        if self.json {
            self.json_line(
                "sign_in_failed",
                &serde_json::json!({ "account": account, "error": error }),
            );
        } else {
            self.line(&format!(
                "{} sign-in for account \"{account}\" failed:\n{error}",
                self.paint(Status::Failed)
            ));
        }
    }

    fn not_tested(&mut self, target: &str, why: &str) {
        if self.json {
            self.json_line(
                "not_tested",
                &serde_json::json!({ "target": target, "reason": why }),
            );
        } else {
            self.line(&format!(
                "{} {target}  not tested: {why}",
                self.paint(Status::Skipped)
            ));
        }
    }

    fn reports(&mut self, reports: &[Report]) {
        for r in reports {
            if self.json {
                self.json_line("report", r);
                continue;
            }
            if r.ok {
                continue;
            }
            let Some(failed) = r.failed_step() else {
                continue;
            };
            let mut text = format!(
                "\n{} ({}) failed at {}: {}",
                r.target, r.kind, failed.step, failed.detail
            );
            if let Some(d) = &r.diagnosis {
                let _ = write!(
                    text,
                    "\n  diagnosis: {}\n  cause: {}\n  fix: {}",
                    d.title, d.cause, d.fix
                );
                if !d.commands.is_empty() {
                    text.push_str("\n  admin commands (Exchange Online PowerShell):");
                    for c in &d.commands {
                        let _ = write!(text, "\n    {c}");
                    }
                }
            }
            if !failed.transcript.is_empty() {
                text.push_str("\n  transcript of the failed step:");
                for l in &failed.transcript {
                    let _ = write!(text, "\n    {l}");
                }
            }
            self.line(&text);
        }
    }

    fn summary(&mut self, reports: &[Report], not_tested: usize) {
        let passed = reports.iter().filter(|r| r.ok).count();
        let failed = reports.len() - passed;
        if self.json {
            let targets: Vec<serde_json::Value> = reports
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "target": r.target,
                        "kind": r.kind,
                        "ok": r.ok,
                        "failed_step": r.failed_step().map(|e| e.step),
                        "total_ms": u64::try_from(r.total.as_millis()).unwrap_or(u64::MAX),
                    })
                })
                .collect();
            self.json_line(
                "summary",
                &serde_json::json!({
                    "passed": passed,
                    "failed": failed,
                    "not_tested": not_tested,
                    "targets": targets,
                }),
            );
            return;
        }
        let mut text = format!(
            "\nSummary: {passed} of {} passed",
            reports.len() + not_tested
        );
        if not_tested > 0 {
            let _ = write!(text, ", {not_tested} not tested");
        }
        for r in reports {
            let verdict = if r.ok {
                self.paint(Status::Ok)
            } else {
                self.paint(Status::Failed)
            };
            let at = r
                .failed_step()
                .map_or_else(String::new, |e| format!(" (at {})", e.step));
            let _ = write!(
                text,
                "\n  {verdict} {} ({}) in {} ms{at}",
                r.target,
                r.kind,
                r.total.as_millis()
            );
        }
        self.line(&text);
    }
}
