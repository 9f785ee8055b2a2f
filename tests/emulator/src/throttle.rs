//! Per app + tenant request budgets for reports and signInActivity (Graph docs `throttling-limits`:
//! "Identity and access reports: 5 requests per 10 seconds per app per tenant"; "GET signInActivity:
//! 10 requests per minute"). Windows run on real monotonic time so tests with the emulated clock frozen or
//! jumping do not disturb them.

use crate::scenario::Budget;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    Reports,
    SignInActivity,
}

#[derive(Default)]
pub struct Throttle {
    windows: Mutex<HashMap<(String, String, Bucket), VecDeque<Instant>>>,
}

impl Throttle {
    /// Admits one request against every bucket in `buckets`, or answers how many seconds to wait
    /// (at least 1). A refused request consumes no budget.
    pub fn admit(&self, tenant: &str, app: &str, buckets: &[(Bucket, Budget)]) -> Result<(), u64> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0u64;
        for (bucket, budget) in buckets {
            let window = Duration::from_secs(budget.per_seconds);
            let q = windows
                .entry((tenant.to_string(), app.to_ascii_lowercase(), *bucket))
                .or_default();
            while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
                q.pop_front();
            }
            if q.len() >= budget.requests as usize {
                let frees_at = q.front().and_then(|t| t.checked_add(window)).unwrap_or(now);
                let secs = frees_at.saturating_duration_since(now).as_secs_f64().ceil() as u64;
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

    #[test]
    fn sixth_report_call_in_the_window_waits() {
        let t = Throttle::default();
        let b = [(
            Bucket::Reports,
            Budget {
                requests: 5,
                per_seconds: 10,
            },
        )];
        for _ in 0..5 {
            assert!(t.admit("t", "a", &b).is_ok());
        }
        let wait = t.admit("t", "a", &b).expect_err("over budget");
        assert!((1..=10).contains(&wait));
        assert!(t.admit("t", "other-app", &b).is_ok(), "budgets are per app");
    }
}
