//! The lines and the message of SMTP's send step, from checked types only: MAIL FROM and
//! RCPT TO from [`lettre::Address`]es, and the `--send-to` message from lettre's builder,
//! dot-stuffed for DATA here (lettre does that in its transport, which the probe does not use).

use super::Endpoint;
use super::lines::Line;

pub(crate) fn mail_from(from: Option<&lettre::Address>) -> Line {
    // An Address has no space or control character (lettre checked it): the line is one argument.
    let arg = from.map_or_else(|| "FROM:<>".to_owned(), |a| format!("FROM:<{a}>"));
    Line::new(&["MAIL", &arg]).unwrap_or_else(|_| Line::verb("MAIL FROM:<>"))
}

pub(crate) fn rcpt_to(to: &lettre::Address) -> Line {
    Line::new(&["RCPT", &format!("TO:<{to}>")]).unwrap_or_else(|_| Line::verb("RSET"))
}

/// The `--send-to` message, by lettre's builder (headers encoded, CRLF line ends), dot-stuffed
/// and ended with `.` for DATA (RFC 5321 4.5.2).
pub(crate) fn test_message(
    from: Option<&lettre::Address>,
    to: &lettre::Address,
    t: &Endpoint<'_>,
) -> Result<Vec<u8>, lettre::error::Error> {
    use lettre::message::{Mailbox, header::ContentType};
    let sender = from.unwrap_or(to);
    let body = format!(
        "This is a test message sent by mailcfg to check that {sender} can send through {}:{}.\r\n",
        t.host, t.port
    );
    let message = lettre::Message::builder()
        .from(Mailbox::new(None, sender.clone()))
        .to(Mailbox::new(None, to.clone()))
        .subject("mailcfg test message")
        .date_now()
        .message_id(None)
        .header(ContentType::TEXT_PLAIN)
        .body(body)?;
    Ok(dot_stuffed(&message.formatted()))
}

/// A message as DATA sends it: every line that starts with `.` gets another, line ends are CRLF,
/// and `.` on a line of its own ends it.
fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 8);
    for line in message.split_inclusive(|b| *b == b'\n') {
        let text = line
            .strip_suffix(b"\n")
            .map_or(line, |l| l.strip_suffix(b"\r").unwrap_or(l));
        if text.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Encryption;

    #[test]
    fn the_test_message_is_dot_stuffed_and_its_headers_hold_only_the_addresses() {
        assert_eq!(
            dot_stuffed(b"a\r\n.b\n..c\r\n"),
            b"a\r\n..b\r\n...c\r\n.\r\n".to_vec()
        );
        let to: lettre::Address = "to@example.test".parse().unwrap();
        let from: lettre::Address = "from@example.test".parse().unwrap();
        let t = Endpoint {
            host: "smtp.example.test",
            port: 587,
            encryption: Encryption::StartTls,
        };
        let m = String::from_utf8(test_message(Some(&from), &to, &t).unwrap()).unwrap();
        assert!(m.contains("\r\nTo: to@example.test\r\n"), "{m}");
        assert!(m.contains("From: from@example.test\r\n"), "{m}");
        assert!(m.ends_with("\r\n.\r\n"), "{m}");
        assert!(!m.contains("\n.\r\n.") && !m[..m.len() - 3].contains("\r\n.\r\n"));
        assert_eq!(
            mail_from(Some(&from)).as_str(),
            "MAIL FROM:<from@example.test>"
        );
        assert_eq!(mail_from(None).as_str(), "MAIL FROM:<>");
        assert_eq!(rcpt_to(&to).as_str(), "RCPT TO:<to@example.test>");
    }
}
