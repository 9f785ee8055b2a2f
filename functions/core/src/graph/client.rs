//! [`GraphClient`]: one tenant's Graph connection, with its token cache, pacing, retries and metrics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use super::error::GraphError;
use super::pacing::Pacer;
use super::pager::{Page, Pager};
use super::request::GraphRequest;
use super::settings::{ClientOptions, TenantConnection, TenantLabel};
use super::token::{Credential, TokenSource};

/// Counters for one run (since the client was created), for logs and CloudWatch metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphMetrics {
    /// Graph requests sent, retries included (token requests excluded).
    pub requests: u64,
    /// Graph answers with status 429.
    pub throttled_429: u64,
    /// Attempts repeated after a transient failure.
    pub retries: u64,
    /// Graph answers with status 503 or 504.
    pub transient_5xx: u64,
    /// Requests to the token endpoint.
    pub token_requests: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub throttled_429: AtomicU64,
    pub retries: AtomicU64,
    pub transient_5xx: AtomicU64,
    pub token_requests: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

pub(crate) struct Inner {
    pub tenant: Arc<TenantLabel>,
    pub http: reqwest::Client,
    pub graph_base: Url,
    /// Shared by [`GraphClient::for_job`] siblings: one token per tenant and app.
    pub tokens: Arc<TokenSource>,
    pub client_id: String,
    /// Shared by [`GraphClient::for_job`] siblings: Graph's limits are per app and tenant.
    pub pacer: Arc<Pacer>,
    pub options: ClientOptions,
    pub run_started: Mutex<Instant>,
    pub counters: Counters,
}

