//! `tenants_from` against moto: tenants from an SSM path (one parameter each, read by
//! GetParametersByPath through NextToken) and from items of the state table, merged with the
//! document's own `[[tenants]]`, each checked as a document's tenant is.

mod state_support;

use std::time::Instant;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ssm::types::ParameterType;
use entrawatch_core::config::{Config, ConfigError};
use entrawatch_core::secrets::SecretResolver;
use futures::StreamExt;

const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
const BG1: &str = "0b000000-0000-4000-8000-0000000000b1";

/// Tenant `n`'s id: `0000000n-0000-4000-8000-00000000000n` in hex.
fn tenant_id(n: u32) -> String {
    format!("{n:08x}-0000-4000-8000-{n:012x}")
}

/// One `[[tenants]]` table's TOML, as a parameter or item holds it (no `[[tenants]]` header).
fn tenant_toml(name: &str, id: &str) -> String {
    format!(
        "name = \"{name}\"\nid = \"{id}\"\nclient_id = \"{CLIENT}\"\n\
         credential = {{ type = \"secret\", secret = \"ssm:/entrawatch/secrets/{name}\" }}\n\
         [break_glass]\naccounts = [\"{BG1}\"]\n"
    )
}

/// A path no other test uses (moto is shared by the tests running in parallel).
fn fresh_path() -> String {
    format!("/entrawatch-test-{}/tenants", uuid::Uuid::new_v4().simple())
}

async fn put_parameter(sdk: &SdkConfig, name: &str, value: &str) {
    aws_sdk_ssm::Client::new(sdk)
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::SecureString)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {name}: {e:?}"));
}

/// Tenant `name` with id `id` as the parameter `parameter`.
async fn put_tenant_parameter(sdk: &SdkConfig, parameter: &str, name: &str, id: &str) {
    put_parameter(sdk, parameter, &tenant_toml(name, id)).await;
}

async fn put_item(sdk: &SdkConfig, table: &str, pk: &str, sk: &str, config: &str) {
    aws_sdk_dynamodb::Client::new(sdk)
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(pk.into()))
        .item("sk", AttributeValue::S(sk.into()))
        .item("config", AttributeValue::S(config.into()))
        .send()
        .await
        .unwrap();
}

/// Parses `document` and reads its sources from moto.
async fn load(sdk: &SdkConfig, document: &str) -> Result<Config, ConfigError> {
    let mut config = Config::from_toml_str(document, "test.toml")?;
    config
        .load_tenants_from(&SecretResolver::with_sdk_config(sdk.clone()))
        .await?;
    Ok(config)
}

