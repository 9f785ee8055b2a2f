//! The scheduled dormant-accounts function end to end, as Lambda runs it: the real binary polls a
//! local Lambda Runtime API, reads its configuration from the environment, reads Graph from the
//! emulator (throttling on, so the scan paces itself), keeps state in DynamoDB (moto) and delivers
//! the signed `dormant.digest` to a local webhook receiver.

#[path = "../../core/tests/outbox_support/mod.rs"]
mod outbox_support;
#[path = "../../core/tests/state_support/mod.rs"]
mod state_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use entrawatch_emulator::{Emulator, Scenario};
use entrawatch_runtime_api_double::sample::{self, BG1, BG2, CLIENT_SECRET, TENANT};
use entrawatch_runtime_api_double::{spawn_function, Outcome, RuntimeApi};
use outbox_support::{signature_verifies, Receiver, SECRET};
use serde_json::{json, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_dormant-accounts");

/// The sample tenant scanned for dormant accounts, its emergency accounts excluded. These tests
/// count digests, so no heartbeat (it is tested with the break-glass function).
fn config_toml(graph: &str) -> String {
    let jobs =
        format!("[tenants.dormant]\n[tenants.break_glass]\naccounts = [\"{BG1}\", \"{BG2}\"]");
    // The tests scan twice within seconds; the shared Graph budget runs on the wall clock, so its windows
    // are opened wide here and the client's own pacing meets the emulator's throttle, as before.
    let more = "[delivery]\nheartbeat_days = 0\n\n[graph]\nreports_per_10s = 100000\n\
                reports_per_tenant_per_10s = 100000\nsign_in_activity_per_minute = 100000";
    sample::config_toml(graph, &jobs, more)
}

/// The accounts of `Scenario::sample()` that are dormant under the default policy (90 days for
/// members, 60 for guests, 30 for privileged holders, 14 days' grace for new accounts, 30 for
/// pending invitations; disabled accounts and emergency accounts left out).
const EXPECTED_FINDINGS: &[&str] = &[
    "0a000000-0000-4000-8000-000000000003", // member, no success for 200 days
    "0a000000-0000-4000-8000-000000000004", // guest, 75 days
    "0a000000-0000-4000-8000-000000000005", // invitation pending for 45 days
    "0a000000-0000-4000-8000-000000000007", // never signed in (property missing), created 120 days ago
    "0a000000-0000-4000-8000-000000000008", // never signed in (empty string), 100 days
    "0a000000-0000-4000-8000-000000000009", // never signed in (0001-01-01), 95 days
    "0a000000-0000-4000-8000-00000000000b", // failed attempts only, last success 150 days ago
    "0a000000-0000-4000-8000-00000000000f", // privileged, 40 days
];

/// What the function talks to: Graph (the emulator), the webhook receiver and a fresh table on moto.
struct World {
    emulator: Emulator,
    receiver: Receiver,
    table: String,
}

impl World {
    async fn start() -> World {
        let emulator = Emulator::start(Scenario::sample()).await.unwrap();
        let receiver = Receiver::start(0, 200).await;
        let sdk = state_support::sdk_config().await;
        let table = state_support::fresh_table(&sdk).await;
        World {
            emulator,
            receiver,
            table,
        }
    }

    /// Starts the binary as a fresh Lambda instance (a cold start) against `api`.
    fn spawn(&self, api: &RuntimeApi, stdout: &Path) -> Child {
        let env = sample::function_env(
            config_toml(&self.emulator.url()),
            &self.table,
            state_support::moto_url(),
            &self.receiver.url,
            SECRET,
        );
        spawn_function(BINARY, api, &env, stdout)
    }
}

fn log_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "entrawatch-dormant-fn-{}-{name}.log",
        std::process::id()
    ))
}

fn stop(mut function: Child) {
    function.kill().ok();
    function.wait().ok();
}

/// The EMF lines of a captured stdout, after checking it holds no client secret, no signing
/// secret and no webhook URL; the file is removed.
fn emf_lines(stdout: &Path) -> Vec<Value> {
    let lines = entrawatch_runtime_api_double::emf_lines(
        stdout,
        &[CLIENT_SECRET, SECRET, "secret-path-token"],
    );
    let _ = std::fs::remove_file(stdout);
    lines
}

