//! One case per kind of domain: what each source says, the exit code and the draft.

use super::support::dns::Records;
use super::support::web::Reply;
use super::{GATEWAY_TENANT, M365_TENANT, World, autoconfig_xml, s};

#[tokio::test]
async fn microsoft_365_custom_domain_gets_its_tenant_and_microsofts_servers() {
    let w =
        World::start(Records::new().mx("m365.test", "m365-test.mail.protection.outlook.com", 0))
            .await;
    let r = w.discover("alice@m365.test", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.step("MX").starts_with("found"), "{}", r.step("MX"));
    assert!(
        r.step("MX")
            .contains("m365-test.mail.protection.outlook.com: Microsoft 365")
    );
    let tenant = r.step("Tenant");
    assert!(
        tenant.starts_with("found") && tenant.contains(M365_TENANT),
        "{tenant}"
    );
    let p = r.profile();
    assert_eq!(s(&p, "accounts.0.provider"), "microsoft");
    assert_eq!(s(&p, "accounts.0.tenant"), M365_TENANT);
    assert_eq!(s(&p, "accounts.0.authority"), w.idp.authority());
    assert_eq!(s(&p, "mailboxes.0.host"), "outlook.office365.com");
    assert_eq!(super::at(&p, "mailboxes.0.port").as_integer(), Some(993));
    assert_eq!(s(&p, "transports.0.host"), "smtp.office365.com");
    assert_eq!(s(&p, "transports.0.encryption"), "starttls");
    assert_eq!(s(&p, "mailboxes.0.user"), "alice@m365.test");
    // Every field says where it came from.
    assert!(r.stderr.contains("accounts[0].provider      microsoft  ← MX records: MX 0 m365-test.mail.protection.outlook.com (Microsoft 365)"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!(
        "accounts[0].tenant        {M365_TENANT}  ← tenant discovery: issuer of"
    )));
    assert!(r.stderr.contains(
        "mailboxes[0].host         outlook.office365.com  ← provider preset: Microsoft 365 IMAP"
    ));
    // The IdP was asked for exactly this domain's configuration.
    assert!(
        w.idp.requests().iter().any(|q| q.path
            == "/m365.test/v2.0/.well-known/openid-configuration"
            && q.status == 200)
    );
}

#[tokio::test]
async fn a_domain_only_tenant_discovery_knows_is_microsoft_behind_its_gateway() {
    let w = World::start(Records::new().mx("gateway.test", "mx1.filter.test", 10)).await;
    let r = w.discover("bob@gateway.test", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.step("MX")
            .contains("mx1.filter.test: not a provider mailcfg knows"),
        "{}",
        r.step("MX")
    );
    let p = r.profile();
    assert_eq!(s(&p, "accounts.0.provider"), "microsoft");
    assert_eq!(s(&p, "accounts.0.tenant"), GATEWAY_TENANT);
    assert_eq!(s(&p, "mailboxes.0.host"), "outlook.office365.com");
    assert!(r.stderr.contains("accounts[0].provider      microsoft  ← tenant discovery: tenant 66666666-7777-4888-9999-aaaaaaaaaaaa (Microsoft 365)"), "{}", r.stderr);
}

