//! Google Workspace app-only: a service account with domain-wide delegation, one token per
//! mailbox user, each used for its own mailbox; its refusals explained.

use super::support::idp::google::defaults as g;
use super::support::keyring::with_keyring;
use super::{BIN, Lab, assert_no_key, assert_no_key_in_files};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_each_get_their_own_token_and_open_their_own_mailbox() {
    let lab = Lab::new().await;
    let p = lab.sa_profile(&[g::ALICE, g::BOB], true);
    let p = p.to_str().unwrap();
    let run = lab.with_key(&["test", "--profile", p, "--json"]).await;
    assert_eq!(run.code, Some(0), "{}", run.all());
    let summary = run
        .lines()
        .into_iter()
        .find(|l| l["type"] == "summary")
        .unwrap();
    assert_eq!(summary["passed"], 3, "{summary}");
    // One JWT per user (alice's SMTP reuses her IMAP token), each accepted.
    let mut grants = lab.jwt_grants();
    grants.sort();
    assert_eq!(
        grants,
        [
            (200, Some(g::ALICE.to_owned())),
            (200, Some(g::BOB.to_owned()))
        ]
    );
    // Dovecot compares the SASL user with the token's user (introspection): each mailbox
    // opened with a token of its own user.
    let log = lab.s.dovecot_log_text();
    for u in [g::ALICE, g::BOB] {
        assert!(
            log.contains(&format!("imap-login: Info: Login: user=<{u}>")),
            "{u} did not log in to IMAP:\n{log}"
        );
    }
    assert!(
        log.contains(&format!(
            "submission-login: Info: Login: user=<{}>",
            g::ALICE
        )),
        "{log}"
    );

    // `mailcfg token` for one user: the token card's values.
    let t = lab
        .with_key(&[
            "token",
            "--profile",
            p,
            "--account",
            "Workspace",
            "--user",
            g::BOB,
            "--json",
        ])
        .await;
    assert_eq!(t.code, Some(0), "{}", t.all());
    let v: serde_json::Value = serde_json::from_str(t.stdout.trim()).unwrap();
    assert_eq!(v["user"], g::BOB);
    assert_eq!(v["claims"]["opaque"], true);
    assert_eq!(v["claims"]["scopes"][0], g::MAIL_SCOPE);
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(0), "{v}");
    // Without --user: the account's first mailbox user.
    let human = lab
        .with_key(&["token", "--profile", p, "--account", "Workspace"])
        .await;
    assert!(
        human.stdout.contains(&format!("user       {}", g::ALICE)),
        "{}",
        human.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_goes_to_the_keyring_and_never_to_an_output_or_a_file() {
    let lab = Lab::new().await;
    let p = lab.sa_profile(&[g::ALICE, g::BOB], false);
    let home = tempfile::tempdir().unwrap();
    let d = lab.dir.path().to_str().unwrap();
    let script = r#"set -e
"$MAILCFG" secret --profile "$P" --account Workspace --service-account-key "$K" > "$D/import.out" 2>&1
"$MAILCFG" test --profile "$P" > "$D/test.out" 2>&1
"$MAILCFG" token --profile "$P" --account Workspace --user bob@workspace.test --json > "$D/token.json" 2> "$D/token.err"
"$MAILCFG" export --profile "$P" --format env > "$D/export.env"
"$MAILCFG" export --profile "$P" --format thunderbird --output "$D/export.xml"
"$MAILCFG" export --profile "$P" --format json > "$D/export.json"
"$MAILCFG" secret --profile "$P" --account Workspace --delete > "$D/delete.out"
if "$MAILCFG" token --profile "$P" --account Workspace 2> "$D/gone.txt"; then exit 9; fi
echo done
"#;
    let o = with_keyring(
        home.path(),
        BIN,
        script,
        &[
            ("P", p.to_str().unwrap()),
            ("K", lab.key_file.to_str().unwrap()),
            ("D", d),
        ],
    )
    .await;
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    let read = |n: &str| std::fs::read_to_string(lab.dir.path().join(n)).unwrap_or_default();
    assert!(
        o.status.success() && out.contains("done"),
        "{out}\n{err}\nimport: {}\ntest: {}",
        read("import.out"),
        read("test.out")
    );
    let import = read("import.out");
    assert!(import.contains("in the OS keyring"), "{import}");
    assert!(
        import.contains(&format!("private_key_id = \"{}\"", lab.key_id)),
        "{import}"
    );
    assert!(
        import.contains("Domain-wide delegation") && import.contains(g::SERVICE_ACCOUNT_ID),
        "{import}"
    );
    // The profile names the service account and its key now, and holds nothing secret.
    let profile = std::fs::read_to_string(&p).unwrap();
    for want in [
        g::SERVICE_ACCOUNT,
        lab.key_id.as_str(),
        &lab.s.idp.google_token_url(),
    ] {
        assert!(
            profile.contains(want),
            "{want} not in the profile:\n{profile}"
        );
    }
    let test = read("test.out");
    assert!(test.contains("Summary: 3 of 3 passed"), "{test}");
    let token: serde_json::Value = serde_json::from_str(read("token.json").trim()).unwrap();
    assert_eq!(token["user"], g::BOB);
    assert!(read("export.env").contains(&format!(
        "MAILCFG_ACCOUNT_1_CLIENT_EMAIL={}",
        g::SERVICE_ACCOUNT
    )));
    assert!(read("export.xml").contains("<issuer>accounts.google.com</issuer>"));
    assert!(
        read("gone.txt").contains("its key is not in the keyring"),
        "{}",
        read("gone.txt")
    );
    // Not in any output, not in the profile, the exports, or any file of the session's home
    // (the keyring's own file is encrypted): only in the key file the user downloaded.
    assert_no_key(
        &format!("{out}{err}"),
        &lab.key_json,
        "the session's output",
    );
    assert_no_key_in_files(lab.dir.path(), &lab.key_json, &lab.key_file);
    assert_no_key_in_files(home.path(), &lab.key_json, &lab.key_file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegation_not_granted_is_explained_with_the_admin_console_client_id_and_scope() {
    let lab = Lab::new().await;
    lab.s.idp.config(|c| c.google.delegation.clear());
    let p = lab.sa_profile(&[g::ALICE], true);
    let p = p.to_str().unwrap();
    let human = lab.with_key(&["test", "--profile", p]).await;
    assert_eq!(human.code, Some(1), "{}", human.all());
    let text = human.all();
    for want in [
        "domain-wide delegation is not granted for this client ID and scope (unauthorized_client)",
        "Admin console (admin.google.com) → Security → Access and data control → API controls → Domain-wide delegation",
        &format!("Client ID {}", g::SERVICE_ACCOUNT_ID),
        &format!("the OAuth scope {}", g::MAIL_SCOPE),
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    let json = lab.with_key(&["test", "--profile", p, "--json"]).await;
    let failed = json
        .lines()
        .into_iter()
        .find(|l| l["type"] == "sign_in_failed")
        .unwrap();
    assert_eq!(
        failed["diagnosis"]["kind"], "delegation_not_granted",
        "{failed}"
    );
    assert_eq!(
        failed["diagnosis"]["setup_step"]["step"],
        "domain_wide_delegation"
    );
    assert_eq!(failed["user"], g::ALICE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_ten_minutes_ahead_is_explained() {
    let lab = Lab::new().await;
    // Google's clock ten minutes behind this computer's: the JWT's iat is in Google's future.
    lab.s.idp.config(|c| c.google.clock_offset_secs = -600);
    let p = lab.sa_profile(&[g::ALICE], true);
    let p = p.to_str().unwrap();
    let t = lab
        .with_key(&["token", "--profile", p, "--account", "Workspace"])
        .await;
    assert_eq!(t.code, Some(1), "{}", t.all());
    for want in [
        "this computer's clock is off (invalid_grant)",
        "this computer's clock is 10 min ahead of Google's",
        "timedatectl set-ntp true",
        "Check your iat and exp values",
    ] {
        assert!(t.stderr.contains(want), "{want:?} not in:\n{}", t.stderr);
    }
    let json = lab.with_key(&["test", "--profile", p, "--json"]).await;
    let failed = json
        .lines()
        .into_iter()
        .find(|l| l["type"] == "sign_in_failed")
        .unwrap();
    assert_eq!(failed["diagnosis"]["kind"], "clock_skew", "{failed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_key_and_a_user_outside_the_domain_are_explained() {
    let lab = Lab::new().await;
    let p = lab.sa_profile(&[g::ALICE, "zoe@workspace.test"], true);
    let p = p.to_str().unwrap();
    // Zoe is no user of the domain: her mailbox is refused, Alice's opens.
    let run = lab.with_key(&["test", "--profile", p, "--json"]).await;
    let lines = run.lines();
    let failed: Vec<_> = lines
        .iter()
        .filter(|l| l["type"] == "sign_in_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{}", run.all());
    assert_eq!(failed[0]["user"], "zoe@workspace.test");
    assert_eq!(failed[0]["diagnosis"]["kind"], "not_a_domain_user");
    let summary = lines.iter().find(|l| l["type"] == "summary").unwrap();
    assert_eq!(summary["passed"], 2, "{summary}");
    assert_eq!(summary["not_tested"], 1, "{summary}");

    lab.s.idp.delete_service_account_keys();
    let t = lab
        .with_key(&["token", "--profile", p, "--account", "Workspace"])
        .await;
    assert_eq!(t.code, Some(1));
    assert!(
        t.stderr
            .contains("Google does not accept the service account's key")
            && t.stderr.contains(&lab.key_id)
            && t.stderr.contains("Keys"),
        "{}",
        t.stderr
    );
}
