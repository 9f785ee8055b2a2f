//! `GET /roleManagement/directory/roleAssignments`, `.../roleEligibilitySchedules`, `.../roleDefinitions` and
//! `/identityGovernance/privilegedAccess/group/eligibilitySchedules` (Graph docs
//! `api/rbacapplication-list-roleassignments`, `api/rbacapplication-list-roleeligibilityschedules`,
//! `api/rbacapplication-list-roledefinitions`, `api/privilegedaccessgroup-list-eligibilityschedules`).

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

/// Permissions that read role assignments and definitions (Graph docs, each API's "Permissions" table).
pub(super) const ROLE_READ: [&str; 4] = [
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "Directory.Read.All",
    "RoleManagement.ReadWrite.Directory",
];

pub(super) fn require(caller: &Caller, any_of: &[&str]) -> Result<(), GraphError> {
    if caller.has_any(any_of) {
        Ok(())
    } else {
        Err(GraphError::insufficient_privileges())
    }
}

/// PIM (for roles and for groups) needs Entra ID P2 (Entra docs `privileged-identity-management/
/// subscription-requirements`). The exact Graph error code for a tenant without it is not documented;
/// `AadPremiumLicenseRequired` is the code reported by users of the PIM APIs and may differ.
pub(super) fn require_p2(caller: &Caller) -> Result<(), GraphError> {
    if caller.tenant.p2 {
        Ok(())
    } else {
        Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "AadPremiumLicenseRequired",
            "The tenant needs an AAD Premium 2 license.",
        ))
    }
}

/// Properties each list filters on (`eq` with a string), from each API page's `$filter` notes.
pub(super) const ROLE_FILTERS: [&str; 4] =
    ["principalId", "roleDefinitionId", "directoryScopeId", "id"];
const GROUP_ELIGIBILITY_FILTERS: [&str; 4] = ["groupId", "principalId", "accessId", "id"];

fn check_filter(e: &Expr, allowed: &[&str]) -> Result<(), GraphError> {
    each_predicate(e, &mut |p| {
        let name = predicate_path(p).unwrap_or_default().join("/");
        match (name.as_str(), p) {
            (
                n,
                Expr::Cmp {
                    op: Op::Eq,
                    value: Lit::Str(_),
                    ..
                },
            ) if allowed.contains(&n) => Ok(()),
            _ => Err(format!("the filter on '{name}' is not supported")),
        }
    })
    .map_err(|m| GraphError::bad_request(format!("Invalid filter clause: {m}.")))
}

/// The collection under `base` (e.g. `roleManagement/directory/roleAssignments`), filtered on `filters`.
pub(super) fn list(
    shared: &Shared,
    caller: &Caller,
    version: Version,
    raw: Option<&str>,
    items: &[Value],
    base: &str,
    filters: &[&str],
) -> Result<Response, GraphError> {
    let what = base.rsplit('/').next().unwrap_or(base);
    let q = QueryOptions::parse(raw, &["filter", "expand", "top", "skiptoken", "select"])?;
    if let Some(f) = &q.filter {
        check_filter(f, filters)?;
    }
    if what == "eligibilitySchedules" && !filters_group_or_principal(q.filter.as_ref()) {
        // Graph docs `privilegedaccessgroup-list-eligibilityschedules.md`: the list needs a $filter on groupId or
        // principalId (issue 14 brief: Graph answers 400 without one). The exact error body is not documented.
        return Err(GraphError::bad_request(
            "The request requires a $filter on groupId or principalId.",
        ));
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
    let path = format!("/{}/{base}", version.segment());
    let next = (end < matching.len()).then(|| {
        q.next_link(
            &shared.base_url(),
            &path,
            &encode_token(&format!("{what}:{end}")),
        )
    });
    let ctx = format!(
        "{}/{}/$metadata#{base}{}",
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
    require(&caller, &ROLE_READ)?;
    list(
        &shared,
        &caller,
        version,
        raw.as_deref(),
        &caller.tenant.role_assignments,
        "roleManagement/directory/roleAssignments",
        &ROLE_FILTERS,
    )
}

pub async fn eligibility(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    require(
        &caller,
        &[
            "RoleEligibilitySchedule.Read.Directory",
            "RoleManagement.Read.Directory",
            "RoleManagement.Read.All",
            "RoleManagement.ReadWrite.Directory",
        ],
    )?;
    require_p2(&caller)?;
    list(
        &shared,
        &caller,
        version,
        raw.as_deref(),
        &caller.tenant.role_eligibility_schedules,
        "roleManagement/directory/roleEligibilitySchedules",
        &ROLE_FILTERS,
    )
}

/// The built-in role definitions the emulator serves when a scenario declares none: REFERENCE.md §3's privileged
/// roles (`isPrivileged` true) and three read-only ones (false).
pub(crate) fn builtin_role_definitions() -> Vec<Value> {
    serde_json::from_str(include_str!("role_definitions.json")).unwrap_or_default()
}

fn filters_group_or_principal(filter: Option<&Expr>) -> bool {
    let mut found = false;
    if let Some(f) = filter {
        let _ = each_predicate(f, &mut |p| {
            let name = predicate_path(p).unwrap_or_default().join("/");
            found |= name == "groupId" || name == "principalId";
            Ok(())
        });
    }
    found
}

pub async fn definitions(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    require(&caller, &ROLE_READ)?;
    list(
        &shared,
        &caller,
        version,
        raw.as_deref(),
        &caller.tenant.role_definitions,
        "roleManagement/directory/roleDefinitions",
        &["id", "templateId", "displayName"],
    )
}

pub async fn group_eligibility(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    // Graph docs `privilegedaccessgroup-list-eligibilityschedules.md`, "Permissions".
    require(
        &caller,
        &[
            "PrivilegedEligibilitySchedule.Read.AzureADGroup",
            "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup",
            "PrivilegedAccess.Read.AzureADGroup",
            "PrivilegedAccess.ReadWrite.AzureADGroup",
        ],
    )?;
    require_p2(&caller)?;
    list(
        &shared,
        &caller,
        version,
        raw.as_deref(),
        &caller.tenant.group_eligibility_schedules,
        "identityGovernance/privilegedAccess/group/eligibilitySchedules",
        &GROUP_ELIGIBILITY_FILTERS,
    )
}
