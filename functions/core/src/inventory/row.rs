//! One identity of the inventory (SPEC.md "Inventory"): what it is, whether it is used, what it may do, how it
//! is secured, and what entrawatch holds about it.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// SPEC.md's four kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Member,
    Guest,
    ServicePrincipal,
    ManagedIdentity,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Member,
        Kind::Guest,
        Kind::ServicePrincipal,
        Kind::ManagedIdentity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Member => "member",
            Kind::Guest => "guest",
            Kind::ServicePrincipal => "service_principal",
            Kind::ManagedIdentity => "managed_identity",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// How long since the last successful activity, in the bands the HTML counts and charts. 90 days is the
/// common inactivity threshold (REFERENCE.md §1: "typical inactivity windows: 90 to 180 days").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Band {
    Within30,
    Within90,
    Within180,
    Over180,
    /// No successful activity recorded (never, or since before Graph tracked it).
    Never,
    /// Not read (no permission or licence for the activity report).
    Unknown,
}

impl Band {
    pub const ALL: [Band; 6] = [
        Band::Within30,
        Band::Within90,
        Band::Within180,
        Band::Over180,
        Band::Never,
        Band::Unknown,
    ];

    pub fn of(days: Option<i64>, activity_read: bool) -> Band {
        match days {
            _ if !activity_read => Band::Unknown,
            None => Band::Never,
            Some(d) if d <= 30 => Band::Within30,
            Some(d) if d <= 90 => Band::Within90,
            Some(d) if d <= 180 => Band::Within180,
            Some(_) => Band::Over180,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Band::Within30 => "0-30 days",
            Band::Within90 => "31-90 days",
            Band::Within180 => "91-180 days",
            Band::Over180 => "over 180 days",
            Band::Never => "never",
            Band::Unknown => "not read",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// One row. Empty (`None`) means "not read": a permission or licence was missing, and the run's notes say which.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IdentityRow {
    pub kind: Option<Kind>,
    pub id: String,
    /// UPN for users, display name (or appId) for service principals.
    pub name: String,
    pub display_name: Option<String>,
    /// Service principals only.
    pub app_id: Option<String>,
    pub enabled: Option<bool>,
    pub created: Option<DateTime<Utc>>,
    pub last_activity: Option<DateTime<Utc>>,
    pub days_inactive: Option<i64>,
    /// Whether last activity was read at all (the band is "not read" otherwise).
    #[serde(skip)]
    pub activity_read: bool,
    /// `active: <role>`, `eligible: <role>`, `via group <g>: <role>`, `app permission: <name>`.
    pub privileged_roles: Vec<String>,
    pub mfa_registered: Option<bool>,
    pub methods: Vec<String>,
    /// Service principals: secrets and certificates on it and on its app registration.
    pub credentials: Option<u32>,
    pub nearest_expiry: Option<DateTime<Utc>>,
    pub synced: Option<bool>,
    /// Microsoft's own service principals (REFERENCE.md §11).
    pub first_party: bool,
    /// Open findings entrawatch holds for it: `dormant`, `posture: ...`, `credential expiring`, ...
    pub findings: Vec<String>,
}

impl IdentityRow {
    pub fn kind(&self) -> Kind {
        self.kind.unwrap_or(Kind::Member)
    }

    pub fn band(&self) -> Band {
        Band::of(self.days_inactive, self.activity_read)
    }

    /// Days from `at` to `now`, never negative.
    pub fn days_since(at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
        (now - at).num_days().max(0)
    }

    /// How much the row asks for a person's attention: findings first, then privilege, then a user without MFA,
    /// then long inactivity (the HTML's "most notable identities").
    pub fn notability(&self) -> (usize, bool, bool, i64) {
        let no_mfa = self.mfa_registered == Some(false) && self.enabled != Some(false);
        (
            self.findings.len(),
            !self.privileged_roles.is_empty(),
            no_mfa,
            self.days_inactive
                .unwrap_or(if self.activity_read { 100_000 } else { 0 }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_follow_days_and_say_when_activity_was_not_read() {
        assert_eq!(Band::of(Some(0), true), Band::Within30);
        assert_eq!(Band::of(Some(90), true), Band::Within90);
        assert_eq!(Band::of(Some(181), true), Band::Over180);
        assert_eq!(Band::of(None, true), Band::Never);
        assert_eq!(Band::of(Some(3), false), Band::Unknown);
    }

    #[test]
    fn findings_outrank_privilege_and_privilege_outranks_inactivity() {
        let finding = IdentityRow {
            findings: vec!["dormant".into()],
            ..IdentityRow::default()
        };
        let admin = IdentityRow {
            privileged_roles: vec!["active: Global Administrator".into()],
            days_inactive: Some(1),
            activity_read: true,
            ..IdentityRow::default()
        };
        let idle = IdentityRow {
            days_inactive: Some(900),
            activity_read: true,
            ..IdentityRow::default()
        };
        assert!(finding.notability() > admin.notability());
        assert!(admin.notability() > idle.notability());
    }
}
