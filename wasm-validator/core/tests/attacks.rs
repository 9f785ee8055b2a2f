//! One negative test (at least) per attack class of REFERENCE.md §7.

mod common;

use common::*;
use entrawatch_validator::{b64url_encode, KeySet};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

fn header_token(header: serde_json::Value) -> String {
    mint_raw(&header.to_string(), &v2_claims().to_string(), rsa_a())
}

#[test]
fn alg_none_with_empty_signature_is_refused() {
    let input = encode(r#"{"alg":"none","kid":"a"}"#, &v2_claims().to_string());
    assert_eq!(refusal(&format!("{input}.")), "unsupported_algorithm");
}

#[test]
fn rs256_with_empty_signature_is_refused() {
    let input = encode(r#"{"alg":"RS256","kid":"a"}"#, &v2_claims().to_string());
    assert_eq!(refusal(&format!("{input}.")), "signature_invalid");
}

#[test]
fn hs256_signed_with_rsa_public_key_is_refused() {
    // The classic confusion: the attacker MACs with the public key a naive library would use as
    // the HMAC secret.
    let input = encode(r#"{"alg":"HS256","kid":"a"}"#, &v2_claims().to_string());
    let secret = rsa_jwk(rsa_a(), "a").to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    let token = format!("{input}.{}", b64url_encode(&mac.finalize().into_bytes()));
    assert_eq!(refusal(&token), "unsupported_algorithm");
}

#[test]
fn es256_header_naming_an_rsa_key_is_refused() {
    let mut token = es256("ec", &v2_claims());
    // Re-point the ES256 token at the RSA key.
    let header = b64url_encode(br#"{"alg":"ES256","kid":"a"}"#);
    token = format!("{header}{}", &token[token.find('.').unwrap()..]);
    assert_eq!(refusal(&token), "unsupported_algorithm");
}

#[test]
fn rs256_token_on_a_key_pinned_to_ps256_is_refused() {
    let mut jwk = rsa_jwk(rsa_a(), "a");
    jwk["alg"] = json!("PS256");
    let keys = keyset(&json!({ "keys": [jwk] }));
    let err = validator()
        .validate(&rs256("a", &v2_claims()), &keys, NOW)
        .unwrap_err();
    assert_eq!(err.code(), "unsupported_algorithm");
}

#[test]
fn key_embedded_in_header_jwk_is_never_trusted() {
    // Signed with the attacker's key (b), which the header offers as `jwk`; the key set has only a.
    let header = json!({"alg": "RS256", "kid": "a", "jwk": rsa_jwk(rsa_b(), "a")});
    let token = mint_raw(&header.to_string(), &v2_claims().to_string(), rsa_b());
    assert_eq!(refusal(&token), "signature_invalid");
}

#[test]
fn jku_x5u_and_x5c_headers_are_never_followed() {
    for (name, value) in [
        ("jku", json!("https://attacker.example/keys")),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("x5c", json!(["MIIBattacker"])),
    ] {
        let mut header = json!({"alg": "RS256", "kid": "attacker"});
        header[name] = value;
        let token = mint_raw(&header.to_string(), &v2_claims().to_string(), rsa_b());
        assert_eq!(refusal(&token), "key_not_found", "{name}");
    }
}

#[test]
fn kid_is_an_opaque_capped_lookup_key() {
    let traversal = header_token(json!({"alg": "RS256", "kid": "../../../../dev/null"}));
    assert_eq!(refusal(&traversal), "key_not_found");
    let injection = header_token(json!({"alg": "RS256", "kid": "a' OR '1'='1"}));
    assert_eq!(refusal(&injection), "key_not_found");
    let long = header_token(json!({"alg": "RS256", "kid": "a".repeat(300)}));
    assert_eq!(refusal(&long), "malformed");
    let not_string = header_token(json!({"alg": "RS256", "kid": 7}));
    assert_eq!(refusal(&not_string), "malformed");
}

#[test]
fn unknown_crit_extension_is_refused() {
    let token = header_token(json!({"alg": "RS256", "kid": "a", "crit": ["b64"], "b64": false}));
    assert_eq!(refusal(&token), "crit_unsupported");
    let empty = header_token(json!({"alg": "RS256", "kid": "a", "crit": []}));
    assert_eq!(refusal(&empty), "malformed");
}

#[test]
fn jwe_and_nested_jwt_are_refused() {
    assert_eq!(refusal("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"), "malformed");
    let nested = header_token(json!({"alg": "RS256", "kid": "a", "cty": "JWT"}));
    assert_eq!(refusal(&nested), "malformed");
}

#[test]
fn ecdsa_psychic_signature_with_zero_r_and_s_is_refused() {
    // CVE-2022-21449: r = s = 0 "verified" for any message in Java 15-18.
    let input = encode(r#"{"alg":"ES256","kid":"ec"}"#, &v2_claims().to_string());
    let zeros = format!("{input}.{}", b64url_encode(&[0u8; 64]));
    assert_eq!(refusal(&zeros), "signature_invalid");
    // r = s = n (the group order) reduces to zero mod n.
    let n = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let order = format!("{input}.{}", b64url_encode(&[n.clone(), n].concat()));
    assert_eq!(refusal(&order), "signature_invalid");
}

#[test]
fn non_canonical_base64url_is_refused() {
    let token = rs256("a", &v2_claims());
    let (rest, sig) = token.rsplit_once('.').unwrap();
    // The final character of a 256-byte signature carries 4 unused bits; setting one is a second
    // encoding of the same bytes.
    let last = sig.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let tweaked = alphabet.chars().nth(idx ^ 1).unwrap();
    let variant = format!("{rest}.{}{tweaked}", &sig[..sig.len() - 1]);
    assert_eq!(refusal(&variant), "malformed");
    assert_eq!(refusal(&format!("{rest}.{sig}==")), "malformed");
    assert_eq!(
        refusal(&token.replacen('-', "+", 1).replacen('_', "/", 1)),
        "malformed"
    );
}

#[test]
fn duplicate_member_in_header_is_refused() {
    let token = mint_raw(
        r#"{"alg":"RS256","kid":"a","kid":"b"}"#,
        &v2_claims().to_string(),
        rsa_a(),
    );
    assert_eq!(refusal(&token), "duplicate_member");
}

#[test]
fn duplicate_member_in_signed_payload_is_refused() {
    let claims = v2_claims().to_string();
    let claims = format!("{},\"aud\":\"api://other\"}}", &claims[..claims.len() - 1]);
    let token = mint_raw(r#"{"alg":"RS256","kid":"a"}"#, &claims, rsa_a());
    assert_eq!(refusal(&token), "duplicate_member");
}

#[test]
fn oversized_token_is_refused_before_decoding() {
    let token = format!("{}.{}.{}", "%".repeat(9000), "%".repeat(9000), "x");
    assert_eq!(refusal(&token), "token_too_large");
    let big_header = header_token(json!({"alg": "RS256", "kid": "a", "pad": "p".repeat(3000)}));
    assert_eq!(refusal(&big_header), "token_too_large");
}

#[test]
fn rsa_key_under_2048_bits_is_refused() {
    let keys = keyset(&json!({ "keys": [rsa_jwk(rsa_weak(), "weak")] }));
    let token = mint_raw(
        r#"{"alg":"RS256","kid":"weak"}"#,
        &v2_claims().to_string(),
        rsa_weak(),
    );
    let err = validator().validate(&token, &keys, NOW).unwrap_err();
    assert_eq!(err.code(), "weak_key");
}

#[test]
fn numeric_dates_of_wrong_type_or_out_of_range_are_refused() {
    for (claim, value) in [
        ("exp", json!("1700003600")),
        ("exp", json!(1e300)),
        ("exp", json!(-5)),
        ("exp", json!(null)),
        ("nbf", json!("0")),
        ("iat", json!([1])),
    ] {
        let mut claims = v2_claims();
        claims[claim] = value.clone();
        assert_eq!(
            refusal(&rs256("a", &claims)),
            "malformed",
            "{claim}={value}"
        );
    }
}

#[test]
fn jwks_with_only_a_weak_key_does_not_verify_anything() {
    let set = KeySet::parse(
        json!({ "keys": [rsa_jwk(rsa_weak(), "a")] })
            .to_string()
            .as_bytes(),
    );
    let err = validator().validate(&rs256("a", &v2_claims()), &set.unwrap(), NOW);
    assert_eq!(err.unwrap_err().code(), "weak_key");
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
