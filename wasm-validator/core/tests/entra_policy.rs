//! Entra claim rules (REFERENCE.md §6), each as a behaviour.

mod common;

use common::*;
use entrawatch_validator::{
    b64url_encode, verify_jws, KeySet, Tenants, Validator, ValidatorConfig,
};
use serde_json::json;

fn with(claim: &str, value: serde_json::Value) -> String {
    let mut claims = v2_claims();
    claims[claim] = value;
    rs256("a", &claims)
}

#[test]
fn valid_v2_user_token_yields_claims_and_principal() {
    let ok = validator()
        .validate(&rs256("a", &v2_claims()), &keys(), NOW)
        .unwrap();
    assert_eq!(ok.principal.tid.as_deref(), Some(TID));
    assert_eq!(ok.principal.app_id.as_deref(), Some(CLIENT));
    assert!(!ok.principal.app_only);
    assert_eq!(ok.principal.scopes, ["Alerts.Read", "User.Read"]);
    let json: serde_json::Value = serde_json::from_str(&ok.to_json()).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["principal"]["appId"], CLIENT);
    assert_eq!(json["claims"]["aud"], AUD);
}

#[test]
fn valid_v1_app_only_token_is_accepted_with_v2_key_issuer() {
    let ok = validator()
        .validate(&rs256("a", &v1_app_claims()), &keys(), NOW)
        .unwrap();
    assert!(ok.principal.app_only);
    assert_eq!(ok.principal.roles, ["Alerts.Write"]);
}

#[test]
fn app_only_is_detected_from_oid_equal_sub_without_scp() {
    let mut claims = v1_app_claims();
    claims.as_object_mut().unwrap().remove("idtyp");
    let ok = validator()
        .validate(&rs256("a", &claims), &keys(), NOW)
        .unwrap();
    assert!(ok.principal.app_only);
}

#[test]
fn ps256_and_es256_tokens_are_accepted() {
    let v = validator();
    assert!(v.validate(&ps256("a", &v2_claims()), &keys(), NOW).is_ok());
    assert!(v.validate(&es256("ec", &v2_claims()), &keys(), NOW).is_ok());
}

#[test]
fn bearer_authorization_value_is_accepted() {
    let header = format!("Bearer {}", rs256("a", &v2_claims()));
    assert!(validator().validate(&header, &keys(), NOW).is_ok());
}

#[test]
fn tampered_payload_fails_the_signature() {
    let token = rs256("a", &v2_claims());
    let other = rs256("a", &json!({"aud": "x"}));
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        other.split('.').nth(1).unwrap(),
        parts[2]
    );
    assert_eq!(refusal(&forged), "signature_invalid");
}

#[test]
fn token_signed_by_unknown_kid_is_key_not_found() {
    assert_eq!(refusal(&rs256("b", &v2_claims())), "key_not_found");
}

#[test]
fn expiry_allows_the_clock_skew_and_no_more() {
    let v = validator();
    let token = with("exp", json!(NOW - 59));
    assert!(v.validate(&token, &keys(), NOW).is_ok());
    assert_eq!(refusal(&with("exp", json!(NOW - 60))), "token_expired");
}

#[test]
fn token_without_exp_is_refused() {
    let mut claims = v2_claims();
    claims.as_object_mut().unwrap().remove("exp");
    assert_eq!(refusal(&rs256("a", &claims)), "token_expired");
}

#[test]
fn token_used_before_nbf_is_refused() {
    assert_eq!(
        refusal(&with("nbf", json!(NOW + 61))),
        "token_not_yet_valid"
    );
    assert!(validator()
        .validate(&with("nbf", json!(NOW + 59)), &keys(), NOW)
        .is_ok());
}

#[test]
fn issuer_of_another_tenant_is_refused() {
    let iss = format!("https://login.microsoftonline.com/{OTHER_TID}/v2.0");
    assert_eq!(refusal(&with("iss", json!(iss))), "issuer_invalid");
    assert_eq!(
        refusal(&with("iss", json!("https://evil.example/"))),
        "issuer_invalid"
    );
}

#[test]
fn tenant_outside_the_allow_list_is_refused() {
    let mut claims = v2_claims();
    claims["tid"] = json!(OTHER_TID);
    claims["iss"] = json!(format!(
        "https://login.microsoftonline.com/{OTHER_TID}/v2.0"
    ));
    assert_eq!(refusal(&rs256("a", &claims)), "tenant_not_allowed");
}

