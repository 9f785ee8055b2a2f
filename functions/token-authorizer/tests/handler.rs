//! The handler called directly with the repo's event fixtures, against the emulator's keys:
//! valid tokens are allowed with the right principal and context in each API's shape, and each
//! invalid class is refused in the shape API Gateway needs (REST: `Unauthorized` failure for 401,
//! Deny policy for 403; HTTP API: `isAuthorized: false`).

mod common;

use common::*;
use entrawatch_emulator::TokenVersion;
use serde_json::{json, Value};

fn assert_allowed_policy(response: &Value, principal: &str) {
    assert_eq!(response["principalId"], principal, "{response}");
    let doc = &response["policyDocument"];
    assert_eq!(doc["Version"], "2012-10-17");
    assert_eq!(
        doc["Statement"],
        json!([{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": STAGE_WILDCARD}])
    );
}

fn assert_user_context(context: &Value) {
    assert_eq!(
        context,
        &json!({"oid": USER_OID, "tid": TID, "appId": CLIENT_APP,
                "scopes": "Alerts.Read Alerts.Write", "roles": "", "appOnly": false})
    );
}

#[tokio::test]
async fn valid_token_is_allowed_for_rest_token_rest_request_and_http_v2() {
    let emu = emulator().await;
    let auth = authorizer(&emu, &TestClock::default());
    let bearer = format!("Bearer {}", user_token(&emu, json!({})));

    let rest = invoke(&auth, event(REST_TOKEN, Some(&bearer)))
        .await
        .unwrap();
    assert_allowed_policy(&rest, USER_OID);
    assert_user_context(&rest["context"]);

    // The REQUEST fixture spells the header `Authorization`; the HTTP one `authorization`.
    let request = invoke(&auth, event(REST_REQUEST, Some(&bearer)))
        .await
        .unwrap();
    assert_allowed_policy(&request, USER_OID);
    assert_user_context(&request["context"]);

    let http = invoke(&auth, event(HTTP_V2, Some(&bearer))).await.unwrap();
    assert_eq!(http["isAuthorized"], true, "{http}");
    assert_user_context(&http["context"]);
    emu.stop().await;
}

#[tokio::test]
async fn app_only_token_is_allowed_by_role_and_marked_app_only() {
    let emu = emulator().await;
    let auth = authorizer(&emu, &TestClock::default());
    let sp = "5e000000-0000-4000-8000-000000000001";
    let token = emu.mint_access_token(
        TID,
        json!({"aud": AUDIENCE, "oid": sp, "sub": sp, "tid": TID, "idtyp": "app",
               "roles": [ROLE], "azp": CLIENT_APP}),
        TokenVersion::V2,
    );
    let rest = invoke(&auth, event(REST_TOKEN, Some(&token)))
        .await
        .unwrap();
    assert_allowed_policy(&rest, sp);
    assert_eq!(rest["context"]["appOnly"], true);
    assert_eq!(rest["context"]["roles"], ROLE);
    assert_eq!(rest["context"]["scopes"], "");
    emu.stop().await;
}

/// Each 401 class: REST fails the invocation with exactly `Unauthorized` (for both event
/// types), HTTP v2 answers `isAuthorized: false` naming the validator's code.
#[tokio::test]
async fn each_invalid_token_class_is_refused_in_each_shape() {
    let emu = emulator().await;
    let auth = authorizer(&emu, &TestClock::default());
    let now = emu.clock().now().timestamp();
    let valid = user_token(&emu, json!({}));
    // A key that signed once and is no longer published: unknown even after the refetch.
    let old = emu.rotate_signing_key(TID);
    let unknown_kid = user_token(&emu, json!({}));
    emu.retire_key(TID, &old);
    let other_tenant = "99999999-2222-3333-4444-555555555555";
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        (
            "expired",
            Some(user_token(
                &emu,
                json!({"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}),
            )),
            "token_expired",
        ),
        (
            "not yet valid",
            Some(user_token(
                &emu,
                json!({"iat": now, "nbf": now + 3600, "exp": now + 7200}),
            )),
            "token_not_yet_valid",
        ),
        (
            "wrong audience",
            Some(user_token(&emu, json!({"aud": "api://someone-else"}))),
            "audience_invalid",
        ),
        (
            "wrong tenant",
            Some(user_token(
                &emu,
                json!({"tid": other_tenant,
            "iss": format!("https://login.microsoftonline.com/{other_tenant}/v2.0")}),
            )),
            "tenant_not_allowed",
        ),
        (
            "bad signature",
            Some(with_bad_signature(&valid)),
            "signature_invalid",
        ),
        ("alg none", Some(alg_none(&valid)), "unsupported_algorithm"),
        ("unknown kid", Some(unknown_kid), "key_not_found"),
        (
            "graph audience",
            Some(user_token(
                &emu,
                json!({"aud": "00000003-0000-0000-c000-000000000000"}),
            )),
            "graph_token_not_verifiable",
        ),
        ("malformed", Some("Bearer not.a-jwt".into()), "malformed"),
        ("bearer without token", Some("Bearer ".into()), "malformed"),
        ("missing header", None, "malformed"),
    ];
    for (name, token, code) in cases {
        let authorization = token.as_deref();
        for fixture in [REST_TOKEN, REST_REQUEST] {
            let refused = invoke(&auth, event(fixture, authorization)).await;
            let diagnostic = refused.expect_err(name);
            assert_eq!(diagnostic.error_message, "Unauthorized", "{name}");
        }
        let http = invoke(&auth, event(HTTP_V2, authorization)).await.unwrap();
        assert_eq!(http["isAuthorized"], false, "{name}: {http}");
        assert_eq!(http["context"]["error"], code, "{name}: {http}");
        assert_eq!(http["context"]["status"], 401, "{name}: {http}");
    }
    emu.stop().await;
}

#[tokio::test]
async fn missing_required_scope_is_a_deny_policy_for_rest_and_not_authorized_for_http() {
    let emu = emulator().await;
    let auth = authorizer(&emu, &TestClock::default());
    let token = user_token(&emu, json!({"scp": "Alerts.Write"}));
    for fixture in [REST_TOKEN, REST_REQUEST] {
        let deny = invoke(&auth, event(fixture, Some(&token))).await.unwrap();
        assert_eq!(deny["principalId"], USER_OID, "{deny}");
        assert_eq!(
            deny["policyDocument"]["Statement"],
            json!([{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": STAGE_WILDCARD}])
        );
        assert_eq!(deny["context"]["error"], "insufficient_scope");
        assert_eq!(deny["context"]["status"], 403);
        let www = deny["context"]["wwwAuthenticate"].as_str().unwrap();
        assert!(
            www.starts_with("Bearer error=\"insufficient_scope\""),
            "{www}"
        );
    }
    let http = invoke(&auth, event(HTTP_V2, Some(&token))).await.unwrap();
    assert_eq!(http["isAuthorized"], false);
    assert_eq!(http["context"]["error"], "insufficient_scope");
    emu.stop().await;
}

/// `ENTRAWATCH_AUTH_TENANTS=any`: a token from any tenant passes, but only when the key that
/// signed it belongs to the tenant the token claims (Entra `access-tokens.md`, "Validate the
/// signing key issuer"): a tenant's key cannot vouch for another tenant's tokens.
#[tokio::test]
async fn any_tenant_accepts_a_token_signed_by_its_own_tenants_key_only() {
    let emu = emulator().await;
    let auth = multi_tenant_authorizer(&emu).await;
    let token = user_token(&emu, json!({"scp": "Whatever"}));
    let http = invoke(&auth, event(HTTP_V2, Some(&token))).await.unwrap();
    assert_eq!(http["isAuthorized"], true, "{http}");
    assert_eq!(http["context"]["tid"], TID);

    let other_tenant = "99999999-2222-3333-4444-555555555555";
    let forged = user_token(
        &emu,
        json!({"tid": other_tenant,
               "iss": format!("https://login.microsoftonline.com/{other_tenant}/v2.0")}),
    );
    let http = invoke(&auth, event(HTTP_V2, Some(&forged))).await.unwrap();
    assert_eq!(http["isAuthorized"], false);
    assert_eq!(http["context"]["error"], "key_issuer_mismatch", "{http}");
    let rest = invoke(&auth, event(REST_TOKEN, Some(&forged))).await;
    assert_eq!(rest.unwrap_err().error_message, "Unauthorized");
    emu.stop().await;
}
