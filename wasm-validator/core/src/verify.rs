//! Signature verification with RustCrypto, and [`VerifiedToken`]: the only door to the claims.
//!
//! Order (aws-jwt-verify `jwt-verifier.ts`, RFC 8725 §3.1): decompose, find the key by `kid`, check
//! the algorithm fits the key, verify, and only then decode the payload. `VerifiedToken` has private
//! fields and is built only here, so policy code cannot look at unverified claims.

use p256::ecdsa::signature::Verifier;
use rsa::pss::Pss;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::encoding::{b64url_decode, parse_object};
use crate::error::{err, Error, ErrorCode};
use crate::jwk::{Jwk, KeyMaterial, KeySet};
use crate::jws::{decompose, Algorithm, Compact, Header};

/// A token whose signature verified against a key of the configured key set.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    header: Header,
    claims: Map<String, Value>,
    key_issuer: Option<String>,
    keys_source_tenant: Option<Arc<str>>,
}

impl VerifiedToken {
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The payload claims; reachable only after the signature passed.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The signing key's `issuer` property, when the JWKS published one.
    pub fn key_issuer(&self) -> Option<&str> {
        self.key_issuer.as_deref()
    }

    /// The tenant whose own JWKS document the key came from ([`KeySet::from_tenant_document`]).
    pub fn keys_source_tenant(&self) -> Option<&str> {
        self.keys_source_tenant.as_deref()
    }

    pub(crate) fn into_claims(self) -> Map<String, Value> {
        self.claims
    }

    fn after_signature(prepared: Prepared) -> Result<Self, Error> {
        let payload = &prepared.signing_input[prepared.payload_b64_start..];
        let claims = parse_object(&b64url_decode(payload, "payload")?, "payload")?;
        Ok(VerifiedToken {
            header: prepared.header,
            claims,
            key_issuer: prepared.key.issuer.clone(),
            keys_source_tenant: prepared.keys_source_tenant,
        })
    }
}

/// A decomposed token with its key chosen and the algorithm checked against it, waiting for the
/// signature check. Hosts with faster native crypto verify [`Prepared::signing_input`] and
/// [`Prepared::signature`] with [`Prepared::key`] themselves (see [`dangerous`]).
#[derive(Debug, Clone)]
pub struct Prepared {
    header: Header,
    signing_input: String,
    payload_b64_start: usize,
    signature: Vec<u8>,
    key_index: usize,
    key: Arc<Jwk>,
    keys_source_tenant: Option<Arc<str>>,
}

impl Prepared {
    pub fn alg(&self) -> Algorithm {
        self.header.alg
    }
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
    /// Position of the key in the key set the token was prepared against.
    pub fn key_index(&self) -> usize {
        self.key_index
    }
    pub fn key(&self) -> &Jwk {
        &self.key
    }

    /// Verifies the signature with RustCrypto.
    pub fn verify(self) -> Result<VerifiedToken, Error> {
        self.check_signature()?;
        VerifiedToken::after_signature(self)
    }

    fn check_signature(&self) -> Result<(), Error> {
        verify_signature(
            self.header.alg,
            &self.key.material,
            self.signing_input.as_bytes(),
            &self.signature,
        )
    }

    /// The signature layer alone (SPEC.md `verifyJws`): verifies with RustCrypto and returns the
    /// header and the payload's bytes, whatever they are (RFC 7515 §2: any octet sequence).
    pub fn verify_payload(self) -> Result<(Header, Vec<u8>), Error> {
        self.check_signature()?;
        let payload = b64url_decode(&self.signing_input[self.payload_b64_start..], "payload")?;
        Ok((self.header, payload))
    }
}

/// Decomposes the token, finds its key and checks the algorithm fits the key.
pub fn prepare(token: &str, keys: &KeySet, max_token_bytes: usize) -> Result<Prepared, Error> {
    prepare_decomposed(decompose(token, max_token_bytes)?, keys)
}

