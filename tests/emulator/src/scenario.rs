//! Scenario files: what the emulated tenants contain. TOML or JSON; the format is documented in README.md.
//!
//! Graph objects (users, sign-ins, audits, role assignments) are kept as raw JSON so any shape Graph can
//! send, including the four "never signed in" shapes of `signInActivity`, can be written down.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

const SAMPLE_TOML: &str = include_str!("../scenarios/sample.toml");

/// The default application permissions of a scenario app (Graph docs `permissions-reference`).
pub const DEFAULT_PERMISSIONS: [&str; 9] = [
    "User.Read.All",
    "AuditLog.Read.All",
    "Directory.Read.All",
    "RoleManagement.Read.Directory",
    "GroupMember.Read.All",
    "PrivilegedEligibilitySchedule.Read.AzureADGroup",
    "Application.Read.All",
    "Policy.Read.All",
    "UserAuthenticationMethod.Read.All",
];

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Initial emulated time (RFC 3339). Default: the wall clock when the emulator starts.
    #[serde(default)]
    pub now: Option<String>,
    /// `true` stops the emulated clock at `now` until set or advanced (tests); default: it runs.
    #[serde(default)]
    pub freeze_clock: bool,
    /// `expires_in` of issued Graph tokens. Default 3599 (Entra's value).
    #[serde(default)]
    pub token_lifetime_seconds: Option<u64>,
    #[serde(default)]
    pub throttle: ThrottleConfig,
    #[serde(default)]
    pub tenants: Vec<TenantSpec>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Identity and access reports: 5 requests per 10 s per app per tenant (Graph docs `throttling-limits`).
    #[serde(default = "reports_budget")]
    pub reports: Budget,
    /// GET signInActivity: 10 requests per minute per app per tenant (Graph docs `throttling-limits`).
    #[serde(default = "sign_in_activity_budget")]
    pub sign_in_activity: Budget,
    /// `$select=keyCredentials` on `/applications` and `/servicePrincipals`: 150 requests per minute per tenant
    /// (Graph docs `application-list.md`, `serviceprincipal-list.md`).
    #[serde(default = "key_credentials_budget")]
    pub key_credentials: Budget,
    /// Identity and access reports: 122 requests per 10 s per app across all tenants together (Graph docs
    /// `throttling-limits`, 2025-01-14, "Identity and access reports service limits"): one multi-tenant app
    /// registration draws on this budget from every tenant at once.
    #[serde(default = "reports_per_app_budget")]
    pub reports_per_app: Budget,
    /// GET signInActivity: 10 requests per minute per app across all tenants (same table).
    #[serde(default = "sign_in_activity_budget")]
    pub sign_in_activity_per_app: Budget,
    /// Conditional Access policies: 1 request per second per tenant for all apps, 429 without `Retry-After`
    /// (Graph docs `throttling-limits`, "Identity protection and Conditional Access service limits").
    #[serde(default = "conditional_access_budget")]
    pub conditional_access: Budget,
    /// What the windows are measured on: real monotonic time (the default, so tests that freeze or jump the
    /// emulated clock do not disturb them), or the emulated clock, for `entrawatch demo`, whose client waits on
    /// that same clock.
    #[serde(default)]
    pub clock: ThrottleClock,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            enabled: true,
            reports: reports_budget(),
            sign_in_activity: sign_in_activity_budget(),
            reports_per_app: reports_per_app_budget(),
            sign_in_activity_per_app: sign_in_activity_budget(),
            key_credentials: key_credentials_budget(),
            conditional_access: conditional_access_budget(),
            clock: ThrottleClock::Real,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ThrottleClock {
    #[default]
    Real,
    Emulated,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub requests: u32,
    pub per_seconds: u64,
}

