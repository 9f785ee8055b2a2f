//! Secretless Graph access (credential type `aws-web-identity`): the client asks STS for a web
//! identity token and the emulator accepts it as a federated assertion. STS is a stub on
//! loopback speaking the Query protocol (moto has no GetWebIdentityToken); it checks the request
//! the way STS documents it and signs the JWT with a key the emulator's federated credential trusts.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aws_config::Region;
use aws_sdk_dynamodb::config::Credentials;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use entrawatch_core::config::Config;
use entrawatch_core::graph::{ClientOptions, GraphClient, GraphPort, UserQuery};
use entrawatch_core::secrets::SecretResolver;
use entrawatch_emulator::{Emulator, Scenario};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::json;
use std::collections::HashMap;

const KEY: &str = include_str!("../../../tests/emulator/testdata/test-only-client.key.pem");
const TENANT: &str = "11111111-2222-3333-4444-555555555555";
const APP: &str = "aaaaaaaa-bbbb-cccc-dddd-0000000000f1";
const ISSUER: &str = "https://0a1b2c3d.tokens.sts.global.api.aws";
const ROLE: &str = "arn:aws:iam::123456789012:role/entrawatch-BreakGlassFunctionRole";

#[derive(Clone, Default)]
struct Sts {
    requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
    deny: bool,
}

fn sign(claims: serde_json::Value) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "sts-1"});
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(KEY).unwrap();
    let sig = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key)
        .sign(input.as_bytes())
        .to_vec();
    format!("{input}.{}", B64.encode(sig))
}

async fn sts(State(sts): State<Sts>, Form(form): Form<HashMap<String, String>>) -> Response {
    sts.requests.lock().unwrap().push(form.clone());
    if sts.deny {
        let body = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: sts:GetWebIdentityToken</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"#;
        return (StatusCode::FORBIDDEN, [("content-type", "text/xml")], body).into_response();
    }
    let now = chrono::Utc::now().timestamp();
    let lifetime: i64 = form
        .get("DurationSeconds")
        .and_then(|d| d.parse().ok())
        .unwrap_or(300);
    let jwt = sign(json!({
        "iss": ISSUER, "sub": ROLE, "aud": form.get("Audience.member.1"),
        "iat": now, "exp": now + lifetime,
    }));
    let body = format!(
        r#"<GetWebIdentityTokenResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetWebIdentityTokenResult><WebIdentityToken>{jwt}</WebIdentityToken><Expiration>2099-01-01T00:00:00Z</Expiration></GetWebIdentityTokenResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetWebIdentityTokenResponse>"#
    );
    ([("content-type", "text/xml")], body).into_response()
}

async fn start_sts(deny: bool) -> (String, Sts) {
    let state = Sts {
        deny,
        ..Sts::default()
    };
    let app = Router::new()
        .route("/", post(sts))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, state)
}

fn scenario() -> Scenario {
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(KEY).unwrap();
    let public = key.to_public_key();
    let jwks = json!({"keys": [{"kty": "RSA", "kid": "sts-1", "n": B64.encode(public.n().to_bytes_be()), "e": B64.encode(public.e().to_bytes_be())}]});
    let mut s = Scenario::sample();
    let app = serde_json::from_value(json!({"client_id": APP, "federated": [{
        "issuer": ISSUER, "subject": ROLE, "audience": "api://AzureADTokenExchange", "jwks": jwks}]}))
    .unwrap();
    s.tenants[0].apps.push(app);
    s
}

async fn client_for(emu: &Emulator, sts_url: &str) -> GraphClient {
    let config = Config::from_toml_str(
        &format!(
            r#"
[[tenants]]
name = "contoso"
id = "{TENANT}"
client_id = "{APP}"
credential = {{ type = "aws-web-identity" }}
graph_url = "{url}"
login_url = "{url}"
"#,
            url = emu.url()
        ),
        "test",
    )
    .unwrap();
    let sdk = entrawatch_core::aws::config_loader()
        .endpoint_url(sts_url)
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await;
    let resolver = SecretResolver::with_sdk_config(sdk);
    let connection = config.tenants[0].connection(&resolver).await.unwrap();
    GraphClient::new(connection, ClientOptions::default()).unwrap()
}

#[tokio::test]
async fn web_identity_token_from_sts_is_the_client_assertion_entra_accepts() {
    let emu = Emulator::start(scenario()).await.unwrap();
    let (sts_url, sts) = start_sts(false).await;
    let client = client_for(&emu, &sts_url).await;
    let page = client
        .list_users(&UserQuery::default(), None)
        .await
        .unwrap();
    assert!(
        !page.items.is_empty(),
        "Graph answered with the federated token"
    );
    let requests = sts.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "one assertion per Graph token");
    let r = &requests[0];
    assert_eq!(
        r.get("Action").map(String::as_str),
        Some("GetWebIdentityToken")
    );
    assert_eq!(
        r.get("Audience.member.1").map(String::as_str),
        Some("api://AzureADTokenExchange")
    );
    assert_eq!(r.get("SigningAlgorithm").map(String::as_str), Some("RS256"));
    assert_eq!(r.get("DurationSeconds").map(String::as_str), Some("300"));
    emu.stop().await;
}

#[tokio::test]
async fn sts_refusal_names_the_permission_and_the_setup_step() {
    let emu = Emulator::start(scenario()).await.unwrap();
    let (sts_url, _) = start_sts(true).await;
    let client = client_for(&emu, &sts_url).await;
    let err = client
        .list_users(&UserQuery::default(), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("contoso"), "{err}");
    assert!(err.contains("sts:GetWebIdentityToken failed"), "{err}");
    assert!(
        err.contains("(AccessDenied: User is not authorized to perform: sts:GetWebIdentityToken)"),
        "{err}"
    );
    assert!(
        !err.contains("ErrorResponse"),
        "no raw response in the message: {err}"
    );
    assert!(
        err.contains("iam:EnableOutboundWebIdentityFederation"),
        "{err}"
    );
    emu.stop().await;
}
