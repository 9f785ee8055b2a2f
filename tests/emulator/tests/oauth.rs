//! Token endpoint, metadata and signing keys over real HTTP.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use common::*;
use entrawatch_emulator::TokenVersion;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
use rsa::BigUint;
use serde_json::{json, Value};
use sha2::Digest;

const CERT: &str = include_str!("../testdata/test-only-client.cert.pem");
const KEY: &str = include_str!("../testdata/test-only-client.key.pem");
const CERT_APP: &str = "aaaaaaaa-bbbb-cccc-dddd-0000000000c1";

fn cert_scenario() -> entrawatch_emulator::Scenario {
    let mut s = entrawatch_emulator::Scenario::sample();
    let app: entrawatch_emulator::AppSpec =
        serde_json::from_value(json!({"client_id": CERT_APP, "certificate_pem": CERT}))
            .expect("app spec");
    s.tenants[0].apps.push(app);
    s
}

fn assertion(aud: &str, exp_offset: i64, alg: &str) -> String {
    let der = pem::parse(CERT).expect("cert pem");
    let thumb = B64.encode(sha2::Sha256::digest(der.contents()));
    let header = json!({"alg": alg, "typ": "JWT", "x5t#S256": thumb});
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"aud": aud, "iss": CERT_APP, "sub": CERT_APP, "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now - 10, "iat": now - 10, "exp": now + exp_offset});
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(KEY).expect("test key");
    let sig = match alg {
        "PS256" => rsa::pss::BlindedSigningKey::<sha2::Sha256>::new(key)
            .sign_with_rng(&mut rand::thread_rng(), input.as_bytes())
            .to_vec(),
        _ => rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key)
            .sign_with_rng(&mut rand::thread_rng(), input.as_bytes())
            .to_vec(),
    };
    format!("{input}.{}", B64.encode(sig))
}

async fn post_assertion(emu: &entrawatch_emulator::Emulator, jwt: &str) -> (u16, Value) {
    let resp = http()
        .post(format!("{}/{TENANT}/oauth2/v2.0/token", emu.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CERT_APP),
            ("scope", "https://graph.microsoft.com/.default"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", jwt),
        ])
        .send()
        .await
        .expect("token request");
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn token_is_issued_for_the_right_secret() {
    let emu = sample().await;
    let resp = token_for(&emu, TENANT, CLIENT, SECRET).await;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    emu.stop().await;
}

#[tokio::test]
async fn wrong_secret_is_refused_with_aadsts7000215() {
    let emu = sample().await;
    let resp = token_for(&emu, TENANT, CLIENT, "wrong").await;
    assert_eq!(resp.status().as_u16(), 401);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], json!([7000215]));
    assert!(body["error_description"]
        .as_str()
        .is_some_and(|d| d.starts_with("AADSTS7000215:")));
    for k in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body.get(k).is_some(), "{k} missing");
    }
}

#[tokio::test]
async fn unknown_tenant_and_unknown_client_are_refused_as_entra_does() {
    let emu = sample().await;
    let resp = token_for(&emu, "99999999-0000-0000-0000-000000000000", CLIENT, SECRET).await;
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.json::<Value>().await.expect("json")["error_codes"],
        json!([90002])
    );
    let resp = token_for(&emu, TENANT, "99999999-0000-0000-0000-000000000000", SECRET).await;
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["error"], "unauthorized_client");
    assert_eq!(body["error_codes"], json!([700016]));
}

#[tokio::test]
async fn client_secret_in_a_basic_authorization_header_is_accepted() {
    let emu = sample().await;
    let resp = http()
        .post(format!("{}/{TENANT}/oauth2/v2.0/token", emu.url()))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(resp.status().as_u16(), 200);
    let t = resp.json::<Value>().await.expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let (status, _, org) = get(&emu, &t, "/v1.0/organization").await;
    assert_eq!(status, 200);
    assert_eq!(org["value"][0]["id"], TENANT);
}

