//! `entrawatch inventory` (SPEC.md "Inventory", issue 16): every identity of one tenant, one row each (members,
//! guests, service principals, managed identities) with activity, privileges, MFA registration, credentials
//! and the findings entrawatch holds, as HTML, CSV or JSON lines.
//!
//! Memory stays constant in the number of users: users are read page by page and each row is written (CSV,
//! JSON) or folded into the HTML summary (counts and the [`summary::NOTABLE`] most notable rows) before the next
//! page is read. What is held besides: the privileged holders (a few per role), the open findings (capped at
//! [`findings::MAX_FINDINGS`]), the join window with the registration report ([`users::JOIN_WINDOW`] rows a
//! side), and the tenant's service principals and app registrations (thousands, as the workloads job holds
//! them). The reads are the jobs' own, through the same [`GraphPort`] (so the same client, pacing and shared
//! budget), and nothing is written to the state store.
//!
//! A missing permission or licence is a note naming it and the columns it fills stay empty.

mod csv;
mod findings;
mod html;
mod row;
mod summary;
mod users;
mod workloads;

pub use csv::COLUMNS;
pub use findings::MAX_FINDINGS;
pub use html::escape;
pub use row::{Band, IdentityRow, Kind};
pub use summary::{Summary, NOTABLE};
pub use users::JOIN_WINDOW;

use std::io::Write;

use chrono::{DateTime, Utc};

use crate::alert::TenantRef;
use crate::graph::{GraphError, GraphPort};
use crate::jobs::dormant::populations::PrivilegedHolders;
use crate::progress::{Extent, Progress};
use crate::state::{FindingStore, StateError};

/// The three formats of SPEC.md's `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Csv,
    /// JSON lines: one object per identity and line, the CSV's columns as fields.
    Json,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Json => "jsonl",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("cannot write the inventory: {0}")]
    Write(#[from] std::io::Error),
}

/// What the inventory reads from.
pub struct InventorySource<'a> {
    pub tenant: &'a TenantRef,
    pub graph: &'a dyn GraphPort,
    pub findings: &'a dyn FindingStore,
    pub now: DateTime<Utc>,
    pub progress: Progress,
}

/// What was written.
#[derive(Debug, Default)]
pub struct InventoryReport {
    /// Identities per kind, in [`Kind::ALL`] order.
    pub per_kind: [u64; 4],
    pub rows: u64,
    /// One line each: what could not be read and which columns are empty for it.
    pub notes: Vec<String>,
}

/// Where rows go as they are produced.
pub(crate) type Emit<'a> = dyn FnMut(IdentityRow) -> std::io::Result<()> + Send + 'a;

/// Reads every identity of the tenant and writes it to `out` in `format`.
pub async fn write_inventory(
    source: &InventorySource<'_>,
    format: Format,
    out: &mut (dyn Write + Send),
) -> Result<InventoryReport, InventoryError> {
    let mut notes = Vec::new();
    let holders = match PrivilegedHolders::read(source.graph).await {
        Ok(holders) => holders,
        Err(GraphError::PermissionMissing { permission, .. }) => {
            notes.push(format!(
                "privileged roles empty: reading roles needs {permission}"
            ));
            PrivilegedHolders::default()
        }
        Err(e) => return Err(e.into()),
    };
    notes.extend(holders.notes.iter().cloned());
    if !holders.eligibility_read {
        notes.push("eligible roles empty: PIM eligibility needs Entra ID P2".into());
    }
    let findings = findings::FindingIndex::read(source.findings, &source.tenant.id).await?;
    notes.extend(findings.notes.iter().cloned());
    // Progress: users against the directory's count (a progress-only read, made only when someone looks), then
    // the service principals.
    let users_total = if source.progress.is_shown() {
        source.graph.count_users().await.ok().flatten()
    } else {
        None
    };
    let users_task = source.progress.start(
        format!("inventory {} users", source.tenant.name),
        "users",
        users_total.map_or(Extent::Unknown, Extent::Exact),
    );
    let mut summary = Summary::default();
    let mut report = InventoryReport::default();
    if format == Format::Csv {
        csv::write_header(out)?;
    }
    {
        let mut emit = |row: IdentityRow| -> std::io::Result<()> {
            report.per_kind[row.kind().index()] += 1;
            report.rows += 1;
            match format {
                Format::Csv => csv::write_csv_row(out, &row),
                Format::Json => csv::write_json_row(out, &row),
                Format::Html => {
                    summary.add(&row);
                    Ok(())
                }
            }
        };
        let users = users::UserContext {
            graph: source.graph,
            holders: &holders,
            findings: &findings,
            now: source.now,
            window: JOIN_WINDOW,
        };
        let progress = users::Progress {
            task: &users_task,
            total: users_total,
        };
        users::stream(&users, &mut emit, &progress, &mut notes).await?;
        users_task.finish();
        let task = source.progress.start(
            format!("inventory {} service principals", source.tenant.name),
            "service principals",
            Extent::Unknown,
        );
        workloads::stream(
            source.graph,
            &findings,
            source.now,
            &mut emit,
            &task,
            &mut notes,
        )
        .await?;
        task.finish();
    }
    if format == Format::Html {
        let info = html::PageInfo {
            tenant_name: &source.tenant.name,
            tenant_id: &source.tenant.id,
            generated: source.now,
            notes: &notes,
        };
        html::write_page(out, &info, &summary)?;
    }
    out.flush()?;
    report.notes = notes;
    Ok(report)
}
