//! `entrawatch run` end to end: a config file, the embedded SQLite store and the `stdout` sink,
//! against the emulator's sample tenant; its tenants from the document or from an SSM path
//! (moto, reached through `AWS_ENDPOINT_URL_SSM` as a deployment would set it).

#[path = "../../core/tests/state_support/mod.rs"]
mod state_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use entrawatch_emulator::{Emulator, Scenario};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_entrawatch");
/// `run break-glass` for contoso only, each delivered alert a JSON line on stdout.
const RUN_CONTOSO_JSON: &[&str] = &[
    "run",
    "break-glass",
    "--tenant",
    "contoso",
    "--output",
    "json",
];
/// The emulator's sample tenant.
const CONTOSO: &str = "11111111-2222-3333-4444-555555555555";
/// A second tenant, which the emulator's sample scenario does not have.
const FABRIKAM: &str = "22222222-2222-3333-4444-555555555555";

/// The emulator's sample tenant as one `[[tenants]]` table without its header, as a
/// `tenants_from` parameter holds it.
fn contoso_table(url: &str, secret_env: &str) -> String {
    format!(
        r#"name = "contoso"
id = "{CONTOSO}"
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
credential = {{ type = "secret", secret = "env:{secret_env}" }}
graph_url = "{url}"
login_url = "{url}"
[break_glass]
accounts = ["0b000000-0000-4000-8000-0000000000b1", "0b000000-0000-4000-8000-0000000000b2"]
"#
    )
}

/// The `stdout` sink and SQLite state in `dir`, after `tenants` (document text).
fn document(dir: &Path, tenants: &str) -> String {
    format!(
        r#"{tenants}
[[sinks]]
name = "console"
type = "stdout"
min_severity = "info"

[state]
backend = "sqlite"
path = "{db}"
"#,
        db = dir.join("state.db").display()
    )
}

/// A config file with contoso as a `[[tenants]]` entry.
fn config(dir: &Path, url: &str, secret_env: &str) -> PathBuf {
    let tenant = contoso_table(url, secret_env).replace("[break_glass]", "[tenants.break_glass]");
    let path = dir.join(format!("{secret_env}.toml"));
    std::fs::write(&path, document(dir, &format!("[[tenants]]\n{tenant}"))).unwrap();
    path
}

/// An empty directory of this test process.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn run(args: &[&str], config: &Path) -> Output {
    run_with(args, config, &[]).await
}

/// `entrawatch <args> --config <config>` with `env` added to the test secrets' variables.
async fn run_with(args: &[&str], config: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env("DEMO_SECRET", "demo-secret-not-real")
        .env("WRONG_SECRET", "not-the-secret-x")
        .envs(env.iter().copied())
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
    let dir = fresh_dir("entrawatch-run");
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
            "break_glass.posture",
            "break_glass.sign_in",
            "break_glass.sign_in",
            "break_glass.sign_in_failed"
        ],
        "bg1's sign-in, bg2's failed one, two changes, bg2's sign-in whose row is not yet published (from \
         signInActivity), and bg2 not excluded from the sample's device policy (posture)"
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

