//! Reconciliation with `signInActivity` (issue 14): the net that catches a sign-in before its log row arrives.
//!
//! Sign-in log rows can arrive hours late ("typically within 6 hours", "up to 24 hours", REFERENCE.md §2), while
//! each account's `signInActivity` names its last interactive attempt, last non-interactive attempt and last
//! success with their request ids (REFERENCE.md §1). When an account is looked up (see `drill`), a sign-in that
//! `signInActivity` places after the newest one the logs produced for that account, and inside the time the job
//! watches, is alerted at once, under the id its log row will have: the request id, which is likely the row's
//! `id` (REFERENCE.md §2, unconfirmed). When the row arrives it adds nothing: the outbox already holds its id, or,
//! if the ids turn out not to match, the row is recognised by account and time and the job says so and keys later
//! reconciled alerts on the time.
//!
//! `signInActivity` often lags the logs by up to a day (REFERENCE.md §1): an older value than the logs show
//! raises nothing.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::json;

use crate::alert::{types, Alert, Severity};
use crate::graph::model::{SignIn, User};
use crate::graph::IDS_PER_LOOKUP;
use crate::state::budget::reserve;

use super::super::{JobContext, JobError, JobReport};
use super::evidence::{sign_in_log_link, subject};
use super::state::{Reconciled, RunState};
use super::{drill, record};

/// A log row within this of a reconciled sign-in's time is that sign-in, once the ids are known not to match
/// (`signInActivity` gives whole seconds, the logs fractions).
pub(super) const SAME_TIME: Duration = Duration::seconds(2);

/// How often a tenant's accounts are looked up (each lookup reads `signInActivity` for up to
/// [`IDS_PER_LOOKUP`] accounts a request): as often as the app's urgent `signInActivity` share allows when
/// `tenants_on_app` tenants of the app watch emergency accounts, and at least daily ([`drill::CHECK_EVERY`]).
///
/// Graph allows 10 `signInActivity` requests a minute per app across all its tenants (REFERENCE.md §4); the
/// dormant scans' background share leaves a fifth ([`reserve`]) to urgent reads, which is what reconciliation
/// spends. One tenant with up to 15 accounts: every 30 s, so every run of a 5-minute schedule; 200 tenants of one
/// app: every 100 minutes each.
pub fn lookup_every(
    sign_in_activity_per_minute: u32,
    tenants_on_app: usize,
    accounts: usize,
) -> Duration {
    let urgent = i64::from(reserve(sign_in_activity_per_minute).max(1));
    let requests = (tenants_on_app.max(1) * accounts.div_ceil(IDS_PER_LOOKUP).max(1)) as i64;
    Duration::seconds(requests * 60 / urgent).min(drill::CHECK_EVERY)
}

/// What `signInActivity` says an attempt's outcome was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// `lastSuccessfulSignInDateTime`.
    Succeeded,
    /// An attempt after the last success: it did not succeed.
    Failed,
    /// An attempt before the last success, or with no success recorded: either.
    Unknown,
}

/// One sign-in `signInActivity` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Sighting {
    pub property: &'static str,
    pub at: DateTime<Utc>,
    pub request_id: Option<String>,
    pub outcome: Outcome,
    pub interactive: bool,
}

/// The sign-ins `user`'s `signInActivity` names, one per sign-in (an attempt that is also the last success is
/// the success). Non-interactive ones only when the job watches them.
pub(super) fn sightings(user: &User, include_non_interactive: bool) -> Vec<Sighting> {
    let Some(a) = user.sign_in_activity.as_ref() else {
        return Vec::new();
    };
    let same = |at: Option<DateTime<Utc>>,
                id: &Option<String>,
                other_at,
                other_id: &Option<String>| match (id, other_id) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => at.is_some() && at == other_at,
    };
    let success = a.last_successful_sign_in;
    let success_id = &a.last_successful_sign_in_request_id;
    let mut seen = Vec::new();
    let mut attempt = |property, at: Option<DateTime<Utc>>, id: &Option<String>, interactive| {
        let Some(at) = at else { return };
        if same(Some(at), id, success, success_id) {
            return;
        }
        let outcome = if success.is_some_and(|s| at > s) {
            Outcome::Failed
        } else {
            Outcome::Unknown
        };
        seen.push(Sighting {
            property,
            at,
            request_id: id.clone(),
            outcome,
            interactive,
        });
    };
    attempt(
        "lastSignInDateTime",
        a.last_sign_in,
        &a.last_sign_in_request_id,
        true,
    );
    if include_non_interactive {
        attempt(
            "lastNonInteractiveSignInDateTime",
            a.last_non_interactive_sign_in,
            &a.last_non_interactive_sign_in_request_id,
            false,
        );
    }
    if let Some(at) = success {
        let interactive = !same(
            success,
            success_id,
            a.last_non_interactive_sign_in,
            &a.last_non_interactive_sign_in_request_id,
        );
        if interactive || include_non_interactive {
            seen.push(Sighting {
                property: "lastSuccessfulSignInDateTime",
                at,
                request_id: success_id.clone(),
                outcome: Outcome::Succeeded,
                interactive,
            });
        }
    }
    seen
}

