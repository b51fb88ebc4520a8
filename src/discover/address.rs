//! The e-mail address discovery starts from, checked before anything is asked of the network:
//! its domain goes into DNS questions and URLs, and the whole address into a query string and
//! the draft's user names, so a bad one is refused here with a message naming what is wrong.

use std::fmt;

/// A checked address: `local@domain`, the domain lowercased in its ASCII (punycode) form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub local: String,
    pub domain: String,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{shown}\" is not an e-mail address: {why}\n    fix: give an address such as you@contoso.com"
)]
pub struct AddressError {
    /// The input, with control characters escaped.
    pub shown: String,
    pub why: String,
}

/// RFC 5321's limits: 64 octets before the `@`, 253 for the domain.
const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 253;

impl std::str::FromStr for Address {
    type Err = AddressError;

    fn from_str(input: &str) -> Result<Self, AddressError> {
        let bad = |why: &str| AddressError {
            shown: input
                .chars()
                .take(200)
                .flat_map(char::escape_debug)
                .collect(),
            why: why.to_owned(),
        };
        let text = input.trim();
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err(bad("it has no @"));
        };
        if local.is_empty() {
            return Err(bad("nothing before the @"));
        }
        if local.len() > MAX_LOCAL {
            return Err(bad("the part before the @ is longer than 64 characters"));
        }
        // The dot-atom form of RFC 5322 (no quoted local parts): what providers hand out, and
        // safe in a URL query, an XML placeholder and a SASL user name.
        let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
        if !local
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(atext))
        {
            return Err(bad(
                "the part before the @ has characters an address cannot have (spaces, quotes, a second @, a leading, trailing or double dot)",
            ));
        }
        let domain = domain.trim_end_matches('.');
        if domain.is_empty() {
            return Err(bad("nothing after the @"));
        }
        if domain.starts_with('[') || domain.parse::<std::net::IpAddr>().is_ok() {
            return Err(bad(
                "the part after the @ is an IP address; discovery needs a domain",
            ));
        }
        // IDNA (a domain in another script) to its ASCII form, as DNS and URLs need it.
        let ascii = match url::Host::parse(domain) {
            Ok(url::Host::Domain(d)) => d.to_ascii_lowercase(),
            _ => return Err(bad("the part after the @ is not a domain name")),
        };
        if ascii.len() > MAX_DOMAIN || !is_domain(&ascii) {
            return Err(bad("the part after the @ is not a domain name"));
        }
        if !ascii.contains('.') {
            return Err(bad(
                "the domain has a single label; give the full domain, e.g. contoso.com",
            ));
        }
        Ok(Address {
            local: local.to_owned(),
            domain: ascii,
        })
    }
}

/// Letters, digits and inner hyphens in labels of 1 to 63 characters, joined by dots.
pub fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_DOMAIN
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// A host a draft may name: a domain name (SRV and MX answers end in a dot; that is dropped).
pub fn host_name(s: &str) -> Option<String> {
    let h = s.trim_end_matches('.').to_ascii_lowercase();
    is_domain(&h).then_some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_domains_made_ascii() {
        let a: Address = " Alice.Smith+tag@Contoso.COM. ".parse().unwrap();
        assert_eq!(a.local, "Alice.Smith+tag");
        assert_eq!(a.domain, "contoso.com");
        assert_eq!(a.to_string(), "Alice.Smith+tag@contoso.com");
        let idn: Address = "info@bücher.example".parse().unwrap();
        assert_eq!(idn.domain, "xn--bcher-kva.example");
        for (bad, why) in [
            ("nobody", "no @"),
            ("@contoso.com", "nothing before"),
            ("a b@contoso.com", "characters"),
            ("a..b@contoso.com", "characters"),
            ("\"a\"@contoso.com", "characters"),
            ("a@", "nothing after"),
            ("a@127.0.0.1", "IP address"),
            ("a@[127.0.0.1]", "IP address"),
            ("a@localhost", "single label"),
            ("a@exa mple.com", "not a domain"),
            ("a@-x.com", "not a domain"),
            ("a@x_y.com", "not a domain"),
        ] {
            let e = bad.parse::<Address>().unwrap_err();
            assert!(e.why.contains(why), "{bad}: {e}");
        }
        let e = "a\u{1b}[31m@x.com".parse::<Address>().unwrap_err();
        assert!(e.to_string().contains("\\u{1b}"), "{e}");
    }

    #[test]
    fn host_names_from_records() {
        assert_eq!(
            host_name("Mail.Example.COM.").as_deref(),
            Some("mail.example.com")
        );
        assert_eq!(host_name("."), None);
        assert_eq!(host_name("evil\r\nhost"), None);
        assert_eq!(host_name("a b"), None);
    }
}
