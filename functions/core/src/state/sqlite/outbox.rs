//! The outbox tables of the SQLite adapter. A claim is one `UPDATE ... WHERE` on the item's
//! status and next attempt time; every later write of the item also names the claim owner, so a
//! dispatcher whose claim was taken over changes nothing.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{backend, corrupt, SqliteStore};
use crate::alert::Alert;
use crate::state::{
    Delivery, DeliveryKey, DeliveryStatus, OutboxStore, PendingReport, Recorded, StateError,
    DEDUP_TTL_SECS,
};

const DELIVERY_SELECT: &str = "SELECT d.alert_id, d.sink, a.body, d.status, d.attempts,
  d.next_attempt_at, d.last_error, d.claim_owner, a.recorded_at
  FROM deliveries d JOIN alerts a ON a.id = d.alert_id";

type Row = (
    String,
    String,
    String,
    String,
    u32,
    i64,
    Option<String>,
    Option<String>,
    i64,
);

fn delivery_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn to_delivery(
    (alert_id, sink, body, status, attempts, next, last_error, claim_owner, recorded_at): Row,
) -> Result<Delivery, StateError> {
    Ok(Delivery {
        alert_id,
        sink,
        alert: serde_json::from_str(&body).map_err(corrupt)?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("delivery status {status:?}")))?,
        attempts,
        next_attempt_at: next,
        last_error,
        claim_owner,
        recorded_at,
    })
}

fn select_one(c: &Connection, key: &DeliveryKey) -> Result<Option<Delivery>, StateError> {
    let sql = format!("{DELIVERY_SELECT} WHERE d.alert_id = ?1 AND d.sink = ?2");
    c.query_row(&sql, params![key.alert_id, key.sink], delivery_row)
        .optional()
        .map_err(backend)?
        .map(to_delivery)
        .transpose()
}

impl SqliteStore {
    /// Runs one update of a claimed pending item; no row changed means the claim was lost.
    async fn update_claimed(
        &self,
        sql: &'static str,
        key: &DeliveryKey,
        owner: &str,
        values: (u32, i64, Option<String>, Option<i64>),
    ) -> Result<(), StateError> {
        let (key, owner) = (key.clone(), owner.to_string());
        self.with(move |c| {
            let (attempts, next, error, expires_at) = values;
            let n = c
                .execute(
                    sql,
                    params![
                        key.alert_id,
                        key.sink,
                        owner,
                        attempts,
                        next,
                        error,
                        expires_at
                    ],
                )
                .map_err(backend)?;
            if n == 0 {
                return Err(StateError::ClaimLost {
                    alert_id: key.alert_id,
                    sink: key.sink,
                    owner,
                });
            }
            Ok(())
        })
        .await
    }
}

/// Sent: one more attempt (the one that succeeded), no longer due, expires with the dedup window.
const MARK_SENT: &str = "UPDATE deliveries SET status = 'sent', attempts = attempts + ?4,
  next_attempt_at = ?5, last_error = ?6, expires_at = ?7
  WHERE alert_id = ?1 AND sink = ?2 AND claim_owner = ?3 AND status = 'pending'";

const RESCHEDULE: &str = "UPDATE deliveries SET attempts = ?4, next_attempt_at = ?5,
  last_error = ?6, expires_at = ?7, claim_owner = NULL
  WHERE alert_id = ?1 AND sink = ?2 AND claim_owner = ?3 AND status = 'pending'";

