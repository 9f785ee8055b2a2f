//! Many tenants (an MSP): with `ENTRAWATCH_FANOUT_QUEUE_URL` set, the scheduled invocation only
//! enqueues one SQS message per (job, tenant), and the same function, invoked by the queue with
//! bounded concurrency, runs the tenant each message names. It answers with a partial batch
//! response so only the records worth another attempt come back (AWS Lambda docs "Using Lambda
//! with Amazon SQS", "Handling errors for an SQS event source in Lambda"). The limits and their
//! arithmetic are in infra/README.md "Many tenants".

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use chrono::{DateTime, Utc};
use entrawatch_core::config::Config;
use entrawatch_core::jobs::{configures, JobName, RunSummary, TenantJobOutcome};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Environment variable holding the URL of the fan-out queue (set by template.yaml when
/// `FanOutTenants` is "true"); absent, a scheduled invocation runs every tenant itself.
pub const FANOUT_QUEUE_ENV: &str = "ENTRAWATCH_FANOUT_QUEUE_URL";

/// SendMessageBatch takes at most 10 entries (SQS API reference `SendMessageBatch`).
const SQS_BATCH: usize = 10;

/// The message bodies one scheduled invocation enqueues: one per tenant that configures the job.
/// `id` names the (job, tenant, schedule minute) so the logs of a run and of a duplicate
/// delivery of it can be told apart; the per-tenant lease is what keeps duplicates harmless.
pub fn messages(config: &Config, jobs: &[JobName], now: DateTime<Utc>) -> Vec<Value> {
    let minute = now.format("%Y-%m-%dT%H:%MZ");
    config
        .tenants
        .iter()
        .flat_map(|tenant| jobs.iter().map(move |&job| (tenant, job)))
        .filter(|(tenant, job)| configures(tenant, *job))
        .map(|(tenant, job)| {
            json!({
                "job": job.as_str(),
                "tenant": tenant.id,
                "id": format!("{}/{}/{minute}", job.as_str(), tenant.id),
            })
        })
        .collect()
}

/// Why messages could not all be queued. Each is retryable: the schedule's retry (or the next
/// run) enqueues again, and a tenant queued twice runs once (the second finds the lease or
/// nothing new).
#[derive(Debug, thiserror::Error)]
pub enum FanOutError {
    #[error("{failed} of {total} tenant message(s) could not be queued: {first}")]
    NotQueued {
        failed: usize,
        total: usize,
        first: String,
    },
}

/// Sends `bodies` to the queue in batches of ten; returns how many were queued.
pub async fn enqueue(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    bodies: &[Value],
) -> Result<usize, FanOutError> {
    let mut queued = 0;
    let mut errors = Vec::new();
    for chunk in bodies.chunks(SQS_BATCH) {
        let entries = chunk.iter().enumerate().map(|(i, body)| {
            SendMessageBatchRequestEntry::builder()
                .id(format!("m{i}"))
                .message_body(body.to_string())
                .build()
                .expect("id and body are set")
        });
        match sqs
            .send_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries.collect()))
            .send()
            .await
        {
            Ok(out) => {
                queued += out.successful().len();
                errors.extend(
                    out.failed()
                        .iter()
                        .map(|f| format!("SQS answered {}", f.code())),
                );
            }
            Err(e) => {
                let e = aws_sdk_sqs::error::DisplayErrorContext(e);
                errors.extend(chunk.iter().map(|_| format!("SendMessageBatch: {e}")));
            }
        }
    }
    match errors.first() {
        None => Ok(queued),
        Some(first) => Err(FanOutError::NotQueued {
            failed: errors.len(),
            total: bodies.len(),
            first: first.clone(),
        }),
    }
}

/// An SQS event as Lambda delivers it (only what the worker reads).
#[derive(Debug, Deserialize)]
pub struct SqsEvent {
    #[serde(rename = "Records")]
    pub records: Vec<SqsRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsRecord {
    pub message_id: String,
    pub body: String,
    #[serde(default)]
    pub event_source: Option<String>,
}

impl SqsEvent {
    /// Whether `payload` is an SQS event rather than a schedule's `Input`.
    pub fn is_sqs_event(payload: &Value) -> bool {
        payload
            .get("Records")
            .and_then(Value::as_array)
            .is_some_and(|records| {
                records
                    .iter()
                    .all(|r| r.get("eventSource").and_then(Value::as_str) == Some("aws:sqs"))
            })
    }
}

/// The partial batch response: the records to deliver again; every other one is deleted.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    pub item_identifier: String,
}

impl BatchResponse {
    pub fn retry(&mut self, message_id: &str) {
        self.batch_item_failures.push(ItemFailure {
            item_identifier: message_id.to_string(),
        });
    }
}

/// What becomes of a record after its tenant's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFate {
    /// Done, skipped (another worker holds the tenant's lease) or nothing to run: delete it.
    Delete,
    /// Another attempt may succeed (throttling, an outage, the store): SQS delivers it again
    /// after the visibility timeout, and after `maxReceiveCount` moves it to the dead-letter queue.
    Retry,
    /// Only a person can fix it (credentials, consent, licence, configuration): retrying would
    /// fail the same way, so it is deleted; the failure is logged and counted in the
    /// `TenantsFailed` metric, which an alarm watches, and the next schedule tries again.
    Failed,
}

