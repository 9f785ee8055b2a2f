//! The dormant job against the rule tenant (`tests/emulator/scenarios/dormant.toml`, one account per rule):
//! exactly the expected findings with their reasons, under each setting that changes them, on SQLite and
//! DynamoDB (moto).

mod dormant_support;
mod state_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use dormant_support::*;
use entrawatch_core::alert::types;
use entrawatch_core::graph::GraphPort;
use entrawatch_core::jobs::dormant;
use entrawatch_core::state::Stores;
use serde_json::{json, Value};
use state_support::fixtures::Fixture;

const SYNCED: &str =
    "synced from on-premises: disable or remove it in Active Directory, not in Entra ID";

fn never(days: u32) -> Vec<String> {
    vec![format!(
        "never signed in (created {days} days ago, grace 14)"
    )]
}

fn idle(days: u32, threshold: u32) -> String {
    format!("no successful sign-in for {days} days (threshold {threshold})")
}

/// (population, reasons) per account id, under the SPEC defaults.
fn expected_defaults() -> BTreeMap<String, (&'static str, Vec<String>)> {
    let mut e = BTreeMap::new();
    e.insert(
        uid(2),
        ("member", vec![idle(200, 90), "holds 1 licence".into()]),
    );
    for n in 3..=6 {
        e.insert(uid(n), ("member", never(400)));
    }
    e.insert(
        uid(7),
        (
            "member",
            vec![idle(150, 90), "recent failed sign-ins only".into()],
        ),
    );
    e.insert(uid(9), ("member", never(20)));
    e.insert(uid(10), ("guest", vec![idle(70, 60)]));
    e.insert(
        uid(12),
        (
            "guest",
            vec!["invitation pending for 40 days (threshold 30)".into()],
        ),
    );
    e.insert(
        uid(14),
        (
            "privileged",
            vec![
                idle(45, 30),
                "privileged: active Global Administrator assignment through group Tier0 Admins"
                    .into(),
            ],
        ),
    );
    e.insert(
        uid(15),
        (
            "privileged",
            vec![
                idle(45, 30),
                "privileged: active Privileged Role Administrator assignment".into(),
            ],
        ),
    );
    e.insert(
        uid(16),
        (
            "privileged",
            vec![
                idle(45, 30),
                "privileged: eligible for User Administrator through PIM".into(),
            ],
        ),
    );
    e.insert(
        uid(18),
        (
            "member",
            vec![idle(120, 90), SYNCED.into(), "holds 1 licence".into()],
        ),
    );
    e.insert(
        uid(23),
        (
            "member",
            vec![
                "no successful sign-in recorded (Graph records them since 2023-12-01): last \
        sign-in attempt 2023-06-01T00:00:00Z used, 1270 days ago (threshold 90)"
                    .into(),
            ],
        ),
    );
    e.insert(
        uid(24),
        (
            "member",
            vec![
                "no successful sign-in recorded since 2025-07-10T06:00:00Z (created 500 days ago)"
                    .into(),
                "recent failed sign-ins only".into(),
            ],
        ),
    );
    e
}

