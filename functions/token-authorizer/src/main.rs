//! The token authorizer Lambda function (template.yaml `TokenAuthorizerFunction`), configured by
//! the `ENTRAWATCH_AUTH_*` environment variables.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    token_authorizer::run().await
}
