//! The detection jobs: pure use cases over the Graph port, the state store and `now`. Each job is
//! a plain async function of a [`JobContext`] and its section of the tenant's configuration, so the
//! CLI (`entrawatch run`), the Lambda handlers and the tests all call the same code.

pub mod break_glass;
pub mod dormant;
mod overlap;
mod run_delivery;
mod runner;
mod summary;
mod tenant_run;
mod watch;
pub mod workloads;

pub use run_delivery::{DELIVERY_RESERVE, MIN_JOB_TIME};
pub use runner::{configures, run_jobs, run_jobs_with, selects, JobRun, TENANTS_AT_ONCE};
pub use summary::{OverdueAlert, RunSummary, SinkDown, TenantJobOutcome, TenantJobResult};

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::alert::TenantRef;
use crate::graph::{GraphError, GraphPort};
use crate::outbox::Outbox;
use crate::progress::Progress;
use crate::state::{StateError, Stores};

/// The jobs' names, as in `entrawatch run <job>` and the state keys (`JOB#<tenant>#<job>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobName {
    BreakGlass,
    Dormant,
    Workloads,
    /// The frequent watches of the daily jobs ([`watch`]): run with every break-glass run.
    Watch,
}

impl JobName {
    pub fn as_str(self) -> &'static str {
        match self {
            JobName::BreakGlass => "break-glass",
            JobName::Dormant => "dormant",
            JobName::Workloads => "workloads",
            JobName::Watch => "watch",
        }
    }

    /// A job by its name, as `entrawatch run` and a fan-out message spell it.
    pub fn parse(name: &str) -> Option<JobName> {
        [
            JobName::BreakGlass,
            JobName::Dormant,
            JobName::Workloads,
            JobName::Watch,
        ]
        .into_iter()
        .find(|j| j.as_str() == name)
    }

    /// What a schedule named `name` runs: `break-glass` is the frequent schedule, so it also runs the watches;
    /// `all` is every job. `None` for an unknown name.
    pub fn scheduled(name: &str) -> Option<Vec<JobName>> {
        match name {
            "break-glass" => Some(vec![JobName::BreakGlass, JobName::Watch]),
            "all" => Some(vec![
                JobName::BreakGlass,
                JobName::Watch,
                JobName::Dormant,
                JobName::Workloads,
            ]),
            other => JobName::parse(other).map(|j| vec![j]),
        }
    }
}

/// Everything one job run for one tenant works with. `now` is fixed for the run: every window,
/// threshold and record time is computed from it, so tests drive time explicitly.
#[derive(Clone)]
pub struct JobContext {
    pub tenant: TenantRef,
    pub graph: Arc<dyn GraphPort>,
    pub stores: Stores,
    pub outbox: Outbox,
    pub now: DateTime<Utc>,
    /// Where long work reports how far it is; [`Progress::none`] outside the CLI.
    pub progress: Progress,
}

impl JobContext {
    pub fn now_epoch(&self) -> i64 {
        self.now.timestamp()
    }
}

/// Why a job run stopped. Graph errors keep their own actionable message.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("{0}")]
    Config(String),
}

impl JobError {
    /// A failure another attempt can fix (throttling, an outage, a store hiccup), as opposed to
    /// one a person must fix (credentials, licence, permission, configuration).
    pub fn is_retryable(&self) -> bool {
        match self {
            JobError::Graph(g) => g.is_transient(),
            JobError::State(StateError::LeaseHeld { .. }) => false,
            JobError::State(_) => true,
            JobError::Config(_) => false,
        }
    }
}

/// What a job run did for one tenant: what `entrawatch run` prints and the Lambda logs as metrics.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct JobReport {
    /// Alerts newly written to the outbox by this run (not counting ones an earlier run recorded).
    pub alerts_recorded: usize,
    /// Events or findings examined (sign-ins, audits, users...).
    pub examined: usize,
    /// Records Graph returned that did not parse (each reported with its id; break-glass alerts them): the rest
    /// of their page was used.
    pub unreadable: usize,
    /// One line each, for people: "first run: reading the last 24 h", "scan 40% done", ...
    pub notes: Vec<String>,
    /// False when the job stopped at a checkpoint and a later invocation continues (a long scan).
    pub complete: bool,
}
