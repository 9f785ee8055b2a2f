//! Resolves every secret reference once per run: `env:`, `file:` and literals locally, `ssm:` with
//! SSM `GetParameter` (`WithDecryption`, so SecureString parameters come back in clear) and
//! `secretsmanager:` with Secrets Manager `GetSecretValue` (`SecretString`; a name or an ARN).
//! Every value resolved is registered with [`crate::redact`] so it is masked in logs.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_ssm::error::DisplayErrorContext;
use tokio::sync::{Mutex, OnceCell};

use super::{SecretError, SecretRef};
use crate::{redact, Secret};

/// Resolves and caches secret references for one run.
pub struct SecretResolver {
    preset: Option<SdkConfig>,
    aws: OnceCell<SdkConfig>,
    cache: Mutex<HashMap<String, Secret>>,
}

impl Default for SecretResolver {
    fn default() -> Self {
        SecretResolver::new()
    }
}

impl SecretResolver {
    /// AWS configuration comes from the environment, loaded on the first `ssm:` or
    /// `secretsmanager:` reference (a config without them never touches AWS).
    pub fn new() -> SecretResolver {
        SecretResolver {
            preset: None,
            aws: OnceCell::new(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Uses this AWS configuration (tests point it at moto).
    pub fn with_sdk_config(config: SdkConfig) -> SecretResolver {
        SecretResolver {
            preset: Some(config),
            aws: OnceCell::new(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The AWS configuration this resolver reads SSM and Secrets Manager with; other AWS calls
    /// of the same run (STS for secretless Graph access) use it too.
    pub async fn aws(&self) -> &SdkConfig {
        if let Some(c) = &self.preset {
            return c;
        }
        self.aws.get_or_init(crate::aws::load_sdk_config).await
    }

    /// The value of `reference`; each distinct reference is fetched at most once.
    pub async fn resolve(&self, reference: &SecretRef) -> Result<Secret, SecretError> {
        let key = reference.to_string();
        if !reference.is_literal() {
            if let Some(s) = self.cache.lock().await.get(&key) {
                return Ok(s.clone());
            }
        }
        let secret = match reference {
            SecretRef::Ssm(name) => self.ssm(&key, name).await?,
            SecretRef::SecretsManager(id) => self.secrets_manager(&key, id).await?,
            local => local.resolve_local()?,
        };
        if secret.expose().is_empty() {
            return Err(SecretError::Empty { reference: key });
        }
        redact::register(secret.expose());
        if !reference.is_literal() {
            self.cache.lock().await.insert(key, secret.clone());
        }
        Ok(secret)
    }

    async fn ssm(&self, reference: &str, name: &str) -> Result<Secret, SecretError> {
        let client = aws_sdk_ssm::Client::new(self.aws().await);
        let out = client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| aws_error(reference, "SSM", DisplayErrorContext(e).to_string()))?;
        let value = out.parameter.and_then(|p| p.value).unwrap_or_default();
        Ok(Secret::new(value))
    }

    async fn secrets_manager(&self, reference: &str, id: &str) -> Result<Secret, SecretError> {
        let client = aws_sdk_secretsmanager::Client::new(self.aws().await);
        let out = client
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    reference,
                    "Secrets Manager",
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
                )
            })?;
        match out.secret_string {
            Some(s) => Ok(Secret::new(s)),
            None => Err(aws_error(
                reference,
                "Secrets Manager",
                "the secret has no SecretString (binary secrets are not supported)".into(),
            )),
        }
    }
}

fn aws_error(reference: &str, service: &'static str, reason: String) -> SecretError {
    SecretError::Aws {
        reference: reference.to_string(),
        service,
        reason: redact::mask(&reason),
    }
}
