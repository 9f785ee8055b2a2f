//! Error bodies exactly as Microsoft sends them.
//!
//! Graph: `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`
//! (Graph docs `resources/errors`). Entra token endpoint: `{"error","error_description":"AADSTSnnnn: ...",
//! "error_codes":[n],"timestamp","trace_id","correlation_id"}` (Entra docs `reference-error-codes`).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

tokio::task_local! {
    /// The caller's `client-request-id` (or a fresh id), set by the request middleware so every error body
    /// can echo it as Graph does.
    pub(crate) static REQUEST_ID: String;
}

pub(crate) fn current_request_id() -> String {
    REQUEST_ID
        .try_with(|id| id.clone())
        .unwrap_or_else(|_| uuid::Uuid::new_v4().to_string())
}

/// A Graph error response.
#[derive(Debug, Clone)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        GraphError {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// Directory queries Graph cannot run answer `Request_UnsupportedQuery` (Graph docs `aad-advanced-queries`).
    pub fn unsupported_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Request_ResourceNotFound", message)
    }

    pub fn insufficient_privileges() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    pub fn audit_permission_missing() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authentication_MSGraphPermissionMissing",
            "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
        )
    }

    /// The licence error for reports and signInActivity (code and message as reported in REFERENCE §1).
    pub fn not_premium() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            "Neither tenant is B2C or tenant doesn't have premium license",
        )
    }

    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Too many requests. Please try again later.",
        );
        e.retry_after = Some(retry_after);
        e
    }

    /// A fault injected with `fail_next`: a well-known Graph code for the status (Graph docs `resources/errors`).
    pub fn injected(status: u16, retry_after: Option<u64>) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let code = match status.as_u16() {
            400 => "BadRequest",
            401 => "InvalidAuthenticationToken",
            403 => "Authorization_RequestDenied",
            404 => "Request_ResourceNotFound",
            429 => "TooManyRequests",
            500 => "InternalServerError",
            502 => "BadGateway",
            503 => "ServiceUnavailable",
            504 => "GatewayTimeout",
            _ => "UnknownError",
        };
        let mut e = Self::new(
            status,
            code,
            format!(
                "Injected fault: {}",
                status.canonical_reason().unwrap_or("error")
            ),
        );
        e.retry_after = retry_after;
        e
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let id = current_request_id();
        let body = json!({"error": {
            "code": self.code,
            "message": self.message,
            "innerError": {
                "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                "request-id": id,
                "client-request-id": id,
            }
        }});
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert("retry-after", v);
            }
        }
        resp
    }
}

/// A token-endpoint error (OAuth 2.0 RFC 6749 §5.2 with Entra's extra members).
#[derive(Debug, Clone)]
pub struct EntraError {
    pub status: StatusCode,
    pub error: &'static str,
    pub aadsts: u32,
    pub description: String,
}

impl EntraError {
    pub fn new(
        status: StatusCode,
        error: &'static str,
        aadsts: u32,
        description: impl Into<String>,
    ) -> Self {
        EntraError {
            status,
            error,
            aadsts,
            description: description.into(),
        }
    }
}

impl IntoResponse for EntraError {
    fn into_response(self) -> Response {
        let trace = uuid::Uuid::new_v4().to_string();
        let id = current_request_id();
        let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
        let body = json!({
            "error": self.error,
            "error_description": format!("AADSTS{}: {} Trace ID: {} Correlation ID: {} Timestamp: {}",
                self.aadsts, self.description, trace, id, now),
            "error_codes": [self.aadsts],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": id,
        });
        (self.status, axum::Json(body)).into_response()
    }
}
