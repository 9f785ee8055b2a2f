//! Strict decoders: canonical base64url and JSON that refuses duplicate member names.
//!
//! Two parsers reading the same bytes differently is how signature checks get bypassed
//! (RFC 8725 §3.10 and §3.11): one library takes the first `"alg"`, another the last. Everything the
//! validator decodes goes through these two functions, so there is exactly one reading.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

use crate::error::{err, Error, ErrorCode};

/// RFC 7515 §2 base64url without padding. Trailing bits must be zero, so every byte string has
/// exactly one accepted encoding (the `base64` crate's default `decode_allow_trailing_bits(false)`).
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Decodes canonical base64url; `what` names the part for the error message.
pub fn b64url_decode(input: &str, what: &str) -> Result<Vec<u8>, Error> {
    B64URL.decode(input).map_err(|_| {
        err(
            ErrorCode::Malformed,
            format!("{what} is not canonical unpadded base64url (RFC 7515 §2)"),
        )
    })
}

pub fn b64url_encode(bytes: &[u8]) -> String {
    B64URL.encode(bytes)
}

/// A JSON value whose objects had no repeated member names.
struct Strict(Value);

/// Marker carried in the serde error so it maps to `duplicate_member`, not `malformed`.
const DUPLICATE_MARKER: &str = "duplicate JSON member";

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict, E> {
        serde_json::Number::from_f64(v)
            .map(|n| Strict(Value::Number(n)))
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Strict(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if members.insert(key, value).is_some() {
                return Err(de::Error::custom(DUPLICATE_MARKER));
            }
        }
        Ok(Strict(Value::Object(members)))
    }
}

/// Parses a JSON object, refusing repeated member names at any depth.
pub fn parse_object(bytes: &[u8], what: &str) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice::<Strict>(bytes) {
        Ok(Strict(Value::Object(map))) => Ok(map),
        Ok(_) => Err(err(
            ErrorCode::Malformed,
            format!("{what} is not a JSON object"),
        )),
        Err(e) if e.to_string().starts_with(DUPLICATE_MARKER) => Err(err(
            ErrorCode::DuplicateMember,
            format!("{what} repeats a JSON member name (RFC 8725 §3.10)"),
        )),
        Err(_) => Err(err(
            ErrorCode::Malformed,
            format!("{what} is not valid JSON"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_member_at_top_level_is_refused() {
        let e = parse_object(br#"{"alg":"RS256","alg":"none"}"#, "header").unwrap_err();
        assert_eq!(e.code(), "duplicate_member");
    }

    #[test]
    fn duplicate_member_in_nested_object_is_refused() {
        let e = parse_object(br#"{"a":[{"x":1,"x":2}]}"#, "payload").unwrap_err();
        assert_eq!(e.code(), "duplicate_member");
    }

    #[test]
    fn non_object_json_is_malformed() {
        assert_eq!(parse_object(b"[1]", "h").unwrap_err().code(), "malformed");
        assert_eq!(parse_object(b"{", "h").unwrap_err().code(), "malformed");
    }

    #[test]
    fn base64url_with_padding_or_nonzero_trailing_bits_is_refused() {
        assert_eq!(b64url_decode("YQ", "x").unwrap(), b"a");
        assert!(b64url_decode("YQ==", "x").is_err());
        // "YR" decodes to "a" only if the low bits are ignored: not canonical.
        assert!(b64url_decode("YR", "x").is_err());
        assert!(b64url_decode("Y+", "x").is_err());
    }
}
