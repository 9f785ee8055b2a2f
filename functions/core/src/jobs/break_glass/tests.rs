//! Detection tests over an in-memory Graph port and an in-memory SQLite store: what Graph may do
//! that the emulator does not (ignore a filter, refuse `or`), and the pure rules.

use std::sync::Arc;

use chrono::Duration;
use serde_json::{json, Value};

use super::fake_graph::*;
use super::{run, run_with, ACCOUNT_CHECK_EVERY};
use crate::alert::{types, Severity};
use crate::graph::{GraphPort, SignInKind, SignInQuery, TimeWindow};
use crate::state::CursorStore;

#[tokio::test]
async fn sign_ins_of_other_users_are_never_alerted_even_when_graph_ignores_the_filter() {
    let h = Harness::new(FakeGraph {
        sign_ins: vec![
            (
                SignInKind::Interactive,
                sign_in("s1", BG1, 5, json!({"errorCode": 0})),
            ),
            (
                SignInKind::Interactive,
                sign_in("s2", OTHER, 5, json!({"errorCode": 0})),
            ),
        ],
        users: vec![user(BG1, Some(drilled()))],
        ignore_user_filter: true,
        ..FakeGraph::default()
    });
    let report = run(&h.ctx(now()), &config(&[BG1])).await.unwrap();
    let alerts = h.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].evidence["signInId"], "s1");
    assert_eq!(report.alerts_recorded, 1);
    assert_eq!(report.examined, 2, "both read, one alerted");
}

#[tokio::test]
async fn an_empty_status_is_alerted_as_a_critical_sign_in() {
    let h = Harness::new(FakeGraph {
        sign_ins: vec![(SignInKind::NonInteractive, sign_in("s1", BG1, 5, json!({})))],
        users: vec![user(BG1, Some(drilled()))],
        ..FakeGraph::default()
    });
    run(&h.ctx(now()), &config(&[BG1])).await.unwrap();
    let alerts = h.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, types::BREAK_GLASS_SIGN_IN);
    assert_eq!(alerts[0].severity, Severity::Critical);
    assert_eq!(
        alerts[0].title,
        format!("Emergency account {BG1}@contoso signed in non-interactively (Graph reported no outcome)")
    );
    assert_eq!(alerts[0].evidence["interactive"], false);
}

#[tokio::test]
async fn several_accounts_share_a_request_and_fall_back_to_one_each_when_graph_refuses() {
    let graph = FakeGraph {
        sign_ins: vec![
            (
                SignInKind::Interactive,
                sign_in("s1", BG1, 5, json!({"errorCode": 0})),
            ),
            (
                SignInKind::NonInteractive,
                sign_in("s2", BG2, 5, json!({"errorCode": 50126})),
            ),
        ],
        audits: vec![json!({"id": "a1", "activityDateTime": now().to_rfc3339(),
            "activityDisplayName": "Reset password", "targetResources": [{"id": BG2}]})],
        users: vec![user(BG1, Some(drilled())), user(BG2, Some(drilled()))],
        ..FakeGraph::default()
    };
    let h = Harness::new(graph);
    run(&h.ctx(now()), &config(&[BG1, BG2])).await.unwrap();
    assert_eq!(
        h.calls(),
        [
            format!("sign-ins InteractiveAndNonInteractive {BG1},{BG2}"),
            format!("audits {BG1},{BG2}"),
            format!("user {BG1}"),
            format!("user {BG2}"),
        ]
    );

    let refusing = Harness::new(FakeGraph {
        refuse_or: true,
        ..FakeGraph {
            sign_ins: h.graph.sign_ins.clone(),
            audits: h.graph.audits.clone(),
            users: h.graph.users.clone(),
            ..FakeGraph::default()
        }
    });
    let report = run(&refusing.ctx(now()), &config(&[BG1, BG2]))
        .await
        .unwrap();
    assert_eq!(report.alerts_recorded, 3, "nothing lost to the refusal");
    assert_eq!(refusing.alerts().await.len(), 3);
    // The refused combined read does not prove that Graph refuses the combined kinds: the separate
    // reads of the same accounts are refused too, so it is the `or` of accounts.
    assert_eq!(
        refusing.calls()[..6],
        [
            format!("sign-ins InteractiveAndNonInteractive {BG1},{BG2}"),
            format!("sign-ins Interactive {BG1},{BG2}"),
            format!("sign-ins Interactive {BG1}"),
            format!("sign-ins Interactive {BG2}"),
            format!("sign-ins NonInteractive {BG1}"),
            format!("sign-ins NonInteractive {BG2}"),
        ]
    );
    // The refusal is remembered: the next run asks one account at a time from the start, both
    // kinds at once.
    // Looked up daily (as for one of many tenants on an app), so this run reads only the logs.
    run_with(
        &refusing.ctx(now() + Duration::minutes(5)),
        &config(&[BG1, BG2]),
        ACCOUNT_CHECK_EVERY,
    )
    .await
    .unwrap();
    assert_eq!(
        refusing.calls(),
        [
            format!("sign-ins InteractiveAndNonInteractive {BG1}"),
            format!("sign-ins InteractiveAndNonInteractive {BG2}"),
            format!("audits {BG1}"),
            format!("audits {BG2}"),
        ],
        "accounts looked up daily, so no user lookups 5 minutes later"
    );
}

