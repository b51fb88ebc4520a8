//! Evidence → kind, one row per case: a run's sign-ins and reports built by hand, the kind the
//! diagnosis must name, and the kinds it must not mention (ruled out by the evidence).

#![allow(clippy::duration_suboptimal_units)] // Unix times in seconds

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::oauth::claims::Claims;
use crate::probe::symptom::Scope;
use crate::probe::{Event, Failure, Status, Step, Symptom, TargetKind};
use crate::profile::{Flow, Mailbox, Profile, Protocol, Transport, presets};

const T0: u64 = 1_796_000_000; // 2026-11-30
const CLIENT: &str = "6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a60";
const SP_OID: &str = "9d8e7f60-5a4b-4c3d-8e2f-1a0b9c8d7e6f";
const REG_OID: &str = "11111111-2222-3333-4444-555555555555";

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A profile with one app-only Microsoft account "A": IMAP "imap-a" and POP3 "pop-a" for a@,
/// IMAP "imap-b" for b@, SMTP "smtp-a" as a@.
fn profile(flow: Flow) -> Profile {
    let mut p = presets::microsoft365_profile();
    p.accounts.truncate(1);
    p.accounts[0].name = "A".into();
    p.accounts[0].flow = flow;
    p.accounts[0].client_id = CLIENT.into();
    p.accounts[0].tenant = Some("example.test".into());
    let mbx = |name: &str, protocol, user: &str| Mailbox {
        name: name.into(),
        protocol,
        host: "outlook.office365.com".into(),
        port: if protocol == Protocol::Imap { 993 } else { 995 },
        encryption: crate::profile::Encryption::Tls,
        user: user.into(),
        account: Some("A".into()),
    };
    p.mailboxes = vec![
        mbx("imap-a", Protocol::Imap, "a@example.test"),
        mbx("pop-a", Protocol::Pop3, "a@example.test"),
        mbx("imap-b", Protocol::Imap, "b@example.test"),
    ];
    p.transports = vec![Transport {
        name: "smtp-a".into(),
        host: "smtp.office365.com".into(),
        port: 587,
        encryption: crate::profile::Encryption::StartTls,
        auth: true,
        username: Some("a@example.test".into()),
        account: Some("A".into()),
    }];
    p
}

fn app_claims() -> Claims {
    Claims {
        audience: vec!["https://outlook.office365.com".into()],
        tenant: Some("2f6a3c1e-7b4d-4e8a-9c0f-5d1b2a3e4f60".into()),
        app_id: Some(CLIENT.into()),
        roles: vec![
            "IMAP.AccessAsApp".into(),
            "POP.AccessAsApp".into(),
            "SMTP.SendAsApp".into(),
        ],
        object_id: Some(SP_OID.into()),
        issued: Some(T0),
        expires: Some(T0 + 3600),
        ..Claims::default()
    }
}

fn token(claims: Claims) -> SignInSeen {
    SignInSeen::Token(TokenSeen {
        expires_at: claims.expires.map(at),
        claims: Ok(claims),
        fetched_at: at(T0),
        user: None,
    })
}

