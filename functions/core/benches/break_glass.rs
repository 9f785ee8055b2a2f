//! The break-glass job against the in-process emulator with its throttle on (Graph's published
//! limits: reports 5 per 10 s, signInActivity 10 per minute), for 2 and for 20 emergency accounts:
//! Graph requests per run, and the time from a sign-in becoming visible in the emulator to its
//! webhook delivery on a local receiver, when a run starts at that moment.
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
}
