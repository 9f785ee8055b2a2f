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

/// Everything a tenant could put in a name to ping, link or restyle in Slack or Teams.
const HOSTILE: &str = "<!channel> <!here> <@U024BE7LH> <#C024BE7LR> <!subteam^SAZ94GDB8> <https://evil.example|Reset your password> [Reset](https://evil.example) **bold** *b* _i_ ~s~ `code` &amp; https://evil.example/x";
/// Pieces of `HOSTILE` that none of our own text contains: where they are, tenant text is.
const MARKS: &[&str] = &[
    "evil.example",
    "Reset",
    "U024BE7LH",
    "C024BE7LR",
    "SAZ94GDB8",
    "**bold**",
    "*b*",
    "_i_",
    "~s~",
    "`code`",
];
/// A sign-in log link whose Graph id tries to end the Slack link and mention the channel.
const HOSTILE_HREF: &str = "https://entra.microsoft.com/#view/Microsoft_AAD_UsersAndTenants/UserProfileMenuBlade/~/SignIns/userId/9f1d|<!channel> x>";
const HOSTILE_HREF_SLACK: &str = "<https://entra.microsoft.com/#view/Microsoft_AAD_UsersAndTenants/UserProfileMenuBlade/~/SignIns/userId/9f1d%7C%3C!channel%3E%20x%3E|Sign-in log>";
const USERS_HREF: &str =
    "https://entra.microsoft.com/#view/Microsoft_AAD_UsersAndTenants/UserManagementMenuBlade";

fn hostile_tenant() -> TenantRef {
    let name = "contoso <!here> *ops* https://evil.example/t".into();
    TenantRef { name, ..tenant() }
}

fn hostile_sign_in() -> Alert {
    Alert::new(
        types::BREAK_GLASS_SIGN_IN_FAILED,
        Severity::High,
        hostile_tenant(),
        "hostile-1",
        format!("Emergency account {HOSTILE} failed to sign in"),
        at(),
    )
    .with_subject(json!({"id": "9f1d", "userPrincipalName": HOSTILE, "displayName": HOSTILE}))
    .with_evidence("appDisplayName", HOSTILE)
    .with_evidence("failureReason", HOSTILE)
    .with_evidence("userAgent", HOSTILE)
    .with_evidence(
        "modifiedProperties",
        json!([{"displayName": "DisplayName", "newValue": HOSTILE}]),
    )
    .with_link("Sign-in log", HOSTILE_HREF)
}

fn hostile_digest() -> Alert {
    let f = json!({"subject": {"id": "u0", "userPrincipalName": HOSTILE, "displayName": HOSTILE},
                   "evidence": {"population": "guest", "lastActivity": "2026-07-01T00:00:00Z", "daysInactive": 144}});
    Alert::new(
        types::DORMANT_DIGEST,
        Severity::Medium,
        hostile_tenant(),
        "hostile-2",
        format!("1 dormant accounts in {}", hostile_tenant().name),
        at(),
    )
    .with_data("findings", json!([f]))
    .with_data("counts", json!({"guest": 1, "member": 0}))
    .with_link("Users", USERS_HREF)
}

#[test]
fn hostile_payloads_match_golden() {
    for (name, alert) in [
        ("hostile", hostile_sign_in()),
        ("hostile_digest", hostile_digest()),
    ] {
        golden(&format!("slack_{name}"), &slack::render(&alert));
        golden(&format!("teams_{name}"), &teams::render(&alert));
        golden(
            &format!("pagerduty_{name}"),
            &pagerduty::render(&alert, "k"),
        );
        golden(&format!("webhook_{name}"), &webhook::render(&alert));
    }
}

