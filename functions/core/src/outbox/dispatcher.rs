//! Sends due deliveries, marks them sent, and reschedules failures with backoff. Each item is
//! claimed before it is sent ([`OutboxStore::claim`]), so any number of dispatchers (fan-out
//! workers, both scheduled functions, CLI runs) can work one store at once and each (alert, sink)
//! is posted once. A dispatcher that dies between posting and recording leaves its claim to
//! expire; the next dispatcher re-sends with the same id (at-least-once; receivers deduplicate on
//! `webhook-id` / `dedup_key`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

use super::outage::Outages;
use super::{Outbox, RetryPolicy};
use crate::alert::Alert;
use crate::sinks::{Sink, SinkError, SEND_TIMEOUT};
use crate::state::{CursorStore, Delivery, DeliveryKey, OutboxStore, StateError};

/// Deliveries listed per batch.
const BATCH: usize = 200;
/// How long a claim holds: well over one send ([`SEND_TIMEOUT`]) and the write that records it,
/// short enough that a dead dispatcher's items go out again within a few minutes.
pub const CLAIM_SECS: i64 = 120;

/// What one dispatch did.
#[derive(Debug, Default)]
pub struct DispatchReport {
    /// (sink, alert) for every successful send, in order.
    pub delivered: Vec<(String, Alert)>,
    pub retried: usize,
    pub failed: usize,
    /// `delivery.failing` alerts recorded by this dispatch.
    pub failing_alerts: usize,
    /// Sends whose claim another dispatcher had taken over by the time they were recorded (the
    /// send took longer than [`CLAIM_SECS`]): that (alert, sink) may be posted twice.
    pub claims_lost: usize,
    /// Claim writes made (sends and waits with a failing sink): one per item when a dispatcher
    /// works alone; more when several contend for the same items.
    pub claims_tried: usize,
    /// The time budget ran out with items still due: the next dispatch takes them.
    pub unfinished: bool,
}

impl DispatchReport {
    /// Adds what a later dispatch of the same run did.
    pub fn absorb(&mut self, other: DispatchReport) {
        self.delivered.extend(other.delivered);
        self.retried += other.retried;
        self.failed += other.failed;
        self.failing_alerts += other.failing_alerts;
        self.claims_lost += other.claims_lost;
        self.claims_tried += other.claims_tried;
        self.unfinished = other.unfinished;
    }
}

pub struct Dispatcher {
    outbox_store: Arc<dyn OutboxStore>,
    sinks: HashMap<String, Arc<dyn Sink>>,
    policy: RetryPolicy,
    outages: Outages,
    owner: String,
    /// Whether the outages of sinks that cannot be built were recorded: once per dispatcher, not
    /// on each of a run's dispatches.
    unavailable_checked: AtomicBool,
}

impl Dispatcher {
    /// `outbox` is used to record `delivery.failing` alerts with the same routing as any other.
    /// The dispatcher claims as a unique owner; [`Dispatcher::with_owner`] names it.
    pub fn new(
        outbox_store: Arc<dyn OutboxStore>,
        cursors: Arc<dyn CursorStore>,
        outbox: Outbox,
        sinks: Vec<Arc<dyn Sink>>,
        policy: RetryPolicy,
    ) -> Dispatcher {
        let sinks = sinks
            .into_iter()
            .map(|s| (s.name().to_string(), s))
            .collect();
        Dispatcher {
            outbox_store,
            sinks,
            policy,
            outages: Outages::new(cursors, outbox),
            owner: format!("dispatcher-{}", uuid::Uuid::new_v4()),
            unavailable_checked: AtomicBool::new(false),
        }
    }

    /// Claims as `owner` (unique per process and run, e.g. the run's lease owner).
    pub fn with_owner(mut self, owner: impl Into<String>) -> Dispatcher {
        self.owner = owner.into();
        self
    }

    /// Delivers everything due at `now` (epoch seconds), with no time limit.
    pub async fn dispatch(&self, now: i64) -> Result<DispatchReport, StateError> {
        self.dispatch_within(now, None).await
    }

