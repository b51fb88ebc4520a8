//! Thunderbird (Mozilla) autoconfig: `config-v1.1.xml` with `<clientConfig version="1.1">`, one
//! `emailProvider` holding the mailboxes as incoming servers and the transports as outgoing ones,
//! and the `oAuth2` block (issuer, scope, authURL, tokenURL) they sign in with. Thunderbird signs
//! in as the user with its own client ID, whatever the profile's flow: the scope is the
//! delegated one of the services in the file, with `offline_access`. The format holds one
//! `oAuth2` block, so servers whose account needs another one are left out, and a comment says so.

use std::borrow::Cow;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::{ExportError, ExportFormat, authorize_url, token_url};
use crate::profile::{
    Account, Encryption, Mailbox, Profile, Protocol, Provider, Transport, presets,
};

pub(super) fn export(p: &Profile) -> Result<String, ExportError> {
    if p.mailboxes.is_empty() {
        return Err(ExportError::NotApplicable {
            format: ExportFormat::Thunderbird,
            needs: "an IMAP or POP3 mailbox",
            fix: "add a mailbox: Thunderbird's autoconfig describes an account by its incoming server",
        });
    }
    write(p).map_err(|e| ExportError::Encode {
        format: ExportFormat::Thunderbird,
        message: e.to_string(),
    })
}

/// The `oAuth2` block a server's account needs in Thunderbird.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OAuth {
    issuer: Option<String>,
    scope: String,
    auth_url: Option<String>,
    token_url: Option<String>,
}

fn oauth_of(p: &Profile, a: &Account) -> OAuth {
    OAuth {
        issuer: issuer(a),
        scope: scope(p, a),
        auth_url: authorize_url(a),
        token_url: token_url(a),
    }
}

/// The delegated scope Thunderbird asks for: the services this account's servers use, and a
/// refresh token (without `offline_access` it must sign in again every hour).
fn scope(p: &Profile, a: &Account) -> String {
    match a.provider {
        Provider::Microsoft => {
            let of = |name: &Option<String>| name.as_deref() == Some(a.name.as_str());
            let imap = p
                .mailboxes
                .iter()
                .any(|m| of(&m.account) && m.protocol == Protocol::Imap);
            let pop = p
                .mailboxes
                .iter()
                .any(|m| of(&m.account) && m.protocol == Protocol::Pop3);
            let smtp = p.transports.iter().any(|t| of(&t.account) && t.auth);
            let wanted = [imap, pop, smtp, true];
            presets::MS_DELEGATED_SCOPES
                .iter()
                .zip(wanted)
                .filter_map(|(s, w)| w.then_some(*s))
                .collect::<Vec<_>>()
                .join(" ")
        }
        Provider::Google => presets::GOOGLE_SCOPE.to_owned(),
        Provider::Generic => a.scopes.join(" "),
    }
}

/// The servers that fit one file: those that need no token, or the same oAuth2 block as the
/// first one; and the names of those left out.
fn servers<'p>(
    p: &'p Profile,
    block: Option<&OAuth>,
) -> (Vec<&'p Mailbox>, Vec<&'p Transport>, Vec<String>) {
    // A server fits when it needs no token, or the same oAuth2 block as the first one.
    let fits = |name: Option<&String>| match (name.and_then(|n| p.account(n)), block) {
        (Some(a), Some(b)) => oauth_of(p, a) == *b,
        _ => true,
    };
    let mailboxes: Vec<_> = p
        .mailboxes
        .iter()
        .filter(|m| fits(m.account.as_ref()))
        .collect();
    let transports: Vec<_> = p
        .transports
        .iter()
        .filter(|t| fits(t.account.as_ref()))
        .collect();
    let left_out: Vec<String> = p
        .mailboxes
        .iter()
        .filter(|m| !fits(m.account.as_ref()))
        .map(|m| format!("mailbox \"{}\"", m.name))
        .chain(
            p.transports
                .iter()
                .filter(|t| !fits(t.account.as_ref()))
                .map(|t| format!("transport \"{}\"", t.name)),
        )
        .collect();
    (mailboxes, transports, left_out)
}

