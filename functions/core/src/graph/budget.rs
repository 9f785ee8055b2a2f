//! What Graph's budget says a number of requests takes: the client's pacing windows replayed over requests not
//! yet sent, so progress can say how long a scan paced at 10 signInActivity pages a minute has left (REFERENCE.md
//! §4) instead of extrapolating from how fast its first pages came.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::pacing::{span, Family, Pacer};

impl Pacer {
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
                lanes.push((
                    limit.requests.max(1) as usize,
                    span(limit),
                    entry.sent.clone(),
                ));
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::pacing::tests::five_per_two_seconds;
    use crate::graph::PacingLimits;

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
}
