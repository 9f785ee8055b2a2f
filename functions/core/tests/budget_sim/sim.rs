//! The discrete-event simulation: break-glass tenant-runs and background dormant scans drawing on the
//! real shared budget ([`SharedBudget`] over a [`MemoryBudget`], so `decide` with the windows, margins,
//! reserve and priorities the functions use), sent to the [`GraphModel`] after a one-way delay.
//! Simulated milliseconds throughout; nothing sleeps.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

use entrawatch_core::graph::{Family, SharedBudget, SharedLimits, IDS_PER_LOOKUP};
use entrawatch_core::jobs::break_glass::ACCOUNT_CHECK_EVERY;
use entrawatch_core::state::budget::WindowSpec;
use entrawatch_core::state::memory_budget::MemoryBudget;
use futures::executor::block_on;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use super::config::{Config, Outcome};
use super::graph::{GraphLimits, GraphModel};

/// A sign-in or audit read (`/auditLogs/*`, `Family::of`).
const REPORT: &[Family] = &[Family::Reports];
/// A `/users` page selecting `signInActivity`, or one account looked up with it: both families.
const PAGE: &[Family] = &[Family::Reports, Family::SignInActivity];
/// Users per `signInActivity` page (the client's page size, Graph's advice `$top=500`, REFERENCE.md §4).
pub const USERS_PER_PAGE: u64 = 500;
/// Pages a dormant worker reads of one tenant before it moves on (10,000 users).
const PAGES_PER_SCAN: usize = 20;
pub(super) const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Tick(usize),
    /// Worker asks the budget for its next request.
    Try(usize),
    /// Its request reaches Graph.
    Arrive(usize),
    /// The answer is back (served, or refused with a 429).
    Done(usize),
    Refused(usize),
}

/// One request of a job: its families, and whether it is sent only if the budget has room now.
#[derive(Clone, Copy)]
struct Req {
    families: &'static [Family],
    if_affordable: bool,
}

struct Job {
    tenant: usize,
    tick: usize,
    requests: Vec<Req>,
    next: usize,
    sign_in_arrival: i64,
}

struct Worker {
    urgent: bool,
    job: Option<Job>,
}

pub fn run(cfg: &Config) -> Outcome {
    Sim::new(cfg).run()
}

struct Sim<'a> {
    cfg: &'a Config,
    budget: SharedBudget,
    clients: Vec<String>,
    tenant_ids: Vec<String>,
    report_specs: Vec<Vec<WindowSpec>>,
    page_specs: Vec<Vec<WindowSpec>>,
    graph: GraphModel,
    events: BinaryHeap<Reverse<(i64, u64, Ev)>>,
    seq: u64,
    rng: StdRng,
    workers: Vec<Worker>,
    queue: VecDeque<(usize, usize)>,
    next_dormant: usize,
    /// Per tenant: when its accounts are next due to be looked up.
    lookup_due: Vec<i64>,
    /// Per tenant: (arrival, completion) of each run's sign-in request.
    reads: Vec<Vec<(i64, i64)>>,
    tick_end: Vec<i64>,
    runs: u64,
    run_reports: u64,
    pages: u64,
    overrun: bool,
}

