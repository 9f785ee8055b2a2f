//! Wiring: the configured backend (`[state]`, SPEC.md "Configuration") as one handle per port.

use std::sync::Arc;

use super::budget::BudgetStore;
use super::dynamodb::DynamoStore;
use super::sqlite::SqliteStore;
use super::{
    CursorStore, FindingStore, LeaseStore, OutboxStore, SeenStore, StateError, StateStore,
};
use crate::config::{StateBackend, StateConfig};

/// One state store seen through each narrow port, so each use case takes only what it needs.
#[derive(Clone)]
pub struct Stores {
    pub seen: Arc<dyn SeenStore>,
    pub cursors: Arc<dyn CursorStore>,
    pub findings: Arc<dyn FindingStore>,
    pub outbox: Arc<dyn OutboxStore>,
    pub leases: Arc<dyn LeaseStore>,
    /// The shared Graph budget (per app, across tenants and processes).
    pub budget: Arc<dyn BudgetStore>,
}

impl Stores {
    pub fn new<S: StateStore + 'static>(store: S) -> Stores {
        let store = Arc::new(store);
        Stores {
            seen: store.clone(),
            cursors: store.clone(),
            findings: store.clone(),
            outbox: store.clone(),
            leases: store.clone(),
            budget: store,
        }
    }

    /// Opens the configured backend: the SQLite file at `path`, or the DynamoDB `table` with
    /// the SDK configuration from the environment (`AWS_ENDPOINT_URL_DYNAMODB` when set).
    pub async fn open(config: &StateConfig) -> Result<Stores, StateError> {
        match config.backend {
            StateBackend::Sqlite => Ok(Stores::new(SqliteStore::open(&config.path)?)),
            StateBackend::Dynamodb => {
                let table = config.table.clone().ok_or_else(|| StateError::Backend {
                    backend: "dynamodb",
                    reason: "[state] backend = \"dynamodb\" needs table = \"<name>\"".into(),
                })?;
                let sdk = crate::aws::load_sdk_config().await;
                Ok(Stores::new(DynamoStore::from_sdk_config(&sdk, table)))
            }
        }
    }
}
