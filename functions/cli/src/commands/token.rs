//! `entrawatch token validate`: the validator core, natively.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;

pub fn validate(
    _config: &Path,
    _tenant: Option<String>,
    _audience: Option<String>,
    _token: &str,
) -> anyhow::Result<ExitCode> {
    bail!("token validate: the token validator is not built yet in this version")
}
