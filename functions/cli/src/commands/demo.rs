//! `entrawatch demo`: the emulator with a sample tenant, the jobs against it, no config or network.

use std::process::ExitCode;

use crate::OutputFormat;

pub async fn run(_output: OutputFormat) -> anyhow::Result<ExitCode> {
    anyhow::bail!("demo: not wired yet")
}
