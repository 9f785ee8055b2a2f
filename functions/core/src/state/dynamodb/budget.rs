//! The shared Graph budget on DynamoDB: one item per window (`BUDGET#{key}` / `BUDGET`) holding its state
//! and a version. A take reads the windows consistently, runs [`decide`] and writes them back conditional on
//! the versions it read (one `PutItem` for one window, a `TransactWriteItems` for several); a write that lost
//! to another worker is retried on fresh state. A worker takes a slice of slots when it has several requests
//! to send, so the hot item is written less than once a request.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use rand::Rng;

use super::items::{get_n, get_s, n, s, Item};
use super::{backend, corrupt, DynamoStore};
use crate::state::budget::{
    at_decision, decide, hold, BudgetStore, Priority, Take, WindowSpec, WindowState,
};
use crate::state::StateError;

/// Idle windows vanish a day after their last write (DynamoDB TTL): their state only matters for a minute.
const IDLE_TTL_SECS: i64 = 24 * 3600;
/// Attempts at a contended write before giving up: each loser re-reads, so a handful of workers settle fast.
const MAX_ATTEMPTS: u32 = 50;

fn window_pk(key: &str) -> String {
    format!("BUDGET#{key}")
}

impl DynamoStore {
    async fn read_windows(
        &self,
        keys: &[String],
    ) -> Result<Vec<(WindowState, Option<i64>)>, StateError> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let item = self.get_item(window_pk(key), "BUDGET").await?;
            out.push(match item {
                None => (WindowState::default(), None),
                Some(item) => {
                    let text = get_s(&item, "state")
                        .ok_or_else(|| corrupt(format!("budget window {key} without state")))?;
                    let state = serde_json::from_str(&text)
                        .map_err(|e| corrupt(format!("budget window {key}: {e}")))?;
                    (state, get_n(&item, "version"))
                }
            });
        }
        Ok(out)
    }

    /// Writes the windows back if none changed since it read `versions`; `false` when another worker won.
    async fn write_windows(
        &self,
        keys: &[String],
        states: &[WindowState],
        versions: &[Option<i64>],
        now_ms: i64,
    ) -> Result<bool, StateError> {
        let mut puts = Vec::with_capacity(keys.len());
        for ((key, state), version) in keys.iter().zip(states).zip(versions) {
            let text = serde_json::to_string(state).map_err(backend_text)?;
            let item: Item = [
                ("pk".to_string(), s(window_pk(key))),
                ("sk".to_string(), s("BUDGET")),
                ("state".to_string(), s(text)),
                ("version".to_string(), n(version.unwrap_or(0) + 1)),
                ("expires_at".to_string(), n(now_ms / 1000 + IDLE_TTL_SECS)),
            ]
            .into_iter()
            .collect();
            let (condition, expected) = match version {
                None => ("attribute_not_exists(pk)", None),
                Some(v) => ("version = :v", Some(n(*v))),
            };
            puts.push((item, condition, expected));
        }
        if let [(item, condition, expected)] = puts.as_slice() {
            let mut put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression(*condition);
            if let Some(v) = expected {
                put = put.expression_attribute_values(":v", v.clone());
            }
            return match put.send().await {
                Ok(_) => Ok(true),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
                {
                    Ok(false)
                }
                Err(e) => Err(backend(e)),
            };
        }
        let mut transaction = self.client.transact_write_items();
        for (item, condition, expected) in puts {
            let mut put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition);
            if let Some(v) = expected {
                put = put.expression_attribute_values(":v", v);
            }
            let put = put.build().map_err(backend_text)?;
            transaction = transaction.transact_items(TransactWriteItem::builder().put(put).build());
        }
        match transaction.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_transaction_canceled_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(backend(e)),
        }
    }

    /// Read, change, write back; again on fresh state when another worker wrote first.
    async fn update_windows<T>(
        &self,
        keys: &[String],
        now_ms: i64,
        change: impl Fn(&mut [WindowState], i64) -> T,
    ) -> Result<T, StateError> {
        let called = std::time::Instant::now();
        for attempt in 0..MAX_ATTEMPTS {
            let reading = std::time::Instant::now();
            let read = self.read_windows(keys).await?;
            let versions: Vec<Option<i64>> = read.iter().map(|(_, v)| *v).collect();
            let mut states: Vec<WindowState> = read.into_iter().map(|(st, _)| st).collect();
            // Decided at this attempt's time plus what the write will take (about what the read took): a grant
            // recorded at the time of the first attempt would look older than the request it lets out, and leave
            // the window early (seen at 200 tenants on moto: 3 x 429 with four workers racing for one item).
            let answer = change(
                &mut states,
                at_decision(now_ms, called) + reading.elapsed().as_millis() as i64,
            );
            if self.write_windows(keys, &states, &versions, now_ms).await? {
                return Ok(answer);
            }
            // Jitter so the losers of one race do not collide again.
            let pause = rand::thread_rng().gen_range(1..=10 * u64::from(attempt + 1).min(5));
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        Err(StateError::Backend {
            backend: "dynamodb",
            reason: format!(
                "budget windows {} stayed contended for {MAX_ATTEMPTS} attempts",
                keys.join(", ")
            ),
        })
    }
}

fn backend_text(e: impl std::fmt::Display) -> StateError {
    StateError::Backend {
        backend: "dynamodb",
        reason: e.to_string(),
    }
}

#[async_trait]
impl BudgetStore for DynamoStore {
    async fn take(
        &self,
        specs: &[WindowSpec],
        priority: Priority,
        want: u32,
        now_ms: i64,
    ) -> Result<Take, StateError> {
        let keys: Vec<String> = specs.iter().map(|s| s.key.clone()).collect();
        self.update_windows(&keys, now_ms, |states, at| {
            decide(specs, states, priority, want, at)
        })
        .await
    }

    async fn hold(&self, keys: &[String], until_ms: i64) -> Result<(), StateError> {
        self.update_windows(keys, until_ms, |states, _| hold(states, until_ms))
            .await
    }
}
