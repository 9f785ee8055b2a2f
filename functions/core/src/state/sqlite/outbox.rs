//! The outbox tables of the SQLite adapter.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{backend, corrupt, SqliteStore};
use crate::alert::Alert;
use crate::state::{Delivery, DeliveryStatus, OutboxStore, Recorded, StateError, DEDUP_TTL_SECS};

const DELIVERY_SELECT: &str =
    "SELECT d.alert_id, d.sink, a.body, d.status, d.attempts, d.next_attempt_at, d.last_error
  FROM deliveries d JOIN alerts a ON a.id = d.alert_id";

type Row = (String, String, String, String, u32, i64, Option<String>);

fn delivery_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn to_delivery(
    (alert_id, sink, body, status, attempts, next, last_error): Row,
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
    })
}

impl SqliteStore {
    async fn update_delivery(
        &self,
        sql: &'static str,
        alert_id: &str,
        sink: &str,
        values: (String, u32, i64, Option<String>, Option<i64>),
    ) -> Result<(), StateError> {
        let (alert_id, sink) = (alert_id.to_string(), sink.to_string());
        self.with(move |c| {
            let (status, attempts, next, error, expires_at) = values;
            let n = c
                .execute(
                    sql,
                    params![alert_id, sink, status, attempts, next, error, expires_at],
                )
                .map_err(backend)?;
            if n == 0 {
                return Err(backend(format!("no delivery of {alert_id} to sink {sink}")));
            }
            Ok(())
        })
        .await
    }
}

const UPDATE: &str =
    "UPDATE deliveries SET status = ?3, attempts = ?4, next_attempt_at = ?5, last_error = ?6,
  expires_at = ?7 WHERE alert_id = ?1 AND sink = ?2";

/// Sent: one more attempt (the one that succeeded), no longer due, expires with the dedup window.
const MARK_SENT: &str =
    "UPDATE deliveries SET status = ?3, attempts = attempts + ?4, next_attempt_at = ?5,
  last_error = ?6, expires_at = ?7 WHERE alert_id = ?1 AND sink = ?2";

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
                    "INSERT OR REPLACE INTO deliveries (alert_id, sink, status, attempts, next_attempt_at, last_error, expires_at)
                     VALUES (?1, ?2, 'pending', 0, ?3, NULL, NULL)",
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

    async fn mark_sent(&self, alert_id: &str, sink: &str, now: i64) -> Result<(), StateError> {
        let values = ("sent".to_string(), 1, now, None, Some(now + DEDUP_TTL_SECS));
        self.update_delivery(MARK_SENT, alert_id, sink, values)
            .await
    }

    async fn reschedule(
        &self,
        alert_id: &str,
        sink: &str,
        attempts: u32,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StateError> {
        let values = (
            "pending".to_string(),
            attempts,
            next_attempt_at,
            Some(error.to_string()),
            None,
        );
        self.update_delivery(UPDATE, alert_id, sink, values).await
    }

    async fn mark_failed(
        &self,
        alert_id: &str,
        sink: &str,
        attempts: u32,
        reason: &str,
        now: i64,
    ) -> Result<(), StateError> {
        let values = (
            "failed".to_string(),
            attempts,
            now,
            Some(reason.to_string()),
            Some(now + DEDUP_TTL_SECS),
        );
        self.update_delivery(UPDATE, alert_id, sink, values).await
    }
}
