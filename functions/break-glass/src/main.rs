//! The scheduled `break-glass` Lambda function (template.yaml `BreakGlassFunction`). EventBridge
//! Scheduler invokes it with `{"job":"break-glass"}`; configuration comes from the SSM parameter
//! named by `ENTRAWATCH_CONFIG_SSM`, state from the table in `ENTRAWATCH_TABLE`.

// The run future (schedule, fan-out and worker paths, Graph and DynamoDB clients) nests deeper than
// rustc's default query depth when its layout is computed.
#![recursion_limit = "256"]

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    entrawatch_lambda::run_scheduled().await
}
