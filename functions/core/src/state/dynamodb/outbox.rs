//! The outbox of the DynamoDB adapter: an alert item and one delivery item per sink, written in
//! one `TransactWriteItems` conditional on the alert id being new. Claims and the writes of a
//! claim holder are in `claims.rs`.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use super::items::{get_n, get_s, n, s, Item};
use super::{backend, corrupt, DynamoStore};
use crate::alert::Alert;
use crate::state::{
    Delivery, DeliveryKey, DeliveryStatus, OutboxStore, PendingReport, Recorded, StateError,
    DEDUP_TTL_SECS,
};

/// `due_pk` value of pending deliveries (the sparse `due` index's only partition).
pub(super) const DUE: &str = "DUE";

pub(super) fn alert_pk(id: &str) -> String {
    format!("ALERT#{id}")
}

pub(super) fn delivery_sk(sink: &str) -> String {
    format!("DELIVERY#{sink}")
}

/// The key of a delivery item from its table keys (`ALERT#{id}`, `DELIVERY#{sink}`).
pub(super) fn delivery_key(item: &Item) -> Option<DeliveryKey> {
    let alert_id = get_s(item, "pk")?.strip_prefix("ALERT#")?.to_string();
    let sink = get_s(item, "sk")?.strip_prefix("DELIVERY#")?.to_string();
    Some(DeliveryKey { alert_id, sink })
}

pub(super) fn to_delivery(item: &Item) -> Result<Delivery, StateError> {
    let text =
        |name: &str| get_s(item, name).ok_or_else(|| corrupt(format!("delivery without {name}")));
    let status = text("status")?;
    Ok(Delivery {
        alert_id: text("alert_id")?,
        sink: text("sink")?,
        alert: serde_json::from_str(&text("body")?).map_err(|e| corrupt(e.to_string()))?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("delivery status {status:?}")))?,
        attempts: get_n(item, "attempts").unwrap_or(0) as u32,
        next_attempt_at: get_n(item, "next_attempt_at").unwrap_or(0),
        last_error: get_s(item, "last_error"),
        claim_owner: get_s(item, "claim_owner"),
        // Items recorded before `recorded_at` was written: their first due time is the same.
        recorded_at: get_n(item, "recorded_at")
            .or_else(|| get_n(item, "next_attempt_at"))
            .unwrap_or(0),
    })
}

/// Why a transaction was cancelled, from its per-item reasons: the first item is the alert.
enum Cancelled {
    AlreadyRecorded,
    Conflict,
    Other,
}

fn cancelled(e: &TransactWriteItemsError) -> Cancelled {
    let TransactWriteItemsError::TransactionCanceledException(ex) = e else {
        return Cancelled::Other;
    };
    let codes: Vec<&str> = ex
        .cancellation_reasons()
        .iter()
        .map(|r| r.code().unwrap_or("None"))
        .collect();
    if codes.first() == Some(&"ConditionalCheckFailed") {
        Cancelled::AlreadyRecorded
    } else if codes.contains(&"TransactionConflict") || codes.is_empty() {
        Cancelled::Conflict
    } else {
        Cancelled::Other
    }
}

