//! Test support: the Lambda Runtime API on 127.0.0.1 (AWS docs "Using the Lambda runtime API for
//! custom runtimes"), so a function binary runs exactly as on Lambda: it polls
//! `GET /2018-06-01/runtime/invocation/next`, then posts `.../{id}/response` or `.../{id}/error`.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use tokio::sync::Notify;

/// How one invocation ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Response(Value),
    Error { error_type: String, message: String },
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<(String, Value)>,
    outcomes: Vec<(String, Outcome)>,
    first_poll: Option<Instant>,
}

#[derive(Clone)]
pub struct RuntimeApi {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    event: Arc<Notify>,
    done: Arc<Notify>,
    /// Invocation deadline given to the function, from the moment it takes the event.
    pub timeout: Duration,
}

impl RuntimeApi {
    pub async fn start(timeout: Duration) -> RuntimeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = RuntimeApi {
            addr: listener.local_addr().unwrap(),
            inner: Arc::default(),
            event: Arc::default(),
            done: Arc::default(),
            timeout,
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(api.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        api
    }

    /// `host:port` for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    pub fn invoke(&self, request_id: &str, payload: Value) {
        self.inner
            .lock()
            .unwrap()
            .queue
            .push_back((request_id.to_string(), payload));
        self.event.notify_one();
    }

    /// Waits for the outcome of `request_id`.
    pub async fn outcome(&self, request_id: &str, within: Duration) -> Outcome {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.done.notified();
            if let Some((_, o)) = self
                .inner
                .lock()
                .unwrap()
                .outcomes
                .iter()
                .find(|(id, _)| id == request_id)
            {
                return o.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no outcome for invocation {request_id}");
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// When the function first asked for an event (its init finished).
    pub fn first_poll(&self) -> Option<Instant> {
        self.inner.lock().unwrap().first_poll
    }
}

async fn next(State(api): State<RuntimeApi>) -> Response {
    api.inner
        .lock()
        .unwrap()
        .first_poll
        .get_or_insert_with(Instant::now);
    loop {
        let notified = api.event.notified();
        if let Some((id, payload)) = api.inner.lock().unwrap().queue.pop_front() {
            let deadline = SystemTime::now() + api.timeout;
            let ms = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis();
            let mut headers = HeaderMap::new();
            headers.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_str(&id).unwrap(),
            );
            headers.insert(
                "lambda-runtime-deadline-ms",
                HeaderValue::from_str(&ms.to_string()).unwrap(),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                HeaderValue::from_static(
                    "arn:aws:lambda:eu-west-1:123456789012:function:entrawatch-test",
                ),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                HeaderValue::from_static("Root=1-00000000-000000000000000000000000"),
            );
            return (StatusCode::OK, headers, payload.to_string()).into_response();
        }
        notified.await;
    }
}

async fn response(
    State(api): State<RuntimeApi>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    api.inner
        .lock()
        .unwrap()
        .outcomes
        .push((id, Outcome::Response(value)));
    api.done.notify_waiters();
    StatusCode::ACCEPTED
}

async fn error(
    State(api): State<RuntimeApi>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let outcome = Outcome::Error {
        error_type: value["errorType"].as_str().unwrap_or_default().to_string(),
        message: value["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    api.inner.lock().unwrap().outcomes.push((id, outcome));
    api.done.notify_waiters();
    StatusCode::ACCEPTED
}

async fn init_error(body: Bytes) -> StatusCode {
    panic!("function init failed: {}", String::from_utf8_lossy(&body));
}

/// Starts a function binary against `api` with the Lambda environment plus `env`; its stdout
/// (logs and EMF lines) goes to a file so the test can read it.
pub fn spawn_function(
    binary: &str,
    api: &RuntimeApi,
    env: &[(&str, String)],
    stdout: &Path,
) -> Child {
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", "entrawatch-test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(Stdio::from(std::fs::File::create(stdout).unwrap()))
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("start the function binary")
}
