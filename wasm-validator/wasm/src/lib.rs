//! wasm-bindgen bindings of the validator core: translation only (ruff_wasm's shape). Fetching,
//! clocks and signature checks with the host's native crypto live in the JavaScript package.
//!
//! Numbers cross the boundary instead of objects where it is hot: `begin` answers a handle or a
//! negative status, so a validation costs a few calls and one JSON string.

use std::collections::HashMap;

use entrawatch_validator::{
    decompose, parse_object, strip_bearer, verify_jws, Algorithm, CachePolicy, Error, ErrorCode,
    JwksAction, JwksCache, KeySet, Prepared, Validated, Validator, ValidatorConfig,
};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

/// `begin` status: fetch the JWKS, report it, call `begin` again.
pub const NEED_FETCH: i32 = -1;
/// `begin` status: a fetch is in flight; wait for it, call `begin` again.
pub const WAIT: i32 = -2;
/// `begin` status: refused; read `error_json`.
pub const REFUSED: i32 = -3;
/// Prepared tokens awaiting a host verdict; a host that never answers cannot grow this forever.
const MAX_PENDING: usize = 4096;

#[wasm_bindgen]
pub struct WasmValidator {
    validator: Validator,
    cache: JwksCache,
    static_keys: Option<KeySet>,
    generation: u32,
    pending: HashMap<u32, Prepared>,
    next_handle: u32,
    error: Option<Error>,
    refresh: bool,
    /// A small number per key fingerprint, so the host caches imported keys by material, never by
    /// position in whichever key set is current.
    key_serials: HashMap<String, u32>,
    next_serial: u32,
}

fn seconds(now: f64) -> u64 {
    if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    }
}

fn policy_from(options: &Value) -> CachePolicy {
    let mut p = CachePolicy::default();
    let o = &options["jwksCache"];
    let get = |name: &str, default: u64| o[name].as_u64().unwrap_or(default);
    p.max_age = get("maxAgeSeconds", p.max_age);
    p.refresh_interval = get("refreshIntervalSeconds", p.refresh_interval);
    p.unknown_kid_cooldown = get("unknownKidCooldownSeconds", p.unknown_kid_cooldown);
    p.last_known_good = get("lastKnownGoodSeconds", p.last_known_good);
    p.retry_after_failure = get("retryAfterFailureSeconds", p.retry_after_failure);
    p.fetch_timeout = get("fetchTimeoutSeconds", p.fetch_timeout);
    p
}

/// The SPEC.md refusal object.
fn error_value(e: &Error) -> Value {
    json!({
        "ok": false,
        "code": e.code(),
        "message": e.message(),
        "status": e.status(),
        "wwwAuthenticate": e.www_authenticate(),
    })
}

