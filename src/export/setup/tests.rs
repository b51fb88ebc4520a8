use super::result::{self, ResultError};
use super::*;
use crate::profile::{Provider, presets};

fn titles(p: &Plan<'_>) -> Vec<String> {
    p.steps.iter().map(|s| s.title.clone()).collect()
}

#[test]
fn app_only_plans_every_portal_and_exchange_step_with_the_secret_last() {
    let p = presets::microsoft365_profile();
    let plan = plan(&p, &SetupOptions::default()).unwrap();
    let user = &p.mailboxes[0].user;
    assert_eq!(
        titles(&plan),
        [
            "Sign in to Microsoft Graph".to_owned(),
            "Register the app".into(),
            "Add the API permissions".into(),
            "Create the Enterprise application".into(),
            "Grant admin consent".into(),
            "Sign in to Exchange Online".into(),
            "Register the service principal in Exchange Online".into(),
            format!("Grant the app the mailbox {user}"),
            format!("Allow authenticated SMTP for {user}"),
            "Create a client secret".into(),
        ]
    );
    assert_eq!(
        plan.permissions,
        ["IMAP.AccessAsApp", "SMTP.SendAsApp"],
        "only what the targets use"
    );
    let reported: Vec<_> = plan.steps.iter().filter_map(PlannedStep::reports).collect();
    assert_eq!(
        reported,
        [
            SetupStep::RegisterApp,
            SetupStep::ApiPermissions,
            SetupStep::AdminConsent,
            SetupStep::ServicePrincipal,
            SetupStep::MailboxGrant(user.clone()),
            SetupStep::SmtpAuth(user.clone()),
            SetupStep::ClientSecret,
        ]
    );
}

#[test]
fn the_months_are_bounded_and_the_account_is_chosen() {
    let mut p = presets::microsoft365_profile();
    let opts = SetupOptions {
        secret_months: 99,
        ..SetupOptions::default()
    };
    assert_eq!(plan(&p, &opts).unwrap().secret_months, MAX_SECRET_MONTHS);
    let mut second = presets::account("Second", Provider::Microsoft, Flow::Delegated);
    second.tenant = Some("organizations".into());
    p.accounts.push(second);
    assert!(matches!(
        plan(&p, &SetupOptions::default()),
        Err(ExportError::AccountNeeded { .. })
    ));
    let chosen = SetupOptions {
        account: Some("Second"),
        ..SetupOptions::default()
    };
    let plan2 = plan(&p, &chosen).unwrap();
    assert_eq!(plan2.account.name, "Second");
    assert!(
        plan2.steps.iter().all(|s| s.action != Action::ClientSecret),
        "delegated: no secret"
    );
    p.accounts
        .push(presets::account("G", Provider::Google, Flow::Delegated));
    let google = SetupOptions {
        account: Some("G"),
        ..SetupOptions::default()
    };
    assert!(matches!(
        plan(&p, &google),
        Err(ExportError::NotApplicable { .. })
    ));
    assert!(is_placeholder_client_id(
        "00000000-0000-0000-0000-000000000000"
    ));
    assert!(is_placeholder_client_id(" "));
    assert!(!is_placeholder_client_id(
        "6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a60"
    ));
}

const GOOD: &str = r#"noise before
-----BEGIN MAILCFG SETUP RESULT-----
{ "mailcfg_setup": 1, "account": "Office365", "tenant": "contoso.onmicrosoft.com",
  "tenant_id": "2F6A3C1E-7B4D-4E8A-9C0F-5D1B2A3E4F60",
  "client_id": "6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a60",
  "enterprise_object_id": "9d8e7f60-5a4b-4c3d-8e2f-1a0b9c8d7e6f",
  "client_secret": "abc~DEF.123", "client_secret_expires": "2027-06-30",
  "steps_done": [ { "step": "register_app" }, { "step": "smtp_auth", "for": "a@b.com" } ],
  "steps_already_done": [], "failed_step": null, "what_if": false }
