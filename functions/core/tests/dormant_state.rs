//! Dormant findings across runs with an advancing clock (new, quiet, resolved, reminded), digest and per-finding
//! delivery, and a scan interrupted after k pages and resumed by a new process: on SQLite and DynamoDB (moto).

mod dormant_support;
mod state_support;

use std::sync::Arc;

use chrono::Duration;
use dormant_support::*;
use entrawatch_core::alert::{alert_id, types};
use entrawatch_core::graph::GraphPort;
use entrawatch_core::jobs::dormant::{
    self, DormantOptions, RESOLUTION, RESOLVED_DISABLED, RESOLVED_EXCLUDED,
};
use entrawatch_core::sinks::pagerduty;
use entrawatch_core::state::{FindingStatus, Stores};
use serde_json::{json, Value};
use state_support::fixtures::Fixture;

/// One run against a fresh emulator on `text`, at the scenario's `now` shifted by `days`.
async fn run_at(
    text: &str,
    days: i64,
    stores: &Stores,
    extra: &str,
) -> entrawatch_core::jobs::JobReport {
    let emu = emulator(&shifted(text, days)).await;
    let ctx = ctx(
        client(&emu) as Arc<dyn GraphPort>,
        stores.clone(),
        now() + Duration::days(days),
    );
    let report = dormant::run(&ctx, &config(extra), &break_glass())
        .await
        .unwrap();
    emu.stop().await;
    assert!(report.complete);
    report
}

/// The rule tenant after a day: 02 signed in, 03 deleted, 18 disabled.
fn changed() -> String {
    let text = edit_user(&scenario_text(), 2, |b| b.replace("\"-200d\"", "\"-1h\""));
    let text = edit_user(&text, 3, |_| String::new());
    edit_user(&text, 18, |b| {
        b.replace("accountEnabled = true", "accountEnabled = false")
    })
}

fn ids(lines: &Value) -> Vec<String> {
    lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["subject"]["id"].as_str().unwrap().to_string())
        .collect()
}

