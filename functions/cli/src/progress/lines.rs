//! Progress off a terminal: plain `tracing` lines at info on stderr, at most one per unit of work every
//! [`EVERY`], plus the first and the last (`progress dormant contoso: 1500/4000 users, 83/s, about 30 s left by
//! the Graph budget`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use entrawatch_core::progress::{ProgressView, Snapshot, Stage};

use super::text::{describe, Reading};

/// The least time between two lines of one unit of work: a log a person reads, not a trace.
pub const EVERY: Duration = Duration::from_secs(5);

struct Watched {
    first_at: Instant,
    first_done: u64,
    /// When the last line was logged.
    logged_at: Option<Instant>,
}

#[derive(Default)]
pub struct Lines {
    watched: Mutex<HashMap<u64, Watched>>,
}

impl ProgressView for Lines {
    fn show(&self, s: &Snapshot) {
        let now = Instant::now();
        let mut watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
        let w = watched.entry(s.id).or_insert(Watched {
            first_at: now,
            first_done: s.done,
            logged_at: None,
        });
        let due = w.logged_at.is_none_or(|at| now.duration_since(at) >= EVERY)
            || s.stage != Stage::Running;
        let line = due.then(|| format_line(s, now, w));
        if due {
            w.logged_at = Some(now);
        }
        if s.stage != Stage::Running {
            watched.remove(&s.id);
        }
        drop(watched);
        if let Some(line) = line {
            tracing::info!("{line}");
        }
    }
}

fn format_line(s: &Snapshot, now: Instant, w: &Watched) -> String {
    let reading = Reading {
        watched: now.duration_since(w.first_at),
        done_here: s.done.saturating_sub(w.first_done),
        since_report: Duration::ZERO,
    };
    format!("progress {}: {}", s.label, describe(s, &reading))
}
