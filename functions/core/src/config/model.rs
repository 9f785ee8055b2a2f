//! Serde model of the configuration, field for field as SPEC.md "Configuration" names it.

use serde::Deserialize;

use crate::secrets::SecretRef;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub tenants: Vec<TenantConfig>,
    /// Further tenants from outside the document, merged with `tenants` by
    /// [`Config::load_tenants_from`]: `"ssm-path:/entrawatch/tenants/"`, `"dynamodb"`, or a list.
    #[serde(default, deserialize_with = "super::sources::one_or_many")]
    pub tenants_from: Vec<super::sources::TenantSource>,
    #[serde(default)]
    pub sinks: Vec<SinkConfig>,
    #[serde(default)]
    pub state: StateConfig,
    #[serde(default)]
    pub delivery: DeliveryConfig,
    #[serde(default)]
    pub graph: GraphLimitsConfig,
}

/// `[graph]`: Graph's limits per app registration (client id) across every tenant it serves, shared through
/// the state store by every process using the app. Defaults are Microsoft's published figures (Graph docs
/// `throttling-limits.md`, "Identity and access reports service limits"; REFERENCE.md §4); lower them when
/// other tools use the same app registration.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphLimitsConfig {
    #[serde(default = "default_reports_per_10s")]
    pub reports_per_10s: u32,
    #[serde(default = "default_reports_per_tenant_per_10s")]
    pub reports_per_tenant_per_10s: u32,
    #[serde(default = "default_sign_in_activity_per_minute")]
    pub sign_in_activity_per_minute: u32,
}

impl Default for GraphLimitsConfig {
    fn default() -> Self {
        let published = crate::graph::SharedLimits::default();
        GraphLimitsConfig {
            reports_per_10s: published.reports_per_10s,
            reports_per_tenant_per_10s: published.reports_per_tenant_per_10s,
            sign_in_activity_per_minute: published.sign_in_activity_per_minute,
        }
    }
}

impl GraphLimitsConfig {
    pub fn shared_limits(&self) -> crate::graph::SharedLimits {
        crate::graph::SharedLimits {
            reports_per_10s: self.reports_per_10s,
            reports_per_tenant_per_10s: self.reports_per_tenant_per_10s,
            sign_in_activity_per_minute: self.sign_in_activity_per_minute,
        }
    }
}

fn default_reports_per_10s() -> u32 {
    GraphLimitsConfig::default().reports_per_10s
}

fn default_reports_per_tenant_per_10s() -> u32 {
    GraphLimitsConfig::default().reports_per_tenant_per_10s
}

fn default_sign_in_activity_per_minute() -> u32 {
    GraphLimitsConfig::default().sign_in_activity_per_minute
}