#[tokio::test]
async fn google_domain_gets_googles_presets_and_tenant_discovery_says_no_tenant() {
    let w = World::start(
        Records::new()
            .mx("google.test", "aspmx.l.google.com", 1)
            .mx("google.test", "alt1.aspmx.l.google.com", 5),
    )
    .await;
    let r = w.discover("carol@google.test", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tenant = r.step("Tenant");
    assert!(
        tenant.starts_with("none")
            && tenant.contains(
                "not a Microsoft 365 tenant (AADSTS90002: Tenant 'google.test' not found)"
            ),
        "{tenant}"
    );
    let p = r.profile();
    assert_eq!(s(&p, "accounts.0.provider"), "google");
    assert_eq!(
        at_str_list(&p, "accounts.0.scopes"),
        ["https://mail.google.com/"]
    );
    assert_eq!(s(&p, "mailboxes.0.host"), "imap.gmail.com");
    assert_eq!(s(&p, "transports.0.host"), "smtp.gmail.com");
    assert!(p["accounts"][0].get("tenant").is_none());
}

#[tokio::test]
async fn a_domain_with_srv_records_only_gets_those_servers_with_passwords() {
    let w = World::start(
        Records::new()
            .srv("_imaps._tcp.srv.test", "imap.srv.test", 993, 0, 1)
            .srv("_imaps._tcp.srv.test", "backup.srv.test", 993, 10, 1)
            .srv_unavailable("_imap._tcp.srv.test")
            .srv("_submission._tcp.srv.test", "smtp.srv.test", 587, 0, 1),
    )
    .await;
    let r = w.discover("dave@srv.test", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.step("SRV imaps").contains("→ imap.srv.test:993 (tls)"),
        "{}",
        r.step("SRV imaps")
    );
    assert!(
        r.step("SRV imap")
            .contains("target \".\": the domain says it does not offer this service")
    );
    assert!(r.step("SRV pop3s").starts_with("none"));
    assert!(
        r.step("MX").contains("has no MX records") || r.step("MX").contains("does not exist"),
        "{}",
        r.step("MX")
    );
    let p = r.profile();
    assert!(
        p.get("accounts").is_none(),
        "no provider, no account: {p:#?}"
    );
    assert_eq!(s(&p, "mailboxes.0.host"), "imap.srv.test");
    assert_eq!(s(&p, "mailboxes.0.encryption"), "tls");
    assert!(p["mailboxes"][0].get("account").is_none());
    assert_eq!(s(&p, "transports.0.host"), "smtp.srv.test");
    assert_eq!(s(&p, "transports.0.encryption"), "starttls");
    assert!(
        r.stderr
            .contains("← SRV records: SRV _imaps._tcp.srv.test → imap.srv.test:993")
    );
    // dnsmasq really was asked each SRV name.
    for name in [
        "_imaps._tcp",
        "_imap._tcp",
        "_pop3s._tcp",
        "_submissions._tcp",
        "_submission._tcp",
    ] {
        assert!(
            w.dns
                .queries()
                .contains(&format!("query[SRV] {name}.srv.test")),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_domain_with_autoconfig_only_gets_its_servers_and_user_names() {
    let w = World::start(Records::new().a("autoconfig.ac.test", "127.0.0.1")).await;
    let xml = autoconfig_xml(
        "ac.test",
        ("imap.ac.test", 993, "SSL"),
        ("smtp.ac.test", 465, "SSL"),
        "%EMAILLOCALPART%",
        "password-cleartext",
    );
    w.web.set(
        "autoconfig.ac.test",
        "/mail/config-v1.1.xml",
        Reply::Body(xml),
    );
    let r = w.discover("erin@ac.test", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ac = r.step("Autoconfig (http)");
    assert!(
        ac.starts_with("found")
            && ac.contains(
                "IMAP imap.ac.test:993 (tls), SMTP smtp.ac.test:465 (tls) (over plain http)"
            ),
        "{ac}"
    );
    assert!(
        r.step("Autoconfig").starts_with("failed")
            && r.step("Autoconfig").contains("Connection refused"),
        "{}",
        r.step("Autoconfig")
    );
    let p = r.profile();
    assert_eq!(s(&p, "mailboxes.0.host"), "imap.ac.test");
    assert_eq!(s(&p, "mailboxes.0.user"), "erin");
    assert_eq!(s(&p, "transports.0.username"), "erin");
    assert!(
        r.stderr
            .contains("over plain http: anyone on the way could have changed it")
    );
    // Thunderbird's query string, with the address encoded.
    assert!(
        w.web
            .requests()
            .iter()
            .any(|q| q == "autoconfig.ac.test /mail/config-v1.1.xml?emailaddress=erin%40ac.test"),
        "{:?}",
        w.web.requests()
    );
}

#[tokio::test]
async fn the_domains_own_file_outranks_the_ispdb_and_the_conflict_is_shown() {
    let w = World::start(Records::new().a("wk.test", "127.0.0.1")).await;
    let own = autoconfig_xml(
        "wk.test",
        ("mail.wk.test", 993, "SSL"),
        ("mail.wk.test", 587, "STARTTLS"),
        "%EMAILADDRESS%",
        "password-cleartext",
    );
    let db = autoconfig_xml(
        "wk.test",
        ("old-imap.wk.test", 143, "STARTTLS"),
        ("old-smtp.wk.test", 587, "STARTTLS"),
        "%EMAILADDRESS%",
        "password-cleartext",
    );
    w.web.set(
        "wk.test",
        "/.well-known/autoconfig/mail/config-v1.1.xml",
        Reply::Body(own),
    );
    w.web.set("127.0.0.1", "/v1.1/wk.test", Reply::Body(db));
    let r = w.discover("fred@wk.test", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.step("ISPDB")
            .contains("IMAP old-imap.wk.test:143 (starttls)"),
        "{}",
        r.step("ISPDB")
    );
    let p = r.profile();
    assert_eq!(s(&p, "mailboxes.0.host"), "mail.wk.test");
    assert_eq!(s(&p, "mailboxes.0.user"), "fred@wk.test");
    assert!(
        r.stderr.contains("also old-imap.wk.test ← ISPDB:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("chosen because well-known autoconfig ranks above ISPDB: it is the domain's own configuration for mail clients"));
}

#[tokio::test]
async fn the_ispdb_knows_a_provider_with_oauth2() {
    let w = World::start(Records::new()).await;
    let xml = autoconfig_xml(
        "db.test",
        ("outlook.office365.com", 993, "SSL"),
        ("smtp.office365.com", 587, "STARTTLS"),
        "%EMAILADDRESS%",
        "OAuth2",
    );
    w.web.set("127.0.0.1", "/v1.1/db.test", Reply::Body(xml));
    let r = w.discover("gina@db.test", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p = r.profile();
    assert_eq!(s(&p, "accounts.0.provider"), "microsoft");
    assert_eq!(s(&p, "mailboxes.0.account"), "db.test");
    assert!(
        r.stderr
            .contains("accounts[0].provider      microsoft  ← ISPDB: http://127.0.0.1:"),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn a_domain_hosted_by_a_provider_gets_the_ispdb_entry_its_mx_names() {
    let w = World::start(
        Records::new()
            .mx("hosted.test", "mx1.mail.hostco.test", 10)
            .mx("m365.test", "m365-test.mail.protection.outlook.com", 0),
    )
    .await;
    let xml = autoconfig_xml(
        "hostco.test",
        ("imap.hostco.test", 993, "SSL"),
        ("smtp.hostco.test", 465, "SSL"),
        "%EMAILADDRESS%",
        "password-cleartext",
    );
    // The MX host's parent domain has no entry; its base domain has.
    w.web
        .set("127.0.0.1", "/v1.1/hostco.test", Reply::Body(xml));
    let r = w.discover("ian@hosted.test", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let step = r.step("ISPDB (by MX)");
    assert!(
        step.starts_with("found") && step.contains("MX mx1.mail.hostco.test → hostco.test"),
        "{step}"
    );
    assert!(
        r.step("ISPDB").starts_with("none"),
        "the domain itself has no entry"
    );
    let p = r.profile();
    assert_eq!(s(&p, "mailboxes.0.host"), "imap.hostco.test");
    assert_eq!(s(&p, "mailboxes.0.user"), "ian@hosted.test");
    assert_eq!(s(&p, "transports.0.host"), "smtp.hostco.test");
    assert!(
        r.stderr
            .contains("imap.hostco.test  ← ISPDB (by MX): http://127.0.0.1:"),
        "{}",
        r.stderr
    );

    // A Microsoft 365 MX is not looked up in the ISPDB: its preset applies.
    let r = w.discover("alice@m365.test", &[]).await;
    assert!(
        r.step("ISPDB (by MX)").contains("its preset applies"),
        "{}",
        r.step("ISPDB (by MX)")
    );
}

#[tokio::test]
async fn a_domain_with_nothing_says_so_with_what_was_tried() {
    let w = World::start(Records::new()).await;
    let r = w.discover("hank@nothing.test", &[]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "no profile: {}", r.stdout);
    let tried = r
        .stderr
        .split("Found nothing for hank@nothing.test")
        .nth(1)
        .unwrap_or_else(|| panic!("{}", r.stderr));
    for asked in [
        "MX nothing.test",
        "/nothing.test/v2.0/.well-known/openid-configuration",
        "autoconfig.nothing.test",
        "/.well-known/autoconfig/mail/config-v1.1.xml",
        "/v1.1/nothing.test",
        "SRV _imaps._tcp.nothing.test",
        "SRV _submission._tcp.nothing.test",
    ] {
        assert!(tried.contains(asked), "{asked} missing from:\n{tried}");
    }
    assert_eq!(
        tried.lines().filter(|l| l.contains(" → ")).count(),
        13,
        "{tried}"
    );
    assert!(tried.contains("does not exist (NXDOMAIN)"));
}

fn at_str_list(t: &toml::Table, path: &str) -> Vec<String> {
    super::at(t, path)
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}
