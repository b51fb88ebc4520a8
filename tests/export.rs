//! `mailcfg export` through the real binary, for every format and every example in assets/: the
//! Thunderbird XML parsed and checked element by element, the PowerShell script line by line for
//! each mailbox, the sheets field by field, exact round trips, and no secret in any output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mailcfg::export::import;
use mailcfg::profile::{self, Encryption, Flow, Profile, Protocol, Provider};
use quick_xml::XmlVersion;
use quick_xml::events::Event;

const BIN: &str = env!("CARGO_BIN_EXE_mailcfg");
/// Given to every run as MAILCFG_CLIENT_SECRET; no output may contain it.
const SECRET: &str = "mailcfg-test-secret-7f3a9c41d2";
const FORMATS: &[&str] = &[
    "toml",
    "json",
    "thunderbird",
    "cerb",
    "ce",
    "um",
    "powershell",
    "env",
    "setup",
];
const PLACEHOLDER: &str = "(stored in the OS keyring)";

fn examples() -> Vec<(PathBuf, Profile)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("toml" | "json")
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 5, "the examples are missing: {out:?}");
    out.into_iter()
        .map(|p| {
            let profile = profile::load(&p).unwrap().0;
            (p, profile)
        })
        .collect()
}

fn run_export(profile: &Path, format: &str, output: Option<&Path>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "export",
        "--profile",
        profile.to_str().unwrap(),
        "--format",
        format,
    ])
    .env("MAILCFG_CLIENT_SECRET", SECRET);
    if let Some(o) = output {
        cmd.args(["--output", o.to_str().unwrap()]);
    }
    let out = cmd.output().unwrap();
    for bytes in [&out.stdout, &out.stderr] {
        assert_no_secret(bytes, &format!("{} as {format}", profile.display()));
    }
    out
}

fn assert_no_secret(bytes: &[u8], what: &str) {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!has(SECRET.as_bytes()), "{what}: the client secret leaked");
    // An access or ID token is a JWT: base64 of `{"` starts every one of them.
    assert!(
        !has(b"eyJ"),
        "{what}: something like a token is in the output"
    );
}

/// Exports to stdout, expecting success.
fn export_ok(profile: &Path, format: &str) -> String {
    let out = run_export(profile, format, None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{} {format}: {err}",
        profile.display()
    );
    assert!(!err.contains("panicked"), "{err}");
    String::from_utf8(out.stdout).unwrap()
}

/// Work or school Microsoft accounts: the ones CE, UM and the PowerShell steps are for.
fn exchange_accounts(p: &Profile) -> Vec<&profile::Account> {
    p.accounts
        .iter()
        .filter(|a| a.provider == Provider::Microsoft && a.tenant.as_deref() != Some("consumers"))
        .collect()
}

fn token_url(a: &profile::Account) -> String {
    match a.provider {
        Provider::Microsoft => format!(
            "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
            a.tenant.as_deref().unwrap()
        ),
        Provider::Google => "https://oauth2.googleapis.com/token".into(),
        Provider::Generic => a.token_url.clone().unwrap(),
    }
}

#[test]
fn every_format_for_every_example_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    for (path, p) in examples() {
        for format in FORMATS {
            let microsoft_only = matches!(*format, "ce" | "um" | "powershell" | "setup");
            let out = run_export(&path, format, None);
            let err = String::from_utf8_lossy(&out.stderr);
            if microsoft_only && exchange_accounts(&p).is_empty() {
                assert_eq!(
                    out.status.code(),
                    Some(2),
                    "{} {format}: {err}",
                    path.display()
                );
                assert!(err.contains("needs a Microsoft 365 account"), "{err}");
                assert!(err.contains("    fix: "), "{err}");
                assert!(out.stdout.is_empty());
                continue;
            }
            assert_eq!(
                out.status.code(),
                Some(0),
                "{} {format}: {err}",
                path.display()
            );
            // Nothing on stderr but the examples' own placeholder client ID, named as one.
            assert!(
                err.lines()
                    .all(|l| l.contains("placeholder") || l.trim_start().starts_with("fix:")),
                "{} {format}: {err}",
                path.display()
            );
            assert!(!out.stdout.is_empty());
            // The same bytes land in a private file with --output.
            let file = dir.path().join(format!("out.{format}"));
            let written = run_export(&path, format, Some(&file));
            assert_eq!(written.status.code(), Some(0));
            let bytes = fs::read(&file).unwrap();
            assert_no_secret(&bytes, &file.display().to_string());
            assert_eq!(bytes, out.stdout, "{} {format}", path.display());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", file.display());
            }
        }
    }
}

