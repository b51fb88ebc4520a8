//! `mailcfg check` for monitoring systems: one run of sign-ins and tests (the same engine and
//! diagnosis as `mailcfg test`) plus what decays with time — the client secret's expiry, each
//! server certificate's, a delegated account's stored sign-in — judged against thresholds and
//! written for Nagios/Icinga (the Monitoring Plugins contract, [`nagios`]), Prometheus' textfile
//! collector ([`prometheus`]) or as one JSON object. Pure: the caller runs the tests.

pub mod nagios;
pub mod prometheus;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::diagnosis::{Diagnosis, SignInSeen};
use crate::probe::{Report, Step, TargetKind};
use crate::profile::Profile;

/// The Monitoring Plugins states, worst last; the exit code is the state's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Ok,
    Warning,
    Unknown,
    Critical,
}

impl State {
    /// The plugin exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
    pub fn code(self) -> u8 {
        match self {
            State::Ok => 0,
            State::Warning => 1,
            State::Critical => 2,
            State::Unknown => 3,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }
}

/// Days left at which an expiry warns, and at which it is critical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Thresholds {
    pub warn_days: i64,
    pub crit_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            warn_days: 30,
            crit_days: 7,
        }
    }
}

impl Thresholds {
    /// The state of something that expires in `days`.
    /// The state of something with `days` whole days left: fewer than `crit_days` is critical,
    /// fewer than `warn_days` a warning (the perfdata ranges `N:` say the same).
    pub fn judge(self, days: i64) -> State {
        if days < self.crit_days {
            State::Critical
        } else if days < self.warn_days {
            State::Warning
        } else {
            State::Ok
        }
    }
}

/// Something that expires, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expiry {
    /// Seconds since the Unix epoch.
    pub at: i64,
    /// Whole days left (negative once past).
    pub days: i64,
    pub state: State,
}

impl Expiry {
    fn new(at: i64, now: SystemTime, t: Thresholds) -> Self {
        let now = unix(now);
        let days = (at - now).div_euclid(86_400);
        Self {
            at,
            days,
            state: t.judge(days),
        }
    }
}

/// How long one step took.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StepTime {
    pub step: Step,
    pub seconds: f64,
}

/// One mailbox or transport, as the check saw it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub target: String,
    pub protocol: TargetKind,
    pub account: Option<String>,
    pub state: State,
    /// Passed, failed at a step, or not tested (no token, no password).
    pub ok: bool,
    pub failed_step: Option<Step>,
    pub not_tested: Option<String>,
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
    /// Each step's time, in order.
    pub steps: Vec<StepTime>,
    pub diagnosis: Option<Diagnosis>,
    pub certificate: Option<Expiry>,
}

/// One connected account, as the check saw it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountCheck {
    pub account: String,
    pub state: State,
    pub signed_in: bool,
    /// Why the sign-in failed, explained.
    pub sign_in_error: Option<String>,
    pub diagnosis: Option<Diagnosis>,
    /// From the profile's `client_secret_expires`.
    pub client_secret: Option<Expiry>,
}

/// A finding with its state, one line for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub state: State,
    pub text: String,
    /// Something that decays (a secret, a certificate) rather than a failure: of two problems
    /// of one state, the failure is said first.
    pub expiry: bool,
}

/// The whole check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    #[serde(serialize_with = "unix_time")]
    pub at: SystemTime,
    pub state: State,
    pub thresholds: Thresholds,
    pub targets: Vec<TargetCheck>,
    pub accounts: Vec<AccountCheck>,
    /// Everything not OK, worst first.
    pub problems: Vec<Problem>,
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn unix_time<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(unix(*t))
}

/// What failed sign-ins mean for the check: the profile or the stored sign-in is missing
/// something mailcfg cannot judge past (UNKNOWN), or the provider refused (CRITICAL).
fn sign_in_state(s: &SignInSeen) -> State {
    match s {
        SignInSeen::Token(_) => State::Ok,
        SignInSeen::Failed(f) if f.needs_input => State::Unknown,
        SignInSeen::Failed(_) => State::Critical,
    }
}

