//! Google's own rules: a service account names its address and key (imported from its JSON
//! key), its mailboxes sign in as users of the domain and never as the service account, and
//! the device flow is refused (Google's device flow excludes the Gmail scope).

use super::validate::{Finding, at};
use super::values::{mail_address, shown};
use super::{Flow, Profile, Provider};
use crate::provider::google::MAIL_SCOPE;

/// How to bring a service account's values in, said wherever one is missing.
const IMPORT: &str = "import the service account's JSON key: `mailcfg secret --profile PROFILE --account NAME --service-account-key KEY.json`, or Import key… in the account's form (the key goes to the keyring, its address and key ID to the profile)";

pub(super) fn check(profile: &Profile, out: &mut Vec<Finding>) {
    for (i, a) in profile.accounts.iter().enumerate() {
        if a.provider != Provider::Google {
            for field in ["client_email", "private_key_id"] {
                let set = match field {
                    "client_email" => a.client_email.is_some(),
                    _ => a.private_key_id.is_some(),
                };
                if set {
                    out.push(Finding::warning(
                        at("accounts", i, field),
                        format!("account \"{}\": `{field}` belongs to Google service accounts and is not used by a {} account", shown(&a.name), a.provider),
                        "remove the line, or set `provider = \"google\"` and `flow = \"app-only\"`",
                    ));
                }
            }
            continue;
        }
        let who = format!("account \"{}\"", shown(&a.name));
        let here = |field: &str| at("accounts", i, field);
        if a.flow == Flow::DeviceCode {
            out.push(Finding::error(
                here("flow"),
                format!("{who}: Google's device flow does not allow the Gmail scope ({MAIL_SCOPE}), so it cannot sign in to IMAP, POP3 or SMTP"),
                "use `flow = \"delegated\"` (the browser, also from another computer through the address shown) or, for Google Workspace, `flow = \"app-only\"` with a service account",
            ));
        }
        if !a
            .scopes
            .iter()
            .any(|s| s == MAIL_SCOPE || s.ends_with("/auth/gmail.imap_admin"))
            && !a.scopes.iter().all(|s| s.trim().is_empty())
        {
            out.push(Finding::warning(
                here("scopes"),
                format!("{who} does not ask for {MAIL_SCOPE}, the one scope Gmail's IMAP, POP3 and SMTP accept"),
                &format!("set `scopes = [\"{MAIL_SCOPE}\"]`"),
            ));
        }
        if a.is_service_account() {
            service_account(profile, a, &who, &here, out);
        } else if !a.client_id.trim().is_empty()
            && !a.client_id.ends_with(".apps.googleusercontent.com")
        {
            out.push(Finding::warning(
                here("client_id"),
                format!("{who}: the client ID \"{}\" does not end in .apps.googleusercontent.com, as the client IDs of Google's OAuth clients do", shown(&a.client_id)),
                "copy the Client ID of the Desktop app client from Google Cloud console → APIs & Services → Credentials",
            ));
        }
    }
}

