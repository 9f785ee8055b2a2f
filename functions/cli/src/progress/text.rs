//! The words of a progress report, the same on the bar and in the log lines:
//! `2500 of at most 3000 users, 240/s, about 10 s left by the Graph budget`.

use std::time::Duration;

use entrawatch_core::progress::{Extent, Snapshot, Stage};

/// What the watcher knows besides the snapshot: since when it has watched and how old the snapshot is.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    /// Time since the first report of this work.
    pub watched: Duration,
    /// Done since the first report (a scan continued from a checkpoint starts above zero).
    pub done_here: u64,
    /// Time since this snapshot: the budget's time left counts down between reports.
    pub since_report: Duration,
}

/// Everything after the label.
pub fn describe(s: &Snapshot, r: &Reading) -> String {
    let mut parts = vec![count(s)];
    // A rate over less than a second says nothing.
    if r.watched >= Duration::from_secs(1) {
        parts.push(rate(r.done_here, r.watched));
    }
    match s.stage {
        Stage::Done => parts.push("done".into()),
        Stage::Stopped => parts.push("stopped".into()),
        Stage::Running => {
            if let Some(left) = s.time_left {
                let bound = matches!(s.extent, Extent::AtMost(_));
                parts.push(time_left(left.saturating_sub(r.since_report), bound));
            }
        }
    }
    parts.join(", ")
}

fn count(s: &Snapshot) -> String {
    match s.extent {
        Extent::Exact(all) => format!("{}/{all} {}", s.done, s.unit),
        Extent::AtMost(all) => format!("{} of at most {all} {}", s.done, s.unit),
        Extent::Unknown => format!("{} {}", s.done, s.unit),
    }
}

/// Per second, to two significant digits below 10 (tenants go slowly).
fn rate(done: u64, over: Duration) -> String {
    let per_second = done as f64 / over.as_secs_f64().max(0.001);
    if per_second < 10.0 {
        format!("{per_second:.1}/s")
    } else {
        format!("{per_second:.0}/s")
    }
}

/// What Graph's budget says is left; `bound` when it is an upper bound (a filtered listing).
fn time_left(left: Duration, bound: bool) -> String {
    let secs = left.as_secs();
    let amount = if left < Duration::from_secs(1) {
        return "under 1 s left by the Graph budget".into();
    } else if secs < 120 {
        format!("{secs} s")
    } else if secs < 2 * 3600 {
        format!("{} min", secs.div_ceil(60))
    } else {
        format!("{:.1} h", secs as f64 / 3600.0)
    };
    let about = if bound { "at most" } else { "about" };
    format!("{about} {amount} left by the Graph budget")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(done: u64, extent: Extent, time_left: Option<u64>, stage: Stage) -> Snapshot {
        Snapshot {
            id: 0,
            label: "dormant contoso".into(),
            unit: "users",
            done,
            extent,
            time_left: time_left.map(Duration::from_secs),
            stage,
        }
    }

    fn reading(watched: u64, done_here: u64, since_report: u64) -> Reading {
        Reading {
            watched: Duration::from_secs(watched),
            done_here,
            since_report: Duration::from_secs(since_report),
        }
    }

    #[test]
    fn a_report_gives_the_count_the_rate_and_the_budgets_time_left() {
        let s = snapshot(1500, Extent::Exact(4000), Some(30), Stage::Running);
        assert_eq!(
            describe(&s, &reading(18, 1500, 0)),
            "1500/4000 users, 83/s, about 30 s left by the Graph budget"
        );
        assert_eq!(
            describe(&s, &reading(28, 1500, 10)),
            "1500/4000 users, 54/s, about 20 s left by the Graph budget",
            "the time left counts down between reports"
        );
        let filtered = snapshot(2500, Extent::AtMost(3000), Some(600), Stage::Running);
        assert_eq!(
            describe(&filtered, &reading(0, 2500, 0)),
            "2500 of at most 3000 users, at most 10 min left by the Graph budget",
            "no rate before a second has passed"
        );
    }

    #[test]
    fn the_end_and_unknown_totals_read_plainly() {
        let tenants = snapshot(2, Extent::Exact(5), None, Stage::Running);
        assert_eq!(describe(&tenants, &reading(10, 2, 0)), "2/5 users, 0.2/s");
        let done = snapshot(2940, Extent::Exact(2940), Some(0), Stage::Done);
        assert_eq!(
            describe(&done, &reading(12, 2940, 0)),
            "2940/2940 users, 245/s, done"
        );
        let stopped = snapshot(7000, Extent::Unknown, Some(5), Stage::Stopped);
        assert_eq!(
            describe(&stopped, &reading(10, 2000, 0)),
            "7000 users, 200/s, stopped"
        );
        let soon = snapshot(10, Extent::Unknown, Some(0), Stage::Running);
        assert_eq!(
            describe(&soon, &reading(0, 10, 0)),
            "10 users, under 1 s left by the Graph budget"
        );
        assert_eq!(
            time_left(Duration::from_secs(3 * 3600), false),
            "about 3.0 h left by the Graph budget"
        );
    }
}