/// The date of `client_secret_expires` (`YYYY-MM-DD`) as the end of that day, UTC.
fn secret_expiry(date: &str) -> Option<i64> {
    let day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(23, 59, 59)?.and_utc().timestamp())
}

/// An account's client secret expiry, judged (the window shows it as `check` does).
pub fn client_secret(
    a: &crate::profile::Account,
    t: Thresholds,
    now: SystemTime,
) -> Option<Expiry> {
    a.client_secret_expires
        .as_deref()
        .and_then(secret_expiry)
        .map(|at| Expiry::new(at, now, t))
}

/// The expiry of the certificate a test saw, judged.
pub fn certificate(r: &Report, t: Thresholds, now: SystemTime) -> Option<Expiry> {
    r.certificate
        .as_ref()
        .map(|c| Expiry::new(c.not_after_unix, now, t))
}

/// The check of a run: `seen` the accounts' sign-ins, `reports` the tests, `not_tested` the
/// targets that could not start, with why.
pub fn judge(
    profile: &Profile,
    seen: &BTreeMap<String, SignInSeen>,
    account_findings: &BTreeMap<String, Vec<Diagnosis>>,
    reports: &[Report],
    not_tested: &[(String, String)],
    thresholds: Thresholds,
    at: SystemTime,
) -> Check {
    let mut problems = Vec::new();
    let accounts = judge_accounts(
        profile,
        seen,
        account_findings,
        thresholds,
        at,
        &mut problems,
    );
    let mut targets = judge_reports(reports, thresholds, at, &mut problems);
    judge_not_tested(profile, not_tested, &accounts, &mut targets, &mut problems);
    problems.sort_by_key(|p| (std::cmp::Reverse(p.state), p.expiry));
    let state = problems.first().map_or(State::Ok, |p| p.state);
    Check {
        at,
        state,
        thresholds,
        targets,
        accounts,
        problems,
    }
}

fn judge_accounts(
    profile: &Profile,
    seen: &BTreeMap<String, SignInSeen>,
    account_findings: &BTreeMap<String, Vec<Diagnosis>>,
    thresholds: Thresholds,
    at: SystemTime,
    problems: &mut Vec<Problem>,
) -> Vec<AccountCheck> {
    let mut accounts = Vec::new();
    for a in &profile.accounts {
        let Some(s) = seen.get(&a.name) else {
            continue;
        };
        let mut state = sign_in_state(s);
        let diagnosis = account_findings
            .get(&a.name)
            .and_then(|d| d.first())
            .cloned();
        let sign_in_error = match s {
            SignInSeen::Failed(f) => {
                let why = diagnosis
                    .as_ref()
                    .map_or_else(|| first_line(&f.text), |d| d.title.clone());
                problems.push(Problem {
                    expiry: false,
                    state,
                    text: format!("account {}: {why}", a.name),
                });
                Some(f.text.clone())
            }
            SignInSeen::Token(_) => None,
        };
        let client_secret = client_secret(a, thresholds, at);
        if let Some(e) = &client_secret
            && e.state != State::Ok
        {
            problems.push(Problem {
                expiry: true,
                state: e.state,
                text: if e.days < 0 {
                    format!(
                        "account {}: the client secret expired {} days ago",
                        a.name, -e.days
                    )
                } else {
                    format!(
                        "account {}: the client secret expires in {} days",
                        a.name, e.days
                    )
                },
            });
            state = state.max(e.state);
        }
        accounts.push(AccountCheck {
            account: a.name.clone(),
            state,
            signed_in: matches!(s, SignInSeen::Token(_)),
            sign_in_error,
            diagnosis,
            client_secret,
        });
    }
    accounts
}

