//! Certificate credentials: the PS256 client assertion Entra ID accepts instead of a secret (Entra docs
//! `certificate-credentials.md`, REFERENCE §5).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::pss::BlindedSigningKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};

use crate::Secret;

/// How long an assertion stays valid. The docs allow 5 to 10 minutes; it is used at once, so the short end.
const ASSERTION_LIFETIME_MINUTES: i64 = 5;

/// Entra ID rejects RSA keys under 2048 bits (Entra docs `certificate-credentials.md`).
const MIN_KEY_BITS: usize = 2048;

/// A parsed certificate credential: the signing key and the certificate's SHA-256 thumbprint.
pub struct ClientCertificate {
    signing_key: BlindedSigningKey<Sha256>,
    thumbprint_s256: String,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t#S256", &self.thumbprint_s256)
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// Reads PEM text holding one `CERTIFICATE` and one RSA key (`PRIVATE KEY` = PKCS#8 or `RSA PRIVATE KEY` =
    /// PKCS#1). The error says what is missing or wrong, never the PEM content.
    pub fn from_pem(pem_text: &Secret) -> Result<Self, String> {
        let blocks = pem::parse_many(pem_text.expose())
            .map_err(|_| "the certificate PEM is not valid PEM".to_string())?;
        let cert_der = blocks
            .iter()
            .find(|b| b.tag() == "CERTIFICATE")
            .ok_or("the certificate PEM has no CERTIFICATE block")?
            .contents();
        let key = blocks
            .iter()
            .find_map(|b| match b.tag() {
                "PRIVATE KEY" => {
                    Some(RsaPrivateKey::from_pkcs8_der(b.contents()).map_err(|_| "PKCS#8"))
                }
                "RSA PRIVATE KEY" => {
                    Some(RsaPrivateKey::from_pkcs1_der(b.contents()).map_err(|_| "PKCS#1"))
                }
                _ => None,
            })
            .ok_or("the certificate PEM has no PRIVATE KEY or RSA PRIVATE KEY block")?
            .map_err(|format| {
                format!("the {format} private key in the certificate PEM is not a valid RSA key")
            })?;
        if key.size() * 8 < MIN_KEY_BITS {
            return Err(format!(
                "the private key has {} bits; Entra ID needs at least {MIN_KEY_BITS}",
                key.size() * 8
            ));
        }
        Ok(ClientCertificate {
            signing_key: BlindedSigningKey::<Sha256>::new(key),
            thumbprint_s256: URL_SAFE_NO_PAD.encode(Sha256::digest(cert_der)),
        })
    }

    /// base64url(SHA-256(certificate DER)): the `x5t#S256` header value.
    pub fn thumbprint_s256(&self) -> &str {
        &self.thumbprint_s256
    }
}

/// A signed client assertion for `token_endpoint`: header `{"alg":"PS256","typ":"JWT","x5t#S256":...}`, claims
/// `aud` = the token endpoint, `iss` = `sub` = client id, a fresh `jti`, `nbf` = `iat` = `now`, `exp` 5 minutes on.
pub fn build_certificate_assertion(
    cert: &ClientCertificate,
    client_id: &str,
    token_endpoint: &str,
    now: DateTime<Utc>,
) -> Result<Secret, String> {
    let header =
        serde_json::json!({"alg": "PS256", "typ": "JWT", "x5t#S256": cert.thumbprint_s256});
    let claims = serde_json::json!({
        "aud": token_endpoint,
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now.timestamp(),
        "iat": now.timestamp(),
        "exp": (now + Duration::minutes(ASSERTION_LIFETIME_MINUTES)).timestamp(),
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = cert
        .signing_key
        .try_sign_with_rng(&mut rand::thread_rng(), signing_input.as_bytes())
        .map_err(|_| "signing the client assertion failed".to_string())?;
    Ok(Secret::new(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    )))
}
