//! Every way a Graph call can fail, each worded so a user knows what to fix, always naming the tenant.
//!
//! No variant ever holds a token, a secret, an assertion or a URL query string: errors end up in logs and alerts.

use std::sync::Arc;
use std::time::Duration;

use super::settings::TenantLabel;

/// A Graph or Entra ID failure. Messages are stable: tests and users match on them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// The connection settings cannot work: an unparseable URL, an unreadable certificate PEM.
    #[error("tenant {tenant}: invalid Graph settings: {reason}")]
    InvalidSettings {
        tenant: Arc<TenantLabel>,
        reason: String,
    },

    /// Entra ID refused to issue a token; `code` is the `AADSTSnnnn` code (or the OAuth `error` when there is none),
    /// `problem` says what was rejected and `action` what to check.
    #[error("tenant {tenant}: {problem} ({code}): {action}")]
    TokenRejected {
        tenant: Arc<TenantLabel>,
        code: String,
        problem: String,
        action: String,
    },

    /// The [`super::AssertionProvider`] could not produce an assertion.
    #[error("tenant {tenant}: cannot obtain a client assertion: {reason}")]
    CredentialUnavailable {
        tenant: Arc<TenantLabel>,
        reason: String,
    },

    /// For [`super::AssertionProvider`] implementations to return; the client reports it as
    /// [`GraphError::CredentialUnavailable`] with the tenant named.
    #[error("assertion provider failed: {0}")]
    AssertionProvider(String),

    /// Graph answered 401 twice, the second time to a freshly issued token.
    #[error(
        "tenant {tenant}: Graph rejected the access token (401 {code}): check client id, credential and that the \
         app is consented in this tenant"
    )]
    Unauthorized {
        tenant: Arc<TenantLabel>,
        code: String,
    },

    /// Graph answered 403 because the tenant lacks the licence the endpoint needs (sign-in logs and
    /// `signInActivity`: P1 or P2; PIM schedules: P2). Callers treat it as "feature not available here".
    #[error("tenant {tenant}: needs {needs} (Graph answered 403 {code} on {path})")]
    LicenceRequired {
        tenant: Arc<TenantLabel>,
        needs: String,
        code: String,
        path: String,
    },

    /// Graph answered 403 because the app lacks an application permission; `permission` names it.
    #[error(
        "tenant {tenant}: the app lacks the Graph application permission {permission} (Graph answered 403 {code} \
         on {path}): grant it and give admin consent"
    )]
    PermissionMissing {
        tenant: Arc<TenantLabel>,
        permission: String,
        code: String,
        path: String,
    },

    /// Graph answered 404 (the object does not exist, or no longer does).
    #[error("tenant {tenant}: not found (Graph answered 404 {code} on {path})")]
    NotFound {
        tenant: Arc<TenantLabel>,
        code: String,
        path: String,
    },

    /// Any other Graph error with a readable Graph error body (e.g. 400 for an unsupported filter).
    #[error("tenant {tenant}: Graph answered {status} {code} on {path}: {message}")]
    Api {
        tenant: Arc<TenantLabel>,
        status: u16,
        code: String,
        message: String,
        path: String,
    },

    /// A response that is not what Graph or Entra ID sends (a proxy's HTML page, truncated JSON).
    #[error(
        "tenant {tenant}: unexpected response: status {status}, content-type {content_type}, body starts: \
         {body_start}"
    )]
    UnexpectedResponse {
        tenant: Arc<TenantLabel>,
        status: u16,
        content_type: String,
        body_start: String,
    },

    /// The request never got an HTTP answer (DNS, TCP, TLS, timeout).
    #[error("tenant {tenant}: cannot reach {host} ({path}): {reason}")]
    Transport {
        tenant: Arc<TenantLabel>,
        host: String,
        path: String,
        reason: String,
    },

    /// Transient failures (429, 503, 504, transport) outlasted `max_retries`.
    #[error("tenant {tenant}: gave up on {path} after {attempts} attempts (last: {last})")]
    RetriesExhausted {
        tenant: Arc<TenantLabel>,
        path: String,
        attempts: u32,
        last: String,
    },

    /// The next wait (Retry-After, backoff or pacing) would end past the run deadline.
    #[error(
        "tenant {tenant}: run deadline of {}s reached while waiting to call {path} (last: {last}); a later run \
         can resume",
        deadline.as_secs()
    )]
    DeadlineExceeded {
        tenant: Arc<TenantLabel>,
        path: String,
        deadline: Duration,
        last: String,
    },

    /// An `@odata.nextLink` (or a resumed link) pointing to another host: never followed, it would carry the token.
    #[error(
        "tenant {tenant}: refusing a next link to another host ({host}); expected the Graph host"
    )]
    ForeignNextLink {
        tenant: Arc<TenantLabel>,
        host: String,
    },
}

impl GraphError {
    /// True for failures a later run may not see (throttling, outages, deadline): worth a `monitoring.blind`
    /// alert only when they persist.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            GraphError::Transport { .. }
                | GraphError::RetriesExhausted { .. }
                | GraphError::DeadlineExceeded { .. }
        )
    }
}

/// The first 120 characters of a body, control characters escaped and every `hide` string replaced, for
/// [`GraphError::UnexpectedResponse`].
pub(crate) fn body_start(body: &[u8], hide: &[&str]) -> String {
    let mut text = String::from_utf8_lossy(body).into_owned();
    for secret in hide.iter().filter(|s| !s.is_empty()) {
        text = text.replace(secret, "<redacted>");
    }
    let mut out = String::new();
    for c in text.chars().take(120) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Arc<TenantLabel> {
        Arc::new(TenantLabel {
            name: "contoso".into(),
            id: "11111111-2222-3333-4444-555555555555".into(),
        })
    }

    #[test]
    fn body_start_escapes_control_characters_and_stops_at_120() {
        let body = format!("<html>\n\t{}", "x".repeat(300));
        let start = body_start(body.as_bytes(), &[]);
        assert!(start.starts_with("<html>\\n\\t"));
        assert_eq!(start.chars().count(), 122);
    }

    #[test]
    fn body_start_hides_given_values() {
        assert_eq!(
            body_start(b"token=abc.def", &["abc.def"]),
            "token=<redacted>"
        );
    }

    #[test]
    fn unauthorized_message_names_tenant_and_what_to_check() {
        let e = GraphError::Unauthorized {
            tenant: tenant(),
            code: "InvalidAuthenticationToken".into(),
        };
        assert_eq!(
            e.to_string(),
            "tenant contoso (11111111-2222-3333-4444-555555555555): Graph rejected the access token \
             (401 InvalidAuthenticationToken): check client id, credential and that the app is consented in this tenant"
        );
    }
}
