//! Redaction: no resolved secret value or webhook URL reaches a log line (SPEC.md "Configuration":
//! "Secrets and webhook URLs never appear in logs or error messages").
//!
//! Two layers: [`crate::Secret`] never prints its value, and this module keeps a process-wide
//! registry of every value the secret resolver produced; [`RedactingMakeWriter`] wraps the log
//! writer and masks any registered value in each formatted line before it is written.

use std::io::{self, Write};
use std::sync::{OnceLock, RwLock};

use tracing_subscriber::fmt::MakeWriter;

/// What a masked value is replaced with.
pub const MASK: &str = "<redacted>";

/// Values shorter than this are not registered: masking "1" or "ab" everywhere would wreck logs
/// and such values are not secrets anyway.
const MIN_LEN: usize = 6;

fn registry() -> &'static RwLock<Vec<String>> {
    static REGISTRY: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    REGISTRY.get_or_init(|| RwLock::new(Vec::new()))
}

/// Registers a resolved secret value so that it is masked in every log line from now on. A
/// `whsec_` signing secret also registers its key part, and a URL its path and query.
pub fn register(value: &str) {
    let mut values = vec![value.to_string()];
    if let Some(key) = value.strip_prefix("whsec_") {
        values.push(key.to_string());
    }
    if let Ok(url) = url::Url::parse(value) {
        if url.path().len() > 1 {
            values.push(url.path().to_string());
        }
        if let Some(q) = url.query() {
            values.push(q.to_string());
        }
    }
    let mut reg = registry().write().unwrap_or_else(|p| p.into_inner());
    for v in values {
        if v.len() >= MIN_LEN && !reg.contains(&v) {
            reg.push(v);
        }
    }
    // Longest first, so a URL is masked whole before its path would be.
    reg.sort_by_key(|v| std::cmp::Reverse(v.len()));
}

/// `text` with every registered value replaced by [`MASK`].
pub fn mask(text: &str) -> String {
    let reg = registry().read().unwrap_or_else(|p| p.into_inner());
    let mut out = text.to_string();
    for v in reg.iter() {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), MASK);
        }
    }
    out
}

/// A `tracing_subscriber` writer factory that masks registered secrets in every event it writes.
#[derive(Clone)]
pub struct RedactingMakeWriter<M> {
    inner: M,
}

impl<M> RedactingMakeWriter<M> {
    pub fn new(inner: M) -> Self {
        RedactingMakeWriter { inner }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingMakeWriter<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            inner: self.inner.make_writer(),
            buf: Vec::new(),
        }
    }
}

/// Buffers one formatted event and writes it masked when flushed or dropped (the fmt layer
/// makes one writer per event, so a secret is never split across two writes we see).
pub struct RedactingWriter<W: Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let text = String::from_utf8_lossy(&self.buf).into_owned();
            self.buf.clear();
            self.inner.write_all(mask(&text).as_bytes())?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Write for Capture {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Capture {
            self.clone()
        }
    }

    #[test]
    fn registered_secret_never_reaches_captured_logs() {
        let secret = "hooks-secret-7f3a9c";
        let url = "https://hooks.slack.com/services/T000/B000/XyZzy-redact-me";
        register(secret);
        register(url);
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(RedactingMakeWriter::new(capture.clone()))
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(token = secret, "posting to {url} failed");
            tracing::error!(path = "/services/T000/B000/XyZzy-redact-me", "error");
            tracing::info!("nothing secret here");
        });
        let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
        assert!(!logs.contains(secret), "{logs}");
        assert!(!logs.contains("XyZzy-redact-me"), "{logs}");
        assert!(
            logs.contains(MASK) && logs.contains("nothing secret here"),
            "{logs}"
        );
    }

    #[test]
    fn short_values_are_not_registered() {
        register("ab");
        assert_eq!(mask("a tab"), "a tab");
    }
}
