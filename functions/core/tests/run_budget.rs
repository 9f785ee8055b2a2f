//! `run_jobs` over several tenants (the CLI and Lambda path), against emulators on loopback and a
//! signed-webhook receiver: one time budget shared by the tenants, so a throttled tenant neither
//! holds back another tenant's alerts nor lets the run be killed; what would not fit is not
//! started and is reported as retryable; the heartbeat goes to each sink once per period; a
//! credential that cannot be resolved raises the tenant's `monitoring.blind` once.

mod break_glass_support;
mod outbox_support;
mod state_support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use break_glass_support::run_all as run;
use chrono::{DateTime, Utc};
use entrawatch_core::config::Config;
use entrawatch_core::jobs::{RunSummary, TenantJobOutcome};
use entrawatch_core::state::sqlite::SqliteStore;
use entrawatch_core::state::Stores;
use entrawatch_emulator::{Emulator, Scenario};
use outbox_support::{db_path, webhook, Receiver, SECRET};
use serde_json::Value;

const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
const BG1: &str = "0b000000-0000-4000-8000-0000000000b1";

/// The sample tenant's id with the first group changed: `tenant_id(1)` = `11111111-...`.
fn tenant_id(n: u8) -> String {
    let d = char::from(b'0' + n).to_string().repeat(8);
    format!("{d}-2222-3333-4444-555555555555")
}

fn tenant(name: &str, id: &str, secret: &str, url: &str) -> String {
    format!(
        "[[tenants]]\nname = \"{name}\"\nid = \"{id}\"\nclient_id = \"{CLIENT}\"\n\
         credential = {{ type = \"secret\", secret = \"{secret}\" }}\n\
         graph_url = \"{url}\"\nlogin_url = \"{url}\"\n\
         [tenants.break_glass]\naccounts = [\"{BG1}\"]\n\n"
    )
}

fn sinks(names: &[&str], heartbeat_days: u32) -> String {
    let mut text = String::new();
    for name in names {
        text += &format!(
            "[[sinks]]\nname = \"{name}\"\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9/unused\"\n\
             secret = \"{SECRET}\"\nmin_severity = \"info\"\n\n"
        );
    }
    text + &format!("[delivery]\nheartbeat_days = {heartbeat_days}\n")
}

/// The sample scenario with a copy of its tenant under each of `ids`.
fn scenario(ids: &[String]) -> Scenario {
    let mut scenario = Scenario::sample();
    let sample = scenario.tenants[0].clone();
    scenario.tenants.clear();
    for id in ids {
        let mut t = sample.clone();
        t.id = id.clone();
        scenario.tenants.push(t);
    }
    scenario
}

/// Alerts per tenant id among what the receiver accepted.
fn per_tenant(r: &Receiver) -> HashMap<String, usize> {
    let mut n = HashMap::new();
    for b in r.accepted_bodies() {
        let id = b["data"]["tenant"]["id"].as_str().unwrap_or("").to_string();
        *n.entry(id).or_default() += 1;
    }
    n
}

/// An emulator whose every answer is 429 with a Retry-After of `secs`: a tenant pointed at it
/// retries until its next wait would pass its deadline.
async fn throttling_emulator(secs: u64) -> Emulator {
    let emu = Emulator::start(Scenario::sample()).await.unwrap();
    emu.faults().fail_next(429, 100_000, Some(secs));
    emu
}

