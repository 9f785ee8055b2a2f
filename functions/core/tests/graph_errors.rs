//! Each failure class produces its own actionable message, naming the tenant and never a secret or query string.

mod graph_support;

use entrawatch_core::graph::{
    ClientCredential, GraphClient, GraphError, GraphPort, SignInKind, SignInQuery, TimeWindow,
    UserQuery,
};
use entrawatch_core::Secret;
use graph_support::*;

const CONTOSO: &str = "tenant contoso (11111111-2222-3333-4444-555555555555)";

fn last_hour() -> TimeWindow {
    let to = chrono::Utc::now();
    TimeWindow {
        from: to - chrono::Duration::hours(1),
        to,
    }
}

async fn error_text<T>(result: Result<T, GraphError>) -> String {
    result
        .err()
        .map(|e| e.to_string())
        .unwrap_or_else(|| panic!("expected an error"))
}

#[tokio::test]
async fn a_wrong_secret_says_which_tenant_and_what_to_check() {
    let emu = generated(1).await;
    let conn = connection(
        &emu,
        ClientCredential::Secret(Secret::new("wrong-secret-value")),
    );
    let client = GraphClient::new(conn, fast_options()).unwrap_or_else(|e| panic!("{e}"));
    let text = error_text(client.list_users(&UserQuery::default(), None).await).await;
    assert_eq!(
        text,
        format!("{CONTOSO}: client secret rejected (AADSTS7000215): check the secret and that it has not expired")
    );
    assert!(!text.contains("wrong-secret-value"));
}

#[tokio::test]
async fn a_tenant_without_premium_needs_p1_or_p2() {
    let emu = start(scenario(
        "enabled = false",
        "premium = false\np2 = false\n[tenants.generator]\nusers = 3\n",
    ))
    .await;
    let text = error_text(client(&emu).list_users(&UserQuery::default(), None).await).await;
    assert_eq!(
        text,
        format!(
            "{CONTOSO}: needs Entra ID P1 or P2 (Graph answered 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant \
             on /v1.0/users)"
        )
    );
}

#[tokio::test]
async fn a_tenant_without_p2_reports_pim_as_licence_required() {
    let emu = start(scenario("enabled = false", "p2 = false\n")).await;
    let error = client(&emu)
        .list_role_eligibility_schedules(None)
        .await
        .err();
    assert!(
        matches!(&error, Some(GraphError::LicenceRequired { needs, .. }) if needs == "Entra ID P2"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_missing_permission_is_named() {
    let toml = format!(
        "[throttle]\nenabled = false\n[[tenants]]\nid = \"{TENANT}\"\nname = \"contoso\"\n[[tenants.apps]]\n\
         client_id = \"{CLIENT}\"\nsecret = \"{SECRET}\"\npermissions = [\"User.Read.All\"]\n"
    );
    let emu = start(
        entrawatch_emulator::Scenario::from_toml_str(&toml).unwrap_or_else(|e| panic!("{e}")),
    )
    .await;
    let query = SignInQuery {
        kind: SignInKind::Interactive,
        window: last_hour(),
        user_ids: vec!["u1".into()],
    };
    let text = error_text(client(&emu).list_sign_ins(&query, None).await).await;
    assert_eq!(
        text,
        format!(
            "{CONTOSO}: the app lacks the Graph application permission AuditLog.Read.All (Graph answered 403 \
             Authentication_MSGraphPermissionMissing on /v1.0/auditLogs/signIns): grant it and give admin consent"
        )
    );
    assert!(!text.contains("userId"), "no query string in errors");
}

#[tokio::test]
async fn an_html_error_page_is_reported_by_its_start_without_token_or_query() {
    let emu = generated(1).await;
    let mut conn = connection(&emu, ClientCredential::Secret(Secret::new(SECRET)));
    conn.graph_url = Some(
        canned_graph(
            "502 Bad Gateway",
            "text/html",
            "<html>\n<body>Bad gateway</body></html>",
        )
        .await,
    );
    let client = GraphClient::new(conn, fast_options()).unwrap_or_else(|e| panic!("{e}"));
    let text = error_text(client.list_users(&UserQuery::default(), None).await).await;
    assert_eq!(
        text,
        format!(
            "{CONTOSO}: unexpected response: status 502, content-type text/html, body starts: \
             <html>\\n<body>Bad gateway</body></html>"
        )
    );
}

#[tokio::test]
async fn a_refused_token_is_replaced_once_then_reported() {
    let emu = generated(1).await;
    let mut conn = connection(&emu, ClientCredential::Secret(Secret::new(SECRET)));
    let body = r#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure."}}"#;
    conn.graph_url = Some(canned_graph("401 Unauthorized", "application/json", body).await);
    let client = GraphClient::new(conn, fast_options()).unwrap_or_else(|e| panic!("{e}"));
    let text = error_text(client.list_users(&UserQuery::default(), None).await).await;
    assert_eq!(
        text,
        format!(
            "{CONTOSO}: Graph rejected the access token (401 InvalidAuthenticationToken): check client id, credential \
             and that the app is consented in this tenant"
        )
    );
    assert_eq!(
        (client.metrics().requests, client.metrics().token_requests),
        (2, 2)
    );
}

#[tokio::test]
async fn a_401_with_a_cached_token_gets_a_new_token_and_succeeds() -> Result<(), GraphError> {
    let emu = generated(2).await;
    let client = client(&emu);
    client.list_users(&UserQuery::default(), None).await?;
    emu.faults().fail_next(401, 1, None);
    assert_eq!(
        client
            .list_users(&UserQuery::default(), None)
            .await?
            .items
            .len(),
        2
    );
    assert_eq!(client.metrics().token_requests, 2);
    assert_eq!(emu.stats().family("token"), 2);
    Ok(())
}

#[tokio::test]
async fn a_missing_user_is_none_not_an_error() -> Result<(), GraphError> {
    let emu = generated(2).await;
    assert_eq!(
        client(&emu)
            .get_user("00000000-0000-0000-0000-00000000dead")
            .await?,
        None
    );
    Ok(())
}

#[tokio::test]
async fn plain_http_to_a_non_loopback_host_is_refused() {
    let emu = generated(1).await;
    let mut conn = connection(&emu, ClientCredential::Secret(Secret::new(SECRET)));
    conn.graph_url = Some("http://graph.example.com".into());
    let text = GraphClient::new(conn, fast_options())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        text,
        format!("{CONTOSO}: invalid Graph settings: graph_url must be https (plain http only to a loopback address)")
    );
}