/// `[delivery]`: when an undelivered alert becomes loud, and the heartbeat.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// An alert that has reached no sink for this long makes `run` exit non-zero and the
    /// functions report it (`AlertsOverdue`). Defaults to 15.
    #[serde(default = "default_overdue_minutes")]
    pub overdue_minutes: u32,
    /// One `monitoring.heartbeat` to every sink every this many days; 0 turns it off. Defaults to 7.
    #[serde(default = "default_heartbeat_days")]
    pub heartbeat_days: u32,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            overdue_minutes: default_overdue_minutes(),
            heartbeat_days: default_heartbeat_days(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Label used in alerts and messages.
    pub name: String,
    /// Directory (tenant) id, a GUID.
    pub id: String,
    pub client_id: String,
    pub credential: CredentialConfig,
    #[serde(default)]
    pub cloud: CloudName,
    pub graph_url: Option<String>,
    pub login_url: Option<String>,
    pub break_glass: Option<BreakGlassConfig>,
    pub dormant: Option<DormantConfig>,
    pub workloads: Option<WorkloadsConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CredentialConfig {
    /// A client secret, by reference.
    Secret { secret: SecretRef },
    /// A PEM file or secret holding the certificate and its private key (PS256 client assertion).
    Certificate { pem: SecretRef },
    /// AWS IAM outbound identity federation: no stored secret (REFERENCE.md §5).
    AwsWebIdentity {},
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CloudName {
    #[default]
    Global,
    Usgov,
    UsgovDod,
    China,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassConfig {
    /// Object ids, never UPNs or names: renames must not break the watch (REFERENCE.md §9).
    pub accounts: Vec<String>,
    #[serde(default = "yes")]
    pub include_non_interactive: bool,
    #[serde(default = "default_lookback_minutes")]
    pub lookback_minutes: u32,
    #[serde(default = "yes")]
    pub audit_changes: bool,
    #[serde(default = "default_drill_max_age_days")]
    pub drill_max_age_days: u32,
    /// How far back the first run reads (no cursor yet). Defaults to 24 h; at most 720 h, the
    /// sign-in log retention on P1/P2 (REFERENCE.md §2).
    #[serde(default = "default_first_run_hours")]
    pub first_run_hours: u32,
    /// A run failing for transient reasons (throttling, outages) raises `monitoring.blind` once
    /// the failures have lasted this long. Licence, permission and credential failures raise it
    /// at once. Defaults to 60 minutes.
    #[serde(default = "default_blind_after_minutes")]
    pub blind_after_minutes: u32,
    /// Checks that each account will work when needed (`break_glass.posture`): excluded from every enabled
    /// Conditional Access policy that applies to it, a phishing-resistant method, a permanent Global
    /// Administrator. Hourly, and in the run that sees a Conditional Access policy change.
    #[serde(default = "yes")]
    pub posture: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActivitySignal {
    /// `lastSuccessfulSignInDateTime`: failed attempts (password spray) are not activity.
    #[default]
    Successful,
    AnyAttempt,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryMode {
    #[default]
    Digest,
    PerFinding,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DormantConfig {
    #[serde(default)]
    pub activity: ActivitySignal,
    #[serde(default = "default_member_days")]
    pub member_days: u32,
    #[serde(default = "default_guest_days")]
    pub guest_days: u32,
    #[serde(default = "default_privileged_days")]
    pub privileged_days: u32,
    #[serde(default = "default_grace_days")]
    pub never_signed_in_grace_days: u32,
    #[serde(default = "default_pending_invitation_days")]
    pub pending_invitation_days: u32,
    #[serde(default)]
    pub include_disabled: bool,
    #[serde(default)]
    pub exclude_users: Vec<String>,
    #[serde(default)]
    pub exclude_groups: Vec<String>,
    #[serde(default)]
    pub exclude_upn_patterns: Vec<String>,
    #[serde(default = "default_renotify_days")]
    pub renotify_days: u32,
    #[serde(default)]
    pub delivery: DeliveryMode,
    /// Every this many scans on the `signInActivity` filter, the scan also lists every user to check that the
    /// filter returned every dormant account (issue 14: whether `eq null` matches all four "never" shapes is
    /// unconfirmed, REFERENCE.md §1).
    #[serde(default = "default_verify_every")]
    pub verify_every: u32,
}

/// The second expiry warning (high), SPEC.md `workload.credential_expiring`: "high within 7 days".
pub const SECOND_EXPIRY_WARNING_DAYS: u32 = 7;

/// `[tenants.workloads]`: service principals and app registrations (SPEC.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadsConfig {
    /// Alert when a secret or certificate expires within this many days (and again within 7, high).
    #[serde(default = "default_credential_expiry_days")]
    pub credential_expiry_days: u32,
    /// A service principal with no sign-in of any kind for this long is dormant.
    #[serde(default = "default_workload_dormant_days")]
    pub dormant_days: u32,
    /// appIds left alone by the credential expiry and dormancy checks (Microsoft first-party apps always are).
    #[serde(default)]
    pub exclude_apps: Vec<String>,
    /// A dormant service principal still dormant is listed again after this many days.
    #[serde(default = "default_renotify_days")]
    pub renotify_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkType {
    Webhook,
    Slack,
    Teams,
    Pagerduty,
    Stdout,
    File,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkConfig {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: SinkType,
    /// Webhook URLs are secrets: whoever holds one can post into the channel.
    pub url: Option<SecretRef>,
    /// Standard Webhooks `whsec_...` signing secret (webhook sinks).
    pub secret: Option<SecretRef>,
    /// PagerDuty Events API v2 routing key.
    pub routing_key: Option<SecretRef>,
    /// File path for `file` sinks (JSON lines).
    pub path: Option<String>,
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
    #[serde(default)]
    pub types: Vec<String>,
    #[serde(default)]
    pub tenants: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateBackend {
    #[default]
    Sqlite,
    Dynamodb,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    #[serde(default)]
    pub backend: StateBackend,
    #[serde(default = "default_state_path")]
    pub path: String,
    pub table: Option<String>,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            backend: StateBackend::Sqlite,
            path: default_state_path(),
            table: None,
        }
    }
}

fn yes() -> bool {
    true
}
fn default_lookback_minutes() -> u32 {
    60
}
// Microsoft: test emergency accounts at least every 90 days (Entra docs security-emergency-access.md).
fn default_drill_max_age_days() -> u32 {
    90
}
fn default_first_run_hours() -> u32 {
    24
}
/// Three 5-minute runs: a transient failure (a 503, a throttled run) that one more run usually outlasts is not
/// alerted, but an outage is heard within a quarter of an hour (issue 14; 60 let twelve runs fail silently).
fn default_blind_after_minutes() -> u32 {
    15
}
// Entra docs howto-manage-inactive-user-accounts.md: typical windows 90-180 days.
fn default_member_days() -> u32 {
    90
}
fn default_guest_days() -> u32 {
    60
}
fn default_privileged_days() -> u32 {
    30
}
fn default_grace_days() -> u32 {
    14
}
fn default_pending_invitation_days() -> u32 {
    30
}
fn default_renotify_days() -> u32 {
    30
}
fn default_credential_expiry_days() -> u32 {
    30
}
fn default_workload_dormant_days() -> u32 {
    90
}
fn default_verify_every() -> u32 {
    10
}
fn default_min_severity() -> Severity {
    Severity::Medium
}
fn default_overdue_minutes() -> u32 {
    15
}
fn default_heartbeat_days() -> u32 {
    7
}
fn default_state_path() -> String {
    "entrawatch.db".to_string()
}
