//! The JWKS cache state machine and the token cache, driven the way a host drives them.

mod common;

use common::*;
use entrawatch_validator::{CachePolicy, JwksAction, JwksCache, TokenCache};
use serde_json::json;

fn body(keys: &[serde_json::Value]) -> Vec<u8> {
    json!({ "keys": keys }).to_string().into_bytes()
}

fn loaded(now: u64) -> JwksCache {
    let mut cache = JwksCache::new(CachePolicy::default());
    assert_eq!(cache.action(Some("a"), now), JwksAction::Fetch);
    cache
        .fetch_succeeded(&body(&[rsa_jwk(rsa_a(), "a")]), now)
        .unwrap();
    cache
}

#[test]
fn cold_cache_starts_one_fetch_and_every_other_caller_waits() {
    let mut cache = JwksCache::new(CachePolicy::default());
    assert_eq!(cache.action(Some("a"), NOW), JwksAction::Fetch);
    for _ in 0..1000 {
        assert_eq!(cache.action(Some("a"), NOW), JwksAction::Wait);
    }
    cache
        .fetch_succeeded(&body(&[rsa_jwk(rsa_a(), "a")]), NOW)
        .unwrap();
    assert_eq!(cache.action(Some("a"), NOW), JwksAction::Use);
}

#[test]
fn rotation_fetches_a_new_kid_once_and_evicts_the_token_cache() {
    let mut cache = loaded(NOW);
    let v = validator();
    let mut tokens = TokenCache::new(100);
    let old = rs256("a", &v2_claims());
    let verdict = v.validate(&old, cache.keys().unwrap(), NOW).unwrap();
    tokens.put(&old, cache.key_version(), verdict);

    // A token signed by the new key "b" arrives: one fetch, then it validates.
    assert_eq!(cache.action(Some("b"), NOW + 10), JwksAction::Fetch);
    assert_eq!(cache.action(Some("b"), NOW + 10), JwksAction::Wait);
    let changed = cache
        .fetch_succeeded(&body(&[rsa_jwk(rsa_b(), "b")]), NOW + 11)
        .unwrap();
    assert!(changed);
    assert_eq!(cache.action(Some("b"), NOW + 12), JwksAction::Use);
    assert!(v
        .validate(&rs256("b", &v2_claims()), cache.keys().unwrap(), NOW + 12)
        .is_ok());

    // Key "a" was removed: its tokens are refused and the cached verdict is gone.
    assert!(tokens.get(&old, cache.key_version(), NOW + 12).is_none());
    assert_eq!(cache.action(Some("a"), NOW + 12), JwksAction::Use);
    let err = v
        .validate(&old, cache.keys().unwrap(), NOW + 12)
        .unwrap_err();
    assert_eq!(err.code(), "key_not_found");
}

