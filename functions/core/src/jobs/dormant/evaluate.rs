//! The verdict on one account: a pure function of the user record, the tenant's privileged holders and
//! exclusions, the configuration and `now`. Thresholds per population (SPEC.md `[tenants.dormant]`).

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use super::activity::{success_tracking_start, Activity};
use super::exclusions::{Exclusion, Exclusions};
use super::populations::PrivilegedHolders;
use crate::config::{ActivitySignal, DormantConfig};
use crate::graph::model::User;

pub const FAILED_ONLY: &str = "recent failed sign-ins only";
pub const DISABLED: &str = "account disabled";
pub const SYNCED: &str =
    "synced from on-premises: disable or remove it in Active Directory, not in Entra ID";

/// The population an account is judged in; privileged wins over guest and member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Population {
    Member,
    Guest,
    Privileged,
}

impl Population {
    pub const ALL: [Population; 3] = [
        Population::Member,
        Population::Guest,
        Population::Privileged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Population::Member => "member",
            Population::Guest => "guest",
            Population::Privileged => "privileged",
        }
    }
}

/// A dormant account, with everything its finding records.
#[derive(Debug, Clone, PartialEq)]
pub struct DormantAccount {
    pub id: String,
    pub user_principal_name: Option<String>,
    pub display_name: Option<String>,
    pub population: Population,
    pub last_activity: Option<DateTime<Utc>>,
    pub days_inactive: Option<i64>,
    /// Holds licences (money spent on an unused account).
    pub licensed: bool,
    /// Synced from on-premises AD: fix it there.
    pub synced: bool,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Excluded(Exclusion),
    /// Disabled and `include_disabled` is false.
    Disabled,
    /// Active within its threshold, or new and inside the never-signed-in grace.
    Active,
    Dormant(Box<DormantAccount>),
}

/// What the verdict depends on besides the user.
pub struct Policy<'a> {
    pub config: &'a DormantConfig,
    pub privileged: &'a PrivilegedHolders,
    pub exclusions: &'a Exclusions,
    pub now: DateTime<Utc>,
}

fn date(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Policy<'_> {
    /// The smallest threshold of any population: an account active since `now - this` is active everywhere.
    pub fn min_threshold_days(&self) -> u32 {
        self.config
            .member_days
            .min(self.config.guest_days)
            .min(self.config.privileged_days)
    }

    pub fn evaluate(&self, user: &User) -> Verdict {
        if let Some(exclusion) = self.exclusions.check(user) {
            return Verdict::Excluded(exclusion);
        }
        let disabled = user.account_enabled == Some(false);
        if disabled && !self.config.include_disabled {
            return Verdict::Disabled;
        }
        let privileges = self.privileged.of(&user.id);
        let guest = user
            .user_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("Guest"));
        let (population, threshold) = match (privileges, guest) {
            (Some(_), _) => (Population::Privileged, self.config.privileged_days),
            (None, true) => (Population::Guest, self.config.guest_days),
            (None, false) => (Population::Member, self.config.member_days),
        };
        let cutoff = self.now - Duration::days(i64::from(threshold));
        let activity = Activity::of(user.sign_in_activity.as_ref(), self.config.activity);
        let pending = guest
            && user
                .external_user_state
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("PendingAcceptance"));
        let mut reasons = Vec::new();
        let (last_activity, days_inactive) = match activity.last {
            None if pending => {
                // An invitation nobody redeemed: judged on its own threshold from when it was sent.
                let since = user
                    .external_user_state_change_date_time
                    .or(user.created_date_time);
                let days = since.map(|s| (self.now - s).num_days());
                let limit = i64::from(self.config.pending_invitation_days);
                if days.is_some_and(|d| d < limit) {
                    return Verdict::Active;
                }
                reasons.push(match days {
                    Some(d) => format!("invitation pending for {d} days (threshold {limit})"),
                    None => "invitation pending since an unknown date".to_string(),
                });
                (None, days)
            }
            None => {
                let grace = i64::from(self.config.never_signed_in_grace_days);
                let age = user.created_date_time.map(|c| (self.now - c).num_days());
                if age.is_some_and(|a| a < grace) {
                    return Verdict::Active;
                }
                if activity.last_attempt.is_some() {
                    // Attempts but no success since Graph began recording successes (REFERENCE.md §1).
                    let since = user
                        .created_date_time
                        .map_or(success_tracking_start(), |c| {
                            c.max(success_tracking_start())
                        });
                    reasons.push(format!(
                        "no successful sign-in recorded since {} (created {} days ago)",
                        date(since),
                        age.map_or("?".to_string(), |a| a.to_string())
                    ));
                    (None, Some((self.now - since).num_days()))
                } else {
                    reasons.push(match age {
                        Some(a) => format!("never signed in (created {a} days ago, grace {grace})"),
                        None => "never signed in (creation date unknown)".to_string(),
                    });
                    (None, age)
                }
            }
            Some(last) => {
                if last > cutoff {
                    return Verdict::Active;
                }
                let days = (self.now - last).num_days();
                reasons.push(match (self.config.activity, activity.fell_back_to_attempts) {
                    (ActivitySignal::AnyAttempt, _) => {
                        format!("no sign-in for {days} days (threshold {threshold})")
                    }
                    (ActivitySignal::Successful, false) => {
                        format!("no successful sign-in for {days} days (threshold {threshold})")
                    }
                    (ActivitySignal::Successful, true) => format!(
                        "no successful sign-in recorded (Graph records them since 2023-12-01): last sign-in \
                         attempt {} used, {days} days ago (threshold {threshold})",
                        date(last)
                    ),
                });
                (Some(last), Some(days))
            }
        };
        if self.config.activity == ActivitySignal::Successful
            && activity.failed_attempts_since(cutoff)
        {
            reasons.push(FAILED_ONLY.to_string());
        }
        if let Some(privileges) = privileges {
            reasons.extend(privileges.iter().map(|p| p.reason()));
        }
        if disabled {
            reasons.push(DISABLED.to_string());
        }
        let synced = user.on_premises_sync_enabled == Some(true);
        if synced {
            reasons.push(SYNCED.to_string());
        }
        let licences = user.assigned_licenses.len();
        if licences > 0 {
            reasons.push(format!(
                "holds {licences} licence{}",
                if licences == 1 { "" } else { "s" }
            ));
        }
        Verdict::Dormant(Box::new(DormantAccount {
            id: user.id.clone(),
            user_principal_name: user.user_principal_name.clone(),
            display_name: user.display_name.clone(),
            population,
            last_activity,
            days_inactive,
            licensed: licences > 0,
            synced,
            reasons,
        }))
    }
}
