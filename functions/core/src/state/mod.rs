//! The state store port: what the jobs remember between runs. Narrow async traits, one per
//! concern, and two adapters with the same semantics: [`sqlite::SqliteStore`] (the embedded
//! default for the CLI and `entrawatch demo`) and [`dynamodb::DynamoStore`] (Lambda).
//! The conformance suite in `tests/state_conformance.rs` runs the same tests against both.
//!
//! Time is always passed in as epoch seconds (`now`), so tests never depend on the wall clock.

pub mod budget;
pub mod dynamodb;
pub mod memory_budget;
mod model;
pub mod sqlite;
mod stores;

pub use model::*;
pub use stores::Stores;

use async_trait::async_trait;
use serde_json::Value;

use crate::alert::Alert;

/// How long dedup records ("seen" markers and recorded alerts) are kept: Graph keeps sign-in and
/// audit logs 30 days on P1/P2 (REFERENCE.md §2) and a run re-reads at most its look-back window,
/// so an event can never be seen again after 30 days plus the look-back. 90 days leaves a wide
/// margin (a look-back misconfigured to days, clock skew, a restored backup).
pub const DEDUP_TTL_SECS: i64 = 90 * 24 * 3600;

/// Put-if-absent markers: "this event was already handled".
#[async_trait]
pub trait SeenStore: Send + Sync {
    /// Records `key` unless a live record exists. `true` when this call recorded it; `false` when
    /// it was already there (an expired record, `expires_at <= now`, counts as absent).
    async fn put_if_absent(&self, key: &str, now: i64, expires_at: i64)
        -> Result<bool, StateError>;
}

/// A per-tenant, per-job cursor or checkpoint, as any JSON value.
#[async_trait]
pub trait CursorStore: Send + Sync {
    async fn get_cursor(&self, tenant: &str, job: &str) -> Result<Option<Value>, StateError>;
    async fn put_cursor(&self, tenant: &str, job: &str, value: &Value) -> Result<(), StateError>;
}

