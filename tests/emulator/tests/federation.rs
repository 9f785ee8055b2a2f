//! Workload identity federation: an external issuer's assertion matched by issuer, subject and audience.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use common::*;
use entrawatch_emulator::{Emulator, Scenario};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

const KEY: &str = include_str!("../testdata/test-only-client.key.pem");
const APP: &str = "aaaaaaaa-bbbb-cccc-dddd-0000000000f1";
const ISSUER: &str = "https://example-issuer.test/account-123";
const ROLE: &str = "arn:aws:iam::123456789012:role/entrawatch";

fn scenario() -> Scenario {
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(KEY).expect("test key");
    let public = key.to_public_key();
    let jwks = json!({"keys": [{"kty": "RSA", "kid": "k1", "n": B64.encode(public.n().to_bytes_be()), "e": B64.encode(public.e().to_bytes_be())}]});
    let mut s = Scenario::sample();
    let app = serde_json::from_value(json!({"client_id": APP, "federated": [{
        "issuer": ISSUER, "subject": ROLE, "audience": "api://AzureADTokenExchange", "jwks": jwks}]}))
    .expect("app");
    s.tenants[0].apps.push(app);
    s
}

fn external_token(sub: &str, exp_offset: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "k1"});
    let claims = json!({"iss": ISSUER, "sub": sub, "aud": "api://AzureADTokenExchange", "iat": now, "exp": now + exp_offset});
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(KEY).expect("test key");
    let sig = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key)
        .sign(input.as_bytes())
        .to_vec();
    format!("{input}.{}", B64.encode(sig))
}

async fn exchange(emu: &Emulator, jwt: &str) -> (u16, Value) {
    let resp = http()
        .post(format!("{}/{TENANT}/oauth2/v2.0/token", emu.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", APP),
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
async fn federated_assertion_matching_issuer_subject_and_audience_gets_a_token() {
    let emu = Emulator::start(scenario()).await.expect("starts");
    let (status, body) = exchange(&emu, &external_token(ROLE, 300)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string());
}

#[tokio::test]
async fn federated_assertion_for_another_subject_or_expired_is_refused() {
    let emu = Emulator::start(scenario()).await.expect("starts");
    let (status, body) = exchange(
        &emu,
        &external_token("arn:aws:iam::123456789012:role/other", 300),
    )
    .await;
    assert_eq!(
        (status, body["error_codes"].clone()),
        (400, json!([70021])),
        "{body}"
    );
    let (status, body) = exchange(&emu, &external_token(ROLE, -10)).await;
    assert_eq!(
        (status, body["error_codes"].clone()),
        (401, json!([700024])),
        "{body}"
    );
}
