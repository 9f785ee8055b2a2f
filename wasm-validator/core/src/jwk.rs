//! JSON Web Key Sets (RFC 7517): parsed strictly, weak keys kept only to be refused by name.

use p256::ecdsa::VerifyingKey as P256Key;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::encoding::{b64url_decode, b64url_encode, parse_object};
use crate::error::{err, Error, ErrorCode};

/// Largest JWKS body accepted; Entra's is about 8 KiB. None of the common validators caps this
/// (REFERENCE.md §7), which lets a hostile or broken endpoint exhaust memory.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Keys beyond this count are ignored.
pub const MAX_KEYS: usize = 64;
/// `kid` is an opaque lookup key (RFC 7515 §4.1.4); capping it bounds work on hostile input.
pub const MAX_KID_LEN: usize = 256;
/// NIST SP 800-131A and RFC 8725 §3.5: RSA keys under 2048 bits are refused.
pub const MIN_RSA_BITS: usize = 2048;

/// The public key material of one JWK.
#[derive(Debug, Clone)]
pub enum KeyMaterial {
    Rsa(RsaPublicKey),
    P256(P256Key),
    /// Present in the set but unusable; the reason is reported when a token names it.
    Refused(String),
}

/// One key of a key set.
#[derive(Debug, Clone)]
pub struct Jwk {
    pub kid: Option<String>,
    /// The key's `alg` (RFC 7517 §4.4), when the publisher pinned one.
    pub alg: Option<String>,
    /// Entra's `issuer` property (v2 keys), possibly with the `{tenantid}` template.
    pub issuer: Option<String>,
    pub material: KeyMaterial,
    /// Minimal public JWK (`kty` and the key parameters only) for hosts importing the key into
    /// their own crypto (WebCrypto, node:crypto).
    pub public_jwk: String,
    /// Hex SHA-256 (first 12 bytes) of `public_jwk`: hosts cache imported keys under it, so a
    /// key set swapped between two calls can never make them use another key's material.
    pub fingerprint: String,
}

/// A parsed JWKS with a fingerprint that changes whenever any key changes; caches keyed by it are
/// invalidated by rotation and revocation alike.
#[derive(Debug, Clone)]
pub struct KeySet {
    keys: Vec<Arc<Jwk>>,
    fingerprint: String,
    source_tenant: Option<Arc<str>>,
}

impl KeySet {
    /// Parses a JWKS document. Keys of other types, curves or uses are skipped; a document with
    /// no `keys` array, over [`MAX_JWKS_BYTES`] or with duplicate JSON members is an error.
    pub fn parse(body: &[u8]) -> Result<KeySet, Error> {
        if body.len() > MAX_JWKS_BYTES {
            return Err(err(
                ErrorCode::Malformed,
                format!(
                    "JWKS is {} bytes, over the {MAX_JWKS_BYTES}-byte cap",
                    body.len()
                ),
            ));
        }
        let doc = parse_object(body, "JWKS")?;
        let Some(Value::Array(entries)) = doc.get("keys") else {
            return Err(err(ErrorCode::Malformed, "JWKS has no \"keys\" array"));
        };
        let mut keys = Vec::new();
        let mut hasher = Sha256::new();
        for entry in entries.iter().take(MAX_KEYS) {
            let Value::Object(members) = entry else {
                continue;
            };
            if let Some(key) = parse_key(members) {
                for part in [
                    key.kid.as_deref().unwrap_or(""),
                    key.alg.as_deref().unwrap_or(""),
                    key.issuer.as_deref().unwrap_or(""),
                    &key.public_jwk,
                ] {
                    hasher.update((part.len() as u64).to_be_bytes());
                    hasher.update(part.as_bytes());
                }
                keys.push(Arc::new(key));
            }
        }
        Ok(KeySet {
            keys,
            fingerprint: hex12(&hasher.finalize()),
            source_tenant: None,
        })
    }

