//! Sign-in against the local Entra-shaped identity provider (tests/support/idp): client
//! credentials, refresh, device code, the delegated browser sign-in with headless Chromium as
//! `$BROWSER`, and the keyring with a real Secret Service and without one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::many_single_char_names
)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailcfg::diagnosis;
use mailcfg::oauth::{self, FlowEvent, OAuthError, TokenSource, claims, endpoints, flows};
use mailcfg::profile::{Account, Flow, Provider, TlsSettings, presets};
use mailcfg::secrets::{Kind, Secrets, account_entry};
use secrecy::SecretString;
use support::defaults;
use support::idp::{Config, Idp};
use tokio::io::AsyncBufReadExt;

const BIN: &str = env!("CARGO_BIN_EXE_mailcfg");

async fn idp() -> Idp {
    Idp::start(Config::default()).await.unwrap()
}

fn account(idp: &Idp, name: &str, flow: Flow) -> Account {
    let mut a = presets::account(name, Provider::Microsoft, flow);
    a.authority = Some(idp.authority().to_owned());
    a.tenant = Some(defaults::TENANT_ID.to_owned());
    let client_id = if flow == Flow::AppOnly {
        defaults::APP_CLIENT_ID
    } else {
        defaults::PUBLIC_CLIENT_ID
    };
    client_id.clone_into(&mut a.client_id);
    a
}

fn source(secrets: Secrets) -> TokenSource {
    TokenSource::new(&TlsSettings::default(), None, secrets).unwrap()
}

fn with_secret(a: &Account, secret: &str) -> Secrets {
    let s = Secrets::memory_only();
    s.set(
        &account_entry(&a.name),
        Kind::ClientSecret,
        Some(&SecretString::from(secret.to_owned())),
    )
    .unwrap();
    s
}

type Events = Arc<Mutex<Vec<FlowEvent>>>;

fn recorder() -> (Events, impl Fn(FlowEvent) + Send + Sync) {
    let events: Events = Arc::default();
    let keep = events.clone();
    (events, move |e| keep.lock().unwrap().push(e))
}

fn token_requests(idp: &Idp, grant: &str) -> usize {
    idp.requests()
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some(grant))
        .count()
}

/// The sign-in error, explained; its text must never hold the secret.
async fn refused(a: &Account, secrets: Secrets, secret: &str) -> oauth::explain::Explanation {
    let Err(err) = source(secrets).token(a, &|_| {}).await else {
        panic!("the sign-in should have been refused")
    };
    let text = err.to_string();
    assert!(
        !text.contains(secret),
        "the secret leaked into the error: {text}"
    );
    match err {
        OAuthError::Idp(x) => *x,
        other => panic!("expected an identity-provider refusal, got: {other}"),
    }
}

/// What the diagnosis says of `t` for `a`, with the Microsoft 365 preset's mailbox and transport
/// signing in through `a`.
fn problems(a: &Account, t: &oauth::AccessToken) -> Vec<diagnosis::Diagnosis> {
    let mut p = presets::microsoft365_profile();
    p.accounts = vec![a.clone()];
    for m in &mut p.mailboxes {
        m.account = Some(a.name.clone());
    }
    for x in &mut p.transports {
        x.account = Some(a.name.clone());
    }
    let seen = diagnosis::SignInSeen::Token(diagnosis::TokenSeen::of(t));
    let mut ev = diagnosis::Evidence::new(&p, std::time::SystemTime::now());
    ev.sign_ins.push((&a.name, &seen));
    diagnosis::for_account(&ev, &a.name, &diagnosis::Place::Window)
}

