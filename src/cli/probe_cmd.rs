//! `mailcfg test`: one token per connected account, then every selected mailbox and transport
//! tested at once (bounded by `--concurrency` / `probe.concurrency`), each step printed as it
//! ends, then the diagnoses and a summary. `--json`: one object per line (`type` = `event`,
//! `sign_in_failed`, `report`, `summary`). Ctrl+C cancels. Secrets never reach the output: the
//! probe masks its transcript, and tokens are only handed to it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::Path;
use std::time::Duration;

use super::output::{self, Part, tell};
use super::{EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, print_flow_event, runtime};
use crate::diagnosis::{self, Diagnosis, Evidence, Place, SignInFailure, SignInSeen, TokenSeen};
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

pub(super) fn selected(p: &Profile, sel: &Selection) -> Vec<Target> {
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
        tell!(
            "{}: error: the profile has no mailbox or transport to test",
            path.display()
        );
        tell!("    fix: add a [[mailboxes]] or [[transports]] section");
        return EXIT_BAD_INPUT;
    }
    let send_to = match sel.send_to.as_deref().map(crate::profile::mail_address) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(why)) => {
            let to = crate::profile::shown(sel.send_to.as_deref().unwrap_or_default());
            tell!("mailcfg test: error: --send-to \"{to}\" {why}");
            tell!("    fix: give one address such as someone@example.com, nothing else");
            return EXIT_BAD_INPUT;
        }
    };
    let setup = match Setup::new(path, p, sel.concurrency, send_to, true) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let Some(rt) = runtime() else {
        return EXIT_FAILED;
    };
    rt.block_on(async {
        tokio::select! {
            code = test_all(p, targets, &setup, sel.json) => code,
            _ = tokio::signal::ctrl_c() => {
                tell!("mailcfg test: cancelled");
                EXIT_CANCELLED
            }
        }
    })
}

/// What a run needs: the token source, the probe's options, how many at once, where it is.
pub(super) struct Setup {
    pub source: TokenSource,
    pub opts: Options,
    pub concurrency: usize,
    pub place: Place,
}

impl Setup {
    /// `interactive`: whether sign-ins may open a browser or show a device code. Errors are said
    /// on stderr; the `Err` is the exit code.
    pub fn new(
        path: &Path,
        p: &Profile,
        concurrency: Option<u32>,
        send_to: Option<lettre::Address>,
        interactive: bool,
    ) -> Result<Self, u8> {
        if concurrency == Some(0) {
            tell!("mailcfg: error: --concurrency 0 would test nothing");
            tell!("    fix: give 1 or more (the default is the profile's probe.concurrency)");
            return Err(EXIT_BAD_INPUT);
        }
        let secrets = Secrets::open();
        if let Some(notice) = secrets.notice() {
            tell!("note: {notice}");
        }
        let base = path.parent();
        let source = match TokenSource::new(&p.tls, base, secrets) {
            Ok(s) if interactive => s,
            Ok(s) => s.non_interactive(),
            Err(e) => {
                tell!("mailcfg: error: {e}");
                return Err(EXIT_BAD_INPUT);
            }
        };
        let opts = Options {
            timeout: Duration::from_secs(p.probe.timeout_secs.max(1)),
            ca_file: p
                .tls
                .ca_file
                .as_ref()
                .map(|c| base.map_or_else(|| c.clone(), |d| d.join(c))),
            send_to,
        };
        crate::probe::warm_up(opts.ca_file.clone());
        Ok(Self {
            source,
            opts,
            concurrency: concurrency.unwrap_or(p.probe.concurrency).max(1) as usize,
            place: Place::Cli {
                profile: path.display().to_string(),
            },
        })
    }
}

/// What happens during a run, for whoever shows it.
pub(super) enum Seen<'a> {
    /// An account's sign-in (a service account's: for one mailbox user), with what the
    /// diagnosis finds in it before any test.
    SignIn(&'a str, Option<&'a str>, &'a SignInSeen, &'a [Diagnosis]),
    /// A target that could not start, and why.
    NotTested(&'a str, &'a str),
    Event(&'a Event),
}

/// What one run of sign-ins and tests saw, every failure diagnosed from all of it.
pub(super) struct Outcome {
    /// By account; a service account's is its first refusal, else its first token.
    pub seen: BTreeMap<String, SignInSeen>,
    pub reports: Vec<Report>,
    pub not_tested: Vec<(String, String)>,
}

/// The tokens of a run and how each sign-in went.
struct SignIns {
    /// By account, and by mailbox user for a service account.
    tokens: BTreeMap<(String, Option<String>), AccessToken>,
    /// By account; a service account's is its first refusal, else its first token.
    seen: BTreeMap<String, SignInSeen>,
    /// A service account's, by account and user.
    user_seen: BTreeMap<(String, String), SignInSeen>,
}

