//! The signing keys of a warm function: one [`JwksCache`] for the life of the execution
//! environment, driven exactly as its [`JwksAction`] says, with at most one fetch in flight.
//!
//! The cache's lock is a plain mutex held only for its decisions, never across an `await`: a
//! fetch runs unlocked and every other caller that the cache tells to [`JwksAction::Wait`] sleeps
//! on a [`Notify`] until the fetch is reported.

use std::pin::pin;
use std::sync::{Mutex, MutexGuard};

use entrawatch_core::jwks_fetch::{fetch_jwks, FETCH_TIMEOUT};
use entrawatch_validator::{CachePolicy, Error, JwksAction, JwksCache, KeySet, MAX_JWKS_BYTES};
use tokio::sync::Notify;

/// Seconds since the epoch; injected so tests can move time (STYLE.md, rustls `TimeProvider`).
pub type Clock = dyn Fn() -> u64 + Send + Sync;

pub struct KeySource {
    url: String,
    http: reqwest::Client,
    cache: Mutex<JwksCache>,
    fetched: Notify,
}

impl KeySource {
    /// A tenant id in `url` marks its keys as that tenant's own document (the multi-tenant
    /// key-issuer rule, `KeySet::from_tenant_document`).
    pub fn new(url: String, http: reqwest::Client, policy: CachePolicy) -> Self {
        KeySource {
            cache: Mutex::new(JwksCache::for_uri(policy, &url)),
            url,
            http,
            fetched: Notify::new(),
        }
    }

    fn cache(&self) -> MutexGuard<'_, JwksCache> {
        // A panic while holding the lock leaves the cache in a consistent state (every method
        // completes its update before returning), so a poisoned lock is still usable.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `check` with the keys for a token naming `kid`, fetching or waiting first when the
    /// cache says so. Refuses with `jwks_unavailable` when no usable keys exist (fail closed).
    /// `check` runs under the cache lock (the keys are borrowed, not cloned); it is a signature
    /// check of microseconds, and a Lambda environment serves one invocation at a time anyway.
    pub async fn with_keys<R>(
        &self,
        kid: Option<&str>,
        now: &Clock,
        check: impl FnOnce(&KeySet) -> R,
    ) -> Result<R, Error> {
        let refresh = self.ready(kid, now).await?;
        let verdict = {
            let cache = self.cache();
            // Keys, once loaded, are only ever replaced, so `ready` leaves some in place.
            let keys = cache.keys().ok_or_else(|| cache.unavailable_error())?;
            check(keys)
        };
        if refresh {
            // Lambda freezes the environment once the response is sent, so a background task
            // would stall mid-request; refresh before answering instead (once per max age per
            // warm instance, and the verdict above did not wait for it).
            self.fetch(now).await;
        }
        Ok(verdict)
    }

    /// Asks the cache until it says the keys are usable: `Ok(true)` when they should also be
    /// refreshed (the cache has marked that fetch in flight).
    async fn ready(&self, kid: Option<&str>, now: &Clock) -> Result<bool, Error> {
        loop {
            // Registered before the cache is consulted, so a fetch reported in between still
            // wakes this caller.
            let mut reported = pin!(self.fetched.notified());
            reported.as_mut().enable();
            let action = self.cache().action(kid, now());
            match action {
                JwksAction::Use => return Ok(false),
                JwksAction::UseAndRefresh => return Ok(true),
                JwksAction::Unavailable => return Err(self.cache().unavailable_error()),
                JwksAction::Fetch => self.fetch(now).await,
                // Bounded: a fetch lost with its caller is presumed dead by the cache's own
                // `fetch_timeout`, after which the next question starts a new one.
                JwksAction::Wait => {
                    let _ = tokio::time::timeout(FETCH_TIMEOUT, reported).await;
                }
            }
        }
    }

    /// Performs the fetch the cache marked in flight and reports it, then wakes the waiters.
    async fn fetch(&self, now: &Clock) {
        let result = fetch_jwks(&self.http, &self.url, MAX_JWKS_BYTES).await;
        {
            let mut cache = self.cache();
            match result {
                Ok(body) => match cache.fetch_succeeded(&body, now()) {
                    Ok(changed) => tracing::info!(
                        url = %self.url,
                        changed,
                        key_version = cache.key_version(),
                        "signing keys fetched"
                    ),
                    Err(e) => tracing::warn!(
                        url = %self.url,
                        code = e.code(),
                        error = e.message(),
                        "signing keys refused"
                    ),
                },
                Err(e) => {
                    cache.fetch_failed(now());
                    tracing::warn!(url = %self.url, error = %e, "signing keys fetch failed");
                }
            }
        }
        self.fetched.notify_waiters();
    }
}
