//! State port conformance, run against SQLite and DynamoDB (moto): seen markers, cursors,
//! findings, leases and the shared Graph budget's windows. The outbox half is `state_outbox_conformance.rs`.

mod state_support;

use std::sync::Arc;

use entrawatch_core::state::budget::BudgetStore;
use entrawatch_core::state::*;
use serde_json::json;
use state_support::fixtures::Fixture;

const NOW: i64 = 1_795_000_000;

async fn seen_marker_is_put_if_absent_until_it_expires(f: impl Fixture) {
    let s = f.open().await;
    assert!(s.put_if_absent("signin-1", NOW, NOW + 100).await.unwrap());
    assert!(!s
        .put_if_absent("signin-1", NOW + 50, NOW + 150)
        .await
        .unwrap());
    assert!(s.put_if_absent("signin-2", NOW, NOW + 100).await.unwrap());
    // Expired records count as absent even before TTL deletion happens.
    assert!(s
        .put_if_absent("signin-1", NOW + 100, NOW + 200)
        .await
        .unwrap());
}

async fn cursor_round_trips_json_per_tenant_and_job(f: impl Fixture) {
    let s = f.open().await;
    assert_eq!(s.get_cursor("t1", "break-glass").await.unwrap(), None);
    let v = json!({"signIns": "2026-11-22T06:00:00Z", "page": [1, 2]});
    s.put_cursor("t1", "break-glass", &v).await.unwrap();
    s.put_cursor("t1", "dormant", &json!(7)).await.unwrap();
    assert_eq!(s.get_cursor("t1", "break-glass").await.unwrap(), Some(v));
    assert_eq!(s.get_cursor("t2", "break-glass").await.unwrap(), None);
    s.put_cursor("t1", "dormant", &json!(8)).await.unwrap();
    assert_eq!(s.get_cursor("t1", "dormant").await.unwrap(), Some(json!(8)));
}

fn finding(tenant: &str, key: &str) -> Finding {
    Finding {
        tenant: tenant.into(),
        job: "dormant".into(),
        key: key.into(),
        status: FindingStatus::Open,
        first_seen: NOW,
        last_notified: Some(NOW + 1),
        resolved_at: None,
        data: json!({"population": "guest", "daysInactive": 91}),
        expires_at: None,
    }
}

async fn findings_are_stored_listed_and_updated_per_tenant_and_job(f: impl Fixture) {
    let s = f.open().await;
    s.put_finding(&finding("t1", "b")).await.unwrap();
    s.put_finding(&finding("t1", "a")).await.unwrap();
    s.put_finding(&finding("t2", "c")).await.unwrap();
    let listed = s.list_findings("t1", "dormant").await.unwrap();
    assert_eq!(
        listed.iter().map(|x| x.key.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(listed[0], finding("t1", "a"));
    let mut resolved = finding("t1", "a");
    resolved.status = FindingStatus::Resolved;
    resolved.resolved_at = Some(NOW + 10);
    resolved.expires_at = Some(NOW + DEDUP_TTL_SECS);
    s.put_finding(&resolved).await.unwrap();
    assert_eq!(
        s.get_finding("t1", "dormant", "a").await.unwrap(),
        Some(resolved)
    );
    assert_eq!(s.get_finding("t1", "dormant", "zzz").await.unwrap(), None);
    assert!(s
        .list_findings("t1", "break-glass")
        .await
        .unwrap()
        .is_empty());
}

async fn racing_runs_for_a_lease_have_one_winner(f: impl Fixture) {
    let f = Arc::new(f);
    let mut tasks = Vec::new();
    for i in 0..6 {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let s = f.open().await;
            s.acquire_lease("t1", "break-glass", &format!("run-{i}"), NOW, 300)
                .await
        }));
    }
    let (mut won, mut lost) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => won += 1,
            Err(StateError::LeaseHeld { until, .. }) => {
                assert_eq!(until, NOW + 300);
                lost += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((won, lost), (1, 5));
}