/// A report that passed every step before `fail`'s, and failed there.
fn report(p: &Profile, target: &str, fail: Option<(Step, Symptom)>) -> Report {
    let (kind, user) = match p.mailboxes.iter().find(|m| m.name == target) {
        Some(m) if m.protocol == Protocol::Imap => (TargetKind::Imap, m.user.clone()),
        Some(m) => (TargetKind::Pop3, m.user.clone()),
        None => (
            TargetKind::Smtp,
            p.transports
                .iter()
                .find(|t| t.name == target)
                .and_then(|t| t.username.clone())
                .unwrap_or_default(),
        ),
    };
    let last = if kind == TargetKind::Smtp {
        Step::Send
    } else {
        Step::Mailbox
    };
    let order = [
        Step::Dns,
        Step::Connect,
        Step::Tls,
        Step::Greeting,
        Step::Capabilities,
        Step::Authenticate,
        last,
    ];
    let mut steps = Vec::new();
    for s in order {
        let status = match &fail {
            Some((f, _)) if *f == s => Status::Failed,
            Some((f, _))
                if order.iter().position(|x| x == f) < order.iter().position(|x| *x == s) =>
            {
                Status::Skipped
            }
            _ => Status::Ok,
        };
        steps.push(Event {
            target: target.into(),
            step: s,
            status,
            elapsed: Duration::from_millis(10),
            detail: String::new(),
            transcript: Vec::new(),
        });
    }
    Report {
        target: target.into(),
        kind,
        account: Some("A".into()),
        user: Some(user),
        started_at: at(T0 + 60),
        ok: fail.is_none(),
        failure: fail.map(|(step, symptom)| Failure { step, symptom }),
        steps,
        transcript: Vec::new(),
        certificate: None,
        diagnosis: None,
        total: Duration::from_millis(70),
    }
}

fn refused() -> Symptom {
    Symptom::AuthRefused {
        reply: "A1 NO AUTHENTICATE failed.".into(),
        challenge: None,
    }
}

fn not_connected() -> Symptom {
    Symptom::NotConnected {
        reply: "A2 BAD User is authenticated but not connected.".into(),
    }
}

fn diagnose(p: &Profile, sign_in: &SignInSeen, reports: &[Report], target: &str) -> Diagnosis {
    let mut ev = Evidence::new(p, at(T0 + 120));
    ev.sign_ins.push(("A", sign_in));
    ev.reports = reports.iter().collect();
    for_target(&ev, target, &Place::Window).unwrap_or_else(|| panic!("no diagnosis for {target}"))
}

fn kinds(d: &Diagnosis) -> Vec<Kind> {
    d.alternatives.iter().map(|a| a.kind).collect()
}

#[test]
fn claims_name_the_cause_of_a_refused_token() {
    let p = profile(Flow::AppOnly);
    let fail = Some((Step::Authenticate, refused()));
    let r = [report(&p, "imap-a", fail)];

    let no_roles = token(Claims {
        roles: Vec::new(),
        ..app_claims()
    });
    let d = diagnose(&p, &no_roles, &r, "imap-a");
    assert_eq!(d.kind, Kind::AdminConsentMissing, "{d:#?}");
    assert_eq!(d.confidence, Confidence::Proven);
    assert!(d.alternatives.is_empty());
    assert!(d.evidence.iter().any(|e| e.contains("no roles")));
    assert!(d.fix.contains("Grant admin consent"));
    assert!(!d.cause.contains("Graph") && !d.cause.contains("expired"));

    let graph = token(Claims {
        audience: vec!["https://graph.microsoft.com".into()],
        ..app_claims()
    });
    let d = diagnose(&p, &graph, &r, "imap-a");
    assert_eq!(d.kind, Kind::WrongResource, "{d:#?}");
    assert!(d.fix.contains("https://outlook.office365.com/.default"));
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("https://graph.microsoft.com"))
    );
    assert!(d.evidence.iter().any(|e| e.contains("asks for")));

    let expired = token(Claims {
        issued: Some(T0 - 3600),
        expires: Some(T0 + 30),
        ..app_claims()
    });
    let d = diagnose(&p, &expired, &r, "imap-a");
    assert_eq!(d.kind, Kind::TokenExpired, "{d:#?}");
    assert!(!d.fix.contains("consent"));
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("this computer is 60 min ahead of")),
        "{d:#?}"
    );

    let born = token(Claims {
        issued: Some(T0),
        expires: Some(T0),
        ..app_claims()
    });
    let d = diagnose(&p, &born, &r, "imap-a");
    assert_eq!(d.kind, Kind::TokenExpired);
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("issued it already expired")),
        "{d:#?}"
    );

    let lacking = token(Claims {
        roles: vec!["POP.AccessAsApp".into()],
        ..app_claims()
    });
    let d = diagnose(&p, &lacking, &r, "imap-a");
    assert_eq!(d.kind, Kind::PermissionMissing);
    assert!(d.title.contains("IMAP.AccessAsApp"), "{}", d.title);
}

