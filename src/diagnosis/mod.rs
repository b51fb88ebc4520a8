//! The one diagnosis: from everything a run saw (each account's sign-in and its token's claims,
//! every target's steps with their typed symptoms, the profile) to the one cause of each failure,
//! with the evidence it rests on, the fix and the admin commands. `mailcfg test`, `mailcfg token`,
//! the window's Test panel and the set-up checklist all read these findings, so they cannot
//! disagree, and nothing outside this module and the probe reads a server's wording.
//!
//! The rules are one table ([`rules::RULES`]); each has a stable [`Kind`] (the JSON contract,
//! listed in docs/diagnosis.md), the evidence it needs, and how sure it can be ([`Confidence`]).
//! For a failure, every rule looks at the evidence; the surest one, then the higher ranked, is the
//! cause. A cause the evidence rules out never appears; causes it cannot tell apart are named,
//! each with what would tell them apart. Pure: no I/O, the time of day is an input.

mod evidence;
mod rules;

use serde::Serialize;

pub use evidence::{Evidence, SignInFailure, SignInSeen, TokenSeen};
pub use rules::{Kind, RULES, Rule};

use crate::probe::Report;

/// How sure a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Consistent with the evidence, but not pointed to by it.
    Possible,
    /// The only cause the evidence leaves (an inference across targets or from the token).
    Likely,
    /// Said by the server or the identity provider, or read from the token itself.
    Proven,
}

/// The set-up step a finding belongs to, for the checklist; also what the set-up script reports
/// done (`src/export/setup/`), in the same JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "step", content = "for", rename_all = "snake_case")]
pub enum SetupStep {
    RegisterApp,
    ClientSecret,
    /// The token is for the right resource and is fresh (the account's scopes, the clock).
    Token,
    ApiPermissions,
    AdminConsent,
    ServicePrincipal,
    /// The grant of one mailbox (its address).
    MailboxGrant(String),
    /// A protocol switched on for one mailbox (its address).
    ProtocolEnabled(String),
    /// Authenticated SMTP for one sender (its address).
    SmtpAuth(String),
    /// Google: the OAuth consent screen (audience, test users, scopes) or an admin's app policy.
    ConsentScreen,
    /// Google Workspace: domain-wide delegation of the service account's client ID and scope.
    DomainWideDelegation,
    /// Google Workspace: one mailbox user (its address) is a user of the domain.
    DomainUser(String),
}

/// Another cause the evidence could not rule out, and what would tell it from the chosen one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alternative {
    pub kind: Kind,
    pub title: String,
    pub tell_apart: String,
}

/// A cause and its fix, with what it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub kind: Kind,
    pub title: String,
    pub cause: String,
    pub fix: String,
    /// Copyable admin lines (Exchange Online PowerShell); may be empty.
    pub commands: Vec<String>,
    /// The facts of the run it rests on, each a sentence a reader can check.
    pub evidence: Vec<String>,
    pub confidence: Confidence,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Alternative>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_step: Option<SetupStep>,
}

/// Where the reader is, so that a fix points at what they can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The command line, with the profile's path for commands to suggest.
    Cli {
        profile: String,
    },
    Window,
}

impl Place {
    /// How to look at an account's token from here.
    pub(crate) fn token_check(&self, account: &str) -> String {
        match self {
            Place::Cli { profile } => format!(
                "`mailcfg token --profile {} --account {}` shows the token's claims",
                shell_word(profile),
                shell_word(account)
            ),
            Place::Window => format!(
                "the token card of the account \"{account}\" (Get token) shows the token's claims"
            ),
        }
    }

    /// How to try again from here.
    pub(crate) fn retest(&self) -> &'static str {
        match self {
            Place::Cli { .. } => "run `mailcfg test` again",
            Place::Window => "press Retest",
        }
    }
}

/// A word for a shell command line: quoted when it holds anything but plain characters.
pub(crate) fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@:+=".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// What a rule found, before the table gives it its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub confidence: Confidence,
    pub title: String,
    pub cause: String,
    pub fix: String,
    pub commands: Vec<String>,
    pub evidence: Vec<String>,
    pub step: Option<SetupStep>,
}

impl Found {
    fn into_diagnosis(self, rule: &Rule, alternatives: Vec<Alternative>) -> Diagnosis {
        Diagnosis {
            kind: rule.kind,
            title: self.title,
            cause: self.cause,
            fix: self.fix,
            commands: self.commands,
            evidence: self.evidence,
            confidence: self.confidence,
            alternatives,
            setup_step: self.step,
        }
    }
}

/// Every rule that finds something in `case`, surest first, then by rank.
fn findings(case: &rules::Case<'_>) -> Vec<(&'static Rule, Found)> {
    let mut found: Vec<(&'static Rule, Found)> = RULES
        .iter()
        .filter_map(|r| (r.check)(case).map(|f| (r, f)))
        .collect();
    found.sort_by(|(ra, a), (rb, b)| b.confidence.cmp(&a.confidence).then(rb.rank.cmp(&ra.rank)));
    found
}

/// The one cause of a failure: the first finding, with the ones it could not be told from. A
/// fallback rule counts only when nothing else was found.
fn choose(found: Vec<(&'static Rule, Found)>) -> Option<Diagnosis> {
    let (fallbacks, found): (Vec<_>, Vec<_>) = found.into_iter().partition(|(r, _)| r.fallback);
    let mut it = if found.is_empty() {
        fallbacks.into_iter()
    } else {
        found.into_iter()
    };
    let (rule, top) = it.next()?;
    let alternatives = if top.confidence == Confidence::Proven {
        Vec::new()
    } else {
        it.map(|(r, f)| Alternative {
            kind: r.kind,
            title: f.title,
            tell_apart: r.tell_apart.to_owned(),
        })
        .collect()
    };
    Some(top.into_diagnosis(rule, alternatives))
}

/// The diagnosis of one failed target of the run (`None`: it passed, or nothing is known of its
/// failure; its failing step then shows the server's words).
pub fn for_target(ev: &Evidence<'_>, target: &str, place: &Place) -> Option<Diagnosis> {
    let case = ev.target_case(target, place)?;
    choose(findings(&case))
}

/// What is wrong with an account before any connection: its sign-in, or its token's claims
/// against what its mailboxes and transports need. Every problem found, surest first.
pub fn for_account(ev: &Evidence<'_>, account: &str, place: &Place) -> Vec<Diagnosis> {
    let Some(case) = ev.account_case(account, place) else {
        return Vec::new();
    };
    findings(&case)
        .into_iter()
        .filter(|(_, f)| f.confidence >= Confidence::Likely)
        .map(|(r, f)| f.into_diagnosis(r, Vec::new()))
        .collect()
}

/// Puts each diagnosis of [`for_run`] on its report.
pub fn assign(reports: &mut [Report], found: &[(String, Diagnosis)]) {
    for r in reports.iter_mut() {
        r.diagnosis = found
            .iter()
            .find(|(t, _)| *t == r.target)
            .map(|(_, d)| d.clone());
    }
}

/// The diagnoses of every failed report in `ev`, by target name.
pub fn for_run(ev: &Evidence<'_>, place: &Place) -> Vec<(String, Diagnosis)> {
    ev.reports
        .iter()
        .filter(|r| !r.ok)
        .filter_map(|r| for_target(ev, &r.target, place).map(|d| (r.target.clone(), d)))
        .collect()
}

#[cfg(test)]
mod tests;