#[tokio::test]
async fn client_credentials_sign_in_then_the_cache_serves_the_second_request() {
    let idp = idp().await;
    let a = account(&idp, "App", Flow::AppOnly);
    let src = source(with_secret(&a, defaults::APP_SECRET));
    let (events, on_event) = recorder();
    let first = src.token(&a, &on_event).await.unwrap();
    let second = src.token(&a, &on_event).await.unwrap();
    assert_eq!(oauth::expose(&first), oauth::expose(&second));
    assert_eq!(src.fetch_count(), 1);
    assert_eq!(
        token_requests(&idp, "client_credentials"),
        1,
        "the second token came from memory"
    );
    assert_eq!(*events.lock().unwrap(), [FlowEvent::Cached]);

    let c = claims::decode(oauth::expose(&first)).unwrap();
    assert_eq!(c.audience, ["https://outlook.office365.com"]);
    assert_eq!(c.tenant.as_deref(), Some(defaults::TENANT_ID));
    assert_eq!(c.app_id.as_deref(), Some(defaults::APP_CLIENT_ID));
    assert!(
        c.roles.iter().any(|r| r == "IMAP.AccessAsApp"),
        "{:?}",
        c.roles
    );
    let problems = problems(&a, &first);
    assert!(problems.is_empty(), "{problems:?}");

    // Concurrent requests for one account wait for each other: still one fetch.
    let other = source(with_secret(&a, defaults::APP_SECRET));
    let (x, y) = tokio::join!(other.token(&a, &|_| {}), other.token(&a, &|_| {}));
    assert_eq!(oauth::expose(&x.unwrap()), oauth::expose(&y.unwrap()));
    assert_eq!(other.fetch_count(), 1);
}

#[tokio::test]
async fn a_missing_role_is_named_with_its_portal_step() {
    let idp = idp().await;
    idp.config(|c| c.apps[0].roles.retain(|r| r != "SMTP.SendAsApp"));
    let a = account(&idp, "App", Flow::AppOnly);
    let t = source(with_secret(&a, defaults::APP_SECRET))
        .token(&a, &|_| {})
        .await
        .unwrap();
    let problems = problems(&a, &t);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, diagnosis::Kind::PermissionMissing);
    assert!(problems[0].title.contains("SMTP.SendAsApp"));
    assert!(problems[0].fix.contains("Grant admin consent"));
}

#[tokio::test]
async fn a_graph_token_is_named_as_the_wrong_resource() {
    let idp = idp().await;
    idp.config(|c| c.audience = Some("https://graph.microsoft.com".into()));
    let a = account(&idp, "App", Flow::AppOnly);
    let t = source(with_secret(&a, defaults::APP_SECRET))
        .token(&a, &|_| {})
        .await
        .unwrap();
    let problems = problems(&a, &t);
    assert!(
        problems
            .iter()
            .any(|p| p.kind == diagnosis::Kind::WrongResource
                && p.title.contains("Microsoft Graph")
                && p.fix.contains("outlook.office365.com/.default")),
        "{problems:?}"
    );
}