fn yes() -> bool {
    true
}
fn reports_budget() -> Budget {
    Budget {
        requests: 5,
        per_seconds: 10,
    }
}
fn reports_per_app_budget() -> Budget {
    Budget {
        requests: 122,
        per_seconds: 10,
    }
}
fn key_credentials_budget() -> Budget {
    Budget {
        requests: 150,
        per_seconds: 60,
    }
}
fn conditional_access_budget() -> Budget {
    Budget {
        requests: 1,
        per_seconds: 1,
    }
}
fn sign_in_activity_budget() -> Budget {
    Budget {
        requests: 10,
        per_seconds: 60,
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSpec {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub domain: String,
    /// Entra ID P1 or P2: without it reports and signInActivity answer 403.
    #[serde(default = "yes")]
    pub premium: bool,
    /// Entra ID P2: without it PIM eligibility schedules answer 403.
    #[serde(default = "yes")]
    pub p2: bool,
    /// Optional fixed PKCS#8 or PKCS#1 PEM RSA signing key (skips key generation at first use).
    #[serde(default)]
    pub signing_key_pem: Option<String>,
    #[serde(default)]
    pub apps: Vec<AppSpec>,
    #[serde(default)]
    pub users: Vec<Value>,
    #[serde(default)]
    pub sign_ins: Vec<Value>,
    #[serde(default)]
    pub audits: Vec<Value>,
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    #[serde(default)]
    pub service_principals: Vec<Value>,
    #[serde(default)]
    pub role_assignments: Vec<Value>,
    #[serde(default)]
    pub role_eligibility_schedules: Vec<Value>,
    /// `unifiedRoleDefinition`s; empty: the built-in ones of `routes/role_definitions.json`.
    #[serde(default)]
    pub role_definitions: Vec<Value>,
    /// PIM for Groups `privilegedAccessGroupEligibilitySchedule`s (`groupId`, `principalId`, `accessId`).
    #[serde(default)]
    pub group_eligibility_schedules: Vec<Value>,
    #[serde(default)]
    pub generator: Option<GeneratorSpec>,
    /// Graph `application` objects (app registrations), with `passwordCredentials`, `keyCredentials` and an
    /// optional `federatedIdentityCredentials` array served by its own route.
    #[serde(default)]
    pub applications: Vec<Value>,
    /// `appRoleAssignment`s (`appRoleId`, `principalId`, `resourceId`): application permissions when the resource
    /// is Microsoft Graph's service principal.
    #[serde(default)]
    pub app_role_assignments: Vec<Value>,
    /// Beta `appCredentialSignInActivity` rows, served as written (the docs' own quirks included).
    #[serde(default)]
    pub app_credential_sign_in_activities: Vec<Value>,
    /// Beta `servicePrincipalSignInActivity` rows.
    #[serde(default)]
    pub service_principal_sign_in_activities: Vec<Value>,
    #[serde(default)]
    pub workload_generator: Option<WorkloadGeneratorSpec>,
    /// `conditionalAccessPolicy` objects as Graph returns them (Graph docs `conditionalaccessroot-list-policies`).
    #[serde(default)]
    pub conditional_access_policies: Vec<Value>,
    /// Registered authentication methods, each an `authenticationMethod` with `@odata.type` and the `userId` it
    /// belongs to (not served: Graph lists them under the user).
    #[serde(default)]
    pub authentication_methods: Vec<Value>,
    /// `unifiedRoleAssignmentScheduleInstance` objects (PIM, P2).
    #[serde(default)]
    pub role_assignment_schedule_instances: Vec<Value>,
}

/// Generated app registrations and service principals (`workloads.rs`): item `i` is a pure function of
/// `(seed, i)`, listed after the scenario's own.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadGeneratorSpec {
    pub service_principals: u64,
    pub applications: u64,
    #[serde(default)]
    pub seed: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    pub client_id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub secret: Option<String>,
    /// PEM certificate whose public key verifies client assertions.
    #[serde(default)]
    pub certificate_pem: Option<String>,
    /// Federated identity credentials (workload identity federation, e.g. AWS outbound identity federation).
    #[serde(default)]
    pub federated: Vec<FederatedCredential>,
    #[serde(default = "default_permissions")]
    pub permissions: Vec<String>,
}

fn default_permissions() -> Vec<String> {
    DEFAULT_PERMISSIONS.iter().map(|p| p.to_string()).collect()
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederatedCredential {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
    /// The external issuer's JWKS (`{"keys":[...]}`). Entra fetches it from the issuer's OpenID metadata; the
    /// emulator never leaves loopback, so the scenario carries it.
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub id: String,
    #[serde(rename = "displayName", default)]
    pub display_name: String,
    #[serde(rename = "isAssignableToRole", default)]
    pub is_assignable_to_role: bool,
    /// Ids of users or groups (nested groups allowed; cycles are harmless).
    #[serde(default)]
    pub members: Vec<String>,
}

/// Generated users: user `i` is a pure function of `(seed, i)`; nothing is held in memory.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorSpec {
    pub users: u64,
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "r_guests")]
    pub guests: f64,
    #[serde(default = "r_disabled")]
    pub disabled: f64,
    #[serde(default = "r_never")]
    pub never_signed_in: f64,
    #[serde(default = "r_synced")]
    pub synced: f64,
    #[serde(default = "r_licensed")]
    pub licensed: f64,
    /// Share of users whose last sign-in is older than 90 days.
    #[serde(default = "r_dormant")]
    pub dormant: f64,
}

