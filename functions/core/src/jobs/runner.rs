//! Runs the configured jobs for every tenant, each under its per-tenant lease, then delivers what
//! they recorded. The CLI's `entrawatch run` and the scheduled Lambda functions both call
//! [`run_jobs`]; only how they build sinks, stores and `now` differs.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{break_glass, dormant, JobContext, JobError, JobName, JobReport};
use crate::alert::TenantRef;
use crate::config::{Config, TenantConfig};
use crate::graph::{ClientOptions, GraphClient, GraphMetrics, GraphPort};
use crate::outbox::{DispatchReport, Dispatcher, Outbox, RetryPolicy};
use crate::secrets::SecretResolver;
use crate::sinks::Sink;
use crate::state::{StateError, Stores};

/// The inputs of one `run`.
pub struct JobRun<'a> {
    pub config: &'a Config,
    pub jobs: &'a [JobName],
    /// The tenants to run, each named by id or name; `None` runs every configured tenant (a
    /// fan-out worker runs the one tenant its message names).
    pub tenants: Option<Vec<String>>,
    pub stores: Stores,
    pub resolver: &'a SecretResolver,
    pub sinks: Vec<Arc<dyn Sink>>,
    pub now: DateTime<Utc>,
    /// Names this run in leases ("cli-<pid>", the Lambda request id).
    pub owner: String,
    /// Time budget of each (tenant, job): Graph waits past it fail rather than hang.
    pub deadline: Duration,
}

/// How one (tenant, job) ended.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum TenantJobOutcome {
    Done {
        report: JobReport,
    },
    /// Another run holds the lease: this one did nothing for the tenant and says so.
    Skipped {
        reason: String,
    },
    Failed {
        error: String,
        retryable: bool,
    },
}

#[derive(Debug, Serialize)]
pub struct TenantJobResult {
    pub tenant: String,
    pub job: &'static str,
    #[serde(flatten)]
    pub outcome: TenantJobOutcome,
    pub graph_requests: u64,
    pub graph_throttled: u64,
    pub graph_retries: u64,
}

/// Everything a run did.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    pub results: Vec<TenantJobResult>,
    pub delivered: usize,
    pub delivery_retries: usize,
    pub delivery_failed: usize,
    #[serde(skip)]
    pub dispatch: Option<DispatchReport>,
    /// Set when delivery itself could not run (the store failed).
    pub dispatch_error: Option<String>,
}

impl RunSummary {
    /// True when any (tenant, job) failed or delivery could not run: the process exits non-zero.
    pub fn failed(&self) -> bool {
        self.dispatch_error.is_some()
            || self
                .results
                .iter()
                .any(|r| matches!(r.outcome, TenantJobOutcome::Failed { .. }))
    }
}

/// Runs `run.jobs` for every selected tenant that configures them, then one dispatch of the outbox.
pub async fn run_jobs(run: JobRun<'_>) -> RunSummary {
    let outbox = Outbox::from_config(run.stores.outbox.clone(), &run.config.sinks);
    let mut results = Vec::new();
    let selected = run.config.tenants.iter().filter(|t| match &run.tenants {
        None => true,
        Some(names) => names.iter().any(|n| selects(n, t)),
    });
    for tenant in selected {
        // One Graph client per tenant, built on first use: its jobs share the token and pacing.
        let mut tenant_client = None;
        for &job in run.jobs {
            if !configures(tenant, job) {
                continue;
            }
            results.push(run_one(&run, &outbox, tenant, job, &mut tenant_client).await);
        }
    }
    let dispatcher = Dispatcher::new(
        run.stores.outbox.clone(),
        run.stores.cursors.clone(),
        outbox,
        run.sinks.clone(),
        RetryPolicy::default(),
    );
    let (dispatch, dispatch_error) = match dispatcher.dispatch(run.now.timestamp()).await {
        Ok(d) => (Some(d), None),
        Err(e) => (None, Some(e.to_string())),
    };
    RunSummary {
        delivered: dispatch.as_ref().map_or(0, |d| d.delivered.len()),
        delivery_retries: dispatch.as_ref().map_or(0, |d| d.retried),
        delivery_failed: dispatch.as_ref().map_or(0, |d| d.failed),
        dispatch,
        dispatch_error,
        results,
    }
}

/// Whether `selector` (a tenant id, compared without regard to case, or a tenant name) names `tenant`.
pub fn selects(selector: &str, tenant: &TenantConfig) -> bool {
    tenant.id.eq_ignore_ascii_case(selector) || tenant.name == selector
}

