//! What the break-glass runtime-API tests share: the binary, the sample tenant watching some of its
//! emergency accounts with the `secops` webhook sink, and the function's EMF lines.
#![allow(dead_code, unused_imports)] // each test binary uses a part

use std::path::Path;

use entrawatch_runtime_api_double::sample::{self, CLIENT_SECRET};
pub use entrawatch_runtime_api_double::sample::{function_env, BG1, BG2, TENANT};
use serde_json::Value;

pub const BINARY: &str = env!("CARGO_BIN_EXE_break-glass");

/// The sample tenant watching `accounts`, the `secops` webhook sink, then `more` (TOML).
pub fn config_toml(graph: &str, accounts: &[&str], more: &str) -> String {
    let accounts = serde_json::to_string(accounts).unwrap_or_default();
    sample::config_toml(
        graph,
        &format!("[tenants.break_glass]\naccounts = {accounts}"),
        more,
    )
}

/// The CloudWatch EMF lines the function printed, after checking the log holds neither the
/// client secret nor the webhook URL's secret path.
pub fn emf_lines(stdout: &Path) -> Vec<Value> {
    entrawatch_runtime_api_double::emf_lines(stdout, &[CLIENT_SECRET, "secret-path-token"])
}
