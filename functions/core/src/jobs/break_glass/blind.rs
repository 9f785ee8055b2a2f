//! `monitoring.blind`: the job cannot read what it needs. Licence, permission and credential
//! failures need a person and are alerted at once; throttling and outages only once they have
//! lasted `blind_after_minutes`. One alert per outage, and a recovery note when a run succeeds again.

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::alert::{alert_id, types, Alert, Severity};
use crate::config::BreakGlassConfig;
use crate::graph::GraphError;

use super::super::{JobContext, JobError, JobReport};
use super::record;
use super::state::{Outage, RunState};

/// Why the job is blind, as `evidence.reason`.
pub(super) fn reason(e: &GraphError) -> &'static str {
    match e {
        GraphError::LicenceRequired { .. } => "licence",
        GraphError::PermissionMissing { .. } => "permission",
        GraphError::TokenRejected { .. }
        | GraphError::Unauthorized { .. }
        | GraphError::CredentialUnavailable { .. }
        | GraphError::AssertionProvider(..) => "credentials",
        e if is_transient(e) => "graph_unavailable",
        _ => "graph_error",
    }
}

/// Failures another run may not see: Graph's own transient errors and 5xx answers.
fn is_transient(e: &GraphError) -> bool {
    e.is_transient() || matches!(e, GraphError::Api { status, .. } if *status >= 500)
}

fn outage_key(since: DateTime<Utc>) -> String {
    format!("blind|{}", since.timestamp())
}

/// Whether the outage has been (or is now) alerted.
fn alerted(outage: &Outage, config: &BreakGlassConfig) -> bool {
    outage.blocking
        || outage.last_failure - outage.since
            >= Duration::minutes(i64::from(config.blind_after_minutes))
}

/// Notes the failure in the state (saved before any alert, so the alert's key is stable across
/// retries) and records the outage alert once it is due.
pub(super) async fn failed(
    ctx: &JobContext,
    config: &BreakGlassConfig,
    state: &mut RunState,
    error: &GraphError,
    report: &mut JobReport,
) -> Result<(), JobError> {
    let outage = state.outage.get_or_insert(Outage {
        since: ctx.now,
        last_failure: ctx.now,
        reason: String::new(),
        blocking: false,
    });
    outage.last_failure = ctx.now.max(outage.since);
    outage.reason = error.to_string();
    outage.blocking |= !is_transient(error);
    let outage = outage.clone();
    state.save(ctx).await?;
    if !alerted(&outage, config) {
        return Ok(());
    }
    let cause = reason(error);
    let alert = Alert::new(
        types::MONITORING_BLIND,
        Severity::High,
        ctx.tenant.clone(),
        &outage_key(outage.since),
        format!(
            "Break-glass monitoring of tenant {} is blind: {}",
            ctx.tenant.name,
            match cause {
                "licence" => "sign-in logs need Entra ID P1 or P2",
                "permission" => "the app lacks a Graph permission",
                "credentials" => "Entra ID refuses the app's credentials",
                "graph_unavailable" => "Graph has been failing",
                _ => "Graph refuses the job's requests",
            }
        ),
        ctx.now,
    )
    .with_evidence("reason", cause)
    .with_evidence("error", outage.reason.clone())
    .with_evidence("since", text(outage.since))
    .with_evidence("job", "break-glass");
    record(ctx, &alert, report).await
}

/// After a successful run: a recovery note if the outage was alerted, then no outage.
pub(super) async fn recovered(
    ctx: &JobContext,
    config: &BreakGlassConfig,
    state: &mut RunState,
    report: &mut JobReport,
) -> Result<(), JobError> {
    let Some(outage) = state.outage.clone() else {
        return Ok(());
    };
    if alerted(&outage, config) {
        let earlier = alert_id(
            types::MONITORING_BLIND,
            &ctx.tenant.id,
            &outage_key(outage.since),
        );
        // Same type and severity as the outage alert, so it reaches the same sinks (and resolves
        // the PagerDuty incident).
        let alert = Alert::new(
            types::MONITORING_BLIND,
            Severity::High,
            ctx.tenant.clone(),
            &format!("blind-recovered|{}", outage.since.timestamp()),
            format!(
                "Break-glass monitoring of tenant {} works again (blind since {})",
                ctx.tenant.name,
                text(outage.since)
            ),
            ctx.now,
        )
        .with_evidence("reason", "recovered")
        .with_evidence("since", text(outage.since))
        .with_evidence("recoveredAt", text(ctx.now))
        .with_evidence("lastError", outage.reason.clone())
        .with_evidence("job", "break-glass")
        .resolving(earlier);
        record(ctx, &alert, report).await?;
    }
    report.notes.push(format!(
        "Graph reads work again (failing since {})",
        text(outage.since)
    ));
    state.outage = None;
    Ok(())
}

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