#[test]
fn unknown_formats_exit_2_with_the_list() {
    let (path, _) = &examples()[0];
    let out = run_export(path, "xlsx", None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown format \"xlsx\""), "{err}");
    assert!(
        err.contains("toml, json, thunderbird, cerb, ce, um, powershell, env, setup"),
        "{err}"
    );
}

#[test]
fn toml_and_json_round_trip_exactly() {
    for (path, p) in examples() {
        for (format, name) in [("toml", "p.toml"), ("json", "p.json")] {
            let text = export_ok(&path, format);
            let back = import(text.as_bytes(), name).unwrap();
            assert_eq!(back, p, "{} through {format}", path.display());
        }
    }
}

/// An XML element with its attributes, text and children: enough to check autoconfig.
#[derive(Debug, Default)]
struct El {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
    children: Vec<El>,
}

impl El {
    fn all(&self, name: &str) -> Vec<&El> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    fn one(&self, name: &str) -> &El {
        let all = self.all(name);
        assert_eq!(all.len(), 1, "<{}> should have one <{name}>", self.name);
        all[0]
    }
    fn text(&self, name: &str) -> &str {
        &self.one(name).text
    }
}

fn parse_xml(xml: &str) -> El {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut stack = vec![El::default()];
    let element = |e: &quick_xml::events::BytesStart<'_>| El {
        name: e.name().into_inner().to_owned(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                let v = a.normalized_value(XmlVersion::Explicit1_0).unwrap();
                (a.key.into_inner().to_owned(), v.into_owned())
            })
            .collect(),
        ..El::default()
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => stack.last_mut().unwrap().children.push(element(&e)),
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Text(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&t.xml_content(XmlVersion::Explicit1_0)),
            Event::GeneralRef(r) => {
                let s = quick_xml::escape::resolve_predefined_entity(&r).unwrap();
                stack.last_mut().unwrap().text.push_str(s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    stack.pop().unwrap().children.pop().unwrap()
}

fn socket_type(e: Encryption) -> &'static str {
    match e {
        Encryption::Tls => "SSL",
        Encryption::StartTls => "STARTTLS",
        Encryption::None => "plain",
    }
}

