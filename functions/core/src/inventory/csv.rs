//! The script formats: CSV (RFC 4180, one header line) and JSON lines (one object per identity, the same
//! fields), each row written as it arrives.

use std::io::{self, Write};

use chrono::{DateTime, SecondsFormat, Utc};

use super::row::IdentityRow;

/// The CSV header, also the JSON lines' field names.
pub const COLUMNS: [&str; 17] = [
    "kind",
    "id",
    "name",
    "display_name",
    "app_id",
    "enabled",
    "created",
    "last_activity",
    "days_inactive",
    "privileged_roles",
    "mfa_registered",
    "methods",
    "credentials",
    "nearest_expiry",
    "synced",
    "first_party",
    "findings",
];

/// A field as RFC 4180 wants it: quoted when it holds a comma, quote or line break, quotes doubled.
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// Text from the tenant (names): a leading `=`, `+`, `-`, `@`, tab or CR would make a spreadsheet evaluate it
/// (OWASP "CSV Injection"), so such a value gets a leading `'`.
fn tenant_text(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        field(&format!("'{value}"))
    } else {
        field(value)
    }
}

fn date(at: Option<DateTime<Utc>>) -> String {
    at.map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

pub fn write_header(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", COLUMNS.join(","))
}

pub fn write_csv_row(out: &mut dyn Write, row: &IdentityRow) -> io::Result<()> {
    let fields = [
        row.kind().as_str().to_string(),
        field(&row.id),
        tenant_text(&row.name),
        tenant_text(row.display_name.as_deref().unwrap_or_default()),
        field(row.app_id.as_deref().unwrap_or_default()),
        opt(row.enabled),
        date(row.created),
        date(row.last_activity),
        opt(row.days_inactive),
        tenant_text(&row.privileged_roles.join("; ")),
        opt(row.mfa_registered),
        field(&row.methods.join("; ")),
        opt(row.credentials),
        date(row.nearest_expiry),
        opt(row.synced),
        row.first_party.to_string(),
        field(&row.findings.join("; ")),
    ];
    writeln!(out, "{}", fields.join(","))
}

pub fn write_json_row(out: &mut dyn Write, row: &IdentityRow) -> io::Result<()> {
    serde_json::to_writer(&mut *out, row)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::row::Kind;

    #[test]
    fn hostile_names_are_quoted_and_never_formulas() {
        let row = IdentityRow {
            kind: Some(Kind::Guest),
            id: "u1".into(),
            name: "=HYPERLINK(\"http://x\")".into(),
            display_name: Some("a,b\nc".into()),
            ..IdentityRow::default()
        };
        let mut out = Vec::new();
        write_csv_row(&mut out, &row).expect("write");
        let line = String::from_utf8(out).expect("utf-8");
        assert!(line.starts_with("guest,u1,\"'=HYPERLINK(\"\"http://x\"\")\",\"a,b\nc\","));
    }

    #[test]
    fn json_lines_carry_the_csv_fields() {
        let row = IdentityRow {
            kind: Some(Kind::ServicePrincipal),
            id: "s1".into(),
            ..IdentityRow::default()
        };
        let mut out = Vec::new();
        write_json_row(&mut out, &row).expect("write");
        let value: serde_json::Value = serde_json::from_slice(&out).expect("json");
        for column in COLUMNS {
            assert!(value.get(column).is_some(), "{column}");
        }
        assert_eq!(value["kind"], "service_principal");
    }
}
