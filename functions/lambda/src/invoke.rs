//! One scheduled Lambda invocation as a plain async function (the Lambda binaries only add the
//! runtime): configuration per invocation, so a changed SSM parameter takes effect on the next
//! run; the AWS SDK configuration and HTTP client built once per cold start. The same function
//! fans tenants out to SQS and works through the queue's messages when so configured
//! (`fanout.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use chrono::Utc;
use entrawatch_core::config::{Config, StateBackend};
use entrawatch_core::jobs::{run_jobs, selects, JobName, JobRun, RunSummary, TenantJobOutcome};
use entrawatch_core::secrets::SecretResolver;
use entrawatch_core::sinks::{build_sinks, Sink};
use entrawatch_core::state::dynamodb::DynamoStore;
use entrawatch_core::state::{StateError, Stores};
use serde_json::{json, Value};

use crate::emf::emf_line;
use crate::fanout::{self, BatchResponse, RecordFate, SqsEvent, FANOUT_QUEUE_ENV};
use crate::scheduled::{ConfigSource, ScheduledError, ScheduledInput, TABLE_ENV};

/// What a warm function keeps between invocations.
pub struct ScheduledFunction {
    source: ConfigSource,
    table: Option<String>,
    sdk: SdkConfig,
    http: reqwest::Client,
    /// The fan-out queue and its client, when [`FANOUT_QUEUE_ENV`] is set.
    fanout: Option<(aws_sdk_sqs::Client, String)>,
}

/// How an invocation ended, for the runtime: `Ok` is reported as success; `Err` as a function
/// error (the Errors alarm fires; asynchronous invocations are retried, then dead-lettered).
pub type InvocationResult = Result<Value, InvocationError>;

