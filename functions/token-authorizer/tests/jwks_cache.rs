//! The signing keys of a warm function: fetched once and reused, refetched for a rotated key,
//! fetched once for many concurrent callers, and failing closed while the endpoint is down.
//! Key requests are counted by the emulator (`stats().family("metadata")`).

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn second_invocation_reuses_the_keys_and_a_rotated_key_is_picked_up() {
    let emu = emulator().await;
    let auth = authorizer(&emu, &TestClock::default());
    let token = user_token(&emu, json!({}));
    emu.reset_stats();

    for fixture in [REST_TOKEN, REST_REQUEST, HTTP_V2] {
        invoke(&auth, event(fixture, Some(&token))).await.unwrap();
    }
    assert_eq!(
        emu.stats().family("metadata"),
        1,
        "one fetch for three invocations"
    );

    // Entra can roll a key without notice: a token naming a kid the cache does not know
    // triggers one refetch, and the new key is then used.
    let new_kid = emu.rotate_signing_key(TID);
    let rotated = user_token(&emu, json!({}));
    let kid = entrawatch_validator::decompose(&rotated, 16 * 1024)
        .unwrap()
        .header
        .kid;
    assert_eq!(kid.as_deref(), Some(new_kid.as_str()));
    let allowed = invoke(&auth, event(REST_TOKEN, Some(&rotated)))
        .await
        .unwrap();
    assert_eq!(allowed["principalId"], USER_OID);
    assert_eq!(emu.stats().family("metadata"), 2);
    invoke(&auth, event(HTTP_V2, Some(&rotated))).await.unwrap();
    invoke(&auth, event(REST_TOKEN, Some(&token)))
        .await
        .unwrap();
    assert_eq!(emu.stats().family("metadata"), 2, "both keys now cached");
    emu.stop().await;
}

#[tokio::test]
async fn unknown_kids_refetch_once_per_cooldown() {
    let emu = emulator().await;
    let clock = TestClock::default();
    let auth = authorizer(&emu, &clock);
    let token = user_token(&emu, json!({}));
    invoke(&auth, event(REST_TOKEN, Some(&token)))
        .await
        .unwrap();
    let gone = emu.rotate_signing_key(TID);
    let unknown = user_token(&emu, json!({}));
    emu.retire_key(TID, &gone);
    emu.reset_stats();

    let http = invoke(&auth, event(HTTP_V2, Some(&unknown))).await.unwrap();
    assert_eq!(http["context"]["error"], "key_not_found");
    assert_eq!(
        emu.stats().family("metadata"),
        1,
        "refetched before refusing"
    );
    // A storm of unknown kids does not become a storm of fetches (5 min cooldown)...
    for _ in 0..5 {
        invoke(&auth, event(REST_TOKEN, Some(&unknown)))
            .await
            .unwrap_err();
    }
    assert_eq!(emu.stats().family("metadata"), 1);
    // ...and the next one after the cooldown refetches again.
    clock.advance(301);
    invoke(&auth, event(REST_TOKEN, Some(&unknown)))
        .await
        .unwrap_err();
    assert_eq!(emu.stats().family("metadata"), 2);
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cold_invocations_share_one_fetch() {
    let emu = emulator().await;
    let auth = authorizer(&emu, &TestClock::default());
    let token = user_token(&emu, json!({}));
    emu.faults()
        .set_latency(std::time::Duration::from_millis(200));
    emu.reset_stats();
    let calls = (0..8).map(|_| invoke(&auth, event(HTTP_V2, Some(&token))));
    for response in futures::future::join_all(calls).await {
        assert_eq!(response.unwrap()["isAuthorized"], true);
    }
    assert_eq!(emu.stats().family("metadata"), 1);
    emu.stop().await;
}

#[tokio::test]
async fn failing_key_endpoint_fails_closed_then_recovers() {
    let emu = emulator().await;
    let clock = TestClock::default();
    let auth = authorizer(&emu, &clock);
    let token = user_token(&emu, json!({}));
    emu.faults().fail_next(503, 1, None);
    emu.reset_stats();

    let http = invoke(&auth, event(HTTP_V2, Some(&token))).await.unwrap();
    assert_eq!(http["isAuthorized"], false);
    assert_eq!(http["context"]["error"], "jwks_unavailable");
    invoke(&auth, event(REST_TOKEN, Some(&token)))
        .await
        .unwrap_err();
    assert_eq!(
        emu.stats().family("metadata"),
        1,
        "no retry inside the 30 s back-off"
    );

    clock.advance(31);
    let allowed = invoke(&auth, event(REST_TOKEN, Some(&token)))
        .await
        .unwrap();
    assert_eq!(allowed["principalId"], USER_OID);
    assert_eq!(emu.stats().family("metadata"), 2);
    emu.stop().await;
}

#[tokio::test]
async fn keys_an_hour_old_are_refreshed_while_still_used() {
    let emu = emulator().await;
    let clock = TestClock::default();
    let auth = authorizer(&emu, &clock);
    emu.reset_stats();
    invoke(&auth, event(REST_TOKEN, Some(&user_token(&emu, json!({})))))
        .await
        .unwrap();
    // An hour later (the refresh interval; the max age is 24 h) a token still validates with
    // the cached keys and the refresh happens in the same invocation.
    clock.advance(3600);
    let later = user_token(
        &emu,
        json!({"exp": emu.clock().now().timestamp() + 30 * 3600}),
    );
    invoke(&auth, event(REST_TOKEN, Some(&later)))
        .await
        .unwrap();
    assert_eq!(emu.stats().family("metadata"), 2);
    invoke(&auth, event(REST_TOKEN, Some(&later)))
        .await
        .unwrap();
    assert_eq!(emu.stats().family("metadata"), 2, "fresh again");
    emu.stop().await;
}

/// Entra `signing-key-rollover.md` (REFERENCE.md §6): keys are refreshed every hour, so a key
/// Microsoft withdraws is refused about an hour after it leaves the JWKS, not after 24 h.
#[tokio::test]
async fn withdrawn_key_is_refused_about_an_hour_after_removal() {
    let emu = emulator().await;
    let clock = TestClock::default();
    let auth = authorizer(&emu, &clock);
    let long = json!({"exp": emu.clock().now().timestamp() + 30 * 3600});
    let old = user_token(&emu, long.clone());
    let old_kid = entrawatch_validator::decompose(&old, 16 * 1024)
        .unwrap()
        .header
        .kid
        .unwrap();
    invoke(&auth, event(REST_TOKEN, Some(&old))).await.unwrap();
    emu.rotate_signing_key(TID);
    assert!(emu.retire_key(TID, &old_kid));
    emu.reset_stats();

    clock.advance(1800);
    let still = invoke(&auth, event(REST_TOKEN, Some(&old))).await.unwrap();
    assert_eq!(
        still["principalId"], USER_OID,
        "cached keys inside the hour"
    );
    assert_eq!(emu.stats().family("metadata"), 0);

    // Past the hour: this invocation still uses the cached keys and refreshes them...
    clock.advance(1801);
    invoke(&auth, event(REST_TOKEN, Some(&old))).await.unwrap();
    assert_eq!(emu.stats().family("metadata"), 1, "hourly refresh");
    // ...and the next one no longer trusts the withdrawn key.
    let http = invoke(&auth, event(HTTP_V2, Some(&old))).await.unwrap();
    assert_eq!(http["context"]["error"], "key_not_found", "{http}");
    emu.stop().await;
}
