//! The emulator's sample tenant (`Scenario::sample()`) as the scheduled functions' tests configure
//! it: its ids, the client secret the emulator accepts, a configuration with the `secops` webhook
//! sink, and the environment that gives a function binary that configuration and its secrets.

/// The sample tenant's id.
pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
/// The sample tenant's two emergency-access accounts.
pub const BG1: &str = "0b000000-0000-4000-8000-0000000000b1";
pub const BG2: &str = "0b000000-0000-4000-8000-0000000000b2";
/// The sample tenant's client secret in the emulator (never a real one).
pub const CLIENT_SECRET: &str = "demo-secret-not-real";

/// The sample tenant (Graph and login at `graph`) with its job sections `jobs`, the `secops`
/// webhook sink, then `more` (TOML). The secrets are references to [`function_env`]'s variables.
pub fn config_toml(graph: &str, jobs: &str, more: &str) -> String {
    format!(
        r#"
[[tenants]]
name = "contoso"
id = "{TENANT}"
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
credential = {{ type = "secret", secret = "env:ENTRA_CLIENT_SECRET" }}
graph_url = "{graph}"
login_url = "{graph}"
{jobs}

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
