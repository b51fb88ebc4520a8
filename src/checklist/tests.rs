#![allow(clippy::duration_suboptimal_units)] // Unix times in seconds

use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::diagnosis::{self, Confidence, Place, TokenSeen};
use crate::oauth::claims::Claims;
use crate::probe::{Event, Failure, Report, Symptom, TargetKind};
use crate::profile::{Profile, presets};

fn report(target: &str, user: &str, failed_at: Option<(ProbeStep, Symptom)>) -> Report {
    let steps = [ProbeStep::Authenticate, ProbeStep::Mailbox]
        .into_iter()
        .map(|step| Event {
            target: target.into(),
            step,
            status: match &failed_at {
                Some((s, _)) if *s == step => Status::Failed,
                Some((ProbeStep::Authenticate, _)) => Status::Skipped,
                _ => Status::Ok,
            },
            elapsed: Duration::ZERO,
            detail: String::new(),
            transcript: Vec::new(),
        })
        .collect();
    Report {
        target: target.into(),
        kind: TargetKind::Imap,
        account: Some("Office365".into()),
        user: Some(user.into()),
        started_at: UNIX_EPOCH + Duration::from_secs(1_795_000_100),
        ok: failed_at.is_none(),
        failure: failed_at.map(|(step, symptom)| Failure { step, symptom }),
        steps,
        transcript: Vec::new(),
        certificate: None,
        diagnosis: None,
        total: Duration::ZERO,
    }
}

fn claims(roles: &[&str]) -> Claims {
    Claims {
        audience: vec!["https://outlook.office365.com".into()],
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        object_id: Some("9d8e7f60-5a4b-4c3d-8e2f-1a0b9c8d7e6f".into()),
        expires: Some(1_795_003_600),
        issued: Some(1_795_000_000),
        ..Claims::default()
    }
}

fn state(items: &[Item], title: &str) -> State {
    match items.iter().find(|i| i.title.starts_with(title)) {
        Some(i) => i.state,
        None => panic!("no step {title}: {items:#?}"),
    }
}

/// The checklist of the preset's account after a run: its sign-in and the reports.
fn run(p: &Profile, sign_in: Option<&SignInSeen>, reports: &mut [Report]) -> Vec<Item> {
    let now = UNIX_EPOCH + Duration::from_secs(1_795_000_200);
    let a = &p.accounts[0];
    let found = {
        let mut ev = Evidence::new(p, now);
        if let Some(s) = sign_in {
            ev.sign_ins.push((&a.name, s));
        }
        ev.reports = reports.iter().collect();
        diagnosis::for_run(&ev, &Place::Window)
    };
    diagnosis::assign(reports, &found);
    let mut ev = Evidence::new(p, now);
    if let Some(s) = sign_in {
        ev.sign_ins.push((&a.name, s));
    }
    ev.reports = reports.iter().collect();
    let mut findings = diagnosis::for_account(&ev, &a.name, &Place::Window);
    findings.extend(reports.iter().filter_map(|r| r.diagnosis.clone()));
    checklist(&ev, a, &findings, now)
}

fn token(c: Claims) -> SignInSeen {
    SignInSeen::Token(TokenSeen {
        claims: Ok(c),
        fetched_at: UNIX_EPOCH + Duration::from_secs(1_795_000_000),
        expires_at: None,
        user: None,
    })
}