#[tokio::test]
async fn domain_name_works_in_place_of_the_tenant_id() {
    let emu = sample().await;
    assert_eq!(
        token_for(&emu, "contoso.onmicrosoft.com", CLIENT, SECRET)
            .await
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn ps256_and_rs256_client_assertions_from_the_registered_certificate_are_accepted() {
    let emu = entrawatch_emulator::Emulator::start(cert_scenario())
        .await
        .expect("starts");
    for (aud, alg) in [
        (format!("{}/{TENANT}/oauth2/v2.0/token", emu.url()), "PS256"),
        (
            format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"),
            "RS256",
        ),
    ] {
        let (status, body) = post_assertion(&emu, &assertion(&aud, 300, alg)).await;
        assert_eq!(status, 200, "{alg}: {body}");
        assert!(body["access_token"].is_string());
    }
}

#[tokio::test]
async fn tampered_or_expired_client_assertions_are_refused() {
    let emu = entrawatch_emulator::Emulator::start(cert_scenario())
        .await
        .expect("starts");
    let aud = format!("{}/{TENANT}/oauth2/v2.0/token", emu.url());
    let good = assertion(&aud, 300, "PS256");
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut claims: Value =
        serde_json::from_slice(&B64.decode(&parts[1]).expect("b64")).expect("json");
    claims["sub"] = json!("someone-else");
    parts[1] = B64.encode(claims.to_string());
    let (status, body) = post_assertion(&emu, &parts.join(".")).await;
    assert_eq!(
        (status, body["error_codes"].clone()),
        (401, json!([700027])),
        "{body}"
    );
    let (status, body) = post_assertion(&emu, &assertion(&aud, -60, "PS256")).await;
    assert_eq!(
        (status, body["error_codes"].clone()),
        (401, json!([700024])),
        "{body}"
    );
}

#[tokio::test]
async fn openid_metadata_points_at_the_emulator() {
    let emu = sample().await;
    let doc: Value = http()
        .get(format!(
            "{}/{TENANT}/v2.0/.well-known/openid-configuration",
            emu.url()
        ))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        doc["issuer"],
        format!("https://login.microsoftonline.com/{TENANT}/v2.0")
    );
    assert_eq!(
        doc["jwks_uri"],
        format!("{}/{TENANT}/discovery/v2.0/keys", emu.url())
    );
    assert_eq!(
        doc["token_endpoint"],
        format!("{}/{TENANT}/oauth2/v2.0/token", emu.url())
    );
}

fn verify_with_jwks(token: &str, jwks: &Value) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    let header: Value = serde_json::from_slice(&B64.decode(parts[0]).expect("b64")).expect("json");
    let Some(jwk) = jwks["keys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| k["kid"] == header["kid"]))
    else {
        return false;
    };
    let n = BigUint::from_bytes_be(&B64.decode(jwk["n"].as_str().expect("n")).expect("b64"));
    let e = BigUint::from_bytes_be(&B64.decode(jwk["e"].as_str().expect("e")).expect("b64"));
    let key = rsa::RsaPublicKey::new(n, e).expect("public key");
    let sig = rsa::pkcs1v15::Signature::try_from(B64.decode(parts[2]).expect("b64").as_slice())
        .expect("sig");
    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .is_ok()
}

#[tokio::test]
async fn minted_tokens_verify_against_the_published_keys_across_rotation() {
    let emu = sample().await;
    let claims = json!({"aud": "api://demo", "oid": "x"});
    let old = emu.mint_access_token(TENANT, claims.clone(), TokenVersion::V2);
    let payload: Value = serde_json::from_slice(
        &B64.decode(old.split('.').nth(1).expect("payload"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(
        payload["iss"],
        format!("https://login.microsoftonline.com/{TENANT}/v2.0")
    );
    assert_eq!(payload["aud"], "api://demo");
    let v1 = emu.mint_access_token(TENANT, claims.clone(), TokenVersion::V1);
    let p1: Value = serde_json::from_slice(
        &B64.decode(v1.split('.').nth(1).expect("payload"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(p1["iss"], format!("https://sts.windows.net/{TENANT}/"));

    let new_kid = emu.rotate_signing_key(TENANT);
    let new = emu.mint_access_token(TENANT, claims, TokenVersion::V2);
    let jwks: Value = http()
        .get(format!("{}/{TENANT}/discovery/v2.0/keys", emu.url()))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2));
    assert!(jwks["keys"][0]["issuer"].is_string());
    assert!(verify_with_jwks(&old, &jwks) && verify_with_jwks(&new, &jwks));

    let old_kid = jwks["keys"][0]["kid"].as_str().expect("kid").to_string();
    assert_ne!(old_kid, new_kid);
    assert!(emu.retire_key(TENANT, &old_kid));
    let v1_jwks: Value = http()
        .get(format!("{}/{TENANT}/discovery/keys", emu.url()))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(v1_jwks["keys"].as_array().map(Vec::len), Some(1));
    assert!(
        v1_jwks["keys"][0].get("issuer").is_none(),
        "v1 keys carry no issuer"
    );
    assert!(!verify_with_jwks(&old, &v1_jwks) && verify_with_jwks(&new, &v1_jwks));
}
