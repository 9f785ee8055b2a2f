use super::*;

const TENANT: &str = r#"
[[tenants]]
name = "contoso"
id = "11111111-2222-3333-4444-555555555555"
client_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
credential = { type = "secret", secret = "env:X" }
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, "test.toml")
}

#[test]
fn tenants_from_is_one_source_or_a_list() {
    let one = parse(&format!(
        "tenants_from = \"ssm-path:/entrawatch/tenants/\"\n{TENANT}"
    ))
    .unwrap();
    assert_eq!(
        one.tenants_from,
        [TenantSource::SsmPath("/entrawatch/tenants/".into())]
    );
    let both = parse(&format!(
        "tenants_from = [\"dynamodb\", \"ssm-path:/a/\"]\n{TENANT}"
    ))
    .unwrap();
    assert_eq!(
        both.tenants_from,
        [TenantSource::Dynamodb, TenantSource::SsmPath("/a/".into())]
    );
    assert!(parse(TENANT).unwrap().tenants_from.is_empty());
}

#[test]
fn an_unknown_source_or_a_relative_path_is_refused_with_its_line() {
    // Input: `tenants_from = "ssm:/entrawatch/tenants/"` (the secret-reference prefix, not `ssm-path:`).
    let e = parse("\ntenants_from = \"ssm:/entrawatch/tenants/\"\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "config test.toml: line 2: tenants_from \"ssm:/entrawatch/tenants/\" is not a tenant source: use \"ssm-path:/entrawatch/tenants/\" or \"dynamodb\""
    );
    let e = parse("tenants_from = [\"ssm-path:entrawatch/tenants\"]")
        .unwrap_err()
        .to_string();
    assert!(e.contains("an SSM path starts with /"), "{e}");
}

#[test]
fn a_duplicate_tenant_id_in_the_document_names_both_entries_whatever_its_case() {
    let second = TENANT.replace("\"contoso\"", "\"contoso-again\"").replace(
        "11111111-2222-3333-4444-555555555555",
        "11111111-2222-3333-4444-555555555555"
            .to_uppercase()
            .as_str(),
    );
    let e = parse(&format!("{TENANT}{second}")).unwrap_err().to_string();
    assert_eq!(
        e,
        "config test.toml: tenant id 11111111-2222-3333-4444-555555555555 is configured twice: [[tenants]] \"contoso\" in the configuration document and [[tenants]] \"contoso-again\" in the configuration document"
    );
}

#[test]
fn a_sourced_tenant_that_does_not_parse_names_its_parameter_and_line_but_no_value() {
    // Input: a parameter whose `name` key is misspelt and whose secret is a literal.
    let text = SourcedText {
        place: TenantPlace::SsmParameter("/entrawatch/tenants/contoso".into()),
        text: Some(
            "nmae = \"contoso\"\nid = \"11111111-2222-3333-4444-555555555555\"\n\
             client_id = \"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\"\n\
             credential = { type = \"secret\", secret = \"LiteralSecret123\" }\n"
                .into(),
        ),
    };
    let e = text.tenant().unwrap_err().to_string();
    assert!(
        e.starts_with(
            "config SSM parameter /entrawatch/tenants/contoso: line 1: unknown field `nmae`"
        ),
        "{e}"
    );
    assert!(!e.contains("LiteralSecret123"), "{e}");
}

#[test]
fn a_sourced_tenant_gets_the_documents_checks() {
    // Input: a break-glass account given as a UPN, in a DynamoDB item.
    let text = SourcedText {
        place: TenantPlace::DynamodbItem {
            table: "entrawatch".into(),
            sk: "TENANT#11111111-2222-3333-4444-555555555555".into(),
        },
        text: Some(
            "name = \"contoso\"\nid = \"11111111-2222-3333-4444-555555555555\"\n\
             client_id = \"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\"\n\
             credential = { type = \"aws-web-identity\" }\n\
             [break_glass]\naccounts = [\"bg1@contoso.onmicrosoft.com\"]\n"
                .into(),
        ),
    };
    assert_eq!(
        text.tenant().unwrap_err().to_string(),
        "config DynamoDB item TENANT#11111111-2222-3333-4444-555555555555 (pk TENANTS) in table entrawatch: tenant \"contoso\": break_glass.accounts: \"bg1@contoso.onmicrosoft.com\" is not a GUID (use object ids, never names or UPNs)"
    );
}

#[test]
fn a_dynamodb_item_keyed_for_another_tenant_is_refused() {
    // Input: an item copied to sk TENANT#2222... whose config still says id = 1111...
    let text = SourcedText {
        place: TenantPlace::DynamodbItem {
            table: "entrawatch".into(),
            sk: "TENANT#22222222-2222-3333-4444-555555555555".into(),
        },
        text: Some(TENANT.replace("[[tenants]]", "")),
    };
    let e = text.tenant().unwrap_err().to_string();
    assert!(
        e.ends_with("tenant \"contoso\": the item's sk must be TENANT#11111111-2222-3333-4444-555555555555 (the id in its config)"),
        "{e}"
    );
    let empty = SourcedText {
        place: text.place.clone(),
        text: None,
    };
    assert!(empty
        .tenant()
        .unwrap_err()
        .to_string()
        .ends_with("no string attribute `config` holding the tenant's TOML"));
}
