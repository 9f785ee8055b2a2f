//! Transient failures against the emulator: Retry-After, backoff, the retry budget and the run deadline.
//! Only these tests measure wall-clock time, and only as lower or generous upper bounds.

mod graph_support;

use std::time::{Duration, Instant};

use entrawatch_core::graph::{ClientOptions, GraphError, GraphPort, UserQuery};
use graph_support::*;

fn ids_only() -> UserQuery {
    UserQuery {
        select: vec!["id".into()],
        ..UserQuery::default()
    }
}

#[tokio::test]
async fn retry_after_on_429_is_honoured_then_the_call_succeeds() -> Result<(), GraphError> {
    let emu = generated(20).await;
    let client = client(&emu);
    client.list_users(&ids_only(), None).await?; // token cached, so the fault hits Graph
    emu.faults().fail_next(429, 1, Some(2));
    let started = Instant::now();
    let page = client.list_users(&ids_only(), None).await?;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "waited only {:?}",
        started.elapsed()
    );
    assert_eq!(page.items.len(), 20);
    let metrics = client.metrics();
    assert_eq!(
        (metrics.throttled_429, metrics.retries, metrics.requests),
        (1, 1, 3)
    );
    Ok(())
}

#[tokio::test]
async fn a_burst_of_503_is_retried_with_backoff_then_succeeds() -> Result<(), GraphError> {
    let emu = generated(20).await;
    let client = client(&emu);
    client.list_users(&ids_only(), None).await?;
    emu.faults().fail_next(503, 3, None);
    let page = client.list_users(&ids_only(), None).await?;
    assert_eq!(page.items.len(), 20);
    let metrics = client.metrics();
    assert_eq!((metrics.transient_5xx, metrics.retries), (3, 3));
    Ok(())
}

#[tokio::test]
async fn a_503_storm_stops_at_the_run_deadline_long_before_it_ends() -> Result<(), GraphError> {
    let emu = generated(20).await;
    let options = ClientOptions {
        run_deadline: Duration::from_secs(3),
        max_retries: 1_000,
        ..fast_options()
    };
    let client = client_with(&emu, options);
    client.list_users(&ids_only(), None).await?;
    emu.faults().fail_next(503, 10_000, None);
    let started = Instant::now();
    let error = client.list_users(&ids_only(), None).await.err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(error, Some(GraphError::DeadlineExceeded { .. })),
        "{error:?}"
    );
    let text = error.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.starts_with(
            "tenant contoso (11111111-2222-3333-4444-555555555555): run deadline of 3s reached"
        ),
        "{text}"
    );
    assert!(
        emu.stats().injected_faults < 100,
        "the storm was not waited out"
    );
    Ok(())
}

#[tokio::test]
async fn reset_deadline_gives_a_reused_client_a_fresh_budget() -> Result<(), GraphError> {
    let emu = generated(5).await;
    let options = ClientOptions {
        run_deadline: Duration::from_millis(300),
        ..fast_options()
    };
    let client = client_with(&emu, options);
    client.list_users(&ids_only(), None).await?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Past the deadline no retry is started, however short its wait.
    emu.faults().fail_next(503, 1, Some(0));
    assert!(matches!(
        client.list_users(&ids_only(), None).await,
        Err(GraphError::DeadlineExceeded { .. })
    ));
    client.reset_deadline();
    emu.faults().fail_next(503, 1, Some(0));
    assert_eq!(client.list_users(&ids_only(), None).await?.items.len(), 5);
    Ok(())
}

#[tokio::test]
async fn retries_stop_after_max_retries() -> Result<(), GraphError> {
    let emu = generated(5).await;
    let client = client_with(
        &emu,
        ClientOptions {
            max_retries: 2,
            ..fast_options()
        },
    );
    client.list_users(&ids_only(), None).await?;
    emu.faults().fail_next(504, 10, Some(0));
    let error = client
        .list_users(&ids_only(), None)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        error,
        "tenant contoso (11111111-2222-3333-4444-555555555555): gave up on /v1.0/users after 3 attempts (last: status 504)"
    );
    Ok(())
}

