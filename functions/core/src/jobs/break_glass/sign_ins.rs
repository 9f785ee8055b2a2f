//! Sign-ins of the emergency accounts: interactive ones on v1.0, non-interactive ones on beta
//! (REFERENCE.md §2: Microsoft's own recipe misses the latter), successes and failures alike.

use crate::alert::{types, Alert, Severity};
use crate::graph::model::SignIn;
use crate::graph::{GraphError, SignInKind, SignInQuery, TimeWindow};

use super::super::{JobContext, JobError, JobReport};
use super::evidence::{error_code_meaning, sign_in_evidence, sign_in_log_link, subject};
use super::state::RunState;
use super::{record, Accounts};

/// Account ids per `$filter` (`(userId eq 'a' or userId eq 'b' ...)`). Graph documents no limit
/// for `or` on sign-ins; 20 ids make a filter of about 1,100 characters and let 20 accounts cost
/// two sign-in requests plus two audit requests, within the 5-per-10-s report budget
/// (REFERENCE.md §4; `benches/break_glass.rs`). A 400 makes the job fall back to one id per
/// request for good (remembered in the state).
pub(super) const IDS_PER_FILTER: usize = 20;

/// Reads every sign-in of the accounts in `window` and records one alert per sign-in id.
pub(super) async fn scan(
    ctx: &JobContext,
    include_non_interactive: bool,
    accounts: &Accounts,
    window: TimeWindow,
    state: &mut RunState,
    report: &mut JobReport,
) -> Result<(), JobError> {
    let mut kinds = vec![SignInKind::Interactive];
    if include_non_interactive {
        kinds.push(SignInKind::NonInteractive);
    }
    for kind in kinds {
        let per_request = if state.one_user_per_sign_in_filter {
            1
        } else {
            IDS_PER_FILTER
        };
        for chunk in accounts.ids().chunks(per_request) {
            let query = SignInQuery {
                kind,
                window,
                user_ids: chunk.to_vec(),
            };
            match read(ctx, accounts, &query, state, report).await {
                Err(JobError::Graph(GraphError::Api { status: 400, .. })) if chunk.len() > 1 => {
                    state.one_user_per_sign_in_filter = true;
                    report.notes.push(
                        "Graph refused several accounts in one sign-in filter; reading one account per request"
                            .into(),
                    );
                    for id in chunk {
                        let single = SignInQuery {
                            user_ids: vec![id.clone()],
                            ..query.clone()
                        };
                        read(ctx, accounts, &single, state, report).await?;
                    }
                }
                other => other?,
            }
        }
    }
    Ok(())
}

/// Every page of one query; each page's alerts are in the outbox before the next page is asked for.
async fn read(
    ctx: &JobContext,
    accounts: &Accounts,
    query: &SignInQuery,
    state: &mut RunState,
    report: &mut JobReport,
) -> Result<(), JobError> {
    let mut next: Option<String> = None;
    loop {
        let page = ctx.graph.list_sign_ins(query, next.as_deref()).await?;
        for sign_in in &page.items {
            report.examined += 1;
            // The filter names the accounts, but a sign-in of anyone else must never page anyone.
            let Some(account) = accounts.get(&sign_in.user_id) else {
                tracing::warn!(tenant = %ctx.tenant.name, sign_in = %sign_in.id, "Graph returned a sign-in of an account not asked for; ignored");
                continue;
            };
            if sign_in.status.succeeded() {
                let seen = state
                    .last_success
                    .entry(account.to_string())
                    .or_insert(sign_in.created_date_time);
                *seen = (*seen).max(sign_in.created_date_time);
            }
            record(ctx, &alert(ctx, sign_in, query.kind), report).await?;
        }
        match page.next_link {
            Some(link) => next = Some(link),
            None => return Ok(()),
        }
    }
}

/// `break_glass.sign_in` (critical) for a success, `break_glass.sign_in_failed` (high) for a
/// failure. A sign-in whose status Graph left empty (`{}`) is not known to have failed, so it is
/// treated as a sign-in. Both share one id per sign-in id (SPEC.md "Alerts": one alert per
/// sign-in id, ever): the first verdict stands when a later read shows the row with another
/// status.
pub(super) fn alert(ctx: &JobContext, s: &SignIn, kind: SignInKind) -> Alert {
    let interactive = kind == SignInKind::Interactive;
    let who = s
        .user_principal_name
        .as_deref()
        .or(s.user_display_name.as_deref())
        .unwrap_or(&s.user_id);
    let how = if interactive {
        ""
    } else {
        " non-interactively"
    };
    let (kind, severity, title) = match s.status.error_code {
        Some(0) => (
            types::BREAK_GLASS_SIGN_IN,
            Severity::Critical,
            format!("Emergency account {who} signed in{how}"),
        ),
        None => (
            types::BREAK_GLASS_SIGN_IN,
            Severity::Critical,
            format!("Emergency account {who} signed in{how} (Graph reported no outcome)"),
        ),
        Some(code) => {
            let meaning = error_code_meaning(code)
                .map(str::to_string)
                .or_else(|| s.status.failure_reason.clone())
                .unwrap_or_else(|| "see the sign-in log".into());
            (
                types::BREAK_GLASS_SIGN_IN_FAILED,
                Severity::High,
                format!("Emergency account {who} failed to sign in{how} ({code}: {meaning})"),
            )
        }
    };
    let mut alert = Alert::new(
        kind,
        severity,
        ctx.tenant.clone(),
        &s.id,
        title,
        s.created_date_time,
    )
    .with_id_of(types::BREAK_GLASS_SIGN_IN, &s.id)
    .with_subject(subject(
        &s.user_id,
        s.user_principal_name.as_deref(),
        s.user_display_name.as_deref(),
    ))
    .with_link("Sign-in log", sign_in_log_link(&s.user_id));
    alert.evidence = sign_in_evidence(s, interactive);
    alert
}
