//! Dormant scans share the day (issue 13). Every tenant's scan draws on its app's `signInActivity` budget: 10
//! requests a minute per app across all the tenants it serves (Graph docs `throttling-limits.md`, 2025-01-14;
//! REFERENCE.md §4), less the fifth background work leaves to break-glass (`state::budget::reserve`). So:
//!
//! - **fair share**: one run lets a tenant's scan spend at most its share of what that budget lets through in the
//!   run's time, split over the app's tenants with a dormant scan, then checkpoints (the next run continues);
//! - **oldest first**: a run takes the scans that started longest ago first, then the tenants whose last complete
//!   scan is oldest (never scanned: first of those);
//! - **a finish estimate** per tenant, from the pace its scan has had and what its last complete scan cost; a
//!   scan that will not finish within `renotify_days` at that pace makes the job blind for that tenant, and says so.

use std::time::Duration;

use futures::StreamExt;

use super::findings::JOB;
use super::scan::Checkpoint;
use crate::config::{Config, TenantConfig};
use crate::state::budget::reserve;
use crate::state::CursorStore;

/// Checkpoints read at once when ordering a run's tenants.
const READS_AT_ONCE: usize = 16;

/// A share never smaller than this: a small tenant's whole filtered plan (stale and never listings) in one run.
pub const MIN_SHARE: u64 = 2;

/// `signInActivity` requests one tenant's scan may spend in a run of `run_time`, when `scans` tenants of its app
/// scan and the app's budget is `per_minute`.
pub fn fair_share(per_minute: u32, run_time: Duration, scans: usize) -> u64 {
    let background = f64::from(per_minute.saturating_sub(reserve(per_minute)));
    let requests = background * run_time.as_secs_f64() / 60.0;
    ((requests / scans.max(1) as f64).floor() as u64).max(MIN_SHARE)
}

/// Orders tenants for a run: scans under way by their start, oldest first, then tenants with none under way by
/// their last complete scan, oldest (or never) first.
pub fn age_key(checkpoint: Option<&Checkpoint>) -> (u8, i64) {
    match checkpoint {
        Some(Checkpoint {
            scan: Some(scan), ..
        }) => (0, scan.id),
        Some(c) => (1, c.last_complete_scan.unwrap_or(i64::MIN)),
        None => (1, i64::MIN),
    }
}

/// How a scan under way is doing: what it has spent since it started, against what its last complete scan cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// Seconds since the scan started (its id).
    pub elapsed_secs: i64,
    /// `signInActivity` requests spent so far.
    pub done: u64,
    /// What the tenant's last complete scan spent; `None` before its first.
    pub expected: Option<u64>,
}

impl Pace {
    /// Seconds until the scan finishes at the pace it has had: `None` when it cannot be told (no complete scan to
    /// compare with, nothing spent yet, or the tenant grew past its last scan).
    pub fn finish_in_secs(&self) -> Option<i64> {
        let expected = self.expected?;
        if self.done == 0 || self.done >= expected || self.elapsed_secs <= 0 {
            return None;
        }
        let left = (expected - self.done) as f64;
        let per_sec = self.done as f64 / self.elapsed_secs as f64;
        Some((left / per_sec).ceil() as i64)
    }

    /// Whether the scan takes longer than `renotify_days` from its start: it already has, or the estimate says
    /// it will. Findings are renotified (and resolved) only when a scan finishes, so past that the job cannot keep
    /// its promise for this tenant.
    pub fn too_slow(&self, renotify_days: u32) -> bool {
        let limit = i64::from(renotify_days) * 86_400;
        self.elapsed_secs > limit
            || self
                .finish_in_secs()
                .is_some_and(|left| self.elapsed_secs + left > limit)
    }
}

/// How many tenants of `tenant`'s app (its `client_id`) have a dormant scan: what the app's budget is split over.
pub fn scans_on_app(config: &Config, tenant: &TenantConfig) -> usize {
    config
        .tenants
        .iter()
        .filter(|t| t.dormant.is_some() && t.client_id.eq_ignore_ascii_case(&tenant.client_id))
        .count()
}

/// `tenants` oldest scan first ([`age_key`]). A checkpoint that cannot be read (or parsed) sorts as never
/// scanned: the scan itself then says what is wrong with it.
pub async fn oldest_first<'a>(
    cursors: &dyn CursorStore,
    tenants: Vec<&'a TenantConfig>,
) -> Vec<&'a TenantConfig> {
    // Futures built in a loop, not by a closure over references, so the run stays `Send` (see the runner).
    let mut reads = Vec::new();
    for (i, t) in tenants.into_iter().enumerate() {
        reads.push(keyed(cursors, i, t));
    }
    let mut keyed: Vec<((u8, i64), usize, &TenantConfig)> = futures::stream::iter(reads)
        .buffer_unordered(READS_AT_ONCE)
        .collect()
        .await;
    keyed.sort_by_key(|(key, i, _)| (*key, *i));
    keyed.into_iter().map(|(_, _, t)| t).collect()
}

async fn keyed<'a>(
    cursors: &dyn CursorStore,
    i: usize,
    tenant: &'a TenantConfig,
) -> ((u8, i64), usize, &'a TenantConfig) {
    let checkpoint = match cursors.get_cursor(&tenant.id, JOB).await {
        Ok(Some(value)) => serde_json::from_value::<Checkpoint>(value).ok(),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(tenant = %tenant.name, error = %e, "dormant checkpoint unreadable; ordered as never scanned");
            None
        }
    };
    (age_key(checkpoint.as_ref()), i, tenant)
}

