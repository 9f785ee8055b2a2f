//! What one scheduled invocation does, independent of the Lambda runtime: read the ScheduleV2
//! `Input`, load the configuration (inline or from SSM, with the tenants of its `tenants_from`),
//! point state at the deployed table, run the jobs, and describe the run as CloudWatch Embedded
//! Metric Format lines (`emf.rs`). The Lambda binaries in `functions/break-glass` and
//! `functions/dormant-accounts` are wiring around this.

use entrawatch_core::config::{Config, StateBackend};
use entrawatch_core::jobs::JobName;
use entrawatch_core::secrets::{SecretRef, SecretResolver};
use serde::Deserialize;
use serde_json::Value;

/// Environment variable holding the whole TOML configuration (small deployments, tests).
pub const CONFIG_INLINE_ENV: &str = "ENTRAWATCH_CONFIG_TOML";
/// Environment variable naming the SSM parameter that holds the TOML configuration.
pub const CONFIG_SSM_ENV: &str = "ENTRAWATCH_CONFIG_SSM";
/// Environment variable naming the DynamoDB table (set by template.yaml); overrides `[state]`.
pub const TABLE_ENV: &str = "ENTRAWATCH_TABLE";
// The metrics line is in `emf.rs` (it kept this file under 300 lines); re-exported so
// `scheduled::emf_line` stays where it was.
pub use crate::emf::{emf_line, METRICS_NAMESPACE};

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
                "expected {{\"job\":\"break-glass|dormant|workloads|watch|all\"}}, optionally with \"tenant\":\"<id or name>\": {e}"
            ))
        })
    }

    /// The jobs this input runs: a schedule's `break-glass` also runs the frequent watches; a fan-out message
    /// (one that names a tenant) runs exactly the job it names, since the schedule queued the watch on its own.
    pub fn jobs(&self) -> Result<Vec<JobName>, ScheduledError> {
        let jobs = if self.tenant.is_some() {
            JobName::parse(&self.job).map(|j| vec![j])
        } else {
            JobName::scheduled(&self.job)
        };
        jobs.ok_or_else(|| {
            ScheduledError::Input(format!(
                "unknown job {:?}; expected break-glass, dormant, workloads, watch or all",
                self.job
            ))
        })
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
    /// The parameter is read like a `ssm:` secret reference (decrypted, never logged). Then the
    /// tenants of its `tenants_from` sources are added, after the table is set, since
    /// `tenants_from = "dynamodb"` reads the deployed table.
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
        config
            .load_tenants_from(resolver)
            .await
            .map_err(|e| ScheduledError::Config(e.to_string()))?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schedule_input_names_the_job_and_unknown_jobs_are_refused_by_name() {
        let input = ScheduledInput::parse(&json!({"job": "break-glass"})).unwrap();
        assert_eq!(
            input.jobs().unwrap(),
            vec![JobName::BreakGlass, JobName::Watch],
            "the frequent schedule also runs the watches"
        );
        let all = ScheduledInput::parse(&json!({"job": "all"})).unwrap();
        assert_eq!(
            all.jobs().unwrap(),
            vec![
                JobName::BreakGlass,
                JobName::Watch,
                JobName::Dormant,
                JobName::Workloads
            ]
        );
        let workloads = ScheduledInput::parse(&json!({"job": "workloads"})).unwrap();
        assert_eq!(workloads.jobs().unwrap(), vec![JobName::Workloads]);
        let message =
            ScheduledInput::parse(&json!({"job": "break-glass", "tenant": "contoso"})).unwrap();
        assert_eq!(
            message.jobs().unwrap(),
            vec![JobName::BreakGlass],
            "a fan-out message runs exactly its job: the watch has its own message"
        );
        let err = ScheduledInput::parse(&json!({"job": "dormnat"}))
            .unwrap()
            .jobs()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "scheduled input: unknown job \"dormnat\"; expected break-glass, dormant, workloads, watch or all"
        );
        let err = ScheduledInput::parse(&json!({"source": "aws.events"})).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "scheduled input: expected {\"job\":\"break-glass|dormant|workloads|watch|all\"}"
            ),
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
}
