//! Client assertion checks for the token endpoint (Entra docs `certificate-credentials`): a JWT signed with
//! PS256 or RS256 by the app's certificate key, found by `x5t#S256` (SHA-256 thumbprint) or `x5t` (SHA-1);
//! `aud` = the token endpoint, `iss` = `sub` = client id, `exp`/`nbf` checked on real time, `jti` present.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::RsaPublicKey;
use serde_json::Value;
use sha2::Digest;
use x509_cert::der::{Decode, Encode};

/// Why an assertion was refused; the token endpoint maps each to an AADSTS code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AssertionError {
    #[error("Client assertion is malformed: {0}")]
    Malformed(String),
    #[error("Client assertion failed signature validation.")]
    Signature,
    #[error("Client assertion is not within its valid time range.")]
    Expired,
    #[error("Client assertion application identifier doesn't match 'client_id' parameter.")]
    WrongIssuer,
    #[error("Client assertion audience claim does not match Realm issuer.")]
    WrongAudience,
    #[error("The application has no certificate matching the assertion's thumbprint.")]
    UnknownKey,
}

/// A registered certificate: its public key and both thumbprints (base64url).
pub struct RegisteredCert {
    pub key: RsaPublicKey,
    pub x5t_s256: String,
    pub x5t: String,
}

pub fn load_certificate(pem_text: &str) -> anyhow::Result<RegisteredCert> {
    let block = pem::parse(pem_text)?;
    let der = block.contents();
    let cert = x509_cert::Certificate::from_der(der)?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der()?;
    let key = RsaPublicKey::from_public_key_der(&spki)?;
    Ok(RegisteredCert {
        key,
        x5t_s256: B64.encode(sha2::Sha256::digest(der)),
        x5t: B64.encode(sha1::Sha1::digest(der)),
    })
}

pub(crate) fn decode_json(part: &str) -> Result<Value, AssertionError> {
    let bytes = B64
        .decode(part)
        .map_err(|_| AssertionError::Malformed("bad base64url".into()))?;
    serde_json::from_slice(&bytes).map_err(|_| AssertionError::Malformed("bad JSON".into()))
}

/// Verifies `jwt` for `client_id`; `audiences` lists every accepted token endpoint URL.
pub fn verify(
    jwt: &str,
    client_id: &str,
    certs: &[RegisteredCert],
    audiences: &[String],
    now_unix: i64,
) -> Result<(), AssertionError> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err(AssertionError::Malformed("expected three parts".into()));
    };
    let header = decode_json(h)?;
    let claims = decode_json(p)?;
    let sig = B64.decode(s).map_err(|_| AssertionError::Signature)?;
    let thumb_s256 = header.get("x5t#S256").and_then(Value::as_str);
    let thumb = header.get("x5t").and_then(Value::as_str);
    let cert = certs
        .iter()
        .find(|c| Some(c.x5t_s256.as_str()) == thumb_s256 || Some(c.x5t.as_str()) == thumb)
        .ok_or(AssertionError::UnknownKey)?;
    let input = format!("{h}.{p}");
    let ok = match header.get("alg").and_then(Value::as_str) {
        Some("PS256") => {
            let sig = rsa::pss::Signature::try_from(sig.as_slice())
                .map_err(|_| AssertionError::Signature)?;
            rsa::pss::VerifyingKey::<sha2::Sha256>::new(cert.key.clone())
                .verify(input.as_bytes(), &sig)
                .is_ok()
        }
        Some("RS256") => {
            let sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice())
                .map_err(|_| AssertionError::Signature)?;
            rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(cert.key.clone())
                .verify(input.as_bytes(), &sig)
                .is_ok()
        }
        _ => false,
    };
    if !ok {
        return Err(AssertionError::Signature);
    }
    let s = |k: &str| claims.get(k).and_then(Value::as_str);
    if s("iss").is_none_or(|v| !v.eq_ignore_ascii_case(client_id))
        || s("sub").is_none_or(|v| !v.eq_ignore_ascii_case(client_id))
    {
        return Err(AssertionError::WrongIssuer);
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audiences.iter().any(|x| x.eq_ignore_ascii_case(a)),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| audiences.iter().any(|x| x.eq_ignore_ascii_case(a))),
        _ => false,
    };
    if !aud_ok {
        return Err(AssertionError::WrongAudience);
    }
    if s("jti").is_none_or(str::is_empty) {
        return Err(AssertionError::Malformed("jti is required".into()));
    }
    // Five minutes of clock skew, like Entra's default tolerance (Entra docs `access-tokens`).
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(AssertionError::Expired)?;
    let nbf = claims
        .get("nbf")
        .and_then(Value::as_i64)
        .unwrap_or(i64::MIN);
    if exp <= now_unix || nbf > now_unix + 300 {
        return Err(AssertionError::Expired);
    }
    Ok(())
}
