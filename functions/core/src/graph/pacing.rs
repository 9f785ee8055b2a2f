//! Client-side pacing: wait before sending rather than collect 429s.
//!
//! Graph throttles per app per tenant (Graph docs `throttling-limits.md`), so each client (one per tenant) keeps a
//! sliding window of send times per family. A request may count against several families (a `/users` page
//! selecting `signInActivity` is both a report and a sign-in-activity read, REFERENCE §4).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;
use url::Url;

use super::settings::{PacingLimits, RateWindow};

/// The throttling families Graph applies different limits to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Identity and access reports: `/auditLogs/*`, and `/users` with `signInActivity`.
    Reports,
    /// `/users` selecting or filtering `signInActivity`.
    SignInActivity,
    /// Everything else.
    Directory,
}

impl Family {
    /// The families a GET to `url` counts against.
    pub fn of(url: &Url) -> &'static [Family] {
        let path = url.path();
        let mentions_sign_in_activity = url.query_pairs().any(|(name, value)| {
            matches!(&*name, "$select" | "$filter") && value.contains("signInActivity")
        });
        if path.contains("/auditLogs/") {
            &[Family::Reports]
        } else if mentions_sign_in_activity && path.contains("/users") {
            &[Family::Reports, Family::SignInActivity]
        } else {
            &[Family::Directory]
        }
    }

    fn index(self) -> usize {
        match self {
            Family::Reports => 0,
            Family::SignInActivity => 1,
            Family::Directory => 2,
        }
    }
}

#[derive(Debug)]
struct FamilyState {
    limit: Option<RateWindow>,
    sent: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

impl FamilyState {
    /// How long until one more request fits, or zero.
    fn wait(&mut self, now: Instant) -> Duration {
        let blocked = self
            .blocked_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        let Some(limit) = self.limit else {
            return blocked;
        };
        // Graph measures the window at its end, after network latency: a 5% margin (at least 50 ms) keeps a
        // request sent exactly one window later from landing inside Graph's window.
        let span = limit.per + (limit.per / 20).max(Duration::from_millis(50));
        while self
            .sent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= span)
        {
            self.sent.pop_front();
        }
        let full = self.sent.len() >= limit.requests.max(1) as usize;
        let window_wait = match self.sent.front() {
            Some(oldest) if full => (*oldest + span).saturating_duration_since(now),
            _ => Duration::ZERO,
        };
        blocked.max(window_wait)
    }
}

/// Per-client pacing state for all families.
#[derive(Debug)]
pub(crate) struct Pacer {
    families: Mutex<[FamilyState; 3]>,
}

impl Pacer {
    pub fn new(limits: PacingLimits) -> Self {
        let state = |limit| FamilyState {
            limit,
            sent: VecDeque::new(),
            blocked_until: None,
        };
        Pacer {
            families: Mutex::new([
                state(limits.reports),
                state(limits.sign_in_activity),
                state(limits.directory),
            ]),
        }
    }

    /// Records a send in every family and returns `Ok` when all have room now; otherwise records nothing and
    /// returns how long to wait before asking again.
    pub fn try_acquire(&self, families: &[Family], now: Instant) -> Result<(), Duration> {
        let mut state = self
            .families
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let wait = families
            .iter()
            .map(|f| state[f.index()].wait(now))
            .max()
            .unwrap_or(Duration::ZERO);
        if !wait.is_zero() {
            return Err(wait);
        }
        for family in families {
            let entry = &mut state[family.index()];
            if entry.limit.is_some() {
                entry.sent.push_back(now);
            }
        }
        Ok(())
    }

    /// How long from `now` until the last of `requests` more requests of these families may go out, each sent as
    /// soon as pacing lets it: what Graph's budget says they take at least (latency not included). Replays the
    /// sliding windows, so a burst that still fits the current windows costs nothing and the rest goes at each
    /// family's pace; a 429's hold counts too.
    pub fn time_for(&self, families: &[Family], requests: u64, now: Instant) -> Duration {
        let mut state = self
            .families
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut start = now;
        // Per paced family: at most `requests` in any `span`, and the send times that still count (oldest first).
        let mut lanes: Vec<(usize, Duration, VecDeque<Instant>)> = Vec::new();
        for family in families {
            let entry = &mut state[family.index()];
            entry.wait(now); // drops sends that left the window
            if let Some(until) = entry.blocked_until {
                start = start.max(until);
            }
            if let Some(limit) = entry.limit {
                let span = limit.per + (limit.per / 20).max(Duration::from_millis(50));
                lanes.push((limit.requests.max(1) as usize, span, entry.sent.clone()));
            }
        }
        let mut last = start;
        for _ in 0..requests {
            let mut at = last;
            for (allowed, span, sent) in &mut lanes {
                if sent.len() >= *allowed {
                    if let Some(oldest) = sent.get(sent.len() - *allowed) {
                        at = at.max(*oldest + *span);
                    }
                }
            }
            for (allowed, _, sent) in &mut lanes {
                sent.push_back(at);
                while sent.len() > *allowed {
                    sent.pop_front();
                }
            }
            last = at;
        }
        last.saturating_duration_since(now)
    }