/// Findings (e.g. one dormant account) with their status and timestamps.
#[async_trait]
pub trait FindingStore: Send + Sync {
    async fn get_finding(
        &self,
        tenant: &str,
        job: &str,
        key: &str,
    ) -> Result<Option<Finding>, StateError>;
    /// Creates or replaces the finding `(finding.tenant, finding.job, finding.key)`.
    async fn put_finding(&self, finding: &Finding) -> Result<(), StateError>;
    /// Every finding of a tenant and job, ordered by key.
    async fn list_findings(&self, tenant: &str, job: &str) -> Result<Vec<Finding>, StateError>;
    /// At most `limit` findings of a tenant and job whose key sorts after `after` (all when
    /// `None`), ordered by key: for walking a large set with memory bounded by `limit`. The
    /// default reads every finding; the adapters override it with a ranged query.
    async fn list_findings_after(
        &self,
        tenant: &str,
        job: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Finding>, StateError> {
        let all = self.list_findings(tenant, job).await?;
        Ok(all
            .into_iter()
            .filter(|f| after.is_none_or(|a| f.key.as_str() > a))
            .take(limit)
            .collect())
    }
}

/// The outbox: recorded alerts and one delivery item per (alert, sink).
///
/// Delivery is claimed: a dispatcher takes an item with [`OutboxStore::claim`] (one conditional
/// write) before it sends, and only the claim holder may mark it sent, reschedule or fail it. A
/// claim moves the item's next attempt time to the claim's expiry, so the item leaves the due set
/// while it is held and comes back by itself when a dispatcher dies holding it. Any number of
/// processes may dispatch from one store at once.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Records the alert and a pending delivery to each of `sinks`, due at `now`, in one
    /// conditional write on the alert id. A second record of the same id changes nothing and
    /// answers [`Recorded::AlreadyRecorded`]: the outbox entry doubles as the "seen" record.
    async fn record(
        &self,
        alert: &Alert,
        sinks: &[String],
        now: i64,
    ) -> Result<Recorded, StateError>;
    /// Pending deliveries whose next attempt time is `<= now`, oldest first, at most `limit`.
    async fn due(&self, now: i64, limit: usize) -> Result<Vec<Delivery>, StateError>;
    /// The keys of what [`OutboxStore::due`] lists, for a dispatcher that claims each item before
    /// it reads it. May include an item another dispatcher claimed a moment ago (the claim then
    /// fails); the default reads the items themselves.
    async fn due_keys(&self, now: i64, limit: usize) -> Result<Vec<DeliveryKey>, StateError> {
        Ok(self
            .due(now, limit)
            .await?
            .into_iter()
            .map(|d| DeliveryKey {
                alert_id: d.alert_id,
                sink: d.sink,
            })
            .collect())
    }
    /// Every delivery item of an alert (any status), ordered by sink name.
    async fn deliveries(&self, alert_id: &str) -> Result<Vec<Delivery>, StateError>;
    /// Claims the delivery for `owner` until `until` if it is pending and due at `now` (never
    /// claimed, or its claim expired): one conditional write. `None` when another dispatcher
    /// holds it or it is no longer due. The item is not due again before `until`.
    async fn claim(
        &self,
        key: &DeliveryKey,
        owner: &str,
        now: i64,
        until: i64,
    ) -> Result<Option<Delivery>, StateError>;
    /// Marks a delivery `owner` holds as sent; [`StateError::ClaimLost`] if another took it.
    async fn mark_sent(&self, key: &DeliveryKey, owner: &str, now: i64) -> Result<(), StateError>;
    /// Keeps a delivery `owner` holds pending with its new attempt count, next attempt time and
    /// last error, and releases the claim; [`StateError::ClaimLost`] if another took it.
    async fn reschedule(
        &self,
        key: &DeliveryKey,
        owner: &str,
        attempts: u32,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StateError>;
    /// Keeps a delivery `owner` holds, no longer due, as `failed` with the reason (a sink refused
    /// it for good); [`StateError::ClaimLost`] if another took it.
    async fn mark_failed(
        &self,
        key: &DeliveryKey,
        owner: &str,
        attempts: u32,
        reason: &str,
        now: i64,
    ) -> Result<(), StateError>;
    /// The age of the oldest pending delivery, and the alerts recorded at or before
    /// `recorded_before` that have no sent delivery and still a pending one (at most `limit`
    /// alerts, oldest first).
    async fn pending_report(
        &self,
        recorded_before: i64,
        limit: usize,
    ) -> Result<PendingReport, StateError>;
}

/// A per-tenant, per-job lease so that two overlapping runs cannot both work.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes the lease for `owner` until `now + ttl_secs` if it is free, expired or already
    /// `owner`'s; otherwise [`StateError::LeaseHeld`] names the holder and its expiry.
    async fn acquire_lease(
        &self,
        tenant: &str,
        job: &str,
        owner: &str,
        now: i64,
        ttl_secs: i64,
    ) -> Result<Lease, StateError>;
    /// Extends a lease `owner` still holds; `LeaseHeld` if someone else took it meanwhile.
    async fn renew_lease(
        &self,
        tenant: &str,
        job: &str,
        owner: &str,
        now: i64,
        ttl_secs: i64,
    ) -> Result<Lease, StateError>;
    /// Gives the lease up if `owner` holds it; does nothing otherwise.
    async fn release_lease(&self, tenant: &str, job: &str, owner: &str) -> Result<(), StateError>;
}

/// Everything a job needs from state, for wiring; functions should take the narrowest trait.
pub trait StateStore:
    SeenStore + CursorStore + FindingStore + OutboxStore + LeaseStore + budget::BudgetStore
{
}

impl<T> StateStore for T where
    T: SeenStore + CursorStore + FindingStore + OutboxStore + LeaseStore + budget::BudgetStore
{
}
