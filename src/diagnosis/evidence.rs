//! What one run saw, as types: each account's sign-in (refused, with the identity provider's code,
//! or a token with its claims and when it came), every test report with its typed failure, and
//! the profile. The window and the command line gather it the same way; the rules read it
//! through [`Case`], the view of one failure (or of one account before any test).

use std::time::SystemTime;

use crate::oauth::claims::{self, Claims, Need};
use crate::oauth::explain::Explanation;
use crate::oauth::{AccessToken, expose};
use crate::probe::{Report, TargetKind};
use crate::profile::Profile;

use super::rules::Case;
use super::{Place, SetupStep};

/// Why a sign-in failed: the explained text, and the identity provider's code when it refused
/// (`AADSTS7000215`, `invalid_client`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInFailure {
    pub text: String,
    pub code: Option<String>,
    pub explanation: Option<Explanation>,
    /// The profile or this computer lacks something to sign in with (no client secret, no stored
    /// sign-in for a run that may not ask, an unreadable CA file, a keyring error), as opposed
    /// to the identity provider refusing or not answering.
    pub needs_input: bool,
    /// A Google service account's sign-in: the mailbox user it was for.
    pub acts_for: Option<String>,
}

impl std::fmt::Display for SignInFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl SignInFailure {
    pub fn from_error(e: &crate::oauth::OAuthError) -> Self {
        use crate::oauth::OAuthError as E;
        let explanation = match e {
            crate::oauth::OAuthError::Idp(x) => Some((**x).clone()),
            _ => None,
        };
        Self {
            text: e.to_string(),
            code: explanation.as_ref().map(|x| x.code.clone()),
            explanation,
            needs_input: matches!(
                e,
                E::Config { .. } | E::NeedsSignIn { .. } | E::CaFile { .. } | E::Secret(_)
            ),
            acts_for: None,
        }
    }

    /// The failure of a service account's sign-in for `user`.
    #[must_use]
    pub fn for_user(mut self, user: Option<&str>) -> Self {
        self.acts_for = user.map(str::to_owned);
        self
    }
}

/// A token as the run saw it. The token itself is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSeen {
    /// Its claims, or why they cannot be read (an opaque token).
    pub claims: Result<Claims, String>,
    /// When it arrived, by this computer's clock.
    pub fetched_at: SystemTime,
    /// From the identity provider's `expires_in`, by this computer's clock.
    pub expires_at: Option<SystemTime>,
    /// The signed-in user, from the id_token (delegated sign-ins).
    pub user: Option<String>,
}

impl TokenSeen {
    pub fn of(t: &AccessToken) -> Self {
        let claims = match claims::decode(expose(t)) {
            // An opaque token (Google's) is known by what came with it.
            Err(claims::ClaimsError::Opaque) if t.scopes.is_some() => Ok(claims::from_answer(
                t.scopes.as_deref().unwrap_or_default(),
                t.acts_for.as_deref().or(t.user.as_deref()),
                t.expires_at
                    .and_then(|e| e.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_secs()),
            )),
            other => other.map_err(|e| e.to_string()),
        };
        Self {
            claims,
            fetched_at: t.fetched_at,
            expires_at: t.expires_at,
            user: t.user.clone(),
        }
    }

    /// The signed-in user by the id_token, else by the access token's claims.
    pub fn user(&self) -> Option<&str> {
        self.user
            .as_deref()
            .or_else(|| self.claims.as_ref().ok()?.user.as_deref())
    }
}

/// An account's sign-in in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInSeen {
    Failed(SignInFailure),
    Token(TokenSeen),
}

