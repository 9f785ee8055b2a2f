//! `tenants_from = "ssm-path:/entrawatch/tenants/"`: every parameter under the path, one tenant
//! each, read with `GetParametersByPath` (recursive, `WithDecryption` so SecureString parameters
//! come back in clear) and paged through `NextToken`.

use aws_config::SdkConfig;
use aws_sdk_ssm::error::DisplayErrorContext;

use super::{SourcedText, TenantPlace};

/// The most `GetParametersByPath` returns per call (SSM API reference, `MaxResults`).
const PAGE_SIZE: i32 = 10;

/// The parameters under `path`, sorted by name so tenants run in the same order every time.
pub(super) async fn tenant_texts(aws: &SdkConfig, path: &str) -> Result<Vec<SourcedText>, String> {
    let client = aws_sdk_ssm::Client::new(aws);
    // The path is the IAM resource of the call (`parameter/entrawatch/tenants`): without a
    // trailing slash it matches the template's grant however the configuration spells it.
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    let mut texts = Vec::new();
    let mut next_token = None;
    loop {
        let page = client
            .get_parameters_by_path()
            .path(path)
            .recursive(true)
            .with_decryption(true)
            .max_results(PAGE_SIZE)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| format!("SSM GetParametersByPath failed: {}", DisplayErrorContext(e)))?;
        for parameter in page.parameters.unwrap_or_default() {
            texts.push(SourcedText {
                place: TenantPlace::SsmParameter(parameter.name.unwrap_or_default()),
                text: parameter.value,
            });
        }
        // A page may be short or even empty and still have a next one (the API's best effort).
        next_token = page.next_token.filter(|t| !t.is_empty());
        if next_token.is_none() {
            break;
        }
    }
    texts.sort_by_cached_key(|t| t.place.to_string());
    Ok(texts)
}
