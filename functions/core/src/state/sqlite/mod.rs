//! SQLite adapter of the state port: one file, the embedded default for the CLI and the demo.
//! Same semantics as DynamoDB: conditional writes run inside `BEGIN IMMEDIATE` transactions (the
//! write lock is taken up front, so two processes cannot both pass the same check), the file is
//! in WAL mode so readers never block the writer, and a busy timeout waits out the other writer.

mod budget;
mod lease;
mod migrate;
mod outbox;
mod pending;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde_json::Value;

use super::{CursorStore, Finding, FindingStatus, FindingStore, SeenStore, StateError};

const BACKEND: &str = "sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (tenant TEXT, job TEXT, value TEXT NOT NULL, PRIMARY KEY (tenant, job));
CREATE TABLE IF NOT EXISTS findings (tenant TEXT, job TEXT, key TEXT, status TEXT NOT NULL,
  first_seen INTEGER NOT NULL, last_notified INTEGER, resolved_at INTEGER, data TEXT NOT NULL,
  expires_at INTEGER, PRIMARY KEY (tenant, job, key));
CREATE TABLE IF NOT EXISTS alerts (id TEXT PRIMARY KEY, body TEXT NOT NULL, recorded_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (alert_id TEXT, sink TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL, last_error TEXT, expires_at INTEGER, claim_owner TEXT,
  PRIMARY KEY (alert_id, sink));
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS leases (tenant TEXT, job TEXT, owner TEXT NOT NULL, until INTEGER NOT NULL,
  PRIMARY KEY (tenant, job));
CREATE TABLE IF NOT EXISTS budget_windows (key TEXT PRIMARY KEY, state TEXT NOT NULL);
";

/// The SQLite state store. Cheap to clone; each [`SqliteStore::open`] is its own connection.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

fn backend(e: impl std::fmt::Display) -> StateError {
    StateError::Backend {
        backend: BACKEND,
        reason: e.to_string(),
    }
}

fn corrupt(e: impl std::fmt::Display) -> StateError {
    StateError::Corrupt {
        backend: BACKEND,
        reason: e.to_string(),
    }
}

/// WAL mode (readers never block the writer) and the schema.
fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(SCHEMA)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl SqliteStore {
    /// Opens (creating if needed) the state file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StateError> {
        let path = path.as_ref();
        let conn = Connection::open(path)
            .map_err(|e| backend(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(backend)?;
        // Several processes opening one file at once (workers started together): switching the journal mode
        // can answer SQLITE_BUSY at once, without the busy handler (SQLite docs `pragma.html#pragma_journal_mode`,
        // `c3ref/busy_handler.html`), so the setup is tried again for a few seconds before it is an error.
        let mut attempt = 0;
        loop {
            match prepare(&conn) {
                Ok(()) => break,
                Err(e) if is_busy(&e) && attempt < 50 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(backend(e)),
            }
        }
        migrate::migrate(&conn)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection on a blocking thread (SQLite calls block).
    async fn with<T, F>(&self, f: F) -> Result<T, StateError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StateError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(backend)?
    }
}

#[async_trait]
impl SeenStore for SqliteStore {
    async fn put_if_absent(
        &self,
        key: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StateError> {
        let key = key.to_string();
        self.with(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let live: Option<i64> = tx
                .query_row(
                    "SELECT expires_at FROM seen WHERE key = ?1 AND expires_at > ?2",
                    params![key, now],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if live.is_some() {
                return Ok(false);
            }
            tx.execute(
                "INSERT OR REPLACE INTO seen (key, expires_at) VALUES (?1, ?2)",
                params![key, expires_at],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(true)
        })
        .await
    }
}

#[async_trait]
impl CursorStore for SqliteStore {
    async fn get_cursor(&self, tenant: &str, job: &str) -> Result<Option<Value>, StateError> {
        let (tenant, job) = (tenant.to_string(), job.to_string());
        self.with(move |c| {
            let text: Option<String> = c
                .query_row(
                    "SELECT value FROM cursors WHERE tenant = ?1 AND job = ?2",
                    params![tenant, job],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            text.map(|t| serde_json::from_str(&t).map_err(corrupt))
                .transpose()
        })
        .await
    }

    async fn put_cursor(&self, tenant: &str, job: &str, value: &Value) -> Result<(), StateError> {
        let (tenant, job, value) = (tenant.to_string(), job.to_string(), value.to_string());
        self.with(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO cursors (tenant, job, value) VALUES (?1, ?2, ?3)",
                params![tenant, job, value],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }
}

fn finding_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Finding, String, String)> {
    let status: String = r.get(3)?;
    let data: String = r.get(7)?;
    let finding = Finding {
        tenant: r.get(0)?,
        job: r.get(1)?,
        key: r.get(2)?,
        status: FindingStatus::Open,
        first_seen: r.get(4)?,
        last_notified: r.get(5)?,
        resolved_at: r.get(6)?,
        data: Value::Null,
        expires_at: r.get(8)?,
    };
    Ok((finding, status, data))
}

fn finish_finding((mut f, status, data): (Finding, String, String)) -> Result<Finding, StateError> {
    f.status = FindingStatus::parse(&status)
        .ok_or_else(|| corrupt(format!("finding status {status:?}")))?;
    f.data = serde_json::from_str(&data).map_err(corrupt)?;
    Ok(f)
}

const FINDING_COLUMNS: &str =
    "tenant, job, key, status, first_seen, last_notified, resolved_at, data, expires_at";

#[async_trait]
impl FindingStore for SqliteStore {
    async fn get_finding(
        &self,
        tenant: &str,
        job: &str,
        key: &str,
    ) -> Result<Option<Finding>, StateError> {
        let (tenant, job, key) = (tenant.to_string(), job.to_string(), key.to_string());
        self.with(move |c| {
            let sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE tenant = ?1 AND job = ?2 AND key = ?3");
            let row = c.query_row(&sql, params![tenant, job, key], finding_from_row).optional().map_err(backend)?;
            row.map(finish_finding).transpose()
        })
        .await
    }

    async fn put_finding(&self, f: &Finding) -> Result<(), StateError> {
        let f = f.clone();
        self.with(move |c| {
            let sql = format!("INSERT OR REPLACE INTO findings ({FINDING_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
            c.execute(
                &sql,
                params![f.tenant, f.job, f.key, f.status.as_str(), f.first_seen, f.last_notified, f.resolved_at, f.data.to_string(), f.expires_at],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn list_findings(&self, tenant: &str, job: &str) -> Result<Vec<Finding>, StateError> {
        let (tenant, job) = (tenant.to_string(), job.to_string());
        self.with(move |c| {
            let sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE tenant = ?1 AND job = ?2 ORDER BY key");
            let mut stmt = c.prepare(&sql).map_err(backend)?;
            let rows = stmt.query_map(params![tenant, job], finding_from_row).map_err(backend)?;
            rows.map(|r| r.map_err(backend).and_then(finish_finding)).collect()
        })
        .await
    }

    async fn list_findings_after(
        &self,
        tenant: &str,
        job: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Finding>, StateError> {
        let (tenant, job) = (tenant.to_string(), job.to_string());
        let after = after.map(str::to_string);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(move |c| {
            // Two statements rather than `(?3 IS NULL OR key > ?3)`, so each is a range scan of the primary key.
            let range = if after.is_some() { "AND key > ?3" } else { "AND ?3 IS NULL" };
            let sql = format!("SELECT {FINDING_COLUMNS} FROM findings WHERE tenant = ?1 AND job = ?2 {range} ORDER BY key LIMIT ?4");
            let mut stmt = c.prepare(&sql).map_err(backend)?;
            let rows = stmt.query_map(params![tenant, job, after, limit], finding_from_row).map_err(backend)?;
            rows.map(|r| r.map_err(backend).and_then(finish_finding)).collect()
        })
        .await
    }
}
