//! Runs the configured jobs for every tenant, each under its per-tenant lease, and delivers what
//! they record as they go. The CLI's `entrawatch run` and the scheduled Lambda functions both
//! call [`run_jobs`]; only how they build sinks, stores and `now` differs.
//!
//! The jobs run one after the other, each across every tenant (break-glass for all tenants first), and
//! one time budget covers the whole run: up to [`TENANTS_AT_ONCE`] tenants run side by side, each job gets what is left of the budget (less a reserve for the last
//! delivery), a job that would not fit is not started and is reported as retryable, and the outbox
//! is dispatched after every (tenant, job), so a throttled tenant never holds back another
//! tenant's critical alert.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::Mutex;

use super::run_delivery::{Budget, Delivery};
use super::summary::{OverdueAlert, SinkDown};
use super::tenant_run::{run_tenant_job, JobOutputs, TenantClient};
use super::{dormant, JobName, RunSummary, TenantJobOutcome, TenantJobResult};
use crate::config::{Config, TenantConfig};
use crate::graph::ClientOptions;
use crate::outbox::{record_heartbeats, DispatchReport, Dispatcher, Outbox, RetryPolicy};
use crate::progress::{Extent, Progress};
use crate::secrets::SecretResolver;
use crate::sinks::Sink;
use crate::state::Stores;

/// Tenants whose jobs run at the same time in one run.
pub const TENANTS_AT_ONCE: usize = 4;
/// Overdue alerts listed at most per run (the count in the metric saturates here).
const OVERDUE_LISTED: usize = 100;

/// The inputs of one `run`.
pub struct JobRun<'a> {
    pub config: &'a Config,
    pub jobs: &'a [JobName],
    /// The tenants to run, each named by id or name; `None` runs every configured tenant (a
    /// fan-out worker runs the one tenant its message names).
    pub tenants: Option<Vec<String>>,
    pub stores: Stores,
    pub resolver: &'a SecretResolver,
    /// Every configured sink; one that could not be built is in the list as unavailable.
    pub sinks: Vec<Arc<dyn Sink>>,
    pub now: DateTime<Utc>,
    /// Names this run in leases and delivery claims: unique per host, process and run.
    pub owner: String,
    /// Time budget of the whole run, jobs and delivery: waits past it fail rather than hang.
    pub deadline: Duration,
    /// How each tenant's Graph client behaves; `ClientOptions::default()` everywhere but the demo.
    pub graph_options: ClientOptions,
}

/// Runs `run.jobs` for every selected tenant that configures them, delivering after each.
pub async fn run_jobs(run: JobRun<'_>) -> RunSummary {
    run_jobs_with(run, Progress::none()).await
}

