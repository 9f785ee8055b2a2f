//! HTTP routing, the per-request middleware (stats, latency, injected faults) and helpers every Graph
//! endpoint shares (authentication, throttling, paging).

mod audits;
mod groups;
mod logs;
mod organization;
pub(crate) mod posture;
mod registration;
mod roles;
pub(crate) use roles::builtin_role_definitions;
mod signins;
mod user_filter;
mod users;
mod workloads;

use crate::errors::{GraphError, REQUEST_ID};
use crate::odata::{QueryOptions, Version};
use crate::state::{Caller, Shared};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(crate::control::router())
        .route("/{seg}/oauth2/v2.0/token", post(crate::oauth::token))
        .route(
            "/{seg}/v2.0/.well-known/openid-configuration",
            get(crate::oauth::openid_configuration),
        )
        .route("/{seg}/discovery/v2.0/keys", get(crate::oauth::jwks_v2))
        .route("/{seg}/discovery/keys", get(crate::oauth::jwks_v1))
        .route("/{seg}/organization", get(organization::list))
        .route("/{seg}/users", get(users::list))
        .route("/{seg}/users/$count", get(users::count))
        .route("/{seg}/users/{id}", get(users::one))
        .route(
            "/{seg}/users/{id}/transitiveMemberOf/microsoft.graph.group",
            get(posture::groups_of_user),
        )
        .route(
            "/{seg}/users/{id}/authentication/methods",
            get(posture::methods),
        )
        .route(
            "/{seg}/identity/conditionalAccess/policies",
            get(posture::policies),
        )
        .route(
            "/{seg}/roleManagement/directory/roleAssignmentScheduleInstances",
            get(posture::assignment_instances),
        )
        .route("/{seg}/auditLogs/signIns", get(signins::list))
        .route("/{seg}/auditLogs/directoryAudits", get(audits::list))
        .route(
            "/{seg}/roleManagement/directory/roleAssignments",
            get(roles::assignments),
        )
        .route(
            "/{seg}/roleManagement/directory/roleEligibilitySchedules",
            get(roles::eligibility),
        )
        .route(
            "/{seg}/roleManagement/directory/roleDefinitions",
            get(roles::definitions),
        )
        .route(
            "/{seg}/identityGovernance/privilegedAccess/group/eligibilitySchedules",
            get(roles::group_eligibility),
        )
        .route(
            "/{seg}/groups/{id}/transitiveMembers",
            get(groups::transitive_members),
        )
        .route("/{seg}/groups/{id}/members", get(groups::members))
        .route("/{seg}/applications", get(workloads::applications))
        .route("/{seg}/applications/{id}", get(workloads::application))
        .route(
            "/{seg}/applications/{id}/federatedIdentityCredentials",
            get(workloads::federated_credentials),
        )
        .route(
            "/{seg}/servicePrincipals",
            get(workloads::service_principals),
        )
        .route(
            "/{seg}/servicePrincipals/{id}/appRoleAssignedTo",
            get(workloads::app_role_assigned_to),
        )
        .route(
            "/{seg}/servicePrincipals/{id}/appRoleAssignments",
            get(workloads::app_role_assignments),
        )
        .route(
            "/{seg}/reports/appCredentialSignInActivities",
            get(workloads::credential_activities),
        )
        .route(
            "/{seg}/reports/servicePrincipalSignInActivities",
            get(workloads::service_principal_activities),
        )
        .route(
            "/{seg}/reports/authenticationMethods/userRegistrationDetails",
            get(registration::list),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), around))
        .with_state(shared)
}

async fn not_found(req: Request) -> GraphError {
    GraphError::new(
        axum::http::StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        format!("Resource not found for the segment '{}'.", req.uri().path()),
    )
}

/// The families a request counts under. A signInActivity read is also a reports request (Graph docs
/// `concepts/throttling-limits.md`, "Identity and access reports service limits"), so it counts in both.
fn families(path: &str, query: &str) -> &'static [&'static str] {
    if path.contains("/oauth2/") {
        &["token"]
    } else if path.contains("/discovery/") || path.contains("/.well-known/") {
        &["metadata"]
    } else if path.contains("/identity/conditionalAccess/") {
        &["conditional_access"]
    } else if path.contains("/auditLogs/") || path.contains("/reports/") {
        &["reports"]
    } else if path.contains("/users") && query.to_ascii_lowercase().contains("signinactivity") {
        &["sign_in_activity", "reports"]
    } else if (path.contains("/applications") || path.contains("/servicePrincipals"))
        && query.to_ascii_lowercase().contains("keycredentials")
    {
        &["directory", "key_credentials"]
    } else {
        &["directory"]
    }
}

