//! Per app + tenant request budgets for reports and signInActivity (Graph docs `throttling-limits`:
//! "Identity and access reports: 5 requests per 10 seconds per app per tenant"; "GET signInActivity:
//! 10 requests per minute"). Windows run on real monotonic time so tests with the emulated clock frozen or
//! jumping do not disturb them, unless the scenario measures them on the emulated clock (the demo).

use crate::scenario::Budget;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    Reports,
    SignInActivity,
}

/// Request times, as time since an origin: real monotonic time or the emulated clock.
type Stamp = Duration;

pub struct Throttle {
    origin: Instant,
    windows: Mutex<HashMap<(String, String, Bucket), VecDeque<Stamp>>>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            origin: Instant::now(),
            windows: Mutex::default(),
        }
    }
}

/// The emulated clock as a window stamp; times before the Unix epoch count as the epoch.
pub fn emulated_now(now: DateTime<Utc>) -> Stamp {
    (now - DateTime::UNIX_EPOCH).to_std().unwrap_or_default()
}

impl Throttle {
    /// Real monotonic time as a window stamp.
    pub fn real_now(&self) -> Stamp {
        self.origin.elapsed()
    }

    /// Admits one request at `now` against every bucket in `buckets`, or answers how many seconds to wait
    /// (at least 1). A refused request consumes no budget.
    pub fn admit(
        &self,
        tenant: &str,
        app: &str,
        buckets: &[(Bucket, Budget)],
        now: Stamp,
    ) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0u64;
        for (bucket, budget) in buckets {
            let window = Duration::from_secs(budget.per_seconds);
            let q = windows
                .entry((tenant.to_string(), app.to_ascii_lowercase(), *bucket))
                .or_default();
            while q.front().is_some_and(|t| now.saturating_sub(*t) >= window) {
                q.pop_front();
            }
            if q.len() >= budget.requests as usize {
                let frees_at = q.front().map_or(now, |t| *t + window);
                let secs = frees_at.saturating_sub(now).as_secs_f64().ceil() as u64;
                wait = wait.max(secs.max(1));
            }
        }
        if wait > 0 {
            return Err(wait);
        }
        for (bucket, _) in buckets {
            if let Some(q) =
                windows.get_mut(&(tenant.to_string(), app.to_ascii_lowercase(), *bucket))
            {
                q.push_back(now);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn five_reports_per_ten_seconds() -> [(Bucket, Budget); 1] {
        [(
            Bucket::Reports,
            Budget {
                requests: 5,
                per_seconds: 10,
            },
        )]
    }

    #[test]
    fn sixth_report_call_in_the_window_waits() {
        let t = Throttle::default();
        let b = five_reports_per_ten_seconds();
        for _ in 0..5 {
            assert!(t.admit("t", "a", &b, t.real_now()).is_ok());
        }
        let wait = t
            .admit("t", "a", &b, t.real_now())
            .expect_err("over budget");
        assert!((1..=10).contains(&wait));
        assert!(
            t.admit("t", "other-app", &b, t.real_now()).is_ok(),
            "budgets are per app"
        );
    }

    #[test]
    fn on_the_emulated_clock_a_window_frees_when_that_clock_moves() {
        let t = Throttle::default();
        let b = five_reports_per_ten_seconds();
        let start = DateTime::parse_from_rfc3339("2026-12-02T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        for i in 0..5 {
            let at = start + chrono::Duration::milliseconds(i * 100);
            assert!(t.admit("t", "a", &b, emulated_now(at)).is_ok());
        }
        let later = start + chrono::Duration::seconds(4);
        assert_eq!(t.admit("t", "a", &b, emulated_now(later)), Err(6));
        let after_window = start + chrono::Duration::milliseconds(10_050);
        assert!(t.admit("t", "a", &b, emulated_now(after_window)).is_ok());
    }
}
