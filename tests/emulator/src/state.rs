//! State shared by every request handler.

use crate::clock::Clock;
use crate::errors::GraphError;
use crate::faults::{Faults, StatsCell};
use crate::scenario::ThrottleConfig;
use crate::tenant::TenantState;
use crate::throttle::Throttle;
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
        let raw = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let token = raw
            .strip_prefix("Bearer ")
            .or_else(|| raw.strip_prefix("bearer "))
            .map(str::trim)
            .unwrap_or("");
        if token.is_empty() {
            return Err(unauthorized("Access token is empty."));
        }
        let issued = self
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .cloned();
        let issued = issued
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
