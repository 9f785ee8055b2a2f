//! How far a scan is, for whoever watches (`entrawatch run` on a terminal or in a log): users examined of the
//! tenant's users, and the time Graph's budget says the rest takes. Every listing page and privileged lookup is
//! a signInActivity read, 500 users a page at 10 requests a minute (REFERENCE.md §4), so what is left is paced
//! by that budget, not by how fast the first pages came.
//!
//! The tenant's user count is one directory read (`/users/$count`), made only when someone watches. A full
//! listing covers exactly that many users; the filtered listings cover at most that many (only the stale and the
//! never-signed-in ones), so their bar may end short of its length and the time left is an upper bound.

use super::populations::PrivilegedHolders;
use super::scan::{Phase, ScanState};
use crate::graph::{Family, USERS_WITH_SIGN_IN_ACTIVITY_PAGE};
use crate::jobs::JobContext;
use crate::progress::{Extent, Task};

/// The families each listing page and each privileged lookup counts against.
const SIGN_IN_ACTIVITY_READ: &[Family] = &[Family::Reports, Family::SignInActivity];

pub(super) struct ScanProgress {
    task: Option<Task>,
    /// The tenant's users, when counted.
    users: Option<u64>,
}

impl ScanProgress {
    /// Starts showing `scan` (new or continued); counts the tenant's users first if anyone watches.
    pub async fn start(
        ctx: &JobContext,
        scan: &ScanState,
        privileged: &PrivilegedHolders,
    ) -> ScanProgress {
        if !ctx.progress.is_shown() {
            return ScanProgress {
                task: None,
                users: None,
            };
        }
        let users = match ctx.graph.count_users().await {
            Ok(n) => n,
            Err(e) => {
                // Progress only: the scan does not need the count.
                tracing::debug!(tenant = %ctx.tenant.name, error = %e, "users not counted; progress shows no total");
                None
            }
        };
        let label = format!("dormant {}", ctx.tenant.name);
        let shown = ScanProgress {
            task: Some(ctx.progress.start(label, "users", extent(scan, users))),
            users,
        };
        shown.update(ctx, scan, privileged);
        shown
    }

    /// After a page: users examined so far and the budget's time for the rest.
    pub fn update(&self, ctx: &JobContext, scan: &ScanState, privileged: &PrivilegedHolders) {
        let Some(task) = &self.task else { return };
        let lookups = if scan.lookup_privileged {
            privileged
                .ids_after(scan.privileged_after.as_deref(), usize::MAX)
                .len() as u64
        } else {
            0
        };
        // With no Graph request left (the sweep) the budget has nothing to say about the rest.
        let time_left = requests_left(scan, self.users, lookups)
            .filter(|&n| n > 0)
            .and_then(|n| ctx.graph.budget_time(SIGN_IN_ACTIVITY_READ, n));
        task.report(scan.examined, extent(scan, self.users), time_left);
    }

    /// The scan is finished (dropping it unfinished shows it stopped at a checkpoint).
    pub fn finish(self) {
        if let Some(task) = &self.task {
            task.finish();
        }
    }
}

/// How many users the scan examines in all, as far as it knows.
fn extent(scan: &ScanState, users: Option<u64>) -> Extent {
    match (scan.phase, users) {
        (Phase::Sweep, _) => Extent::Exact(scan.examined),
        (_, None) => Extent::Unknown,
        // Users created since the count are listed too: the length never falls below what was examined.
        // A verifying scan lists every user after the filtered phases: examined counts some users twice.
        (Phase::Full, Some(n)) if !scan.verify => Extent::Exact(n.max(scan.examined)),
        (_, Some(n)) => Extent::AtMost(n.max(scan.examined)),
    }
}

