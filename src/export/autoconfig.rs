//! Thunderbird autoconfig (`config-v1.1.xml`) read into a new profile: its IMAP/POP3 incoming
//! servers become mailboxes, its SMTP outgoing servers transports, and its `oAuth2` block the
//! connected account they sign in with (without a client ID: autoconfig has none).

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use super::import::ImportError;
use crate::profile::{
    Account, Encryption, Flow, Mailbox, Profile, Protocol, Provider, Transport, presets,
};

/// Autoconfig is four levels deep; far deeper is not autoconfig.
const MAX_DEPTH: usize = 32;

/// An element of the XML document: enough of a tree to read autoconfig.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn children<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a Node> + use<'a, 'n> {
        self.children.iter().filter(move |c| c.name == name)
    }
    fn child(&self, name: &str) -> Option<&Node> {
        self.children(name).next()
    }
    fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
    }
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn parse_xml(text: &str) -> Result<Node, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut version = XmlVersion::Implicit1_0;
    let mut stack: Vec<Node> = Vec::new();
    let at = |r: &quick_xml::Reader<&[u8]>| format!("at byte {}", r.error_position());
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("the XML is not well-formed ({e}, {})", at(&reader)))?;
        let done = match event {
            Event::Decl(d) => {
                version = d.xml_version().unwrap_or(version);
                None
            }
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("the XML is nested too deeply to be autoconfig".into());
                }
                stack.push(element(&e, version)?);
                None
            }
            Event::Empty(e) => attach(&mut stack, element(&e, version)?),
            Event::End(_) => match stack.pop() {
                Some(node) => attach(&mut stack, node),
                None => return Err(format!("an end tag without its start {}", at(&reader))),
            },
            Event::Text(t) => {
                push_text(&mut stack, &t.xml_content(version));
                None
            }
            Event::CData(t) => {
                push_text(&mut stack, &t.xml_content(version));
                None
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&r)
                        .ok_or_else(|| format!("unknown entity &{};", &*r))?
                        .to_owned(),
                    Err(e) => return Err(format!("a bad character reference &{};: {e}", &*r)),
                };
                push_text(&mut stack, &resolved);
                None
            }
            Event::Eof => return Err("the file ends before its root element does".into()),
            _ => None,
        };
        if let Some(root) = done {
            return Ok(root);
        }
    }
}

/// Adds a finished element to its parent; the root comes back when it is done.
fn attach(stack: &mut [Node], node: Node) -> Option<Node> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(node);
            None
        }
        None => Some(node),
    }
}

fn push_text(stack: &mut [Node], s: &str) {
    if let Some(top) = stack.last_mut() {
        top.text.push_str(s);
    }
}

fn element(e: &BytesStart<'_>, version: XmlVersion) -> Result<Node, String> {
    let mut node = Node {
        name: e.local_name().into_inner().to_owned(),
        ..Node::default()
    };
    for a in e.attributes() {
        let a = a.map_err(|e| format!("a bad attribute: {e}"))?;
        let v = a
            .normalized_value(version)
            .map_err(|e| format!("a bad attribute: {e}"))?;
        node.attrs
            .push((a.key.local_name().into_inner().to_owned(), v.into_owned()));
    }
    Ok(node)
}

