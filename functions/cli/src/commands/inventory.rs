//! `entrawatch inventory [--tenant T] [--format html|csv|json] [--out F]` (SPEC.md "Inventory"): every identity of
//! one tenant to one file. The tenant's Graph client is built as `run` builds it (the configured credential, the
//! app's budget shared through the state store), the findings are read from the configured state store, and
//! nothing is written to it but the shared budget's request accounting.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use entrawatch_core::alert::TenantRef;
use entrawatch_core::config::{Config, TenantConfig};
use entrawatch_core::graph::{ClientOptions, GraphClient, SharedBudget};
use entrawatch_core::inventory::{write_inventory, Format, InventoryReport, InventorySource, Kind};
use entrawatch_core::jobs::selects;
use entrawatch_core::progress::Progress;
use entrawatch_core::secrets::SecretResolver;
use entrawatch_core::state::Stores;

use crate::progress::Console;

/// A million users read with `signInActivity` at Graph's reports limit (5 requests per 10 s per tenant,
/// REFERENCE.md §4) take hours; the inventory is run by a person or a nightly job, not inside a Lambda's 15 min.
const DEADLINE: Duration = Duration::from_secs(12 * 3600);

/// What one inventory wrote.
pub struct Written {
    pub path: PathBuf,
    pub report: InventoryReport,
    pub requests: u64,
}

/// The tenant `selector` names, or the only one configured.
fn tenant_of<'a>(config: &'a Config, selector: Option<&str>) -> anyhow::Result<&'a TenantConfig> {
    match selector {
        Some(s) => config.tenants.iter().find(|t| selects(s, t)).ok_or_else(|| {
            anyhow::anyhow!("inventory: --tenant {s:?} is not a configured tenant (give its name exactly or its id)")
        }),
        None => match config.tenants.as_slice() {
            [only] => Ok(only),
            [] => anyhow::bail!("inventory: the configuration has no tenant"),
            _ => anyhow::bail!(
                "inventory: {} tenants are configured: name one with --tenant",
                config.tenants.len()
            ),
        },
    }
}

/// `entrawatch-inventory-<tenant>.<ext>`, the tenant name kept to file-safe characters.
pub fn default_path(tenant: &str, format: Format) -> PathBuf {
    let safe: String = tenant
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from(format!(
        "entrawatch-inventory-{safe}.{}",
        format.extension()
    ))
}

/// What to write, and how the tenant's client behaves.
pub struct Request<'a> {
    pub format: Format,
    pub path: &'a Path,
    pub options: ClientOptions,
    pub progress: Progress,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Writes the inventory of `tenant` to `request.path` (through a temporary file beside it, renamed when complete,
/// so a failed run never leaves half a report under the name).
pub async fn write_for_tenant(
    config: &Config,
    tenant: &TenantConfig,
    resolver: &SecretResolver,
    request: Request<'_>,
) -> anyhow::Result<Written> {
    let Request {
        format,
        path,
        options,
        progress,
        now,
    } = request;
    let stores = Stores::open(&config.state).await?;
    let connection = tenant
        .connection(resolver)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut options = options;
    options.shared_budget.get_or_insert_with(|| {
        SharedBudget::new(stores.budget.clone(), config.graph.shared_limits())
    });
    let client = GraphClient::new(connection, options)?;
    let tenant_ref = TenantRef {
        id: tenant.id.clone(),
        name: tenant.name.clone(),
    };
    let source = InventorySource {
        tenant: &tenant_ref,
        graph: &client,
        findings: stores.findings.as_ref(),
        now,
        progress,
    };
    let partial = path.with_extension(format!(
        "{}.partial-{}",
        format.extension(),
        std::process::id()
    ));
    let file = std::fs::File::create(&partial)
        .map_err(|e| anyhow::anyhow!("inventory: cannot create {}: {e}", partial.display()))?;
    let mut out = BufWriter::new(file);
    let result = write_inventory(&source, format, &mut out).await;
    let result = result.and_then(|report| Ok((report, out.flush()?)));
    let report = match result {
        Ok((report, ())) => report,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            anyhow::bail!("inventory of tenant {}: {e}", tenant.name);
        }
    };
    drop(out);
    std::fs::rename(&partial, path)
        .map_err(|e| anyhow::anyhow!("inventory: cannot write {}: {e}", path.display()))?;
    Ok(Written {
        path: path.to_path_buf(),
        report,
        requests: client.metrics().requests,
    })
}

/// The line a person reads: how many of each kind, and where.
pub fn summary_line(tenant: &str, written: &Written) -> String {
    let per = &written.report.per_kind;
    format!(
        "inventory of {tenant}: {} identities ({} members, {} guests, {} service principals, {} managed identities), \
         {} Graph requests -> {}",
        written.report.rows,
        per[Kind::Member.index()],
        per[Kind::Guest.index()],
        per[Kind::ServicePrincipal.index()],
        per[Kind::ManagedIdentity.index()],
        written.requests,
        written.path.display()
    )
}

pub async fn run(
    config_path: &Path,
    tenant: Option<&str>,
    format: Format,
    out: Option<PathBuf>,
    console: &Console,
) -> anyhow::Result<ExitCode> {
    let resolver = SecretResolver::new();
    let config = Config::load(config_path, &resolver).await?;
    let tenant = tenant_of(&config, tenant)?;
    let path = out.unwrap_or_else(|| default_path(&tenant.name, format));
    let options = ClientOptions {
        run_deadline: DEADLINE,
        ..ClientOptions::default()
    };
    let request = Request {
        format,
        path: &path,
        options,
        progress: console.progress(),
        now: chrono::Utc::now(),
    };
    let written = write_for_tenant(&config, tenant, &resolver, request).await?;
    println!("{}", summary_line(&tenant.name, &written));
    for note in &written.report.notes {
        println!("  note: {note}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_file_is_named_after_the_tenant_and_format() {
        assert_eq!(
            default_path("contoso", Format::Html),
            PathBuf::from("entrawatch-inventory-contoso.html")
        );
        assert_eq!(
            default_path("../x y", Format::Json),
            PathBuf::from("entrawatch-inventory-___x_y.jsonl")
        );
    }
}
