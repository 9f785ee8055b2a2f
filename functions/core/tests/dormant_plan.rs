//! The dormant job's request plan: the signInActivity filter is probed once and remembered, a Graph that
//! rejects it gets a full listing instead, and a long scan under the emulator's throttle gets no 429.

mod dormant_support;
mod state_support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dormant_support::*;
use entrawatch_core::graph::model::{
    DirectoryObject, RoleAssignment, RoleEligibilitySchedule, SignIn, User,
};
use entrawatch_core::graph::{
    AuditQuery, GraphClient, GraphError, GraphPort, PacingLimits, Page, RateWindow, SignInQuery,
    TenantLabel, UserQuery,
};
use entrawatch_core::jobs::dormant;
use entrawatch_core::state::Stores;
use state_support::fixtures::Fixture;

/// A Graph that answers 400 to any `signInActivity` filter, as Graph would if it stopped supporting one.
struct RejectsFilter {
    inner: Arc<GraphClient>,
    rejected: AtomicU32,
}

#[async_trait]
impl GraphPort for RejectsFilter {
    async fn list_users(
        &self,
        query: &UserQuery,
        next: Option<&str>,
    ) -> Result<Page<User>, GraphError> {
        if query.sign_in_filter.is_some() {
            self.rejected.fetch_add(1, Ordering::SeqCst);
            return Err(GraphError::Api {
                tenant: Arc::new(TenantLabel {
                    name: "contoso".into(),
                    id: TENANT.into(),
                }),
                status: 400,
                code: "Request_UnsupportedQuery".into(),
                message: "Unsupported or invalid query filter clause specified.".into(),
                path: "/beta/users".into(),
            });
        }
        self.inner.list_users(query, next).await
    }
    async fn get_user(&self, id: &str) -> Result<Option<User>, GraphError> {
        self.inner.get_user(id).await
    }
    async fn list_sign_ins(
        &self,
        q: &SignInQuery,
        next: Option<&str>,
    ) -> Result<Page<SignIn>, GraphError> {
        self.inner.list_sign_ins(q, next).await
    }
    async fn list_directory_audits(
        &self,
        q: &AuditQuery,
        next: Option<&str>,
    ) -> Result<Page<entrawatch_core::graph::model::DirectoryAudit>, GraphError> {
        self.inner.list_directory_audits(q, next).await
    }
    async fn list_role_assignments(
        &self,
        next: Option<&str>,
    ) -> Result<Page<RoleAssignment>, GraphError> {
        self.inner.list_role_assignments(next).await
    }
    async fn list_role_eligibility_schedules(
        &self,
        next: Option<&str>,
    ) -> Result<Page<RoleEligibilitySchedule>, GraphError> {
        self.inner.list_role_eligibility_schedules(next).await
    }
    async fn list_group_members(
        &self,
        group: &str,
        next: Option<&str>,
    ) -> Result<Page<DirectoryObject>, GraphError> {
        self.inner.list_group_members(group, next).await
    }

    async fn list_role_definitions(
        &self,
        next: Option<&str>,
    ) -> Result<
        entrawatch_core::graph::Page<entrawatch_core::graph::model::RoleDefinition>,
        entrawatch_core::graph::GraphError,
    > {
        self.inner.list_role_definitions(next).await
    }
    async fn list_group_eligibility_schedules(
        &self,
        group: &str,
        next: Option<&str>,
    ) -> Result<
        entrawatch_core::graph::Page<entrawatch_core::graph::model::GroupEligibilitySchedule>,
        entrawatch_core::graph::GraphError,
    > {
        self.inner
            .list_group_eligibility_schedules(group, next)
            .await
    }
}

async fn rejected_filter_falls_back_to_a_full_listing_and_is_remembered(f: impl Fixture) {
    let emu = emulator(&scenario_text()).await;
    // Reference: the filtered plan, in its own store.
    let reference = Stores::new(state_support::fixtures::sqlite().await.open().await);
    dormant::run(
        &ctx(client(&emu) as Arc<dyn GraphPort>, reference.clone(), now()),
        &config(""),
        &break_glass(),
    )
    .await
    .unwrap();

    let stores = Stores::new(f.open().await);
    let graph = Arc::new(RejectsFilter {
        inner: client(&emu),
        rejected: AtomicU32::new(0),
    });
    let report = dormant::run(
        &ctx(graph.clone() as Arc<dyn GraphPort>, stores.clone(), now()),
        &config(""),
        &break_glass(),
    )
    .await
    .unwrap();
    assert!(report.complete);
    assert_eq!(report.notes[..2], [
        "scan started (signInActivity filter plan)".to_string(),
        "Graph rejected the signInActivity filter: listing every user instead (remembered for this tenant)".to_string(),
    ]);
    assert_eq!(report.examined, 25, "every user listed");
    assert_eq!(graph.rejected.load(Ordering::SeqCst), 1);
    assert_eq!(
        open_findings(&stores).await,
        open_findings(&reference).await
    );

    // The next run (a new process) remembers: no second probe.
    let stores = Stores::new(f.open().await);
    let report = dormant::run(
        &ctx(
            graph.clone() as Arc<dyn GraphPort>,
            stores,
            now() + chrono::Duration::days(1),
        ),
        &config(""),
        &break_glass(),
    )
    .await
    .unwrap();
    assert_eq!(report.notes[0], "scan started (full listing plan)");
    assert_eq!(graph.rejected.load(Ordering::SeqCst), 1);
    emu.stop().await;
}