pub(super) fn read(text: &str, file: &str) -> Result<Profile, ImportError> {
    let bad = |message: String| ImportError::Autoconfig {
        file: file.to_owned(),
        message,
    };
    let root = parse_xml(text).map_err(&bad)?;
    if root.name != "clientConfig" {
        return Err(ImportError::Unrecognized {
            file: file.to_owned(),
            why: format!(
                "its XML root element is <{}>, not <clientConfig>",
                root.name
            ),
        });
    }
    let provider = root
        .child("emailProvider")
        .ok_or_else(|| bad("<clientConfig> has no <emailProvider>".into()))?;
    let display = provider
        .text_of("displayShortName")
        .or_else(|| provider.text_of("displayName"))
        .or_else(|| provider.attr("id"))
        .or_else(|| provider.text_of("domain"))
        .unwrap_or("Imported")
        .to_owned();
    let oauth = root.child("oAuth2").or_else(|| provider.child("oAuth2"));
    let mut p = Profile::default();
    let mut oauth_hosts: Vec<String> = Vec::new();
    for (i, s) in provider.children("incomingServer").enumerate() {
        let protocol = match s.attr("type") {
            Some("imap") => Protocol::Imap,
            Some("pop3") => Protocol::Pop3,
            _ => continue, // Exchange, EWS, JMAP…: not mail servers mailcfg talks to
        };
        let srv = server(s, &format!("incomingServer {}", i + 1)).map_err(&bad)?;
        let kind = if protocol == Protocol::Imap {
            "IMAP"
        } else {
            "POP3"
        };
        if srv.oauth {
            oauth_hosts.push(srv.host.clone());
        }
        p.mailboxes.push(Mailbox {
            name: unique(
                &format!("{display} {kind}"),
                p.mailboxes.iter().map(|m| &m.name),
            ),
            protocol,
            host: srv.host,
            port: srv.port,
            encryption: srv.encryption,
            user: srv.username,
            account: srv.oauth.then(|| display.clone()),
        });
    }
    for (i, s) in provider.children("outgoingServer").enumerate() {
        if s.attr("type") != Some("smtp") {
            continue;
        }
        let srv = server(s, &format!("outgoingServer {}", i + 1)).map_err(&bad)?;
        if srv.oauth {
            oauth_hosts.push(srv.host.clone());
        }
        p.transports.push(Transport {
            name: unique(
                &format!("{display} SMTP"),
                p.transports.iter().map(|t| &t.name),
            ),
            host: srv.host,
            port: srv.port,
            encryption: srv.encryption,
            auth: srv.auth,
            username: Some(srv.username).filter(|u| !u.is_empty()),
            account: srv.oauth.then(|| display.clone()),
        });
    }
    if p.mailboxes.is_empty() && p.transports.is_empty() {
        return Err(bad("<emailProvider> has no IMAP, POP3 or SMTP server (mailcfg reads incomingServer type=\"imap\" or \"pop3\" and outgoingServer type=\"smtp\")".into()));
    }
    if !oauth_hosts.is_empty() {
        p.accounts.push(account(&display, oauth, &oauth_hosts));
    }
    Ok(p)
}

struct Server {
    host: String,
    port: u16,
    encryption: Encryption,
    username: String,
    auth: bool,
    oauth: bool,
}

fn server(s: &Node, what: &str) -> Result<Server, String> {
    let host = s
        .text_of("hostname")
        .ok_or_else(|| format!("{what} has no <hostname>"))?;
    let port = s.text_of("port").unwrap_or_default();
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("{what}: <port> \"{port}\" is not a number from 1 to 65535"))?;
    let encryption = match s.text_of("socketType") {
        Some("SSL") => Encryption::Tls,
        Some("STARTTLS") => Encryption::StartTls,
        Some("plain") => Encryption::None,
        other => {
            return Err(format!(
                "{what}: <socketType> \"{}\" is not one of SSL, STARTTLS, plain",
                other.unwrap_or_default()
            ));
        }
    };
    let methods: Vec<&str> = s
        .children("authentication")
        .map(|a| a.text.trim())
        .collect();
    // Thunderbird's placeholders (%EMAILADDRESS%) stand for what the user types: left empty,
    // validation asks for the address.
    let username = s
        .text_of("username")
        .filter(|u| !u.contains('%'))
        .unwrap_or_default();
    Ok(Server {
        host: host.to_owned(),
        port,
        encryption,
        username: username.to_owned(),
        auth: methods
            .iter()
            .any(|m| !matches!(*m, "none" | "client-IP-address")),
        oauth: methods.contains(&"OAuth2"),
    })
}

/// `base`, or `base 2`, `base 3`… when taken.
fn unique<'a>(base: &str, taken: impl Iterator<Item = &'a String>) -> String {
    let taken: Vec<&String> = taken.collect();
    let free = |n: &String| !taken.contains(&n);
    let mut name = base.to_owned();
    let mut i = 1;
    while !free(&name) {
        i += 1;
        name = format!("{base} {i}");
    }
    name
}

