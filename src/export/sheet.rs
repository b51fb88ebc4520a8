//! A settings sheet as data (a title, notes, and sections of field/value rows) and its two
//! renderings: Markdown for the terminal and a standalone HTML page for printing. Every value is
//! escaped for the rendering it lands in.

use std::fmt::Write;

/// One value on a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// Text to type or paste as it is (shown as code).
    Copy(String),
    /// A remark in place of a value: "(blank)", "(stored in the OS keyring)".
    Note(String),
}

impl Value {
    pub(crate) fn copy(s: impl Into<String>) -> Self {
        let s = s.into();
        if s.is_empty() {
            Self::Note("(empty)".into())
        } else {
            Self::Copy(s)
        }
    }
    pub(crate) fn note(s: impl Into<String>) -> Self {
        Self::Note(s.into())
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Section {
    pub heading: String,
    pub notes: Vec<String>,
    pub rows: Vec<(&'static str, Value)>,
}

impl Section {
    pub(crate) fn new(heading: String) -> Self {
        Self {
            heading,
            ..Self::default()
        }
    }
    pub(crate) fn row(&mut self, field: &'static str, value: Value) -> &mut Self {
        self.rows.push((field, value));
        self
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Sheet {
    pub title: String,
    pub notes: Vec<String>,
    pub sections: Vec<Section>,
}

impl Sheet {
    pub(crate) fn render(&self, html: bool) -> String {
        if html { self.html() } else { self.markdown() }
    }

    fn markdown(&self) -> String {
        let mut out = format!("# {}\n", md_text(&self.title));
        for n in &self.notes {
            let _ = write!(out, "\n{}\n", md_text(n));
        }
        for s in &self.sections {
            let _ = write!(out, "\n## {}\n", md_text(&s.heading));
            for n in &s.notes {
                let _ = write!(out, "\n{}\n", md_text(n));
            }
            out.push_str("\n| Field | Value |\n|---|---|\n");
            for (field, value) in &s.rows {
                let v = match value {
                    Value::Copy(c) => md_code(c),
                    Value::Note(n) => md_text(n),
                };
                let _ = writeln!(out, "| {} | {v} |", md_text(field));
            }
        }
        out
    }

    fn html(&self) -> String {
        let mut out = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
            html_text(&self.title),
            html_text(&self.title)
        );
        for n in &self.notes {
            let _ = writeln!(out, "<p>{}</p>", html_text(n));
        }
        for s in &self.sections {
            let _ = writeln!(out, "<h2>{}</h2>", html_text(&s.heading));
            for n in &s.notes {
                let _ = writeln!(out, "<p class=\"note\">{}</p>", html_text(n));
            }
            out.push_str("<table>\n");
            for (field, value) in &s.rows {
                let v = match value {
                    Value::Copy(c) => format!("<code>{}</code>", html_text(c)),
                    Value::Note(n) => format!("<span class=\"note\">{}</span>", html_text(n)),
                };
                let _ = writeln!(out, "<tr><th>{}</th><td>{v}</td></tr>", html_text(field));
            }
            out.push_str("</table>\n");
        }
        out.push_str("</body>\n</html>\n");
        out
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em}\
table{border-collapse:collapse;width:100%;margin:0 0 1.5em}\
th,td{border:1px solid #999;padding:.3em .6em;text-align:left;vertical-align:top}\
th{width:16em;background:#eee}code{word-break:break-all}.note{color:#555;font-style:italic}\
@media print{h2{break-after:avoid}table{break-inside:avoid}}";

/// Control characters (a newline would end the table row) become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Plain text in Markdown: the characters that would start markup get a backslash (an
/// underscore inside a word, as in `tenant_id`, starts nothing and stays as it is).
fn md_text(s: &str) -> String {
    let chars: Vec<char> = one_line(s).chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let alnum = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        let inside_word = c == '_' && alnum(i.checked_sub(1)) && alnum(Some(i + 1));
        if "\\`*_[]<>|&#".contains(c) && !inside_word {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A code span that shows `s` exactly: a fence longer than any run of backticks inside, and
/// `\|` so that a pipe does not split the table cell.
fn md_code(s: &str) -> String {
    let s = one_line(s).replace('|', "\\|");
    let longest = s
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or_default();
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

pub(crate) fn html_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sheet {
        let mut s = Section::new("Email Transports: A|B".into());
        s.notes.push("Search » Email Transports".into());
        s.row("Host", Value::copy("smtp.office365.com"))
            .row("Password", Value::note("(blank)"))
            .row("Odd", Value::copy("a|b`c\nd"))
            .row("Empty", Value::copy(""));
        Sheet {
            title: "Cerb <settings>".into(),
            notes: vec!["Written by *mailcfg*".into()],
            sections: vec![s],
        }
    }

    #[test]
    fn markdown_rows_escape_what_would_be_markup() {
        let md = sample().render(false);
        assert!(md.starts_with("# Cerb \\<settings\\>\n"), "{md}");
        assert!(md.contains("\nWritten by \\*mailcfg\\*\n"));
        assert!(md.contains("\n## Email Transports: A\\|B\n"));
        assert!(md.contains("| Host | `smtp.office365.com` |\n"));
        assert!(md.contains("| Password | (blank) |\n"));
        assert!(md.contains("| Odd | ``a\\|b`c d`` |\n"), "{md}");
        assert!(md.contains("| Empty | (empty) |\n"));
        assert_eq!(md_code("`x`"), "`` `x` ``");
        assert_eq!(md_text("tenant_id _x_"), "tenant_id \\_x\\_");
    }

    #[test]
    fn html_is_a_printable_page_with_everything_escaped() {
        let h = sample().render(true);
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.contains("<title>Cerb &lt;settings&gt;</title>"));
        assert!(h.contains("<h2>Email Transports: A|B</h2>"));
        assert!(h.contains("<tr><th>Host</th><td><code>smtp.office365.com</code></td></tr>"));
        assert!(
            h.contains("<tr><th>Password</th><td><span class=\"note\">(blank)</span></td></tr>")
        );
        assert!(h.contains("@media print"));
        assert_eq!(
            html_text("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert!(h.trim_end().ends_with("</html>"));
    }
}
