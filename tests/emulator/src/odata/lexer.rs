//! Tokens of an OData `$filter` (OData v4.01 ABNF: single-quoted strings with '' escapes, unquoted
//! numbers, GUIDs and date-times).

use super::filter::Lit;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Str(String),
    Lit(Lit),
    Slash,
    Open,
    Close,
    Comma,
    Colon,
}

pub(super) fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '/' => (out.push(Tok::Slash), i += 1).1,
            '(' => (out.push(Tok::Open), i += 1).1,
            ')' => (out.push(Tok::Close), i += 1).1,
            ',' => (out.push(Tok::Comma), i += 1).1,
            ':' => (out.push(Tok::Colon), i += 1).1,
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string literal".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => (v.push('\''), i += 2).1,
                        Some('\'') => break,
                        Some(ch) => (v.push(*ch), i += 1).1,
                    }
                }
                i += 1;
                out.push(Tok::Str(v));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || ":.+-".contains(chars[i]))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push(Tok::Lit(number_or_date(&word)?));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character '{other}'")),
        }
    }
    Ok(out)
}

fn number_or_date(word: &str) -> Result<Lit, String> {
    if let Ok(n) = word.parse::<i64>() {
        return Ok(Lit::Int(n));
    }
    if let Some(t) = crate::timefmt::parse(word) {
        return Ok(Lit::DateTime(t));
    }
    // An unquoted GUID (OData allows them for Edm.Guid properties).
    if word.len() == 36 && word.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Ok(Lit::Str(word.to_ascii_lowercase()));
    }
    Err(format!(
        "'{word}' is not a number, a GUID or an RFC 3339 date-time"
    ))
}
