//! The shared Graph budget on SQLite: each take is one `BEGIN IMMEDIATE` transaction over the windows it
//! names, so processes sharing the file cannot both take a window's last slot.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use super::{backend, corrupt, SqliteStore};
use crate::state::budget::{
    at_decision, decide, hold, BudgetStore, Priority, Take, WindowSpec, WindowState,
};
use crate::state::StateError;

#[async_trait]
impl BudgetStore for SqliteStore {
    async fn take(
        &self,
        specs: &[WindowSpec],
        priority: Priority,
        want: u32,
        now_ms: i64,
    ) -> Result<Take, StateError> {
        let specs = specs.to_vec();
        let called = std::time::Instant::now();
        self.with(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let keys: Vec<String> = specs.iter().map(|s| s.key.clone()).collect();
            let mut states = load(&tx, &keys)?;
            // A grant is recorded when it is decided, not when it was asked for: waiting for another process's
            // transaction must not make the grant look older than the request it lets out (see `at_decision`).
            let take = decide(
                &specs,
                &mut states,
                priority,
                want,
                at_decision(now_ms, called),
            );
            store(&tx, &keys, &states)?;
            tx.commit().map_err(backend)?;
            Ok(take)
        })
        .await
    }

    async fn hold(&self, keys: &[String], until_ms: i64) -> Result<(), StateError> {
        let keys = keys.to_vec();
        self.with(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let mut states = load(&tx, &keys)?;
            hold(&mut states, until_ms);
            store(&tx, &keys, &states)?;
            tx.commit().map_err(backend)?;
            Ok(())
        })
        .await
    }
}

fn load(tx: &Transaction<'_>, keys: &[String]) -> Result<Vec<WindowState>, StateError> {
    let mut states = Vec::with_capacity(keys.len());
    for key in keys {
        let text: Option<String> = tx
            .query_row(
                "SELECT state FROM budget_windows WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        states.push(match text {
            None => WindowState::default(),
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| corrupt(format!("budget window {key}: {e}")))?,
        });
    }
    Ok(states)
}

fn store(tx: &Transaction<'_>, keys: &[String], states: &[WindowState]) -> Result<(), StateError> {
    for (key, state) in keys.iter().zip(states) {
        let text = serde_json::to_string(state).map_err(backend)?;
        tx.execute(
            "INSERT OR REPLACE INTO budget_windows (key, state) VALUES (?1, ?2)",
            params![key, text],
        )
        .map_err(backend)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn a_grant_that_waited_for_another_process_is_recorded_when_it_was_decided() {
        let dir =
            std::env::temp_dir().join(format!("entrawatch-budget-wait-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.db");
        let store = SqliteStore::open(&path).unwrap();
        // Another process holds the write lock for 1.5 s.
        let blocker = rusqlite::Connection::open(&path).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(1_500));
            blocker.execute_batch("COMMIT").unwrap();
        });
        let window = [WindowSpec {
            key: "app#x#reports".into(),
            limit: 1,
            span_ms: 10_000,
        }];
        let asked = 1_000_000;
        let first = store
            .take(&window, Priority::Urgent, 1, asked)
            .await
            .unwrap();
        assert!(matches!(first, Take::Granted { count: 1 }), "{first:?}");
        release.join().unwrap();
        // Full until a span after the grant was decided (about 1.5 s after it was asked for), not after the ask.
        let later = store
            .take(&window, Priority::Urgent, 1, asked + 10_200)
            .await
            .unwrap();
        assert!(matches!(later, Take::Wait { .. }), "{later:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