conformance!(rejected_filter_falls_back_to_a_full_listing_and_is_remembered);

/// Emulator and client limits scaled down (Graph: 5 / 10 s reports, 10 / 60 s signInActivity) so a scan of
/// a few thousand users spends several windows.
fn throttled(users: u64) -> String {
    scenario_text()
        .replace("enabled = false\nreports = { requests = 5, per_seconds = 10 }\nsign_in_activity = { requests = 10, per_seconds = 60 }",
                 "enabled = true\nreports = { requests = 5, per_seconds = 2 }\nsign_in_activity = { requests = 2, per_seconds = 2 }")
        .replace("[[tenants.apps]]", &format!("[tenants.generator]\nusers = {users}\nseed = 5\n\n[[tenants.apps]]"))
}

fn scaled_pacing() -> PacingLimits {
    PacingLimits {
        reports: Some(RateWindow::new(5, Duration::from_secs(2))),
        sign_in_activity: Some(RateWindow::new(2, Duration::from_secs(2))),
        directory: None,
        key_credentials: None,
        conditional_access: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_scan_under_the_throttle_gets_no_429() {
    let emu = emulator(&throttled(4000)).await;
    assert!(emu.stats().by_family.is_empty() || emu.stats().throttled_429 == 0);
    let stores = Stores::new(state_support::fixtures::sqlite().await.open().await);
    let started = Instant::now();
    let graph = client_with(&emu, options(scaled_pacing()));
    let report = dormant::run(
        &ctx(graph as Arc<dyn GraphPort>, stores, now()),
        &config(""),
        &break_glass(),
    )
    .await
    .unwrap();
    assert!(report.complete);
    let stats = emu.stats();
    let pages = stats.by_family["sign_in_activity"];
    assert!(pages >= 7, "{stats:?}");
    assert_eq!(stats.throttled_429, 0, "{stats:?}");
    // Paced, not lucky: 2 pages per 2 s window.
    assert!(
        started.elapsed() >= Duration::from_secs(2 * (pages - 2) / 2),
        "{:?}",
        started.elapsed()
    );
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_scan_unpaced_is_throttled() {
    // The control for the test above: without client pacing the emulator does answer 429.
    let emu = emulator(&throttled(4000)).await;
    let stores = Stores::new(state_support::fixtures::sqlite().await.open().await);
    let graph = client(&emu);
    let report = dormant::run(
        &ctx(graph as Arc<dyn GraphPort>, stores, now()),
        &config(""),
        &break_glass(),
    )
    .await
    .unwrap();
    assert!(report.complete);
    assert!(emu.stats().throttled_429 > 0, "{:?}", emu.stats());
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_tenant_scan_never_reports_its_break_glass_accounts() {
    // The demo tenant (role-assignable groups nesting each other in a cycle, service-principal assignments).
    let mut scenario = entrawatch_emulator::Scenario::sample();
    scenario.throttle.enabled = false;
    let emu = entrawatch_emulator::Emulator::start(scenario)
        .await
        .unwrap();
    let graph = client_with_secret(&emu, "demo-secret-not-real");
    let stores = Stores::new(state_support::fixtures::sqlite().await.open().await);
    let bg = vec![
        "0b000000-0000-4000-8000-0000000000b1".to_string(),
        "0b000000-0000-4000-8000-0000000000b2".to_string(),
    ];
    let config: entrawatch_core::config::DormantConfig = toml::from_str("").unwrap();
    let report = dormant::run(
        &ctx(graph, stores.clone(), chrono::Utc::now()),
        &config,
        &bg,
    )
    .await
    .unwrap();
    assert!(report.complete, "{report:?}");
    let findings = open_findings(&stores).await;
    assert!(
        findings.contains_key("0a000000-0000-4000-8000-000000000003"),
        "{findings:?}"
    );
    assert!(
        bg.iter().all(|id| !findings.contains_key(id)),
        "{findings:?}"
    );
    emu.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_time_budget_stops_at_the_first_checkpoint_and_the_next_run_continues() {
    let emu = emulator(&scenario_text()).await;
    let stores = Stores::new(state_support::fixtures::sqlite().await.open().await);
    let spent = dormant::DormantOptions {
        max_pages: None,
        time_budget: Some(Duration::ZERO),
        sign_in_activity_share: None,
    };
    let graph = client(&emu) as Arc<dyn GraphPort>;
    let first = dormant::run_with(
        &ctx(graph.clone(), stores.clone(), now()),
        &config(""),
        &break_glass(),
        &spent,
    )
    .await
    .unwrap();
    assert!(!first.complete);
    assert_eq!(
        first.notes[first.notes.len() - 2..],
        [
            "stopped at a checkpoint after 1 pages (11 users examined so far); the next run continues",
            "scan under way for under a minute (1 signInActivity request); a finish time is estimated from the \
             first complete scan"
        ]
    );
    assert!(open_findings(&stores).await.len() < 15);
    let rest = dormant::run(
        &ctx(graph, stores.clone(), now()),
        &config(""),
        &break_glass(),
    )
    .await
    .unwrap();
    assert!(rest.complete);
    assert_eq!(rest.notes[0], "scan continued after 1 pages");
    assert_eq!(open_findings(&stores).await.len(), 15);
    emu.stop().await;
}
