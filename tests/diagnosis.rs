//! The cases the diagnosis must name precisely (issue 12), each through the real `mailcfg test`
//! against Dovecot and the test identity provider in their Exchange-like mode: every protocol asks
//! its own introspection address, so the IdP checks the protocol's role or scope, whether Exchange
//! knows the app, and protocols switched off per mailbox; each protocol has its own homes. SMTP's
//! 5.7.139 family needs Exchange's own words: a small fake SMTP server says them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::time::Duration;

use mailcfg::profile::{self, Account, Encryption, Flow, Mailbox, Profile, Protocol, Transport};
use serde_json::Value;
use support::{Options, TestServers, defaults};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_mailcfg");
const OTHER: &str = "other@example.test";

async fn servers() -> TestServers {
    TestServers::start_with(Options {
        per_protocol: true,
        ..Options::default()
    })
    .await
    .unwrap()
}

fn account(s: &TestServers) -> Account {
    let mut a = profile::presets::account("app", profile::Provider::Microsoft, Flow::AppOnly);
    a.tenant = Some(defaults::TENANT_ID.into());
    a.client_id = defaults::APP_CLIENT_ID.into();
    a.authority = Some(s.authority().into());
    a
}

fn mailbox(name: &str, protocol: Protocol, port: u16, user: &str, account: &str) -> Mailbox {
    Mailbox {
        name: name.into(),
        protocol,
        host: "localhost".into(),
        port,
        encryption: Encryption::Tls,
        user: user.into(),
        account: Some(account.into()),
    }
}

fn transport(port: u16, user: &str, account: &str) -> Transport {
    Transport {
        name: "Submission".into(),
        host: "localhost".into(),
        port,
        encryption: Encryption::StartTls,
        auth: true,
        username: Some(user.into()),
        account: Some(account.into()),
    }
}

/// The app-only account with IMAP and POP3 for the app's mailbox, and IMAP for another.
fn app_profile(s: &TestServers) -> Profile {
    let mut p = Profile {
        accounts: vec![account(s)],
        mailboxes: vec![
            mailbox(
                "A IMAP",
                Protocol::Imap,
                s.ports.imaps,
                defaults::MAILBOX,
                "app",
            ),
            mailbox(
                "A POP3",
                Protocol::Pop3,
                s.ports.pop3s,
                defaults::MAILBOX,
                "app",
            ),
            mailbox("B IMAP", Protocol::Imap, s.ports.imaps, OTHER, "app"),
        ],
        ..Profile::default()
    };
    p.tls.ca_file = Some(s.ca_file().to_owned());
    p.probe.timeout_secs = 10;
    p
}

/// `mailcfg test` on `p` (JSON lines, and the same run as people read it).
struct Run {
    lines: Vec<Value>,
    human: String,
}

async fn test(p: &Profile, dir: &Path, args: &[&str]) -> Run {
    let file = dir.join("profile.toml");
    profile::save(p, &file).unwrap();
    let go = |json: bool| {
        let mut c = tokio::process::Command::new(BIN);
        c.arg("test").arg("--profile").arg(&file).args(args);
        if json {
            c.arg("--json");
        }
        c.env_remove("MAILCFG_CLIENT_SECRET")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("BROWSER");
        // The secret of the app-only client; a public client must get none.
        if p.accounts.iter().any(|a| a.flow == Flow::AppOnly) {
            c.env("MAILCFG_CLIENT_SECRET", defaults::APP_SECRET);
        }
        c.output()
    };
    let (json, human) = tokio::join!(go(true), go(false));
    let (json, human) = (json.unwrap(), human.unwrap());
    let stdout = String::from_utf8_lossy(&json.stdout).into_owned();
    let human = String::from_utf8_lossy(&human.stdout).into_owned()
        + &String::from_utf8_lossy(&human.stderr);
    assert!(!human.contains("panicked"), "{human}");
    // What people would read, for the record of each case (`--nocapture` shows it).
    println!("{human}");
    Run {
        lines: stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
        human,
    }
}