#[test]
fn a_right_token_refused_everywhere_is_a_missing_service_principal() {
    let p = profile(Flow::AppOnly);
    let fail = || Some((Step::Authenticate, refused()));
    let reports = [
        report(&p, "imap-a", fail()),
        report(&p, "pop-a", fail()),
        report(&p, "imap-b", fail()),
    ];
    let d = diagnose(&p, &token(app_claims()), &reports, "imap-a");
    assert_eq!(d.kind, Kind::ServicePrincipalMissing, "{d:#?}");
    assert!(
        d.commands.iter().any(|c| c
            == &format!(
                "New-ServicePrincipal -AppId '{CLIENT}' -ObjectId '{SP_OID}' -DisplayName 'A'"
            )),
        "{:?}",
        d.commands
    );
    assert!(d.cause.contains(SP_OID));
    assert!(
        d.alternatives.is_empty(),
        "two protocols refused: not a protocol switch: {d:#?}"
    );

    // Alone, it cannot be told from IMAP switched off for the mailbox: both are said.
    let one = [report(&p, "imap-a", fail())];
    let d = diagnose(&p, &token(app_claims()), &one, "imap-a");
    assert_eq!(d.kind, Kind::ServicePrincipalMissing);
    assert_eq!(
        kinds(&d),
        [Kind::ProtocolDisabled, Kind::MailboxGrantMissing],
        "{d:#?}"
    );
    assert!(!d.alternatives[0].tell_apart.is_empty());
}

#[test]
fn one_mailbox_refused_where_another_was_accepted_is_its_own_grant() {
    let p = profile(Flow::AppOnly);
    let reports = [
        report(&p, "imap-a", None),
        report(&p, "imap-b", Some((Step::Authenticate, refused()))),
    ];
    let d = diagnose(&p, &token(app_claims()), &reports, "imap-b");
    assert_eq!(d.kind, Kind::MailboxGrantMissing, "{d:#?}");
    assert!(d.commands.iter().any(|c| c
        == &format!("Add-MailboxPermission -Identity 'b@example.test' -User '{SP_OID}' -AccessRights FullAccess")));
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("\"imap-a\" (IMAP) signed in as a@example.test")),
        "{d:#?}"
    );
    assert!(!kinds(&d).contains(&Kind::ServicePrincipalMissing));
    assert_eq!(
        d.setup_step,
        Some(SetupStep::MailboxGrant("b@example.test".into()))
    );
}

#[test]
fn a_mailbox_another_protocol_opened_has_this_protocol_off() {
    let p = profile(Flow::AppOnly);
    let reports = [
        report(&p, "imap-a", Some((Step::Mailbox, not_connected()))),
        report(&p, "pop-a", None),
    ];
    let d = diagnose(&p, &token(app_claims()), &reports, "imap-a");
    assert_eq!(d.kind, Kind::ProtocolDisabled, "{d:#?}");
    assert!(
        d.commands
            .iter()
            .any(|c| c == "Set-CASMailbox -Identity 'a@example.test' -ImapEnabled $true")
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("\"pop-a\" (POP3) opened a@example.test"))
    );
    let alt = kinds(&d);
    assert!(
        !alt.contains(&Kind::MailboxGrantMissing),
        "ruled out by POP3: {d:#?}"
    );
    assert!(
        !alt.contains(&Kind::ServicePrincipalWrongObjectId),
        "ruled out by POP3: {d:#?}"
    );
}

