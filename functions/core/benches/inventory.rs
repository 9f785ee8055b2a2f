//! `entrawatch inventory` to CSV over a generated tenant (issue 16): time, Graph requests and peak memory for
//! 100,000 and 1,000,000 users (and 2,000 service principals, 2,000 app registrations, 10,000 open findings),
//! against the in-process emulator with throttling off: what is measured is the inventory's own cost, not
//! Graph's pacing (the requests by family say what that pacing adds on a real tenant).
//!
//! `cargo bench -p entrawatch-core --bench inventory` (both sizes, each in its own process so each peak is its
//! own), or `-- --users 250000` for one size.
//!
//! The emulator runs in the same process and computes each page on demand, so the peak covers both; the RSS
//! samples taken while the rows stream show whether memory grows with the tenant (it must not).

#[path = "support/process.rs"]
mod process;

use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use entrawatch_core::alert::TenantRef;
use entrawatch_core::graph::{
    ClientCredential, ClientOptions, Cloud, GraphClient, PacingLimits, TenantConnection,
};
use entrawatch_core::inventory::{write_inventory, Format, InventorySource};
use entrawatch_core::progress::Progress;
use entrawatch_core::state::sqlite::SqliteStore;
use entrawatch_core::state::{Finding, FindingStatus, FindingStore};
use entrawatch_core::Secret;
use entrawatch_emulator::{Emulator, Scenario};
use process::{cpu_seconds, proc_status_kib};

const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
const SECRET: &str = "bench-secret-not-real";
const FINDINGS: u64 = 10_000;

fn users_argument() -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|pair| pair[0] == "--users")
        .and_then(|pair| pair[1].replace('_', "").parse().ok())
}

/// Counts bytes written and samples RSS every 100,000 rows' worth of lines, so growth would show.
struct Measured<W> {
    inner: W,
    bytes: Arc<AtomicU64>,
    lines: u64,
    samples: Arc<Mutex<Vec<(u64, u64)>>>,
}

impl<W: Write> Write for Measured<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        let newlines = buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        let before = self.lines / 100_000;
        self.lines += newlines;
        if self.lines / 100_000 != before {
            if let Ok(mut s) = self.samples.lock() {
                s.push((self.lines, proc_status_kib("VmRSS:")));
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

async fn bench(users: u64) -> Result<(), Box<dyn std::error::Error>> {
    let scenario = Scenario::from_toml_str(&format!(
        "[throttle]\nenabled = false\n[[tenants]]\nid = \"{TENANT}\"\nname = \"bench\"\n\
         [tenants.generator]\nusers = {users}\nseed = 1\n\
         [tenants.workload_generator]\nservice_principals = 2000\napplications = 2000\nseed = 16\n\
         [[tenants.apps]]\nclient_id = \"{CLIENT}\"\nsecret = \"{SECRET}\"\n"
    ))
    .map_err(|e| e.to_string())?;
    let emu = Emulator::start(scenario).await.map_err(|e| e.to_string())?;
    let dir =
        std::env::temp_dir().join(format!("entrawatch-bench-inventory-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = SqliteStore::open(dir.join("state.db"))?;
    // Open dormant findings, as the dormant job keeps them (key = object id); ids of no user here, so the join
    // looks each row up and finds nothing, the common case.
    for i in 0..FINDINGS {
        let key = format!("0d000000-0000-4000-8000-{i:012x}");
        store
            .put_finding(&Finding {
                tenant: TENANT.into(),
                job: "dormant".into(),
                key: key.clone(),
                status: FindingStatus::Open,
                first_seen: 0,
                last_notified: None,
                resolved_at: None,
                data: serde_json::json!({"subject": {"id": key}}),
                expires_at: None,
            })
            .await?;
    }
    let client = GraphClient::new(
        TenantConnection {
            tenant_id: TENANT.into(),
            tenant_name: "bench".into(),
            client_id: CLIENT.into(),
            credential: ClientCredential::Secret(Secret::new(SECRET)),
            cloud: Cloud::Global,
            graph_url: Some(emu.url()),
            login_url: Some(emu.url()),
        },
        ClientOptions {
            pacing: PacingLimits::unlimited(),
            run_deadline: Duration::from_secs(24 * 3600),
            ..ClientOptions::default()
        },
    )?;
    let tenant = TenantRef {
        id: TENANT.into(),
        name: "bench".into(),
    };
    let source = InventorySource {
        tenant: &tenant,
        graph: &client,
        findings: &store,
        now: emu.clock().now(),
        progress: Progress::none(),
    };
    let path = dir.join("inventory.csv");
    let bytes = Arc::new(AtomicU64::new(0));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let mut out = Measured {
        inner: BufWriter::new(std::fs::File::create(&path)?),
        bytes: bytes.clone(),
        lines: 0,
        samples: samples.clone(),
    };
    let rss_before = proc_status_kib("VmRSS:");
    let cpu = cpu_seconds();
    let started = Instant::now();
    let report = write_inventory(&source, Format::Csv, &mut out).await?;
    let wall = started.elapsed();
    drop(out);
    let metrics = client.metrics();
    let stats = emu.stats();
    println!("inventory to CSV: {users} generated users, 2,000 service principals, 2,000 app registrations, {FINDINGS} open findings");
    println!("  rows                {} ({:?} per kind: member, guest, service principal, managed identity)", report.rows, report.per_kind);
    println!(
        "  CSV                 {:.1} MB",
        bytes.load(Ordering::Relaxed) as f64 / 1e6
    );
    println!(
        "  wall time           {:.1} s ({:.0} rows/s)",
        wall.as_secs_f64(),
        report.rows as f64 / wall.as_secs_f64().max(1e-9)
    );
    println!(
        "  CPU time            {:.1} s (client and emulator)",
        cpu_seconds() - cpu
    );
    println!(
        "  Graph requests      {} (retries {}, 429s {})",
        metrics.requests, metrics.retries, metrics.throttled_429
    );
    println!("  by family           {:?}", stats.by_family);
    for note in &report.notes {
        println!("  note                {note}");
    }
    println!("  RSS before          {rss_before} KiB");
    if let Ok(samples) = samples.lock() {
        for (rows, rss) in samples.iter() {
            println!("  RSS at {rows:>9} rows {rss} KiB");
        }
    }
    println!(
        "  peak RSS (VmHWM)    {} KiB (emulator and client share the process)",
        proc_status_kib("VmHWM:")
    );
    emu.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match users_argument() {
        Some(users) => tokio::runtime::Runtime::new()?.block_on(bench(users)),
        None => {
            // Each size in its own process: VmHWM is a process's peak, and the smaller run must not hide in it.
            let exe = std::env::current_exe()?;
            for users in [100_000u64, 1_000_000] {
                let status = std::process::Command::new(&exe)
                    .args(["--bench", "--users", &users.to_string()])
                    .status()?;
                if !status.success() {
                    return Err(format!("the {users}-user run failed").into());
                }
            }
            Ok(())
        }
    }
}