/// Every string in `v`, with the `type` of the object that holds it (`None`: a typeless one).
fn texts(v: &Value) -> Vec<(Option<&str>, &str)> {
    fn walk<'a>(v: &'a Value, holder: Option<&'a str>, out: &mut Vec<(Option<&'a str>, &'a str)>) {
        match v {
            Value::String(s) => out.push((holder, s)),
            Value::Object(m) => m
                .values()
                .for_each(|c| walk(c, m.get("type").and_then(Value::as_str), out)),
            Value::Array(a) => a.iter().for_each(|c| walk(c, holder, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, None, &mut out);
    out
}

/// The hostile text is shown in full inside a `shown_in` object, defanged, and no live URL to
/// evil.example is left anywhere.
fn assert_shown_defanged(v: &Value, shown_in: &str) {
    let defanged = HOSTILE.replace("https://", "hxxps://");
    assert!(texts(v)
        .iter()
        .any(|(t, s)| *t == Some(shown_in) && s.contains(&defanged)));
    let all = v.to_string().to_lowercase();
    assert!(
        !all.contains("https://evil") && !all.contains("http://evil"),
        "{all}"
    );
}

#[test]
fn slack_puts_tenant_text_only_in_plain_text() {
    for alert in [hostile_sign_in(), hostile_digest()] {
        let msg = slack::render(&alert);
        for (holder, s) in texts(&msg["blocks"])
            .into_iter()
            .filter(|(t, _)| *t != Some("plain_text"))
        {
            // Our own links are the only `<` allowed in mrkdwn; the hostile href is checked below.
            let s = s
                .replace(HOSTILE_HREF_SLACK, "")
                .replace(&format!("<{USERS_HREF}|Users>"), "");
            for bad in MARKS
                .iter()
                .chain(&["<!", "<@", "<#", "<http", "|Reset", "<", ">"])
            {
                assert!(!s.contains(bad), "{bad} in a {holder:?}: {s}");
            }
        }
        assert_shown_defanged(&msg["blocks"], "plain_text");
        // The fallback is parsed as mrkdwn: its control characters are escaped. `*`, `_`, `|`
        // have no escape and stay, harmless without a `<` to open a link or mention.
        let fallback = msg["text"].as_str().unwrap();
        assert!(!fallback.contains(['<', '>']), "{fallback}");
        let title = (alert
            .title
            .replace("https://", "hxxps://")
            .replace('&', "&amp;"))
        .replace('<', "&lt;")
        .replace('>', "&gt;");
        assert!(fallback.contains(&title), "{fallback}");
        assert!(fallback.contains("&lt;!here&gt; *ops* hxxps://evil.example/t"));
    }
    let msg = slack::render(&hostile_sign_in());
    assert!(texts(&msg["blocks"]).contains(&(Some("mrkdwn"), HOSTILE_HREF_SLACK)));
}

#[test]
fn teams_puts_tenant_text_only_in_text_runs_and_stays_1_4() {
    for alert in [hostile_sign_in(), hostile_digest()] {
        let card = &teams::render(&alert)["attachments"][0]["content"];
        // FactSet facts are typeless (`None`): their titles and values are checked here too.
        for (holder, s) in texts(card)
            .into_iter()
            .filter(|(t, _)| *t != Some("TextRun"))
        {
            for bad in MARKS.iter().chain(&["[Reset](", "<!"]) {
                assert!(!s.contains(bad), "{bad} in a {holder:?}: {s}");
            }
        }
        assert_shown_defanged(card, "TextRun");
        let mut types = Vec::new();
        walk_types(card, &mut types);
        assert!(
            types
                .iter()
                .all(|t| teams::V1_4_TYPES.contains(&t.as_str())),
            "{types:?}"
        );
    }
}

#[test]
fn pagerduty_and_webhook_carry_hostile_text_verbatim_as_json_strings() {
    let a = hostile_sign_in();
    let round_trip = |v: &Value| serde_json::from_str::<Value>(&v.to_string()).unwrap();
    let hook = webhook::render(&a);
    assert_eq!(round_trip(&hook), hook);
    assert_eq!(Alert::from_json(&hook).unwrap(), a);
    let (d, e) = (&hook["data"], &hook["data"]["evidence"]);
    for v in [
        &d["subject"]["displayName"],
        &d["subject"]["userPrincipalName"],
        &e["appDisplayName"],
        &e["failureReason"],
        &e["userAgent"],
        &e["modifiedProperties"][0]["newValue"],
    ] {
        assert_eq!(v, HOSTILE);
    }
    assert_eq!(d["links"][0]["href"], HOSTILE_HREF);
    let pd = pagerduty::render(&a, "k");
    assert_eq!(round_trip(&pd), pd);
    assert_eq!(pd["payload"]["component"], HOSTILE);
    assert_eq!(
        pd["payload"]["summary"],
        format!("{} ({})", a.title, a.tenant.name)
    );
    assert_eq!(
        pd["payload"]["custom_details"]["evidence"]["userAgent"],
        HOSTILE
    );
    let digest = webhook::render(&hostile_digest());
    assert_eq!(
        digest["data"]["findings"][0]["subject"]["userPrincipalName"],
        HOSTILE
    );
}