/// The connected account the OAuth2 servers sign in with. Autoconfig has no client ID: the
/// user adds theirs, and validation says so.
fn account(name: &str, oauth: Option<&Node>, hosts: &[String]) -> Account {
    let field = |n: &str| oauth.and_then(|o| o.text_of(n));
    let urls: Vec<url::Url> = [field("authURL"), field("tokenURL")]
        .into_iter()
        .flatten()
        .filter_map(|u| url::Url::parse(u).ok())
        .collect();
    let mut clues: Vec<String> = urls
        .iter()
        .filter_map(|u| u.host_str().map(str::to_owned))
        .collect();
    clues.extend(field("issuer").map(str::to_owned));
    clues.extend(hosts.iter().cloned());
    let is = |words: &[&str]| {
        clues
            .iter()
            .any(|c| words.iter().any(|w| c.to_ascii_lowercase().contains(w)))
    };
    let provider = if is(&[
        "microsoftonline",
        "login.microsoft",
        "office365.com",
        "outlook.com",
    ]) {
        Provider::Microsoft
    } else if is(&["google"]) {
        Provider::Google
    } else {
        Provider::Generic
    };
    let mut a = presets::account(name, provider, Flow::Delegated);
    if let Some(scope) = field("scope") {
        a.scopes = scope.split_whitespace().map(str::to_owned).collect();
    }
    match provider {
        Provider::Microsoft => {
            if let Some(u) = urls.first() {
                a.tenant = u
                    .path_segments()
                    .and_then(|mut s| s.next())
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned);
                let authority = u.origin().ascii_serialization();
                if authority != crate::oauth::endpoints::MICROSOFT_AUTHORITY {
                    a.authority = Some(authority);
                }
            }
        }
        Provider::Google => {}
        Provider::Generic => {
            a.authorize_url = field("authURL").map(str::to_owned);
            a.token_url = field("tokenURL").map(str::to_owned);
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{ExportFormat, ExportOptions, export, import};

    #[test]
    fn our_own_autoconfig_comes_back_with_its_servers() {
        let p = presets::microsoft365_profile();
        let xml = export(&p, ExportFormat::Thunderbird, &ExportOptions::default()).unwrap();
        let q = import(xml.as_bytes(), "config-v1.1.xml").unwrap();
        assert_eq!(q.mailboxes.len(), 1);
        let (a, b) = (&p.mailboxes[0], &q.mailboxes[0]);
        assert_eq!(
            (&a.host, a.port, a.encryption, a.protocol, &a.user),
            (&b.host, b.port, b.encryption, b.protocol, &b.user)
        );
        let (a, b) = (&p.transports[0], &q.transports[0]);
        assert_eq!(
            (&a.host, a.port, a.encryption, &a.username),
            (&b.host, b.port, b.encryption, &b.username)
        );
        let acc = &q.accounts[0];
        assert_eq!(acc.provider, Provider::Microsoft);
        assert_eq!(acc.tenant.as_deref(), Some("contoso.onmicrosoft.com"));
        // Thunderbird signs in as the user: the delegated scopes of IMAP and SMTP come back.
        assert_eq!(acc.flow, crate::profile::Flow::Delegated);
        assert_eq!(
            acc.scopes,
            [
                "https://outlook.office.com/IMAP.AccessAsUser.All",
                "https://outlook.office.com/SMTP.Send",
                "offline_access"
            ]
        );
        assert_eq!(q.mailboxes[0].account.as_deref(), Some(acc.name.as_str()));
    }

    #[test]
    fn ispdb_style_files_with_placeholders_and_entities() {
        let xml = r#"<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="example.com">
  <displayName>Ex &amp; Co</displayName>
  <incomingServer type="imap"><hostname>imap.example.com</hostname><port>143</port>
    <socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username>
    <authentication>password-cleartext</authentication></incomingServer>
  <incomingServer type="exchange"><hostname>x</hostname></incomingServer>
  <outgoingServer type="smtp"><hostname>smtp.example.com</hostname><port>465</port>
    <socketType>SSL</socketType><authentication>OAuth2</authentication></outgoingServer>
</emailProvider><oAuth2><issuer>auth.example.com</issuer><scope>mail offline</scope>
  <authURL>https://auth.example.com/a</authURL><tokenURL>https://auth.example.com/t</tokenURL></oAuth2>
</clientConfig>"#;
        let p = import(xml.as_bytes(), "whatever").unwrap();
        assert_eq!(p.mailboxes.len(), 1);
        assert_eq!(p.mailboxes[0].name, "Ex & Co IMAP");
        assert_eq!(p.mailboxes[0].user, "");
        assert_eq!(p.mailboxes[0].encryption, Encryption::StartTls);
        assert_eq!(p.mailboxes[0].account, None);
        assert_eq!(p.transports[0].account.as_deref(), Some("Ex & Co"));
        let a = &p.accounts[0];
        assert_eq!(a.provider, Provider::Generic);
        assert_eq!(a.token_url.as_deref(), Some("https://auth.example.com/t"));
        assert_eq!(a.scopes, ["mail", "offline"]);
    }

    #[test]
    fn repeated_names_get_numbers() {
        let taken = ["A IMAP".to_owned(), "A IMAP 2".to_owned()];
        assert_eq!(unique("A IMAP", taken.iter()), "A IMAP 3");
        assert_eq!(unique("A POP3", taken.iter()), "A POP3");
    }
}
