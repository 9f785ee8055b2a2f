//! What the authorizer logs. In a test binary of its own: a thread-scoped tracing subscriber
//! misses events whose callsites other tests' threads registered first (tokio-rs/tracing#2874).

mod common;

use common::*;
use serde_json::json;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of an allow, a deny, a refusal and the key fetch, at trace level: none holds
/// the token or its signature.
#[tokio::test(flavor = "current_thread")]
async fn logs_never_contain_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let emu = emulator().await;
    let auth = authorizer(&emu, &TestClock::default());
    let good = user_token(&emu, json!({}));
    let lacking = user_token(&emu, json!({"scp": "Other"}));
    let forged = with_bad_signature(&good);
    for token in [&good, &lacking, &forged] {
        let _ = invoke(&auth, event(REST_TOKEN, Some(token))).await;
        let _ = invoke(&auth, event(HTTP_V2, Some(token))).await;
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("signing keys fetched"), "{logs}");
    assert!(logs.contains("token refused"), "{logs}");
    for token in [&good, &lacking, &forged] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!logs.contains(signature), "a signature was logged: {logs}");
        assert!(!logs.contains(&token[..40]), "a token was logged: {logs}");
    }
    emu.stop().await;
}
