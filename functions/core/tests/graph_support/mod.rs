//! Shared set-up for the Graph client tests against the emulator.
#![allow(dead_code)]

use std::time::Duration;

use entrawatch_core::graph::{
    ClientCredential, ClientOptions, Cloud, GraphClient, PacingLimits, TenantConnection,
};
use entrawatch_core::Secret;
use entrawatch_emulator::{Emulator, Scenario};

pub const TENANT: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
pub const SECRET: &str = "test-secret-not-real";

/// One premium tenant "contoso" with one app; `tenant_toml` is appended inside the tenant, `throttle` is the
/// `[throttle]` table body.
pub fn scenario(throttle: &str, tenant_toml: &str) -> Scenario {
    let toml = format!(
        "[throttle]\n{throttle}\n\n[[tenants]]\nid = \"{TENANT}\"\nname = \"contoso\"\n{tenant_toml}\n\n\
         [[tenants.apps]]\nclient_id = \"{CLIENT}\"\nsecret = \"{SECRET}\"\n"
    );
    Scenario::from_toml_str(&toml).unwrap_or_else(|e| panic!("test scenario: {e}"))
}

pub async fn start(scenario: Scenario) -> Emulator {
    Emulator::start(scenario)
        .await
        .unwrap_or_else(|e| panic!("emulator starts: {e}"))
}

/// A tenant of `users` generated users, throttling off.
pub async fn generated(users: u64) -> Emulator {
    start(scenario(
        "enabled = false",
        &format!("[tenants.generator]\nusers = {users}\nseed = 7\n"),
    ))
    .await
}

pub fn connection(emu: &Emulator, credential: ClientCredential) -> TenantConnection {
    TenantConnection {
        tenant_id: TENANT.into(),
        tenant_name: "contoso".into(),
        client_id: CLIENT.into(),
        credential,
        cloud: Cloud::Global,
        graph_url: Some(emu.url()),
        login_url: Some(emu.url()),
    }
}

/// No pacing, a minute of deadline: for tests that are not about pacing.
pub fn fast_options() -> ClientOptions {
    ClientOptions {
        pacing: PacingLimits::unlimited(),
        run_deadline: Duration::from_secs(60),
        max_retries: 5,
        ..ClientOptions::default()
    }
}

pub fn client_with(emu: &Emulator, options: ClientOptions) -> GraphClient {
    let conn = connection(emu, ClientCredential::Secret(Secret::new(SECRET)));
    GraphClient::new(conn, options).unwrap_or_else(|e| panic!("client: {e}"))
}

pub fn client(emu: &Emulator) -> GraphClient {
    client_with(emu, fast_options())
}

/// A stand-in Graph that answers every request with the same canned HTTP response, for shapes the emulator does
/// not produce (an HTML error page from a proxy, a Graph that refuses every token). Returns its base URL.
pub async fn canned_graph(
    status_line: &'static str,
    content_type: &'static str,
    body: &'static str,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("addr: {e}"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let response = format!(
                "HTTP/1.1 {status_line}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    format!("http://{addr}")
}
