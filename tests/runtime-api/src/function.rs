//! A function binary run as a Lambda instance against a [`RuntimeApi`], and what it printed.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::RuntimeApi;

/// Starts a function binary against `api` with the Lambda environment plus `env`; its stdout
/// (logs and EMF lines) goes to a file so the test can read it.
pub fn spawn_function(
    binary: &str,
    api: &RuntimeApi,
    env: &[(&str, String)],
    stdout: &Path,
) -> Child {
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "entrawatch-test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::from(std::fs::File::create(stdout).unwrap()))
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start the function binary")
}

/// The CloudWatch EMF lines (those with `_aws` metadata) of a function's captured stdout, after
/// checking that none of `secrets` appears anywhere in it.
pub fn emf_lines(stdout: &Path, secrets: &[&str]) -> Vec<Value> {
    let log = std::fs::read_to_string(stdout)
        .unwrap_or_else(|e| panic!("the function's stdout {}: {e}", stdout.display()));
    for (i, secret) in secrets.iter().enumerate() {
        // The position, not the value: the message would print what it checks never appears.
        assert!(
            !log.contains(secret),
            "secret #{i} of {} is in the function's log",
            secrets.len()
        );
    }
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some())
        .collect()
}
