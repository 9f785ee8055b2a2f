//! The SPEC.md configuration document (TOML). The CLI reads it from a file; the Lambda functions read the
//! same document from an SSM parameter or an environment variable.
//!
//! Parsing is strict (`deny_unknown_fields`): a misspelt key in a security tool's config would otherwise
//! silently turn a check off.

mod connect;
mod model;
mod sources;
mod validate;

pub use connect::ConnectError;
pub use model::*;
pub use sources::{TenantPlace, TenantSource};
pub use validate::is_guid;

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::secrets::SecretResolver;

/// A configuration problem, phrased for the person who wrote the file. Never contains a secret value:
/// TOML errors are reported by line and message only, without the offending source line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The I/O error is part of the message, not a `source`, so `{:#}` chains print it once.
    #[error("cannot read config file {path}: {reason}")]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("config {origin}: line {line}: {message}")]
    Syntax {
        origin: String,
        line: usize,
        message: String,
    },
    #[error("config {origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl Config {
    /// Reads and validates the file at `path`.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|reason| ConfigError::Read {
            path: path.to_path_buf(),
            reason,
        })?;
        Config::from_toml_str(&text, &path.display().to_string())
    }

    /// Parses and validates a TOML document; `origin` names it in error messages (a path, an SSM parameter).
    /// Tenants of `tenants_from` sources are not read here: see [`Config::load_tenants_from`].
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = parse_toml(text, origin)?;
        validate::check(&config).map_err(|message| ConfigError::Invalid {
            origin: origin.to_string(),
            message,
        })?;
        Ok(config)
    }

    /// Reads and validates the file at `path`, then adds the tenants of its `tenants_from` sources:
    /// the whole configuration every command that takes `--config` runs on.
    pub async fn load(path: &Path, resolver: &SecretResolver) -> Result<Config, ConfigError> {
        let mut config = Config::from_file(path)?;
        config.load_tenants_from(resolver).await?;
        Ok(config)
    }

    /// The config path the CLI uses when `--config` is not given: `$ENTRAWATCH_CONFIG`, else `./entrawatch.toml`.
    pub fn default_path() -> PathBuf {
        std::env::var_os("ENTRAWATCH_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("entrawatch.toml"))
    }
}

/// Parses TOML (a document, or one tenant's table from a `tenants_from` source) into `T`.
fn parse_toml<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        // `Display` of a toml error quotes the offending source line, which may hold a literal secret:
        // report only the line number and the parser's message.
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(0);
        ConfigError::Syntax {
            origin: origin.to_string(),
            line,
            message: e.message().to_string(),
        }
    })
}

#[cfg(test)]
mod tests;
