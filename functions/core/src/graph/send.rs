//! Sending: pacing, the token, retries with `Retry-After` or jittered backoff, and the run deadline.

use std::future::Future;
use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use super::client::{Counters, GraphClient};
use super::diagnose::FailedResponse;
use super::error::GraphError;
use super::pacing::Family;
use super::retry::{backoff, is_transient, parse_retry_after};
use crate::Secret;

/// A shared-budget take slower than this is not trusted to send on (see `pace_shared`): well under the 1 s
/// margin the windows' spans add (`graph::shared_budget::shared_span`).
const STALE_GRANT: Duration = Duration::from_millis(750);
/// Fresh takes after a stale one, before sending anyway.
const MAX_STALE_RETAKES: u32 = 2;

/// The headers of a JSON read.
const JSON: &[(&str, &str)] = &[("accept", "application/json")];

/// What one attempt came to.
pub(crate) enum Attempt<T> {
    Done(T),
    /// Worth retrying. `transport` is the error to report if retries run out on a transport failure.
    Transient {
        what: String,
        retry_after: Option<Duration>,
        throttled: bool,
        transport: Option<GraphError>,
    },
    /// Graph refused the token: drop it and retry once with a new one, else report `error`.
    Reauthenticate {
        used: Secret,
        error: GraphError,
    },
    Failed(GraphError),
}

impl GraphClient {
    /// GET `url` and parse the JSON body; a body that does not parse is an [`GraphError::UnexpectedResponse`].
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<T, GraphError> {
        let families = Family::of(url);
        self.token_before_the_grant().await?;
        let (content_type, body) = self
            .retrying(url.path(), families, || self.get_once(url, families, JSON))
            .await?;
        self.parse_json(url, &content_type, &body)
    }

    /// Gets (or finds cached) the tenant's token before the shared budget grants a slot: a token request between
    /// the grant and the send would make the request reach Graph that much after the time the grant was recorded
    /// at (seen under load at 200 tenants on moto: a tenant-run's first request arriving past the windows' margin,
    /// one 429). Its error is the request's, as the attempt would have returned it (token errors are not retried
    /// at the request's level).
    pub(crate) async fn token_before_the_grant(&self) -> Result<(), GraphError> {
        self.access_token().await.map(|_| ())
    }

    /// [`GraphClient::get_json`] only if the pacing and the shared budget have room for it right now; `None`
    /// (nothing sent) when the request would have to wait. For reads that can as well happen in a later run.
    pub(crate) async fn get_json_if_affordable<T: DeserializeOwned>(
        &self,
        url: &Url,
    ) -> Result<Option<T>, GraphError> {
        let families = Family::of(url);
        self.token_before_the_grant().await?;
        if !self.pace_now(families).await {
            return Ok(None);
        }
        let (content_type, body) = self
            .retrying_from(url.path(), families, true, || {
                self.get_once(url, families, JSON)
            })
            .await?;
        self.parse_json(url, &content_type, &body).map(Some)
    }

    fn parse_json<T: DeserializeOwned>(
        &self,
        url: &Url,
        content_type: &str,
        body: &[u8],
    ) -> Result<T, GraphError> {
        serde_json::from_slice(body).map_err(|_| {
            let hide = [url.query().unwrap_or("")];
            let response = FailedResponse {
                tenant: &self.inner.tenant,
                status: 200,
                path: url.path(),
                content_type,
                body,
                hide: &hide,
            };
            response.unexpected()
        })
    }

    pub(crate) async fn retrying<T, F, Fut>(
        &self,
        path: &str,
        families: &[Family],
        attempt: F,
    ) -> Result<T, GraphError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Attempt<T>>,
    {
        self.retrying_from(path, families, false, attempt).await
    }

