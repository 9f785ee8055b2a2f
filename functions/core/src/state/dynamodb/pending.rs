//! What still waits in the DynamoDB outbox: the sparse `due` index holds every pending delivery
//! (keys only), and one query per alert partition reads its record time and whether any of its
//! deliveries was sent. Pending deliveries are few while sinks work; when one has been down for
//! long they are many, so a report looks at the [`SCANNED_ALERTS`] alerts next due at most (the
//! overdue count saturates there: enough to alarm on, bounded in cost for every run and worker).

use std::collections::HashSet;

use super::items::{get_n, get_s};
use super::outbox::{alert_pk, delivery_key, to_delivery, DUE};
use super::{backend, DynamoStore};
use crate::state::{DeliveryStatus, PendingReport, StateError, Undelivered};

/// Alerts a report reads at most (one query each).
pub const SCANNED_ALERTS: usize = 50;

impl DynamoStore {
    pub(super) async fn pending(
        &self,
        recorded_before: i64,
        limit: usize,
    ) -> Result<PendingReport, StateError> {
        let mut alert_ids: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("due")
                .key_condition_expression("due_pk = :due")
                .expression_attribute_values(":due", super::items::s(DUE))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            for key in out.items().iter().filter_map(delivery_key) {
                if alert_ids.len() < SCANNED_ALERTS && seen.insert(key.alert_id.clone()) {
                    alert_ids.push(key.alert_id);
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() || alert_ids.len() >= SCANNED_ALERTS {
                break;
            }
        }
        let mut report = PendingReport::default();
        for id in alert_ids {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", super::items::s(alert_pk(&id)))
                .consistent_read(true)
                .send()
                .await
                .map_err(backend)?;
            let marker = out
                .items()
                .iter()
                .find(|i| get_s(i, "sk").as_deref() == Some("ALERT"));
            let deliveries = out
                .items()
                .iter()
                .filter(|i| delivery_key(i).is_some())
                .map(to_delivery)
                .collect::<Result<Vec<_>, _>>()?;
            let pending: Vec<_> = deliveries
                .iter()
                .filter(|d| d.status == DeliveryStatus::Pending)
                .collect();
            let Some(first) = pending.first() else {
                continue;
            };
            let recorded_at = marker
                .and_then(|m| get_n(m, "recorded_at"))
                .unwrap_or(first.recorded_at);
            report.oldest_recorded_at = Some(
                report
                    .oldest_recorded_at
                    .map_or(recorded_at, |o| o.min(recorded_at)),
            );
            let sent = deliveries.iter().any(|d| d.status == DeliveryStatus::Sent);
            if !sent && recorded_at <= recorded_before {
                report.undelivered.push(Undelivered {
                    alert_id: id,
                    kind: first.alert["type"]
                        .as_str()
                        .unwrap_or("unknown")
                        .to_string(),
                    recorded_at,
                    pending: pending
                        .iter()
                        .map(|d| (d.sink.clone(), d.last_error.clone()))
                        .collect(),
                });
            }
        }
        report
            .undelivered
            .sort_by(|a, b| (a.recorded_at, &a.alert_id).cmp(&(b.recorded_at, &b.alert_id)));
        report.undelivered.truncate(limit);
        Ok(report)
    }
}
