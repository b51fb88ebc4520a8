//! SASL strings for XOAUTH2, OAUTHBEARER and PLAIN, registered with the transcript's mask before
//! anything is sent, so that the token, the password and the encoded string never show.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret as _;

use super::transcript::Recorder;
use super::{Credential, thousands};

pub(crate) struct Sasl {
    /// The mechanism name (`XOAUTH2`, `OAUTHBEARER`, `PLAIN`).
    pub mech: &'static str,
    /// The initial response, base64.
    pub initial: String,
    /// The raw (decoded) initial response, for clients that encode it themselves.
    pub raw: Vec<u8>,
    /// What answers a server's error challenge to get its final reply (base64; XOAUTH2: empty,
    /// OAUTHBEARER: `AQ==`, i.e. `\x01`, as RFC 7628 says).
    pub error_answer: &'static str,
}

/// The SASL exchange for `cred`, or `None` for [`Credential::None`]. `host`/`port` go into
/// OAUTHBEARER's string.
pub(crate) fn prepare(cred: &Credential, host: &str, port: u16, rec: &Recorder) -> Option<Sasl> {
    let (mech, raw, shown, secret, secret_shown, error_answer) = match cred {
        Credential::None => return None,
        Credential::XOAuth2 { user, token } => {
            let token = token.expose_secret();
            (
                "XOAUTH2",
                format!("user={user}\x01auth=Bearer {token}\x01\x01"),
                format!(
                    "<user={user}, bearer token of {} bytes: masked>",
                    thousands(token.len())
                ),
                token,
                "<bearer token: masked>",
                "",
            )
        }
        Credential::OAuthBearer { user, token } => {
            let token = token.expose_secret();
            (
                "OAUTHBEARER",
                format!(
                    "n,a={},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01",
                    saslname(user)
                ),
                format!(
                    "<a={user}, bearer token of {} bytes: masked>",
                    thousands(token.len())
                ),
                token,
                "<bearer token: masked>",
                "AQ==",
            )
        }
        Credential::Password { user, password } => {
            let password = password.expose_secret();
            (
                "PLAIN",
                format!("\0{user}\0{password}"),
                format!("<user={user}, password: masked>"),
                password,
                "<password: masked>",
                "*",
            )
        }
    };
    let initial = STANDARD.encode(raw.as_bytes());
    rec.mask(&initial, &shown);
    // The token or password itself, in every form (AUTH LOGIN sends a password base64-encoded
    // on its own) and in part, everywhere.
    crate::redact::register(secret, secret_shown);
    if let Credential::Password { .. } = cred {
        // IMAP LOGIN sends the password as a quoted string, with `\` and `"` escaped.
        let quoted = secret.replace('\\', "\\\\").replace('"', "\\\"");
        rec.mask(&quoted, secret_shown);
    }
    // The string as a quoted IMAP/SMTP argument, and raw (a misbehaving echo).
    rec.mask(&raw, &shown);
    Some(Sasl {
        mech,
        initial,
        raw: raw.into_bytes(),
        error_answer,
    })
}

/// The authorization identity as GS2 writes it (RFC 5801): `=` and `,` would end the field.
fn saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// A server's error challenge (base64), decoded for the transcript and the diagnosis.
pub(crate) fn decode_challenge(b64: &str) -> Option<String> {
    let bytes = STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use std::time::Instant;

    #[test]
    fn xoauth2_string_and_mask() {
        let rec = Recorder::new(Instant::now());
        let cred = Credential::XOAuth2 {
            user: "mailbox@example.test".into(),
            token: SecretString::from("tok-alice"),
        };
        let s = prepare(&cred, "h", 1, &rec).unwrap();
        assert_eq!(s.mech, "XOAUTH2");
        assert_eq!(
            s.initial,
            STANDARD.encode("user=mailbox@example.test\x01auth=Bearer tok-alice\x01\x01")
        );
        rec.info(&format!("A1 AUTHENTICATE XOAUTH2 {}", s.initial));
        rec.info("tok-alice");
        let lines = rec.since(0);
        assert_eq!(
            lines[0].text,
            "A1 AUTHENTICATE XOAUTH2 <user=mailbox@example.test, bearer token of 9 bytes: masked>"
        );
        assert_eq!(lines[1].text, "<bearer token: masked>");
    }

    #[test]
    fn oauthbearer_escapes_the_authorization_identity() {
        assert_eq!(saslname("a,b=c@d"), "a=2Cb=3Dc@d");
    }

    #[test]
    fn challenge_decoding() {
        assert_eq!(
            decode_challenge(
                "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0="
            )
            .as_deref(),
            Some(r#"{"status":"401","schemes":"bearer","scope":"mail"}"#)
        );
        assert_eq!(decode_challenge("not base64!"), None);
    }
}
