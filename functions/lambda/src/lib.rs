//! What the entrawatch Lambda functions share, so each binary stays a few lines of wiring
//! (STYLE.md, aws-lambda-rust-runtime `examples/basic-shared-resource`): the scheduled invocation
//! over the core's jobs ([`ScheduledFunction`]: schedule input, configuration source, SQS fan-out,
//! EMF metrics), kept out of `entrawatch-core` so the CLI builds without the Lambda runtime and
//! SQS; and the runtime glue: the runtime's tracing subscriber behind the redacting writer,
//! clients built once per cold start, the time left before the invocation deadline, and typed
//! errors reported as retryable or not.

mod emf;
pub mod fanout;
mod invoke;
pub mod scheduled;

pub use invoke::{InvocationError, InvocationResult, ScheduledFunction};

use std::time::{Duration, SystemTime};

use entrawatch_core::redact::RedactingMakeWriter;
use lambda_runtime::{service_fn, Diagnostic, Error, LambdaEvent};
use serde_json::Value;

/// JSON logs when the function's `LoggingConfig` says so (`AWS_LAMBDA_LOG_FORMAT=JSON`), with any
/// registered secret value masked before it reaches CloudWatch.
pub fn init_logging() {
    lambda_runtime::tracing::init_default_subscriber_with_writer(RedactingMakeWriter::new(
        std::io::stdout,
    ));
}

/// Time left before `deadline`, never negative.
pub fn remaining(deadline: SystemTime) -> Duration {
    deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

/// The error the runtime reports: `errorType` says whether another invocation may succeed, so
/// operators (and the dead-letter queue's readers) know whether to wait or to act.
pub fn diagnostic(error: &InvocationError) -> Diagnostic {
    Diagnostic {
        error_type: if error.is_retryable() {
            "entrawatch.Retryable".into()
        } else {
            "entrawatch.ActionRequired".into()
        },
        error_message: error.to_string(),
    }
}

/// One invocation: a schedule's `{"job": ...}` in, the run summary (or, in fan-out mode, the
/// number of tenant messages queued) out; or an SQS batch of tenant messages in, the partial batch
/// response (`batchItemFailures`) out.
pub async fn handle_scheduled(
    function: &ScheduledFunction,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    let budget = remaining(event.context.deadline());
    function
        .invoke(&event.payload, &event.context.request_id, budget)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, retryable = e.is_retryable(), "run failed");
            diagnostic(&e)
        })
}

/// `main` of a scheduled function: set up once, then serve invocations until the runtime stops.
pub async fn run_scheduled() -> Result<(), Error> {
    init_logging();
    let sdk = entrawatch_core::aws::load_sdk_config().await;
    let http = entrawatch_core::sinks::http_client()?;
    let function = ScheduledFunction::new(sdk, http)?;
    let function = &function;
    lambda_runtime::run(service_fn(move |event| handle_scheduled(function, event))).await
}
