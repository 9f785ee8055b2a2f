//! The `stdout` sink when bars are drawn: the same JSON line per alert, written with the bars out of the way, so
//! an alert printed to the terminal mid-run is not overwritten by the next redraw.

use std::io::Write;
use std::sync::Arc;

use async_trait::async_trait;
use entrawatch_core::alert::Alert;
use entrawatch_core::sinks::{local::render, Sink, SinkError};

use super::Console;

/// `sinks` with each working sink named in `stdout_sinks` written through `console` when it draws bars.
pub fn through_console(
    sinks: Vec<Arc<dyn Sink>>,
    stdout_sinks: &[String],
    console: &Console,
) -> Vec<Arc<dyn Sink>> {
    if !console.draws_bars() {
        return sinks;
    }
    sinks
        .into_iter()
        .map(|sink| {
            let on_stdout = stdout_sinks.iter().any(|n| n == sink.name());
            if on_stdout && sink.unavailable().is_none() {
                Arc::new(StdoutThroughConsole::new(sink.name(), console.clone())) as Arc<dyn Sink>
            } else {
                sink
            }
        })
        .collect()
}

struct StdoutThroughConsole {
    name: String,
    console: Console,
}

impl StdoutThroughConsole {
    fn new(name: impl Into<String>, console: Console) -> Self {
        StdoutThroughConsole {
            name: name.into(),
            console,
        }
    }
}

#[async_trait]
impl Sink for StdoutThroughConsole {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, alert: &Alert) -> Result<(), SinkError> {
        let line = render(alert);
        self.console
            .suspend(|| writeln!(std::io::stdout().lock(), "{line}"))
            .map_err(|e| SinkError::retry(format!("stdout: {e}")))
    }
}
