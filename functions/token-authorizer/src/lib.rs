//! API Gateway Lambda authorizer over the validator core (template.yaml `TokenAuthorizerFunction`).
//!
//! REST APIs (`TOKEN` and `REQUEST` authorizers) get an IAM policy, or a failed invocation with
//! the message `Unauthorized` for a missing or invalid token (API Gateway's 401); HTTP APIs with
//! payload format 2.0 get a simple `{isAuthorized, context}` response. The signing keys are
//! fetched once per warm execution environment and refreshed as the core's `JwksCache` says.

pub mod authorizer;
pub mod events;
pub mod key_source;
pub mod settings;

pub use authorizer::{handle, Authorizer, Verdict};
pub use events::{AuthorizerResponse, RawEvent};
pub use settings::Settings;

/// `main`: settings and the HTTP client once per cold start, then serve invocations.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    entrawatch_lambda::init_logging();
    let settings = Settings::from_env()?;
    let authorizer = Authorizer::new(settings, entrawatch_core::jwks_fetch::client()?)?;
    let authorizer = &authorizer;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| {
        handle(authorizer, event)
    }))
    .await
}
