//! `entrawatch config check`: validate, resolve secret references, probe Graph per permission.

use std::path::Path;
use std::process::ExitCode;

pub async fn run(_path: &Path) -> anyhow::Result<ExitCode> {
    anyhow::bail!("config check: not wired yet")
}