fn service_account(
    profile: &Profile,
    a: &super::Account,
    who: &str,
    here: &dyn Fn(&str) -> Vec<super::locate::Seg>,
    out: &mut Vec<Finding>,
) {
    match a.client_email.as_deref().map(str::trim) {
        None | Some("") => out.push(Finding::error(
            here("client_email"),
            format!(
                "{who} signs in with a service account but does not say which (`client_email`)"
            ),
            IMPORT,
        )),
        Some(e) => {
            if let Err(why) = mail_address(e) {
                out.push(Finding::error(
                    here("client_email"),
                    format!(
                        "{who}: the service account's address \"{}\" {why}",
                        shown(e)
                    ),
                    IMPORT,
                ));
            } else if !e.ends_with(".gserviceaccount.com") {
                out.push(Finding::warning(
                    here("client_email"),
                    format!("{who}: \"{}\" is not a service account's address (those end in .iam.gserviceaccount.com)", shown(e)),
                    IMPORT,
                ));
            }
        }
    }
    if a.private_key_id
        .as_deref()
        .is_none_or(|k| k.trim().is_empty())
    {
        out.push(Finding::error(
            here("private_key_id"),
            format!("{who} does not name its service account key (`private_key_id`)"),
            IMPORT,
        ));
    }
    if !a.client_id.trim().is_empty() && !a.client_id.chars().all(|c| c.is_ascii_digit()) {
        out.push(Finding::warning(
            here("client_id"),
            format!("{who}: a service account's client ID is its numeric Unique ID, and \"{}\" is not a number; domain-wide delegation is granted to that number", shown(&a.client_id)),
            IMPORT,
        ));
    }
    let sa = a.client_email.as_deref().unwrap_or_default();
    let as_sa = |user: &str| !sa.is_empty() && user.trim().eq_ignore_ascii_case(sa.trim());
    for (i, m) in profile.mailboxes.iter().enumerate() {
        if m.account.as_deref() == Some(a.name.as_str()) && as_sa(&m.user) {
            out.push(signs_in_as_sa(at("mailboxes", i, "user"), &m.name, sa));
        }
    }
    for (i, t) in profile.transports.iter().enumerate() {
        if t.account.as_deref() == Some(a.name.as_str()) && t.username.as_deref().is_some_and(as_sa)
        {
            out.push(signs_in_as_sa(at("transports", i, "username"), &t.name, sa));
        }
    }
}

fn signs_in_as_sa(path: Vec<super::locate::Seg>, name: &str, sa: &str) -> Finding {
    Finding::error(
        path,
        format!(
            "\"{}\" signs in as the service account {} itself, which has no mailbox: the service account only signs for the users of the domain",
            shown(name),
            shown(sa)
        ),
        "set the user to the mailbox's own address (a user of the Workspace domain); the service account's token is asked for that user",
    )
}

#[cfg(test)]
mod tests {
    use crate::profile::{Flow, Protocol, Provider, presets, validate};

    fn profile() -> crate::profile::Profile {
        let mut a = presets::account("G", Provider::Google, Flow::AppOnly);
        a.client_id = "112233445566778899001".into();
        a.client_email = Some("mail-sync@proj.iam.gserviceaccount.com".into());
        a.private_key_id = Some("0123abcd".into());
        crate::profile::Profile {
            accounts: vec![a],
            mailboxes: vec![presets::GMAIL_IMAP.mailbox(
                "Alice",
                Protocol::Imap,
                "alice@example.com",
                Some("G"),
            )],
            ..crate::profile::Profile::default()
        }
    }

    #[test]
    fn a_service_account_needs_its_address_and_key_and_signs_in_as_users() {
        let good = profile();
        assert!(
            validate(&good, None).is_empty(),
            "{:?}",
            validate(&good, None)
        );
        let mut unnamed = good.clone();
        unnamed.accounts[0].client_email = None;
        unnamed.accounts[0].private_key_id = None;
        let keys: Vec<String> = validate(&unnamed, None)
            .iter()
            .map(crate::profile::Finding::key)
            .collect();
        assert!(
            keys.contains(&"accounts[0].client_email".to_owned()),
            "{keys:?}"
        );
        assert!(
            keys.contains(&"accounts[0].private_key_id".to_owned()),
            "{keys:?}"
        );
        let mut as_sa = good.clone();
        as_sa.mailboxes[0].user = "Mail-Sync@proj.iam.gserviceaccount.com".into();
        let found = validate(&as_sa, None);
        assert_eq!(found[0].key(), "mailboxes[0].user");
        assert!(
            found[0].message.contains("service account"),
            "{}",
            found[0].message
        );
        let mut device = good;
        device.accounts[0].flow = Flow::DeviceCode;
        assert!(
            validate(&device, None)
                .iter()
                .any(|f| f.key() == "accounts[0].flow")
        );
    }
}
