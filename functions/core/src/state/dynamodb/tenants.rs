//! Tenant configurations kept in the state table, for `tenants_from = "dynamodb"` (SPEC.md
//! "Configuration"): one item per tenant in the fixed partition `pk = TENANTS`, `sk =
//! TENANT#{tenant id}`, its `config` attribute one `[[tenants]]` table's TOML. The configuration
//! module parses and checks them; this file only knows the record.

use super::items::{get_s, s};
use super::{backend, DynamoStore};
use crate::state::StateError;

/// The partition holding every tenant configuration: one Query reads them all, in `sk` order.
pub const TENANTS_PK: &str = "TENANTS";
const SK_PREFIX: &str = "TENANT#";

/// The sort key of the tenant `id`'s item.
pub fn tenant_sk(id: &str) -> String {
    format!("{SK_PREFIX}{id}")
}

/// The tenant id a sort key names, if it is a tenant item's.
pub fn tenant_id_of(sk: &str) -> Option<&str> {
    sk.strip_prefix(SK_PREFIX)
}

/// One tenant item as stored.
#[derive(Debug, Clone)]
pub struct TenantItem {
    pub sk: String,
    /// The TOML text; `None` when the item has no string `config` attribute.
    pub config: Option<String>,
}

impl DynamoStore {
    /// Every tenant item, paged through `LastEvaluatedKey`, read consistently so a tenant just
    /// written is in the next run.
    pub async fn tenant_items(&self) -> Result<Vec<TenantItem>, StateError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(TENANTS_PK))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            items.extend(out.items().iter().map(|item| TenantItem {
                sk: get_s(item, "sk").unwrap_or_default(),
                config: get_s(item, "config"),
            }));
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(items)
    }
}