#[tokio::test]
async fn client_credentials_refusals_are_explained() {
    let idp = idp().await;
    let a = account(&idp, "App", Flow::AppOnly);

    let wrong = "not-the-secret-value-123";
    let x = refused(&a, with_secret(&a, wrong), wrong).await;
    assert_eq!(x.code, "AADSTS7000215");
    assert!(
        x.cause.contains("secret ID") && x.fix.contains("Value"),
        "{x}"
    );
    assert!(
        x.trace_id.is_some(),
        "Microsoft's trace ID is kept for support: {x}"
    );

    let mut unknown_client = a.clone();
    unknown_client.client_id = "00000000-1111-2222-3333-444444444444".into();
    let x = refused(
        &unknown_client,
        with_secret(&a, defaults::APP_SECRET),
        defaults::APP_SECRET,
    )
    .await;
    assert_eq!(x.code, "AADSTS700016");
    assert!(
        x.cause.contains("00000000-1111-2222-3333-444444444444"),
        "the fix names the client ID: {x}"
    );

    let mut unknown_tenant = a.clone();
    unknown_tenant.tenant = Some("nosuchtenant.example".into());
    let x = refused(
        &unknown_tenant,
        with_secret(&a, defaults::APP_SECRET),
        defaults::APP_SECRET,
    )
    .await;
    assert_eq!(x.code, "AADSTS90002");
    assert!(x.cause.contains("nosuchtenant.example"), "{x}");

    let mut wrong_scope = a.clone();
    wrong_scope.scopes = vec!["https://outlook.office365.com/IMAP.AccessAsApp".into()];
    let x = refused(
        &wrong_scope,
        with_secret(&a, defaults::APP_SECRET),
        defaults::APP_SECRET,
    )
    .await;
    assert_eq!(x.code, "AADSTS1002012");
    assert!(
        x.fix.contains("https://outlook.office365.com/.default"),
        "{x}"
    );

    let mut common = a.clone();
    common.tenant = Some("common".into());
    let x = refused(
        &common,
        with_secret(&a, defaults::APP_SECRET),
        defaults::APP_SECRET,
    )
    .await;
    assert!(x.fix.contains("tenant"), "{x}");

    // No secret at all: said before any request.
    let before = idp.requests().len();
    let err = source(Secrets::memory_only())
        .token(&a, &|_| {})
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            OAuthError::Config {
                field: "client secret",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(idp.requests().len(), before);
}

#[tokio::test]
async fn device_code_then_refresh_then_an_expired_refresh_token() {
    let idp = idp().await;
    let a = account(&idp, "Desk", Flow::DeviceCode);
    let secrets = Secrets::memory_only();
    let (events, on_event) = recorder();
    let t = source(secrets.clone()).token(&a, &on_event).await.unwrap();
    assert_eq!(
        t.user.as_deref(),
        Some(defaults::USER_EMAIL),
        "the id_token names the user"
    );
    let shown = events.lock().unwrap().clone();
    match shown.as_slice() {
        [
            FlowEvent::DeviceCode {
                user_code,
                verification_uri,
                expires_in_secs,
            },
        ] => {
            assert!(!user_code.is_empty());
            assert!(
                verification_uri.starts_with(idp.authority()),
                "{verification_uri}"
            );
            assert!(*expires_in_secs > 0);
        }
        other => panic!("expected one device-code event, got {other:?}"),
    }
    assert!(
        token_requests(&idp, "urn:ietf:params:oauth:grant-type:device_code") >= 2,
        "polled until approved"
    );
    let c = claims::decode(oauth::expose(&t)).unwrap();
    assert!(
        c.scopes.iter().any(|s| s == "IMAP.AccessAsUser.All"),
        "{:?}",
        c.scopes
    );
    let rt = secrets
        .get(&account_entry("Desk"), Kind::RefreshToken)
        .unwrap();
    assert!(rt.is_some(), "the refresh token is kept");

    // A new run (new cache, same store) refreshes silently: no person needed.
    let (events, on_event) = recorder();
    let again = source(secrets.clone()).token(&a, &on_event).await.unwrap();
    assert_ne!(oauth::expose(&again), oauth::expose(&t));
    assert_eq!(*events.lock().unwrap(), [FlowEvent::Refreshed]);
    assert_eq!(token_requests(&idp, "refresh_token"), 1);

    // An expired refresh token is explained: sign in again.
    idp.config(|c| c.refresh_tokens_expired = true);
    let http = oauth::http_client(&TlsSettings::default(), None).unwrap();
    let e = endpoints::known(&a).unwrap().unwrap();
    let rt = secrets
        .get(&account_entry("Desk"), Kind::RefreshToken)
        .unwrap()
        .unwrap();
    let req = flows::Request {
        account: &a,
        endpoints: &e,
        secret: None,
        http: &http,
        has_refresh_token: true,
    };
    match flows::refresh(&req, &rt).await {
        Err(OAuthError::Idp(x)) => {
            assert_eq!(x.code, "AADSTS700082");
            assert!(x.fix.contains("sign in again"), "{x}");
        }
        Err(other) => panic!("expected AADSTS700082, got {other}"),
        Ok(_) => panic!("an expired refresh token was accepted"),
    }
}

#[tokio::test]
async fn an_unreachable_identity_provider_is_a_network_error_naming_the_address() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let idp = idp().await;
    let mut a = account(&idp, "App", Flow::AppOnly);
    a.authority = Some(format!("http://127.0.0.1:{closed}"));
    let err = source(with_secret(&a, defaults::APP_SECRET))
        .token(&a, &|_| {})
        .await
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            OAuthError::Network {
                what: "connecting",
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!("127.0.0.1:{closed}")) && text.contains("fix:"),
        "{text}"
    );
    assert!(!text.contains(defaults::APP_SECRET));
}

