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
    /// `/applications` or `/servicePrincipals` selecting `keyCredentials`: 150 requests a minute per tenant (Graph
    /// docs `application-list.md`, `serviceprincipal-list.md`), counted here and under `Directory`.
    KeyCredentials,
    /// `/identity/conditionalAccess/*`: one request per second per tenant for all apps, and its 429s carry no
    /// `Retry-After` (Graph docs `throttling-limits.md`, "Identity protection and Conditional Access"; REFERENCE
    /// §4).
    ConditionalAccess,
}

impl Family {
    /// The families a GET to `url` counts against.
    pub fn of(url: &Url) -> &'static [Family] {
        let path = url.path();
        let mentions_sign_in_activity = url.query_pairs().any(|(name, value)| {
            matches!(&*name, "$select" | "$filter") && value.contains("signInActivity")
        });
        let selects_key_credentials = url
            .query_pairs()
            .any(|(name, value)| name == "$select" && value.contains("keyCredentials"));
        if path.contains("/identity/conditionalAccess/") {
            &[Family::ConditionalAccess]
        } else if path.contains("/auditLogs/") || path.contains("/reports/") {
            &[Family::Reports]
        } else if selects_key_credentials
            && (path.contains("/applications") || path.contains("/servicePrincipals"))
        {
            &[Family::Directory, Family::KeyCredentials]
        } else if mentions_sign_in_activity && path.contains("/users") {
            &[Family::Reports, Family::SignInActivity]
        } else {
            &[Family::Directory]
        }
    }

    pub(super) fn index(self) -> usize {
        match self {
            Family::Reports => 0,
            Family::SignInActivity => 1,
            Family::Directory => 2,
            Family::KeyCredentials => 3,
            Family::ConditionalAccess => 4,
        }
    }
}

/// The window a client keeps: Graph measures the window at its end, after network latency, so a 5% margin (at
/// least 50 ms) keeps a request sent exactly one window later from landing inside Graph's window.
pub(super) fn span(limit: RateWindow) -> Duration {
    limit.per + (limit.per / 20).max(Duration::from_millis(50))
}

#[derive(Debug)]
pub(super) struct FamilyState {
    pub limit: Option<RateWindow>,
    /// Send times still inside the window, oldest first.
    pub sent: VecDeque<Instant>,
    pub blocked_until: Option<Instant>,
}

impl FamilyState {
    /// How long until one more request fits, or zero (and drops the sends that left the window).
    pub fn wait(&mut self, now: Instant) -> Duration {
        let blocked = self
            .blocked_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        let Some(limit) = self.limit else {
            return blocked;
        };
        let span = span(limit);
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
    pub(super) families: Mutex<[FamilyState; 5]>,
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
                state(limits.key_credentials),
                state(limits.conditional_access),
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
pub(super) mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap_or_else(|e| panic!("test url {s}: {e}"))
    }

    pub(in crate::graph) fn five_per_two_seconds() -> Pacer {
        let window = Some(RateWindow::new(5, Duration::from_secs(2)));
        Pacer::new(PacingLimits {
            reports: window,
            sign_in_activity: None,
            directory: None,
            key_credentials: None,
            conditional_access: None,
        })
    }

    #[test]
    fn conditional_access_is_its_own_family() {
        let families = Family::of(&url(
            "https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies",
        ));
        assert_eq!(families, &[Family::ConditionalAccess]);
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
        assert_eq!(
            Family::of(&url(
                "https://g/beta/reports/servicePrincipalSignInActivities"
            )),
            &[Family::Reports]
        );
        assert_eq!(
            Family::of(&url(
                "https://g/v1.0/servicePrincipals?%24select=id%2CkeyCredentials&%24top=999"
            )),
            &[Family::Directory, Family::KeyCredentials]
        );
        assert_eq!(
            Family::of(&url("https://g/v1.0/applications?$select=id,appId")),
            &[Family::Directory]
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