#[test]
fn not_connected_alone_is_the_grant_and_a_wrong_object_id_is_named() {
    let mut p = profile(Flow::AppOnly);
    let r = [report(&p, "imap-a", Some((Step::Mailbox, not_connected())))];
    let d = diagnose(&p, &token(app_claims()), &r, "imap-a");
    assert_eq!(d.kind, Kind::MailboxGrantMissing, "{d:#?}");
    let alt = kinds(&d);
    assert!(
        alt.contains(&Kind::ServicePrincipalWrongObjectId) && alt.contains(&Kind::ProtocolDisabled),
        "{alt:?}"
    );

    p.accounts[0].enterprise_object_id = Some(REG_OID.into());
    let d = diagnose(&p, &token(app_claims()), &r, "imap-a");
    assert_eq!(d.kind, Kind::ServicePrincipalWrongObjectId, "{d:#?}");
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains(REG_OID) && e.contains(SP_OID))
    );
    assert!(
        d.commands
            .iter()
            .any(|c| c.contains(&format!("-ObjectId '{SP_OID}'")))
    );
}

#[test]
fn delegated_smtp_as_another_user_names_both() {
    let mut p = profile(Flow::Delegated);
    p.transports[0].username = Some("shared@example.test".into());
    let signed_in = delegated_token(
        &["IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send"],
        false,
    );
    let r = [report(
        &p,
        "smtp-a",
        Some((
            Step::Authenticate,
            Symptom::AuthRefused {
                reply: "535 5.7.3 Authentication unsuccessful".into(),
                challenge: None,
            },
        )),
    )];
    let d = diagnose(&p, &signed_in, &r, "smtp-a");
    assert_eq!(d.kind, Kind::UserMismatch, "{d:#?}");
    assert!(d.title.contains("shared@example.test") && d.title.contains("a@example.test"));
    // Said before any test, too.
    let mut ev = Evidence::new(&p, at(T0 + 120));
    ev.sign_ins.push(("A", &signed_in));
    let before = for_account(&ev, "A", &Place::Window);
    assert!(
        before.iter().any(|d| d.kind == Kind::UserMismatch),
        "{before:#?}"
    );
}

#[test]
fn smtp_refusals_are_told_apart() {
    let p = profile(Flow::AppOnly);
    let t = token(app_claims());
    let reply = |r: &str| r.to_owned();
    let cases = [
        (
            Symptom::SmtpAuthDisabled {
                scope: Scope::Tenant,
                reply: reply("535 5.7.139 … disabled for the Tenant"),
            },
            Kind::SmtpAuthDisabledTenant,
        ),
        (
            Symptom::SmtpAuthDisabled {
                scope: Scope::Mailbox,
                reply: reply("535 5.7.139 … disabled for the Mailbox"),
            },
            Kind::SmtpAuthDisabledMailbox,
        ),
        (
            Symptom::SecurityDefaults {
                reply: reply("535 5.7.139 … security defaults policy"),
            },
            Kind::SecurityDefaults,
        ),
        (
            Symptom::ConditionalAccess {
                reply: reply("535 5.7.139 … did not meet the criteria"),
            },
            Kind::ConditionalAccess,
        ),
        (
            Symptom::BasicAuthDisabled {
                reply: reply("535 5.7.139 … basic authentication is disabled"),
            },
            Kind::BasicAuthDisabled,
        ),
        (
            Symptom::BasicAuthRetired {
                reply: reply(
                    "550 5.7.30 Basic authentication is not supported for Client Submission.",
                ),
            },
            Kind::BasicAuthRetired,
        ),
    ];
    for (symptom, want) in cases {
        let r = [report(&p, "smtp-a", Some((Step::Authenticate, symptom)))];
        let d = diagnose(&p, &t, &r, "smtp-a");
        assert_eq!(d.kind, want, "{d:#?}");
        assert_eq!(d.confidence, Confidence::Proven);
        assert!(d.evidence[0].contains("the server answered"), "{d:#?}");
    }
    let r = [report(
        &p,
        "smtp-a",
        Some((
            Step::Authenticate,
            Symptom::SmtpAuthDisabled {
                scope: Scope::Mailbox,
                reply: "x".into(),
            },
        )),
    )];
    let d = diagnose(&p, &t, &r, "smtp-a");
    assert_eq!(
        d.commands.last().map(String::as_str),
        Some("Set-CASMailbox -Identity 'a@example.test' -SmtpClientAuthenticationDisabled $false")
    );
}

