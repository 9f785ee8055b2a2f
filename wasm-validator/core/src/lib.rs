//! Entra ID access-token validation: bytes, keys and `now` in, verdict out; no I/O.
//!
//! ```no_run
//! use entrawatch_validator::{KeySet, Tenants, Validator, ValidatorConfig};
//! let jwks = std::fs::read("keys.json").unwrap();
//! let keys = KeySet::parse(&jwks).unwrap();
//! let config = ValidatorConfig::new(Tenants::Any, vec!["api://my-api".into()]);
//! let validator = Validator::new(config).unwrap();
//! match validator.validate("eyJ...", &keys, 1_700_000_000) {
//!     Ok(valid) => println!("{}", valid.to_json()),
//!     Err(e) => eprintln!("{}", e.code()),
//! }
//! ```

mod config;
mod encoding;
mod error;
mod jwk;
mod jwks_cache;
mod jws;
mod policy;
mod token_cache;
mod validator;
mod verify;

pub use config::{is_guid, Tenants, ValidatorConfig};
pub use encoding::{b64url_decode, b64url_encode, parse_object};
pub use error::{Error, ErrorCode};
pub use jwk::{tenant_of_jwks_uri, Jwk, KeyMaterial, KeySet, MAX_JWKS_BYTES, MIN_RSA_BITS};
pub use jwks_cache::{CachePolicy, JwksAction, JwksCache};
pub use jws::{decompose, Algorithm, Compact, Header, DEFAULT_MAX_TOKEN_BYTES};
pub use policy::{Principal, Validated};
pub use token_cache::TokenCache;
pub use validator::{strip_bearer, Validator};
pub use verify::{dangerous, verify_signature, Prepared, VerifiedToken};

/// Entra's v2 signing keys for `tenant` (a tenant id, or `common` for multi-tenant APIs; every
/// tenant's document lists the same keys). REFERENCE.md §6; the host fetches it over HTTPS.
pub fn entra_jwks_uri(tenant: &str) -> String {
    format!("https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys")
}

/// A decoded JSON object (header or claims).
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// Signature layer only (SPEC.md `verifyJws`): checks the JWS against `keys` and returns the
/// header object and the payload bytes, whatever they are (RFC 7515 allows any octets; Project
/// Wycheproof's valid JWS vectors sign `foo`, empty and binary payloads). No claim rule.
pub fn verify_jws(compact: &str, keys: &KeySet) -> Result<(JsonObject, Vec<u8>), Error> {
    let (header, payload) =
        verify::prepare(compact, keys, DEFAULT_MAX_TOKEN_BYTES)?.verify_payload()?;
    Ok((header.json, payload))
}