async fn summary_of(api: &RuntimeApi, request_id: &str) -> Value {
    match api.outcome(request_id, Duration::from_secs(150)).await {
        Outcome::Response(summary) => summary,
        other => panic!("invocation {request_id} failed: {other:?}"),
    }
}

/// The one (tenant, job) result of a single-tenant run.
fn report(summary: &Value) -> &Value {
    assert_eq!(
        summary["results"].as_array().map(Vec::len),
        Some(1),
        "{summary}"
    );
    let result = &summary["results"][0];
    assert_eq!(result["tenant"], "contoso", "{summary}");
    assert_eq!(result["job"], "dormant", "{summary}");
    assert_eq!(result["outcome"], "done", "{summary}");
    &result["report"]
}

fn notes(report: &Value) -> Vec<String> {
    report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

/// The single delivery so far: a signed `dormant.digest` for the tenant listing the 8 dormant accounts.
fn the_digest(receiver: &Receiver) -> Value {
    let received = receiver.received();
    assert_eq!(received.len(), 1, "one delivery: the digest");
    assert!(signature_verifies(&received[0]), "the digest is signed");
    let body = receiver.accepted_bodies().remove(0);
    assert_eq!(body["type"], "dormant.digest", "{body}");
    assert_eq!(body["data"]["tenant"]["id"], TENANT, "{body}");
    assert_eq!(
        body["data"]["title"], "8 dormant accounts in contoso: 8 new, 0 reminders, 0 resolved",
        "{body}"
    );
    body
}

fn finding_ids(digest: &Value) -> BTreeSet<String> {
    digest["data"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["subject"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_scan_sends_one_digest_without_the_emergency_accounts() {
    let world = World::start().await;
    let api = RuntimeApi::start(Duration::from_secs(120)).await;
    let stdout = log_path("full");
    let function = world.spawn(&api, &stdout);

    api.invoke("req-1", json!({"job": "dormant"}));
    let first = summary_of(&api, "req-1").await;
    let report1 = report(&first);
    assert_eq!(report1["complete"], true, "{first}");
    assert_eq!(
        notes(report1),
        vec![
            "scan started (signInActivity filter plan)".to_string(),
            "scan finished: 16 users examined in 3 pages; 8 open findings (8 new, 0 reminded, 0 resolved)"
                .to_string(),
        ],
        "{first}"
    );
    assert_eq!(report1["alerts_recorded"], 1, "one digest: {first}");
    assert_eq!(first["delivered"], 1, "{first}");
    assert_eq!(first["delivery_failed"], 0, "{first}");
    let digest = the_digest(&world.receiver);
    let ids = finding_ids(&digest);
    assert!(!ids.contains(BG1) && !ids.contains(BG2), "{ids:?}");
    let expected: BTreeSet<String> = EXPECTED_FINDINGS.iter().map(|s| s.to_string()).collect();
    assert_eq!(ids, expected);

    // Another scan by the warm function: the same accounts, already notified, send nothing. The
    // emulator's throttling windows run on real time; by the next daily run Graph's would long be
    // empty, so they are switched off here rather than waited out (up to a minute).
    world.emulator.faults().set_throttle(false);
    api.invoke("req-2", json!({"job": "dormant"}));
    let second = summary_of(&api, "req-2").await;
    let report2 = report(&second);
    assert_eq!(report2["complete"], true, "{second}");
    assert_eq!(
        notes(report2)[1],
        // The scan after the probe also lists every user to check the filter (issue 14): 16 users twice.
        "scan finished: 32 users examined in 4 pages; 8 open findings (0 new, 0 reminded, 0 resolved)",
        "{second}"
    );
    assert_eq!(report2["alerts_recorded"], 0, "{second}");
    assert_eq!(second["delivered"], 0, "{second}");
    assert_eq!(world.receiver.received().len(), 1, "no second digest");
    stop(function);

    let emf = emf_lines(&stdout);
    assert_eq!(emf.len(), 2, "one EMF line per run: {emf:?}");
    for line in &emf {
        assert_eq!(line["Job"], "dormant");
        assert_eq!(line["RunsSucceeded"], 1);
        assert_eq!(line["ScansIncomplete"], 0);
        assert_eq!(line["TenantsFailed"], 0);
    }
    assert_eq!(emf[0]["AlertsRaised"], 1);
    assert_eq!(emf[0]["AlertsDelivered"], 1);
    assert_eq!(emf[0]["RecordsExamined"], 16);
    assert_eq!(
        emf[0]["GraphRequests"], first["results"][0]["graph_requests"],
        "{first}"
    );
    assert_eq!(emf[1]["AlertsRaised"], 0);
    assert_eq!(emf[1]["AlertsDelivered"], 0);
    world.emulator.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scan_cut_short_by_the_deadline_is_continued_by_the_next_invocation() {
    let world = World::start().await;
    // A 12 s invocation leaves the run 7 s (invoke.rs keeps 5 s), the job about 5 s of it (the run
    // keeps a quarter for its last delivery) and the scan half of that (DormantOptions::within).
    // With every Graph answer 1.5 s
    // late, the token, the role reads and the first listing page alone take longer than 2.5 s, so
    // the scan stops at its checkpoint right after that page: deterministically, and without any
    // pacing wait that could run into the deadline.
    world
        .emulator
        .faults()
        .set_latency(Duration::from_millis(1500));
    let short = RuntimeApi::start(Duration::from_secs(12)).await;
    let stdout_short = log_path("short");
    let function = world.spawn(&short, &stdout_short);
    short.invoke("req-1", json!({"job": "dormant"}));
    let cut = summary_of(&short, "req-1").await;
    let report1 = report(&cut);
    assert_eq!(report1["complete"], false, "{cut}");
    assert_eq!(report1["examined"], 5, "the first listing page: {cut}");
    assert_eq!(report1["alerts_recorded"], 0, "{cut}");
    assert_eq!(cut["delivered"], 0, "{cut}");
    assert_eq!(
        notes(report1),
        vec![
            "scan started (signInActivity filter plan)".to_string(),
            "stopped at a checkpoint after 1 pages (5 users examined so far); the next run continues"
                .to_string(),
            "scan under way for under a minute (1 signInActivity request); a finish time is estimated from the \
             first complete scan"
                .to_string(),
        ],
        "{cut}"
    );
    assert!(
        world.receiver.received().is_empty(),
        "no digest before the scan ends"
    );
    stop(function);
    let emf = emf_lines(&stdout_short);
    assert_eq!(emf.len(), 1, "{emf:?}");
    assert_eq!(emf[0]["Job"], "dormant");
    assert_eq!(emf[0]["RunsSucceeded"], 1, "stopping early is a success");
    assert_eq!(emf[0]["ScansIncomplete"], 1);
    assert_eq!(emf[0]["AlertsRaised"], 0);

    // The next invocation, on a fresh instance with the usual time, continues from the checkpoint.
    world.emulator.faults().set_latency(Duration::ZERO);
    let long = RuntimeApi::start(Duration::from_secs(120)).await;
    let stdout_long = log_path("long");
    let function = world.spawn(&long, &stdout_long);
    long.invoke("req-2", json!({"job": "dormant"}));
    let rest = summary_of(&long, "req-2").await;
    let report2 = report(&rest);
    assert_eq!(report2["complete"], true, "{rest}");
    assert_eq!(report2["examined"], 11, "the rest of the 16: {rest}");
    assert_eq!(report2["alerts_recorded"], 1, "{rest}");
    assert_eq!(
        notes(report2),
        vec![
            "scan continued after 1 pages".to_string(),
            "scan finished: 16 users examined in 3 pages; 8 open findings (8 new, 0 reminded, 0 resolved)"
                .to_string(),
        ],
        "{rest}"
    );
    let digest = the_digest(&world.receiver);
    let expected: BTreeSet<String> = EXPECTED_FINDINGS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        finding_ids(&digest),
        expected,
        "the same digest as an uninterrupted scan"
    );
    stop(function);
    let emf = emf_lines(&stdout_long);
    assert_eq!(emf.len(), 1, "{emf:?}");
    assert_eq!(emf[0]["ScansIncomplete"], 0);
    assert_eq!(emf[0]["AlertsRaised"], 1);
    assert_eq!(emf[0]["AlertsDelivered"], 1);
    world.emulator.stop().await;
}