#[test]
fn any_tenant_accepts_other_guid_tenants_but_not_non_guid_tid() {
    let v = Validator::new(ValidatorConfig::new(Tenants::Any, vec![AUD.into()])).unwrap();
    let mut claims = v2_claims();
    claims["tid"] = json!(OTHER_TID);
    claims["iss"] = json!(format!(
        "https://login.microsoftonline.com/{OTHER_TID}/v2.0"
    ));
    assert!(v.validate(&rs256("a", &claims), &keys(), NOW).is_ok());
    claims["tid"] = json!("common");
    claims["iss"] = json!("https://login.microsoftonline.com/common/v2.0");
    let err = v.validate(&rs256("a", &claims), &keys(), NOW).unwrap_err();
    assert_eq!(err.code(), "issuer_invalid");
}

#[test]
fn key_issuer_of_another_tenant_is_refused() {
    let mut jwk = rsa_jwk(rsa_a(), "a");
    jwk["issuer"] = json!(format!(
        "https://login.microsoftonline.com/{OTHER_TID}/v2.0"
    ));
    let keys = keyset(&json!({ "keys": [jwk] }));
    let err = validator()
        .validate(&rs256("a", &v2_claims()), &keys, NOW)
        .unwrap_err();
    assert_eq!(err.code(), "key_issuer_mismatch");
}

/// REFERENCE.md §6: with `tenants: "any"` a key must prove its tenant through its `issuer`; one
/// without (a v1 `.../discovery/keys` document) is trusted only from the token's tenant's own JWKS.
#[test]
fn multi_tenant_refuses_issuer_less_key_unless_read_from_the_tenants_own_document() {
    let v = Validator::new(ValidatorConfig::new(Tenants::Any, vec![AUD.into()])).unwrap();
    let mut jwk = rsa_jwk(rsa_a(), "a");
    jwk.as_object_mut().unwrap().remove("issuer");
    let body = json!({ "keys": [jwk] }).to_string();
    let token = rs256("a", &v2_claims());
    let common = KeySet::parse(body.as_bytes()).unwrap();
    let err = v.validate(&token, &common, NOW).unwrap_err();
    assert_eq!(err.code(), "key_issuer_mismatch");
    let own = KeySet::parse(body.as_bytes())
        .unwrap()
        .from_tenant_document(Some(TID));
    assert!(v.validate(&token, &own, NOW).is_ok());
    let other = KeySet::parse(body.as_bytes())
        .unwrap()
        .from_tenant_document(Some(OTHER_TID));
    let err = v.validate(&token, &other, NOW).unwrap_err();
    assert_eq!(err.code(), "key_issuer_mismatch");
    // A tenant allow-list binds the tenant already: the issuer-less key serves it.
    assert!(validator().validate(&token, &common, NOW).is_ok());
}

#[test]
fn audience_of_another_api_is_refused() {
    assert_eq!(
        refusal(&with("aud", json!("api://other"))),
        "audience_invalid"
    );
    assert!(validator()
        .validate(&with("aud", json!(["x", AUD])), &keys(), NOW)
        .is_ok());
}

#[test]
fn graph_audience_token_is_not_verifiable() {
    let graph = with("aud", json!("00000003-0000-0000-c000-000000000000"));
    assert_eq!(refusal(&graph), "graph_token_not_verifiable");
    let nonce = mint_raw(
        r#"{"alg":"RS256","kid":"a","nonce":"n"}"#,
        &v2_claims().to_string(),
        rsa_a(),
    );
    assert_eq!(refusal(&nonce), "graph_token_not_verifiable");
}

#[test]
fn missing_required_scope_is_insufficient_scope() {
    let mut config = config();
    config.required_scopes = vec!["Alerts.Write".into()];
    let v = Validator::new(config).unwrap();
    let err = v
        .validate(&rs256("a", &v2_claims()), &keys(), NOW)
        .unwrap_err();
    assert_eq!((err.code(), err.status()), ("insufficient_scope", 403));
    assert!(err
        .www_authenticate()
        .contains("error=\"insufficient_scope\""));
}

#[test]
fn scope_or_role_requirement_accepts_either_kind_of_token() {
    let mut config = config();
    config.required_scopes = vec!["Alerts.Read".into()];
    config.required_roles = vec!["Alerts.Write".into()];
    let v = Validator::new(config).unwrap();
    assert!(v.validate(&rs256("a", &v2_claims()), &keys(), NOW).is_ok());
    assert!(v
        .validate(&rs256("a", &v1_app_claims()), &keys(), NOW)
        .is_ok());
    let mut claims = v1_app_claims();
    claims["roles"] = json!(["Other"]);
    let err = v.validate(&rs256("a", &claims), &keys(), NOW).unwrap_err();
    assert_eq!(err.code(), "insufficient_scope");
}

