//! State port conformance for the outbox, run against SQLite and DynamoDB (moto): record is
//! put-if-absent on the alert id, due order, item states, and racing writers.

mod state_support;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use entrawatch_core::alert::{types, Alert, Severity, TenantRef};
use entrawatch_core::state::*;
use state_support::fixtures::Fixture;

const NOW: i64 = 1_795_000_000;

fn alert(key: &str) -> Alert {
    let tenant = TenantRef {
        id: "11111111-2222-3333-4444-555555555555".into(),
        name: "contoso".into(),
    };
    let at = Utc.timestamp_opt(NOW, 0).unwrap();
    Alert::new(
        types::BREAK_GLASS_SIGN_IN,
        Severity::Critical,
        tenant,
        key,
        "Emergency account signed in",
        at,
    )
    .with_evidence("signInId", key)
}

fn sinks(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

async fn recording_an_alert_twice_is_a_no_op_reporting_already_recorded(f: impl Fixture) {
    let s = f.open().await;
    let a = alert("signin-1");
    assert_eq!(
        s.record(&a, &sinks(&["slack", "webhook"]), NOW)
            .await
            .unwrap(),
        Recorded::New
    );
    assert_eq!(
        s.record(&a, &sinks(&["slack", "webhook", "teams"]), NOW + 5)
            .await
            .unwrap(),
        Recorded::AlreadyRecorded
    );
    let d = s.deliveries(&a.id).await.unwrap();
    assert_eq!(
        d.iter().map(|x| x.sink.as_str()).collect::<Vec<_>>(),
        ["slack", "webhook"]
    );
    assert!(d.iter().all(|x| x.status == DeliveryStatus::Pending
        && x.attempts == 0
        && x.next_attempt_at == NOW));
    assert_eq!(Alert::from_json(&d[0].alert).unwrap(), a);
}

async fn due_lists_pending_items_oldest_first_within_the_limit(f: impl Fixture) {
    let s = f.open().await;
    let (a, b, c) = (alert("a"), alert("b"), alert("c"));
    s.record(&a, &sinks(&["webhook"]), NOW + 2).await.unwrap();
    s.record(&b, &sinks(&["webhook"]), NOW).await.unwrap();
    s.record(&c, &sinks(&["webhook"]), NOW + 100).await.unwrap();
    let due = s.due(NOW + 10, 10).await.unwrap();
    assert_eq!(
        due.iter().map(|d| d.alert_id.clone()).collect::<Vec<_>>(),
        [b.id.clone(), a.id.clone()]
    );
    assert_eq!(s.due(NOW + 10, 1).await.unwrap().len(), 1);
    assert_eq!(s.due(NOW + 100, 10).await.unwrap().len(), 3);
}

async fn sent_rescheduled_and_failed_items_keep_their_state(f: impl Fixture) {
    let s = f.open().await;
    let (a, b, c) = (alert("a"), alert("b"), alert("c"));
    for x in [&a, &b, &c] {
        s.record(x, &sinks(&["pd"]), NOW).await.unwrap();
    }
    s.reschedule(&a.id, "pd", 1, NOW + 30, "HTTP 500")
        .await
        .unwrap();
    s.mark_sent(&a.id, "pd", NOW + 30).await.unwrap();
    s.reschedule(&b.id, "pd", 2, NOW + 60, "HTTP 503")
        .await
        .unwrap();
    s.mark_failed(&c.id, "pd", 1, "HTTP 400: invalid routing key", NOW)
        .await
        .unwrap();
    let one = |id: String| {
        let s = s.clone();
        async move { s.deliveries(&id).await.unwrap().remove(0) }
    };
    let (da, db, dc) = (
        one(a.id.clone()).await,
        one(b.id.clone()).await,
        one(c.id.clone()).await,
    );
    assert_eq!((da.status, da.attempts), (DeliveryStatus::Sent, 2));
    assert_eq!(
        (db.status, db.attempts, db.next_attempt_at),
        (DeliveryStatus::Pending, 2, NOW + 60)
    );
    assert_eq!(db.last_error.as_deref(), Some("HTTP 503"));
    assert_eq!(
        (dc.status, dc.last_error.as_deref()),
        (
            DeliveryStatus::Failed,
            Some("HTTP 400: invalid routing key")
        )
    );
    assert!(s.due(NOW + 59, 10).await.unwrap().is_empty());
    assert_eq!(s.due(NOW + 60, 10).await.unwrap().len(), 1);
}

async fn racing_writers_record_exactly_one_alert(f: impl Fixture) {
    let f = Arc::new(f);
    let a = alert("raced-sign-in");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (f, a) = (f.clone(), a.clone());
        tasks.push(tokio::spawn(async move {
            let s = f.open().await;
            s.record(&a, &sinks(&["webhook"]), NOW).await.unwrap()
        }));
    }
    let mut new = 0;
    for t in tasks {
        if t.await.unwrap() == Recorded::New {
            new += 1;
        }
    }
    assert_eq!(new, 1);
    assert_eq!(f.open().await.due(NOW, 100).await.unwrap().len(), 1);
}

conformance!(
    recording_an_alert_twice_is_a_no_op_reporting_already_recorded,
    due_lists_pending_items_oldest_first_within_the_limit,
    sent_rescheduled_and_failed_items_keep_their_state,
    racing_writers_record_exactly_one_alert,
);
