//! What the break-glass runtime-API tests share: the sample tenant's configuration with its
//! `secops` webhook sink, the environment the function binary gets, and its EMF lines.
#![allow(dead_code)] // each test binary uses a part

use std::path::Path;

use serde_json::Value;

pub const BINARY: &str = env!("CARGO_BIN_EXE_break-glass");
pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
pub const BG1: &str = "0b000000-0000-4000-8000-0000000000b1";
pub const BG2: &str = "0b000000-0000-4000-8000-0000000000b2";
/// The sample tenant's client secret in the emulator (never a real one).
pub const CLIENT_SECRET: &str = "demo-secret-not-real";

/// The sample tenant watching `accounts`, the `secops` webhook sink, then `more` (TOML).
pub fn config_toml(graph: &str, accounts: &[&str], more: &str) -> String {
    let accounts = serde_json::to_string(accounts).unwrap_or_default();
    format!(
        r#"
[[tenants]]
name = "contoso"
id = "{TENANT}"
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
credential = {{ type = "secret", secret = "env:ENTRA_CLIENT_SECRET" }}
graph_url = "{graph}"
login_url = "{graph}"
[tenants.break_glass]
accounts = {accounts}

[[sinks]]
name = "secops"
type = "webhook"
url = "env:SECOPS_WEBHOOK_URL"
secret = "env:SECOPS_WEBHOOK_SECRET"
min_severity = "info"
{more}
"#
    )
}

/// The function's environment: inline configuration, the table on moto, the secrets by name.
pub fn function_env(
    config: String,
    table: &str,
    moto: &str,
    webhook_url: &str,
    webhook_secret: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("ENTRAWATCH_CONFIG_TOML", config),
        ("ENTRAWATCH_TABLE", table.to_string()),
        ("AWS_ENDPOINT_URL_DYNAMODB", moto.to_string()),
        ("ENTRA_CLIENT_SECRET", CLIENT_SECRET.into()),
        ("SECOPS_WEBHOOK_URL", webhook_url.to_string()),
        ("SECOPS_WEBHOOK_SECRET", webhook_secret.to_string()),
    ]
}

/// The CloudWatch EMF lines the function printed, after checking the log holds no secret.
pub fn emf_lines(stdout: &Path) -> Vec<Value> {
    let log = std::fs::read_to_string(stdout).unwrap_or_default();
    assert!(!log.contains(CLIENT_SECRET), "no secret in logs");
    assert!(!log.contains("secret-path-token"), "no webhook URL in logs");
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect()
}
