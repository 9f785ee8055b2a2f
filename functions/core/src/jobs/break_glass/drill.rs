//! The accounts themselves: do they still exist, does their `signInActivity` show a sign-in the logs have
//! not yet produced (`reconcile`), and were they exercised recently? Microsoft
//! recommends testing emergency accounts at least every 90 days (Entra docs
//! `security-emergency-access.md`; REFERENCE.md §2).

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::alert::{types, Alert, Severity};
use crate::config::BreakGlassConfig;
use crate::graph::model::User;
use crate::graph::IDS_PER_LOOKUP;

use super::super::{JobContext, JobError, JobReport};
use super::evidence::subject;
use super::state::RunState;
use super::{reconcile, record, Accounts};

/// The longest the accounts go without a lookup. A lookup reads `signInActivity`, which Graph limits to 10
/// requests a minute per app across every tenant it serves (Graph docs `throttling-limits.md`, 2025-01-14;
/// REFERENCE.md §4). Lookups are as frequent as the app's budget allows (`reconcile::lookup_every`: every run for
/// one tenant, every 100 minutes for each of 200) because each also reconciles `signInActivity` with the logs;
/// daily is what the drill reminder, counted in days, needs. A drill sign-in counts at once from the sign-ins
/// the job reads anyway, and a deleted account is reported at once by its `Delete user` audit.
pub const CHECK_EVERY: Duration = Duration::days(1);

/// Whether this run looks the accounts up: `every` since the last lookup (or a clock that went back).
pub(super) fn due(state: &RunState, now: DateTime<Utc>, every: Duration) -> bool {
    state
        .accounts_checked_at
        .is_none_or(|at| now - at >= every.min(CHECK_EVERY) || at > now)
}

pub(super) async fn check(
    ctx: &JobContext,
    config: &BreakGlassConfig,
    accounts: &Accounts,
    state: &mut RunState,
    report: &mut JobReport,
) -> Result<(), JobError> {
    // Up to 15 accounts a request (the `in` operator's limit), each request sent only when the app's
    // shared budget has room now: a lookup never delays the run's sign-in and audit reads or its
    // delivery, and one the budget cannot afford waits for a later run.
    for chunk in accounts.ids().chunks(IDS_PER_LOOKUP) {
        let Some(users) = ctx.graph.lookup_users_if_affordable(chunk).await? else {
            report.notes.push(
                "account lookup deferred to a later run: the app's Graph budget has no room now"
                    .into(),
            );
            return Ok(());
        };
        for id in chunk {
            match users.iter().find(|u| u.id.eq_ignore_ascii_case(id)) {
                None => {
                    let since = *state.missing.entry(id.clone()).or_insert(ctx.now);
                    record(ctx, &missing_alert(ctx, id, since), report).await?;
                }
                Some(user) => {
                    state.missing.remove(id);
                    reconcile::check(ctx, config.include_non_interactive, id, user, state, report)
                        .await?;
                    let seen = state.last_success.get(id).copied();
                    if let Some(alert) = overdue_alert(ctx, config, user, seen) {
                        record(ctx, &alert, report).await?;
                    }
                }
            }
        }
    }
    state.accounts_checked_at = Some(ctx.now);
    Ok(())
}

/// A configured account that does not exist: nothing about it can be watched (a typo in the
/// configuration, or a deleted account). `monitoring.blind`, once per disappearance.
fn missing_alert(ctx: &JobContext, id: &str, since: DateTime<Utc>) -> Alert {
    Alert::new(
        types::MONITORING_BLIND,
        Severity::High,
        ctx.tenant.clone(),
        &format!("account-missing|{id}|{}", since.timestamp()),
        format!(
            "Emergency account {id} does not exist in tenant {}: check break_glass.accounts or restore the account",
            ctx.tenant.name
        ),
        since,
    )
    .with_subject(subject(id, None, None))
    .with_evidence("reason", "account_missing")
    .with_evidence("accountId", id)
    .with_evidence("since", since.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// `break_glass.drill_overdue` when the last successful sign-in (from `signInActivity`, or seen in
/// the logs, whichever is later) is older than `drill_max_age_days`, or there is none. One per
/// account per period: the event key names the last success and how many periods have passed, so
/// a drill sign-in ends the reminders and a neglected account is reminded once a period.
pub(super) fn overdue_alert(
    ctx: &JobContext,
    config: &BreakGlassConfig,
    user: &User,
    seen_in_logs: Option<DateTime<Utc>>,
) -> Option<Alert> {
    let period = Duration::days(i64::from(config.drill_max_age_days));
    let last = user
        .sign_in_activity
        .as_ref()
        .and_then(|a| a.last_successful_sign_in)
        .max(seen_in_logs);
    // Never signed in: count from the account's creation (or from 1970 when Graph has no date).
    let anchor = last
        .or(user.created_date_time)
        .unwrap_or(DateTime::UNIX_EPOCH);
    let overdue_for = ctx.now - anchor - period;
    if overdue_for < Duration::zero() {
        return None;
    }
    let periods = overdue_for.num_seconds() / period.num_seconds().max(1);
    let who = user.user_principal_name.as_deref().unwrap_or(&user.id);
    let last_text = last.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
    let title = match &last_text {
        Some(t) => format!(
            "Emergency account {who} has not been exercised since {t} (drill every {} days)",
            config.drill_max_age_days
        ),
        None => format!(
            "Emergency account {who} has no recorded successful sign-in (drill every {} days)",
            config.drill_max_age_days
        ),
    };
    Some(
        Alert::new(
            types::BREAK_GLASS_DRILL_OVERDUE,
            Severity::Medium,
            ctx.tenant.clone(),
            &format!(
                "drill|{}|{}|{periods}",
                user.id.to_ascii_lowercase(),
                last.map_or_else(|| "never".to_string(), |t| t.timestamp().to_string())
            ),
            title,
            ctx.now,
        )
        .with_subject(subject(
            &user.id,
            user.user_principal_name.as_deref(),
            user.display_name.as_deref(),
        ))
        .with_evidence("lastSuccessfulSignIn", serde_json::json!(last_text))
        .with_evidence("drillMaxAgeDays", config.drill_max_age_days)
        .with_evidence(
            "daysSinceLastSuccess",
            serde_json::json!(last.map(|t| (ctx.now - t).num_days())),
        ),
    )
}
