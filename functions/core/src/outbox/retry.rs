//! When a failed delivery is tried again.

use std::time::Duration;

/// Exponential backoff across runs. Defaults: 5 attempts before `delivery.failing` is raised,
/// first retry after 30 s, doubling, capped at 15 min; after the last counted attempt the item
/// stays pending and is retried every `max_delay` forever (never dropped, SPEC.md "Alerts").
/// Standard Webhooks ("Deliverability and reliability") recommends a schedule spanning days with
/// exponential backoff; entrawatch's runs are themselves scheduled, and only one item per failing
/// sink is tried in a dispatch (the others wait with it), so a cap of 15 minutes costs one request
/// per sink per quarter hour and delivers a critical alert at most that long after the sink is back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Failed attempts after which the sink is reported as failing.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(15 * 60),
        }
    }
}

impl RetryPolicy {
    /// Seconds to wait after the `attempts`-th failed attempt (1-based), at least the sink's
    /// `Retry-After` (Slack 429, REFERENCE.md §8), at most `max_delay` even when `Retry-After` asks
    /// for more.
    pub fn delay_after(&self, attempts: u32, retry_after: Option<Duration>) -> i64 {
        let exp = attempts.saturating_sub(1).min(30);
        let backoff = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let wait = retry_after.map_or(backoff, |r| r.min(self.max_delay).max(backoff));
        wait.as_secs().max(1) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_stays_at_the_cap() {
        let p = RetryPolicy::default();
        let delays: Vec<i64> = (1..=9).map(|a| p.delay_after(a, None)).collect();
        assert_eq!(delays, vec![30, 60, 120, 240, 480, 900, 900, 900, 900]);
        assert_eq!(p.delay_after(200, None), 900);
    }

    #[test]
    fn retry_after_longer_than_the_backoff_wins() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_after(1, Some(Duration::from_secs(120))), 120);
        assert_eq!(p.delay_after(3, Some(Duration::from_secs(1))), 120);
    }

    #[test]
    fn a_retry_after_of_a_day_waits_no_longer_than_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_after(1, Some(Duration::from_secs(86_400))), 900);
    }
}
