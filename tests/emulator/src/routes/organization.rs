//! `GET /organization` (Graph docs `api/organization-list`): the tenant's id, name and verified domains, for
//! clients that check which tenant a credential reaches.

use super::{graph_caller, page};
use crate::errors::GraphError;
use crate::odata::QueryOptions;
use crate::state::Shared;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

pub async fn list(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["select"])?;
    let t = &caller.tenant;
    let org = json!({
        "id": t.id,
        "displayName": t.name,
        "tenantType": "AAD",
        "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true,
            "isInitial": true, "name": t.domain, "type": "Managed"}],
    });
    let org = match &q.select {
        Some(s) => super::project(&org, s),
        None => org,
    };
    let ctx = format!(
        "{}/{}/$metadata#organization",
        shared.base_url(),
        version.segment()
    );
    Ok(page(ctx, vec![org], None))
}
