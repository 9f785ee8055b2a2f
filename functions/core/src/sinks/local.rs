//! Local sinks for the CLI: `stdout` and `file`, both JSON lines of the SPEC.md webhook body.

use std::io::Write;
use std::path::PathBuf;

use async_trait::async_trait;

use super::{Sink, SinkError};
use crate::alert::Alert;

/// One JSON line per alert: the generic webhook body.
pub fn render(alert: &Alert) -> String {
    alert.to_json().to_string()
}

pub struct StdoutSink {
    name: String,
}

impl StdoutSink {
    pub fn new(name: impl Into<String>) -> Self {
        StdoutSink { name: name.into() }
    }
}

#[async_trait]
impl Sink for StdoutSink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, alert: &Alert) -> Result<(), SinkError> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", render(alert)).map_err(|e| SinkError::retry(format!("stdout: {e}")))
    }
}

/// Appends JSON lines to a file (created if missing).
pub struct FileSink {
    name: String,
    path: PathBuf,
}

impl FileSink {
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        FileSink {
            name: name.into(),
            path: path.into(),
        }
    }
}

#[async_trait]
impl Sink for FileSink {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, alert: &Alert) -> Result<(), SinkError> {
        let line = format!("{}\n", render(alert));
        let path = self.path.clone();
        let fail = |e: std::io::Error| {
            SinkError::retry(format!("cannot append to {}: {e}", path.display()))
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(fail)?;
        // One write of the whole line, so concurrent writers never interleave within a line.
        file.write_all(line.as_bytes()).map_err(fail)
    }
}