/// The verdict without the claims: the host parses the verified payload itself (with its native
/// `JSON.parse`, on the bytes this core already parsed strictly), which spares serialising the
/// claims here and parsing them twice there.
fn result_json(result: Result<Validated, Error>) -> String {
    match result {
        Ok(v) => {
            // Serialised straight from the struct: no intermediate `Value` on the hot path.
            let principal = serde_json::to_string(&v.principal).unwrap_or_else(|_| "{}".into());
            format!(r#"{{"ok":true,"principal":{principal}}}"#)
        }
        Err(e) => error_value(&e).to_string(),
    }
}

#[wasm_bindgen]
impl WasmValidator {
    /// `options_json`: the core options (SPEC.md names) plus optional `jwksCache` timings;
    /// `static_jwks`: a JWKS document used instead of fetching (tests, air-gapped).
    #[wasm_bindgen(constructor)]
    pub fn new(options_json: &str, static_jwks: Option<String>) -> Result<WasmValidator, JsError> {
        let fail = |e: Error| JsError::new(&e.to_string());
        let options: Value = serde_json::from_str(options_json)
            .map_err(|_| JsError::new("malformed: options are not JSON"))?;
        let validator = Validator::new(ValidatorConfig::from_json(options_json).map_err(fail)?)
            .map_err(fail)?;
        let static_keys = match static_jwks {
            Some(body) => Some(KeySet::parse(body.as_bytes()).map_err(fail)?),
            None => None,
        };
        Ok(WasmValidator {
            validator,
            cache: match options["jwksUri"].as_str() {
                Some(uri) => JwksCache::for_uri(policy_from(&options), uri),
                None => JwksCache::new(policy_from(&options)),
            },
            static_keys,
            generation: 1,
            pending: HashMap::new(),
            next_handle: 0,
            error: None,
            refresh: false,
            key_serials: HashMap::new(),
            next_serial: 0,
        })
    }

    fn refuse(&mut self, e: Error) -> i32 {
        self.error = Some(e);
        REFUSED
    }

    /// Checks the token up to the signature and returns a handle (>= 0), or `NEED_FETCH`, `WAIT`
    /// or `REFUSED`. With `sync`, never asks for a fetch: stale or missing keys are refused.
    pub fn begin(&mut self, token: &str, now: f64, sync: bool) -> i32 {
        let now = seconds(now);
        let token = strip_bearer(token);
        let max = self.validator.config().max_token_bytes;
        let compact = match decompose(token, max) {
            Ok(c) => c,
            Err(e) => return self.refuse(e),
        };
        let kid = compact.header.kid.clone();
        let keys = if let Some(keys) = &self.static_keys {
            keys
        } else if sync {
            match self.cache.fresh_keys(now) {
                Some(keys) => keys,
                None => return self.refuse(self.cache.unavailable_error()),
            }
        } else {
            match self.cache.action(kid.as_deref(), now) {
                JwksAction::Fetch => return NEED_FETCH,
                JwksAction::Wait => return WAIT,
                JwksAction::Unavailable => return self.refuse(self.cache.unavailable_error()),
                JwksAction::UseAndRefresh => self.refresh = true,
                JwksAction::Use => {}
            }
            match self.cache.keys() {
                Some(keys) => keys,
                None => return self.refuse(self.cache.unavailable_error()),
            }
        };
        match self.validator.prepare_decomposed(compact, keys) {
            Ok(prepared) => {
                // Sliding window: the handle issued MAX_PENDING calls ago is abandoned.
                let stale = self.next_handle.wrapping_sub(MAX_PENDING as u32) % (i32::MAX as u32);
                self.pending.remove(&stale);
                let handle = self.next_handle;
                self.next_handle = (self.next_handle + 1) % (i32::MAX as u32);
                self.pending.insert(handle, prepared);
                handle as i32
            }
            Err(e) => self.refuse(e),
        }
    }

    /// True once after `begin` decided the keys should be refreshed in the background.
    pub fn take_refresh(&mut self) -> bool {
        std::mem::take(&mut self.refresh)
    }

    /// The prepared token's key and algorithm in one number: `serial << 2 | alg` (alg 0 RS256,
    /// 1 PS256, 2 ES256), where `serial` stands for the key's fingerprint; `u32::MAX` for an
    /// unknown handle.
    pub fn prepared_key(&mut self, handle: u32) -> u32 {
        let Some(p) = self.pending.get(&handle) else {
            return u32::MAX;
        };
        let alg = match p.alg() {
            Algorithm::Rs256 => 0,
            Algorithm::Ps256 => 1,
            Algorithm::Es256 => 2,
        };
        if self.key_serials.len() >= 1024 {
            self.key_serials.clear(); // bounded; serials are never reused, so no host mix-up
        }
        let fingerprint = &p.key().fingerprint;
        let serial = match self.key_serials.get(fingerprint) {
            Some(serial) => *serial,
            None => {
                let serial = self.next_serial;
                self.next_serial = (serial + 1) % (1 << 29);
                self.key_serials.insert(fingerprint.clone(), serial);
                serial
            }
        };
        serial << 2 | alg
    }

    /// The public JWK (kty and key parameters only) of the prepared token's own key, for import
    /// into host crypto.
    pub fn prepared_key_jwk(&self, handle: u32) -> Option<String> {
        Some(self.pending.get(&handle)?.key().public_jwk.clone())
    }

    fn take(&mut self, handle: u32) -> Result<Prepared, Error> {
        self.pending
            .remove(&handle)
            .ok_or_else(|| Error::new(ErrorCode::Malformed, "unknown validation handle"))
    }

    /// Completes with the host's signature verdict; returns the SPEC.md result as JSON.
    pub fn finish(&mut self, handle: u32, signature_ok: bool, now: f64) -> String {
        let result = self
            .take(handle)
            .and_then(|p| self.validator.finish(p, signature_ok, seconds(now)));
        result_json(result)
    }

    /// Completes with RustCrypto verifying the signature inside wasm.
    pub fn finish_in_wasm(&mut self, handle: u32, now: f64) -> String {
        let result = self
            .take(handle)
            .and_then(|p| self.validator.complete(p, seconds(now)));
        result_json(result)
    }

    /// The refusal of the last `begin` that answered `REFUSED`.
    pub fn error_json(&self) -> String {
        let e = self.error.clone();
        let e = e.unwrap_or_else(|| Error::new(ErrorCode::Malformed, "no error recorded"));
        error_value(&e).to_string()
    }

    /// Reports a fetched JWKS body; false when it was refused (too large, not a JWKS).
    pub fn fetch_succeeded(&mut self, body: &[u8], now: f64) -> bool {
        match self.cache.fetch_succeeded(body, seconds(now)) {
            Ok(changed) => {
                self.generation += u32::from(changed);
                true
            }
            Err(_) => false,
        }
    }

    pub fn fetch_failed(&mut self, now: f64) {
        self.cache.fetch_failed(seconds(now));
    }

    /// Changes whenever the key material changes: host key handles and verdict caches keyed on
    /// it are then stale.
    pub fn key_generation(&self) -> u32 {
        self.generation
    }

    fn keys(&self) -> Option<&KeySet> {
        self.static_keys.as_ref().or(self.cache.keys())
    }

    pub fn key_count(&self) -> u32 {
        self.keys().map_or(0, |k| k.keys().len() as u32)
    }

    pub fn export_state(&self) -> Option<String> {
        self.cache.export()
    }

    pub fn import_state(&mut self, state: &str, now: f64) -> bool {
        let adopted = self.cache.import(state, seconds(now)).unwrap_or(false);
        self.generation += u32::from(adopted);
        adopted
    }
}

/// SPEC.md `verifyJws`: `{ok:true, header, payload?}` or `{ok:false, code, message}` as JSON.
/// `payload` is present when the payload is a JSON object (parsed as strictly as claims); the
/// JavaScript side adds `payloadBytes` from the verified token's second part.
#[wasm_bindgen(js_name = verifyJwsJson)]
pub fn verify_jws_json(compact: &str, jwks_json: &str) -> String {
    let result = KeySet::parse(jwks_json.as_bytes()).and_then(|keys| verify_jws(compact, &keys));
    match result {
        Ok((header, payload)) => match parse_object(&payload, "payload") {
            Ok(object) => json!({"ok": true, "header": header, "payload": object}),
            Err(_) => json!({"ok": true, "header": header}),
        },
        Err(e) => json!({"ok": false, "code": e.code(), "message": e.message()}),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_without_audiences_are_refused() {
        let r = std::panic::catch_unwind(|| {
            WasmValidator::new(r#"{"tenants":"any","audiences":[]}"#, None).is_err()
        });
        // JsError cannot be built off wasm; reaching it at all means the options were refused.
        assert!(r.unwrap_or(true));
    }

    #[test]
    fn malformed_token_is_refused_with_a_spec_error_object() {
        let mut v = WasmValidator::new(
            r#"{"tenants":"any","audiences":["a"]}"#,
            Some(r#"{"keys":[]}"#.into()),
        )
        .unwrap_or_else(|_| panic!("valid options"));
        assert_eq!(v.begin("not-a-token", 1.0, false), REFUSED);
        let e: Value = serde_json::from_str(&v.error_json()).unwrap();
        assert_eq!(e["code"], "malformed");
        assert_eq!(e["status"], 401);
        assert!(e["wwwAuthenticate"]
            .as_str()
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\""));
    }

    #[test]
    fn cold_cache_asks_for_one_fetch_then_waits() {
        let mut v = WasmValidator::new(r#"{"tenants":"any","audiences":["a"]}"#, None)
            .unwrap_or_else(|_| panic!("valid options"));
        let token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.e30.c2ln";
        assert_eq!(v.begin(token, 10.0, false), NEED_FETCH);
        assert_eq!(v.begin(token, 10.0, false), WAIT);
        assert_eq!(v.begin(token, 10.0, true), REFUSED);
    }
}