/// Counts the request, adds configured latency and answers an injected fault before anything else.
async fn around(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if req.uri().path().starts_with("/_emulator") {
        return REQUEST_ID.scope(id, next.run(req)).await;
    }
    let fams = families(req.uri().path(), req.uri().query().unwrap_or(""));
    let priority = req.headers().contains_key("x-ms-throttle-priority");
    let owner = shared.token_owner(req.headers());
    shared.stats.update(|s| {
        s.requests_total += 1;
        for f in fams {
            *s.by_family.entry(f.to_string()).or_default() += 1;
        }
        s.throttle_priority_requests += u64::from(priority);
    });
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut resp = match shared.faults.take() {
        Some(f) => {
            shared.stats.update(|s| s.injected_faults += 1);
            REQUEST_ID
                .scope(id.clone(), async {
                    GraphError::injected(f.status, f.retry_after_secs).into_response()
                })
                .await
        }
        None => REQUEST_ID.scope(id.clone(), next.run(req)).await,
    };
    if let Some(o) = owner {
        let status = resp.status().as_u16();
        shared
            .app_stats
            .record(&o.client_id, &o.tenant_id, fams, status);
    }
    // Paths and statuses only: query strings may carry ids, and headers carry tokens.
    tracing::debug!(
        family = fams[0],
        status = resp.status().as_u16(),
        "emulator request"
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("request-id", v.clone());
        resp.headers_mut().insert("client-request-id", v);
    }
    resp
}

/// Version segment, then the Bearer token.
pub(crate) fn graph_caller(
    shared: &Shared,
    headers: &HeaderMap,
    seg: &str,
) -> Result<(Caller, Version), GraphError> {
    let version = Version::from_segment(seg)
        .ok_or_else(|| GraphError::bad_request(format!("Invalid version: {seg}")))?;
    Ok((shared.authenticate(headers)?, version))
}

/// Charges one reports request (and a signInActivity one) to the caller's app: its budgets in its tenant and
/// across all its tenants. An app held at 429 is refused first, even with throttling switched off, since a
/// test asked for it; it counts as an injected fault.
pub(crate) fn charge(
    shared: &Shared,
    caller: &Caller,
    sign_in_activity: bool,
) -> Result<(), GraphError> {
    let now = shared.throttle_now();
    if let Some(wait) = shared.faults.app_held(&caller.client_id, now) {
        shared.stats.update(|s| s.injected_faults += 1);
        return Err(GraphError::too_many_requests(wait));
    }
    if !shared.faults.throttle_enabled() {
        return Ok(());
    }
    let limits = crate::throttle::limits(&shared.throttle_config, sign_in_activity);
    shared
        .throttle
        .admit(&caller.tenant.id, &caller.client_id, &limits, now)
        .map_err(|wait| {
            shared.stats.update(|s| s.throttled_429 += 1);
            GraphError::too_many_requests(wait)
        })
}

pub(crate) fn encode_token(s: &str) -> String {
    B64.encode(s.as_bytes())
}

pub(crate) fn decode_token(t: &str) -> Result<String, GraphError> {
    B64.decode(t)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| GraphError::bad_request("The $skiptoken is invalid."))
}

/// An offset-based skiptoken for lists whose order never changes.
pub(crate) fn offset_from(q: &QueryOptions, kind: &str) -> Result<usize, GraphError> {
    let Some(t) = &q.skiptoken else { return Ok(0) };
    decode_token(t)?
        .strip_prefix(&format!("{kind}:"))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| GraphError::bad_request("The $skiptoken is invalid."))
}

/// A collection page as Graph sends it.
pub(crate) fn page(context: String, items: Vec<Value>, next: Option<String>) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("@odata.context".into(), json!(context));
    if let Some(n) = next {
        body.insert("@odata.nextLink".into(), json!(n));
    }
    body.insert("value".into(), Value::Array(items));
    Json(Value::Object(body)).into_response()
}

/// Keeps `id` and the selected properties (Graph always returns `id`).
pub(crate) fn project(obj: &Value, select: &[String]) -> Value {
    let mut out = serde_json::Map::new();
    for key in std::iter::once("id").chain(select.iter().map(String::as_str)) {
        if let Some(v) = obj.get(key) {
            out.insert(key.to_string(), v.clone());
        }
    }
    Value::Object(out)
}