#[test]
fn each_step_takes_its_state_from_the_findings_and_the_proofs() {
    let mut p = presets::microsoft365_profile();
    p.accounts[0].client_secret_expires = Some("2026-12-10".into());
    p.accounts[0].client_id = "6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a60".into();
    let nothing = run(&p, None, &mut []);
    assert!(
        nothing
            .iter()
            .all(|i| i.state == State::Unknown || i.title == "Create a client secret"),
        "{nothing:#?}"
    );
    assert_eq!(
        state(&nothing, "Create a client secret"),
        State::Warning,
        "2026-12-10 is 22 days away"
    );

    let all = ["IMAP.AccessAsApp", "POP.AccessAsApp", "SMTP.SendAsApp"];
    let user = p.mailboxes[0].user.clone();
    let name = p.mailboxes[0].name.clone();
    let mut r = [report(
        &name,
        &user,
        Some((
            ProbeStep::Mailbox,
            Symptom::NotConnected {
                reply: "A2 BAD User is authenticated but not connected.".into(),
            },
        )),
    )];
    let c = run(&p, Some(&token(claims(&all))), &mut r);
    assert_eq!(
        state(&c, "Register the service principal"),
        State::Done,
        "the token was accepted"
    );
    let grant = c
        .iter()
        .find(|i| i.title.starts_with("Grant the app the mailbox"))
        .unwrap();
    assert_eq!(grant.state, State::Failed);
    assert_eq!(grant.kind, Some(Kind::MailboxGrantMissing));
    assert_eq!(
        grant.kind,
        r[0].diagnosis.as_ref().map(|d| d.kind),
        "the checklist and the Test panel agree"
    );
    assert!(
        grant
            .commands
            .iter()
            .any(|c| c.starts_with("Add-MailboxPermission -Identity '")),
        "{:?}",
        grant.commands
    );

    let mut r = [report(
        &name,
        &user,
        Some((
            ProbeStep::Authenticate,
            Symptom::AuthRefused {
                reply: "A1 NO AUTHENTICATE failed.".into(),
                challenge: None,
            },
        )),
    )];
    let c = run(&p, Some(&token(claims(&all))), &mut r);
    let sp = c
        .iter()
        .find(|i| i.title.starts_with("Register the service principal"))
        .unwrap();
    assert_eq!(sp.state, State::Failed, "{c:#?}");
    assert_eq!(sp.kind, Some(Kind::ServicePrincipalMissing));
    assert!(
        sp.commands
            .iter()
            .any(|c| c.starts_with("New-ServicePrincipal -AppId '6c1b7e2a")),
        "{:?}",
        sp.commands
    );
    assert_eq!(state(&c, "Add the API permissions"), State::Done);
    assert_eq!(state(&c, "Grant admin consent"), State::Done);
}

#[test]
fn a_graph_token_is_put_on_the_token_step_not_on_consent() {
    let p = presets::microsoft365_profile();
    let graph = token(Claims {
        audience: vec!["https://graph.microsoft.com".into()],
        ..claims(&["IMAP.AccessAsApp", "SMTP.SendAsApp"])
    });
    let c = run(&p, Some(&graph), &mut []);
    assert_eq!(
        state(&c, "Ask for a token of Exchange Online"),
        State::Failed,
        "{c:#?}"
    );
    assert_ne!(
        state(&c, "Add the API permissions"),
        State::Failed,
        "{c:#?}"
    );
    assert_ne!(state(&c, "Grant admin consent"), State::Failed, "{c:#?}");
    let first = c.iter().find(|i| i.state == State::Failed).unwrap();
    assert!(
        first.evidence.contains("https://graph.microsoft.com"),
        "{first:#?}"
    );
}

#[test]
fn no_roles_fails_consent_and_leaves_permissions_open() {
    let p = presets::microsoft365_profile();
    let c = run(&p, Some(&token(claims(&[]))), &mut []);
    assert_eq!(state(&c, "Grant admin consent"), State::Failed);
    assert_eq!(state(&c, "Add the API permissions"), State::Unknown);
    let consent = c.iter().find(|i| i.title == "Grant admin consent").unwrap();
    assert_eq!(consent.kind, Some(Kind::AdminConsentMissing));
}

#[test]
fn empty_ids_give_no_commands_with_empty_values() {
    let mut p = presets::microsoft365_profile();
    p.accounts[0].client_id = String::new();
    p.mailboxes[0].user = String::new();
    let c = run(&p, None, &mut []);
    for i in &c {
        for cmd in &i.commands {
            assert!(!cmd.contains("''"), "an empty value in {cmd}");
        }
    }
    let _ = Confidence::Proven;
}
