//! `entrawatch token validate`: the validator core natively, the same code as the WebAssembly build.
//! Prints the claims JSON (exit 0) or the error code and message (exit 1).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use entrawatch_core::config::Config;
use entrawatch_core::secrets::SecretResolver;
use entrawatch_validator::{KeySet, Tenants, Validator, ValidatorConfig, MAX_JWKS_BYTES};

pub async fn validate(
    config_path: &Path,
    tenant: Option<String>,
    audience: Option<String>,
    jwks: Option<PathBuf>,
    token: &str,
) -> anyhow::Result<ExitCode> {
    // The config is optional here: it supplies the tenant and a login_url override when present.
    let config = if config_path.exists() {
        Some(Config::load(config_path, &SecretResolver::new()).await?)
    } else {
        None
    };
    let configured = config.as_ref().and_then(|c| {
        c.tenants
            .iter()
            .find(|t| {
                tenant
                    .as_deref()
                    .is_none_or(|want| t.id == want || t.name == want)
            })
            .cloned()
    });
    let tenant_id = match (&tenant, &configured) {
        (_, Some(t)) => t.id.clone(),
        (Some(t), None) => t.clone(),
        (None, None) => {
            bail!("token validate: give --tenant <tenant id> (or a config with [[tenants]])")
        }
    };
    let Some(audience) = audience else {
        bail!("token validate: give --audience (the API's client id or App ID URI, e.g. api://my-api)");
    };
    let token = read_token(token)?;
    let keys = match jwks {
        Some(path) => {
            let bytes = std::fs::read(&path)
                .with_context(|| format!("cannot read JWKS file {}", path.display()))?;
            KeySet::parse(&bytes)
                .map_err(|e| anyhow::anyhow!("JWKS file {}: {}", path.display(), e.message()))?
        }
        None => {
            let login = configured
                .as_ref()
                .and_then(|t| t.login_url.clone())
                .unwrap_or_else(|| {
                    entrawatch_core::graph::Cloud::from(
                        configured.as_ref().map(|t| t.cloud).unwrap_or_default(),
                    )
                    .login_url()
                    .to_string()
                });
            fetch_keys(&format!(
                "{}/{tenant_id}/discovery/v2.0/keys",
                login.trim_end_matches('/')
            ))
            .await?
        }
    };
    let validator = Validator::new(ValidatorConfig::new(
        Tenants::Only(vec![tenant_id]),
        vec![audience],
    ))
    .map_err(|e| anyhow::anyhow!("token validate: {}", e.message()))?;
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    match validator.validate(&token, &keys, now) {
        Ok(valid) => {
            println!("{}", valid.to_json());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!(
                "{}",
                serde_json::json!({"ok": false, "code": e.code(), "message": e.message()})
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn read_token(arg: &str) -> anyhow::Result<String> {
    if arg != "-" {
        return Ok(arg.trim().to_string());
    }
    let mut text = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .context("cannot read the token from stdin")?;
    Ok(text.trim().to_string())
}

/// Fetches the signing keys with the shared fetch (HTTPS only, http on loopback for the emulator,
/// no redirects, size-capped, with a timeout).
async fn fetch_keys(url: &str) -> anyhow::Result<KeySet> {
    let http = entrawatch_core::jwks_fetch::client().map_err(anyhow::Error::msg)?;
    let body = entrawatch_core::jwks_fetch::fetch_jwks(&http, url, MAX_JWKS_BYTES)
        .await
        .map_err(|e| anyhow::anyhow!("token validate: {e}"))?;
    KeySet::parse(&body).map_err(|e| anyhow::anyhow!("signing keys: {}", e.message()))
}
