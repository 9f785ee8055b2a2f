//! `entrawatch run break-glass|dormant|all`: one run of the job(s) for every configured tenant,
//! then one delivery of pending alerts (SPEC.md "CLI"). Exit 0 when every (tenant, job) ran or
//! was skipped because another run holds its lease; non-zero with one line per failure otherwise.

use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use entrawatch_core::config::{Config, SinkType};
use entrawatch_core::jobs::{run_jobs, JobName, JobRun, RunSummary, TenantJobOutcome};
use entrawatch_core::secrets::SecretResolver;
use entrawatch_core::sinks::{build_sinks, http_client};
use entrawatch_core::state::Stores;

use crate::{Job, OutputFormat};

/// A CLI run is bounded like a Lambda run: waits past this fail instead of hanging a cron job.
const DEADLINE: Duration = Duration::from_secs(600);

pub async fn run(path: &Path, job: Job, output: OutputFormat) -> anyhow::Result<ExitCode> {
    let config = Config::from_file(path)?;
    let jobs: &[JobName] = match job {
        Job::BreakGlass => &[JobName::BreakGlass],
        Job::Dormant => &[JobName::Dormant],
        Job::All => &[JobName::BreakGlass, JobName::Dormant],
    };
    let resolver = SecretResolver::new();
    let sinks = build_sinks(&config.sinks, &resolver, &http_client()).await?;
    let stores = Stores::open(&config.state).await?;
    let summary = run_jobs(JobRun {
        config: &config,
        jobs,
        tenants: None,
        stores,
        resolver: &resolver,
        sinks,
        now: chrono::Utc::now(),
        owner: format!("cli-{}", std::process::id()),
        deadline: DEADLINE,
    })
    .await;
    print_summary(&summary, output, &stdout_sinks(&config));
    finish(&summary)
}

/// Sinks of type `stdout`: they already wrote their alerts to stdout as JSON lines.
pub fn stdout_sinks(config: &Config) -> Vec<String> {
    config
        .sinks
        .iter()
        .filter(|s| s.kind == SinkType::Stdout)
        .map(|s| s.name.clone())
        .collect()
}

/// Prints what happened: with `--output json` each delivered alert once as a JSON line on stdout
/// (unless a `stdout` sink already wrote it there) and the per-tenant lines on stderr; in text
/// mode everything on stdout.
pub fn print_summary(summary: &RunSummary, output: OutputFormat, stdout_sinks: &[String]) {
    let say = |line: String| match output {
        OutputFormat::Json => eprintln!("{line}"),
        OutputFormat::Text => println!("{line}"),
    };
    for r in &summary.results {
        let graph = format!(
            "graph: {} requests, {} throttled, {} retries",
            r.graph_requests, r.graph_throttled, r.graph_retries
        );
        match &r.outcome {
            TenantJobOutcome::Done { report } => {
                say(format!(
                    "{} {}: {} examined, {} new alert(s){}; {graph}",
                    r.tenant,
                    r.job,
                    report.examined,
                    report.alerts_recorded,
                    if report.complete {
                        ""
                    } else {
                        " (continues next run)"
                    }
                ));
                for note in &report.notes {
                    say(format!("  {note}"));
                }
            }
            TenantJobOutcome::Skipped { reason } => {
                say(format!("{} {}: {reason}", r.tenant, r.job))
            }
            TenantJobOutcome::Failed { error, .. } => {
                say(format!("{} {}: FAILED: {error}", r.tenant, r.job))
            }
        }
    }
    if let Some(d) = &summary.dispatch {
        let on_stdout: HashSet<&str> = d
            .delivered
            .iter()
            .filter(|(sink, _)| stdout_sinks.contains(sink))
            .map(|(_, a)| a.id.as_str())
            .collect();
        let mut printed = HashSet::new();
        for (sink, alert) in &d.delivered {
            match output {
                OutputFormat::Json => {
                    if !on_stdout.contains(alert.id.as_str()) && printed.insert(alert.id.as_str()) {
                        println!("{}", alert.to_json());
                    }
                }
                OutputFormat::Text => println!(
                    "alert -> {sink}: [{}] {} {}",
                    entrawatch_core::alert::severity_name(alert.severity),
                    alert.kind,
                    alert.title
                ),
            }
        }
    }
    say(format!(
        "delivery: {} sent, {} to retry, {} refused",
        summary.delivered, summary.delivery_retries, summary.delivery_failed
    ));
}

fn finish(summary: &RunSummary) -> anyhow::Result<ExitCode> {
    if let Some(e) = &summary.dispatch_error {
        anyhow::bail!("run: delivery could not run: {e}");
    }
    let failed: Vec<String> = summary
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            TenantJobOutcome::Failed { error, .. } => {
                Some(format!("{} {}: {error}", r.tenant, r.job))
            }
            _ => None,
        })
        .collect();
    if !failed.is_empty() {
        anyhow::bail!("run: {} job(s) failed: {}", failed.len(), failed.join("; "));
    }
    Ok(ExitCode::SUCCESS)
}