fn outcome_error(summary: &RunSummary, tenant: &str) -> Option<(String, bool)> {
    summary
        .results
        .iter()
        .find(|r| r.tenant == tenant)
        .and_then(|r| match &r.outcome {
            TenantJobOutcome::Failed { error, retryable } => Some((error.clone(), *retryable)),
            _ => None,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_throttled_first_tenant_does_not_hold_back_the_others_alerts() {
    let (t2, t3) = (tenant_id(2), tenant_id(3));
    let emu = Emulator::start(scenario(&[t2.clone(), t3.clone()]))
        .await
        .unwrap();
    // Retries every 2 s until about 8 s into the run's 12 s: long after the others are done.
    let slow = throttling_emulator(2).await;
    let hook = Receiver::start(0, 200).await;
    let text = [
        tenant(
            "throttled",
            &tenant_id(1),
            "demo-secret-not-real",
            &slow.url(),
        ),
        tenant("fabrikam", &t2, "demo-secret-not-real", &emu.url()),
        tenant("northwind", &t3, "demo-secret-not-real", &emu.url()),
        sinks(&["secops"], 0),
    ]
    .concat();
    let config = Config::from_toml_str(&text, "test.toml").unwrap();
    let stores = Stores::new(SqliteStore::open(db_path()).unwrap());
    let budget = Duration::from_secs(12);
    let started = Instant::now();
    let task = {
        let (config, stores, now) = (config.clone(), stores.clone(), emu.clock().now());
        let sinks = vec![webhook("secops", &hook)];
        tokio::spawn(async move { run(&config, &stores, sinks, now, budget).await })
    };
    // The other tenants' alerts arrive while the throttled tenant is still waiting on Graph.
    while !per_tenant(&hook).contains_key(&t2) || !per_tenant(&hook).contains_key(&t3) {
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "the healthy tenants' alerts did not arrive while the throttled one ran"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!task.is_finished(), "delivered before the run ended");
    let summary = task.await.unwrap();
    assert!(
        started.elapsed() <= budget + Duration::from_secs(1),
        "the run ended within its budget ({:?})",
        started.elapsed()
    );
    let (error, retryable) =
        outcome_error(&summary, "throttled").expect("the throttled tenant failed");
    assert!(retryable, "{error}");
    assert!(error.contains("run deadline"), "{error}");
    for name in ["fabrikam", "northwind"] {
        assert!(outcome_error(&summary, name).is_none(), "{summary:?}");
    }
    let counts = per_tenant(&hook);
    assert!(counts[&t2] >= 3 && counts[&t3] >= 3, "{counts:?}");
    assert_eq!(summary.delivered, counts.values().sum::<usize>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tenant_that_would_not_fit_is_not_started_and_is_retryable() {
    // Four throttled tenants fill every slot until the jobs' share of the budget is spent; the
    // fifth is not started with too little time left to finish.
    // Each throttled job gives up at 5 s of its 6 s (its next 5 s wait would pass its deadline),
    // leaving the fifth 3 s of the 8 s budget: 1 s after the 2 s reserve, under the 2 s minimum.
    let slow = throttling_emulator(5).await;
    let emu = Emulator::start(scenario(&[tenant_id(5)])).await.unwrap();
    let hook = Receiver::start(0, 200).await;
    let mut text: String = (1..=4)
        .map(|n| tenant(&format!("slow{n}"), &tenant_id(n), "s", &slow.url()))
        .collect();
    text += &tenant("late", &tenant_id(5), "demo-secret-not-real", &emu.url());
    text += &sinks(&["secops"], 0);
    let config = Config::from_toml_str(&text, "test.toml").unwrap();
    let stores = Stores::new(SqliteStore::open(db_path()).unwrap());
    let budget = Duration::from_secs(8);
    let started = Instant::now();
    let summary = run(
        &config,
        &stores,
        vec![webhook("secops", &hook)],
        emu.clock().now(),
        budget,
    )
    .await;
    assert!(started.elapsed() <= budget + Duration::from_secs(1));
    let (error, retryable) = outcome_error(&summary, "late").expect("not started");
    assert!(retryable);
    assert!(error.contains("break-glass not started"), "{error}");
    assert!(error.contains("the next run takes it"), "{error}");
    assert_eq!(summary.results.len(), 5);
    assert_eq!(
        summary.results[4].tenant, "late",
        "results keep the configuration order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_heartbeat_per_sink_per_period_across_many_runs() {
    // A tenant without a job section: the runs only record heartbeats and deliver.
    let (a, b) = (Receiver::start(0, 200).await, Receiver::start(0, 200).await);
    let text = format!(
        "[[tenants]]\nname = \"contoso\"\nid = \"{}\"\nclient_id = \"{CLIENT}\"\n\
         credential = {{ type = \"secret\", secret = \"env:UNUSED\" }}\n\n{}",
        tenant_id(1),
        sinks(&["a", "b"], 7)
    );
    let config = Config::from_toml_str(&text, "test.toml").unwrap();
    let path = db_path();
    let start = DateTime::parse_from_rfc3339("2026-11-30T22:35:00Z")
        .unwrap()
        .with_timezone(&Utc);
    // Twelve runs a day apart (two full weekly periods and a bit), three processes racing each.
    for day in 0..12 {
        let now = start + chrono::Duration::days(day);
        let mut racing = Vec::new();
        for _ in 0..3 {
            let (config, path) = (config.clone(), path.clone());
            let sinks = vec![webhook("a", &a), webhook("b", &b)];
            racing.push(tokio::spawn(async move {
                let stores = Stores::new(SqliteStore::open(&path).unwrap());
                run(&config, &stores, sinks, now, Duration::from_secs(30)).await
            }));
        }
        for r in racing {
            let summary = r.await.unwrap();
            assert!(summary.delivery_problems().is_empty(), "{summary:?}");
        }
    }
    let week = 7 * 24 * 3600;
    let periods: std::collections::BTreeSet<i64> = (0..12)
        .map(|d| (start + chrono::Duration::days(d)).timestamp())
        .map(|t| t - t.rem_euclid(week))
        .collect();
    for (name, r) in [("a", &a), ("b", &b)] {
        let beats: Vec<Value> = r
            .accepted_bodies()
            .into_iter()
            .filter(|x| x["type"] == "monitoring.heartbeat")
            .collect();
        assert_eq!(
            beats.len(),
            periods.len(),
            "{name}: one per period: {beats:?}"
        );
        let mut ids: Vec<&str> = beats
            .iter()
            .map(|x| x["data"]["id"].as_str().unwrap())
            .collect();
        ids.dedup();
        assert_eq!(ids.len(), periods.len(), "{name}: a stable id per period");
        assert!(beats.iter().all(|x| x["data"]["evidence"]["sink"] == name));
        assert!(beats.iter().all(|x| x["data"]["severity"] == "info"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_credential_that_cannot_be_resolved_raises_monitoring_blind_once() {
    let id = tenant_id(1);
    let emu = Emulator::start(scenario(std::slice::from_ref(&id)))
        .await
        .unwrap();
    let hook = Receiver::start(0, 200).await;
    // A secret reference to a variable nobody set: the Secrets Manager secret was deleted.
    let text = tenant(
        "contoso",
        &id,
        "env:ENTRAWATCH_TEST_SECRET_THAT_WAS_DELETED",
        &emu.url(),
    ) + &sinks(&["secops"], 0);
    let config = Config::from_toml_str(&text, "test.toml").unwrap();
    let stores = Stores::new(SqliteStore::open(db_path()).unwrap());
    let start = emu.clock().now();
    for run_no in 0..4 {
        let now = start + chrono::Duration::minutes(5 * run_no);
        let summary = run(
            &config,
            &stores,
            vec![webhook("secops", &hook)],
            now,
            Duration::from_secs(30),
        )
        .await;
        let (error, retryable) = outcome_error(&summary, "contoso").expect("the run fails");
        assert!(!retryable, "a person must act: {error}");
        assert!(
            error.contains("ENTRAWATCH_TEST_SECRET_THAT_WAS_DELETED"),
            "{error}"
        );
    }
    let blind: Vec<Value> = hook
        .accepted_bodies()
        .into_iter()
        .filter(|b| b["type"] == "monitoring.blind")
        .collect();
    assert_eq!(blind.len(), 1, "once per outage: {blind:?}");
    assert_eq!(blind[0]["data"]["evidence"]["reason"], "credentials");
    assert_eq!(blind[0]["data"]["tenant"]["id"], id.as_str());
    assert_eq!(
        emu.stats().requests_total,
        0,
        "nothing was sent without a credential"
    );
}
