//! Finds where a key lives in the profile's text, so that every finding names its line.
//! TOML spans come from `toml`'s spanned document; JSON spans from `jsonc-parser`'s syntax tree
//! (serde_json keeps no positions for values it has read).

use std::ops::Range;

use jsonc_parser::ast;
use jsonc_parser::common::Ranged;
use toml::de::{DeTable, DeValue};

use super::Format;

/// One step of a path into the document: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Where a byte offset is, counted from 1 as editors do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

pub fn position(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// The span of the deepest part of `path` that exists in `text` (the key itself where the path
/// ends on a key, so the line shown is the line to edit).
pub fn span_of(text: &str, format: Format, path: &[Seg]) -> Option<Range<usize>> {
    match format {
        Format::Toml => toml_span(text, path),
        Format::Json => json_span(text, path),
    }
}

fn toml_span(text: &str, path: &[Seg]) -> Option<Range<usize>> {
    let doc = DeTable::parse(text).ok()?;
    let mut best = None;
    let mut value: Option<&DeValue<'_>> = None;
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    for seg in path {
        let (span, next) = match seg {
            Seg::Key(k) => {
                let Some((key, v)) =
                    table.and_then(|t| t.iter().find(|(key, _)| key.get_ref() == k))
                else {
                    break;
                };
                (key.span(), v)
            }
            Seg::Index(i) => {
                let Some(item) = value.and_then(DeValue::as_array).and_then(|a| a.get(*i)) else {
                    break;
                };
                (item.span(), item)
            }
        };
        best = Some(span);
        value = Some(next.get_ref());
        table = next.get_ref().as_table();
    }
    best
}

fn json_span(text: &str, path: &[Seg]) -> Option<Range<usize>> {
    let parsed = jsonc_parser::parse_to_ast(
        text,
        &jsonc_parser::CollectOptions::default(),
        &jsonc_parser::ParseOptions::default(),
    )
    .ok()?;
    let mut value = parsed.value.as_ref()?;
    let mut best = None;
    for seg in path {
        match (seg, value) {
            (Seg::Key(k), ast::Value::Object(obj)) => {
                let Some(prop) = obj.properties.iter().find(|p| p.name.as_str() == k) else {
                    break;
                };
                best = Some(prop.name.range());
                value = &prop.value;
            }
            (Seg::Index(i), ast::Value::Array(arr)) => {
                let Some(item) = arr.elements.get(*i) else {
                    break;
                };
                best = Some(item.range());
                value = item;
            }
            _ => break,
        }
    }
    best.map(|r| r.start..r.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Seg {
        Seg::Key(k.into())
    }

    #[test]
    fn finds_toml_keys_in_arrays_of_tables() {
        let text = "version = 1\n\n[[mailboxes]]\nname = \"a\"\nport = 1\n\n[[mailboxes]]\nname = \"b\"\nport = 2\n";
        let span = span_of(
            text,
            Format::Toml,
            &[key("mailboxes"), Seg::Index(1), key("port")],
        );
        assert_eq!(position(text, span.unwrap().start).line, 9);
        let span = span_of(text, Format::Toml, &[key("version")]);
        assert_eq!(
            position(text, span.unwrap().start),
            Position { line: 1, column: 1 }
        );
    }

    #[test]
    fn finds_json_keys() {
        let text = "{\n  \"version\": 1,\n  \"mailboxes\": [\n    {\"name\": \"a\"},\n    {\n      \"name\": \"b\",\n      \"port\": 0\n    }\n  ]\n}\n";
        let span = span_of(
            text,
            Format::Json,
            &[key("mailboxes"), Seg::Index(1), key("port")],
        );
        assert_eq!(
            position(text, span.unwrap().start),
            Position { line: 7, column: 7 }
        );
    }

    #[test]
    fn a_missing_key_falls_back_to_its_parent() {
        let text = "version = 1\n[[accounts]]\nname = \"x\"\n";
        let span = span_of(
            text,
            Format::Toml,
            &[key("accounts"), Seg::Index(0), key("tenant")],
        );
        let line = position(text, span.unwrap().start).line;
        assert!(
            (2..=3).contains(&line),
            "points into the account, got line {line}"
        );
    }
}
