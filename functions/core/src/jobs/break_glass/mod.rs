//! The `break-glass` job (issue 4): every emergency-account sign-in and change alerted once, a
//! reminder when an account is not exercised, and `monitoring.blind` when the job cannot see.
//!
//! One run, for one tenant:
//! 1. window = stored end of the last complete window minus `lookback_minutes` .. `now`
//!    (first run: the last `first_run_hours`), so late log rows are read again (REFERENCE.md §2);
//! 2. sign-ins, then audits, page by page: each page's alerts go to the outbox (deduplicated on the
//!    alert id, derived from the sign-in or audit id) before the next page is read;
//! 3. the accounts themselves (existence, drill), at most every [`drill::CHECK_EVERY`];
//! 4. only then the window end moves to `now`. A crash anywhere re-reads the same window next
//!    time and the outbox dedup records nothing twice; a Graph failure leaves the window where
//!    it was and may raise `monitoring.blind` (see `blind`).

mod audits;
mod blind;
mod drill;
pub(crate) mod evidence;
pub mod posture;
mod reconcile;
mod sign_ins;
mod state;
mod unreadable;

#[cfg(test)]
mod fake_graph;
#[cfg(test)]
mod reconcile_tests;
#[cfg(test)]
mod tests;

pub use audits::{listed, ALERTED_ACTIVITIES, KNOWN_NOISE};
pub use drill::CHECK_EVERY as ACCOUNT_CHECK_EVERY;
pub use reconcile::lookup_every;

use std::collections::HashMap;

use super::{JobContext, JobError, JobReport};
use crate::alert::Alert;
use crate::config::BreakGlassConfig;
use crate::graph::TimeWindow;
use crate::state::Recorded;
use state::RunState;

/// The configured emergency accounts, matched case-insensitively by object id.
pub(super) struct Accounts {
    ids: Vec<String>,
    by_lower: HashMap<String, String>,
}

impl Accounts {
    fn new(configured: &[String]) -> Accounts {
        let mut ids: Vec<String> = Vec::new();
        let mut by_lower = HashMap::new();
        for id in configured {
            let lower = id.to_ascii_lowercase();
            if by_lower.insert(lower.clone(), lower.clone()).is_none() {
                ids.push(lower);
            }
        }
        Accounts { ids, by_lower }
    }

    /// Lower-case ids, in configuration order, without duplicates.
    pub(super) fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The lower-case id if `id` is an emergency account.
    pub(super) fn get(&self, id: &str) -> Option<&str> {
        self.by_lower
            .get(&id.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// Records an alert in the outbox, counting it when it is new.
pub(super) async fn record(
    ctx: &JobContext,
    alert: &Alert,
    report: &mut JobReport,
) -> Result<(), JobError> {
    if ctx.outbox.record(alert, ctx.now_epoch()).await? == Recorded::New {
        report.alerts_recorded += 1;
        tracing::info!(tenant = %ctx.tenant.name, alert = %alert.id, kind = %alert.kind, "alert recorded");
    }
    Ok(())
}

/// One run of the job for `ctx.tenant`, the only tenant of its app (accounts looked up, and so reconciled,
/// as often as that allows: every run of a 5-minute schedule).
pub async fn run(ctx: &JobContext, config: &BreakGlassConfig) -> Result<JobReport, JobError> {
    let every = lookup_every(
        crate::config::GraphLimitsConfig::default().sign_in_activity_per_minute,
        1,
        config.accounts.len(),
    );
    run_with(ctx, config, every).await
}

/// One run of the job for `ctx.tenant`, looking the accounts up (existence, reconciliation, drill) when
/// `lookup_every` has passed since the last lookup ([`lookup_every`]). Errors are the run's: a Graph failure
/// has already been turned into `monitoring.blind` when due, and the window did not move.
pub async fn run_with(
    ctx: &JobContext,
    config: &BreakGlassConfig,
    lookup_every: chrono::Duration,
) -> Result<JobReport, JobError> {
    let mut report = JobReport::default();
    let mut state = RunState::load(ctx, &mut report.notes).await?;
    let depth = state.depth(ctx.now);
    let window = state.window(config, ctx.now, &mut report.notes);
    // Reconciliation alerts nothing from before the first window: what happened earlier was never watched.
    state.watched_since.get_or_insert(window.from);
    let accounts = Accounts::new(&config.accounts);
    match watch(
        ctx,
        config,
        &accounts,
        window,
        lookup_every,
        &mut state,
        &mut report,
    )
    .await
    {
        Ok(()) => {
            blind::recovered(ctx, config, &mut state, &mut report).await?;
            // Every alert of the window is in the outbox: only now may the window move.
            state.read_to_end(depth, ctx.now);
            state.window_end = Some(window.to);
            state.save(ctx).await?;
            report.complete = true;
            tracing::info!(
                tenant = %ctx.tenant.name,
                alerts = report.alerts_recorded,
                examined = report.examined,
                "break-glass run finished"
            );
            Ok(report)
        }
        Err(JobError::Graph(e)) => {
            blind::failed(ctx, config, &mut state, &e, &mut report).await?;
            Err(JobError::Graph(e))
        }
        Err(e) => Err(e),
    }
}

async fn watch(
    ctx: &JobContext,
    config: &BreakGlassConfig,
    accounts: &Accounts,
    window: TimeWindow,
    lookup_every: chrono::Duration,
    state: &mut RunState,
    report: &mut JobReport,
) -> Result<(), JobError> {
    sign_ins::scan(
        ctx,
        config.include_non_interactive,
        accounts,
        window,
        state,
        report,
    )
    .await?;
    let policy_changed = if config.audit_changes {
        audits::scan(ctx, accounts, window, config.posture, state, report).await?
    } else if config.posture {
        audits::policy_changes(ctx, window, report).await?
    } else {
        false
    };
    if config.posture && posture::due(state.posture_checked_at, ctx.now, policy_changed) {
        if policy_changed {
            report
                .notes
                .push("a Conditional Access policy changed: posture checked again".into());
        }
        // A posture read that fails (Graph down, throttled past the run) is a note and stays due: it must not
        // hold back the window of the sign-ins and changes already alerted, nor raise `monitoring.blind`.
        match posture::check(ctx, accounts, report).await {
            Ok(()) => state.posture_checked_at = Some(ctx.now),
            Err(JobError::Graph(e)) => report.notes.push(format!(
                "posture checks not finished, next run tries again: {e}"
            )),
            Err(e) => return Err(e),
        }
    }
    // After the logs: reconciliation compares signInActivity with what this run's reads produced.
    if drill::due(state, ctx.now, lookup_every) {
        drill::check(ctx, config, accounts, state, report).await?;
    }
    Ok(())
}
