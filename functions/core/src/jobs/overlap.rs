//! Runs that overlap: several `entrawatch run` processes (or fan-out workers) on one store each walk every
//! tenant. The lease keeps two of them from working one (tenant, job) at once; this keeps the one that comes
//! second from repeating what the first just finished. Each finished job leaves a marker; a run that finds a
//! marker left by another run that finished after this one started, and whose view of the tenant reached
//! within [`FRESH_SECS`] of this run's own `now`, skips the job. Nothing is lost by skipping: the job's next
//! run re-reads from the stored window end with its look-back, and Graph's shared budget (per app across
//! tenants, REFERENCE.md §4) is spent on tenants not yet read.

use serde::{Deserialize, Serialize};

use super::JobName;
use crate::state::{CursorStore, StateError};

/// How far behind this run's `now` another run's view may be for this run to count it as its own.
pub const FRESH_SECS: i64 = 60;

/// What a finished job leaves behind, in the cursor store under (tenant id, `{job}#finished`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finished {
    /// The finishing run's `now` (epoch seconds): what it read up to.
    pub now: i64,
    /// When it finished, wall clock epoch milliseconds (comparable across processes on one host or with
    /// synchronised clocks; a skew only makes a run repeat a job or, at worst, leave it to the next run).
    pub finished_ms: i64,
    pub owner: String,
}

fn key(job: JobName) -> String {
    format!("{}#finished", job.as_str())
}

/// Why this run should leave the job alone, if another run just did it.
pub async fn done_by_another(
    cursors: &dyn CursorStore,
    tenant_id: &str,
    job: JobName,
    owner: &str,
    now: i64,
    started_ms: i64,
) -> Result<Option<String>, StateError> {
    let Some(value) = cursors.get_cursor(tenant_id, &key(job)).await? else {
        return Ok(None);
    };
    let Ok(other) = serde_json::from_value::<Finished>(value) else {
        return Ok(None);
    };
    let overlapping = other.owner != owner && other.finished_ms >= started_ms;
    let fresh = other.now >= now - FRESH_SECS;
    Ok((overlapping && fresh).then(|| {
        format!(
            "another run ({}) finished it while this run was under way; skipped",
            other.owner
        )
    }))
}

pub async fn mark_finished(
    cursors: &dyn CursorStore,
    tenant_id: &str,
    job: JobName,
    finished: &Finished,
) -> Result<(), StateError> {
    let value = serde_json::to_value(finished).map_err(|e| StateError::Corrupt {
        backend: "any",
        reason: e.to_string(),
    })?;
    cursors.put_cursor(tenant_id, &key(job), &value).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::sqlite::SqliteStore;

    #[tokio::test]
    async fn only_a_run_that_finished_after_this_one_started_and_saw_as_far_counts() {
        let store = SqliteStore::open(":memory:").unwrap();
        let finished = |now, finished_ms, owner: &str| Finished {
            now,
            finished_ms,
            owner: owner.into(),
        };
        let check = |owner: &'static str, now, started_ms| {
            let store = store.clone();
            async move {
                done_by_another(&store, "t", JobName::BreakGlass, owner, now, started_ms)
                    .await
                    .unwrap()
                    .is_some()
            }
        };
        assert!(!check("b", 1_000, 5_000).await, "no marker yet");
        mark_finished(
            &store,
            "t",
            JobName::BreakGlass,
            &finished(1_000, 6_000, "a"),
        )
        .await
        .unwrap();
        assert!(check("b", 1_010, 5_000).await, "a finished while b ran");
        assert!(!check("a", 1_010, 5_000).await, "a's own marker");
        assert!(
            !check("b", 1_010, 7_000).await,
            "a finished before b started: b runs"
        );
        assert!(
            !check("b", 1_061, 5_000).await,
            "a's view is over a minute behind b's"
        );
        assert_eq!(
            done_by_another(&store, "t", JobName::Dormant, "b", 1_010, 5_000)
                .await
                .unwrap(),
            None,
            "per job"
        );
    }
}
