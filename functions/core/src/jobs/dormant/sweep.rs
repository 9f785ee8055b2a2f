//! The end of a finished scan: walk the findings (a page at a time, memory bounded) and move each one on. An
//! open finding this scan saw is notified when new or when `renotify_days` have passed since it was last; an
//! open finding this scan did not see is resolved: the account signed in, was disabled, excluded or deleted.
//! Only a finished scan resolves, so an interrupted scan never resolves what it did not reach; and only a scan whose
//! plan lists every user or whose filter a full listing has confirmed (`resolves`, issue 14): a filter that skips
//! an account would otherwise close its finding as if it had signed in.
//!
//! Every decision is marked with the scan id in the finding, so a sweep redone after a crash (or continued by
//! another invocation) makes the same decisions and the same alert ids.

use chrono::Duration;
use serde_json::{json, Value};

use super::digest::{self, Tally};
use super::findings::{JOB, RESOLVED_TTL_SECS};
use crate::alert::{alert_id, types};
use crate::config::{DeliveryMode, DormantConfig};
use crate::jobs::{JobContext, JobError};
use crate::state::{Finding, FindingStatus, Recorded};

/// Findings read per sweep step.
pub const SWEEP_PAGE: usize = 200;

/// The resolution of an account the finished scan did not see: it signed in, or it was deleted.
pub const RESOLUTION: &str = "no longer dormant: signed in or deleted";
/// The resolution of an account the scan saw disabled (and `include_disabled` is false).
pub const RESOLVED_DISABLED: &str = "account disabled";
/// The resolution of an account the scan saw excluded (break-glass list, `exclude_*`).
pub const RESOLVED_EXCLUDED: &str = "excluded by configuration";

/// The scan that walks the findings: its id, and whether it may resolve what it did not see.
#[derive(Debug, Clone, Copy)]
pub struct Sweeper {
    pub scan: i64,
    pub resolves: bool,
}

/// Moves on one page of findings after `after`; returns where the next page starts, `None` after the last.
pub async fn sweep_page(
    ctx: &JobContext,
    config: &DormantConfig,
    sweeper: Sweeper,
    after: Option<&str>,
    tally: &mut Tally,
) -> Result<Option<String>, JobError> {
    let page = ctx
        .stores
        .findings
        .list_findings_after(&ctx.tenant.id, JOB, after, SWEEP_PAGE)
        .await?;
    for finding in &page {
        step(ctx, config, sweeper, finding.clone(), tally).await?;
    }
    Ok(match page.last() {
        Some(last) if page.len() == SWEEP_PAGE => Some(last.key.clone()),
        _ => None,
    })
}

fn scan_of(f: &Finding, field: &str) -> Option<i64> {
    f.data.get(field).and_then(Value::as_i64)
}