/// Whether `tenant` has a section for `job` (a tenant without one is not run for it).
pub fn configures(tenant: &TenantConfig, job: JobName) -> bool {
    match job {
        JobName::BreakGlass => tenant.break_glass.is_some(),
        JobName::Dormant => tenant.dormant.is_some(),
    }
}

async fn run_one(
    run: &JobRun<'_>,
    outbox: &Outbox,
    tenant: &TenantConfig,
    job: JobName,
    tenant_client: &mut Option<GraphClient>,
) -> TenantJobResult {
    let mut metrics = GraphMetrics::default();
    let outcome = match run_leased(run, outbox, tenant, job, tenant_client, &mut metrics).await {
        Ok(report) => TenantJobOutcome::Done { report },
        Err(JobError::State(StateError::LeaseHeld { holder, until })) => {
            let reason = format!(
                "another run ({holder}) holds the {} lease of tenant {} until {until}; skipped",
                job.as_str(),
                tenant.name
            );
            tracing::info!(tenant = %tenant.name, job = job.as_str(), "{reason}");
            TenantJobOutcome::Skipped { reason }
        }
        Err(e) => {
            tracing::error!(tenant = %tenant.name, job = job.as_str(), error = %e, "job failed");
            TenantJobOutcome::Failed {
                retryable: e.is_retryable(),
                error: e.to_string(),
            }
        }
    };
    TenantJobResult {
        tenant: tenant.name.clone(),
        job: job.as_str(),
        outcome,
        graph_requests: metrics.requests,
        graph_throttled: metrics.throttled_429,
        graph_retries: metrics.retries,
    }
}

async fn run_leased(
    run: &JobRun<'_>,
    outbox: &Outbox,
    tenant: &TenantConfig,
    job: JobName,
    tenant_client: &mut Option<GraphClient>,
    metrics: &mut GraphMetrics,
) -> Result<JobReport, JobError> {
    let now = run.now.timestamp();
    // The lease outlives the deadline a little so a run that hits its deadline still owns it
    // while it stops; a crashed run's lease simply expires.
    let ttl = run.deadline.as_secs() as i64 + 60;
    run.stores
        .leases
        .acquire_lease(&tenant.id, job.as_str(), &run.owner, now, ttl)
        .await?;
    let result = run_job(run, outbox, tenant, job, tenant_client, metrics).await;
    if let Err(e) = run
        .stores
        .leases
        .release_lease(&tenant.id, job.as_str(), &run.owner)
        .await
    {
        tracing::warn!(tenant = %tenant.name, error = %e, "could not release the lease; it expires on its own");
    }
    result
}

async fn run_job(
    run: &JobRun<'_>,
    outbox: &Outbox,
    tenant: &TenantConfig,
    job: JobName,
    tenant_client: &mut Option<GraphClient>,
    metrics: &mut GraphMetrics,
) -> Result<JobReport, JobError> {
    let shared = match tenant_client {
        Some(c) => c.clone(),
        None => {
            let connection = tenant
                .connection(run.resolver)
                .await
                .map_err(|e| JobError::Config(e.to_string()))?;
            let c = GraphClient::new(connection, ClientOptions::default())?;
            *tenant_client = Some(c.clone());
            c
        }
    };
    // Break-glass reads are the ones that must get through when Graph is busy
    // (REFERENCE.md §2; Graph docs `throttling.md`, x-ms-throttle-priority).
    let client = Arc::new(shared.for_job(job == JobName::BreakGlass, run.deadline));
    let ctx = JobContext {
        tenant: TenantRef {
            id: tenant.id.clone(),
            name: tenant.name.clone(),
        },
        graph: client.clone() as Arc<dyn GraphPort>,
        stores: run.stores.clone(),
        outbox: outbox.clone(),
        now: run.now,
    };
    let result = match job {
        JobName::BreakGlass => {
            let cfg = tenant.break_glass.as_ref().expect("checked by configures");
            break_glass::run(&ctx, cfg).await
        }
        JobName::Dormant => {
            let cfg = tenant.dormant.as_ref().expect("checked by configures");
            let break_glass = tenant
                .break_glass
                .as_ref()
                .map(|b| b.accounts.clone())
                .unwrap_or_default();
            // Stops at a checkpoint before the deadline; the next run continues the scan.
            let budget = dormant::DormantOptions::within(run.deadline);
            dormant::run_with(&ctx, cfg, &break_glass, &budget).await
        }
    };
    *metrics = client.metrics();
    result
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
    }
}
