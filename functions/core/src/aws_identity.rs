//! Secretless Graph access from AWS: the function's IAM role gets a signed JWT from
//! `sts:GetWebIdentityToken` and sends it as the `client_assertion` of the client-credentials
//! flow; Entra ID accepts it through a federated identity credential on the app registration
//! (issuer = the account's outbound federation issuer, subject = the role ARN, audience
//! `api://AzureADTokenExchange`). No secret exists anywhere. Facts: REFERENCE.md §5 (AWS STS API
//! reference `GetWebIdentityToken`; Entra docs "workload identity federation").

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata};

use crate::graph::{AssertionProvider, GraphError};
use crate::Secret;

/// The audience Entra ID requires of federated assertions.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Entra signs nothing here; it verifies STS's signature, and RS256 is what it accepts.
const SIGNING_ALGORITHM: &str = "RS256";
/// Short-lived: the assertion is used once, immediately. STS allows 60..=3600; AWS recommends
/// the shortest that works and the Entra docs suggest minutes.
const DURATION_SECONDS: i32 = 300;

/// Gets client assertions from STS with the ambient credentials (the Lambda role).
pub struct StsWebIdentity {
    client: aws_sdk_sts::Client,
}

impl StsWebIdentity {
    /// The SDK's STS client calls the regional endpoint of the configured region (the default of
    /// current SDKs), which GetWebIdentityToken requires.
    pub fn new(config: &SdkConfig) -> StsWebIdentity {
        StsWebIdentity {
            client: aws_sdk_sts::Client::new(config),
        }
    }
}

#[async_trait]
impl AssertionProvider for StsWebIdentity {
    async fn assertion(&self, _token_endpoint: &str) -> Result<Secret, GraphError> {
        let out = self
            .client
            .get_web_identity_token()
            .audience(TOKEN_EXCHANGE_AUDIENCE)
            .signing_algorithm(SIGNING_ALGORITHM)
            .duration_seconds(DURATION_SECONDS)
            .send()
            .await
            .map_err(|e| {
                // The service's code and message; the whole context only when there is no answer
                // (connection failures), since it dumps the raw response.
                let detail = match e.as_service_error() {
                    Some(se) => format!(
                        "{}: {}",
                        se.code().unwrap_or("error"),
                        se.message().unwrap_or("no message")
                    ),
                    None => DisplayErrorContext(&e).to_string(),
                };
                GraphError::AssertionProvider(format!(
                    "sts:GetWebIdentityToken failed ({detail}); the function role needs sts:GetWebIdentityToken \
                     (template parameter UseWebIdentity=true) and the account needs outbound identity \
                     federation enabled (iam:EnableOutboundWebIdentityFederation)"
                ))
            })?;
        let token = out.web_identity_token().unwrap_or_default();
        if token.is_empty() {
            return Err(GraphError::AssertionProvider(
                "sts:GetWebIdentityToken answered without a token".into(),
            ));
        }
        let token = Secret::new(token);
        crate::redact::register(token.expose());
        Ok(token)
    }
}