/// "3 h", "2.5 days": a duration for a note.
pub fn human(secs: i64) -> String {
    if secs < 60 {
        "under a minute".to_string()
    } else if secs < 3_600 {
        format!("{} min", (secs + 59) / 60)
    } else if secs < 2 * 86_400 {
        format!("{} h", (secs + 3_599) / 3_600)
    } else {
        format!("{:.1} days", secs as f64 / 86_400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::dormant::scan::Checkpoint;
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_share_splits_what_background_work_may_spend_over_the_apps_scans() {
        // 10 a minute, 2 left to break-glass: 8 a minute for scans; a 12-minute run lets 96 through.
        let run = Duration::from_secs(12 * 60);
        assert_eq!(fair_share(10, run, 1), 96);
        assert_eq!(fair_share(10, run, 4), 24);
        assert_eq!(
            fair_share(10, run, 200),
            MIN_SHARE,
            "never less than a small tenant's plan"
        );
        assert_eq!(
            fair_share(10, run, 0),
            96,
            "no scan counted: the whole budget"
        );
    }

    #[test]
    fn scans_under_way_go_first_oldest_first_then_the_longest_unscanned() {
        let at = |secs| Utc.timestamp_opt(secs, 0).unwrap();
        let under_way = |started| {
            let mut c = Checkpoint::default();
            c.start_scan(at(started), 90, false, 10);
            c
        };
        let finished = |at| Checkpoint {
            last_complete_scan: Some(at),
            ..Checkpoint::default()
        };
        let (old, young) = (under_way(1_000), under_way(5_000));
        let (stale, fresh) = (finished(2_000), finished(9_000));
        let mut tenants = [
            ("fresh", Some(&fresh)),
            ("young", Some(&young)),
            ("never", None),
            ("stale", Some(&stale)),
            ("old", Some(&old)),
        ];
        tenants.sort_by_key(|(_, c)| age_key(*c));
        let order: Vec<&str> = tenants.iter().map(|(n, _)| *n).collect();
        assert_eq!(order, ["old", "young", "never", "stale", "fresh"]);
    }

    #[tokio::test]
    async fn a_run_orders_its_tenants_by_their_checkpoints_and_counts_the_apps_scans() {
        use crate::state::sqlite::SqliteStore;
        use crate::state::CursorStore;
        let config = crate::config::Config::from_toml_str(
            &["a", "b", "c", "d"]
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let client = if *n == "d" { 2 } else { 1 };
                    format!(
                        "[[tenants]]\nname = \"{n}\"\nid = \"11111111-2222-3333-4444-55555555000{i}\"\n\
                         client_id = \"aaaaaaaa-bbbb-cccc-dddd-00000000000{client}\"\n\
                         credential = {{ type = \"secret\", secret = \"env:X\" }}\n[tenants.dormant]\n"
                    )
                })
                .collect::<String>(),
            "test.toml",
        )
        .unwrap();
        let store = SqliteStore::open(":memory:").unwrap();
        let at = |secs| Utc.timestamp_opt(secs, 0).unwrap();
        let mut under_way = Checkpoint::default();
        under_way.start_scan(at(7_000), 90, false, 10);
        let done = Checkpoint {
            last_complete_scan: Some(3_000),
            ..Checkpoint::default()
        };
        let id = |i: usize| config.tenants[i].id.clone();
        store
            .put_cursor(&id(1), JOB, &serde_json::to_value(&done).unwrap())
            .await
            .unwrap();
        store
            .put_cursor(&id(2), JOB, &serde_json::to_value(&under_way).unwrap())
            .await
            .unwrap();
        store
            .put_cursor(&id(3), JOB, &serde_json::json!("not a checkpoint"))
            .await
            .unwrap();
        let tenants: Vec<&TenantConfig> = config.tenants.iter().collect();
        let order: Vec<&str> = oldest_first(&store, tenants)
            .await
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        // c's scan is under way; a and d (unreadable) were never scanned; b was, at 3,000.
        assert_eq!(order, ["c", "a", "d", "b"]);
        assert_eq!(scans_on_app(&config, &config.tenants[0]), 3);
        assert_eq!(scans_on_app(&config, &config.tenants[3]), 1);
    }

    #[test]
    fn the_estimate_extrapolates_the_pace_against_the_last_complete_scan() {
        let day = 86_400;
        // A day in, 10 of the 40 requests its last scan cost: three more days at that pace.
        let pace = Pace {
            elapsed_secs: day,
            done: 10,
            expected: Some(40),
        };
        assert_eq!(pace.finish_in_secs(), Some(3 * day));
        assert!(pace.too_slow(3), "4 days in all is past 3");
        assert!(!pace.too_slow(4));
        // Nothing to compare with: only a scan already older than the limit is too slow.
        let first = Pace {
            expected: None,
            ..pace
        };
        assert_eq!(first.finish_in_secs(), None);
        assert!(!first.too_slow(1));
        assert!(Pace {
            elapsed_secs: 2 * day,
            ..first
        }
        .too_slow(1));
        // A tenant that grew past its last scan: no estimate, not blind on a guess.
        let grown = Pace { done: 41, ..pace };
        assert_eq!(grown.finish_in_secs(), None);
        assert!(!grown.too_slow(3));
    }

    #[test]
    fn durations_read_as_minutes_hours_or_days() {
        assert_eq!(human(30), "under a minute");
        assert_eq!(human(90), "2 min");
        assert_eq!(human(3 * 3_600), "3 h");
        assert_eq!(human(5 * 86_400 / 2), "2.5 days");
    }
}