#[test]
fn the_network_and_tls_name_themselves() {
    let p = profile(Flow::AppOnly);
    let t = token(app_claims());
    for (step, symptom, want) in [
        (Step::Dns, Symptom::DnsFailed, Kind::DnsFailed),
        (Step::Connect, Symptom::Refused, Kind::ConnectionRefused),
        (Step::Tls, Symptom::TlsUntrusted, Kind::CertificateUntrusted),
        (Step::Tls, Symptom::PlainPort, Kind::PortExpectsStarttls),
        (Step::Greeting, Symptom::TlsPort, Kind::PortExpectsTls),
        (
            Step::Capabilities,
            Symptom::MechanismNotOffered {
                mech: "XOAUTH2".into(),
                tls_first: false,
            },
            Kind::MechanismNotOffered,
        ),
        (
            Step::Capabilities,
            Symptom::MechanismNotOffered {
                mech: "XOAUTH2".into(),
                tls_first: true,
            },
            Kind::TlsRequired,
        ),
    ] {
        let r = [report(&p, "imap-a", Some((step, symptom)))];
        assert_eq!(diagnose(&p, &t, &r, "imap-a").kind, want);
    }
}

#[test]
fn an_account_check_lists_what_the_token_lacks_and_the_sign_in_refusal() {
    let p = profile(Flow::AppOnly);
    let lacking = token(Claims {
        roles: vec!["IMAP.AccessAsApp".into()],
        ..app_claims()
    });
    let mut ev = Evidence::new(&p, at(T0 + 120));
    ev.sign_ins.push(("A", &lacking));
    let found = for_account(
        &ev,
        "A",
        &Place::Cli {
            profile: "p.toml".into(),
        },
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].kind, Kind::PermissionMissing);
    assert!(
        found[0].title.contains("POP.AccessAsApp") && found[0].title.contains("SMTP.SendAsApp")
    );
    assert!(found[0].cause.contains("pop-a") && found[0].cause.contains("smtp-a"));

    let failed = SignInSeen::Failed(SignInFailure {
        text: "sign-in refused".into(),
        code: Some("AADSTS7000215".into()),
        needs_input: false,
        explanation: Some(crate::oauth::explain::Explanation {
            title: "the client secret is wrong".into(),
            cause: "the secret ID was pasted".into(),
            fix: "copy the Value".into(),
            ours: false,
            uri: None,
            code: "AADSTS7000215".into(),
            server_said: "invalid_client: AADSTS7000215: Invalid client secret provided.".into(),
            trace_id: None,
            correlation_id: None,
            case: None,
        }),
        acts_for: None,
    });
    let mut ev = Evidence::new(&p, at(T0 + 120));
    ev.sign_ins.push(("A", &failed));
    let found = for_account(&ev, "A", &Place::Window);
    assert_eq!(found[0].kind, Kind::SignInRefused);
    assert_eq!(found[0].setup_step, Some(SetupStep::ClientSecret));
}

#[test]
fn the_fix_speaks_to_where_the_reader_is() {
    let p = profile(Flow::AppOnly);
    let expired = token(Claims {
        expires: Some(T0 + 300),
        ..app_claims()
    });
    let mut late = report(&p, "imap-a", Some((Step::Authenticate, refused())));
    late.started_at = at(T0 + 600);
    let r = [late];
    let mut ev = Evidence::new(&p, at(T0 + 120));
    ev.sign_ins.push(("A", &expired));
    ev.reports = r.iter().collect();
    let cli = for_target(
        &ev,
        "imap-a",
        &Place::Cli {
            profile: "my profile.toml".into(),
        },
    )
    .unwrap();
    assert!(
        cli.fix
            .contains("`mailcfg token --profile 'my profile.toml' --account A`"),
        "{}",
        cli.fix
    );
    let window = for_target(&ev, "imap-a", &Place::Window).unwrap();
    assert!(
        window.fix.contains("token card") && !window.fix.contains("mailcfg token"),
        "{}",
        window.fix
    );
}

