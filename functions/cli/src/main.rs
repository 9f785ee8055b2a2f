//! `entrawatch`: the command line of SPEC.md. Each subcommand is a small module in `commands/`.

mod commands;
mod logging;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "entrawatch",
    version,
    about = "Watch Microsoft Entra ID tenants: break-glass use, dormant accounts, token validation"
)]
struct Cli {
    /// Configuration file [default: $ENTRAWATCH_CONFIG, else ./entrawatch.toml]
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// `json` writes each delivered alert as one JSON line to stdout.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    output: OutputFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Start the bundled Entra ID / Graph emulator with a sample tenant and run every job against it.
    Demo,
    /// One run of the job(s) for every configured tenant, then deliver pending alerts.
    Run {
        #[arg(value_enum)]
        job: Job,
        /// Run only this tenant (its name, or its id in any case); repeat for several.
        #[arg(long = "tenant", value_name = "NAME-OR-ID")]
        tenants: Vec<String>,
    },
    /// Every identity of one tenant (users, guests, service principals, managed identities) to one file.
    Inventory {
        /// The tenant (its name, or its id in any case) [default: the only configured tenant]
        #[arg(long, value_name = "NAME-OR-ID")]
        tenant: Option<String>,
        #[arg(long, value_enum, default_value_t = InventoryFormat::Html)]
        format: InventoryFormat,
        /// Output file [default: entrawatch-inventory-<tenant>.html, .csv or .jsonl]
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Alert sinks.
    Alerts {
        #[command(subcommand)]
        command: AlertsCommand,
    },
    /// Configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Entra ID access tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Run the Entra ID / Graph emulator on its own (loopback only).
    Emulator {
        /// Scenario file (TOML or JSON) [default: the bundled sample tenant]
        #[arg(long)]
        scenario: Option<PathBuf>,
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Job {
    /// The frequent run: break-glass, and the watches of the dormant and workloads jobs.
    BreakGlass,
    Dormant,
    Workloads,
    /// The frequent watches alone (reactivated dormant accounts, credentials added to privileged apps).
    Watch,
    All,
}

/// `entrawatch inventory --format`: `json` is JSON lines (one object per identity).
#[derive(Clone, Copy, ValueEnum)]
pub enum InventoryFormat {
    Html,
    Csv,
    Json,
}

impl From<InventoryFormat> for entrawatch_core::inventory::Format {
    fn from(f: InventoryFormat) -> Self {
        match f {
            InventoryFormat::Html => entrawatch_core::inventory::Format::Html,
            InventoryFormat::Csv => entrawatch_core::inventory::Format::Csv,
            InventoryFormat::Json => entrawatch_core::inventory::Format::Json,
        }
    }
}

#[derive(Subcommand)]
enum AlertsCommand {
    /// Send a `test` alert to every sink and print each sink's result.
    Test,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the file, resolve secret references, and probe Graph for every permission the jobs need.
    Check,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Validate an access token with the same core as the WebAssembly build.
    Validate {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        audience: Option<String>,
        /// A static JWKS file instead of fetching the tenant's keys (air-gapped use, tests).
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// The token (or `Bearer <token>`), or `-` to read it from stdin (keeps it out of shell history).
        token: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo prints what a person reads; its log lines only when ENTRAWATCH_LOG asks (SPEC.md "CLI").
    let default_logs = if matches!(cli.command, Command::Demo) {
        "off"
    } else {
        "info"
    };
    let console = progress::Console::for_stderr();
    logging::init(cli.log_format, &console, default_logs);
    let config_path = cli
        .config
        .clone()
        .unwrap_or_else(entrawatch_core::config::Config::default_path);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(anyhow::anyhow!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo => commands::demo::run(cli.output).await,
            Command::Run { job, tenants } => {
                commands::run::run(&config_path, job, &tenants, cli.output, &console).await
            }
            Command::Inventory {
                tenant,
                format,
                out,
            } => {
                commands::inventory::run(
                    &config_path,
                    tenant.as_deref(),
                    format.into(),
                    out,
                    &console,
                )
                .await
            }
            Command::Alerts {
                command: AlertsCommand::Test,
            } => commands::alerts_test::run(&config_path, cli.output).await,
            Command::Config {
                command: ConfigCommand::Check,
            } => commands::config_check::run(&config_path).await,
            Command::Token {
                command:
                    TokenCommand::Validate {
                        tenant,
                        audience,
                        jwks,
                        token,
                    },
            } => commands::token::validate(&config_path, tenant, audience, jwks, &token).await,
            Command::Emulator { scenario, addr } => commands::emulator::run(scenario, addr).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

/// One clear line on stderr and a non-zero exit (SPEC.md "CLI").
fn fail(e: anyhow::Error) -> ExitCode {
    eprintln!("entrawatch: {e:#}");
    ExitCode::FAILURE
}
