#![allow(clippy::duration_suboptimal_units)] // Unix times in seconds

use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::diagnosis::{SignInFailure, TokenSeen};
use crate::probe::{CertSummary, Event, Status};
use crate::profile::presets;

const NOW: u64 = 1_796_000_000; // 2026-11-30

fn report(target: &str, kind: TargetKind, ok: bool, cert_days: Option<i64>) -> Report {
    Report {
        target: target.into(),
        kind,
        account: Some("Office365".into()),
        user: Some("you@contoso.example".into()),
        started_at: UNIX_EPOCH + Duration::from_secs(NOW),
        steps: vec![Event {
            target: target.into(),
            step: Step::Authenticate,
            status: if ok { Status::Ok } else { Status::Failed },
            elapsed: Duration::from_millis(231),
            detail: "A1 NO AUTHENTICATE failed.".into(),
            transcript: Vec::new(),
        }],
        transcript: Vec::new(),
        certificate: cert_days.map(|d| CertSummary {
            subject: "CN=outlook.office365.com".into(),
            issuer: "CN=DigiCert".into(),
            not_after: String::new(),
            not_after_unix: i64::try_from(NOW).unwrap() + d * 86_400 + 3600,
        }),
        failure: None,
        diagnosis: None,
        ok,
        total: Duration::from_millis(231),
    }
}

fn signed_in() -> BTreeMap<String, SignInSeen> {
    let mut m = BTreeMap::new();
    m.insert(
        "Office365".to_owned(),
        SignInSeen::Token(TokenSeen {
            claims: Err("opaque".into()),
            fetched_at: UNIX_EPOCH + Duration::from_secs(NOW),
            expires_at: None,
            user: None,
        }),
    );
    m
}

fn check(p: &Profile, seen: &BTreeMap<String, SignInSeen>, reports: &[Report]) -> Check {
    judge(
        p,
        seen,
        &BTreeMap::new(),
        reports,
        &[],
        Thresholds::default(),
        UNIX_EPOCH + Duration::from_secs(NOW),
    )
}

#[test]
fn the_worst_finding_is_the_state() {
    let mut p = presets::microsoft365_profile();
    let ok = [report("Office365", TargetKind::Imap, true, Some(90))];
    let c = check(&p, &signed_in(), &ok);
    assert_eq!(c.state, State::Ok);
    assert_eq!(c.summary(), "1 of 1 passed");

    p.accounts[0].client_secret_expires = Some("2026-12-12".into()); // 12 days
    let c = check(&p, &signed_in(), &ok);
    assert_eq!(c.state, State::Warning, "{:#?}", c.problems);
    assert!(c.summary().contains("client secret expires in 12 days"));

    let cert = [report("Office365", TargetKind::Imap, true, Some(3))];
    let c = check(&p, &signed_in(), &cert);
    assert_eq!(c.state, State::Critical);
    assert!(c.problems[0].text.contains("certificate expires in 3 days"));

    p.accounts[0].client_secret_expires = Some("2026-11-01".into());
    let c = check(&p, &signed_in(), &ok);
    assert_eq!(c.state, State::Critical);
    assert!(c.summary().contains("expired"), "{}", c.summary());
}

#[test]
fn a_missing_secret_is_unknown_and_a_refusal_critical() {
    let p = presets::microsoft365_profile();
    let failed = |needs_input| {
        let mut m = BTreeMap::new();
        m.insert(
            "Office365".to_owned(),
            SignInSeen::Failed(SignInFailure {
                text: "no client secret".into(),
                code: None,
                explanation: None,
                needs_input,
                acts_for: None,
            }),
        );
        m
    };
    let not_tested = [("Office365".to_owned(), "sign-in failed".to_owned())];
    let at = UNIX_EPOCH + Duration::from_secs(NOW);
    let c = judge(
        &p,
        &failed(true),
        &BTreeMap::new(),
        &[],
        &not_tested,
        Thresholds::default(),
        at,
    );
    assert_eq!(c.state, State::Unknown);
    assert_eq!(c.state.code(), 3);
    let c = judge(
        &p,
        &failed(false),
        &BTreeMap::new(),
        &[],
        &not_tested,
        Thresholds::default(),
        at,
    );
    assert_eq!(c.state, State::Critical);
}

#[test]
fn plugin_output_is_one_status_line_with_perfdata_then_a_line_each() {
    let mut p = presets::microsoft365_profile();
    p.accounts[0].client_secret_expires = Some("2026-12-12".into());
    let mut r = report("Lab|IMAP='x'\nnext", TargetKind::Imap, true, Some(90));
    r.target = "Lab|IMAP='x'\nnext".into();
    let out = nagios::render(&check(&p, &signed_in(), &[r]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("MAILCFG WARNING - "), "{out}");
    let (_, perf) = lines[0].split_once(" | ").unwrap();
    assert_eq!(perf.matches('|').count(), 0);
    assert!(
        perf.contains("'Lab/IMAP__x_ next time'=0.231s;;;0"),
        "{perf}"
    );
    assert!(
        perf.contains("'Office365 secret days'=12;30:;7:;0"),
        "{perf}"
    );
    assert_eq!(lines.len(), 3, "status, one target, one account: {out}");
    assert!(
        lines[1].starts_with("OK: Lab/IMAP='x' next (IMAP): passed in 231 ms"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}'));
}

#[test]
fn prometheus_text_escapes_label_values_and_says_help_and_type() {
    let p = presets::microsoft365_profile();
    let r = report("a \"quoted\" \\ name", TargetKind::Smtp, false, Some(40));
    let text = prometheus::render(&check(&p, &signed_in(), &[r]));
    assert!(
        text.contains(r#"mailcfg_target_up{target="a \"quoted\" \\ name",protocol="smtp",account="Office365"} 0"#),
        "{text}"
    );
    for family in [
        "mailcfg_target_up",
        "mailcfg_step_duration_seconds",
        "mailcfg_certificate_expiry_timestamp_seconds",
        "mailcfg_check_timestamp_seconds",
    ] {
        assert!(text.contains(&format!("# HELP {family} ")), "{family}");
        assert!(text.contains(&format!("# TYPE {family} gauge")), "{family}");
    }
    assert!(text.contains(&format!("mailcfg_check_timestamp_seconds {NOW}")));
}
