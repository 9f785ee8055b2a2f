//! The break-glass function with many tenants, as Lambda runs it: the real binary, given a fan-out
//! queue (SQS on moto), turns the schedule's input into one message per tenant; handed an SQS
//! event with that message, it runs the tenant against the emulator, delivers to a local webhook
//! receiver and answers with the partial batch response.

#[path = "../../core/tests/outbox_support/mod.rs"]
mod outbox_support;
#[path = "../../core/tests/state_support/mod.rs"]
mod state_support;
mod support;

use std::time::Duration;

use entrawatch_emulator::{Emulator, Scenario};
use entrawatch_runtime_api_double::{spawn_function, Outcome, RuntimeApi};
use outbox_support::{Receiver, SECRET};
use serde_json::{json, Value};
use support::{config_toml, emf_lines, function_env, BG1, BINARY, TENANT};

#[tokio::test(flavor = "multi_thread")]
async fn schedule_fans_out_and_the_queue_event_runs_the_tenant() {
    let emulator = Emulator::start(Scenario::sample()).await.unwrap();
    let receiver = Receiver::start(0, 200).await;
    let sdk = state_support::sdk_config().await;
    let table = state_support::fresh_table(&sdk).await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs
        .create_queue()
        .queue_name(format!(
            "entrawatch-fanout-{}",
            uuid::Uuid::new_v4().simple()
        ))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let api = RuntimeApi::start(Duration::from_secs(120)).await;
    let stdout =
        std::env::temp_dir().join(format!("entrawatch-bg-fanout-{}.log", std::process::id()));
    let moto = state_support::moto_url();
    let mut env = function_env(
        config_toml(&emulator.url(), &[BG1], ""),
        &table,
        moto,
        &receiver.url,
        SECRET,
    );
    env.push(("ENTRAWATCH_FANOUT_QUEUE_URL", queue.clone()));
    env.push(("AWS_ENDPOINT_URL_SQS", moto.to_string()));
    let mut function = spawn_function(BINARY, &api, &env, &stdout);

    api.invoke("req-schedule", json!({"job": "break-glass"}));
    let fanned = api.outcome("req-schedule", Duration::from_secs(60)).await;
    let Outcome::Response(fanned) = fanned else {
        panic!("fan-out failed: {fanned:?}");
    };
    assert_eq!(fanned, json!({"job": "break-glass", "fanned_out": 1}));
    assert!(
        receiver.received().is_empty(),
        "the workers deliver, not the fan-out"
    );

    let message = sqs
        .receive_message()
        .queue_url(&queue)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default()
        .pop()
        .expect("one message queued");
    let body: Value = serde_json::from_str(message.body().unwrap()).unwrap();
    assert_eq!(body["tenant"], TENANT);
    let event = json!({"Records": [{
        "messageId": message.message_id().unwrap(),
        "receiptHandle": message.receipt_handle().unwrap(),
        "body": message.body().unwrap(),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:entrawatch-fanout",
        "awsRegion": "us-east-1",
    }]});
    api.invoke("req-worker", event);
    let worked = api.outcome("req-worker", Duration::from_secs(90)).await;
    let Outcome::Response(worked) = worked else {
        panic!("worker failed: {worked:?}");
    };
    assert_eq!(worked, json!({"batchItemFailures": []}));
    let bodies = receiver.accepted_bodies();
    assert!(bodies.len() >= 2, "the sample tenant's alerts: {bodies:?}");
    // Besides the tenant's alerts, only the sink's heartbeat (entrawatch's own, no tenant).
    assert!(bodies
        .iter()
        .all(|b| b["data"]["tenant"]["id"] == TENANT || b["type"] == "monitoring.heartbeat"));
    function.kill().ok();
    function.wait().ok();

    let emf = emf_lines(&stdout);
    assert_eq!(
        emf.len(),
        1,
        "the worker's run reports metrics; the fan-out does not"
    );
    assert_eq!(emf[0]["RunsSucceeded"], 1);
    let log = std::fs::read_to_string(&stdout).unwrap();
    assert!(!log.contains(&queue), "no queue URL in logs");
    let _ = std::fs::remove_file(&stdout);
    emulator.stop().await;
}