#[test]
fn client_app_outside_the_allow_list_is_refused() {
    let mut config = config();
    config.allowed_client_apps = vec!["someone-else".into()];
    let v = Validator::new(config).unwrap();
    let err = v
        .validate(&rs256("a", &v2_claims()), &keys(), NOW)
        .unwrap_err();
    assert_eq!((err.code(), err.status()), ("client_not_allowed", 403));
    let mut config = common::config();
    config.allowed_client_apps = vec![CLIENT.into()];
    let v = Validator::new(config).unwrap();
    assert!(v
        .validate(&rs256("a", &v1_app_claims()), &keys(), NOW)
        .is_ok());
}

#[test]
fn explicit_issuers_serve_non_entra_providers() {
    let mut config = ValidatorConfig::new(Tenants::Any, vec![AUD.into()]);
    config.issuers = vec!["https://idp.example".into()];
    let v = Validator::new(config).unwrap();
    let claims = json!({"aud": AUD, "iss": "https://idp.example", "exp": NOW + 60, "sub": "s"});
    assert!(v.validate(&es256("ec", &claims), &keys(), NOW).is_ok());
}

/// National clouds (Entra docs `authentication-national-cloud.md`): US Gov issues
/// `https://login.microsoftonline.us/{tid}/v2.0`, which the public-cloud default refuses.
#[test]
fn issuer_template_serves_a_national_cloud_for_any_tenant() {
    let gov = "https://login.microsoftonline.us/{tenantid}/v2.0";
    let mut jwk = rsa_jwk(rsa_a(), "a");
    jwk["issuer"] = json!(gov);
    let keys = keyset(&json!({ "keys": [jwk] }));
    let mut claims = v2_claims();
    claims["iss"] = json!(format!("https://login.microsoftonline.us/{TID}/v2.0"));
    let token = rs256("a", &claims);
    let public = Validator::new(ValidatorConfig::new(Tenants::Any, vec![AUD.into()])).unwrap();
    assert_eq!(
        public.validate(&token, &keys, NOW).unwrap_err().code(),
        "issuer_invalid"
    );
    let mut config = ValidatorConfig::new(Tenants::Any, vec![AUD.into()]);
    config.issuers = vec![gov.into()];
    let v = Validator::new(config).unwrap();
    assert!(v.validate(&token, &keys, NOW).is_ok());
    // The template is filled from tid: another tenant's issuer does not pass.
    claims["tid"] = json!(OTHER_TID);
    let err = v.validate(&rs256("a", &claims), &keys, NOW).unwrap_err();
    assert_eq!(err.code(), "issuer_invalid");
}

#[test]
fn host_verdict_false_is_signature_invalid_and_true_runs_the_policy() {
    let v = validator();
    let token = rs256("a", &v2_claims());
    let prepared = v.prepare(&token, &keys()).unwrap();
    assert_eq!(prepared.key_index(), 0);
    assert_eq!(
        prepared.signing_input(),
        token.rsplit_once('.').unwrap().0.as_bytes()
    );
    let err = v.finish(prepared.clone(), false, NOW).unwrap_err();
    assert_eq!(err.code(), "signature_invalid");
    assert!(v.finish(prepared, true, NOW).is_ok());
}

#[test]
fn verify_jws_checks_the_signature_layer_only() {
    let mut claims = v2_claims();
    claims["exp"] = json!(1);
    let (header, payload) = verify_jws(&rs256("a", &claims), &keys()).unwrap();
    assert_eq!(header["kid"], "a");
    let payload: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload["exp"], 1);
}

#[test]
fn verify_jws_accepts_any_payload_bytes_but_validate_requires_json_claims() {
    let header = b64url_encode(json!({"alg": "RS256", "kid": "a"}).to_string().as_bytes());
    for payload in [&b"foo"[..], b"", &[0u8, 255, 1, 128]] {
        let input = format!("{header}.{}", b64url_encode(payload));
        let token = format!("{input}.{}", b64url_encode(&sign_rs256(rsa_a(), &input)));
        let (_, got) = verify_jws(&token, &keys()).unwrap();
        assert_eq!(got, payload);
        let refused = validator().validate(&token, &keys(), NOW).unwrap_err();
        assert_eq!(refused.code(), "malformed");
    }
}
