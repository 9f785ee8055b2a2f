//! Workload identities (issue 15): `GET /applications`, `/applications/{id}`,
//! `/applications/{id}/federatedIdentityCredentials`, `/servicePrincipals`,
//! `/servicePrincipals/{id}/appRoleAssignedTo`, `/servicePrincipals/{id}/appRoleAssignments` (Graph docs
//! `api/application-list`, `api/application-get`, `api/application-list-federatedidentitycredentials`,
//! `api/serviceprincipal-list`, `api/serviceprincipal-list-approleassignedto`,
//! `api/serviceprincipal-list-approleassignments`) and the beta reports `reports/appCredentialSignInActivities`
//! and `reports/servicePrincipalSignInActivities` (`api/reportroot-list-appcredentialsigninactivities`,
//! `api/reportroot-list-serviceprincipalsigninactivities`).

use super::{charge, encode_token, graph_caller, offset_from, page, project};
use crate::errors::GraphError;
use crate::odata::eval::{each_predicate, matches, predicate_path};
use crate::odata::{Expr, Lit, Op, QueryOptions, Version};
use crate::state::{Caller, Shared};
use crate::throttle::{Bucket, Limit, Scope};
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;
use std::sync::Arc;

/// `Application.Read.All` is the least privileged application permission for these reads; the higher ones
/// answer too (Graph docs, each API's "Permissions" table).
const APPLICATION_READ: [&str; 3] = [
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
];
/// The reports need `AuditLog.Read.All` (or `Directory.Read.All`) and Entra ID P1 or P2.
const REPORTS_READ: [&str; 2] = ["AuditLog.Read.All", "Directory.Read.All"];

const APPLICATION_PROPERTIES: [&str; 12] = [
    "id",
    "appId",
    "displayName",
    "createdDateTime",
    "passwordCredentials",
    "keyCredentials",
    "signInAudience",
    "publisherDomain",
    "tags",
    "notes",
    "description",
    "uniqueName",
];
const SERVICE_PRINCIPAL_PROPERTIES: [&str; 12] = [
    "id",
    "appId",
    "displayName",
    "servicePrincipalType",
    "appOwnerOrganizationId",
    "accountEnabled",
    "passwordCredentials",
    "keyCredentials",
    "appDisplayName",
    "servicePrincipalNames",
    "tags",
    "signInAudience",
];

fn require(caller: &Caller, any_of: &[&str]) -> Result<(), GraphError> {
    if caller.has_any(any_of) {
        Ok(())
    } else {
        Err(GraphError::insufficient_privileges())
    }
}

fn check_select(q: &QueryOptions, known: &[&str], kind: &str) -> Result<(), GraphError> {
    for p in q.select.iter().flatten() {
        if !known.iter().any(|k| k.eq_ignore_ascii_case(p)) {
            return Err(GraphError::bad_request(format!(
                "Could not find a property named '{p}' on type 'microsoft.graph.{kind}'."
            )));
        }
    }
    Ok(())
}

/// `eq` on a string property of `allowed`; anything else is refused like Graph refuses what it cannot filter.
fn check_filter(q: &QueryOptions, allowed: &[&str]) -> Result<(), GraphError> {
    let Some(e) = &q.filter else { return Ok(()) };
    each_predicate(e, &mut |p: &Expr| {
        let name = predicate_path(p).unwrap_or_default().join("/");
        match p {
            Expr::Cmp {
                op: Op::Eq,
                value: Lit::Str(_),
                ..
            } if allowed.contains(&name.as_str()) => Ok(()),
            _ => Err(format!("the filter on '{name}' is not supported")),
        }
    })
    .map_err(|m| GraphError::bad_request(format!("Invalid filter clause: {m}.")))
}

/// Selecting `keyCredentials` costs a request of the 150-a-minute budget of the tenant (Graph docs
/// `application-list.md`, `serviceprincipal-list.md`).
fn charge_key_credentials(
    shared: &Shared,
    caller: &Caller,
    q: &QueryOptions,
) -> Result<(), GraphError> {
    let selected = q
        .select
        .iter()
        .flatten()
        .any(|p| p.eq_ignore_ascii_case("keyCredentials"));
    if !selected || !shared.faults.throttle_enabled() {
        return Ok(());
    }
    let limit = Limit {
        bucket: Bucket::KeyCredentials,
        scope: Scope::Tenant,
        budget: shared.throttle_config.key_credentials,
    };
    shared
        .throttle
        .admit(
            &caller.tenant.id,
            &caller.client_id,
            &[limit],
            shared.throttle_now(),
        )
        .map_err(|wait| {
            shared.stats.update(|s| s.throttled_429 += 1);
            GraphError::too_many_requests(wait)
        })
}

/// One page of `items` (those matching the filter), `$select` applied, with a `nextLink` when more remain.
fn list_page(
    shared: &Shared,
    version: Version,
    base: &str,
    q: &QueryOptions,
    items: impl Iterator<Item = Value>,
    max: u64,
) -> Result<Response, GraphError> {
    let what = base.rsplit('/').next().unwrap_or(base);
    let size = q.page_size(100, max)? as usize;
    let start = offset_from(q, what)?;
    let mut matching = items.filter(|v| q.filter.as_ref().is_none_or(|f| matches(f, v)));
    let mut out: Vec<Value> = Vec::with_capacity(size);
    for v in matching.by_ref().skip(start).take(size) {
        let mut v = match &q.select {
            Some(s) => project(&v, s),
            None => v,
        };
        // A navigation property, served by its own route, never in the entity.
        if let Some(o) = v.as_object_mut() {
            o.remove("federatedIdentityCredentials");
        }
        out.push(v);
    }
    let more = matching.next().is_some();
    let end = start + out.len();
    let path = format!("/{}/{base}", version.segment());
    let next = more.then(|| {
        q.next_link(
            &shared.base_url(),
            &path,
            &encode_token(&format!("{what}:{end}")),
        )
    });
    let ctx = format!(
        "{}/{}/$metadata#{base}",
        shared.base_url(),
        version.segment()
    );
    Ok(page(ctx, out, next))
}

