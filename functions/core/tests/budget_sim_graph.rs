//! The budget simulation's Graph model counts the 429s Graph would send, so the bench's "0 x 429"
//! means the budget kept every request inside Graph's published limits, not that nothing was counted.

mod budget_sim;

use budget_sim::graph::{GraphLimits, GraphModel};
use budget_sim::sim::{run, Config};
use entrawatch_core::graph::Family;

const REPORT: &[Family] = &[Family::Reports];
const PAGE: &[Family] = &[Family::Reports, Family::SignInActivity];

#[test]
fn graph_refuses_the_request_past_each_published_window_and_serves_again_when_it_slides() {
    let mut graph = GraphModel::new(GraphLimits::default(), 1, 200);
    // 122 per app across tenants: 5 each from 24 tenants, 2 from a 25th, then one more.
    for t in 0..25 {
        for _ in 0..if t < 24 { 5 } else { 2 } {
            assert!(graph.arrive(0, t, REPORT, 0));
        }
    }
    assert!(
        !graph.arrive(0, 30, REPORT, 9_999),
        "the app's 123rd in 10 s"
    );
    assert!(graph.arrive(0, 30, REPORT, 10_000), "the window has slid");
    // 5 per app and tenant: the 6th from tenant 100 within 10 s.
    let mut graph = GraphModel::new(GraphLimits::default(), 1, 200);
    for i in 0..5 {
        assert!(graph.arrive(0, 100, REPORT, i));
    }
    assert!(!graph.arrive(0, 100, REPORT, 5));
    assert!(graph.arrive(0, 101, REPORT, 5));
    // 10 signInActivity a minute per app.
    let mut graph = GraphModel::new(GraphLimits::default(), 1, 200);
    for t in 0..10 {
        assert!(graph.arrive(0, t, PAGE, t as i64 * 1_000));
    }
    assert!(!graph.arrive(0, 50, PAGE, 59_999));
    assert!(graph.arrive(0, 50, PAGE, 60_000));
    assert_eq!((graph.accepted, graph.throttled), (11, 1));
}

#[test]
fn bypassing_the_budget_collects_429s_that_the_budget_avoids() {
    // 1,000 tenants every 5 minutes on one app: 4 workers can send about 16 requests a second, over
    // Graph's 12.2; dormant pages ask for signInActivity far faster than 10 a minute.
    let cfg = Config {
        measured_intervals: 2,
        ..Config::new(1_000, 1, 2, 300_000)
    };
    let bypassed = run(&Config {
        budget: false,
        ..cfg.clone()
    });
    assert!(bypassed.throttled > 0, "{bypassed:?}");
    let paced = run(&cfg);
    assert_eq!(paced.throttled, 0, "{paced:?}");
    assert!(paced.held(), "{paced:?}");
}
