//! One error type with a stable, documented code per failure (the SPEC.md "Token validator" contract).

use std::fmt;

/// Why a token (or a key set) was refused. The string from [`ErrorCode::as_str`] is the stable code
/// that hosts, logs and the JavaScript package expose; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// Not a compact JWS: wrong part count (JWE has 5), non-canonical base64url, invalid JSON,
    /// a claim of the wrong type or a numeric date out of range.
    Malformed,
    /// The token or its header is longer than the configured cap; checked before any decoding.
    TokenTooLarge,
    /// `alg` is `none`, HMAC or anything but RS256/PS256/ES256, or does not fit the key.
    UnsupportedAlgorithm,
    /// No key in the key set has the token's `kid`.
    KeyNotFound,
    /// The key exists but is refused: RSA under 2048 bits, or a curve other than P-256.
    WeakKey,
    /// The signature does not verify with the key.
    SignatureInvalid,
    /// `exp` is in the past (allowing the clock skew), or missing.
    TokenExpired,
    /// `nbf` (or `iat`) is in the future beyond the clock skew.
    TokenNotYetValid,
    /// `iss` is not the Entra issuer for the token's `tid` (or not in the configured issuers).
    IssuerInvalid,
    /// No `aud` value is one of the configured audiences.
    AudienceInvalid,
    /// The token's `tid` is not in the tenants allow-list.
    TenantNotAllowed,
    /// The signing key's own `issuer` property does not match the token's issuer
    /// (Entra `access-tokens.md`, "Validate the signing key issuer").
    KeyIssuerMismatch,
    /// A required scope or role is missing.
    InsufficientScope,
    /// The calling client application (`azp`/`appid`) is not in the allow-list.
    ClientNotAllowed,
    /// The header has `crit` names this validator does not understand (RFC 7515 §4.1.11).
    CritUnsupported,
    /// A JSON object repeats a member name (RFC 8725 §3.10 parser differentials).
    DuplicateMember,
    /// A Microsoft Graph token (Graph audience or a header `nonce`): only Graph can verify it.
    GraphTokenNotVerifiable,
    /// No usable key set: never fetched, or the endpoint failed past the last-known-good window.
    JwksUnavailable,
}

impl ErrorCode {
    /// The stable code string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::TokenTooLarge => "token_too_large",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::KeyNotFound => "key_not_found",
            Self::WeakKey => "weak_key",
            Self::SignatureInvalid => "signature_invalid",
            Self::TokenExpired => "token_expired",
            Self::TokenNotYetValid => "token_not_yet_valid",
            Self::IssuerInvalid => "issuer_invalid",
            Self::AudienceInvalid => "audience_invalid",
            Self::TenantNotAllowed => "tenant_not_allowed",
            Self::KeyIssuerMismatch => "key_issuer_mismatch",
            Self::InsufficientScope => "insufficient_scope",
            Self::ClientNotAllowed => "client_not_allowed",
            Self::CritUnsupported => "crit_unsupported",
            Self::DuplicateMember => "duplicate_member",
            Self::GraphTokenNotVerifiable => "graph_token_not_verifiable",
            Self::JwksUnavailable => "jwks_unavailable",
        }
    }

    /// Every code, in a fixed order; bindings use the index as a compact wire form.
    pub const ALL: [ErrorCode; 18] = [
        Self::Malformed,
        Self::TokenTooLarge,
        Self::UnsupportedAlgorithm,
        Self::KeyNotFound,
        Self::WeakKey,
        Self::SignatureInvalid,
        Self::TokenExpired,
        Self::TokenNotYetValid,
        Self::IssuerInvalid,
        Self::AudienceInvalid,
        Self::TenantNotAllowed,
        Self::KeyIssuerMismatch,
        Self::InsufficientScope,
        Self::ClientNotAllowed,
        Self::CritUnsupported,
        Self::DuplicateMember,
        Self::GraphTokenNotVerifiable,
        Self::JwksUnavailable,
    ];

    /// HTTP status for a protected resource: 403 when the token is valid but lacks permission
    /// (RFC 6750 §3.1 `insufficient_scope`), 401 otherwise.
    pub fn status(self) -> u16 {
        match self {
            Self::InsufficientScope | Self::ClientNotAllowed => 403,
            _ => 401,
        }
    }
}

/// A refusal: a stable [`ErrorCode`] and a human message that never contains the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorCode,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> ErrorCode {
        self.kind
    }

    /// The stable code string (`"signature_invalid"`, ...).
    pub fn code(&self) -> &'static str {
        self.kind.as_str()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The `WWW-Authenticate` value of RFC 6750 §3: `invalid_token` for 401,
    /// `insufficient_scope` for 403. Quotes and backslashes are dropped from the description
    /// so it stays a valid quoted-string.
    pub fn www_authenticate(&self) -> String {
        let error = if self.status() == 403 {
            "insufficient_scope"
        } else {
            "invalid_token"
        };
        let description: String = self
            .message
            .chars()
            .filter(|c| *c != '"' && *c != '\\' && (' '..='~').contains(c))
            .collect();
        format!("Bearer error=\"{error}\", error_description=\"{description}\"")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for Error {}

pub(crate) fn err(kind: ErrorCode, message: impl Into<String>) -> Error {
    Error::new(kind, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_distinct_and_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()));
            assert!(code
                .as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }

    #[test]
    fn insufficient_scope_answers_403_with_rfc6750_error() {
        let e = Error::new(ErrorCode::InsufficientScope, "scope \"x\" missing");
        assert_eq!(e.status(), 403);
        assert_eq!(
            e.www_authenticate(),
            "Bearer error=\"insufficient_scope\", error_description=\"scope x missing\""
        );
    }
}