#[tokio::test]
async fn a_thousand_tenants_load_from_an_ssm_path_across_a_hundred_pages() {
    // Input: 1,000 SecureString parameters under one path (half of them one level deeper, so the
    // read must be recursive); GetParametersByPath returns at most 10 a page.
    let sdk = state_support::sdk_config().await;
    let path = fresh_path();
    let started = Instant::now();
    futures::stream::iter(0..1000u32)
        .map(|n| {
            let (sdk, path) = (&sdk, &path);
            async move {
                let region = if n % 2 == 0 { "emea" } else { "amer" };
                let name = format!("{path}/{region}/t{n:04}");
                let name = if n < 500 {
                    name
                } else {
                    format!("{path}/t{n:04}")
                };
                put_parameter(sdk, &name, &tenant_toml(&format!("t{n:04}"), &tenant_id(n))).await;
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
    let written = started.elapsed();

    let started = Instant::now();
    let config = load(&sdk, &format!("tenants_from = \"ssm-path:{path}/\"\n"))
        .await
        .unwrap();
    eprintln!(
        "1,000 parameters written in {written:?}, loaded in {:?}",
        started.elapsed()
    );
    assert_eq!(config.tenants.len(), 1000, "every page was read");
    let mut ids: Vec<&str> = config.tenants.iter().map(|t| t.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1000);
    let t7 = config.tenants.iter().find(|t| t.name == "t0007").unwrap();
    assert_eq!(t7.id, tenant_id(7));
    assert_eq!(t7.break_glass.as_ref().unwrap().accounts, [BG1]);
    assert_eq!(
        t7.break_glass.as_ref().unwrap().lookback_minutes,
        60,
        "defaults apply"
    );
}

#[tokio::test]
async fn tenants_load_from_items_of_the_state_table() {
    // Input: three items pk TENANTS / sk TENANT#{id} in the state table, and a cursor item
    // elsewhere in the table that is not a tenant.
    let sdk = state_support::sdk_config().await;
    let table = state_support::fresh_table(&sdk).await;
    for n in [3, 1, 2] {
        let sk = format!("TENANT#{}", tenant_id(n));
        put_item(
            &sdk,
            &table,
            "TENANTS",
            &sk,
            &tenant_toml(&format!("t{n}"), &tenant_id(n)),
        )
        .await;
    }
    put_item(&sdk, &table, "JOB#t1#dormant", "CURSOR", "not a tenant").await;
    let document = format!(
        "tenants_from = \"dynamodb\"\n[state]\nbackend = \"dynamodb\"\ntable = \"{table}\"\n"
    );
    let config = load(&sdk, &document).await.unwrap();
    let names: Vec<&str> = config.tenants.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["t1", "t2", "t3"], "in sort-key order");
    assert_eq!(config.tenants[1].id, tenant_id(2));
}

#[tokio::test]
async fn the_documents_tenants_and_an_ssm_paths_are_merged() {
    // Input: contoso in the document, fabrikam in a parameter.
    let sdk = state_support::sdk_config().await;
    let path = fresh_path();
    put_tenant_parameter(&sdk, &format!("{path}/fabrikam"), "fabrikam", &tenant_id(2)).await;
    let document = format!(
        "tenants_from = [\"ssm-path:{path}\"]\n[[tenants]]\n{}",
        tenant_toml("contoso", &tenant_id(1)).replace("[break_glass]", "[tenants.break_glass]")
    );
    let config = load(&sdk, &document).await.unwrap();
    let names: Vec<(&str, &str)> = config
        .tenants
        .iter()
        .map(|t| (t.name.as_str(), t.id.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("contoso", tenant_id(1).as_str()),
            ("fabrikam", tenant_id(2).as_str())
        ]
    );
}

#[tokio::test]
async fn a_tenant_id_configured_twice_across_sources_is_refused_naming_both_places() {
    // Input: tenant 1 in the document as "contoso" and, with its id in upper case, in a
    // parameter as "contoso-ssm"; then tenant 2 both in a table item and in a parameter.
    let sdk = state_support::sdk_config().await;
    let path = fresh_path();
    let id = tenant_id(0xc0);
    put_tenant_parameter(
        &sdk,
        &format!("{path}/contoso"),
        "contoso-ssm",
        &id.to_uppercase(),
    )
    .await;
    let document = format!(
        "tenants_from = \"ssm-path:{path}/\"\n[[tenants]]\nname = \"contoso\"\nid = \"{id}\"\n\
         client_id = \"{CLIENT}\"\ncredential = {{ type = \"aws-web-identity\" }}\n"
    );
    let e = load(&sdk, &document).await.unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "config tenants_from: tenant id {} is configured twice: [[tenants]] \"contoso\" in the \
             configuration document and SSM parameter {path}/contoso",
            id.to_uppercase()
        )
    );

    let table = state_support::fresh_table(&sdk).await;
    let sk = format!("TENANT#{}", tenant_id(2));
    put_item(
        &sdk,
        &table,
        "TENANTS",
        &sk,
        &tenant_toml("fabrikam-db", &tenant_id(2)),
    )
    .await;
    let path = fresh_path();
    put_tenant_parameter(&sdk, &format!("{path}/fabrikam"), "fabrikam", &tenant_id(2)).await;
    let document = format!(
        "tenants_from = [\"dynamodb\", \"ssm-path:{path}/\"]\n[state]\ntable = \"{table}\"\n"
    );
    let e = load(&sdk, &document).await.unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "config tenants_from: tenant id {} is configured twice: DynamoDB item {sk} (pk TENANTS) \
             in table {table} and SSM parameter {path}/fabrikam",
            tenant_id(2)
        )
    );
}

#[tokio::test]
async fn a_malformed_parameter_is_named_with_its_line_and_never_its_values() {
    // Input: one good parameter, and one whose lookback_minutes is a string and whose credential is
    // a literal secret.
    let sdk = state_support::sdk_config().await;
    let path = fresh_path();
    put_tenant_parameter(&sdk, &format!("{path}/good"), "good", &tenant_id(1)).await;
    let broken = tenant_toml("broken", &tenant_id(2))
        .replace("ssm:/entrawatch/secrets/broken", "Literal-Secret-Value-42")
        + "lookback_minutes = \"sixty\"\n";
    put_parameter(&sdk, &format!("{path}/broken"), &broken).await;
    let e = load(&sdk, &format!("tenants_from = \"ssm-path:{path}/\"\n"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "config SSM parameter {path}/broken: line 7: invalid type: string \"sixty\", expected u32"
        )),
        "{e}"
    );
    assert!(!e.contains("Literal-Secret-Value-42"), "{e}");
}

#[tokio::test]
async fn a_source_with_no_tenant_is_an_error_not_an_empty_watch() {
    // Input: a path nothing was written under (a typo, or the wrong account).
    let sdk = state_support::sdk_config().await;
    let path = fresh_path();
    let e = load(&sdk, &format!("tenants_from = \"ssm-path:{path}/\"\n"))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!("config tenants_from \"ssm-path:{path}/\": no parameter under this path")
    );
    // `dynamodb` without a table to read.
    let e = load(&sdk, "tenants_from = \"dynamodb\"\n")
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "config tenants_from \"dynamodb\": the tenants are read from the state table: set [state] table"
    );
}
