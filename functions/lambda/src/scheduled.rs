//! What one scheduled invocation does, independent of the Lambda runtime: read the ScheduleV2
//! `Input`, load the configuration (inline or from SSM), point state at the deployed table, run
//! the jobs, and describe the run as CloudWatch Embedded Metric Format lines. The Lambda binaries
//! in `functions/break-glass` and `functions/dormant-accounts` are wiring around this.

use std::time::Duration;

use entrawatch_core::config::{Config, StateBackend};
use entrawatch_core::jobs::{JobName, RunSummary, TenantJobOutcome, TenantJobResult};
use entrawatch_core::secrets::{SecretRef, SecretResolver};
use serde::Deserialize;
use serde_json::{json, Value};

/// Environment variable holding the whole TOML configuration (small deployments, tests).
pub const CONFIG_INLINE_ENV: &str = "ENTRAWATCH_CONFIG_TOML";
/// Environment variable naming the SSM parameter that holds the TOML configuration.
pub const CONFIG_SSM_ENV: &str = "ENTRAWATCH_CONFIG_SSM";
/// Environment variable naming the DynamoDB table (set by template.yaml); overrides `[state]`.
pub const TABLE_ENV: &str = "ENTRAWATCH_TABLE";
/// CloudWatch namespace of the run metrics (the template's silence alarm reads `RunsSucceeded`).
pub const METRICS_NAMESPACE: &str = "entrawatch";

/// The ScheduleV2 `Input`, delivered verbatim: `{"job":"break-glass"}` (REFERENCE.md §10), or the
/// body of a fan-out message, which names one tenant: `{"job":"break-glass","tenant":"<id>",
/// "id":"break-glass/<id>/2026-11-30T22:35Z"}` (`id` only identifies the message in logs).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledInput {
    pub job: String,
    /// Runs only this tenant (its id or name); absent, every configured tenant.
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScheduledError {
    #[error("scheduled input: {0}")]
    Input(String),
    #[error("configuration: {0}")]
    Config(String),
}

impl ScheduledInput {
    /// Parses the event payload; a missing or unknown job is an error naming what is accepted.
    pub fn parse(payload: &Value) -> Result<ScheduledInput, ScheduledError> {
        serde_json::from_value(payload.clone()).map_err(|e| {
            ScheduledError::Input(format!(
                "expected {{\"job\":\"break-glass|dormant|all\"}}, optionally with \"tenant\":\"<id or name>\": {e}"
            ))
        })
    }

    pub fn jobs(&self) -> Result<Vec<JobName>, ScheduledError> {
        match self.job.as_str() {
            "break-glass" => Ok(vec![JobName::BreakGlass]),
            "dormant" => Ok(vec![JobName::Dormant]),
            "all" => Ok(vec![JobName::BreakGlass, JobName::Dormant]),
            other => Err(ScheduledError::Input(format!(
                "unknown job {other:?}; expected break-glass, dormant or all"
            ))),
        }
    }
}

/// Where the configuration comes from, read from the environment once per cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    Inline(String),
    Ssm(String),
}

impl ConfigSource {
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<ConfigSource, ScheduledError> {
        if let Some(text) = var(CONFIG_INLINE_ENV).filter(|t| !t.trim().is_empty()) {
            return Ok(ConfigSource::Inline(text));
        }
        if let Some(name) = var(CONFIG_SSM_ENV).filter(|n| !n.trim().is_empty()) {
            return Ok(ConfigSource::Ssm(name));
        }
        Err(ScheduledError::Config(format!(
            "set {CONFIG_SSM_ENV} (an SSM parameter holding the TOML) or {CONFIG_INLINE_ENV}"
        )))
    }

    /// Reads and validates the configuration; `table` (from [`TABLE_ENV`]) selects DynamoDB.
    /// The parameter is read like a `ssm:` secret reference (decrypted, never logged).
    pub async fn load(
        &self,
        resolver: &SecretResolver,
        table: Option<String>,
    ) -> Result<Config, ScheduledError> {
        let (text, origin) = match self {
            ConfigSource::Inline(text) => (text.clone(), CONFIG_INLINE_ENV.to_string()),
            ConfigSource::Ssm(name) => {
                let value = resolver
                    .resolve(&SecretRef::Ssm(name.clone()))
                    .await
                    .map_err(|e| ScheduledError::Config(e.to_string()))?;
                (value.expose().to_string(), format!("ssm:{name}"))
            }
        };
        let mut config = Config::from_toml_str(&text, &origin)
            .map_err(|e| ScheduledError::Config(e.to_string()))?;
        if let Some(table) = table.filter(|t| !t.is_empty()) {
            config.state.backend = StateBackend::Dynamodb;
            config.state.table = Some(table);
        }
        Ok(config)
    }
}

