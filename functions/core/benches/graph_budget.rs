//! Tenants at scale on the shared Graph budget: a discrete-event simulation (simulated time, runs in
//! seconds) of break-glass tenant-runs and background dormant scans drawing on the real budget code
//! (`SharedBudget::windows` and `decide` over an in-memory store), against a model of Graph that
//! enforces the published limits when a request arrives and counts the 429s it would send
//! (`tests/budget_sim`).
//!
//! `cargo bench -p entrawatch-core --bench graph_budget -- [--r 2,3] [--workers 4] [--dormant-workers 4]
//!   [--latency-ms 150] [--jitter-ms 100] [--overhead-ms 100] [--accounts 2] [--seed 13]`
//!
//! For 100, 1,000 and 2,000 tenants on one app and 5,000 on three: the shortest schedule interval
//! (60 s .. 30 min, 5 s steps) at which every tenant-run finishes before the next tick with 0 x 429,
//! the worst sampled time from a sign-in becoming visible to the run that reads it, and what the
//! dormant scans got; then the same at a 5-minute schedule, and the 1,500-tenants-per-app moonshot.

#[path = "../tests/budget_sim/mod.rs"]
mod budget_sim;

use std::time::Instant;

use budget_sim::search::shortest_interval;
use budget_sim::sim::{run, Config, Outcome};

/// (tenants, apps, workers as a multiple of `--workers`): three apps need three times the workers to use
/// their budgets, so the 5,000-tenant case is shown both ways.
const SCENARIOS: &[(usize, usize, usize)] = &[
    (100, 1, 1),
    (1_000, 1, 1),
    (2_000, 1, 1),
    (5_000, 3, 1),
    (5_000, 3, 3),
];
const SEARCH_FLOOR_S: i64 = 60;
const FIVE_MINUTES_MS: i64 = 300_000;

fn main() {
    let started = Instant::now();
    let (rs, base) = args();
    println!(
        "{} break-glass and {} dormant workers, {} ms round trip + up to {} ms jitter, {} ms per job outside \
         Graph, {} emergency accounts per tenant (looked up daily)\n",
        base.workers, base.dormant_workers, base.latency_ms, base.jitter_ms, base.overhead_ms, base.accounts
    );
    println!(
        "| tenants | apps | workers | reports requests / run | shortest interval, 0 x 429 | worst visible -> read | \
         dormant users / day | at 5 min: 429s | runs done in | worst visible -> read | read within 5 min | \
         dormant users / day |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &r in &rs {
        for &(tenants, apps, times) in SCENARIOS {
            let cfg = Config {
                r,
                workers: base.workers * times,
                ..sized(&base, tenants, apps)
            };
            let shortest = match shortest_interval(&cfg, SEARCH_FLOOR_S, 1_800, 5) {
                Ok((s, o)) => format!(
                    "{}{} | {} | {}",
                    if s == SEARCH_FLOOR_S { "<= " } else { "" },
                    duration(s * 1_000),
                    read(&o),
                    thousands(o.dormant_users_per_day)
                ),
                Err(hi) => format!("> {} | | ", duration(hi * 1_000)),
            };
            let five = run(&Config {
                interval_ms: FIVE_MINUTES_MS,
                ..cfg.clone()
            });
            println!(
                "| {} | {apps} | {} | {:.2} | {shortest} | {} |",
                thousands(tenants as u64),
                cfg.workers,
                five.reports_per_run,
                at_five_minutes(&five)
            );
        }
    }
    let r = rs[0];
    let moon = run(&Config {
        r,
        interval_ms: FIVE_MINUTES_MS,
        ..sized(&base, 1_500, 1)
    });
    println!(
        "\nMoonshot, 1,500 tenants on one app every 5 minutes, r = {r}: {} x 429, runs {} ({} after the tick \
         at the longest), worst visible -> read {}, {:.2}% read within one interval, median {}, dormant {} \
         users / day.",
        moon.throttled,
        if moon.overrun { "overran the interval" } else { "done before every next tick" },
        duration(moon.longest_drain_ms),
        moon.worst_read_ms
            .map_or("not all read".into(), |ms| format!("{:.1} s", ms as f64 / 1e3)),
        100.0 * moon.within_interval,
        duration(moon.median_read_ms),
        thousands(moon.dormant_users_per_day)
    );
    println!("\n(simulated in {:.1} s)", started.elapsed().as_secs_f64());
}

fn sized(base: &Config, tenants: usize, apps: usize) -> Config {
    Config {
        tenants,
        apps,
        ..base.clone()
    }
}

fn at_five_minutes(o: &Outcome) -> String {
    format!(
        "{} | {}{} | {} | {:.1}% | {}",
        o.throttled,
        duration(o.longest_drain_ms),
        if o.overrun { " (overran: backlog)" } else { "" },
        read(o),
        100.0 * o.within_interval,
        thousands(o.dormant_users_per_day)
    )
}

fn read(o: &Outcome) -> String {
    o.worst_read_ms
        .map_or_else(|| "not all read".to_string(), duration)
}

fn duration(ms: i64) -> String {
    if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1_000.0)
    } else {
        let s = (ms + 500) / 1_000;
        format!("{} min {} s", s / 60, s % 60)
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn args() -> (Vec<usize>, Config) {
    let mut rs = vec![2, 3];
    let mut cfg = Config::new(0, 1, 2, FIVE_MINUTES_MS);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--bench" {
            continue; // cargo bench passes it to harness = false benches
        }
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value"));
        let n = || {
            value
                .parse::<i64>()
                .unwrap_or_else(|_| panic!("{flag} {value}: a number"))
        };
        match flag.as_str() {
            "--r" => {
                rs = value
                    .split(',')
                    .map(|v| v.parse().expect("--r 2,3"))
                    .collect()
            }
            "--workers" => cfg.workers = n() as usize,
            "--dormant-workers" => cfg.dormant_workers = n() as usize,
            "--latency-ms" => cfg.latency_ms = n(),
            "--jitter-ms" => cfg.jitter_ms = n(),
            "--overhead-ms" => cfg.overhead_ms = n(),
            "--accounts" => cfg.accounts = n() as usize,
            "--seed" => cfg.seed = n() as u64,
            _ => panic!("unknown flag {flag}"),
        }
    }
    (rs, cfg)
}
