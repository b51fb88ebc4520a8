//! What an edit from a form does to the profile, with its consequences worked out in one place:
//! a renamed account's mailboxes and transports follow it; a new provider or flow brings its
//! scopes; a mailbox switched from IMAP to POP3 (or from TLS to STARTTLS) on the standard port
//! moves to the other standard port, and from a provider's IMAP host to its POP3 host. Pure.

use crate::profile::presets;
use crate::profile::{Encryption, Mailbox, Profile, Protocol, Transport};
use crate::ui::action::{Edit, TargetName};

/// A name that changed, for the runtime state kept under names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renamed {
    Account { old: String, new: String },
    Target { old: TargetName, new: TargetName },
}

/// Applies `edit` to `p`; returns the names that changed.
pub fn apply(p: &mut Profile, edit: Edit) -> Vec<Renamed> {
    let mut renamed = Vec::new();
    match edit {
        Edit::Account(i, mut a) => {
            let Some(old) = p.accounts.get(i) else {
                return renamed;
            };
            if (a.provider, a.flow) != (old.provider, old.flow) && a.scopes == old.scopes {
                a.scopes = presets::scopes(a.provider, a.flow)
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
            }
            if a.name != old.name {
                let (old, new) = (old.name.clone(), a.name.clone());
                for t in &mut p.transports {
                    if t.account.as_deref() == Some(old.as_str()) {
                        t.account = Some(new.clone());
                    }
                }
                for m in &mut p.mailboxes {
                    if m.account.as_deref() == Some(old.as_str()) {
                        m.account = Some(new.clone());
                    }
                }
                renamed.push(Renamed::Account { old, new });
            }
            p.accounts[i] = a;
        }
        Edit::Transport(i, mut t) => {
            let Some(old) = p.transports.get(i) else {
                return renamed;
            };
            if t.encryption != old.encryption && t.port == old.port {
                t.port = standard_port(Service::Smtp, old.encryption, t.encryption, t.port);
            }
            if t.name != old.name {
                renamed.push(target(old, &t));
            }
            p.transports[i] = t;
        }
        Edit::Mailbox(i, mut m) => {
            let Some(old) = p.mailboxes.get(i) else {
                return renamed;
            };
            follow_protocol(old, &mut m);
            if m.name != old.name {
                renamed.push(Renamed::Target {
                    old: TargetName::Mailbox(old.name.clone()),
                    new: TargetName::Mailbox(m.name.clone()),
                });
            }
            p.mailboxes[i] = m;
        }
        Edit::Tls(t) => p.tls = t,
        Edit::Probe(s) => p.probe = s,
    }
    renamed
}

fn target(old: &Transport, new: &Transport) -> Renamed {
    Renamed::Target {
        old: TargetName::Transport(old.name.clone()),
        new: TargetName::Transport(new.name.clone()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Service {
    Imap,
    Pop3,
    Smtp,
}

/// (implicit TLS, STARTTLS or plain) ports by convention.
fn ports(s: Service) -> (u16, u16) {
    match s {
        Service::Imap => (993, 143),
        Service::Pop3 => (995, 110),
        Service::Smtp => (465, 587),
    }
}

fn port_for(s: Service, e: Encryption) -> u16 {
    let (tls, plain) = ports(s);
    if e == Encryption::Tls { tls } else { plain }
}

/// The standard port of the new encryption, when `port` was the standard one of the old;
/// otherwise the port the user chose stays.
fn standard_port(s: Service, old: Encryption, new: Encryption, port: u16) -> u16 {
    if port == port_for(s, old) {
        port_for(s, new)
    } else {
        port
    }
}

fn service(p: Protocol) -> Service {
    match p {
        Protocol::Imap => Service::Imap,
        Protocol::Pop3 => Service::Pop3,
    }
}

/// A new protocol or encryption moves a standard port (and a provider's preset host) with it.
fn follow_protocol(old: &Mailbox, m: &mut Mailbox) {
    if m.port != old.port {
        return; // the user typed a port in the same edit: theirs
    }
    let before = service(old.protocol);
    if m.protocol != old.protocol {
        if m.port == port_for(before, old.encryption) {
            m.port = port_for(service(m.protocol), m.encryption);
        }
        let (from, to) = match m.protocol {
            Protocol::Pop3 => (presets::IMAP_SERVERS, presets::POP3_SERVERS),
            Protocol::Imap => (presets::POP3_SERVERS, presets::IMAP_SERVERS),
        };
        // The lists are in the same provider order.
        if let Some(k) = from
            .iter()
            .position(|s| s.host.eq_ignore_ascii_case(&m.host))
            && let Some(s) = to.get(k)
        {
            s.host.clone_into(&mut m.host);
        }
    } else if m.encryption != old.encryption {
        m.port = standard_port(before, old.encryption, m.encryption, m.port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Flow, presets::microsoft365_profile};

    #[test]
    fn imap_to_pop3_moves_the_standard_port_and_the_providers_host() {
        let mut p = microsoft365_profile();
        let mut m = p.mailboxes[0].clone();
        m.protocol = Protocol::Pop3;
        apply(&mut p, Edit::Mailbox(0, m));
        assert_eq!(
            (p.mailboxes[0].port, p.mailboxes[0].host.as_str()),
            (995, "outlook.office365.com")
        );
        let mut m = p.mailboxes[0].clone();
        "imap.gmail.com".clone_into(&mut m.host);
        m.protocol = Protocol::Imap;
        apply(&mut p, Edit::Mailbox(0, m.clone()));
        assert_eq!(p.mailboxes[0].port, 993);
        m = p.mailboxes[0].clone();
        m.protocol = Protocol::Pop3;
        apply(&mut p, Edit::Mailbox(0, m));
        assert_eq!(
            (p.mailboxes[0].port, p.mailboxes[0].host.as_str()),
            (995, "pop.gmail.com")
        );
        let mut m = p.mailboxes[0].clone();
        m.encryption = Encryption::StartTls;
        apply(&mut p, Edit::Mailbox(0, m));
        assert_eq!(p.mailboxes[0].port, 110);
    }

    #[test]
    fn a_port_of_the_users_own_stays() {
        let mut p = microsoft365_profile();
        p.mailboxes[0].port = 10993;
        let mut m = p.mailboxes[0].clone();
        m.protocol = Protocol::Pop3;
        apply(&mut p, Edit::Mailbox(0, m));
        assert_eq!(p.mailboxes[0].port, 10993);
        let mut t = p.transports[0].clone();
        t.encryption = Encryption::Tls;
        apply(&mut p, Edit::Transport(0, t));
        assert_eq!(
            p.transports[0].port, 465,
            "587 was the standard STARTTLS port"
        );
    }

    #[test]
    fn a_renamed_account_takes_its_servers_and_a_new_flow_its_scopes() {
        let mut p = microsoft365_profile();
        let mut a = p.accounts[0].clone();
        "Contoso".clone_into(&mut a.name);
        a.flow = Flow::Delegated;
        let renamed = apply(&mut p, Edit::Account(0, a));
        assert_eq!(
            renamed,
            [Renamed::Account {
                old: "Office365".into(),
                new: "Contoso".into()
            }]
        );
        assert_eq!(p.mailboxes[0].account.as_deref(), Some("Contoso"));
        assert_eq!(p.transports[0].account.as_deref(), Some("Contoso"));
        assert!(p.accounts[0].scopes.iter().any(|s| s == "offline_access"));
    }
}
