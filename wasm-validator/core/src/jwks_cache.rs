//! The JWKS cache as a state machine the host drives: the host asks what to do with [`JwksCache::action`],
//! performs any fetch itself (HTTPS only, no redirects, size-capped, with a timeout) and reports the
//! result. No clock and no I/O here, so every timing rule is tested with plain numbers.
//!
//! Defaults follow Microsoft's guidance for APIs (Entra docs `signing-key-rollover.md`, 2024-10-28,
//! REFERENCE.md §6): keys live at most 24 h and are refreshed in the background every hour, so a
//! key Microsoft withdraws stops being trusted about an hour after it leaves the JWKS; a token
//! naming an unknown `kid` is fetched for synchronously, at most once per 5 minutes; the last
//! known good keys are kept when a fetch fails (bounded here to 1 h past the max age, as
//! Microsoft.IdentityModel bounds it, REFERENCE.md §7), then fail closed. One fetch at a time:
//! every other caller waits for it.

use serde::{Deserialize, Serialize};

use crate::error::{err, Error, ErrorCode};
use crate::jwk::{KeySet, MAX_JWKS_BYTES};

/// Timing rules, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// Keys older than this are stale: refetched before use. Defaults to 24 h, the cache
    /// time-to-live of `signing-key-rollover.md`.
    pub max_age: u64,
    /// Keys older than this are refreshed in the background while still used. Defaults to 1 h:
    /// `signing-key-rollover.md` asks for "refreshes every hour", which bounds how long a key
    /// removed from the JWKS is still trusted.
    pub refresh_interval: u64,
    /// Minimum time between fetches caused by an unknown `kid`. Defaults to 5 min
    /// (`signing-key-rollover.md`: "no more often than every 5 minutes").
    pub unknown_kid_cooldown: u64,
    /// How long stale keys stay usable while the endpoint fails. Defaults to 1 h
    /// (Microsoft.IdentityModel's last-known-good lifetime, REFERENCE.md §7).
    pub last_known_good: u64,
    /// Minimum time between attempts after a failed fetch. Defaults to 30 s.
    pub retry_after_failure: u64,
    /// A fetch not reported within this time is presumed lost and may be restarted. Defaults to 30 s.
    pub fetch_timeout: u64,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            max_age: 24 * 3600,
            refresh_interval: 3600,
            unknown_kid_cooldown: 300,
            last_known_good: 3600,
            retry_after_failure: 30,
            fetch_timeout: 30,
        }
    }
}

/// What the host must do before validating a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksAction {
    /// Validate with [`JwksCache::keys`].
    Use,
    /// Validate with the current keys, and refresh them in the background (the fetch is now
    /// marked in flight; report it with `fetch_succeeded`/`fetch_failed`).
    UseAndRefresh,
    /// Fetch the JWKS now (marked in flight), report the result, then ask again.
    Fetch,
    /// Another fetch is in flight: wait for it, then ask again.
    Wait,
    /// No usable keys: refuse with `jwks_unavailable` (fail closed).
    Unavailable,
}

/// Exported state, for persistence across isolates (Workers KV). Only the key set and its age
/// travel; failure and cooldown timers stay per instance.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Exported {
    v: u8,
    fetched_at: u64,
    jwks: String,
}

#[derive(Debug, Clone, Default)]
pub struct JwksCache {
    policy: CachePolicy,
    keys: Option<KeySet>,
    body: String,
    fetched_at: u64,
    in_flight_since: Option<u64>,
    last_unknown_kid_fetch: Option<u64>,
    last_failure: Option<u64>,
    source_tenant: Option<String>,
}

impl JwksCache {
    pub fn new(policy: CachePolicy) -> Self {
        JwksCache {
            policy,
            ..Default::default()
        }
    }

    /// A cache for the key set at `jwks_uri`; a tenant id in the URL marks every set it holds as
    /// that tenant's own document ([`KeySet::from_tenant_document`]).
    pub fn for_uri(policy: CachePolicy, jwks_uri: &str) -> Self {
        JwksCache {
            source_tenant: crate::jwk::tenant_of_jwks_uri(jwks_uri),
            ..JwksCache::new(policy)
        }
    }

    fn parse(&self, body: &[u8]) -> Result<KeySet, Error> {
        Ok(KeySet::parse(body)?.from_tenant_document(self.source_tenant.as_deref()))
    }

    /// The current keys, if any were ever loaded (possibly stale: ask [`Self::action`] first).
    pub fn keys(&self) -> Option<&KeySet> {
        self.keys.as_ref()
    }

    /// The fingerprint of the current key set; empty when none. Token caches key on it.
    pub fn key_version(&self) -> &str {
        self.keys.as_ref().map_or("", KeySet::fingerprint)
    }

    /// The keys if they are fresh (younger than `max_age`), for callers that cannot wait for a
    /// fetch (synchronous validation). Does not change any state.
    pub fn fresh_keys(&self, now: u64) -> Option<&KeySet> {
        let fresh = now.saturating_sub(self.fetched_at) < self.policy.max_age;
        self.keys.as_ref().filter(|_| fresh)
    }

