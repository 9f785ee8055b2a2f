//! Crash injection at each step of a break-glass run, state on SQLite and DynamoDB: after a Graph
//! page was fetched, after each outbox write, after a webhook send. A crash is a panic in the
//! task running the job (nothing after it runs; the next run starts from fresh store handles, as
//! a new process or Lambda invocation would). After each crash the next run loses nothing and
//! records nothing twice, and the window never moves past unrecorded alerts.

mod break_glass_support;
mod outbox_support;
mod state_support;

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use break_glass_support::crash::{CrashAfterFetch, CrashAfterRecord, CrashAfterSend};
use break_glass_support::*;
use chrono::Duration as Minutes;
use entrawatch_core::alert::types;
use entrawatch_core::jobs::{break_glass, JobContext};
use entrawatch_core::outbox::Outbox;
use entrawatch_core::sinks::Sink;
use entrawatch_core::state::Stores;
use entrawatch_emulator::Emulator;
use state_support::fixtures::Fixture;

/// 4 sign-ins and 2 audits: 6 alerts, over 3 pages of 2 (2 sign-in pages for both kinds, 1 audit page).
fn body() -> String {
    let mut body = USERS.to_string();
    for (id, user, ago, extra) in [
        ("c-1", BG1, 3, ""),
        ("c-2", BG1, 4, ""),
        ("c-3", BG2, 5, ""),
        ("c-4", BG2, 6, "event_type = \"nonInteractiveUser\"\n"),
    ] {
        body += &format!(
            "[[tenants.sign_ins]]\nid = \"{id}\"\ncreatedDateTime = \"-{ago}m\"\nuserId = \"{user}\"\n{extra}status = {{ errorCode = 0 }}\n"
        );
    }
    for (id, activity) in [("c-a1", "Reset password"), ("c-a2", "Add member to role")] {
        body += &format!(
            "[[tenants.audits]]\nid = \"{id}\"\nactivityDisplayName = \"{activity}\"\nactivityDateTime = \"-10m\"\n\
             targetResources = [{{ id = \"{BG1}\", type = \"User\" }}]\n"
        );
    }
    body
}

fn expected() -> Vec<String> {
    sorted(vec![
        id_of(types::BREAK_GLASS_SIGN_IN, "c-1"),
        id_of(types::BREAK_GLASS_SIGN_IN, "c-2"),
        id_of(types::BREAK_GLASS_SIGN_IN, "c-3"),
        id_of(types::BREAK_GLASS_SIGN_IN, "c-4"),
        id_of(types::BREAK_GLASS_ACCOUNT_CHANGED, "c-a1"),
        id_of(types::BREAK_GLASS_ACCOUNT_CHANGED, "c-a2"),
    ])
}

fn small_pages(emu: &Emulator) -> SmallPages {
    SmallPages::new(Arc::new(client_for(emu, SECRET, test_options())), 2)
}

/// Runs `ctx` in its own task and expects it to die with `message`.
async fn crashes(ctx: JobContext, message: &str) {
    let config = bg_config(&[BG1, BG2], "");
    let outcome = tokio::spawn(async move { break_glass::run(&ctx, &config).await }).await;
    let panic = outcome.expect_err("the run crashes").into_panic();
    let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert_eq!(text, message);
}

/// After a crash: no window moved, then a clean run finishes the job.
async fn recovers<F: Fixture>(f: &F, emu: &Emulator, already: usize) {
    let stores = Stores::new(f.open().await);
    assert_eq!(
        window_end(&stores).await,
        None,
        "a crashed run never moves the window"
    );
    let report = run_once(emu, &stores, &bg_config(&[BG1, BG2], ""))
        .await
        .unwrap();
    assert_eq!(
        report.alerts_recorded,
        6 - already,
        "the rest, and nothing twice"
    );
    assert!(window_end(&stores).await.is_some());
    assert_eq!(ids(&recorded(&stores).await), expected());
}

