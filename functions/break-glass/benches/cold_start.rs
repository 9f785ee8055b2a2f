//! Cold start of each entrawatch function binary, measured locally (figures in infra/README.md,
//! "Binary sizes and cold start"): the stripped release binary is started against a local Lambda Runtime API
//! (`entrawatch-runtime-api-double`, `tests/runtime-api`) and timed from process start to its first
//! `GET /2018-06-01/runtime/invocation/next` (init: tracing, SDK configuration, clients, config
//! from the environment). For the scheduled functions the first invocation's round trip is timed
//! too, with an input they refuse before any Graph or AWS call (`{"job":"none"}`); for the
//! authorizer, with a malformed token (refused before any key fetch).
//!
//! `cargo bench -p break-glass --bench cold_start` (`-- --spawns 50` for more). Builds the three
//! binaries with `cargo build --release` first (a no-op when they are fresh). Figures are for the
//! machine it runs on (Lambda's arm64 cold start adds the sandbox and code download).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use entrawatch_runtime_api_double::{spawn_function, Outcome, RuntimeApi};
use serde_json::{json, Value};

const BINARIES: [&str; 3] = ["break-glass", "dormant-accounts", "token-authorizer"];

/// One binary's measurements over all spawns.
struct Figures {
    size: u64,
    init: Vec<Duration>,
    first_invocation: Vec<Duration>,
}

#[tokio::main]
async fn main() {
    let spawns = spawns_from_args();
    let paths = build_release();
    println!(
        "cold start, {spawns} spawns each ({} {}, local Runtime API on 127.0.0.1)\n",
        std::env::consts::ARCH,
        std::env::consts::OS
    );
    println!(
        "| binary | stripped size (bytes) | init median | init p95 | 1st invocation median | 1st invocation p95 |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for name in BINARIES {
        let path = &paths[name];
        let figures = measure(name, path, spawns).await;
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            figures.size,
            ms(percentile(&figures.init, 50)),
            ms(percentile(&figures.init, 95)),
            ms(percentile(&figures.first_invocation, 50)),
            ms(percentile(&figures.first_invocation, 95)),
        );
    }
}

fn spawns_from_args() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--spawns")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(20)
}

/// Builds the release binaries and returns where cargo put them (honours `CARGO_TARGET_DIR`).
fn build_release() -> std::collections::HashMap<&'static str, PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--message-format=json-render-diagnostics",
    ]);
    for name in BINARIES {
        cmd.args(["-p", name]);
    }
    let output = cmd
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("run cargo build --release");
    assert!(output.status.success(), "cargo build --release failed");
    let mut paths = std::collections::HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let (Some(target), Some(exe)) = (
            message["target"]["name"].as_str(),
            message["executable"].as_str(),
        ) else {
            continue;
        };
        if let Some(name) = BINARIES.iter().find(|b| **b == target) {
            paths.insert(*name, PathBuf::from(exe));
        }
    }
    for name in BINARIES {
        assert!(paths.contains_key(name), "cargo built no {name} binary");
    }
    paths
}

async fn measure(name: &str, path: &Path, spawns: usize) -> Figures {
    let mut figures = Figures {
        size: std::fs::metadata(path).expect("binary exists").len(),
        init: Vec::with_capacity(spawns),
        first_invocation: Vec::with_capacity(spawns),
    };
    let (env, event, expected_error) = inputs(name);
    for _ in 0..spawns {
        let api = RuntimeApi::start(Duration::from_secs(30)).await;
        let started = Instant::now();
        let mut child = spawn_function(&path.to_string_lossy(), &api, &env, Path::new("/dev/null"));
        let ready = loop {
            if let Some(at) = api.first_poll() {
                break at;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{name} never asked for an event"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        };
        figures.init.push(ready - started);
        let sent = Instant::now();
        api.invoke("bench-1", event.clone());
        match api.outcome("bench-1", Duration::from_secs(30)).await {
            Outcome::Error { error_type, .. } if error_type == expected_error => {}
            other => panic!("{name}: unexpected outcome {other:?}"),
        }
        figures.first_invocation.push(sent.elapsed());
        child.kill().ok();
        child.wait().ok();
    }
    figures
}

/// Environment, first event and the error type it must end with, per binary.
fn inputs(name: &str) -> (Vec<(&'static str, String)>, Value, &'static str) {
    if name == "token-authorizer" {
        let env = vec![
            (
                "ENTRAWATCH_AUTH_TENANTS",
                "11111111-2222-3333-4444-555555555555".to_string(),
            ),
            ("ENTRAWATCH_AUTH_AUDIENCES", "api://entrawatch-bench".into()),
            // Loopback and closed: the malformed token must be refused without any fetch.
            ("ENTRAWATCH_AUTH_LOGIN_URL", "http://127.0.0.1:9".into()),
        ];
        let event = json!({
            "type": "TOKEN",
            "authorizationToken": "Bearer not-a-jwt",
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/alerts"
        });
        return (env, event, "Unauthorized");
    }
    let config = r#"
[[tenants]]
name = "contoso"
id = "11111111-2222-3333-4444-555555555555"
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
credential = { type = "secret", secret = "env:ENTRA_CLIENT_SECRET" }
graph_url = "http://127.0.0.1:9"
login_url = "http://127.0.0.1:9"
[tenants.break_glass]
accounts = ["0b000000-0000-4000-8000-0000000000b1"]
"#;
    let env = vec![
        ("ENTRAWATCH_CONFIG_TOML", config.to_string()),
        ("ENTRAWATCH_TABLE", "entrawatch-bench".into()),
    ];
    (env, json!({"job": "none"}), "entrawatch.ActionRequired")
}

/// Nearest-rank percentile.
fn percentile(samples: &[Duration], p: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
