//! `GET /auditLogs/directoryAudits` (Graph docs `api/directoryaudit-list`).

use super::{charge, graph_caller, logs, page};
use crate::errors::GraphError;
use crate::odata::eval::{each_predicate, predicate_path};
use crate::odata::{Expr, Lit, Op, QueryOptions};
use crate::state::Shared;
use crate::tenant::LogEvent;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;

fn target_test(body: &Expr, var: &str) -> bool {
    match body {
        Expr::Cmp {
            path,
            op: Op::Eq,
            value: Lit::Str(_),
        } => {
            matches!(path.as_slice(), [v, f] if v == var && ["id", "userPrincipalName", "displayName"].contains(&f.as_str()))
        }
        Expr::StartsWith { path, .. } => {
            matches!(path.as_slice(), [v, f] if v == var && f == "userPrincipalName")
        }
        _ => false,
    }
}

fn check_filter(e: &Expr) -> Result<(), GraphError> {
    each_predicate(e, &mut |p| {
        let name = predicate_path(p).unwrap_or_default().join("/");
        let ok = match (name.as_str(), p) {
            // Graph docs `api/directoryaudit-list`: `$filter` supports eq, ge, le and startswith.
            (
                "activityDateTime",
                Expr::Cmp {
                    op: Op::Eq | Op::Ge | Op::Le,
                    value: Lit::DateTime(_),
                    ..
                },
            ) => true,
            (
                "activityDisplayName"
                | "category"
                | "correlationId"
                | "id"
                | "result"
                | "loggedByService"
                | "initiatedBy/user/id"
                | "initiatedBy/user/userPrincipalName"
                | "initiatedBy/user/displayName"
                | "initiatedBy/app/appId"
                | "initiatedBy/app/displayName",
                Expr::Cmp {
                    op: Op::Eq,
                    value: Lit::Str(_),
                    ..
                },
            ) => true,
            (
                "activityDisplayName"
                | "initiatedBy/user/userPrincipalName"
                | "initiatedBy/app/displayName",
                Expr::StartsWith { .. },
            ) => true,
            ("targetResources", Expr::Any { var, body, .. }) => target_test(body, var),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("the filter on '{name}' is not supported"))
        }
    })
    .map_err(|m| GraphError::bad_request(format!("Invalid filter clause: {m}.")))
}

pub async fn list(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["top", "filter", "skiptoken"])?;
    if let Some(f) = &q.filter {
        check_filter(f)?;
    }
    // `api/directoryaudit-list` documents `$top` without a limit; the 1000 documented for sign-ins
    // (`api/signin-list`) is assumed here too, so a client asking for more learns it at once.
    let size = q.page_size(1000, 1000)?;
    if !caller.has_any(&["AuditLog.Read.All"]) {
        return Err(GraphError::audit_permission_missing());
    }
    // Audit logs exist in every edition (Entra docs `reference-reports-data-retention`: 7 days on Free), so
    // unlike sign-ins no premium licence is demanded here.
    charge(&shared, &caller, false)?;
    let body = |e: &LogEvent| -> Value { e.body.clone() };
    let listing = logs::list(
        &caller.tenant.audits,
        shared.clock.now(),
        &q,
        size,
        &|_| true,
        &body,
        &body,
    )?;
    let path = format!("/{}/auditLogs/directoryAudits", version.segment());
    let next = listing
        .next
        .map(|t| q.next_link(&shared.base_url(), &path, &t));
    Ok(page(
        format!(
            "{}/{}/$metadata#auditLogs/directoryAudits",
            shared.base_url(),
            version.segment()
        ),
        listing.items,
        next,
    ))
}