async fn a_crash_after_any_fetch_loses_nothing_and_duplicates_nothing<F: Fixture>(f: F) {
    let emu = start(scenario(true, false, &body())).await;
    // Pages of two, newest first: sign-ins of both kinds [c-1, c-2] [c-3, c-4], audits
    // [c-a1, c-a2]. A crash after fetching page k leaves the alerts of pages before k.
    let stores = Stores::new(f.open().await);
    for (crash_at, recorded_before) in [(1, 0), (2, 2), (3, 4)] {
        let graph = Arc::new(CrashAfterFetch {
            inner: small_pages(&emu),
            crash_at,
            fetched: AtomicUsize::new(0),
        });
        crashes(
            context(&stores, graph, emu.clock().now()),
            &format!("injected crash after fetching page {crash_at}"),
        )
        .await;
        assert_eq!(recorded(&stores).await.len(), recorded_before);
    }
    recovers(&f, &emu, 4).await;
}

async fn a_crash_after_any_outbox_write_loses_nothing_and_duplicates_nothing<F: Fixture>(f: F) {
    let emu = start(scenario(true, false, &body())).await;
    let stores = Stores::new(f.open().await);
    // After the first write, in the middle, and after the last one (before the window moves).
    // Each rerun records the alerts already there again (AlreadyRecorded), then new ones.
    for crash_at in [1, 3, 6] {
        let ctx = JobContext {
            outbox: Outbox::new(
                Arc::new(CrashAfterRecord {
                    inner: stores.outbox.clone(),
                    crash_at,
                    writes: AtomicUsize::new(0),
                }),
                vec![capture_route()],
            ),
            ..context(
                &stores,
                Arc::new(client_for(&emu, SECRET, test_options())),
                emu.clock().now(),
            )
        };
        crashes(
            ctx,
            &format!("injected crash after outbox write {crash_at}"),
        )
        .await;
        assert_eq!(recorded(&stores).await.len(), crash_at);
    }
    recovers(&f, &emu, 6).await;
}

/// `run_jobs` (the CLI and Lambda path) dies right after the first webhook delivery: the next run
/// re-sends that one with the same `webhook-id` (at-least-once, SPEC.md "Alerts"), sends the
/// rest, records nothing new; every alert reaches the receiver, none is recorded twice.
async fn a_crash_after_send_resends_the_same_id_and_loses_nothing<F: Fixture>(f: F) {
    let emu = start(scenario(true, false, &body())).await;
    let hook = outbox_support::Receiver::start(0, 200).await;
    let config = full_config(&emu, SECRET, &format!("accounts = [\"{BG1}\", \"{BG2}\"]"));
    let stores = Stores::new(f.open().await);
    let crashing: Arc<dyn Sink> =
        Arc::new(CrashAfterSend(outbox_support::webhook("secops", &hook)));
    let (c, s, now) = (config.clone(), stores.clone(), emu.clock().now());
    let outcome =
        tokio::spawn(
            async move { run_all(&c, &s, vec![crashing], now, Duration::from_secs(20)).await },
        )
        .await;
    assert!(outcome.expect_err("the run crashes").is_panic());
    let first = hook.received();
    assert_eq!(first.len(), 1);
    assert!(
        window_end(&stores).await.is_some(),
        "the job had finished: its alerts were all in the outbox"
    );

    emu.clock().advance(Minutes::minutes(5));
    let stores = Stores::new(f.open().await);
    let summary = run_all(
        &config,
        &stores,
        vec![outbox_support::webhook("secops", &hook)],
        emu.clock().now(),
        Duration::from_secs(20),
    )
    .await;
    assert!(!summary.failed(), "{summary:?}");
    assert_eq!(summary.delivered, 6);
    let got = hook.received();
    assert!(got.iter().all(outbox_support::signature_verifies));
    let sent: Vec<String> = got.iter().map(outbox_support::id_of).collect();
    assert_eq!(sent.len(), 7, "six alerts, one of them twice");
    let mut distinct = sent.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct, expected(), "nothing lost");
    assert_eq!(
        sent.iter()
            .filter(|i| **i == outbox_support::id_of(&first[0]))
            .count(),
        2,
        "the crashed delivery is re-sent with the same id"
    );
    match &summary.results[0].outcome {
        entrawatch_core::jobs::TenantJobOutcome::Done { report } => {
            assert_eq!(report.alerts_recorded, 0, "nothing recorded twice")
        }
        other => panic!("{other:?}"),
    }
}

conformance!(
    a_crash_after_send_resends_the_same_id_and_loses_nothing,
    a_crash_after_any_fetch_loses_nothing_and_duplicates_nothing,
    a_crash_after_any_outbox_write_loses_nothing_and_duplicates_nothing,
);
