//! Helpers shared by the emulator's HTTP tests.
#![allow(dead_code)]

use entrawatch_emulator::{Emulator, Scenario};
use serde_json::Value;

pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
pub const SECRET: &str = "demo-secret-not-real";
pub const BG1: &str = "0b000000-0000-4000-8000-0000000000b1";
pub const BG2: &str = "0b000000-0000-4000-8000-0000000000b2";

pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

pub async fn sample() -> Emulator {
    Emulator::start(Scenario::sample())
        .await
        .expect("emulator starts")
}

/// The sample scenario with extra TOML appended inside the contoso tenant (e.g. a generator).
pub fn sample_with(extra_toml: &str) -> Scenario {
    let base = include_str!("../../scenarios/sample.toml");
    Scenario::from_toml_str(&format!("{base}\n{extra_toml}")).expect("scenario parses")
}

pub async fn token_for(
    emu: &Emulator,
    tenant: &str,
    client: &str,
    secret: &str,
) -> reqwest::Response {
    http()
        .post(format!("{}/{tenant}/oauth2/v2.0/token", emu.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token request")
}

/// A Graph access token for the sample tenant's app.
pub async fn token(emu: &Emulator) -> String {
    token_of(emu, TENANT, CLIENT, SECRET).await
}

/// A Graph access token for `client` in `tenant`; panics when the token endpoint refuses.
pub async fn token_of(emu: &Emulator, tenant: &str, client: &str, secret: &str) -> String {
    let resp = token_for(emu, tenant, client, secret).await;
    assert_eq!(
        resp.status().as_u16(),
        200,
        "token for {client} in {tenant}"
    );
    let body: Value = resp.json().await.expect("json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// GET an `/_emulator` path: status and JSON body (null when there is none).
pub async fn admin_get(emu: &Emulator, path: &str) -> (u16, Value) {
    let resp = http()
        .get(format!("{}{path}", emu.url()))
        .send()
        .await
        .expect("admin request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// POST a JSON body to an `/_emulator` path; returns the status.
pub async fn admin_post(emu: &Emulator, path: &str, body: Value) -> u16 {
    http()
        .post(format!("{}{path}", emu.url()))
        .json(&body)
        .send()
        .await
        .expect("admin request")
        .status()
        .as_u16()
}

/// GET a Graph path (or absolute URL) with a Bearer token; returns status, Retry-After and body.
pub async fn get(emu: &Emulator, token: &str, path_or_url: &str) -> (u16, Option<String>, Value) {
    let url = if path_or_url.starts_with("http") {
        path_or_url.to_string()
    } else {
        format!("{}{path_or_url}", emu.url())
    };
    let resp = http()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("graph request");
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, retry, body)
}

/// Follows `@odata.nextLink` to the end and returns every item.
pub async fn get_all(emu: &Emulator, token: &str, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next = Some(path.to_string());
    while let Some(url) = next {
        let (status, _, body) = get(emu, token, &url).await;
        assert_eq!(status, 200, "{body}");
        out.extend(body["value"].as_array().cloned().unwrap_or_default());
        next = body["@odata.nextLink"].as_str().map(str::to_string);
    }
    out
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// Keys of the first item of a file in `tests/fixtures/graph-examples/` (Microsoft's Graph docs).
pub fn example_keys(file: &str) -> Vec<String> {
    let path = format!(
        "{}/../fixtures/graph-examples/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("graph example readable");
    let v: Value = serde_json::from_str(&text).expect("graph example is JSON");
    v["value"][0]
        .as_object()
        .expect("first item")
        .keys()
        .cloned()
        .collect()
}
