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

/// A Workspace service account with Alice's and Bob's mailboxes.
fn workspace() -> Profile {
    let mut a = presets::account("Workspace", crate::profile::Provider::Google, Flow::AppOnly);
    a.client_id = "112233445566778899001".into();
    a.client_email = Some("sync@p.iam.gserviceaccount.com".into());
    a.private_key_id = Some("k1".into());
    Profile {
        accounts: vec![a],
        mailboxes: ["alice", "bob"]
            .map(|u| {
                presets::GMAIL_IMAP.mailbox(
                    u,
                    Protocol::Imap,
                    &format!("{u}@example.com"),
                    Some("Workspace"),
                )
            })
            .to_vec(),
        ..Profile::default()
    }
}

fn refused(error: &str, said: &str, user: &str, p: &Profile) -> SignInSeen {
    let idp = crate::oauth::explain::IdpError::from_redirect(error, Some(said), None);
    let cx = crate::oauth::explain::Context {
        user: Some(user),
        ..crate::oauth::explain::Context::of(&p.accounts[0])
    };
    let e = crate::oauth::OAuthError::Idp(Box::new(crate::oauth::explain::explain(&idp, &cx)));
    SignInSeen::Failed(crate::diagnosis::SignInFailure::from_error(&e).for_user(Some(user)))
}

#[test]
fn a_google_service_accounts_steps_take_their_state_from_each_users_sign_in() {
    let p = workspace();
    let now = UNIX_EPOCH + Duration::from_secs(1_795_000_200);
    let alice = SignInSeen::Token(TokenSeen {
        claims: Ok(crate::oauth::claims::from_answer(
            &["https://mail.google.com/".into()],
            Some("alice@example.com"),
            Some(1_795_003_600),
        )),
        fetched_at: now,
        expires_at: None,
        user: Some("alice@example.com".into()),
    });
    let bob = refused(
        "invalid_grant",
        "Invalid email or User ID",
        "bob@example.com",
        &p,
    );
    let mut ok = report("alice", "alice@example.com", None);
    ok.account = Some("Workspace".into());
    let mut ev = Evidence::new(&p, now);
    ev.user_sign_ins = vec![
        ("Workspace", "alice@example.com", &alice),
        ("Workspace", "bob@example.com", &bob),
    ];
    ev.reports = vec![&ok];
    let mut findings = Vec::new();
    for s in [&alice, &bob] {
        let mut one = Evidence::new(&p, now);
        one.sign_ins.push(("Workspace", s));
        findings.extend(diagnosis::for_account(&one, "Workspace", &Place::Window));
    }
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].kind, Kind::NotADomainUser);
    let items = checklist(&ev, &p.accounts[0], &findings, now);
    assert_eq!(
        state(&items, "Create the project and the service account"),
        State::Done
    );
    assert_eq!(state(&items, "Grant domain-wide delegation"), State::Done);
    assert_eq!(
        state(&items, "alice@example.com: a user of the domain"),
        State::Done
    );
    assert_eq!(
        state(&items, "bob@example.com: a user of the domain"),
        State::Failed
    );

    // Delegation not granted: that step fails, with the values to enter.
    let no = refused(
        "unauthorized_client",
        "Client is unauthorized to retrieve access tokens using this method.",
        "alice@example.com",
        &p,
    );
    let mut one = Evidence::new(&p, now);
    one.sign_ins.push(("Workspace", &no));
    let findings = diagnosis::for_account(&one, "Workspace", &Place::Window);
    assert_eq!(findings[0].kind, Kind::DelegationNotGranted);
    let items = checklist(&one, &p.accounts[0], &findings, now);
    let dwd = items
        .iter()
        .find(|i| i.title == "Grant domain-wide delegation")
        .unwrap();
    assert_eq!(dwd.state, State::Failed);
    assert_eq!(
        dwd.commands,
        ["112233445566778899001", "https://mail.google.com/"]
    );
    assert!(
        dwd.how
            .contains("Security → Access and data control → API controls → Domain-wide delegation")
    );
}

