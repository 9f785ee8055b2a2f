//! Access tokens: client credentials flow against `{login}/{tenant}/oauth2/v2.0/token` (REFERENCE §5), cached by
//! `expires_in` and never parsed (Graph tokens are not meant to be read by clients).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::assertion::{build_certificate_assertion, ClientCertificate};
use super::error::GraphError;
use super::settings::{AssertionProvider, ClientCredential, TenantLabel};
use crate::Secret;

/// Refresh this long before expiry, so a token never expires in the middle of a page fetch.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The credential, prepared once (a certificate's key is parsed at client creation, not per token).
pub(crate) enum Credential {
    Secret(Secret),
    Certificate(Box<ClientCertificate>),
    Assertion(Arc<dyn AssertionProvider>),
}

impl Credential {
    pub fn prepare(credential: &ClientCredential) -> Result<Self, String> {
        Ok(match credential {
            ClientCredential::Secret(secret) => Credential::Secret(secret.clone()),
            ClientCredential::Certificate { pem } => {
                Credential::Certificate(Box::new(ClientCertificate::from_pem(pem)?))
            }
            ClientCredential::Assertion(provider) => Credential::Assertion(Arc::clone(provider)),
        })
    }
}

/// A token as the endpoint issued it.
pub(crate) struct FreshToken {
    pub value: Secret,
    pub lifetime: Duration,
}

struct CachedToken {
    value: Secret,
    refresh_at: Instant,
}

/// Where and how to ask for tokens, and the one cached token.
pub(crate) struct TokenSource {
    pub endpoint: String,
    scope: String,
    client_id: String,
    credential: Credential,
    cached: Mutex<Option<CachedToken>>,
}

impl TokenSource {
    pub fn new(endpoint: String, scope: String, client_id: String, credential: Credential) -> Self {
        TokenSource {
            endpoint,
            scope,
            client_id,
            credential,
            cached: Mutex::new(None),
        }
    }

    /// The cached token, or a new one from `fetch`. The lock is held while fetching, so concurrent callers wait
    /// for one refresh instead of each requesting a token.
    pub async fn cached_or<F, Fut>(&self, fetch: F) -> Result<Secret, GraphError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<FreshToken, GraphError>>,
    {
        let mut slot = self.cached.lock().await;
        if let Some(token) = slot.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(token.value.clone());
        }
        let fresh = fetch().await?;
        // Very short lifetimes (emulators) would leave no time after the margin: then refresh at half-life.
        let keep = fresh
            .lifetime
            .checked_sub(REFRESH_MARGIN)
            .filter(|d| *d >= fresh.lifetime / 2);
        let refresh_at = Instant::now() + keep.unwrap_or(fresh.lifetime / 2);
        *slot = Some(CachedToken {
            value: fresh.value.clone(),
            refresh_at,
        });
        Ok(fresh.value)
    }

    /// Drops the cached token if it is still `used` (Graph just refused it); a newer one is kept.
    pub async fn invalidate(&self, used: &Secret) {
        let mut slot = self.cached.lock().await;
        if slot.as_ref().is_some_and(|t| &t.value == used) {
            *slot = None;
        }
    }

    /// The form for one token request. A certificate or provider assertion is made fresh for each request.
    pub async fn form(
        &self,
        tenant: &Arc<TenantLabel>,
    ) -> Result<Vec<(&'static str, String)>, GraphError> {
        let mut form = vec![
            ("client_id", self.client_id.clone()),
            ("scope", self.scope.clone()),
            ("grant_type", "client_credentials".to_string()),
        ];
        let assertion = match &self.credential {
            Credential::Secret(secret) => {
                form.push(("client_secret", secret.expose().to_string()));
                return Ok(form);
            }
            Credential::Certificate(cert) => build_certificate_assertion(
                cert,
                &self.client_id,
                &self.endpoint,
                chrono::Utc::now(),
            )
            .map_err(|reason| GraphError::CredentialUnavailable {
                tenant: tenant.clone(),
                reason,
            })?,
            Credential::Assertion(provider) => {
                provider.assertion(&self.endpoint).await.map_err(|e| {
                    let reason = match e {
                        GraphError::AssertionProvider(reason) => reason,
                        other => other.to_string(),
                    };
                    GraphError::CredentialUnavailable {
                        tenant: tenant.clone(),
                        reason,
                    }
                })?
            }
        };
        form.push(("client_assertion_type", ASSERTION_TYPE.to_string()));
        form.push(("client_assertion", assertion.expose().to_string()));
        Ok(form)
    }

    /// The secret this source sends, if any, so error text can be scrubbed of it.
    pub fn secret_text(&self) -> &str {
        match &self.credential {
            Credential::Secret(secret) => secret.expose(),
            _ => "",
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: ExpiresIn,
}

/// Entra v2 sends a number; some endpoints and proxies send a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum ExpiresIn {
    Seconds(u64),
    Text(String),
}

/// A successful token response, or `None` if the body is not one.
pub(crate) fn read_token(body: &[u8]) -> Option<FreshToken> {
    let response: TokenResponse = serde_json::from_slice(body).ok()?;
    let seconds = match response.expires_in {
        ExpiresIn::Seconds(s) => s,
        ExpiresIn::Text(t) => t.trim().parse().ok()?,
    };
    Some(FreshToken {
        value: Secret::new(response.access_token),
        lifetime: Duration::from_secs(seconds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(value: &str, seconds: u64) -> Result<FreshToken, GraphError> {
        Ok(FreshToken {
            value: Secret::new(value),
            lifetime: Duration::from_secs(seconds),
        })
    }

    fn source() -> TokenSource {
        let cred = Credential::Secret(Secret::new("s"));
        TokenSource::new(
            "http://login/t/oauth2/v2.0/token".into(),
            "g/.default".into(),
            "c".into(),
            cred,
        )
    }

    #[tokio::test]
    async fn cached_token_is_reused_until_invalidated() -> Result<(), GraphError> {
        let tokens = source();
        assert_eq!(
            tokens
                .cached_or(|| async { fresh("one", 3599) })
                .await?
                .expose(),
            "one"
        );
        assert_eq!(
            tokens
                .cached_or(|| async { fresh("two", 3599) })
                .await?
                .expose(),
            "one"
        );
        tokens.invalidate(&Secret::new("one")).await;
        assert_eq!(
            tokens
                .cached_or(|| async { fresh("three", 3599) })
                .await?
                .expose(),
            "three"
        );
        Ok(())
    }

    #[tokio::test]
    async fn invalidating_an_older_token_keeps_the_newer_one() -> Result<(), GraphError> {
        let tokens = source();
        tokens.cached_or(|| async { fresh("new", 3599) }).await?;
        tokens.invalidate(&Secret::new("old")).await;
        assert_eq!(
            tokens
                .cached_or(|| async { fresh("other", 3599) })
                .await?
                .expose(),
            "new"
        );
        Ok(())
    }

    #[test]
    fn expires_in_may_be_a_number_or_a_string() {
        let number = read_token(br#"{"token_type":"Bearer","expires_in":3599,"access_token":"a"}"#);
        assert_eq!(number.map(|t| t.lifetime), Some(Duration::from_secs(3599)));
        let text = read_token(br#"{"expires_in":"3599","access_token":"a"}"#);
        assert_eq!(text.map(|t| t.lifetime), Some(Duration::from_secs(3599)));
        assert!(read_token(b"<html>").is_none());
    }
}