impl<'a> Sim<'a> {
    fn new(cfg: &'a Config) -> Sim<'a> {
        let budget = SharedBudget::new(Arc::new(MemoryBudget::new()), SharedLimits::default());
        let clients: Vec<String> = (0..cfg.apps).map(|a| format!("app-{a}")).collect();
        let tenant_ids: Vec<String> = (0..cfg.tenants).map(|t| format!("tenant-{t}")).collect();
        let specs = |families: &[Family]| -> Vec<Vec<WindowSpec>> {
            (0..cfg.tenants)
                .map(|t| budget.windows(&clients[t % cfg.apps], &tenant_ids[t], families))
                .collect()
        };
        let (report_specs, page_specs) = (specs(REPORT), specs(PAGE));
        let mut workers: Vec<Worker> = (0..cfg.workers)
            .map(|_| Worker {
                urgent: true,
                job: None,
            })
            .collect();
        workers.extend((0..cfg.dormant_workers).map(|_| Worker {
            urgent: false,
            job: None,
        }));
        Sim {
            cfg,
            budget,
            clients,
            tenant_ids,
            report_specs,
            page_specs,
            graph: GraphModel::new(GraphLimits::default(), cfg.apps, cfg.tenants),
            events: BinaryHeap::new(),
            seq: 0,
            rng: StdRng::seed_from_u64(cfg.seed),
            workers,
            queue: VecDeque::new(),
            next_dormant: 0,
            // Steady state: each tenant's daily lookup falls at its own time of day.
            lookup_due: (0..cfg.tenants)
                .map(|t| t as i64 * DAY_MS / cfg.tenants.max(1) as i64)
                .collect(),
            reads: vec![Vec::new(); cfg.tenants],
            tick_end: vec![0; cfg.ticks()],
            runs: 0,
            run_reports: 0,
            pages: 0,
            overrun: false,
        }
    }

    fn at(&mut self, time: i64, ev: Ev) {
        self.seq += 1;
        self.events.push(Reverse((time, self.seq, ev)));
    }

    fn run(mut self) -> Outcome {
        let cfg = self.cfg;
        let ticks = cfg.ticks();
        let end_ms = ticks as i64 * cfg.interval_ms;
        let measure_from = cfg.interval_ms;
        self.at(0, Ev::Tick(0));
        for w in cfg.workers..self.workers.len() {
            self.start_next(w, 0);
        }
        while let Some(Reverse((now, _, ev))) = self.events.pop() {
            if now >= end_ms || (self.overrun && cfg.stop_on_overrun) {
                break;
            }
            match ev {
                Ev::Tick(k) => self.tick(k, now, ticks),
                Ev::Try(w) => self.try_send(w, now),
                Ev::Arrive(w) => self.arrive(w, now),
                Ev::Done(w) => self.done(w, now, measure_from),
                Ev::Refused(w) => self.refused(w, now),
            }
        }
        // The last tick's runs must be done by the end too.
        self.overrun |= !self.queue.is_empty() || self.busy_before(ticks);
        self.outcome(end_ms, measure_from)
    }

    fn busy_before(&self, tick: usize) -> bool {
        self.workers
            .iter()
            .any(|w| w.urgent && w.job.as_ref().is_some_and(|j| j.tick < tick))
    }

    fn tick(&mut self, k: usize, now: i64, ticks: usize) {
        self.overrun |= !self.queue.is_empty() || self.busy_before(k);
        self.queue.extend((0..self.cfg.tenants).map(|t| (t, k)));
        if k + 1 < ticks {
            self.at(now + self.cfg.interval_ms, Ev::Tick(k + 1));
        }
        for w in 0..self.cfg.workers {
            if self.workers[w].job.is_none() {
                self.start_next(w, now);
            }
        }
    }

    fn start_next(&mut self, w: usize, now: i64) {
        let cfg = self.cfg;
        let job = if self.workers[w].urgent {
            let Some((tenant, tick)) = self.queue.pop_front() else {
                self.workers[w].job = None;
                return;
            };
            let lookups = if self.lookup_due[tenant] <= now {
                cfg.accounts.div_ceil(IDS_PER_LOOKUP)
            } else {
                0
            };
            let report = Req {
                families: REPORT,
                if_affordable: false,
            };
            let lookup = Req {
                families: PAGE,
                if_affordable: true,
            };
            let mut requests = vec![report; cfg.r];
            requests.extend(std::iter::repeat_n(lookup, lookups));
            Job {
                tenant,
                tick,
                requests,
                next: 0,
                sign_in_arrival: 0,
            }
        } else {
            let tenant = self.next_dormant;
            self.next_dormant = (tenant + 1) % cfg.tenants;
            Job {
                tenant,
                tick: 0,
                requests: vec![
                    Req {
                        families: PAGE,
                        if_affordable: false,
                    };
                    PAGES_PER_SCAN
                ],
                next: 0,
                sign_in_arrival: 0,
            }
        };
        self.workers[w].job = Some(job);
        self.at(now + cfg.overhead_ms, Ev::Try(w));
    }

    fn current(&self, w: usize) -> (usize, &'static [Family]) {
        let job = self.workers[w]
            .job
            .as_ref()
            .expect("a worker with a request");
        (job.tenant, job.requests[job.next].families)
    }

    fn specs(&self, tenant: usize, families: &[Family]) -> &[WindowSpec] {
        if families == REPORT {
            &self.report_specs[tenant]
        } else {
            &self.page_specs[tenant]
        }
    }

    fn try_send(&mut self, w: usize, now: i64) {
        let (tenant, families) = self.current(w);
        if self.cfg.budget {
            let specs = self.specs(tenant, families);
            let urgent = self.workers[w].urgent;
            let wait = block_on(self.budget.take(specs, urgent, now)).expect("in-memory budget");
            let job = self.workers[w].job.as_mut().expect("a job");
            match wait {
                None => {}
                // Deferred: the run ends here and a later run looks the accounts up.
                Some(_) if job.requests[job.next].if_affordable => {
                    job.requests.truncate(job.next);
                    return self.finish(w, now);
                }
                Some(wait) => return self.at(now + wait.as_millis() as i64, Ev::Try(w)),
            }
        }
        let one_way = self.cfg.latency_ms / 2 + self.rng.gen_range(0..=self.cfg.jitter_ms);
        self.at(now + one_way, Ev::Arrive(w));
    }

    fn arrive(&mut self, w: usize, now: i64) {
        let (tenant, families) = self.current(w);
        let served = self
            .graph
            .arrive(tenant % self.cfg.apps, tenant, families, now);
        let back = now + self.cfg.latency_ms - self.cfg.latency_ms / 2;
        if served {
            let job = self.workers[w].job.as_mut().expect("a job");
            job.sign_in_arrival = now;
            self.at(back, Ev::Done(w));
        } else {
            self.at(back, Ev::Refused(w));
        }
    }

    /// What the client does with a 429: hold the app's windows for every worker, retry after it.
    fn refused(&mut self, w: usize, now: i64) {
        let (tenant, families) = self.current(w);
        let until = now + self.cfg.retry_after_ms;
        if self.cfg.budget {
            let client = &self.clients[tenant % self.cfg.apps];
            block_on(
                self.budget
                    .hold(client, &self.tenant_ids[tenant], families, until),
            )
            .expect("in-memory budget");
        }
        self.at(until, Ev::Try(w));
    }

    fn done(&mut self, w: usize, now: i64, measure_from: i64) {
        let sign_in_request = self.cfg.sign_in_request();
        let urgent = self.workers[w].urgent;
        let job = self.workers[w].job.as_mut().expect("a job");
        if urgent {
            if job.next == sign_in_request {
                self.reads[job.tenant].push((job.sign_in_arrival, now));
            }
            self.run_reports += 1;
        } else if now >= measure_from {
            self.pages += 1;
        }
        job.next += 1;
        if job.next < job.requests.len() {
            self.at(now, Ev::Try(w));
            return;
        }
        if urgent && job.requests.last().is_some_and(|r| r.if_affordable) {
            self.lookup_due[job.tenant] = now + ACCOUNT_CHECK_EVERY.num_milliseconds();
        }
        self.finish(w, now);
    }

    fn finish(&mut self, w: usize, now: i64) {
        let urgent = self.workers[w].urgent;
        let job = self.workers[w].job.as_ref().expect("a job");
        if urgent {
            self.runs += 1;
            let end = &mut self.tick_end[job.tick];
            *end = (*end).max(now);
        }
        self.start_next(w, now);
    }

    fn outcome(mut self, end_ms: i64, measure_from: i64) -> Outcome {
        let cfg = self.cfg;
        let last_tick = (cfg.ticks() - 1) as i64 * cfg.interval_ms;
        let mut latencies = Vec::new();
        let mut unread = false;
        for reads in &mut self.reads {
            reads.sort_unstable();
            for _ in 0..cfg.samples {
                // Visible before the last tick, so the last tick's run reads it.
                let visible = self.rng.gen_range(measure_from..last_tick);
                let i = reads.partition_point(|&(arrival, _)| arrival < visible);
                match reads.get(i) {
                    Some(&(_, read)) => latencies.push(read - visible),
                    None => unread = true,
                }
            }
        }
        latencies.sort_unstable();
        let within = latencies.iter().filter(|&&l| l <= cfg.interval_ms).count();
        let measured = (end_ms - measure_from).max(1);
        Outcome {
            throttled: self.graph.throttled,
            overrun: self.overrun,
            longest_drain_ms: (0..cfg.ticks())
                .map(|k| self.tick_end[k] - k as i64 * cfg.interval_ms)
                .max()
                .unwrap_or(0),
            worst_read_ms: if unread {
                None
            } else {
                latencies.last().copied()
            },
            median_read_ms: latencies.get(latencies.len() / 2).copied().unwrap_or(0),
            within_interval: within as f64 / latencies.len().max(1) as f64,
            reports_per_run: self.run_reports as f64 / self.runs.max(1) as f64,
            dormant_users_per_day: (self.pages * USERS_PER_PAGE) * DAY_MS as u64 / measured as u64,
        }
    }
}
