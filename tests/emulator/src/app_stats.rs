//! Request statistics per app: what the server answered one app registration across all its tenants, so a
//! test of a multi-tenant run can assert "0 x 429" as Graph saw it, not as the client counted it.

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Requests answered and how many of them were 429s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Answered {
    pub requests: u64,
    pub throttled_429: u64,
}

impl Answered {
    fn add(&mut self, throttled: bool) {
        self.requests += 1;
        self.throttled_429 += u64::from(throttled);
    }
}

/// What one app (client id) was answered on Graph paths in every tenant, since start or the last reset.
/// Token requests carry no Bearer token and are not attributed (the global `Stats` count them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AppStats {
    pub client_id: String,
    /// Every Graph request with one of the app's tokens, whatever its status.
    pub requests: u64,
    /// Every 429 among them: throttle windows, an app hold and injected `fail_next` 429s alike.
    pub throttled_429: u64,
    /// Keys: `reports`, `sign_in_activity`, `directory`, as in `Stats::by_family` (a signInActivity read is
    /// also a reports request, so it counts under both).
    pub by_family: BTreeMap<String, Answered>,
    /// Keys: tenant ids.
    pub by_tenant: BTreeMap<String, Answered>,
}

impl AppStats {
    /// The family's counts; zero for a family the app never used.
    pub fn family(&self, name: &str) -> Answered {
        self.by_family.get(name).copied().unwrap_or_default()
    }

    pub fn tenant(&self, tenant_id: &str) -> Answered {
        self.by_tenant.get(tenant_id).copied().unwrap_or_default()
    }
}

/// The per-app counters, keyed by lower-cased client id.
#[derive(Debug, Default)]
pub(crate) struct AppStatsCell(Mutex<HashMap<String, AppStats>>);

impl AppStatsCell {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, AppStats>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records one answered request of `client_id` in `tenant_id`, counted under each of `families`.
    pub(crate) fn record(&self, client_id: &str, tenant_id: &str, families: &[&str], status: u16) {
        let throttled = status == 429;
        let mut all = self.lock();
        let s = all.entry(client_id.to_ascii_lowercase()).or_default();
        s.requests += 1;
        s.throttled_429 += u64::from(throttled);
        for f in families {
            s.by_family.entry(f.to_string()).or_default().add(throttled);
        }
        s.by_tenant
            .entry(tenant_id.to_string())
            .or_default()
            .add(throttled);
    }

    pub(crate) fn snapshot(&self, client_id: &str) -> AppStats {
        let mut s = self
            .lock()
            .get(&client_id.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default();
        s.client_id = client_id.to_string();
        s
    }

    pub(crate) fn reset(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_and_429s_per_family_and_tenant() {
        let cell = AppStatsCell::default();
        cell.record("App", "t1", &["sign_in_activity", "reports"], 200);
        cell.record("app", "t2", &["reports"], 429);
        cell.record("app", "t2", &["directory"], 200);
        cell.record("other", "t1", &["reports"], 429);
        let s = cell.snapshot("APP");
        assert_eq!((s.requests, s.throttled_429), (3, 1));
        assert_eq!(
            s.family("reports"),
            Answered {
                requests: 2,
                throttled_429: 1
            }
        );
        assert_eq!(s.family("sign_in_activity").throttled_429, 0);
        assert_eq!(s.tenant("t2").requests, 2);
        cell.reset();
        assert_eq!(cell.snapshot("app").requests, 0);
    }
}
