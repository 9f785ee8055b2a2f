//! The `entrawatch-emulator` command line, reusable as `entrawatch emulator`.

use crate::{Emulator, Scenario};
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Options of `entrawatch-emulator` (and `entrawatch emulator`, which can flatten this struct).
#[derive(Clone, Debug, clap::Parser)]
#[command(
    name = "entrawatch-emulator",
    about = "Entra ID and Microsoft Graph emulator (loopback only)"
)]
pub struct EmulatorArgs {
    /// Scenario file (.toml or .json). Default: the bundled sample tenant.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
}

pub(crate) fn require_loopback(addr: SocketAddr) -> anyhow::Result<()> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        anyhow::bail!("refusing to listen on {addr}: the emulator only binds loopback addresses such as 127.0.0.1:8080 or [::1]:8080")
    }
}

/// Parses `args` (including the program name) and runs until Ctrl-C.
pub async fn run_cli<I, T>(args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = <EmulatorArgs as clap::Parser>::try_parse_from(args)?;
    run(args).await
}

pub async fn run(args: EmulatorArgs) -> anyhow::Result<()> {
    let addr: SocketAddr = args.addr.parse().map_err(|_| {
        anyhow::anyhow!(
            "--addr '{}' is not IP:PORT (for example 127.0.0.1:8080)",
            args.addr
        )
    })?;
    require_loopback(addr)?;
    let scenario = match &args.scenario {
        Some(path) => Scenario::from_file(path)?,
        None => Scenario::sample(),
    };
    serve_until_ctrl_c(scenario, addr).await
}

/// Starts the emulator, prints `entrawatch emulator listening on http://...` and serves until Ctrl-C.
pub async fn serve_until_ctrl_c(scenario: Scenario, addr: SocketAddr) -> anyhow::Result<()> {
    let emulator = Emulator::start_on(scenario, addr).await?;
    println!("entrawatch emulator listening on {}", emulator.url());
    tokio::signal::ctrl_c().await?;
    emulator.stop().await;
    Ok(())
}