/// [`run_jobs`], reporting to `progress`: the tenants done of all when the run covers several, and each job's
/// own long work (a dormant scan).
pub async fn run_jobs_with(run: JobRun<'_>, progress: Progress) -> RunSummary {
    let budget = Budget {
        started: Instant::now(),
        start: run.now.timestamp(),
        total: run.deadline,
    };
    let outbox = Outbox::from_config(run.stores.outbox.clone(), &run.config.sinks);
    let delivery = Delivery {
        dispatcher: Dispatcher::new(
            run.stores.outbox.clone(),
            run.stores.cursors.clone(),
            outbox.clone(),
            run.sinks.clone(),
            RetryPolicy::default(),
        )
        .with_owner(run.owner.clone()),
        report: Mutex::new((DispatchReport::default(), None)),
        again: AtomicBool::new(false),
    };
    let names: Vec<String> = run.sinks.iter().map(|s| s.name().to_string()).collect();
    let every = run.config.delivery.heartbeat_days;
    let heartbeats = match record_heartbeats(&outbox, &names, every, budget.now()).await {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "heartbeats could not be recorded");
            0
        }
    };
    let selected: Vec<&TenantConfig> = run
        .config
        .tenants
        .iter()
        .filter(|t| match &run.tenants {
            None => true,
            Some(names) => names.iter().any(|n| selects(n, t)),
        })
        .collect();
    // Dormant scans share the app's signInActivity budget: the oldest scan goes first (a run with more tenants
    // than it runs at once may not reach the last ones before its share of the budget is spent).
    let selected = if run.jobs.contains(&JobName::Dormant) && selected.len() > TENANTS_AT_ONCE {
        dormant::schedule::oldest_first(run.stores.cursors.as_ref(), selected).await
    } else {
        selected
    };
    // Each (tenant, job) a visit: jobs run one after the other across every tenant (break-glass for all, then
    // the watches, ...), so a slow job of one tenant never delays another tenant's emergency-account read, and a
    // tenant's later job finds its per-tenant Graph window (5 reports requests per 10 s) cleared by the time the
    // other tenants' earlier job has run.
    let visits = selected.len() * run.jobs.len();
    let tenants_done = (selected.len() > 1).then(|| {
        let jobs: Vec<&str> = run.jobs.iter().map(|j| j.as_str()).collect();
        let unit = if run.jobs.len() == 1 {
            "tenants"
        } else {
            "tenant jobs"
        };
        progress.start(
            format!("run {}", jobs.join(", ")),
            unit,
            Extent::Exact(visits as u64),
        )
    });
    let outputs = JobOutputs {
        outbox,
        progress,
        started_ms: crate::graph::wall_epoch_ms(),
    };
    // One Graph client per tenant for the whole run, built on first use: its jobs share token and pacing.
    let clients: Vec<Mutex<TenantClient>> = selected
        .iter()
        .map(|_| Mutex::new(TenantClient::default()))
        .collect();
    let mut per_tenant: Vec<(usize, usize, TenantJobResult)> = Vec::new();
    for (j, &job) in run.jobs.iter().enumerate() {
        // Futures built in a loop, not by a closure over references, so the run stays `Send` for callers that
        // spawn it.
        let mut visits = Vec::new();
        for (i, tenant) in selected.iter().enumerate() {
            let visit = Visit {
                index: i,
                job,
                tenant,
                client: &clients[i],
            };
            visits.push(run_tenant(&run, &outputs, &budget, &delivery, visit));
        }
        let done: Vec<Option<(usize, TenantJobResult)>> = futures::stream::iter(visits)
            .buffer_unordered(TENANTS_AT_ONCE)
            .inspect(|_| {
                if let Some(task) = &tenants_done {
                    task.advance(1);
                }
            })
            .collect()
            .await;
        per_tenant.extend(done.into_iter().flatten().map(|(i, r)| (i, j, r)));
    }
    if let Some(task) = tenants_done {
        task.finish();
    }
    // Reported tenant by tenant, each tenant's jobs in the run's order.
    per_tenant.sort_by_key(|(i, j, _)| (*i, *j));
    let results = per_tenant.into_iter().map(|(_, _, r)| r).collect();
    delivery.dispatch_last(&budget).await;
    finish(&run, &budget, delivery, results, heartbeats).await
}

/// One job of one tenant of the run.
struct Visit<'a> {
    /// The tenant's place in the run, for the summary's order.
    index: usize,
    job: JobName,
    tenant: &'a TenantConfig,
    client: &'a Mutex<TenantClient>,
}

/// The visit's job, if its tenant configures it, followed by a delivery.
async fn run_tenant(
    run: &JobRun<'_>,
    outputs: &JobOutputs,
    budget: &Budget,
    delivery: &Delivery,
    visit: Visit<'_>,
) -> Option<(usize, TenantJobResult)> {
    let (job, tenant) = (visit.job, visit.tenant);
    if !configures(tenant, job) {
        return None;
    }
    let mut client = visit.client.lock().await;
    let result = match budget.for_job() {
        Some(time) => run_tenant_job(run, outputs, tenant, job, &mut client, time).await,
        None => not_started(tenant, job, budget),
    };
    delivery.dispatch(budget).await;
    Some((visit.index, result))
}

fn not_started(tenant: &TenantConfig, job: JobName, budget: &Budget) -> TenantJobResult {
    let error = format!(
        "tenant {}: {} not started: {}s of this run's {}s budget were left, too little to finish; the next run takes it",
        tenant.name,
        job.as_str(),
        budget.left().as_secs(),
        budget.total.as_secs()
    );
    tracing::warn!(tenant = %tenant.name, job = job.as_str(), "{error}");
    TenantJobResult {
        tenant: tenant.name.clone(),
        job: job.as_str(),
        outcome: TenantJobOutcome::Failed {
            error,
            retryable: true,
        },
        graph_requests: 0,
        graph_throttled: 0,
        graph_retries: 0,
    }
}

