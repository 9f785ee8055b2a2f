//! Alerts recorded and delivered per second, SQLite and DynamoDB (moto) side by side, delivering
//! to a local signed-webhook receiver on 127.0.0.1.
//!
//! `cargo bench -p entrawatch-core --bench alerts` (moto: `ENTRAWATCH_TEST_MOTO_URL`, or
//! `.venv` from `scripts/setup-python.sh`, via `scripts/moto-server.py`). `ENTRAWATCH_BENCH_ALERTS=N` sets the
//! count (default 2000 for SQLite; moto gets a quarter, it is much slower).

#[path = "../tests/outbox_support/mod.rs"]
mod outbox_support;
#[path = "../tests/state_support/mod.rs"]
mod state_support;

use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use entrawatch_core::alert::{types, Alert, Route, Severity, TenantRef};
use entrawatch_core::outbox::{Dispatcher, Outbox, RetryPolicy};
use entrawatch_core::sinks::webhook::{SigningKey, WebhookSink};
use entrawatch_core::sinks::{http_client, Sink};
use entrawatch_core::state::sqlite::SqliteStore;
use entrawatch_core::state::StateStore;
use entrawatch_core::Secret;

const NOW: i64 = 1_795_000_000;

struct Figures {
    alerts: usize,
    recorded_per_s: f64,
    delivered_per_s: f64,
}

async fn run<S: StateStore + Clone + 'static>(store: S, n: usize, url: &str) -> Figures {
    let key =
        SigningKey::parse(&Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).expect("key");
    let sink: Arc<dyn Sink> = Arc::new(WebhookSink::new(
        "bench",
        Secret::new(url),
        key,
        http_client().expect("HTTP client"),
    ));
    let shared = Arc::new(store);
    let route = Route {
        sink: "bench".into(),
        min_severity: Severity::Info,
        types: vec![],
        tenants: vec![],
    };
    let outbox = Outbox::new(shared.clone(), vec![route]);
    let dispatcher = Dispatcher::new(
        shared.clone(),
        shared,
        outbox.clone(),
        vec![sink],
        RetryPolicy::default(),
    );
    let tenant = TenantRef {
        id: "11111111-2222-3333-4444-555555555555".into(),
        name: "contoso".into(),
    };
    let at = Utc.timestamp_opt(NOW, 0).unwrap();
    let alerts: Vec<Alert> = (0..n)
        .map(|i| {
            Alert::new(
                types::BREAK_GLASS_SIGN_IN,
                Severity::Critical,
                tenant.clone(),
                &format!("bench-{i}"),
                "bench",
                at,
            )
        })
        .collect();
    let start = Instant::now();
    for a in &alerts {
        outbox.record(a, NOW).await.expect("record");
    }
    let recorded_per_s = n as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let report = dispatcher.dispatch(NOW).await.expect("dispatch");
    assert_eq!(report.delivered.len(), n, "every alert delivered");
    let delivered_per_s = n as f64 / start.elapsed().as_secs_f64();
    Figures {
        alerts: n,
        recorded_per_s,
        delivered_per_s,
    }
}

#[tokio::main]
async fn main() {
    // `cargo test --benches` runs this without `--bench`: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("alerts benchmark: run with `cargo bench -p entrawatch-core --bench alerts`");
        return;
    }
    let n: usize = std::env::var("ENTRAWATCH_BENCH_ALERTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let receiver = outbox_support::Receiver::start(0, 200).await;
    let path = std::env::temp_dir().join(format!(
        "entrawatch-bench-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let sqlite = run(SqliteStore::open(&path).expect("sqlite"), n, &receiver.url).await;
    let _ = std::fs::remove_file(&path);
    let (_, dynamo) = state_support::dynamo_store().await;
    let moto = run(dynamo, (n / 4).max(1), &receiver.url).await;
    println!(
        "{:<16} {:>8} {:>18} {:>18}",
        "backend", "alerts", "recorded/s", "delivered/s"
    );
    for (name, f) in [("sqlite", &sqlite), ("dynamodb (moto)", &moto)] {
        println!(
            "{:<16} {:>8} {:>18.0} {:>18.0}",
            name, f.alerts, f.recorded_per_s, f.delivered_per_s
        );
    }
}
