//! The `dormant` job (issue 5): accounts with no activity past their population's threshold, kept as findings
//! across runs. [`run`] (and [`run_with`], with a budget) is the plain function the CLI, the Lambda handler and
//! the tests call: one invocation continues the tenant's scan from its checkpoint, page by page, until the scan
//! is finished or the budget is spent (`complete: false`; the next invocation continues).
//!
//! - `activity`: which sign-in date counts; `evaluate`: the verdict on one account;
//! - `populations`: privileged holders; `exclusions`: accounts never reported;
//! - `scan`: request plan and checkpoint; `findings`: state records; `sweep` and `digest`: what a finished scan
//!   notifies and resolves; `scan_progress`: how far a scan is, for whoever watches.

mod activity;
mod digest;
mod evaluate;
mod exclusions;
#[cfg(test)]
mod fake_roles;
mod findings;
mod pace;
pub(crate) mod populations;
pub mod reactivation;
pub(crate) mod roles;
mod scan;
mod scan_progress;
pub mod schedule;
mod steps;
mod sweep;
mod verify;

pub use activity::{success_tracking_start, Activity};
pub use digest::MAX_DIGEST_ITEMS;
pub use evaluate::{Population, FAILED_ONLY};
pub use findings::JOB;
pub use pace::SCAN_TOO_SLOW;
pub use scan::{Checkpoint, Phase};
pub use steps::MAX_PRIVILEGED_LOOKUPS;
pub use sweep::{RESOLUTION, RESOLVED_DISABLED, RESOLVED_EXCLUDED};

use std::time::{Duration, Instant};

use super::{JobContext, JobError, JobReport};
use crate::config::DormantConfig;
use crate::graph::GraphError;
use evaluate::Policy;
use exclusions::Exclusions;
use populations::PrivilegedHolders;
use scan_progress::ScanProgress;

/// The warning of a tenant whose configuration names no emergency account (every run line and `config check`).
pub const NO_EMERGENCY_ACCOUNTS: &str = "no emergency accounts configured for this tenant ([tenants.break_glass] \
     accounts): none is excluded from dormant findings, and break-glass accounts, which rarely sign in, would be \
     reported dormant";

/// How much one invocation may do before it checkpoints and returns `complete: false`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DormantOptions {
    /// Stop after this many pages (user listing pages and sweep pages together). `None`: no page limit.
    pub max_pages: Option<u64>,
    /// Stop after the page during which this much time has passed. `None`: no time limit.
    pub time_budget: Option<Duration>,
    /// Stop once this run has spent this many `signInActivity` requests: the tenant's fair share of its app's
    /// budget ([`schedule::fair_share`]). `None`: no share.
    pub sign_in_activity_share: Option<u64>,
}

impl DormantOptions {
    /// A budget that ends well before `deadline` (the Lambda timeout or the run's Graph deadline): the page in
    /// flight, the checkpoint and the delivery after it need the rest.
    pub fn within(deadline: Duration) -> DormantOptions {
        let reserve = (deadline / 5)
            .max(Duration::from_secs(30))
            .min(deadline / 2);
        DormantOptions {
            max_pages: None,
            time_budget: Some(deadline - reserve),
            sign_in_activity_share: None,
        }
    }
}

/// One invocation without a budget: the whole scan. `break_glass` is the tenant's emergency accounts: always
/// excluded from dormant findings.
pub async fn run(
    ctx: &JobContext,
    config: &DormantConfig,
    break_glass: &[String],
) -> Result<JobReport, JobError> {
    run_with(ctx, config, break_glass, &DormantOptions::default()).await
}