    /// Marks the set as read from `tenant`'s own JWKS document (a tenant id in the URL, see
    /// [`tenant_of_jwks_uri`]). With `tenants: "any"`, a key without an `issuer` property is
    /// accepted only for tokens of that tenant (REFERENCE.md §6, "Validate the signing key issuer").
    pub fn from_tenant_document(mut self, tenant: Option<&str>) -> Self {
        self.source_tenant = tenant.map(|t| Arc::from(t.to_ascii_lowercase()));
        self
    }

    /// The tenant whose own document this set was read from, if any.
    pub fn source_tenant(&self) -> Option<&str> {
        self.source_tenant.as_deref()
    }

    /// A stable identifier of this exact key material.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn keys(&self) -> &[Arc<Jwk>] {
        &self.keys
    }

    /// The key a token names. Without a `kid`, only a set holding exactly one key answers.
    pub fn find(&self, kid: Option<&str>) -> Option<(usize, &Arc<Jwk>)> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .enumerate()
                .find(|(_, k)| k.kid.as_deref() == Some(kid)),
            None if self.keys.len() == 1 => Some((0, &self.keys[0])),
            None => None,
        }
    }

    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

fn hex12(digest: &[u8]) -> String {
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// The tenant id a JWKS URL is specific to: the first path segment when it is a GUID
/// (`{login}/{tenant id}/discovery/v2.0/keys`, `.../discovery/keys`, with or without `?appid=`).
/// `common`, `organizations`, domain names and non-Entra URLs answer `None`.
pub fn tenant_of_jwks_uri(uri: &str) -> Option<String> {
    let rest = uri.split_once("://")?.1;
    let path = rest.split_once('/')?.1;
    let segment = path.split(['/', '?', '#']).next()?;
    crate::config::is_guid(segment).then(|| segment.to_ascii_lowercase())
}

fn string_member(members: &Map<String, Value>, name: &str) -> Option<String> {
    members.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn parse_key(members: &Map<String, Value>) -> Option<Jwk> {
    // RFC 7517 §4.2: a key published for encryption must not verify signatures.
    if members.get("use").is_some_and(|u| u != "sig") {
        return None;
    }
    // RFC 7517 §4.3: with `key_ops`, only a key listing "verify" verifies (Wycheproof
    // `rejectWrongKeyOps`).
    if let Some(ops) = members.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op == "verify"));
        if !verifies {
            return None;
        }
    }
    let kid = string_member(members, "kid");
    if kid.as_ref().is_some_and(|k| k.len() > MAX_KID_LEN) {
        return None;
    }
    let (material, public_jwk) = match members.get("kty").and_then(Value::as_str)? {
        "RSA" => rsa_key(members)?,
        "EC" => ec_key(members)?,
        _ => return None,
    };
    Some(Jwk {
        kid,
        alg: string_member(members, "alg"),
        issuer: string_member(members, "issuer"),
        material,
        fingerprint: hex12(&Sha256::digest(public_jwk.as_bytes())),
        public_jwk,
    })
}

fn rsa_key(members: &Map<String, Value>) -> Option<(KeyMaterial, String)> {
    let n = b64url_decode(members.get("n")?.as_str()?, "n").ok()?;
    let e = b64url_decode(members.get("e")?.as_str()?, "e").ok()?;
    let n = BigUint::from_bytes_be(&n);
    let bits = n.bits();
    let jwk = format!(
        r#"{{"kty":"RSA","n":"{}","e":"{}"}}"#,
        b64url_encode(&n.to_bytes_be()),
        b64url_encode(&e)
    );
    if bits < MIN_RSA_BITS {
        let reason = format!("RSA key of {bits} bits is under the {MIN_RSA_BITS}-bit minimum");
        return Some((KeyMaterial::Refused(reason), jwk));
    }
    // `RsaPublicKey::new` also refuses moduli over 4096 bits and exponents out of range.
    let material = match RsaPublicKey::new(n, BigUint::from_bytes_be(&e)) {
        Ok(key) if key.size() * 8 >= MIN_RSA_BITS => KeyMaterial::Rsa(key),
        _ => KeyMaterial::Refused("RSA key parameters out of range".into()),
    };
    Some((material, jwk))
}

