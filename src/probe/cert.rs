//! Just enough X.509 (DER) reading to say whose certificate a server sent: subject, issuer and
//! expiry. A full parser crate would add a dependency tree for three fields; the certificate was
//! already checked by rustls, this only describes it. Anything unexpected gives `None`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub subject: String,
    pub issuer: String,
    /// `YYYY-MM-DD hh:mm UTC`.
    pub not_after: String,
    /// Seconds since the Unix epoch (negative: before it).
    pub not_after_unix: i64,
}

impl Summary {
    /// Whole days until expiry (negative once expired).
    pub fn days_left(&self) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        (self.not_after_unix - now).div_euclid(86_400)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "subject {}, issuer {}, expires {} ({} days left)",
            self.subject,
            self.issuer,
            self.not_after,
            self.days_left()
        )
    }
}

/// One DER element: tag, contents, and what follows.
fn tlv(d: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = d.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

pub fn summary(der: &[u8]) -> Option<Summary> {
    let (_, cert, _) = tlv(der)?;
    let (_, tbs, _) = tlv(cert)?;
    let (tag, _, mut rest) = tlv(tbs)?;
    if tag == 0xa0 {
        // Explicit version; the serial number follows.
        rest = tlv(rest)?.2;
    }
    let (_, _, rest) = tlv(rest)?; // signature algorithm
    let (_, issuer, rest) = tlv(rest)?;
    let (_, validity, rest) = tlv(rest)?;
    let (_, subject, _) = tlv(rest)?;
    let (_, _, after) = tlv(validity)?;
    let (time_tag, time, _) = tlv(after)?;
    let (not_after, not_after_unix) = time_of(time_tag, time)?;
    Some(Summary {
        subject: name(subject),
        issuer: name(issuer),
        not_after,
        not_after_unix,
    })
}

/// A distinguished name as `CN=…, O=…` (the parts people recognise).
fn name(mut d: &[u8]) -> String {
    let mut parts = Vec::new();
    while let Some((_, set, rest)) = tlv(d) {
        d = rest;
        let mut s = set;
        while let Some((_, atv, more)) = tlv(s) {
            s = more;
            let Some((_, oid, value)) = tlv(atv) else {
                continue;
            };
            let Some((_, value, _)) = tlv(value) else {
                continue;
            };
            let label = match oid {
                [0x55, 0x04, 0x03] => "CN",
                [0x55, 0x04, 0x0a] => "O",
                [0x55, 0x04, 0x0b] => "OU",
                [0x55, 0x04, 0x06] => "C",
                _ => continue,
            };
            parts.push(format!("{label}={}", String::from_utf8_lossy(value)));
        }
    }
    if parts.is_empty() {
        "(no name)".to_owned()
    } else {
        parts.join(", ")
    }
}

fn time_of(tag: u8, t: &[u8]) -> Option<(String, i64)> {
    let s = std::str::from_utf8(t).ok()?;
    let digits = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (year, off) = match tag {
        0x17 => {
            let y = digits(0, 2)?;
            (if y < 50 { 2000 + y } else { 1900 + y }, 2)
        }
        0x18 => (digits(0, 4)?, 4),
        _ => return None,
    };
    let month = digits(off, off + 2)?;
    let day = digits(off + 2, off + 4)?;
    let hour = digits(off + 4, off + 6)?;
    let min = digits(off + 6, off + 8)?;
    let sec = digits(off + 8, off + 10).unwrap_or(0);
    let unix = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )?
    .and_hms_opt(
        u32::try_from(hour).ok()?,
        u32::try_from(min).ok()?,
        u32::try_from(sec).ok()?,
    )?
    .and_utc()
    .timestamp();
    Some((
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{min:02} UTC"),
        unix,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let (s, u) = time_of(0x17, b"271124100000Z").unwrap();
        assert_eq!(s, "2027-11-24 10:00 UTC");
        assert_eq!(u, 1_827_050_400);
    }

    #[test]
    fn garbage_is_none() {
        assert!(summary(b"\x30\x82\xff").is_none());
        assert!(summary(&[]).is_none());
    }
}