impl DynamoStore {
    fn put(
        &self,
        item: Item,
        condition: Option<&str>,
        now: i64,
    ) -> Result<TransactWriteItem, StateError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some(c) = condition {
            put = put
                .condition_expression(c)
                .expression_attribute_values(":now", n(now));
        }
        let put = put.build().map_err(|e| corrupt(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

#[async_trait]
impl OutboxStore for DynamoStore {
    async fn record(
        &self,
        alert: &Alert,
        sinks: &[String],
        now: i64,
    ) -> Result<Recorded, StateError> {
        let body = alert.to_json().to_string();
        let mut marker = Item::new();
        marker.insert("pk".into(), s(alert_pk(&alert.id)));
        marker.insert("sk".into(), s("ALERT"));
        marker.insert("body".into(), s(&body));
        marker.insert("recorded_at".into(), n(now));
        marker.insert("expires_at".into(), n(now + DEDUP_TTL_SECS));
        let mut writes = vec![self.put(
            marker,
            Some("attribute_not_exists(pk) OR expires_at <= :now"),
            now,
        )?];
        for sink in sinks {
            let mut item = Item::new();
            item.insert("pk".into(), s(alert_pk(&alert.id)));
            item.insert("sk".into(), s(delivery_sk(sink)));
            item.insert("alert_id".into(), s(&alert.id));
            item.insert("sink".into(), s(sink));
            item.insert("body".into(), s(&body));
            item.insert("status".into(), s("pending"));
            item.insert("attempts".into(), n(0));
            item.insert("next_attempt_at".into(), n(now));
            item.insert("recorded_at".into(), n(now));
            item.insert("due_pk".into(), s(DUE));
            writes.push(self.put(item, None, now)?);
        }
        // Two writers racing on one id: the loser's transaction is cancelled with
        // ConditionalCheckFailed, or with TransactionConflict while the winner's is in flight
        // (DynamoDB developer guide, "Transaction conflict handling"); retrying then sees the record.
        for attempt in 0..8u64 {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(writes.clone()))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(Recorded::New),
                Err(e) => match e.as_service_error().map(cancelled) {
                    Some(Cancelled::AlreadyRecorded) => return Ok(Recorded::AlreadyRecorded),
                    Some(Cancelled::Conflict) => {
                        tokio::time::sleep(std::time::Duration::from_millis(20 * (attempt + 1)))
                            .await;
                        let marker = self.get_item(alert_pk(&alert.id), "ALERT").await?;
                        if marker.is_some_and(|m| get_n(&m, "expires_at").unwrap_or(i64::MAX) > now)
                        {
                            return Ok(Recorded::AlreadyRecorded);
                        }
                    }
                    _ => return Err(backend(e)),
                },
            }
        }
        Err(corrupt(format!(
            "alert {}: the record kept conflicting with another writer",
            alert.id
        )))
    }

    async fn due(&self, now: i64, limit: usize) -> Result<Vec<Delivery>, StateError> {
        let mut due = Vec::new();
        for key in self.due_keys(now, limit).await? {
            // The index lags the table: re-read and keep only what is still pending and due.
            let item = self
                .get_item(alert_pk(&key.alert_id), &delivery_sk(&key.sink))
                .await?;
            if let Some(item) = item {
                let d = to_delivery(&item)?;
                if d.status == DeliveryStatus::Pending && d.next_attempt_at <= now {
                    due.push(d);
                }
            }
        }
        due.sort_by(|a, b| {
            (a.next_attempt_at, &a.alert_id, &a.sink).cmp(&(
                b.next_attempt_at,
                &b.alert_id,
                &b.sink,
            ))
        });
        Ok(due)
    }

    async fn deliveries(&self, alert_id: &str) -> Result<Vec<Delivery>, StateError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(alert_pk(alert_id)))
            .expression_attribute_values(":prefix", s("DELIVERY#"))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        out.items().iter().map(to_delivery).collect()
    }

    async fn due_keys(&self, now: i64, limit: usize) -> Result<Vec<DeliveryKey>, StateError> {
        // The index is keys-only and may lag: the claim that follows is the consistent check.
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("due")
            .key_condition_expression("due_pk = :due AND next_attempt_at <= :now")
            .expression_attribute_values(":due", s(DUE))
            .expression_attribute_values(":now", n(now))
            .limit(limit.clamp(1, 1000) as i32)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.items().iter().filter_map(delivery_key).collect())
    }

    async fn claim(
        &self,
        key: &DeliveryKey,
        owner: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<Delivery>, StateError> {
        self.claim_item(key, owner, now, until).await
    }

    async fn mark_sent(&self, key: &DeliveryKey, owner: &str, now: i64) -> Result<(), StateError> {
        self.mark_sent_item(key, owner, now).await
    }

    async fn reschedule(
        &self,
        key: &DeliveryKey,
        owner: &str,
        attempts: u32,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StateError> {
        self.reschedule_item(key, owner, attempts, next_attempt_at, error)
            .await
    }

    async fn mark_failed(
        &self,
        key: &DeliveryKey,
        owner: &str,
        attempts: u32,
        reason: &str,
        now: i64,
    ) -> Result<(), StateError> {
        self.mark_failed_item(key, owner, attempts, reason, now)
            .await
    }

    async fn pending_report(
        &self,
        recorded_before: i64,
        limit: usize,
    ) -> Result<PendingReport, StateError> {
        self.pending(recorded_before, limit).await
    }
}
