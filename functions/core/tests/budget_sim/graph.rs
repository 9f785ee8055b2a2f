//! Graph as the simulation sees it: the published identity and access reports limits, counted when a
//! request arrives (Graph docs `throttling-limits.md`, 2025-01-14, "Identity and access reports service
//! limits"; REFERENCE.md §4): 122 requests per 10 s per app across all tenants, 5 per 10 s per app and
//! tenant, and 10 `signInActivity` requests a minute per app. Windows slide (any 10 s holds at most the
//! limit), the strictest reading of "per 10 seconds"; a refused request does not count against them
//! (the page does not say, and counting it would only hide a 429 behind another).

use std::collections::VecDeque;

use entrawatch_core::graph::Family;

const REPORTS_SPAN_MS: i64 = 10_000;
const SIGN_IN_ACTIVITY_SPAN_MS: i64 = 60_000;

/// Published limits, not the client's (the budget keeps its own, with margins).
#[derive(Debug, Clone, Copy)]
pub struct GraphLimits {
    pub reports_per_app: usize,
    pub reports_per_tenant: usize,
    pub sign_in_activity_per_app: usize,
}

impl Default for GraphLimits {
    fn default() -> Self {
        GraphLimits {
            reports_per_app: 122,
            reports_per_tenant: 5,
            sign_in_activity_per_app: 10,
        }
    }
}

/// Arrival times still inside one window, oldest first.
#[derive(Debug, Default)]
struct Window(VecDeque<i64>);

impl Window {
    fn full(&mut self, limit: usize, span_ms: i64, at_ms: i64) -> bool {
        while self.0.front().is_some_and(|t| at_ms - *t >= span_ms) {
            self.0.pop_front();
        }
        self.0.len() >= limit
    }
}

/// Every app's and every (app, tenant)'s windows; a tenant belongs to one app.
#[derive(Debug)]
pub struct GraphModel {
    limits: GraphLimits,
    app_reports: Vec<Window>,
    tenant_reports: Vec<Window>,
    app_sign_in_activity: Vec<Window>,
    pub accepted: u64,
    pub throttled: u64,
}

impl GraphModel {
    pub fn new(limits: GraphLimits, apps: usize, tenants: usize) -> GraphModel {
        let windows = |n| (0..n).map(|_| Window::default()).collect();
        GraphModel {
            limits,
            app_reports: windows(apps),
            tenant_reports: windows(tenants),
            app_sign_in_activity: windows(apps),
            accepted: 0,
            throttled: 0,
        }
    }

    /// A request of `families` from `app` in `tenant` arrives at `at_ms`: `true` when Graph serves it,
    /// `false` when it answers 429 (counted).
    pub fn arrive(&mut self, app: usize, tenant: usize, families: &[Family], at_ms: i64) -> bool {
        let l = self.limits;
        let reports = families.contains(&Family::Reports);
        let sign_in_activity = families.contains(&Family::SignInActivity);
        // Evaluate every window (each drops what left it) before deciding, so none is skipped.
        let refused = [
            reports && self.app_reports[app].full(l.reports_per_app, REPORTS_SPAN_MS, at_ms),
            reports
                && self.tenant_reports[tenant].full(l.reports_per_tenant, REPORTS_SPAN_MS, at_ms),
            sign_in_activity
                && self.app_sign_in_activity[app].full(
                    l.sign_in_activity_per_app,
                    SIGN_IN_ACTIVITY_SPAN_MS,
                    at_ms,
                ),
        ];
        if refused.contains(&true) {
            self.throttled += 1;
            return false;
        }
        if reports {
            self.app_reports[app].0.push_back(at_ms);
            self.tenant_reports[tenant].0.push_back(at_ms);
        }
        if sign_in_activity {
            self.app_sign_in_activity[app].0.push_back(at_ms);
        }
        self.accepted += 1;
        true
    }
}
