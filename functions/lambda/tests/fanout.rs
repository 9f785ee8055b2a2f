//! Many tenants: the scheduled invocation fans one SQS message per tenant out to a queue (moto),
//! and the same function, invoked with an SQS event, runs each message's tenant and answers with
//! a partial batch response naming only the records worth another attempt.

#[path = "../../core/tests/outbox_support/mod.rs"]
mod outbox_support;
#[path = "../../core/tests/state_support/mod.rs"]
mod state_support;

use std::collections::HashSet;
use std::time::Duration;

use aws_config::SdkConfig;
use entrawatch_core::state::dynamodb::DynamoStore;
use entrawatch_core::state::LeaseStore;
use entrawatch_emulator::{Emulator, Scenario};
use entrawatch_lambda::scheduled::ConfigSource;
use entrawatch_lambda::ScheduledFunction;
use outbox_support::{Receiver, SECRET};
use serde_json::{json, Value};

const CONTOSO: &str = "11111111-2222-3333-4444-555555555555";
const FABRIKAM: &str = "22222222-2222-3333-4444-555555555555";
const NORTHWIND: &str = "33333333-2222-3333-4444-555555555555";
const WOODGROVE: &str = "44444444-2222-3333-4444-555555555555";
const CLIENT: &str = "aaaaaaaa-bbbb-cccc-dddd-000000000001";
const BG1: &str = "0b000000-0000-4000-8000-0000000000b1";
const BUDGET: Duration = Duration::from_secs(240);

fn tenant(name: &str, id: &str, secret: &str, url: &str, break_glass: bool) -> String {
    let section = if break_glass {
        format!("[tenants.break_glass]\naccounts = [\"{BG1}\"]\n")
    } else {
        "[tenants.dormant]\n".to_string()
    };
    format!(
        "[[tenants]]\nname = \"{name}\"\nid = \"{id}\"\nclient_id = \"{CLIENT}\"\n\
         credential = {{ type = \"secret\", secret = \"{secret}\" }}\n\
         graph_url = \"{url}\"\nlogin_url = \"{url}\"\n{section}\n"
    )
}

fn webhook(url: &str) -> String {
    format!(
        "[[sinks]]\nname = \"secops\"\ntype = \"webhook\"\nurl = \"{url}\"\n\
         secret = \"{SECRET}\"\nmin_severity = \"info\"\n"
    )
}

async fn create_queue(sdk: &SdkConfig) -> (aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let name = format!("entrawatch-fanout-{}", uuid::Uuid::new_v4().simple());
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue url");
    (sqs, url)
}