// ---- the command line, with a real browser and a real keyring ----

/// A profile with an app-only and a delegated account pointed at the IdP, and nothing else.
fn write_profile(dir: &Path, idp: &Idp) -> PathBuf {
    let path = dir.join("signin.toml");
    let text = format!(
        r#"version = 1

[[accounts]]
name = "App"
provider = "microsoft"
flow = "app-only"
tenant = "{tenant}"
client_id = "{app}"
authority = "{authority}"
scopes = ["https://outlook.office365.com/.default"]

[[accounts]]
name = "Alice"
provider = "microsoft"
flow = "delegated"
tenant = "{tenant}"
client_id = "{public}"
authority = "{authority}"
scopes = ["https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access"]
"#,
        tenant = defaults::TENANT_ID,
        app = defaults::APP_CLIENT_ID,
        public = defaults::PUBLIC_CLIENT_ID,
        authority = idp.authority(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn browser_script() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/servers/headless-browser.sh"
    )
    .to_owned()
}

fn assert_chromium() {
    assert!(
        std::process::Command::new("chromium")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "chromium is missing: run tests/servers/install.sh"
    );
}

/// Runs `mailcfg` without a keyring bus and without the secret variable, unless `env` sets them.
async fn mailcfg(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = tokio::process::Command::new(BIN);
    c.args(args)
        .env_remove("MAILCFG_CLIENT_SECRET")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("BROWSER");
    for (k, v) in env {
        c.env(k, v);
    }
    tokio::time::timeout(Duration::from_mins(2), c.output())
        .await
        .expect("mailcfg did not finish in 120 s")
        .unwrap()
}

fn text_of(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_command_app_only_json_and_show_token_and_no_keyring_notice_once() {
    let idp = idp().await;
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(dir.path(), &idp);
    let p = p.to_str().unwrap();
    let o = mailcfg(
        &["token", "--profile", p, "--account", "App", "--json"],
        &[("MAILCFG_CLIENT_SECRET", defaults::APP_SECRET)],
    )
    .await;
    let (out, err) = text_of(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["claims"]["audience"][0], "https://outlook.office365.com");
    assert_eq!(v["claims"]["roles"].as_array().unwrap().len(), 3);
    assert_eq!(v["problems"].as_array().unwrap().len(), 0);
    assert_eq!(
        err.matches("No OS keyring is available").count(),
        1,
        "said once: {err}"
    );
    assert!(!out.contains(defaults::APP_SECRET) && !err.contains(defaults::APP_SECRET));
    let issued_before = token_requests(&idp, "client_credentials");

    // Human output: the summary and no token; --show-token prints the token alone.
    let o = mailcfg(
        &["token", "--profile", p, "--account", "App"],
        &[("MAILCFG_CLIENT_SECRET", defaults::APP_SECRET)],
    )
    .await;
    let (out, _) = text_of(&o);
    assert!(
        out.contains("IMAP.AccessAsApp") && out.contains("expires"),
        "{out}"
    );
    assert!(!out.contains("eyJ"), "no JWT in the human output: {out}");
    let o = mailcfg(
        &["token", "--profile", p, "--account", "App", "--show-token"],
        &[("MAILCFG_CLIENT_SECRET", defaults::APP_SECRET)],
    )
    .await;
    let (out, _) = text_of(&o);
    let tok = out.trim();
    assert_eq!(tok.split('.').count(), 3, "a JWT alone on stdout");
    assert!(idp.issued(tok).is_some(), "the IdP issued this token");
    assert_eq!(
        token_requests(&idp, "client_credentials"),
        issued_before + 2
    );

    // A wrong secret: exit 1 and the explanation.
    let o = mailcfg(
        &["token", "--profile", p, "--account", "App"],
        &[("MAILCFG_CLIENT_SECRET", "wrong-secret-value")],
    )
    .await;
    let (out, err) = text_of(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("AADSTS7000215") && err.contains("fix:"),
        "{err}"
    );
    assert!(!err.contains("wrong-secret-value") && !out.contains("wrong-secret-value"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegated_sign_in_with_headless_chromium_refuses_a_forged_state_and_uses_pkce() {
    assert_chromium();
    let idp = idp().await;
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(dir.path(), &idp);
    let forge = dir.path().to_str().unwrap();
    let o = mailcfg(
        &[
            "token",
            "--profile",
            p.to_str().unwrap(),
            "--account",
            "Alice",
            "--json",
        ],
        &[("BROWSER", &browser_script()), ("FORGE_DIR", forge)],
    )
    .await;
    let (out, err) = text_of(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        err.contains(&idp.authorize_url(defaults::TENANT_ID)),
        "the address is always shown: {err}"
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["user"], defaults::USER_EMAIL);
    let scopes: Vec<&str> = v["claims"]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        scopes.contains(&"IMAP.AccessAsUser.All") && scopes.contains(&"SMTP.Send"),
        "{scopes:?}"
    );
    // The forged redirect (wrong state) was refused while the real one went through.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("forged")).unwrap(),
        "400"
    );
    // The IdP requires PKCE and checks the verifier against the challenge: one code exchange, accepted.
    let exchanges: Vec<_> = idp
        .requests()
        .into_iter()
        .filter(|r| r.grant_type.as_deref() == Some("authorization_code"))
        .collect();
    assert_eq!(exchanges.len(), 1, "{exchanges:?}");
    assert_eq!(exchanges[0].status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_browser_the_address_is_shown_and_works_when_opened_by_hand() {
    assert_chromium();
    let idp = idp().await;
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(dir.path(), &idp);
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "token",
            "--profile",
            p.to_str().unwrap(),
            "--account",
            "Alice",
        ])
        .env_remove("MAILCFG_CLIENT_SECRET")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("BROWSER", "/nonexistent/browser")
        .env("PATH", "/nonexistent")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = String::new();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(l) = lines.next_line().await.unwrap() {
            said.push_str(&l);
            said.push('\n');
            if l.trim_start().starts_with("http") {
                return l.trim().to_owned();
            }
        }
        panic!("no address shown: {said}");
    })
    .await
    .unwrap();
    assert!(said.contains("Could not open a browser"), "{said}");
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("state="),
        "{url}"
    );
    // The person opens it by hand.
    let browse = tokio::process::Command::new(browser_script())
        .arg(&url)
        .status()
        .await
        .unwrap();
    assert!(browse.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    let mut out = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stdout.take().unwrap(), &mut out)
        .await
        .unwrap();
    assert!(status.success(), "{out}");
    assert!(out.contains(defaults::USER_EMAIL), "{out}");
}

