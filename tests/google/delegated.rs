//! Gmail's installed-app sign-in: the authorize page in headless Chromium (`$BROWSER`), PKCE,
//! `access_type=offline` and `prompt=consent`, then a refresh from the keyring, then a test of
//! IMAP and SMTP as the signed-in user; the consent page's refusals explained.

use super::support::idp::google::{Consent, defaults as g};
use super::support::keyring::with_keyring;
use super::{BIN, Lab, browser_script};

fn assert_chromium() {
    assert!(
        std::process::Command::new("chromium")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "chromium is missing: run tests/servers/install.sh"
    );
}

/// A Gmail account on the IdP's Google paths, with an IMAP mailbox of the signed-in user (no
/// user given) and SMTP as Carol.
fn gmail_profile(lab: &Lab) -> std::path::PathBuf {
    let mut text = format!(
        "version = 1\n\n[[accounts]]\nname = \"Gmail\"\nprovider = \"google\"\nflow = \"delegated\"\nclient_id = \"{}\"\nscopes = [\"{}\"]\nauthorize_url = \"{}\"\ntoken_url = \"{}\"\n",
        g::DESKTOP_CLIENT_ID,
        g::MAIL_SCOPE,
        lab.s.idp.google_authorize_url(),
        lab.s.idp.google_token_url()
    );
    text.push_str(
        &lab.mailbox("", "Gmail")
            .replace("name = \" IMAP\"", "name = \"Gmail IMAP\""),
    );
    text.push_str(&lab.transport(g::CAROL, "Gmail"));
    lab.write_profile("gmail.toml", &text)
}

fn grants(lab: &Lab, grant: &str) -> Vec<u16> {
    lab.s
        .idp
        .requests()
        .into_iter()
        .filter(|r| r.grant_type.as_deref() == Some(grant))
        .map(|r| r.status)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gmail_sign_in_in_chromium_with_pkce_then_a_refresh_then_a_test() {
    assert_chromium();
    let lab = Lab::new().await;
    // Carol consented before: Google sends a new refresh token only with prompt=consent.
    lab.s.idp.config(|c| c.google.consented_before = true);
    let p = gmail_profile(&lab);
    let home = tempfile::tempdir().unwrap();
    let script = r#"set -e
printf '%s\n' "$SECRET" | "$MAILCFG" secret --profile "$P" --account Gmail > "$D/secret.out"
BROWSER="$B" "$MAILCFG" token --profile "$P" --account Gmail --json > "$D/t1.json" 2> "$D/t1.err"
BROWSER=/nonexistent "$MAILCFG" token --profile "$P" --account Gmail --json > "$D/t2.json" 2> "$D/t2.err"
BROWSER=/nonexistent "$MAILCFG" test --profile "$P" > "$D/test.out" 2>&1
echo done
"#;
    let o = with_keyring(
        home.path(),
        BIN,
        script,
        &[
            ("SECRET", g::DESKTOP_SECRET),
            ("P", p.to_str().unwrap()),
            ("D", lab.dir.path().to_str().unwrap()),
            ("B", &browser_script()),
        ],
    )
    .await;
    let read = |n: &str| std::fs::read_to_string(lab.dir.path().join(n)).unwrap_or_default();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(
        o.status.success() && out.contains("done"),
        "{out}\n{err}\nt1: {}{}\nt2: {}\ntest: {}",
        read("t1.json"),
        read("t1.err"),
        read("t2.err"),
        read("test.out")
    );
    // The address shown (and opened) is Google's installed-app request.
    let shown = read("t1.err");
    let url = shown
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&lab.s.idp.google_authorize_url()))
        .unwrap_or_else(|| panic!("no sign-in address in {shown}"));
    let q: std::collections::HashMap<String, String> = url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(q["client_id"], g::DESKTOP_CLIENT_ID);
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(
        q["scope"].split(' ').any(|s| s == g::MAIL_SCOPE),
        "{}",
        q["scope"]
    );
    assert!(
        q["redirect_uri"].starts_with("http://127.0.0.1:")
            || q["redirect_uri"].starts_with("http://localhost:")
    );
    let t1: serde_json::Value = serde_json::from_str(read("t1.json").trim()).unwrap();
    assert_eq!(t1["user"], g::CAROL);
    assert_eq!(t1["claims"]["opaque"], true);
    assert!(
        t1["claims"]["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == g::MAIL_SCOPE),
        "{t1}"
    );
    // The second run had no browser: the refresh token from the keyring served.
    let t2: serde_json::Value = serde_json::from_str(read("t2.json").trim()).unwrap();
    assert_eq!(t2["claims"]["user"], g::CAROL, "{t2}");
    assert_eq!(
        grants(&lab, "authorization_code"),
        [200],
        "one code exchange, its PKCE verifier checked"
    );
    assert!(
        !grants(&lab, "refresh_token").is_empty()
            && grants(&lab, "refresh_token").iter().all(|s| *s == 200)
    );
    let test = read("test.out");
    assert!(test.contains("Summary: 2 of 2 passed"), "{test}");
    let log = lab.s.dovecot_log_text();
    assert!(
        log.contains(&format!("imap-login: Info: Login: user=<{}>", g::CAROL)),
        "{log}"
    );
    for text in [
        out.as_ref(),
        err.as_ref(),
        &read("t1.json"),
        &read("t2.json"),
        &test,
        &read("secret.out"),
    ] {
        assert!(
            !text.contains(g::DESKTOP_SECRET),
            "the client secret leaked: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consent_pages_refusals_are_explained() {
    assert_chromium();
    let lab = Lab::new().await;
    let p = gmail_profile(&lab);
    let p = p.to_str().unwrap();
    let cases = [
        (
            Consent::Deny,
            "the sign-in was declined (access_denied)",
            "Test users",
        ),
        (
            Consent::OrgInternal,
            "the app is for its own organisation only (org_internal)",
            "Audience",
        ),
        (
            Consent::AdminPolicy,
            "the Workspace administrator blocks this app (admin_policy_enforced)",
            "Manage Third-Party App Access",
        ),
    ];
    let browser = browser_script();
    let env = [
        ("BROWSER", browser.as_str()),
        ("MAILCFG_CLIENT_SECRET", g::DESKTOP_SECRET),
    ];
    for (consent, title, fix) in cases {
        lab.s.idp.config(|c| c.google.consent = consent);
        let o = lab
            .mailcfg(&["token", "--profile", p, "--account", "Gmail"], &env)
            .await;
        assert_eq!(o.code, Some(1), "{consent:?}: {}", o.all());
        assert!(
            o.stderr.contains(title) && o.stderr.contains(fix),
            "{consent:?}: {}",
            o.stderr
        );
    }
    // Gmail left unticked: a token, but without the one scope IMAP and SMTP take.
    lab.s
        .idp
        .config(|c| c.google.consent = Consent::UntickGmail);
    let o = lab
        .mailcfg(&["token", "--profile", p, "--account", "Gmail"], &env)
        .await;
    assert_eq!(o.code, Some(1), "{}", o.all());
    assert!(
        o.stdout
            .contains("The token lacks https://mail.google.com/ [permission_missing]")
            && o.stdout
                .contains("tick the Gmail permission on Google's consent page"),
        "{}",
        o.all()
    );
}