fn both_kinds() -> FakeGraph {
    FakeGraph {
        sign_ins: vec![
            (
                SignInKind::Interactive,
                sign_in("s1", BG1, 5, json!({"errorCode": 0})),
            ),
            (
                SignInKind::NonInteractive,
                sign_in("s2", BG1, 4, json!({"errorCode": 50126})),
            ),
            (
                SignInKind::NonInteractive,
                sign_in("s3", BG2, 3, json!({"errorCode": 0})),
            ),
        ],
        users: vec![user(BG1, Some(drilled())), user(BG2, Some(drilled()))],
        ..FakeGraph::default()
    }
}

/// (signInId, title, evidence.interactive) of each sign-in alert, by sign-in id.
async fn worded(h: &Harness) -> Vec<(String, String, bool)> {
    let mut out: Vec<(String, String, bool)> = h
        .alerts()
        .await
        .iter()
        .map(|a| {
            (
                a.evidence["signInId"].as_str().unwrap_or_default().into(),
                a.title.clone(),
                a.evidence["interactive"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

fn expected_wording() -> Vec<(String, String, bool)> {
    vec![
        ("s1".into(), format!("Emergency account {BG1}@contoso signed in"), true),
        (
            "s2".into(),
            format!("Emergency account {BG1}@contoso failed to sign in non-interactively (50126: invalid username or password)"),
            false,
        ),
        ("s3".into(), format!("Emergency account {BG2}@contoso signed in non-interactively"), false),
    ]
}

#[tokio::test]
async fn both_kinds_come_in_one_request_each_worded_as_its_kind() {
    let h = Harness::new(both_kinds());
    let report = run(&h.ctx(now()), &config(&[BG1, BG2])).await.unwrap();
    assert_eq!(report.alerts_recorded, 3);
    let calls = h.calls();
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.starts_with("sign-ins"))
            .collect::<Vec<_>>(),
        [&format!(
            "sign-ins InteractiveAndNonInteractive {BG1},{BG2}"
        )],
        "one sign-in request for both kinds"
    );
    assert_eq!(worded(&h).await, expected_wording());
}

#[tokio::test]
async fn a_graph_refusing_both_kinds_in_one_filter_is_read_per_kind_and_remembered() {
    let h = Harness::new(FakeGraph {
        refuse_combined: true,
        ..both_kinds()
    });
    let report = run(&h.ctx(now()), &config(&[BG1, BG2])).await.unwrap();
    assert_eq!(report.alerts_recorded, 3, "nothing lost to the refusal");
    assert_eq!(worded(&h).await, expected_wording());
    assert!(
        report.notes.iter().any(|n| n
            == "Graph refused interactive and non-interactive sign-ins in one filter; reading them in two requests"),
        "{:?}",
        report.notes
    );
    assert_eq!(
        h.calls()[..4],
        [
            format!("sign-ins InteractiveAndNonInteractive {BG1},{BG2}"),
            format!("sign-ins Interactive {BG1},{BG2}"),
            format!("sign-ins NonInteractive {BG1},{BG2}"),
            format!("audits {BG1},{BG2}"),
        ],
        "the accounts stay together: it was the kinds Graph refused"
    );
    let next = run_with(
        &h.ctx(now() + Duration::minutes(5)),
        &config(&[BG1, BG2]),
        ACCOUNT_CHECK_EVERY,
    )
    .await
    .unwrap();
    assert_eq!(next.alerts_recorded, 0);
    assert_eq!(
        h.calls(),
        [
            format!("sign-ins Interactive {BG1},{BG2}"),
            format!("sign-ins NonInteractive {BG1},{BG2}"),
            format!("audits {BG1},{BG2}"),
        ],
        "remembered: no combined request any more"
    );
}

#[tokio::test]
async fn state_and_alerts_of_the_previous_version_are_not_alerted_again() {
    // What the previous version left after a run a minute ago: its state document (every key
    // it had, no `separateSignInKinds`) and the alerts of its two reads, v1.0 interactive and
    // beta non-interactive, each worded by the request that read it.
    let h = Harness::new(both_kinds());
    let earlier = now() - Duration::minutes(1);
    let previous = json!({
        "windowEnd": earlier.to_rfc3339(),
        "outage": null,
        "accountsCheckedAt": earlier.to_rfc3339(),
        "lastSuccess": {
            BG1: (now() - Duration::minutes(5)).to_rfc3339(),
            BG2: (now() - Duration::minutes(3)).to_rfc3339(),
        },
        "missing": {},
        "oneUserPerSignInFilter": false,
        "oneTargetPerAuditFilter": false,
    });
    h.store
        .put_cursor("t1", "break-glass", &previous)
        .await
        .unwrap();
    let ctx = h.ctx(earlier);
    for (kind, interactive) in [
        (SignInKind::Interactive, true),
        (SignInKind::NonInteractive, false),
    ] {
        let query = SignInQuery {
            kind,
            window: TimeWindow {
                from: earlier - Duration::hours(1),
                to: now(),
            },
            user_ids: vec![BG1.into(), BG2.into()],
        };
        let page = h.graph.list_sign_ins(&query, None).await.unwrap();
        for s in &page.items {
            ctx.outbox
                .record(
                    &super::sign_ins::alert(&ctx, s, interactive),
                    ctx.now_epoch(),
                )
                .await
                .unwrap();
        }
    }
    let before = h.alerts().await;
    assert_eq!(before.len(), 3);
    assert_eq!(
        before
            .iter()
            .map(|a| a.id.clone())
            .collect::<std::collections::BTreeSet<_>>(),
        ["s1", "s2", "s3"]
            .iter()
            .map(|s| crate::alert::alert_id(types::BREAK_GLASS_SIGN_IN, "t1", s))
            .collect(),
        "the previous version's ids: the sign-in id alone"
    );
    h.calls();

    let report = run(&h.ctx(now()), &config(&[BG1, BG2])).await.unwrap();
    assert_eq!(
        h.calls()[0],
        format!("sign-ins InteractiveAndNonInteractive {BG1},{BG2}"),
        "the new read, over the same sign-ins"
    );
    assert_eq!(report.examined, 3);
    assert_eq!(report.alerts_recorded, 0, "nothing alerted twice");
    assert!(report.complete);
    let after = h.alerts().await;
    assert_eq!(after.len(), 3);
    assert_eq!(worded(&h).await, expected_wording());
}

#[tokio::test]
async fn every_audit_of_an_account_is_alerted_whatever_its_activity_name() {
    let audit = |id: &str, activity: Value| {
        json!({"id": id, "activityDateTime": now().to_rfc3339(), "activityDisplayName": activity,
               "targetResources": [{"id": BG1, "userPrincipalName": "bg1@contoso"}],
               "initiatedBy": {"user": {"userPrincipalName": "admin@contoso", "ipAddress": "192.0.2.1"}}})
    };
    let h = Harness::new(FakeGraph {
        audits: vec![
            // A name in no list (a bookkeeping row: the account's sessions were revoked).
            audit("a1", json!("Update StsRefreshTokenValidFrom Timestamp")),
            audit("a2", json!("Disable account")),
            // A known name in another case.
            audit("a3", json!("reset PASSWORD (by admin)")),
            // A PIM variant no list had, and a name Graph left null.
            audit(
                "a4",
                json!("Add member to role in PIM completed (permanent)"),
            ),
            audit("a5", Value::Null),
        ],
        users: vec![user(BG1, Some(drilled()))],
        ..FakeGraph::default()
    });
    let report = run(&h.ctx(now()), &config(&[BG1])).await.unwrap();
    let alerts = h.alerts().await;
    assert_eq!(report.examined, 5);
    assert_eq!(alerts.len(), 5, "{alerts:?}");
    assert!(alerts
        .iter()
        .all(|a| a.kind == types::BREAK_GLASS_ACCOUNT_CHANGED));
    let by_audit = |id: &str| alerts.iter().find(|a| a.evidence["auditId"] == id).unwrap();
    assert_eq!(
        by_audit("a2").title,
        "Emergency account bg1@contoso changed: Disable account by admin@contoso"
    );
    assert_eq!(by_audit("a2").evidence["initiatedByIpAddress"], "192.0.2.1");
    let known = |id: &str| by_audit(id).evidence["knownActivity"].clone();
    assert_eq!(known("a1"), json!(false));
    assert_eq!(known("a2"), json!(true));
    assert_eq!(
        known("a3"),
        json!(true),
        "names compare without regard to case"
    );
    assert_eq!(known("a4"), json!(false));
    assert_eq!(
        by_audit("a1").evidence["activity"],
        "Update StsRefreshTokenValidFrom Timestamp"
    );
    assert_eq!(
        by_audit("a5").title,
        "Emergency account bg1@contoso changed: (no activity name) by admin@contoso"
    );
}

#[test]
fn known_noise_is_pinned() {
    // Nothing targeting an emergency account is dropped; a name joins this list only with a source.
    assert!(super::KNOWN_NOISE.is_empty());
    assert!(super::listed(super::ALERTED_ACTIVITIES, " update USER "));
    assert!(!super::listed(
        super::ALERTED_ACTIVITIES,
        "Update user attributes"
    ));
}

#[tokio::test]
async fn unreadable_rows_about_an_account_are_alerted_with_what_could_be_read() {
    let mut bad_sign_in = sign_in("s-bad", BG1, 5, json!({"errorCode": 0}));
    bad_sign_in["createdDateTime"] = json!("yesterday-ish");
    let mut other_bad = sign_in("s-other", OTHER, 5, json!({"errorCode": 0}));
    other_bad["createdDateTime"] = json!(17);
    let h = Harness::new(FakeGraph {
        sign_ins: vec![
            (SignInKind::Interactive, bad_sign_in),
            (
                SignInKind::Interactive,
                sign_in("s-good", BG1, 3, json!({"errorCode": 0})),
            ),
            (SignInKind::Interactive, other_bad),
        ],
        audits: vec![json!({"id": "a-bad", "activityDateTime": "not a time",
                            "activityDisplayName": "Reset password", "targetResources": [{"id": BG1}]})],
        users: vec![user(BG1, Some(drilled()))],
        ignore_user_filter: true,
        ..FakeGraph::default()
    });
    let report = run(&h.ctx(now()), &config(&[BG1])).await.unwrap();
    assert_eq!(report.unreadable, 3, "{report:?}");
    let alerts = h.alerts().await;
    let bad = alerts
        .iter()
        .find(|a| a.evidence.get("signInId") == Some(&json!("s-bad")))
        .expect("the unreadable sign-in row is alerted");
    assert_eq!(bad.kind, types::BREAK_GLASS_SIGN_IN);
    assert_eq!(bad.severity, Severity::Critical);
    assert_eq!(
        bad.id,
        crate::alert::alert_id(types::BREAK_GLASS_SIGN_IN, "t1", "s-bad"),
        "the id the row would have had parsed: a later readable read adds nothing"
    );
    assert!(bad.title.contains("could not be read"), "{}", bad.title);
    assert!(
        bad.evidence["unreadable"]
            .as_str()
            .is_some_and(|e| e.contains("input contains invalid characters")
                || e.contains("premature end of input")),
        "says why: {:?}",
        bad.evidence["unreadable"]
    );
    assert!(alerts
        .iter()
        .any(|a| a.evidence.get("signInId") == Some(&json!("s-good"))));
    assert!(
        !alerts
            .iter()
            .any(|a| a.evidence.get("signInId") == Some(&json!("s-other"))),
        "a row readably of another user pages nobody"
    );
    let audit = alerts
        .iter()
        .find(|a| a.evidence.get("auditId") == Some(&json!("a-bad")))
        .expect("the unreadable audit row is alerted");
    assert_eq!(audit.kind, types::BREAK_GLASS_ACCOUNT_CHANGED);
    assert_eq!(audit.evidence["activity"], "Reset password");
    assert_eq!(alerts.len(), 3, "{alerts:?}");
}

#[tokio::test]
async fn drill_reminder_once_per_period_and_none_after_a_drill_sign_in() {
    let stale = now() - Duration::days(100);
    let h = Harness::new(FakeGraph {
        users: vec![user(BG1, Some(stale)), user(BG2, Some(stale))],
        ..FakeGraph::default()
    });
    let cfg = config(&[BG1, BG2]);
    run(&h.ctx(now()), &cfg).await.unwrap();
    // Within the same period, later runs (past the daily account check) add nothing.
    run(&h.ctx(now() + Duration::hours(2)), &cfg).await.unwrap();
    run(&h.ctx(now() + Duration::days(30)), &cfg).await.unwrap();
    let alerts = h.alerts().await;
    assert_eq!(alerts.len(), 2, "one per account");
    assert!(alerts
        .iter()
        .all(|a| a.kind == types::BREAK_GLASS_DRILL_OVERDUE && a.severity == Severity::Medium));
    assert_eq!(alerts[0].evidence["daysSinceLastSuccess"], 100);

    // bg1 is drilled (seen in the logs; signInActivity still lags), bg2 is not: the next period
    // reminds bg2 only.
    let later = now() + Duration::days(91);
    let drilled = Harness {
        store: h.store.clone(),
        graph: Arc::new(FakeGraph {
            sign_ins: vec![(
                SignInKind::Interactive,
                json!({"id": "drill", "userId": BG1, "createdDateTime": (later - Duration::minutes(10)).to_rfc3339(),
                       "status": {"errorCode": 0}}),
            )],
            users: h.graph.users.clone(),
            ..FakeGraph::default()
        }),
    };
    run(&drilled.ctx(later), &cfg).await.unwrap();
    let alerts = drilled.alerts().await;
    let drills: Vec<_> = alerts
        .iter()
        .filter(|a| a.kind == types::BREAK_GLASS_DRILL_OVERDUE)
        .collect();
    assert_eq!(drills.len(), 3);
    assert_eq!(drills[2].subject.as_ref().unwrap()["id"], BG2);
}

#[tokio::test]
async fn an_account_never_signed_in_is_reminded_from_its_creation() {
    let h = Harness::new(FakeGraph {
        users: vec![user(BG1, None)],
        ..FakeGraph::default()
    });
    run(&h.ctx(now()), &config(&[BG1])).await.unwrap();
    let alerts = h.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].title,
        format!("Emergency account {BG1}@contoso has no recorded successful sign-in (drill every 90 days)")
    );
}

#[tokio::test]
async fn a_row_read_again_with_another_status_is_not_alerted_twice() {
    // Graph first shows the row with an empty status, a later read with its error code: one
    // sign-in, one alert, and the first verdict stands (SPEC.md: one alert per sign-in id).
    let first = Harness::new(FakeGraph {
        sign_ins: vec![(SignInKind::Interactive, sign_in("s1", BG1, 5, json!({})))],
        users: vec![user(BG1, Some(drilled()))],
        ..FakeGraph::default()
    });
    run(&first.ctx(now()), &config(&[BG1])).await.unwrap();
    let later = Harness {
        store: first.store.clone(),
        graph: Arc::new(FakeGraph {
            sign_ins: vec![(
                SignInKind::Interactive,
                sign_in("s1", BG1, 5, json!({"errorCode": 50126})),
            )],
            users: vec![user(BG1, Some(drilled()))],
            ..FakeGraph::default()
        }),
    };
    let report = run(&later.ctx(now() + Duration::minutes(5)), &config(&[BG1]))
        .await
        .unwrap();
    assert_eq!(report.alerts_recorded, 0);
    let alerts = later.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, types::BREAK_GLASS_SIGN_IN);
    assert_eq!(alerts[0].evidence["signInId"], "s1");
}
