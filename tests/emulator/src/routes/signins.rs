//! `GET /auditLogs/signIns` (Graph docs `api/signin-list`, v1.0 and beta).
//!
//! v1.0 lists interactive sign-ins only; beta also filters on `signInEventTypes/any(...)` for
//! non-interactive, service-principal and managed-identity sign-ins (REFERENCE §2).

use super::{charge, graph_caller, logs, page};
use crate::errors::GraphError;
use crate::odata::eval::{each_predicate, predicate_path};
use crate::odata::{Expr, Lit, Op, QueryOptions, Version};
use crate::state::Shared;
use crate::tenant::LogEvent;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;

const EVENT_TYPES: [&str; 4] = [
    "interactiveUser",
    "nonInteractiveUser",
    "servicePrincipal",
    "managedIdentity",
];

fn event_type_test(body: &Expr, var: &str) -> bool {
    match body {
        Expr::Or(v) => v.iter().all(|x| event_type_test(x, var)),
        Expr::Cmp {
            path,
            op: Op::Eq,
            value: Lit::Str(s),
        } => path.len() == 1 && path[0] == var && EVENT_TYPES.contains(&s.as_str()),
        _ => false,
    }
}

/// Returns whether the filter chooses event types itself; refuses what Graph does not support.
fn check_filter(e: &Expr, version: Version) -> Result<bool, GraphError> {
    let mut types = false;
    each_predicate(e, &mut |p| {
        let name = predicate_path(p).unwrap_or_default().join("/");
        let ok = match (name.as_str(), p) {
            (
                "createdDateTime",
                Expr::Cmp {
                    op,
                    value: Lit::DateTime(_),
                    ..
                },
            ) => *op != Op::Ne,
            (
                "userId"
                | "appId"
                | "correlationId"
                | "id"
                | "userPrincipalName"
                | "ipAddress"
                | "conditionalAccessStatus"
                | "appDisplayName"
                | "userDisplayName"
                | "resourceId",
                Expr::Cmp {
                    op: Op::Eq | Op::Ne,
                    value: Lit::Str(_),
                    ..
                },
            ) => true,
            (
                "userPrincipalName" | "appDisplayName" | "userDisplayName",
                Expr::StartsWith { .. },
            ) => true,
            (
                "status/errorCode",
                Expr::Cmp {
                    op: Op::Eq | Op::Ne,
                    value: Lit::Int(_),
                    ..
                },
            ) => true,
            (
                "isInteractive",
                Expr::Cmp {
                    op: Op::Eq,
                    value: Lit::Bool(_),
                    ..
                },
            ) => version == Version::Beta,
            ("signInEventTypes", Expr::Any { var, body, .. }) if version == Version::Beta => {
                types = true;
                event_type_test(body, var)
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "the filter on '{name}' is not supported on {}",
                version.segment()
            ))
        }
    })
    .map_err(|m| GraphError::bad_request(format!("Invalid filter clause: {m}.")))?;
    Ok(types)
}

fn view(e: &LogEvent) -> Value {
    e.body.clone()
}

pub async fn list(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["top", "filter", "skiptoken"])?;
    let chooses_types = match &q.filter {
        Some(f) => check_filter(f, version)?,
        None => false,
    };
    let size = q.page_size(1000, 1000)?;
    if !caller.has_any(&["AuditLog.Read.All"]) {
        return Err(GraphError::audit_permission_missing());
    }
    if !caller.tenant.premium {
        return Err(GraphError::not_premium());
    }
    charge(&shared, &caller, false)?;
    // Without a signInEventTypes filter Graph lists interactive sign-ins only, on v1.0 and beta alike.
    let keep = |e: &LogEvent| chooses_types || e.event_type == "interactiveUser";
    let output = |e: &LogEvent| match version {
        Version::Beta => view(e),
        Version::V1 => crate::defaults::v1_sign_in(&e.body),
    };
    let listing = logs::list(
        &caller.tenant.sign_ins,
        shared.clock.now(),
        &q,
        size,
        &keep,
        &view,
        &output,
    )?;
    let path = format!("/{}/auditLogs/signIns", version.segment());
    let next = listing
        .next
        .map(|t| q.next_link(&shared.base_url(), &path, &t));
    Ok(page(
        format!(
            "{}/{}/$metadata#auditLogs/signIns",
            shared.base_url(),
            version.segment()
        ),
        listing.items,
        next,
    ))
}
