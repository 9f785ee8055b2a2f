//! `entrawatch emulator`: the bundled Entra ID / Graph emulator on its own (loopback only).

use std::path::PathBuf;
use std::process::ExitCode;

use entrawatch_emulator::EmulatorArgs;

pub async fn run(scenario: Option<PathBuf>, addr: String) -> anyhow::Result<ExitCode> {
    entrawatch_emulator::run(EmulatorArgs { scenario, addr }).await?;
    Ok(ExitCode::SUCCESS)
}