#[test]
fn thunderbird_autoconfig_element_by_element_and_back() {
    for (path, p) in examples() {
        let xml = export_ok(&path, "thunderbird");
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        let root = parse_xml(&xml);
        let at = path.display();
        assert_eq!(root.name, "clientConfig", "{at}");
        assert_eq!(root.attrs["version"], "1.1");
        let provider = root.one("emailProvider");
        let domain = p.mailboxes[0].user.rsplit_once('@').unwrap().1;
        assert_eq!(provider.attrs["id"], domain, "{at}");
        assert_eq!(provider.all("domain")[0].text, domain);
        assert!(!provider.text("displayName").is_empty());

        let incoming = provider.all("incomingServer");
        assert_eq!(incoming.len(), p.mailboxes.len(), "{at}");
        for (s, m) in incoming.iter().zip(&p.mailboxes) {
            let kind = match m.protocol {
                Protocol::Imap => "imap",
                Protocol::Pop3 => "pop3",
            };
            assert_eq!(s.attrs["type"], kind);
            assert_eq!(s.text("hostname"), m.host);
            assert_eq!(s.text("port"), m.port.to_string());
            assert_eq!(s.text("socketType"), socket_type(m.encryption));
            assert_eq!(s.text("username"), m.user);
            let auth = if m.account.is_some() {
                "OAuth2"
            } else {
                "password-cleartext"
            };
            assert_eq!(s.text("authentication"), auth, "{at} {}", m.name);
        }
        let outgoing = provider.all("outgoingServer");
        assert_eq!(outgoing.len(), p.transports.len(), "{at}");
        for (s, t) in outgoing.iter().zip(&p.transports) {
            assert_eq!(s.attrs["type"], "smtp");
            assert_eq!(s.text("hostname"), t.host);
            assert_eq!(s.text("port"), t.port.to_string());
            assert_eq!(s.text("socketType"), socket_type(t.encryption));
            assert_eq!(s.text("username"), t.username.as_deref().unwrap());
            assert_eq!(s.text("authentication"), "OAuth2");
        }

        let account = p
            .account(p.mailboxes[0].account.as_deref().unwrap())
            .unwrap();
        let oauth = root.one("oAuth2");
        let issuer = match account.provider {
            Provider::Google => "accounts.google.com",
            _ => "login.microsoftonline.com",
        };
        assert_eq!(oauth.text("issuer"), issuer, "{at}");
        // Thunderbird signs in as the user, whatever the profile's flow: delegated scopes and a
        // refresh token, never an app-only `.default`.
        let scope = oauth.text("scope");
        assert!(
            scope.ends_with("offline_access") || account.provider == Provider::Google,
            "{at}: {scope}"
        );
        assert!(!scope.contains("/.default"), "{at}: {scope}");
        assert_eq!(oauth.text("tokenURL"), token_url(account));
        assert!(oauth.text("authURL").starts_with("https://"), "{at}");

        // Importing our own export gives back the servers.
        let back = import(xml.as_bytes(), "config-v1.1.xml").unwrap();
        let servers = |p: &Profile| {
            let m: Vec<_> = p
                .mailboxes
                .iter()
                .map(|m| {
                    (
                        m.protocol,
                        m.host.clone(),
                        m.port,
                        m.encryption,
                        m.user.clone(),
                    )
                })
                .collect();
            let t: Vec<_> = p
                .transports
                .iter()
                .map(|t| {
                    (
                        t.host.clone(),
                        t.port,
                        t.encryption,
                        t.auth,
                        t.username.clone(),
                    )
                })
                .collect();
            (m, t)
        };
        assert_eq!(servers(&back), servers(&p), "{at}");
        assert_eq!(back.accounts.len(), 1);
        assert_eq!(back.accounts[0].provider, account.provider);
        assert_eq!(
            back.accounts[0].scopes.join(" "),
            scope,
            "the scope Thunderbird was given"
        );
        if account.provider == Provider::Microsoft {
            assert_eq!(back.accounts[0].tenant, account.tenant, "{at}");
        }
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[test]
fn powershell_line_by_line_for_each_mailbox() {
    let mut checked = 0;
    for (path, p) in examples() {
        let accounts = exchange_accounts(&p);
        if accounts.is_empty() {
            continue;
        }
        let script = export_ok(&path, "powershell");
        let lines: Vec<&str> = script.lines().collect();
        let has = |l: &str| lines.contains(&l);
        let at = path.display();
        assert!(has(
            "Install-Module -Name ExchangeOnlineManagement -Scope CurrentUser"
        ));
        assert!(has("Import-Module ExchangeOnlineManagement"));
        for a in accounts {
            let tenant = a.tenant.as_deref().unwrap();
            let connect = if ["organizations", "common"].contains(&tenant) {
                "Connect-ExchangeOnline".to_owned()
            } else {
                format!("Connect-ExchangeOnline -Organization {}", quote(tenant))
            };
            assert!(has(&connect), "{at}: {connect}\n{script}");
            let mine = |n: &Option<String>| n.as_deref() == Some(a.name.as_str());
            if a.flow == Flow::AppOnly {
                let id = quote(a.enterprise_object_id.as_deref().unwrap());
                let sp = format!(
                    "New-ServicePrincipal -AppId {} -ObjectId {id} -DisplayName {}",
                    quote(&a.client_id),
                    quote(&a.name)
                );
                assert!(has(&sp), "{at}: {sp}\n{script}");
                for m in p.mailboxes.iter().filter(|m| mine(&m.account)) {
                    let grant = format!(
                        "Add-MailboxPermission -Identity {} -User {id} -AccessRights FullAccess",
                        quote(&m.user)
                    );
                    assert!(has(&grant), "{at}: {grant}\n{script}");
                }
            } else {
                assert!(!script.contains("New-ServicePrincipal"), "{at}");
                assert!(!script.contains("Add-MailboxPermission"), "{at}");
            }
            for t in p.transports.iter().filter(|t| mine(&t.account)) {
                let smtp = format!(
                    "Set-CASMailbox -Identity {} -SmtpClientAuthenticationDisabled $false",
                    quote(t.username.as_deref().unwrap())
                );
                assert!(has(&smtp), "{at}: {smtp}\n{script}");
            }
        }
        // Every command comes after a comment that says what its step is for.
        let mut explained = false;
        for l in &lines {
            if l.starts_with("# Step ") {
                explained = true;
            } else if !l.is_empty()
                && !l.starts_with('#')
                && !l.starts_with("$ErrorActionPreference")
            {
                assert!(explained, "{at}: `{l}` has no step comment before it");
            }
        }
        assert!(!script.contains("AzureAD"), "the AzureAD module is retired");
        checked += 1;
    }
    assert!(checked >= 2);
}

#[test]
fn powershell_looks_up_a_missing_object_id_with_graph() {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/microsoft365-app-only.toml");
    let text = fs::read_to_string(src)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("enterprise_object_id"))
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.path().join("no-object-id.toml");
    fs::write(&path, text).unwrap();
    let script = export_ok(&path, "powershell");
    let lines: Vec<&str> = script.lines().collect();
    for want in [
        "Connect-MgGraph -TenantId 'contoso.onmicrosoft.com' -Scopes 'Application.Read.All' -NoWelcome",
        "$objectId = (Get-MgServicePrincipal -Filter \"appId eq '00000000-0000-0000-0000-000000000000'\").Id",
        "New-ServicePrincipal -AppId '00000000-0000-0000-0000-000000000000' -ObjectId $objectId -DisplayName 'Office365'",
        "Add-MailboxPermission -Identity 'support@contoso.com' -User $objectId -AccessRights FullAccess",
        "Add-MailboxPermission -Identity 'billing@contoso.com' -User $objectId -AccessRights FullAccess",
    ] {
        assert!(lines.contains(&want), "{want} missing in\n{script}");
    }
}

/// A Markdown sheet as sections of (field, value) rows, values unescaped.
fn sheet(md: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for l in md.lines() {
        if let Some(h) = l.strip_prefix("## ") {
            out.push((unescape(h), Vec::new()));
        } else if let Some(row) = l.strip_prefix("| ").and_then(|r| r.strip_suffix(" |")) {
            let (field, value) = row.split_once(" | ").unwrap();
            if field == "Field" {
                continue;
            }
            let ticks = value.chars().take_while(|c| *c == '`').count();
            let value = if ticks > 0 {
                value[ticks..value.len() - ticks].replace("\\|", "|")
            } else {
                unescape(value)
            };
            out.last_mut().unwrap().1.push((unescape(field), value));
        }
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' { chars.next().unwrap() } else { c });
    }
    out
}

fn rows(sections: &[(String, Vec<(String, String)>)], heading: &str) -> Vec<(String, String)> {
    let found: Vec<_> = sections.iter().filter(|(h, _)| h == heading).collect();
    assert_eq!(found.len(), 1, "one section \"{heading}\" in {sections:#?}");
    found[0].1.clone()
}

fn pairs(list: &[(&str, String)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(f, v)| ((*f).to_owned(), v.clone()))
        .collect()
}

#[test]
fn cerb_sheet_field_by_field() {
    for (path, p) in examples() {
        let s = sheet(&export_ok(&path, "cerb"));
        for t in &p.transports {
            let encryption = match t.encryption {
                Encryption::Tls => "SSL",
                Encryption::StartTls => "TLS",
                Encryption::None => "None",
            };
            let want = pairs(&[
                ("Name", t.name.clone()),
                ("Type", "SMTP".into()),
                ("Host", t.host.clone()),
                ("Port", t.port.to_string()),
                ("Encryption", encryption.into()),
                (
                    "Authentication",
                    if t.auth { "Enabled" } else { "Disabled" }.into(),
                ),
                ("Username", t.username.clone().unwrap()),
                ("Password", "(blank)".into()),
                ("XOAuth2", t.account.clone().unwrap()),
            ]);
            assert_eq!(
                rows(&s, &format!("Email Transports: {}", t.name)),
                want,
                "{}",
                path.display()
            );
        }
        for m in &p.mailboxes {
            let protocol = match (m.protocol, m.encryption) {
                (Protocol::Imap, Encryption::Tls) => "IMAP (TLS/SSL)",
                (Protocol::Pop3, Encryption::Tls) => "POP3 (TLS/SSL)",
                other => panic!("no example uses {other:?}"),
            };
            let want = pairs(&[
                ("Name", m.name.clone()),
                ("Protocol", protocol.into()),
                ("Host", m.host.clone()),
                ("User", m.user.clone()),
                ("Password", "(blank)".into()),
                ("XOAuth2", m.account.clone().unwrap()),
                ("Port", m.port.to_string()),
            ]);
            assert_eq!(
                rows(&s, &format!("Email Mailboxes: {}", m.name)),
                want,
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn ce_and_um_sheets_field_by_field() {
    for (path, p) in examples() {
        for a in exchange_accounts(&p) {
            let ce = sheet(&export_ok(&path, "ce"));
            let mine = |n: &Option<String>| n.as_deref() == Some(a.name.as_str());
            let inbound = p.mailboxes.iter().find(|m| mine(&m.account)).unwrap();
            let outbound = p.transports.iter().find(|t| mine(&t.account)).unwrap();
            let want = pairs(&[
                ("Inbound host", inbound.host.clone()),
                ("Inbound port", inbound.port.to_string()),
                ("Outbound host", outbound.host.clone()),
                ("Outbound port", outbound.port.to_string()),
            ]);
            assert_eq!(rows(&ce, &format!("Gateway: {}", a.name)), want);
            let want = pairs(&[
                ("Use OAuth to receive emails", "ticked".into()),
                ("Client ID", a.client_id.clone()),
                ("Client secret", PLACEHOLDER.into()),
                ("Client scopes", a.scopes.join(" ")),
                ("Token endpoint URL", token_url(a)),
            ]);
            assert_eq!(rows(&ce, &format!("OAuth settings: {}", a.name)), want);

            let um = sheet(&export_ok(&path, "um"));
            for m in p.mailboxes.iter().filter(|m| mine(&m.account)) {
                let object_id = a.enterprise_object_id.clone().unwrap_or_else(|| {
                    "(not in the profile: Entra ID » Enterprise applications » your app » Object ID)".into()
                });
                let want = pairs(&[
                    ("tenant_id", a.tenant.clone().unwrap()),
                    ("client_id", a.client_id.clone()),
                    ("client_secret", PLACEHOLDER.into()),
                    ("enterprise_object_id", object_id),
                    ("mailbox_name", m.user.clone()),
                ]);
                let heading = format!("Mailbox: {} (account {})", m.name, a.name);
                assert_eq!(rows(&um, &heading), want, "{}", path.display());
            }
        }
    }
}

#[test]
fn sheets_saved_as_html_are_printable_pages() {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/microsoft365-app-only.toml");
    for format in ["cerb", "ce", "um"] {
        let file = dir.path().join(format!("{format}.html"));
        let out = run_export(&src, format, Some(&file));
        assert_eq!(out.status.code(), Some(0));
        let html = fs::read_to_string(&file).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains("<table>") && html.contains("@media print"));
        let secret_field = if format == "cerb" {
            "(blank)"
        } else {
            PLACEHOLDER
        };
        assert!(html.contains(secret_field), "{format}: {html}");
        assert_no_secret(html.as_bytes(), &file.display().to_string());
    }
}

#[test]
fn env_lines_are_shell_safe_key_values() {
    for (path, p) in examples() {
        let text = export_ok(&path, "env");
        let vars: BTreeMap<&str, &str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_once('=').unwrap())
            .collect();
        assert_eq!(vars["MAILCFG_MAILBOX_COUNT"], p.mailboxes.len().to_string());
        for (i, m) in p.mailboxes.iter().enumerate() {
            let k = |f: &str| format!("MAILCFG_MAILBOX_{}_{f}", i + 1);
            assert_eq!(vars[k("HOST").as_str()], m.host);
            assert_eq!(vars[k("PORT").as_str()], m.port.to_string());
            assert_eq!(vars[k("USER").as_str()], m.user);
        }
        for (i, a) in p.accounts.iter().enumerate() {
            let name = vars[format!("MAILCFG_ACCOUNT_{}_NAME", i + 1).as_str()];
            let quoted = if a.name.contains(' ') {
                format!("'{}'", a.name)
            } else {
                a.name.clone()
            };
            assert_eq!(name, quoted);
        }
        assert!(!text.to_ascii_lowercase().contains("secret="));
    }
}
