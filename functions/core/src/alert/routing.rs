//! Which sinks get which alert: `min_severity`, `types` globs and `tenants` per sink
//! (SPEC.md "Configuration", `[[sinks]]`).

use super::Alert;
use crate::config::{Severity, SinkConfig};

/// The routing rule of one sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub sink: String,
    pub min_severity: Severity,
    /// Globs on the alert type (`*` matches any run of characters); empty means every type.
    pub types: Vec<String>,
    /// Tenant names; empty means every tenant.
    pub tenants: Vec<String>,
}

impl Route {
    pub fn from_config(sink: &SinkConfig) -> Route {
        Route {
            sink: sink.name.clone(),
            min_severity: sink.min_severity,
            types: sink.types.clone(),
            tenants: sink.tenants.clone(),
        }
    }

    /// Every sink gets an alert at or above its `min_severity` whose type matches one of its globs
    /// and whose tenant is listed (empty lists match everything). Alerts about entrawatch itself
    /// (a failing sink) belong to no tenant, so a tenant filter does not hide them.
    pub fn accepts(&self, alert: &Alert) -> bool {
        alert.severity >= self.min_severity
            && (self.types.is_empty() || self.types.iter().any(|g| glob_matches(g, &alert.kind)))
            && (self.tenants.is_empty()
                || alert.tenant.is_system()
                || self.tenants.iter().any(|t| t == &alert.tenant.name))
    }
}

/// `*` matches any (possibly empty) run of characters; everything else matches itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{types, TenantRef};

    fn alert(kind: &str, severity: Severity, tenant: &str) -> Alert {
        let t = TenantRef {
            id: "t".into(),
            name: tenant.into(),
        };
        Alert::new(kind, severity, t, "k", "title", chrono::Utc::now())
    }

    fn route(min: Severity, types: &[&str], tenants: &[&str]) -> Route {
        Route {
            sink: "s".into(),
            min_severity: min,
            types: types.iter().map(|s| s.to_string()).collect(),
            tenants: tenants.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn globs_match_prefixes_suffixes_and_exact_names() {
        assert!(glob_matches("break_glass.*", "break_glass.sign_in"));
        assert!(glob_matches("*.digest", "dormant.digest"));
        assert!(glob_matches("*", "test"));
        assert!(glob_matches("b*g*in", "break_glass.sign_in"));
        assert!(glob_matches("test", "test"));
        assert!(!glob_matches("break_glass.*", "dormant.account"));
        assert!(!glob_matches("a*a", "a"));
    }

    #[test]
    fn sink_gets_only_alerts_at_or_above_its_minimum_severity() {
        let r = route(Severity::High, &[], &[]);
        assert!(r.accepts(&alert(
            types::BREAK_GLASS_SIGN_IN,
            Severity::Critical,
            "contoso"
        )));
        assert!(r.accepts(&alert(types::MONITORING_BLIND, Severity::High, "contoso")));
        assert!(!r.accepts(&alert(types::DORMANT_DIGEST, Severity::Medium, "contoso")));
    }

    #[test]
    fn type_and_tenant_filters_both_apply() {
        let r = route(Severity::Info, &["break_glass.*"], &["contoso"]);
        assert!(r.accepts(&alert(
            types::BREAK_GLASS_SIGN_IN,
            Severity::Critical,
            "contoso"
        )));
        assert!(!r.accepts(&alert(
            types::BREAK_GLASS_SIGN_IN,
            Severity::Critical,
            "fabrikam"
        )));
        assert!(!r.accepts(&alert(
            types::DORMANT_ACCOUNT,
            Severity::Critical,
            "contoso"
        )));
    }

    #[test]
    fn a_tenant_filter_does_not_hide_alerts_about_entrawatch_itself() {
        let r = route(Severity::Info, &[], &["contoso"]);
        let failing = Alert::new(
            types::DELIVERY_FAILING,
            Severity::High,
            TenantRef::system(),
            "slack#outage",
            "Alert sink slack cannot be built",
            chrono::Utc::now(),
        );
        assert!(r.accepts(&failing));
        let typed = route(Severity::Info, &["break_glass.*"], &["contoso"]);
        assert!(!typed.accepts(&failing), "a type filter still applies");
    }
}
