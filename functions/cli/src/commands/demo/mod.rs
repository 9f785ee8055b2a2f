//! `entrawatch demo`: starts the bundled Entra ID / Graph emulator with its sample tenant on
//! 127.0.0.1 and runs every job against it through the same path as a user's deployment:
//! a TOML configuration with a secret reference, the embedded SQLite store, the outbox and a
//! `file` sink. The sample's late-arriving sign-in is alerted in run 1 from `signInActivity`, before
//! its log row exists; then the demo moves the emulator's clock past the row's arrival and runs
//! again, to show that the row adds nothing and nothing is alerted twice. The workloads job alerts an app
//! secret about to expire, and the frequent run (break-glass and the watches) alerts a dormant account that signs
//! in between run 1 and run 2.
//! No config, no network, no credentials of yours. Graph pacing waits on the emulator's clock
//! ([`waits`]), so the demo is over in seconds while keeping to Graph's published limits.

mod story;
mod waits;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use entrawatch_core::config::Config;
use entrawatch_core::graph::ClientOptions;
use entrawatch_core::inventory::Format;
use entrawatch_core::jobs::{run_jobs, JobName, JobRun, RunSummary};
use entrawatch_core::progress::Progress;
use entrawatch_core::secrets::SecretResolver;
use entrawatch_core::sinks::{build_sinks, http_client};
use entrawatch_core::state::Stores;
use entrawatch_emulator::{Emulator, Scenario, ThrottleClock};

use story::{alert_line, delivered, AlertFile, Teller};
use waits::EmulatedWaits;

use crate::OutputFormat;

/// The sample tenant's emergency accounts (tests/emulator/scenarios/sample.toml).
const SAMPLE_BREAK_GLASS: [&str; 2] = [
    "0b000000-0000-4000-8000-0000000000b1",
    "0b000000-0000-4000-8000-0000000000b2",
];

/// The sample's late sign-in becomes visible 10 minutes after start.
const LATE_ARRIVAL_MINUTES: i64 = 11;

/// The commented configuration template at the repository root.
const TEMPLATE: &str = "entrawatch.example.toml";