#[test]
fn storm_of_unknown_kids_causes_one_fetch_per_cooldown() {
    let mut cache = loaded(NOW);
    let mut fetches = 0;
    for i in 0..10_000u64 {
        let now = NOW + 1 + i / 100; // 100 s of traffic
        match cache.action(Some(&format!("made-up-{i}")), now) {
            JwksAction::Fetch => {
                fetches += 1;
                cache
                    .fetch_succeeded(&body(&[rsa_jwk(rsa_a(), "a")]), now)
                    .unwrap();
            }
            JwksAction::Use => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(fetches, 1);
    assert_eq!(cache.action(Some("x"), NOW + 1 + 300), JwksAction::Fetch);
}

#[test]
fn keys_are_refreshed_in_the_background_every_hour() {
    let mut cache = loaded(NOW);
    let p = CachePolicy::default();
    assert_eq!(p.refresh_interval, 3600);
    assert_eq!(p.max_age, 24 * 3600);
    assert_eq!(
        cache.action(Some("a"), NOW + p.refresh_interval - 1),
        JwksAction::Use
    );
    let t = NOW + p.refresh_interval;
    assert_eq!(cache.action(Some("a"), t), JwksAction::UseAndRefresh);
    assert_eq!(cache.action(Some("a"), t), JwksAction::Use, "single flight");
    cache
        .fetch_succeeded(&body(&[rsa_jwk(rsa_a(), "a")]), t + 1)
        .unwrap();
    assert_eq!(cache.action(Some("a"), t + 2), JwksAction::Use);
    assert_eq!(
        cache.action(Some("a"), t + 1 + p.refresh_interval),
        JwksAction::UseAndRefresh,
        "and again an hour after that"
    );
}

/// Entra `signing-key-rollover.md` (REFERENCE.md §6): with refreshes every hour, a key Microsoft
/// withdraws is refused about an hour after it leaves the JWKS, not at the end of the 24 h max age.
#[test]
fn key_removed_from_the_jwks_is_refused_about_an_hour_later() {
    let v = validator();
    let both = body(&[rsa_jwk(rsa_a(), "a"), rsa_jwk(rsa_b(), "b")]);
    let only_b = body(&[rsa_jwk(rsa_b(), "b")]);
    let mut cache = JwksCache::new(CachePolicy::default());
    assert_eq!(cache.action(Some("a"), NOW), JwksAction::Fetch);
    cache.fetch_succeeded(&both, NOW).unwrap();
    let removed_at = NOW + 600;
    let mut claims = v2_claims();
    claims["exp"] = json!(NOW + 2 * 24 * 3600);
    let token = rs256("a", &claims);
    // A host serving one token signed by "a" a minute, fetching whatever the endpoint serves now.
    let mut refused_at = None;
    for minute in 0..(24 * 60) {
        let now = NOW + 60 * minute;
        let served = if now >= removed_at { &only_b } else { &both };
        let action = cache.action(Some("a"), now);
        if action == JwksAction::Fetch {
            cache.fetch_succeeded(served, now).unwrap();
        }
        let verdict = v.validate(&token, cache.keys().unwrap(), now);
        if action == JwksAction::UseAndRefresh {
            cache.fetch_succeeded(served, now).unwrap();
        }
        if let Err(e) = verdict {
            assert_eq!(e.code(), "key_not_found");
            refused_at = Some(now);
            break;
        }
    }
    let refused_at = refused_at.expect("the removed key is refused within the day");
    let delay = refused_at - removed_at;
    assert!(
        delay <= 3600 + 60,
        "refused {delay} s after removal, not about an hour"
    );
}

#[test]
fn last_known_good_keys_serve_for_an_hour_of_failures_then_fail_closed() {
    let mut cache = loaded(NOW);
    let p = CachePolicy::default();
    let stale = NOW + p.max_age;
    assert_eq!(cache.action(Some("a"), stale), JwksAction::Fetch);
    cache.fetch_failed(stale);
    assert_eq!(cache.action(Some("a"), stale + 1), JwksAction::Use);
    // Retries are rate limited, and each failure keeps last-known-good until its window ends.
    let mut now = stale + 1;
    while now < stale + p.last_known_good {
        match cache.action(Some("a"), now) {
            JwksAction::Fetch => cache.fetch_failed(now),
            JwksAction::Use => {}
            other => panic!("unexpected {other:?} at {now}"),
        }
        now += 7;
    }
    let end = stale + p.last_known_good + p.retry_after_failure;
    assert_eq!(cache.action(Some("a"), end), JwksAction::Fetch);
    cache.fetch_failed(end);
    assert_eq!(cache.action(Some("a"), end + 1), JwksAction::Unavailable);
    assert_eq!(cache.unavailable_error().code(), "jwks_unavailable");
    // The endpoint recovers: the next retry succeeds and keys are usable again.
    assert_eq!(cache.action(Some("a"), end + 31), JwksAction::Fetch);
    cache
        .fetch_succeeded(&body(&[rsa_jwk(rsa_a(), "a")]), end + 31)
        .unwrap();
    assert_eq!(cache.action(Some("a"), end + 32), JwksAction::Use);
}

#[test]
fn never_loaded_cache_fails_closed_after_a_failed_fetch() {
    let mut cache = JwksCache::new(CachePolicy::default());
    assert_eq!(cache.action(None, NOW), JwksAction::Fetch);
    cache.fetch_failed(NOW);
    assert_eq!(cache.action(None, NOW + 1), JwksAction::Unavailable);
}

#[test]
fn oversized_or_invalid_jwks_response_counts_as_a_failure() {
    let mut cache = loaded(NOW);
    assert_eq!(cache.action(Some("zz"), NOW + 1), JwksAction::Fetch);
    let huge = vec![b' '; 70 * 1024];
    assert!(cache.fetch_succeeded(&huge, NOW + 1).is_err());
    assert!(cache.keys().unwrap().contains_kid("a"), "old keys kept");
    assert!(cache.fetch_succeeded(b"<html>", NOW + 2).is_err());
}

#[test]
fn lost_fetch_is_presumed_dead_after_its_timeout() {
    let mut cache = JwksCache::new(CachePolicy::default());
    assert_eq!(cache.action(None, NOW), JwksAction::Fetch);
    assert_eq!(cache.action(None, NOW + 29), JwksAction::Wait);
    assert_eq!(cache.action(None, NOW + 30), JwksAction::Fetch);
}

#[test]
fn exported_state_is_imported_by_a_fresh_instance() {
    let cache = loaded(NOW);
    let state = cache.export().unwrap();
    let mut other = JwksCache::new(CachePolicy::default());
    assert!(other.import(&state, NOW + 5).unwrap());
    assert_eq!(other.key_version(), cache.key_version());
    assert_eq!(other.action(Some("a"), NOW + 5), JwksAction::Use);
    // Older or expired state is not adopted.
    assert!(!other.import(&state, NOW + 6).unwrap());
    let mut late = JwksCache::new(CachePolicy::default());
    assert!(!late.import(&state, NOW + 24 * 3600).unwrap());
    assert!(late.import("{", NOW).is_err());
}
