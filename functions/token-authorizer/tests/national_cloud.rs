//! National clouds through the environment: the validator's `issuers` and JWKS URL options
//! (`ENTRAWATCH_AUTH_ISSUERS`, `ENTRAWATCH_AUTH_JWKS_URL`). US Gov Entra issues
//! `https://login.microsoftonline.us/{tid}/v2.0` and publishes keys whose `issuer` says so (Entra
//! docs `authentication-national-cloud.md`); here a loopback server publishes the emulator's keys
//! that way.

mod common;

use common::*;
use entrawatch_emulator::TokenVersion;
use entrawatch_runtime_api_double::serve_loopback;
use serde_json::{json, Value};
use token_authorizer::settings::{self, Settings};
use token_authorizer::Authorizer;

const GOV_ISSUER: &str = "https://login.microsoftonline.us/{tenantid}/v2.0";

/// The emulator's keys for the sample tenant, relabelled with the US Gov issuer, at
/// `/{TID}/discovery/v2.0/keys` on a loopback server; returns that URL.
async fn gov_keys(emu: &entrawatch_emulator::Emulator) -> String {
    let mut jwks = emu.jwks(TID).expect("sample tenant keys");
    for key in jwks["keys"].as_array_mut().expect("keys") {
        key["issuer"] = json!(GOV_ISSUER);
    }
    let body = jwks.to_string();
    let path = format!("/{TID}/discovery/v2.0/keys");
    let app = axum::Router::new().route(
        &path,
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    format!("http://{}{path}", serve_loopback(app).await)
}

fn gov_authorizer(jwks_url: String, issuers: Option<&'static str>) -> Authorizer {
    let env = move |name: &str| -> Option<String> {
        match name {
            settings::TENANTS => Some("any".into()),
            settings::AUDIENCES => Some(AUDIENCE.into()),
            settings::JWKS_URL => Some(jwks_url.clone()),
            settings::ISSUERS => issuers.map(String::from),
            _ => None,
        }
    };
    let settings = Settings::from_lookup(env).expect("settings");
    Authorizer::new(settings, entrawatch_core::jwks_fetch::client().unwrap()).expect("authorizer")
}

fn gov_token(emu: &entrawatch_emulator::Emulator) -> String {
    let claims = json!({
        "aud": AUDIENCE, "oid": USER_OID, "sub": "s", "tid": TID, "scp": SCOPE, "azp": CLIENT_APP,
        "iss": format!("https://login.microsoftonline.us/{TID}/v2.0"),
    });
    emu.mint_access_token(TID, claims, TokenVersion::V2)
}

#[tokio::test]
async fn us_gov_issuer_is_accepted_when_configured() {
    let emu = emulator().await;
    let url = gov_keys(&emu).await;
    let auth = gov_authorizer(url, Some(GOV_ISSUER));
    let http: Value = invoke(&auth, event(HTTP_V2, Some(&gov_token(&emu))))
        .await
        .unwrap();
    assert_eq!(http["isAuthorized"], true, "{http}");
    assert_eq!(http["context"]["tid"], TID);
    emu.stop().await;
}

#[tokio::test]
async fn us_gov_issuer_is_refused_by_the_public_cloud_default() {
    let emu = emulator().await;
    let url = gov_keys(&emu).await;
    let auth = gov_authorizer(url, None);
    let http = invoke(&auth, event(HTTP_V2, Some(&gov_token(&emu))))
        .await
        .unwrap();
    assert_eq!(http["isAuthorized"], false);
    assert_eq!(http["context"]["error"], "issuer_invalid", "{http}");
    emu.stop().await;
}
