//! What the emergency-account posture checks read (REFERENCE.md §12): `GET /identity/conditionalAccess/policies`
//! (Graph docs `conditionalaccessroot-list-policies`: `Policy.Read.All`; one request a second per tenant for all
//! apps, 429 without `Retry-After`, `throttling-limits`), `/users/{id}/transitiveMemberOf/microsoft.graph.group`
//! (`user-list-transitivememberof`), `/users/{id}/authentication/methods` (`authentication-list-methods`:
//! `UserAuthenticationMethod.Read.All`) and `/roleManagement/directory/roleAssignmentScheduleInstances`
//! (`rbacapplication-list-roleassignmentscheduleinstances`, PIM: P2).

use super::roles::{list, require, require_p2, ROLE_FILTERS, ROLE_READ};
use super::{encode_token, graph_caller, offset_from, page};
use crate::errors::GraphError;
use crate::odata::QueryOptions;
use crate::state::Shared;
use crate::throttle::{Bucket, Limit, Scope};
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;

/// A tenant's posture data from its scenario.
#[derive(Debug, Default)]
pub struct Posture {
    pub policies: Vec<Value>,
    /// Each with the `userId` it belongs to, removed when served.
    pub methods: Vec<Value>,
    pub instances: Vec<Value>,
}

/// The app every Conditional Access window is charged to: the limit is per tenant for all apps.
const ALL_APPS: &str = "*";

pub async fn policies(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    QueryOptions::parse(raw.as_deref(), &["select", "filter", "top"])?;
    require(
        &caller,
        &["Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"],
    )?;
    if shared.faults.throttle_enabled() {
        let limit = Limit {
            bucket: Bucket::ConditionalAccess,
            scope: Scope::Tenant,
            budget: shared.throttle_config.conditional_access,
        };
        let now = shared.throttle_now();
        if shared
            .throttle
            .admit(&caller.tenant.id, ALL_APPS, &[limit], now)
            .is_err()
        {
            shared.stats.update(|s| s.throttled_429 += 1);
            // No `Retry-After` on these (Graph docs `throttling-limits`): the client backs off on its own.
            return Err(GraphError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests.",
            ));
        }
    }
    let ctx = format!(
        "{}/{}/$metadata#identity/conditionalAccess/policies",
        shared.base_url(),
        version.segment()
    );
    Ok(page(ctx, caller.tenant.posture.policies.clone(), None))
}

fn unknown_user(id: &str) -> GraphError {
    GraphError::not_found(format!(
        "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
    ))
}

pub async fn groups_of_user(
    State(shared): State<Arc<Shared>>,
    Path((seg, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["select", "top", "skiptoken"])?;
    require(
        &caller,
        &[
            "GroupMember.Read.All",
            "Group.Read.All",
            "Directory.Read.All",
        ],
    )?;
    let tenant = &caller.tenant;
    if tenant.user_by_id(&id).is_none() {
        return Err(unknown_user(&id));
    }
    let groups: Vec<Value> = tenant
        .groups
        .iter()
        .filter(|g| {
            super::groups::closure(tenant, &g.id, true)
                .iter()
                .any(|m| m.eq_ignore_ascii_case(&id))
        })
        .map(|g| {
            let v = json!({"@odata.type": "#microsoft.graph.group", "id": g.id,
                "displayName": g.display_name, "securityEnabled": true});
            match &q.select {
                Some(s) => {
                    let mut p = super::project(&v, s);
                    if let Some(o) = p.as_object_mut() {
                        o.insert("@odata.type".into(), json!("#microsoft.graph.group"));
                    }
                    p
                }
                None => v,
            }
        })
        .collect();
    let size = q.page_size(100, 999)? as usize;
    let start = offset_from(&q, "transitiveMemberOf")?;
    let end = (start + size).min(groups.len());
    let path = format!(
        "/{}/users/{id}/transitiveMemberOf/microsoft.graph.group",
        version.segment()
    );
    let next = (end < groups.len()).then(|| {
        q.next_link(
            &shared.base_url(),
            &path,
            &encode_token(&format!("transitiveMemberOf:{end}")),
        )
    });
    let ctx = format!(
        "{}/{}/$metadata#groups",
        shared.base_url(),
        version.segment()
    );
    Ok(page(ctx, groups[start.min(end)..end].to_vec(), next))
}

pub async fn methods(
    State(shared): State<Arc<Shared>>,
    Path((seg, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    QueryOptions::parse(raw.as_deref(), &["select"])?;
    require(
        &caller,
        &[
            "UserAuthenticationMethod.Read.All",
            "UserAuthenticationMethod.ReadWrite.All",
        ],
    )?;
    if caller.tenant.user_by_id(&id).is_none() {
        return Err(unknown_user(&id));
    }
    let items: Vec<Value> = caller
        .tenant
        .posture
        .methods
        .iter()
        .filter(|m| {
            m.get("userId")
                .and_then(Value::as_str)
                .is_some_and(|u| u.eq_ignore_ascii_case(&id))
        })
        .map(|m| {
            let mut m = m.clone();
            if let Some(o) = m.as_object_mut() {
                o.remove("userId");
            }
            m
        })
        .collect();
    let ctx = format!(
        "{}/{}/$metadata#users('{id}')/authentication/methods",
        shared.base_url(),
        version.segment()
    );
    Ok(page(ctx, items, None))
}

pub async fn assignment_instances(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    require(&caller, &ROLE_READ)?;
    require_p2(&caller)?;
    list(
        &shared,
        &caller,
        version,
        raw.as_deref(),
        &caller.tenant.posture.instances,
        "roleManagement/directory/roleAssignmentScheduleInstances",
        &ROLE_FILTERS,
    )
}