fn r_guests() -> f64 {
    0.1
}
fn r_disabled() -> f64 {
    0.05
}
fn r_never() -> f64 {
    0.1
}
fn r_synced() -> f64 {
    0.3
}
fn r_licensed() -> f64 {
    0.7
}
fn r_dormant() -> f64 {
    0.2
}

impl Scenario {
    pub fn from_toml_str(s: &str) -> anyhow::Result<Scenario> {
        toml::from_str(s).map_err(|e| anyhow::anyhow!("scenario TOML is invalid: {e}"))
    }

    pub fn from_json_str(s: &str) -> anyhow::Result<Scenario> {
        serde_json::from_str(s).map_err(|e| anyhow::anyhow!("scenario JSON is invalid: {e}"))
    }

    /// Reads a scenario, choosing the format by extension (`.toml` or `.json`).
    pub fn from_file(path: impl AsRef<Path>) -> anyhow::Result<Scenario> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read scenario {}: {e}", path.display()))?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Self::from_toml_str(&text),
            Some("json") => Self::from_json_str(&text),
            _ => anyhow::bail!(
                "scenario {}: extension must be .toml or .json",
                path.display()
            ),
        }
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    /// The bundled demo tenant "contoso" (`scenarios/sample.toml`).
    pub fn sample() -> Scenario {
        // The bundled file is checked by the `sample_scenario_parses` test, so this cannot fail at run time.
        Self::from_toml_str(SAMPLE_TOML).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_scenario_parses() {
        let s = Scenario::from_toml_str(SAMPLE_TOML).expect("sample.toml parses");
        assert_eq!(s.tenants.len(), 1);
        assert!(s.tenants[0].users.len() >= 15);
    }

    #[test]
    fn unknown_scenario_keys_are_refused() {
        assert!(Scenario::from_toml_str("bogus = 1").is_err());
    }

    #[test]
    fn json_scenarios_keep_null_and_missing_apart() {
        let s = Scenario::from_json_str(
            r#"{"tenants":[{"id":"t","users":[{"id":"a","signInActivity":{"lastSignInDateTime":null}},{"id":"b"}]}]}"#,
        )
        .expect("parses");
        let users = &s.tenants[0].users;
        assert!(users[0]["signInActivity"]["lastSignInDateTime"].is_null());
        assert!(users[1].get("signInActivity").is_none());
        assert!(s.tenants[0].premium && s.throttle.enabled);
    }

    #[test]
    fn bundled_large_scenario_parses() {
        let s = Scenario::from_toml_str(include_str!("../scenarios/large.toml"))
            .expect("large.toml parses");
        assert_eq!(
            s.tenants[0].generator.as_ref().map(|g| g.users),
            Some(1_000_000)
        );
    }

    #[test]
    fn app_wide_budgets_default_to_the_published_figures_and_can_be_set() {
        // Graph docs `concepts/throttling-limits.md` (2025-01-14): reports 122 per 10 s per app across all
        // tenants; signInActivity 10 per minute.
        let d = ThrottleConfig::default();
        assert_eq!(
            (d.reports_per_app, d.sign_in_activity_per_app),
            (
                Budget {
                    requests: 122,
                    per_seconds: 10
                },
                Budget {
                    requests: 10,
                    per_seconds: 60
                }
            )
        );
        let s = Scenario::from_toml_str(
            "[throttle]\nreports_per_app = { requests = 7, per_seconds = 1 }\nsign_in_activity_per_app = { requests = 3, per_seconds = 5 }",
        )
        .expect("parses");
        assert_eq!(s.throttle.reports_per_app.requests, 7);
        assert_eq!(s.throttle.sign_in_activity_per_app.per_seconds, 5);
        assert_eq!(
            s.throttle.reports, d.reports,
            "the per-tenant keys keep their defaults"
        );
    }
}
