//! What still waits in the SQLite outbox: the oldest pending delivery, and the alerts no sink
//! has received (one query over the pending items, oldest first).

use rusqlite::params;

use super::{backend, corrupt, SqliteStore};
use crate::state::{PendingReport, StateError, Undelivered};

impl SqliteStore {
    pub(super) async fn pending(
        &self,
        recorded_before: i64,
        limit: usize,
    ) -> Result<PendingReport, StateError> {
        self.with(move |c| {
            let oldest: Option<i64> = c
                .query_row(
                    "SELECT MIN(a.recorded_at) FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                     WHERE d.status = 'pending'",
                    [],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            let mut stmt = c
                .prepare(
                    "SELECT a.id, a.body, a.recorded_at, d.sink, d.last_error
                     FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                     WHERE d.status = 'pending' AND a.recorded_at <= ?1
                       AND NOT EXISTS (SELECT 1 FROM deliveries s WHERE s.alert_id = d.alert_id AND s.status = 'sent')
                     ORDER BY a.recorded_at, a.id, d.sink",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![recorded_before], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                })
                .map_err(backend)?;
            let mut undelivered: Vec<Undelivered> = Vec::new();
            for row in rows {
                let (id, body, recorded_at, sink, error) = row.map_err(backend)?;
                if let Some(last) = undelivered.last_mut().filter(|u| u.alert_id == id) {
                    last.pending.push((sink, error));
                    continue;
                }
                if undelivered.len() == limit {
                    break;
                }
                let body: serde_json::Value = serde_json::from_str(&body).map_err(corrupt)?;
                undelivered.push(Undelivered {
                    alert_id: id,
                    kind: body["type"].as_str().unwrap_or("unknown").to_string(),
                    recorded_at,
                    pending: vec![(sink, error)],
                });
            }
            Ok(PendingReport {
                oldest_recorded_at: oldest,
                undelivered,
            })
        })
        .await
    }
}
