//! Tenants from outside the configuration document (SPEC.md "Configuration", `tenants_from`), for
//! deployments with many of them: one SSM parameter per tenant under a path, or one item per tenant
//! in the state table. Each holds one `[[tenants]]` table's TOML (the keys of a `[[tenants]]` entry,
//! its `[break_glass]` and `[dormant]` sections as top-level tables) and gets the same checks as a
//! tenant in the document. The lists of every source are merged with the document's own; a tenant
//! id or name configured twice is refused naming both places, because state, leases and alerts are
//! keyed by them and two configurations of one tenant would race each other.

mod dynamodb;
mod ssm;

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::model::{Config, TenantConfig};
use super::{parse_toml, validate, ConfigError};
use crate::secrets::SecretResolver;

/// One `tenants_from` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantSource {
    /// `ssm-path:/entrawatch/tenants/`: every parameter under the path (recursively), one tenant each.
    SsmPath(String),
    /// `dynamodb`: the items `pk = "TENANTS"` of the `[state] table`.
    Dynamodb,
}

impl TenantSource {
    fn parse(text: &str) -> Result<TenantSource, String> {
        if text == "dynamodb" {
            return Ok(TenantSource::Dynamodb);
        }
        match text.strip_prefix("ssm-path:") {
            Some(path) if path.starts_with('/') => Ok(TenantSource::SsmPath(path.to_string())),
            Some(_) => Err(format!(
                "tenants_from \"{text}\": an SSM path starts with / (e.g. \"ssm-path:/entrawatch/tenants/\")"
            )),
            None => Err(format!(
                "tenants_from \"{text}\" is not a tenant source: use \"ssm-path:/entrawatch/tenants/\" or \"dynamodb\""
            )),
        }
    }
}

impl fmt::Display for TenantSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TenantSource::SsmPath(path) => write!(f, "ssm-path:{path}"),
            TenantSource::Dynamodb => f.write_str("dynamodb"),
        }
    }
}

/// `tenants_from` is one source or a list of them.
pub(super) fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<TenantSource>, D::Error> {
    struct Sources;
    impl<'de> Visitor<'de> for Sources {
        type Value = Vec<TenantSource>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a tenant source (\"ssm-path:/...\" or \"dynamodb\") or a list of them")
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            TenantSource::parse(text)
                .map(|s| vec![s])
                .map_err(E::custom)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut sources = Vec::new();
            while let Some(text) = seq.next_element::<String>()? {
                sources.push(TenantSource::parse(&text).map_err(de::Error::custom)?);
            }
            Ok(sources)
        }
    }
    d.deserialize_any(Sources)
}

/// Where a tenant is configured, as an error names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantPlace {
    Document { name: String },
    SsmParameter(String),
    DynamodbItem { table: String, sk: String },
}

impl fmt::Display for TenantPlace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TenantPlace::Document { name } => {
                write!(f, "[[tenants]] \"{name}\" in the configuration document")
            }
            TenantPlace::SsmParameter(name) => write!(f, "SSM parameter {name}"),
            TenantPlace::DynamodbItem { table, sk } => {
                write!(f, "DynamoDB item {sk} (pk TENANTS) in table {table}")
            }
        }
    }
}

/// One tenant's TOML as a source holds it, before it is parsed.
pub(super) struct SourcedText {
    pub place: TenantPlace,
    /// `None`: the record holds no text at all (a DynamoDB item without a string `config`).
    pub text: Option<String>,
}

impl SourcedText {
    /// Parses and checks the tenant as a `[[tenants]]` entry of the document would be. Errors name
    /// the place and the line, never the text (it may hold a literal secret).
    fn tenant(&self) -> Result<TenantConfig, ConfigError> {
        let origin = self.place.to_string();
        let Some(text) = &self.text else {
            return Err(ConfigError::Invalid {
                origin,
                message: "no string attribute `config` holding the tenant's TOML".into(),
            });
        };
        let tenant: TenantConfig = parse_toml(text, &origin)?;
        validate::check_tenant(&tenant).map_err(|m| ConfigError::Invalid {
            origin: origin.clone(),
            message: format!("tenant \"{}\": {m}", tenant.name),
        })?;
        if let TenantPlace::DynamodbItem { sk, .. } = &self.place {
            dynamodb::check_key(sk, &tenant)
                .map_err(|message| ConfigError::Invalid { origin, message })?;
        }
        Ok(tenant)
    }
}

impl Config {
    /// Adds the tenants of every `tenants_from` source to the document's own, checked as the
    /// document's are, and refuses a tenant id or name configured twice. AWS is read with the
    /// resolver's SDK configuration, and only when there is a source. A source that yields no
    /// tenant is an error: a mistyped path must not quietly watch nothing.
    pub async fn load_tenants_from(
        &mut self,
        resolver: &SecretResolver,
    ) -> Result<(), ConfigError> {
        if self.tenants_from.is_empty() {
            return Ok(());
        }
        let aws = resolver.aws().await;
        let mut sourced = Vec::new();
        for source in &self.tenants_from {
            let failed = |reason: String| ConfigError::Invalid {
                origin: format!("tenants_from \"{source}\""),
                message: crate::redact::mask(&reason),
            };
            let texts = match source {
                TenantSource::SsmPath(path) => {
                    ssm::tenant_texts(aws, path).await.map_err(failed)?
                }
                TenantSource::Dynamodb => {
                    let table = self.state.table.as_deref().ok_or_else(|| {
                        failed(
                            "the tenants are read from the state table: set [state] table".into(),
                        )
                    })?;
                    dynamodb::tenant_texts(aws, table).await.map_err(failed)?
                }
            };
            if texts.is_empty() {
                return Err(failed(match source {
                    TenantSource::SsmPath(_) => "no parameter under this path".into(),
                    TenantSource::Dynamodb => "no tenant item (pk TENANTS) in the table".into(),
                }));
            }
            tracing::info!(source = %source, tenants = texts.len(), "tenants read from outside the document");
            for text in texts {
                let tenant = text.tenant()?;
                sourced.push((text.place, tenant));
            }
        }
        let mut placed: Vec<(TenantPlace, &TenantConfig)> =
            self.tenants.iter().map(|t| (document(t), t)).collect();
        placed.extend(sourced.iter().map(|(place, t)| (place.clone(), t)));
        check_unique(&placed).map_err(|message| ConfigError::Invalid {
            origin: "tenants_from".into(),
            message,
        })?;
        self.tenants.extend(sourced.into_iter().map(|(_, t)| t));
        Ok(())
    }
}

pub(super) fn document(tenant: &TenantConfig) -> TenantPlace {
    TenantPlace::Document {
        name: tenant.name.clone(),
    }
}

/// Every tenant id (a GUID, so compared without regard to case) and every name once.
pub(super) fn check_unique(tenants: &[(TenantPlace, &TenantConfig)]) -> Result<(), String> {
    let mut ids: HashMap<String, &TenantPlace> = HashMap::new();
    let mut names: HashMap<&str, &TenantPlace> = HashMap::new();
    for (place, tenant) in tenants {
        if let Some(first) = ids.insert(tenant.id.to_ascii_lowercase(), place) {
            return Err(format!(
                "tenant id {} is configured twice: {first} and {place}",
                tenant.id
            ));
        }
        if let Some(first) = names.insert(tenant.name.as_str(), place) {
            return Err(format!(
                "tenant name \"{}\" is used twice: {first} and {place}",
                tenant.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
