//! `monitoring.heartbeat`: every `[delivery] heartbeat_days`, one info alert to each sink, so a
//! team learns that a path is dead (a revoked Slack webhook, an orphaned Teams Workflow) before an
//! emergency does. The id depends on the sink and the period only, so every run and process in a
//! period records the same alert once.

use chrono::{DateTime, SecondsFormat, Utc};

use super::Outbox;
use crate::alert::{types, Alert, Severity, TenantRef};
use crate::state::{Recorded, StateError};

const DAY_SECS: i64 = 24 * 3600;

/// The heartbeat of `sink` for the period that contains `now`.
pub fn heartbeat(sink: &str, every_days: u32, now: i64) -> Alert {
    let period = DAY_SECS * i64::from(every_days.max(1));
    let start = now - now.rem_euclid(period);
    let at = DateTime::<Utc>::from_timestamp(start, 0).unwrap_or_default();
    Alert::new(
        types::MONITORING_HEARTBEAT,
        Severity::Info,
        TenantRef::system(),
        &format!("heartbeat|{sink}|{start}"),
        format!("entrawatch heartbeat: alerts reach sink {sink}"),
        at,
    )
    .with_evidence("sink", sink)
    .with_evidence("periodStart", at.to_rfc3339_opts(SecondsFormat::Secs, true))
    .with_evidence("everyDays", every_days)
}

/// Records this period's heartbeat for each of `sinks` (straight to that sink: a heartbeat is
/// below every sink's `min_severity` on purpose). Returns how many were new. `every_days` 0 is off.
pub async fn record_heartbeats(
    outbox: &Outbox,
    sinks: &[String],
    every_days: u32,
    now: i64,
) -> Result<usize, StateError> {
    if every_days == 0 {
        return Ok(0);
    }
    let mut new = 0;
    for sink in sinks {
        let alert = heartbeat(sink, every_days, now);
        if outbox
            .record_to(&alert, std::slice::from_ref(sink), now)
            .await?
            == Recorded::New
        {
            new += 1;
        }
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_id_per_sink_and_period() {
        let week = 7 * DAY_SECS;
        let start = 1_795_000_000 - 1_795_000_000 % week;
        let a = heartbeat("slack", 7, start + 10);
        assert_eq!(a.id, heartbeat("slack", 7, start + 3 * DAY_SECS).id);
        assert_ne!(a.id, heartbeat("teams", 7, start + 10).id);
        let next = heartbeat("slack", 7, a.timestamp.timestamp() + 7 * DAY_SECS);
        assert_ne!(a.id, next.id, "a new period, a new heartbeat");
        assert_eq!(a.severity, Severity::Info);
        assert_eq!(a.kind, "monitoring.heartbeat");
    }
}
