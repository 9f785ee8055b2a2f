//! Asking the token endpoint for a token, through the same retry loop and deadline as Graph calls.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use url::Url;

use super::client::{Counters, GraphClient};
use super::entra_error::token_rejection;
use super::error::GraphError;
use super::send::{header_text, Attempt};
use super::token::{read_token, FreshToken};
use crate::Secret;

/// Errors name the token endpoint by this path, never by its URL.
const TOKEN_PATH: &str = "/oauth2/v2.0/token";

impl GraphClient {
    /// The cached access token, or a new one (one request at a time, see [`super::token::TokenSource`]).
    pub(crate) async fn access_token(&self) -> Result<Secret, GraphError> {
        let tokens = &self.inner.tokens;
        tokens
            .cached_or(|| self.retrying(TOKEN_PATH, &[], || self.token_once()))
            .await
    }

    async fn token_once(&self) -> Attempt<FreshToken> {
        let inner = &self.inner;
        let form = match inner.tokens.form(&inner.tenant).await {
            Ok(form) => form,
            Err(error) => return Attempt::Failed(error),
        };
        Counters::bump(&inner.counters.token_requests);
        let request = inner
            .http
            .post(&inner.tokens.endpoint)
            .header(ACCEPT, "application/json")
            .form(&form);
        let Ok(endpoint) = Url::parse(&inner.tokens.endpoint) else {
            return Attempt::Failed(GraphError::InvalidSettings {
                tenant: inner.tenant.clone(),
                reason: "bad login_url".into(),
            });
        };
        let (status, headers, body) = match self.exchange(request, &endpoint).await {
            Ok(parts) => parts,
            Err(attempt) => return attempt,
        };
        if let Some(attempt) = self.transient(status, &headers, false) {
            return attempt;
        }
        if status == 200 {
            if let Some(token) = read_token(&body) {
                return Attempt::Done(token);
            }
        }
        let secret = inner.tokens.secret_text();
        if let Some(error) = token_rejection(&inner.tenant, &inner.client_id, &body, &[secret]) {
            return Attempt::Failed(error);
        }
        // A 200 body may hold a token even when it does not parse: never quote it.
        let body_start = if status == 200 {
            "(not shown: it may hold a token)".to_string()
        } else {
            super::error::body_start(&body, &[secret])
        };
        Attempt::Failed(GraphError::UnexpectedResponse {
            tenant: inner.tenant.clone(),
            status,
            content_type: header_text(&headers, CONTENT_TYPE),
            body_start,
        })
    }
}