async fn lease_is_held_renewed_released_and_taken_over_after_expiry(f: impl Fixture) {
    let s = f.open().await;
    assert_eq!(
        s.acquire_lease("t1", "dormant", "a", NOW, 60)
            .await
            .unwrap(),
        Lease {
            owner: "a".into(),
            until: NOW + 60
        }
    );
    match s.acquire_lease("t1", "dormant", "b", NOW + 10, 60).await {
        Err(StateError::LeaseHeld { holder, until }) => {
            assert_eq!((holder.as_str(), until), ("a", NOW + 60))
        }
        other => panic!("expected LeaseHeld, got {other:?}"),
    }
    s.acquire_lease("t2", "dormant", "b", NOW, 60)
        .await
        .unwrap();
    assert_eq!(
        s.renew_lease("t1", "dormant", "a", NOW + 30, 60)
            .await
            .unwrap()
            .until,
        NOW + 90
    );
    assert!(matches!(
        s.renew_lease("t1", "dormant", "b", NOW + 30, 60).await,
        Err(StateError::LeaseHeld { .. })
    ));
    // An expired lease goes to the next run; the old owner can no longer renew it.
    s.acquire_lease("t1", "dormant", "b", NOW + 90, 60)
        .await
        .unwrap();
    assert!(s
        .renew_lease("t1", "dormant", "a", NOW + 95, 60)
        .await
        .is_err());
    s.release_lease("t1", "dormant", "a").await.unwrap();
    assert!(s
        .acquire_lease("t1", "dormant", "c", NOW + 96, 60)
        .await
        .is_err());
    s.release_lease("t1", "dormant", "b").await.unwrap();
    s.acquire_lease("t1", "dormant", "c", NOW + 96, 60)
        .await
        .unwrap();
}

fn window(key: &str, limit: u32) -> budget::WindowSpec {
    budget::WindowSpec {
        key: key.into(),
        limit,
        span_ms: 10_000,
    }
}

const NOW_MS: i64 = NOW * 1000;

/// Eight workers, each with its own connection or client, race for a window of five: five slots are granted
/// in all, and a request that spans a second, fuller window takes nothing from the first when refused.
async fn racing_workers_never_take_more_than_a_shared_window_holds(f: impl Fixture) {
    let f = Arc::new(f);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let s = f.open().await;
            let mut granted = 0;
            for _ in 0..3 {
                let take = s
                    .take(
                        &[window("app#a#reports", 5)],
                        budget::Priority::Urgent,
                        1,
                        NOW_MS,
                    )
                    .await
                    .unwrap();
                if let budget::Take::Granted { count } = take {
                    granted += count;
                }
            }
            granted
        }));
    }
    let mut granted = 0;
    for t in tasks {
        granted += t.await.unwrap();
    }
    assert_eq!(granted, 5, "eight workers on one window of five");
    let s = f.open().await;
    let both = [window("app#b#reports", 5), window("app#a#reports", 5)];
    // A store records a grant when it decides it (the ask's time plus the real time it took, racing included:
    // `budget::at_decision`), so the waits are the ask's arithmetic give or take that delay.
    let wait = s
        .take(&both, budget::Priority::Urgent, 1, NOW_MS + 1)
        .await
        .unwrap();
    assert!(
        matches!(wait, budget::Take::Wait { ms } if (9_999 - STORE_DELAY_MS..=9_999 + STORE_DELAY_MS).contains(&ms)),
        "{wait:?}"
    );
    assert_eq!(
        s.take(
            &[window("app#b#reports", 5)],
            budget::Priority::Urgent,
            5,
            NOW_MS + 1
        )
        .await
        .unwrap(),
        budget::Take::Granted { count: 5 },
        "the refused two-window take left app b's window untouched"
    );
    assert_eq!(
        s.take(
            &[window("app#a#reports", 5)],
            budget::Priority::Urgent,
            1,
            NOW_MS + 10_000 + STORE_DELAY_MS
        )
        .await
        .unwrap(),
        budget::Take::Granted { count: 1 },
        "the window slides: the first five left it 10 s after they were granted"
    );
}

/// How long a store on loopback may take to decide a take (moto racing eight workers included).
const STORE_DELAY_MS: i64 = 2_000;

/// A hold written through one handle (a 429 seen by one worker) stops every other handle until it passes.
async fn a_hold_reaches_every_worker_of_the_app(f: impl Fixture) {
    let (first, second) = (f.open().await, f.open().await);
    let key = "app#c#reports".to_string();
    first
        .hold(std::slice::from_ref(&key), NOW_MS + 7_000)
        .await
        .unwrap();
    let wait = second
        .take(
            &[window(&key, 100)],
            budget::Priority::Background,
            1,
            NOW_MS,
        )
        .await
        .unwrap();
    assert!(
        matches!(wait, budget::Take::Wait { ms } if (7_000 - STORE_DELAY_MS..=7_000).contains(&ms)),
        "held until the hold's end, less the time the store took to decide: {wait:?}"
    );
    assert_eq!(
        second
            .take(
                &[window(&key, 100)],
                budget::Priority::Background,
                1,
                NOW_MS + 7_000
            )
            .await
            .unwrap(),
        budget::Take::Granted { count: 1 }
    );
}

conformance!(
    racing_workers_never_take_more_than_a_shared_window_holds,
    a_hold_reaches_every_worker_of_the_app,
    seen_marker_is_put_if_absent_until_it_expires,
    cursor_round_trips_json_per_tenant_and_job,
    findings_are_stored_listed_and_updated_per_tenant_and_job,
    racing_runs_for_a_lease_have_one_winner,
    lease_is_held_renewed_released_and_taken_over_after_expiry,
);