pub async fn applications(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["select", "top", "skiptoken", "filter"])?;
    check_select(&q, &APPLICATION_PROPERTIES, "application")?;
    check_filter(&q, &["id", "appId", "displayName"])?;
    require(&caller, &APPLICATION_READ)?;
    charge_key_credentials(&shared, &caller, &q)?;
    let w = &caller.tenant.workloads;
    list_page(
        &shared,
        version,
        "applications",
        &q,
        w.all_applications(),
        999,
    )
}

pub async fn service_principals(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["select", "top", "skiptoken", "filter"])?;
    check_select(&q, &SERVICE_PRINCIPAL_PROPERTIES, "servicePrincipal")?;
    check_filter(&q, &["id", "appId", "displayName", "servicePrincipalType"])?;
    require(&caller, &APPLICATION_READ)?;
    charge_key_credentials(&shared, &caller, &q)?;
    let t = &caller.tenant;
    let all = t.workloads.all_service_principals(&t.service_principals);
    list_page(&shared, version, "servicePrincipals", &q, all, 999)
}

pub async fn application(
    State(shared): State<Arc<Shared>>,
    Path((seg, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, _) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["select"])?;
    check_select(&q, &APPLICATION_PROPERTIES, "application")?;
    require(&caller, &APPLICATION_READ)?;
    charge_key_credentials(&shared, &caller, &q)?;
    let app = caller
        .tenant
        .workloads
        .application_by_id(&id)
        .ok_or_else(|| missing(&id))?;
    let mut v = match &q.select {
        Some(s) => project(&app, s),
        None => app,
    };
    if let Some(o) = v.as_object_mut() {
        o.remove("federatedIdentityCredentials");
    }
    Ok(axum::response::IntoResponse::into_response(axum::Json(v)))
}

fn missing(id: &str) -> GraphError {
    GraphError::not_found(format!(
        "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
    ))
}

pub async fn federated_credentials(
    State(shared): State<Arc<Shared>>,
    Path((seg, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["top", "skiptoken"])?;
    require(&caller, &APPLICATION_READ)?;
    let app = caller
        .tenant
        .workloads
        .application_by_id(&id)
        .ok_or_else(|| missing(&id))?;
    let items = app["federatedIdentityCredentials"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let base = format!("applications/{id}/federatedIdentityCredentials");
    list_page(&shared, version, &base, &q, items.into_iter(), 999)
}

/// Grants of the resource `id` to anyone (`field` = `resourceId`, `appRoleAssignedTo`) or held by principal `id`
/// (`principalId`, `appRoleAssignments`).
async fn grants(
    shared: Arc<Shared>,
    (seg, id): (String, String),
    raw: Option<String>,
    headers: HeaderMap,
    field: &str,
    what: &str,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["top", "skiptoken"])?;
    require(&caller, &APPLICATION_READ)?;
    let items = caller
        .tenant
        .workloads
        .app_role_assignments
        .iter()
        .filter(|g| {
            g[field]
                .as_str()
                .is_some_and(|v| v.eq_ignore_ascii_case(&id))
        })
        .cloned();
    let base = format!("servicePrincipals/{id}/{what}");
    list_page(&shared, version, &base, &q, items, 999)
}

pub async fn app_role_assigned_to(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    grants(
        shared,
        path,
        raw,
        headers,
        "resourceId",
        "appRoleAssignedTo",
    )
    .await
}

pub async fn app_role_assignments(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    grants(
        shared,
        path,
        raw,
        headers,
        "principalId",
        "appRoleAssignments",
    )
    .await
}

/// Beta only: a report on v1.0 is an unknown segment there.
fn beta_report(
    shared: &Shared,
    headers: &HeaderMap,
    seg: &str,
    raw: Option<&str>,
    filters: &[&str],
) -> Result<(Caller, QueryOptions), GraphError> {
    let (caller, version) = graph_caller(shared, headers, seg)?;
    if version != Version::Beta {
        return Err(GraphError::not_found(
            "Resource not found for the segment 'reports' on v1.0 (this report is beta only).",
        ));
    }
    let q = QueryOptions::parse(raw, &["top", "skiptoken", "filter"])?;
    check_filter(&q, filters)?;
    require(&caller, &REPORTS_READ).map_err(|_| GraphError::audit_permission_missing())?;
    if !caller.tenant.premium {
        return Err(GraphError::not_premium());
    }
    charge(shared, &caller, false)?;
    Ok((caller, q))
}

pub async fn credential_activities(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, q) = beta_report(&shared, &headers, &seg, raw.as_deref(), &["keyId", "appId"])?;
    let items = caller.tenant.workloads.all_credential_activities();
    list_page(
        &shared,
        Version::Beta,
        "reports/appCredentialSignInActivities",
        &q,
        items,
        999,
    )
}

pub async fn service_principal_activities(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, q) = beta_report(&shared, &headers, &seg, raw.as_deref(), &["appId"])?;
    let items = caller.tenant.workloads.all_service_principal_activities();
    list_page(
        &shared,
        Version::Beta,
        "reports/servicePrincipalSignInActivities",
        &q,
        items,
        999,
    )
}
