//! `tenants_from = "dynamodb"`: the tenant items of the state table (`[state] table`; on Lambda
//! the deployed table), record layout in `state/dynamodb/tenants.rs`.

use aws_config::SdkConfig;

use super::{SourcedText, TenantPlace};
use crate::config::TenantConfig;
use crate::state::dynamodb::tenants::tenant_id_of;
use crate::state::dynamodb::DynamoStore;

pub(super) async fn tenant_texts(aws: &SdkConfig, table: &str) -> Result<Vec<SourcedText>, String> {
    let items = DynamoStore::from_sdk_config(aws, table)
        .tenant_items()
        .await
        .map_err(|e| e.to_string())?;
    Ok(items
        .into_iter()
        .map(|item| SourcedText {
            place: TenantPlace::DynamodbItem {
                table: table.to_string(),
                sk: item.sk,
            },
            text: item.config,
        })
        .collect())
}

/// The item's key names the tenant its `config` configures, so writing a tenant's item (by its
/// key) replaces that tenant's configuration and never leaves a second one beside it.
pub(super) fn check_key(sk: &str, tenant: &TenantConfig) -> Result<(), String> {
    match tenant_id_of(sk) {
        Some(id) if id.eq_ignore_ascii_case(&tenant.id) => Ok(()),
        _ => Err(format!(
            "tenant \"{}\": the item's sk must be TENANT#{} (the id in its config)",
            tenant.name, tenant.id
        )),
    }
}
