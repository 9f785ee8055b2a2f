//! AWS SDK configuration shared by the DynamoDB state store and the SSM / Secrets Manager resolver.
//!
//! The SDK's default HTTPS client pulls in aws-lc (a C/assembly build); the rustls + ring client
//! keeps the build pure Rust plus `ring`, which the rest of the workspace already uses.

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::Builder;

/// A config loader over a rustls + ring HTTPS client. Tests add `endpoint_url`, a region and
/// static credentials to it; production calls [`load_sdk_config`].
pub fn config_loader() -> ConfigLoader {
    let client = Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(client)
}

/// The SDK configuration from the environment: region, credentials chain, and the
/// `AWS_ENDPOINT_URL_<SERVICE>` overrides (e.g. `AWS_ENDPOINT_URL_DYNAMODB`, SPEC.md "Configuration").
pub async fn load_sdk_config() -> SdkConfig {
    config_loader().load().await
}
