//! A discrete-event simulation of many tenants drawing on one app's shared Graph budget
//! (`benches/graph_budget.rs` prints its figures; `tests/budget_sim_graph.rs` checks its Graph model).
#![allow(dead_code)]

pub mod config;
pub mod graph;
pub mod search;
pub mod sim;
