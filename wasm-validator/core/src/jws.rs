//! Compact JWS decomposition (RFC 7515 §7.1) and the protected header, checked before any key is
//! looked up. Nothing here reads the payload: claims are only decoded after the signature passed.

use serde_json::Value;

use crate::encoding::{b64url_decode, parse_object};
use crate::error::{err, Error, ErrorCode};
use crate::jwk::MAX_KID_LEN;

/// Default cap on the whole token, checked before decoding anything. Entra access tokens are a
/// few KiB; group overage keeps them under 8 KiB. 16 KiB leaves room without inviting abuse.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Cap on the encoded protected header.
pub const MAX_HEADER_B64_BYTES: usize = 2048;

/// The signature algorithms accepted (RFC 7518 §3.3, §3.4, §3.5). `none` and HMAC are absent on
/// purpose: a public-key validator must never accept them (RFC 8725 §3.1, §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Rs256,
    Ps256,
    Es256,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
            Self::Es256 => "ES256",
        }
    }

    fn parse(alg: &str) -> Result<Algorithm, Error> {
        match alg {
            "RS256" => Ok(Self::Rs256),
            "PS256" => Ok(Self::Ps256),
            "ES256" => Ok(Self::Es256),
            a if a.eq_ignore_ascii_case("none") => Err(err(
                ErrorCode::UnsupportedAlgorithm,
                "alg \"none\" is never accepted (RFC 8725 §3.1)",
            )),
            a if a.starts_with("HS") => Err(err(
                ErrorCode::UnsupportedAlgorithm,
                "HMAC algorithms are never accepted with public keys (RFC 8725 §3.2)",
            )),
            _ => Err(err(
                ErrorCode::UnsupportedAlgorithm,
                "only RS256, PS256 and ES256 are accepted",
            )),
        }
    }
}

/// The protected header members the validator acts on. `jku`, `x5u`, `jwk` and `x5c` are never
/// read: keys come only from the configured key set (RFC 8725 §3.10 and REFERENCE.md §7).
#[derive(Debug, Clone)]
pub struct Header {
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub typ: Option<String>,
    /// The decoded header object, for `verifyJws` callers.
    pub json: serde_json::Map<String, Value>,
}

