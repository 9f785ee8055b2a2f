//! The frequent watches (issue 15): what must be alerted within minutes but belongs to a daily job. They run on
//! the break-glass schedule (`entrawatch run break-glass`, the 5-minute Lambda schedule) for every tenant that
//! configures the job they watch for:
//! - `[tenants.dormant]`: `dormant.reactivated` (a dormant account signed in or registered security info);
//! - `[tenants.workloads]`: `workload.credential_added` (a credential added to a privileged app).

use super::{dormant, workloads, JobContext, JobError, JobReport};
use crate::config::TenantConfig;

pub async fn run(ctx: &JobContext, tenant: &TenantConfig) -> Result<JobReport, JobError> {
    let mut report = JobReport {
        complete: true,
        ..JobReport::default()
    };
    if tenant.dormant.is_some() {
        let r = dormant::reactivation::watch(ctx).await?;
        report.examined += r.examined;
        report.alerts_recorded += r.alerts;
        report.notes.extend(r.notes);
        report.notes.push(format!(
            "reactivation watch: {} open dormant findings, {} sign-ins and audits read, {} reactivated",
            r.open_findings, r.examined, r.alerts
        ));
    }
    if tenant.workloads.is_some() {
        let (examined, alerts, notes) = workloads::added::watch(ctx).await?;
        report.examined += examined;
        report.alerts_recorded += alerts;
        report.notes.extend(notes);
        report.notes.push(format!(
            "credential watch: {examined} application audits read, {alerts} credentials added to privileged apps"
        ));
    }
    Ok(report)
}
