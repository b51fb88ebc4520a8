//! Property tests of the profile parser: whatever the text, it never panics, every finding's
//! line is inside the file, and no value with a control character is ever accepted. (The
//! protocol line readers have theirs beside them: `probe::lines` and `probe::smtp` unit tests.)

use mailcfg::profile::{Format, load_str};
use proptest::prelude::*;

const VALID: &str = r#"version = 1

[[mailboxes]]
name = "M"
protocol = "imap"
host = "outlook.office365.com"
port = 993
encryption = "tls"
user = "you@example.com"
"#;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_text_gives_a_profile_or_findings_inside_the_file(text in "\\PC{0,400}") {
        for format in [Format::Toml, Format::Json] {
            if let Err(e) = load_str(&text, format, "p", None) {
                prop_assert!(!e.findings.is_empty());
                let lines = text.lines().count().max(1) + 1;
                for f in &e.findings {
                    if let Some(p) = f.position {
                        prop_assert!(p.line >= 1 && p.line <= lines, "{f} in {lines} lines");
                    }
                }
            }
        }
    }

    #[test]
    fn a_valid_profile_cut_or_spliced_anywhere_never_panics(cut in 0usize..200, junk in "\\PC{0,20}") {
        let cut = cut.min(VALID.len());
        let mut at = cut;
        while !VALID.is_char_boundary(at) {
            at -= 1;
        }
        let text = format!("{}{junk}{}", &VALID[..at], &VALID[at..]);
        let _ = load_str(&text, Format::Toml, "p", None);
    }

    #[test]
    fn a_value_with_a_control_character_is_never_accepted(
        field in prop::sample::select(vec!["name", "host", "user"]),
        before in "[a-z]{1,8}",
        control in prop::sample::select(vec!['\r', '\n', '\u{1b}', '\u{7}', '\u{0}', '\u{7f}', '\u{9b}', '\u{202e}']),
        after in "[a-z]{0,8}",
    ) {
        let value = format!("{before}{control}{after}");
        let escaped: String = value.chars().map(|c| {
            if c.is_ascii_control() { format!("\\u{:04X}", c as u32) } else { c.to_string() }
        }).collect();
        let text = VALID
            .lines()
            .map(|l| if l.starts_with(&format!("{field} =")) { format!("{field} = \"{escaped}\"") } else { l.to_owned() })
            .collect::<Vec<_>>()
            .join("\n");
        let e = load_str(&text, Format::Toml, "p", None).expect_err("a control character passed");
        let key = format!("mailboxes[0].{field}");
        prop_assert!(e.findings.iter().any(|f| f.key() == key), "{e}");
    }
}
