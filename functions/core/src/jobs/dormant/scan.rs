//! The scan: which users to list (the request plan), one page at a time, with a checkpoint after each page so a
//! tenant too large for one invocation is finished by the next ones.
//!
//! Request plan (REFERENCE.md §1, §4). Every `/users` page that selects `signInActivity` counts against the
//! reports family (5 requests / 10 s) and the signInActivity family (10 / minute), 500 users a page. Only users
//! whose last success is older than the smallest threshold, or who have none, can be dormant, so the cheap plan
//! lists just those with two server-side filters (beta, `lastSuccessfulSignInDateTime le <cutoff>` and
//! `eq null`; Graph cannot combine them with other properties). Whether Graph accepts them is probed on the
//! first page and remembered per tenant; when it answers 400 the scan falls back to listing every user. Roles,
//! groups and exclusions are read through the directory path, which has its own, far larger budget.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::digest::Tally;
use super::verify::{FilterCheck, FilterMiss};
use crate::graph::{
    ApiVersion, Comparison, SignInActivityFilter, SignInActivityProperty, UserQuery,
};

/// A remembered probe answer is trusted this long, then probed again (Graph may start accepting the filter).
pub const PROBE_VALID_SECS: i64 = 30 * 24 * 3600;

/// Which listing a scan is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Filtered plan, part 1: last success on or before the cutoff.
    Stale,
    /// Filtered plan, part 2: no success recorded (`eq null`).
    Never,
    /// Filtered plan, part 3 (after the probe, so a Graph that rejects the filter costs no lookups): each
    /// privileged holder read on its own (few requests), so the listings could cut at the longer member and guest
    /// thresholds.
    Privileged,
    /// Fallback plan: every user. Also run after the filtered phases by a scan that verifies the filter
    /// ([`super::verify`]).
    Full,
    /// Listing done: moving findings on (notify, resolve).
    Sweep,
}

impl Phase {
    /// The phase after this one; `lookup_privileged` adds [`Phase::Privileged`] to the filtered plan, `verify`
    /// the full listing after it.
    pub fn after_listing(self, lookup_privileged: bool, verify: bool) -> Phase {
        match self {
            Phase::Stale => Phase::Never,
            Phase::Never if lookup_privileged => Phase::Privileged,
            Phase::Never | Phase::Privileged if verify => Phase::Full,
            Phase::Never | Phase::Privileged | Phase::Full | Phase::Sweep => Phase::Sweep,
        }
    }

    /// A phase of the filtered plan (what a verifying full listing is compared with).
    pub fn filtered(self) -> bool {
        matches!(self, Phase::Stale | Phase::Never | Phase::Privileged)
    }

    /// The `/users` query of a listing phase.
    pub fn query(self, cutoff: DateTime<Utc>) -> UserQuery {
        let filter = |comparison| SignInActivityFilter {
            property: SignInActivityProperty::LastSuccessfulSignIn,
            comparison,
            at: cutoff,
        };
        match self {
            Phase::Stale => UserQuery {
                api: ApiVersion::Beta,
                sign_in_filter: Some(filter(Comparison::OnOrBefore)),
                ..UserQuery::default()
            },
            Phase::Never => UserQuery {
                api: ApiVersion::Beta,
                sign_in_filter: Some(filter(Comparison::IsNull)),
                ..UserQuery::default()
            },
            Phase::Privileged | Phase::Full | Phase::Sweep => UserQuery::default(),
        }
    }
}

/// The remembered answer of the filter probe, and what full listings said about the filter since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterSupport {
    pub supported: bool,
    pub probed_at: i64,
    #[serde(default)]
    pub check: FilterCheck,
}

/// A scan in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanState {
    /// Start time (epoch seconds): the scan's id in findings and alert ids.
    pub id: i64,
    /// Fixed for the whole scan so the filtered listings stay consistent across invocations.
    pub cutoff: DateTime<Utc>,
    pub phase: Phase,
    /// Opaque `@odata.nextLink` of the current listing; `None` before its first page.
    pub next_link: Option<String>,
    pub pages: u64,
    pub examined: u64,
    /// The filtered plan reads the privileged holders one by one (and cut its listings later).
    #[serde(default)]
    pub lookup_privileged: bool,
    /// Where the privileged lookups continue (last holder id done).
    #[serde(default)]
    pub privileged_after: Option<String>,
    /// Where the sweep continues (last finding key done).
    #[serde(default)]
    pub sweep_after: Option<String>,
    #[serde(default)]
    pub tally: Tally,
    /// `signInActivity` requests this scan has spent (listing pages and privileged lookups): its pace.
    #[serde(default)]
    pub sign_in_activity_requests: u64,
    /// A `monitoring.blind` says this scan will not finish within `renotify_days` (resolved when it does).
    #[serde(default)]
    pub too_slow_alerted: bool,
    /// The scan started on the filtered plan.
    #[serde(default)]
    pub filtered: bool,
    /// The filtered plan is followed by a full listing that checks it ([`super::verify`]).
    #[serde(default)]
    pub verify: bool,
    /// The sweep may resolve findings: the plan lists every user or its filter has been confirmed. False for a
    /// scan checkpointed by a version that did not verify the filter: it resolves nothing, the next scan does.
    #[serde(default)]
    pub resolves: bool,
    /// Dormant accounts the verifying full listing found and the filtered phases had not.
    #[serde(default)]
    pub missed: FilterMiss,
}

