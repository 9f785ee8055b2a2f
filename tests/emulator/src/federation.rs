//! Workload identity federation (Entra docs `workload-identity-federation`): a `client_assertion` issued by an
//! external identity provider is accepted when its `iss`, `sub` and `aud` match a federated credential of the
//! app exactly and its signature verifies with that issuer's keys.

use crate::assertion::{decode_json, AssertionError};
use crate::scenario::FederatedCredential;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use rsa::signature::Verifier;
use rsa::{BigUint, RsaPublicKey};
use serde_json::Value;

/// Whether `jwt` looks like a certificate assertion (it names a certificate thumbprint).
pub fn names_certificate(jwt: &str) -> bool {
    jwt.split('.')
        .next()
        .and_then(|h| decode_json(h).ok())
        .is_some_and(|h| h.get("x5t#S256").is_some() || h.get("x5t").is_some())
}

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// AADSTS70021 (Entra docs `reference-error-codes`).
    #[error("No matching federated identity record found for presented assertion. Assertion Issuer: '{0}'. Assertion Subject: '{1}'. Assertion Audience: '{2}'.")]
    NoMatch(String, String, String),
    #[error(transparent)]
    Assertion(#[from] AssertionError),
}

fn rsa_key(jwk: &Value) -> Option<RsaPublicKey> {
    let part = |k: &str| {
        jwk.get(k)
            .and_then(Value::as_str)
            .and_then(|s| B64.decode(s).ok())
    };
    RsaPublicKey::new(
        BigUint::from_bytes_be(&part("n")?),
        BigUint::from_bytes_be(&part("e")?),
    )
    .ok()
}

pub fn verify(
    jwt: &str,
    creds: &[FederatedCredential],
    now_unix: i64,
) -> Result<(), FederationError> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err(AssertionError::Malformed("expected three parts".into()).into());
    };
    let header = decode_json(h)?;
    let claims = decode_json(p)?;
    let text = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let auds: Vec<String> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(l)) => l
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => vec![],
    };
    // Entra matches issuer, subject and audience exactly (case-sensitive).
    let cred = creds
        .iter()
        .find(|c| c.issuer == text("iss") && c.subject == text("sub") && auds.contains(&c.audience))
        .ok_or_else(|| FederationError::NoMatch(text("iss"), text("sub"), auds.join(",")))?;
    let sig = B64.decode(s).map_err(|_| AssertionError::Signature)?;
    let kid = header.get("kid").and_then(Value::as_str);
    let keys = cred
        .jwks
        .as_ref()
        .and_then(|j| j.get("keys"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let input = format!("{h}.{p}");
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let verified = keys
        .iter()
        .filter(|k| kid.is_none() || k.get("kid").and_then(Value::as_str) == kid)
        .filter_map(rsa_key)
        .any(|key| match alg {
            "RS256" => rsa::pkcs1v15::Signature::try_from(sig.as_slice()).is_ok_and(|sg| {
                rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key)
                    .verify(input.as_bytes(), &sg)
                    .is_ok()
            }),
            "PS256" => rsa::pss::Signature::try_from(sig.as_slice()).is_ok_and(|sg| {
                rsa::pss::VerifyingKey::<sha2::Sha256>::new(key)
                    .verify(input.as_bytes(), &sg)
                    .is_ok()
            }),
            _ => false,
        });
    if !verified {
        return Err(AssertionError::Signature.into());
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(AssertionError::Expired)?;
    let nbf = claims
        .get("nbf")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MIN);
    if exp <= now_unix || nbf > now_unix + 300 {
        return Err(AssertionError::Expired.into());
    }
    Ok(())
}