-----END MAILCFG SETUP RESULT-----
noise after"#;

#[test]
fn a_result_fills_only_what_the_account_lacks() {
    let r = result::parse(GOOD).unwrap();
    assert_eq!(
        r.tenant_id.as_deref(),
        Some("2f6a3c1e-7b4d-4e8a-9c0f-5d1b2a3e4f60")
    );
    assert_eq!(
        r.reported(),
        [
            SetupStep::RegisterApp,
            SetupStep::SmtpAuth("a@b.com".into())
        ]
    );
    assert!(!format!("{r:?}").contains("abc~DEF.123"), "Debug hides it");
    let mut a = presets::microsoft365_profile().accounts.remove(0);
    a.enterprise_object_id = Some("11111111-1111-1111-1111-111111111111".into());
    let applied = result::apply(&r, &mut a).unwrap();
    assert_eq!(a.client_id, "6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a60");
    assert_eq!(a.tenant.as_deref(), Some("contoso.onmicrosoft.com"), "kept");
    assert_eq!(
        a.enterprise_object_id.as_deref(),
        Some("9d8e7f60-5a4b-4c3d-8e2f-1a0b9c8d7e6f")
    );
    assert_eq!(a.client_secret_expires.as_deref(), Some("2027-06-30"));
    assert_eq!(applied.changes.len(), 3, "{applied:?}");
    // Once filled, the same result changes nothing; another app is refused.
    assert!(result::apply(&r, &mut a).unwrap().changes.is_empty());
    a.client_id = "11111111-2222-4333-8444-555555555555".into();
    assert!(matches!(
        result::check(&r, &a),
        Err(ResultError::Mismatch {
            field: "the client ID",
            ..
        })
    ));
}

#[test]
fn an_app_only_account_of_organizations_gets_the_tenant_id() {
    let text = GOOD.replace(
        "\"tenant\": \"contoso.onmicrosoft.com\"",
        "\"tenant\": \"organizations\"",
    );
    let r = result::parse(&text).unwrap();
    let mut a = presets::microsoft365_profile().accounts.remove(0);
    a.tenant = Some("organizations".into());
    result::apply(&r, &mut a).unwrap();
    assert_eq!(
        a.tenant.as_deref(),
        Some("2f6a3c1e-7b4d-4e8a-9c0f-5d1b2a3e4f60")
    );
    // A tenant given as a GUID must be the one signed in to.
    a.tenant = Some("00000000-1111-4222-8333-444444444444".into());
    let r = result::parse(&GOOD.replace(
        "contoso.onmicrosoft.com",
        "00000000-1111-4222-8333-444444444444",
    ))
    .unwrap();
    assert!(matches!(
        result::check(&r, &a),
        Err(ResultError::Mismatch {
            field: "the tenant ID",
            ..
        })
    ));
}

#[test]
fn garbage_is_refused_without_quoting_the_secret() {
    assert_eq!(result::parse("hello").unwrap_err(), ResultError::NotFound);
    let cut = GOOD.split("-----END").next().unwrap();
    assert_eq!(result::parse(cut).unwrap_err(), ResultError::CutOff);
    let e = result::parse(&GOOD.replace("\"abc~DEF.123\"", "12345678")).unwrap_err();
    assert!(!e.to_string().contains("12345678"), "{e}");
    let e = result::parse(&GOOD.replace("abc~DEF.123", "abc\u{7}bell")).unwrap_err();
    assert!(!e.to_string().contains("bell"), "{e}");
    let big = "x".repeat(result::MAX_RESULT_BYTES + 1);
    assert_eq!(result::parse(&big).unwrap_err(), ResultError::TooLarge);
    let e =
        result::parse(&GOOD.replace("\"mailcfg_setup\": 1", "\"mailcfg_setup\": 2")).unwrap_err();
    assert!(e.to_string().contains("update mailcfg"), "{e}");
}