/// [`prepare`] for a token the host already decomposed (to read its `kid` for the JWKS cache).
pub fn prepare_decomposed(compact: Compact<'_>, keys: &KeySet) -> Result<Prepared, Error> {
    let Compact {
        header,
        signing_input,
        payload_b64,
        signature,
    } = compact;
    let (key_index, key) = keys.find(header.kid.as_deref()).ok_or_else(|| {
        err(
            ErrorCode::KeyNotFound,
            "no key in the key set has the token's kid",
        )
    })?;
    check_alg_fits_key(header.alg, key)?;
    Ok(Prepared {
        payload_b64_start: signing_input.len() - payload_b64.len(),
        signing_input: signing_input.to_owned(),
        header,
        signature,
        key_index,
        key: Arc::clone(key),
        keys_source_tenant: keys.source_tenant().map(Arc::from),
    })
}

/// RFC 8725 §3.1: the algorithm is bound to the key, never taken from the token alone.
fn check_alg_fits_key(alg: Algorithm, key: &Jwk) -> Result<(), Error> {
    if let KeyMaterial::Refused(reason) = &key.material {
        return Err(err(ErrorCode::WeakKey, reason.clone()));
    }
    let fits = matches!(
        (alg, &key.material),
        (Algorithm::Rs256 | Algorithm::Ps256, KeyMaterial::Rsa(_))
            | (Algorithm::Es256, KeyMaterial::P256(_))
    );
    if !fits {
        return Err(err(
            ErrorCode::UnsupportedAlgorithm,
            format!("alg {} does not fit the key type", alg.as_str()),
        ));
    }
    if key.alg.as_deref().is_some_and(|a| a != alg.as_str()) {
        return Err(err(
            ErrorCode::UnsupportedAlgorithm,
            format!("alg {} differs from the key's alg", alg.as_str()),
        ));
    }
    Ok(())
}

/// Verifies one signature. Exposed so Wycheproof vectors run through the same code as tokens.
pub fn verify_signature(
    alg: Algorithm,
    key: &KeyMaterial,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    let bad = || err(ErrorCode::SignatureInvalid, "signature does not verify");
    match (alg, key) {
        (Algorithm::Rs256, KeyMaterial::Rsa(k)) => {
            check_rsa_representative(k, signature)?;
            k.verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(message),
                signature,
            )
            .map_err(|_| bad())
        }
        (Algorithm::Ps256, KeyMaterial::Rsa(k)) => {
            check_rsa_representative(k, signature)?;
            // RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash (32 bytes).
            k.verify(Pss::new::<Sha256>(), &Sha256::digest(message), signature)
                .map_err(|_| bad())
        }
        (Algorithm::Es256, KeyMaterial::P256(k)) => {
            // RFC 7518 §3.4: R || S, 32 bytes each. `from_slice` refuses r = 0 or s = 0 and values
            // not below the group order, which is what CVE-2022-21449 ("psychic signatures") skipped.
            let sig = p256::ecdsa::Signature::from_slice(signature).map_err(|_| bad())?;
            k.verify(message, &sig).map_err(|_| bad())
        }
        _ => Err(err(
            ErrorCode::UnsupportedAlgorithm,
            format!("alg {} does not fit the key type", alg.as_str()),
        )),
    }
}

/// RFC 8017 §8.1.2/§8.2.2: the signature is exactly k bytes and, as an integer, below n.
fn check_rsa_representative(key: &RsaPublicKey, signature: &[u8]) -> Result<(), Error> {
    if signature.len() != key.size() || BigUint::from_bytes_be(signature) >= *key.n() {
        return Err(err(
            ErrorCode::SignatureInvalid,
            "signature does not verify",
        ));
    }
    Ok(())
}

/// For hosts that verify signatures with their own vetted crypto (WebCrypto, node:crypto), which
/// is several times faster than RustCrypto compiled to wasm. Whoever calls this vouches that the
/// signature over [`Prepared::signing_input`] verified with [`Prepared::key`] and
/// [`Prepared::alg`]; a wrong answer here accepts forged tokens.
pub mod dangerous {
    use super::*;

    /// Turns a host's signature verdict into a [`VerifiedToken`] (or `signature_invalid`).
    pub fn host_verified(prepared: Prepared, signature_ok: bool) -> Result<VerifiedToken, Error> {
        if !signature_ok {
            return Err(err(
                ErrorCode::SignatureInvalid,
                "signature does not verify",
            ));
        }
        VerifiedToken::after_signature(prepared)
    }
}