const MARK_FAILED: &str = "UPDATE deliveries SET status = 'failed', attempts = ?4,
  next_attempt_at = ?5, last_error = ?6, expires_at = ?7
  WHERE alert_id = ?1 AND sink = ?2 AND claim_owner = ?3 AND status = 'pending'";

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn record(
        &self,
        alert: &Alert,
        sinks: &[String],
        now: i64,
    ) -> Result<Recorded, StateError> {
        let (id, body, sinks) = (
            alert.id.clone(),
            alert.to_json().to_string(),
            sinks.to_vec(),
        );
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let exists: Option<i64> = tx
                .query_row("SELECT 1 FROM alerts WHERE id = ?1 AND expires_at > ?2", params![id, now], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            if exists.is_some() {
                return Ok(Recorded::AlreadyRecorded);
            }
            tx.execute(
                "INSERT OR REPLACE INTO alerts (id, body, recorded_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, body, now, now + DEDUP_TTL_SECS],
            )
            .map_err(backend)?;
            for sink in &sinks {
                tx.execute(
                    "INSERT OR REPLACE INTO deliveries (alert_id, sink, status, attempts, next_attempt_at, last_error, expires_at, claim_owner)
                     VALUES (?1, ?2, 'pending', 0, ?3, NULL, NULL, NULL)",
                    params![id, sink, now],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            Ok(Recorded::New)
        })
        .await
    }

    async fn due(&self, now: i64, limit: usize) -> Result<Vec<Delivery>, StateError> {
        self.with(move |c| {
            let sql = format!(
                "{DELIVERY_SELECT} WHERE d.status = 'pending' AND d.next_attempt_at <= ?1
                ORDER BY d.next_attempt_at, d.alert_id, d.sink LIMIT ?2"
            );
            let mut stmt = c.prepare(&sql).map_err(backend)?;
            let rows = stmt
                .query_map(params![now, limit as i64], delivery_row)
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend).and_then(to_delivery))
                .collect()
        })
        .await
    }

    async fn due_keys(&self, now: i64, limit: usize) -> Result<Vec<DeliveryKey>, StateError> {
        self.with(move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT alert_id, sink FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?1
                     ORDER BY next_attempt_at, alert_id, sink LIMIT ?2",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![now, limit as i64], |r| {
                    Ok(DeliveryKey {
                        alert_id: r.get(0)?,
                        sink: r.get(1)?,
                    })
                })
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend)).collect()
        })
        .await
    }

    async fn deliveries(&self, alert_id: &str) -> Result<Vec<Delivery>, StateError> {
        let alert_id = alert_id.to_string();
        self.with(move |c| {
            let sql = format!("{DELIVERY_SELECT} WHERE d.alert_id = ?1 ORDER BY d.sink");
            let mut stmt = c.prepare(&sql).map_err(backend)?;
            let rows = stmt
                .query_map(params![alert_id], delivery_row)
                .map_err(backend)?;
            rows.map(|r| r.map_err(backend).and_then(to_delivery))
                .collect()
        })
        .await
    }

    async fn claim(
        &self,
        key: &DeliveryKey,
        owner: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<Delivery>, StateError> {
        let (key, owner) = (key.clone(), owner.to_string());
        self.with(move |c| {
            let n = c
                .execute(
                    "UPDATE deliveries SET claim_owner = ?3, next_attempt_at = ?5
                     WHERE alert_id = ?1 AND sink = ?2 AND status = 'pending' AND next_attempt_at <= ?4",
                    params![key.alert_id, key.sink, owner, now, until],
                )
                .map_err(backend)?;
            if n == 0 {
                return Ok(None);
            }
            select_one(c, &key)
        })
        .await
    }

    async fn mark_sent(&self, key: &DeliveryKey, owner: &str, now: i64) -> Result<(), StateError> {
        let values = (1, now, None, Some(now + DEDUP_TTL_SECS));
        self.update_claimed(MARK_SENT, key, owner, values).await
    }

    async fn reschedule(
        &self,
        key: &DeliveryKey,
        owner: &str,
        attempts: u32,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StateError> {
        let values = (attempts, next_attempt_at, Some(error.to_string()), None);
        self.update_claimed(RESCHEDULE, key, owner, values).await
    }

    async fn mark_failed(
        &self,
        key: &DeliveryKey,
        owner: &str,
        attempts: u32,
        reason: &str,
        now: i64,
    ) -> Result<(), StateError> {
        let values = (
            attempts,
            now,
            Some(reason.to_string()),
            Some(now + DEDUP_TTL_SECS),
        );
        self.update_claimed(MARK_FAILED, key, owner, values).await
    }

    async fn pending_report(
        &self,
        recorded_before: i64,
        limit: usize,
    ) -> Result<PendingReport, StateError> {
        self.pending(recorded_before, limit).await
    }
}
