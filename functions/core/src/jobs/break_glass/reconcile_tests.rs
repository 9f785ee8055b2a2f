//! Reconciliation with `signInActivity` over the in-memory Graph port: what it alerts, what it leaves alone,
//! and that the log row arriving later adds nothing (issue 14).

use std::sync::Arc;

use chrono::Duration;
use serde_json::{json, Value};

use super::fake_graph::*;
use super::{lookup_every, run};
use crate::alert::{alert_id, types, Severity};
use crate::graph::SignInKind;

fn at(minutes_ago: i64) -> String {
    (now() - Duration::minutes(minutes_ago)).to_rfc3339()
}

/// An emergency account whose `signInActivity` is `activity` (Graph's property names).
fn account(id: &str, activity: Value) -> Value {
    json!({"id": id, "userPrincipalName": format!("{id}@contoso"), "createdDateTime": "2020-01-01T00:00:00Z",
           "signInActivity": activity})
}

fn success(minutes_ago: i64, request_id: &str) -> Value {
    json!({"lastSuccessfulSignInDateTime": at(minutes_ago), "lastSuccessfulSignInRequestId": request_id,
           "lastSignInDateTime": at(minutes_ago), "lastSignInRequestId": request_id})
}

/// The same store read through another Graph (the tenant a moment later: more rows visible).
fn later(h: &Harness, graph: FakeGraph) -> Harness {
    Harness {
        store: h.store.clone(),
        graph: Arc::new(graph),
    }
}

fn sign_in_id(id: &str) -> String {
    alert_id(types::BREAK_GLASS_SIGN_IN, "t1", id)
}

#[tokio::test]
async fn a_sign_in_signin_activity_shows_before_its_row_is_alerted_once_and_the_row_adds_nothing() {
    // Run 1 (t0): the first window; nothing has happened. Run 2 (t0 + 3 h): signInActivity names a sign-in
    // 170 minutes old whose log row is not visible yet. Run 3: the row arrives.
    let first = Harness::new(FakeGraph {
        users: vec![user(BG1, Some(drilled()))],
        ..FakeGraph::default()
    });
    let t0 = now() - Duration::hours(3);
    assert_eq!(
        run(&first.ctx(t0), &config(&[BG1]))
            .await
            .unwrap()
            .alerts_recorded,
        0
    );
    let h = later(
        &first,
        FakeGraph {
            users: vec![account(BG1, success(170, "req-1"))],
            ..FakeGraph::default()
        },
    );
    let report = run(&h.ctx(now()), &config(&[BG1])).await.unwrap();
    assert_eq!(report.alerts_recorded, 1);
    let alerts = h.alerts().await;
    assert_eq!(
        alerts[0].id,
        sign_in_id("req-1"),
        "the id its log row will have"
    );
    assert_eq!(alerts[0].kind, types::BREAK_GLASS_SIGN_IN);
    assert_eq!(alerts[0].severity, Severity::Critical);
    assert_eq!(alerts[0].evidence["logRow"], "not yet available");
    assert_eq!(alerts[0].evidence["source"], "signInActivity");
    assert_eq!(alerts[0].evidence["signInId"], "req-1");
    assert!(report
        .notes
        .iter()
        .any(|n| n.contains("alerted from signInActivity")));
    // The row arrives (and signInActivity still names it): nothing new, in this run or the next.
    let arrived = later(
        &h,
        FakeGraph {
            sign_ins: vec![(
                SignInKind::Interactive,
                sign_in("req-1", BG1, 170, json!({"errorCode": 0})),
            )],
            users: vec![account(BG1, success(170, "req-1"))],
            ..FakeGraph::default()
        },
    );
    for minutes in [5, 10] {
        let report = run(
            &arrived.ctx(now() + Duration::minutes(minutes)),
            &config(&[BG1]),
        )
        .await
        .unwrap();
        assert_eq!(
            report.alerts_recorded, 0,
            "{minutes} min after: {:?}",
            report.notes
        );
    }
    assert_eq!(arrived.alerts().await.len(), 1);
}