    fn in_flight(&self, now: u64) -> bool {
        self.in_flight_since
            .is_some_and(|t| now < t.saturating_add(self.policy.fetch_timeout))
    }

    fn retry_allowed(&self, now: u64) -> bool {
        self.last_failure
            .is_none_or(|t| now >= t.saturating_add(self.policy.retry_after_failure))
    }

    fn start(&mut self, now: u64, action: JwksAction) -> JwksAction {
        self.in_flight_since = Some(now);
        action
    }

    /// Decides what the host does for a token naming `kid` at `now`.
    pub fn action(&mut self, kid: Option<&str>, now: u64) -> JwksAction {
        let p = self.policy;
        let in_flight = self.in_flight(now);
        let Some(keys) = &self.keys else {
            return match (in_flight, self.retry_allowed(now)) {
                (true, _) => JwksAction::Wait,
                (false, true) => self.start(now, JwksAction::Fetch),
                (false, false) => JwksAction::Unavailable,
            };
        };
        let age = now.saturating_sub(self.fetched_at);
        let kid_known = kid.is_none_or(|k| keys.contains_kid(k));
        if age < p.max_age {
            if !kid_known {
                // Possibly a key rolled early: refetch, but at most once per cooldown so a storm
                // of made-up kids cannot turn into a storm of fetches.
                if in_flight {
                    return JwksAction::Wait;
                }
                let cooled = self
                    .last_unknown_kid_fetch
                    .is_none_or(|t| now >= t.saturating_add(p.unknown_kid_cooldown));
                if cooled && self.retry_allowed(now) {
                    self.last_unknown_kid_fetch = Some(now);
                    return self.start(now, JwksAction::Fetch);
                }
                return JwksAction::Use;
            }
            if age >= p.refresh_interval.min(p.max_age) && !in_flight && self.retry_allowed(now) {
                return self.start(now, JwksAction::UseAndRefresh);
            }
            return JwksAction::Use;
        }
        // Stale: refresh before use; while the endpoint fails, keep last-known-good for a bounded time.
        let lkg_until = self
            .fetched_at
            .saturating_add(p.max_age)
            .saturating_add(p.last_known_good);
        if in_flight {
            JwksAction::Wait
        } else if self.retry_allowed(now) {
            self.start(now, JwksAction::Fetch)
        } else if now < lkg_until {
            JwksAction::Use
        } else {
            JwksAction::Unavailable
        }
    }

    /// Reports a fetched body. A body over the size cap or not a valid JWKS counts as a failure.
    /// Returns whether the key material changed (caches keyed on the old version are now dead).
    pub fn fetch_succeeded(&mut self, body: &[u8], now: u64) -> Result<bool, Error> {
        self.in_flight_since = None;
        let parsed = std::str::from_utf8(body)
            .map_err(|_| err(ErrorCode::Malformed, "JWKS is not UTF-8"))
            .and_then(|text| self.parse(body).map(|keys| (text, keys)));
        match parsed {
            Ok((text, keys)) => {
                let changed = keys.fingerprint() != self.key_version();
                self.keys = Some(keys);
                self.body = text.to_owned();
                self.fetched_at = now;
                self.last_failure = None;
                Ok(changed)
            }
            Err(e) => {
                self.last_failure = Some(now);
                Err(e)
            }
        }
    }

    /// Reports a failed fetch (network error, timeout, non-200, redirect, body too large).
    pub fn fetch_failed(&mut self, now: u64) {
        self.in_flight_since = None;
        self.last_failure = Some(now);
    }

    /// The refusal for [`JwksAction::Unavailable`].
    pub fn unavailable_error(&self) -> Error {
        err(
            ErrorCode::JwksUnavailable,
            "signing keys unavailable: the JWKS endpoint is failing and no usable keys are cached",
        )
    }

    /// Serialises the key set and its fetch time (JSON) for a KV store.
    pub fn export(&self) -> Option<String> {
        self.keys.as_ref()?;
        serde_json::to_string(&Exported {
            v: 1,
            fetched_at: self.fetched_at,
            jwks: self.body.clone(),
        })
        .ok()
    }

    /// Loads exported state when it is newer than what is held and not past its last-known-good
    /// window. Returns whether it was adopted.
    pub fn import(&mut self, state: &str, now: u64) -> Result<bool, Error> {
        if state.len() > 2 * MAX_JWKS_BYTES {
            return Err(err(ErrorCode::Malformed, "cache state is too large"));
        }
        let state: Exported = serde_json::from_str(state)
            .map_err(|_| err(ErrorCode::Malformed, "cache state is not valid JSON"))?;
        let p = self.policy;
        let too_old = now >= state.fetched_at.saturating_add(p.max_age);
        let from_future = state.fetched_at > now.saturating_add(60);
        let not_newer = self.keys.is_some() && state.fetched_at <= self.fetched_at;
        if state.v != 1 || too_old || from_future || not_newer {
            return Ok(false);
        }
        let keys = self.parse(state.jwks.as_bytes())?;
        self.keys = Some(keys);
        self.body = state.jwks;
        self.fetched_at = state.fetched_at;
        Ok(true)
    }
}
