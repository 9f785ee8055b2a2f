//! Request budgets for reports and signInActivity, per app per tenant and per app across all tenants
//! together (Graph docs `concepts/throttling-limits.md`, 2025-01-14, "Identity and access reports service
//! limits": any reports request 5 per 10 s per app per tenant and 122 per 10 s per app; GET signInActivity
//! 10 per minute for both). Windows run on real monotonic time so tests with the emulated clock frozen or
//! jumping do not disturb them, unless the scenario measures them on the emulated clock (the demo).

use crate::scenario::{Budget, ThrottleConfig};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    Reports,
    SignInActivity,
    /// `$select=keyCredentials` on applications and service principals (per tenant).
    KeyCredentials,
    /// Conditional Access policies (per tenant, for all apps: charged to the app `*`).
    ConditionalAccess,
}

/// Whose requests a window counts: one app in one tenant, or one app in every tenant together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Tenant,
    App,
}

/// One budget a request is charged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub bucket: Bucket,
    pub scope: Scope,
    pub budget: Budget,
}

/// Request times, as time since an origin: real monotonic time or the emulated clock.
pub type Stamp = Duration;

/// A window: the lower-cased app id, the tenant (`None` for the app-wide window) and the bucket.
type WindowKey = (String, Option<String>, Bucket);

pub struct Throttle {
    origin: Instant,
    windows: Mutex<HashMap<WindowKey, VecDeque<Stamp>>>,
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

    /// Admits one request of `app` in `tenant` at `now` against every limit, or answers how many seconds to
    /// wait (at least 1) until all of them have room. A refused request consumes no budget in any window, so
    /// a tenant refused by its own window does not spend the app-wide budget of the others (and vice versa).
    pub fn admit(&self, tenant: &str, app: &str, limits: &[Limit], now: Stamp) -> Result<(), u64> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let key = |l: &Limit| -> WindowKey {
            let tenant = (l.scope == Scope::Tenant).then(|| tenant.to_ascii_lowercase());
            (app.to_ascii_lowercase(), tenant, l.bucket)
        };
        let mut wait = 0u64;
        for limit in limits {
            let window = Duration::from_secs(limit.budget.per_seconds);
            let q = windows.entry(key(limit)).or_default();
            while q.front().is_some_and(|t| now.saturating_sub(*t) >= window) {
                q.pop_front();
            }
            if q.len() >= limit.budget.requests as usize {
                let frees_at = q.front().map_or(now, |t| *t + window);
                wait = wait.max(whole_seconds_until(frees_at, now));
            }
        }
        if wait > 0 {
            return Err(wait);
        }
        for limit in limits {
            if let Some(q) = windows.get_mut(&key(limit)) {
                q.push_back(now);
            }
        }
        Ok(())
    }
}

/// The limits one reports request is charged to: the reports budgets per tenant and per app, and for a
/// signInActivity read the signInActivity budgets too.
pub fn limits(config: &ThrottleConfig, sign_in_activity: bool) -> Vec<Limit> {
    let limit = |bucket, scope, budget| Limit {
        bucket,
        scope,
        budget,
    };
    let mut out = vec![
        limit(Bucket::Reports, Scope::Tenant, config.reports),
        limit(Bucket::Reports, Scope::App, config.reports_per_app),
    ];
    if sign_in_activity {
        out.push(limit(
            Bucket::SignInActivity,
            Scope::Tenant,
            config.sign_in_activity,
        ));
        out.push(limit(
            Bucket::SignInActivity,
            Scope::App,
            config.sign_in_activity_per_app,
        ));
    }
    out
}

/// A `Retry-After` value: whole seconds from `now` until `at`, at least 1 (Graph never sends 0).
pub fn whole_seconds_until(at: Stamp, now: Stamp) -> u64 {
    let secs = at.saturating_sub(now).as_secs_f64().ceil() as u64;
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reports(scope: Scope, requests: u32) -> Limit {
        Limit {
            bucket: Bucket::Reports,
            scope,
            budget: Budget {
                requests,
                per_seconds: 10,
            },
        }
    }

    fn five_reports_per_ten_seconds() -> [Limit; 1] {
        [reports(Scope::Tenant, 5)]
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

    #[test]
    fn the_app_wide_window_is_shared_by_every_tenant_of_the_app() {
        let t = Throttle::default();
        let limits = [reports(Scope::Tenant, 2), reports(Scope::App, 3)];
        let now = t.real_now();
        let admit = |tenant: &str, app: &str| t.admit(tenant, app, &limits, now).is_ok();
        assert!(admit("t1", "app") && admit("t1", "app"));
        assert!(admit("t2", "APP"), "app ids are case-insensitive");
        assert!(!admit("t3", "app"), "3 per app in all tenants");
        assert!(admit("t3", "other"), "another app has its own");
    }

    #[test]
    fn a_request_refused_by_one_window_spends_no_other() {
        let t = Throttle::default();
        let limits = [reports(Scope::Tenant, 1), reports(Scope::App, 2)];
        let now = t.real_now();
        let admit = |tenant: &str| t.admit(tenant, "app", &limits, now).is_ok();
        assert!(admit("t1"));
        assert!((0..5).all(|_| !admit("t1")), "t1's own window refuses");
        assert!(
            admit("t2"),
            "t1's refusals spent none of the app-wide budget"
        );
        assert!(!admit("t3"));
    }
}
