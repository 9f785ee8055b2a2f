use super::*;

const SPEC_EXAMPLE: &str = r#"
[[tenants]]
name = "contoso"
id = "11111111-2222-3333-4444-555555555555"
client_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
credential = { type = "secret", secret = "env:ENTRA_CLIENT_SECRET" }
cloud = "global"
graph_url = "http://127.0.0.1:8080"
login_url = "http://127.0.0.1:8080"

[tenants.break_glass]
accounts = ["00000000-0000-0000-0000-0000000000b1", "00000000-0000-0000-0000-0000000000b2"]
include_non_interactive = true
lookback_minutes = 60
audit_changes = true
drill_max_age_days = 90

[tenants.dormant]
activity = "successful"
member_days = 90
guest_days = 60
privileged_days = 30
never_signed_in_grace_days = 14
pending_invitation_days = 30
include_disabled = false
exclude_users = []
exclude_groups = []
exclude_upn_patterns = ["svc-*@contoso.com"]
renotify_days = 30
delivery = "digest"

[[sinks]]
name = "secops"
type = "webhook"
url = "secretsmanager:prod/entrawatch/secops-url"
secret = "env:WEBHOOK_SECRET"
min_severity = "medium"
types = ["break_glass.*"]
tenants = ["contoso"]

[state]
backend = "sqlite"
path = "entrawatch.db"
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, "test.toml")
}

#[test]
fn spec_example_parses_with_every_field() {
    let c = parse(SPEC_EXAMPLE).unwrap();
    let t = &c.tenants[0];
    assert_eq!(t.name, "contoso");
    assert_eq!(t.cloud, CloudName::Global);
    assert!(
        matches!(&t.credential, CredentialConfig::Secret { secret } if secret.to_string() == "env:ENTRA_CLIENT_SECRET")
    );
    let bg = t.break_glass.as_ref().unwrap();
    assert_eq!(bg.accounts.len(), 2);
    assert_eq!(bg.lookback_minutes, 60);
    // Three failed 5-minute runs, not twelve, before anyone hears the monitor is blind (issue 14).
    assert_eq!(bg.blind_after_minutes, 15);
    let d = t.dormant.as_ref().unwrap();
    assert_eq!(d.activity, ActivitySignal::Successful);
    assert_eq!(d.delivery, DeliveryMode::Digest);
    assert_eq!(c.sinks[0].kind, SinkType::Webhook);
    assert_eq!(c.sinks[0].min_severity, Severity::Medium);
    assert_eq!(c.state.backend, StateBackend::Sqlite);
}

#[test]
fn defaults_apply_when_sections_are_sparse() {
    let c = parse(
        r#"
[[tenants]]
name = "t"
id = "11111111-2222-3333-4444-555555555555"
client_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
credential = { type = "aws-web-identity" }
[tenants.break_glass]
accounts = ["00000000-0000-0000-0000-0000000000b1"]
[tenants.dormant]
"#,
    )
    .unwrap();
    let t = &c.tenants[0];
    let bg = t.break_glass.as_ref().unwrap();
    assert!(bg.include_non_interactive && bg.audit_changes);
    assert_eq!((bg.lookback_minutes, bg.drill_max_age_days), (60, 90));
    let d = t.dormant.as_ref().unwrap();
    assert_eq!(
        (d.member_days, d.guest_days, d.privileged_days),
        (90, 60, 30)
    );
    assert!(matches!(t.credential, CredentialConfig::AwsWebIdentity {}));
    assert_eq!(c.state.path, "entrawatch.db");
}

#[test]
fn misspelt_key_is_refused_with_its_line() {
    let text = SPEC_EXAMPLE.replace("lookback_minutes = 60", "look_back_minutes = 60");
    let e = parse(&text).unwrap_err().to_string();
    assert!(
        e.starts_with("config test.toml: line 14: unknown field `look_back_minutes`"),
        "{e}"
    );
}

#[test]
fn syntax_error_message_never_quotes_a_literal_secret() {
    let text = SPEC_EXAMPLE.replace(
        "secret = \"env:ENTRA_CLIENT_SECRET\" }",
        "secret = \"SuperSecretLiteral123\" ",
    );
    let e = parse(&text).unwrap_err().to_string();
    assert!(e.contains("line 6"), "{e}");
    assert!(!e.contains("SuperSecretLiteral123"), "{e}");
}

