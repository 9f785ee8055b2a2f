//! `GET /users`, `GET /users/$count` and `GET /users/{id}` (Graph docs `api/user-list`, `api/user-get`,
//! `resources/signinactivity`).

use super::{charge, decode_token, encode_token, graph_caller, page};
use crate::errors::GraphError;
use crate::odata::eval::matches;
use crate::odata::{QueryOptions, Version};
use crate::state::{Caller, Shared};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};
use std::sync::Arc;

/// Properties returned when no `$select` is given (Graph docs `api/user-list`, "default properties").
const DEFAULT_PROPS: [&str; 11] = [
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

const KNOWN_PROPS: [&str; 33] = [
    "id",
    "displayName",
    "userPrincipalName",
    "mail",
    "userType",
    "accountEnabled",
    "createdDateTime",
    "onPremisesSyncEnabled",
    "assignedLicenses",
    "externalUserState",
    "externalUserStateChangeDateTime",
    "signInActivity",
    "givenName",
    "surname",
    "jobTitle",
    "businessPhones",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "mailNickname",
    "imAddresses",
    "department",
    "companyName",
    "employeeId",
    "onPremisesImmutableId",
    "onPremisesLastSyncDateTime",
    "lastPasswordChangeDateTime",
    "creationType",
    "otherMails",
    "proxyAddresses",
    "usageLocation",
    "identities",
    "deletedDateTime",
];

/// How many users one page may examine when a filter is selective, so a page over a million generated users
/// stays fast; Graph may likewise return short pages, which is why clients must follow `@odata.nextLink`.
const SCAN_BUDGET: u64 = 20_000;

fn check_select(q: &QueryOptions) -> Result<(), GraphError> {
    for p in q.select.iter().flatten() {
        if !KNOWN_PROPS.iter().any(|k| k.eq_ignore_ascii_case(p)) {
            return Err(GraphError::bad_request(format!(
                "Could not find a property named '{p}' on type 'microsoft.graph.user'."
            )));
        }
    }
    Ok(())
}

/// Licence and permission checks for signInActivity (REFERENCE §1).
fn check_sia_access(caller: &Caller) -> Result<(), GraphError> {
    if !caller.has_any(&["AuditLog.Read.All"]) {
        return Err(GraphError::audit_permission_missing());
    }
    if !caller.tenant.premium {
        return Err(GraphError::not_premium());
    }
    Ok(())
}

/// The user as Graph would return it for this `$select`. An absent `signInActivity` stays absent (the
/// "property missing" shape); other absent selected properties come back as null.
pub(crate) fn shape_user(u: &Value, select: Option<&[String]>) -> Value {
    let mut out = Map::new();
    let default: Vec<String> = DEFAULT_PROPS.iter().map(|s| s.to_string()).collect();
    let props = select.unwrap_or(&default);
    for p in std::iter::once(&"id".to_string()).chain(props.iter()) {
        let canonical = KNOWN_PROPS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(p))
            .copied()
            .unwrap_or(p.as_str());
        match u.get(canonical) {
            Some(v) => out.insert(canonical.to_string(), v.clone()),
            None if canonical == "signInActivity" => None,
            None if canonical == "businessPhones" || canonical == "imAddresses" => {
                out.insert(canonical.to_string(), Value::Array(vec![]))
            }
            None => out.insert(canonical.to_string(), Value::Null),
        };
    }
    Value::Object(out)
}

fn context(shared: &Shared, v: Version, q: &QueryOptions, entity: bool) -> String {
    let sel = q
        .select
        .as_ref()
        .map(|s| format!("({})", s.join(",")))
        .unwrap_or_default();
    format!(
        "{}/{}/$metadata#users{sel}{}",
        shared.base_url(),
        v.segment(),
        if entity { "/$entity" } else { "" }
    )
}

fn require_user_read(caller: &Caller) -> Result<(), GraphError> {
    if caller.has_any(&[
        "User.Read.All",
        "User.ReadBasic.All",
        "Directory.Read.All",
        "User.ReadWrite.All",
        "Directory.ReadWrite.All",
    ]) {
        Ok(())
    } else {
        Err(GraphError::insufficient_privileges())
    }
}

pub async fn list(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["select", "top", "filter", "skiptoken"])?;
    check_select(&q)?;
    let sia_filter = match &q.filter {
        Some(f) => super::user_filter::check_filter(f, version)?,
        None => false,
    };
    let sia = sia_filter || q.selects("signInActivity");
    // With signInActivity the page size caps at 500 (Graph docs `api/user-list`, $top note).
    let size = q.page_size(100, if sia { 500 } else { 999 })?;
    require_user_read(&caller)?;
    if sia {
        check_sia_access(&caller)?;
        charge(&shared, &caller, true)?;
    }
    let start = match &q.skiptoken {
        Some(t) => decode_token(t)?
            .strip_prefix("users:")
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| GraphError::bad_request("The $skiptoken is invalid."))?,
        None => 0,
    };
    // The lossy-filter fault (issue 14): `eq null` matches only an explicit null, "" or the zero date.
    let skip_missing = shared.faults.null_filter_skips_missing()
        && q.filter
            .as_ref()
            .is_some_and(super::user_filter::asks_never_succeeded);
    let tenant = &caller.tenant;
    let total = tenant.user_count();
    let mut items = Vec::new();
    let mut i = start;
    while i < total && (items.len() as u64) < size && i - start < SCAN_BUDGET {
        if let Some(u) = tenant.user_at(i) {
            let skipped = skip_missing && super::user_filter::lacks_success_property(&u);
            if !skipped && q.filter.as_ref().is_none_or(|f| matches(f, &u)) {
                items.push(shape_user(&u, q.select.as_deref()));
            }
        }
        i += 1;
    }
    let next = (i < total).then(|| {
        q.next_link(
            &shared.base_url(),
            &format!("/{}/users", version.segment()),
            &encode_token(&format!("users:{i}")),
        )
    });
    Ok(page(context(&shared, version, &q, false), items, next))
}

/// `GET /users/$count`: the number of users as `text/plain`, only as an advanced query (`ConsistencyLevel:
/// eventual`); without the header Graph answers `400 Request_BadRequest` "$count is not currently supported."
/// (Graph docs `user-list.md` "Get only a count of users", `aad-advanced-queries.md` "Error handling"). No query
/// options are emulated here.
pub async fn count(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, _) = graph_caller(&shared, &headers, &seg)?;
    QueryOptions::parse(raw.as_deref(), &[])?;
    let eventual = headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
    if !eventual {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "$count is not currently supported.",
        ));
    }
    require_user_read(&caller)?;
    let text = caller.tenant.user_count().to_string();
    Ok(([(header::CONTENT_TYPE, "text/plain")], text).into_response())
}

pub async fn one(
    State(shared): State<Arc<Shared>>,
    Path((seg, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let (caller, version) = graph_caller(&shared, &headers, &seg)?;
    let q = QueryOptions::parse(raw.as_deref(), &["select"])?;
    check_select(&q)?;
    require_user_read(&caller)?;
    if q.selects("signInActivity") {
        check_sia_access(&caller)?;
        charge(&shared, &caller, true)?;
    }
    let u = caller.tenant.user_by_id(&id).ok_or_else(|| {
        GraphError::not_found(format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."))
    })?;
    let mut body = shape_user(&u, q.select.as_deref());
    if let Some(o) = body.as_object_mut() {
        o.insert(
            "@odata.context".into(),
            Value::String(context(&shared, version, &q, true)),
        );
    }
    Ok(Json(body).into_response())
}
