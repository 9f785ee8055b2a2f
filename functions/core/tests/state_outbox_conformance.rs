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

fn key(a: &Alert, sink: &str) -> DeliveryKey {
    DeliveryKey {
        alert_id: a.id.clone(),
        sink: sink.to_string(),
    }
}

async fn a_claimed_item_is_no_one_elses_until_its_claim_expires(f: impl Fixture) {
    let (s, other) = (f.open().await, f.open().await);
    let a = alert("claimed");
    s.record(&a, &sinks(&["slack"]), NOW).await.unwrap();
    let k = key(&a, "slack");
    let held = s.claim(&k, "d1", NOW, NOW + 120).await.unwrap().unwrap();
    assert_eq!(held.claim_owner.as_deref(), Some("d1"));
    assert_eq!(held.recorded_at, NOW);
    assert_eq!(Alert::from_json(&held.alert).unwrap(), a);
    assert!(other
        .claim(&k, "d2", NOW + 1, NOW + 121)
        .await
        .unwrap()
        .is_none());
    assert!(
        other.due(NOW + 119, 10).await.unwrap().is_empty(),
        "held: not due"
    );
    assert!(other.due_keys(NOW + 119, 10).await.unwrap().is_empty());
    // d1 died holding it: after the expiry d2 takes it over and d1 can no longer record anything.
    assert_eq!(
        other.due_keys(NOW + 120, 10).await.unwrap(),
        vec![k.clone()]
    );
    let taken = other.claim(&k, "d2", NOW + 120, NOW + 240).await.unwrap();
    assert_eq!(taken.unwrap().claim_owner.as_deref(), Some("d2"));
    for lost in [
        s.mark_sent(&k, "d1", NOW + 121).await,
        s.reschedule(&k, "d1", 1, NOW + 150, "HTTP 500").await,
        s.mark_failed(&k, "d1", 1, "HTTP 400", NOW + 121).await,
    ] {
        assert!(
            matches!(lost, Err(StateError::ClaimLost { .. })),
            "{lost:?}"
        );
    }
    other.mark_sent(&k, "d2", NOW + 122).await.unwrap();
    let d = s.deliveries(&a.id).await.unwrap().remove(0);
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Sent, 1));
    assert!(
        s.claim(&k, "d3", NOW + 999, NOW + 1200)
            .await
            .unwrap()
            .is_none(),
        "sent stays sent"
    );
}

async fn a_failed_send_cannot_flip_an_item_another_dispatcher_sent(f: impl Fixture) {
    let (s, other) = (f.open().await, f.open().await);
    let a = alert("flip");
    s.record(&a, &sinks(&["slack"]), NOW).await.unwrap();
    let k = key(&a, "slack");
    s.claim(&k, "slow", NOW, NOW + 120).await.unwrap().unwrap();
    other
        .claim(&k, "fast", NOW + 120, NOW + 240)
        .await
        .unwrap()
        .unwrap();
    other.mark_sent(&k, "fast", NOW + 121).await.unwrap();
    let flip = s.reschedule(&k, "slow", 1, NOW + 150, "timeout").await;
    assert!(
        matches!(flip, Err(StateError::ClaimLost { .. })),
        "{flip:?}"
    );
    let d = s.deliveries(&a.id).await.unwrap().remove(0);
    assert_eq!(d.status, DeliveryStatus::Sent);
}

async fn pending_report_names_alerts_no_sink_received(f: impl Fixture) {
    let s = f.open().await;
    let (old, half, fresh) = (alert("old"), alert("half"), alert("fresh"));
    s.record(&old, &sinks(&["slack", "teams"]), NOW)
        .await
        .unwrap();
    s.record(&half, &sinks(&["slack", "webhook"]), NOW + 1)
        .await
        .unwrap();
    s.record(&fresh, &sinks(&["slack"]), NOW + 900)
        .await
        .unwrap();
    for (a, sink) in [(&old, "slack"), (&old, "teams"), (&half, "slack")] {
        let k = key(a, sink);
        s.claim(&k, "d", NOW + 10, NOW + 130)
            .await
            .unwrap()
            .unwrap();
        s.reschedule(&k, "d", 1, NOW + 40, "HTTP 500")
            .await
            .unwrap();
    }
    let k = key(&half, "webhook");
    s.claim(&k, "d", NOW + 10, NOW + 130)
        .await
        .unwrap()
        .unwrap();
    s.mark_sent(&k, "d", NOW + 10).await.unwrap();
    let report = s.pending_report(NOW + 60, 10).await.unwrap();
    assert_eq!(report.oldest_recorded_at, Some(NOW));
    assert_eq!(report.undelivered.len(), 1, "{report:?}");
    let u = &report.undelivered[0];
    assert_eq!((u.alert_id.as_str(), u.recorded_at), (old.id.as_str(), NOW));
    assert_eq!(u.kind, "break_glass.sign_in");
    assert_eq!(
        u.pending,
        vec![
            ("slack".to_string(), Some("HTTP 500".to_string())),
            ("teams".to_string(), Some("HTTP 500".to_string()))
        ]
    );
    let later = s.pending_report(NOW + 900, 10).await.unwrap();
    assert_eq!(
        later.undelivered.len(),
        2,
        "the fresh one too, once old enough"
    );
    assert_eq!(
        s.pending_report(NOW + 900, 1)
            .await
            .unwrap()
            .undelivered
            .len(),
        1
    );
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
    let (ka, kb, kc) = (key(&a, "pd"), key(&b, "pd"), key(&c, "pd"));
    for k in [&ka, &kb, &kc] {
        assert!(s.claim(k, "d1", NOW, NOW + 120).await.unwrap().is_some());
    }
    s.reschedule(&ka, "d1", 1, NOW + 30, "HTTP 500")
        .await
        .unwrap();
    s.claim(&ka, "d1", NOW + 30, NOW + 150)
        .await
        .unwrap()
        .unwrap();
    s.mark_sent(&ka, "d1", NOW + 30).await.unwrap();
    s.reschedule(&kb, "d1", 2, NOW + 60, "HTTP 503")
        .await
        .unwrap();
    s.mark_failed(&kc, "d1", 1, "HTTP 400: invalid routing key", NOW)
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
    a_claimed_item_is_no_one_elses_until_its_claim_expires,
    a_failed_send_cannot_flip_an_item_another_dispatcher_sent,
    pending_report_names_alerts_no_sink_received,
    recording_an_alert_twice_is_a_no_op_reporting_already_recorded,
    due_lists_pending_items_oldest_first_within_the_limit,
    sent_rescheduled_and_failed_items_keep_their_state,
    racing_writers_record_exactly_one_alert,
);
