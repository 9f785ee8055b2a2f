//! Generic webhook sink, signed per Standard Webhooks v1 (standard-webhooks/standard-webhooks
//! `spec/standard-webhooks.md`, "Signature scheme" and "Webhook headers"): `webhook-id` (the
//! alert id, identical on every retry), `webhook-timestamp` (unix seconds of this attempt) and
//! `webhook-signature` = `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), where the
//! secret is `whsec_` + base64(key).

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, HeaderValue};
use sha2::Sha256;

use super::{http, Sink, SinkError};
use crate::alert::Alert;
use crate::Secret;

/// A decoded `whsec_` signing key.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// Parses `whsec_<base64>` (the prefix is optional, as the spec's libraries accept). The spec
    /// asks for random secrets of 24 to 64 bytes ("Signature scheme" table); shorter keys are
    /// refused. The error never repeats the secret.
    pub fn parse(secret: &Secret) -> Result<SigningKey, String> {
        let text = secret.expose().trim();
        let b64 = text.strip_prefix("whsec_").unwrap_or(text);
        let key = STANDARD.decode(b64).map_err(|_| {
            "the webhook signing secret is not whsec_ followed by base64".to_string()
        })?;
        if key.len() < 24 {
            return Err(format!(
                "the webhook signing secret is {} bytes; at least 24 are needed",
                key.len()
            ));
        }
        Ok(SigningKey(key))
    }

    /// The Standard Webhooks v1 signature of one message: `v1,<base64>`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The body is the SPEC.md generic webhook body, compact JSON.
pub fn render(alert: &Alert) -> serde_json::Value {
    alert.to_json()
}

pub struct WebhookSink {
    name: String,
    url: Secret,
    key: SigningKey,
    client: reqwest::Client,
}

impl WebhookSink {
    pub fn new(
        name: impl Into<String>,
        url: Secret,
        key: SigningKey,
        client: reqwest::Client,
    ) -> Self {
        WebhookSink {
            name: name.into(),
            url,
            key,
            client,
        }
    }
}

#[async_trait]
impl Sink for WebhookSink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, alert: &Alert) -> Result<(), SinkError> {
        let body = serde_json::to_vec(&render(alert)).map_err(|e| SinkError::Reject {
            reason: e.to_string(),
        })?;
        let timestamp = chrono::Utc::now().timestamp();
        let mut headers = HeaderMap::new();
        let header = |v: String| {
            HeaderValue::from_str(&v).map_err(|e| SinkError::Reject {
                reason: e.to_string(),
            })
        };
        headers.insert("webhook-id", header(alert.id.clone())?);
        headers.insert("webhook-timestamp", header(timestamp.to_string())?);
        headers.insert(
            "webhook-signature",
            header(self.key.sign(&alert.id, timestamp, &body))?,
        );
        // Standard Webhooks "Delivery success and failure": any non-2xx is a failure to retry.
        http::post_json(&self.client, &self.url, headers, body, &[]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The specification's published example, also the test vector of its reference libraries.
    #[test]
    fn signature_matches_the_standard_webhooks_published_example() {
        let key =
            SigningKey::parse(&Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap();
        let sig = key.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn short_or_malformed_secrets_are_refused_without_echoing_them() {
        let e = SigningKey::parse(&Secret::new("whsec_c2hvcnQ=")).unwrap_err();
        assert!(e.contains("5 bytes") && !e.contains("c2hvcnQ"), "{e}");
        let e = SigningKey::parse(&Secret::new("whsec_not base64!")).unwrap_err();
        assert!(!e.contains("not base64!"), "{e}");
    }
}
