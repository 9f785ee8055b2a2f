//! Entra ID / Microsoft Graph emulator for entrawatch tests and demos. Loopback only.
//!
//! One server answers both the login surface (token endpoint, OpenID metadata, signing keys) and the Graph
//! paths entrawatch uses, with Microsoft's JSON shapes and error envelopes. See README.md for the scenario
//! format and the admin endpoints.

mod app_control;
mod app_stats;
mod assertion;
mod cli;
mod clock;
mod control;
mod defaults;
mod errors;
mod faults;
mod federation;
mod generator;
mod keys;
mod many_tenants;
mod oauth;
mod odata;
mod routes;
mod scenario;
mod state;
mod tenant;
mod throttle;
mod timefmt;
mod workloads;

pub use app_stats::{Answered, AppStats};
pub use cli::{run, run_cli, serve_until_ctrl_c, EmulatorArgs};
pub use clock::Clock;
pub use faults::{Faults, Stats};
pub use keys::TokenVersion;
pub use many_tenants::{many_tenants, GeneratedTenant, ManyTenants, ManyTenantsSpec};
pub use scenario::{
    AppSpec, Budget, GeneratorSpec, GroupSpec, Scenario, TenantSpec, ThrottleClock, ThrottleConfig,
    DEFAULT_PERMISSIONS,
};

use state::Shared;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

/// A running emulator. Dropping it without [`Emulator::stop`] leaves the server running until the runtime ends.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Emulator {
    /// Starts on `127.0.0.1` with a free port.
    pub async fn start(scenario: Scenario) -> anyhow::Result<Emulator> {
        Self::start_on(scenario, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts on `addr`, which must be a loopback address.
    pub async fn start_on(scenario: Scenario, addr: SocketAddr) -> anyhow::Result<Emulator> {
        cli::require_loopback(addr)?;
        let start = match &scenario.now {
            Some(s) => timefmt::parse(s)
                .ok_or_else(|| anyhow::anyhow!("scenario `now` must be RFC 3339, got '{s}'"))?,
            None => chrono::Utc::now(),
        };
        let tenants = scenario
            .tenants
            .iter()
            .map(|t| tenant::TenantState::build(t, start).map(Arc::new))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let clock = Clock::new(start);
        clock.freeze(scenario.freeze_clock);
        let shared = Arc::new(Shared {
            tenants,
            clock,
            faults: Faults::new(scenario.throttle.enabled),
            stats: Default::default(),
            app_stats: Default::default(),
            throttle: Default::default(),
            throttle_config: scenario.throttle.clone(),
            token_lifetime: scenario.token_lifetime_seconds.unwrap_or(3599),
            tokens: Mutex::new(Default::default()),
            base_url: OnceLock::new(),
        });
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let addr = listener.local_addr()?;
        let _ = shared.base_url.set(format!("http://{addr}"));
        let app = routes::router(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "emulator server stopped with an error");
            }
        });
        tracing::info!(%addr, "emulator listening");
        Ok(Emulator {
            shared,
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// `http://127.0.0.1:PORT`: serves both login (token, OpenID metadata, keys) and Graph paths.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn clock(&self) -> Clock {
        self.shared.clock.clone()
    }

    pub fn faults(&self) -> Faults {
        self.shared.faults.clone()
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats.snapshot()
    }

    /// Zeroes the global and the per-app counters.
    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// What `client_id` was answered on Graph paths, in every tenant together and per tenant. Errors when
    /// no tenant of the scenario registers the app, so a mistyped id cannot make "0 x 429" pass vacuously.
    pub fn app_stats(&self, client_id: &str) -> anyhow::Result<AppStats> {
        app_control::app_stats(&self.shared, client_id)
    }

    /// Every reports request (sign-ins, audits, signInActivity) of `client_id`, in every tenant, answers 429
    /// for `duration` on the throttle windows' clock (`[throttle] clock`), with `Retry-After:
    /// retry_after_secs` or by default the time left. A zero duration ends the hold. Errors when no tenant
    /// registers the app.
    pub fn hold_app_at_429(
        &self,
        client_id: &str,
        duration: std::time::Duration,
        retry_after_secs: Option<u64>,
    ) -> anyhow::Result<()> {
        app_control::hold_app(&self.shared, client_id, duration, retry_after_secs)
    }

    /// An RS256 access token signed with the tenant's current key, for validator tests. Defaults: `iss` for
    /// the version, `tid`, `ver`, `iat`/`nbf` = emulated now, `exp` = now + 1 h; `claims` override them.
    ///
    /// # Panics
    /// When the tenant is not in the scenario (a test bug); use [`Emulator::try_mint_access_token`] to handle it.
    pub fn mint_access_token(
        &self,
        tenant_id: &str,
        claims: serde_json::Value,
        version: TokenVersion,
    ) -> String {
        match self.try_mint_access_token(tenant_id, claims, version) {
            Ok(t) => t,
            Err(e) => panic!("mint_access_token: {e}"),
        }
    }

    pub fn try_mint_access_token(
        &self,
        tenant_id: &str,
        claims: serde_json::Value,
        version: TokenVersion,
    ) -> anyhow::Result<String> {
        control::mint_token(&self.shared, tenant_id, claims, version)
    }

    /// Adds a new signing key that signs from now on; the old keys stay published. Returns the new `kid`.
    ///
    /// # Panics
    /// When the tenant is not in the scenario; see [`Emulator::try_rotate_signing_key`].
    pub fn rotate_signing_key(&self, tenant_id: &str) -> String {
        match self.try_rotate_signing_key(tenant_id) {
            Ok(k) => k,
            Err(e) => panic!("rotate_signing_key: {e}"),
        }
    }

    pub fn try_rotate_signing_key(&self, tenant_id: &str) -> anyhow::Result<String> {
        control::rotate_key(&self.shared, tenant_id)
    }

    /// Stops publishing and signing with `kid`. Returns false when the tenant or key is unknown.
    pub fn retire_key(&self, tenant_id: &str, kid: &str) -> bool {
        self.shared
            .tenant(tenant_id)
            .is_some_and(|t| t.keys.retire(kid))
    }

    /// The JWKS currently published for a tenant (the v2 document, keys carry `issuer`).
    pub fn jwks(&self, tenant_id: &str) -> anyhow::Result<serde_json::Value> {
        let t = self
            .shared
            .tenant(tenant_id)
            .ok_or_else(|| anyhow::anyhow!("unknown tenant {tenant_id}"))?;
        t.keys.jwks(Some(&format!(
            "https://login.microsoftonline.com/{}/v2.0",
            t.id
        )))
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}
