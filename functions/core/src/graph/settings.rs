//! What a [`super::GraphClient`] needs to know about a tenant, and how it should behave.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::GraphError;
use crate::Secret;

/// The Microsoft cloud a tenant lives in. Tokens do not cross clouds (REFERENCE §5, Graph docs `deployments.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cloud {
    #[default]
    Global,
    /// US Government L4 (GCC High).
    UsGov,
    /// US Government L5 (DoD).
    UsGovDod,
    /// Microsoft Azure operated by 21Vianet.
    China,
}

impl Cloud {
    /// The Entra ID sign-in host, without a trailing slash.
    pub fn login_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://login.microsoftonline.com",
            Cloud::UsGov | Cloud::UsGovDod => "https://login.microsoftonline.us",
            Cloud::China => "https://login.partner.microsoftonline.cn",
        }
    }

    /// The Microsoft Graph host, without a trailing slash.
    pub fn graph_url(self) -> &'static str {
        match self {
            Cloud::Global => "https://graph.microsoft.com",
            Cloud::UsGov => "https://graph.microsoft.us",
            Cloud::UsGovDod => "https://dod-graph.microsoft.us",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn",
        }
    }
}

/// How the app proves its identity to Entra ID (client credentials flow, REFERENCE §5).
#[derive(Clone)]
pub enum ClientCredential {
    /// A client secret.
    Secret(Secret),
    /// PEM text holding the `CERTIFICATE` and its RSA private key (`PRIVATE KEY` PKCS#8 or `RSA PRIVATE KEY`
    /// PKCS#1). The client signs a PS256 assertion with it.
    Certificate { pem: Secret },
    /// A signed assertion from elsewhere (workload identity federation, e.g. `sts:GetWebIdentityToken`).
    Assertion(Arc<dyn AssertionProvider>),
}

impl fmt::Debug for ClientCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientCredential::Secret(_) => f.write_str("ClientCredential::Secret(<redacted>)"),
            ClientCredential::Certificate { .. } => {
                f.write_str("ClientCredential::Certificate(<redacted>)")
            }
            ClientCredential::Assertion(_) => {
                f.write_str("ClientCredential::Assertion(<provider>)")
            }
        }
    }
}

/// Supplies a `client_assertion` JWT for each token request (federated credentials).
#[async_trait]
pub trait AssertionProvider: Send + Sync {
    /// A fresh assertion for a token request to `token_endpoint`. Errors are reported naming the tenant.
    async fn assertion(&self, token_endpoint: &str) -> Result<Secret, GraphError>;
}

/// One tenant to read, with the app registration that reads it.
#[derive(Debug, Clone)]
pub struct TenantConnection {
    /// Directory (tenant) id.
    pub tenant_id: String,
    /// Label used in alerts, logs and errors.
    pub tenant_name: String,
    /// Application (client) id of the app registration.
    pub client_id: String,
    pub credential: ClientCredential,
    pub cloud: Cloud,
    /// Overrides the cloud's Graph URL (emulators, proxies).
    pub graph_url: Option<String>,
    /// Overrides the cloud's login URL.
    pub login_url: Option<String>,
}

/// At most `requests` requests in any `per` interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    pub requests: u32,
    pub per: Duration,
}

impl RateWindow {
    pub const fn new(requests: u32, per: Duration) -> Self {
        RateWindow { requests, per }
    }
}

/// Per-family pacing, applied per client (= per app per tenant, the scope Graph throttles on). `None` = unpaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacingLimits {
    /// Identity and access reports: `/auditLogs/*` and `/users` with `signInActivity`.
    pub reports: Option<RateWindow>,
    /// `/users` selecting or filtering `signInActivity` (counted here and under `reports`).
    pub sign_in_activity: Option<RateWindow>,
    /// Everything else (directory reads).
    pub directory: Option<RateWindow>,
    /// `/applications` and `/servicePrincipals` selecting `keyCredentials` (counted here and under `directory`).
    pub key_credentials: Option<RateWindow>,
    /// Conditional Access policies: one a second per tenant, for all apps.
    pub conditional_access: Option<RateWindow>,
}