fn write(p: &Profile) -> std::io::Result<String> {
    let domains = domains(p);
    let id = domains.first().cloned().unwrap_or_default();
    let account = oauth_account(p);
    let display = account.map_or(id.as_str(), |a| a.name.as_str());
    let block = account.map(|a| oauth_of(p, a));
    let (mailboxes, transports, left_out) = servers(p, block.as_ref());

    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Comment(BytesText::from_escaped(
        " Written by mailcfg. Each incomingServer is one mailbox of the profile, in the profile's order. \
Thunderbird signs in with its own OAuth2 client ID: an admin may have to consent to it. ",
    )))?;
    if !left_out.is_empty() {
        // Inside a comment only `--` ends it early; names are cleaned of it and of control characters.
        let names = xml_safe(&left_out.join(", ")).replace("--", "- -");
        w.write_event(Event::Comment(BytesText::from_escaped(format!(
            " Left out, as autoconfig holds one account's OAuth2 settings and these sign in with another: {names}. "
        ))))?;
    }
    w.create_element("clientConfig")
        .with_attribute(("version", "1.1"))
        .write_inner_content(|w| {
            w.create_element("emailProvider")
                .with_attribute(("id", xml_safe(&id).as_ref()))
                .write_inner_content(|w| {
                    for d in &domains {
                        text(w, "domain", d)?;
                    }
                    text(w, "displayName", display)?;
                    text(w, "displayShortName", display)?;
                    for m in &mailboxes {
                        let kind = match m.protocol {
                            Protocol::Imap => "imap",
                            Protocol::Pop3 => "pop3",
                        };
                        let auth = if m.account.is_some() {
                            "OAuth2"
                        } else {
                            "password-cleartext"
                        };
                        server(w, "incomingServer", kind).write_inner_content(|w| {
                            text(w, "hostname", &m.host)?;
                            text(w, "port", &m.port.to_string())?;
                            text(w, "socketType", socket_type(m.encryption))?;
                            text(w, "username", &m.user)?;
                            text(w, "authentication", auth)?;
                            Ok(())
                        })?;
                    }
                    for t in &transports {
                        let auth = match (t.auth, &t.account) {
                            (false, _) => "none",
                            (true, Some(_)) => "OAuth2",
                            (true, None) => "password-cleartext",
                        };
                        server(w, "outgoingServer", "smtp").write_inner_content(|w| {
                            text(w, "hostname", &t.host)?;
                            text(w, "port", &t.port.to_string())?;
                            text(w, "socketType", socket_type(t.encryption))?;
                            if let Some(u) = &t.username {
                                text(w, "username", u)?;
                            }
                            text(w, "authentication", auth)?;
                            Ok(())
                        })?;
                    }
                    Ok(())
                })?;
            if let Some(b) = &block {
                w.create_element("oAuth2").write_inner_content(|w| {
                    if let Some(issuer) = &b.issuer {
                        text(w, "issuer", issuer)?;
                    }
                    text(w, "scope", &b.scope)?;
                    if let Some(u) = &b.auth_url {
                        text(w, "authURL", u)?;
                    }
                    if let Some(u) = &b.token_url {
                        text(w, "tokenURL", u)?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    let mut out = String::from_utf8(w.into_inner()).map_err(std::io::Error::other)?;
    out.push('\n');
    Ok(out)
}

type W = Writer<Vec<u8>>;

fn server<'a>(
    w: &'a mut W,
    element: &'a str,
    kind: &'a str,
) -> quick_xml::ElementWriter<'a, Vec<u8>> {
    w.create_element(element).with_attribute(("type", kind))
}

fn text(w: &mut W, name: &str, value: &str) -> std::io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&xml_safe(value)))?;
    Ok(())
}

pub(super) fn socket_type(e: Encryption) -> &'static str {
    match e {
        Encryption::Tls => "SSL",
        Encryption::StartTls => "STARTTLS",
        Encryption::None => "plain",
    }
}

/// The mail domains of the profile's addresses, first the mailboxes', in order, without repeats.
fn domains(p: &Profile) -> Vec<String> {
    let addresses = p
        .mailboxes
        .iter()
        .map(|m| m.user.as_str())
        .chain(p.transports.iter().filter_map(|t| t.username.as_deref()));
    let mut out: Vec<String> = Vec::new();
    for a in addresses {
        if let Some((_, d)) = a.rsplit_once('@') {
            let d = d.trim().to_ascii_lowercase();
            if !d.is_empty() && !out.contains(&d) {
                out.push(d);
            }
        }
    }
    if out.is_empty() {
        out.extend(p.mailboxes.first().map(|m| m.host.to_ascii_lowercase()));
    }
    out
}

/// The account the servers sign in with: autoconfig has room for one `oAuth2` block.
fn oauth_account(p: &Profile) -> Option<&Account> {
    p.mailboxes
        .iter()
        .filter_map(|m| m.account.as_deref())
        .chain(p.transports.iter().filter_map(|t| t.account.as_deref()))
        .find_map(|name| p.account(name))
}

/// Thunderbird names the identity provider by its host name.
fn issuer(a: &Account) -> Option<String> {
    let host_of = |u: &str| url::Url::parse(u).ok()?.host_str().map(str::to_owned);
    match a.provider {
        Provider::Microsoft => host_of(
            a.authority
                .as_deref()
                .unwrap_or(crate::oauth::endpoints::MICROSOFT_AUTHORITY),
        ),
        Provider::Google => crate::provider::info(Provider::Google)
            .issuer
            .map(str::to_owned),
        Provider::Generic => a
            .issuer
            .as_deref()
            .or(a.token_url.as_deref())
            .and_then(host_of),
    }
}

