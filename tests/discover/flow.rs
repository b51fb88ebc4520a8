//! The draft as a profile: written atomically with `--output`, as JSON events with `--json`,
//! accepted by `mailcfg validate`, and, once the user has filled in their app and chosen the
//! flow, tested green against Dovecot with `mailcfg test`.

use std::os::unix::fs::PermissionsExt as _;

use super::support::dns::Records;
use super::support::{TestServers, defaults};
use super::{World, run, run_env};

#[tokio::test]
async fn output_is_written_atomically_and_validate_accepts_it() {
    let w =
        World::start(Records::new().mx("m365.test", "m365-test.mail.protection.outlook.com", 0))
            .await;
    let dir = tempfile::tempdir().unwrap();
    for name in ["draft.toml", "draft.json"] {
        let out = dir.path().join(name);
        let r = w
            .discover("alice@m365.test", &["--output", out.to_str().unwrap()])
            .await;
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stdout.is_empty(),
            "the profile went to the file: {}",
            r.stdout
        );
        assert!(r.stderr.contains(&format!("Wrote {}", out.display())));
        let v = run(vec!["validate".into(), out.display().to_string()]).await;
        assert_eq!(v.code, 0, "{name}: {}{}", v.stdout, v.stderr);
        assert!(
            // Valid, warning only of the placeholder client ID the user pastes over.
            v.stdout
                .contains("valid (1 account, 1 transport, 1 mailbox, 1 warning)")
                && v.stdout.contains("placeholder"),
            "{}",
            v.stdout
        );
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
    // No temporary files left beside it.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[tokio::test]
async fn json_is_one_object_per_event_then_the_draft_with_each_fields_source() {
    let w = World::start(Records::new().mx("example.test", "mx.example.test", 0).srv(
        "_imaps._tcp.example.test",
        "localhost",
        993,
        0,
        0,
    ))
    .await;
    let r = w.discover("mailbox@example.test", &["--json"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines = r.json();
    let steps: Vec<_> = lines.iter().filter(|v| v["type"] == "step").collect();
    // Each of the 13 steps starts and ends.
    assert_eq!(steps.len(), 26, "{}", r.stdout);
    assert_eq!(
        steps.iter().filter(|v| v["status"] == "running").count(),
        13
    );
    for v in &steps {
        assert!(
            v["step"].is_string() && v["elapsed_ms"].is_u64() && v["asked"].is_string(),
            "{v}"
        );
    }
    let draft = lines.last().unwrap();
    assert_eq!(draft["type"], "draft");
    assert_eq!(draft["found"], true);
    assert_eq!(draft["hosting"], "microsoft365");
    assert_eq!(
        draft["profile"]["accounts"][0]["tenant"],
        defaults::TENANT_ID
    );
    let field = |key: &str| {
        draft["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == key)
            .cloned()
            .unwrap()
    };
    let host = field("mailboxes[0].host");
    assert_eq!(host["value"], "localhost");
    assert_eq!(host["origin"], "srv");
    assert_eq!(host["others"][0]["value"], "outlook.office365.com");
    assert_eq!(host["others"][0]["origin"], "preset");
    assert!(
        host["why"]
            .as_str()
            .unwrap()
            .contains("SRV records ranks above provider preset")
    );
    assert_eq!(field("accounts[0].tenant")["origin"], "tenant");
    assert_eq!(field("transports[0].host")["origin"], "preset");
}

/// The whole path headless: discover the test tenant's domain (its SRV records point at
/// Dovecot), fill in the app as the user would, validate, and Test green.
#[tokio::test]
async fn discovered_servers_test_green_after_the_user_fills_in_the_app() {
    let servers = TestServers::start().await.unwrap();
    let records = Records::new()
        .mx("example.test", "mx.example.test", 0)
        .srv(
            "_imaps._tcp.example.test",
            "localhost",
            servers.ports.imaps,
            0,
            0,
        )
        .srv(
            "_submission._tcp.example.test",
            "localhost",
            servers.ports.submission,
            0,
            0,
        );
    let dns = super::support::dns::Dnsmasq::start(&records).await.unwrap();
    let web = super::support::web::Web::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("profile.toml");
    let ca = servers.ca_file().display().to_string();
    let r = run(vec![
        "discover".into(),
        defaults::MAILBOX.into(),
        "--dns".into(),
        dns.addr.to_string(),
        "--authority".into(),
        servers.authority().into(),
        "--ispdb".into(),
        web.ispdb(),
        "--timeout".into(),
        "3".into(),
        "--autoconfig-http-port".into(),
        web.port.to_string(),
        "--ca-file".into(),
        ca,
        "--output".into(),
        out.display().to_string(),
    ])
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut p: toml::Table = toml::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(super::s(&p, "accounts.0.tenant"), defaults::TENANT_ID);
    assert_eq!(super::s(&p, "mailboxes.0.host"), "localhost");
    // The user's review: their app registration, app-only for a service mailbox.
    let acc = p["accounts"].as_array_mut().unwrap()[0]
        .as_table_mut()
        .unwrap();
    acc.insert("client_id".into(), defaults::APP_CLIENT_ID.into());
    acc.insert("flow".into(), "app-only".into());
    acc.insert(
        "scopes".into(),
        toml::Value::Array(vec!["https://outlook.office365.com/.default".into()]),
    );
    std::fs::write(&out, toml::to_string(&p).unwrap()).unwrap();
    let v = run(vec!["validate".into(), out.display().to_string()]).await;
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    let t = run_env(
        vec!["test".into(), "--profile".into(), out.display().to_string()],
        &[("MAILCFG_CLIENT_SECRET", defaults::APP_SECRET)],
    )
    .await;
    assert_eq!(t.code, 0, "{}\n{}", t.stdout, t.stderr);
    assert!(t.stdout.contains("Summary: 2 of 2 passed"), "{}", t.stdout);
}
