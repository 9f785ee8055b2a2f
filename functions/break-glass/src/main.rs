//! The scheduled `break-glass` Lambda function (template.yaml `BreakGlassFunction`). EventBridge
//! Scheduler invokes it with `{"job":"break-glass"}`; configuration comes from the SSM parameter
//! named by `ENTRAWATCH_CONFIG_SSM`, state from the table in `ENTRAWATCH_TABLE`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    entrawatch_lambda::run_scheduled().await
}