fn ec_key(members: &Map<String, Value>) -> Option<(KeyMaterial, String)> {
    let crv = members.get("crv")?.as_str()?;
    let x = b64url_decode(members.get("x")?.as_str()?, "x").ok()?;
    let y = b64url_decode(members.get("y")?.as_str()?, "y").ok()?;
    let jwk = format!(
        r#"{{"kty":"EC","crv":"{}","x":"{}","y":"{}"}}"#,
        if crv == "P-256" {
            "P-256"
        } else {
            "unsupported"
        },
        b64url_encode(&x),
        b64url_encode(&y)
    );
    if crv != "P-256" {
        return Some((
            KeyMaterial::Refused("only the P-256 curve is supported".into()),
            jwk,
        ));
    }
    // RFC 7518 §6.2.1.2: coordinates are exactly the field size; the point must be on the curve.
    if x.len() != 32 || y.len() != 32 {
        return Some((
            KeyMaterial::Refused("P-256 coordinates must be 32 bytes".into()),
            jwk,
        ));
    }
    let mut sec1 = Vec::with_capacity(65);
    sec1.push(0x04);
    sec1.extend_from_slice(&x);
    sec1.extend_from_slice(&y);
    let material = match P256Key::from_sec1_bytes(&sec1) {
        Ok(key) => KeyMaterial::P256(key),
        Err(_) => KeyMaterial::Refused("P-256 point is not on the curve".into()),
    };
    Some((material, jwk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_over_the_size_cap_is_refused_before_parsing() {
        let body = vec![b' '; MAX_JWKS_BYTES + 1];
        assert_eq!(KeySet::parse(&body).unwrap_err().code(), "malformed");
    }

    #[test]
    fn encryption_keys_and_unknown_types_are_skipped() {
        let body = br#"{"keys":[{"kty":"oct","k":"AAAA","kid":"h"},
            {"kty":"RSA","use":"enc","kid":"e","n":"AQAB","e":"AQAB"}]}"#;
        let set = KeySet::parse(body).unwrap();
        assert!(set.keys().is_empty());
    }

    #[test]
    fn keys_whose_key_ops_lack_verify_are_skipped() {
        let key = |ops: &str| {
            format!(
                r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"k","key_ops":{ops},"x":"AA","y":"AA"}}]}}"#
            )
        };
        for ops in [r#"["encrypt"]"#, r#""verify""#, "[]"] {
            assert!(KeySet::parse(key(ops).as_bytes())
                .unwrap()
                .keys()
                .is_empty());
        }
        let kept = KeySet::parse(key(r#"["sign","verify"]"#).as_bytes()).unwrap();
        assert_eq!(kept.keys().len(), 1);
    }

    #[test]
    fn small_rsa_key_is_kept_only_to_be_refused() {
        let body = br#"{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}"#;
        let set = KeySet::parse(body).unwrap();
        assert!(matches!(
            set.find(Some("k")).unwrap().1.material,
            KeyMaterial::Refused(_)
        ));
    }

    #[test]
    fn only_a_tenant_id_in_the_jwks_url_makes_it_tenant_specific() {
        let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        for uri in [
            format!("https://login.microsoftonline.com/{tid}/discovery/v2.0/keys"),
            format!("https://login.microsoftonline.us/{tid}/discovery/keys?appid=x"),
        ] {
            assert_eq!(tenant_of_jwks_uri(&uri).as_deref(), Some(tid), "{uri}");
        }
        for uri in [
            "https://login.microsoftonline.com/common/discovery/v2.0/keys",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/discovery/keys",
            "https://idp.example/.well-known/jwks.json",
            "not a url",
        ] {
            assert_eq!(tenant_of_jwks_uri(uri), None, "{uri}");
        }
    }

    #[test]
    fn jwks_with_duplicate_members_is_refused() {
        let body = br#"{"keys":[],"keys":[]}"#;
        assert_eq!(KeySet::parse(body).unwrap_err().code(), "duplicate_member");
    }
}
