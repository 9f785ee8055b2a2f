//! What a scan that stops at a checkpoint says about when it will finish, and the `monitoring.blind` alert (once
//! per scan, resolved when the scan finishes) when that is past `renotify_days` (see [`super::schedule`]).

use super::scan::{Checkpoint, ScanState};
use super::schedule::{human, Pace};
use crate::alert::{alert_id, types, Alert, Severity};
use crate::config::DormantConfig;
use crate::jobs::{JobContext, JobError};
use crate::state::Recorded;

/// The blind alert's reason (`evidence.reason`).
pub const SCAN_TOO_SLOW: &str = "scan_too_slow";

fn key(scan: &ScanState) -> String {
    format!("dormant-scan-too-slow|{}", scan.id)
}

/// The pace of `scan` at `now` (epoch seconds).
pub fn pace(checkpoint: &Checkpoint, scan: &ScanState, now: i64) -> Pace {
    Pace {
        elapsed_secs: now - scan.id,
        done: scan.sign_in_activity_requests,
        expected: checkpoint.last_scan_requests,
    }
}

/// The note for a scan stopped at a checkpoint, and the blind alert when it will not finish in time.
pub(super) async fn checkpointed(
    ctx: &JobContext,
    config: &DormantConfig,
    checkpoint: &Checkpoint,
    scan: &mut ScanState,
    notes: &mut Vec<String>,
) -> Result<usize, JobError> {
    let pace = pace(checkpoint, scan, ctx.now_epoch());
    notes.push(match (pace.finish_in_secs(), pace.expected) {
        (Some(left), Some(expected)) => format!(
            "scan finishes in about {} at its pace so far ({} of the {} signInActivity requests its last scan took, \
             in {})",
            human(left),
            pace.done,
            expected,
            human(pace.elapsed_secs.max(0))
        ),
        _ => format!(
            "scan under way for {} ({} signInActivity request{}); a finish time is estimated from the first \
             complete scan",
            human(pace.elapsed_secs.max(0)),
            pace.done,
            if pace.done == 1 { "" } else { "s" }
        ),
    });
    if !pace.too_slow(config.renotify_days) || scan.too_slow_alerted {
        return Ok(0);
    }
    let estimate = pace.finish_in_secs().map_or("unknown".to_string(), |left| {
        human(pace.elapsed_secs + left)
    });
    let alert = Alert::new(
        types::MONITORING_BLIND,
        Severity::High,
        ctx.tenant.clone(),
        &key(scan),
        format!(
            "Dormant monitoring of tenant {} is blind: its scan will not finish within renotify_days ({} days) at \
             the share of the app's signInActivity budget it gets",
            ctx.tenant.name, config.renotify_days
        ),
        ctx.now,
    )
    .with_evidence("reason", SCAN_TOO_SLOW)
    .with_evidence("job", "dormant")
    .with_evidence("scanStarted", scan.id.to_string())
    .with_evidence("requestsDone", pace.done.to_string())
    .with_evidence(
        "requestsExpected",
        pace.expected.map_or("unknown".to_string(), |e| e.to_string()),
    )
    .with_evidence("scanDuration", estimate);
    scan.too_slow_alerted = true;
    notes.push(format!(
        "monitoring.blind: the scan will not finish within renotify_days ({} days); give the app more budget \
         (another app registration, infra/README.md section 5) or run the dormant job more often",
        config.renotify_days
    ));
    record(ctx, &alert).await
}

/// A finished scan that had been alerted as too slow resolves that alert.
pub(super) async fn finished(ctx: &JobContext, scan: &ScanState) -> Result<usize, JobError> {
    if !scan.too_slow_alerted {
        return Ok(0);
    }
    let earlier = alert_id(types::MONITORING_BLIND, &ctx.tenant.id, &key(scan));
    let alert = Alert::new(
        types::MONITORING_BLIND,
        Severity::High,
        ctx.tenant.clone(),
        &format!("{}|finished", key(scan)),
        format!(
            "Dormant monitoring of tenant {}: the slow scan has finished",
            ctx.tenant.name
        ),
        ctx.now,
    )
    .with_evidence("reason", "recovered")
    .with_evidence("job", "dormant")
    .with_evidence("scanStarted", scan.id.to_string())
    .resolving(earlier);
    record(ctx, &alert).await
}

async fn record(ctx: &JobContext, alert: &Alert) -> Result<usize, JobError> {
    if ctx.outbox.record(alert, ctx.now_epoch()).await? == Recorded::New {
        tracing::warn!(tenant = %ctx.tenant.name, alert = %alert.id, "dormant scan pace alert recorded");
        return Ok(1);
    }
    Ok(0)
}