/// One CloudWatch Embedded Metric Format line describing a run (AWS docs "Embedded metric format
/// specification"): the `_aws` metadata names the metrics, the members carry the values.
pub fn emf_line(summary: &RunSummary, job: &str, duration: Duration, timestamp_ms: i64) -> String {
    let mut alerts_raised = 0usize;
    let mut examined = 0usize;
    let mut incomplete = 0usize;
    let mut failed = 0usize;
    for r in &summary.results {
        match &r.outcome {
            TenantJobOutcome::Done { report } => {
                alerts_raised += report.alerts_recorded;
                examined += report.examined;
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

    #[test]
    fn schedule_input_names_the_job_and_unknown_jobs_are_refused_by_name() {
        let input = ScheduledInput::parse(&json!({"job": "break-glass"})).unwrap();
        assert_eq!(input.jobs().unwrap(), vec![JobName::BreakGlass]);
        let all = ScheduledInput::parse(&json!({"job": "all"})).unwrap();
        assert_eq!(
            all.jobs().unwrap(),
            vec![JobName::BreakGlass, JobName::Dormant]
        );
        let err = ScheduledInput::parse(&json!({"job": "dormnat"}))
            .unwrap()
            .jobs()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "scheduled input: unknown job \"dormnat\"; expected break-glass, dormant or all"
        );
        let err = ScheduledInput::parse(&json!({"source": "aws.events"})).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("scheduled input: expected {\"job\":\"break-glass|dormant|all\"}"),
            "{err}"
        );
    }

    #[test]
    fn input_may_name_one_tenant_and_a_message_id_but_nothing_else() {
        let input = ScheduledInput::parse(&json!({
            "job": "dormant",
            "tenant": "11111111-2222-3333-4444-555555555555",
            "id": "dormant/11111111-2222-3333-4444-555555555555/2026-11-30T22:35Z",
        }))
        .unwrap();
        assert_eq!(input.jobs().unwrap(), vec![JobName::Dormant]);
        assert_eq!(
            input.tenant.as_deref(),
            Some("11111111-2222-3333-4444-555555555555")
        );
        let plain = ScheduledInput::parse(&json!({"job": "break-glass"})).unwrap();
        assert_eq!(plain.tenant, None, "no tenant: every tenant runs");
        let err =
            ScheduledInput::parse(&json!({"job": "all", "tenants": ["contoso"]})).unwrap_err();
        assert!(err.to_string().contains("unknown field `tenants`"), "{err}");
        assert!(
            err.to_string()
                .contains("optionally with \"tenant\":\"<id or name>\""),
            "{err}"
        );
    }

    #[test]
    fn config_source_prefers_inline_then_ssm_and_says_what_to_set() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            ConfigSource::from_env(env(&[(CONFIG_SSM_ENV, "/entrawatch/config")])).unwrap(),
            ConfigSource::Ssm("/entrawatch/config".into())
        );
        assert_eq!(
            ConfigSource::from_env(env(&[(CONFIG_SSM_ENV, "/p"), (CONFIG_INLINE_ENV, "x = 1")]))
                .unwrap(),
            ConfigSource::Inline("x = 1".into())
        );
        let err = ConfigSource::from_env(env(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration: set ENTRAWATCH_CONFIG_SSM (an SSM parameter holding the TOML) or ENTRAWATCH_CONFIG_TOML"
        );
    }

    #[tokio::test]
    async fn table_from_the_environment_selects_dynamodb() {
        let toml = r#"
[[tenants]]
name = "contoso"
id = "11111111-2222-3333-4444-555555555555"
client_id = "aaaaaaaa-bbbb-cccc-dddd-000000000001"
credential = { type = "secret", secret = "env:X" }
"#;
        let source = ConfigSource::Inline(toml.into());
        let config = source
            .load(
                &SecretResolver::new(),
                Some("entrawatch-StateTable-1".into()),
            )
            .await
            .unwrap();
        assert_eq!(config.state.backend, StateBackend::Dynamodb);
        assert_eq!(
            config.state.table.as_deref(),
            Some("entrawatch-StateTable-1")
        );
        let local = source.load(&SecretResolver::new(), None).await.unwrap();
        assert_eq!(local.state.backend, StateBackend::Sqlite);
    }

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
        assert_eq!(line["RunDuration"], 1234);
        assert_eq!(line["SinksBroken"], 1);
        assert_eq!(line["SinksBrokenNames"], json!(["slack"]));
        assert_eq!(line["AlertsOverdue"], 1);
        assert_eq!(line["OverdueOnSinks"], json!(["teams"]));
        assert_eq!(line["OldestPendingDeliveryAge"], 1200);
    }
}