    /// Attempts until done, pacing before each; `prepaid` when the first attempt's slot is already taken.
    async fn retrying_from<T, F, Fut>(
        &self,
        path: &str,
        families: &[Family],
        mut prepaid: bool,
        mut attempt: F,
    ) -> Result<T, GraphError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Attempt<T>>,
    {
        let tenant = &self.inner.tenant;
        let mut retries = 0;
        let mut reauthenticated = false;
        let mut last = String::from("none");
        loop {
            if !std::mem::take(&mut prepaid) {
                self.pace(families, path, &last).await?;
            }
            let (what, retry_after, transport) = match attempt().await {
                Attempt::Done(value) => return Ok(value),
                Attempt::Failed(error) => return Err(error),
                Attempt::Reauthenticate { used, error } => {
                    if reauthenticated {
                        return Err(error);
                    }
                    tracing::info!(tenant = %tenant, path, "Graph refused the cached token; requesting a new one");
                    self.inner.tokens.invalidate(&used).await;
                    reauthenticated = true;
                    continue;
                }
                Attempt::Transient {
                    what,
                    retry_after,
                    throttled,
                    transport,
                } => {
                    if throttled {
                        let hold = retry_after.unwrap_or(Duration::from_secs(1));
                        self.inner.pacer.block(families, self.now() + hold);
                        self.hold_shared(families, hold).await;
                    }
                    (what, retry_after, transport)
                }
            };
            if retries >= self.inner.options.max_retries {
                return Err(transport.unwrap_or_else(|| GraphError::RetriesExhausted {
                    tenant: tenant.clone(),
                    path: path.to_string(),
                    attempts: retries + 1,
                    last: what,
                }));
            }
            let wait = retry_after.unwrap_or_else(|| backoff(retries, &mut rand::thread_rng()));
            retries += 1;
            self.check_deadline(wait, path, &what)?;
            Counters::bump(&self.inner.counters.retries);
            tracing::warn!(tenant = %tenant, path, last = %what, wait_ms = wait.as_millis() as u64, retry = retries, "Graph call failed transiently; retrying");
            self.inner.options.clock.sleep(wait).await;
            last = what;
        }
    }

    async fn pace(&self, families: &[Family], path: &str, last: &str) -> Result<(), GraphError> {
        while let Err(wait) = self.inner.pacer.try_acquire(families, self.now()) {
            self.check_deadline(wait, path, last)?;
            tracing::debug!(tenant = %self.inner.tenant, path, wait_ms = wait.as_millis() as u64, "pacing");
            self.inner.options.clock.sleep(wait).await;
        }
        self.pace_shared(families, path, last).await
    }

    /// Takes a slot of the pacing and of the shared budget if both have one now; `false` (and a local slot
    /// spent, which only makes the pacing stricter) when either would wait.
    async fn pace_now(&self, families: &[Family]) -> bool {
        if self.inner.pacer.try_acquire(families, self.now()).is_err() {
            return false;
        }
        let Some(shared) = &self.inner.options.shared_budget else {
            return true;
        };
        let specs = shared.windows(&self.inner.client_id, &self.inner.tenant.id, families);
        if specs.is_empty() {
            return true;
        }
        let now = self.inner.options.clock.epoch_ms();
        match shared
            .take(&specs, self.inner.options.high_priority, now)
            .await
        {
            Ok(None) => true,
            Ok(Some(_)) => false,
            Err(e) => {
                tracing::warn!(tenant = %self.inner.tenant, error = %e, "the shared Graph budget is unavailable; pacing this process alone");
                true
            }
        }
    }

    /// The shared budget after the in-process pacing: one slot in each of the app's windows, or wait. A state
    /// store that cannot answer does not stop the read (the in-process pacing still holds this process under
    /// the per-tenant limits); it is logged.
    async fn pace_shared(
        &self,
        families: &[Family],
        path: &str,
        last: &str,
    ) -> Result<(), GraphError> {
        let Some(shared) = &self.inner.options.shared_budget else {
            return Ok(());
        };
        let specs = shared.windows(&self.inner.client_id, &self.inner.tenant.id, families);
        if specs.is_empty() {
            return Ok(());
        }
        let clock = &self.inner.options.clock;
        let mut stale = 0;
        loop {
            let asked = std::time::Instant::now();
            match shared
                .take(&specs, self.inner.options.high_priority, clock.epoch_ms())
                .await
            {
                // A take that took long may have been recorded well before this request can leave (the store
                // records a grant when it decides it, before its write returns): sent now, the request could
                // reach Graph past the windows' margin after its recorded time. Its slot is left spent, unsent
                // (over-counting is safe), and a fresh one taken; seen at 200 tenants on a loaded moto.
                Ok(None) if asked.elapsed() > STALE_GRANT && stale < MAX_STALE_RETAKES => {
                    stale += 1;
                    tracing::debug!(tenant = %self.inner.tenant, path, took_ms = asked.elapsed().as_millis() as u64,
                        "shared budget grant took too long to arrive; taking a fresh one");
                }
                Ok(None) => return Ok(()),
                Ok(Some(wait)) => {
                    self.check_deadline(wait, path, last)?;
                    tracing::debug!(tenant = %self.inner.tenant, path, wait_ms = wait.as_millis() as u64, "waiting for the app's shared Graph budget");
                    clock.sleep(wait).await;
                }
                Err(e) => {
                    tracing::warn!(tenant = %self.inner.tenant, path, error = %e, "the shared Graph budget is unavailable; pacing this process alone");
                    return Ok(());
                }
            }
        }
    }

