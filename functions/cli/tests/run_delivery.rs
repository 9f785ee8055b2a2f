//! `entrawatch run` when delivery breaks, as a user's cron job sees it: a sink that cannot be
//! built is down, not fatal (the other sinks deliver, `delivery.failing` names it, the exit is
//! non-zero with a line naming it); an alert that has reached no sink for `overdue_minutes`
//! makes the exit non-zero with a line naming the failing sink; a plain-http sink to another
//! host is refused by `config check` and by `run`, by name, without printing its URL.

#[path = "../../core/tests/outbox_support/mod.rs"]
mod outbox_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use entrawatch_core::outbox::Outbox;
use entrawatch_core::state::sqlite::SqliteStore;
use entrawatch_emulator::{Emulator, Scenario};
use outbox_support::{alert, Receiver, SECRET};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entrawatch");

/// The sample tenant (break-glass alerts on every first run), then `sinks`, on a fresh state file.
fn write_config(dir: &Path, graph: &str, sinks: &str) -> PathBuf {
    let text = format!(
        r#"
[[tenants]]
name = "contoso"
id = "11111111-2222-3333-4444-555555555555"
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
credential = {{ type = "secret", secret = "env:DEMO_SECRET" }}
graph_url = "{graph}"
login_url = "{graph}"
[tenants.break_glass]
accounts = ["0b000000-0000-4000-8000-0000000000b1"]

{sinks}

[state]
backend = "sqlite"
path = "{db}"
"#,
        db = dir.join("state.db").display()
    );
    let path = dir.join("entrawatch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("entrawatch-rd-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn entrawatch(args: &[&str], config: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env("DEMO_SECRET", "demo-secret-not-real")
        .env_remove("ENTRAWATCH_CONFIG")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn webhook_sink(name: &str, url_env: &str, secret_env: &str) -> String {
    format!(
        "[[sinks]]\nname = \"{name}\"\ntype = \"webhook\"\nurl = \"env:{url_env}\"\n\
         secret = \"env:{secret_env}\"\nmin_severity = \"info\"\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn sinks_that_cannot_be_built_are_named_and_the_others_still_deliver() {
    let emu = Emulator::start(Scenario::sample()).await.unwrap();
    let healthy = Receiver::start(0, 200).await;
    let dir = fresh_dir("broken");
    let sinks = [
        webhook_sink("secops", "HOOK_URL", "HOOK_SECRET"),
        // Its signing secret was deleted from the secret store.
        webhook_sink("no-secret", "HOOK_URL", "SECRET_THAT_WAS_DELETED"),
        // Its signing secret is not a Standard Webhooks key.
        webhook_sink("bad-key", "HOOK_URL", "MALFORMED_WHSEC"),
    ]
    .join("\n");
    let config = write_config(&dir, &emu.url(), &sinks);
    let env = [
        ("HOOK_URL", healthy.url.as_str()),
        ("HOOK_SECRET", SECRET),
        ("MALFORMED_WHSEC", "whsec_c2hvcnQ="),
    ];
    let out = entrawatch(&["run", "break-glass"], &config, &env).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let named = |sink: &str| {
        stderr
            .lines()
            .find(|l| l.starts_with(&format!("run: sink {sink} cannot be built: ")))
            .unwrap_or_else(|| panic!("no line names {sink}: {stderr}"))
            .to_string()
    };
    assert!(
        named("no-secret").contains("SECRET_THAT_WAS_DELETED"),
        "{stderr}"
    );
    assert!(named("bad-key").contains("its alerts wait"), "{stderr}");
    assert!(
        !stderr.contains("c2hvcnQ"),
        "the malformed secret is never printed"
    );
    assert!(
        !stderr.contains("secret-path-token"),
        "no webhook URL in output"
    );

    let bodies = healthy.accepted_bodies();
    assert!(
        bodies.iter().any(|b| b["type"] == "break_glass.sign_in"),
        "the healthy sink delivers the run's alerts: {bodies:?}"
    );
    let failing: Vec<&Value> = bodies
        .iter()
        .filter(|b| b["type"] == "delivery.failing")
        .collect();
    let mut about: Vec<&str> = failing
        .iter()
        .map(|b| b["data"]["evidence"]["sink"].as_str().unwrap())
        .collect();
    about.sort();
    assert_eq!(about, ["bad-key", "no-secret"], "{failing:?}");

    // The next run: the outage is known, nothing is alerted about it again.
    let again = entrawatch(&["run", "break-glass"], &config, &env).await;
    assert!(!again.status.success());
    let failing_again = healthy
        .accepted_bodies()
        .iter()
        .filter(|b| b["type"] == "delivery.failing")
        .count();
    assert_eq!(failing_again, 2, "one delivery.failing per broken sink");
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sole_sink_failing_past_overdue_minutes_fails_the_run_naming_it() {
    let emu = Emulator::start(Scenario::sample()).await.unwrap();
    let down = Receiver::start(usize::MAX, 500).await;
    let dir = fresh_dir("overdue");
    let config = write_config(
        &dir,
        &emu.url(),
        &webhook_sink("slack-relay", "HOOK_URL", "HOOK_SECRET"),
    );
    let env = [("HOOK_URL", down.url.as_str()), ("HOOK_SECRET", SECRET)];
    // The sink has answered 500 for a while: an alert recorded 10 minutes ago still waits.
    let store = SqliteStore::open(dir.join("state.db")).unwrap();
    let outbox = Outbox::new(std::sync::Arc::new(store.clone()), vec![]);
    let now = chrono::Utc::now().timestamp();
    let waiting = alert("waiting-ten-minutes");
    let sinks = ["slack-relay".to_string()];
    outbox
        .record_to(&waiting, &sinks, now - 10 * 60)
        .await
        .unwrap();
    let young = entrawatch(&["run", "break-glass"], &config, &env).await;
    let stderr = String::from_utf8_lossy(&young.stderr);
    assert!(young.status.success(), "not overdue yet: {stderr}");

    let stuck = alert("waiting-twenty-minutes");
    outbox
        .record_to(&stuck, &sinks, now - 20 * 60)
        .await
        .unwrap();
    let old = entrawatch(&["run", "break-glass"], &config, &env).await;
    let stderr = String::from_utf8_lossy(&old.stderr);
    assert!(!old.status.success(), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with(&format!("run: alert {} ", stuck.id)))
        .unwrap_or_else(|| panic!("the overdue alert is named: {stderr}"));
    assert!(line.contains("has reached no sink for 20 min"), "{line}");
    assert!(
        line.contains("failing sink(s): slack-relay (HTTP 500"),
        "{line}"
    );
    assert!(
        !stderr.contains(&format!("run: alert {} ", waiting.id)),
        "only what is overdue: {stderr}"
    );
    assert!(!down.received().is_empty(), "the sink was tried");
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_http_sink_to_another_host_is_refused_by_name() {
    let emu = Emulator::start(Scenario::sample()).await.unwrap();
    let dir = fresh_dir("plain");
    let sinks = webhook_sink("plain", "PLAIN_URL", "HOOK_SECRET");
    let config = write_config(&dir, &emu.url(), &sinks);
    let env = [
        (
            "PLAIN_URL",
            "http://hooks.example.com/services/T000/secret-path-token",
        ),
        ("HOOK_SECRET", SECRET),
    ];
    let check = entrawatch(&["config", "check"], &config, &env).await;
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(!check.status.success(), "{stdout}");
    assert!(
        stdout.contains(
            "FAIL  sink plain: url must be https (plain http only to a loopback address); refused"
        ),
        "{stdout}"
    );
    let run = entrawatch(&["run", "break-glass"], &config, &env).await;
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains("run: sink plain cannot be built: url must be https"),
        "{stderr}"
    );
    for out in [&stdout, &stderr] {
        assert!(
            !out.contains("hooks.example.com"),
            "the URL is never printed: {out}"
        );
    }
    emu.stop().await;
}
