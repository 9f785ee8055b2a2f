//! The dormant job on a generated tenant against the in-process emulator, state in SQLite: Graph requests by
//! family, wall and CPU time, peak memory, and the request plan compared with the naive plan (every user
//! through `$select=signInActivity`).
//!
//! `cargo bench -p entrawatch-core --bench dormant -- --users 100000 [--plan filtered|naive] [--throttle]`
//!
//! `--plan naive` starts from a checkpoint that says Graph rejects the filter, so the job lists every user.
//! `--throttle` turns on the documented limits (REFERENCE.md §4) in the emulator and in the client's pacing:
//! about 6.3 s a page once the first minute's 10 are spent, so 100,000 users take about 10 minutes and
//! 1,000,000 users close to 2 hours. Without it the run shows CPU and memory, and the printed "wall at throttle" is
//! computed from the signInActivity requests (10 a minute is the binding limit; measured 634 s for 100,000 users
//! with `--throttle` against 630 s computed).
//! Peak RSS covers the emulator too (same process); the emulator's memory is flat in tenant size.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use entrawatch_core::alert::{Route, Severity, TenantRef};
use entrawatch_core::config::DormantConfig;
use entrawatch_core::graph::{
    ClientCredential, ClientOptions, Cloud, GraphClient, GraphPort, PacingLimits, TenantConnection,
};
use entrawatch_core::jobs::{dormant, JobContext};
use entrawatch_core::outbox::Outbox;
use entrawatch_core::progress::Progress;
use entrawatch_core::state::sqlite::SqliteStore;
use entrawatch_core::state::Stores;
use entrawatch_core::Secret;
use entrawatch_emulator::{Emulator, Scenario};

#[path = "support/process.rs"]
mod process;

use process::{cpu_seconds, proc_status_kib};

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
const SECRET: &str = "bench-secret-not-real";

fn argument(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2).find(|p| p[0] == name).map(|p| p[1].clone())
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let users: u64 = argument("--users")
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(100_000);
    let naive = argument("--plan").as_deref() == Some("naive");
    let throttle = flag("--throttle");
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap();
    let scenario = Scenario::from_toml_str(&format!(
        "now = \"2026-11-22T06:00:00Z\"\nfreeze_clock = true\n[throttle]\nenabled = {throttle}\n\
         reports = {{ requests = 5, per_seconds = 10 }}\nsign_in_activity = {{ requests = 10, per_seconds = 60 }}\n\
         [[tenants]]\nid = \"{TENANT}\"\nname = \"bench\"\np2 = true\n\
         [tenants.generator]\nusers = {users}\nseed = 1\n[[tenants.apps]]\nclient_id = \"{CLIENT}\"\nsecret = \"{SECRET}\"\n"
    ))
    .map_err(|e| e.to_string())?;
    let emu = Emulator::start(scenario).await.map_err(|e| e.to_string())?;
    let conn = TenantConnection {
        tenant_id: TENANT.into(),
        tenant_name: "bench".into(),
        client_id: CLIENT.into(),
        credential: ClientCredential::Secret(Secret::new(SECRET)),
        cloud: Cloud::Global,
        graph_url: Some(emu.url()),
        login_url: Some(emu.url()),
    };
    let options = ClientOptions {
        pacing: if throttle {
            PacingLimits::default()
        } else {
            PacingLimits::unlimited()
        },
        run_deadline: Duration::from_secs(24 * 3600),
        ..ClientOptions::default()
    };
    let client = Arc::new(GraphClient::new(conn, options)?);
    let dir = std::env::temp_dir().join("entrawatch-bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("dormant-{}.db", uuid::Uuid::new_v4().simple()));
    let stores = Stores::new(SqliteStore::open(&path)?);
    if naive {
        let rejected =
            serde_json::json!({"filter": {"supported": false, "probedAt": now.timestamp()}});
        stores
            .cursors
            .put_cursor(TENANT, dormant::JOB, &rejected)
            .await?;
    }
    let route = Route {
        sink: "bench".into(),
        min_severity: Severity::Info,
        types: vec![],
        tenants: vec![],
    };
    let ctx = JobContext {
        tenant: TenantRef {
            id: TENANT.into(),
            name: "bench".into(),
        },
        graph: client.clone() as Arc<dyn GraphPort>,
        outbox: Outbox::new(stores.outbox.clone(), vec![route]),
        stores: stores.clone(),
        now,
        progress: Progress::none(),
    };
    let config: DormantConfig = toml::from_str("")?;
    let rss_before = proc_status_kib("VmRSS:");
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let report = dormant::run(&ctx, &config, &[]).await?;
    let elapsed = started.elapsed();
    let cpu = cpu_seconds() - cpu_before;
    let stats = emu.stats();
    let metrics = client.metrics();
    let sia = stats
        .by_family
        .get("sign_in_activity")
        .copied()
        .unwrap_or(0);
    let naive_pages = users.div_ceil(500);
    // 10 signInActivity requests a minute is the binding documented limit; the client's pacing adds a 5% margin
    // to the window (graph/pacing.rs), so 10 requests per 63 s: the first 10 at once, then a window each 10.
    let throttled_secs = (sia.saturating_sub(1) / 10) as f64 * 63.0;
    println!("users               {users}");
    println!(
        "plan                {}",
        if naive {
            "naive (every user with signInActivity)"
        } else {
            "filtered (probe + signInActivity filters)"
        }
    );
    println!(
        "throttle            {}",
        if throttle {
            "documented limits, emulator and client"
        } else {
            "off"
        }
    );
    println!(
        "complete            {} ({} users examined)",
        report.complete, report.examined
    );
    for note in &report.notes {
        println!("note                {note}");
    }
    println!("requests by family  {:?}", stats.by_family);
    println!(
        "429s                {} (client saw {}, retries {})",
        stats.throttled_429, metrics.throttled_429, metrics.retries
    );
    println!("wall time           {:.1} s", elapsed.as_secs_f64());
    println!(
        "wall at throttle    {:.0} s ({:.1} min) computed: ({sia} - 1) / 10 windows x 63 s",
        throttled_secs,
        throttled_secs / 60.0
    );
    println!("CPU time            {cpu:.1} s");
    println!("RSS before run      {rss_before} KiB");
    println!("peak RSS (VmHWM)    {} KiB", proc_status_kib("VmHWM:"));
    println!(
        "signInActivity reqs {sia} vs naive {naive_pages}: ratio {:.2}",
        sia as f64 / naive_pages as f64
    );
    emu.stop().await;
    drop(stores);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
