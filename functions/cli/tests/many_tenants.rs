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

fn config_text(generated: &ManyTenants, graph: &str, db: &Path) -> String {
    let mut text = String::new();
    for t in &generated.tenants {
        text.push_str(&format!(
            "[[tenants]]\nname = \"{name}\"\nid = \"{id}\"\nclient_id = \"{client}\"\n\
             credential = {{ type = \"secret\", secret = \"env:MANY_SECRET\" }}\n\
             graph_url = \"{graph}\"\nlogin_url = \"{graph}\"\n\
             [tenants.break_glass]\naccounts = [\"{a}\", \"{b}\"]\n\n",
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
         [delivery]\nheartbeat_days = 0\n\n[state]\nbackend = \"sqlite\"\npath = \"{}\"\n",
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
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "break-glass", "--config"])
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
        config_text(&generated, &emu.url(), &dir.join("state.db")),
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
