//! OData literal and URL encoding for the request builders (OData v4.01 URL conventions, ABNF).

use chrono::{DateTime, SecondsFormat, Utc};

/// OData dates go unquoted, in UTC, to the second (REFERENCE §2 example).
pub(crate) fn odata_date(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An OData string literal: single quotes doubled (OData ABNF, `SQUOTE-in-string`), so an id cannot break out.
pub(crate) fn odata_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Percent-encodes a query value. Spaces become `%20` (not `+`, which OData does not read as a space).
pub(crate) fn encode(value: &str) -> String {
    percent_encode(value, b"-._~$,/:()")
}

/// A path segment (object id): everything but unreserved characters encoded, so `/` or `?` cannot change the path.
pub(crate) fn path_segment(value: &str) -> String {
    percent_encode(value, b"-._~")
}

/// RFC 3986 percent-encoding of every byte that is not alphanumeric or in `keep`.
fn percent_encode(value: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || keep.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
