//! Checking the filtered plan against a full listing (issue 14). Graph accepting the `signInActivity` filters says
//! nothing about whether `eq null` matches all four "never" shapes (property missing, `null`, `""`,
//! `"0001-01-01T00:00:00Z"`; REFERENCE.md §1, "unconfirmed"). An account the filter skips is never listed, and the
//! sweep would close its finding as "signed in or deleted". So the scan after the probe, and then every
//! `verify_every` scans, also lists every user and compares: a dormant account the filtered phases did not return
//! switches the tenant to the full listing for good. Until a full listing has confirmed the filter, a filtered scan
//! resolves nothing.
//!
//! The check costs a full listing's `signInActivity` pages (users / 500) on top of the filtered plan's, once every
//! `verify_every` scans; the pace estimate (`last_scan_requests`) includes them.

use serde::{Deserialize, Serialize};

use super::scan::{Checkpoint, ScanState};
use crate::jobs::JobContext;

/// Missed account ids kept as examples (the count is kept in full): bounded so the checkpoint stays small.
pub const MISSED_EXAMPLES: usize = 5;

/// What full listings have said about the tenant's filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterCheck {
    /// The last scan whose full listing found no dormant account the filter missed.
    #[serde(default)]
    pub verified_scan: Option<i64>,
    /// Filtered scans finished without a full listing since the last check (or since the probe).
    #[serde(default)]
    pub scans_since: u32,
    /// The full listing found dormant accounts the filter did not return: the filter is not used again.
    #[serde(default)]
    pub failed: Option<FilterMiss>,
}

/// The dormant accounts a verifying scan's full listing found and its filtered phases did not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterMiss {
    pub scan: i64,
    pub count: u64,
    /// The first [`MISSED_EXAMPLES`] object ids.
    pub examples: Vec<String>,
}

impl FilterMiss {
    pub fn add(&mut self, user_id: &str) {
        self.count += 1;
        if self.examples.len() < MISSED_EXAMPLES && !self.examples.iter().any(|e| e == user_id) {
            self.examples.push(user_id.to_string());
        }
    }

    /// The run-line note.
    pub fn note(&self) -> String {
        format!(
            "the signInActivity filter missed {} dormant account(s) the full listing found (e.g. {}): listing every \
             user from now on (remembered for this tenant)",
            self.count,
            self.examples.first().map_or("?", String::as_str)
        )
    }
}

impl FilterCheck {
    /// Whether a new filtered scan should also run the full listing: the filter has never been confirmed, or
    /// `verify_every - 1` filtered scans have finished since it last was (so one scan in `verify_every` checks).
    pub fn due(&self, verify_every: u32) -> bool {
        self.verified_scan.is_none() || self.scans_since + 1 >= verify_every.max(1)
    }

    /// Whether a filtered scan that does not verify may resolve findings: a full listing has confirmed the filter.
    pub fn trusted(&self) -> bool {
        self.verified_scan.is_some() && self.failed.is_none()
    }

    /// Records the end of a filtered scan: `verified` when it ran the full listing, with what that missed.
    pub fn finished(&mut self, scan: i64, verified: bool, missed: Option<FilterMiss>) {
        match (verified, missed) {
            (_, Some(miss)) if miss.count > 0 => self.failed = Some(miss),
            (true, _) => {
                self.verified_scan = Some(scan);
                self.scans_since = 0;
            }
            (false, _) => self.scans_since = self.scans_since.saturating_add(1),
        }
    }
}

/// At the end of a scan on the filtered plan: what its check found goes into the tenant's checkpoint, and a miss
/// into the run line.
pub(super) fn scan_finished(
    ctx: &JobContext,
    checkpoint: &mut Checkpoint,
    scan: &ScanState,
    notes: &mut Vec<String>,
) {
    let Some(filter) = checkpoint.filter.as_mut().filter(|_| scan.filtered) else {
        return;
    };
    let missed = (scan.missed.count > 0).then(|| scan.missed.clone());
    if let Some(miss) = &missed {
        notes.push(miss.note());
        tracing::warn!(tenant = %ctx.tenant.name, missed = miss.count, example = ?miss.examples.first(),
            "the signInActivity filter missed dormant accounts: full listing from now on");
    }
    filter.check.finished(scan.id, scan.verify, missed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_after_the_probe_verifies_then_every_tenth() {
        let mut check = FilterCheck::default();
        assert!(check.due(10), "never confirmed");
        assert!(!check.trusted());
        check.finished(1, true, None);
        assert!(check.trusted());
        let mut verifying = Vec::new();
        for scan in 2..=21 {
            let due = check.due(10);
            if due {
                verifying.push(scan);
            }
            check.finished(scan, due, None);
        }
        assert_eq!(verifying, [11, 21]);
    }

    #[test]
    fn verify_every_one_checks_every_scan() {
        let mut check = FilterCheck::default();
        check.finished(1, true, None);
        assert!(check.due(1));
        check.finished(2, true, None);
        assert!(check.due(1));
        assert!(check.due(0), "0 is treated as 1");
    }

    #[test]
    fn a_miss_is_remembered_with_a_bounded_list_of_examples() {
        let mut miss = FilterMiss {
            scan: 7,
            ..FilterMiss::default()
        };
        for n in 0..8 {
            miss.add(&format!("u{n}"));
        }
        assert_eq!(miss.count, 8);
        assert_eq!(miss.examples, ["u0", "u1", "u2", "u3", "u4"]);
        assert!(miss.note().contains("missed 8 dormant account(s)"));
        assert!(miss.note().contains("(e.g. u0)"));
        let mut check = FilterCheck::default();
        check.finished(7, true, Some(miss.clone()));
        assert_eq!(check.failed, Some(miss));
        assert!(!check.trusted());
        assert_eq!(check.verified_scan, None);
    }

    #[test]
    fn an_old_checkpoint_without_the_check_loads_unconfirmed() {
        let check: FilterCheck = serde_json::from_str("{}").unwrap();
        assert_eq!(check, FilterCheck::default());
        assert!(check.due(10));
    }
}
