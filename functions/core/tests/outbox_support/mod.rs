//! Test support: a webhook receiver on 127.0.0.1 that fails the first N requests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{TimeZone, Utc};
use entrawatch_core::alert::{types, Alert, Route, Severity, TenantRef};
use entrawatch_core::outbox::{Dispatcher, Outbox, RetryPolicy};
use entrawatch_core::sinks::webhook::{SigningKey, WebhookSink};
use entrawatch_core::sinks::Sink;
use entrawatch_core::state::sqlite::SqliteStore;
use entrawatch_core::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The status the receiver answered.
    pub status: u16,
}

#[derive(Default)]
struct Plan {
    fail_first: usize,
    fail_status: u16,
    retry_after: Option<String>,
    /// How long each answer takes (a slow receiver widens every race window).
    delay: std::time::Duration,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    plan: Arc<Mutex<Plan>>,
}

impl Receiver {
    /// Starts a receiver answering `fail_status` to the first `fail_first` requests, then 200.
    pub async fn start(fail_first: usize, fail_status: u16) -> Receiver {
        let plan = Arc::new(Mutex::new(Plan {
            fail_first,
            fail_status,
            ..Plan::default()
        }));
        let app = Router::new()
            .route("/{*path}", post(handle))
            .with_state(plan.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{addr}/hook/secret-path-token"),
            plan,
        }
    }

    /// Answers each request only after `delay`.
    pub fn with_delay(self, delay: std::time::Duration) -> Receiver {
        self.plan.lock().unwrap().delay = delay;
        self
    }

    pub fn with_retry_after(self, value: &str) -> Receiver {
        self.plan.lock().unwrap().retry_after = Some(value.to_string());
        self
    }

    /// From now on, fail the next `n` requests too.
    pub fn fail_next(&self, n: usize) {
        let mut p = self.plan.lock().unwrap();
        p.fail_first = p.received.len() + n;
    }

    pub fn received(&self) -> Vec<Received> {
        self.plan.lock().unwrap().received.clone()
    }

    pub fn accepted_bodies(&self) -> Vec<serde_json::Value> {
        self.received()
            .iter()
            .filter(|r| r.status < 300)
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    }
}

async fn handle(State(plan): State<Arc<Mutex<Plan>>>, headers: HeaderMap, body: Bytes) -> Response {
    let delay = plan.lock().unwrap().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut p = plan.lock().unwrap();
    let failing = p.received.len() < p.fail_first;
    let status = if failing { p.fail_status } else { 200 };
    p.received.push(Received {
        headers,
        body: body.to_vec(),
        status,
    });
    let code = StatusCode::from_u16(status).unwrap();
    match (&p.retry_after, failing) {
        (Some(ra), true) => (code, [("retry-after", ra.clone())], "try later").into_response(),
        _ => (code, "ok").into_response(),
    }
}

pub const NOW: i64 = 1_795_000_000;
pub const SECRET: &str = "whsec_dGVzdC1zaWduaW5nLWtleS1mb3ItZW50cmF3YXRjaC0zMmI=";

pub fn db_path() -> PathBuf {
    let dir = std::env::temp_dir().join("entrawatch-outbox-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{}.db", uuid::Uuid::new_v4().simple()))
}

pub fn alert(key: &str) -> Alert {
    let tenant = TenantRef {
        id: "11111111-2222-3333-4444-555555555555".into(),
        name: "contoso".into(),
    };
    Alert::new(
        types::BREAK_GLASS_SIGN_IN,
        Severity::Critical,
        tenant,
        key,
        format!("sign-in {key}"),
        Utc.timestamp_opt(NOW, 0).unwrap(),
    )
}

pub fn route(sink: &str) -> Route {
    Route {
        sink: sink.into(),
        min_severity: Severity::Info,
        types: vec![],
        tenants: vec![],
    }
}

pub fn webhook(name: &str, r: &Receiver) -> Arc<dyn Sink> {
    let key = SigningKey::parse(&Secret::new(SECRET)).unwrap();
    Arc::new(WebhookSink::new(
        name,
        Secret::new(r.url.clone()),
        key,
        reqwest::Client::new(),
    ))
}

pub fn dispatcher(store: &SqliteStore, sinks: Vec<Arc<dyn Sink>>) -> (Outbox, Dispatcher) {
    let shared = Arc::new(store.clone());
    let outbox = Outbox::new(
        shared.clone(),
        sinks.iter().map(|s| route(s.name())).collect(),
    );
    let d = Dispatcher::new(
        shared.clone(),
        shared,
        outbox.clone(),
        sinks,
        RetryPolicy::default(),
    );
    (outbox, d)
}

/// The receiver side of Standard Webhooks: recompute and compare in constant time.
pub fn signature_verifies(r: &Received) -> bool {
    let header = |n: &str| {
        r.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let key = STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let signed = format!("{}.{}.", header("webhook-id"), header("webhook-timestamp"));
    header("webhook-signature").split(' ').any(|sig| {
        let Some(b64) = sig.strip_prefix("v1,") else {
            return false;
        };
        let Ok(expected) = STANDARD.decode(b64) else {
            return false;
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
        mac.update(signed.as_bytes());
        mac.update(&r.body);
        mac.verify_slice(&expected).is_ok()
    })
}

pub fn id_of(r: &Received) -> String {
    r.headers["webhook-id"].to_str().unwrap().to_string()
}