impl Run {
    /// The diagnosis of a target's report.
    fn diagnosis(&self, target: &str) -> &Value {
        self.lines
            .iter()
            .find(|v| v["type"] == "report" && v["target"] == target)
            .map(|v| &v["diagnosis"])
            .filter(|d| !d.is_null())
            .unwrap_or_else(|| panic!("no diagnosis for {target}:\n{}", self.human))
    }

    fn kind(&self, target: &str) -> &str {
        self.diagnosis(target)["kind"].as_str().unwrap_or_default()
    }

    fn mentions(&self, target: &str, what: &str) -> bool {
        self.diagnosis(target).to_string().contains(what)
    }

    /// Kinds the diagnosis lists as not ruled out.
    fn alternatives(&self, target: &str) -> Vec<String> {
        self.diagnosis(target)["alternatives"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["kind"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn commands(&self, target: &str) -> Vec<String> {
        self.diagnosis(target)["commands"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_only_token_without_roles_is_missing_admin_consent() {
    let s = servers().await;
    s.idp.config(|c| c.apps[0].roles.clear());
    let dir = tempfile::tempdir().unwrap();
    let run = test(&app_profile(&s), dir.path(), &["--mailbox", "A IMAP"]).await;
    assert_eq!(run.kind("A IMAP"), "admin_consent_missing", "{}", run.human);
    assert!(run.mentions("A IMAP", "the token carries no roles claim"));
    assert!(run.mentions("A IMAP", "Grant admin consent"));
    for ruled_out in ["Graph", "expired", "New-ServicePrincipal", "Set-CASMailbox"] {
        assert!(
            !run.mentions("A IMAP", ruled_out),
            "{ruled_out}: {}",
            run.human
        );
    }
    // Said before any connection too, and again with the failing step.
    let first_event = run.lines.iter().position(|v| v["type"] == "event").unwrap();
    let check = run
        .lines
        .iter()
        .position(|v| v["type"] == "token_check")
        .unwrap();
    assert!(check < first_event, "{}", run.human);
    assert!(
        run.human
            .contains("the token of account \"app\" will not do"),
        "{}",
        run.human
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_token_is_the_wrong_resource() {
    let s = servers().await;
    s.idp
        .config(|c| c.audience = Some("https://graph.microsoft.com".into()));
    let dir = tempfile::tempdir().unwrap();
    let run = test(&app_profile(&s), dir.path(), &["--mailbox", "A IMAP"]).await;
    assert_eq!(run.kind("A IMAP"), "wrong_resource", "{}", run.human);
    assert!(run.mentions("A IMAP", "https://graph.microsoft.com"));
    assert!(run.mentions("A IMAP", "https://outlook.office365.com/.default"));
    assert!(run.mentions("A IMAP", "the account asks for"));
    assert!(!run.mentions("A IMAP", "consent"), "{}", run.human);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_born_expired_is_expired_not_consent_or_graph() {
    let s = servers().await;
    s.idp.config(|c| c.token_lifetime = Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let run = test(&app_profile(&s), dir.path(), &["--mailbox", "A POP3"]).await;
    assert_eq!(run.kind("A POP3"), "token_expired", "{}", run.human);
    assert!(run.mentions("A POP3", "issued it already expired"));
    for ruled_out in ["consent", "Graph", "New-ServicePrincipal"] {
        assert!(
            !run.mentions("A POP3", ruled_out),
            "{ruled_out}: {}",
            run.human
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_right_token_refused_everywhere_names_the_service_principal_and_the_oid() {
    let s = servers().await;
    s.idp.config(|c| c.apps[0].exchange_registered = false);
    let dir = tempfile::tempdir().unwrap();
    let run = test(&app_profile(&s), dir.path(), &[]).await;
    for t in ["A IMAP", "A POP3", "B IMAP"] {
        assert_eq!(
            run.kind(t),
            "service_principal_missing",
            "{t}: {}",
            run.human
        );
        assert!(run.alternatives(t).is_empty(), "{t}: {}", run.human);
    }
    let want = format!(
        "New-ServicePrincipal -AppId '{}' -ObjectId '{}' -DisplayName 'app'",
        defaults::APP_CLIENT_ID,
        defaults::APP_OBJECT_ID
    );
    assert!(run.commands("A IMAP").contains(&want), "{}", run.human);
    assert!(run.mentions(
        "A IMAP",
        "every target of the account that reached the sign-in refused the token"
    ));
    assert!(run.mentions(
        "A IMAP",
        &format!("the token's oid {}", defaults::APP_OBJECT_ID)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_mailbox_refused_where_another_accepted_is_that_mailboxs_grant() {
    let s = servers().await;
    let dir = tempfile::tempdir().unwrap();
    let run = test(
        &app_profile(&s),
        dir.path(),
        &["--mailbox", "A IMAP", "--mailbox", "B IMAP"],
    )
    .await;
    assert!(
        run.lines
            .iter()
            .any(|v| v["type"] == "report" && v["target"] == "A IMAP" && v["ok"] == true),
        "{}",
        run.human
    );
    assert_eq!(run.kind("B IMAP"), "mailbox_grant_missing", "{}", run.human);
    let want = format!(
        "Add-MailboxPermission -Identity '{OTHER}' -User '{}' -AccessRights FullAccess",
        defaults::APP_OBJECT_ID
    );
    assert!(run.commands("B IMAP").contains(&want), "{}", run.human);
    assert!(run.mentions(
        "B IMAP",
        "\\\"A IMAP\\\" (IMAP) signed in as mailbox@example.test"
    ));
    assert!(
        !run.alternatives("B IMAP")
            .contains(&"service_principal_missing".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_connected_over_imap_while_pop3_opened_the_mailbox_is_imap_switched_off() {
    let s = servers().await;
    s.make_mailbox_unreachable_over("imap", defaults::MAILBOX)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = test(
        &app_profile(&s),
        dir.path(),
        &["--mailbox", "A IMAP", "--mailbox", "A POP3"],
    )
    .await;
    let d = run.diagnosis("A IMAP");
    assert_eq!(run.kind("A IMAP"), "protocol_disabled", "{}", run.human);
    assert!(
        run.commands("A IMAP").contains(&format!(
            "Set-CASMailbox -Identity '{}' -ImapEnabled $true",
            defaults::MAILBOX
        )),
        "{d}"
    );
    assert!(run.mentions(
        "A IMAP",
        "\\\"A POP3\\\" (POP3) opened mailbox@example.test"
    ));
    for ruled_out in ["mailbox_grant_missing", "service_principal_wrong_object_id"] {
        assert!(
            !run.alternatives("A IMAP").contains(&ruled_out.to_owned()),
            "{d}"
        );
    }
    assert!(!run.mentions("A IMAP", "Add-MailboxPermission"), "{d}");

    // The same with the refusal at sign-in (the protocol switched off for the mailbox).
    let s = servers().await;
    s.idp.config(|c| {
        c.protocols_off
            .push(("imap".into(), defaults::MAILBOX.into()));
    });
    let run = test(
        &app_profile(&s),
        dir.path(),
        &["--mailbox", "A IMAP", "--mailbox", "A POP3"],
    )
    .await;
    assert_eq!(run.kind("A IMAP"), "protocol_disabled", "{}", run.human);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegated_smtp_as_another_user_names_both_addresses() {
    let s = servers().await;
    let mut a = account(&s);
    a.name = "user".into();
    a.flow = Flow::DeviceCode;
    a.client_id = defaults::PUBLIC_CLIENT_ID.into();
    a.scopes = vec![
        "https://outlook.office.com/IMAP.AccessAsUser.All".into(),
        "https://outlook.office.com/SMTP.Send".into(),
        "offline_access".into(),
    ];
    let mut p = app_profile(&s);
    p.accounts = vec![a];
    p.mailboxes = vec![mailbox(
        "Alice IMAP",
        Protocol::Imap,
        s.ports.imaps,
        "",
        "user",
    )];
    p.transports = vec![transport(s.ports.submission, "shared@example.test", "user")];
    let dir = tempfile::tempdir().unwrap();
    let run = test(&p, dir.path(), &[]).await;
    assert_eq!(run.kind("Submission"), "user_mismatch", "{}", run.human);
    assert!(run.mentions("Submission", "shared@example.test"));
    assert!(run.mentions("Submission", defaults::USER_EMAIL));
    // Warned before the test, too; and the mailbox with no user signed in as the signed-in user.
    assert!(
        run.lines
            .iter()
            .any(|v| v["type"] == "token_check" && v.to_string().contains("user_mismatch")),
        "{}",
        run.human
    );
    assert!(
        run.lines.iter().any(|v| v["type"] == "report"
            && v["target"] == "Alice IMAP"
            && v["ok"] == true
            && v["user"] == defaults::USER_EMAIL),
        "{}",
        run.human
    );
}

/// An SMTP server that answers AUTH as Exchange Online does when something is switched off.
async fn exchange_smtp(refusal: &'static str) -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((sock, _)) = l.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w
                    .write_all(b"220 SN4PR0601CA0002.outlook.office365.com Microsoft ESMTP MAIL Service ready\r\n")
                    .await;
                let mut authing = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply = if authing {
                        authing = false;
                        format!("{refusal}\r\n")
                    } else if line.starts_with("EHLO") {
                        "250-SN4PR0601CA0002.outlook.office365.com Hello\r\n250-SIZE 157286400\r\n250-AUTH LOGIN XOAUTH2\r\n250 ENHANCEDSTATUSCODES\r\n".to_owned()
                    } else if line == "AUTH XOAUTH2" {
                        authing = true;
                        "334 \r\n".to_owned()
                    } else if line.starts_with("AUTH") {
                        format!("{refusal}\r\n")
                    } else if line.starts_with("QUIT") {
                        let _ = w
                            .write_all(b"221 2.0.0 Service closing transmission channel\r\n")
                            .await;
                        return;
                    } else {
                        "503 5.5.2 Send hello first\r\n".to_owned()
                    };
                    let _ = w.write_all(reply.as_bytes()).await;
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_5_7_139_variants_and_5_7_30_are_told_apart() {
    let s = servers().await;
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [SN4PR0601CA0002.namprd06.prod.outlook.com]",
            "smtp_auth_disabled_tenant",
            "Set-TransportConfig -SmtpClientAuthenticationDisabled $false",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information. [SN4PR0601CA0002.namprd06.prod.outlook.com]",
            "smtp_auth_disabled_mailbox",
            "Set-CASMailbox -Identity 'mailbox@example.test' -SmtpClientAuthenticationDisabled $false",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator. [SN4PR0601CA0002.namprd06.prod.outlook.com]",
            "security_defaults",
            "",
        ),
        (
            "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [SN4PR0601CA0002.namprd06.prod.outlook.com]",
            "basic_auth_disabled",
            "",
        ),
        (
            "550 5.7.30 Basic authentication is not supported for Client Submission.",
            "basic_auth_retired",
            "",
        ),
    ];
    for (refusal, kind, command) in cases {
        let port = exchange_smtp(refusal).await;
        let mut p = app_profile(&s);
        p.mailboxes.clear();
        p.transports = vec![Transport {
            host: "127.0.0.1".into(),
            port,
            encryption: Encryption::None,
            ..transport(port, defaults::MAILBOX, "app")
        }];
        let run = test(&p, dir.path(), &[]).await;
        assert_eq!(run.kind("Submission"), kind, "{}", run.human);
        assert!(
            run.mentions("Submission", refusal),
            "the server's words are the evidence"
        );
        if !command.is_empty() {
            assert!(
                run.commands("Submission").contains(&command.to_owned()),
                "{}",
                run.human
            );
        }
    }
}
