//! DynamoDB adapter of the state port: one table, `pk`/`sk` strings, defined in
//! `infra/dynamodb-table.json` (CloudFormation `Properties` shape; the SAM template and the tests
//! create the table from it).
//!
//! | record      | pk                     | sk                | notable attributes                          |
//! |-------------|------------------------|-------------------|---------------------------------------------|
//! | seen marker | `SEEN#{key}`           | `SEEN`            | `expires_at` (TTL)                           |
//! | cursor      | `JOB#{tenant}#{job}`   | `CURSOR`          | `value` (JSON)                               |
//! | finding     | `JOB#{tenant}#{job}`   | `FINDING#{key}`   | `status`, timestamps, `data`, `expires_at`?  |
//! | lease       | `JOB#{tenant}#{job}`   | `LEASE`           | `owner`, `until`                             |
//! | alert       | `ALERT#{id}`           | `ALERT`           | `body` (JSON), `expires_at`                  |
//! | delivery    | `ALERT#{id}`           | `DELIVERY#{sink}` | `status`, `attempts`, `next_attempt_at`, `due_pk` while pending |
//! | budget window | `BUDGET#{key}`       | `BUDGET`          | `state` (JSON), `version`, `expires_at` (TTL) |
//! | tenant      | `TENANTS`              | `TENANT#{tenant id}` | `config` (one `[[tenants]]` table's TOML; `tenants_from = "dynamodb"`, `tenants.rs`) |
//!
//! The sparse GSI `due` (`due_pk` = `DUE`, sorted by `next_attempt_at`) holds only pending
//! deliveries. GSI reads are eventually consistent, so each hit is re-read from the table with a
//! consistent read before it is handed out (a delivery just marked sent is not sent again).
//! DynamoDB's TTL deletes expired items lazily (REFERENCE.md §10: moto never does), so every
//! conditional write also treats `expires_at <= now` as absent, the Powertools idempotency way.

mod budget;
mod claims;
mod findings;
mod items;
mod outbox;
mod pending;
pub mod table;
pub mod tenants;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::Client;
use serde_json::Value;

use super::{CursorStore, Lease, LeaseStore, SeenStore, StateError};
use items::{get_n, get_s, n, s, Item};

const BACKEND: &str = "dynamodb";

/// The DynamoDB state store. Cheap to clone.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn backend<E, R>(e: SdkError<E, R>) -> StateError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StateError::Backend {
        backend: BACKEND,
        reason: DisplayErrorContext(e).to_string(),
    }
}

fn corrupt(reason: impl Into<String>) -> StateError {
    StateError::Corrupt {
        backend: BACKEND,
        reason: reason.into(),
    }
}

fn job_pk(tenant: &str, job: &str) -> String {
    format!("JOB#{tenant}#{job}")
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoStore {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    /// A store over `table` with the SDK configuration from the environment
    /// (`AWS_ENDPOINT_URL_DYNAMODB` points it at a local server).
    pub fn from_sdk_config(
        config: &aws_config::SdkConfig,
        table: impl Into<String>,
    ) -> DynamoStore {
        DynamoStore::new(Client::new(config), table)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StateError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.item)
    }
}

#[async_trait]
impl SeenStore for DynamoStore {
    async fn put_if_absent(
        &self,
        key: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StateError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("SEEN#{key}")))
            .item("sk", s("SEEN"))
            .item("expires_at", n(expires_at))
            .condition_expression("attribute_not_exists(pk) OR expires_at <= :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }
}

fn is_condition_failed<R>(
    e: &SdkError<aws_sdk_dynamodb::operation::put_item::PutItemError, R>,
) -> bool {
    e.as_service_error()
        .is_some_and(|se| se.is_conditional_check_failed_exception())
}

#[async_trait]
impl CursorStore for DynamoStore {
    async fn get_cursor(&self, tenant: &str, job: &str) -> Result<Option<Value>, StateError> {
        let Some(item) = self.get_item(job_pk(tenant, job), "CURSOR").await? else {
            return Ok(None);
        };
        let text = get_s(&item, "value").ok_or_else(|| corrupt("cursor without value"))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| corrupt(e.to_string()))
    }

    async fn put_cursor(&self, tenant: &str, job: &str, value: &Value) -> Result<(), StateError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(job_pk(tenant, job)))
            .item("sk", s("CURSOR"))
            .item("value", s(value.to_string()))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl LeaseStore for DynamoStore {
    async fn acquire_lease(
        &self,
        tenant: &str,
        job: &str,
        owner: &str,
        now: i64,
        ttl_secs: i64,
    ) -> Result<Lease, StateError> {
        let condition = "attribute_not_exists(pk) OR #until <= :now OR #owner = :owner";
        self.put_lease(tenant, job, owner, now, ttl_secs, condition)
            .await
    }

    async fn renew_lease(
        &self,
        tenant: &str,
        job: &str,
        owner: &str,
        now: i64,
        ttl_secs: i64,
    ) -> Result<Lease, StateError> {
        self.put_lease(tenant, job, owner, now, ttl_secs, "#owner = :owner")
            .await
    }

    async fn release_lease(&self, tenant: &str, job: &str, owner: &str) -> Result<(), StateError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(job_pk(tenant, job)))
            .key("sk", s("LEASE"))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match result {
            Err(e)
                if !e
                    .as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Err(backend(e))
            }
            _ => Ok(()),
        }
    }
}

impl DynamoStore {
    async fn put_lease(
        &self,
        tenant: &str,
        job: &str,
        owner: &str,
        now: i64,
        ttl: i64,
        condition: &str,
    ) -> Result<Lease, StateError> {
        let until = now + ttl;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(job_pk(tenant, job)))
            .item("sk", s("LEASE"))
            .item("owner", s(owner))
            .item("until", n(until))
            .condition_expression(condition)
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner));
        if condition.contains(":now") {
            put = put
                .expression_attribute_names("#until", "until")
                .expression_attribute_values(":now", n(now));
        }
        match put.send().await {
            Ok(_) => Ok(Lease {
                owner: owner.to_string(),
                until,
            }),
            Err(e) if is_condition_failed(&e) => {
                let current = self.get_item(job_pk(tenant, job), "LEASE").await?;
                let holder = current.as_ref().and_then(|i| get_s(i, "owner"));
                Err(StateError::LeaseHeld {
                    holder: holder
                        .unwrap_or_else(|| "nobody (the lease was released or lost)".into()),
                    until: current
                        .as_ref()
                        .and_then(|i| get_n(i, "until"))
                        .unwrap_or(now),
                })
            }
            Err(e) => Err(backend(e)),
        }
    }
}
