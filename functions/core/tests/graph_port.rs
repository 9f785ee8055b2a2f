//! Every `GraphPort` read against the emulator's sample tenant: the requests the jobs make are accepted and the
//! answers land in the typed models.

mod graph_support;

use entrawatch_core::graph::model::DirectoryObjectKind;
use entrawatch_core::graph::{
    AuditQuery, ClientCredential, GraphClient, GraphError, GraphPort, SignInKind, SignInQuery,
    TimeWindow,
};
use entrawatch_core::Secret;
use entrawatch_emulator::{Emulator, Scenario};
use graph_support::*;

const BG1: &str = "0b000000-0000-4000-8000-0000000000b1";
const BG2: &str = "0b000000-0000-4000-8000-0000000000b2";

async fn sample() -> (Emulator, GraphClient) {
    let emu = start(Scenario::sample()).await;
    emu.faults().set_throttle(false);
    let credential = ClientCredential::Secret(Secret::new("demo-secret-not-real"));
    let client = GraphClient::new(connection(&emu, credential), fast_options())
        .unwrap_or_else(|e| panic!("{e}"));
    (emu, client)
}

fn last_hour(emu: &Emulator) -> TimeWindow {
    let to = emu.clock().now();
    TimeWindow {
        from: to - chrono::Duration::hours(1),
        to,
    }
}

#[tokio::test]
async fn interactive_sign_ins_of_several_accounts_come_from_v1() -> Result<(), GraphError> {
    let (emu, client) = sample().await;
    let query = SignInQuery {
        kind: SignInKind::Interactive,
        window: last_hour(&emu),
        user_ids: vec![BG1.into(), BG2.into()],
    };
    let page = client.list_sign_ins(&query, None).await?;
    let ids: Vec<&str> = page.items.iter().map(|s| s.id.as_str()).collect();
    assert!(
        ids.contains(&"5a000000-0000-4000-8000-000000000001"),
        "{ids:?}"
    );
    assert!(
        !ids.contains(&"5a000000-0000-4000-8000-000000000002"),
        "non-interactive is not on v1.0"
    );
    assert!(
        !ids.contains(&"5a000000-0000-4000-8000-000000000003"),
        "not visible yet"
    );
    Ok(())
}

#[tokio::test]
async fn non_interactive_sign_ins_come_from_beta_with_their_failure_code() -> Result<(), GraphError>
{
    let (emu, client) = sample().await;
    let query = SignInQuery {
        kind: SignInKind::NonInteractive,
        window: last_hour(&emu),
        user_ids: vec![BG2.into()],
    };
    let page = client.list_sign_ins(&query, None).await?;
    let sign_in = page
        .items
        .iter()
        .find(|s| s.id == "5a000000-0000-4000-8000-000000000002");
    let sign_in = sign_in
        .unwrap_or_else(|| panic!("the non-interactive sign-in is listed: {:?}", page.items));
    assert_eq!(sign_in.status.error_code, Some(50126));
    assert!(sign_in
        .sign_in_event_types
        .iter()
        .any(|t| t == "nonInteractiveUser"));
    Ok(())
}

#[tokio::test]
async fn late_sign_ins_appear_once_visible() -> Result<(), GraphError> {
    let (emu, client) = sample().await;
    let query = SignInQuery {
        kind: SignInKind::Interactive,
        window: last_hour(&emu),
        user_ids: vec![BG2.into()],
    };
    let before = client.list_sign_ins(&query, None).await?;
    assert!(before
        .items
        .iter()
        .all(|s| s.id != "5a000000-0000-4000-8000-000000000003"));
    emu.clock().advance(chrono::Duration::minutes(11));
    // The look-back window still covers the event's createdDateTime (-61 min by now).
    let to = emu.clock().now();
    let query = SignInQuery {
        window: TimeWindow {
            from: to - chrono::Duration::hours(2),
            to,
        },
        ..query
    };
    let page = client.list_sign_ins(&query, None).await?;
    assert!(page
        .items
        .iter()
        .any(|s| s.id == "5a000000-0000-4000-8000-000000000003"));
    Ok(())
}

#[tokio::test]
async fn audits_targeting_an_account_are_listed() -> Result<(), GraphError> {
    let (emu, client) = sample().await;
    let to = emu.clock().now();
    let window = TimeWindow {
        from: to - chrono::Duration::days(30),
        to,
    };
    let page = client
        .list_directory_audits(
            &AuditQuery {
                also_logged_by: None,
                target_ids: vec![BG1.into()],
                window,
            },
            None,
        )
        .await?;
    let activities: Vec<&str> = page
        .items
        .iter()
        .map(|a| a.activity_display_name.as_str())
        .collect();
    assert!(activities.contains(&"Reset password"), "{activities:?}");
    assert!(
        !activities.contains(&"Add member to group"),
        "other targets are filtered out"
    );
    Ok(())
}

#[tokio::test]
async fn role_assignments_group_members_and_users_are_read() -> Result<(), GraphError> {
    let (_emu, client) = sample().await;
    let assignments = client.list_role_assignments(None).await?;
    let group = assignments
        .items
        .iter()
        .find(|a| a.principal_id == "06000000-0000-4000-8000-000000000001");
    let kind = group.and_then(|a| a.principal.as_ref()).map(|p| p.kind());
    assert_eq!(kind, Some(DirectoryObjectKind::Group));

    let members = client
        .list_group_members("06000000-0000-4000-8000-000000000001", None)
        .await?;
    assert!(
        members
            .items
            .iter()
            .any(|m| m.id == "0a000000-0000-4000-8000-000000000001"),
        "nested member found"
    );

    let eligible = client.list_role_eligibility_schedules(None).await?;
    assert!(eligible
        .items
        .iter()
        .any(|s| s.principal_id == "0a000000-0000-4000-8000-000000000002"));

    let bg1 = client
        .get_user(BG1)
        .await?
        .unwrap_or_else(|| panic!("bg1 exists"));
    assert_eq!(
        bg1.user_principal_name.as_deref(),
        Some("bg1@contoso.onmicrosoft.com")
    );
    Ok(())
}

#[tokio::test]
async fn high_priority_clients_mark_every_graph_request() -> Result<(), GraphError> {
    let emu = generated(3).await;
    let options = entrawatch_core::graph::ClientOptions {
        high_priority: true,
        ..fast_options()
    };
    let client = client_with(&emu, options);
    client
        .list_users(&entrawatch_core::graph::UserQuery::default(), None)
        .await?;
    client.get_user("missing").await?;
    assert_eq!(emu.stats().throttle_priority_requests, 2);
    Ok(())
}

#[tokio::test]
async fn the_tenants_users_are_counted_with_one_directory_read() -> Result<(), GraphError> {
    let (emu, client) = sample().await;
    let mut all = 0;
    let mut link: Option<String> = None;
    loop {
        let page = client
            .list_users(&Default::default(), link.as_deref())
            .await?;
        all += page.items.len() as u64;
        match page.next_link {
            Some(next) => link = Some(next),
            None => break,
        }
    }
    let before = emu.stats();
    let count = client.count_users().await?;
    let after = emu.stats();
    assert_eq!(
        count,
        Some(all),
        "the count is every user the listing gives"
    );
    assert_eq!(after.requests_total, before.requests_total + 1);
    assert_eq!(
        after.family("directory"),
        before.family("directory") + 1,
        "a directory read, not a report"
    );
    Ok(())
}
