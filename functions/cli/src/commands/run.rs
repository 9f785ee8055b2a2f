//! `entrawatch run break-glass|dormant|workloads|watch|all`: one run of the job(s) for every configured tenant,
//! delivering pending alerts as it goes (SPEC.md "CLI"). Exit 0 when every (tenant, job) ran or
//! was skipped because another run holds its lease and delivery is healthy; non-zero with one
//! line on stderr per problem otherwise: a failed tenant, a sink that cannot be built, an alert
//! that has reached no sink for `[delivery] overdue_minutes`.

use std::collections::HashSet;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use entrawatch_core::config::{Config, SinkType};
use entrawatch_core::jobs::{
    run_jobs_with, selects, JobName, JobRun, RunSummary, TenantJobOutcome, TenantJobResult,
};
use entrawatch_core::secrets::SecretResolver;
use entrawatch_core::sinks::{build_sinks, http_client};
use entrawatch_core::state::Stores;

use crate::progress::{through_console, Console};
use crate::{Job, OutputFormat};

/// A CLI run is bounded like a Lambda run: waits past this fail instead of hanging a cron job.
const DEADLINE: Duration = Duration::from_secs(600);

pub async fn run(
    path: &Path,
    job: Job,
    tenants: &[String],
    output: OutputFormat,
    console: &Console,
) -> anyhow::Result<ExitCode> {
    let resolver = SecretResolver::new();
    let config = Config::load(path, &resolver).await?;
    let tenants = selected_tenants(&config, tenants)?;
    let name = match job {
        Job::BreakGlass => "break-glass",
        Job::Dormant => "dormant",
        Job::Workloads => "workloads",
        Job::Watch => "watch",
        Job::All => "all",
    };
    let jobs = JobName::scheduled(name).expect("every CLI job names a schedule");
    let jobs: &[JobName] = &jobs;
    let http = http_client().map_err(anyhow::Error::msg)?;
    let sinks = build_sinks(&config.sinks, &resolver, &http).await;
    let sinks = through_console(sinks, &stdout_sinks(&config), console);
    let stores = Stores::open(&config.state).await?;
    let run = JobRun {
        config: &config,
        jobs,
        tenants,
        stores,
        resolver: &resolver,
        sinks,
        now: chrono::Utc::now(),
        owner: run_owner("cli"),
        deadline: DEADLINE,
        graph_options: Default::default(),
    };
    let summary = run_jobs_with(run, console.progress()).await;
    print_summary(&summary, output, &stdout_sinks(&config));
    finish(&summary)
}

/// The `--tenant` selectors, each checked against the configuration before anything runs: a name
/// that matches no tenant is a typo, and running the others would hide it. `None`: every tenant.
fn selected_tenants(config: &Config, selectors: &[String]) -> anyhow::Result<Option<Vec<String>>> {
    if selectors.is_empty() {
        return Ok(None);
    }
    for selector in selectors {
        if !config.tenants.iter().any(|t| selects(selector, t)) {
            anyhow::bail!(
                "run: --tenant {selector:?} is not a configured tenant (give its name exactly or its id)"
            );
        }
    }
    Ok(Some(selectors.to_vec()))
}

/// A lease and claim owner unique per host, process and run: `cli:<host>:<pid>:<random>` (a pid
/// alone repeats across hosts sharing a DynamoDB table, and across containers).
pub fn run_owner(kind: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{kind}:{host}:{}:{}", std::process::id(), &random[..12])
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
        say(result_line(r));
        if let TenantJobOutcome::Done { report } = &r.outcome {
            for note in &report.notes {
                say(format!("  {note}"));
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

/// One (tenant, job): what it examined and alerted, or why it was skipped or failed, and its Graph traffic.
pub fn result_line(r: &TenantJobResult) -> String {
    let graph = format!(
        "graph: {} requests, {} throttled, {} retries",
        r.graph_requests, r.graph_throttled, r.graph_retries
    );
    match &r.outcome {
        TenantJobOutcome::Done { report } => format!(
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
        ),
        TenantJobOutcome::Skipped { reason } => format!("{} {}: {reason}", r.tenant, r.job),
        TenantJobOutcome::Failed { error, .. } => {
            format!("{} {}: FAILED: {error}", r.tenant, r.job)
        }
    }
}

/// The run's exit: every problem on its own stderr line, then a non-zero exit if there was any.
fn finish(summary: &RunSummary) -> anyhow::Result<ExitCode> {
    let mut problems: Vec<String> = Vec::new();
    if let Some(e) = &summary.dispatch_error {
        problems.push(format!("delivery could not run: {e}"));
    }
    for r in &summary.results {
        if let TenantJobOutcome::Failed { error, .. } = &r.outcome {
            problems.push(format!("{} {}: {error}", r.tenant, r.job));
        }
    }
    problems.extend(summary.delivery_problems());
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        eprintln!("run: {p}");
    }
    anyhow::bail!("run: {} problem(s); see the lines above", problems.len())
}
