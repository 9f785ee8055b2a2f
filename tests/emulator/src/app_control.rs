//! The admin surface for one app registration across all its tenants: its request statistics, and holding
//! its reports requests at 429 (what Graph answers once a multi-tenant app has spent its app-wide budget,
//! Graph docs `concepts/throttling-limits.md`), to test that one 429 pauses every worker of the app.

use crate::app_stats::AppStats;
use crate::control::{admin_error, admin_json};
use crate::errors::GraphError;
use crate::state::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/apps/{client_id}/stats", get(stats))
        .route("/_emulator/apps/{client_id}/throttle", post(throttle))
}

fn known_app(shared: &Shared, client_id: &str) -> anyhow::Result<()> {
    if shared.has_app(client_id) {
        Ok(())
    } else {
        anyhow::bail!("no tenant of the scenario registers app {client_id}")
    }
}

pub(crate) fn app_stats(shared: &Shared, client_id: &str) -> anyhow::Result<AppStats> {
    known_app(shared, client_id)?;
    Ok(shared.app_stats.snapshot(client_id))
}

pub(crate) fn hold_app(
    shared: &Shared,
    client_id: &str,
    duration: Duration,
    retry_after_secs: Option<u64>,
) -> anyhow::Result<()> {
    known_app(shared, client_id)?;
    let until = shared.throttle_now().saturating_add(duration);
    shared.faults.hold_app(client_id, until, retry_after_secs);
    Ok(())
}

async fn stats(
    State(shared): State<Arc<Shared>>,
    Path(client_id): Path<String>,
) -> Result<Json<AppStats>, GraphError> {
    app_stats(&shared, &client_id)
        .map(Json)
        .map_err(|e| admin_error(StatusCode::NOT_FOUND, e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThrottleRequest {
    /// How long the hold lasts; 0 ends it.
    for_seconds: u64,
    /// The `Retry-After` to send; default: the seconds left in the hold.
    retry_after: Option<u64>,
}

async fn throttle(
    State(shared): State<Arc<Shared>>,
    Path(client_id): Path<String>,
    body: String,
) -> Result<StatusCode, GraphError> {
    let req: ThrottleRequest = admin_json(&body)?;
    hold_app(
        &shared,
        &client_id,
        Duration::from_secs(req.for_seconds),
        req.retry_after,
    )
    .map_err(|e| admin_error(StatusCode::NOT_FOUND, e.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}
