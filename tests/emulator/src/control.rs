//! The admin surface under `/_emulator` for other processes (CLI, JavaScript tests): stats, clock, faults,
//! signing keys and minted validator tokens. Not part of Graph; never counted in stats or faulted.

use crate::errors::GraphError;
use crate::keys::{self, TokenVersion};
use crate::state::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/stats/reset", post(reset_stats))
        .route("/_emulator/clock", get(clock).post(set_clock))
        .route("/_emulator/faults", post(faults))
        .route("/_emulator/tenants/{tid}/keys/rotate", post(rotate))
        .route("/_emulator/tenants/{tid}/keys/{kid}/retire", post(retire))
        .route("/_emulator/tenants/{tid}/tokens", post(mint))
        .merge(crate::app_control::router())
}

pub(crate) fn admin_error(status: StatusCode, msg: impl Into<String>) -> GraphError {
    GraphError::new(
        status,
        if status == StatusCode::NOT_FOUND {
            "NotFound"
        } else {
            "BadRequest"
        },
        msg,
    )
}

/// An admin request body, or a 400 saying what is wrong with it.
pub(crate) fn admin_json<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, GraphError> {
    serde_json::from_str(body).map_err(|e| admin_error(StatusCode::BAD_REQUEST, e.to_string()))
}

/// Mints a validator token signed with the tenant's current key; time claims come from the emulated clock.
pub(crate) fn mint_token(
    shared: &Shared,
    tenant_id: &str,
    claims: Value,
    version: TokenVersion,
) -> anyhow::Result<String> {
    let tenant = shared
        .tenant(tenant_id)
        .ok_or_else(|| anyhow::anyhow!("unknown tenant {tenant_id}"))?;
    let merged = keys::merge(
        keys::default_claims(&tenant.id, version, shared.clock.now()),
        claims,
    );
    tenant.keys.sign(&merged)
}

pub(crate) fn rotate_key(shared: &Shared, tenant_id: &str) -> anyhow::Result<String> {
    let tenant = shared
        .tenant(tenant_id)
        .ok_or_else(|| anyhow::anyhow!("unknown tenant {tenant_id}"))?;
    tenant.keys.rotate()
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<crate::Stats> {
    Json(shared.stats.snapshot())
}

async fn reset_stats(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.reset_stats();
    StatusCode::NO_CONTENT
}

async fn clock(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({"now": crate::timefmt::format(shared.clock.now())}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRequest {
    now: Option<String>,
    advance_seconds: Option<i64>,
    frozen: Option<bool>,
}

async fn set_clock(
    State(shared): State<Arc<Shared>>,
    body: String,
) -> Result<Json<Value>, GraphError> {
    let req: ClockRequest = admin_json(&body)?;
    // Freeze first, so a frozen clock holds exactly the `now` set in the same request.
    if let Some(f) = req.frozen {
        shared.clock.freeze(f);
    }
    if let Some(now) = req.now {
        let t = crate::timefmt::parse(&now).ok_or_else(|| {
            admin_error(StatusCode::BAD_REQUEST, format!("'{now}' is not RFC 3339"))
        })?;
        shared.clock.set(t);
    }
    if let Some(secs) = req.advance_seconds {
        let d = chrono::Duration::try_seconds(secs)
            .ok_or_else(|| admin_error(StatusCode::BAD_REQUEST, "advance_seconds out of range"))?;
        if shared.clock.now().checked_add_signed(d).is_none() {
            return Err(admin_error(
                StatusCode::BAD_REQUEST,
                "advance_seconds moves the clock out of range",
            ));
        }
        shared.clock.advance(d);
    }
    Ok(clock(State(shared)).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailNext {
    status: u16,
    #[serde(default = "one")]
    count: u32,
    retry_after: Option<u64>,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    fail_next: Option<FailNext>,
    latency_ms: Option<u64>,
    throttle: Option<bool>,
    /// See [`crate::Faults::set_null_filter_skips_missing`].
    null_filter_skips_missing: Option<bool>,
    clear: Option<bool>,
}

async fn faults(State(shared): State<Arc<Shared>>, body: String) -> Result<StatusCode, GraphError> {
    let req: FaultRequest = admin_json(&body)?;
    if req.clear == Some(true) {
        shared.faults.clear();
    }
    if let Some(f) = req.fail_next {
        if !(100..=599).contains(&f.status) {
            return Err(admin_error(
                StatusCode::BAD_REQUEST,
                "status must be an HTTP status code",
            ));
        }
        shared.faults.fail_next(f.status, f.count, f.retry_after);
    }
    if let Some(ms) = req.latency_ms {
        shared
            .faults
            .set_latency(std::time::Duration::from_millis(ms));
    }
    if let Some(t) = req.throttle {
        shared.faults.set_throttle(t);
    }
    if let Some(on) = req.null_filter_skips_missing {
        shared.faults.set_null_filter_skips_missing(on);
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(
    State(shared): State<Arc<Shared>>,
    Path(tid): Path<String>,
) -> Result<Json<Value>, GraphError> {
    let kid = tokio::task::spawn_blocking(move || rotate_key(&shared, &tid))
        .await
        .map_err(|e| admin_error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| admin_error(StatusCode::NOT_FOUND, e.to_string()))?;
    Ok(Json(json!({"kid": kid})))
}

async fn retire(
    State(shared): State<Arc<Shared>>,
    Path((tid, kid)): Path<(String, String)>,
) -> Result<StatusCode, GraphError> {
    let tenant = shared
        .tenant(&tid)
        .ok_or_else(|| admin_error(StatusCode::NOT_FOUND, format!("unknown tenant {tid}")))?;
    if tenant.keys.retire(&kid) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(admin_error(
            StatusCode::NOT_FOUND,
            format!("tenant {tid} has no key {kid}"),
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MintRequest {
    #[serde(default)]
    claims: Value,
    #[serde(default)]
    version: TokenVersion,
}

async fn mint(
    State(shared): State<Arc<Shared>>,
    Path(tid): Path<String>,
    body: String,
) -> Result<Json<Value>, GraphError> {
    let req: MintRequest = admin_json(&body)?;
    let token =
        tokio::task::spawn_blocking(move || mint_token(&shared, &tid, req.claims, req.version))
            .await
            .map_err(|e| admin_error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
            .map_err(|e| admin_error(StatusCode::NOT_FOUND, e.to_string()))?;
    Ok(Json(json!({"access_token": token})))
}
