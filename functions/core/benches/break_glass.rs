//! The break-glass job against the in-process emulator with its throttle on (Graph's published
//! limits: reports 5 per 10 s, signInActivity 10 per minute), for 2 and for 20 emergency accounts:
//! Graph requests per run, and the time from a sign-in becoming visible in the emulator to its
//! webhook delivery on a local receiver, when a run starts at that moment.
//!
//! Then the two nets for late log rows (issue 14) over one emulated day of 5-minute runs, throttle off: the
//! hourly deep re-read (last 24 h) and daily retention re-read, and the reconciliation lookups of
//! `signInActivity`: the reports and `signInActivity` requests each kind of run costs, and what that makes per
//! day for a tenant alone on its app and for one of 200.
//!
//! `cargo bench -p entrawatch-core --bench break_glass`
//!
//! Runs are spaced 11 s of real time apart (scheduled runs are minutes apart, so each starts with
//! the report budget free); the emulated clock moves 5 minutes per run. In production, add the
//! schedule interval (the event waits for the next run) to the visible-to-delivered time.

#[path = "../tests/break_glass_support/mod.rs"]
mod break_glass_support;
#[path = "../tests/outbox_support/mod.rs"]
mod outbox_support;

use std::time::{Duration, Instant};

use break_glass_support::*;
use entrawatch_core::jobs::break_glass::lookup_every;
use entrawatch_core::state::sqlite::SqliteStore;
use entrawatch_core::state::Stores;

const ROUNDS: usize = 3;

fn account(i: usize) -> String {
    format!("0b000000-0000-4000-8000-{:012x}", 0xb00 + i)
}

fn tenant_body(accounts: usize) -> String {
    let mut body = String::new();
    for i in 0..accounts {
        body += &format!(
            "[[tenants.users]]\nid = \"{}\"\nuserPrincipalName = \"bg{i}@contoso.onmicrosoft.com\"\n\
             createdDateTime = \"-1000d\"\nsignInActivity = {{ lastSuccessfulSignInDateTime = \"-1d\" }}\n\n",
            account(i)
        );
    }
    // One sign-in per round, each turning visible exactly when the clock reaches that round.
    for round in 1..=ROUNDS {
        body += &format!(
            "[[tenants.sign_ins]]\nid = \"probe-{round}\"\ncreatedDateTime = \"+{}m\"\nvisible_at = \"+{}m\"\n\
             userId = \"{}\"\nstatus = {{ errorCode = 0 }}\n\n",
            5 * round - 1,
            5 * round,
            account(round % accounts)
        );
    }
    body
}

struct Figures {
    graph_requests: u64,
    throttled: u64,
    run: Duration,
    visible_to_delivered: Option<Duration>,
}

async fn measure(accounts: usize) -> Vec<Figures> {
    let emu = start(scenario(true, true, &tenant_body(accounts))).await;
    let hook = outbox_support::Receiver::start(0, 200).await;
    let ids: Vec<String> = (0..accounts).map(account).collect();
    let config = full_config(
        &emu,
        SECRET,
        &format!("accounts = {}", serde_json::to_string(&ids).unwrap()),
    );
    let db = outbox_support::db_path();
    let stores = Stores::new(SqliteStore::open(&db).unwrap());
    let mut out = Vec::new();
    for round in 0..=ROUNDS {
        if round > 0 {
            tokio::time::sleep(Duration::from_secs(11)).await;
            emu.clock().advance(chrono::Duration::minutes(5));
        }
        emu.reset_stats();
        let delivered_before = hook.accepted_bodies().len();
        let visible = Instant::now();
        let summary = run_all(
            &config,
            &stores,
            vec![outbox_support::webhook("secops", &hook)],
            emu.clock().now(),
            Duration::from_secs(600),
        )
        .await;
        let run = visible.elapsed();
        assert!(!summary.failed(), "{summary:?}");
        let delivered = hook.accepted_bodies().len() > delivered_before;
        let stats = emu.stats();
        out.push(Figures {
            graph_requests: stats.requests_total - stats.family("token"),
            throttled: stats.throttled_429,
            run,
            visible_to_delivered: (round > 0 && delivered).then_some(run),
        });
    }
    let _ = std::fs::remove_file(db);
    out
}

/// One emulated day: a sign-in an hour by one of the accounts, visible 2 minutes later.
fn day_body(accounts: usize) -> String {
    let mut body = tenant_body(accounts);
    for hour in 0..24 {
        body += &format!(
            "[[tenants.sign_ins]]\nid = \"hourly-{hour}\"\ncreatedDateTime = \"+{}m\"\nvisible_at = \"+{}m\"\n\
             userId = \"{}\"\nstatus = {{ errorCode = 0 }}\n\n",
            hour * 60 + 7,
            hour * 60 + 9,
            account(hour % accounts)
        );
    }
    body
}

