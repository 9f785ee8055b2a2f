//! Listing log events (sign-ins, directory audits): newest first, only those visible at the emulated
//! `now`, paged with a cursor skiptoken.
//!
//! The skiptoken holds the `(time, id)` of the last item returned, not an offset, so an event that becomes
//! visible while a client pages (late-arriving log data, REFERENCE §2) neither shifts the pages nor causes
//! skips or repeats: events older than the cursor appear in their place, newer ones in the next listing.

use super::{decode_token, encode_token};
use crate::errors::GraphError;
use crate::odata::eval::matches;
use crate::odata::QueryOptions;
use crate::tenant::LogEvent;
use chrono::{DateTime, Utc};
use serde_json::Value;

pub(crate) struct Listing {
    pub items: Vec<Value>,
    /// The skiptoken of the next page, when more matching events exist.
    pub next: Option<String>,
}

fn cursor(q: &QueryOptions) -> Result<Option<(DateTime<Utc>, String)>, GraphError> {
    let Some(t) = &q.skiptoken else {
        return Ok(None);
    };
    let raw = decode_token(t)?;
    let invalid = || GraphError::bad_request("The $skiptoken is invalid.");
    let rest = raw.strip_prefix("cur:").ok_or_else(invalid)?;
    let (at, id) = rest.split_once('|').ok_or_else(invalid)?;
    Ok(Some((
        crate::timefmt::parse(at).ok_or_else(invalid)?,
        id.to_string(),
    )))
}

/// Lists `events` (sorted newest first) for this request. `view` gives the object the filter sees;
/// `output` the object returned.
pub(crate) fn list(
    events: &[LogEvent],
    now: DateTime<Utc>,
    q: &QueryOptions,
    size: u64,
    keep: &dyn Fn(&LogEvent) -> bool,
    view: &dyn Fn(&LogEvent) -> Value,
    output: &dyn Fn(&LogEvent) -> Value,
) -> Result<Listing, GraphError> {
    let cur = cursor(q)?;
    let mut items = Vec::new();
    let mut last: Option<&LogEvent> = None;
    let mut more = false;
    for e in events {
        if let Some((at, id)) = &cur {
            if (e.at, e.id.as_str()) >= (*at, id.as_str()) {
                continue;
            }
        }
        if e.visible_at > now
            || !keep(e)
            || q.filter.as_ref().is_some_and(|f| !matches(f, &view(e)))
        {
            continue;
        }
        if items.len() as u64 >= size {
            more = true;
            break;
        }
        items.push(output(e));
        last = Some(e);
    }
    let next = match (more, last) {
        (true, Some(e)) => Some(encode_token(&format!(
            "cur:{}|{}",
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            e.id
        ))),
        _ => None,
    };
    Ok(Listing { items, next })
}
