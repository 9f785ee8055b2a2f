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
            judge(ctx, policy, &user, scan.id).await?;
        }
    }
    scan.pages += 1;
    match batch.last() {
        Some(last) if batch.len() == LOOKUP_PAGE => scan.privileged_after = Some(last.clone()),
        _ => scan.phase = scan.phase.after_listing(scan.lookup_privileged),
    }
    Ok(examined)
}

/// Records the verdict on one user: a dormant finding, or why an open finding no longer applies.
pub(super) async fn judge(
    ctx: &JobContext,
    policy: &Policy<'_>,
    user: &User,
    scan: i64,
) -> Result<(), JobError> {
    let store = ctx.stores.findings.as_ref();
    let tenant = ctx.tenant.id.as_str();
    match policy.evaluate(user) {
        Verdict::Dormant(account) => {
            findings::record_dormant(store, tenant, &account, scan, ctx.now_epoch()).await?
        }
        Verdict::Disabled => {
            findings::note_not_dormant(store, tenant, &user.id, scan, RESOLVED_DISABLED).await?
        }
        Verdict::Excluded(_) => {
            findings::note_not_dormant(store, tenant, &user.id, scan, RESOLVED_EXCLUDED).await?
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