async fn receive_all(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Value> {
    let mut bodies = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return bodies;
        }
        for m in messages {
            bodies.push(serde_json::from_str(m.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .expect("delete");
        }
    }
}

fn sqs_event(records: &[(&str, Value)]) -> Value {
    json!({"Records": records.iter().map(|(id, body)| json!({
        "messageId": id,
        "receiptHandle": format!("handle-{id}"),
        "body": body.to_string(),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:entrawatch-fanout",
        "awsRegion": "us-east-1",
    })).collect::<Vec<_>>()})
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduled_invocation_enqueues_one_message_per_tenant_that_configures_the_job() {
    let sdk = state_support::sdk_config().await;
    let (sqs, queue) = create_queue(&sdk).await;
    let url = "http://127.0.0.1:9";
    let toml = [
        tenant("contoso", CONTOSO, "s", url, true),
        tenant("fabrikam", FABRIKAM, "s", url, true),
        tenant("northwind", NORTHWIND, "s", url, true),
        // Configures only the dormant scan: no break-glass message for it.
        tenant("woodgrove", WOODGROVE, "s", url, false),
        webhook("http://127.0.0.1:9/unused"),
    ]
    .concat();
    let function = ScheduledFunction::from_parts(
        sdk.clone(),
        reqwest::Client::new(),
        ConfigSource::Inline(toml),
        None,
    )
    .with_fanout_queue(Some(queue.clone()));

    let answer = function
        .invoke(&json!({"job": "break-glass"}), "req-fan", BUDGET)
        .await
        .unwrap_or_else(|e| panic!("fan-out failed: {e}"));
    // The frequent schedule also queues the watch of each tenant with a dormant (or workloads) section.
    assert_eq!(answer, json!({"job": "break-glass", "fanned_out": 4}));

    let bodies = receive_all(&sqs, &queue).await;
    assert_eq!(bodies.len(), 4, "{bodies:?}");
    let of = |job: &str| -> HashSet<&str> {
        bodies
            .iter()
            .filter(|b| b["job"] == job)
            .map(|b| b["tenant"].as_str().unwrap())
            .collect()
    };
    assert_eq!(
        of("break-glass"),
        HashSet::from([CONTOSO, FABRIKAM, NORTHWIND])
    );
    assert_eq!(of("watch"), HashSet::from([WOODGROVE]));
    for body in &bodies {
        let id = body["id"].as_str().unwrap();
        let prefix = format!(
            "{}/{}/",
            body["job"].as_str().unwrap(),
            body["tenant"].as_str().unwrap()
        );
        assert!(
            id.starts_with(&prefix) && id.ends_with('Z'),
            "{id}: job/tenant/minute"
        );
        assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
    }

    // A schedule input naming one tenant runs it rather than fanning out; a tenant the
    // configuration does not have is refused by name, before anything runs.
    let err = function
        .invoke(
            &json!({"job": "break-glass", "tenant": "tailspin"}),
            "req-one",
            BUDGET,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "scheduled input: tenant \"tailspin\" is not in the configuration"
    );
    assert!(!err.is_retryable());
    assert!(receive_all(&sqs, &queue).await.is_empty());

    // `all` fans out one message per (job, tenant) the configuration has: three break-glass
    // messages, one dormant and one watch (only woodgrove configures the scan).
    function
        .invoke(&json!({"job": "all"}), "req-fan-all", BUDGET)
        .await
        .unwrap();
    let bodies = receive_all(&sqs, &queue).await;
    let dormant: Vec<&Value> = bodies.iter().filter(|b| b["job"] == "dormant").collect();
    assert_eq!(bodies.len(), 5, "{bodies:?}");
    assert_eq!(dormant.len(), 1);
    assert_eq!(dormant[0]["tenant"], WOODGROVE);
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_runs_each_record_delivers_and_returns_only_retryable_records() {
    // The sample tenant, and a copy of it under another id whose configured secret is wrong.
    let mut scenario = Scenario::sample();
    let mut fabrikam = scenario.tenants[0].clone();
    fabrikam.id = FABRIKAM.into();
    fabrikam.name = "fabrikam".into();
    scenario.tenants.push(fabrikam);
    let emulator = Emulator::start(scenario).await.unwrap();
    let receiver = Receiver::start(0, 200).await;
    let sdk = state_support::sdk_config().await;
    let table = state_support::fresh_table(&sdk).await;
    let emu = emulator.url();
    // Northwind's Graph is unreachable (nothing listens on port 9): a transport failure, which
    // another attempt may get past.
    let toml = [
        tenant("contoso", CONTOSO, "demo-secret-not-real", &emu, true),
        tenant("fabrikam", FABRIKAM, "wrong-secret", &emu, true),
        tenant("northwind", NORTHWIND, "s", "http://127.0.0.1:9", true),
        webhook(&receiver.url),
    ]
    .concat();
    let function = ScheduledFunction::from_parts(
        sdk.clone(),
        reqwest::Client::new(),
        ConfigSource::Inline(toml),
        Some(table.clone()),
    );
    let body = |tenant: &str| json!({"job": "break-glass", "tenant": tenant, "id": format!("break-glass/{tenant}/2026-11-30T22:35Z")});
    let event = sqs_event(&[
        ("m-contoso", body(CONTOSO)),
        ("m-fabrikam", body(FABRIKAM)),
        ("m-northwind", body(NORTHWIND)),
        ("m-garbage", json!({"job": "break-glass", "tenants": "x"})),
        ("m-gone", body("99999999-2222-3333-4444-555555555555")),
    ]);
    let answer = function
        .invoke(&event, "req-worker", BUDGET)
        .await
        .unwrap_or_else(|e| panic!("the batch itself must not fail: {e}"));
    // Only the unreachable tenant comes back: a rejected secret is not fixed by retrying (it is
    // logged and counted in TenantsFailed), and unreadable or stale messages are dropped.
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": "m-northwind"}]})
    );
    let bodies = receiver.accepted_bodies();
    let contoso: Vec<&Value> = bodies
        .iter()
        .filter(|b| b["data"]["tenant"]["id"] == CONTOSO)
        .collect();
    assert!(
        contoso.len() >= 3,
        "the sample tenant's alerts are delivered: {bodies:?}"
    );
    // The rejected secret is not retried, but it is not silent either: the job raises its
    // "monitoring is blind" alert, delivered with the rest.
    let fabrikam: Vec<&Value> = bodies
        .iter()
        .filter(|b| b["data"]["tenant"]["id"] == FABRIKAM)
        .collect();
    assert_eq!(fabrikam.len(), 1, "{bodies:?}");
    assert_eq!(fabrikam[0]["type"], "monitoring.blind");
    assert_eq!(fabrikam[0]["data"]["evidence"]["reason"], "credentials");
    let heartbeats = bodies
        .iter()
        .filter(|b| b["type"] == "monitoring.heartbeat")
        .count();
    assert_eq!(
        heartbeats, 1,
        "one heartbeat for the one sink, whatever ran: {bodies:?}"
    );
    assert_eq!(
        bodies.len(),
        contoso.len() + 1 + heartbeats,
        "nothing for northwind yet"
    );

    // Another worker holds contoso's lease: the record is a clean skip, deleted, nothing sent.
    let store = DynamoStore::from_sdk_config(&sdk, table);
    let now = chrono::Utc::now().timestamp();
    store
        .acquire_lease(CONTOSO, "break-glass", "lambda-other/m-dup", now, 600)
        .await
        .unwrap();
    let delivered = receiver.received().len();
    let answer = function
        .invoke(
            &sqs_event(&[("m-dup", body("contoso"))]),
            "req-worker-2",
            BUDGET,
        )
        .await
        .unwrap();
    assert_eq!(answer, json!({"batchItemFailures": []}));
    assert_eq!(receiver.received().len(), delivered);
    emulator.stop().await;
}
