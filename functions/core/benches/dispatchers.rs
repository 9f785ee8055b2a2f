//! Delivered alerts per second and duplicate posts with 1, 4 and 16 concurrent dispatchers on one
//! outbox, SQLite and DynamoDB (moto) side by side, delivering to a local signed-webhook receiver
//! on 127.0.0.1.
//!
//! For each backend and each level N: a fresh store (SQLite: a fresh file, each dispatcher its own
//! `SqliteStore::open` connection on it; DynamoDB: a fresh table, each dispatcher its own client),
//! A alerts recorded to one webhook sink whose receiver answers 200 after a small delay and counts
//! posts per `webhook-id`. Then N dispatchers (tokio tasks on a multi-thread runtime, each with
//! its own owner `bench-{i}` and its own HTTP client) start at once, each calling `dispatch` once;
//! the wall time runs until all have returned. Per row: delivered/s (distinct alerts the receiver
//! got / wall seconds), posts received, duplicate posts (posts minus distinct ids), claims lost
//! (sum of `DispatchReport::claims_lost`), alerts that never arrived, how many dispatchers
//! delivered anything, and claim attempts (every `OutboxStore::claim` call, won or lost, counted
//! by a thin wrapper around each dispatcher's store: one store write each). A last line per backend gives delivered/s at 4 and 16 as a ratio of 1
//! (the machine is shared and noisy: compare ratios, not absolute figures).
//!
//! `cargo bench -p entrawatch-core --bench dispatchers`
//!
//! - `ENTRAWATCH_BENCH_ALERTS=A`: alerts per level on both backends (default 400 on SQLite, 200
//!   on moto, which is much slower).
//! - `ENTRAWATCH_BENCH_DELAY_MS=D`: the receiver's delay before each answer (default 5; must be
//!   below the sink's send timeout).
//! - `ENTRAWATCH_TEST_MOTO_URL`: a running moto server (`scripts/moto-server.py`, requests
//!   serialized); without it the bench starts one from `.venv` (`scripts/setup-python.sh`).
//!
//! Conditions: no dispatcher dies and every send takes far less than the claim
//! ([`CLAIM_SECS`]), so the claim guarantees one post per alert. The bench exits non-zero if any
//! level saw a duplicate post, a missing alert or a dispatch error. Everything is on loopback and
//! every loop is bounded by the alert count and the three levels.

#[path = "../tests/outbox_support/mod.rs"]
mod outbox_support;
#[path = "../tests/state_support/mod.rs"]
mod state_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use entrawatch_core::outbox::{Dispatcher, Outbox, RetryPolicy, CLAIM_SECS};
use entrawatch_core::sinks::webhook::{SigningKey, WebhookSink};
use entrawatch_core::sinks::{http_client, Sink, SEND_TIMEOUT};
use entrawatch_core::Secret;
use outbox_support::{alert, id_of, route, Receiver, NOW, SECRET};
use state_support::fixtures::{self, Fixture};
use tokio::sync::Barrier;

/// Concurrent dispatchers per level.
const LEVELS: [usize; 3] = [1, 4, 16];
const SINK: &str = "bench";
const SQLITE: &str = "sqlite";
const MOTO: &str = "dynamodb (moto)";

/// One backend at one level.
struct Row {
    backend: &'static str,
    dispatchers: usize,
    alerts: usize,
    wall_secs: f64,
    /// Distinct recorded alerts the receiver got.
    delivered: usize,
    posts: usize,
    duplicates: usize,
    claims_lost: usize,
    missing: usize,
    /// Dispatchers that delivered at least one alert.
    active: usize,
    /// `claim` calls by all dispatchers, won or lost.
    claim_tries: usize,
    errors: Vec<String>,
}

impl Row {
    fn delivered_per_s(&self) -> f64 {
        self.delivered as f64 / self.wall_secs
    }

    fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.duplicates > 0 {
            out.push(format!("{} duplicate posts", self.duplicates));
        }
        if self.missing > 0 {
            out.push(format!("{} alerts never arrived", self.missing));
        }
        out.extend(self.errors.iter().map(|e| format!("dispatch error: {e}")));
        out
    }
}

fn webhook(url: &str) -> Arc<dyn Sink> {
    let key = SigningKey::parse(&Secret::new(SECRET)).expect("signing key");
    Arc::new(WebhookSink::new(
        SINK,
        Secret::new(url),
        key,
        http_client().expect("HTTP client"),
    ))
}