async fn digest_mode_notifies_once_resolves_and_reminds(f: impl Fixture) {
    let stores = Stores::new(f.open().await);
    run_at(&scenario_text(), 0, &stores, "").await;
    let first = take_alerts(&stores).await;
    assert_eq!(first.len(), 1);
    let first_digest = first[0].id.clone();
    assert_eq!(
        first_digest,
        alert_id(
            types::DORMANT_DIGEST,
            TENANT,
            &format!("digest#{}", now().timestamp())
        )
    );

    // Same tenant next day: nothing new, nothing sent.
    let quiet = run_at(&scenario_text(), 1, &stores, "").await;
    assert_eq!(quiet.alerts_recorded, 0);
    assert!(take_alerts(&stores).await.is_empty());

    // Day 2: one account signed in, one deleted, one disabled: resolved, in the next digest.
    run_at(&changed(), 2, &stores, "").await;
    let alerts = take_alerts(&stores).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let digest = &alerts[0];
    assert_eq!(digest.kind, types::DORMANT_DIGEST);
    assert_eq!(
        digest.title,
        "12 dormant accounts in contoso: 0 new, 0 reminders, 3 resolved"
    );
    assert_eq!(
        ids(&digest.extra["resolved"]),
        vec![uid(2), uid(3), uid(18)]
    );
    let resolutions: Vec<&Value> = (0..3)
        .map(|i| &digest.extra["resolved"][i]["evidence"]["resolution"])
        .collect();
    assert_eq!(resolutions, [RESOLUTION, RESOLUTION, RESOLVED_DISABLED]);
    assert_eq!(digest.extra["findings"], json!([]));
    assert_eq!(
        digest.extra["counts"],
        json!({"member": 7, "guest": 2, "privileged": 3})
    );
    let findings = stores
        .findings
        .list_findings(TENANT, "dormant")
        .await
        .unwrap();
    let resolved: Vec<&str> = findings
        .iter()
        .filter(|f| f.status == FindingStatus::Resolved)
        .map(|f| f.key.as_str())
        .collect();
    assert_eq!(resolved, vec![uid(2), uid(3), uid(18)]);

    // Day 31 (renotify_days = 30 after day 0): every open finding is reminded once; the first digest, whose
    // accounts are all resolved or reported again, is closed (PagerDuty resolve).
    run_at(&changed(), 31, &stores, "").await;
    let alerts = take_alerts(&stores).await;
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let reminder = alerts.iter().find(|a| a.resolves.is_none()).unwrap();
    assert_eq!(
        reminder.title,
        "12 dormant accounts in contoso: 0 new, 12 reminders, 0 resolved"
    );
    assert!(reminder.extra["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["evidence"]["notification"] == "reminder"));
    let closed = alerts.iter().find(|a| a.resolves.is_some()).unwrap();
    assert_eq!(closed.resolves.as_deref(), Some(first_digest.as_str()));
    assert_eq!(pagerduty::render(closed, "k")["event_action"], "resolve");
    assert_eq!(
        pagerduty::render(closed, "k")["dedup_key"],
        first_digest.as_str()
    );

    // The next day: quiet again.
    run_at(&changed(), 32, &stores, "").await;
    assert!(take_alerts(&stores).await.is_empty());
    // And when the account goes dormant again it is a new finding.
    let report = run_at(&scenario_text(), 33, &stores, "").await;
    let again = take_alerts(&stores).await;
    assert_eq!(report.alerts_recorded, 1);
    assert_eq!(
        again[0].title,
        "15 dormant accounts in contoso: 3 new, 0 reminders, 0 resolved"
    );
    assert_eq!(
        ids(&again[0].extra["findings"]),
        vec![uid(2), uid(3), uid(18)]
    );
}

async fn per_finding_mode_alerts_each_account_and_resolves_it(f: impl Fixture) {
    let stores = Stores::new(f.open().await);
    let report = run_at(&scenario_text(), 0, &stores, "delivery = \"per-finding\"").await;
    assert_eq!(report.alerts_recorded, 15);
    let first = take_alerts(&stores).await;
    assert_eq!(first.len(), 15);
    assert!(first.iter().all(|a| a.kind == types::DORMANT_ACCOUNT));
    let u2 = first
        .iter()
        .find(|a| a.subject.as_ref().unwrap()["id"] == uid(2))
        .unwrap();
    assert_eq!(
        u2.title,
        "Dormant member account dormant.member@contoso.onmicrosoft.com: 200 days inactive"
    );
    assert_eq!(u2.evidence["population"], "member");
    assert_eq!(u2.evidence["daysInactive"], 200);
    assert_eq!(u2.evidence["lastActivity"], "2026-05-06T06:00:00Z");
    assert_eq!(
        u2.evidence["reasons"],
        json!([
            "no successful sign-in for 200 days (threshold 90)",
            "holds 1 licence"
        ])
    );
    let admin = first
        .iter()
        .find(|a| a.subject.as_ref().unwrap()["id"] == uid(15))
        .unwrap();
    assert_eq!(admin.severity, entrawatch_core::alert::Severity::High);

    run_at(&changed(), 1, &stores, "delivery = \"per-finding\"").await;
    let resolved = take_alerts(&stores).await;
    assert_eq!(resolved.len(), 3, "{resolved:?}");
    let r2 = resolved
        .iter()
        .find(|a| a.subject.as_ref().unwrap()["id"] == uid(2))
        .unwrap();
    assert_eq!(r2.kind, types::DORMANT_ACCOUNT);
    assert_eq!(
        r2.title,
        "dormant.member@contoso.onmicrosoft.com is no longer dormant"
    );
    assert_eq!(r2.resolves.as_deref(), Some(u2.id.as_str()));
    assert_eq!(r2.evidence["resolution"], RESOLUTION);
    let r18 = resolved
        .iter()
        .find(|a| a.subject.as_ref().unwrap()["id"] == uid(18))
        .unwrap();
    assert_eq!(r18.evidence["resolution"], RESOLVED_DISABLED);
    let pd = pagerduty::render(r2, "k");
    assert_eq!(
        (pd["event_action"].as_str(), pd["dedup_key"].as_str()),
        (Some("resolve"), Some(u2.id.as_str()))
    );
}

/// The rule tenant plus generated users, so listings and sweeps take several pages.
fn large() -> String {
    scenario_text().replace(
        "[[tenants.apps]]",
        "[tenants.generator]\nusers = 1500\nseed = 11\n\n[[tenants.apps]]",
    )
}

async fn interrupted_scan_resumed_by_a_new_process_finds_the_same(f: impl Fixture) {
    let text = large();
    let emu = emulator(&text).await;
    // The reference: uninterrupted, in a store of its own (SQLite).
    let reference = state_support::fixtures::sqlite().await;
    let whole = Stores::new(reference.open().await);
    let report = dormant::run(
        &ctx(client(&emu) as Arc<dyn GraphPort>, whole.clone(), now()),
        &config(""),
        &break_glass(),
    )
    .await
    .unwrap();
    assert!(report.complete);
    let want = open_findings(&whole).await;
    assert!(want.len() > 400, "{}", want.len());
    let want_alerts = take_alerts(&whole).await;

    // Interrupted after every page (listing and sweep); each invocation opens a new store handle and a new
    // Graph client, as a new Lambda invocation would.
    let mut invocations = 0;
    loop {
        invocations += 1;
        let stores = Stores::new(f.open().await);
        let ctx = ctx(client(&emu) as Arc<dyn GraphPort>, stores, now());
        let options = DormantOptions {
            max_pages: Some(1),
            time_budget: None,
            sign_in_activity_share: None,
        };
        let report = dormant::run_with(&ctx, &config(""), &break_glass(), &options)
            .await
            .unwrap();
        if report.complete {
            break;
        }
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.starts_with("stopped at a checkpoint after")),
            "{:?}",
            report.notes
        );
        assert!(invocations < 50, "scan never finished");
    }
    let stores = Stores::new(f.open().await);
    assert!(invocations > 6, "only {invocations} invocations");
    assert_eq!(open_findings(&stores).await, want);
    let got_alerts = take_alerts(&stores).await;
    assert_eq!(got_alerts.len(), 1);
    assert_eq!(got_alerts[0].id, want_alerts[0].id);
    assert_eq!(got_alerts[0].extra, want_alerts[0].extra);
    emu.stop().await;
}

