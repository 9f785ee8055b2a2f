//! When to retry, and how long to wait (Graph docs `throttling.md`: honour `Retry-After`; without it back off
//! exponentially; REFERENCE §4: 503 and 504 are transient too).

use std::time::Duration;

use rand::Rng;

const BASE: Duration = Duration::from_secs(1);
const CAP: Duration = Duration::from_secs(30);

/// Statuses worth another attempt.
pub(crate) fn is_transient(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
}

/// `Retry-After` in delay-seconds, the form Graph sends. An HTTP-date or garbage gives `None` (then backoff).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// "Full jitter" backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in
/// `[0, min(cap, base * 2^retry)]`, so clients that failed together do not retry together.
pub(crate) fn backoff(retry: u32, rng: &mut impl Rng) -> Duration {
    let ceiling = BASE
        .saturating_mul(2u32.saturating_pow(retry.min(16)))
        .min(CAP);
    rng.gen_range(Duration::ZERO..=ceiling)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn retry_after_seconds_parse_and_dates_do_not() {
        assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), None);
    }

    #[test]
    fn backoff_stays_under_the_doubling_ceiling_and_the_cap() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for retry in 0..40 {
            let ceiling = Duration::from_secs(1u64 << retry.min(5)).min(CAP);
            for _ in 0..50 {
                assert!(backoff(retry, &mut rng) <= ceiling);
            }
        }
    }
}
