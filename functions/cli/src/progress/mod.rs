//! How `entrawatch` shows long work (SPEC.md "CLI": "On a terminal, long work (a large tenant scan) shows a
//! progress bar with counts and rate; off a terminal it logs progress lines instead"). The jobs report to the
//! core's [`Progress`] port; this module gives it a view: [`bars`] when stderr is a terminal, [`lines`]
//! otherwise. Logs and stdout alerts written while bars are drawn go through [`Console::suspend`].

mod bars;
mod lines;
mod stdout;
mod text;

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;

use entrawatch_core::progress::Progress;
use tracing_subscriber::fmt::MakeWriter;

pub use stdout::through_console;

/// Stderr as a person watching it sees it. Cheap to clone.
#[derive(Clone)]
pub struct Console {
    /// `Some` when stderr is a terminal that can draw.
    bars: Option<Arc<bars::Bars>>,
}

impl Console {
    pub fn for_stderr() -> Console {
        // indicatif also hides its bars on a terminal whose TERM is unset or `dumb`: such a one gets lines too.
        let bars = io::stderr()
            .is_terminal()
            .then(bars::Bars::on_stderr)
            .filter(|b| !b.is_hidden());
        Console {
            bars: bars.map(Arc::new),
        }
    }

    /// Whether stderr is a terminal that draws bars (and colours), rather than a file, a pipe or a dumb
    /// terminal (plain lines).
    pub fn draws_bars(&self) -> bool {
        self.bars.is_some()
    }

    /// The port the jobs report to.
    pub fn progress(&self) -> Progress {
        match &self.bars {
            Some(bars) => Progress::new(bars.clone()),
            None => Progress::new(Arc::new(lines::Lines::default())),
        }
    }

    /// Runs `f` with the bars out of the way, then redraws them.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bars {
            Some(bars) => bars.suspend(f),
            None => f(),
        }
    }

    /// Log output on stderr that never lands inside a bar.
    pub fn log_writer(&self) -> LogWriter {
        LogWriter(self.clone())
    }
}

/// A `tracing` writer factory for stderr through the [`Console`].
#[derive(Clone)]
pub struct LogWriter(Console);

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine(self.0.clone())
    }
}

/// One log event's output. The redacting writer above it writes each event whole in one call, so one event is
/// one suspension of the bars.
pub struct LogLine(Console);

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.suspend(|| io::stderr().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