async fn findings_walk_in_key_order_a_page_at_a_time(f: impl Fixture) {
    let store = f.open().await;
    let stores = Stores::new(store);
    for key in ["c", "a", "e", "b", "d"] {
        let finding = entrawatch_core::state::Finding {
            tenant: TENANT.into(),
            job: "dormant".into(),
            key: key.into(),
            status: FindingStatus::Open,
            first_seen: 1,
            last_notified: None,
            resolved_at: None,
            data: json!({"k": key}),
            expires_at: None,
        };
        stores.findings.put_finding(&finding).await.unwrap();
    }
    let keys =
        |v: Vec<entrawatch_core::state::Finding>| v.into_iter().map(|f| f.key).collect::<Vec<_>>();
    let first = stores
        .findings
        .list_findings_after(TENANT, "dormant", None, 2)
        .await
        .unwrap();
    assert_eq!(keys(first), vec!["a", "b"]);
    let next = stores
        .findings
        .list_findings_after(TENANT, "dormant", Some("b"), 2)
        .await
        .unwrap();
    assert_eq!(keys(next), vec!["c", "d"]);
    let last = stores
        .findings
        .list_findings_after(TENANT, "dormant", Some("d"), 2)
        .await
        .unwrap();
    assert_eq!(keys(last), vec!["e"]);
    assert!(stores
        .findings
        .list_findings_after(TENANT, "dormant", Some("e"), 2)
        .await
        .unwrap()
        .is_empty());
    assert!(stores
        .findings
        .list_findings_after(TENANT, "break-glass", None, 2)
        .await
        .unwrap()
        .is_empty());
}

