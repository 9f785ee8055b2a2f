//! `entrawatch emulator`: the bundled Entra ID / Graph emulator on its own.

use std::path::PathBuf;
use std::process::ExitCode;

pub async fn run(_scenario: Option<PathBuf>, _addr: &str) -> anyhow::Result<ExitCode> {
    anyhow::bail!("emulator: not wired yet")
}