    /// A 429 holds the app's shared windows for every worker until its `Retry-After` passes.
    async fn hold_shared(&self, families: &[Family], hold: Duration) {
        let Some(shared) = &self.inner.options.shared_budget else {
            return;
        };
        let until = self.inner.options.clock.epoch_ms() + hold.as_millis() as i64;
        if let Err(e) = shared
            .hold(
                &self.inner.client_id,
                &self.inner.tenant.id,
                families,
                until,
            )
            .await
        {
            tracing::warn!(tenant = %self.inner.tenant, error = %e, "could not share a 429's Retry-After");
        }
    }

    fn now(&self) -> Instant {
        self.inner.options.clock.now()
    }

    fn check_deadline(&self, wait: Duration, path: &str, last: &str) -> Result<(), GraphError> {
        if self.now() + wait > self.deadline() {
            return Err(GraphError::DeadlineExceeded {
                tenant: self.inner.tenant.clone(),
                path: path.to_string(),
                deadline: self.inner.options.run_deadline,
                last: last.to_string(),
            });
        }
        Ok(())
    }

    /// One GET with `headers` (`Accept` among them), giving the content type and body of a 2xx answer.
    pub(crate) async fn get_once(
        &self,
        url: &Url,
        families: &[Family],
        headers: &[(&'static str, &'static str)],
    ) -> Attempt<(String, Vec<u8>)> {
        let token = match self.access_token().await {
            Ok(token) => token,
            Err(error) => return Attempt::Failed(error),
        };
        Counters::bump(&self.inner.counters.requests);
        let mut request = self.inner.http.get(url.clone()).bearer_auth(token.expose());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if self.inner.options.high_priority {
            // Graph docs `throttling.md`: lets Graph favour latency-critical calls when it must shed load.
            request = request.header("x-ms-throttle-priority", "High");
        }
        let (status, headers, body) = match self.exchange(request, url).await {
            Ok(parts) => parts,
            Err(attempt) => return attempt,
        };
        tracing::debug!(tenant = %self.inner.tenant, path = url.path(), status, families = ?families, "Graph answered");
        let content_type = header_text(&headers, CONTENT_TYPE);
        if let Some(attempt) = self.transient(status, &headers, true) {
            return attempt;
        }
        if (200..300).contains(&status) {
            return Attempt::Done((content_type, body));
        }
        let hide = [token.expose(), url.query().unwrap_or("")];
        let error = FailedResponse {
            tenant: &self.inner.tenant,
            status,
            path: url.path(),
            content_type: &content_type,
            body: &body,
            hide: &hide,
        }
        .diagnose();
        if status == 401 {
            return Attempt::Reauthenticate { used: token, error };
        }
        Attempt::Failed(error)
    }

    /// Sends and reads the whole body. Transport failures come back as a transient attempt.
    pub(crate) async fn exchange<T>(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
    ) -> Result<(u16, HeaderMap, Vec<u8>), Attempt<T>> {
        let transport = |e: reqwest::Error| {
            let reason = transport_reason(e);
            let host = format!(
                "{}:{}",
                url.host_str().unwrap_or("?"),
                url.port_or_known_default().unwrap_or(0)
            );
            let error = GraphError::Transport {
                tenant: self.inner.tenant.clone(),
                host,
                path: url.path().to_string(),
                reason: reason.clone(),
            };
            Attempt::Transient {
                what: reason,
                retry_after: None,
                throttled: false,
                transport: Some(error),
            }
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?;
        Ok((status, headers, body.to_vec()))
    }

    /// 429, 503 and 504 are retried (REFERENCE §4); the counters count Graph's answers only.
    pub(crate) fn transient<T>(
        &self,
        status: u16,
        headers: &HeaderMap,
        count: bool,
    ) -> Option<Attempt<T>> {
        if !is_transient(status) {
            return None;
        }
        if count {
            let counters = &self.inner.counters;
            Counters::bump(if status == 429 {
                &counters.throttled_429
            } else {
                &counters.transient_5xx
            });
        }
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        Some(Attempt::Transient {
            what: format!("status {status}"),
            retry_after,
            throttled: status == 429,
            transport: None,
        })
    }
}

pub(crate) fn header_text(headers: &HeaderMap, name: reqwest::header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The error chain without the URL (its query string could carry a filter or, elsewhere, a credential).
fn transport_reason(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