async fn an_account_excluded_later_is_resolved_as_excluded(f: impl Fixture) {
    let stores = Stores::new(f.open().await);
    run_at(&scenario_text(), 0, &stores, "").await;
    take_alerts(&stores).await;
    // Day 1: the dormant member is declared a break-glass account.
    let emu = emulator(&shifted(&scenario_text(), 1)).await;
    let ctx = ctx(
        client(&emu) as Arc<dyn GraphPort>,
        stores.clone(),
        now() + Duration::days(1),
    );
    let bg = vec![uid(19), uid(2)];
    let report = dormant::run(&ctx, &config(""), &bg).await.unwrap();
    emu.stop().await;
    assert!(report.complete);
    let alerts = take_alerts(&stores).await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(ids(&alerts[0].extra["resolved"]), vec![uid(2)]);
    assert_eq!(
        alerts[0].extra["resolved"][0]["evidence"]["resolution"],
        RESOLVED_EXCLUDED
    );
    assert!(!open_findings(&stores).await.contains_key(&uid(2)));
}

/// Issue 13, dormant scans share the day: a run spends at most its `signInActivity` share and checkpoints; a scan
/// whose pace will not finish it within `renotify_days` raises `monitoring.blind` (once) and resolves it when it
/// finishes.
async fn a_scan_too_slow_for_renotify_days_makes_the_job_blind_until_it_finishes(f: impl Fixture) {
    let emu = emulator(&large()).await;
    let stores = Stores::new(f.open().await);
    let cfg = config("renotify_days = 2");
    let run = |days: i64, share: Option<u64>| {
        let ctx = ctx(
            client(&emu) as Arc<dyn GraphPort>,
            stores.clone(),
            now() + Duration::days(days),
        );
        let cfg = cfg.clone();
        async move {
            let options = DormantOptions {
                sign_in_activity_share: share,
                ..DormantOptions::default()
            };
            dormant::run_with(&ctx, &cfg, &break_glass(), &options)
                .await
                .unwrap()
        }
    };
    // Day 0, whole: what a scan of this tenant costs.
    assert!(run(0, None).await.complete);
    let checkpoint = stores
        .cursors
        .get_cursor(TENANT, dormant::JOB)
        .await
        .unwrap()
        .unwrap();
    let cost = checkpoint["lastScanRequests"].as_u64().unwrap();
    assert!(
        cost >= 4,
        "the large tenant takes several listing pages: {cost}"
    );
    take_alerts(&stores).await;

    // Day 1: the next scan starts; its share for the run is one request.
    let first = run(1, Some(1)).await;
    assert!(!first.complete);
    assert!(
        first
            .notes
            .iter()
            .any(|n| n.contains("its share of the app's signInActivity budget")),
        "{:?}",
        first.notes
    );
    // Day 3: two of `cost` requests in two days: `cost` days in all, past renotify_days.
    let slow = run(3, Some(1)).await;
    assert!(!slow.complete);
    assert!(
        slow.notes
            .iter()
            .any(|n| n.starts_with("scan finishes in about")),
        "{:?}",
        slow.notes
    );
    let blind = take_alerts(&stores).await;
    assert_eq!(blind.len(), 1, "{blind:?}");
    assert_eq!(blind[0].kind, types::MONITORING_BLIND);
    assert_eq!(blind[0].evidence["reason"], dormant::SCAN_TOO_SLOW);
    assert_eq!(blind[0].evidence["requestsDone"], "2");
    // Still slow the next run: not alerted again.
    assert!(!run(3, Some(1)).await.complete);
    assert!(take_alerts(&stores).await.is_empty());
    // Given the budget, it finishes: the blind alert is resolved, beside the scan's digest.
    assert!(run(4, None).await.complete);
    let after = take_alerts(&stores).await;
    let resolved: Vec<_> = after
        .iter()
        .filter(|a| a.kind == types::MONITORING_BLIND)
        .collect();
    assert_eq!(resolved.len(), 1, "{after:?}");
    assert_eq!(resolved[0].resolves.as_deref(), Some(blind[0].id.as_str()));
    emu.stop().await;
}

