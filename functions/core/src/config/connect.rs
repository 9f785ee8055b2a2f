//! From a configured tenant to a Graph connection: resolves the credential's secret reference and picks the cloud.

use std::sync::Arc;

use crate::aws_identity::StsWebIdentity;
use crate::graph::{ClientCredential, Cloud, TenantConnection};
use crate::secrets::{SecretError, SecretRef, SecretResolver};

use super::model::{CloudName, CredentialConfig, TenantConfig};

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("tenant {tenant}: credential {source}")]
    Secret {
        tenant: String,
        #[source]
        source: SecretError,
    },
}

impl From<CloudName> for Cloud {
    fn from(name: CloudName) -> Cloud {
        match name {
            CloudName::Global => Cloud::Global,
            CloudName::Usgov => Cloud::UsGov,
            CloudName::UsgovDod => Cloud::UsGovDod,
            CloudName::China => Cloud::China,
        }
    }
}

impl TenantConfig {
    /// Resolves the credential's secret reference (any kind: `env:`, `file:`, `ssm:`,
    /// `secretsmanager:`, literal) into a connection for the Graph client. A literal secret works but
    /// is warned about: it sits in a file that is copied, committed and backed up.
    pub async fn connection(
        &self,
        resolver: &SecretResolver,
    ) -> Result<TenantConnection, ConnectError> {
        let resolve = |r: &SecretRef| {
            if r.is_literal() {
                tracing::warn!(
                    tenant = %self.name,
                    "the credential is a literal secret in the config file; prefer env:, file:, ssm: or secretsmanager:"
                );
            }
            let tenant = self.name.clone();
            let r = r.clone();
            async move {
                resolver
                    .resolve(&r)
                    .await
                    .map_err(|source| ConnectError::Secret { tenant, source })
            }
        };
        let credential = match &self.credential {
            CredentialConfig::Secret { secret } => ClientCredential::Secret(resolve(secret).await?),
            CredentialConfig::Certificate { pem } => ClientCredential::Certificate {
                pem: resolve(pem).await?,
            },
            CredentialConfig::AwsWebIdentity {} => {
                ClientCredential::Assertion(Arc::new(StsWebIdentity::new(resolver.aws().await)))
            }
        };
        Ok(TenantConnection {
            tenant_id: self.id.clone(),
            tenant_name: self.name.clone(),
            client_id: self.client_id.clone(),
            credential,
            cloud: self.cloud.into(),
            graph_url: self.graph_url.clone(),
            login_url: self.login_url.clone(),
        })
    }
}