/// The account (and mailbox user, for a service account) a target's token is for.
fn token_key(p: &Profile, t: &Target) -> Option<(String, Option<String>)> {
    let acc = p.account(t.account()?)?;
    let user = acc
        .is_service_account()
        .then(|| batch::sign_in_name(t))
        .flatten()
        .map(|u| u.to_lowercase());
    Some((acc.name.clone(), user))
}

/// One sign-in per account (per account and mailbox user for a Google service account),
/// whatever the number of mailboxes it serves.
async fn sign_in_all(
    p: &Profile,
    targets: &[Target],
    source: &TokenSource,
    on_flow: &(dyn Fn(crate::oauth::FlowEvent) + Send + Sync),
) -> SignIns {
    let wanted: BTreeSet<(String, Option<String>)> =
        targets.iter().filter_map(|t| token_key(p, t)).collect();
    let mut out = SignIns {
        tokens: BTreeMap::new(),
        seen: BTreeMap::new(),
        user_seen: BTreeMap::new(),
    };
    for (name, user) in wanted {
        let Some(acc) = p.account(&name) else {
            continue;
        };
        let s = match source.token_for(acc, user.as_deref(), on_flow).await {
            Ok(t) => {
                let s = SignInSeen::Token(TokenSeen::of(&t));
                out.tokens.insert((name.clone(), user.clone()), t);
                s
            }
            Err(e) => SignInSeen::Failed(SignInFailure::from_error(&e).for_user(user.as_deref())),
        };
        match user {
            Some(u) => {
                let failed = matches!(s, SignInSeen::Failed(_));
                let slot = out.seen.entry(name.clone()).or_insert_with(|| s.clone());
                if failed && matches!(slot, SignInSeen::Token(_)) {
                    *slot = s.clone();
                }
                out.user_seen.insert((name, u), s);
            }
            None => {
                out.seen.insert(name, s);
            }
        }
    }
    out
}