/// Issue 14, bad records are isolated: one user record that does not parse is reported with its id, the rest of
/// its page still yields findings, the scan finishes, and the account's open finding is not resolved from it.
async fn an_unreadable_user_record_is_reported_and_the_scan_goes_on(f: impl Fixture) {
    let stores = Stores::new(f.open().await);
    run_at(&scenario_text(), 0, &stores, "").await;
    let before = open_findings(&stores).await;
    assert!(before.contains_key(&uid(2)), "{:?}", before.keys());
    take_alerts(&stores).await;
    let broken = edit_user(&scenario_text(), 2, |b| {
        b.replace(
            "createdDateTime = \"-700d\"",
            "createdDateTime = \"the day we met\"",
        )
    });
    for day in [1, 2] {
        let report = run_at(&broken, day, &stores, "").await;
        // Day 1's scan also lists every user, checking the filter (issue 14): it reads the record twice.
        let reads = if day == 1 { 2 } else { 1 };
        assert_eq!(report.unreadable, reads, "day {day}: {report:?}");
        assert!(
            report.notes.iter().any(|n| n.starts_with(&format!(
                "user record {} on page 1 could not be read",
                uid(2)
            ))),
            "{:?}",
            report.notes
        );
        let open = open_findings(&stores).await;
        assert_eq!(
            open.keys().collect::<Vec<_>>(),
            before.keys().collect::<Vec<_>>(),
            "day {day}: the others are still found, and the unreadable account is not resolved"
        );
        let resolved: Vec<_> = take_alerts(&stores)
            .await
            .into_iter()
            .flat_map(|a| ids(&a.extra["resolved"]))
            .collect();
        assert!(resolved.is_empty(), "day {day}: {resolved:?}");
    }
}

/// Issue 14: a dormant-only tenant (no emergency accounts configured) says so in every run.
async fn a_tenant_without_emergency_accounts_is_warned_about(f: impl Fixture) {
    let stores = Stores::new(f.open().await);
    let emu = emulator(&scenario_text()).await;
    let ctx = ctx(client(&emu) as Arc<dyn GraphPort>, stores, now());
    let report = dormant::run(&ctx, &config(""), &[]).await.unwrap();
    assert!(
        report
            .notes
            .iter()
            .any(|n| n == dormant::NO_EMERGENCY_ACCOUNTS),
        "{:?}",
        report.notes
    );
    let with = dormant::run(&ctx, &config(""), &break_glass())
        .await
        .unwrap();
    assert!(!with
        .notes
        .iter()
        .any(|n| n == dormant::NO_EMERGENCY_ACCOUNTS));
    emu.stop().await;
}

conformance!(
    a_tenant_without_emergency_accounts_is_warned_about,
    an_unreadable_user_record_is_reported_and_the_scan_goes_on,
    a_scan_too_slow_for_renotify_days_makes_the_job_blind_until_it_finishes,
    an_account_excluded_later_is_resolved_as_excluded,
    digest_mode_notifies_once_resolves_and_reminds,
    per_finding_mode_alerts_each_account_and_resolves_it,
    interrupted_scan_resumed_by_a_new_process_finds_the_same,
    findings_walk_in_key_order_a_page_at_a_time,
);
