//! Thunderbird (Mozilla) autoconfig: `config-v1.1.xml` with `<clientConfig version="1.1">`, one
//! `emailProvider` holding the mailboxes as incoming servers and the transports as outgoing ones,
//! and the `oAuth2` block (issuer, scope, authURL, tokenURL) of the account they sign in with.

use std::borrow::Cow;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::{ExportError, ExportFormat, authorize_url, token_url};
use crate::profile::{Account, Encryption, Profile, Protocol, Provider};

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

fn write(p: &Profile) -> std::io::Result<String> {
    let domains = domains(p);
    let id = domains.first().cloned().unwrap_or_default();
    let account = oauth_account(p);
    let display = account.map_or(id.as_str(), |a| a.name.as_str());

    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Comment(BytesText::from_escaped(
        " Written by mailcfg. Each incomingServer is one mailbox of the profile, in the profile's order. \
Thunderbird signs in with its own OAuth2 client ID: an admin may have to consent to it. ",
    )))?;
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
                    for m in &p.mailboxes {
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
                    for t in &p.transports {
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
            if let Some(a) = account {
                w.create_element("oAuth2").write_inner_content(|w| {
                    if let Some(issuer) = issuer(a) {
                        text(w, "issuer", &issuer)?;
                    }
                    text(w, "scope", &a.scopes.join(" "))?;
                    if let Some(u) = authorize_url(a) {
                        text(w, "authURL", &u)?;
                    }
                    if let Some(u) = token_url(a) {
                        text(w, "tokenURL", &u)?;
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
            "<scope>https://outlook.office365.com/.default</scope>",
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
    fn a_profile_without_mailboxes_is_not_autoconfig() {
        let mut p = presets::microsoft365_profile();
        p.mailboxes.clear();
        assert!(matches!(export(&p), Err(ExportError::NotApplicable { .. })));
    }
}
