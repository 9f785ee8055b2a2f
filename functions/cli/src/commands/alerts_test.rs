//! `entrawatch alerts test`: sends a `test` alert straight to every configured sink (no routing:
//! a test must reach sinks whose `min_severity` is above info) and prints each sink's result.
//! With `--output json`, stdout carries only the delivered alert as one JSON line and the
//! per-sink results go to stderr.

use std::path::Path;
use std::process::ExitCode;

use entrawatch_core::alert::test_alert;
use entrawatch_core::config::Config;
use entrawatch_core::secrets::SecretResolver;
use entrawatch_core::sinks::{build_sinks, http_client};

use crate::OutputFormat;

pub async fn run(path: &Path, output: OutputFormat) -> anyhow::Result<ExitCode> {
    let resolver = SecretResolver::new();
    let config = Config::load(path, &resolver).await?;
    if config.sinks.is_empty() {
        anyhow::bail!("alerts test: {} has no [[sinks]] to test", path.display());
    }
    let http = http_client().map_err(anyhow::Error::msg)?;
    let sinks = build_sinks(&config.sinks, &resolver, &http).await;
    let alert = test_alert(chrono::Utc::now());
    let say = |line: String| match output {
        OutputFormat::Json => eprintln!("{line}"),
        OutputFormat::Text => println!("{line}"),
    };
    let mut failed = Vec::new();
    let mut delivered = 0;
    for sink in &sinks {
        match sink.send(&alert).await {
            Ok(()) => {
                delivered += 1;
                say(format!("sink {}: ok", sink.name()));
            }
            Err(e) => {
                say(format!("sink {}: FAILED: {e}", sink.name()));
                failed.push(sink.name().to_string());
            }
        }
    }
    if output == OutputFormat::Json && delivered > 0 {
        println!("{}", alert.to_json());
    }
    if !failed.is_empty() {
        anyhow::bail!(
            "alerts test: {} of {} sink(s) failed: {}",
            failed.len(),
            sinks.len(),
            failed.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