fn judge_reports(
    reports: &[Report],
    thresholds: Thresholds,
    at: SystemTime,
    problems: &mut Vec<Problem>,
) -> Vec<TargetCheck> {
    let mut targets = Vec::new();
    for r in reports {
        let certificate = certificate(r, thresholds, at);
        let mut state = if r.ok { State::Ok } else { State::Critical };
        if !r.ok {
            let why = r.diagnosis.as_ref().map_or_else(
                || {
                    r.failed_step().map_or_else(
                        || "failed".into(),
                        |e| format!("failed at {}: {}", e.step, first_line(&e.detail)),
                    )
                },
                |d| format!("{} [{}]", d.title, d.kind),
            );
            problems.push(Problem {
                expiry: false,
                state,
                text: format!("{}: {why}", r.target),
            });
        }
        if let Some(c) = &certificate
            && c.state != State::Ok
        {
            problems.push(Problem {
                expiry: true,
                state: c.state,
                text: if c.days < 0 {
                    format!("{}: the server certificate expired", r.target)
                } else {
                    format!(
                        "{}: the server certificate expires in {} days",
                        r.target, c.days
                    )
                },
            });
            state = state.max(c.state);
        }
        targets.push(TargetCheck {
            target: r.target.clone(),
            protocol: r.kind,
            account: r.account.clone(),
            state,
            ok: r.ok,
            failed_step: r.failed_step().map(|e| e.step),
            not_tested: None,
            duration: r.total,
            steps: r
                .steps
                .iter()
                .map(|e| StepTime {
                    step: e.step,
                    seconds: e.elapsed.as_secs_f64(),
                })
                .collect(),
            diagnosis: r.diagnosis.clone(),
            certificate,
        });
    }
    targets
}

fn judge_not_tested(
    profile: &Profile,
    not_tested: &[(String, String)],
    accounts: &[AccountCheck],
    targets: &mut Vec<TargetCheck>,
    problems: &mut Vec<Problem>,
) {
    for (name, why) in not_tested {
        let (protocol, account) = target_of(profile, name);
        // Not tested because its account could not sign in: that account's state says why.
        let state = account
            .as_deref()
            .and_then(|a| accounts.iter().find(|x| x.account == a))
            .map_or(State::Critical, |a| {
                if a.signed_in {
                    State::Critical
                } else {
                    a.state
                }
            });
        problems.push(Problem {
            expiry: false,
            state,
            text: format!("{name}: not tested: {}", first_line(why)),
        });
        targets.push(TargetCheck {
            target: name.clone(),
            protocol,
            account,
            state,
            ok: false,
            failed_step: None,
            not_tested: Some(why.clone()),
            duration: Duration::ZERO,
            steps: Vec::new(),
            diagnosis: None,
            certificate: None,
        });
    }
}

/// An UNKNOWN check: the profile or the arguments did not allow one (said in `why`).
pub fn unknown(why: &str, at: SystemTime) -> Check {
    Check {
        at,
        state: State::Unknown,
        thresholds: Thresholds::default(),
        targets: Vec::new(),
        accounts: Vec::new(),
        problems: vec![Problem {
            expiry: false,
            state: State::Unknown,
            text: first_line(why),
        }],
    }
}

fn target_of(p: &Profile, name: &str) -> (TargetKind, Option<String>) {
    if let Some(m) = p.mailboxes.iter().find(|m| m.name == name) {
        let kind = match m.protocol {
            crate::profile::Protocol::Imap => TargetKind::Imap,
            crate::profile::Protocol::Pop3 => TargetKind::Pop3,
        };
        return (kind, m.account.clone());
    }
    let account = p
        .transports
        .iter()
        .find(|t| t.name == name)
        .and_then(|t| t.account.clone());
    (TargetKind::Smtp, account)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().trim().to_owned()
}

impl Check {
    /// The one-line summary: "3 of 3 passed", or the worst problem and how many more.
    pub fn summary(&self) -> String {
        let total = self.targets.len();
        let passed = self.targets.iter().filter(|t| t.ok).count();
        match self.problems.as_slice() {
            [] => format!("{passed} of {total} passed"),
            [one] => one.text.clone(),
            [first, rest @ ..] => format!(
                "{} (and {} more problem{}; {passed} of {total} passed)",
                first.text,
                rest.len(),
                if rest.len() == 1 { "" } else { "s" }
            ),
        }
    }

    /// The check as one JSON object.
    pub fn json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.insert("summary".into(), self.summary().into());
            m.insert("exit_code".into(), self.state.code().into());
        }
        v
    }
}

#[cfg(test)]
mod tests;