    /// Holds every request of these families until `until` (a 429's Retry-After applies to the whole family).
    pub fn block(&self, families: &[Family], until: Instant) {
        let mut state = self
            .families
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for family in families {
            let entry = &mut state[family.index()];
            entry.blocked_until = Some(
                entry
                    .blocked_until
                    .map_or(until, |current| current.max(until)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("test url {s}: {e}"))
    }

    fn five_per_two_seconds() -> Pacer {
        let window = Some(RateWindow::new(5, Duration::from_secs(2)));
        Pacer::new(PacingLimits {
            reports: window,
            sign_in_activity: None,
            directory: None,
        })
    }

    #[test]
    fn users_selecting_sign_in_activity_count_as_reports_and_sign_in_activity() {
        let families = Family::of(&url(
            "https://g/v1.0/users?%24select=id%2CsignInActivity&%24top=500",
        ));
        assert_eq!(families, &[Family::Reports, Family::SignInActivity]);
        assert_eq!(
            Family::of(&url("https://g/v1.0/users?$select=id")),
            &[Family::Directory]
        );
        assert_eq!(
            Family::of(&url("https://g/beta/auditLogs/signIns")),
            &[Family::Reports]
        );
    }

    #[test]
    fn sixth_request_in_a_window_waits_for_the_oldest_to_leave() {
        let pacer = five_per_two_seconds();
        let start = Instant::now();
        for i in 0..5 {
            assert_eq!(
                pacer.try_acquire(&[Family::Reports], start + Duration::from_millis(i * 10)),
                Ok(())
            );
        }
        let wait = pacer.try_acquire(&[Family::Reports], start + Duration::from_millis(100));
        assert_eq!(wait, Err(Duration::from_millis(2_000)));
        assert_eq!(
            pacer.try_acquire(&[Family::Directory], start + Duration::from_millis(100)),
            Ok(())
        );
        assert_eq!(
            pacer.try_acquire(&[Family::Reports], start + Duration::from_millis(2_100)),
            Ok(())
        );
    }

    const PAGE: &[Family] = &[Family::Reports, Family::SignInActivity];

    #[test]
    fn the_budget_counts_a_burst_that_fits_as_free_and_the_rest_at_the_families_pace() {
        // Graph's limits: reports 5 / 10 s, signInActivity 10 / 60 s, each window with its 5% margin.
        let pacer = Pacer::new(PacingLimits::default());
        let now = Instant::now();
        assert_eq!(pacer.time_for(PAGE, 0, now), Duration::ZERO);
        assert_eq!(
            pacer.time_for(PAGE, 5, now),
            Duration::ZERO,
            "five fit the reports window"
        );
        assert_eq!(pacer.time_for(PAGE, 6, now), Duration::from_millis(10_500));
        assert_eq!(
            pacer.time_for(PAGE, 11, now),
            Duration::from_secs(63),
            "the eleventh waits for the signInActivity window"
        );
        // Pages 10 to 99 go ten a window after the first ten: nine windows more.
        assert_eq!(
            pacer.time_for(PAGE, 100, now),
            Duration::from_millis(10_500 + 9 * 63_000)
        );
        assert_eq!(
            pacer.time_for(&[Family::Directory], 1_000, now),
            Duration::ZERO,
            "1,000 directory reads fit one window"
        );
        assert!(
            pacer.try_acquire(PAGE, now).is_ok(),
            "estimating sends nothing"
        );
    }

    #[test]
    fn the_budget_starts_from_what_was_sent_and_from_a_retry_after_hold() {
        let pacer = five_per_two_seconds();
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(pacer.try_acquire(&[Family::Reports], start), Ok(()));
        }
        let later = start + Duration::from_millis(100);
        let wait = pacer.try_acquire(&[Family::Reports], later).unwrap_err();
        assert_eq!(pacer.time_for(&[Family::Reports], 1, later), wait);
        pacer.block(&[Family::Reports], later + Duration::from_secs(5));
        assert_eq!(
            pacer.time_for(&[Family::Reports], 1, later),
            Duration::from_secs(5)
        );
        assert_eq!(
            pacer.time_for(&[Family::Directory], 3, later),
            Duration::ZERO,
            "other families are not held"
        );
    }

    #[test]
    fn block_holds_the_family_until_retry_after_passes() {
        let pacer = Pacer::new(PacingLimits::unlimited());
        let now = Instant::now();
        pacer.block(&[Family::Reports], now + Duration::from_secs(3));
        assert_eq!(
            pacer.try_acquire(&[Family::Reports, Family::SignInActivity], now),
            Err(Duration::from_secs(3))
        );
        assert_eq!(
            pacer.try_acquire(&[Family::Reports], now + Duration::from_secs(3)),
            Ok(())
        );
    }
}
