//! Google's causes: what the token endpoint said to a service account's JWT (domain-wide
//! delegation not granted, a clock that is off, a key Google no longer has, a user outside the
//! domain), and Gmail's own refusal of IMAP or POP switched off for a user.

use super::{Case, proven};
use crate::diagnosis::{Confidence, Found, SetupStep, SignInSeen};
use crate::probe::Symptom;
use crate::provider::google::{self, Case as Seen};

/// The refusal the catalogue recognised as `want`, before any test (or behind a test that
/// could not sign in): the explained sign-in as a finding on `step`.
fn refusal(
    case: &Case<'_>,
    want: Seen,
    step: impl FnOnce(Option<String>) -> SetupStep,
) -> Option<Found> {
    let Some(SignInSeen::Failed(f)) = case.sign_in else {
        return None;
    };
    let x = f.explanation.as_ref()?;
    if x.case != Some(want) || case.failure.is_some() {
        return None;
    }
    let user = f.acts_for.clone().or_else(|| case.user.clone());
    let mut evidence = vec![format!(
        "Google's token endpoint refused the {} with {}{}",
        if case.app_only() {
            "service account's JWT"
        } else {
            "sign-in"
        },
        x.code,
        user.as_deref()
            .map_or_else(String::new, |u| format!(" (for {u})"))
    )];
    if !x.server_said.is_empty() {
        evidence.push(format!("it said: {}", x.server_said));
    }
    Some(Found {
        confidence: Confidence::Proven,
        title: capitalised(&x.title),
        cause: x.cause.clone(),
        fix: x.fix.clone(),
        commands: Vec::new(),
        evidence,
        step: Some(step(user)),
    })
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// Whether the catalogue's case has a kind of its own (then `sign_in_refused` stays silent).
pub(super) fn has_own_kind(case: Option<Seen>) -> bool {
    matches!(
        case,
        Some(
            Seen::DelegationNotGranted | Seen::ClockSkew | Seen::KeyRefused | Seen::NotADomainUser
        )
    )
}

pub(super) fn delegation_not_granted(case: &Case<'_>) -> Option<Found> {
    refusal(case, Seen::DelegationNotGranted, |_| {
        SetupStep::DomainWideDelegation
    })
}

pub(super) fn clock_skew(case: &Case<'_>) -> Option<Found> {
    refusal(case, Seen::ClockSkew, |_| SetupStep::Token)
}

pub(super) fn service_account_key_refused(case: &Case<'_>) -> Option<Found> {
    refusal(case, Seen::KeyRefused, |_| SetupStep::ClientSecret)
}

pub(super) fn not_a_domain_user(case: &Case<'_>) -> Option<Found> {
    refusal(case, Seen::NotADomainUser, |u| {
        SetupStep::DomainUser(u.unwrap_or_default())
    })
}

pub(super) fn gmail_protocol_disabled(case: &Case<'_>) -> Option<Found> {
    if !matches!(case.symptom()?, Symptom::ProtocolDisabled { .. }) {
        return None;
    }
    let user = case.user.clone().unwrap_or_default();
    let proto = case
        .kind
        .map_or_else(|| "IMAP".to_owned(), |k| k.to_string());
    let mut f = proven(
        case,
        format!("{proto} is switched off for {user}"),
        format!(
            "Gmail accepted nothing from {user} over {proto}: the protocol is off for this user, or for the whole domain by its administrator."
        ),
        format!(
            "Switch it on: {} (changes can take a few minutes); then {}.",
            google::IMAP_ACCESS_PAGE,
            case.place.retest()
        ),
        Vec::new(),
    );
    f.step = Some(SetupStep::ProtocolEnabled(user));
    Some(f)
}
