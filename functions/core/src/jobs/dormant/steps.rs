//! The steps of an invocation: reading the privileged holders one by one, judging one user, and saving the
//! checkpoint.

use super::evaluate::{Policy, Verdict};
use super::findings::{self, JOB};
use super::populations::PrivilegedHolders;
use super::scan::{self, Checkpoint, ScanState};
use super::sweep::{RESOLVED_DISABLED, RESOLVED_EXCLUDED};
use crate::graph::model::User;
use crate::jobs::{JobContext, JobError};
use crate::state::StateError;

/// Privileged holders read one by one at most (each read is a signInActivity request, 10 a minute): above this,
/// the listings cut at the privileged threshold instead.
pub const MAX_PRIVILEGED_LOOKUPS: usize = 100;
/// Privileged holders read per checkpointed step.
const LOOKUP_PAGE: usize = 20;

/// Reads the next privileged holders one by one and judges them; returns how many users it examined (each read
/// is one `signInActivity` request, counted in `scan`).
pub(super) async fn privileged_step(
    ctx: &JobContext,
    policy: &Policy<'_>,
    privileged: &PrivilegedHolders,
    scan: &mut ScanState,
) -> Result<usize, JobError> {
    let batch = privileged.ids_after(scan.privileged_after.as_deref(), LOOKUP_PAGE);
    let mut examined = 0;
    scan.sign_in_activity_requests += batch.len() as u64;
    for id in &batch {
        // `None`: deleted since the role was read.
        if let Some(user) = ctx.graph.get_user(id).await? {
            examined += 1;
            scan.examined += 1;
            judge(ctx, policy, &user, scan).await?;
        }
    }
    scan.pages += 1;
    match batch.last() {
        Some(last) if batch.len() == LOOKUP_PAGE => scan.privileged_after = Some(last.clone()),
        _ => {
            scan.phase = scan
                .phase
                .after_listing(scan.lookup_privileged, scan.verify)
        }
    }
    Ok(examined)
}

/// Records the verdict on one user: a dormant finding, or why an open finding no longer applies. In the full
/// listing of a verifying scan, a dormant account the filtered phases did not return is added to `scan.missed`.
pub(super) async fn judge(
    ctx: &JobContext,
    policy: &Policy<'_>,
    user: &User,
    scan: &mut ScanState,
) -> Result<(), JobError> {
    let store = ctx.stores.findings.as_ref();
    let tenant = ctx.tenant.id.as_str();
    // Marked only when a full listing will compare (findings of other scans keep their shape).
    let by_filter = scan.verify && scan.phase.filtered();
    let id = scan.id;
    match policy.evaluate(user) {
        Verdict::Dormant(account) => {
            let found =
                findings::record_dormant(store, tenant, &account, id, ctx.now_epoch(), by_filter)
                    .await?;
            // Only an account the filters should have returned is a miss: the policy's clock moves on in a scan
            // continued days later, the filters' cutoff does not.
            let last_success = user
                .sign_in_activity
                .as_ref()
                .and_then(|a| a.last_successful_sign_in);
            let listable = last_success.is_none_or(|t| t <= scan.cutoff);
            if scan.verify && !found && listable {
                tracing::warn!(tenant = %ctx.tenant.name, user = %account.id,
                    "dormant account missing from the signInActivity filter's answer");
                scan.missed.scan = id;
                scan.missed.add(&account.id);
            }
        }
        Verdict::Disabled => {
            findings::note_not_dormant(store, tenant, &user.id, id, RESOLVED_DISABLED).await?
        }
        Verdict::Excluded(_) => {
            findings::note_not_dormant(store, tenant, &user.id, id, RESOLVED_EXCLUDED).await?
        }
        Verdict::Active => {}
    }
    Ok(())
}

pub(super) fn plan_name(phase: scan::Phase) -> &'static str {
    match phase {
        scan::Phase::Full => "full listing",
        _ => "signInActivity filter",
    }
}

pub(super) async fn save(ctx: &JobContext, checkpoint: &Checkpoint) -> Result<(), JobError> {
    let value = serde_json::to_value(checkpoint).map_err(|e| {
        JobError::State(StateError::Corrupt {
            backend: "checkpoint",
            reason: e.to_string(),
        })
    })?;
    ctx.stores
        .cursors
        .put_cursor(&ctx.tenant.id, JOB, &value)
        .await?;
    Ok(())
}