/// Requests of one kind of run over the day.
#[derive(Default)]
struct DepthCost {
    runs: u64,
    reports: u64,
    sign_in_activity: u64,
}

/// 288 runs 5 minutes apart through `break_glass::run` (a tenant alone on its app: a lookup every run), after a
/// first run: (look-back, deep, retention) costs.
async fn measure_day(accounts: usize) -> [DepthCost; 3] {
    let emu = start(scenario(true, false, &day_body(accounts))).await;
    let ids: Vec<String> = (0..accounts).map(account).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let config = bg_config(&refs, "");
    let db = outbox_support::db_path();
    let stores = Stores::new(SqliteStore::open(&db).unwrap());
    run_once(&emu, &stores, &config).await.unwrap();
    let mut costs: [DepthCost; 3] = Default::default();
    for _ in 0..288 {
        emu.clock().advance(chrono::Duration::minutes(5));
        emu.reset_stats();
        let report = run_once(&emu, &stores, &config).await.unwrap();
        let stats = emu.stats();
        let depth = if report.notes.iter().any(|n| n.starts_with("daily re-read")) {
            2
        } else if report.notes.iter().any(|n| n.starts_with("deep re-read")) {
            1
        } else {
            0
        };
        let c = &mut costs[depth];
        c.runs += 1;
        c.reports += stats.family("reports");
        c.sign_in_activity += stats.family("sign_in_activity");
    }
    let _ = std::fs::remove_file(db);
    costs
}

fn print_nets() {
    println!();
    println!(
        "late-row nets: one emulated day of 5-minute runs (288), a sign-in an hour, throttle off"
    );
    println!(
        "{:>8} {:>10} {:>5} {:>12} {:>16}",
        "accounts", "run", "runs", "reports/run", "of which lookup"
    );
}

#[tokio::main]
async fn main() {
    println!("break-glass job, emulator throttle on, runs 11 s apart, SQLite state, local webhook");
    println!(
        "{:>8} {:>6} {:>14} {:>10} {:>10} {:>22}",
        "accounts", "run", "graph requests", "429s", "run time", "visible -> delivered"
    );
    for accounts in [2, 20] {
        for (i, f) in measure(accounts).await.iter().enumerate() {
            println!(
                "{:>8} {:>6} {:>14} {:>10} {:>9.2}s {:>22}",
                accounts,
                if i == 0 {
                    "first".to_string()
                } else {
                    i.to_string()
                },
                f.graph_requests,
                f.throttled,
                f.run.as_secs_f64(),
                f.visible_to_delivered
                    .map_or("-".to_string(), |d| format!("{:.3}s", d.as_secs_f64()))
            );
        }
    }
    print_nets();
    for accounts in [2, 20] {
        let costs = measure_day(accounts).await;
        for (name, c) in ["look-back", "deep 24 h", "retention"].iter().zip(&costs) {
            println!(
                "{:>8} {:>10} {:>5} {:>12.2} {:>16.2}",
                accounts,
                name,
                c.runs,
                c.reports as f64 / c.runs.max(1) as f64,
                c.sign_in_activity as f64 / c.runs.max(1) as f64
            );
        }
        // A lookup is both a reports and a signInActivity request; what a deep run reads beyond a look-back run
        // (less its lookups) is the deep re-read's cost.
        let per_run =
            |c: &DepthCost| (c.reports - c.sign_in_activity) as f64 / c.runs.max(1) as f64;
        let base = per_run(&costs[0]);
        let deep_extra: f64 = costs[1..]
            .iter()
            .map(|c| (per_run(c) - base) * c.runs as f64)
            .sum();
        let lookup = costs.iter().map(|c| c.sign_in_activity).sum::<u64>() as f64 / 288.0;
        let per_day = |tenants: usize| {
            86_400.0 / (lookup_every(10, tenants, accounts).num_seconds().max(300) as f64)
        };
        println!(
            "{accounts:>8} accounts: deep re-reads cost {deep_extra:.0} extra reports requests a day; a lookup (every run here) costs \
             {lookup:.2} signInActivity (and reports) requests: {:.0} a day for a tenant alone on its app (every run), \
             {:.1} a day for each of 200 tenants on one app (every {} min)",
            lookup * per_day(1),
            lookup * per_day(200),
            lookup_every(10, 200, accounts).num_minutes()
        );
    }
}
