//! The emulated clock. It governs data (which log events are visible, the `iat`/`nbf`/`exp` of minted
//! validator tokens); throttle windows and Graph token lifetimes use real monotonic time instead.

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A cheap-to-clone handle on the emulated time.
///
/// By default the clock runs: `now()` is the last set value plus the real time elapsed since, so a demo
/// looks alive. Tests that want exact values call [`Clock::freeze`].
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<Mutex<ClockState>>,
}

#[derive(Debug)]
struct ClockState {
    base: DateTime<Utc>,
    set_at: Instant,
    frozen: bool,
}

impl Clock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Clock {
            inner: Arc::new(Mutex::new(ClockState {
                base: start,
                set_at: Instant::now(),
                frozen: false,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        // A poisoned clock only means a panicking test thread; the time value itself is still sound.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now(&self) -> DateTime<Utc> {
        let s = self.lock();
        if s.frozen {
            return s.base;
        }
        let elapsed = chrono::Duration::from_std(s.set_at.elapsed())
            .unwrap_or_else(|_| chrono::Duration::zero());
        s.base + elapsed
    }

    pub fn set(&self, now: DateTime<Utc>) {
        let mut s = self.lock();
        s.base = now;
        s.set_at = Instant::now();
    }

    /// Moves the clock by `by`; a move past chrono's range leaves it where it is.
    pub fn advance(&self, by: chrono::Duration) {
        let now = self.now();
        self.set(now.checked_add_signed(by).unwrap_or(now));
    }

    /// Stops (`true`) or restarts (`false`) the passage of real time on the emulated clock.
    pub fn freeze(&self, frozen: bool) {
        let now = self.now();
        let mut s = self.lock();
        s.base = now;
        s.set_at = Instant::now();
        s.frozen = frozen;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let t0 =
            DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").map(|t| t.with_timezone(&Utc));
        let t0 = t0.expect("fixed timestamp parses");
        let c = Clock::new(t0);
        c.freeze(true);
        c.set(t0);
        assert_eq!(c.now(), t0);
        c.advance(chrono::Duration::minutes(5));
        assert_eq!(c.now(), t0 + chrono::Duration::minutes(5));
    }
}