    /// Delivers everything due at `now`, the current time: the dispatcher advances it with a
    /// monotonic clock while it works, so its claims expire on time. With a `budget`, it starts no
    /// send that could not finish within it and leaves the rest for the next dispatch. A sink that
    /// fails is not tried again in this dispatch: its other due items wait for the same retry
    /// time without using an attempt.
    pub async fn dispatch_within(
        &self,
        now: i64,
        budget: Option<Duration>,
    ) -> Result<DispatchReport, StateError> {
        let started = Instant::now();
        let clock = || now + started.elapsed().as_secs() as i64;
        // A send is started only with room for it: the sink timeout, or a quarter of a shorter
        // budget (a send killed halfway leaves its claim to expire and is sent again).
        let out_of_time =
            || budget.is_some_and(|b| started.elapsed() + SEND_TIMEOUT.min(b / 4) >= b);
        let mut report = DispatchReport::default();
        let check = !self.unavailable_checked.swap(true, Ordering::SeqCst);
        for sink in self.sinks.values().filter(|_| check) {
            if let Some(reason) = sink.unavailable() {
                self.outages
                    .raise(None, sink.name(), 0, reason, clock(), &mut report)
                    .await?;
            }
        }
        let mut down: HashMap<String, i64> = HashMap::new();
        let mut tried: HashSet<DeliveryKey> = HashSet::new();
        let mut recovered: HashSet<String> = HashSet::new();
        // Whether another dispatcher has been seen working this store in this dispatch.
        let mut contended = false;
        'batches: loop {
            let keys = self.outbox_store.due_keys(clock(), BATCH).await?;
            let full = keys.len() == BATCH;
            let mut fresh: Vec<DeliveryKey> =
                keys.into_iter().filter(|k| !tried.contains(k)).collect();
            if fresh.is_empty() {
                break;
            }
            if contended {
                // Dispatchers racing on one store start at different places in the list, so
                // they spread over it instead of all claiming its first items. Alone, a
                // dispatcher keeps the oldest-first order.
                let start = rand::thread_rng().gen_range(0..fresh.len());
                fresh.rotate_left(start);
            }
            for key in fresh {
                if out_of_time() {
                    report.unfinished = true;
                    break 'batches;
                }
                tried.insert(key.clone());
                report.claims_tried += 1;
                let t = clock();
                if let Some(&next) = down.get(&key.sink) {
                    // Wait with the sink's failed item; a claim until then takes no attempt.
                    self.outbox_store.claim(&key, &self.owner, t, next).await?;
                    continue;
                }
                let Some(d) = self
                    .outbox_store
                    .claim(&key, &self.owner, t, t + CLAIM_SECS)
                    .await?
                else {
                    // Another dispatcher is working here. The items it claimed have left the due
                    // set: list again rather than try each of them (a failed conditional write
                    // still costs a write on DynamoDB).
                    contended = true;
                    continue 'batches;
                };
                if let Some(next) = self
                    .deliver(&key, &d, &clock, &mut report, &mut recovered)
                    .await?
                {
                    down.insert(key.sink.clone(), next);
                }
            }
            if !full {
                break;
            }
        }
        Ok(report)
    }

    /// One claimed delivery. Returns the next attempt time when the sink failed with a retryable
    /// error.
    async fn deliver(
        &self,
        key: &DeliveryKey,
        d: &Delivery,
        clock: &impl Fn() -> i64,
        report: &mut DispatchReport,
        recovered: &mut HashSet<String>,
    ) -> Result<Option<i64>, StateError> {
        let attempts = d.attempts + 1;
        let alert = match Alert::from_json(&d.alert) {
            Ok(a) => a,
            Err(reason) => {
                // A stored record that does not parse must not stop every other delivery.
                tracing::error!(sink = %d.sink, alert_id = %d.alert_id, error = %reason, "stored alert is unreadable; kept as failed");
                let reason = format!("stored alert is unreadable: {reason}");
                self.settle(
                    self.outbox_store
                        .mark_failed(key, &self.owner, attempts, &reason, clock())
                        .await,
                    report,
                )?;
                report.failed += 1;
                return Ok(None);
            }
        };
        let result = match self.sinks.get(&d.sink) {
            Some(sink) => sink.send(&alert).await,
            None => Err(SinkError::retry(format!(
                "sink {} is not in the configuration",
                d.sink
            ))),
        };
        let now = clock();
        match result {
            Ok(()) => {
                let marked = self.outbox_store.mark_sent(key, &self.owner, now).await;
                self.settle(marked, report)?;
                tracing::info!(sink = %d.sink, alert_id = %d.alert_id, alert_type = %alert.kind, attempts, "alert delivered");
                if recovered.insert(d.sink.clone()) {
                    self.outages.clear(&d.sink).await?;
                }
                report.delivered.push((d.sink.clone(), alert));
                Ok(None)
            }
            Err(SinkError::Retry {
                reason,
                retry_after,
            }) => {
                let next = now + self.policy.delay_after(attempts, retry_after);
                let rescheduled = self
                    .outbox_store
                    .reschedule(key, &self.owner, attempts, next, &reason)
                    .await;
                self.settle(rescheduled, report)?;
                tracing::warn!(sink = %d.sink, alert_id = %d.alert_id, attempts, next_attempt_at = next, error = %reason, "delivery failed; will retry");
                report.retried += 1;
                if attempts >= self.policy.max_attempts {
                    self.outages
                        .raise(Some(&alert), &d.sink, attempts, &reason, now, report)
                        .await?;
                }
                Ok(Some(next))
            }
            Err(SinkError::Reject { reason }) => {
                let marked = self
                    .outbox_store
                    .mark_failed(key, &self.owner, attempts, &reason, now)
                    .await;
                self.settle(marked, report)?;
                tracing::error!(sink = %d.sink, alert_id = %d.alert_id, error = %reason, "sink refused the alert; kept as failed");
                report.failed += 1;
                self.outages
                    .rejected(&alert, &d.sink, attempts, &reason, now, report)
                    .await?;
                Ok(None)
            }
        }
    }

    /// A write after a send: a lost claim is counted and logged (the item is someone else's now),
    /// any other store error stops the dispatch.
    fn settle(
        &self,
        result: Result<(), StateError>,
        report: &mut DispatchReport,
    ) -> Result<(), StateError> {
        match result {
            Err(StateError::ClaimLost { alert_id, sink, .. }) => {
                tracing::warn!(sink = %sink, alert_id = %alert_id, owner = %self.owner, "claim expired during the send and another dispatcher took the item; it may be posted twice");
                report.claims_lost += 1;
                Ok(())
            }
            other => other,
        }
    }
}