/// The delivery side of the summary: what was sent, which sinks are down, what is overdue.
async fn finish(
    run: &JobRun<'_>,
    budget: &Budget,
    delivery: Delivery,
    results: Vec<TenantJobResult>,
    heartbeats_recorded: usize,
) -> RunSummary {
    let (dispatch, mut dispatch_error) = delivery.report.into_inner();
    let now = budget.now();
    let cutoff = now - 60 * i64::from(run.config.delivery.overdue_minutes);
    let (overdue, oldest_pending_age_secs) = match run
        .stores
        .outbox
        .pending_report(cutoff, OVERDUE_LISTED)
        .await
    {
        Ok(p) => (
            p.undelivered
                .iter()
                .map(|u| OverdueAlert::from_undelivered(u, now))
                .collect::<Vec<_>>(),
            p.oldest_recorded_at.map_or(0, |t| (now - t).max(0)),
        ),
        Err(e) => {
            dispatch_error.get_or_insert(format!("pending deliveries unreadable: {e}"));
            (Vec::new(), 0)
        }
    };
    for o in &overdue {
        tracing::error!(alert_id = %o.alert_id, alert_type = %o.alert_type, waiting_minutes = o.waiting_minutes, sinks = ?o.failing_sinks.iter().map(|(s, _)| s).collect::<Vec<_>>(), "alert overdue: it has reached no sink");
    }
    RunSummary {
        results,
        delivered: dispatch.delivered.len(),
        delivery_retries: dispatch.retried,
        delivery_failed: dispatch.failed,
        delivery_claims_lost: dispatch.claims_lost,
        heartbeats_recorded,
        unavailable_sinks: run
            .sinks
            .iter()
            .filter_map(|s| {
                Some(SinkDown {
                    sink: s.name().to_string(),
                    reason: s.unavailable()?.to_string(),
                })
            })
            .collect(),
        overdue,
        oldest_pending_age_secs,
        dispatch: Some(dispatch),
        dispatch_error,
    }
}

/// Whether `selector` (a tenant id, compared without regard to case, or a tenant name) names `tenant`.
/// Public so the Lambda fan-out (`entrawatch-lambda`) checks a message's tenant as a run selects it.
pub fn selects(selector: &str, tenant: &TenantConfig) -> bool {
    tenant.id.eq_ignore_ascii_case(selector) || tenant.name == selector
}

/// Whether `tenant` has a section for `job` (a tenant without one is not run for it). Public so the
/// Lambda fan-out (`entrawatch-lambda`) queues a message only for a (tenant, job) a run would run.
pub fn configures(tenant: &TenantConfig, job: JobName) -> bool {
    match job {
        JobName::BreakGlass => tenant.break_glass.is_some(),
        JobName::Dormant => tenant.dormant.is_some(),
        JobName::Workloads => tenant.workloads.is_some(),
        JobName::Watch => tenant.dormant.is_some() || tenant.workloads.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_is_selected_by_its_id_in_any_case_or_by_its_exact_name() {
        let config = Config::from_toml_str(
            r#"
[[tenants]]
name = "contoso"
id = "11111111-2222-3333-4444-55555555aaaa"
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
credential = { type = "secret", secret = "env:X" }
"#,
            "test.toml",
        )
        .unwrap();
        let tenant = &config.tenants[0];
        assert!(selects("11111111-2222-3333-4444-55555555aaaa", tenant));
        assert!(selects("11111111-2222-3333-4444-55555555AAAA", tenant));
        assert!(selects("contoso", tenant));
        assert!(!selects("Contoso", tenant), "names are exact");
        assert!(!selects("fabrikam", tenant));
        assert!(!configures(tenant, JobName::BreakGlass));
        assert!(!configures(tenant, JobName::Dormant));
        assert!(!configures(tenant, JobName::Workloads));
        assert!(!configures(tenant, JobName::Watch));
    }
}

#[cfg(test)]
#[path = "runner_progress_tests.rs"]
mod progress_tests;
