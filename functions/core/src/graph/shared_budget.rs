//! The Graph budget every process using one app registration shares: Graph's identity and access reports
//! limits hold per app across all the tenants it serves (Graph docs `throttling-limits.md`, 2025-01-14:
//! 122 reports requests per 10 s per app, 5 per 10 s per app and tenant, 10 `signInActivity` requests a
//! minute; REFERENCE.md §4). The client's own [`super::pacing`] stays the fast path inside one process; this
//! is the slower, shared check after it, kept in the state store ([`crate::state::budget`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::pacing::Family;
use crate::state::budget::{BudgetStore, Priority, Take, WindowSpec};
use crate::state::StateError;

/// Graph's published limits per app (client id), the `[graph]` defaults (SPEC.md "Configuration").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedLimits {
    /// Identity and access reports, per app, all tenants together, per 10 s.
    pub reports_per_10s: u32,
    /// Identity and access reports, per app and tenant, per 10 s.
    pub reports_per_tenant_per_10s: u32,
    /// `signInActivity` reads per app (all tenants together, and so also per tenant) per minute.
    pub sign_in_activity_per_minute: u32,
}

impl Default for SharedLimits {
    fn default() -> Self {
        SharedLimits {
            reports_per_10s: 122,
            reports_per_tenant_per_10s: 5,
            sign_in_activity_per_minute: 10,
        }
    }
}

/// The margin a shared window keeps past Graph's: 5% for latency (Graph counts a request when it arrives) and
/// one second for the time between a slot taken in the store and the request leaving (a token refresh).
pub fn shared_span(per: Duration) -> Duration {
    per + per / 20 + Duration::from_secs(1)
}

/// The shared budget a client draws on, with the limits it enforces.
#[derive(Clone)]
pub struct SharedBudget {
    pub store: Arc<dyn BudgetStore>,
    pub limits: SharedLimits,
}

impl fmt::Debug for SharedBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedBudget")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl SharedBudget {
    pub fn new(store: Arc<dyn BudgetStore>, limits: SharedLimits) -> SharedBudget {
        SharedBudget { store, limits }
    }

    /// The shared windows a request of `families` by `client_id` in `tenant_id` counts against. Directory
    /// reads have none: their limit (130,000 per 10 s per app) is far from anything the jobs do.
    pub fn windows(
        &self,
        client_id: &str,
        tenant_id: &str,
        families: &[Family],
    ) -> Vec<WindowSpec> {
        let app = client_id.to_ascii_lowercase();
        let tenant = tenant_id.to_ascii_lowercase();
        let window = |key: String, limit: u32, per: u64| WindowSpec {
            key,
            limit,
            span_ms: shared_span(Duration::from_secs(per)).as_millis() as i64,
        };
        let mut specs = Vec::new();
        for family in families {
            match family {
                Family::Reports => {
                    specs.push(window(
                        format!("app#{app}#reports"),
                        self.limits.reports_per_10s,
                        10,
                    ));
                    specs.push(window(
                        format!("app#{app}#tenant#{tenant}#reports"),
                        self.limits.reports_per_tenant_per_10s,
                        10,
                    ));
                }
                Family::SignInActivity => specs.push(window(
                    format!("app#{app}#sign-in-activity"),
                    self.limits.sign_in_activity_per_minute,
                    60,
                )),
                // One a second per tenant for every app (Graph docs `throttling-limits.md`): a tenant window, not
                // an app's, so two apps of one operator watching one tenant share it.
                Family::ConditionalAccess => {
                    specs.push(window(format!("tenant#{tenant}#conditional-access"), 1, 1))
                }
                // Per tenant only (150 a minute, Graph docs `application-list.md`): the client paces it.
                Family::Directory | Family::KeyCredentials => {}
            }
        }
        specs
    }

    /// One slot in every window, or how long to wait before asking again.
    pub async fn take(
        &self,
        specs: &[WindowSpec],
        urgent: bool,
        now_ms: i64,
    ) -> Result<Option<Duration>, StateError> {
        let priority = if urgent {
            Priority::Urgent
        } else {
            Priority::Background
        };
        Ok(match self.store.take(specs, priority, 1, now_ms).await? {
            Take::Granted { .. } => None,
            // At least a few milliseconds, so a worker told "now" by rounding does not spin.
            Take::Wait { ms } => Some(Duration::from_millis(ms.max(5) as u64)),
        })
    }

    /// A 429 holds every window of the app for these families, in every tenant and process, until `until_ms`.
    pub async fn hold(
        &self,
        client_id: &str,
        tenant_id: &str,
        families: &[Family],
        until_ms: i64,
    ) -> Result<(), StateError> {
        let keys: Vec<String> = self
            .windows(client_id, tenant_id, families)
            .into_iter()
            .map(|w| w.key)
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        self.store.hold(&keys, until_ms).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::sqlite::SqliteStore;

    fn budget(limits: SharedLimits) -> SharedBudget {
        let store = SqliteStore::open(":memory:").unwrap();
        SharedBudget::new(Arc::new(store), limits)
    }

    #[test]
    fn a_report_counts_against_the_app_and_the_app_in_that_tenant_and_sign_in_activity_against_the_app(
    ) {
        let b = budget(SharedLimits::default());
        let keys: Vec<(String, u32)> = b
            .windows("APP", "T1", &[Family::Reports, Family::SignInActivity])
            .into_iter()
            .map(|w| (w.key, w.limit))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("app#app#reports".to_string(), 122),
                ("app#app#tenant#t1#reports".to_string(), 5),
                ("app#app#sign-in-activity".to_string(), 10),
            ]
        );
        assert!(b.windows("app", "t1", &[Family::Directory]).is_empty());
    }

    #[tokio::test]
    async fn two_tenants_of_one_app_share_its_window_and_a_hold_stops_both() {
        let b = budget(SharedLimits {
            reports_per_10s: 3,
            reports_per_tenant_per_10s: 5,
            sign_in_activity_per_minute: 10,
        });
        let t1 = b.windows("app", "t1", &[Family::Reports]);
        let t2 = b.windows("app", "t2", &[Family::Reports]);
        let other_app = b.windows("other", "t2", &[Family::Reports]);
        for specs in [&t1, &t2, &t1] {
            assert_eq!(b.take(specs, true, 1_000).await.unwrap(), None);
        }
        assert!(
            b.take(&t2, true, 1_001).await.unwrap().is_some(),
            "the app's 3 are spent"
        );
        assert_eq!(b.take(&other_app, true, 1_001).await.unwrap(), None);
        b.hold("other", "t9", &[Family::Reports], 60_000)
            .await
            .unwrap();
        // The store decides at the time it gets to the decision (`at_decision`): a loaded machine may make that a
        // few milliseconds after 2 s.
        let wait = b.take(&other_app, true, 2_000).await.unwrap();
        assert!(
            wait.is_some_and(|w| w <= Duration::from_secs(58) && w > Duration::from_millis(57_500)),
            "a 429 in one tenant holds the app in every tenant: {wait:?}"
        );
    }
}
