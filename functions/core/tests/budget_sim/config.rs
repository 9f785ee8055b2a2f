//! What a simulation is given and what it measured.

use super::sim::HOUR_MS;

#[derive(Debug, Clone)]
pub struct Config {
    pub tenants: usize,
    /// Tenants are spread over the apps round-robin (tenant i uses app i mod apps).
    pub apps: usize,
    /// Reports requests in a break-glass tenant-run (sign-ins first, then audits).
    pub r: usize,
    /// Emergency accounts per tenant, looked up every `ACCOUNT_CHECK_EVERY` (daily) with `signInActivity`,
    /// 15 to a request, each request sent only when the budget has room now (else deferred to a later
    /// run), as `jobs/break_glass/drill.rs` does. 0: no lookups.
    pub accounts: usize,
    pub interval_ms: i64,
    /// Concurrent break-glass workers (fan-out `FanOutConcurrency`) and dormant workers.
    pub workers: usize,
    pub dormant_workers: usize,
    /// Round trip of one Graph request; it arrives after half of it plus up to `jitter_ms` more.
    pub latency_ms: i64,
    pub jitter_ms: i64,
    /// Per job, outside Graph: lease, cursor and outbox writes.
    pub overhead_ms: i64,
    /// Graph's `Retry-After` on a 429 (the model's; the client holds the app's windows that long).
    pub retry_after_ms: i64,
    /// Schedule intervals measured after the first (warm-up) one; at least an hour's worth is simulated.
    pub measured_intervals: usize,
    /// Sign-ins per tenant made visible at uniformly random times.
    pub samples: usize,
    pub seed: u64,
    /// `false` sends without asking the budget (what the 429 count means is tested with it).
    pub budget: bool,
    /// Stop at the first tick that finds the previous one unfinished (the interval search).
    pub stop_on_overrun: bool,
}

impl Config {
    pub fn new(tenants: usize, apps: usize, r: usize, interval_ms: i64) -> Config {
        Config {
            tenants,
            apps,
            r,
            accounts: 2,
            interval_ms,
            workers: 4,
            dormant_workers: 4,
            latency_ms: 150,
            jitter_ms: 100,
            overhead_ms: 100,
            retry_after_ms: 10_000,
            measured_intervals: 8,
            samples: 20,
            seed: 13,
            budget: true,
            stop_on_overrun: false,
        }
    }

    /// Ticks simulated: one warm-up interval, then the measured ones (at least an hour).
    pub(super) fn ticks(&self) -> usize {
        let hour = (HOUR_MS / self.interval_ms) as usize + 1;
        1 + self.measured_intervals.max(hour)
    }

    /// Which request of a run reads the sign-ins: the last sign-in request before the audits (two
    /// sign-in requests, interactive and non-interactive, when r is 3 or more).
    pub(super) fn sign_in_request(&self) -> usize {
        if self.r >= 3 {
            1
        } else {
            0
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// 429s Graph's model sent.
    pub throttled: u64,
    /// A tick found the previous tick's tenant-runs not all finished.
    pub overrun: bool,
    /// Longest time from a tick to the end of its last tenant-run.
    pub longest_drain_ms: i64,
    /// Sampled visible -> read: the longest (`None` when a sampled sign-in was never read), the median,
    /// and the share read within one interval.
    pub worst_read_ms: Option<i64>,
    pub median_read_ms: i64,
    pub within_interval: f64,
    /// Reports requests per break-glass tenant-run, as sent.
    pub reports_per_run: f64,
    /// `signInActivity` pages background work completed, as users per day.
    pub dormant_users_per_day: u64,
}

impl Outcome {
    /// The interval held: every run done before the next tick, no 429, every sampled sign-in read.
    pub fn held(&self) -> bool {
        !self.overrun && self.throttled == 0 && self.worst_read_ms.is_some()
    }
}
