//! Test fixtures: the test-only keys in `testdata/`, a JWKS built from them and a token minter.
#![allow(dead_code)]

use std::sync::OnceLock;

use entrawatch_validator::{b64url_encode, KeySet, Tenants, Validator, ValidatorConfig};
use p256::ecdsa::SigningKey as EcKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;

pub const NOW: u64 = 1_700_000_000;
pub const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const OTHER_TID: &str = "11111111-2222-3333-4444-555555555555";
pub const AUD: &str = "api://entrawatch-test";
pub const CLIENT: &str = "0b1c2d3e-0000-4000-8000-00000000c11e";

fn testdata(name: &str) -> String {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("test key present")
}

pub fn rsa_a() -> &'static RsaPrivateKey {
    static K: OnceLock<RsaPrivateKey> = OnceLock::new();
    K.get_or_init(|| RsaPrivateKey::from_pkcs8_pem(&testdata("rsa2048-a.pem")).unwrap())
}

pub fn rsa_b() -> &'static RsaPrivateKey {
    static K: OnceLock<RsaPrivateKey> = OnceLock::new();
    K.get_or_init(|| RsaPrivateKey::from_pkcs8_pem(&testdata("rsa2048-b.pem")).unwrap())
}

pub fn rsa_weak() -> &'static RsaPrivateKey {
    static K: OnceLock<RsaPrivateKey> = OnceLock::new();
    K.get_or_init(|| RsaPrivateKey::from_pkcs8_pem(&testdata("rsa1024-weak.pem")).unwrap())
}

pub fn ec_a() -> &'static EcKey {
    static K: OnceLock<EcKey> = OnceLock::new();
    K.get_or_init(|| EcKey::from_pkcs8_pem(&testdata("p256-a.pem")).unwrap())
}

pub fn rsa_jwk(key: &RsaPrivateKey, kid: &str) -> Value {
    json!({
        "kty": "RSA", "use": "sig", "kid": kid,
        "n": b64url_encode(&key.n().to_bytes_be()),
        "e": b64url_encode(&key.e().to_bytes_be()),
        "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
    })
}

pub fn ec_jwk(key: &EcKey, kid: &str) -> Value {
    let point = key.verifying_key().to_encoded_point(false);
    json!({
        "kty": "EC", "crv": "P-256", "kid": kid,
        "x": b64url_encode(point.x().unwrap()),
        "y": b64url_encode(point.y().unwrap()),
    })
}

/// The usual key set: RSA key "a", EC key "ec".
pub fn jwks_value() -> Value {
    json!({ "keys": [rsa_jwk(rsa_a(), "a"), ec_jwk(ec_a(), "ec")] })
}

pub fn keyset(jwks: &Value) -> KeySet {
    KeySet::parse(jwks.to_string().as_bytes()).unwrap()
}

pub fn keys() -> KeySet {
    keyset(&jwks_value())
}

/// A valid v2 delegated-user token's claims.
pub fn v2_claims() -> Value {
    json!({
        "aud": AUD, "iss": format!("https://login.microsoftonline.com/{TID}/v2.0"),
        "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 3600,
        "tid": TID, "oid": "aaaaaaaa-0000-4000-8000-000000000001",
        "sub": "user-subject", "azp": CLIENT, "scp": "Alerts.Read User.Read",
        "ver": "2.0",
    })
}

/// A valid v1 app-only token's claims.
pub fn v1_app_claims() -> Value {
    json!({
        "aud": AUD, "iss": format!("https://sts.windows.net/{TID}/"),
        "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 3600,
        "tid": TID, "oid": "aaaaaaaa-0000-4000-8000-000000000002",
        "sub": "aaaaaaaa-0000-4000-8000-000000000002", "appid": CLIENT,
        "roles": ["Alerts.Write"], "idtyp": "app", "ver": "1.0",
    })
}

pub fn encode(header: &str, claims: &str) -> String {
    format!(
        "{}.{}",
        b64url_encode(header.as_bytes()),
        b64url_encode(claims.as_bytes())
    )
}

pub fn sign_rs256(key: &RsaPrivateKey, input: &str) -> Vec<u8> {
    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone());
    signer.sign(input.as_bytes()).to_vec()
}

/// Mints a token from raw header and claims JSON text, signed as the header's alg says.
pub fn mint_raw(header: &str, claims: &str, key: &RsaPrivateKey) -> String {
    let input = encode(header, claims);
    let sig = sign_rs256(key, &input);
    format!("{input}.{}", b64url_encode(&sig))
}

pub fn rs256(kid: &str, claims: &Value) -> String {
    let key = if kid == "b" { rsa_b() } else { rsa_a() };
    mint_raw(
        &json!({"alg": "RS256", "typ": "JWT", "kid": kid}).to_string(),
        &claims.to_string(),
        key,
    )
}

pub fn ps256(kid: &str, claims: &Value) -> String {
    let input = encode(
        &json!({"alg": "PS256", "kid": kid}).to_string(),
        &claims.to_string(),
    );
    let signer = rsa::pss::SigningKey::<Sha256>::new(rsa_a().clone());
    let sig = signer.sign_with_rng(&mut rand::thread_rng(), input.as_bytes());
    format!("{input}.{}", b64url_encode(&sig.to_vec()))
}

pub fn es256(kid: &str, claims: &Value) -> String {
    let input = encode(
        &json!({"alg": "ES256", "kid": kid}).to_string(),
        &claims.to_string(),
    );
    let sig: p256::ecdsa::Signature = ec_a().sign(input.as_bytes());
    format!("{input}.{}", b64url_encode(&sig.to_bytes()))
}

pub fn config() -> ValidatorConfig {
    ValidatorConfig::new(Tenants::Only(vec![TID.into()]), vec![AUD.into()])
}

pub fn validator() -> Validator {
    Validator::new(config()).unwrap()
}

/// The error code for `token` under the default validator and key set.
pub fn refusal(token: &str) -> &'static str {
    validator()
        .validate(token, &keys(), NOW)
        .unwrap_err()
        .code()
}