#[test]
fn every_kind_has_one_rule_and_a_line_in_the_docs() {
    let docs = include_str!("../../docs/diagnosis.md");
    let mut seen = std::collections::HashSet::new();
    for r in RULES {
        assert!(seen.insert(r.kind), "{} has two rules", r.kind);
        assert!(!r.needs.is_empty());
        assert!(
            docs.contains(&format!("`{}`", r.kind)),
            "{} is not in docs/diagnosis.md",
            r.kind
        );
    }
}

#[test]
fn a_graph_token_without_roles_is_only_the_wrong_resource() {
    let p = profile(Flow::AppOnly);
    let graph = token(Claims {
        audience: vec!["https://graph.microsoft.com".into()],
        roles: Vec::new(),
        ..app_claims()
    });
    let mut ev = Evidence::new(&p, at(T0 + 120));
    ev.sign_ins.push(("A", &graph));
    let kinds: Vec<Kind> = for_account(&ev, "A", &Place::Window)
        .iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(kinds, [Kind::WrongResource], "roles are another resource's");
    let r = [report(&p, "imap-a", Some((Step::Authenticate, refused())))];
    let d = diagnose(&p, &graph, &r, "imap-a");
    assert_eq!(d.kind, Kind::WrongResource);
}

#[test]
fn targets_that_failed_before_the_sign_in_are_no_evidence_of_the_token() {
    let p = profile(Flow::AppOnly);
    let reports = [
        report(&p, "imap-a", Some((Step::Authenticate, refused()))),
        report(&p, "pop-a", Some((Step::Connect, Symptom::Refused))),
        report(&p, "imap-b", Some((Step::Dns, Symptom::DnsFailed))),
    ];
    let d = diagnose(&p, &token(app_claims()), &reports, "imap-a");
    assert_eq!(d.kind, Kind::ServicePrincipalMissing, "{d:#?}");
    assert!(
        !d.evidence.iter().any(|e| e.contains("every target")),
        "pop-a and imap-b never reached the sign-in: {d:#?}"
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("2 other targets of the account failed before the sign-in"))
    );
    assert_eq!(
        kinds(&d),
        [Kind::ProtocolDisabled, Kind::MailboxGrantMissing],
        "as if alone: {d:#?}"
    );
}

#[test]
fn an_empty_delegated_user_is_the_signed_in_user_not_a_mismatch() {
    let mut p = profile(Flow::Delegated);
    p.transports[0].username = Some(String::new());
    let signed_in = delegated_token(
        &["SMTP.Send", "IMAP.AccessAsUser.All", "POP.AccessAsUser.All"],
        false,
    );
    let mut ev = Evidence::new(&p, at(T0 + 120));
    ev.sign_ins.push(("A", &signed_in));
    let found = for_account(&ev, "A", &Place::Window);
    assert!(
        found.iter().all(|d| d.kind != Kind::UserMismatch),
        "{found:#?}"
    );
}

#[test]
fn a_delegated_mailbox_another_protocol_opened_is_not_unavailable() {
    let p = profile(Flow::Delegated);
    let signed_in = delegated_token(
        &["IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send"],
        false,
    );
    let reports = [
        report(&p, "imap-a", Some((Step::Mailbox, not_connected()))),
        report(&p, "pop-a", None),
    ];
    let d = diagnose(&p, &signed_in, &reports, "imap-a");
    assert_eq!(d.kind, Kind::ProtocolDisabled, "{d:#?}");
    assert!(!kinds(&d).contains(&Kind::MailboxUnavailable), "{d:#?}");
}

