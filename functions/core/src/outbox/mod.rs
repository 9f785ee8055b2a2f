//! The outbox: jobs record alerts here in the same step that records what they saw; the
//! [`Dispatcher`] delivers them. Routing is decided when an alert is recorded, as one delivery
//! item per (alert, sink), so a Slack outage never re-sends to a webhook that already succeeded.
//! Delivery is at-least-once with the stable alert id (SPEC.md "Alerts").

mod dispatcher;
mod heartbeat;
mod outage;
mod retry;

pub use dispatcher::{DispatchReport, Dispatcher, CLAIM_SECS};
pub use heartbeat::record_heartbeats;
pub use retry::RetryPolicy;

use std::sync::Arc;

use crate::alert::{Alert, Route};
use crate::config::SinkConfig;
use crate::state::{OutboxStore, Recorded, StateError};

/// Records alerts with their routing.
#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn OutboxStore>,
    routes: Vec<Route>,
}

impl Outbox {
    pub fn new(store: Arc<dyn OutboxStore>, routes: Vec<Route>) -> Outbox {
        Outbox { store, routes }
    }

    /// An outbox routing by the `[[sinks]]` configuration.
    pub fn from_config(store: Arc<dyn OutboxStore>, sinks: &[SinkConfig]) -> Outbox {
        Outbox::new(store, sinks.iter().map(Route::from_config).collect())
    }

    /// The names of the sinks whose routing accepts `alert`.
    pub fn sinks_for(&self, alert: &Alert) -> Vec<String> {
        self.routes
            .iter()
            .filter(|r| r.accepts(alert))
            .map(|r| r.sink.clone())
            .collect()
    }

    /// Records `alert` for delivery to every sink that accepts it, once per alert id ever (within
    /// the dedup TTL): `AlreadyRecorded` means an earlier run or retry already did.
    pub async fn record(&self, alert: &Alert, now: i64) -> Result<Recorded, StateError> {
        let sinks = self.sinks_for(alert);
        self.store.record(alert, &sinks, now).await
    }

    /// Records `alert` for exactly `sinks`, whatever their routing (a heartbeat for one sink).
    pub async fn record_to(
        &self,
        alert: &Alert,
        sinks: &[String],
        now: i64,
    ) -> Result<Recorded, StateError> {
        self.store.record(alert, sinks, now).await
    }

    /// Records `alert` for every accepting sink except `excluded` (`delivery.failing` about it).
    pub async fn record_excluding(
        &self,
        alert: &Alert,
        excluded: &str,
        now: i64,
    ) -> Result<Recorded, StateError> {
        let sinks: Vec<String> = self
            .sinks_for(alert)
            .into_iter()
            .filter(|s| s != excluded)
            .collect();
        self.store.record(alert, &sinks, now).await
    }
}
