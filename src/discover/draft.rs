//! The draft profile from what the sources said, without any I/O. Each source's answers are
//! claims; for every field the claim of the highest-ranking source wins ([`Origin`]'s order),
//! and the field's note says where its value came from, what else was said, and why this one.

use super::address::Address;
pub use super::claims::{Alternative, Claim, Fact, FieldNote, Origin, ServerFact, Service};
use super::classify::{Hosting, Tenant};
use crate::profile::{Account, Flow, Mailbox, Profile, Protocol, Provider, Transport, presets};

/// The draft: a profile to review, and the notes on its fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    /// `None`: nothing was found to put in a profile.
    pub profile: Option<Profile>,
    pub notes: Vec<FieldNote>,
    pub hosting: Option<Hosting>,
}

impl Draft {
    pub fn note(&self, key: &str) -> Option<&FieldNote> {
        self.notes.iter().find(|n| n.key == key)
    }
}

/// What the user gave that shapes the draft.
#[derive(Debug, Clone, Default)]
pub struct Given {
    /// A Microsoft authority other than the global one (another cloud, a local identity provider).
    pub authority: Option<String>,
}

/// The client ID nobody but the user knows: a placeholder in the shape validation expects.
pub const CLIENT_ID_PLACEHOLDER: &str = "00000000-0000-0000-0000-000000000000";
const GOOGLE_CLIENT_ID_PLACEHOLDER: &str = "YOUR_CLIENT_ID.apps.googleusercontent.com";
const GENERIC_CLIENT_ID_PLACEHOLDER: &str = "your-client-id";

/// Picks, per field, the best claim and builds the draft.
pub fn compose(address: &Address, claims: &[Claim], given: &Given) -> Draft {
    let mut claims: Vec<&Claim> = claims.iter().collect();
    // Stable: claims of one rank keep the order of the steps that made them.
    claims.sort_by_key(|c| c.origin);
    let hostings: Vec<(Hosting, &Claim)> = claims
        .iter()
        .filter_map(|c| match &c.fact {
            Fact::Hosting(h) => Some((*h, *c)),
            _ => None,
        })
        .collect();
    let tenant = claims.iter().find_map(|c| match &c.fact {
        Fact::Tenant(t) => Some((t, *c)),
        _ => None,
    });
    let hosting = hostings.first().map(|(h, _)| *h);
    let presets = hosting.map_or_else(Vec::new, |h| {
        preset_claims(h, tenant.map(|(t, _)| t.cloud).unwrap_or_default())
    });
    let mut b = Builder {
        address,
        name: address.domain.clone(),
        draft: Draft {
            hosting,
            ..Draft::default()
        },
        profile: Profile::default(),
    };
    if let Some((h, chosen)) = hostings.first() {
        let others: Vec<(String, &Claim)> = hostings
            .iter()
            .filter(|(o, _)| o != h)
            .map(|(o, c)| (o.label().to_owned(), *c))
            .collect();
        let mut n = note(
            "accounts[0].provider",
            h.provider().to_string(),
            chosen,
            &others,
        );
        n.evidence = format!("{} ({})", chosen.evidence, h.label());
        b.draft.notes.push(n);
        b.hosted_account(*h, tenant, given);
    } else if let Some((a, c)) = claims.iter().find_map(|c| match &c.fact {
        Fact::OAuth(a) => Some((a, *c)),
        _ => None,
    }) {
        b.generic_account(a, c);
    }
    let all: Vec<&Claim> = claims.iter().copied().chain(presets.iter()).collect();
    let servers = |service: Service| -> Vec<(&ServerFact, &Claim)> {
        all.iter()
            .filter_map(|c| match &c.fact {
                Fact::Server(s) if s.service == service => Some((s, *c)),
                _ => None,
            })
            .collect()
    };
    let imap = servers(Service::Imap);
    let incoming = if imap.is_empty() {
        servers(Service::Pop3)
    } else {
        imap
    };
    b.mailbox(&incoming);
    b.transport(&servers(Service::Smtp));
    let p = b.profile;
    let mut d = b.draft;
    if !(p.accounts.is_empty() && p.mailboxes.is_empty() && p.transports.is_empty()) {
        d.profile = Some(p);
    }
    d
}

