//! Shared by the handler tests: an emulator, an authorizer pointed at its keys, the repo's event
//! fixtures with a token put in, and tokens of every shape.
#![allow(dead_code)] // each test file uses a different part

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use entrawatch_emulator::{Emulator, Scenario, TokenVersion};
use entrawatch_runtime_api_double::serve_loopback;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use token_authorizer::settings::{self, Settings};
use token_authorizer::{handle, Authorizer, AuthorizerResponse};

pub const TID: &str = "11111111-2222-3333-4444-555555555555";
pub const AUDIENCE: &str = "api://entrawatch-test";
pub const USER_OID: &str = "0b000000-0000-4000-8000-0000000000b1";
pub const CLIENT_APP: &str = "a0000000-0000-0000-0000-000000000001";
pub const SCOPE: &str = "Alerts.Read";
pub const ROLE: &str = "Alerts.Read.All";
pub const STAGE_WILDCARD: &str = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/*";

pub const REST_TOKEN: &str = include_str!("../../events/rest-token.json");
pub const REST_REQUEST: &str = include_str!("../../events/rest-request.json");
pub const HTTP_V2: &str = include_str!("../../events/http-v2.json");

/// Wall clock plus an offset the test can move.
#[derive(Clone, Default)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    pub fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

pub async fn emulator() -> Emulator {
    Emulator::start(Scenario::sample())
        .await
        .expect("emulator starts")
}

/// An authorizer for the sample tenant that requires `Alerts.Read` (delegated) or
/// `Alerts.Read.All` (app-only), fetching keys from the emulator.
pub fn authorizer(emu: &Emulator, clock: &TestClock) -> Authorizer {
    let url = emu.url();
    let env = move |name: &str| -> Option<String> {
        match name {
            settings::TENANTS => Some(TID.into()),
            settings::AUDIENCES => Some(format!("{AUDIENCE},aaaaaaaa-bbbb-cccc-dddd-0000000000ff")),
            settings::REQUIRED_SCOPES => Some(SCOPE.into()),
            settings::REQUIRED_ROLES => Some(ROLE.into()),
            settings::LOGIN_URL => Some(url.clone()),
            _ => None,
        }
    };
    let settings = Settings::from_lookup(env).expect("settings");
    let offset = clock.0.clone();
    let now = move || {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        wall + offset.load(Ordering::SeqCst)
    };
    Authorizer::new(settings, entrawatch_core::jwks_fetch::client().unwrap())
        .expect("authorizer")
        .with_clock(Arc::new(now))
}

/// A multi-tenant (`any`) authorizer whose key source is a loopback server answering
/// `/common/discovery/v2.0/keys` with the emulator's keys for the sample tenant (the emulator
/// serves per-tenant documents only; Entra's `common` document lists the same keys).
pub async fn multi_tenant_authorizer(emu: &Emulator) -> Authorizer {
    let jwks = emu.jwks(TID).expect("sample tenant keys").to_string();
    let app = axum::Router::new().route(
        "/common/discovery/v2.0/keys",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { ([("content-type", "application/json")], jwks) }
        }),
    );
    let url = format!("http://{}", serve_loopback(app).await);
    let env = move |name: &str| -> Option<String> {
        match name {
            settings::TENANTS => Some("any".into()),
            settings::AUDIENCES => Some(AUDIENCE.into()),
            settings::LOGIN_URL => Some(url.clone()),
            _ => None,
        }
    };
    let settings = Settings::from_lookup(env).expect("settings");
    Authorizer::new(settings, entrawatch_core::jwks_fetch::client().unwrap()).expect("authorizer")
}

/// A delegated v2 token for the sample user, with `extra` claims merged over the defaults.
pub fn user_token(emu: &Emulator, extra: Value) -> String {
    let mut claims = json!({
        "aud": AUDIENCE, "oid": USER_OID, "sub": "user-pairwise-sub", "tid": TID,
        "scp": format!("{SCOPE} Alerts.Write"), "azp": CLIENT_APP, "name": "Bg One",
    });
    merge(&mut claims, extra);
    emu.mint_access_token(TID, claims, TokenVersion::V2)
}

pub fn merge(into: &mut Value, extra: Value) {
    if let (Some(into), Value::Object(extra)) = (into.as_object_mut(), extra) {
        into.extend(extra);
    }
}

/// The token with one signature character changed.
pub fn with_bad_signature(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').expect("a JWS");
    let mut sig: Vec<char> = sig.chars().collect();
    let i = sig.len() / 2;
    sig[i] = if sig[i] == 'A' { 'B' } else { 'A' };
    format!("{head}.{}", sig.into_iter().collect::<String>())
}

/// The token's claims under an unsigned `alg: none` header.
pub fn alg_none(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("a JWS");
    format!(
        "{}.{payload}.",
        B64.encode(br#"{"alg":"none","typ":"JWT"}"#)
    )
}

/// A fixture event carrying `authorization` (or no Authorization at all for `None`).
pub fn event(fixture: &str, authorization: Option<&str>) -> Value {
    let mut event: Value = serde_json::from_str(fixture).expect("fixture is JSON");
    let obj = event.as_object_mut().expect("fixture is an object");
    if obj.get("type") == Some(&json!("TOKEN")) {
        match authorization {
            Some(a) => obj.insert("authorizationToken".into(), json!(a)),
            None => obj.remove("authorizationToken"),
        };
    }
    for headers in ["headers", "multiValueHeaders"] {
        if let Some(map) = obj.get_mut(headers).and_then(Value::as_object_mut) {
            let name = map
                .keys()
                .find(|k| k.eq_ignore_ascii_case("authorization"))
                .cloned();
            if let Some(name) = name {
                match (authorization, headers) {
                    (Some(a), "headers") => map.insert(name, json!(a)),
                    (Some(a), _) => map.insert(name, json!([a])),
                    (None, _) => map.remove(&name),
                };
            }
        }
    }
    if let Some(source) = obj.get_mut("identitySource") {
        *source = json!(authorization.into_iter().collect::<Vec<_>>());
    }
    event
}

/// Calls the handler the way the runtime does and returns the JSON it would send.
pub async fn invoke(auth: &Authorizer, event: Value) -> Result<Value, Diagnostic> {
    let payload = serde_json::from_value(event).expect("event deserialises");
    let response: AuthorizerResponse =
        handle(auth, LambdaEvent::new(payload, Context::default())).await?;
    Ok(serde_json::to_value(response).expect("response serialises"))
}