/// One invocation within `options`' budget.
pub async fn run_with(
    ctx: &JobContext,
    config: &DormantConfig,
    break_glass: &[String],
    options: &DormantOptions,
) -> Result<JobReport, JobError> {
    let started = Instant::now();
    let tenant = ctx.tenant.id.as_str();
    let mut notes = Vec::new();
    let mut checkpoint = match ctx.stores.cursors.get_cursor(tenant, JOB).await? {
        None => Checkpoint::default(),
        Some(value) => serde_json::from_value(value).unwrap_or_else(|e| {
            notes.push(format!("unreadable checkpoint ({e}): starting a new scan"));
            Checkpoint::default()
        }),
    };
    if break_glass.is_empty() {
        // Issue 14: a dormant-only tenant cannot tell its emergency accounts from forgotten ones, and those accounts
        // rarely sign in: they would be reported dormant on every scan.
        notes.push(NO_EMERGENCY_ACCOUNTS.to_string());
    }
    let privileged = PrivilegedHolders::read(ctx.graph.as_ref()).await?;
    notes.extend(privileged.notes.iter().cloned());
    if !privileged.eligibility_read {
        notes.push(
            "PIM eligibility not read: the tenant has no Entra ID P2 (only active role assignments count as \
             privileged)"
                .to_string(),
        );
    }
    let exclusions = Exclusions::read(ctx.graph.as_ref(), config, break_glass).await?;
    let policy = Policy {
        config,
        privileged: &privileged,
        exclusions: &exclusions,
        now: ctx.now,
    };
    if checkpoint.scan.is_none() {
        // Admins have the shortest threshold but are few: reading them one by one lets the filtered listings cut
        // at the members' and guests' threshold, which leaves out everyone active in between.
        let general = config.member_days.min(config.guest_days);
        let lookup = checkpoint.use_filtered_plan(ctx.now_epoch())
            && config.privileged_days < general
            && privileged.count() <= MAX_PRIVILEGED_LOOKUPS;
        let cutoff_days = if lookup {
            general
        } else {
            policy.min_threshold_days()
        };
        checkpoint.start_scan(ctx.now, cutoff_days, lookup, config.verify_every);
    }
    let mut scan = checkpoint
        .scan
        .take()
        .ok_or_else(|| JobError::Config("dormant scan state missing after start".to_string()))?;
    notes.push(if scan.pages == 0 && scan.phase != scan::Phase::Sweep {
        format!(
            "scan started ({} plan{})",
            steps::plan_name(scan.phase),
            if scan.verify {
                ", checked against a full listing"
            } else {
                ""
            }
        )
    } else {
        format!("scan continued after {} pages", scan.pages)
    });
    let shown = ScanProgress::start(ctx, &scan, &privileged).await;
    let recorded_before = scan.tally.alerts_recorded;
    let spent_before = scan.sign_in_activity_requests;
    let mut pace_alerts = 0usize;
    let mut unreadable = 0usize;
    let mut examined = 0usize;
    let mut pages = 0u64;
    loop {
        if scan.phase == scan::Phase::Privileged {
            examined += steps::privileged_step(ctx, &policy, &privileged, &mut scan).await?;
            pages += 1;
        } else if scan.phase == scan::Phase::Sweep {
            let sweeper = sweep::Sweeper {
                scan: scan.id,
                resolves: scan.resolves,
            };
            let next = sweep::sweep_page(
                ctx,
                config,
                sweeper,
                scan.sweep_after.as_deref(),
                &mut scan.tally,
            )
            .await?;
            pages += 1;
            match next {
                Some(after) => scan.sweep_after = Some(after),
                None => {
                    sweep::finish(ctx, config, scan.id, &mut scan.tally).await?;
                    let t = &scan.tally;
                    notes.push(format!(
                        "scan finished: {} users examined in {} pages; {} open findings ({} new, {} reminded, \
                         {} resolved)",
                        scan.examined,
                        scan.pages,
                        t.open_total(),
                        t.new,
                        t.reminded,
                        t.resolved
                    ));
                    if t.kept_unverified > 0 {
                        notes.push(format!(
                            "{} open findings not seen by this scan kept open: the signInActivity filter is not yet \
                             confirmed by a full listing (the next scan checks it)",
                            t.kept_unverified
                        ));
                    }
                    verify::scan_finished(ctx, &mut checkpoint, &scan, &mut notes);
                    tracing::info!(tenant = %ctx.tenant.name, examined = scan.examined, open = t.open_total(),
                        new = t.new, resolved = t.resolved, "dormant scan finished");
                    let recorded = (t.alerts_recorded - recorded_before) as usize
                        + pace_alerts
                        + pace::finished(ctx, &scan).await?;
                    checkpoint.scan = None;
                    checkpoint.last_complete_scan = Some(scan.id);
                    checkpoint.last_scan_requests = Some(scan.sign_in_activity_requests);
                    steps::save(ctx, &checkpoint).await?;
                    shown.finish();
                    return Ok(JobReport {
                        alerts_recorded: recorded,
                        examined,
                        unreadable,
                        notes,
                        complete: true,
                    });
                }
            }
        } else {
            let query = scan.phase.query(scan.cutoff);
            let first = scan.next_link.is_none();
            let page = match ctx
                .graph
                .list_users(&query, scan.next_link.as_deref())
                .await
            {
                Ok(page) => page,
                Err(GraphError::Api { status: 400, .. })
                    if first && matches!(scan.phase, scan::Phase::Stale | scan::Phase::Never) =>
                {
                    // Graph refused the signInActivity filter: remember it and list everyone instead. Findings
                    // recorded by the filtered part are found again by the full listing.
                    checkpoint.filter = Some(scan::FilterSupport {
                        supported: false,
                        probed_at: ctx.now_epoch(),
                        check: verify::FilterCheck::default(),
                    });
                    notes.push(
                        "Graph rejected the signInActivity filter: listing every user instead (remembered for \
                         this tenant)"
                            .to_string(),
                    );
                    scan.phase = scan::Phase::Full;
                    scan.next_link = None;
                    scan.lookup_privileged = false;
                    scan.filtered = false;
                    scan.verify = false;
                    scan.resolves = true;
                    checkpoint.scan = Some(scan.clone());
                    steps::save(ctx, &checkpoint).await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if first && scan.phase == scan::Phase::Never {
                // Accepted; what full listings said about the filter is kept (a re-probe starts unconfirmed).
                let check = match checkpoint.filter.take() {
                    Some(f) if f.supported => f.check,
                    _ => verify::FilterCheck::default(),
                };
                checkpoint.filter = Some(scan::FilterSupport {
                    supported: true,
                    probed_at: ctx.now_epoch(),
                    check,
                });
            }
            scan.sign_in_activity_requests += 1;
            for bad in &page.malformed {
                unreadable += 1;
                let id = bad.id.as_deref().unwrap_or("(no id)");
                notes.push(format!(
                    "user record {id} on page {} could not be read ({}); the rest of the page was used",
                    scan.pages + 1,
                    bad.error
                ));
                tracing::warn!(tenant = %ctx.tenant.name, record = id, page = scan.pages + 1, error = %bad.error,
                    "unreadable user record skipped");
                if let Some(id) = &bad.id {
                    findings::keep_unread(ctx.stores.findings.as_ref(), tenant, id, scan.id)
                        .await?;
                }
            }
            for user in &page.items {
                examined += 1;
                scan.examined += 1;
                steps::judge(ctx, &policy, user, &mut scan).await?;
            }
            scan.pages += 1;
            pages += 1;
            match page.next_link {
                Some(link) => scan.next_link = Some(link),
                None => {
                    scan.next_link = None;
                    scan.phase = scan
                        .phase
                        .after_listing(scan.lookup_privileged, scan.verify);
                }
            }
            if scan.pages % 100 == 0 {
                tracing::info!(tenant = %ctx.tenant.name, pages = scan.pages, examined = scan.examined,
                    "dormant scan progress");
            }
        }
        checkpoint.scan = Some(scan.clone());
        steps::save(ctx, &checkpoint).await?;
        shown.update(ctx, &scan, &privileged);
        let out_of_pages = options.max_pages.is_some_and(|max| pages >= max);
        let out_of_time = options.time_budget.is_some_and(|b| started.elapsed() >= b);
        let out_of_share = options
            .sign_in_activity_share
            .is_some_and(|share| scan.sign_in_activity_requests - spent_before >= share);
        if out_of_pages || out_of_time || out_of_share {
            notes.push(format!(
                "stopped at a checkpoint after {} pages ({} users examined so far){}; the next run continues",
                scan.pages,
                scan.examined,
                if out_of_share && !out_of_pages && !out_of_time {
                    ", its share of the app's signInActivity budget for this run spent"
                } else {
                    ""
                }
            ));
            pace_alerts +=
                pace::checkpointed(ctx, config, &checkpoint, &mut scan, &mut notes).await?;
            checkpoint.scan = Some(scan.clone());
            steps::save(ctx, &checkpoint).await?;
            return Ok(JobReport {
                alerts_recorded: (scan.tally.alerts_recorded - recorded_before) as usize
                    + pace_alerts,
                examined,
                unreadable,
                notes,
                complete: false,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_leaves_a_fifth_of_the_deadline_and_at_least_thirty_seconds() {
        let within = |secs| DormantOptions::within(Duration::from_secs(secs)).time_budget;
        assert_eq!(within(900), Some(Duration::from_secs(720)));
        assert_eq!(within(120), Some(Duration::from_secs(90)));
        assert_eq!(within(40), Some(Duration::from_secs(20)));
    }
}
