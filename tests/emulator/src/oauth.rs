//! The login surface: token endpoint (client credentials), OpenID metadata and signing keys.

use crate::assertion::{self, AssertionError};
use crate::errors::{EntraError, GraphError};
use crate::federation::{self, FederationError};
use crate::state::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn bad(status: StatusCode, error: &'static str, code: u32, msg: impl Into<String>) -> Response {
    EntraError::new(status, error, code, msg).into_response()
}

/// `POST /{tenant}/oauth2/v2.0/token` (Entra docs `v2-oauth2-client-creds-grant-flow`).
pub async fn token(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
    headers: axum::http::HeaderMap,
    body: String,
) -> Response {
    let mut form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    // client_secret_basic (RFC 6749 §2.3.1): id and secret may come in an Authorization: Basic header.
    if let Some((id, secret)) = basic_credentials(&headers) {
        form.entry("client_id".into()).or_insert(id);
        form.entry("client_secret".into()).or_insert(secret);
    }
    let get = |k: &str| form.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(tenant) = shared.tenant(&seg) else {
        return bad(StatusCode::BAD_REQUEST, "invalid_request", 90002, format!(
            "Tenant '{seg}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."));
    };
    if get("grant_type") != Some("client_credentials") {
        return bad(StatusCode::BAD_REQUEST, "unsupported_grant_type", 70003,
            "The app requested an unsupported grant type. This emulator supports client_credentials only.");
    }
    let Some(client_id) = get("client_id") else {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    let Some(scope) = get("scope") else {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        );
    };
    if !scope.ends_with("/.default") {
        return bad(StatusCode::BAD_REQUEST, "invalid_scope", 1002012, format!(
            "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."));
    }
    let Some(app) = tenant.app(client_id) else {
        return bad(StatusCode::BAD_REQUEST, "unauthorized_client", 700016, format!(
            "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
            tenant.name));
    };
    if let Some(secret) = get("client_secret") {
        if app.secret.as_deref() != Some(secret) {
            return bad(StatusCode::UNAUTHORIZED, "invalid_client", 7000215, format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."));
        }
    } else if let Some(jwt) = get("client_assertion") {
        if get("client_assertion_type") != Some(JWT_BEARER) {
            return bad(StatusCode::BAD_REQUEST, "invalid_request", 50027, "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.");
        }
        let now = chrono::Utc::now().timestamp();
        if !app.federated.is_empty() && !federation::names_certificate(jwt) {
            return match federation::verify(jwt, &app.federated, now) {
                Ok(()) => issued(&shared, &tenant.id, &app.client_id),
                Err(e @ FederationError::NoMatch(..)) => bad(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    70021,
                    e.to_string(),
                ),
                Err(FederationError::Assertion(e)) => {
                    let code = if e == AssertionError::Expired {
                        700024
                    } else {
                        700027
                    };
                    bad(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        code,
                        e.to_string(),
                    )
                }
            };
        }
        let certs: Vec<_> = app
            .certificate_pem
            .iter()
            .filter_map(|p| assertion::load_certificate(p).ok())
            .collect();
        let base = shared.base_url();
        let mut audiences = Vec::new();
        for host in [base.as_str(), "https://login.microsoftonline.com"] {
            for t in [seg.as_str(), tenant.id.as_str(), tenant.domain.as_str()] {
                audiences.push(format!("{host}/{t}/oauth2/v2.0/token"));
            }
        }
        if let Err(e) = assertion::verify(jwt, client_id, &certs, &audiences, now) {
            // AADSTS700027 (signature) and 700024 (time range) are documented in Entra docs `reference-error-codes`;
            // the codes for the other failures are our best reading of the same page.
            let code = match e {
                AssertionError::Expired => 700024,
                AssertionError::WrongIssuer => 700021,
                AssertionError::WrongAudience => 700212,
                _ => 700027,
            };
            return bad(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                code,
                e.to_string(),
            );
        }
    } else {
        return bad(StatusCode::UNAUTHORIZED, "invalid_client", 7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    issued(&shared, &tenant.id, &app.client_id)
}

fn issued(shared: &Shared, tenant_id: &str, client_id: &str) -> Response {
    let access_token = shared.issue_token(tenant_id, client_id);
    Json(json!({
        "token_type": "Bearer",
        "expires_in": shared.token_lifetime,
        "ext_expires_in": shared.token_lifetime,
        "access_token": access_token,
    }))
    .into_response()
}

fn basic_credentials(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let raw = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((dec(id)?, dec(secret)?))
}

fn unknown_tenant(seg: &str) -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        format!("Tenant '{seg}' not found (AADSTS90002)."),
    )
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration` (Entra docs `v2-protocols-oidc`).
pub async fn openid_configuration(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
) -> Result<Json<serde_json::Value>, GraphError> {
    let tenant = shared.tenant(&seg).ok_or_else(|| unknown_tenant(&seg))?;
    let base = shared.base_url();
    let tid = &tenant.id;
    Ok(Json(json!({
        "issuer": format!("https://login.microsoftonline.com/{tid}/v2.0"),
        "token_endpoint": format!("{base}/{tid}/oauth2/v2.0/token"),
        "authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/authorize"),
        "jwks_uri": format!("{base}/{tid}/discovery/v2.0/keys"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "msgraph_host": "graph.microsoft.com",
    })))
}

async fn jwks_for(
    shared: Arc<Shared>,
    seg: String,
    v2: bool,
) -> Result<Json<serde_json::Value>, GraphError> {
    let tenant = shared.tenant(&seg).ok_or_else(|| unknown_tenant(&seg))?;
    let issuer = v2.then(|| format!("https://login.microsoftonline.com/{}/v2.0", tenant.id));
    // Key generation on first use is CPU work: keep it off the async workers.
    let doc = tokio::task::spawn_blocking(move || tenant.keys.jwks(issuer.as_deref()))
        .await
        .map_err(|e| {
            GraphError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                e.to_string(),
            )
        })?
        .map_err(|e| {
            GraphError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                e.to_string(),
            )
        })?;
    Ok(Json(doc))
}

/// `GET /{tenant}/discovery/v2.0/keys`: keys carry `issuer` (Entra docs `access-tokens`).
pub async fn jwks_v2(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
) -> Result<Json<serde_json::Value>, GraphError> {
    jwks_for(shared, seg, true).await
}

/// `GET /{tenant}/discovery/keys`: the v1 document, without `issuer`.
pub async fn jwks_v1(
    State(shared): State<Arc<Shared>>,
    Path(seg): Path<String>,
) -> Result<Json<serde_json::Value>, GraphError> {
    jwks_for(shared, seg, false).await
}