#[tokio::test]
async fn a_stale_sign_in_activity_raises_nothing() {
    // The logs show a newer sign-in (alerted from its row); signInActivity lags and names an older one,
    // inside the watched time, that the logs also showed.
    let h = Harness::new(FakeGraph {
        sign_ins: vec![
            (
                SignInKind::Interactive,
                sign_in("new", BG1, 10, json!({"errorCode": 0})),
            ),
            (
                SignInKind::Interactive,
                sign_in("old", BG1, 300, json!({"errorCode": 0})),
            ),
        ],
        users: vec![account(BG1, success(300, "old"))],
        ..FakeGraph::default()
    });
    let report = run(&h.ctx(now()), &config(&[BG1])).await.unwrap();
    assert_eq!(report.alerts_recorded, 2, "the two rows");
    // signInActivity now names an attempt older than the newest row but whose id the logs never showed.
    let lagging = later(
        &h,
        FakeGraph {
            users: vec![account(
                BG1,
                json!({"lastSuccessfulSignInDateTime": at(300), "lastSuccessfulSignInRequestId": "old",
                       "lastSignInDateTime": at(200), "lastSignInRequestId": "never-in-logs"}),
            )],
            ..FakeGraph::default()
        },
    );
    let report = run(&lagging.ctx(now() + Duration::minutes(5)), &config(&[BG1]))
        .await
        .unwrap();
    assert_eq!(report.alerts_recorded, 0, "{:?}", report.notes);
    assert!(!report.notes.iter().any(|n| n.contains("signInActivity")));
}

#[tokio::test]
async fn a_request_id_the_logs_never_show_is_alerted_once() {
    let h = Harness::new(FakeGraph {
        users: vec![account(BG1, success(30, "ghost"))],
        ..FakeGraph::default()
    });
    let mut total = 0;
    for minutes in [0, 5, 10, 15] {
        total += run(&h.ctx(now() + Duration::minutes(minutes)), &config(&[BG1]))
            .await
            .unwrap()
            .alerts_recorded;
    }
    assert_eq!(total, 1);
    assert_eq!(h.alerts().await[0].id, sign_in_id("ghost"));
}

#[tokio::test]
async fn an_attempt_after_the_last_success_is_a_failed_sign_in_and_one_before_the_window_nothing() {
    let h = Harness::new(FakeGraph {
        users: vec![account(
            BG1,
            json!({"lastSuccessfulSignInDateTime": at(60 * 30), "lastSuccessfulSignInRequestId": "before-watch",
                   "lastSignInDateTime": at(20), "lastSignInRequestId": "spray"}),
        )],
        ..FakeGraph::default()
    });
    run(&h.ctx(now()), &config(&[BG1])).await.unwrap();
    let alerts = h.alerts().await;
    assert_eq!(
        alerts.len(),
        1,
        "the success 30 h ago is before the first window (24 h)"
    );
    assert_eq!(alerts[0].kind, types::BREAK_GLASS_SIGN_IN_FAILED);
    assert_eq!(alerts[0].severity, Severity::High);
    assert_eq!(alerts[0].evidence["outcome"], "failed");
    assert_eq!(
        alerts[0].evidence["signInActivityProperty"],
        "lastSignInDateTime"
    );
}

#[tokio::test]
async fn when_request_ids_are_not_row_ids_the_row_is_matched_on_time_and_so_said() {
    let h = Harness::new(FakeGraph {
        users: vec![account(BG1, success(100, "request-not-row"))],
        ..FakeGraph::default()
    });
    assert_eq!(
        run(&h.ctx(now()), &config(&[BG1]))
            .await
            .unwrap()
            .alerts_recorded,
        1
    );
    // The row arrives under another id, at the same second.
    let row = sign_in("row-id", BG1, 100, json!({"errorCode": 0}));
    let arrived = later(
        &h,
        FakeGraph {
            sign_ins: vec![(SignInKind::Interactive, row)],
            users: vec![account(BG1, success(100, "request-not-row"))],
            ..FakeGraph::default()
        },
    );
    let report = run(&arrived.ctx(now() + Duration::minutes(5)), &config(&[BG1]))
        .await
        .unwrap();
    assert_eq!(report.alerts_recorded, 0);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("request ids are not the rows' ids")),
        "{:?}",
        report.notes
    );
    // From now on, reconciled alerts are keyed on the account and time.
    let next = later(
        &arrived,
        FakeGraph {
            users: vec![account(BG1, success(2, "another-request"))],
            ..FakeGraph::default()
        },
    );
    run(&next.ctx(now() + Duration::minutes(10)), &config(&[BG1]))
        .await
        .unwrap();
    let alerts = next.alerts().await;
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[1].evidence["matchedBy"], "time");
}

fn minutes(d: chrono::Duration) -> i64 {
    d.num_minutes()
}

#[test]
fn lookups_share_the_apps_urgent_sign_in_activity_budget_and_happen_at_least_daily() {
    // 10 a minute per app: a fifth (2) is urgent.
    assert_eq!(lookup_every(10, 1, 2).num_seconds(), 30, "alone: every run");
    assert_eq!(minutes(lookup_every(10, 200, 2)), 100);
    assert_eq!(
        minutes(lookup_every(10, 200, 20)),
        200,
        "20 accounts: two requests a lookup"
    );
    assert_eq!(lookup_every(10, 100_000, 2), super::ACCOUNT_CHECK_EVERY);
}