fn actual(findings: &BTreeMap<String, Value>) -> BTreeMap<String, (String, Vec<String>)> {
    findings
        .iter()
        .map(|(id, data)| {
            let ev = &data["evidence"];
            let reasons = ev["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string());
            (
                id.clone(),
                (
                    ev["population"].as_str().unwrap().to_string(),
                    reasons.collect(),
                ),
            )
        })
        .collect()
}

fn owned(
    e: BTreeMap<String, (&'static str, Vec<String>)>,
) -> BTreeMap<String, (String, Vec<String>)> {
    e.into_iter()
        .map(|(k, (p, r))| (k, (p.to_string(), r)))
        .collect()
}

async fn run_once(
    text: &str,
    stores: &Stores,
    extra_config: &str,
) -> (entrawatch_core::jobs::JobReport, entrawatch_emulator::Stats) {
    let emu = emulator(text).await;
    let graph = client(&emu) as Arc<dyn GraphPort>;
    let ctx = ctx(graph, stores.clone(), now());
    let report = dormant::run(&ctx, &config(extra_config), &break_glass())
        .await
        .unwrap();
    let stats = emu.stats();
    emu.stop().await;
    (report, stats)
}

async fn every_rule_yields_exactly_its_finding(f: impl Fixture) {
    let stores = Stores::new(f.open().await);
    let (report, stats) = run_once(&scenario_text(), &stores, "").await;
    assert!(report.complete, "{report:?}");
    // Filtered plan: the three admins read one by one, then every account idle for the members' and guests'
    // threshold (60 days) or more, or never signed in: 20 of them (01, 11 and the admins at 45 days are not).
    assert_eq!(report.examined, 23);
    let findings = open_findings(&stores).await;
    assert_eq!(actual(&findings), owned(expected_defaults()));
    // Finding fields beyond the reasons.
    let u2 = &findings[&uid(2)]["evidence"];
    assert_eq!(u2["lastActivity"], "2026-05-06T06:00:00Z");
    assert_eq!(
        (
            u2["daysInactive"].as_i64(),
            u2["licensed"].as_bool(),
            u2["synced"].as_bool()
        ),
        (Some(200), Some(true), Some(false))
    );
    let u18 = &findings[&uid(18)]["evidence"];
    assert_eq!(
        (u18["synced"].as_bool(), u18["licensed"].as_bool()),
        (Some(true), Some(true))
    );
    for n in [3, 12] {
        assert_eq!(findings[&uid(n)]["evidence"]["lastActivity"], Value::Null);
    }
    assert_eq!(
        findings[&uid(23)]["evidence"]["lastActivity"],
        "2023-06-01T00:00:00Z"
    );
    assert_eq!(
        findings[&uid(3)]["subject"],
        json!({"id": uid(3),
        "userPrincipalName": "never.missing@contoso.onmicrosoft.com", "displayName": "never.missing"})
    );
    // The cheapest plan: three admin reads, one filtered page for stale successes, one for none at all.
    assert_eq!(
        stats.by_family.get("sign_in_activity").copied(),
        Some(5),
        "{stats:?}"
    );
    assert_eq!(stats.throttled_429, 0);
    // One digest, with counts by population and every new finding.
    let alerts = take_alerts(&stores).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let digest = &alerts[0];
    assert_eq!(digest.kind, types::DORMANT_DIGEST);
    assert_eq!(
        digest.title,
        "15 dormant accounts in contoso: 15 new, 0 reminders, 0 resolved"
    );
    assert_eq!(
        digest.extra["counts"],
        json!({"member": 10, "guest": 2, "privileged": 3})
    );
    let listed: Vec<&str> = digest.extra["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["subject"]["id"].as_str().unwrap())
        .collect();
    let want: Vec<String> = expected_defaults().into_keys().collect();
    assert_eq!(listed, want);
    let first = &digest.extra["findings"][0]["evidence"];
    assert_eq!(
        (first["notification"].as_str(), first["population"].as_str()),
        (Some("new"), Some("member"))
    );
    assert_eq!(report.alerts_recorded, 1);
}

async fn include_disabled_reports_the_disabled_account(f: impl Fixture) {
    let stores = Stores::new(f.open().await);
    run_once(&scenario_text(), &stores, "include_disabled = true").await;
    let mut want = owned(expected_defaults());
    want.insert(
        uid(17),
        (
            "member".into(),
            vec![idle(200, 90), "account disabled".into()],
        ),
    );
    assert_eq!(actual(&open_findings(&stores).await), want);
}

async fn any_attempt_counts_failed_attempts_as_activity(f: impl Fixture) {
    let stores = Stores::new(f.open().await);
    run_once(&scenario_text(), &stores, "activity = \"any-attempt\"").await;
    let mut want = owned(expected_defaults());
    // The spray victim and the failed-only account look active on attempts.
    want.remove(&uid(7));
    want.remove(&uid(24));
    for (id, days, threshold) in [
        (uid(2), 200, 90),
        (uid(10), 70, 60),
        (uid(14), 45, 30),
        (uid(15), 45, 30),
        (uid(16), 45, 30),
        (uid(18), 120, 90),
    ] {
        want.get_mut(&id).unwrap().1[0] =
            format!("no sign-in for {days} days (threshold {threshold})");
    }
    want.get_mut(&uid(23)).unwrap().1[0] = "no sign-in for 1270 days (threshold 90)".into();
    assert_eq!(actual(&open_findings(&stores).await), want);
}

async fn without_p2_eligible_admins_are_judged_in_their_own_population(f: impl Fixture) {
    let stores = Stores::new(f.open().await);
    let text = scenario_text().replace("p2 = true", "p2 = false");
    let (report, _) = run_once(&text, &stores, "").await;
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.starts_with("PIM eligibility not read: the tenant has no Entra ID P2")),
        "{:?}",
        report.notes
    );
    let mut want = owned(expected_defaults());
    want.remove(&uid(16)); // 45 days is within the member threshold.
    assert_eq!(actual(&open_findings(&stores).await), want);
}

async fn thresholds_and_grace_come_from_the_configuration(f: impl Fixture) {
    let stores = Stores::new(f.open().await);
    run_once(&scenario_text(), &stores,
        "member_days = 45\nguest_days = 100\nprivileged_days = 60\nnever_signed_in_grace_days = 30\npending_invitation_days = 50").await;
    let got = actual(&open_findings(&stores).await);
    let ids: Vec<&String> = got.keys().collect();
    // Member 60 days (25) is now dormant; guests, admins at 45 days, the 20-day-old account and the 40-day
    // invitation are not.
    let want: Vec<String> = [2, 3, 4, 5, 6, 7, 18, 23, 24, 25]
        .iter()
        .map(|&n| uid(n))
        .collect();
    assert_eq!(ids, want.iter().collect::<Vec<_>>());
    assert_eq!(got[&uid(25)].1, vec![idle(60, 45)]);
}

conformance!(
    every_rule_yields_exactly_its_finding,
    include_disabled_reports_the_disabled_account,
    any_attempt_counts_failed_attempts_as_activity,
    without_p2_eligible_admins_are_judged_in_their_own_population,
    thresholds_and_grace_come_from_the_configuration,
);
