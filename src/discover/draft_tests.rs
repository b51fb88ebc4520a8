use super::*;
use crate::discover::classify::Cloud;
use crate::profile::Encryption;

fn addr() -> Address {
    "alice@contoso.com".parse().unwrap()
}

fn hosting(h: Hosting, origin: Origin) -> Claim {
    Claim {
        fact: Fact::Hosting(h),
        origin,
        evidence: format!("{origin:?} evidence"),
    }
}

fn server(service: Service, host: &str, port: u16, origin: Origin) -> Claim {
    Claim {
        fact: Fact::Server(ServerFact {
            service,
            host: host.into(),
            port,
            encryption: if port == 993 || port == 465 {
                Encryption::Tls
            } else {
                Encryption::StartTls
            },
            user: None,
            oauth: false,
        }),
        origin,
        evidence: format!("{origin:?} {host}"),
    }
}

#[test]
fn microsoft_mx_and_tenant_make_a_microsoft_account_on_its_servers() {
    let tenant = Tenant {
        id: "2f6a3c1e-7b4d-4e8a-9c0f-5d1b2a3e4f60".into(),
        cloud: Cloud::Global,
        region: Some("EU".into()),
    };
    let claims = [
        hosting(Hosting::Microsoft365, Origin::Mx),
        hosting(Hosting::Microsoft365, Origin::Tenant),
        Claim {
            fact: Fact::Tenant(tenant),
            origin: Origin::Tenant,
            evidence: "issuer".into(),
        },
    ];
    let d = compose(&addr(), &claims, &Given::default());
    let p = d.profile.as_ref().unwrap();
    let a = &p.accounts[0];
    assert_eq!((a.provider, a.flow), (Provider::Microsoft, Flow::Delegated));
    assert_eq!(
        a.tenant.as_deref(),
        Some("2f6a3c1e-7b4d-4e8a-9c0f-5d1b2a3e4f60")
    );
    assert_eq!(a.authority, None);
    assert_eq!(p.mailboxes[0].host, "outlook.office365.com");
    assert_eq!(
        (p.transports[0].host.as_str(), p.transports[0].port),
        ("smtp.office365.com", 587)
    );
    assert_eq!(p.mailboxes[0].user, "alice@contoso.com");
    assert_eq!(p.mailboxes[0].account.as_deref(), Some("contoso.com"));
    assert_eq!(d.note("accounts[0].tenant").unwrap().origin, Origin::Tenant);
    assert_eq!(d.note("mailboxes[0].host").unwrap().origin, Origin::Preset);
    assert_eq!(d.note("accounts[0].provider").unwrap().origin, Origin::Mx);
    // Valid, with one warning: the client ID is the placeholder the user must replace.
    let findings = crate::profile::validate(p, None);
    assert!(
        findings.len() == 1 && findings[0].message.contains("placeholder"),
        "{findings:?}"
    );
}

#[test]
fn the_domains_own_servers_win_over_presets_and_the_conflict_is_shown() {
    let claims = [
        hosting(Hosting::Microsoft365, Origin::Tenant),
        server(Service::Imap, "localhost", 20993, Origin::Srv),
    ];
    let d = compose(&addr(), &claims, &Given::default());
    let p = d.profile.as_ref().unwrap();
    assert_eq!(
        (p.mailboxes[0].host.as_str(), p.mailboxes[0].port),
        ("localhost", 20993)
    );
    let n = d.note("mailboxes[0].host").unwrap();
    assert_eq!(n.origin, Origin::Srv);
    assert_eq!(n.others[0].value, "outlook.office365.com");
    assert_eq!(n.others[0].origin, Origin::Preset);
    assert!(
        n.why
            .as_deref()
            .unwrap()
            .starts_with("SRV records ranks above provider preset"),
        "{:?}",
        n.why
    );
    // No tenant ID: the domain stands in.
    assert_eq!(p.accounts[0].tenant.as_deref(), Some("contoso.com"));
    assert_eq!(p.transports[0].host, "smtp.office365.com");
}

#[test]
fn mx_outranks_tenant_discovery_for_the_provider() {
    let claims = [
        hosting(Hosting::Microsoft365, Origin::Tenant),
        hosting(Hosting::Google, Origin::Mx),
    ];
    let d = compose(&addr(), &claims, &Given::default());
    let p = d.profile.as_ref().unwrap();
    assert_eq!(p.accounts[0].provider, Provider::Google);
    assert_eq!(p.mailboxes[0].host, "imap.gmail.com");
    let n = d.note("accounts[0].provider").unwrap();
    assert_eq!(n.others[0].value, "Microsoft 365");
    assert!(
        n.why
            .as_deref()
            .unwrap()
            .contains("MX records ranks above tenant discovery")
    );
    assert!(crate::profile::validate(p, None).is_empty());
}

#[test]
fn srv_only_gives_password_servers_without_an_account() {
    let claims = [
        server(Service::Imap, "mail.contoso.com", 143, Origin::Srv),
        server(Service::Imap, "imap.contoso.com", 993, Origin::Srv),
        server(Service::Smtp, "smtp.contoso.com", 465, Origin::Srv),
    ];
    let d = compose(&addr(), &claims, &Given::default());
    let p = d.profile.unwrap();
    assert!(p.accounts.is_empty());
    // Claims of one rank keep their order (imaps is asked before imap).
    assert_eq!(p.mailboxes[0].host, "mail.contoso.com");
    assert_eq!(p.mailboxes[0].account, None);
    assert_eq!(p.transports[0].encryption, Encryption::Tls);
}

#[test]
fn nothing_found_is_no_profile() {
    let d = compose(&addr(), &[], &Given::default());
    assert!(d.profile.is_none() && d.notes.is_empty());
}

#[test]
fn a_given_authority_goes_into_the_account() {
    let given = Given {
        authority: Some("http://127.0.0.1:8080".into()),
    };
    let d = compose(
        &addr(),
        &[hosting(Hosting::Microsoft365, Origin::Tenant)],
        &given,
    );
    let a = &d.profile.as_ref().unwrap().accounts[0];
    assert_eq!(a.authority.as_deref(), Some("http://127.0.0.1:8080"));
    assert_eq!(
        d.note("accounts[0].authority").unwrap().origin,
        Origin::Setting
    );
}