pub async fn run(output: OutputFormat) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let tell = Teller(output);
    let mut scenario = Scenario::sample();
    // The client below waits on the emulator's clock, so the emulator counts its windows on that clock too.
    scenario.throttle.clock = ThrottleClock::Emulated;
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
    let users = tenant.users.len();
    let secret = app.secret.clone().unwrap_or_default();
    let workdir = DemoDir::create()?;
    let emulator = Emulator::start(scenario).await?;
    tell.say(format!(
        "entrawatch demo: the bundled Entra ID / Graph emulator serves the sample tenant {tenant_name} ({tenant_id}) on {}",
        emulator.url()
    ));
    tell.say(format!(
        "  {users} users, 2 emergency-access accounts; entrawatch reads it as it reads Microsoft Graph, keeps state in a \
         temporary SQLite file and writes alerts to a file sink"
    ));

    // The same path as a user's config file: TOML, validation, a secret reference.
    std::env::set_var("ENTRAWATCH_DEMO_CLIENT_SECRET", secret);
    let alerts_path = workdir.0.join("alerts.jsonl");
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
[tenants.workloads]

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
            alerts = alerts_path.display(),
            db = workdir.0.join("entrawatch.db").display(),
        ),
        "demo",
    )?;
    let resolver = SecretResolver::new();
    let waits = EmulatedWaits::new(emulator.clock());
    let demo = Demo {
        config: &config,
        resolver: &resolver,
        emulator: &emulator,
        waits: waits.clone(),
    };
    let result = async {
        tell.say("");
        tell.say("run 1: every job, as a scheduled run does");
        let every = JobName::scheduled("all").expect("all is a schedule");
        let first = demo.run(&every).await?;
        tell.run(&first);
        emulator
            .clock()
            .advance(chrono::Duration::minutes(LATE_ARRIVAL_MINUTES));
        tell.say("");
        tell.say(format!(
            "run 2: the frequent run (break-glass and the watches), {LATE_ARRIVAL_MINUTES} minutes later on the emulator's \
             clock: Graph has now published the log row of bg2's sign-in 50 minutes before run 1, and a dormant account \
             has signed in since"
        ));
        let frequent = JobName::scheduled("break-glass").expect("break-glass is a schedule");
        let second = demo.run(&frequent).await?;
        tell.run(&second);
        tell.say("");
        tell.say("run 3: the frequent run again, nothing new in the tenant");
        let third = demo.run(&frequent).await?;
        tell.run(&third);
        let file = AlertFile::read(&alerts_path)?;
        tell.say("");
        tell.say("what this showed:");
        // Alerted in run 1 from signInActivity; the row, read in run 2, must add nothing.
        let early: Vec<String> = delivered(&first)
            .filter(|a| a.evidence.get("source").and_then(|s| s.as_str()) == Some("signInActivity"))
            .map(alert_line)
            .collect();
        let row_added = delivered(&second)
            .filter(|a| a.kind.starts_with("break_glass."))
            .count();
        let late_once = early.len() == 1 && row_added == 0;
        tell.say(match (early.first(), late_once) {
            (Some(line), true) => format!(
                "  a sign-in whose log row arrived late, alerted before the row from signInActivity: {line}; the row \
                 (run 2) added nothing"
            ),
            _ => format!(
                "  NOT SHOWN: the late sign-in alerted once before its row ({} early alert(s), run 2 added {row_added})",
                early.len()
            ),
        });
        tell.say(format!(
            "  nothing alerted twice: {} alert(s) in the sink, {} distinct id(s); run 3 added {}",
            file.written,
            file.distinct,
            delivered(&third).count()
        ));
        let digest = delivered(&first).find(|a| a.kind == "dormant.digest");
        tell.say(match digest {
            Some(d) => format!("  dormant accounts in one digest: {}", d.title),
            None => "  NOT SHOWN: no dormant digest".into(),
        });
        let credential = delivered(&first).find(|a| a.kind == "workload.credential_expiring");
        tell.say(match credential {
            Some(c) => format!("  an app credential before it expires: {}", alert_line(c)),
            None => "  NOT SHOWN: no credential alert".into(),
        });
        let posture = delivered(&first).find(|a| a.kind == "break_glass.posture");
        tell.say(match posture {
            Some(p) => format!(
                "  an emergency account that a Conditional Access policy would lock out: {}",
                alert_line(p)
            ),
            None => "  NOT SHOWN: no emergency-account posture alert".into(),
        });
        let reactivated = delivered(&second).find(|a| a.kind == "dormant.reactivated");
        tell.say(match reactivated {
            Some(r) => format!(
                "  a dormant account alerted the run after it signed in, not at the next daily scan: {}",
                alert_line(r)
            ),
            None => "  NOT SHOWN: no reactivated dormant account".into(),
        });
        tell.say(format!(
            "  Graph pacing under Microsoft's published limits waited {} s on the emulator's clock",
            waits.waited().as_secs()
        ));
        tell.say("");
        let inventory = demo.inventory().await?;
        tell.say(format!(
            "last: {}",
            super::inventory::summary_line(&config.tenants[0].name, &inventory)
        ));
        tell.say(format!(
            "  open {} in a browser (one self-contained file: counts, a chart, the most notable identities first); \
             `entrawatch inventory --format csv` or `--format json` gives every row",
            inventory.path.display()
        ));
        let failed = first.failed() || second.failed() || third.failed();
        let missing =
            digest.is_none() || credential.is_none() || reactivated.is_none() || posture.is_none();
        anyhow::Ok(failed || !late_once || missing || file.written != file.distinct)
    }
    .await;
    emulator.stop().await;
    if result? {
        anyhow::bail!("demo: a run did not do what the demo shows; see above");
    }
    tell.say("");
    tell.say(format!(
        "next: watch your own tenant. Copy the commented template {TEMPLATE} (in the repository root) to \
         entrawatch.toml, fill in your tenant, then:"
    ));
    tell.say("  cargo install --locked --path functions/cli     # the entrawatch binary, built for production");
    tell.say("  entrawatch config check --config entrawatch.toml   # every permission, licence and sink, by name");
    tell.say("  entrawatch run all --config entrawatch.toml");
    tell.say(format!(
        "demo done in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(ExitCode::SUCCESS)
}

/// What every demo run shares.
struct Demo<'a> {
    config: &'a Config,
    resolver: &'a SecretResolver,
    emulator: &'a Emulator,
    waits: Arc<EmulatedWaits>,
}

impl Demo<'_> {
    async fn run(&self, jobs: &[JobName]) -> anyhow::Result<RunSummary> {
        let http = http_client().map_err(anyhow::Error::msg)?;
        let sinks = build_sinks(&self.config.sinks, self.resolver, &http).await;
        let stores = Stores::open(&self.config.state).await?;
        Ok(run_jobs(JobRun {
            config: self.config,
            jobs,
            tenants: None,
            stores,
            resolver: self.resolver,
            sinks,
            // The emulator's clock, so the demo can move time forward.
            now: self.emulator.clock().now(),
            owner: super::run::run_owner("demo"),
            deadline: Duration::from_secs(300),
            graph_options: ClientOptions {
                clock: self.waits.clone(),
                ..ClientOptions::default()
            },
        })
        .await)
    }
}

impl Demo<'_> {
    /// The sample tenant's inventory, with the findings the runs recorded, as HTML in a directory the demo leaves
    /// behind (`<temp>/entrawatch-demo-inventory/`), so the file can be opened after the demo.
    async fn inventory(&self) -> anyhow::Result<super::inventory::Written> {
        let dir = std::env::temp_dir().join("entrawatch-demo-inventory");
        std::fs::create_dir_all(&dir)?;
        let tenant = &self.config.tenants[0];
        let path = dir.join(super::inventory::default_path(&tenant.name, Format::Html));
        let request = super::inventory::Request {
            format: Format::Html,
            path: &path,
            options: ClientOptions {
                clock: self.waits.clone(),
                ..ClientOptions::default()
            },
            progress: Progress::none(),
            now: self.emulator.clock().now(),
        };
        super::inventory::write_for_tenant(self.config, tenant, self.resolver, request).await
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
