//! The shared Graph budget on SQLite: each take is one `BEGIN IMMEDIATE` transaction over the windows it
//! names, so processes sharing the file cannot both take a window's last slot.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use super::{backend, corrupt, SqliteStore};
use crate::state::budget::{decide, hold, BudgetStore, Priority, Take, WindowSpec, WindowState};
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
        self.with(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let keys: Vec<String> = specs.iter().map(|s| s.key.clone()).collect();
            let mut states = load(&tx, &keys)?;
            let take = decide(&specs, &mut states, priority, want, now_ms);
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