/// XML 1.0 has no way to write most control characters, even escaped: they become U+FFFD.
fn xml_safe(s: &str) -> Cow<'_, str> {
    let bad = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    };
    if s.chars().any(bad) {
        Cow::Owned(
            s.chars()
                .map(|c| if bad(c) { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::presets;

    #[test]
    fn the_first_start_profile_becomes_autoconfig() {
        let x = export(&presets::microsoft365_profile()).unwrap();
        assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        for want in [
            "<clientConfig version=\"1.1\">",
            "<emailProvider id=\"contoso.onmicrosoft.com\">",
            "<domain>contoso.onmicrosoft.com</domain>",
            "<incomingServer type=\"imap\">",
            "<hostname>outlook.office365.com</hostname>",
            "<port>993</port>",
            "<socketType>SSL</socketType>",
            "<outgoingServer type=\"smtp\">",
            "<socketType>STARTTLS</socketType>",
            "<authentication>OAuth2</authentication>",
            "<issuer>login.microsoftonline.com</issuer>",
            "<scope>https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access</scope>",
            "<tokenURL>https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token</tokenURL>",
        ] {
            assert!(x.contains(want), "{want} missing in\n{x}");
        }
    }

    #[test]
    fn a_google_profile_names_googles_issuer_scope_and_endpoints() {
        use crate::profile::Flow;
        for flow in [Flow::Delegated, Flow::AppOnly] {
            let a = presets::account("G", Provider::Google, flow);
            let p = Profile {
                accounts: vec![a],
                mailboxes: vec![presets::GMAIL_IMAP.mailbox(
                    "Alice",
                    Protocol::Imap,
                    "alice@example.com",
                    Some("G"),
                )],
                transports: vec![presets::GMAIL_SMTP.transport(
                    "Alice SMTP",
                    "alice@example.com",
                    Some("G"),
                )],
                ..Profile::default()
            };
            let x = export(&p).unwrap();
            for want in [
                "<hostname>imap.gmail.com</hostname>",
                "<hostname>smtp.gmail.com</hostname>",
                "<issuer>accounts.google.com</issuer>",
                "<scope>https://mail.google.com/</scope>",
                "<authURL>https://accounts.google.com/o/oauth2/v2/auth</authURL>",
                "<tokenURL>https://oauth2.googleapis.com/token</tokenURL>",
            ] {
                assert!(x.contains(want), "{flow}: {want} missing in\n{x}");
            }
        }
    }

    #[test]
    fn everything_is_escaped() {
        let mut p = presets::microsoft365_profile();
        p.accounts[0].name = "A<b>&\"c'\u{1}".into();
        p.mailboxes[0].user = "x&y@<d>".into();
        p.mailboxes[0].account = Some(p.accounts[0].name.clone());
        let x = export(&p).unwrap();
        assert!(x.contains("<displayName>A&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}</displayName>"));
        assert!(x.contains("<username>x&amp;y@&lt;d&gt;</username>"));
        assert!(x.contains("id=\"&lt;d&gt;\""), "{x}");
        assert!(!x.contains('\u{1}'));
    }

    #[test]
    fn password_servers_and_plain_sockets() {
        let mut p = presets::microsoft365_profile();
        p.mailboxes[0].account = None;
        p.mailboxes[0].encryption = Encryption::None;
        p.transports[0].auth = false;
        let x = export(&p).unwrap();
        assert!(x.contains("<authentication>password-cleartext</authentication>"));
        assert!(x.contains("<authentication>none</authentication>"));
        assert!(x.contains("<socketType>plain</socketType>"));
    }

    #[test]
    fn each_account_keeps_its_own_oauth_and_thunderbird_signs_in_as_the_user() {
        let mut p = presets::microsoft365_profile();
        let mut g = presets::account("Gmail", Provider::Google, crate::profile::Flow::Delegated);
        g.client_id = "x.apps.googleusercontent.com".into();
        p.accounts.push(g);
        let mut gm =
            presets::GMAIL_IMAP.mailbox("Gmail", Protocol::Imap, "me@gmail.com", Some("Gmail"));
        gm.name = "Gmail inbox".into();
        p.mailboxes.push(gm);
        p.accounts[0].flow = crate::profile::Flow::Delegated;
        let x = export(&p).unwrap();
        assert_eq!(x.matches("<oAuth2>").count(), 1);
        assert!(x.contains("offline_access</scope>"), "{x}");
        assert!(!x.contains(".default"), "no app-only scope: {x}");
        assert!(
            !x.contains("imap.gmail.com"),
            "the other account's server is left out: {x}"
        );
        assert!(
            x.contains("these sign in with another: mailbox \"Gmail inbox\". -->"),
            "{x}"
        );
    }

    #[test]
    fn a_profile_without_mailboxes_is_not_autoconfig() {
        let mut p = presets::microsoft365_profile();
        p.mailboxes.clear();
        assert!(matches!(export(&p), Err(ExportError::NotApplicable { .. })));
    }
}
