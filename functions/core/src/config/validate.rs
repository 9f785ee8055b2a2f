//! Checks serde cannot express: identifiers that must be GUIDs, names that must be unique, fields that
//! belong to one sink type only. Each message names the tenant or sink and the field.

use std::collections::HashSet;

use super::model::{Config, SinkConfig, SinkType, StateBackend, TenantConfig};
use super::sources;

pub(super) fn check(config: &Config) -> Result<(), String> {
    let mut names = HashSet::new();
    for tenant in &config.tenants {
        if !names.insert(tenant.name.as_str()) {
            return Err(format!("tenant name \"{}\" is used twice", tenant.name));
        }
        check_tenant(tenant).map_err(|m| format!("tenant \"{}\": {m}", tenant.name))?;
    }
    let placed: Vec<_> = config
        .tenants
        .iter()
        .map(|t| (sources::document(t), t))
        .collect();
    sources::check_unique(&placed)?;
    let mut sink_names = HashSet::new();
    for sink in &config.sinks {
        if !sink_names.insert(sink.name.as_str()) {
            return Err(format!("sink name \"{}\" is used twice", sink.name));
        }
        check_sink(sink).map_err(|m| format!("sink \"{}\": {m}", sink.name))?;
    }
    let graph = &config.graph;
    for (name, value) in [
        ("reports_per_10s", graph.reports_per_10s),
        (
            "reports_per_tenant_per_10s",
            graph.reports_per_tenant_per_10s,
        ),
        (
            "sign_in_activity_per_minute",
            graph.sign_in_activity_per_minute,
        ),
    ] {
        if value == 0 {
            return Err(format!(
                "[graph] {name} must be at least 1 (Graph allows no request at 0)"
            ));
        }
    }
    if config.delivery.overdue_minutes == 0 {
        return Err("[delivery] overdue_minutes must be at least 1".to_string());
    }
    if config.state.backend == StateBackend::Dynamodb && config.state.table.is_none() {
        return Err("[state] backend = \"dynamodb\" needs table = \"...\"".to_string());
    }
    Ok(())
}

/// One tenant's own values; a tenant from a `tenants_from` source is checked with this too.
pub(super) fn check_tenant(t: &TenantConfig) -> Result<(), String> {
    if t.name.trim().is_empty() {
        return Err("name is empty".into());
    }
    guid("id", &t.id)?;
    guid("client_id", &t.client_id)?;
    for (field, value) in [("graph_url", &t.graph_url), ("login_url", &t.login_url)] {
        if let Some(v) = value {
            endpoint_url(field, v)?;
        }
    }
    if let Some(bg) = &t.break_glass {
        if bg.accounts.is_empty() {
            return Err(
                "break_glass.accounts is empty: list the emergency accounts' object ids".into(),
            );
        }
        for a in &bg.accounts {
            guid("break_glass.accounts", a)?;
        }
        if bg.lookback_minutes == 0 {
            return Err("break_glass.lookback_minutes must be at least 1".into());
        }
        if bg.drill_max_age_days == 0 {
            return Err("break_glass.drill_max_age_days must be at least 1".into());
        }
        if !(1..=720).contains(&bg.first_run_hours) {
            return Err(
                "break_glass.first_run_hours must be between 1 and 720 (30 days of log retention)"
                    .into(),
            );
        }
        if bg.blind_after_minutes == 0 {
            return Err("break_glass.blind_after_minutes must be at least 1".into());
        }
    }
    if let Some(d) = &t.dormant {
        for u in &d.exclude_users {
            guid("dormant.exclude_users", u)?;
        }
        for g in &d.exclude_groups {
            guid("dormant.exclude_groups", g)?;
        }
        for (field, days) in [
            ("member_days", d.member_days),
            ("guest_days", d.guest_days),
            ("privileged_days", d.privileged_days),
            ("renotify_days", d.renotify_days),
            ("verify_every", d.verify_every),
        ] {
            if days == 0 {
                return Err(format!("dormant.{field} must be at least 1"));
            }
        }
    }
    if let Some(w) = &t.workloads {
        for app in &w.exclude_apps {
            guid("workloads.exclude_apps", app)?;
        }
        for (field, days) in [
            ("credential_expiry_days", w.credential_expiry_days),
            ("dormant_days", w.dormant_days),
            ("renotify_days", w.renotify_days),
        ] {
            if days == 0 {
                return Err(format!("workloads.{field} must be at least 1"));
            }
        }
        if w.credential_expiry_days < super::model::SECOND_EXPIRY_WARNING_DAYS {
            return Err(format!(
                "workloads.credential_expiry_days must be at least {} (the second warning)",
                super::model::SECOND_EXPIRY_WARNING_DAYS
            ));
        }
    }
    Ok(())
}

fn check_sink(s: &SinkConfig) -> Result<(), String> {
    let needs_url = matches!(
        s.kind,
        SinkType::Webhook | SinkType::Slack | SinkType::Teams
    );
    if needs_url && s.url.is_none() {
        return Err("url is required for this sink type".into());
    }
    if s.kind == SinkType::Pagerduty && s.routing_key.is_none() {
        return Err("routing_key is required for pagerduty sinks".into());
    }
    if s.kind == SinkType::File && s.path.is_none() {
        return Err("path is required for file sinks".into());
    }
    if s.secret.is_some() && s.kind != SinkType::Webhook {
        return Err("secret is only for webhook sinks (Standard Webhooks signing)".into());
    }
    if s.routing_key.is_some() && s.kind != SinkType::Pagerduty {
        return Err("routing_key is only for pagerduty sinks".into());
    }
    if s.path.is_some() && s.kind != SinkType::File {
        return Err("path is only for file sinks".into());
    }
    if s.url.is_some() && matches!(s.kind, SinkType::Stdout | SinkType::File) {
        return Err("url is not used by stdout or file sinks".into());
    }
    Ok(())
}

/// Object and tenant ids are GUIDs (8-4-4-4-12 hex digits).
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn guid(field: &str, value: &str) -> Result<(), String> {
    if is_guid(value) {
        Ok(())
    } else {
        Err(format!(
            "{field}: \"{value}\" is not a GUID (use object ids, never names or UPNs)"
        ))
    }
}

/// Overrides must be https, except loopback (the emulator, a local proxy).
fn endpoint_url(field: &str, value: &str) -> Result<(), String> {
    match crate::net::checked_url(value) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("{field}: {e}")),
    }
}
