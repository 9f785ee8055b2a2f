//! Test support: a DynamoDB / SSM / Secrets Manager compatible server (moto) on loopback.
//!
//! `ENTRAWATCH_TEST_MOTO_URL` (set by `scripts/test.sh`) points at a running `moto_server`;
//! without it, the test binary starts moto itself on a free port (`.venv/bin/python
//! scripts/moto-server.py`: moto_server with requests serialized, as DynamoDB's atomic
//! conditional writes need) and a watchdog stops it when the test binary exits. Neither available: the test fails and says
//! to run `scripts/setup-python.sh`; it never skips.
#![allow(dead_code, unused_imports)]

pub mod fixtures;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use entrawatch_core::state::dynamodb::{table, DynamoStore};

pub fn moto_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("ENTRAWATCH_TEST_MOTO_URL") {
            return url;
        }
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let python = root.join(".venv/bin/python");
        let server = root.join("scripts/moto-server.py");
        assert!(
            root.join(".venv/bin/moto_server").exists(),
            "no DynamoDB test server: set ENTRAWATCH_TEST_MOTO_URL or run scripts/setup-python.sh \
             (installs moto_server into .venv)"
        );
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        // The shell watches this process and stops moto when it is gone, so no server outlives
        // the test binary even though statics are never dropped.
        let script = r#"parent=$1; shift; "$@" & child=$!; while kill -0 "$parent" 2>/dev/null; do sleep 1; done; kill "$child""#;
        let mut watchdog = Command::new("sh")
            .args(["-c", script, "sh", &std::process::id().to_string()])
            .arg(&python)
            .arg(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        std::thread::spawn(move || watchdog.wait());
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        format!("http://127.0.0.1:{port}")
    })
}

/// SDK configuration pointed at moto with dummy credentials, built explicitly (no process env).
pub async fn sdk_config() -> SdkConfig {
    let url = moto_url().to_string();
    entrawatch_core::aws::config_loader()
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "entrawatch-tests",
        ))
        .load()
        .await
}

/// A fresh table, created from `infra/dynamodb-table.json`, so tests run in parallel.
pub async fn fresh_table(config: &SdkConfig) -> String {
    let name = format!("entrawatch-test-{}", uuid::Uuid::new_v4().simple());
    let client = aws_sdk_dynamodb::Client::new(config);
    table::create_table(&client, &name, table::DEFINITION)
        .await
        .expect("create table");
    name
}

pub async fn dynamo_store() -> (SdkConfig, DynamoStore) {
    let config = sdk_config().await;
    let table = fresh_table(&config).await;
    let store = DynamoStore::from_sdk_config(&config, table);
    (config, store)
}
