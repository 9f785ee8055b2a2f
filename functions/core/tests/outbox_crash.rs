//! A crash between send and mark: the dispatch runs in a child process (this test binary,
//! re-invoked on `crash_child_dispatches_then_dies`) whose sink exits right after sending; its
//! claim on that item expires, the next dispatch after that re-sends with the same id and nothing
//! is lost (at-least-once, SPEC.md "Alerts").

mod outbox_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use entrawatch_core::alert::Alert;
use entrawatch_core::outbox::CLAIM_SECS;
use entrawatch_core::sinks::webhook::{SigningKey, WebhookSink};
use entrawatch_core::sinks::{Sink, SinkError};
use entrawatch_core::state::sqlite::SqliteStore;
use entrawatch_core::state::OutboxStore;
use entrawatch_core::Secret;
use outbox_support::*;

/// Sends, then kills the process before the dispatcher can mark the item sent.
struct DieAfterSend(Arc<dyn Sink>);

#[async_trait]
impl Sink for DieAfterSend {
    fn name(&self) -> &str {
        self.0.name()
    }
    async fn send(&self, alert: &Alert) -> Result<(), SinkError> {
        self.0.send(alert).await?;
        std::process::exit(42)
    }
}

/// Child half of the crash test: does nothing unless the parent test started it.
#[tokio::test]
async fn crash_child_dispatches_then_dies() {
    let (Ok(db), Ok(url)) = (
        std::env::var("ENTRAWATCH_CRASH_DB"),
        std::env::var("ENTRAWATCH_CRASH_URL"),
    ) else {
        return;
    };
    let store = SqliteStore::open(db).unwrap();
    let key = SigningKey::parse(&Secret::new(SECRET)).unwrap();
    let inner: Arc<dyn Sink> = Arc::new(WebhookSink::new(
        "secops",
        Secret::new(url),
        key,
        reqwest::Client::new(),
    ));
    let (_, d) = dispatcher(&store, vec![Arc::new(DieAfterSend(inner))]);
    d.dispatch(NOW).await.unwrap();
    unreachable!("the sink exits the process after its first send");
}

#[tokio::test]
async fn crash_between_send_and_mark_resends_with_the_same_id_and_loses_nothing() {
    let hook = Receiver::start(0, 200).await;
    let path = db_path();
    let store = SqliteStore::open(&path).unwrap();
    let (outbox, d) = dispatcher(&store, vec![webhook("secops", &hook)]);
    let alerts: Vec<Alert> = (0..3).map(|i| alert(&format!("c{i}"))).collect();
    for a in &alerts {
        outbox.record(a, NOW).await.unwrap();
    }
    let (exe, url, db) = (
        std::env::current_exe().unwrap(),
        hook.url.clone(),
        path.clone(),
    );
    let child = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .args([
                "crash_child_dispatches_then_dies",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("ENTRAWATCH_CRASH_DB", db)
            .env("ENTRAWATCH_CRASH_URL", url)
            .stdout(std::process::Stdio::null())
            .status()
    });
    let status = child.await.unwrap().unwrap();
    assert_eq!(
        status.code(),
        Some(42),
        "the child should die right after its first send"
    );
    let first = hook.received();
    assert_eq!(first.len(), 1);
    assert_eq!(
        store.due(NOW, 10).await.unwrap().len(),
        2,
        "the crashed send is held by the dead dispatcher's claim"
    );
    assert_eq!(
        store.due(NOW + CLAIM_SECS, 10).await.unwrap().len(),
        3,
        "and is due again once the claim expires"
    );
    assert_eq!(d.dispatch(NOW).await.unwrap().delivered.len(), 2);
    let late = d.dispatch(NOW + CLAIM_SECS).await.unwrap();
    assert_eq!(
        late.delivered.len(),
        1,
        "taken over after the claim expired"
    );
    let got = hook.received();
    assert!(got.iter().all(signature_verifies));
    let ids: Vec<String> = got.iter().map(id_of).collect();
    let distinct: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), 4, "one re-send after the crash");
    assert_eq!(
        distinct,
        alerts.iter().map(|a| a.id.clone()).collect(),
        "nothing lost"
    );
    assert_eq!(
        ids.iter().filter(|i| **i == id_of(&first[0])).count(),
        2,
        "the re-send has the same id"
    );
}