#[tokio::test(flavor = "multi_thread")]
async fn run_tenant_runs_only_the_tenants_named_and_refuses_an_unknown_one() {
    // Input: contoso (the emulator's tenant) and fabrikam, a tenant the emulator does not know, so
    // any run that includes fabrikam fails naming it.
    let emu = Emulator::start(Scenario::sample()).await.unwrap();
    let dir = fresh_dir("entrawatch-run-tenant");
    let path = config(&dir, &emu.url(), "DEMO_SECRET");
    let fabrikam = format!(
        "[[tenants]]\nname = \"fabrikam\"\nid = \"{FABRIKAM}\"\n\
         client_id = \"aaaaaaaa-bbbb-cccc-dddd-000000000001\"\n\
         credential = {{ type = \"secret\", secret = \"env:DEMO_SECRET\" }}\n\
         graph_url = \"{url}\"\nlogin_url = \"{url}\"\n\
         [tenants.break_glass]\naccounts = [\"0b000000-0000-4000-8000-0000000000b1\"]\n\n[[sinks]]",
        url = emu.url()
    );
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("[[sinks]]", &fabrikam, 1);
    std::fs::write(&path, text).unwrap();

    // `--tenant fabrkam` (a typo): one line naming it, exit non-zero, nothing run (no state file).
    let typo = run(&["run", "break-glass", "--tenant", "fabrkam"], &path).await;
    assert!(!typo.status.success());
    assert_eq!(
        String::from_utf8_lossy(&typo.stderr),
        "entrawatch: run: --tenant \"fabrkam\" is not a configured tenant (give its name exactly or its id)\n"
    );
    assert!(typo.stdout.is_empty());
    assert!(!dir.join("state.db").exists(), "nothing ran");

    // `--tenant contoso`: contoso's alerts only, and fabrikam (which would fail) is not run.
    let only = run(RUN_CONTOSO_JSON, &path).await;
    let stderr = String::from_utf8_lossy(&only.stderr);
    assert!(only.status.success(), "{stderr}");
    assert!(!stderr.contains("fabrikam"), "{stderr}");
    let alerts = json_lines(&only);
    assert!(alerts.iter().any(|a| a["type"] == "break_glass.sign_in"));
    assert!(alerts
        .iter()
        .filter(|a| a["type"] != "monitoring.heartbeat")
        .all(|a| a["data"]["tenant"]["name"] == "contoso"));

    // By id, in upper case: fabrikam runs (and fails, as the emulator does not know it).
    let by_id = run(
        &["run", "break-glass", "--tenant", &FABRIKAM.to_uppercase()],
        &path,
    )
    .await;
    let stderr = String::from_utf8_lossy(&by_id.stderr);
    assert!(!by_id.status.success());
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("run: fabrikam break-glass: ")),
        "{stderr}"
    );
    assert!(!stderr.contains("run: contoso"), "{stderr}");
    emu.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn run_loads_tenants_from_an_ssm_path_and_refuses_one_configured_twice() {
    // Input: contoso only in the parameter {path}/contoso, the document naming the path.
    let emu = Emulator::start(Scenario::sample()).await.unwrap();
    let sdk = state_support::sdk_config().await;
    let path = format!("/entrawatch-cli-{}/tenants", uuid::Uuid::new_v4().simple());
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name(format!("{path}/contoso"))
        .value(contoso_table(&emu.url(), "DEMO_SECRET"))
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let aws = [
        ("AWS_ENDPOINT_URL_SSM", state_support::moto_url()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ];
    let dir = fresh_dir("entrawatch-run-tenants-from");
    let tenants_from = format!("tenants_from = \"ssm-path:{path}/\"\n");
    let from_ssm = dir.join("from-ssm.toml");
    std::fs::write(&from_ssm, document(&dir, &tenants_from)).unwrap();

    let out = run_with(RUN_CONTOSO_JSON, &from_ssm, &aws).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let alerts = json_lines(&out);
    assert!(alerts.iter().any(|a| a["type"] == "break_glass.sign_in"));

    // The same tenant also in the document: refused, one line naming both places, nothing run.
    let twice = config(&dir, &emu.url(), "DEMO_SECRET");
    let text = std::fs::read_to_string(&twice).unwrap();
    std::fs::write(&twice, format!("{tenants_from}{text}")).unwrap();
    let out = run_with(&["run", "break-glass"], &twice, &aws).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Log lines (the source's tenant count) may come first; the problem is the one last line.
    assert_eq!(
        stderr.lines().last().unwrap_or_default(),
        format!(
            "entrawatch: config tenants_from: tenant id {CONTOSO} is configured twice: [[tenants]] \
             \"contoso\" in the configuration document and SSM parameter {path}/contoso"
        ),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing ran");
    emu.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
