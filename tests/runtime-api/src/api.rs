//! The Lambda Runtime API on 127.0.0.1 (AWS docs "Using the Lambda runtime API for custom
//! runtimes"), so a function binary runs exactly as on Lambda: it polls
//! `GET /2018-06-01/runtime/invocation/next`, then posts `.../{id}/response` or `.../{id}/error`.

use std::collections::VecDeque;
use std::net::SocketAddr;
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

use crate::serve_loopback;

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

/// A Runtime API one function instance polls: the test queues events and reads their outcomes.
#[derive(Clone)]
pub struct RuntimeApi {
    addr: SocketAddr,
    invocations: Invocations,
}

/// What the routes share: the events to hand out and the outcomes posted back.
#[derive(Clone)]
struct Invocations {
    inner: Arc<Mutex<Inner>>,
    event: Arc<Notify>,
    done: Arc<Notify>,
    /// Invocation deadline given to the function, from the moment it takes the event.
    timeout: Duration,
}

impl RuntimeApi {
    /// Listens on a free loopback port; each event handed out gives the function `timeout`.
    pub async fn start(timeout: Duration) -> RuntimeApi {
        let invocations = Invocations {
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
            .with_state(invocations.clone());
        RuntimeApi {
            addr: serve_loopback(app).await,
            invocations,
        }
    }

    /// `host:port` for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an event for the function's next poll.
    pub fn invoke(&self, request_id: &str, payload: Value) {
        self.invocations
            .inner
            .lock()
            .unwrap()
            .queue
            .push_back((request_id.to_string(), payload));
        self.invocations.event.notify_one();
    }

    /// Waits for the outcome of `request_id`.
    pub async fn outcome(&self, request_id: &str, within: Duration) -> Outcome {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.invocations.done.notified();
            if let Some((_, o)) = self
                .invocations
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
        self.invocations.inner.lock().unwrap().first_poll
    }
}

async fn next(State(api): State<Invocations>) -> Response {
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
    State(api): State<Invocations>,
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
    State(api): State<Invocations>,
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
