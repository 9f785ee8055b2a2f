//! Progress of long work (a dormant scan of a large tenant, a run over many tenants), reported by the jobs and
//! shown by whoever runs them. The port has no terminal code: the CLI gives a [`ProgressView`] that draws a bar
//! on a terminal or logs lines off one (SPEC.md "CLI"); the Lambda functions give none, and every report is then
//! a no-op that costs no Graph request (jobs ask [`Progress::is_shown`] before counting anything).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How much work there is, as far as the job knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// Exactly this many (every user of a full listing, every tenant of a run).
    Exact(u64),
    /// No more than this many: a filtered listing of a tenant of this many users.
    AtMost(u64),
    /// Not known: only a count so far.
    Unknown,
}

/// Where a unit of work is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Running,
    /// Finished: `done` is the whole of it.
    Done,
    /// Stopped before the end: a checkpoint (the next run continues) or an error.
    Stopped,
}

/// One report of a unit of work, as a [`ProgressView`] receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Tells the units of one process apart (several tenants scan at once).
    pub id: u64,
    /// What is being done, for people: "dormant contoso", "run".
    pub label: String,
    /// What is counted, plural: "users", "tenants".
    pub unit: &'static str,
    pub done: u64,
    pub extent: Extent,
    /// What Graph's budget (the client's pacing of the families the rest needs) says the rest takes at least;
    /// `None` when the work does not know. Not a guess from the rate so far: a signInActivity scan is paced at
    /// 10 pages a minute whatever its first pages took.
    pub time_left: Option<Duration>,
    pub stage: Stage,
}

/// Shows progress to a person: a terminal bar, log lines. Called from job tasks, so it must be quick.
pub trait ProgressView: Send + Sync {
    fn show(&self, snapshot: &Snapshot);
}

/// Where jobs report progress. Cheap to clone; [`Progress::none`] (the default) shows nothing.
#[derive(Clone, Default)]
pub struct Progress {
    view: Option<Arc<dyn ProgressView>>,
    ids: Arc<AtomicU64>,
}

impl Progress {
    /// Reports go nowhere (Lambda runs, tests).
    pub fn none() -> Progress {
        Progress::default()
    }

    pub fn new(view: Arc<dyn ProgressView>) -> Progress {
        Progress {
            view: Some(view),
            ids: Arc::default(),
        }
    }

    /// Whether anyone looks: work that would cost a request only to report progress skips it otherwise.
    pub fn is_shown(&self) -> bool {
        self.view.is_some()
    }

    /// A unit of work starting now at zero.
    pub fn start(&self, label: impl Into<String>, unit: &'static str, extent: Extent) -> Task {
        let task = Task {
            view: self.view.clone(),
            state: Mutex::new(Snapshot {
                id: self.ids.fetch_add(1, Ordering::Relaxed),
                label: label.into(),
                unit,
                done: 0,
                extent,
                time_left: None,
                stage: Stage::Running,
            }),
        };
        task.show();
        task
    }
}

/// One unit of work in progress. Dropping it unfinished reports it [`Stage::Stopped`], so a job that returns
/// early (an error, a checkpoint) never leaves a bar behind.
pub struct Task {
    view: Option<Arc<dyn ProgressView>>,
    state: Mutex<Snapshot>,
}

impl Task {
    fn update(&self, change: impl FnOnce(&mut Snapshot)) {
        if self.view.is_none() {
            return;
        }
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.stage != Stage::Running {
                return;
            }
            change(&mut state);
        }
        self.show();
    }

    fn show(&self) {
        if let Some(view) = &self.view {
            let snapshot = self.state.lock().unwrap_or_else(|p| p.into_inner()).clone();
            view.show(&snapshot);
        }
    }

    /// `n` more done.
    pub fn advance(&self, n: u64) {
        self.update(|s| s.done += n);
    }

    /// Where the work is now, what there is in all, and what the Graph budget says the rest takes.
    pub fn report(&self, done: u64, extent: Extent, time_left: Option<Duration>) {
        self.update(|s| {
            s.done = done;
            s.extent = extent;
            s.time_left = time_left;
        });
    }

    /// The whole of the work is done: what was done is all there was.
    pub fn finish(&self) {
        self.update(|s| {
            s.extent = Extent::Exact(s.done);
            s.time_left = Some(Duration::ZERO);
            s.stage = Stage::Done;
        });
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.update(|s| s.stage = Stage::Stopped);
    }
}

/// A view that keeps every snapshot, for tests of what work reports.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct Recorder(Mutex<Vec<Snapshot>>);

#[cfg(test)]
impl Recorder {
    pub fn seen(&self) -> Vec<Snapshot> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// (done, extent, stage) of each snapshot, in order.
    pub fn steps(&self) -> Vec<(u64, Extent, Stage)> {
        self.seen()
            .iter()
            .map(|s| (s.done, s.extent, s.stage))
            .collect()
    }
}

#[cfg(test)]
impl ProgressView for Recorder {
    fn show(&self, snapshot: &Snapshot) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(snapshot.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_reports_each_change_then_its_end_once() {
        let recorder = Arc::new(Recorder::default());
        let progress = Progress::new(recorder.clone());
        let task = progress.start("run", "tenants", Extent::Exact(3));
        task.advance(1);
        task.report(2, Extent::AtMost(5), Some(Duration::from_secs(7)));
        task.finish();
        task.advance(1);
        drop(task);
        assert_eq!(
            recorder.steps(),
            [
                (0, Extent::Exact(3), Stage::Running),
                (1, Extent::Exact(3), Stage::Running),
                (2, Extent::AtMost(5), Stage::Running),
                (2, Extent::Exact(2), Stage::Done),
            ],
            "nothing after the end, and dropping a finished task reports nothing"
        );
    }

    #[test]
    fn a_task_dropped_unfinished_is_reported_stopped_and_tasks_have_distinct_ids() {
        let recorder = Arc::new(Recorder::default());
        let progress = Progress::new(recorder.clone());
        let first = progress.start("dormant contoso", "users", Extent::Unknown);
        let second = progress
            .clone()
            .start("dormant fabrikam", "users", Extent::Unknown);
        first.advance(500);
        drop(first);
        drop(second);
        let seen = recorder.seen();
        assert_ne!(seen[0].id, seen[1].id, "clones share the id sequence");
        let last = seen.iter().rfind(|s| s.id == seen[0].id).unwrap();
        assert_eq!((last.done, last.stage), (500, Stage::Stopped));
    }

    #[test]
    fn progress_none_is_not_shown_and_its_tasks_do_nothing() {
        let progress = Progress::none();
        assert!(!progress.is_shown());
        let task = progress.start("run", "tenants", Extent::Exact(1));
        task.advance(1);
        task.finish();
    }
}