impl PacingLimits {
    /// No pacing at all (benchmarks, emulators with throttling off).
    pub const fn unlimited() -> Self {
        PacingLimits {
            reports: None,
            sign_in_activity: None,
            directory: None,
            key_credentials: None,
            conditional_access: None,
        }
    }
}

impl Default for PacingLimits {
    /// Graph's published limits (Graph docs `throttling-limits.md`, "Identity and access reports"): 5 requests per
    /// 10 s per app per tenant for reports, 10 per minute for `signInActivity`. Directory reads are a token bucket
    /// of 3,500+ resource units per 10 s at 1-2 units per `GET users`, so 1,000 per 10 s stays well inside it.
    fn default() -> Self {
        PacingLimits {
            reports: Some(RateWindow::new(5, Duration::from_secs(10))),
            sign_in_activity: Some(RateWindow::new(10, Duration::from_secs(60))),
            directory: Some(RateWindow::new(1_000, Duration::from_secs(10))),
            // Graph docs `application-list.md` / `serviceprincipal-list.md`: 150 a minute per tenant.
            key_credentials: Some(RateWindow::new(150, Duration::from_secs(60))),
            // Graph docs `throttling-limits.md`: 1 a second per tenant, 429s without `Retry-After`.
            conditional_access: Some(RateWindow::new(1, Duration::from_secs(1))),
        }
    }
}

/// Client behaviour. `Default` suits a scheduled Lambda run.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Defaults to Graph's published limits, see [`PacingLimits::default`].
    pub pacing: PacingLimits,
    /// Time budget for a run, from client creation or [`super::GraphClient::reset_deadline`]: a retry or pacing
    /// wait that would end past it fails with [`GraphError::DeadlineExceeded`]. Defaults to 10 minutes.
    pub run_deadline: Duration,
    /// Retries per request on 429/503/504 and transport errors. Defaults to 8.
    pub max_retries: u32,
    /// Sends `x-ms-throttle-priority: High` (Graph docs `throttling.md`). Defaults to false.
    pub high_priority: bool,
    /// Timeout for one HTTP request, body included. Defaults to 60 s.
    pub request_timeout: Duration,
    /// What pacing, retry waits and the run deadline are measured on. Defaults to real time; the demo waits on
    /// the emulator's clock.
    pub clock: Arc<dyn super::WaitClock>,
    /// The budget shared with every process using this app (per app across tenants, through the state store).
    /// `None` paces this client alone (tests, benchmarks); the job runner always sets it.
    pub shared_budget: Option<super::SharedBudget>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            pacing: PacingLimits::default(),
            run_deadline: Duration::from_secs(600),
            max_retries: 8,
            high_priority: false,
            request_timeout: Duration::from_secs(60),
            clock: super::real_clock(),
            shared_budget: None,
        }
    }
}

/// "contoso (1111...)": how every error and log line names a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantLabel {
    pub name: String,
    pub id: String,
}

impl fmt::Display for TenantLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.id)
    }
}

impl From<&TenantConnection> for TenantLabel {
    fn from(conn: &TenantConnection) -> Self {
        TenantLabel {
            name: conn.tenant_name.clone(),
            id: conn.tenant_id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_clouds_use_their_own_hosts() {
        assert_eq!(
            Cloud::UsGovDod.login_url(),
            "https://login.microsoftonline.us"
        );
        assert_eq!(
            Cloud::UsGovDod.graph_url(),
            "https://dod-graph.microsoft.us"
        );
        assert_eq!(
            Cloud::China.graph_url(),
            "https://microsoftgraph.chinacloudapi.cn"
        );
    }

    #[test]
    fn credential_debug_never_shows_the_secret() {
        let cred = ClientCredential::Secret(Secret::new("s3cr3t-value"));
        assert!(!format!("{cred:?}").contains("s3cr3t"));
    }
}