/// The signInActivity reads the rest of the scan needs at most: the pages of the users not yet listed, one page
/// at least for each listing still to run (a listing ends on a page of its own), then the privileged lookups
/// left. `None` while listing a tenant whose users were not counted.
fn requests_left(scan: &ScanState, users: Option<u64>, lookups_left: u64) -> Option<u64> {
    let pages = |n: u64| {
        n.saturating_sub(scan.examined)
            .div_ceil(u64::from(USERS_WITH_SIGN_IN_ACTIVITY_PAGE))
            .max(1)
    };
    let lookups = if scan.lookup_privileged {
        lookups_left
    } else {
        0
    };
    match scan.phase {
        // The never-signed-in listing still to come.
        Phase::Stale => users.map(|n| pages(n) + 1 + lookups),
        Phase::Never => users.map(|n| pages(n) + lookups),
        Phase::Full => users.map(pages),
        Phase::Privileged => Some(lookups),
        Phase::Sweep => Some(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::dormant::Checkpoint;
    use chrono::{TimeZone, Utc};

    fn scan(phase: Phase, examined: u64, lookup_privileged: bool) -> ScanState {
        let mut checkpoint = Checkpoint::default();
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap();
        checkpoint.start_scan(now, 60, lookup_privileged, 10);
        let mut scan = checkpoint.scan.unwrap();
        scan.phase = phase;
        scan.examined = examined;
        scan
    }

    #[test]
    fn a_full_listing_needs_the_pages_of_the_users_not_yet_listed() {
        let full = scan(Phase::Full, 1_500, false);
        assert_eq!(requests_left(&full, Some(4_000), 7), Some(5));
        assert_eq!(requests_left(&full, Some(4_001), 7), Some(6));
        assert_eq!(
            requests_left(&full, Some(1_500), 0),
            Some(1),
            "the listing ends on a page of its own"
        );
        assert_eq!(extent(&full, Some(4_000)), Extent::Exact(4_000));
        assert_eq!(extent(&full, Some(1_000)), Extent::Exact(1_500));
    }

    #[test]
    fn filtered_listings_need_at_most_the_rest_plus_the_never_listing_and_the_lookups() {
        let stale = scan(Phase::Stale, 2_500, true);
        assert_eq!(requests_left(&stale, Some(3_000), 4), Some(1 + 1 + 4));
        assert_eq!(extent(&stale, Some(3_000)), Extent::AtMost(3_000));
        let never = scan(Phase::Never, 2_500, false);
        assert_eq!(requests_left(&never, Some(3_000), 4), Some(1));
        let lookups = scan(Phase::Privileged, 2_940, true);
        assert_eq!(requests_left(&lookups, None, 4), Some(4));
        let sweep = scan(Phase::Sweep, 2_940, true);
        assert_eq!(requests_left(&sweep, None, 4), Some(0));
        assert_eq!(extent(&sweep, None), Extent::Exact(2_940));
    }

    #[test]
    fn a_fresh_full_listing_of_50000_users_has_nine_minutes_and_a_half_left_by_graphs_budget() {
        use crate::graph::TenantConnection;
        use crate::graph::{ClientCredential, ClientOptions, Cloud, GraphClient, GraphPort};
        // Sends nothing: the estimate replays the client's pacing (Graph's published limits).
        let client = GraphClient::new(
            TenantConnection {
                tenant_id: "11111111-2222-3333-4444-555555555555".into(),
                tenant_name: "contoso".into(),
                client_id: "aaaaaaaa-bbbb-cccc-dddd-000000000001".into(),
                credential: ClientCredential::Secret(crate::Secret::new("not-a-real-secret")),
                cloud: Cloud::Global,
                graph_url: None,
                login_url: None,
            },
            ClientOptions::default(),
        )
        .unwrap();
        let pages = requests_left(&scan(Phase::Full, 0, false), Some(50_000), 0);
        assert_eq!(pages, Some(100));
        // Ten pages now (five, then five when the reports window allows), then ten a signInActivity window
        // (60 s and its 5% margin) for the other ninety.
        let left = client.budget_time(SIGN_IN_ACTIVITY_READ, 100);
        assert_eq!(
            left,
            Some(std::time::Duration::from_millis(10_500 + 9 * 63_000))
        );
    }

    #[test]
    fn an_uncounted_tenant_shows_a_count_without_time_left() {
        let stale = scan(Phase::Stale, 500, true);
        assert_eq!(requests_left(&stale, None, 0), None);
        assert_eq!(extent(&stale, None), Extent::Unknown);
    }
}
