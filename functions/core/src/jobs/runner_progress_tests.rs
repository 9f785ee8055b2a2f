//! What a run reports to its progress view: the tenants done of all, when there are several.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::progress::{Recorder, Stage};
use crate::state::sqlite::SqliteStore;

/// `tenants` tenants without job sections: the run visits each and runs nothing, so no Graph call is made.
async fn run_over(tenants: usize) -> Arc<Recorder> {
    let mut text = String::new();
    for i in 0..tenants {
        text += &format!(
            "[[tenants]]\nname = \"t{i}\"\nid = \"1111111{i}-2222-3333-4444-555555555555\"\n\
             client_id = \"aaaaaaaa-bbbb-cccc-dddd-000000000001\"\n\
             credential = {{ type = \"secret\", secret = \"env:UNUSED\" }}\n\n"
        );
    }
    let config = Config::from_toml_str(&text, "test.toml").unwrap();
    let recorder = Arc::new(Recorder::default());
    let resolver = SecretResolver::new();
    let run = JobRun {
        config: &config,
        jobs: &[JobName::Dormant],
        tenants: None,
        stores: Stores::new(SqliteStore::open(":memory:").unwrap()),
        resolver: &resolver,
        sinks: Vec::new(),
        now: chrono::Utc::now(),
        owner: "test".into(),
        deadline: Duration::from_secs(60),
        graph_options: Default::default(),
    };
    run_jobs_with(run, Progress::new(recorder.clone())).await;
    recorder
}

#[tokio::test]
async fn a_run_over_several_tenants_reports_the_tenants_done_of_all() {
    let recorder = run_over(3).await;
    assert_eq!(
        recorder.steps(),
        [
            (0, Extent::Exact(3), Stage::Running),
            (1, Extent::Exact(3), Stage::Running),
            (2, Extent::Exact(3), Stage::Running),
            (3, Extent::Exact(3), Stage::Running),
            (3, Extent::Exact(3), Stage::Done),
        ]
    );
    assert!(recorder
        .seen()
        .iter()
        .all(|s| s.label == "run dormant" && s.unit == "tenants"));
}

#[tokio::test]
async fn a_run_over_one_tenant_shows_no_tenant_count() {
    assert!(run_over(1).await.seen().is_empty());
}