fn delegated_token(scopes: &[&str], opaque: bool) -> SignInSeen {
    SignInSeen::Token(TokenSeen {
        claims: Ok(Claims {
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            user: Some("a@example.test".into()),
            opaque,
            ..if opaque {
                Claims {
                    expires: Some(T0 + 3600),
                    ..Claims::default()
                }
            } else {
                app_claims()
            }
        }),
        fetched_at: at(T0),
        expires_at: Some(at(T0 + 3600)),
        user: Some("a@example.test".into()),
    })
}

fn account_problems(p: &Profile, sign_in: &SignInSeen) -> Vec<Kind> {
    let mut ev = Evidence::new(p, at(T0 + 120));
    ev.sign_ins.push(("A", sign_in));
    for_account(&ev, "A", &Place::Window)
        .into_iter()
        .map(|d| d.kind)
        .collect()
}

#[test]
fn an_opaque_tokens_full_scopes_grant_what_their_last_part_names() {
    // Outlook.com's personal accounts get opaque tokens: their scopes come from the answer,
    // as full URIs.
    let p = profile(Flow::Delegated);
    let t = delegated_token(
        &[
            "https://outlook.office.com/IMAP.AccessAsUser.All",
            "https://outlook.office.com/POP.AccessAsUser.All",
            "https://outlook.office.com/SMTP.Send",
            "offline_access",
        ],
        true,
    );
    assert!(
        account_problems(&p, &t).is_empty(),
        "{:?}",
        account_problems(&p, &t)
    );
    let t = delegated_token(&["https://outlook.office.com/IMAP.AccessAsUser.All"], true);
    assert_eq!(account_problems(&p, &t), [Kind::PermissionMissing]);
}

#[test]
fn smtp_app_only_may_rest_on_app_rbac_with_no_role_in_the_token() {
    let mut p = profile(Flow::AppOnly);
    p.mailboxes.clear();
    let no_roles = token(Claims {
        roles: Vec::new(),
        ..app_claims()
    });
    assert!(
        account_problems(&p, &no_roles).is_empty(),
        "SMTP alone without roles: App RBAC, not a missing consent"
    );
    // With IMAP and POP3 granted, the missing SMTP role is likely, not proven, and the fix
    // names App RBAC too.
    let p = profile(Flow::AppOnly);
    let imap_only = token(Claims {
        roles: vec!["IMAP.AccessAsApp".into(), "POP.AccessAsApp".into()],
        ..app_claims()
    });
    let mut ev = Evidence::new(&p, at(T0 + 120));
    ev.sign_ins.push(("A", &imap_only));
    let found = for_account(&ev, "A", &Place::Window);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].kind, Kind::PermissionMissing);
    assert_eq!(found[0].confidence, Confidence::Likely);
    assert!(
        found[0].fix.contains("Application SMTP.SendAsApp"),
        "{}",
        found[0].fix
    );
    let r = [report(&p, "smtp-a", Some((Step::Authenticate, refused())))];
    let d = diagnose(&p, &imap_only, &r, "smtp-a");
    assert_ne!(d.confidence, Confidence::Proven, "{d:#?}");
}

#[test]
fn national_clouds_and_the_consent_resource_are_exchange_audiences() {
    let p = profile(Flow::AppOnly);
    for aud in [
        "https://outlook.office365.us",
        "https://partner.outlook.cn",
        "https://ps.outlook.com",
    ] {
        let t = token(Claims {
            audience: vec![aud.into()],
            ..app_claims()
        });
        assert!(account_problems(&p, &t).is_empty(), "{aud}");
    }
}

#[test]
fn another_protocol_signed_in_as_the_user_points_at_this_protocol() {
    let p = profile(Flow::Delegated);
    let t = delegated_token(
        &["IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send"],
        false,
    );
    let reports = [
        report(&p, "imap-a", Some((Step::Authenticate, refused()))),
        report(&p, "smtp-a", None),
    ];
    let d = diagnose(&p, &t, &reports, "imap-a");
    assert_eq!(d.kind, Kind::ProtocolDisabled, "{d:#?}");
    assert_eq!(d.confidence, Confidence::Likely);
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("\"smtp-a\" (SMTP) signed in as a@example.test"))
    );
}

