//! State shared by every request handler.

use crate::app_stats::AppStatsCell;
use crate::clock::Clock;
use crate::errors::GraphError;
use crate::faults::{Faults, StatsCell};
use crate::scenario::{ThrottleClock, ThrottleConfig};
use crate::tenant::TenantState;
use crate::throttle::{emulated_now, Stamp, Throttle};
use axum::http::{HeaderMap, StatusCode};
use rand::RngCore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// An opaque Graph access token we issued, bound to one tenant and app.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub tenant_id: String,
    pub client_id: String,
    pub expires: Instant,
}

pub struct Shared {
    pub tenants: Vec<Arc<TenantState>>,
    pub clock: Clock,
    pub faults: Faults,
    pub stats: StatsCell,
    pub app_stats: AppStatsCell,
    pub throttle: Throttle,
    pub throttle_config: ThrottleConfig,
    pub token_lifetime: u64,
    pub tokens: Mutex<HashMap<String, IssuedToken>>,
    /// `http://127.0.0.1:PORT`, known once the listener is bound.
    pub base_url: OnceLock<String>,
}

/// The caller of a Graph request, from its Bearer token.
pub struct Caller {
    pub tenant: Arc<TenantState>,
    pub client_id: String,
    pub permissions: Vec<String>,
}

impl Caller {
    pub fn has_any(&self, perms: &[&str]) -> bool {
        self.permissions
            .iter()
            .any(|p| perms.iter().any(|q| p.eq_ignore_ascii_case(q)))
    }
}

impl Shared {
    pub fn base_url(&self) -> String {
        self.base_url.get().cloned().unwrap_or_default()
    }

    /// Finds a tenant by id or verified domain (Entra accepts either in login URLs).
    pub fn tenant(&self, key: &str) -> Option<Arc<TenantState>> {
        self.tenants
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(key) || t.domain.eq_ignore_ascii_case(key))
            .cloned()
    }

    /// Whether any tenant of the scenario registers `client_id` (a multi-tenant app is listed in each).
    pub fn has_app(&self, client_id: &str) -> bool {
        self.tenants.iter().any(|t| t.app(client_id).is_some())
    }

    /// Now on the clock the throttle windows and app holds are measured on (`[throttle] clock`).
    pub fn throttle_now(&self) -> Stamp {
        match self.throttle_config.clock {
            ThrottleClock::Real => self.throttle.real_now(),
            ThrottleClock::Emulated => emulated_now(self.clock.now()),
        }
    }

    /// Zeroes the global and the per-app counters.
    pub fn reset_stats(&self) {
        self.stats.reset();
        self.app_stats.reset();
    }

    /// The issued token a request carries, expired or not: whose request it is, for the per-app counters.
    pub fn token_owner(&self, headers: &HeaderMap) -> Option<IssuedToken> {
        let token = bearer(headers);
        if token.is_empty() {
            return None;
        }
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .cloned()
    }

    pub fn issue_token(&self, tenant_id: &str, client_id: &str) -> String {
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = format!("ew.{}", crate::keys::b64(&bytes));
        let issued = IssuedToken {
            tenant_id: tenant_id.to_string(),
            client_id: client_id.to_string(),
            expires: Instant::now() + Duration::from_secs(self.token_lifetime),
        };
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.clone(), issued);
        token
    }

    /// Checks the Bearer token (Graph docs `resources/errors`: 401 InvalidAuthenticationToken).
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, GraphError> {
        let unauthorized =
            |m: &str| GraphError::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", m);
        if bearer(headers).is_empty() {
            return Err(unauthorized("Access token is empty."));
        }
        let issued = self
            .token_owner(headers)
            .ok_or_else(|| unauthorized("Access token validation failure. Invalid audience."))?;
        if Instant::now() >= issued.expires {
            return Err(unauthorized(
                "Lifetime validation failed, the token is expired.",
            ));
        }
        let tenant = self
            .tenant(&issued.tenant_id)
            .ok_or_else(|| unauthorized("Access token validation failure."))?;
        let permissions = tenant
            .app(&issued.client_id)
            .map(|a| a.permissions.clone())
            .unwrap_or_default();
        Ok(Caller {
            tenant,
            client_id: issued.client_id,
            permissions,
        })
    }
}

/// The Bearer token of a request, or "".
fn bearer(headers: &HeaderMap) -> &str {
    let raw = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    raw.strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .map(str::trim)
        .unwrap_or("")
}
