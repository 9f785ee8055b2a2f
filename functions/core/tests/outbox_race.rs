//! Several dispatchers on one store at once (fan-out workers, both scheduled functions, CLI runs),
//! on SQLite and on DynamoDB (moto): every (alert, sink) reaches its receiver exactly once, and a
//! dispatcher that dies holding claims leaves them to expire and be taken over.

mod outbox_support;
mod state_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use entrawatch_core::outbox::{Dispatcher, Outbox, RetryPolicy, CLAIM_SECS};
use entrawatch_core::sinks::Sink;
use entrawatch_core::state::{DeliveryKey, DeliveryStatus, OutboxStore, StateStore};
use outbox_support::{alert, id_of, route, webhook, Receiver, NOW};
use state_support::fixtures::Fixture;

const ALERTS: usize = 200;
const DISPATCHERS: usize = 4;

fn dispatcher<S: StateStore + Clone + 'static>(store: &S, sinks: &[Arc<dyn Sink>]) -> Dispatcher {
    let shared = Arc::new(store.clone());
    let outbox = Outbox::new(
        shared.clone(),
        sinks.iter().map(|s| route(s.name())).collect(),
    );
    Dispatcher::new(
        shared.clone(),
        shared,
        outbox,
        sinks.to_vec(),
        RetryPolicy::default(),
    )
}

/// Posts per webhook-id at one receiver.
fn posts(r: &Receiver) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for received in r.received() {
        *n.entry(id_of(&received)).or_default() += 1;
    }
    n
}

async fn four_dispatchers_post_each_alert_to_each_sink_exactly_once(f: impl Fixture) {
    // A slow receiver keeps every send in flight while the other dispatchers look for work.
    let slack = Receiver::start(0, 500)
        .await
        .with_delay(Duration::from_millis(15));
    let hook = Receiver::start(0, 500)
        .await
        .with_delay(Duration::from_millis(15));
    let sinks = vec![webhook("slack", &slack), webhook("hook", &hook)];
    let store = f.open().await;
    let outbox = Outbox::new(Arc::new(store.clone()), vec![route("slack"), route("hook")]);
    let alerts: Vec<_> = (0..ALERTS).map(|i| alert(&format!("race-{i}"))).collect();
    for a in &alerts {
        outbox.record(a, NOW).await.unwrap();
    }
    let f = Arc::new(f);
    let mut tasks = Vec::new();
    for i in 0..DISPATCHERS {
        let (f, sinks) = (f.clone(), sinks.clone());
        tasks.push(tokio::spawn(async move {
            let own = f.open().await;
            let d = dispatcher(&own, &sinks).with_owner(format!("dispatcher-{i}"));
            d.dispatch(NOW).await.unwrap()
        }));
    }
    let mut delivered = 0;
    let mut lost = 0;
    let mut busy = 0;
    for t in tasks {
        let report = t.await.unwrap();
        delivered += report.delivered.len();
        lost += report.claims_lost;
        busy += usize::from(!report.delivered.is_empty());
    }
    assert_eq!(
        delivered,
        2 * ALERTS,
        "every (alert, sink) once across the dispatchers"
    );
    assert_eq!(lost, 0);
    assert!(
        busy > 1,
        "the dispatchers shared the work ({busy} delivered anything)"
    );
    for (name, r) in [("slack", &slack), ("hook", &hook)] {
        let posts = posts(r);
        assert_eq!(posts.len(), ALERTS, "{name}: every alert arrived");
        let twice: Vec<_> = posts.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{name}: posted more than once: {twice:?}");
    }
    for a in &alerts {
        let d = store.deliveries(&a.id).await.unwrap();
        assert!(d
            .iter()
            .all(|x| x.status == DeliveryStatus::Sent && x.attempts == 1));
    }
}

async fn claims_of_a_dispatcher_that_died_are_taken_over_once_they_expire(f: impl Fixture) {
    let hook = Receiver::start(0, 500).await;
    let sinks = vec![webhook("hook", &hook)];
    let store = f.open().await;
    let outbox = Outbox::new(Arc::new(store.clone()), vec![route("hook")]);
    let a = alert("orphaned");
    outbox.record(&a, NOW).await.unwrap();
    // A dispatcher claims the item and is killed before it posts or records anything.
    let key = DeliveryKey {
        alert_id: a.id.clone(),
        sink: "hook".into(),
    };
    let claimed = store
        .claim(&key, "killed", NOW, NOW + CLAIM_SECS)
        .await
        .unwrap();
    assert!(claimed.is_some());
    let other = dispatcher(&f.open().await, &sinks).with_owner("survivor");
    let early = other.dispatch(NOW + CLAIM_SECS - 1).await.unwrap();
    assert!(early.delivered.is_empty(), "a live claim is respected");
    assert!(hook.received().is_empty());
    let late = other.dispatch(NOW + CLAIM_SECS).await.unwrap();
    assert_eq!(late.delivered.len(), 1, "taken over at expiry");
    assert_eq!(posts(&hook).get(&a.id), Some(&1));
    let d = store.deliveries(&a.id).await.unwrap().remove(0);
    assert_eq!(d.status, DeliveryStatus::Sent);
    assert_eq!(d.claim_owner.as_deref(), Some("survivor"));
}

conformance!(
    four_dispatchers_post_each_alert_to_each_sink_exactly_once,
    claims_of_a_dispatcher_that_died_are_taken_over_once_they_expire,
);
