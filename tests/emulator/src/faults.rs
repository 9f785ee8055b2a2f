//! Fault injection (`fail_next`, latency, throttle switch, an app held at 429, a lossy `eq null` filter) and request
//! statistics.

use crate::throttle::{whole_seconds_until, Stamp};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One injected failure: the next request answers `status`, optionally with `Retry-After`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InjectedFault {
    pub status: u16,
    pub retry_after_secs: Option<u64>,
}

/// Cheap-to-clone handle to steer failures from tests.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    inner: Arc<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    /// Pending faults as (fault, how many more requests get it), so a huge count costs no memory.
    queue: Mutex<VecDeque<(InjectedFault, u32)>>,
    latency_ms: AtomicU64,
    throttle_disabled: AtomicBool,
    /// Apps (lower-cased client id) whose reports requests answer 429 in every tenant until a stamp.
    held_apps: Mutex<HashMap<String, HeldApp>>,
    /// `signInActivity/lastSuccessfulSignInDateTime eq null` leaves out users whose signInActivity lacks the
    /// property (issue 14: whether Graph's filter matches every "never" shape is unconfirmed, REFERENCE.md §1).
    null_filter_skips_missing: AtomicBool,
}

/// An app held at 429: until when (on the throttle windows' clock) and the `Retry-After` to send.
#[derive(Clone, Copy, Debug)]
struct HeldApp {
    until: Stamp,
    retry_after_secs: Option<u64>,
}

impl Faults {
    pub(crate) fn new(throttle_enabled: bool) -> Self {
        let f = Faults::default();
        f.set_throttle(throttle_enabled);
        f
    }

    /// The next `count` requests (token, metadata and Graph; not `/_emulator`) answer `status`.
    pub fn fail_next(&self, status: u16, count: u32, retry_after_secs: Option<u64>) {
        if count > 0 {
            let fault = InjectedFault {
                status,
                retry_after_secs,
            };
            self.inner
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push_back((fault, count));
        }
    }

    pub fn set_latency(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.inner.latency_ms.store(ms, Ordering::Relaxed);
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.inner.latency_ms.load(Ordering::Relaxed))
    }

    pub fn set_throttle(&self, enabled: bool) {
        self.inner
            .throttle_disabled
            .store(!enabled, Ordering::Relaxed);
    }

    pub fn throttle_enabled(&self) -> bool {
        !self.inner.throttle_disabled.load(Ordering::Relaxed)
    }

    /// Makes `lastSuccessfulSignInDateTime eq null` skip users with no such property (no `signInActivity`, or one
    /// without the field), as a Graph whose filter knows only the explicit `null` would; `false` ends it.
    pub fn set_null_filter_skips_missing(&self, on: bool) {
        self.inner
            .null_filter_skips_missing
            .store(on, Ordering::Relaxed);
    }

    pub fn null_filter_skips_missing(&self) -> bool {
        self.inner.null_filter_skips_missing.load(Ordering::Relaxed)
    }

    pub(crate) fn take(&self) -> Option<InjectedFault> {
        let mut q = self.inner.queue.lock().unwrap_or_else(|p| p.into_inner());
        let (fault, left) = q.front_mut()?;
        let fault = *fault;
        *left -= 1;
        if *left == 0 {
            q.pop_front();
        }
        Some(fault)
    }

    /// Every reports request (sign-ins, audits, signInActivity) of `client_id`, in every tenant, answers 429
    /// until `until`, as Graph does once an app has spent its app-wide budget; `Retry-After` is
    /// `retry_after_secs`, or by default the time left. `until` at or before now ends the hold.
    pub(crate) fn hold_app(&self, client_id: &str, until: Stamp, retry_after_secs: Option<u64>) {
        let held = HeldApp {
            until,
            retry_after_secs,
        };
        self.held_apps()
            .insert(client_id.to_ascii_lowercase(), held);
    }

    /// The `Retry-After` for a reports request of `client_id` at `now`, while the app is held.
    pub(crate) fn app_held(&self, client_id: &str, now: Stamp) -> Option<u64> {
        let mut held = self.held_apps();
        let key = client_id.to_ascii_lowercase();
        let h = *held.get(&key)?;
        if now >= h.until {
            held.remove(&key);
            return None;
        }
        Some(
            h.retry_after_secs
                .unwrap_or_else(|| whole_seconds_until(h.until, now)),
        )
    }

    fn held_apps(&self) -> std::sync::MutexGuard<'_, HashMap<String, HeldApp>> {
        self.inner
            .held_apps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Drops pending `fail_next` faults, ends every app hold and the lossy `eq null` filter.
    pub fn clear(&self) {
        self.set_null_filter_skips_missing(false);
        self.inner
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.held_apps().clear();
    }
}

/// A snapshot of what the emulator has served since start or the last reset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub requests_total: u64,
    /// Keys: `token`, `metadata`, `reports`, `sign_in_activity`, `directory`. A `/users` request with
    /// signInActivity counts under both `sign_in_activity` and `reports` (it spends both budgets), so the
    /// families can sum to more than `requests_total`.
    pub by_family: BTreeMap<String, u64>,
    pub throttled_429: u64,
    pub injected_faults: u64,
    /// Requests carrying `x-ms-throttle-priority` (Graph docs `throttling`: accepted, no effect here).
    pub throttle_priority_requests: u64,
}

impl Stats {
    pub fn family(&self, name: &str) -> u64 {
        self.by_family.get(name).copied().unwrap_or(0)
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct StatsCell(Arc<Mutex<Stats>>);

impl StatsCell {
    pub(crate) fn update(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }
    pub(crate) fn snapshot(&self) -> Stats {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
    pub(crate) fn reset(&self) {
        self.update(|s| *s = Stats::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_next_serves_each_fault_count_times_in_order() {
        let f = Faults::new(true);
        f.fail_next(503, 2, Some(1));
        f.fail_next(429, u32::MAX, None);
        assert_eq!(f.take().map(|x| x.status), Some(503));
        assert_eq!(f.take().map(|x| x.status), Some(503));
        assert_eq!(
            f.take(),
            Some(InjectedFault {
                status: 429,
                retry_after_secs: None
            })
        );
        f.clear();
        assert_eq!(f.take(), None);
    }

    #[test]
    fn a_held_app_answers_429_until_its_time_then_not() {
        let f = Faults::new(true);
        let at = Duration::from_secs;
        f.hold_app("App-1", at(110), None);
        assert_eq!(
            f.app_held("app-1", at(100)),
            Some(10),
            "time left by default"
        );
        assert_eq!(f.app_held("other", at(100)), None);
        f.hold_app("app-1", at(110), Some(3));
        assert_eq!(f.app_held("APP-1", at(109)), Some(3));
        assert_eq!(f.app_held("app-1", at(110)), None);
        f.hold_app("app-1", at(200), None);
        f.clear();
        assert_eq!(f.app_held("app-1", at(100)), None);
    }
}
