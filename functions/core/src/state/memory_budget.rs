//! The shared Graph budget's windows in memory: one process's [`BudgetStore`] with the same
//! semantics as the SQLite and DynamoDB adapters (a lock instead of a transaction around the same
//! [`decide`] and [`hold`]). For tests and for `benches/graph_budget.rs`, which drives the real
//! decision over simulated time through [`MemoryBudget::take_now`] without an async runtime.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::budget::{decide, hold, BudgetStore, Priority, Take, WindowSpec, WindowState};
use super::StateError;

/// Windows by key, behind one lock: two callers cannot both take the last slot.
#[derive(Debug, Default)]
pub struct MemoryBudget {
    windows: Mutex<HashMap<String, WindowState>>,
}

impl MemoryBudget {
    pub fn new() -> MemoryBudget {
        MemoryBudget::default()
    }

    /// [`BudgetStore::take`] without the future: load the named windows, [`decide`], store them.
    pub fn take_now(
        &self,
        specs: &[WindowSpec],
        priority: Priority,
        want: u32,
        now_ms: i64,
    ) -> Take {
        let mut windows = self.lock();
        let mut states: Vec<WindowState> = specs
            .iter()
            .map(|s| windows.get(&s.key).cloned().unwrap_or_default())
            .collect();
        let take = decide(specs, &mut states, priority, want, now_ms);
        for (spec, state) in specs.iter().zip(states) {
            windows.insert(spec.key.clone(), state);
        }
        take
    }

    /// [`BudgetStore::hold`] without the future.
    pub fn hold_now(&self, keys: &[String], until_ms: i64) {
        let mut windows = self.lock();
        for key in keys {
            hold(
                std::slice::from_mut(windows.entry(key.clone()).or_default()),
                until_ms,
            );
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, WindowState>> {
        self.windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl BudgetStore for MemoryBudget {
    async fn take(
        &self,
        specs: &[WindowSpec],
        priority: Priority,
        want: u32,
        now_ms: i64,
    ) -> Result<Take, StateError> {
        Ok(self.take_now(specs, priority, want, now_ms))
    }

    async fn hold(&self, keys: &[String], until_ms: i64) -> Result<(), StateError> {
        self.hold_now(keys, until_ms);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_shared_by_key_and_a_hold_reaches_every_caller() {
        let budget = MemoryBudget::new();
        let app = WindowSpec {
            key: "app#a#reports".into(),
            limit: 2,
            span_ms: 1_000,
        };
        let tenant = |t: &str| WindowSpec {
            key: format!("app#a#tenant#{t}#reports"),
            limit: 5,
            span_ms: 1_000,
        };
        let t1 = [app.clone(), tenant("t1")];
        let t2 = [app, tenant("t2")];
        assert_eq!(
            budget.take_now(&t1, Priority::Urgent, 1, 0),
            Take::Granted { count: 1 }
        );
        assert_eq!(
            budget.take_now(&t2, Priority::Urgent, 1, 0),
            Take::Granted { count: 1 }
        );
        assert_eq!(
            budget.take_now(&t1, Priority::Urgent, 1, 10),
            Take::Wait { ms: 990 }
        );
        budget.hold_now(&["app#a#reports".to_string()], 5_000);
        assert_eq!(
            budget.take_now(&t2, Priority::Urgent, 1, 1_000),
            Take::Wait { ms: 4_000 }
        );
    }
}
