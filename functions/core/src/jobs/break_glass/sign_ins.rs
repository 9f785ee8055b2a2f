//! Sign-ins of the emergency accounts, successes and failures alike, interactive and
//! non-interactive (REFERENCE.md §2: Microsoft's own recipe misses the latter). Both kinds come in
//! one beta request when Graph accepts the combined event-type filter, else interactive ones on
//! v1.0 and non-interactive ones on beta.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::alert::{types, Alert, Severity};
use crate::graph::model::SignIn;
use crate::graph::{GraphError, SignInKind, SignInQuery, TimeWindow};

use super::super::{JobContext, JobError, JobReport};
use super::evidence::{error_code_meaning, sign_in_evidence, sign_in_log_link, subject};
use super::state::RunState;
use super::{reconcile, record, unreadable, Accounts};

/// Account ids per `$filter` (`(userId eq 'a' or userId eq 'b' ...)`). Graph documents no limit
/// for `or` on sign-ins; 20 ids make a filter of about 1,100 characters and let 20 accounts cost
/// one sign-in request plus two audit requests, within the 5-per-10-s report budget
/// (REFERENCE.md §4; `benches/break_glass.rs`). A 400 makes the job fall back to one id per
/// request for good (remembered in the state).
pub(super) const IDS_PER_FILTER: usize = 20;

/// Reads every sign-in of the accounts in `window` and records one alert per sign-in id.
///
/// With `include_non_interactive`, both kinds are read in one beta request per chunk of accounts:
/// Graph's reports limit is shared by every tenant of the app (122 requests per 10 s, REFERENCE.md
/// §4), so each request a run saves lets one app watch more tenants. Whether Graph accepts `or`
/// inside `signInEventTypes/any(...)` is probed at run time: a 400 makes the job read the two
/// kinds separately, for good (remembered in the state, like the one-account fallback).
pub(super) async fn scan(
    ctx: &JobContext,
    include_non_interactive: bool,
    accounts: &Accounts,
    window: TimeWindow,
    state: &mut RunState,
    report: &mut JobReport,
) -> Result<(), JobError> {
    if include_non_interactive && !state.separate_sign_in_kinds {
        for chunk in accounts.ids().chunks(ids_per_request(state)) {
            read_both_kinds(ctx, accounts, chunk, window, state, report).await?;
        }
        return Ok(());
    }
    let mut kinds = vec![SignInKind::Interactive];
    if include_non_interactive {
        kinds.push(SignInKind::NonInteractive);
    }
    for kind in kinds {
        for chunk in accounts.ids().chunks(ids_per_request(state)) {
            read_kind(ctx, accounts, kind, chunk, window, state, report).await?;
        }
    }
    Ok(())
}

fn ids_per_request(state: &RunState) -> usize {
    if state.one_user_per_sign_in_filter {
        1
    } else {
        IDS_PER_FILTER
    }
}

/// Both kinds of `ids` in one request; on a 400, each kind on its own. The 400 may be Graph
/// refusing the combined event types or the `or` of several accounts: only when the separate
/// reads of the same accounts go through is it the former, and then it is remembered.
async fn read_both_kinds(
    ctx: &JobContext,
    accounts: &Accounts,
    ids: &[String],
    window: TimeWindow,
    state: &mut RunState,
    report: &mut JobReport,
) -> Result<(), JobError> {
    let query = SignInQuery {
        kind: SignInKind::InteractiveAndNonInteractive,
        window,
        user_ids: ids.to_vec(),
    };
    match read(ctx, accounts, &query, state, report).await {
        Err(JobError::Graph(GraphError::Api { status: 400, .. })) => {
            let one_user_before = state.one_user_per_sign_in_filter;
            for kind in [SignInKind::Interactive, SignInKind::NonInteractive] {
                read_kind(ctx, accounts, kind, ids, window, state, report).await?;
            }
            if state.one_user_per_sign_in_filter == one_user_before {
                state.separate_sign_in_kinds = true;
                report.notes.push(
                    "Graph refused interactive and non-interactive sign-ins in one filter; reading them in two requests"
                        .into(),
                );
            }
            Ok(())
        }
        other => other,
    }
}

