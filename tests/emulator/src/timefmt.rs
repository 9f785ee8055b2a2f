//! Time values in scenarios and Graph payloads.
//!
//! Scenario time fields may be absolute (RFC 3339) or relative to the scenario's start `now`:
//! `"now"`, `"-3d"`, `"-90m"`, `"+2h"`, `"now-3d"` (units s, m, h, d, w). Relative times keep the demo current.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// Formats like Graph: UTC with a `Z` suffix.
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Resolves `s` against `now` when it is a relative time; `None` when it is not one.
pub fn resolve_relative(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let rest = s.strip_prefix("now").unwrap_or(s);
    if rest.is_empty() {
        return (s == "now").then_some(now);
    }
    let (sign, body) = match rest.as_bytes().first()? {
        b'-' => (-1i64, &rest[1..]),
        b'+' => (1i64, &rest[1..]),
        _ => return None,
    };
    let unit = body.chars().last()?;
    let n: i64 = body[..body.len() - unit.len_utf8()].parse().ok()?;
    let d = match unit {
        's' => chrono::Duration::try_seconds(n)?,
        'm' => chrono::Duration::try_minutes(n)?,
        'h' => chrono::Duration::try_hours(n)?,
        'd' => chrono::Duration::try_days(n)?,
        'w' => chrono::Duration::try_weeks(n)?,
        _ => return None,
    };
    now.checked_add_signed(if sign < 0 { -d } else { d })
}

/// Walks a scenario object: `"@null"` becomes JSON null (TOML has no null), TOML datetimes become strings,
/// and relative times in fields named `*DateTime` or `visible_at` are resolved against `now`.
pub fn normalize(v: &mut Value, now: DateTime<Utc>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                unwrap_toml_datetime(child);
                if let Value::String(s) = child {
                    if s == "@null" {
                        *child = Value::Null;
                        continue;
                    }
                    if k.ends_with("DateTime") || k == "visible_at" {
                        if let Some(t) = resolve_relative(s, now) {
                            *child = Value::String(format(t));
                        }
                    }
                } else {
                    normalize(child, now);
                }
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                unwrap_toml_datetime(item);
                if matches!(item, Value::String(s) if s == "@null") {
                    *item = Value::Null;
                } else {
                    normalize(item, now);
                }
            }
        }
        _ => {}
    }
}

/// The `toml` crate hands unquoted TOML datetimes to serde as `{"$__toml_private_datetime": "..."}`.
fn unwrap_toml_datetime(v: &mut Value) {
    if let Value::Object(m) = v {
        if m.len() == 1 {
            if let Some(Value::String(s)) = m.get("$__toml_private_datetime") {
                *v = Value::String(s.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> DateTime<Utc> {
        parse(s).expect("test timestamp parses")
    }

    #[test]
    fn relative_times_resolve_against_start() {
        let now = t("2026-11-22T06:00:00Z");
        assert_eq!(
            resolve_relative("-3d", now),
            Some(t("2026-11-19T06:00:00Z"))
        );
        assert_eq!(
            resolve_relative("now-90m", now),
            Some(t("2026-11-22T04:30:00Z"))
        );
        assert_eq!(resolve_relative("now", now), Some(now));
        assert_eq!(resolve_relative("2026-01-01T00:00:00Z", now), None);
    }

    #[test]
    fn null_marker_and_relative_fields_are_normalized() {
        let now = t("2026-11-22T06:00:00Z");
        let mut v = json!({"createdDateTime": "-1h", "signInActivity": {"lastSignInDateTime": "@null"}, "note": "-1h"});
        normalize(&mut v, now);
        assert_eq!(v["createdDateTime"], "2026-11-22T05:00:00Z");
        assert!(v["signInActivity"]["lastSignInDateTime"].is_null());
        assert_eq!(v["note"], "-1h");
    }
}
