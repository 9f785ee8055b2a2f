//! One (tenant, job) of a run: the lease, the tenant's Graph client, the job itself.

use std::sync::Arc;
use std::time::Duration;

use super::overlap;
use super::runner::JobRun;
use super::{break_glass, dormant, watch, workloads, JobContext, JobError, JobName, JobReport};
use super::{TenantJobOutcome, TenantJobResult};
use crate::alert::TenantRef;
use crate::config::TenantConfig;
use crate::graph::{
    GraphClient, GraphMetrics, GraphPort, SharedBudget, TenantLabel, UnavailableGraph,
};
use crate::outbox::Outbox;
use crate::progress::Progress;
use crate::state::StateError;

/// Where the jobs of a run put what they produce besides their report: alerts, and progress for whoever
/// watches.
pub(super) struct JobOutputs {
    pub outbox: Outbox,
    pub progress: Progress,
    /// When the run started, wall clock epoch ms: a job another run finished after it is not repeated.
    pub started_ms: i64,
}

/// The tenant's Graph client, shared by its jobs in this run (token and pacing), built on first
/// use. A credential that cannot be resolved or used gives every job an [`UnavailableGraph`]:
/// the job runs and fails the way a rejected credential fails (break-glass raises
/// `monitoring.blind`), instead of the run failing before the job.
#[derive(Default)]
pub(super) struct TenantClient(Option<Result<GraphClient, String>>);

impl TenantClient {
    async fn get(
        &mut self,
        run: &JobRun<'_>,
        tenant: &TenantConfig,
    ) -> Result<GraphClient, String> {
        if let Some(built) = &self.0 {
            return built.clone();
        }
        let built = match tenant.connection(run.resolver).await {
            Ok(connection) => {
                let mut options = run.graph_options.clone();
                // Every run draws on the app's budget in the state store, shared with every other process.
                options.shared_budget.get_or_insert_with(|| {
                    SharedBudget::new(run.stores.budget.clone(), run.config.graph.shared_limits())
                });
                GraphClient::new(connection, options).map_err(|e| e.to_string())
            }
            Err(crate::config::ConnectError::Secret { source, .. }) => {
                Err(format!("the credential cannot be resolved: {source}"))
            }
        };
        self.0 = Some(built.clone());
        built
    }
}