/// The keyring session in a home of its own.
async fn with_keyring_here(script: &str, env: &[(&str, &str)]) -> Output {
    let home = tempfile::tempdir().unwrap();
    support::keyring::with_keyring(home.path(), BIN, script, env).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyring_keeps_the_secret_and_the_refresh_token_between_runs() {
    assert_chromium();
    let idp = idp().await;
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(dir.path(), &idp);
    // One keyring session: store the secret from stdin, sign in app-only with it; sign in
    // delegated in the browser, then again with the browser gone (the refresh token serves);
    // finally delete, and the secret is gone.
    let script = r#"set -e
printf '%s\n' "$SECRET" | "$MAILCFG" secret --profile "$P" --account App
"$MAILCFG" token --profile "$P" --account App --json > "$D/app.json"
BROWSER="$B" "$MAILCFG" token --profile "$P" --account Alice --json > "$D/alice1.json"
BROWSER=/nonexistent PATH=/nonexistent "$MAILCFG" token --profile "$P" --account Alice --json > "$D/alice2.json"
"$MAILCFG" secret --profile "$P" --account App --delete
if "$MAILCFG" token --profile "$P" --account App 2> "$D/gone.txt"; then exit 9; fi
echo done
"#;
    let o = with_keyring_here(
        script,
        &[
            ("SECRET", defaults::APP_SECRET),
            ("P", p.to_str().unwrap()),
            ("D", dir.path().to_str().unwrap()),
            ("B", &browser_script()),
        ],
    )
    .await;
    let (out, err) = text_of(&o);
    assert!(o.status.success() && out.contains("done"), "{out}\n{err}");
    assert!(
        out.contains("Stored the client secret of account \"App\" in the OS keyring"),
        "{out}"
    );
    assert!(
        !err.contains("No OS keyring"),
        "a real keyring was used: {err}"
    );
    assert!(!out.contains(defaults::APP_SECRET) && !err.contains(defaults::APP_SECRET));
    let read = |n: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(n)).unwrap()).unwrap()
    };
    assert_eq!(
        read("app.json")["claims"]["app_id"],
        defaults::APP_CLIENT_ID
    );
    assert_eq!(read("alice1.json")["user"], defaults::USER_EMAIL);
    assert_eq!(read("alice2.json")["claims"]["user"], defaults::USER_EMAIL);
    assert_eq!(
        token_requests(&idp, "authorization_code"),
        1,
        "the second delegated run used the stored refresh token"
    );
    assert_eq!(token_requests(&idp, "refresh_token"), 1);
    let gone = std::fs::read_to_string(dir.path().join("gone.txt")).unwrap();
    assert!(gone.contains("needs its client secret"), "{gone}");
}