async fn step(
    ctx: &JobContext,
    config: &DormantConfig,
    sweeper: Sweeper,
    mut f: Finding,
    tally: &mut Tally,
) -> Result<(), JobError> {
    let scan = sweeper.scan;
    let now = ctx.now_epoch();
    let digest_mode = config.delivery == DeliveryMode::Digest;
    let earlier = f
        .data
        .get("alertId")
        .and_then(Value::as_str)
        .map(str::to_string);
    match f.status {
        FindingStatus::Open if scan_of(&f, "scan") == Some(scan) => {
            let population = f.data["evidence"]["population"]
                .as_str()
                .unwrap_or("member")
                .to_string();
            *tally.open.entry(population).or_default() += 1;
            let redo = scan_of(&f, "notifiedScan") == Some(scan);
            let renotify = Duration::days(i64::from(config.renotify_days)).num_seconds();
            let due = redo || f.last_notified.is_none_or(|last| last + renotify <= now);
            if !due {
                if let (true, Some(id)) = (digest_mode, earlier) {
                    tally.live_alerts.insert(id);
                }
                return Ok(());
            }
            let kind = if redo {
                f.data["notification"].as_str().unwrap_or("new").to_string()
            } else if f.last_notified.is_none() {
                "new".to_string()
            } else {
                "reminder".to_string()
            };
            let mut line = json!({"subject": f.data["subject"], "evidence": f.data["evidence"]});
            line["evidence"]["notification"] = kind.clone().into();
            line["evidence"]["firstSeen"] = epoch_text(f.first_seen).into();
            let id = if digest_mode {
                tally.push_finding(line);
                alert_id(
                    types::DORMANT_DIGEST,
                    &ctx.tenant.id,
                    &digest::digest_key(scan),
                )
            } else {
                let alert = digest::account_alert(
                    &ctx.tenant,
                    &format!("{}#{scan}", f.key),
                    &line,
                    ctx.now,
                );
                if ctx.outbox.record(&alert, now).await? == Recorded::New {
                    tally.alerts_recorded += 1;
                }
                alert.id
            };
            if kind == "new" {
                tally.new += 1;
            } else {
                tally.reminded += 1;
            }
            if let Some(previous) = earlier.filter(|e| *e != id) {
                tally.released_alerts.insert(previous);
            }
            if digest_mode {
                tally.live_alerts.insert(id.clone());
            }
            if !redo {
                f.last_notified = Some(now);
                f.data["alertId"] = id.into();
                f.data["notifiedScan"] = scan.into();
                f.data["notification"] = kind.into();
                ctx.stores.findings.put_finding(&f).await?;
            }
        }
        FindingStatus::Open if !sweeper.resolves => {
            // Not seen by an unverified plan: no evidence either way. The finding stays open, and so does the
            // digest that announced it.
            tally.kept_unverified += 1;
            if let (true, Some(id)) = (digest_mode, earlier) {
                tally.live_alerts.insert(id);
            }
        }
        FindingStatus::Open => {
            f.status = FindingStatus::Resolved;
            f.resolved_at = Some(now);
            f.expires_at = Some(now + RESOLVED_TTL_SECS);
            f.data["resolvedScan"] = scan.into();
            let seen_as = &f.data["seenAs"];
            let resolution = match seen_as["resolution"].as_str() {
                Some(why) if seen_as["scan"].as_i64() == Some(scan) => why.to_string(),
                _ => RESOLUTION.to_string(),
            };
            f.data["evidence"]["resolution"] = resolution.into();
            ctx.stores.findings.put_finding(&f).await?;
            announce_resolved(ctx, digest_mode, scan, &f, earlier, tally).await?;
        }
        FindingStatus::Resolved if scan_of(&f, "resolvedScan") == Some(scan) => {
            announce_resolved(ctx, digest_mode, scan, &f, earlier, tally).await?;
        }
        FindingStatus::Resolved => {}
    }
    Ok(())
}

async fn announce_resolved(
    ctx: &JobContext,
    digest_mode: bool,
    scan: i64,
    f: &Finding,
    earlier: Option<String>,
    tally: &mut Tally,
) -> Result<(), JobError> {
    // A finding never announced is closed silently: nobody was told about it.
    let Some(earlier) = earlier else {
        return Ok(());
    };
    tally.resolved += 1;
    let line = json!({
        "subject": f.data["subject"],
        "evidence": {
            "population": f.data["evidence"]["population"],
            "resolution": f.data["evidence"]["resolution"],
            "firstSeen": epoch_text(f.first_seen),
        },
    });
    if digest_mode {
        tally.push_resolved(line);
        tally.released_alerts.insert(earlier);
    } else {
        let key = format!("{}#resolved#{scan}", f.key);
        let alert = digest::resolved_alert(&ctx.tenant, &key, &line, &earlier, ctx.now);
        if ctx.outbox.record(&alert, ctx.now_epoch()).await? == Recorded::New {
            tally.alerts_recorded += 1;
        }
    }
    Ok(())
}

/// After the last page: the digest, and a `resolve` for each earlier digest no open finding refers to any more.
pub async fn finish(
    ctx: &JobContext,
    config: &DormantConfig,
    scan: i64,
    tally: &mut Tally,
) -> Result<(), JobError> {
    if config.delivery != DeliveryMode::Digest {
        return Ok(());
    }
    let now = ctx.now_epoch();
    if tally.has_news() {
        let alert = digest::digest_alert(&ctx.tenant, scan, tally, ctx.now);
        if ctx.outbox.record(&alert, now).await? == Recorded::New {
            tally.alerts_recorded += 1;
        }
    }
    let closed: Vec<String> = tally
        .released_alerts
        .difference(&tally.live_alerts)
        .cloned()
        .collect();
    for earlier in closed {
        let alert = digest::digest_closed_alert(&ctx.tenant, &earlier, ctx.now);
        if ctx.outbox.record(&alert, now).await? == Recorded::New {
            tally.alerts_recorded += 1;
        }
    }
    Ok(())
}

fn epoch_text(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