/// Whether `s` is a sign-in of `account` the logs have not produced yet, inside the watched time.
pub(super) fn unseen(state: &RunState, account: &str, s: &Sighting) -> bool {
    let newest = match (s.outcome, s.interactive) {
        (Outcome::Succeeded, _) => state.last_success.get(account),
        (_, true) => state.newest_interactive.get(account),
        (_, false) => state.newest_non_interactive.get(account),
    };
    state.watched_since.is_some_and(|w| s.at > w)
        && newest.is_none_or(|n| s.at > *n)
        && !state.reconciled.iter().any(|r| {
            r.account == account
                && (r.at == s.at || (r.request_id.is_some() && r.request_id == s.request_id))
        })
}

/// Alerts what `user`'s `signInActivity` shows that the logs have not.
pub(super) async fn check(
    ctx: &JobContext,
    include_non_interactive: bool,
    account: &str,
    user: &User,
    state: &mut RunState,
    report: &mut JobReport,
) -> Result<(), JobError> {
    for s in sightings(user, include_non_interactive) {
        if !unseen(state, account, &s) {
            continue;
        }
        let by_time = state.request_ids_match == Some(false) || s.request_id.is_none();
        record(ctx, &alert(ctx, user, &s, by_time), report).await?;
        report.notes.push(format!(
            "sign-in of {account} at {} alerted from signInActivity ({}); its log row is not yet available",
            s.at.to_rfc3339_opts(SecondsFormat::Secs, true),
            s.property
        ));
        state.reconciled.push(Reconciled {
            account: account.to_string(),
            request_id: s.request_id.clone(),
            at: s.at,
        });
    }
    Ok(())
}

/// The alert key of a reconciled sign-in: its request id, which its log row will carry, or, when there is
/// none or the ids are known not to match, the account and second.
fn key(account: &str, s: &Sighting, by_time: bool) -> String {
    match (&s.request_id, by_time) {
        (Some(id), false) => id.to_ascii_lowercase(),
        _ => format!("signInActivity|{account}|{}", s.at.timestamp()),
    }
}

pub(super) fn alert(ctx: &JobContext, user: &User, s: &Sighting, by_time: bool) -> Alert {
    let account = user.id.to_ascii_lowercase();
    let who = user.user_principal_name.as_deref().unwrap_or(&user.id);
    let how = if s.interactive {
        ""
    } else {
        " non-interactively"
    };
    let (kind, severity, title) = match s.outcome {
        Outcome::Succeeded => (
            types::BREAK_GLASS_SIGN_IN,
            Severity::Critical,
            format!("Emergency account {who} signed in{how} (from signInActivity; the sign-in log row is not yet available)"),
        ),
        Outcome::Failed => (
            types::BREAK_GLASS_SIGN_IN_FAILED,
            Severity::High,
            format!("Emergency account {who} failed to sign in{how} (from signInActivity: an attempt after its last success; the sign-in log row is not yet available)"),
        ),
        Outcome::Unknown => (
            types::BREAK_GLASS_SIGN_IN,
            Severity::Critical,
            format!("Emergency account {who} tried to sign in{how}, outcome not yet known (from signInActivity; the sign-in log row is not yet available)"),
        ),
    };
    let key = key(&account, s, by_time);
    let outcome = match s.outcome {
        Outcome::Succeeded => "succeeded",
        Outcome::Failed => "failed",
        Outcome::Unknown => "unknown",
    };
    Alert::new(kind, severity, ctx.tenant.clone(), &key, title, s.at)
        // The sign-in alerts' common id space (see `sign_ins::alert`): the log row, when it arrives, has this id.
        .with_id_of(types::BREAK_GLASS_SIGN_IN, &key)
        .with_subject(subject(
            &user.id,
            user.user_principal_name.as_deref(),
            user.display_name.as_deref(),
        ))
        .with_link("Sign-in log", sign_in_log_link(&user.id))
        .with_evidence("signInId", json!(s.request_id))
        .with_evidence(
            "createdDateTime",
            s.at.to_rfc3339_opts(SecondsFormat::Secs, true),
        )
        .with_evidence("source", "signInActivity")
        .with_evidence("signInActivityProperty", s.property)
        .with_evidence("logRow", "not yet available")
        .with_evidence("outcome", outcome)
        .with_evidence("interactive", s.interactive)
        .with_evidence("matchedBy", if by_time { "time" } else { "requestId" })
}

/// What to do with a log row of `account` that has just been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arrival {
    /// Record its alert as usual (the outbox drops it if reconciliation recorded its id).
    Record,
    /// Reconciliation alerted it under a time key: recording it would alert the sign-in twice.
    AlreadyAlerted,
}

pub(super) fn arrived(
    state: &mut RunState,
    account: &str,
    row: &SignIn,
    notes: &mut Vec<String>,
) -> Arrival {
    if let Some(i) = state.reconciled.iter().position(|r| {
        r.account == account
            && r.request_id
                .as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(&row.id))
    }) {
        state.reconciled.remove(i);
        state.request_ids_match = Some(true);
        return Arrival::Record;
    }
    let by_time = state.reconciled.iter().position(|r| {
        r.account == account
            && (r.request_id.is_none() || state.request_ids_match != Some(true))
            && (r.at - row.created_date_time).abs() <= SAME_TIME
    });
    let Some(i) = by_time else {
        return Arrival::Record;
    };
    let r = state.reconciled.remove(i);
    if r.request_id.is_some() && state.request_ids_match != Some(false) {
        state.request_ids_match = Some(false);
        notes.push(format!(
            "the sign-in log row {} is the sign-in signInActivity named {}: the request ids are not the rows' ids \
             here, so reconciled sign-ins are matched on account and time from now on",
            row.id,
            r.request_id.as_deref().unwrap_or("")
        ));
    }
    Arrival::AlreadyAlerted
}
