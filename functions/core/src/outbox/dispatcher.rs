//! Sends due deliveries, marks them sent, and reschedules failures with backoff. A crash between
//! send and mark leaves the item pending, so the next dispatch re-sends it with the same id
//! (at-least-once; receivers deduplicate on `webhook-id` / `dedup_key`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::json;

use super::{Outbox, RetryPolicy};
use crate::alert::{types, Alert, Severity, TenantRef};
use crate::sinks::{Sink, SinkError};
use crate::state::{CursorStore, Delivery, OutboxStore, StateError};

/// Deliveries fetched per batch.
const BATCH: usize = 200;
/// Cursor namespace for per-sink outage records (`{"failing_since": epoch}` while failing).
const OUTAGE_TENANT: &str = "_entrawatch";

/// What one dispatch did.
#[derive(Debug, Default)]
pub struct DispatchReport {
    /// (sink, alert) for every successful send, in order.
    pub delivered: Vec<(String, Alert)>,
    pub retried: usize,
    pub failed: usize,
    /// `delivery.failing` alerts recorded by this dispatch.
    pub failing_alerts: usize,
}

pub struct Dispatcher {
    outbox_store: Arc<dyn OutboxStore>,
    cursors: Arc<dyn CursorStore>,
    outbox: Outbox,
    sinks: HashMap<String, Arc<dyn Sink>>,
    policy: RetryPolicy,
}

impl Dispatcher {
    /// `outbox` is used to record `delivery.failing` alerts with the same routing as any other.
    pub fn new(
        outbox_store: Arc<dyn OutboxStore>,
        cursors: Arc<dyn CursorStore>,
        outbox: Outbox,
        sinks: Vec<Arc<dyn Sink>>,
        policy: RetryPolicy,
    ) -> Dispatcher {
        let sinks = sinks
            .into_iter()
            .map(|s| (s.name().to_string(), s))
            .collect();
        Dispatcher {
            outbox_store,
            cursors,
            outbox,
            sinks,
            policy,
        }
    }

    /// Delivers everything due at `now` (epoch seconds). A sink that fails is not tried again in
    /// this dispatch: its other due items wait for the same retry time without using an attempt.
    pub async fn dispatch(&self, now: i64) -> Result<DispatchReport, StateError> {
        let mut report = DispatchReport::default();
        let mut down: HashMap<String, i64> = HashMap::new();
        let mut checked_recovery: HashSet<String> = HashSet::new();
        loop {
            let due = self.outbox_store.due(now, BATCH).await?;
            if due.is_empty() {
                break;
            }
            let full = due.len() == BATCH;
            for d in due {
                if let Some(&next) = down.get(&d.sink) {
                    let reason = d
                        .last_error
                        .clone()
                        .unwrap_or_else(|| "sink failing in this run".into());
                    self.outbox_store
                        .reschedule(&d.alert_id, &d.sink, d.attempts, next, &reason)
                        .await?;
                    continue;
                }
                if let Some(next) = self
                    .deliver(&d, now, &mut report, &mut checked_recovery)
                    .await?
                {
                    down.insert(d.sink.clone(), next);
                }
            }
            if !full {
                break;
            }
        }
        Ok(report)
    }

    /// One delivery. Returns the next attempt time when the sink failed with a retryable error.
    async fn deliver(
        &self,
        d: &Delivery,
        now: i64,
        report: &mut DispatchReport,
        checked_recovery: &mut HashSet<String>,
    ) -> Result<Option<i64>, StateError> {
        let alert = Alert::from_json(&d.alert).map_err(|reason| StateError::Corrupt {
            backend: "outbox",
            reason,
        })?;
        let result = match self.sinks.get(&d.sink) {
            Some(sink) => sink.send(&alert).await,
            None => Err(SinkError::retry(format!(
                "sink {} is not in the configuration",
                d.sink
            ))),
        };
        let attempts = d.attempts + 1;
        match result {
            Ok(()) => {
                self.outbox_store
                    .mark_sent(&d.alert_id, &d.sink, now)
                    .await?;
                tracing::info!(sink = %d.sink, alert_id = %d.alert_id, alert_type = %alert.kind, attempts, "alert delivered");
                if checked_recovery.insert(d.sink.clone()) {
                    self.clear_outage(&d.sink).await?;
                }
                report.delivered.push((d.sink.clone(), alert));
                Ok(None)
            }
            Err(SinkError::Retry {
                reason,
                retry_after,
            }) => {
                let next = now + self.policy.delay_after(attempts, retry_after);
                self.outbox_store
                    .reschedule(&d.alert_id, &d.sink, attempts, next, &reason)
                    .await?;
                tracing::warn!(sink = %d.sink, alert_id = %d.alert_id, attempts, next_attempt_at = next, error = %reason, "delivery failed; will retry");
                report.retried += 1;
                if attempts >= self.policy.max_attempts {
                    self.raise_outage(&alert, &d.sink, attempts, &reason, now, report)
                        .await?;
                }
                Ok(Some(next))
            }
            Err(SinkError::Reject { reason }) => {
                self.outbox_store
                    .mark_failed(&d.alert_id, &d.sink, attempts, &reason, now)
                    .await?;
                tracing::error!(sink = %d.sink, alert_id = %d.alert_id, error = %reason, "sink refused the alert; kept as failed");
                report.failed += 1;
                let key = format!("{}#rejected#{}", d.sink, d.alert_id);
                let failing = failing_alert(
                    &alert,
                    &d.sink,
                    &key,
                    attempts,
                    &reason,
                    now,
                    "refused an alert",
                );
                self.record_failing(failing, &d.sink, now, report).await?;
                Ok(None)
            }
        }
    }

    /// Records one `delivery.failing` per sink per outage: the outage starts when an item
    /// reaches `max_attempts` and ends with the sink's next successful send.
    async fn raise_outage(
        &self,
        alert: &Alert,
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
        let failing = failing_alert(
            alert,
            sink,
            &format!("{sink}#outage#{now}"),
            attempts,
            reason,
            now,
            "is failing",
        );
        self.record_failing(failing, sink, now, report).await
    }

    async fn clear_outage(&self, sink: &str) -> Result<(), StateError> {
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

    async fn record_failing(
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
    about: &Alert,
    sink: &str,
    key: &str,
    attempts: u32,
    reason: &str,
    now: i64,
    what: &str,
) -> Alert {
    let tenant = TenantRef {
        id: about.tenant.id.clone(),
        name: about.tenant.name.clone(),
    };
    let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
    Alert::new(
        types::DELIVERY_FAILING,
        Severity::High,
        tenant,
        key,
        format!("Alert sink {sink} {what}"),
        at,
    )
    .with_evidence("sink", sink)
    .with_evidence("attempts", attempts)
    .with_evidence("lastError", reason)
    .with_evidence("alertId", about.id.clone())
    .with_evidence("alertType", about.kind.clone())
}
