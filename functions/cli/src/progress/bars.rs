//! Progress on a terminal: one `indicatif` bar per unit of work on stderr, with the count, the rate and the time
//! Graph's budget says is left, redrawn a few times a second so the time left counts down during pacing waits.
//! Log lines go through [`Bars::suspend`] so a line and a bar never share a row.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use entrawatch_core::progress::{Extent, ProgressView, Snapshot, Stage};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::text::{describe, Reading};

/// How often a bar is redrawn between reports.
const TICK: Duration = Duration::from_millis(250);

/// The last report of a unit of work and when it came, read by the bar's `{detail}` at each redraw.
struct Reported {
    snapshot: Snapshot,
    at: Instant,
    first_at: Instant,
    first_done: u64,
}

struct Shown {
    bar: ProgressBar,
    reported: Arc<Mutex<Reported>>,
    /// Whether the bar is drawn with a length (a spinner otherwise).
    bounded: bool,
}

pub struct Bars {
    multi: MultiProgress,
    shown: Mutex<HashMap<u64, Shown>>,
}

impl Bars {
    pub fn on_stderr() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            shown: Mutex::default(),
        }
    }

    /// Whether nothing would be drawn (indicatif's judgement of the terminal).
    pub fn is_hidden(&self) -> bool {
        self.multi.is_hidden()
    }

    /// Runs `f` with the bars out of the way (a log line, an alert on stdout), then redraws them.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.multi.suspend(f)
    }
}

impl ProgressView for Bars {
    fn show(&self, s: &Snapshot) {
        let now = Instant::now();
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        let entry = shown
            .entry(s.id)
            .or_insert_with(|| Shown::new(&self.multi, s, now));
        {
            let mut reported = entry.reported.lock().unwrap_or_else(|p| p.into_inner());
            reported.snapshot = s.clone();
            reported.at = now;
        }
        // The style's `{detail}` locks `reported` while drawing: never hold it across a bar call.
        let length = length(s.extent);
        if entry.bounded != length.is_some() {
            entry.bounded = length.is_some();
            entry
                .bar
                .set_style(style(entry.bounded, entry.reported.clone()));
        }
        if let Some(n) = length {
            entry.bar.set_length(n);
        }
        entry.bar.set_position(s.done);
        if s.stage != Stage::Running {
            // `abandon` keeps the position: a scan stopped at a checkpoint is not full.
            entry.bar.abandon();
            // Dropped from the map: its last drawing stays on screen until the next log line wipes it.
            shown.remove(&s.id);
        }
    }
}

impl Shown {
    /// A bar styled from the first report, drawn from then on.
    fn new(multi: &MultiProgress, s: &Snapshot, now: Instant) -> Shown {
        let reported = Arc::new(Mutex::new(Reported {
            snapshot: s.clone(),
            at: now,
            first_at: now,
            first_done: s.done,
        }));
        let length = length(s.extent);
        let bar = ProgressBar::hidden()
            .with_style(style(length.is_some(), reported.clone()))
            .with_prefix(s.label.clone());
        if let Some(n) = length {
            bar.set_length(n);
        }
        bar.set_position(s.done);
        let bar = multi.add(bar);
        bar.enable_steady_tick(TICK);
        Shown {
            bar,
            reported,
            bounded: length.is_some(),
        }
    }
}

fn length(extent: Extent) -> Option<u64> {
    match extent {
        Extent::Exact(n) | Extent::AtMost(n) => Some(n),
        Extent::Unknown => None,
    }
}

fn style(bounded: bool, reported: Arc<Mutex<Reported>>) -> ProgressStyle {
    let template = if bounded {
        "{prefix} [{bar:30}] {detail}"
    } else {
        "{prefix} {spinner} {detail}"
    };
    // The count is the bar's own position and length, so the words and the bar never disagree.
    let detail = move |state: &ProgressState, out: &mut dyn std::fmt::Write| {
        let r = reported.lock().unwrap_or_else(|p| p.into_inner());
        let mut snapshot = r.snapshot.clone();
        snapshot.done = state.pos();
        snapshot.extent = match (snapshot.extent, state.len()) {
            (Extent::Exact(_), Some(n)) => Extent::Exact(n),
            (Extent::AtMost(_), Some(n)) => Extent::AtMost(n),
            (extent, _) => extent,
        };
        let now = Instant::now();
        let reading = Reading {
            watched: now.duration_since(r.first_at),
            done_here: snapshot.done.saturating_sub(r.first_done),
            since_report: now.duration_since(r.at),
        };
        let _ = out.write_str(&describe(&snapshot, &reading));
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("detail", detail)
        .progress_chars("=> ")
}
