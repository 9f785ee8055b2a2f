//! `GET /groups/{id}/members` and `/groups/{id}/transitiveMembers` (Graph docs `api/group-list-members`,
//! `api/group-list-transitivemembers`): users and nested groups with their `@odata.type`.

use super::{encode_token, graph_caller, offset_from, page};
use crate::errors::GraphError;
use crate::odata::QueryOptions;
use crate::state::Shared;
use crate::tenant::TenantState;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

/// Member ids in breadth-first order, each once; cycles end where they meet an id already seen.
pub(super) fn closure(tenant: &TenantState, root: &str, transitive: bool) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::from([root.to_ascii_lowercase()]);
    let mut out = Vec::new();
    let mut queue = VecDeque::from([root.to_string()]);
    while let Some(gid) = queue.pop_front() {
        let Some(g) = tenant.group(&gid) else {
            continue;
        };
        for m in &g.members {
            if seen.insert(m.to_ascii_lowercase()) {
                out.push(m.clone());
                if transitive && tenant.group(m).is_some() {
                    queue.push_back(m.clone());
                }
            }
        }
    }
    out
}

fn member(tenant: &TenantState, id: &str, select: Option<&[String]>) -> Option<Value> {
    if let Some(u) = tenant.user_by_id(id) {
        let mut v = super::users::shape_user(&u, select);
        if let Some(o) = v.as_object_mut() {
            o.insert("@odata.type".into(), json!("#microsoft.graph.user"));
        }
        return Some(v);
    }
    let v = super::roles::principal(tenant, id)?;
    let kind = v.get("@odata.type").cloned();
    let mut v = match select {
        Some(s) => super::project(&v, s),
        None => v,
    };
    if let (Some(o), Some(k)) = (v.as_object_mut(), kind) {
        o.insert("@odata.type".into(), k);
    }
    Some(v)
}

async fn list(
    shared: Arc<Shared>,
    seg: String,
    id: String,
    raw: Option<String>,
    headers: HeaderMap,
    transitive: bool,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["select", "top", "skiptoken"])?;
    if !caller.has_any(&[
        "GroupMember.Read.All",
        "Group.Read.All",
        "Directory.Read.All",
        "Group.ReadWrite.All",
    ]) {
        return Err(GraphError::insufficient_privileges());
    }
    let tenant = &caller.tenant;
    if tenant.group(&id).is_none() {
        return Err(GraphError::not_found(format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present.")));
    }
    let size = q.page_size(100, 999)? as usize;
    let kind = if transitive {
        "transitiveMembers"
    } else {
        "members"
    };
    let start = offset_from(&q, kind)?;
    let ids = closure(tenant, &id, transitive);
    let items: Vec<Value> = ids
        .iter()
        .skip(start)
        .take(size)
        .filter_map(|m| member(tenant, m, q.select.as_deref()))
        .collect();
    let end = start.saturating_add(size);
    let path = format!("/{}/groups/{id}/{kind}", version.segment());
    let next = (end < ids.len()).then(|| {
        q.next_link(
            &shared.base_url(),
            &path,
            &encode_token(&format!("{kind}:{end}")),
        )
    });
    Ok(page(
        format!(
            "{}/{}/$metadata#directoryObjects",
            shared.base_url(),
            version.segment()
        ),
        items,
        next,
    ))
}

pub async fn transitive_members(
    State(shared): State<Arc<Shared>>,
    Path((seg, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    list(shared, seg, id, raw, headers, true).await
}

pub async fn members(
    State(shared): State<Arc<Shared>>,
    Path((seg, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    list(shared, seg, id, raw, headers, false).await
}