/// Everything one run saw.
pub struct Evidence<'a> {
    pub profile: &'a Profile,
    /// Each account's sign-in, by account name (an account not signed in is absent).
    pub sign_ins: Vec<(&'a str, &'a SignInSeen)>,
    /// A Google service account's sign-ins, one per mailbox user: `(account, user, sign-in)`.
    pub user_sign_ins: Vec<(&'a str, &'a str, &'a SignInSeen)>,
    /// The reports of the tests that ran.
    pub reports: Vec<&'a Report>,
    /// The set-up steps the set-up script reported done, by account name: what the admin's
    /// run in Azure Cloud Shell saw, until a sign-in or a test shows more.
    pub setup_reported: Vec<(&'a str, &'a SetupStep)>,
    pub now: SystemTime,
}

impl<'a> Evidence<'a> {
    pub fn new(profile: &'a Profile, now: SystemTime) -> Self {
        Self {
            profile,
            sign_ins: Vec::new(),
            user_sign_ins: Vec::new(),
            reports: Vec::new(),
            setup_reported: Vec::new(),
            now,
        }
    }

    pub fn sign_in(&self, account: &str) -> Option<&'a SignInSeen> {
        self.sign_ins
            .iter()
            .find(|(a, _)| *a == account)
            .map(|(_, s)| *s)
    }

    /// The sign-in a target of `account` signing in as `user` used: the user's own (a service
    /// account's), else the account's.
    pub fn sign_in_as(&self, account: &str, user: Option<&str>) -> Option<&'a SignInSeen> {
        user.and_then(|u| {
            self.user_sign_ins
                .iter()
                .find(|(a, who, _)| *a == account && who.eq_ignore_ascii_case(u))
                .map(|(_, _, s)| *s)
        })
        .or_else(|| self.sign_in(account))
    }

    /// Whether the set-up script reported this step of the account done.
    pub fn setup_reported(&self, account: &str, step: &SetupStep) -> bool {
        self.setup_reported
            .iter()
            .any(|(a, s)| *a == account && *s == step)
    }

    /// The case of a failed target; `None` when it is unknown or passed.
    pub(crate) fn target_case<'e>(&'e self, target: &str, place: &'e Place) -> Option<Case<'e>> {
        let report = self.reports.iter().copied().find(|r| r.target == target)?;
        let failure = report.failure.as_ref()?;
        let account = report
            .account
            .as_deref()
            .and_then(|a| self.profile.account(a));
        let service = match report.kind {
            TargetKind::Imap => claims::Service::Imap,
            TargetKind::Pop3 => claims::Service::Pop3,
            TargetKind::Smtp => claims::Service::Smtp,
        };
        let user = report.user.clone().or_else(|| self.profile_user(target));
        Some(Case {
            ev: self,
            place,
            report: Some(report),
            failure: Some(failure),
            account,
            sign_in: account.and_then(|a| self.sign_in_as(&a.name, user.as_deref())),
            needs: vec![Need {
                service,
                target: report.target.clone(),
            }],
            kind: Some(report.kind),
            user,
            target: Some(report.target.clone()),
        })
    }

    /// The case of an account before any test: its sign-in and its token against every need.
    pub(crate) fn account_case<'e>(&'e self, account: &str, place: &'e Place) -> Option<Case<'e>> {
        let a = self.profile.account(account)?;
        Some(Case {
            ev: self,
            place,
            report: None,
            failure: None,
            account: Some(a),
            sign_in: self.sign_in(account),
            needs: claims::needs(self.profile, account),
            kind: None,
            user: None,
            target: None,
        })
    }

    /// The user a target signs in as, by the profile (the report knows it once it ran).
    fn profile_user(&self, target: &str) -> Option<String> {
        let p = self.profile;
        p.mailboxes
            .iter()
            .find(|m| m.name == target)
            .map(|m| m.user.clone())
            .or_else(|| {
                p.transports
                    .iter()
                    .find(|t| t.name == target)
                    .and_then(|t| t.username.clone())
            })
            .filter(|u| !u.is_empty())
    }

    /// The other reports signed in with the same account, the given one left out.
    pub(crate) fn siblings(&self, of: &Report) -> Vec<&'a Report> {
        self.reports
            .iter()
            .copied()
            .filter(|r| r.target != of.target && r.account.is_some() && r.account == of.account)
            .collect()
    }
}
