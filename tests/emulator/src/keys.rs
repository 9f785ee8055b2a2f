//! Token signing keys per tenant, their JWKS, and minted validator tokens.
//!
//! Keys are RSA 2048 (Entra docs `signing-key-rollover`), generated on first need so start-up stays fast.
//! `kid` and `x5t` are equal, as in Entra's JWKS, but derived from the public key (SHA-1 of its DER) because
//! the emulator has no certificate to thumbprint.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha1::Digest;
use std::sync::Mutex;

/// Which Entra access-token format to mint (Entra docs `access-tokens`: v1 and v2 issuers differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TokenVersion {
    V1,
    #[default]
    V2,
}

pub struct SigningKey {
    pub kid: String,
    pub key: RsaPrivateKey,
    pub retired: bool,
}

/// A tenant's keys: the last non-retired key signs; every non-retired key is published.
pub struct KeyRing {
    keys: Mutex<Vec<SigningKey>>,
    fixed_pem: Option<String>,
}

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn kid_for(key: &RsaPrivateKey) -> anyhow::Result<String> {
    let der = key.to_public_key().to_public_key_der()?;
    Ok(b64(&sha1::Sha1::digest(der.as_bytes())))
}

fn parse_pem_key(pem: &str) -> anyhow::Result<RsaPrivateKey> {
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|e| anyhow::anyhow!("signing_key_pem is not an RSA private key: {e}"))
}

impl KeyRing {
    pub fn new(fixed_pem: Option<String>) -> Self {
        KeyRing {
            keys: Mutex::new(Vec::new()),
            fixed_pem,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SigningKey>> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn generate() -> anyhow::Result<SigningKey> {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?;
        Ok(SigningKey {
            kid: kid_for(&key)?,
            key,
            retired: false,
        })
    }

    fn ensure(&self, keys: &mut Vec<SigningKey>) -> anyhow::Result<()> {
        if keys.is_empty() {
            let k = match &self.fixed_pem {
                Some(pem) => {
                    let key = parse_pem_key(pem)?;
                    SigningKey {
                        kid: kid_for(&key)?,
                        key,
                        retired: false,
                    }
                }
                None => Self::generate()?,
            };
            keys.push(k);
        }
        Ok(())
    }

    /// Adds a fresh key that becomes the signer; older keys stay published until retired.
    pub fn rotate(&self) -> anyhow::Result<String> {
        let mut keys = self.lock();
        self.ensure(&mut keys)?;
        let k = Self::generate()?;
        let kid = k.kid.clone();
        keys.push(k);
        Ok(kid)
    }

    /// Stops publishing (and signing with) `kid`. Returns false when the kid is unknown.
    pub fn retire(&self, kid: &str) -> bool {
        let mut keys = self.lock();
        let mut found = false;
        for k in keys.iter_mut().filter(|k| k.kid == kid) {
            k.retired = true;
            found = true;
        }
        found
    }

    /// The JWKS document; `issuer` is set for the v2 endpoint only, as Entra does (Entra docs `access-tokens`).
    pub fn jwks(&self, issuer: Option<&str>) -> anyhow::Result<Value> {
        let mut keys = self.lock();
        self.ensure(&mut keys)?;
        let list: Vec<Value> = keys
            .iter()
            .filter(|k| !k.retired)
            .map(|k| {
                let public = k.key.to_public_key();
                let mut jwk = json!({
                    "kty": "RSA", "use": "sig", "kid": k.kid, "x5t": k.kid,
                    "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be()),
                });
                if let (Some(iss), Some(obj)) = (issuer, jwk.as_object_mut()) {
                    obj.insert("issuer".into(), json!(iss));
                }
                jwk
            })
            .collect();
        Ok(json!({ "keys": list }))
    }

    /// Signs `claims` with RS256 using the current key (Entra docs `access-tokens`: header typ, alg, kid, x5t).
    pub fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        let mut keys = self.lock();
        self.ensure(&mut keys)?;
        let k = keys.iter().rev().find(|k| !k.retired).ok_or_else(|| {
            anyhow::anyhow!("every signing key of this tenant is retired; rotate first")
        })?;
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": k.kid, "x5t": k.kid});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(k.key.clone());
        let sig = signer.try_sign(input.as_bytes())?;
        Ok(format!("{input}.{}", b64(&sig.to_bytes())))
    }
}

/// Default claims of a minted token; the caller's claims override them.
pub fn default_claims(
    tenant_id: &str,
    version: TokenVersion,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    let iat = now.timestamp();
    let (iss, ver) = match version {
        TokenVersion::V2 => (
            format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
            "2.0",
        ),
        TokenVersion::V1 => (format!("https://sts.windows.net/{tenant_id}/"), "1.0"),
    };
    json!({"iss": iss, "tid": tenant_id, "ver": ver, "iat": iat, "nbf": iat, "exp": iat + 3600})
}

/// Shallow merge: keys of `over` replace those of `base`.
pub fn merge(mut base: Value, over: Value) -> Value {
    if let (Some(b), Value::Object(o)) = (base.as_object_mut(), over) {
        for (k, v) in o {
            b.insert(k, v);
        }
    }
    base
}
