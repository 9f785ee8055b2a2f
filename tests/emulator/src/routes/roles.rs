//! `GET /roleManagement/directory/roleAssignments` and `.../roleEligibilitySchedules`
//! (Graph docs `api/rbacapplication-list-roleassignments`, `api/rbacapplication-list-roleeligibilityschedules`).

use super::{encode_token, graph_caller, offset_from, page};
use crate::errors::GraphError;
use crate::odata::eval::{each_predicate, matches, predicate_path};
use crate::odata::{Expr, Lit, Op, QueryOptions, Version};
use crate::state::{Caller, Shared};
use crate::tenant::TenantState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;

/// A directory object as `$expand=principal` returns it, with its `@odata.type`.
pub(crate) fn principal(tenant: &TenantState, id: &str) -> Option<Value> {
    if let Some(u) = tenant.user_by_id(id) {
        let select: Vec<String> = [
            "displayName",
            "userPrincipalName",
            "mail",
            "accountEnabled",
            "userType",
            "businessPhones",
            "imAddresses",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut v = super::users::shape_user(&u, Some(&select));
        if let Some(o) = v.as_object_mut() {
            o.insert("@odata.type".into(), json!("#microsoft.graph.user"));
        }
        return Some(v);
    }
    if let Some(g) = tenant.group(id) {
        return Some(json!({
            "@odata.type": "#microsoft.graph.group", "id": g.id, "displayName": g.display_name,
            "isAssignableToRole": g.is_assignable_to_role, "securityEnabled": true, "mailEnabled": false,
        }));
    }
    tenant.service_principal(id).map(|sp| {
        let mut v = sp.clone();
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "@odata.type".into(),
                json!("#microsoft.graph.servicePrincipal"),
            );
        }
        v
    })
}

fn check_filter(e: &Expr) -> Result<(), GraphError> {
    each_predicate(e, &mut |p| {
        let name = predicate_path(p).unwrap_or_default().join("/");
        match (name.as_str(), p) {
            (
                "principalId" | "roleDefinitionId" | "directoryScopeId" | "id",
                Expr::Cmp {
                    op: Op::Eq,
                    value: Lit::Str(_),
                    ..
                },
            ) => Ok(()),
            _ => Err(format!("the filter on '{name}' is not supported")),
        }
    })
    .map_err(|m| GraphError::bad_request(format!("Invalid filter clause: {m}.")))
}

fn list(
    shared: &Shared,
    caller: &Caller,
    version: Version,
    raw: Option<&str>,
    items: &[Value],
    what: &str,
) -> Result<Response, GraphError> {
    let q = QueryOptions::parse(raw, &["filter", "expand", "top", "skiptoken", "select"])?;
    if let Some(f) = &q.filter {
        check_filter(f)?;
    }
    let expand = match q.expand.as_deref() {
        None => false,
        Some("principal") => true,
        Some(other) => return Err(GraphError::bad_request(format!("Could not find a property named '{other}' on type 'microsoft.graph.unifiedRoleAssignment'."))),
    };
    let size = q.page_size(100, 999)?;
    let start = offset_from(&q, what)?;
    let matching: Vec<&Value> = items
        .iter()
        .filter(|v| q.filter.as_ref().is_none_or(|f| matches(f, v)))
        .collect();
    let mut out = Vec::new();
    for v in matching.iter().skip(start).take(size as usize) {
        let mut v = match &q.select {
            Some(s) => super::project(v, s),
            None => (*v).clone(),
        };
        if expand {
            let pid = v
                .get("principalId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if let (Some(o), Some(p)) = (v.as_object_mut(), principal(&caller.tenant, &pid)) {
                o.insert("principal".into(), p);
            }
        }
        out.push(v);
    }
    let end = start + out.len();
    let path = format!("/{}/roleManagement/directory/{what}", version.segment());
    let next = (end < matching.len()).then(|| {
        q.next_link(
            &shared.base_url(),
            &path,
            &encode_token(&format!("{what}:{end}")),
        )
    });
    let ctx = format!(
        "{}/{}/$metadata#roleManagement/directory/{what}{}",
        shared.base_url(),
        version.segment(),
        if expand { "(principal())" } else { "" }
    );
    Ok(page(ctx, out, next))
}

pub async fn assignments(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    if !caller.has_any(&[
        "RoleManagement.Read.Directory",
        "RoleManagement.Read.All",
        "Directory.Read.All",
        "RoleManagement.ReadWrite.Directory",
    ]) {
        return Err(GraphError::insufficient_privileges());
    }
    list(
        &shared,
        &caller,
        version,
        raw.as_deref(),
        &caller.tenant.role_assignments,
        "roleAssignments",
    )
}

pub async fn eligibility(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    if !caller.has_any(&[
        "RoleEligibilitySchedule.Read.Directory",
        "RoleManagement.Read.Directory",
        "RoleManagement.Read.All",
        "RoleManagement.ReadWrite.Directory",
    ]) {
        return Err(GraphError::insufficient_privileges());
    }
    if !caller.tenant.p2 {
        // PIM needs Entra ID P2 (Entra docs `privileged-identity-management/subscription-requirements`). The exact
        // Graph error code for a tenant without it is not documented; `AadPremiumLicenseRequired` is the code
        // reported by users of the PIM APIs and may differ.
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "AadPremiumLicenseRequired",
            "The tenant needs an AAD Premium 2 license.",
        ));
    }
    list(
        &shared,
        &caller,
        version,
        raw.as_deref(),
        &caller.tenant.role_eligibility_schedules,
        "roleEligibilitySchedules",
    )
}
