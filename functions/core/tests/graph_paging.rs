//! Paging through the emulator: every user once, one page at a time, resumable, and paced under the throttle.

mod graph_support;

use std::collections::HashSet;
use std::time::Duration;

use entrawatch_core::graph::model::User;
use entrawatch_core::graph::{
    ClientOptions, GraphError, GraphPort, GraphRequest, PacingLimits, Pager, RateWindow, UserQuery,
};
use graph_support::*;

#[tokio::test]
async fn listing_5000_users_holds_one_page_of_at_most_500_at_a_time() -> Result<(), GraphError> {
    let emu = generated(5_000).await;
    let client = client(&emu);
    let mut pager = client.pages::<User>(GraphRequest::users(&UserQuery::default()));
    assert_eq!(pager.page_size(), Some(500));
    let mut ids = HashSet::new();
    let mut largest_page = 0;
    while let Some(page) = pager.next_page().await? {
        largest_page = largest_page.max(page.items.len());
        // Only ids are kept: the page itself is dropped before the next one is fetched.
        ids.extend(page.items.into_iter().map(|u| u.id));
    }
    assert!(largest_page <= 500, "a page held {largest_page} users");
    assert_eq!(ids.len(), 5_000, "every user exactly once");
    assert_eq!(pager.pages_fetched(), 10);
    assert_eq!(client.metrics().requests, 10);
    assert_eq!(
        pager.next_page().await?.map(|p| p.items.len()),
        None,
        "a finished pager stays finished"
    );
    Ok(())
}

#[tokio::test]
async fn a_scan_resumes_from_its_checkpoint_in_a_new_client() -> Result<(), GraphError> {
    let emu = generated(1_200).await;
    let first = client(&emu);
    let mut pager =
        first.pages::<User>(GraphRequest::users(&UserQuery::default()).with_page_size(300));
    let mut seen = HashSet::new();
    for _ in 0..2 {
        let page = pager
            .next_page()
            .await?
            .unwrap_or_else(|| panic!("two pages exist"));
        seen.extend(page.items.into_iter().map(|u| u.id));
    }
    let checkpoint = pager
        .checkpoint()
        .map(str::to_string)
        .unwrap_or_else(|| panic!("a next link after page 2"));
    drop(pager);

    let second = client(&emu);
    let mut resumed: Pager<User> = Pager::resume(second.clone(), checkpoint);
    while let Some(page) = resumed.next_page().await? {
        for user in page.items {
            assert!(seen.insert(user.id), "resumed scan repeated a user");
        }
    }
    assert_eq!(seen.len(), 1_200);
    assert_eq!(second.metrics().requests, 2);
    Ok(())
}

#[tokio::test]
async fn the_port_pages_by_next_link() -> Result<(), GraphError> {
    let emu = generated(1_100).await;
    let port: &dyn GraphPort = &client(&emu);
    let query = UserQuery {
        select: vec!["id".into(), "displayName".into()],
        ..UserQuery::default()
    };
    let first = port.list_users(&query, None).await?;
    assert_eq!(first.items.len(), 999);
    let second = port.list_users(&query, first.next_link.as_deref()).await?;
    assert_eq!(second.items.len(), 101);
    assert_eq!(second.next_link, None);
    Ok(())
}

#[tokio::test]
async fn a_next_link_to_another_host_is_never_followed() {
    let emu = generated(10).await;
    let client = client(&emu);
    let mut pager: Pager<User> = Pager::resume(
        client.clone(),
        "https://attacker.example/v1.0/users?$skiptoken=x",
    );
    let error = pager
        .next_page()
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        error.contains("refusing a next link to another host (attacker.example)"),
        "{error}"
    );
    assert_eq!(
        emu.stats().requests_total,
        0,
        "nothing was sent, not even a token request"
    );
}

#[tokio::test]
async fn pacing_keeps_the_reports_throttle_from_ever_answering_429() -> Result<(), GraphError> {
    // The app's windows across tenants as tight as the tenant's: this one tenant is all the app serves.
    let throttle = "enabled = true\nreports = { requests = 5, per_seconds = 2 }\n\
                    sign_in_activity = { requests = 5, per_seconds = 2 }\n\
                    reports_per_app = { requests = 5, per_seconds = 2 }\n\
                    sign_in_activity_per_app = { requests = 5, per_seconds = 2 }";
    let emu = start(scenario(
        throttle,
        "[tenants.generator]\nusers = 1050\nseed = 3\n",
    ))
    .await;
    let window = Some(RateWindow::new(5, Duration::from_secs(2)));
    let options = ClientOptions {
        pacing: PacingLimits {
            reports: window,
            sign_in_activity: window,
            directory: None,
            key_credentials: None,
            conditional_access: None,
        },
        ..fast_options()
    };
    let client = client_with(&emu, options);
    let mut pager =
        client.pages::<User>(GraphRequest::users(&UserQuery::default()).with_page_size(50));
    let mut users = 0;
    while let Some(page) = pager.next_page().await? {
        users += page.items.len();
    }
    assert_eq!(users, 1_050);
    assert!(
        pager.pages_fetched() >= 21,
        "{} pages",
        pager.pages_fetched()
    );
    assert_eq!(
        emu.stats().throttled_429,
        0,
        "the emulator never had to throttle"
    );
    assert_eq!(client.metrics().throttled_429, 0);
    assert_eq!(client.metrics().retries, 0);
    Ok(())
}
