//! The CloudWatch Embedded Metric Format line a scheduled run prints (AWS docs "Embedded metric
//! format specification"): the metrics the template's alarms read, and which sinks are down.

use std::time::Duration;

use entrawatch_core::jobs::{RunSummary, TenantJobOutcome, TenantJobResult};
use serde_json::json;

/// CloudWatch namespace of the run metrics (the template's silence alarm reads `RunsSucceeded`).
pub const METRICS_NAMESPACE: &str = "entrawatch";

/// One CloudWatch Embedded Metric Format line describing a run (AWS docs "Embedded metric format
/// specification"): the `_aws` metadata names the metrics, the members carry the values.
pub fn emf_line(summary: &RunSummary, job: &str, duration: Duration, timestamp_ms: i64) -> String {
    let mut alerts_raised = 0usize;
    let mut examined = 0usize;
    let mut unreadable = 0usize;
    let mut incomplete = 0usize;
    let mut failed = 0usize;
    for r in &summary.results {
        match &r.outcome {
            TenantJobOutcome::Done { report } => {
                alerts_raised += report.alerts_recorded;
                examined += report.examined;
                unreadable += report.unreadable;
                incomplete += usize::from(!report.complete);
            }
            TenantJobOutcome::Failed { .. } => failed += 1,
            TenantJobOutcome::Skipped { .. } => {}
        }
    }
    let sum = |f: fn(&TenantJobResult) -> u64| -> u64 { summary.results.iter().map(f).sum() };
    let metrics = [
        ("RunsSucceeded", "Count"),
        ("TenantsFailed", "Count"),
        ("AlertsRaised", "Count"),
        ("AlertsDelivered", "Count"),
        ("DeliveryRetries", "Count"),
        ("GraphRequests", "Count"),
        ("GraphThrottled", "Count"),
        ("GraphRetries", "Count"),
        ("RecordsExamined", "Count"),
        ("RecordsUnreadable", "Count"),
        ("ScansIncomplete", "Count"),
        ("RunDuration", "Milliseconds"),
        ("SinksBroken", "Count"),
        ("AlertsOverdue", "Count"),
        ("OldestPendingDeliveryAge", "Seconds"),
        ("DeliveryClaimsLost", "Count"),
        ("HeartbeatsRecorded", "Count"),
    ];
    let broken: Vec<&str> = summary
        .unavailable_sinks
        .iter()
        .map(|u| u.sink.as_str())
        .collect();
    let mut overdue_sinks: Vec<&str> = summary
        .overdue
        .iter()
        .flat_map(|o| o.failing_sinks.iter().map(|(s, _)| s.as_str()))
        .collect();
    overdue_sinks.sort_unstable();
    overdue_sinks.dedup();
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [["Job"]],
                "Metrics": metrics.iter().map(|(name, unit)| json!({"Name": name, "Unit": unit})).collect::<Vec<_>>(),
            }],
        },
        "Job": job,
        "RunsSucceeded": u64::from(!summary.failed()),
        "TenantsFailed": failed,
        "AlertsRaised": alerts_raised,
        "AlertsDelivered": summary.delivered,
        "DeliveryRetries": summary.delivery_retries,
        "GraphRequests": sum(|r| r.graph_requests),
        "GraphThrottled": sum(|r| r.graph_throttled),
        "GraphRetries": sum(|r| r.graph_retries),
        "RecordsExamined": examined,
        "RecordsUnreadable": unreadable,
        "ScansIncomplete": incomplete,
        "RunDuration": duration.as_millis() as u64,
        "SinksBroken": broken.len(),
        "AlertsOverdue": summary.overdue.len(),
        "OldestPendingDeliveryAge": summary.oldest_pending_age_secs,
        "DeliveryClaimsLost": summary.delivery_claims_lost,
        "HeartbeatsRecorded": summary.heartbeats_recorded,
        // Not metrics: which sinks, for the log line a person reads next to the alarm.
        "SinksBrokenNames": broken,
        "OverdueOnSinks": overdue_sinks,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use entrawatch_core::jobs::{JobReport, OverdueAlert, SinkDown};
    use serde_json::Value;

    #[test]
    fn emf_line_declares_each_metric_and_counts_the_run() {
        let summary = RunSummary {
            results: vec![
                TenantJobResult {
                    tenant: "contoso".into(),
                    job: "break-glass",
                    outcome: TenantJobOutcome::Done {
                        report: JobReport {
                            alerts_recorded: 2,
                            examined: 7,
                            unreadable: 1,
                            notes: vec![],
                            complete: true,
                        },
                    },
                    graph_requests: 5,
                    graph_throttled: 1,
                    graph_retries: 1,
                },
                TenantJobResult {
                    tenant: "fabrikam".into(),
                    job: "break-glass",
                    outcome: TenantJobOutcome::Failed {
                        error: "x".into(),
                        retryable: false,
                    },
                    graph_requests: 1,
                    graph_throttled: 0,
                    graph_retries: 0,
                },
            ],
            delivered: 2,
            delivery_retries: 0,
            delivery_failed: 0,
            delivery_claims_lost: 0,
            heartbeats_recorded: 1,
            unavailable_sinks: vec![SinkDown {
                sink: "slack".into(),
                reason: "cannot be built: url env:SLACK_URL is not set".into(),
            }],
            overdue: vec![OverdueAlert {
                alert_id: "alert_1".into(),
                alert_type: "break_glass.sign_in".into(),
                waiting_minutes: 20,
                failing_sinks: vec![("teams".into(), Some("HTTP 500".into()))],
            }],
            oldest_pending_age_secs: 1200,
            dispatch: None,
            dispatch_error: None,
        };
        let line: Value = serde_json::from_str(&emf_line(
            &summary,
            "break-glass",
            Duration::from_millis(1234),
            1_700_000_000_000,
        ))
        .unwrap();
        let declared: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for name in &declared {
            assert!(line.get(*name).is_some(), "metric {name} has no value");
        }
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "entrawatch"
        );
        assert_eq!(line["Job"], "break-glass");
        assert_eq!(line["RunsSucceeded"], 0, "a failed tenant fails the run");
        assert_eq!(line["TenantsFailed"], 1);
        assert_eq!(line["AlertsRaised"], 2);
        assert_eq!(line["GraphRequests"], 6);
        assert_eq!(line["GraphThrottled"], 1);
        assert_eq!(line["RecordsUnreadable"], 1);
        assert_eq!(line["RunDuration"], 1234);
        assert_eq!(line["SinksBroken"], 1);
        assert_eq!(line["SinksBrokenNames"], json!(["slack"]));
        assert_eq!(line["AlertsOverdue"], 1);
        assert_eq!(line["OverdueOnSinks"], json!(["teams"]));
        assert_eq!(line["OldestPendingDeliveryAge"], 1200);
    }
}
