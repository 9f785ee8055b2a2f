//! Dates that may mean "never".
//!
//! `signInActivity` reports "never" as a missing property, `null`, `""` or `"0001-01-01T00:00:00Z"` (Graph docs
//! `resources/signinactivity.md`; all four appear in `tests/fixtures/graph-examples/`). PIM schedules use the same
//! .NET `DateTime.MinValue` sentinel with an offset (`"0001-01-01T08:00:00Z"`). Every one of them becomes `None`;
//! anything else must be an RFC 3339 date, and a malformed one is an error rather than a silent "never", because a
//! wrong "never" turns into a wrong dormancy finding.

use chrono::{DateTime, Utc};
use serde::{de::Error as _, Deserialize, Deserializer};

/// `serde(deserialize_with)` for `Option<DateTime<Utc>>` fields; pair it with `#[serde(default)]` for "missing".
pub fn deserialize<'de, D>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let text = text.trim();
    // Year 1 is DateTime.MinValue in any offset: no real sign-in or schedule happened then.
    if text.is_empty() || text.starts_with("0001-01-01") {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|d| Some(d.with_timezone(&Utc)))
        .map_err(|e| D::Error::custom(format!("invalid date {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "super::deserialize")]
        at: Option<chrono::DateTime<chrono::Utc>>,
    }

    fn parse(json: &str) -> Result<Probe, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn every_never_shape_reads_as_none() -> Result<(), serde_json::Error> {
        for json in [
            r#"{}"#,
            r#"{"at":null}"#,
            r#"{"at":""}"#,
            r#"{"at":"0001-01-01T00:00:00Z"}"#,
        ] {
            assert_eq!(parse(json)?.at, None, "{json}");
        }
        Ok(())
    }

    #[test]
    fn real_dates_keep_their_fraction_and_offset() -> Result<(), serde_json::Error> {
        let probe = parse(r#"{"at":"2020-03-13T19:15:41.6195833Z"}"#)?;
        let expected = chrono::Utc
            .with_ymd_and_hms(2020, 3, 13, 19, 15, 41)
            .single();
        assert_eq!(
            probe.at.map(|d| d.timestamp()),
            expected.map(|d| d.timestamp())
        );
        Ok(())
    }

    #[test]
    fn malformed_date_is_an_error_not_never() {
        assert!(parse(r#"{"at":"yesterday"}"#).is_err());
    }
}
