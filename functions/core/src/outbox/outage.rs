//! `delivery.failing`: one alert per sink per outage, to every other sink. An outage starts when
//! an item reaches `max_attempts` or at once when the sink cannot be built, and ends with the
//! sink's next successful send. A sink that refuses one alert for good raises one per alert.

use std::sync::Arc;

use serde_json::json;

use super::{DispatchReport, Outbox};
use crate::alert::{types, Alert, Severity, TenantRef};
use crate::state::{CursorStore, StateError};

/// Cursor namespace for per-sink outage records (`{"failing_since": epoch}` while failing).
const OUTAGE_TENANT: &str = "_entrawatch";
/// Outage alert ids use the hour the outage started in, so two dispatchers that notice one outage
/// at once record one alert (the outbox deduplicates on the id).
const OUTAGE_BUCKET_SECS: i64 = 3600;

pub(super) struct Outages {
    cursors: Arc<dyn CursorStore>,
    outbox: Outbox,
}

impl Outages {
    pub(super) fn new(cursors: Arc<dyn CursorStore>, outbox: Outbox) -> Self {
        Outages { cursors, outbox }
    }

    /// Records the outage of `sink` unless it is already recorded. `about` is the alert whose
    /// delivery failed; `None` for a sink that cannot be built.
    pub(super) async fn raise(
        &self,
        about: Option<&Alert>,
        sink: &str,
        attempts: u32,
        reason: &str,
        now: i64,
        report: &mut DispatchReport,
    ) -> Result<(), StateError> {
        let job = format!("delivery:{sink}");
        let current = self.cursors.get_cursor(OUTAGE_TENANT, &job).await?;
        if current
            .as_ref()
            .and_then(|c| c["failing_since"].as_i64())
            .is_some()
        {
            return Ok(());
        }
        self.cursors
            .put_cursor(OUTAGE_TENANT, &job, &json!({"failing_since": now}))
            .await?;
        let bucket = now - now.rem_euclid(OUTAGE_BUCKET_SECS);
        let key = format!("{sink}#outage#{bucket}");
        let what = if about.is_some() {
            "is failing".to_string()
        } else {
            "cannot be built; its alerts wait until it is fixed".to_string()
        };
        let failing = failing_alert(about, sink, &key, attempts, reason, now, &what);
        self.record(failing, sink, now, report).await
    }

    /// One `delivery.failing` for an alert the sink refused for good.
    pub(super) async fn rejected(
        &self,
        about: &Alert,
        sink: &str,
        attempts: u32,
        reason: &str,
        now: i64,
        report: &mut DispatchReport,
    ) -> Result<(), StateError> {
        let key = format!("{sink}#rejected#{}", about.id);
        let failing = failing_alert(
            Some(about),
            sink,
            &key,
            attempts,
            reason,
            now,
            "refused an alert",
        );
        self.record(failing, sink, now, report).await
    }

    pub(super) async fn clear(&self, sink: &str) -> Result<(), StateError> {
        let job = format!("delivery:{sink}");
        if let Some(c) = self.cursors.get_cursor(OUTAGE_TENANT, &job).await? {
            if c["failing_since"].is_i64() {
                tracing::info!(sink = %sink, "sink recovered");
                self.cursors
                    .put_cursor(OUTAGE_TENANT, &job, &json!({}))
                    .await?;
            }
        }
        Ok(())
    }

    async fn record(
        &self,
        failing: Alert,
        sink: &str,
        now: i64,
        report: &mut DispatchReport,
    ) -> Result<(), StateError> {
        tracing::error!(sink = %sink, alert_id = %failing.id, "recording delivery.failing for the other sinks");
        self.outbox.record_excluding(&failing, sink, now).await?;
        report.failing_alerts += 1;
        Ok(())
    }
}

fn failing_alert(
    about: Option<&Alert>,
    sink: &str,
    key: &str,
    attempts: u32,
    reason: &str,
    now: i64,
    what: &str,
) -> Alert {
    let tenant = about.map_or_else(TenantRef::system, |a| a.tenant.clone());
    let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
    let mut alert = Alert::new(
        types::DELIVERY_FAILING,
        Severity::High,
        tenant,
        key,
        format!("Alert sink {sink} {what}"),
        at,
    )
    .with_evidence("sink", sink)
    .with_evidence("attempts", attempts)
    .with_evidence("lastError", reason);
    if let Some(a) = about {
        alert = alert
            .with_evidence("alertId", a.id.clone())
            .with_evidence("alertType", a.kind.clone());
    }
    alert
}
