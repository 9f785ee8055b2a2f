//! Golden files pin every sink's exact payload (`tests/golden/*.json`, compared as JSON values).
//! Regenerate deliberately with `ENTRAWATCH_UPDATE_GOLDEN=1 cargo test -p entrawatch-core --test sinks_golden`.

use chrono::{TimeZone, Utc};
use entrawatch_core::alert::{types, Alert, Severity, TenantRef};
use entrawatch_core::sinks::{local, pagerduty, slack, teams, webhook};
use serde_json::{json, Value};

fn tenant() -> TenantRef {
    TenantRef {
        id: "11111111-2222-3333-4444-555555555555".into(),
        name: "contoso".into(),
    }
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 6, 0, 0).unwrap()
}

fn sign_in() -> Alert {
    Alert::new(types::BREAK_GLASS_SIGN_IN, Severity::Critical, tenant(), "66ea54eb-6301-4ee5-be62-ff5a759b0100",
        "Emergency account bg1@contoso.onmicrosoft.com signed in", at())
    .with_subject(json!({"id": "9f1d2c3b-0000-4000-8000-000000000001", "userPrincipalName": "bg1@contoso.onmicrosoft.com", "displayName": "Break Glass 1"}))
    .with_evidence("signInId", "66ea54eb-6301-4ee5-be62-ff5a759b0100")
    .with_evidence("createdDateTime", "2026-11-22T05:58:12Z")
    .with_evidence("ipAddress", "203.0.113.7")
    .with_evidence("location", "Amsterdam, NL")
    .with_evidence("appDisplayName", "Azure Portal")
    .with_evidence("clientAppUsed", "Browser")
    .with_evidence("errorCode", 0)
    .with_evidence("interactive", true)
    .with_link("Sign-in log", "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/SignInLogsList.ReactView")
}

fn finding(i: usize) -> Value {
    json!({"subject": {"id": format!("u{i}"), "userPrincipalName": format!("user{i}@contoso.com"), "displayName": format!("User {i}")},
           "evidence": {"population": "guest", "lastActivity": "2026-07-01T00:00:00Z", "daysInactive": 144, "reasons": ["no successful sign-in"]}})
}

fn digest(n: usize) -> Alert {
    Alert::new(
        types::DORMANT_DIGEST,
        Severity::Medium,
        tenant(),
        "2026-11-22",
        format!("{n} dormant accounts in contoso"),
        at(),
    )
    .with_data("findings", Value::Array((0..n).map(finding).collect()))
    .with_data("counts", json!({"guest": n, "member": 0}))
    .with_link(
        "Users",
        "https://entra.microsoft.com/#view/Microsoft_AAD_UsersAndTenants/UserManagementMenuBlade",
    )
}

fn resolved() -> Alert {
    let earlier = digest(1).id;
    Alert::new(
        types::DORMANT_ACCOUNT,
        Severity::Medium,
        tenant(),
        "u0#resolved",
        "user0@contoso.com is active again",
        at(),
    )
    .resolving(earlier)
}

fn golden(name: &str, actual: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"));
    if std::env::var_os("ENTRAWATCH_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(actual).unwrap() + "\n").unwrap();
    }
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        actual,
        &expected,
        "{name}: payload differs from {}",
        path.display()
    );
}

#[test]
fn webhook_body_matches_golden_and_spec_shape() {
    let body = webhook::render(&sign_in());
    golden("webhook_sign_in", &body);
    assert_eq!(body["type"], "break_glass.sign_in");
    assert_eq!(body["data"]["id"], sign_in().id);
    golden("webhook_digest", &webhook::render(&digest(2)));
}

#[test]
fn stdout_and_file_lines_are_the_webhook_body() {
    let line = local::render(&sign_in());
    assert!(!line.contains('\n'));
    assert_eq!(
        serde_json::from_str::<Value>(&line).unwrap(),
        webhook::render(&sign_in())
    );
}

#[test]
fn slack_payload_matches_golden() {
    golden("slack_sign_in", &slack::render(&sign_in()));
    golden("slack_digest", &slack::render(&digest(3)));
}

#[test]
fn teams_payload_matches_golden() {
    golden("teams_sign_in", &teams::render(&sign_in()));
    golden("teams_digest", &teams::render(&digest(3)));
}

#[test]
fn pagerduty_payload_matches_golden() {
    golden(
        "pagerduty_sign_in",
        &pagerduty::render(&sign_in(), "R0UTINGKEY-test-only"),
    );
    golden(
        "pagerduty_resolve",
        &pagerduty::render(&resolved(), "R0UTINGKEY-test-only"),
    );
}

#[test]
fn pagerduty_dedup_key_is_the_alert_id_and_resolve_targets_the_earlier_alert() {
    let a = sign_in();
    let body = pagerduty::render(&a, "k");
    assert_eq!(body["dedup_key"], a.id);
    assert_eq!(body["event_action"], "trigger");
    assert_eq!(body["payload"]["severity"], "critical");
    let r = pagerduty::render(&resolved(), "k");
    assert_eq!(
        (r["event_action"].as_str(), r["dedup_key"].as_str()),
        (Some("resolve"), Some(digest(1).id.as_str()))
    );
}

fn text_len(block: &Value) -> usize {
    block["text"]["text"]
        .as_str()
        .map_or(0, |t| t.chars().count())
}

#[test]
fn long_slack_digest_stays_within_block_kit_limits_and_counts_what_was_left_out() {
    let mut big = digest(3000);
    big.title = "x".repeat(400);
    let msg = slack::render(&big);
    let blocks = msg["blocks"].as_array().unwrap();
    assert!(blocks.len() <= slack::MAX_BLOCKS, "{} blocks", blocks.len());
    assert!(text_len(&blocks[0]) <= slack::MAX_HEADER);
    assert!(blocks
        .iter()
        .filter(|b| b["type"] == "section")
        .all(|b| text_len(b) <= slack::MAX_SECTION));
    let shown: usize = blocks
        .iter()
        .filter(|b| b["type"] == "section")
        .map(|b| {
            b["text"]["text"]
                .as_str()
                .unwrap()
                .matches("days inactive")
                .count()
        })
        .sum();
    let note = blocks
        .iter()
        .find_map(|b| {
            b["elements"][0]["text"]
                .as_str()
                .filter(|t| t.starts_with("… and "))
        })
        .expect("truncation note");
    assert_eq!(note, format!("… and {} more", 3000 - shown));
}

fn walk_types(v: &Value, found: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(t) = m.get("type").and_then(Value::as_str) {
                found.push(t.to_string());
            }
            m.values().for_each(|c| walk_types(c, found));
        }
        Value::Array(a) => a.iter().for_each(|c| walk_types(c, found)),
        _ => {}
    }
}

#[test]
fn teams_card_declares_version_1_4_and_uses_only_1_4_elements() {
    for alert in [sign_in(), digest(80), resolved()] {
        let msg = teams::render(&alert);
        assert_eq!(msg["type"], "message");
        let card = &msg["attachments"][0]["content"];
        assert_eq!(
            msg["attachments"][0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["version"], "1.4");
        let mut found = Vec::new();
        walk_types(card, &mut found);
        for t in found {
            assert!(
                teams::V1_4_TYPES.contains(&t.as_str()),
                "element {t} is not in Adaptive Cards 1.4"
            );
        }
    }
    let big = teams::render(&digest(80)).to_string();
    assert!(big.contains("… and 30 more"));
}