/// The provider's servers as claims of the lowest rank: they fill what nothing else said.
fn preset_claims(h: Hosting, cloud: super::classify::Cloud) -> Vec<Claim> {
    let (imap, smtp) = h.servers(cloud);
    [(Service::Imap, imap), (Service::Smtp, smtp)]
        .into_iter()
        .map(|(service, s)| Claim {
            fact: Fact::Server(ServerFact {
                service,
                host: s.host.to_owned(),
                port: s.port,
                encryption: s.encryption,
                user: None,
                oauth: true,
            }),
            origin: Origin::Preset,
            evidence: format!("{} ({})", s.label, h.label()),
        })
        .collect()
}

/// A field of a server and how to read it.
type Field = (&'static str, fn(&ServerFact) -> String);

struct Builder<'a> {
    address: &'a Address,
    /// The account's name, and the start of the mailbox's and transport's.
    name: String,
    draft: Draft,
    profile: Profile,
}

impl Builder<'_> {
    fn note(&mut self, key: &str, value: String, chosen: &Claim, others: &[(String, &Claim)]) {
        self.draft.notes.push(note(key, value, chosen, others));
    }

    fn given(&mut self, key: &str, value: &str, origin: Origin, evidence: &str) {
        self.draft.notes.push(FieldNote {
            key: key.to_owned(),
            value: value.to_owned(),
            origin,
            evidence: evidence.to_owned(),
            others: Vec::new(),
            why: None,
        });
    }

    /// A Microsoft or Google account of the hosting's kind, its tenant and authority noted.
    fn hosted_account(&mut self, h: Hosting, tenant: Option<(&Tenant, &Claim)>, given: &Given) {
        let flow = Flow::Delegated;
        let mut a = presets::account(&self.name, h.provider(), flow);
        self.given(
            "accounts[0].flow",
            flow.as_str(),
            Origin::Default,
            "a person signs in; choose app-only for a service that opens a mailbox without one",
        );
        let scopes = a.scopes.join(" ");
        let why = format!("the scopes {} needs for this flow", h.label());
        self.given("accounts[0].scopes", &scopes, Origin::Preset, &why);
        match (h, tenant) {
            (Hosting::Microsoft365, Some((t, c))) => {
                a.tenant = Some(t.id.clone());
                self.note("accounts[0].tenant", t.id.clone(), c, &[]);
            }
            (Hosting::Microsoft365, None) => {
                let domain = self.address.domain.clone();
                self.given(
                    "accounts[0].tenant",
                    &domain,
                    Origin::Address,
                    "tenant discovery gave no tenant ID; a verified domain works in its place",
                );
                a.tenant = Some(domain);
            }
            (Hosting::OutlookCom, _) => {
                a.tenant = Some("consumers".to_owned());
                self.given(
                    "accounts[0].tenant",
                    "consumers",
                    Origin::Preset,
                    "personal Microsoft accounts sign in at the consumers tenant",
                );
            }
            (Hosting::Google, _) => {}
        }
        if h == Hosting::Microsoft365 {
            let cloud = tenant.map(|(t, _)| t.cloud).unwrap_or_default();
            if let Some(auth) = &given.authority {
                a.authority = Some(auth.clone());
                self.given(
                    "accounts[0].authority",
                    auth,
                    Origin::Setting,
                    "the authority discovery asked",
                );
            } else if let (Some(auth), Some((t, c))) = (cloud.authority(), tenant) {
                a.authority = Some(auth.to_owned());
                let region = t.region.as_deref().unwrap_or("?");
                let mut n = note("accounts[0].authority", auth.to_owned(), c, &[]);
                n.evidence = format!(
                    "the tenant is in a national cloud ({cloud:?}, region {region}); its servers are documented only in part"
                );
                self.draft.notes.push(n);
            }
        }
        let (id, what) = if h.provider() == Provider::Microsoft {
            (
                CLIENT_ID_PLACEHOLDER,
                "a placeholder: paste your app registration's Application (client) ID",
            )
        } else {
            (
                GOOGLE_CLIENT_ID_PLACEHOLDER,
                "a placeholder: paste your OAuth client's ID from the Google Cloud console",
            )
        };
        id.clone_into(&mut a.client_id);
        self.given("accounts[0].client_id", id, Origin::Default, what);
        self.profile.accounts.push(a);
    }

    /// A generic provider's account from an autoconfig `oAuth2` block.
    fn generic_account(&mut self, a: &Account, c: &Claim) {
        let mut a = a.clone();
        a.name.clone_from(&self.name);
        GENERIC_CLIENT_ID_PLACEHOLDER.clone_into(&mut a.client_id);
        self.note("accounts[0].provider", a.provider.to_string(), c, &[]);
        self.given(
            "accounts[0].client_id",
            GENERIC_CLIENT_ID_PLACEHOLDER,
            Origin::Default,
            "a placeholder: paste the client ID your provider gave your application",
        );
        self.profile.accounts.push(a);
    }

    /// Servers sign in through the account when the provider is known or the source says OAuth2.
    fn account_for(&self, s: &ServerFact) -> Option<String> {
        (!self.profile.accounts.is_empty() && (self.draft.hosting.is_some() || s.oauth))
            .then(|| self.name.clone())
    }

    fn user_of(&self, s: &ServerFact) -> String {
        s.user.clone().unwrap_or_else(|| self.address.to_string())
    }

    fn mailbox(&mut self, candidates: &[(&ServerFact, &Claim)]) {
        let Some((s, c)) = candidates.first() else {
            return;
        };
        let (protocol, kind) = match s.service {
            Service::Pop3 => (Protocol::Pop3, "POP3"),
            _ => (Protocol::Imap, "IMAP"),
        };
        self.server_notes("mailboxes[0]", "user", s, c, candidates);
        let m = Mailbox {
            name: format!("{} {kind}", self.name),
            protocol,
            host: s.host.clone(),
            port: s.port,
            encryption: s.encryption,
            user: self.user_of(s),
            account: self.account_for(s),
        };
        self.profile.mailboxes.push(m);
    }

    fn transport(&mut self, candidates: &[(&ServerFact, &Claim)]) {
        let Some((s, c)) = candidates.first() else {
            return;
        };
        self.server_notes("transports[0]", "username", s, c, candidates);
        let t = Transport {
            name: format!("{} SMTP", self.name),
            host: s.host.clone(),
            port: s.port,
            encryption: s.encryption,
            auth: true,
            username: Some(self.user_of(s)),
            account: self.account_for(s),
        };
        self.profile.transports.push(t);
    }

    fn server_notes(
        &mut self,
        at: &str,
        user_field: &str,
        s: &ServerFact,
        chosen: &Claim,
        all: &[(&ServerFact, &Claim)],
    ) {
        let fields: [Field; 3] = [
            ("host", |x| x.host.clone()),
            ("port", |x| x.port.to_string()),
            ("encryption", |x| x.encryption.to_string()),
        ];
        for (field, f) in fields {
            let others: Vec<(String, &Claim)> = all
                .iter()
                .filter(|(o, _)| f(o) != f(s))
                .map(|(o, c)| (f(o), *c))
                .collect();
            self.note(&format!("{at}.{field}"), f(s), chosen, &others);
        }
        let key = format!("{at}.{user_field}");
        if s.user.is_some() {
            let user = self.user_of(s);
            self.note(&key, user, chosen, &[]);
        } else {
            let address = self.address.to_string();
            self.given(&key, &address, Origin::Address, "the address you gave");
        }
    }
}

fn note(key: &str, value: String, chosen: &Claim, others: &[(String, &Claim)]) -> FieldNote {
    let others: Vec<Alternative> = others
        .iter()
        .map(|(v, c)| Alternative {
            value: v.clone(),
            origin: c.origin,
            evidence: c.evidence.clone(),
        })
        .collect();
    let why = others.first().map(|o| {
        if o.origin == chosen.origin {
            format!("{} gave several; the first is used", chosen.origin.label())
        } else {
            format!(
                "{} ranks above {}: {}",
                chosen.origin.label(),
                o.origin.label(),
                chosen.origin.reason()
            )
        }
    });
    FieldNote {
        key: key.to_owned(),
        value,
        origin: chosen.origin,
        evidence: chosen.evidence.clone(),
        others,
        why,
    }
}

#[cfg(test)]
#[path = "draft_tests.rs"]
mod tests;
