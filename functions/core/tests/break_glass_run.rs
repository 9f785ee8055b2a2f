//! The job through `run_jobs` (what `entrawatch run break-glass` and the Lambda handler call),
//! state on SQLite and DynamoDB: delivered to a webhook, every Graph request marked high
//! priority, 503 and 429 bursts absorbed within the deadline, a 429 whose `Retry-After` passes the
//! deadline fails the run with a clear message and no window movement, and the next run catches up.

mod break_glass_support;
mod outbox_support;
mod state_support;

use std::time::Duration;

use break_glass_support::*;
use chrono::Duration as Span;
use entrawatch_core::alert::types;
use entrawatch_core::jobs::TenantJobOutcome;
use entrawatch_core::state::Stores;
use state_support::fixtures::Fixture;

fn body() -> String {
    format!(
        "{USERS}\n[[tenants.sign_ins]]\nid = \"run-1\"\ncreatedDateTime = \"-5m\"\nuserId = \"{BG1}\"\n\
         userPrincipalName = \"bg1@contoso.onmicrosoft.com\"\nstatus = {{ errorCode = 0 }}\n\n\
         [[tenants.sign_ins]]\nid = \"run-late\"\ncreatedDateTime = \"+2m\"\nvisible_at = \"+12m\"\nuserId = \"{BG2}\"\n\
         event_type = \"nonInteractiveUser\"\nstatus = {{ errorCode = 50126 }}\n"
    )
}

fn accounts() -> String {
    format!("accounts = [\"{BG1}\", \"{BG2}\"]")
}

async fn alerts_are_delivered_and_every_graph_request_is_high_priority<F: Fixture>(f: F) {
    let emu = start(scenario(true, true, &body())).await;
    let hook = outbox_support::Receiver::start(0, 200).await;
    let config = full_config(&emu, SECRET, &accounts());
    let stores = Stores::new(f.open().await);
    let summary = run_all(
        &config,
        &stores,
        vec![outbox_support::webhook("secops", &hook)],
        emu.clock().now(),
        Duration::from_secs(30),
    )
    .await;
    assert!(!summary.failed(), "{summary:?}");
    assert_eq!(summary.delivered, 1);
    let bodies = hook.accepted_bodies();
    assert_eq!(bodies[0]["type"], types::BREAK_GLASS_SIGN_IN);
    assert_eq!(bodies[0]["data"]["evidence"]["signInId"], "run-1");
    assert_eq!(
        bodies[0]["data"]["id"],
        id_of(types::BREAK_GLASS_SIGN_IN, "run-1")
    );
    let stats = emu.stats();
    let graph_requests = stats.requests_total - stats.family("token");
    assert_eq!(summary.results[0].graph_requests, graph_requests);
    assert_eq!(
        graph_requests, 3,
        "sign-ins of both kinds in one beta request, audits, one lookup of both accounts"
    );
    assert_eq!(stats.throttle_priority_requests, graph_requests);
}

async fn a_503_and_429_burst_is_retried_within_the_deadline<F: Fixture>(f: F) {
    let emu = start(scenario(true, false, &body())).await;
    let hook = outbox_support::Receiver::start(0, 200).await;
    let config = full_config(&emu, SECRET, &accounts());
    let stores = Stores::new(f.open().await);
    emu.faults().fail_next(503, 2, Some(1));
    emu.faults().fail_next(429, 1, Some(1));
    let summary = run_all(
        &config,
        &stores,
        vec![outbox_support::webhook("secops", &hook)],
        emu.clock().now(),
        Duration::from_secs(20),
    )
    .await;
    assert!(!summary.failed(), "{summary:?}");
    // The faults meet the run's first request, its token request: Entra ID and Graph retry alike.
    assert_eq!(summary.results[0].graph_retries, 3);
    assert_eq!(emu.stats().injected_faults, 3);
    assert_eq!(summary.delivered, 1);
}

async fn throttling_past_the_deadline_fails_clearly_and_the_next_run_catches_up<F: Fixture>(f: F) {
    let emu = start(scenario(true, false, &body())).await;
    let hook = outbox_support::Receiver::start(0, 200).await;
    let config = full_config(&emu, SECRET, &accounts());
    let stores = Stores::new(f.open().await);
    let run = |now| {
        run_all(
            &config,
            &stores,
            vec![outbox_support::webhook("secops", &hook)],
            now,
            Duration::from_secs(3),
        )
    };
    assert!(!run(emu.clock().now()).await.failed());
    let window = window_end(&stores).await;

    // The late sign-in turns visible; Graph now throttles with a Retry-After past the deadline.
    emu.clock().advance(Span::minutes(15));
    emu.faults().fail_next(429, 1, Some(30));
    let summary = run(emu.clock().now()).await;
    assert!(summary.failed());
    match &summary.results[0].outcome {
        TenantJobOutcome::Failed { error, retryable } => {
            // The job's deadline is what the run's 3 s budget leaves after its delivery reserve.
            let prefix = format!("tenant contoso ({TENANT}): run deadline of ");
            let rest = "s reached while waiting to call /oauth2/v2.0/token (last: status 429); a later run can resume";
            assert!(
                error.starts_with(&prefix) && error.ends_with(rest),
                "{error}"
            );
            assert!(retryable);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(window_end(&stores).await, window, "the window did not move");
    assert_eq!(hook.accepted_bodies().len(), 1);

    emu.faults().clear();
    emu.clock().advance(Span::minutes(5));
    let summary = run(emu.clock().now()).await;
    assert!(!summary.failed(), "{summary:?}");
    let bodies = hook.accepted_bodies();
    assert_eq!(bodies.len(), 2, "the next run catches up");
    assert_eq!(bodies[1]["data"]["evidence"]["signInId"], "run-late");
    assert_eq!(bodies[1]["type"], types::BREAK_GLASS_SIGN_IN_FAILED);
}

conformance!(
    alerts_are_delivered_and_every_graph_request_is_high_priority,
    a_503_and_429_burst_is_retried_within_the_deadline,
    throttling_past_the_deadline_fails_clearly_and_the_next_run_catches_up,
);