#[tokio::test]
async fn a_generic_provider_finds_its_endpoints_at_its_issuer() {
    let idp = idp().await;
    let mut a = presets::account("Generic", Provider::Generic, Flow::AppOnly);
    a.issuer = Some(format!("{}/{}/v2.0", idp.authority(), defaults::TENANT_ID));
    defaults::APP_CLIENT_ID.clone_into(&mut a.client_id);
    a.scopes = vec!["https://outlook.office365.com/.default".into()];
    let t = source(with_secret(&a, defaults::APP_SECRET))
        .token(&a, &|_| {})
        .await
        .unwrap();
    assert!(idp.issued(oauth::expose(&t)).is_some());
    let paths: Vec<String> = idp.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with("/.well-known/openid-configuration")),
        "{paths:?}"
    );

    // An issuer that is not one says so.
    a.issuer = Some(format!("{}/nothing-here", idp.authority()));
    let err = source(with_secret(&a, defaults::APP_SECRET))
        .token(&a, &|_| {})
        .await
        .err()
        .unwrap();
    assert!(matches!(err, OAuthError::Discovery { .. }), "{err}");
    assert!(err.to_string().contains("fix:"), "{err}");
}

/// The identity provider behind HTTPS with the test CA's certificate: a TLS-terminating proxy.
async fn https_idp(s: &support::TestServers) -> String {
    let (cert, key) = s.server_cert_and_key();
    let acceptor = support::tls::acceptor(cert, key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = s.authority().trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        while let Ok((c, _)) = listener.accept().await {
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                if let (Ok(mut tls), Ok(mut plain)) = (
                    acceptor.accept(c).await,
                    tokio::net::TcpStream::connect(&upstream).await,
                ) {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

#[tokio::test]
async fn an_https_identity_provider_is_trusted_through_tls_ca_file_and_refused_without_it() {
    let s = support::TestServers::start().await.unwrap();
    let mut a = presets::account("App", Provider::Microsoft, Flow::AppOnly);
    a.authority = Some(https_idp(&s).await);
    a.tenant = Some(defaults::TENANT_ID.to_owned());
    defaults::APP_CLIENT_ID.clone_into(&mut a.client_id);

    let tls = TlsSettings {
        ca_file: Some(s.ca_file().to_owned()),
    };
    let src = TokenSource::new(&tls, None, with_secret(&a, defaults::APP_SECRET)).unwrap();
    let t = src.token(&a, &|_| {}).await.unwrap();
    assert!(s.idp.issued(oauth::expose(&t)).is_some());

    // The system roots alone do not know the test CA: a TLS failure that names the fix.
    let err = source(with_secret(&a, defaults::APP_SECRET))
        .token(&a, &|_| {})
        .await
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            OAuthError::Network {
                what: "the TLS handshake",
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("tls.ca_file"), "{text}");
    assert!(!text.contains(defaults::APP_SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegated_sign_in_of_a_confidential_app_sends_its_secret_with_the_code() {
    assert_chromium();
    let idp = idp().await;
    let conf_id = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b";
    let conf_secret = "Conf~Secret.Value-42";
    idp.add_app(support::idp::App::confidential(conf_id, conf_secret));
    let dir = tempfile::tempdir().unwrap();
    let p = write_profile(dir.path(), &idp);
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace(defaults::PUBLIC_CLIENT_ID, conf_id);
    std::fs::write(&p, text).unwrap();
    let args = [
        "token",
        "--profile",
        p.to_str().unwrap(),
        "--account",
        "Alice",
        "--json",
    ];
    let o = mailcfg(
        &args,
        &[
            ("BROWSER", &browser_script()),
            ("MAILCFG_CLIENT_SECRET", conf_secret),
        ],
    )
    .await;
    let (out, err) = text_of(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(!out.contains(conf_secret) && !err.contains(conf_secret));
    let exchange: Vec<_> = idp
        .requests()
        .into_iter()
        .filter(|r| r.grant_type.as_deref() == Some("authorization_code"))
        .collect();
    assert_eq!(exchange.len(), 1);
    assert_eq!(exchange[0].client_id.as_deref(), Some(conf_id));
    assert_eq!(
        exchange[0].status, 200,
        "the IdP requires the secret of a confidential app"
    );

    // Without the secret, the same sign-in is refused at the code exchange, explained.
    let o = mailcfg(&args, &[("BROWSER", &browser_script())]).await;
    let (_, err) = text_of(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("AADSTS7000218"), "{err}");
}

#[tokio::test]
async fn a_cached_token_is_not_served_for_changed_account_settings() {
    let idp = idp().await;
    let a = account(&idp, "App", Flow::AppOnly);
    let src = source(with_secret(&a, defaults::APP_SECRET));
    src.token(&a, &|_| {}).await.unwrap();
    src.token(&a, &|_| {}).await.unwrap();
    assert_eq!(
        src.fetch_count(),
        1,
        "the same settings: served from memory"
    );
    // Another client ID under the same name: that token is not this account's any more.
    let mut changed = a.clone();
    changed.client_id = "6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a61".into();
    let e = src
        .token(&changed, &|_| {})
        .await
        .err()
        .expect("the IdP knows no such app");
    assert!(e.to_string().contains("AADSTS700016"), "{e}");
    assert_eq!(src.fetch_count(), 2);
}