pub(super) async fn run_tenant_job(
    run: &JobRun<'_>,
    outputs: &JobOutputs,
    tenant: &TenantConfig,
    job: JobName,
    client: &mut TenantClient,
    time: Duration,
) -> TenantJobResult {
    let mut metrics = GraphMetrics::default();
    let outcome = match run_leased(run, outputs, tenant, job, client, time, &mut metrics).await {
        Ok(Leased::Ran(report)) => TenantJobOutcome::Done { report },
        Ok(Leased::DoneByAnother(reason)) => TenantJobOutcome::Skipped { reason },
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

/// What a (tenant, job) under its lease came to.
enum Leased {
    Ran(JobReport),
    /// Another run finished it while this one was under way (see [`overlap`]).
    DoneByAnother(String),
}

async fn run_leased(
    run: &JobRun<'_>,
    outputs: &JobOutputs,
    tenant: &TenantConfig,
    job: JobName,
    client: &mut TenantClient,
    time: Duration,
    metrics: &mut GraphMetrics,
) -> Result<Leased, JobError> {
    let now = run.now.timestamp();
    // The lease outlives the job's time a little so a job that hits its deadline still owns it
    // while it stops; a crashed run's lease simply expires.
    let ttl = time.as_secs() as i64 + 60;
    run.stores
        .leases
        .acquire_lease(&tenant.id, job.as_str(), &run.owner, now, ttl)
        .await?;
    let cursors = run.stores.cursors.as_ref();
    let result = match overlap::done_by_another(
        cursors,
        &tenant.id,
        job,
        &run.owner,
        now,
        outputs.started_ms,
    )
    .await
    {
        Ok(Some(reason)) => {
            let reason = format!("{} of tenant {}: {reason}", job.as_str(), tenant.name);
            tracing::info!(tenant = %tenant.name, job = job.as_str(), "{reason}");
            Ok(Leased::DoneByAnother(reason))
        }
        Ok(None) | Err(_) => {
            let result = run_job(run, outputs, tenant, job, client, time, metrics).await;
            if result.is_ok() {
                let finished = overlap::Finished {
                    now,
                    finished_ms: crate::graph::wall_epoch_ms(),
                    owner: run.owner.clone(),
                };
                if let Err(e) = overlap::mark_finished(cursors, &tenant.id, job, &finished).await {
                    tracing::warn!(tenant = %tenant.name, error = %e, "could not mark the job finished; an overlapping run may repeat it");
                }
            }
            result.map(Leased::Ran)
        }
    };
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
    outputs: &JobOutputs,
    tenant: &TenantConfig,
    job: JobName,
    client: &mut TenantClient,
    time: Duration,
    metrics: &mut GraphMetrics,
) -> Result<JobReport, JobError> {
    let (graph, job_client): (Arc<dyn GraphPort>, Option<GraphClient>) = match client
        .get(run, tenant)
        .await
    {
        Ok(shared) => {
            // Break-glass reads are the ones that must get through when Graph is busy
            // (REFERENCE.md §2; Graph docs `throttling.md`, x-ms-throttle-priority).
            let c = shared.for_job(job == JobName::BreakGlass, time);
            (Arc::new(c.clone()), Some(c))
        }
        Err(reason) => {
            tracing::error!(tenant = %tenant.name, error = %reason, "the tenant's credential cannot be used");
            let label = TenantLabel {
                name: tenant.name.clone(),
                id: tenant.id.clone(),
            };
            (Arc::new(UnavailableGraph::new(label, reason)), None)
        }
    };
    let ctx = JobContext {
        tenant: TenantRef {
            id: tenant.id.clone(),
            name: tenant.name.clone(),
        },
        graph,
        stores: run.stores.clone(),
        outbox: outputs.outbox.clone(),
        now: run.now,
        progress: outputs.progress.clone(),
    };
    let result = match job {
        JobName::BreakGlass => {
            let cfg = tenant.break_glass.as_ref().expect("checked by configures");
            // The app's signInActivity budget is shared by all its tenants: each looks its accounts up (and
            // reconciles them with the logs) in turn.
            let on_app = run
                .config
                .tenants
                .iter()
                .filter(|t| {
                    t.break_glass.is_some() && t.client_id.eq_ignore_ascii_case(&tenant.client_id)
                })
                .count();
            let every = break_glass::lookup_every(
                run.config.graph.sign_in_activity_per_minute,
                on_app,
                cfg.accounts.len(),
            );
            break_glass::run_with(&ctx, cfg, every).await
        }
        JobName::Dormant => {
            let cfg = tenant.dormant.as_ref().expect("checked by configures");
            let break_glass = tenant
                .break_glass
                .as_ref()
                .map(|b| b.accounts.clone())
                .unwrap_or_default();
            // Stops at a checkpoint before the deadline, or once it has spent its fair share of the app's
            // signInActivity budget for this run; the next run continues the scan.
            let mut budget = dormant::DormantOptions::within(time);
            budget.sign_in_activity_share = Some(dormant::schedule::fair_share(
                run.config.graph.sign_in_activity_per_minute,
                time,
                dormant::schedule::scans_on_app(run.config, tenant),
            ));
            dormant::run_with(&ctx, cfg, &break_glass, &budget).await
        }
        JobName::Workloads => {
            let cfg = tenant.workloads.as_ref().expect("checked by configures");
            workloads::run(&ctx, cfg).await
        }
        JobName::Watch => watch::run(&ctx, tenant).await,
    };
    if let Some(c) = job_client {
        *metrics = c.metrics();
    }
    result
}
