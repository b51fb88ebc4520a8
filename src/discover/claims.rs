//! What the sources say, as the draft reads it: each answer is a [`Claim`] (a [`Fact`] from an
//! [`Origin`] with its evidence), and each field of the draft gets a [`FieldNote`] on where its
//! value came from. Types only; the choosing is in `draft.rs`.

use serde::Serialize;

use super::classify::{Hosting, Tenant};
use crate::profile::{Account, Encryption};

/// Where a value came from, in the order of trust: the domain's own statements for mail
/// clients first, then curated and derived knowledge, then defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Autoconfig,
    WellKnown,
    Ispdb,
    Srv,
    /// The ISPDB's entry for the provider the MX records point to.
    IspdbMx,
    Mx,
    Tenant,
    Preset,
    /// Given by the user (a command-line option or a setting).
    Setting,
    /// Taken from the address itself.
    Address,
    /// Nothing could know it: a default the user reviews.
    Default,
}

impl Origin {
    pub fn label(self) -> &'static str {
        match self {
            Origin::Autoconfig => "autoconfig",
            Origin::WellKnown => "well-known autoconfig",
            Origin::Ispdb => "ISPDB",
            Origin::Srv => "SRV records",
            Origin::IspdbMx => "ISPDB (by MX)",
            Origin::Mx => "MX records",
            Origin::Tenant => "tenant discovery",
            Origin::Preset => "provider preset",
            Origin::Setting => "your setting",
            Origin::Address => "the address",
            Origin::Default => "default",
        }
    }

    /// Why this source outranks the ones after it.
    pub(super) fn reason(self) -> &'static str {
        match self {
            Origin::Autoconfig | Origin::WellKnown => {
                "it is the domain's own configuration for mail clients"
            }
            Origin::Ispdb => "it is Thunderbird's curated entry for the domain",
            Origin::Srv => "the domain publishes these servers for mail clients in its DNS",
            Origin::IspdbMx => {
                "it is Thunderbird's curated entry for the provider the domain's MX records name"
            }
            Origin::Mx => "the MX records say where the domain's mail is delivered",
            Origin::Tenant => "tenant discovery says who signs the domain's users in",
            Origin::Preset => "it is what the provider always uses",
            Origin::Setting | Origin::Address | Origin::Default => "it was given",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Imap,
    Pop3,
    Smtp,
}

/// A mail server one source named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFact {
    pub service: Service,
    pub host: String,
    pub port: u16,
    pub encryption: Encryption,
    /// The user name the source gives (placeholders filled in); `None`: the address.
    pub user: Option<String>,
    /// The source says this server signs in with OAuth2.
    pub oauth: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    Hosting(Hosting),
    Tenant(Tenant),
    Server(ServerFact),
    /// A generic provider's OAuth2 endpoints (from an autoconfig `oAuth2` block).
    OAuth(Box<Account>),
}

/// One thing one source said, and the evidence shown beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub fact: Fact,
    pub origin: Origin,
    pub evidence: String,
}

/// Where one field of the draft came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldNote {
    /// The field's key in the profile, e.g. `mailboxes[0].host`.
    pub key: String,
    pub value: String,
    pub origin: Origin,
    pub evidence: String,
    /// Other values other sources gave.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<Alternative>,
    /// Why the chosen value won over the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alternative {
    pub value: String,
    pub origin: Origin,
    pub evidence: String,
}

impl std::fmt::Display for ServerFact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.service {
            Service::Imap => "IMAP",
            Service::Pop3 => "POP3",
            Service::Smtp => "SMTP",
        };
        write!(
            f,
            "{kind} {}:{} ({})",
            self.host, self.port, self.encryption
        )
    }
}
