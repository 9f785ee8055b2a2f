//! One app registration, many tenants (issue 13): 200 customer tenants consent to one multi-tenant app, the
//! emulator enforces Graph's published limits per app across all of them (122 reports requests per 10 s, 5 per
//! tenant, 10 `signInActivity` a minute; Graph docs `throttling-limits.md`, 2025-01-14), and four
//! `entrawatch run break-glass` processes share one SQLite state file. Without the shared budget each process
//! paces only itself and the four together overrun the app's window.

#[path = "../../core/tests/outbox_support/mod.rs"]
mod outbox_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use entrawatch_core::alert::{alert_id, types};
use entrawatch_emulator::{many_tenants, Emulator, ManyTenants, ManyTenantsSpec};
use outbox_support::{id_of, Receiver, SECRET};

const BIN: &str = env!("CARGO_BIN_EXE_entrawatch");
const TENANTS: u16 = 200;
const PROCESSES: usize = 4;

/// The configuration of every generated tenant; `tenant_extra` is appended to each `[[tenants]]` entry (after its
/// break-glass section) and `top_extra` to the document.
fn config_text(
    generated: &ManyTenants,
    graph: &str,
    db: &Path,
    tenant_extra: &str,
    top_extra: &str,
) -> String {
    let mut text = String::new();
    for t in &generated.tenants {
        text.push_str(&format!(
            "[[tenants]]\nname = \"{name}\"\nid = \"{id}\"\nclient_id = \"{client}\"\n\
             credential = {{ type = \"secret\", secret = \"env:MANY_SECRET\" }}\n\
             graph_url = \"{graph}\"\nlogin_url = \"{graph}\"\n\
             [tenants.break_glass]\naccounts = [\"{a}\", \"{b}\"]\n{tenant_extra}\n",
            name = t.name,
            id = t.id,
            client = generated.client_id,
            a = t.break_glass[0],
            b = t.break_glass[1],
        ));
    }
    text.push_str(&format!(
        "[[sinks]]\nname = \"secops\"\ntype = \"webhook\"\nurl = \"env:HOOK_URL\"\n\
         secret = \"env:HOOK_SECRET\"\nmin_severity = \"info\"\n\n\
         [delivery]\nheartbeat_days = 0\n\n[state]\nbackend = \"sqlite\"\npath = \"{}\"\n{top_extra}",
        db.display()
    ));
    text
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("entrawatch-mt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn run_break_glass(config: &Path, secret: &str, hook: &str) -> Output {
    run_job(config, secret, hook, &["break-glass"]).await
}

/// `entrawatch run <args> --config <config>` in a child process, its output collected.
async fn run_job(config: &Path, secret: &str, hook: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("run")
        .args(args)
        .arg("--config")
        .arg(config)
        .env("MANY_SECRET", secret)
        .env("HOOK_URL", hook)
        .env("HOOK_SECRET", SECRET)
        .env_remove("ENTRAWATCH_CONFIG")
        .env_remove("ENTRAWATCH_LOG")
        .stdin(Stdio::null());
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn four_processes_on_one_store_watch_200_tenants_of_one_app_without_a_429() {
    let generated = many_tenants(&ManyTenantsSpec {
        tenants: TENANTS,
        sign_ins_per_break_glass: 1,
        users: 0,
        dormant_users: 0,
        ..ManyTenantsSpec::default()
    });
    let emu = Emulator::start(generated.scenario.clone()).await.unwrap();
    let hook = Receiver::start(0, 200).await;
    let dir = fresh_dir("four");
    let config = dir.join("entrawatch.toml");
    std::fs::write(
        &config,
        config_text(&generated, &emu.url(), &dir.join("state.db"), "", ""),
    )
    .unwrap();

    let started = Instant::now();
    let runs: Vec<_> = (0..PROCESSES)
        .map(|_| {
            let (config, secret, hook) = (
                config.clone(),
                generated.client_secret.clone(),
                hook.url.clone(),
            );
            tokio::spawn(async move { run_break_glass(&config, &secret, &hook).await })
        })
        .collect();
    let mut outputs = Vec::new();
    for run in runs {
        outputs.push(run.await.unwrap());
    }
    let took = started.elapsed();
    for out in &outputs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "a run failed: {stderr}");
        assert!(!stderr.contains("FAILED"), "{stderr}");
    }

    let app = emu.app_stats(&generated.client_id).unwrap();
    assert_eq!(
        app.throttled_429, 0,
        "Graph answered 429 to the app ({} requests, by family {:?}) in {took:?}",
        app.requests, app.by_family
    );

    // Every expected sign-in alert reached the webhook, each exactly once, and nothing else was sent.
    let mut posts: BTreeMap<String, usize> = BTreeMap::new();
    for received in hook.received().iter().filter(|r| r.status == 200) {
        *posts.entry(id_of(received)).or_default() += 1;
    }
    let twice: Vec<_> = posts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    let expected: BTreeSet<String> = generated
        .tenants
        .iter()
        .flat_map(|t| {
            t.break_glass_sign_ins
                .iter()
                .map(|s| alert_id(types::BREAK_GLASS_SIGN_IN, &t.id, s))
        })
        .collect();
    assert_eq!(expected.len(), 2 * TENANTS as usize);
    let delivered: BTreeSet<String> = posts.keys().cloned().collect();
    let missing: Vec<_> = expected.difference(&delivered).take(5).collect();
    assert!(
        missing.is_empty(),
        "{} expected alerts not delivered, e.g. {missing:?}",
        expected.difference(&delivered).count()
    );
    let unexpected: Vec<_> = hook
        .accepted_bodies()
        .into_iter()
        .filter(|b| b["type"] != types::BREAK_GLASS_SIGN_IN)
        .map(|b| b["type"].clone())
        .collect();
    assert!(unexpected.is_empty(), "other alerts: {unexpected:?}");
    eprintln!(
        "{TENANTS} tenants, {PROCESSES} processes: {} Graph requests ({} reports), 0 x 429, {took:.1?}",
        app.requests,
        app.family("reports").requests
    );
    emu.stop().await;
}