#[test]
fn break_glass_account_given_as_upn_is_refused() {
    let text = SPEC_EXAMPLE.replace(
        "\"00000000-0000-0000-0000-0000000000b1\"",
        "\"bg1@contoso.onmicrosoft.com\"",
    );
    let e = parse(&text).unwrap_err().to_string();
    assert_eq!(
        e,
        "config test.toml: tenant \"contoso\": break_glass.accounts: \"bg1@contoso.onmicrosoft.com\" is not a GUID (use object ids, never names or UPNs)"
    );
}

#[test]
fn http_graph_url_off_loopback_is_refused() {
    let text = SPEC_EXAMPLE.replace(
        "graph_url = \"http://127.0.0.1:8080\"",
        "graph_url = \"http://graph.example.com\"",
    );
    let e = parse(&text).unwrap_err().to_string();
    assert_eq!(
        e,
        "config test.toml: tenant \"contoso\": graph_url: must be https (plain http only to a loopback address)"
    );
}

#[test]
fn sink_field_of_another_type_is_refused() {
    let text = SPEC_EXAMPLE.replace("type = \"webhook\"", "type = \"slack\"");
    let e = parse(&text).unwrap_err().to_string();
    assert_eq!(
        e,
        "config test.toml: sink \"secops\": secret is only for webhook sinks (Standard Webhooks signing)"
    );
}

#[test]
fn duplicate_tenant_names_are_refused() {
    let tenant = SPEC_EXAMPLE.split("[[sinks]]").next().unwrap();
    let e = parse(&format!("{tenant}{tenant}")).unwrap_err().to_string();
    assert_eq!(e, "config test.toml: tenant name \"contoso\" is used twice");
}

#[test]
fn dynamodb_backend_needs_a_table() {
    let text = SPEC_EXAMPLE.replace("backend = \"sqlite\"", "backend = \"dynamodb\"");
    let e = parse(&text).unwrap_err().to_string();
    assert_eq!(
        e,
        "config test.toml: [state] backend = \"dynamodb\" needs table = \"...\""
    );
}

#[test]
fn guid_check_accepts_only_8_4_4_4_12_hex() {
    assert!(validate::is_guid("62e90394-69f5-4237-9190-012177145e10"));
    assert!(!validate::is_guid("62e90394-69f5-4237-9190-012177145e1"));
    assert!(!validate::is_guid("62e90394x69f5-4237-9190-012177145e10"));
    assert!(!validate::is_guid("zze90394-69f5-4237-9190-012177145e10"));
}

/// The commented template at the repository root (`entrawatch.example.toml`, the demo's "next step").
const TEMPLATE: &str = include_str!("../../../../entrawatch.example.toml");

#[test]
fn the_repository_template_parses_and_shows_every_default() {
    let filled = TEMPLATE
        .replace("<tenant id (GUID)>", "11111111-2222-3333-4444-555555555555")
        .replace(
            "<application (client) id of the app registration>",
            "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        )
        .replacen("<object id>", "00000000-0000-0000-0000-0000000000b1", 1)
        .replacen("<object id>", "00000000-0000-0000-0000-0000000000b2", 1);
    let template = Config::from_toml_str(&filled, "entrawatch.example.toml").unwrap();
    // The same file with every optional key removed: what the template states must be the defaults.
    let minimal: String = filled
        .lines()
        .filter(|line| {
            let key = line.split('=').next().unwrap_or("").trim();
            line.starts_with('[')
                || matches!(
                    key,
                    "name"
                        | "id"
                        | "client_id"
                        | "credential"
                        | "accounts"
                        | "type"
                        | "url"
                        | "secret"
                )
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let defaults = Config::from_toml_str(&minimal, "minimal").unwrap();
    let tenant = &template.tenants[0];
    let default_tenant = &defaults.tenants[0];
    assert_eq!(
        format!("{:?}", tenant.break_glass),
        format!("{:?}", default_tenant.break_glass)
    );
    assert_eq!(
        format!("{:?}", tenant.dormant),
        format!("{:?}", default_tenant.dormant)
    );
    assert_eq!(
        format!("{:?}", template.delivery),
        format!("{:?}", defaults.delivery)
    );
    assert_eq!(
        template.sinks[0].min_severity,
        defaults.sinks[0].min_severity
    );
    assert_eq!(
        (template.state.backend, &template.state.path),
        (defaults.state.backend, &defaults.state.path)
    );
}
