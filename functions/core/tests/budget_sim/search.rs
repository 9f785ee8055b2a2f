//! The shortest schedule interval that holds.

use super::config::{Config, Outcome};
use super::sim::run;

/// The shortest interval (a multiple of `step_s` in `lo_s..=hi_s`) that holds, by bisection (a longer
/// interval only leaves more room), and the full outcome there; `Err(hi)` when even `hi_s` does not.
pub fn shortest_interval(
    base: &Config,
    lo_s: i64,
    hi_s: i64,
    step_s: i64,
) -> Result<(i64, Outcome), i64> {
    let held = |s: i64| {
        let cfg = Config {
            interval_ms: s * 1_000,
            stop_on_overrun: true,
            ..base.clone()
        };
        run(&cfg).held()
    };
    if !held(hi_s) {
        return Err(hi_s);
    }
    let (mut lo, mut hi) = (lo_s / step_s, hi_s / step_s);
    if held(lo * step_s) {
        hi = lo;
    }
    // Invariant: hi holds, lo does not (unless lo == hi).
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if held(mid * step_s) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let interval = hi * step_s;
    let cfg = Config {
        interval_ms: interval * 1_000,
        ..base.clone()
    };
    Ok((interval, run(&cfg)))
}
