//! The real test servers work end to end, checked with curl as an independent client: a token
//! from the IdP over HTTP opens IMAP (implicit TLS and STARTTLS), POP3 and SMTP submission on
//! Dovecot, submission relays to the sink, foreign tokens and untrusted CAs are refused, and the
//! IdP's flows and errors look like Entra's. No test prints a token or a secret (no `curl -v`,
//! no token in assertion messages).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::idp::{Idp, Introspection, tokens};
use support::{TestServers, defaults, http, tls};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

const EXCHANGE: &str = "https://outlook.office365.com/.default";

/// Client credentials for the default app-only client, over HTTP like the app does it.
async fn app_token(s: &TestServers) -> String {
    let r = http::post_form(
        &s.idp.token_url(defaults::TENANT_ID),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", defaults::APP_CLIENT_ID),
            ("client_secret", defaults::APP_SECRET),
            ("scope", EXCHANGE),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        r.status, 200,
        "the token endpoint refused client credentials"
    );
    let v = r.json().unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    assert!(
        v.get("refresh_token").is_none(),
        "client credentials give no refresh token"
    );
    v["access_token"].as_str().unwrap().to_owned()
}

struct Curl {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs curl quietly (never -v: it would print the bearer token), at most 30 s.
async fn curl(args: &[&str]) -> Curl {
    let run = tokio::process::Command::new("curl")
        .args(["-sS", "--max-time", "20"])
        .args(args)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("curl took over 30 s")
        .expect("cannot run curl");
    Curl {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// curl signed in as `user` with `token` (OAUTHBEARER: curl prefers it when offered).
async fn curl_bearer(s: &TestServers, user: &str, token: &str, url: &str, extra: &[&str]) -> Curl {
    let ca = s.ca_file().to_str().unwrap().to_owned();
    let login = format!("{user}:");
    let mut args = vec!["--cacert", &ca, "-u", &login, "--oauth2-bearer", token, url];
    args.extend_from_slice(extra);
    curl(&args).await
}

/// Waits (at most 5 s) until Dovecot's log contains `needle`; logs are written a moment later.
async fn log_has(s: &TestServers, needle: &str) -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if s.dovecot_log_text().contains(needle) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_accepts_an_app_only_token_over_tls_and_starttls() {
    let began = Instant::now();
    let s = TestServers::start().await.unwrap();
    eprintln!("TestServers::start took {:?}", began.elapsed());
    let token = app_token(&s).await;
    let urls = [
        (format!("imaps://localhost:{}/", s.ports.imaps), false),
        (format!("imap://localhost:{}/", s.ports.imap), true),
        // 127.0.0.2 is not "secure" to Dovecot: this one really needs STARTTLS before AUTH.
        (format!("imap://127.0.0.2:{}/", s.ports.imap_remote), true),
    ];
    for (url, starttls) in &urls {
        let extra: &[&str] = if *starttls { &["--ssl-reqd"] } else { &[] };
        let c = curl_bearer(&s, defaults::MAILBOX, &token, url, extra).await;
        assert_eq!(c.code, Some(0), "{url}: curl failed: {}", c.stderr);
        assert!(
            c.stdout.contains("INBOX"),
            "{url}: LIST did not show INBOX: {}",
            c.stdout
        );
    }
    let introspections = s
        .idp
        .requests()
        .iter()
        .filter(|r| r.path == "/introspect" && r.status == 200)
        .count();
    assert_eq!(introspections, 3, "each login asks the IdP once");
    let token_requests: Vec<_> = s
        .idp
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/token"))
        .collect();
    assert_eq!(token_requests.len(), 1);
    assert_eq!(
        token_requests[0].grant_type.as_deref(),
        Some("client_credentials")
    );
    assert_eq!(
        token_requests[0].client_id.as_deref(),
        Some(defaults::APP_CLIENT_ID)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_lists_a_delivered_message_over_tls_and_stls() {
    let s = TestServers::start().await.unwrap();
    let message =
        "From: someone@example.org\nTo: mailbox@example.test\nSubject: seeded\n\nHello POP3.\n";
    s.deliver(defaults::MAILBOX, message).unwrap();
    let size = message.replace('\n', "\r\n").len();
    let token = app_token(&s).await;
    for (url, extra) in [
        (format!("pop3s://localhost:{}/", s.ports.pop3s), &[][..]),
        (
            format!("pop3://127.0.0.2:{}/", s.ports.pop3_remote),
            &["--ssl-reqd"][..],
        ),
    ] {
        let c = curl_bearer(&s, defaults::MAILBOX, &token, &url, extra).await;
        assert_eq!(c.code, Some(0), "{url}: curl failed: {}", c.stderr);
        assert_eq!(c.stdout.trim(), format!("1 {size}"), "{url}: LIST");
    }
    // RETR through curl: message 1 is the one delivered.
    let c = curl_bearer(
        &s,
        defaults::MAILBOX,
        &token,
        &format!("pop3s://localhost:{}/1", s.ports.pop3s),
        &[],
    )
    .await;
    assert_eq!(c.code, Some(0), "RETR failed: {}", c.stderr);
    assert!(
        c.stdout.contains("Subject: seeded"),
        "RETR gave: {}",
        c.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submission_relays_what_it_accepts_to_the_sink() {
    let s = TestServers::start().await.unwrap();
    let token = app_token(&s).await;
    let mail = s.dir().join("mail.txt");
    std::fs::write(&mail, "From: mailbox@example.test\r\nTo: bob@example.org\r\nSubject: smoke\r\n\r\nHello from the smoke test.\r\n.leading dot\r\n").unwrap();
    let mail = mail.to_str().unwrap().to_owned();
    let send = [
        "--mail-from",
        defaults::MAILBOX,
        "--mail-rcpt",
        "bob@example.org",
        "--upload-file",
        &mail,
    ];
    let starttls = [&["--ssl-reqd"][..], &send[..]].concat();
    let c = curl_bearer(
        &s,
        defaults::MAILBOX,
        &token,
        &format!("smtp://localhost:{}", s.ports.submission),
        &starttls,
    )
    .await;
    assert_eq!(
        c.code,
        Some(0),
        "submission (STARTTLS) failed: {}",
        c.stderr
    );
    let c = curl_bearer(
        &s,
        defaults::MAILBOX,
        &token,
        &format!("smtps://localhost:{}", s.ports.submissions),
        &send,
    )
    .await;
    assert_eq!(c.code, Some(0), "submissions (TLS) failed: {}", c.stderr);
    let got = s.sink.wait_for(2, Duration::from_secs(10)).await.unwrap();
    for m in &got {
        assert_eq!(m.mail_from, "<mailbox@example.test>");
        assert_eq!(m.rcpt_to, vec!["<bob@example.org>".to_owned()]);
        assert!(m.data.contains("Subject: smoke\r\n"), "{}", m.data);
        assert!(
            m.data.contains("\r\n.leading dot\r\n"),
            "dot-stuffing undone: {}",
            m.data
        );
        assert!(
            m.data.contains("with ESMTPSA"),
            "Dovecot's Received header: {}",
            m.data
        );
    }
    assert!(log_has(&s, "Successfully relayed message").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_tokens_and_untrusted_cas_are_refused() {
    let s = TestServers::start().await.unwrap();
    let url = format!("imaps://localhost:{}/", s.ports.imaps);
    // A well-formed JWT the IdP never issued.
    let forged = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlMzY1LmNvbSJ9.c2lnbmF0dXJl";
    let c = curl_bearer(&s, defaults::MAILBOX, forged, &url, &[]).await;
    assert_eq!(
        c.code,
        Some(67),
        "a foreign token must be refused (Login denied): {}",
        c.stderr
    );
    assert!(
        log_has(&s, "Provided token is not valid").await,
        "Dovecot's reason"
    );
    // A real token whose app opens no mailbox is refused the same way.
    s.idp
        .config(|c| c.apps.iter_mut().for_each(|a| a.app_mailbox = None));
    let token = app_token(&s).await;
    assert_eq!(
        curl_bearer(&s, defaults::MAILBOX, &token, &url, &[])
            .await
            .code,
        Some(67)
    );
    // The wrong CA: verification fails before any login.
    let bad_ca = s.untrusted_ca().to_str().unwrap().to_owned();
    let c = curl(&["--cacert", &bad_ca, &url]).await;
    assert_eq!(c.code, Some(60), "untrusted CA: {}", c.stderr);
}

fn guid_shaped(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 36 && s.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
    })
}

async fn new_idp() -> Idp {
    Idp::start(support::idp::Config::default()).await.unwrap()
}

/// POSTs a form to `tenant`'s token endpoint; returns the status and the JSON body.
async fn token_call(idp: &Idp, tenant: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let r = http::post_form(&idp.token_url(tenant), form).await.unwrap();
    (r.status, r.json().unwrap())
}

fn client_credentials<'a>(id: &'a str, secret: &'a str, scope: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
        ("scope", scope),
    ]
}

fn first_code(v: &Value) -> u64 {
    v["error_codes"][0].as_u64().unwrap()
}

#[tokio::test]
async fn idp_errors_have_microsofts_shape() {
    let idp = new_idp().await;
    let form = client_credentials(
        defaults::APP_CLIENT_ID,
        "the-secret-id-not-its-value",
        EXCHANGE,
    );
    let (status, v) = token_call(&idp, defaults::TENANT_DOMAIN, &form).await;
    assert_eq!(status, 401);
    assert_eq!(v["error"], "invalid_client");
    let d = v["error_description"].as_str().unwrap();
    assert!(
        d.starts_with("AADSTS7000215: Invalid client secret provided."),
        "{d}"
    );
    assert_eq!(v["error_codes"], serde_json::json!([7_000_215]));
    assert_eq!(
        v["error_uri"],
        "https://login.microsoftonline.com/error?code=7000215"
    );
    assert!(
        guid_shaped(&v["trace_id"]) && guid_shaped(&v["correlation_id"]),
        "{v}"
    );
    let ts = v["timestamp"].as_str().unwrap();
    assert!(ts.len() == 20 && ts.ends_with('Z'), "{ts}");
    let trace = format!("\r\nTrace ID: {}\r\n", v["trace_id"].as_str().unwrap());
    let corr = format!(
        "\r\nCorrelation ID: {}\r\n",
        v["correlation_id"].as_str().unwrap()
    );
    assert!(d.contains(&trace) && d.contains(&corr), "{d}");
    assert!(d.ends_with(&format!("\r\nTimestamp: {ts}")), "{d}");
    let logged = idp.requests();
    assert_eq!(logged[0].error_code, Some(7_000_215));
    assert_eq!(logged[0].grant_type.as_deref(), Some("client_credentials"));
}

#[tokio::test]
async fn idp_uses_entras_error_codes() {
    let idp = new_idp().await;
    let (app, secret) = (defaults::APP_CLIENT_ID, defaults::APP_SECRET);
    let ok = client_credentials(app, secret, EXCHANGE);
    let (status, v) = token_call(&idp, "nosuchtenant.example", &ok).await;
    assert_eq!((status, first_code(&v)), (400, 90_002));
    assert_eq!(
        first_code(&token_call(&idp, "common", &ok).await.1),
        9_001_023
    );
    let unknown = client_credentials("00000000-0000-0000-0000-000000000001", "x", EXCHANGE);
    let (_, v) = token_call(&idp, defaults::TENANT_ID, &unknown).await;
    assert_eq!(
        (v["error"].as_str(), first_code(&v)),
        (Some("unauthorized_client"), 700_016)
    );
    let role_scope = "https://outlook.office365.com/IMAP.AccessAsApp";
    let (_, v) = token_call(
        &idp,
        defaults::TENANT_ID,
        &client_credentials(app, secret, role_scope),
    )
    .await;
    assert_eq!(v["error"], "invalid_scope");
    let mixed = "https://outlook.office365.com/.default https://graph.microsoft.com/.default";
    let (_, v) = token_call(
        &idp,
        defaults::TENANT_ID,
        &client_credentials(app, secret, mixed),
    )
    .await;
    assert_eq!(first_code(&v), 70_011);
    let no_secret = [
        ("grant_type", "client_credentials"),
        ("client_id", app),
        ("scope", EXCHANGE),
    ];
    let (status, v) = token_call(&idp, defaults::TENANT_ID, &no_secret).await;
    assert_eq!((status, first_code(&v)), (401, 7_000_218));
    let public = client_credentials(defaults::PUBLIC_CLIENT_ID, "s", EXCHANGE);
    assert_eq!(
        first_code(&token_call(&idp, defaults::TENANT_ID, &public).await.1),
        700_025
    );
}

const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-0123456789-abcdefghij";
const REDIRECT: &str = "http://localhost:53682/";

/// Asks the authorize endpoint (organizations) for a code with PKCE; returns the redirect's query.
async fn authorize(idp: &Idp, scope: &str) -> Vec<(String, String)> {
    let challenge = tokens::s256(VERIFIER);
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", defaults::PUBLIC_CLIENT_ID),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "st-1"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let r = http::get(&format!("{}?{q}", idp.authorize_url("organizations")))
        .await
        .unwrap();
    assert_eq!(r.status, 302, "authorize: {}", r.body);
    let location = url::Url::parse(r.header("location").unwrap()).unwrap();
    assert!(location.as_str().starts_with(REDIRECT), "{location}");
    location.query_pairs().into_owned().collect()
}

fn param<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str())
}

async fn redeem(idp: &Idp, code: &str, verifier: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", defaults::PUBLIC_CLIENT_ID),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    token_call(idp, "organizations", &form).await
}

fn decode(jwt: &str) -> Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

const USER_SCOPE: &str = "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access openid email";

#[tokio::test]
async fn idp_authorization_code_with_pkce() {
    let idp = new_idp().await;
    let p = authorize(&idp, USER_SCOPE).await;
    assert_eq!(param(&p, "state"), Some("st-1"));
    let code = param(&p, "code").unwrap().to_owned();
    let (status, v) = redeem(&idp, &code, VERIFIER).await;
    assert_eq!(status, 200, "code exchange failed");
    let granted =
        "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send";
    assert_eq!(v["scope"], granted);
    assert!(v["refresh_token"].is_string());
    assert_eq!(
        decode(v["id_token"].as_str().unwrap())["email"],
        defaults::USER_EMAIL
    );
    let at = decode(v["access_token"].as_str().unwrap());
    assert_eq!(at["aud"], "https://outlook.office.com");
    assert_eq!(at["scp"], "IMAP.AccessAsUser.All SMTP.Send");
    assert_eq!(at["upn"], defaults::USER_EMAIL);
    assert_eq!(
        at["iss"],
        format!("https://sts.windows.net/{}/", defaults::TENANT_ID)
    );
    // Single use.
    assert_eq!(first_code(&redeem(&idp, &code, VERIFIER).await.1), 54_005);
    // A wrong verifier.
    let code2 = param(&authorize(&idp, USER_SCOPE).await, "code")
        .unwrap()
        .to_owned();
    let other = "another-verifier-that-is-long-enough-0123456789-abcdefgh";
    assert_eq!(first_code(&redeem(&idp, &code2, other).await.1), 501_481);
    // A forced error goes back to the app's redirect.
    let declined = "User declined to consent to access the app.";
    idp.config(|c| {
        c.authorize_error = Some(support::idp::MsError::new(
            400,
            "access_denied",
            65_004,
            declined,
        ));
    });
    let p = authorize(&idp, USER_SCOPE).await;
    assert_eq!(param(&p, "error"), Some("access_denied"));
    assert!(
        param(&p, "error_description")
            .unwrap()
            .starts_with("AADSTS65004: ")
    );
}

#[tokio::test]
async fn idp_refresh_rotates_and_expires() {
    let idp = new_idp().await;
    let code = param(&authorize(&idp, USER_SCOPE).await, "code")
        .unwrap()
        .to_owned();
    let rt = redeem(&idp, &code, VERIFIER).await.1["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", defaults::PUBLIC_CLIENT_ID),
        ("refresh_token", rt.as_str()),
    ];
    let (status, v) = token_call(&idp, "organizations", &form).await;
    assert_eq!(status, 200);
    assert!(v["access_token"].is_string());
    assert!(
        v["refresh_token"].as_str().is_some_and(|new| new != rt),
        "a new refresh token"
    );
    idp.expire_refresh_tokens();
    let (_, v) = token_call(&idp, "organizations", &form).await;
    assert_eq!(
        (v["error"].as_str(), first_code(&v)),
        (Some("invalid_grant"), 700_082)
    );
}

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn device_code(idp: &Idp) -> Value {
    let scope = "https://outlook.office.com/POP.AccessAsUser.All offline_access";
    let form = [("client_id", defaults::PUBLIC_CLIENT_ID), ("scope", scope)];
    let r = http::post_form(&idp.devicecode_url("organizations"), &form)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    r.json().unwrap()
}

async fn poll(idp: &Idp, device_code: &str) -> Value {
    let form = [
        ("grant_type", DEVICE_GRANT),
        ("client_id", defaults::PUBLIC_CLIENT_ID),
        ("device_code", device_code),
    ];
    token_call(idp, "organizations", &form).await.1
}

#[tokio::test]
async fn idp_device_code_flow() {
    let idp = new_idp().await;
    let d = device_code(&idp).await;
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains(d["user_code"].as_str().unwrap())
    );
    assert_eq!(d["interval"], 1);
    let dc = d["device_code"].as_str().unwrap();
    let first = poll(&idp, dc).await;
    assert_eq!(
        (first["error"].as_str(), first_code(&first)),
        (Some("authorization_pending"), 70_016)
    );
    let second = poll(&idp, dc).await;
    let at = decode(second["access_token"].as_str().unwrap());
    assert_eq!(at["scp"], "POP.AccessAsUser.All");
    // An expired device code.
    let d = device_code(&idp).await;
    idp.expire_device_codes();
    let r = poll(&idp, d["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (r["error"].as_str(), first_code(&r)),
        (Some("expired_token"), 70_019)
    );
    // Discovery: the issuer carries the tenant GUID.
    let url = format!(
        "{}/{}/v2.0/.well-known/openid-configuration",
        idp.authority(),
        defaults::TENANT_DOMAIN
    );
    let oidc = http::get(&url).await.unwrap().json().unwrap();
    assert!(
        oidc["issuer"]
            .as_str()
            .unwrap()
            .contains(defaults::TENANT_ID)
    );
    let device = oidc["device_authorization_endpoint"].as_str().unwrap();
    assert!(device.ends_with("/oauth2/v2.0/devicecode"));
}

async fn introspect(idp: &Idp, token: &str) -> http::Response {
    let form = [("token", token), ("client_id", ""), ("client_secret", "")];
    http::post_form(&idp.introspect_url(), &form).await.unwrap()
}

#[tokio::test]
async fn idp_introspection_answers_as_configured() {
    let idp = new_idp().await;
    let token = idp.issue_user_token(defaults::USER_EMAIL).unwrap();
    let v = introspect(&idp, &token).await.json().unwrap();
    assert_eq!(
        (v["active"].as_bool(), v["email"].as_str()),
        (Some(true), Some(defaults::USER_EMAIL))
    );
    let app = idp
        .issue_app_token(defaults::APP_CLIENT_ID, "https://outlook.office365.com")
        .unwrap();
    assert_eq!(
        introspect(&idp, &app).await.json().unwrap()["email"],
        defaults::MAILBOX
    );
    let foreign = introspect(&idp, "not-ours").await.json().unwrap();
    assert_eq!(foreign, serde_json::json!({"active": false}));
    idp.config(|c| c.introspection = Introspection::OmitEmail);
    assert!(
        introspect(&idp, &token)
            .await
            .json()
            .unwrap()
            .get("email")
            .is_none()
    );
    idp.config(|c| c.introspection = Introspection::Error500);
    assert_eq!(introspect(&idp, &token).await.status, 500);
    idp.config(|c| c.introspection = Introspection::Normal);
    // Graph-audience tokens don't open mailboxes.
    let graph = idp
        .issue_app_token(defaults::APP_CLIENT_ID, "https://graph.microsoft.com")
        .unwrap();
    assert_eq!(
        introspect(&idp, &graph).await.json().unwrap()["active"],
        false
    );
    idp.expire_access_tokens();
    assert_eq!(
        introspect(&idp, &token).await.json().unwrap()["active"],
        false
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_run_side_by_side_and_keep_their_tokens_apart() {
    let (a, b) = tokio::join!(TestServers::start(), TestServers::start());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.ports.imaps, b.ports.imaps);
    let user_token = a.idp.issue_user_token(defaults::USER_EMAIL).unwrap();
    let ok = curl_bearer(
        &a,
        defaults::USER_EMAIL,
        &user_token,
        &format!("imaps://localhost:{}/", a.ports.imaps),
        &[],
    )
    .await;
    assert_eq!(
        ok.code,
        Some(0),
        "a delegated token on its own server: {}",
        ok.stderr
    );
    // The same token on the other instance: its IdP never issued it.
    let other = curl_bearer(
        &b,
        defaults::USER_EMAIL,
        &user_token,
        &format!("imaps://localhost:{}/", b.ports.imaps),
        &[],
    )
    .await;
    assert_eq!(other.code, Some(67));
    let pid = a.dovecot_pid();
    drop(a);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "Dovecot is gone after drop"
    );
}

/// Sends `cmd` (unless empty) and reads lines until one starts with `end`; returns them all.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut BufReader<S>,
    cmd: &str,
    end: &str,
) -> String {
    if !cmd.is_empty() {
        c.get_mut()
            .write_all(format!("{cmd}\r\n").as_bytes())
            .await
            .unwrap();
    }
    let mut all = String::new();
    loop {
        let line = tls::read_line(c, Duration::from_secs(5)).await.unwrap();
        all.push_str(&line);
        if line.starts_with(end) {
            return all;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_remote_listeners_demand_starttls() {
    let s = TestServers::start().await.unwrap();
    // 127.0.0.1 to 127.0.0.1 counts as secure to Dovecot: AUTH is offered before TLS.
    let mut local = BufReader::new(
        TcpStream::connect(("127.0.0.1", s.ports.imap))
            .await
            .unwrap(),
    );
    let greeting = converse(&mut local, "", "* OK").await;
    assert!(
        greeting.contains("STARTTLS") && greeting.contains("AUTH=XOAUTH2"),
        "{greeting}"
    );
    // On 127.0.0.2 it is not: no AUTH until STARTTLS.
    let mut remote = BufReader::new(
        TcpStream::connect(("127.0.0.2", s.ports.imap_remote))
            .await
            .unwrap(),
    );
    let greeting = converse(&mut remote, "", "* OK").await;
    assert!(
        greeting.contains("LOGINDISABLED") && !greeting.contains("AUTH="),
        "{greeting}"
    );
    converse(&mut remote, "a STARTTLS", "a OK").await;
    // The certificate is valid for 127.0.0.2 too.
    let tls = tls::upgrade(remote.into_inner(), "127.0.0.2", s.ca_file())
        .await
        .unwrap();
    let mut remote = BufReader::new(tls);
    let caps = converse(&mut remote, "b CAPABILITY", "b OK").await;
    assert!(
        caps.contains("AUTH=XOAUTH2") && caps.contains("AUTH=OAUTHBEARER"),
        "{caps}"
    );
    // Submission likewise: a bare AUTH line before STARTTLS on 127.0.0.2.
    let mut smtp = BufReader::new(
        TcpStream::connect(("127.0.0.2", s.ports.submission_remote))
            .await
            .unwrap(),
    );
    converse(&mut smtp, "", "220 ").await;
    let ehlo = converse(&mut smtp, "EHLO client.example", "250 ").await;
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("XOAUTH2"),
        "{ehlo}"
    );
}

/// An IMAPS session after AUTHENTICATE.
type Imap = BufReader<tokio_rustls::client::TlsStream<TcpStream>>;

/// `AUTHENTICATE XOAUTH2` on IMAPS by hand (curl can't: it always picks OAUTHBEARER). Answers an
/// error challenge with an empty line, as clients must. Returns the tagged reply (`EOF` when the
/// server hung up), whether a challenge came first, and the session.
async fn imap_xoauth2(s: &TestServers, user: &str, token: &str) -> (String, bool, Imap) {
    use base64::Engine as _;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], s.ports.imaps));
    let mut c = BufReader::new(tls::connect(addr, "localhost", s.ca_file()).await.unwrap());
    converse(&mut c, "", "* OK").await;
    let sasl = format!("user={user}\x01auth=Bearer {token}\x01\x01");
    let b64 = base64::engine::general_purpose::STANDARD.encode(sasl);
    let cmd = format!("a AUTHENTICATE XOAUTH2 {b64}\r\n");
    c.get_mut().write_all(cmd.as_bytes()).await.unwrap();
    let eof = |r: anyhow::Result<String>| r.unwrap_or_else(|_| "EOF".to_owned());
    let first = eof(tls::read_line(&mut c, Duration::from_secs(15)).await);
    if !first.starts_with("+ ") {
        return (first, false, c);
    }
    c.get_mut().write_all(b"\r\n").await.unwrap();
    (
        eof(tls::read_line(&mut c, Duration::from_secs(15)).await),
        true,
        c,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xoauth2_by_hand_and_what_idp_failures_look_like() {
    let s = TestServers::start_with(support::Options {
        introspection_timeout: Duration::from_secs(1),
        ..support::Options::default()
    })
    .await
    .unwrap();
    let token = app_token(&s).await;
    let (ok, challenged, _) = imap_xoauth2(&s, defaults::MAILBOX, &token).await;
    assert!(ok.starts_with("a OK") && !challenged, "{ok}");
    // The token's mailbox is not the one asked for: refused after an error challenge.
    let (other, challenged, _) = imap_xoauth2(&s, "someone.else@example.test", &token).await;
    assert!(
        other.starts_with("a NO [AUTHENTICATIONFAILED]") && challenged,
        "{other}"
    );
    s.idp.revoke_all();
    let (revoked, challenged, _) = imap_xoauth2(&s, defaults::MAILBOX, &token).await;
    assert!(
        revoked.starts_with("a NO [AUTHENTICATIONFAILED]") && challenged,
        "{revoked}"
    );
    // IdP trouble is a temporary failure, with no challenge.
    let token = app_token(&s).await;
    s.idp.config(|c| c.introspection = Introspection::Error500);
    let (err, challenged, _) = imap_xoauth2(&s, defaults::MAILBOX, &token).await;
    assert!(
        err.starts_with("a NO [UNAVAILABLE]") && !challenged,
        "{err}"
    );
    s.idp.config(|c| c.introspection = Introspection::Hang);
    let began = Instant::now();
    let (hung, _, _) = imap_xoauth2(&s, defaults::MAILBOX, &token).await;
    assert!(hung.starts_with("a NO [UNAVAILABLE]"), "{hung}");
    assert!(
        began.elapsed() >= Duration::from_millis(900),
        "Dovecot waits timeout_msecs (1 s)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticated_but_not_connected_cases() {
    // Only the default mailbox exists; the app's token is made to open a ghost.
    let s = TestServers::start_with(support::Options {
        mailboxes_only: Some(vec![defaults::MAILBOX.to_owned()]),
        ..support::Options::default()
    })
    .await
    .unwrap();
    let ghost = "ghost@example.test";
    s.idp
        .config(|c| c.apps[0].app_mailbox = Some(ghost.to_owned()));
    let token = app_token(&s).await;
    let (reply, _, _) = imap_xoauth2(&s, ghost, &token).await;
    assert_eq!(
        reply, "EOF",
        "a user unknown to the userdb: hang-up right after AUTH"
    );
    // A mailbox the mail processes can't open: login works, SELECT fails.
    s.idp
        .config(|c| c.apps[0].app_mailbox = Some(defaults::MAILBOX.to_owned()));
    s.make_mailbox_unreachable(defaults::MAILBOX).unwrap();
    let (ok, _, mut imap) = imap_xoauth2(&s, defaults::MAILBOX, &token).await;
    assert!(ok.starts_with("a OK"), "{ok}");
    let select = converse(&mut imap, "b SELECT INBOX", "b ").await;
    assert!(select.contains("b NO [SERVERBUG]"), "{select}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_opens_domain_lets_one_token_open_every_mailbox_of_its_domain() {
    // The many-mailbox benchmark's set-up (bench/run.sh): one app-only token, any mailbox of
    // example.test; another domain stays closed.
    let s = TestServers::start_with(support::Options {
        app_opens_domain: true,
        ..support::Options::default()
    })
    .await
    .unwrap();
    let token = app_token(&s).await;
    for user in [
        defaults::MAILBOX,
        "box0001@example.test",
        "Box0500@Example.test",
    ] {
        let (ok, challenged, _) = imap_xoauth2(&s, user, &token).await;
        assert!(ok.starts_with("a OK") && !challenged, "{user}: {ok}");
    }
    let (other, challenged, _) = imap_xoauth2(&s, "box0001@other.test", &token).await;
    assert!(
        other.starts_with("a NO [AUTHENTICATIONFAILED]") && challenged,
        "{other}"
    );
}

#[test]
fn entra_timestamps_are_utc_civil_time() {
    use support::idp::errors::timestamp_at;
    assert_eq!(timestamp_at(0), "1970-01-01 00:00:00Z");
    assert_eq!(timestamp_at(1_795_860_272), "2026-11-28 10:04:32Z");
    assert_eq!(timestamp_at(951_782_400), "2000-02-29 00:00:00Z");
}
