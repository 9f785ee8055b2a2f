use chrono::TimeZone;

use super::*;

fn window() -> TimeWindow {
    let at = |h| {
        Utc.with_ymd_and_hms(2026, 1, 13, h, 0, 0)
            .single()
            .unwrap_or_default()
    };
    TimeWindow {
        from: at(13),
        to: at(14),
    }
}

fn decoded(request: &GraphRequest) -> String {
    let url = url::Url::parse(&format!(
        "https://graph.microsoft.com{}",
        request.path_and_query()
    ));
    let url = url.unwrap_or_else(|e| panic!("request builds an invalid url: {e}"));
    let pairs: Vec<String> = url.query_pairs().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}?{}", url.path(), pairs.join("&"))
}

#[test]
fn users_with_sign_in_activity_ask_for_500_a_page() {
    let request = GraphRequest::users(&UserQuery::default());
    assert_eq!(request.page_size(), Some(500));
    assert!(decoded(&request).starts_with("/v1.0/users?$select=id,userPrincipalName,"));
}

#[test]
fn users_without_sign_in_activity_ask_for_999_a_page() {
    let query = UserQuery {
        select: vec!["id".into()],
        ..UserQuery::default()
    };
    assert_eq!(
        decoded(&GraphRequest::users(&query)),
        "/v1.0/users?$select=id&$top=999"
    );
}

#[test]
fn sign_in_activity_filter_uses_beta_and_an_unquoted_date() {
    let filter = SignInActivityFilter {
        property: SignInActivityProperty::LastSuccessfulSignIn,
        comparison: Comparison::OnOrBefore,
        at: window().from,
    };
    let query = UserQuery {
        api: ApiVersion::Beta,
        select: vec!["id".into()],
        sign_in_filter: Some(filter),
    };
    assert_eq!(
        decoded(&GraphRequest::users(&query)),
        "/beta/users?$select=id&$filter=signInActivity/lastSuccessfulSignInDateTime le 2026-01-13T13:00:00Z&$top=500"
    );
}

#[test]
fn interactive_sign_ins_for_one_user_use_v1_and_a_window() {
    let query = SignInQuery {
        kind: SignInKind::Interactive,
        window: window(),
        user_ids: vec!["u1".into()],
    };
    assert_eq!(
        decoded(&GraphRequest::sign_ins(&query)),
        "/v1.0/auditLogs/signIns?$filter=createdDateTime ge 2026-01-13T13:00:00Z and createdDateTime le \
         2026-01-13T14:00:00Z and userId eq 'u1'&$top=1000"
    );
}

#[test]
fn non_interactive_sign_ins_for_several_users_use_beta_and_or() {
    let ids = vec!["u1".to_string(), "u2".to_string()];
    let query = SignInQuery {
        kind: SignInKind::NonInteractive,
        window: window(),
        user_ids: ids,
    };
    let text = decoded(&GraphRequest::sign_ins(&query));
    assert!(text.starts_with("/beta/auditLogs/signIns?"));
    assert!(text.contains(" and (userId eq 'u1' or userId eq 'u2') and signInEventTypes/any(t: t eq 'nonInteractiveUser')"));
}

#[test]
fn both_kinds_of_user_sign_in_share_one_beta_request() {
    let query = SignInQuery {
        kind: SignInKind::InteractiveAndNonInteractive,
        window: window(),
        user_ids: vec!["u1".to_string(), "u2".to_string()],
    };
    assert_eq!(
        decoded(&GraphRequest::sign_ins(&query)),
        "/beta/auditLogs/signIns?$filter=createdDateTime ge 2026-01-13T13:00:00Z and createdDateTime le \
         2026-01-13T14:00:00Z and (userId eq 'u1' or userId eq 'u2') and \
         signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')&$top=1000"
    );
}

#[test]
fn quotes_in_ids_cannot_escape_the_filter_and_slashes_cannot_change_the_path() {
    let query = AuditQuery {
        also_logged_by: None,
        target_ids: vec!["x' or 1 eq 1 or 'y".into()],
        window: window(),
    };
    assert!(decoded(&GraphRequest::directory_audits(&query))
        .contains("t/id eq 'x'' or 1 eq 1 or ''y')"));
    assert_eq!(
        GraphRequest::user("../groups?x").path(),
        "/v1.0/users/..%2Fgroups%3Fx"
    );
}

#[test]
fn spaces_are_sent_as_percent_20() {
    let query = AuditQuery {
        also_logged_by: None,
        target_ids: vec!["t".into()],
        window: window(),
    };
    let raw = GraphRequest::directory_audits(&query).path_and_query();
    assert!(raw.contains("activityDateTime%20ge%202026-01-13T13:00:00Z"));
    assert!(!raw.contains('+'));
}

#[test]
fn page_size_can_shrink_but_never_grow() {
    assert_eq!(
        GraphRequest::users(&UserQuery::default())
            .with_page_size(50)
            .page_size(),
        Some(50)
    );
    assert_eq!(
        GraphRequest::users(&UserQuery::default())
            .with_page_size(5000)
            .page_size(),
        Some(500)
    );
    assert_eq!(
        GraphRequest::role_assignments()
            .with_page_size(5)
            .page_size(),
        None
    );
}

#[test]
fn several_audit_targets_share_one_filter() {
    let query = AuditQuery {
        also_logged_by: None,
        target_ids: vec!["a".into(), "b".into()],
        window: window(),
    };
    assert!(decoded(&GraphRequest::directory_audits(&query)).ends_with(
        " and (targetResources/any(t:t/id eq 'a') or targetResources/any(t:t/id eq 'b'))&$top=1000"
    ));
}
