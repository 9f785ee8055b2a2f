//! What a run did: per (tenant, job) outcomes and the delivery side (what was sent, which sinks
//! are down, which alerts have reached no sink for too long). `entrawatch run` prints it and the
//! Lambda functions turn it into their EMF line.

use serde::Serialize;

use super::JobReport;
use crate::outbox::DispatchReport;
use crate::state::Undelivered;

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

/// A sink that could not be built this run, and why (never a secret).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SinkDown {
    pub sink: String,
    pub reason: String,
}

/// An alert that has reached no sink for longer than `[delivery] overdue_minutes`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OverdueAlert {
    pub alert_id: String,
    pub alert_type: String,
    pub waiting_minutes: i64,
    /// (sink, last error) of every sink it still waits for.
    pub failing_sinks: Vec<(String, Option<String>)>,
}

impl OverdueAlert {
    pub fn from_undelivered(u: &Undelivered, now: i64) -> OverdueAlert {
        OverdueAlert {
            alert_id: u.alert_id.clone(),
            alert_type: u.kind.clone(),
            waiting_minutes: (now - u.recorded_at).max(0) / 60,
            failing_sinks: u.pending.clone(),
        }
    }
}

/// Everything a run did.
#[derive(Debug, Default, Serialize)]
pub struct RunSummary {
    pub results: Vec<TenantJobResult>,
    pub delivered: usize,
    pub delivery_retries: usize,
    pub delivery_failed: usize,
    /// Sends recorded after their claim had passed to another dispatcher (possible duplicates).
    pub delivery_claims_lost: usize,
    pub heartbeats_recorded: usize,
    pub unavailable_sinks: Vec<SinkDown>,
    pub overdue: Vec<OverdueAlert>,
    /// Seconds the oldest pending delivery has waited (0 when nothing is pending).
    pub oldest_pending_age_secs: i64,
    #[serde(skip)]
    pub dispatch: Option<DispatchReport>,
    /// Set when delivery itself could not run (the store failed).
    pub dispatch_error: Option<String>,
}

impl RunSummary {
    /// True when any (tenant, job) failed or delivery could not run: the run did not do its work.
    pub fn failed(&self) -> bool {
        self.dispatch_error.is_some()
            || self
                .results
                .iter()
                .any(|r| matches!(r.outcome, TenantJobOutcome::Failed { .. }))
    }

    /// One line per delivery problem a person must see: a sink that cannot be built, an alert
    /// that has reached no sink for too long (SPEC.md "CLI": `run` exits non-zero for each).
    pub fn delivery_problems(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .unavailable_sinks
            .iter()
            .map(|u| format!("sink {} {}; its alerts wait", u.sink, u.reason))
            .collect();
        for o in &self.overdue {
            let sinks: Vec<String> = o
                .failing_sinks
                .iter()
                .map(|(sink, error)| match error {
                    Some(e) => format!("{sink} ({e})"),
                    None => sink.clone(),
                })
                .collect();
            lines.push(format!(
                "alert {} ({}) has reached no sink for {} min; failing sink(s): {}",
                o.alert_id,
                o.alert_type,
                o.waiting_minutes,
                sinks.join(", ")
            ));
        }
        lines
    }
}