/// Tenants whose dormant scans run side by side, each in its own process.
const SCANS: u16 = 20;
/// The app's `signInActivity` budget in this test, per minute, in the emulator and in `[graph]`: under the 40
/// requests the 20 scans need (two listings each), so scans that paced only themselves would overrun it at once.
/// The published 10 would make the test take five minutes; the arithmetic is the same.
const SIA_PER_MINUTE: u32 = 36;
/// How often break-glass runs while the scans are under way: each run must end before the next is due.
const BREAK_GLASS_EVERY: std::time::Duration = std::time::Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread")]
async fn twenty_dormant_scans_share_the_app_while_break_glass_stays_on_schedule() {
    let generated = many_tenants(&ManyTenantsSpec {
        tenants: SCANS,
        sign_ins_per_break_glass: 1,
        users: 5,
        dormant_users: 2,
        ..ManyTenantsSpec::default()
    });
    let mut scenario = generated.scenario.clone();
    scenario.throttle.sign_in_activity_per_app.requests = SIA_PER_MINUTE;
    let emu = Emulator::start(scenario).await.unwrap();
    let hook = Receiver::start(0, 200).await;
    let dir = fresh_dir("dormant");
    let config = dir.join("entrawatch.toml");
    std::fs::write(
        &config,
        config_text(
            &generated,
            &emu.url(),
            &dir.join("state.db"),
            "[tenants.dormant]\n",
            &format!("\n[graph]\nsign_in_activity_per_minute = {SIA_PER_MINUTE}\n"),
        ),
    )
    .unwrap();
    let (secret, url) = (generated.client_secret.clone(), hook.url.clone());

    let started = Instant::now();
    let scans: Vec<_> = generated
        .tenants
        .iter()
        .map(|t| {
            let (config, secret, url, name) =
                (config.clone(), secret.clone(), url.clone(), t.name.clone());
            tokio::spawn(async move {
                run_job(&config, &secret, &url, &["dormant", "--tenant", &name]).await
            })
        })
        .collect();
    // Break-glass for every tenant on its schedule until the last scan has finished.
    let mut break_glass_runs = Vec::new();
    loop {
        let due = Instant::now() + BREAK_GLASS_EVERY;
        let run_started = Instant::now();
        let out = run_break_glass(&config, &secret, &url).await;
        let took = run_started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "a break-glass run failed: {stderr}");
        break_glass_runs.push(took);
        if scans.iter().all(|s| s.is_finished()) {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(600),
            "the scans did not finish in 10 minutes"
        );
        tokio::time::sleep_until(due.into()).await;
    }
    let scans_took = started.elapsed();
    for scan in scans {
        let out = scan.await.unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "a dormant run failed: {stderr}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("scan finished"),
            "each scan finishes in its run: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    let app = emu.app_stats(&generated.client_id).unwrap();
    assert_eq!(
        app.throttled_429, 0,
        "Graph answered 429 to the app ({} requests, by family {:?})",
        app.requests, app.by_family
    );
    assert!(
        app.family("sign_in_activity").requests >= 2 * SCANS as u64,
        "every scan listed its users: {:?}",
        app.by_family
    );
    let late: Vec<_> = break_glass_runs
        .iter()
        .filter(|t| **t >= BREAK_GLASS_EVERY)
        .collect();
    assert!(
        late.is_empty(),
        "break-glass runs must end before the next is due ({BREAK_GLASS_EVERY:?}): {break_glass_runs:?}"
    );
    assert!(
        break_glass_runs.len() >= 2,
        "break-glass ran while the scans were under way: {break_glass_runs:?} in {scans_took:?}"
    );

    // One digest per tenant naming its dormant members, every sign-in alerted, nothing twice.
    let bodies = hook.accepted_bodies();
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for received in hook.received().iter().filter(|r| r.status == 200) {
        *ids.entry(id_of(received)).or_default() += 1;
    }
    assert!(ids.values().all(|n| *n == 1), "delivered twice: {ids:?}");
    for t in &generated.tenants {
        let digests: Vec<_> = bodies
            .iter()
            .filter(|b| b["type"] == types::DORMANT_DIGEST && b["data"]["tenant"]["id"] == t.id)
            .collect();
        assert_eq!(digests.len(), 1, "{}: {digests:?}", t.name);
        assert_eq!(digests[0]["data"]["totals"]["new"], 2, "{}", t.name);
        for s in &t.break_glass_sign_ins {
            let id = alert_id(types::BREAK_GLASS_SIGN_IN, &t.id, s);
            assert_eq!(ids.get(&id), Some(&1), "{}: sign-in {s}", t.name);
        }
    }
    eprintln!(
        "{SCANS} dormant scans in {scans_took:.1?} beside {} break-glass runs (longest {:?}): {} requests ({} signInActivity), 0 x 429",
        break_glass_runs.len(),
        break_glass_runs.iter().max().unwrap(),
        app.requests,
        app.family("sign_in_activity").requests
    );
    emu.stop().await;
}