/// Signs in once per account, tests every target (at most `concurrency` at once), and
/// diagnoses every failure from all the run saw. `on` hears each thing as it happens.
pub(super) async fn sign_in_and_test(
    p: &Profile,
    targets: Vec<Target>,
    setup: &Setup,
    on_flow: &(dyn Fn(crate::oauth::FlowEvent) + Send + Sync),
    on: &mut dyn FnMut(Seen<'_>),
) -> Outcome {
    let (source, place) = (&setup.source, &setup.place);
    let SignIns {
        tokens,
        seen,
        user_seen,
    } = sign_in_all(p, &targets, source, on_flow).await;
    // What the tokens lack, said before any connection (the failing step says it again).
    let each: Vec<(&str, Option<&str>, &SignInSeen)> = seen
        .iter()
        .filter(|(n, _)| !user_seen.keys().any(|(a, _)| a == *n))
        .map(|(n, s)| (n.as_str(), None, s))
        .chain(
            user_seen
                .iter()
                .map(|((n, u), s)| (n.as_str(), Some(u.as_str()), s)),
        )
        .collect();
    for (name, user, s) in each {
        let mut ev = Evidence::new(p, std::time::SystemTime::now());
        ev.sign_ins.push((name, s));
        let found = diagnosis::for_account(&ev, name, place);
        on(Seen::SignIn(name, user, s, &found));
    }
    let mut jobs = Vec::new();
    let mut not_tested = Vec::new();
    for target in targets {
        let key = token_key(p, &target);
        match batch::credential(
            &target,
            key.as_ref().and_then(|k| tokens.get(k)),
            source.secrets(),
        ) {
            Ok(cred) => jobs.push(Job { target, cred }),
            Err(why) => {
                on(Seen::NotTested(target.name(), &why));
                not_tested.push((target.name().to_owned(), why));
            }
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let runner = async move {
        let reports = batch::run_all(jobs, &setup.opts, setup.concurrency, &tx).await;
        drop(tx);
        reports
    };
    let listener = async {
        while let Some(e) = rx.recv().await {
            on(Seen::Event(&e));
        }
    };
    let (mut reports, ()) = tokio::join!(runner, listener);
    let found = {
        let mut ev = Evidence::new(p, std::time::SystemTime::now());
        ev.sign_ins = seen.iter().map(|(n, s)| (n.as_str(), s)).collect();
        ev.user_sign_ins = user_seen
            .iter()
            .map(|((n, u), s)| (n.as_str(), u.as_str(), s))
            .collect();
        ev.reports = reports.iter().collect();
        diagnosis::for_run(&ev, place)
    };
    diagnosis::assign(&mut reports, &found);
    Outcome {
        seen,
        reports,
        not_tested,
    }
}

async fn test_all(p: &Profile, targets: Vec<Target>, setup: &Setup, json: bool) -> u8 {
    let mut out = Printer::new(json, &targets);
    let outcome = sign_in_and_test(
        p,
        targets,
        setup,
        &print_flow_event,
        &mut |seen| match seen {
            Seen::SignIn(name, user, SignInSeen::Failed(f), found) => {
                out.sign_in_failed(name, user, &f.text, found.first());
            }
            Seen::SignIn(name, _, SignInSeen::Token(_), found) => out.token_problems(name, found),
            Seen::NotTested(target, why) => out.not_tested(target, why),
            Seen::Event(e) => out.event(e),
        },
    )
    .await;
    let refused = outcome.not_tested.len();
    out.reports(&outcome.reports);
    out.summary(&outcome.reports, refused);
    if refused == 0 && outcome.reports.iter().all(|r| r.ok) {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

/// A diagnosis as the human output shows it: the cause first, then what it rests on, the fix,
/// the commands, and any cause the evidence could not rule out.
fn write_diagnosis(text: &mut String, d: &Diagnosis) {
    let _ = write!(
        text,
        "\n  diagnosis: {} [{}]\n  cause: {}",
        d.title, d.kind, d.cause
    );
    for e in &d.evidence {
        let _ = write!(text, "\n    because {e}");
    }
    let _ = write!(text, "\n  fix: {}", d.fix);
    if !d.commands.is_empty() {
        text.push_str("\n  admin commands (Exchange Online PowerShell):");
        for c in &d.commands {
            let _ = write!(text, "\n    {c}");
        }
    }
    if !d.alternatives.is_empty() {
        text.push_str("\n  the evidence cannot rule out:");
        for a in &d.alternatives {
            let _ = write!(
                text,
                "\n    {} [{}]: to tell them apart, {}",
                a.title, a.kind, a.tell_apart
            );
        }
    }
}

/// Writes the run as text (colour on a terminal) or as JSON lines.
struct Printer {
    json: bool,
    color: bool,
    /// The width of the target column.
    width: usize,
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
        }
    }

    fn line(text: &str) {
        output::out(text);
    }

    fn json_line(kind: &str, value: serde_json::Value) {
        let mut value = value;
        if let Some(map) = value.as_object_mut() {
            map.insert("type".into(), kind.into());
        }
        output::json(value);
    }

    /// A status word (painted on a terminal) and the rest of the line.
    fn status_line(&self, status: Status, rest: &str) {
        output::line(&[Part::Status(status), Part::Text(rest)], self.color);
    }

    fn event(&mut self, e: &Event) {
        if self.json {
            Self::json_line("event", serde_json::to_value(e).unwrap_or_default());
            return;
        }
        if e.status == Status::Running {
            return;
        }
        self.status_line(
            e.status,
            &format!(
                " {:<width$}  {:<12} {:>5} ms  {}",
                e.target,
                e.step.to_string(),
                e.elapsed.as_millis(),
                e.detail,
                width = self.width
            ),
        );
    }

    fn sign_in_failed(
        &mut self,
        account: &str,
        user: Option<&str>,
        error: &str,
        d: Option<&Diagnosis>,
    ) {
        if self.json {
            Self::json_line(
                "sign_in_failed",
                serde_json::json!({ "account": account, "user": user, "error": error, "diagnosis": d }),
            );
        } else {
            let as_user = user.map_or_else(String::new, |u| format!(" as {u}"));
            self.status_line(
                Status::Failed,
                &format!(" sign-in for account \"{account}\"{as_user} failed:\n{error}"),
            );
        }
    }

    /// What an account's token lacks, before the tests.
    fn token_problems(&mut self, account: &str, found: &[Diagnosis]) {
        if found.is_empty() {
            return;
        }
        if self.json {
            Self::json_line(
                "token_check",
                serde_json::json!({ "account": account, "problems": found }),
            );
            return;
        }
        let mut text = format!(" the token of account \"{account}\" will not do:");
        for d in found {
            let _ = write!(text, "\n  {} [{}]\n    fix: {}", d.title, d.kind, d.fix);
        }
        self.status_line(Status::Warning, &text);
    }

    fn not_tested(&mut self, target: &str, why: &str) {
        if self.json {
            Self::json_line(
                "not_tested",
                serde_json::json!({ "target": target, "reason": why }),
            );
        } else {
            self.status_line(Status::Skipped, &format!(" {target}  not tested: {why}"));
        }
    }

    fn reports(&mut self, reports: &[Report]) {
        for r in reports {
            if self.json {
                Self::json_line("report", serde_json::to_value(r).unwrap_or_default());
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
                write_diagnosis(&mut text, d);
            }
            if !failed.transcript.is_empty() {
                text.push_str("\n  transcript of the failed step:");
                // Already cut by the probe: a step keeps its first and last lines, and a count.
                for l in &failed.transcript {
                    let _ = write!(text, "\n    {l}");
                }
            }
            Self::line(&text);
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
            Self::json_line(
                "summary",
                serde_json::json!({
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
        Self::line(&text);
        for r in reports {
            let verdict = if r.ok { Status::Ok } else { Status::Failed };
            let at = r
                .failed_step()
                .map_or_else(String::new, |e| format!(" (at {})", e.step));
            let rest = format!(
                " {} ({}) in {} ms{at}",
                r.target,
                r.kind,
                r.total.as_millis()
            );
            output::line(
                &[Part::Text("  "), Part::Status(verdict), Part::Text(&rest)],
                self.color,
            );
        }
    }
}
