//! The run's shared time budget and its in-run delivery: how much of the budget a job may use,
//! and one dispatch at a time after each (tenant, job).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::outbox::{DispatchReport, Dispatcher};

/// Kept free at the end of the budget for the last delivery and the report (a quarter of a
/// shorter budget).
pub const DELIVERY_RESERVE: Duration = Duration::from_secs(30);
/// A job is not started with less time than this left (a quarter of a shorter budget): it
/// would be killed, not finish.
pub const MIN_JOB_TIME: Duration = Duration::from_secs(15);

/// The run's clock and budget: `now` advanced by a monotonic clock.
pub(super) struct Budget {
    pub(super) started: Instant,
    pub(super) start: i64,
    pub(super) total: Duration,
}

impl Budget {
    pub(super) fn now(&self) -> i64 {
        self.start + self.started.elapsed().as_secs() as i64
    }

    pub(super) fn left(&self) -> Duration {
        self.total.saturating_sub(self.started.elapsed())
    }

    fn reserve(&self) -> Duration {
        DELIVERY_RESERVE.min(self.total / 4)
    }

    fn min_job(&self) -> Duration {
        MIN_JOB_TIME.min(self.total / 4)
    }

    /// What a job may use now, or `None` when it would not fit.
    pub(super) fn for_job(&self) -> Option<Duration> {
        let left = self.left().saturating_sub(self.reserve());
        (left >= self.min_job()).then_some(left)
    }
}

/// One dispatch at a time within the run (several runs may dispatch at once: claims). A tenant
/// that finishes while another dispatch is running does not wait for it: it asks for one more
/// pass, which the running dispatcher makes before it lets go.
pub(super) struct Delivery {
    pub(super) dispatcher: Dispatcher,
    pub(super) report: Mutex<(DispatchReport, Option<String>)>,
    pub(super) again: AtomicBool,
}

impl Delivery {
    pub(super) async fn dispatch(&self, budget: &Budget) {
        self.again.store(true, Ordering::SeqCst);
        loop {
            let Ok(mut guard) = self.report.try_lock() else {
                return; // the running dispatch sees `again` and makes another pass
            };
            while self.again.swap(false, Ordering::SeqCst) {
                self.pass(&mut guard, budget).await;
            }
            drop(guard);
            if !self.again.load(Ordering::SeqCst) {
                return;
            }
        }
    }

    /// The last delivery of the run: waits for any running one, then makes its own pass.
    pub(super) async fn dispatch_last(&self, budget: &Budget) {
        let mut guard = self.report.lock().await;
        self.pass(&mut guard, budget).await;
    }

    async fn pass(&self, state: &mut (DispatchReport, Option<String>), budget: &Budget) {
        match self
            .dispatcher
            .dispatch_within(budget.now(), Some(budget.left()))
            .await
        {
            Ok(d) => state.0.absorb(d),
            Err(e) => {
                tracing::error!(error = %e, "delivery could not run");
                state.1 = Some(e.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_started_only_with_time_for_it_and_the_last_delivery() {
        let budget = |total: u64| Budget {
            started: Instant::now(),
            start: 0,
            total: Duration::from_secs(total),
        };
        let room = budget(240).for_job().unwrap();
        assert!(room <= Duration::from_secs(210) && room > Duration::from_secs(200));
        let short = budget(20).for_job().unwrap();
        assert!(
            short <= Duration::from_secs(15),
            "a quarter of 20 s is kept"
        );
        let spent = Budget {
            started: Instant::now() - Duration::from_secs(200),
            start: 0,
            total: Duration::from_secs(240),
        };
        assert_eq!(
            spent.for_job(),
            None,
            "40 s left: 10 s after the reserve, under 15 s"
        );
    }
}
