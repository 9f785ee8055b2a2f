//! The entry point hosts call: a configured [`Validator`] checks a token against a key set at a
//! given time. It holds no clock and does no I/O (rustls' "does not take care of network IO").

use crate::config::ValidatorConfig;
use crate::error::Error;
use crate::jwk::KeySet;
use crate::jws::Compact;
use crate::policy::{check, Validated};
use crate::verify::{dangerous, prepare, prepare_decomposed, Prepared};

/// A token validator for one API's policy.
#[derive(Debug, Clone)]
pub struct Validator {
    config: ValidatorConfig,
}

impl Validator {
    /// Checks the configuration (audiences present, tenant ids are GUIDs, skew bounded).
    pub fn new(config: ValidatorConfig) -> Result<Self, Error> {
        Ok(Validator {
            config: config.checked()?,
        })
    }

    pub fn config(&self) -> &ValidatorConfig {
        &self.config
    }

    /// Validates a compact JWS (or an `Authorization: Bearer` value) against `keys` at `now`
    /// (seconds since the epoch), verifying the signature with RustCrypto.
    pub fn validate(&self, token: &str, keys: &KeySet, now: u64) -> Result<Validated, Error> {
        let verified = self.prepare(token, keys)?.verify()?;
        check(&self.config, verified, now)
    }

    /// First half of host-verified validation: parse, caps, header rules, key lookup and the
    /// algorithm-to-key binding. The host then verifies the signature itself.
    pub fn prepare(&self, token: &str, keys: &KeySet) -> Result<Prepared, Error> {
        prepare(strip_bearer(token), keys, self.config.max_token_bytes)
    }

    /// [`Self::prepare`] for a token already split with [`crate::decompose`] (hosts read the `kid`
    /// first to consult their JWKS cache). Decompose with `config().max_token_bytes`.
    pub fn prepare_decomposed(
        &self,
        compact: Compact<'_>,
        keys: &KeySet,
    ) -> Result<Prepared, Error> {
        prepare_decomposed(compact, keys)
    }

    /// Second half with RustCrypto verifying the signature (for hosts without native crypto).
    pub fn complete(&self, prepared: Prepared, now: u64) -> Result<Validated, Error> {
        check(&self.config, prepared.verify()?, now)
    }

    /// Second half: the host's signature verdict, then every claim rule.
    pub fn finish(
        &self,
        prepared: Prepared,
        signature_ok: bool,
        now: u64,
    ) -> Result<Validated, Error> {
        let verified = dangerous::host_verified(prepared, signature_ok)?;
        check(&self.config, verified, now)
    }
}

/// RFC 6750 §2.1: accepts `Bearer <token>` with the scheme in any case; anything else is taken as
/// the token itself and will fail decomposition if it is not one.
pub fn strip_bearer(value: &str) -> &str {
    let value = value.trim();
    match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => value[7..].trim_start(),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_stripped_in_any_case() {
        assert_eq!(strip_bearer("Bearer a.b.c"), "a.b.c");
        assert_eq!(strip_bearer("bEaReR   a.b.c "), "a.b.c");
        assert_eq!(strip_bearer("a.b.c"), "a.b.c");
    }
}
