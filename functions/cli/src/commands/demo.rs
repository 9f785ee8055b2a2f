//! `entrawatch demo`: starts the bundled Entra ID / Graph emulator with its sample tenant on
//! 127.0.0.1 and runs every job against it through the same path as a user's deployment:
//! a TOML configuration with a secret reference, the embedded SQLite store, the outbox and a
//! `file` sink. Then it moves the emulator's clock past the sample's late-arriving sign-in and
//! runs again, to show a late log row alerted once and nothing alerted twice.
//! No config, no network, no credentials of yours.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use entrawatch_core::config::Config;
use entrawatch_core::jobs::{run_jobs, JobName, JobRun, RunSummary};
use entrawatch_core::secrets::SecretResolver;
use entrawatch_core::sinks::{build_sinks, http_client};
use entrawatch_core::state::Stores;
use entrawatch_emulator::{Emulator, Scenario};

use super::run::print_summary;
use crate::OutputFormat;

/// The sample tenant's emergency accounts (tests/emulator/scenarios/sample.toml).
const SAMPLE_BREAK_GLASS: [&str; 2] = [
    "0b000000-0000-4000-8000-0000000000b1",
    "0b000000-0000-4000-8000-0000000000b2",
];

/// The sample's late sign-in becomes visible 10 minutes after start.
const LATE_ARRIVAL_MINUTES: i64 = 11;

pub async fn run(output: OutputFormat) -> anyhow::Result<ExitCode> {
    let scenario = Scenario::sample();
    let tenant = scenario
        .tenants
        .first()
        .ok_or_else(|| anyhow::anyhow!("demo: the bundled scenario has no tenant"))?;
    let app = tenant
        .apps
        .first()
        .ok_or_else(|| anyhow::anyhow!("demo: the bundled scenario has no app"))?;
    let (tenant_id, tenant_name, client_id) = (
        tenant.id.clone(),
        tenant.name.clone(),
        app.client_id.clone(),
    );
    let secret = app.secret.clone().unwrap_or_default();
    let workdir = DemoDir::create()?;
    let emulator = Emulator::start(scenario).await?;
    say(
        output,
        format!(
            "emulator: sample tenant {tenant_name} ({tenant_id}) on {}; state and alerts in {}",
            emulator.url(),
            workdir.0.display()
        ),
    );

    // The same path as a user's config file: TOML, validation, a secret reference.
    std::env::set_var("ENTRAWATCH_DEMO_CLIENT_SECRET", secret);
    let config = Config::from_toml_str(
        &format!(
            r#"
[[tenants]]
name = "{tenant_name}"
id = "{tenant_id}"
client_id = "{client_id}"
credential = {{ type = "secret", secret = "env:ENTRAWATCH_DEMO_CLIENT_SECRET" }}
graph_url = "{url}"
login_url = "{url}"
[tenants.break_glass]
accounts = ["{bg1}", "{bg2}"]
[tenants.dormant]

[[sinks]]
name = "demo-file"
type = "file"
path = "{alerts}"
min_severity = "info"

[state]
backend = "sqlite"
path = "{db}"

[delivery]
heartbeat_days = 0
"#,
            url = emulator.url(),
            bg1 = SAMPLE_BREAK_GLASS[0],
            bg2 = SAMPLE_BREAK_GLASS[1],
            alerts = workdir.0.join("alerts.jsonl").display(),
            db = workdir.0.join("entrawatch.db").display(),
        ),
        "demo",
    )?;
    let resolver = SecretResolver::new();
    let result = async {
        say(
            output,
            "run 1: every job (the jobs pace themselves under Graph's published limits, as against a real tenant: about a minute)".into(),
        );
        let first = run_once(&config, &resolver, &emulator, &[JobName::BreakGlass, JobName::Dormant]).await?;
        print_summary(&first, output, &[]);
        emulator
            .clock()
            .advance(chrono::Duration::minutes(LATE_ARRIVAL_MINUTES));
        say(
            output,
            format!("run 2 of break-glass, {LATE_ARRIVAL_MINUTES} minutes later: a late sign-in row has arrived; nothing is alerted twice"),
        );
        let second = run_once(&config, &resolver, &emulator, &[JobName::BreakGlass]).await?;
        print_summary(&second, output, &[]);
        anyhow::Ok(first.failed() || second.failed())
    }
    .await;
    emulator.stop().await;
    if result? {
        anyhow::bail!("demo: a job failed; see above");
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_once(
    config: &Config,
    resolver: &SecretResolver,
    emulator: &Emulator,
    jobs: &[JobName],
) -> anyhow::Result<RunSummary> {
    let http = http_client().map_err(anyhow::Error::msg)?;
    let sinks = build_sinks(&config.sinks, resolver, &http).await;
    let stores = Stores::open(&config.state).await?;
    Ok(run_jobs(JobRun {
        config,
        jobs,
        tenants: None,
        stores,
        resolver,
        sinks,
        // The emulator's clock, so the demo can move time forward.
        now: emulator.clock().now(),
        owner: super::run::run_owner("demo"),
        deadline: Duration::from_secs(300),
    })
    .await)
}

fn say(output: OutputFormat, line: String) {
    match output {
        OutputFormat::Json => eprintln!("{line}"),
        OutputFormat::Text => println!("{line}"),
    }
}

/// A fresh directory for the demo's SQLite file and alert file, removed afterwards.
struct DemoDir(PathBuf);

impl DemoDir {
    fn create() -> anyhow::Result<DemoDir> {
        let dir = std::env::temp_dir().join(format!("entrawatch-demo-{}", std::process::id()));
        // A leftover from an earlier demo with the same pid would otherwise dedup its alerts.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(DemoDir(dir))
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