/// The dormant job's checkpoint (cursor store, per tenant).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    #[serde(default)]
    pub filter: Option<FilterSupport>,
    #[serde(default)]
    pub scan: Option<ScanState>,
    #[serde(default)]
    pub last_complete_scan: Option<i64>,
    /// What the last complete scan spent in `signInActivity` requests: what the next is expected to cost.
    #[serde(default)]
    pub last_scan_requests: Option<u64>,
}

impl Checkpoint {
    /// Whether a new scan should use (or probe) the filtered plan.
    /// A filter a full listing caught missing dormant accounts is never used again.
    pub fn use_filtered_plan(&self, now: i64) -> bool {
        match &self.filter {
            None => true,
            Some(f) if f.check.failed.is_some() => false,
            Some(f) => f.supported || now - f.probed_at >= PROBE_VALID_SECS,
        }
    }

    /// A new scan starting at `now`, whose filtered listings take users idle for `cutoff_days` or more; it first
    /// reads the privileged holders one by one when `lookup_privileged`. A filtered scan also runs the full
    /// listing when the filter is due a check (`verify_every`); one that does not verify resolves findings only
    /// once a full listing has confirmed the filter (the probing scan never does).
    pub fn start_scan(
        &mut self,
        now: DateTime<Utc>,
        cutoff_days: u32,
        lookup_privileged: bool,
        verify_every: u32,
    ) {
        let filtered = self.use_filtered_plan(now.timestamp());
        let (phase, verify, resolves) = match &self.filter {
            _ if !filtered => (Phase::Full, false, true),
            Some(f) if f.supported => {
                let verify = f.check.due(verify_every);
                (Phase::Stale, verify, verify || f.check.trusted())
            }
            // The probe (first or again after a rejection): not yet known to work, let alone to miss nothing.
            _ => (Phase::Stale, false, false),
        };
        self.scan = Some(ScanState {
            id: now.timestamp(),
            cutoff: now - Duration::days(i64::from(cutoff_days)),
            phase,
            next_link: None,
            pages: 0,
            examined: 0,
            lookup_privileged,
            privileged_after: None,
            sweep_after: None,
            tally: Tally::default(),
            sign_in_activity_requests: 0,
            too_slow_alerted: false,
            filtered,
            verify,
            resolves,
            missed: FilterMiss::default(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphRequest;
    use chrono::TimeZone;

    #[test]
    fn filtered_listings_ask_beta_for_stale_and_missing_successes() {
        let cutoff = Utc.with_ymd_and_hms(2026, 9, 23, 6, 0, 0).unwrap();
        let stale = GraphRequest::users(&Phase::Stale.query(cutoff)).path_and_query();
        assert!(stale.starts_with("/beta/users?$select=id,"), "{stale}");
        assert!(
            stale.ends_with(
                "&$filter=signInActivity/lastSuccessfulSignInDateTime%20le%202026-09-23T06:00:00Z&$top=500"
            ),
            "{stale}"
        );
        let never = GraphRequest::users(&Phase::Never.query(cutoff)).path_and_query();
        assert!(
            never.ends_with(
                "&$filter=signInActivity/lastSuccessfulSignInDateTime%20eq%20null&$top=500"
            ),
            "{never}"
        );
        let full = GraphRequest::users(&Phase::Full.query(cutoff)).path_and_query();
        assert!(
            full.starts_with("/v1.0/users?") && !full.contains("filter"),
            "{full}"
        );
    }

    #[test]
    fn a_rejected_filter_is_probed_again_after_thirty_days() {
        let mut checkpoint = Checkpoint {
            filter: Some(FilterSupport {
                supported: false,
                probed_at: 1_000,
                check: FilterCheck::default(),
            }),
            ..Checkpoint::default()
        };
        assert!(!checkpoint.use_filtered_plan(1_000 + PROBE_VALID_SECS - 1));
        assert!(checkpoint.use_filtered_plan(1_000 + PROBE_VALID_SECS));
        checkpoint.filter = None;
        assert!(checkpoint.use_filtered_plan(0));
    }
}
