//! The scheduled `dormant-accounts` Lambda function (template.yaml `DormantFunction`). EventBridge
//! Scheduler invokes it with `{"job":"dormant"}`; a scan too large for one invocation stops at a
//! checkpoint before the deadline and the next invocation continues it.

// The run future (schedule, fan-out and worker paths, Graph and DynamoDB clients) nests deeper than
// rustc's default query depth when its layout is computed.
#![recursion_limit = "256"]

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    entrawatch_lambda::run_scheduled().await
}
