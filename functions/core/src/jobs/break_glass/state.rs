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

/// How often a run re-reads the last [`DEEP_READ_HOURS`] instead of its look-back: log rows arrive "typically
/// within 6 hours" and "up to 24 hours" late (REFERENCE.md §2), past any look-back a 5-minute schedule can afford.
/// The wider window costs no extra request unless the accounts' rows overflow a page (1,000); the rows already
/// alerted are recognised by id.
pub(super) const DEEP_READ_EVERY_MINUTES: i64 = 60;
pub(super) const DEEP_READ_HOURS: i64 = 24;
/// And once a day the whole retention window ([`MAX_WINDOW_DAYS`]).
pub(super) const RETENTION_READ_EVERY_HOURS: i64 = 24;

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
    /// When a run last re-read the last [`DEEP_READ_HOURS`] (and the retention window) to its end.
    #[serde(default)]
    pub deep_read_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub retention_read_at: Option<DateTime<Utc>>,
    /// The start of the first window this state read: reconciliation alerts nothing older (issue 14).
    #[serde(default)]
    pub watched_since: Option<DateTime<Utc>>,
    /// The newest interactive and non-interactive sign-in (any outcome) the logs produced per account:
    /// what `signInActivity` is compared with (`reconcile`). [`Self::last_success`] is the third.
    #[serde(default)]
    pub newest_interactive: BTreeMap<String, DateTime<Utc>>,
    #[serde(default)]
    pub newest_non_interactive: BTreeMap<String, DateTime<Utc>>,
    /// Sign-ins alerted from `signInActivity` whose log row has not been read yet.
    #[serde(default)]
    pub reconciled: Vec<Reconciled>,
    /// Whether `signInActivity`'s request ids turned out to be the sign-in log rows' ids (REFERENCE.md §2:
    /// likely, unconfirmed). `None` until a reconciled sign-in's row arrives; `Some(false)` makes
    /// reconciliation key its alerts on the account and time.
    #[serde(default)]
    pub request_ids_match: Option<bool>,
    /// When the posture checks last ran to the end (`posture::EVERY`).
    #[serde(default)]
    pub posture_checked_at: Option<DateTime<Utc>>,
    /// Graph refused the Conditional Access audits in the accounts' audit filter: a request of their own.
    #[serde(default)]
    pub separate_policy_audits: bool,
}

/// A sign-in alerted from `signInActivity` before its log row was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Reconciled {
    /// Lower-case account id.
    pub account: String,
    /// The `...RequestId` Graph gave, if any.
    #[serde(default)]
    pub request_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// How far back a run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Depth {
    /// From the last window's end less the look-back.
    LookBack,
    /// The last [`DEEP_READ_HOURS`] (hourly).
    Deep,
    /// The retention window (daily).
    Retention,
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

    /// How far back this run reads: the retention window once a day, the last 24 h once an hour, else the
    /// look-back. The first run reads `first_run_hours` and counts as a deep read.
    pub fn depth(&self, now: DateTime<Utc>) -> Depth {
        let due = |at: Option<DateTime<Utc>>, every: Duration| at.is_none_or(|t| now - t >= every);
        if self.window_end.is_none() {
            Depth::LookBack
        } else if due(
            self.retention_read_at,
            Duration::hours(RETENTION_READ_EVERY_HOURS),
        ) {
            Depth::Retention
        } else if due(
            self.deep_read_at,
            Duration::minutes(DEEP_READ_EVERY_MINUTES),
        ) {
            Depth::Deep
        } else {
            Depth::LookBack
        }
    }

    /// After a run of `depth` read its whole window: when the next deep reads are due.
    pub fn read_to_end(&mut self, depth: Depth, now: DateTime<Utc>) {
        let first = self.window_end.is_none();
        // A reconciled sign-in whose row never came within the retention is not waited for any longer.
        self.reconciled
            .retain(|r| now - r.at <= Duration::days(MAX_WINDOW_DAYS));
        if first || depth != Depth::LookBack {
            self.deep_read_at = Some(now);
        }
        if first || depth == Depth::Retention {
            self.retention_read_at = Some(now);
        }
    }

    /// This run's window: from the last window's end minus the look-back (late log rows,
    /// REFERENCE.md §2) to `now`, or deeper ([`Self::depth`]); the first run reads `first_run_hours`.
    pub fn window(
        &self,
        config: &BreakGlassConfig,
        now: DateTime<Utc>,
        notes: &mut Vec<String>,
    ) -> TimeWindow {
        let from = match self.window_end {
            Some(end) => {
                let look_back =
                    end.min(now) - Duration::minutes(i64::from(config.lookback_minutes));
                match self.depth(now) {
                    Depth::LookBack => look_back,
                    Depth::Deep => {
                        notes.push(format!(
                            "deep re-read: the last {DEEP_READ_HOURS} h (late log rows)"
                        ));
                        look_back.min(now - Duration::hours(DEEP_READ_HOURS))
                    }
                    Depth::Retention => {
                        notes.push(format!(
                            "daily re-read of the {MAX_WINDOW_DAYS}-day log retention (late log rows)"
                        ));
                        now - Duration::days(MAX_WINDOW_DAYS)
                    }
                }
            }
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
            deep_read_at: Some(now - Duration::minutes(30)),
            retention_read_at: Some(now - Duration::hours(3)),
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
    fn every_hour_the_last_day_and_every_day_the_retention_window_are_read_again() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap();
        let mut state = RunState::default();
        state.read_to_end(Depth::LookBack, now);
        state.window_end = Some(now);
        let at = |minutes| now + Duration::minutes(minutes);
        let mut notes = Vec::new();
        // 59 minutes after the first run: the look-back.
        assert_eq!(state.depth(at(59)), Depth::LookBack);
        assert_eq!(state.window(&config(), at(59), &mut notes).from, at(-60));
        // An hour after: the last 24 h, and said so.
        assert_eq!(state.depth(at(60)), Depth::Deep);
        let deep = state.window(&config(), at(60), &mut notes);
        assert_eq!(deep.from, at(60) - Duration::hours(24));
        assert_eq!(notes, ["deep re-read: the last 24 h (late log rows)"]);
        state.read_to_end(Depth::Deep, at(60));
        assert_eq!(state.depth(at(100)), Depth::LookBack);
        // A day after the first run: the retention window.
        assert_eq!(state.depth(at(24 * 60)), Depth::Retention);
        assert_eq!(
            state.window(&config(), at(24 * 60), &mut notes).from,
            at(24 * 60) - Duration::days(MAX_WINDOW_DAYS)
        );
        state.read_to_end(Depth::Retention, at(24 * 60));
        assert_eq!(state.depth(at(24 * 60 + 30)), Depth::LookBack);
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