#[test]
fn what_the_set_up_script_reported_is_done_until_the_run_shows_otherwise() {
    let p = presets::microsoft365_profile();
    let a = &p.accounts[0];
    let user = p.mailboxes[0].user.clone();
    let now = UNIX_EPOCH + Duration::from_secs(1_795_000_200);
    let reported = [
        SetupStep::RegisterApp,
        SetupStep::ServicePrincipal,
        SetupStep::MailboxGrant(user.clone()),
    ];
    let mut ev = Evidence::new(&p, now);
    ev.setup_reported = reported.iter().map(|s| (a.name.as_str(), s)).collect();
    let items = checklist(&ev, a, &[], now);
    assert_eq!(state(&items, "Register the app"), State::Done);
    assert!(
        items[0]
            .evidence
            .contains("reported done by the set-up script"),
        "{items:#?}"
    );
    assert_eq!(state(&items, "Register the service principal"), State::Done);
    assert_eq!(state(&items, "Grant the app the mailbox"), State::Done);
    assert_eq!(
        state(&items, "Grant admin consent"),
        State::Unknown,
        "not reported"
    );
    // Another account's report counts for nothing.
    let mut other = Evidence::new(&p, now);
    other.setup_reported = reported.iter().map(|s| ("Other", s)).collect();
    assert_eq!(
        state(&checklist(&other, a, &[], now), "Register the app"),
        State::Unknown
    );
    // A finding of this run wins over the report.
    let mut r = [report(
        &p.mailboxes[0].name,
        &user,
        Some((
            ProbeStep::Mailbox,
            Symptom::NotConnected {
                reply: "A2 BAD User is authenticated but not connected.".into(),
            },
        )),
    )];
    let found = {
        let sign_in = token(claims(&["IMAP.AccessAsApp", "SMTP.SendAsApp"]));
        let mut ev = Evidence::new(&p, now);
        ev.sign_ins.push((&a.name, &sign_in));
        ev.reports = r.iter().collect();
        diagnosis::for_run(&ev, &Place::Window)
    };
    diagnosis::assign(&mut r, &found);
    let findings: Vec<_> = r.iter().filter_map(|r| r.diagnosis.clone()).collect();
    ev.reports = r.iter().collect();
    let items = checklist(&ev, a, &findings, now);
    assert_eq!(state(&items, "Grant the app the mailbox"), State::Failed);
}

#[test]
fn a_finding_no_row_takes_is_still_shown() {
    let mut p = presets::microsoft365_profile();
    p.accounts[0].flow = crate::profile::Flow::Delegated;
    let refused = SignInSeen::Failed(crate::diagnosis::SignInFailure {
        text: "sign-in refused".into(),
        code: Some("AADSTS7000218".into()),
        explanation: Some(crate::oauth::explain::Explanation {
            title: "the app needs a client secret or public client flows".into(),
            cause: "c".into(),
            fix: "allow public client flows".into(),
            ours: false,
            uri: None,
            code: "AADSTS7000218".into(),
            server_said: String::new(),
            trace_id: None,
            correlation_id: None,
            case: None,
        }),
        needs_input: false,
        acts_for: None,
    });
    let c = run(&p, Some(&refused), &mut []);
    assert_eq!(
        state(&c, "Register the app"),
        State::Failed,
        "a delegated account has no secret row: {c:#?}"
    );

    // A finding on a step this account has no row for lands in "Something else".
    let now = UNIX_EPOCH + Duration::from_secs(1_795_000_200);
    let ev = Evidence::new(&p, now);
    let stray = Diagnosis {
        kind: Kind::UserMismatch,
        title: "The mailbox shared@x is opened with a@x's token".into(),
        cause: String::new(),
        fix: "give a@x FullAccess".into(),
        commands: Vec::new(),
        evidence: Vec::new(),
        confidence: Confidence::Likely,
        alternatives: Vec::new(),
        setup_step: Some(crate::diagnosis::SetupStep::MailboxGrant("shared@x".into())),
    };
    let items = checklist(&ev, &p.accounts[0], &[stray], now);
    let other = items
        .iter()
        .find(|i| i.title == "Something else stands in the way")
        .unwrap();
    assert_eq!(other.kind, Some(Kind::UserMismatch));
}
