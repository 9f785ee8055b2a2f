//! Conformance fixtures: each backend opens independent handles on one backing store, and
//! `conformance!` instantiates one generic async test body per backend.

use async_trait::async_trait;
use entrawatch_core::state::dynamodb::DynamoStore;
use entrawatch_core::state::sqlite::SqliteStore;
use entrawatch_core::state::StateStore;

/// Opens handles on one backing store; every `open` is an independent client or connection.
#[async_trait]
pub trait Fixture: Send + Sync + 'static {
    type Store: StateStore + Clone + 'static;
    async fn open(&self) -> Self::Store;
}

pub struct Sqlite(pub std::path::PathBuf);

#[async_trait]
impl Fixture for Sqlite {
    type Store = SqliteStore;
    async fn open(&self) -> SqliteStore {
        SqliteStore::open(&self.0).unwrap()
    }
}

pub struct Dynamo(pub aws_config::SdkConfig, pub String);

#[async_trait]
impl Fixture for Dynamo {
    type Store = DynamoStore;
    async fn open(&self) -> DynamoStore {
        DynamoStore::from_sdk_config(&self.0, self.1.clone())
    }
}

pub async fn sqlite() -> Sqlite {
    let dir = std::env::temp_dir().join("entrawatch-state-tests");
    std::fs::create_dir_all(&dir).unwrap();
    Sqlite(dir.join(format!("{}.db", uuid::Uuid::new_v4().simple())))
}

pub async fn dynamodb() -> Dynamo {
    let config = super::sdk_config().await;
    let table = super::fresh_table(&config).await;
    Dynamo(config, table)
}

/// `conformance!(a, b)` makes `sqlite::a`, `dynamodb::a`, ... calling the generic bodies `a`, `b`.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { super::$name($crate::state_support::fixtures::sqlite().await).await })*
        }
        mod dynamodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { super::$name($crate::state_support::fixtures::dynamodb().await).await })*
        }
    };
}
