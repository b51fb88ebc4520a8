//! Rules every value of a profile obeys wherever it is: no control characters (values reach
//! protocol lines, where a line break starts a command of its own, and terminals, where ESC
//! starts an escape sequence), and a transport's username is a mail address (it is the sender of
//! MAIL FROM). Values quoted in messages are shortened and escaped.

use super::locate::Seg;
use super::validate::Finding;
use super::{Profile, Transport};

/// How much of a value a message quotes.
pub const SHOWN: usize = 80;

/// A value as quoted in a finding: escaped and cut at [`SHOWN`] characters.
pub fn shown(value: &str) -> String {
    crate::redact::shorten(value, SHOWN)
}

/// A mail address, checked by lettre (`local@domain`, nothing else: no line breaks, no spaces,
/// no display name), or why not.
pub fn mail_address(text: &str) -> Result<lettre::Address, String> {
    if text.chars().any(crate::redact::is_unsafe_char) {
        return Err(
            "contains a control character (a line break would start another command)".into(),
        );
    }
    text.parse::<lettre::Address>()
        .map_err(|e| format!("is not a mail address ({e})"))
}

/// Every string in the profile that holds a control character, by its key.
pub fn check_text(profile: &Profile, out: &mut Vec<Finding>) {
    let Ok(value) = serde_json::to_value(profile) else {
        return;
    };
    walk(&value, &mut Vec::new(), out);
}

fn walk(value: &serde_json::Value, path: &mut Vec<Seg>, out: &mut Vec<Finding>) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(c) = s.chars().find(|c| crate::redact::is_unsafe_char(*c)) {
                // A list's item is named by the list (`scopes`): that is the field to edit.
                let mut at = path.clone();
                if matches!(at.last(), Some(Seg::Index(_))) && at.len() > 2 {
                    at.pop();
                }
                out.push(Finding::error(
                    at,
                    format!(
                        "the value \"{}\" contains the control character {} (values are sent in protocol lines and shown in terminals, where it would act as a command)",
                        shown(s),
                        c.escape_unicode()
                    ),
                    "retype the value on one line, without line breaks, tabs or escape characters",
                ));
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(v, path, out);
                path.pop();
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                path.push(Seg::Key(k.clone()));
                walk(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A transport's username is the sender address of the test (MAIL FROM) and, with XOAUTH2, the
/// mailbox the token acts for.
pub fn check_sender(t: &Transport, path: Vec<Seg>, out: &mut Vec<Finding>) {
    let Some(user) = t.username.as_deref() else {
        return;
    };
    if user.trim().is_empty() || user.chars().any(crate::redact::is_unsafe_char) {
        return; // said elsewhere
    }
    if let Err(why) = mail_address(user) {
        // With XOAUTH2 the name is the mailbox the token acts for: an address. A password's
        // login name may be anything (SendGrid's `apikey`, an ISP's local part).
        if t.account.is_some() {
            out.push(Finding::error(
                path,
                format!(
                    "transport \"{}\": the username \"{}\" {why}; with XOAUTH2 it is the mailbox the token acts for, and the test's sender (MAIL FROM)",
                    shown(&t.name),
                    shown(user)
                ),
                "set `username` to the mailbox address that sends, such as support@contoso.com",
            ));
        } else {
            out.push(Finding::warning(
                path,
                format!(
                    "transport \"{}\": the login name \"{}\" is no mail address, so the test cannot try MAIL FROM with it",
                    shown(&t.name),
                    shown(user)
                ),
                "fine for a login name; the test then stops after the sign-in",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_by_lettre() {
        assert!(mail_address("support@contoso.com").is_ok());
        assert!(mail_address("alice@example.test").is_ok());
        for bad in [
            "shared@contoso.com>\r\nRCPT TO:<injected@evil.example",
            "a@b.c\nX",
            "\"a\r\nb\"@example.com",
            "no-at-sign",
            "Name <a@b.c>",
            "a b@c.d",
            "",
        ] {
            assert!(mail_address(bad).is_err(), "{bad:?}");
        }
    }
}