/// One kind of sign-in of `ids`, in one request unless Graph refuses several accounts in one
/// filter (then one account per request, remembered).
async fn read_kind(
    ctx: &JobContext,
    accounts: &Accounts,
    kind: SignInKind,
    ids: &[String],
    window: TimeWindow,
    state: &mut RunState,
    report: &mut JobReport,
) -> Result<(), JobError> {
    let query = |user_ids: &[String]| SignInQuery {
        kind,
        window,
        user_ids: user_ids.to_vec(),
    };
    if !state.one_user_per_sign_in_filter || ids.len() == 1 {
        match read(ctx, accounts, &query(ids), state, report).await {
            Err(JobError::Graph(GraphError::Api { status: 400, .. })) if ids.len() > 1 => {
                state.one_user_per_sign_in_filter = true;
                report.notes.push(
                    "Graph refused several accounts in one sign-in filter; reading one account per request"
                        .into(),
                );
            }
            other => return other,
        }
    }
    for id in ids {
        read(
            ctx,
            accounts,
            &query(std::slice::from_ref(id)),
            state,
            report,
        )
        .await?;
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
        for bad in &page.malformed {
            report.examined += 1;
            report.unreadable += 1;
            if let Some(alert) = unreadable::sign_in(ctx, accounts, bad) {
                record(ctx, &alert, report).await?;
            }
        }
        for sign_in in &page.items {
            report.examined += 1;
            // The filter names the accounts, but a sign-in of anyone else must never page anyone.
            let Some(account) = accounts.get(&sign_in.user_id) else {
                tracing::warn!(tenant = %ctx.tenant.name, sign_in = %sign_in.id, "Graph returned a sign-in of an account not asked for; ignored");
                continue;
            };
            let interactive = interactive(ctx, query.kind, sign_in);
            let at = sign_in.created_date_time;
            let newest = if interactive {
                &mut state.newest_interactive
            } else {
                &mut state.newest_non_interactive
            };
            note_newest(newest, account, at);
            if sign_in.status.succeeded() {
                note_newest(&mut state.last_success, account, at);
            }
            match reconcile::arrived(state, account, sign_in, &mut report.notes) {
                reconcile::Arrival::Record => {
                    record(ctx, &alert(ctx, sign_in, interactive), report).await?
                }
                reconcile::Arrival::AlreadyAlerted => {
                    tracing::info!(tenant = %ctx.tenant.name, sign_in = %sign_in.id,
                        "sign-in already alerted from signInActivity (matched on time)");
                }
            }
        }
        match page.next_link {
            Some(link) => next = Some(link),
            None => return Ok(()),
        }
    }
}

/// Keeps the later of what `newest` holds for `account` and `at`.
fn note_newest(newest: &mut BTreeMap<String, DateTime<Utc>>, account: &str, at: DateTime<Utc>) {
    let seen = newest.entry(account.to_string()).or_insert(at);
    *seen = (*seen).max(at);
}

/// Whether the alert words the sign-in as interactive: as the request asked, unless it asked for
/// both kinds, when the row says which it is. A row that says neither is worded as interactive,
/// the wording without a qualifier.
fn interactive(ctx: &JobContext, asked: SignInKind, s: &SignIn) -> bool {
    match asked {
        SignInKind::Interactive => true,
        SignInKind::NonInteractive => false,
        SignInKind::InteractiveAndNonInteractive => s.interactive().unwrap_or_else(|| {
            tracing::warn!(tenant = %ctx.tenant.name, sign_in = %s.id, "sign-in with neither signInEventTypes nor isInteractive; worded as interactive");
            true
        }),
    }
}

/// `break_glass.sign_in` (critical) for a success, `break_glass.sign_in_failed` (high) for a
/// failure. A sign-in whose status Graph left empty (`{}`) is not known to have failed, so it is
/// treated as a sign-in. Both share one id per sign-in id (SPEC.md "Alerts": one alert per
/// sign-in id, ever): the first verdict stands when a later read shows the row with another
/// status.
pub(super) fn alert(ctx: &JobContext, s: &SignIn, interactive: bool) -> Alert {
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
    // The id derives from the sign-in id alone, not from the request that read the row: a sign-in
    // alerted from a v1.0 or a beta read (earlier versions, or the fallback) is not alerted again
    // from the combined read.
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