#[tokio::test]
async fn an_unreachable_graph_is_a_transport_error_without_the_query_string() {
    let emu = generated(1).await;
    let mut conn = connection(
        &emu,
        entrawatch_core::graph::ClientCredential::Secret(entrawatch_core::Secret::new(SECRET)),
    );
    // A port nothing listens on: bind one, read its number, close it.
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    drop(listener);
    conn.graph_url = Some(format!("http://127.0.0.1:{port}"));
    let options = ClientOptions {
        max_retries: 1,
        ..fast_options()
    };
    let client =
        entrawatch_core::graph::GraphClient::new(conn, options).unwrap_or_else(|e| panic!("{e}"));
    let error = client.list_users(&ids_only(), None).await.err();
    assert!(
        matches!(error, Some(GraphError::Transport { .. })),
        "{error:?}"
    );
    let text = error.map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.contains(&format!("cannot reach 127.0.0.1:{port} (/v1.0/users)")),
        "{text}"
    );
    assert!(!text.contains("$select") && !text.contains('?'), "{text}");
}

/// Two workers (each its own connection to one state file, as two processes) read two tenants of one app. Graph
/// holds the app at 429 (the emulator's app-wide hold: another tool on the same app registration spent its
/// budget): the first worker's 429 and its `Retry-After` reach the second through the shared budget, which
/// waits instead of collecting a 429 of its own.
#[tokio::test(flavor = "multi_thread")]
async fn a_429_in_one_tenant_pauses_every_worker_of_the_app() {
    use std::sync::Arc;

    use chrono::Utc;
    use entrawatch_core::graph::{
        ClientCredential, Cloud, GraphClient, PacingLimits, SharedBudget, SharedLimits, SignInKind,
        SignInQuery, TenantConnection, TimeWindow,
    };
    use entrawatch_core::state::sqlite::SqliteStore;
    use entrawatch_core::Secret;
    use entrawatch_emulator::{many_tenants, Emulator, ManyTenantsSpec};

    let generated = many_tenants(&ManyTenantsSpec {
        tenants: 2,
        ..ManyTenantsSpec::default()
    });
    let emu = Emulator::start(generated.scenario.clone()).await.unwrap();
    let db = std::env::temp_dir().join(format!("entrawatch-hold-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let worker = |k: usize| {
        let store = SqliteStore::open(&db).unwrap();
        let options = ClientOptions {
            pacing: PacingLimits::unlimited(),
            shared_budget: Some(SharedBudget::new(Arc::new(store), SharedLimits::default())),
            ..fast_options()
        };
        let conn = TenantConnection {
            tenant_id: generated.tenants[k].id.clone(),
            tenant_name: generated.tenants[k].name.clone(),
            client_id: generated.client_id.clone(),
            credential: ClientCredential::Secret(Secret::new(generated.client_secret.clone())),
            cloud: Cloud::Global,
            graph_url: Some(emu.url()),
            login_url: Some(emu.url()),
        };
        GraphClient::new(conn, options).unwrap()
    };
    let (first, second) = (worker(0), worker(1));
    let sign_ins = |k: usize| SignInQuery {
        kind: SignInKind::Interactive,
        window: TimeWindow {
            from: Utc::now() - chrono::Duration::hours(1),
            to: Utc::now(),
        },
        user_ids: generated.tenants[k].break_glass.to_vec(),
    };
    // Tokens first (directory reads are not held), so the reports requests below are the only ones held.
    first.list_users(&ids_only(), None).await.unwrap();
    second.list_users(&ids_only(), None).await.unwrap();
    emu.hold_app_at_429(&generated.client_id, Duration::from_secs(2), Some(2))
        .unwrap();

    let started = Instant::now();
    let (query_0, query_1) = (sign_ins(0), sign_ins(1));
    let first_read = first.list_sign_ins(&query_0, None);
    let second_read = async {
        // Starts once the first worker has met the 429 and shared its Retry-After.
        tokio::time::sleep(Duration::from_millis(300)).await;
        second.list_sign_ins(&query_1, None).await
    };
    let (a, b) = tokio::join!(first_read, second_read);
    assert_eq!(
        a.unwrap().items.len(),
        2,
        "one sign-in of each emergency account"
    );
    assert_eq!(b.unwrap().items.len(), 2);
    assert_eq!(first.metrics().throttled_429, 1);
    assert_eq!(
        second.metrics().throttled_429,
        0,
        "the second worker waited"
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
    let app = emu.app_stats(&generated.client_id).unwrap();
    assert_eq!(app.throttled_429, 1, "one 429 for the whole app: {app:?}");
    emu.stop().await;
}
