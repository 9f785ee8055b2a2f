//! The workloads job and the reactivation watch against the in-process emulator (issue 15).
//!
//! 1. A sweep over a generated tenant of 10,000 service principals and 20,000 app registrations, Graph's published
//!    limits on in the emulator and the client (keyCredentials 150 a minute, reports 5 per 10 s): requests by
//!    family, 429s, wall and CPU time, peak memory, the alerts it raised.
//! 2. The reactivation watch for a tenant with 50,000 successful sign-ins a day (one every 1.7 s) and 1,000 open
//!    dormant findings: requests per 5-minute run over two emulated hours, with its 60-minute overlap.
//!
//! `cargo bench -p entrawatch-core --bench workloads`
//!
//! Peak RSS covers the emulator too (same process).

#[path = "../tests/break_glass_support/mod.rs"]
mod break_glass_support;
#[path = "support/process.rs"]
mod process;

use std::sync::Arc;
use std::time::{Duration, Instant};

use break_glass_support::*;
use entrawatch_core::config::WorkloadsConfig;
use entrawatch_core::graph::{ClientOptions, GraphPort, PacingLimits};
use entrawatch_core::jobs::{dormant, workloads};
use entrawatch_core::state::sqlite::SqliteStore;
use entrawatch_core::state::{Finding, FindingStatus, Stores};
use process::{cpu_seconds, proc_status_kib};
use serde_json::json;

const SIGN_INS_PER_DAY: u64 = 50_000;
const OPEN_FINDINGS: usize = 1_000;
const RUNS: usize = 24;

fn store(name: &str) -> (Stores, std::path::PathBuf) {
    let dir = std::env::temp_dir().join("entrawatch-bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let path = dir.join(format!("{name}-{}.db", uuid::Uuid::new_v4().simple()));
    (Stores::new(SqliteStore::open(&path).expect("sqlite")), path)
}

fn paced() -> ClientOptions {
    ClientOptions {
        pacing: PacingLimits::default(),
        run_deadline: Duration::from_secs(4 * 3600),
        ..ClientOptions::default()
    }
}

async fn sweep_bench() {
    let body = "[tenants.workload_generator]\nservice_principals = 10000\napplications = 20000\nseed = 15\n";
    let mut scenario = scenario(true, true, body);
    scenario.freeze_clock = true;
    let emu = start(scenario).await;
    let (stores, path) = store("workloads");
    let client = Arc::new(client_for(&emu, SECRET, paced()));
    let graph: Arc<dyn GraphPort> = client.clone();
    let ctx = context(&stores, graph, emu.clock().now());
    let config: WorkloadsConfig = toml::from_str("").expect("config");
    let cpu = cpu_seconds();
    let started = Instant::now();
    let report = workloads::run(&ctx, &config).await.expect("sweep");
    let wall = started.elapsed();
    let stats = emu.stats();
    let metrics = client.metrics();
    // Every alert the sweep recorded (the test helper `recorded` stops at 1,000).
    let due = stores
        .outbox
        .due(i64::MAX / 4, 1_000_000)
        .await
        .expect("outbox");
    let alerts: Vec<entrawatch_core::alert::Alert> = due
        .iter()
        .map(|d| entrawatch_core::alert::Alert::from_json(&d.alert).expect("stored alert"))
        .collect();
    let count = |kind: &str| alerts.iter().filter(|a| a.kind == kind).count();
    println!("sweep: 10,000 service principals, 20,000 app registrations, throttle on");
    println!("  examined            {}", report.examined);
    for note in &report.notes {
        println!("  note                {note}");
    }
    println!("  requests by family  {:?}", stats.by_family);
    println!("  requests total      {}", stats.requests_total);
    println!(
        "  429s                {} (client saw {}, retries {})",
        stats.throttled_429, metrics.throttled_429, metrics.retries
    );
    println!("  wall time           {:.1} s", wall.as_secs_f64());
    println!("  CPU time            {:.1} s", cpu_seconds() - cpu);
    println!("  peak RSS (VmHWM)    {} KiB", proc_status_kib("VmHWM:"));
    println!(
        "  alerts              {} expiring, {} expired, {} dormant digest",
        count("workload.credential_expiring"),
        count("workload.credential_expired"),
        count("workload.dormant")
    );
    emu.stop().await;
    drop(stores);
    remove(&path);
}

async fn reactivation_bench() {
    // Sign-ins one every 86,400 / 50,000 s over the three hours before the end of the runs (the first look reads
    // 24 h back: the rows before that window are not there, as in a tenant first watched at this point).
    let every_ms = 86_400_000 / SIGN_INS_PER_DAY;
    let span_ms: u64 = (RUNS as u64 * 5 + 60) * 60_000;
    let mut scenario = scenario(true, true, "");
    let tenant = &mut scenario.tenants[0];
    let mut at = 0;
    let mut n = 0u64;
    while at < span_ms {
        // Relative to the scenario's start: from 60 minutes before it to the end of the last run.
        let offset_s = (at as i64 - 3_600_000) / 1000;
        tenant.sign_ins.push(json!({
            "id": format!("s-{n}"),
            "createdDateTime": format!("{offset_s:+}s"),
            "userId": format!("0c000000-0000-4000-8000-{:012x}", n % 40_000),
            "status": {"errorCode": 0},
        }));
        at += every_ms;
        n += 1;
    }
    let emu = start(scenario).await;
    let (stores, path) = store("reactivation");
    for i in 0..OPEN_FINDINGS {
        // Findings of accounts that never sign in here (ids outside the sign-ins' range).
        let key = format!("0d000000-0000-4000-8000-{i:012x}");
        stores
            .findings
            .put_finding(&Finding {
                tenant: TENANT.into(),
                job: dormant::JOB.into(),
                key: key.clone(),
                status: FindingStatus::Open,
                first_seen: 0,
                last_notified: Some(0),
                resolved_at: None,
                data: json!({"subject": {"id": key}, "evidence": {"lastActivity": "2026-01-01T00:00:00Z"}}),
                expires_at: None,
            })
            .await
            .expect("finding");
    }
    let client = Arc::new(client_for(&emu, SECRET, paced()));
    let mut per_run = Vec::new();
    for _ in 0..RUNS {
        emu.clock().advance(chrono::Duration::minutes(5));
        let graph: Arc<dyn GraphPort> = client.clone();
        let ctx = context(&stores, graph, emu.clock().now());
        let before = emu.stats().requests_total;
        let outcome = dormant::reactivation::watch(&ctx).await.expect("watch");
        per_run.push((emu.stats().requests_total - before, outcome.examined));
    }
    let steady: Vec<u64> = per_run.iter().skip(1).map(|(r, _)| *r).collect();
    println!(
        "reactivation watch: {SIGN_INS_PER_DAY} successful sign-ins a day, {OPEN_FINDINGS} open findings, {RUNS} runs 5 minutes apart"
    );
    println!(
        "  first run           {} requests (first look: 24 h back), {} rows read",
        per_run[0].0, per_run[0].1
    );
    println!(
        "  later runs          {}-{} requests each (min-max), {} rows read per run on average",
        steady.iter().min().unwrap_or(&0),
        steady.iter().max().unwrap_or(&0),
        per_run.iter().skip(1).map(|(_, e)| e).sum::<usize>() / (RUNS - 1)
    );
    println!("  429s                {}", emu.stats().throttled_429);
    emu.stop().await;
    drop(stores);
    remove(&path);
}

fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::main]
async fn main() {
    reactivation_bench().await;
    sweep_bench().await;
}
