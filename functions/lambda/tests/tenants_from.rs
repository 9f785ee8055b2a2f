//! The functions' configuration source resolves `tenants_from`: with `"dynamodb"` it reads the
//! deployed table (`ENTRAWATCH_TABLE`), which a configuration on Lambda does not name itself.

#[path = "../../core/tests/state_support/mod.rs"]
mod state_support;

use aws_sdk_dynamodb::types::AttributeValue;
use entrawatch_core::config::StateBackend;
use entrawatch_core::secrets::SecretResolver;
use entrawatch_lambda::scheduled::ConfigSource;

const CONTOSO: &str = "11111111-2222-3333-4444-555555555555";

#[tokio::test]
async fn tenants_from_dynamodb_reads_the_table_the_environment_names() {
    // Input: the document is only `tenants_from = "dynamodb"` (no [state]); the table given as
    // ENTRAWATCH_TABLE holds one tenant item.
    let sdk = state_support::sdk_config().await;
    let table = state_support::fresh_table(&sdk).await;
    let tenant = format!(
        "name = \"contoso\"\nid = \"{CONTOSO}\"\nclient_id = \"aaaaaaaa-bbbb-cccc-dddd-000000000001\"\n\
         credential = {{ type = \"aws-web-identity\" }}\n[dormant]\n"
    );
    aws_sdk_dynamodb::Client::new(&sdk)
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("TENANTS".into()))
        .item("sk", AttributeValue::S(format!("TENANT#{CONTOSO}")))
        .item("config", AttributeValue::S(tenant))
        .send()
        .await
        .unwrap();
    let source = ConfigSource::Inline("tenants_from = \"dynamodb\"\n".into());
    let resolver = SecretResolver::with_sdk_config(sdk);
    let config = source.load(&resolver, Some(table.clone())).await.unwrap();
    assert_eq!(config.state.backend, StateBackend::Dynamodb);
    assert_eq!(config.state.table.as_deref(), Some(table.as_str()));
    let tenants: Vec<(&str, &str)> = config
        .tenants
        .iter()
        .map(|t| (t.name.as_str(), t.id.as_str()))
        .collect();
    assert_eq!(tenants, [("contoso", CONTOSO)]);
    assert!(config.tenants[0].dormant.is_some());

    // Without a table there is nothing to read, and the error says what to set.
    let e = source.load(&resolver, None).await.unwrap_err().to_string();
    assert_eq!(
        e,
        "configuration: config tenants_from \"dynamodb\": the tenants are read from the state table: set [state] table"
    );
}
