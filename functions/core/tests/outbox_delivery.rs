//! End-to-end delivery through the outbox (SQLite) to local HTTP receivers on 127.0.0.1:
//! outages, recovery, `Retry-After` and PagerDuty 400. The crash test is `outbox_crash.rs`.

mod outbox_support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use entrawatch_core::alert::{types, Alert};
use entrawatch_core::sinks::pagerduty::PagerDutySink;
use entrawatch_core::sinks::Sink;
use entrawatch_core::state::sqlite::SqliteStore;
use entrawatch_core::state::{DeliveryStatus, OutboxStore};
use entrawatch_core::Secret;
use outbox_support::*;

#[tokio::test]
async fn every_alert_arrives_once_signed_after_the_receiver_recovers_with_one_id_per_alert() {
    let receiver = Receiver::start(3, 500).await;
    let store = SqliteStore::open(db_path()).unwrap();
    let (outbox, d) = dispatcher(&store, vec![webhook("secops", &receiver)]);
    let alerts: Vec<Alert> = (0..5).map(|i| alert(&format!("s{i}"))).collect();
    for a in &alerts {
        outbox.record(a, NOW).await.unwrap();
    }
    for run in 0..10 {
        d.dispatch(NOW + run * 7200).await.unwrap();
    }
    let got = receiver.received();
    assert!(
        got.iter().all(signature_verifies),
        "a signature did not verify"
    );
    let accepted: Vec<String> = got.iter().filter(|r| r.status == 200).map(id_of).collect();
    let distinct: BTreeSet<String> = accepted.iter().cloned().collect();
    assert_eq!(accepted.len(), 5, "each alert exactly once after recovery");
    assert_eq!(distinct, alerts.iter().map(|a| a.id.clone()).collect());
    // The three failed attempts were all for one alert and carried that alert's id.
    let failed: BTreeSet<String> = got.iter().filter(|r| r.status == 500).map(id_of).collect();
    assert_eq!(got.iter().filter(|r| r.status == 500).count(), 3);
    assert_eq!(failed.len(), 1);
    for r in &got {
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["data"]["id"],
            id_of(r)
        );
    }
    assert!(store.due(i64::MAX, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn slack_outage_never_resends_to_the_webhook_and_raises_delivery_failing_once() {
    let hook = Receiver::start(0, 200).await;
    let chat = Receiver::start(usize::MAX, 503).await;
    let store = SqliteStore::open(db_path()).unwrap();
    let (outbox, d) = dispatcher(
        &store,
        vec![webhook("secops", &hook), webhook("chat", &chat)],
    );
    for i in 0..3 {
        outbox.record(&alert(&format!("o{i}")), NOW).await.unwrap();
    }
    for run in 0..8 {
        d.dispatch(NOW + run * 4000).await.unwrap();
    }
    let bodies = hook.accepted_bodies();
    let mut per_type: BTreeMap<String, usize> = BTreeMap::new();
    for b in &bodies {
        *per_type
            .entry(b["type"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_type.get(types::BREAK_GLASS_SIGN_IN), Some(&3));
    assert_eq!(
        per_type.get(types::DELIVERY_FAILING),
        Some(&1),
        "{per_type:?}"
    );
    let failing = bodies
        .iter()
        .find(|b| b["type"] == types::DELIVERY_FAILING)
        .unwrap();
    assert_eq!(failing["data"]["evidence"]["sink"], "chat");
    assert_eq!(failing["data"]["severity"], "high");
    assert!(
        !failing.to_string().contains(&chat.url),
        "the failing sink's URL leaked"
    );
    assert!(chat.accepted_bodies().is_empty());

    chat.fail_next(0);
    d.dispatch(NOW + 40_000).await.unwrap();
    assert_eq!(
        chat.accepted_bodies().len(),
        3,
        "everything pending reaches the recovered sink"
    );
    assert_eq!(
        hook.accepted_bodies().len(),
        4,
        "nothing re-sent to the sink that had succeeded"
    );
}

#[tokio::test]
async fn pagerduty_400_is_kept_as_failed_with_its_reason_and_raises_delivery_failing() {
    let pd = Receiver::start(usize::MAX, 400).await;
    let hook = Receiver::start(0, 200).await;
    let store = SqliteStore::open(db_path()).unwrap();
    let pd_sink: Arc<dyn Sink> = Arc::new(PagerDutySink::new(
        "pager",
        Secret::new(pd.url.clone()),
        Secret::new("R0UTING"),
        reqwest::Client::new(),
    ));
    let (outbox, d) = dispatcher(&store, vec![pd_sink, webhook("secops", &hook)]);
    let a = alert("pd");
    outbox.record(&a, NOW).await.unwrap();
    d.dispatch(NOW).await.unwrap();
    d.dispatch(NOW + 10_000).await.unwrap();
    assert_eq!(pd.received().len(), 1, "a 400 is never retried");
    let item = store
        .deliveries(&a.id)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.sink == "pager")
        .unwrap();
    assert_eq!(item.status, DeliveryStatus::Failed);
    assert!(item.last_error.unwrap().starts_with("HTTP 400"));
    let types_seen: Vec<String> = hook
        .accepted_bodies()
        .iter()
        .map(|b| b["type"].as_str().unwrap().to_string())
        .collect();
    assert!(
        types_seen.contains(&types::DELIVERY_FAILING.to_string()),
        "{types_seen:?}"
    );
}

#[tokio::test]
async fn retry_after_from_the_sink_sets_the_next_attempt() {
    let hook = Receiver::start(1, 429).await.with_retry_after("600");
    let store = SqliteStore::open(db_path()).unwrap();
    let (outbox, d) = dispatcher(&store, vec![webhook("secops", &hook)]);
    let a = alert("ra");
    outbox.record(&a, NOW).await.unwrap();
    d.dispatch(NOW).await.unwrap();
    assert_eq!(
        store.deliveries(&a.id).await.unwrap()[0].next_attempt_at,
        NOW + 600
    );
    assert!(d.dispatch(NOW + 599).await.unwrap().delivered.is_empty());
    assert_eq!(d.dispatch(NOW + 600).await.unwrap().delivered.len(), 1);
}