#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    #[error(transparent)]
    Setup(#[from] ScheduledError),
    #[error("state store: {0}")]
    State(#[from] StateError),
    #[error("sinks: {0}")]
    Sinks(String),
    /// The fan-out could not queue every tenant's message (retryable: duplicates are harmless).
    #[error("fan-out: {0}")]
    FanOut(#[from] fanout::FanOutError),
    /// At least one (tenant, job) failed; the summary says which and why.
    #[error("{failed} of {total} tenant job(s) failed: {first}")]
    Run {
        failed: usize,
        total: usize,
        first: String,
        retryable: bool,
    },
}

impl InvocationError {
    /// Whether invoking again may succeed (throttling, outages) or a person must act first.
    pub fn is_retryable(&self) -> bool {
        match self {
            InvocationError::Setup(_) | InvocationError::Sinks(_) => false,
            InvocationError::State(StateError::LeaseHeld { .. }) => false,
            InvocationError::State(_) => true,
            InvocationError::FanOut(_) => true,
            InvocationError::Run { retryable, .. } => *retryable,
        }
    }
}

/// A worker needs at least this much of the invocation left to start a tenant; a record it
/// cannot start goes back to the queue.
const RECORD_BUDGET_MIN: Duration = Duration::from_secs(60);

/// The configuration, stores and sinks one invocation works with.
struct Prepared {
    resolver: SecretResolver,
    config: Config,
    stores: Stores,
    sinks: Vec<Arc<dyn Sink>>,
}

impl ScheduledFunction {
    /// Reads the environment once per cold start.
    pub fn new(sdk: SdkConfig, http: reqwest::Client) -> Result<ScheduledFunction, ScheduledError> {
        let var = |k: &str| std::env::var(k).ok();
        let queue = var(FANOUT_QUEUE_ENV).filter(|q| !q.trim().is_empty());
        Ok(
            ScheduledFunction::from_parts(sdk, http, ConfigSource::from_env(var)?, var(TABLE_ENV))
                .with_fanout_queue(queue),
        )
    }

    /// A function over an explicit configuration source and table (tests, other hosts).
    pub fn from_parts(
        sdk: SdkConfig,
        http: reqwest::Client,
        source: ConfigSource,
        table: Option<String>,
    ) -> ScheduledFunction {
        ScheduledFunction {
            source,
            table,
            sdk,
            http,
            fanout: None,
        }
    }

    /// With a queue URL, a scheduled invocation that names no tenant enqueues one message per
    /// tenant instead of running them.
    pub fn with_fanout_queue(mut self, queue_url: Option<String>) -> Self {
        self.fanout = queue_url.map(|url| (aws_sdk_sqs::Client::new(&self.sdk), url));
        self
    }

    /// Handles one event: an SQS batch of tenant messages (see [`ScheduledFunction::work`]), a
    /// schedule's input to fan out, or a schedule's input to run: the jobs it names for every
    /// tenant (or the one it names), then delivery, one EMF line per job and the run summary as
    /// JSON. `budget` is the time left before the Lambda deadline.
    pub async fn invoke(
        &self,
        payload: &Value,
        request_id: &str,
        budget: Duration,
    ) -> InvocationResult {
        if SqsEvent::is_sqs_event(payload) {
            return self.work(payload, request_id, budget).await;
        }
        let input = ScheduledInput::parse(payload)?;
        let jobs = input.jobs()?;
        let (resolver, config) = self.load().await?;
        if let (Some((sqs, queue)), None) = (&self.fanout, &input.tenant) {
            // The workers deliver; this invocation only names the work.
            let bodies = fanout::messages(&config, &jobs, Utc::now());
            let queued = fanout::enqueue(sqs, queue, &bodies).await?;
            tracing::info!(job = %input.job, queued, "tenants fanned out to the worker queue");
            return Ok(json!({"job": input.job, "fanned_out": queued}));
        }
        if let Some(tenant) = &input.tenant {
            if !config.tenants.iter().any(|t| selects(tenant, t)) {
                return Err(ScheduledError::Input(format!(
                    "tenant {tenant:?} is not in the configuration"
                ))
                .into());
            }
        }
        let prepared = self.prepare(resolver, config).await?;
        let owner = format!("lambda-{request_id}");
        let summary = self.run(&prepared, &input, &jobs, owner, budget).await;
        outcome(&summary)
    }

    /// A fan-out worker's invocation: runs each record's tenant job in turn (a tenant whose
    /// lease another worker holds is skipped cleanly), delivers, and answers with the records
    /// to deliver again (`{"batchItemFailures":[{"itemIdentifier": ...}]}`). A record that
    /// cannot be read or names a tenant no longer configured is logged and deleted.
    async fn work(&self, payload: &Value, request_id: &str, budget: Duration) -> InvocationResult {
        let started = Instant::now();
        let event: SqsEvent = serde_json::from_value(payload.clone())
            .map_err(|e| ScheduledError::Input(format!("SQS event: {e}")))?;
        let (resolver, config) = self.load().await?;
        let prepared = self.prepare(resolver, config).await?;
        let mut response = BatchResponse::default();
        for record in &event.records {
            let left = budget.saturating_sub(started.elapsed());
            if left < RECORD_BUDGET_MIN {
                tracing::warn!(message_id = %record.message_id, "no time left for this record; it returns to the queue");
                response.retry(&record.message_id);
                continue;
            }
            let (input, jobs) = match serde_json::from_str(&record.body)
                .map_err(|e| ScheduledError::Input(e.to_string()))
                .and_then(|body| ScheduledInput::parse(&body))
                .and_then(|input| input.jobs().map(|jobs| (input, jobs)))
            {
                Ok(parsed) => parsed,
                Err(e) => {
                    tracing::error!(message_id = %record.message_id, error = %e, "unreadable fan-out message dropped");
                    continue;
                }
            };
            let Some(tenant) = input.tenant.as_deref() else {
                tracing::error!(message_id = %record.message_id, "fan-out message names no tenant; dropped");
                continue;
            };
            if !prepared.config.tenants.iter().any(|t| selects(tenant, t)) {
                tracing::error!(message_id = %record.message_id, tenant, "tenant is no longer configured; message dropped");
                continue;
            }
            let owner = format!("lambda-{request_id}/{}", record.message_id);
            let summary = self.run(&prepared, &input, &jobs, owner, left).await;
            let fate = fanout::fate(&summary);
            tracing::info!(message_id = %record.message_id, message = input.id.as_deref().unwrap_or(""), tenant, fate = ?fate, "fan-out message handled");
            if fate == RecordFate::Retry {
                response.retry(&record.message_id);
            }
        }
        Ok(serde_json::to_value(&response).unwrap_or(Value::Null))
    }

    /// Loads the configuration (one read of the SSM parameter per invocation).
    async fn load(&self) -> Result<(SecretResolver, Config), InvocationError> {
        // A resolver per invocation: secrets (and the configuration) are read once per run and
        // rotations are picked up by the next run.
        let resolver = SecretResolver::with_sdk_config(self.sdk.clone());
        let config = self.source.load(&resolver, self.table.clone()).await?;
        Ok((resolver, config))
    }

    /// Opens the stores and builds the sinks the jobs record and deliver with.
    async fn prepare(
        &self,
        resolver: SecretResolver,
        config: Config,
    ) -> Result<Prepared, InvocationError> {
        let stores = match config.state.backend {
            StateBackend::Dynamodb => {
                let table = config.state.table.clone().unwrap_or_default();
                Stores::new(DynamoStore::from_sdk_config(&self.sdk, table))
            }
            StateBackend::Sqlite => Stores::open(&config.state).await?,
        };
        // A sink that cannot be built is down, not a reason to stop: the run reports it.
        let sinks = build_sinks(&config.sinks, &resolver, &self.http).await;
        Ok(Prepared {
            resolver,
            config,
            stores,
            sinks,
        })
    }

    /// Runs `jobs` for the input's tenant (or every tenant), delivers, and prints the EMF line.
    async fn run(
        &self,
        prepared: &Prepared,
        input: &ScheduledInput,
        jobs: &[JobName],
        owner: String,
        budget: Duration,
    ) -> RunSummary {
        let started = Instant::now();
        // The run shares this budget between its tenants and keeps the end of it for the last
        // delivery; a few seconds more for the report and the runtime's answer.
        let deadline = budget.saturating_sub(Duration::from_secs(5));
        let summary = run_jobs(JobRun {
            config: &prepared.config,
            jobs,
            tenants: input.tenant.clone().map(|t| vec![t]),
            stores: prepared.stores.clone(),
            resolver: &prepared.resolver,
            sinks: prepared.sinks.clone(),
            now: Utc::now(),
            owner,
            deadline,
            graph_options: Default::default(),
        })
        .await;
        println!(
            "{}",
            emf_line(
                &summary,
                &input.job,
                started.elapsed(),
                Utc::now().timestamp_millis()
            )
        );
        summary
    }
}

fn outcome(summary: &RunSummary) -> InvocationResult {
    let json = serde_json::to_value(summary).unwrap_or(Value::Null);
    if let Some(e) = &summary.dispatch_error {
        return Err(InvocationError::Sinks(format!(
            "delivery could not run: {e}"
        )));
    }
    let failed: Vec<(&str, bool)> = summary
        .results
        .iter()
        .filter_map(|r| match &r.outcome {
            TenantJobOutcome::Failed { error, retryable } => Some((error.as_str(), *retryable)),
            _ => None,
        })
        .collect();
    match failed.first() {
        None => Ok(json),
        Some((first, _)) => Err(InvocationError::Run {
            failed: failed.len(),
            total: summary.results.len(),
            first: first.to_string(),
            retryable: failed.iter().any(|(_, r)| *r),
        }),
    }
}
