//! What the break-glass job remembers between runs, as one JSON value in the cursor store under
//! (tenant id, `break-glass`). Only the job writes it, under the per-tenant lease.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::super::{JobContext, JobError, JobName};
use crate::config::BreakGlassConfig;
use crate::graph::TimeWindow;

/// The oldest start a window can have: sign-in logs are kept 30 days on P1/P2 (REFERENCE.md §2),
/// so a cursor stuck further back (a long outage) cannot find more by reading further.
pub(super) const MAX_WINDOW_DAYS: i64 = 30;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RunState {
    /// The end of the last window whose alerts are all in the outbox. `None` before the first run.
    #[serde(default)]
    pub window_end: Option<DateTime<Utc>>,
    /// The current outage, while runs fail.
    #[serde(default)]
    pub outage: Option<Outage>,
    /// When the accounts were last looked up (existence, drill); see `drill::CHECK_EVERY`.
    #[serde(default)]
    pub accounts_checked_at: Option<DateTime<Utc>>,
    /// Latest successful sign-in seen in the logs per account (lower-case id): `signInActivity`
    /// lags up to 24 h (REFERENCE.md §1), so a drill seen in the logs counts at once.
    #[serde(default)]
    pub last_success: BTreeMap<String, DateTime<Utc>>,
    /// Configured accounts found missing, with when that was first noticed.
    #[serde(default)]
    pub missing: BTreeMap<String, DateTime<Utc>>,
    /// Graph refused several accounts in one sign-in `$filter`: one account per request from now on.
    #[serde(default)]
    pub one_user_per_sign_in_filter: bool,
    /// Graph refused interactive and non-interactive sign-ins in one beta filter: one request per
    /// kind from now on. Absent in states written before the combined read, hence the default.
    #[serde(default)]
    pub separate_sign_in_kinds: bool,
    /// Likewise for directory audit target filters.
    #[serde(default)]
    pub one_target_per_audit_filter: bool,
}

/// A run of failed runs, from the first failure to the last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Outage {
    pub since: DateTime<Utc>,
    pub last_failure: DateTime<Utc>,
    /// The last error, as the job reported it (Graph errors never carry secrets).
    pub reason: String,
    /// Licence, permission or credentials: a person must act, so it is alerted at once.
    pub blocking: bool,
}

impl RunState {
    pub async fn load(ctx: &JobContext, notes: &mut Vec<String>) -> Result<RunState, JobError> {
        let Some(value) = ctx
            .stores
            .cursors
            .get_cursor(&ctx.tenant.id, JobName::BreakGlass.as_str())
            .await?
        else {
            return Ok(RunState::default());
        };
        match serde_json::from_value(value) {
            Ok(state) => Ok(state),
            Err(e) => {
                // Refusing to run would leave the tenant unwatched; starting over re-reads the
                // first-run window and the outbox dedup keeps alerts single.
                tracing::warn!(tenant = %ctx.tenant.name, error = %e, "break-glass state unreadable; starting over");
                notes.push(format!("stored state unreadable ({e}); started over"));
                Ok(RunState::default())
            }
        }
    }

    pub async fn save(&self, ctx: &JobContext) -> Result<(), JobError> {
        let value = serde_json::to_value(self)
            .map_err(|e| JobError::Config(format!("cannot encode the break-glass state: {e}")))?;
        ctx.stores
            .cursors
            .put_cursor(&ctx.tenant.id, JobName::BreakGlass.as_str(), &value)
            .await?;
        Ok(())
    }

    /// This run's window: from the last window's end minus the look-back (late log rows,
    /// REFERENCE.md §2) to `now`; the first run reads `first_run_hours`.
    pub fn window(
        &self,
        config: &BreakGlassConfig,
        now: DateTime<Utc>,
        notes: &mut Vec<String>,
    ) -> TimeWindow {
        let from = match self.window_end {
            Some(end) => end.min(now) - Duration::minutes(i64::from(config.lookback_minutes)),
            None => {
                notes.push(format!(
                    "first run: reading the last {} h",
                    config.first_run_hours
                ));
                now - Duration::hours(i64::from(config.first_run_hours))
            }
        };
        let oldest = now - Duration::days(MAX_WINDOW_DAYS);
        if from < oldest {
            notes.push(format!(
                "window capped at {MAX_WINDOW_DAYS} days (log retention); older events cannot be read"
            ));
        }
        TimeWindow {
            from: from.max(oldest),
            to: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn config() -> BreakGlassConfig {
        toml::from_str("accounts = []\nlookback_minutes = 60\nfirst_run_hours = 24").unwrap()
    }

    #[test]
    fn window_starts_a_look_back_before_the_last_end() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap();
        let state = RunState {
            window_end: Some(now - Duration::minutes(5)),
            ..RunState::default()
        };
        let w = state.window(&config(), now, &mut Vec::new());
        assert_eq!(w.from, now - Duration::minutes(65));
        assert_eq!(w.to, now);
    }

    #[test]
    fn first_run_reads_first_run_hours_and_says_so() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap();
        let mut notes = Vec::new();
        let w = RunState::default().window(&config(), now, &mut notes);
        assert_eq!(w.from, now - Duration::hours(24));
        assert_eq!(notes, ["first run: reading the last 24 h"]);
    }

    #[test]
    fn window_never_reaches_past_log_retention() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap();
        let state = RunState {
            window_end: Some(now - Duration::days(90)),
            ..RunState::default()
        };
        let w = state.window(&config(), now, &mut Vec::new());
        assert_eq!(w.from, now - Duration::days(30));
    }
}