/// A Microsoft Graph client for one tenant. Cheap to clone: clones share the token, pacing and metrics.
#[derive(Clone)]
pub struct GraphClient {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("tenant", &self.inner.tenant)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    /// Checks the settings (URLs, certificate) and builds the HTTP client. Sends nothing yet.
    pub fn new(conn: TenantConnection, opts: ClientOptions) -> Result<GraphClient, GraphError> {
        let tenant = Arc::new(TenantLabel::from(&conn));
        let invalid = |reason: String| GraphError::InvalidSettings {
            tenant: tenant.clone(),
            reason,
        };
        let graph_base = base_url(
            conn.graph_url.as_deref().unwrap_or(conn.cloud.graph_url()),
            "graph_url",
        )
        .map_err(invalid)?;
        let login_base = base_url(
            conn.login_url.as_deref().unwrap_or(conn.cloud.login_url()),
            "login_url",
        )
        .map_err(invalid)?;
        if conn.tenant_id.is_empty()
            || !conn
                .tenant_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(invalid("tenant id must be a GUID or a domain name".into()));
        }
        let credential = Credential::prepare(&conn.credential).map_err(invalid)?;
        let endpoint = format!(
            "{}/{}/oauth2/v2.0/token",
            login_base.as_str().trim_end_matches('/'),
            conn.tenant_id
        );
        // The scope names the cloud's Graph resource even when graph_url points at a proxy: the token is for Graph.
        let scope = format!("{}/.default", conn.cloud.graph_url());
        let http = reqwest::Client::builder()
            .timeout(opts.request_timeout)
            .connect_timeout(opts.request_timeout.min(Duration::from_secs(10)))
            .redirect(same_origin_redirects())
            .user_agent(concat!("entrawatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| invalid(format!("cannot build the HTTP client: {}", e.without_url())))?;
        Ok(GraphClient {
            inner: Arc::new(Inner {
                tenant,
                http,
                graph_base,
                tokens: Arc::new(TokenSource::new(
                    endpoint,
                    scope,
                    conn.client_id.clone(),
                    credential,
                )),
                client_id: conn.client_id,
                pacer: Arc::new(Pacer::new(opts.pacing)),
                run_started: Mutex::new(opts.clock.now()),
                options: opts,
                counters: Counters::default(),
            }),
        })
    }

    /// A client for one job of a run on the same tenant: it shares this client's token and pacing
    /// (Graph throttles per app and tenant, so two jobs pacing separately would collect each
    /// other's 429s) but has its own priority header, deadline (starting now) and metrics.
    pub fn for_job(&self, high_priority: bool, run_deadline: Duration) -> GraphClient {
        let base = &self.inner;
        GraphClient {
            inner: Arc::new(Inner {
                tenant: base.tenant.clone(),
                http: base.http.clone(),
                graph_base: base.graph_base.clone(),
                tokens: base.tokens.clone(),
                client_id: base.client_id.clone(),
                pacer: base.pacer.clone(),
                options: ClientOptions {
                    high_priority,
                    run_deadline,
                    ..base.options.clone()
                },
                run_started: Mutex::new(base.options.clock.now()),
                counters: Counters::default(),
            }),
        }
    }

    /// The tenant this client reads, as errors and logs name it.
    pub fn tenant(&self) -> &TenantLabel {
        &self.inner.tenant
    }

    /// The token endpoint this client uses (the `aud` of its certificate assertions).
    pub fn token_endpoint(&self) -> &str {
        &self.inner.tokens.endpoint
    }

    /// Counters since creation.
    pub fn metrics(&self) -> GraphMetrics {
        let c = &self.inner.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        GraphMetrics {
            requests: load(&c.requests),
            throttled_429: load(&c.throttled_429),
            retries: load(&c.retries),
            transient_5xx: load(&c.transient_5xx),
            token_requests: load(&c.token_requests),
        }
    }

    /// Starts the run deadline afresh (a long-lived client reused across runs).
    pub fn reset_deadline(&self) {
        *self
            .inner
            .run_started
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = self.inner.options.clock.now();
    }

    /// A pull pager over `request`: one page in memory at a time.
    pub fn pages<T: DeserializeOwned>(&self, request: GraphRequest) -> Pager<T> {
        Pager::new(self.clone(), request)
    }

    /// One page: the first page of `request`, or the page at `next_link` when given.
    pub async fn page<T: DeserializeOwned>(
        &self,
        request: &GraphRequest,
        next_link: Option<&str>,
    ) -> Result<Page<T>, GraphError> {
        let url = match next_link {
            Some(link) => self.next_link_url(link)?,
            None => self.request_url(request)?,
        };
        let page: Page<T> = self.get_json(&url).await?;
        for bad in &page.malformed {
            // The path without its query: no filter values in logs.
            tracing::warn!(path = request.path(), record = bad.id.as_deref().unwrap_or("(no id)"),
                error = %bad.error, "a record Graph returned does not parse; the rest of its page is used");
        }
        Ok(page)
    }

    /// A single object; `None` when Graph answers 404.
    pub async fn get_optional<T: DeserializeOwned>(
        &self,
        request: &GraphRequest,
    ) -> Result<Option<T>, GraphError> {
        match self.get_json(&self.request_url(request)?).await {
            Ok(value) => Ok(Some(value)),
            Err(GraphError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn request_url(&self, request: &GraphRequest) -> Result<Url, GraphError> {
        let text = format!(
            "{}{}",
            self.inner.graph_base.as_str().trim_end_matches('/'),
            request.path_and_query()
        );
        Url::parse(&text).map_err(|_| GraphError::InvalidSettings {
            tenant: self.inner.tenant.clone(),
            reason: format!("cannot build a Graph URL for {}", request.path()),
        })
    }

    /// A next link is followed only if it points under the Graph base URL: anything else would receive the token.
    pub(crate) fn next_link_url(&self, link: &str) -> Result<Url, GraphError> {
        let foreign = |host: String| GraphError::ForeignNextLink {
            tenant: self.inner.tenant.clone(),
            host,
        };
        let url = Url::parse(link).map_err(|_| foreign("(not a URL)".into()))?;
        let base = &self.inner.graph_base;
        let same_origin = url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default()
            && url.path().starts_with(base.path().trim_end_matches('/'));
        if same_origin {
            Ok(url)
        } else {
            Err(foreign(url.host_str().unwrap_or("(no host)").to_string()))
        }
    }

    pub(crate) fn deadline(&self) -> Instant {
        *self
            .inner
            .run_started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            + self.inner.options.run_deadline
    }
}

/// Parses a base URL. Tokens must not travel in clear text: `http` is accepted for loopback hosts only
/// (emulators, local proxies).
fn base_url(text: &str, setting: &str) -> Result<Url, String> {
    let url = crate::net::checked_url(text).map_err(|e| format!("{setting} {e}"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{setting} must not have a query or fragment"));
    }
    Ok(url)
}

/// Follows redirects on the same scheme, host and port only (at most 5): a redirect elsewhere is answered as is.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt.previous().first().is_some_and(|first| {
            first.scheme() == attempt.url().scheme()
                && first.host_str() == attempt.url().host_str()
                && first.port_or_known_default() == attempt.url().port_or_known_default()
        });
        if same && attempt.previous().len() <= 5 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}