/// The fate of a record whose tenant ran with `summary`.
pub fn fate(summary: &RunSummary) -> RecordFate {
    let mut fate = RecordFate::Delete;
    if summary.dispatch_error.is_some() {
        fate = RecordFate::Retry;
    }
    for r in &summary.results {
        match r.outcome {
            TenantJobOutcome::Failed {
                retryable: true, ..
            } => return RecordFate::Retry,
            TenantJobOutcome::Failed {
                retryable: false, ..
            } if fate == RecordFate::Delete => fate = RecordFate::Failed,
            _ => {}
        }
    }
    fate
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use entrawatch_core::jobs::{JobReport, TenantJobResult};

    const CONFIG: &str = r#"
[[tenants]]
name = "contoso"
id = "11111111-2222-3333-4444-555555555555"
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
credential = { type = "secret", secret = "env:X" }
[tenants.break_glass]
accounts = ["0b000000-0000-4000-8000-0000000000b1"]
[tenants.dormant]

[[tenants]]
name = "fabrikam"
id = "22222222-2222-3333-4444-555555555555"
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000002"
credential = { type = "secret", secret = "env:X" }
[tenants.dormant]
"#;

    fn result(outcome: TenantJobOutcome) -> TenantJobResult {
        TenantJobResult {
            tenant: "contoso".into(),
            job: "break-glass",
            outcome,
            graph_requests: 0,
            graph_throttled: 0,
            graph_retries: 0,
        }
    }

    fn summary(results: Vec<TenantJobResult>, dispatch_error: Option<&str>) -> RunSummary {
        RunSummary {
            results,
            dispatch_error: dispatch_error.map(str::to_string),
            ..RunSummary::default()
        }
    }

    #[test]
    fn one_message_per_tenant_that_configures_the_job_named_by_job_tenant_and_minute() {
        let config = Config::from_toml_str(CONFIG, "test.toml").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 22, 35, 17).unwrap();
        let bg = messages(&config, &[JobName::BreakGlass], now);
        assert_eq!(
            bg,
            vec![json!({
                "job": "break-glass",
                "tenant": "11111111-2222-3333-4444-555555555555",
                "id": "break-glass/11111111-2222-3333-4444-555555555555/2026-11-30T22:35Z",
            })],
            "fabrikam has no break_glass section"
        );
        let all = messages(&config, &[JobName::BreakGlass, JobName::Dormant], now);
        let pairs: Vec<(&str, &str)> = all
            .iter()
            .map(|m| (m["job"].as_str().unwrap(), m["tenant"].as_str().unwrap()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("break-glass", "11111111-2222-3333-4444-555555555555"),
                ("dormant", "11111111-2222-3333-4444-555555555555"),
                ("dormant", "22222222-2222-3333-4444-555555555555"),
            ]
        );
    }

    #[test]
    fn sqs_events_are_told_from_schedule_input() {
        let event =
            json!({"Records": [{"messageId": "m-1", "body": "{}", "eventSource": "aws:sqs"}]});
        assert!(SqsEvent::is_sqs_event(&event));
        let parsed: SqsEvent = serde_json::from_value(event).unwrap();
        assert_eq!(parsed.records[0].message_id, "m-1");
        assert!(!SqsEvent::is_sqs_event(&json!({"job": "break-glass"})));
        assert!(!SqsEvent::is_sqs_event(
            &json!({"Records": [{"eventSource": "aws:s3"}]})
        ));
    }

    #[test]
    fn only_retryable_failures_come_back_and_the_response_has_the_documented_shape() {
        let done = result(TenantJobOutcome::Done {
            report: JobReport {
                alerts_recorded: 1,
                examined: 1,
                unreadable: 0,
                notes: vec![],
                complete: true,
            },
        });
        assert_eq!(fate(&summary(vec![done], None)), RecordFate::Delete);
        let skipped = result(TenantJobOutcome::Skipped {
            reason: "lease held".into(),
        });
        assert_eq!(fate(&summary(vec![skipped], None)), RecordFate::Delete);
        assert_eq!(fate(&summary(vec![], None)), RecordFate::Delete);
        let throttled = || {
            result(TenantJobOutcome::Failed {
                error: "429".into(),
                retryable: true,
            })
        };
        let consent = || {
            result(TenantJobOutcome::Failed {
                error: "AADSTS7000215".into(),
                retryable: false,
            })
        };
        assert_eq!(fate(&summary(vec![throttled()], None)), RecordFate::Retry);
        assert_eq!(fate(&summary(vec![consent()], None)), RecordFate::Failed);
        assert_eq!(
            fate(&summary(vec![consent(), throttled()], None)),
            RecordFate::Retry
        );
        assert_eq!(
            fate(&summary(vec![consent()], Some("store down"))),
            RecordFate::Retry
        );

        let mut response = BatchResponse::default();
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({"batchItemFailures": []})
        );
        response.retry("m-2");
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({"batchItemFailures": [{"itemIdentifier": "m-2"}]})
        );
    }
}