/// Records `alerts` alerts on a fresh store of `f`, then times `dispatchers` dispatchers, each on
/// its own handle, delivering them at once.
async fn level<F: Fixture>(
    backend: &'static str,
    f: &F,
    dispatchers: usize,
    alerts: usize,
    delay: Duration,
) -> Row {
    let receiver = Receiver::start(0, 500).await.with_delay(delay);
    let outbox = Outbox::new(Arc::new(f.open().await), vec![route(SINK)]);
    let recorded: Vec<_> = (0..alerts)
        .map(|i| alert(&format!("bench-{dispatchers}-{i}")))
        .collect();
    for a in &recorded {
        outbox.record(a, NOW).await.expect("record");
    }
    let start_line = Arc::new(Barrier::new(dispatchers + 1));
    let mut tasks = Vec::with_capacity(dispatchers);
    for i in 0..dispatchers {
        let own = Arc::new(f.open().await);
        let d = Dispatcher::new(
            own.clone(),
            own.clone(),
            Outbox::new(own, vec![route(SINK)]),
            vec![webhook(&receiver.url)],
            RetryPolicy::default(),
        )
        .with_owner(format!("bench-{i}"));
        let start_line = start_line.clone();
        tasks.push(tokio::spawn(async move {
            start_line.wait().await;
            d.dispatch(NOW).await
        }));
    }
    start_line.wait().await;
    let start = Instant::now();
    let (mut claims_lost, mut claim_tries, mut active, mut errors) = (0, 0, 0, Vec::new());
    for t in tasks {
        match t.await {
            Ok(Ok(report)) => {
                claims_lost += report.claims_lost;
                claim_tries += report.claims_tried;
                active += usize::from(!report.delivered.is_empty());
            }
            Ok(Err(e)) => errors.push(e.to_string()),
            Err(e) => errors.push(format!("dispatcher task: {e}")),
        }
    }
    let wall_secs = start.elapsed().as_secs_f64();
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for r in receiver.received() {
        *per_id.entry(id_of(&r)).or_default() += 1;
    }
    let posts: usize = per_id.values().sum();
    let delivered = recorded
        .iter()
        .filter(|a| per_id.contains_key(&a.id))
        .count();
    Row {
        backend,
        dispatchers,
        alerts,
        wall_secs,
        delivered,
        posts,
        duplicates: posts - per_id.len(),
        claims_lost,
        missing: alerts - delivered,
        active,
        claim_tries,
        errors,
    }
}

/// A whole-number environment override; anything else stops the bench.
fn env_number(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            eprintln!("{name}={value:?} is not a whole number");
            std::process::exit(2);
        }
    }
}

fn print_header() {
    println!(
        "{:<16} {:>11} {:>7} {:>8} {:>12} {:>6} {:>10} {:>11} {:>8} {:>7} {:>12}",
        "backend",
        "dispatchers",
        "alerts",
        "wall s",
        "delivered/s",
        "posts",
        "duplicates",
        "claims lost",
        "missing",
        "active",
        "claim tries"
    );
}

fn print_row(r: &Row) {
    println!(
        "{:<16} {:>11} {:>7} {:>8.3} {:>12.1} {:>6} {:>10} {:>11} {:>8} {:>7} {:>12}",
        r.backend,
        r.dispatchers,
        r.alerts,
        r.wall_secs,
        r.delivered_per_s(),
        r.posts,
        r.duplicates,
        r.claims_lost,
        r.missing,
        r.active,
        r.claim_tries
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo test --benches` runs this without `--bench`: stay quick there.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "dispatchers benchmark: run with `cargo bench -p entrawatch-core --bench dispatchers`"
        );
        return;
    }
    let alerts = env_number("ENTRAWATCH_BENCH_ALERTS").map(|n| n as usize);
    if alerts == Some(0) {
        eprintln!("ENTRAWATCH_BENCH_ALERTS must be at least 1");
        std::process::exit(2);
    }
    let delay = Duration::from_millis(env_number("ENTRAWATCH_BENCH_DELAY_MS").unwrap_or(5));
    if delay >= SEND_TIMEOUT {
        eprintln!(
            "ENTRAWATCH_BENCH_DELAY_MS must be below the send timeout ({} ms)",
            SEND_TIMEOUT.as_millis()
        );
        std::process::exit(2);
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "receiver delay {} ms, claim {CLAIM_SECS} s, {cores} cores (tokio multi-thread, default workers)",
        delay.as_millis()
    );
    print_header();
    let mut rows = Vec::new();
    for n in LEVELS {
        let f = fixtures::sqlite().await;
        let row = level(SQLITE, &f, n, alerts.unwrap_or(400), delay).await;
        print_row(&row);
        rows.push(row);
        for suffix in ["", "-wal", "-shm"] {
            let mut path = f.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
    for n in LEVELS {
        let f = fixtures::dynamodb().await;
        let row = level(MOTO, &f, n, alerts.unwrap_or(200), delay).await;
        print_row(&row);
        rows.push(row);
        let _ = aws_sdk_dynamodb::Client::new(&f.0)
            .delete_table()
            .table_name(&f.1)
            .send()
            .await;
    }
    for backend in [SQLITE, MOTO] {
        let at = |n: usize| {
            rows.iter()
                .find(|r| r.backend == backend && r.dispatchers == n)
                .map_or(f64::NAN, Row::delivered_per_s)
        };
        println!(
            "{backend}: delivered/s vs 1 dispatcher: x{:.2} with 4, x{:.2} with 16",
            at(4) / at(1),
            at(16) / at(1)
        );
    }
    let mut failed = false;
    for r in &rows {
        for failure in r.failures() {
            eprintln!(
                "FAIL {} with {} dispatchers: {failure}",
                r.backend, r.dispatchers
            );
            failed = true;
        }
    }
    if failed {
        std::process::exit(1);
    }
}
