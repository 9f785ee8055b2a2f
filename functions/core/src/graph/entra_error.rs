//! Token endpoint refusals, worded as what to fix.
//!
//! Entra ID answers `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret
//! provided. ...","error_codes":[7000215]}` (Entra docs `v2-oauth2-client-creds-grant-flow.md`, "Error response");
//! the codes are listed in Entra docs `reference-error-codes.md`.

use std::sync::Arc;

use serde::Deserialize;

use super::error::{body_start, GraphError};
use super::settings::TenantLabel;

#[derive(Deserialize)]
struct EntraErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<u64>,
}

/// The [`GraphError::TokenRejected`] for an Entra error body, or `None` if `body` is not one.
/// `hide` lists values the text must never show (the client secret).
pub(crate) fn token_rejection(
    tenant: &Arc<TenantLabel>,
    client_id: &str,
    body: &[u8],
    hide: &[&str],
) -> Option<GraphError> {
    let parsed: EntraErrorBody = serde_json::from_slice(body).ok()?;
    let number = parsed
        .error_codes
        .first()
        .copied()
        .or_else(|| aadsts_number(&parsed.error_description));
    let code = number.map_or_else(|| parsed.error.clone(), |n| format!("AADSTS{n}"));
    let (problem, action) = match number {
        Some(7000215) => ("client secret rejected".into(), "check the secret and that it has not expired".into()),
        Some(7000222) => ("client secret expired".into(), "create a new client secret and update the secret reference".into()),
        Some(700016) => (
            format!("application {client_id} not found in the tenant"),
            "check client_id and that the app is consented in this tenant".into(),
        ),
        Some(90002 | 900023 | 90023) => ("tenant not found".into(), "check the tenant id and the cloud setting".into()),
        Some(700027) => (
            "client assertion signature rejected".into(),
            "check that this certificate is uploaded to the app registration".into(),
        ),
        Some(700024) => ("client assertion outside its validity period".into(), "check this machine's clock".into()),
        Some(70021 | 700211 | 700212 | 700213) => (
            "no federated identity credential matches the assertion".into(),
            "check issuer, subject and audience (api://AzureADTokenExchange) of the app's federated credential".into(),
        ),
        Some(7000112 | 7000114) => ("application disabled".into(), "re-enable the app in this tenant".into()),
        _ => (
            format!("token request rejected ({})", parsed.error),
            format!("Entra ID said: {}", first_sentence(&parsed.error_description, hide)),
        ),
    };
    Some(GraphError::TokenRejected {
        tenant: tenant.clone(),
        code,
        problem,
        action,
    })
}

/// `7000215` from `"AADSTS7000215: Invalid client secret ..."`.
fn aadsts_number(description: &str) -> Option<u64> {
    let rest = description.trim_start().strip_prefix("AADSTS")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The description without its `AADSTSnnnn:` prefix and Trace/Correlation id tail: the first sentence, escaped.
fn first_sentence(description: &str, hide: &[&str]) -> String {
    let text = description
        .split_once(": ")
        .map_or(description, |(_, rest)| rest);
    let sentence = text.split(". ").next().unwrap_or(text);
    body_start(sentence.as_bytes(), hide)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contoso() -> Arc<TenantLabel> {
        Arc::new(TenantLabel {
            name: "contoso".into(),
            id: "11111111-2222-3333-4444-555555555555".into(),
        })
    }

    #[test]
    fn wrong_secret_says_what_to_check() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Trace ID: x","error_codes":[7000215]}"#;
        let e = token_rejection(&contoso(), "app", body, &[]).map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "tenant contoso (11111111-2222-3333-4444-555555555555): client secret rejected (AADSTS7000215): check \
                 the secret and that it has not expired"
            )
        );
    }

    #[test]
    fn unknown_code_quotes_the_first_sentence_without_the_secret() {
        let body = br#"{"error":"invalid_request","error_description":"AADSTS9999: Value hunter2 is odd. Trace ID: x"}"#;
        let e = token_rejection(&contoso(), "app", body, &["hunter2"])
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("(AADSTS9999): Entra ID said: Value <redacted> is odd"),
            "{e}"
        );
        assert!(!e.contains("hunter2"));
    }

    #[test]
    fn non_entra_body_is_not_a_rejection() {
        assert!(token_rejection(&contoso(), "app", b"<html>", &[]).is_none());
    }
}
