//! `entrawatch run` end to end: a config file, the embedded SQLite store and the `stdout` sink,
//! against the emulator's sample tenant.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use entrawatch_emulator::{Emulator, Scenario};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entrawatch");

fn config(dir: &Path, url: &str, secret_env: &str) -> PathBuf {
    let text = format!(
        r#"
[[tenants]]
name = "contoso"
id = "11111111-2222-3333-4444-555555555555"
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
credential = {{ type = "secret", secret = "env:{secret_env}" }}
graph_url = "{url}"
login_url = "{url}"
[tenants.break_glass]
accounts = ["0b000000-0000-4000-8000-0000000000b1", "0b000000-0000-4000-8000-0000000000b2"]

[[sinks]]
name = "console"
type = "stdout"
min_severity = "info"

[state]
backend = "sqlite"
path = "{db}"
"#,
        db = dir.join("state.db").display()
    );
    let path = dir.join(format!("{secret_env}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

async fn run(args: &[&str], config: &Path) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env("DEMO_SECRET", "demo-secret-not-real")
        .env("WRONG_SECRET", "not-the-secret-x")
        .env_remove("ENTRAWATCH_CONFIG")
        .stdin(Stdio::null());
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn run_break_glass_alerts_once_across_processes_and_fails_clearly_on_bad_credentials() {
    let emu = Emulator::start(Scenario::sample()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("entrawatch-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let good = config(&dir, &emu.url(), "DEMO_SECRET");

    let first = run(&["run", "break-glass", "--output", "json"], &good).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let (heartbeats, alerts): (Vec<Value>, Vec<Value>) = json_lines(&first)
        .into_iter()
        .partition(|a| a["type"] == "monitoring.heartbeat");
    assert_eq!(heartbeats.len(), 1, "the sink's heartbeat, once");
    let mut types: Vec<&str> = alerts.iter().map(|a| a["type"].as_str().unwrap()).collect();
    types.sort();
    assert_eq!(
        types,
        [
            "break_glass.account_changed",
            "break_glass.account_changed",
            "break_glass.sign_in",
            "break_glass.sign_in_failed"
        ]
    );
    assert!(alerts
        .iter()
        .all(|a| a["data"]["tenant"]["name"] == "contoso"));

    // A second process with the same state file: everything was alerted already.
    let second = run(&["run", "break-glass", "--output", "json"], &good).await;
    assert!(second.status.success());
    assert!(json_lines(&second).is_empty(), "nothing alerted twice");

    // A rejected secret: non-zero, one line on stderr naming the tenant and the Entra error.
    let bad = config(&dir, &emu.url(), "WRONG_SECRET");
    let failed = run(&["run", "break-glass"], &bad).await;
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last, "entrawatch: run: 1 problem(s); see the lines above",
        "{stderr}"
    );
    let problem = stderr
        .lines()
        .find(|l| l.starts_with("run: contoso break-glass: "))
        .unwrap_or_else(|| panic!("a line names the tenant: {stderr}"));
    assert!(problem.contains("AADSTS7000215"), "{stderr}");
    assert!(
        !stderr.contains("not-the-secret-x"),
        "the secret is never printed"
    );
    emu.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
