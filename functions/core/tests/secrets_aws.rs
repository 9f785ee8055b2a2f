//! `ssm:` and `secretsmanager:` references resolved against moto, once per run, and masked in logs.

mod state_support;

use entrawatch_core::redact;
use entrawatch_core::secrets::{SecretRef, SecretResolver};

async fn put_ssm(config: &aws_config::SdkConfig, name: &str, value: &str) {
    aws_sdk_ssm::Client::new(config)
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .unwrap();
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn ssm_secure_string_is_resolved_decrypted_and_registered_for_redaction() {
    let config = state_support::sdk_config().await;
    let name = format!("/entrawatch/{}", unique("pd-key"));
    let value = unique("ssm-secret-value");
    put_ssm(&config, &name, &value).await;
    let resolver = SecretResolver::with_sdk_config(config);
    let got = resolver
        .resolve(&SecretRef::parse(&format!("ssm:{name}")))
        .await
        .unwrap();
    assert_eq!(got.expose(), value);
    assert_eq!(
        redact::mask(&format!("key={value}")),
        format!("key={}", redact::MASK)
    );
}

#[tokio::test]
async fn secrets_manager_secret_is_resolved_by_name() {
    let config = state_support::sdk_config().await;
    let name = unique("prod/entrawatch/secops-url");
    let value = format!("https://hooks.example.test/{}", unique("path"));
    aws_sdk_secretsmanager::Client::new(&config)
        .create_secret()
        .name(&name)
        .secret_string(&value)
        .send()
        .await
        .unwrap();
    let resolver = SecretResolver::with_sdk_config(config);
    let got = resolver
        .resolve(&SecretRef::parse(&format!("secretsmanager:{name}")))
        .await
        .unwrap();
    assert_eq!(got.expose(), value);
}

#[tokio::test]
async fn each_reference_is_fetched_once_per_run() {
    let config = state_support::sdk_config().await;
    let name = format!("/entrawatch/{}", unique("cached"));
    let first = unique("first-value");
    put_ssm(&config, &name, &first).await;
    let resolver = SecretResolver::with_sdk_config(config.clone());
    let r = SecretRef::parse(&format!("ssm:{name}"));
    assert_eq!(resolver.resolve(&r).await.unwrap().expose(), first);
    put_ssm(&config, &name, &unique("second-value")).await;
    assert_eq!(
        resolver.resolve(&r).await.unwrap().expose(),
        first,
        "same run, same value"
    );
    assert_ne!(
        SecretResolver::with_sdk_config(config)
            .resolve(&r)
            .await
            .unwrap()
            .expose(),
        first
    );
}

#[tokio::test]
async fn missing_parameter_error_names_the_reference_and_not_a_value() {
    let config = state_support::sdk_config().await;
    let resolver = SecretResolver::with_sdk_config(config);
    let e = resolver
        .resolve(&SecretRef::parse("ssm:/entrawatch/does-not-exist"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("ssm:/entrawatch/does-not-exist: SSM lookup failed"),
        "{e}"
    );
    let e = resolver
        .resolve(&SecretRef::parse("secretsmanager:nope/missing"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("secretsmanager:nope/missing: Secrets Manager lookup failed"),
        "{e}"
    );
}
