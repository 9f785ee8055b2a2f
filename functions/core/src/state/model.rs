//! Records of the state store port, shared by both adapters.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What [`super::OutboxStore::record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// First time this alert id was seen: the alert and its deliveries are now in the outbox.
    New,
    /// The alert id was recorded before; nothing was written.
    AlreadyRecorded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    /// Refused for good by the sink (e.g. PagerDuty 400): kept with its reason, never retried.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "sent" => Some(DeliveryStatus::Sent),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One (alert, sink) delivery item of the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub alert_id: String,
    pub sink: String,
    /// The alert in its stored form ([`crate::alert::Alert::to_json`]).
    pub alert: Value,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    /// The dispatcher that last claimed the item ([`super::OutboxStore::claim`]); for a sent
    /// item, the one that sent it.
    pub claim_owner: Option<String>,
    /// When the alert was recorded (epoch seconds): how long it has waited.
    pub recorded_at: i64,
}

/// One (alert, sink) delivery item, by key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryKey {
    pub alert_id: String,
    pub sink: String,
}

/// An alert that has reached none of its sinks, with the sinks it still waits for.
#[derive(Debug, Clone, PartialEq)]
pub struct Undelivered {
    pub alert_id: String,
    pub kind: String,
    pub recorded_at: i64,
    /// (sink, last error) of each pending delivery, by sink name.
    pub pending: Vec<(String, Option<String>)>,
}

/// What is still waiting in the outbox ([`super::OutboxStore::pending_report`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PendingReport {
    /// Recording time of the oldest pending delivery, if any is pending.
    pub oldest_recorded_at: Option<i64>,
    /// Alerts recorded at or before the cut-off that no sink has received, oldest first.
    pub undelivered: Vec<Undelivered>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    Open,
    Resolved,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<FindingStatus> {
        match text {
            "open" => Some(FindingStatus::Open),
            "resolved" => Some(FindingStatus::Resolved),
            _ => None,
        }
    }
}

/// A finding (e.g. one dormant account) tracked across runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub tenant: String,
    pub job: String,
    /// Identifies the finding within (tenant, job): an object id, for instance.
    pub key: String,
    pub status: FindingStatus,
    pub first_seen: i64,
    pub last_notified: Option<i64>,
    pub resolved_at: Option<i64>,
    /// Whatever the job wants to keep with it (population, last activity, ...).
    pub data: Value,
    /// Epoch seconds after which the store may delete it (DynamoDB TTL); `None` keeps it.
    pub expires_at: Option<i64>,
}

/// A lease held on (tenant, job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub owner: String,
    pub until: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Another run holds the lease: the caller exits cleanly and says so.
    #[error(
        "another run ({holder}) holds the lease until {until} (epoch seconds); this run stops here"
    )]
    LeaseHeld { holder: String, until: i64 },
    /// The dispatcher no longer holds the claim on this delivery: its claim expired and another
    /// dispatcher took the item. Nothing was written.
    #[error("delivery of {alert_id} to sink {sink}: the claim of {owner} was lost to another dispatcher")]
    ClaimLost {
        alert_id: String,
        sink: String,
        owner: String,
    },
    #[error("state store {backend}: {reason}")]
    Backend {
        backend: &'static str,
        reason: String,
    },
    #[error("state store {backend}: a stored record is unreadable: {reason}")]
    Corrupt {
        backend: &'static str,
        reason: String,
    },
}
