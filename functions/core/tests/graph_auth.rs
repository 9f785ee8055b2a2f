//! Credentials: the certificate assertion's exact shape, the emulator accepting it, and token caching.

mod graph_support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use entrawatch_core::graph::{
    build_certificate_assertion, AssertionProvider, ClientCertificate, ClientCredential,
    GraphClient, GraphError, GraphPort, UserQuery,
};
use entrawatch_core::Secret;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::Verifier;
use sha2::{Digest, Sha256};

use graph_support::*;

/// The emulator's test-only certificate and key (tests/emulator/testdata/README.md).
fn testdata(file: &str) -> String {
    let path = format!(
        "{}/../../tests/emulator/testdata/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn cert_and_key() -> (String, String) {
    (
        testdata("test-only-client.cert.pem"),
        testdata("test-only-client.key.pem"),
    )
}

fn decode_json(part: &str) -> serde_json::Value {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_else(|e| panic!("base64url: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("json: {e}"))
}

#[test]
fn certificate_assertion_has_ps256_header_thumbprint_and_claims() {
    let (cert_pem, key_pem) = cert_and_key();
    let cert = ClientCertificate::from_pem(&Secret::new(format!("{cert_pem}\n{key_pem}")))
        .unwrap_or_else(|e| panic!("{e}"));
    let endpoint =
        "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token";
    let now = chrono::Utc::now();
    let assertion =
        build_certificate_assertion(&cert, CLIENT, endpoint, now).unwrap_or_else(|e| panic!("{e}"));
    let parts: Vec<&str> = assertion.expose().split('.').collect();
    assert_eq!(parts.len(), 3);

    let header = decode_json(parts[0]);
    let der = pem::parse(&cert_pem)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_contents();
    let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(&der));
    assert_eq!(
        header,
        serde_json::json!({"alg": "PS256", "typ": "JWT", "x5t#S256": thumbprint})
    );

    let claims = decode_json(parts[1]);
    assert_eq!(claims["aud"], endpoint);
    assert_eq!(claims["iss"], CLIENT);
    assert_eq!(claims["sub"], CLIENT);
    let jti = claims["jti"].as_str().unwrap_or_default();
    assert_eq!(
        uuid::Uuid::parse_str(jti).map(|u| u.get_version_num()).ok(),
        Some(4)
    );
    assert_eq!(claims["iat"], now.timestamp());
    assert_eq!(claims["nbf"], now.timestamp());
    let lifetime = claims["exp"].as_i64().unwrap_or_default() - now.timestamp();
    assert!(
        (300..=600).contains(&lifetime),
        "exp is {lifetime}s after iat"
    );

    let key = rsa::RsaPrivateKey::from_pkcs8_pem(&key_pem).unwrap_or_else(|e| panic!("{e}"));
    let verifier = rsa::pss::VerifyingKey::<Sha256>::new(key.to_public_key());
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap_or_default();
    let signature =
        rsa::pss::Signature::try_from(signature.as_slice()).unwrap_or_else(|e| panic!("{e}"));
    let signed = format!("{}.{}", parts[0], parts[1]);
    assert!(
        verifier.verify(signed.as_bytes(), &signature).is_ok(),
        "PS256 signature verifies"
    );
}

#[test]
fn a_pem_without_a_key_is_refused_without_echoing_it() {
    let (cert, _) = cert_and_key();
    let error = ClientCertificate::from_pem(&Secret::new(cert))
        .err()
        .unwrap_or_default();
    assert_eq!(
        error,
        "the certificate PEM has no PRIVATE KEY or RSA PRIVATE KEY block"
    );
}

#[tokio::test]
async fn the_emulator_accepts_the_certificate_assertion() -> Result<(), GraphError> {
    let (cert, key) = cert_and_key();
    let cert_toml = cert.replace('\n', "\\n");
    let toml = format!(
        "[throttle]\nenabled = false\n[[tenants]]\nid = \"{TENANT}\"\nname = \"contoso\"\n[tenants.generator]\nusers = 3\n\
         [[tenants.apps]]\nclient_id = \"{CLIENT}\"\ncertificate_pem = \"{cert_toml}\"\n"
    );
    let emu = start(
        entrawatch_emulator::Scenario::from_toml_str(&toml).unwrap_or_else(|e| panic!("{e}")),
    )
    .await;
    let credential = ClientCredential::Certificate {
        pem: Secret::new(format!("{cert}{key}")),
    };
    let client = GraphClient::new(connection(&emu, credential), fast_options())?;
    assert_eq!(
        client
            .list_users(&UserQuery::default(), None)
            .await?
            .items
            .len(),
        3
    );
    Ok(())
}

#[tokio::test]
async fn one_token_serves_many_calls() -> Result<(), GraphError> {
    let emu = generated(3).await;
    let client = client(&emu);
    client.list_users(&UserQuery::default(), None).await?;
    client.list_users(&UserQuery::default(), None).await?;
    assert_eq!(emu.stats().family("token"), 1);
    assert_eq!(client.metrics().token_requests, 1);
    Ok(())
}

#[tokio::test]
async fn concurrent_first_calls_share_one_token_request() -> Result<(), GraphError> {
    let emu = generated(3).await;
    let client = client(&emu);
    let query = UserQuery::default();
    let calls = (0..8).map(|_| client.list_users(&query, None));
    for result in futures::future::join_all(calls).await {
        result?;
    }
    assert_eq!(emu.stats().family("token"), 1);
    Ok(())
}

/// A federated-credential stand-in: signs with the test certificate, as an STS would sign its own JWT.
struct CertificateBackedProvider {
    cert: ClientCertificate,
    seen_endpoint: std::sync::Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl AssertionProvider for CertificateBackedProvider {
    async fn assertion(&self, token_endpoint: &str) -> Result<Secret, GraphError> {
        *self.seen_endpoint.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(token_endpoint.to_string());
        build_certificate_assertion(&self.cert, CLIENT, token_endpoint, chrono::Utc::now())
            .map_err(GraphError::AssertionProvider)
    }
}

struct FailingProvider;

#[async_trait::async_trait]
impl AssertionProvider for FailingProvider {
    async fn assertion(&self, _token_endpoint: &str) -> Result<Secret, GraphError> {
        Err(GraphError::AssertionProvider(
            "sts:GetWebIdentityToken was denied".into(),
        ))
    }
}

#[tokio::test]
async fn an_assertion_provider_is_asked_for_the_token_endpoint_and_its_assertion_is_sent(
) -> Result<(), GraphError> {
    let (cert, key) = cert_and_key();
    let cert_toml = cert.replace('\n', "\\n");
    let toml = format!(
        "[throttle]\nenabled = false\n[[tenants]]\nid = \"{TENANT}\"\nname = \"contoso\"\n[tenants.generator]\nusers = 2\n\
         [[tenants.apps]]\nclient_id = \"{CLIENT}\"\ncertificate_pem = \"{cert_toml}\"\n"
    );
    let emu = start(
        entrawatch_emulator::Scenario::from_toml_str(&toml).unwrap_or_else(|e| panic!("{e}")),
    )
    .await;
    let provider = std::sync::Arc::new(CertificateBackedProvider {
        cert: ClientCertificate::from_pem(&Secret::new(format!("{cert}{key}")))
            .unwrap_or_else(|e| panic!("{e}")),
        seen_endpoint: std::sync::Mutex::new(None),
    });
    let credential = ClientCredential::Assertion(provider.clone());
    let client = GraphClient::new(connection(&emu, credential), fast_options())?;
    assert_eq!(
        client
            .list_users(&UserQuery::default(), None)
            .await?
            .items
            .len(),
        2
    );
    let seen = provider
        .seen_endpoint
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    assert_eq!(seen.as_deref(), Some(client.token_endpoint()));
    assert_eq!(
        client.token_endpoint(),
        format!("{}/{TENANT}/oauth2/v2.0/token", emu.url())
    );
    Ok(())
}

#[tokio::test]
async fn a_failing_assertion_provider_is_reported_for_the_tenant() {
    let emu = generated(1).await;
    let credential = ClientCredential::Assertion(std::sync::Arc::new(FailingProvider));
    let client = GraphClient::new(connection(&emu, credential), fast_options())
        .unwrap_or_else(|e| panic!("{e}"));
    let text = client
        .list_users(&UserQuery::default(), None)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        text,
        "tenant contoso (11111111-2222-3333-4444-555555555555): cannot obtain a client assertion: \
         sts:GetWebIdentityToken was denied"
    );
    assert_eq!(emu.stats().family("token"), 0);
}