#[test]
fn a_skewed_clock_does_not_make_a_fresh_token_expired() {
    // This computer is 2 h ahead: by its clock the token's exp has passed, but the answer's
    // expires_in, counted from the arrival, says it is fresh, and so it is at the server.
    let p = profile(Flow::AppOnly);
    let t = SignInSeen::Token(TokenSeen {
        claims: Ok(Claims {
            issued: Some(T0 - 7200),
            expires: Some(T0 - 7200 + 4500),
            ..app_claims()
        }),
        fetched_at: at(T0),
        expires_at: Some(at(T0 + 4500)),
        user: None,
    });
    assert!(
        account_problems(&p, &t).is_empty(),
        "{:?}",
        account_problems(&p, &t)
    );
}

#[test]
fn one_pop3_mailbox_refused_cannot_tell_the_service_principal_from_the_grant() {
    let p = profile(Flow::AppOnly);
    let r = [report(
        &p,
        "pop-a",
        Some((
            Step::Authenticate,
            Symptom::AuthRefused {
                reply: "-ERR Authentication failure: unknown user name or bad password.".into(),
                challenge: None,
            },
        )),
    )];
    let d = diagnose(&p, &token(app_claims()), &r, "pop-a");
    assert_eq!(d.confidence, Confidence::Possible, "{d:#?}");
}

#[test]
fn send_as_for_a_delegated_user_is_granted_to_that_user() {
    let mut p = profile(Flow::Delegated);
    p.transports[0].username = Some("a@example.test".into());
    let t = delegated_token(
        &["IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send"],
        false,
    );
    let r = [report(
        &p,
        "smtp-a",
        Some((
            Step::Send,
            Symptom::SendAsDenied {
                reply: "550 5.7.60 SMTP; Client does not have permissions to send as this sender"
                    .into(),
            },
        )),
    )];
    let d = diagnose(&p, &t, &r, "smtp-a");
    assert_eq!(d.kind, Kind::SendAsDenied, "{d:#?}");
    assert!(
        d.commands
            .iter()
            .any(|c| c.contains("-Trustee 'a@example.test'")),
        "{:?}",
        d.commands
    );
    assert!(!d.commands.iter().any(|c| c.contains(SP_OID)));
}

#[test]
fn exchange_smtp_fixes_never_suggest_port_465() {
    let p = profile(Flow::AppOnly);
    let r = [report(
        &p,
        "smtp-a",
        Some((
            Step::Authenticate,
            Symptom::TlsRequired {
                reply: "530 5.7.0 Must issue a STARTTLS command first".into(),
            },
        )),
    )];
    let d = diagnose(&p, &token(app_claims()), &r, "smtp-a");
    assert_eq!(d.kind, Kind::TlsRequired, "{d:#?}");
    assert!(d.fix.contains("587") && !d.fix.contains("465"), "{}", d.fix);
}

#[test]
fn a_google_service_accounts_users_are_not_exchange_mailbox_grants() {
    let mut p = profile(Flow::AppOnly);
    p.accounts[0].provider = crate::profile::Provider::Google;
    let reports = [
        report(&p, "imap-a", None),
        report(&p, "imap-b", Some((Step::Authenticate, refused()))),
    ];
    let d = diagnose(&p, &token(app_claims()), &reports, "imap-b");
    assert_ne!(d.kind, Kind::MailboxGrantMissing, "{d:#?}");
    assert_ne!(d.kind, Kind::ProtocolDisabled, "{d:#?}");
    assert!(
        !d.commands.iter().any(|c| c.contains("ExchangeOnline")),
        "{:?}",
        d.commands
    );
}