/// A token split into its parts with a checked header and decoded signature.
#[derive(Debug, Clone)]
pub struct Compact<'a> {
    pub header: Header,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`, the bytes the signature covers.
    pub signing_input: &'a str,
    pub payload_b64: &'a str,
    pub signature: Vec<u8>,
}

/// Splits and checks a compact JWS: length caps first, then exactly three parts, then the header.
pub fn decompose(token: &str, max_token_bytes: usize) -> Result<Compact<'_>, Error> {
    if token.len() > max_token_bytes {
        return Err(err(
            ErrorCode::TokenTooLarge,
            format!(
                "token is {} bytes, over the {max_token_bytes}-byte cap",
                token.len()
            ),
        ));
    }
    let dots = token.bytes().filter(|b| *b == b'.').count();
    if dots == 4 {
        return Err(err(
            ErrorCode::Malformed,
            "JWE (5 parts) is not accepted; expected a signed JWS (RFC 7516)",
        ));
    }
    if dots != 2 {
        return Err(err(
            ErrorCode::Malformed,
            "a JWS has exactly 3 dot-separated parts",
        ));
    }
    let (signing_input, signature_b64) = token.rsplit_once('.').unwrap_or_default();
    let (header_b64, payload_b64) = signing_input.split_once('.').unwrap_or_default();
    if header_b64.len() > MAX_HEADER_B64_BYTES {
        return Err(err(
            ErrorCode::TokenTooLarge,
            format!("header is over the {MAX_HEADER_B64_BYTES}-byte cap"),
        ));
    }
    // The payload is decoded only after the signature, but its characters are checked now so the
    // bytes a host verifies (UTF-8 or Latin-1 of the same string) are the bytes the core decodes.
    let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    // An empty payload is a valid JWS (RFC 7515 §2 "JWS Payload": any sequence of octets); it is
    // refused later as claims, not here as a signature.
    if !payload_b64.bytes().all(base64url) {
        return Err(err(ErrorCode::Malformed, "payload is not base64url"));
    }
    let header = parse_header(&b64url_decode(header_b64, "header")?)?;
    if signature_b64.is_empty() {
        return Err(err(ErrorCode::SignatureInvalid, "signature is empty"));
    }
    let signature = b64url_decode(signature_b64, "signature")?;
    Ok(Compact {
        header,
        signing_input,
        payload_b64,
        signature,
    })
}

fn parse_header(bytes: &[u8]) -> Result<Header, Error> {
    let json = parse_object(bytes, "header")?;
    let alg = match json.get("alg") {
        Some(Value::String(alg)) => Algorithm::parse(alg)?,
        _ => return Err(err(ErrorCode::Malformed, "header has no string \"alg\"")),
    };
    if json.contains_key("enc") || json.contains_key("zip") {
        return Err(err(
            ErrorCode::Malformed,
            "JWE header members are not accepted",
        ));
    }
    // RFC 7515 §4.1.11: an empty or non-string `crit` is invalid; any name we do not
    // implement (we implement none) must make the token invalid.
    if let Some(crit) = json.get("crit") {
        let names = crit.as_array().filter(|a| !a.is_empty());
        let names =
            names.ok_or_else(|| err(ErrorCode::Malformed, "\"crit\" must be a non-empty array"))?;
        let first = names.iter().map(|n| n.as_str().unwrap_or("?")).next();
        return Err(err(
            ErrorCode::CritUnsupported,
            format!(
                "critical header extension {:?} is not understood",
                first.unwrap_or("?")
            ),
        ));
    }
    // Graph access tokens carry a header nonce and their signature covers its hash, so nobody
    // but Graph can verify them (REFERENCE.md §6): say so instead of "bad signature".
    if json.contains_key("nonce") {
        return Err(err(
            ErrorCode::GraphTokenNotVerifiable,
            "token carries a header nonce: a Microsoft Graph token only Graph can verify",
        ));
    }
    // RFC 7519 §5.2: `cty: JWT` marks a nested token; it is not unwrapped.
    if json
        .get("cty")
        .and_then(Value::as_str)
        .is_some_and(|c| c.eq_ignore_ascii_case("JWT"))
    {
        return Err(err(
            ErrorCode::Malformed,
            "nested JWTs (cty: JWT) are not accepted",
        ));
    }
    let kid = match json.get("kid") {
        None => None,
        Some(Value::String(k)) if k.len() <= MAX_KID_LEN => Some(k.clone()),
        Some(_) => {
            return Err(err(
                ErrorCode::Malformed,
                format!("\"kid\" must be a string of at most {MAX_KID_LEN} bytes"),
            ))
        }
    };
    let typ = match json.get("typ") {
        None => None,
        Some(Value::String(t)) => Some(t.clone()),
        Some(_) => return Err(err(ErrorCode::Malformed, "\"typ\" must be a string")),
    };
    Ok(Header {
        alg,
        kid,
        typ,
        json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::b64url_encode;

    fn token(header: &str) -> String {
        format!("{}.e30.c2ln", b64url_encode(header.as_bytes()))
    }

    fn code(t: &str) -> &'static str {
        decompose(t, DEFAULT_MAX_TOKEN_BYTES).unwrap_err().code()
    }

    #[test]
    fn alg_none_is_refused() {
        assert_eq!(code(&token(r#"{"alg":"none"}"#)), "unsupported_algorithm");
        assert_eq!(code(&token(r#"{"alg":"nOnE"}"#)), "unsupported_algorithm");
    }

    #[test]
    fn empty_signature_is_refused() {
        let t = format!("{}.e30.", b64url_encode(br#"{"alg":"RS256"}"#));
        assert_eq!(code(&t), "signature_invalid");
    }

    #[test]
    fn five_part_jwe_is_refused() {
        assert_eq!(code("a.b.c.d.e"), "malformed");
    }

    #[test]
    fn unknown_crit_is_refused() {
        let t = token(r#"{"alg":"RS256","crit":["exp"],"exp":1}"#);
        assert_eq!(code(&t), "crit_unsupported");
    }

    #[test]
    fn payload_with_characters_outside_base64url_is_refused() {
        let t = format!("{}.e30\u{e9}.c2ln", b64url_encode(br#"{"alg":"RS256"}"#));
        assert_eq!(code(&t), "malformed");
    }

    #[test]
    fn nested_jwt_is_refused() {
        assert_eq!(code(&token(r#"{"alg":"RS256","cty":"JWT"}"#)), "malformed");
    }

    #[test]
    fn oversized_token_is_refused_before_decoding() {
        let t = "!".repeat(DEFAULT_MAX_TOKEN_BYTES + 1);
        assert_eq!(code(&t), "token_too_large");
    }

    #[test]
    fn overlong_kid_is_refused() {
        let kid = "k".repeat(MAX_KID_LEN + 1);
        let t = token(&format!(r#"{{"alg":"RS256","kid":"{kid}"}}"#));
        assert_eq!(code(&t), "malformed");
    }

    #[test]
    fn header_nonce_marks_a_graph_token() {
        let t = token(r#"{"alg":"RS256","nonce":"abc"}"#);
        assert_eq!(code(&t), "graph_token_not_verifiable");
    }
}
