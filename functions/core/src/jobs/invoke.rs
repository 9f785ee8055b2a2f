//! One scheduled Lambda invocation as a plain async function (the Lambda binaries only add the
//! runtime): configuration per invocation, so a changed SSM parameter takes effect on the next
//! run; the AWS SDK configuration and HTTP client built once per cold start.

use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use chrono::Utc;
use serde_json::Value;

use super::scheduled::{emf_line, ConfigSource, ScheduledError, ScheduledInput, TABLE_ENV};
use super::{run_jobs, JobRun, RunSummary};
use crate::config::StateBackend;
use crate::secrets::SecretResolver;
use crate::sinks::build_sinks;
use crate::state::dynamodb::DynamoStore;
use crate::state::{StateError, Stores};

/// What a warm function keeps between invocations.
pub struct ScheduledFunction {
    source: ConfigSource,
    table: Option<String>,
    sdk: SdkConfig,
    http: reqwest::Client,
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
            InvocationError::Run { retryable, .. } => *retryable,
        }
    }
}

impl ScheduledFunction {
    /// Reads the environment once per cold start.
    pub fn new(sdk: SdkConfig, http: reqwest::Client) -> Result<ScheduledFunction, ScheduledError> {
        let var = |k: &str| std::env::var(k).ok();
        Ok(ScheduledFunction {
            source: ConfigSource::from_env(var)?,
            table: var(TABLE_ENV),
            sdk,
            http,
        })
    }

    pub fn with_source(mut self, source: ConfigSource, table: Option<String>) -> Self {
        self.source = source;
        self.table = table;
        self
    }

    /// Runs the jobs the input names for every tenant, delivers, prints one EMF line per job,
    /// and returns the run summary as JSON. `budget` is the time left before the Lambda deadline.
    pub async fn invoke(
        &self,
        payload: &Value,
        request_id: &str,
        budget: Duration,
    ) -> InvocationResult {
        let started = Instant::now();
        let input = ScheduledInput::parse(payload)?;
        let jobs = input.jobs()?;
        // A resolver per invocation: secrets (and the configuration) are read once per run and
        // rotations are picked up by the next run.
        let resolver = SecretResolver::with_sdk_config(self.sdk.clone());
        let config = self.source.load(&resolver, self.table.clone()).await?;
        let stores = match config.state.backend {
            StateBackend::Dynamodb => {
                let table = config.state.table.clone().unwrap_or_default();
                Stores::new(DynamoStore::from_sdk_config(&self.sdk, table))
            }
            StateBackend::Sqlite => Stores::open(&config.state).await?,
        };
        let sinks = build_sinks(&config.sinks, &resolver, &self.http)
            .await
            .map_err(|e| InvocationError::Sinks(e.to_string()))?;
        // Leave time to record, deliver and report after the jobs' Graph budget runs out.
        let deadline = budget
            .saturating_sub(Duration::from_secs(20))
            .max(Duration::from_secs(5));
        let summary = run_jobs(JobRun {
            config: &config,
            jobs: &jobs,
            stores,
            resolver: &resolver,
            sinks,
            now: Utc::now(),
            owner: format!("lambda-{request_id}"),
            deadline,
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
        outcome(&summary)
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
            super::TenantJobOutcome::Failed { error, retryable } => {
                Some((error.as_str(), *retryable))
            }
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
