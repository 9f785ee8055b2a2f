//! The shared Graph budget: rate windows kept in the state store, so every process, function and fan-out
//! worker that uses one app registration draws on the same budget (Graph docs `throttling-limits.md`,
//! 2025-01-14, "Identity and access reports service limits": 122 reports requests per 10 s per app across all
//! tenants, 5 per 10 s per app and tenant, 10 `signInActivity` requests a minute; REFERENCE.md §4).
//!
//! A window is a sliding log of send times (at most `limit` inside `span`): Graph's windows slide, and a
//! token bucket small enough never to exceed a sliding window would give up half its rate. The decision is
//! [`decide`], a pure function over the windows' stored states; each adapter only loads the states, runs it
//! and writes them back atomically (a transaction on SQLite, conditional writes on DynamoDB).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::StateError;

/// Who is asking: break-glass reads go first (issue 13: background work uses only what they leave).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Break-glass sign-in and audit reads: may use the whole window.
    Urgent,
    /// Dormant scans and other long reads: may not use the window's [`reserve`], and stand aside while an
    /// urgent request is waiting.
    Background,
}

/// One shared window: at most `limit` requests in any `span_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSpec {
    /// Names the app, family and (for per-tenant windows) tenant, e.g. `app#<client id>#reports`.
    pub key: String,
    pub limit: u32,
    pub span_ms: i64,
}

/// What a window remembers. Stored as JSON (SQLite column, DynamoDB attribute).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowState {
    /// Send times (epoch ms) still inside the window, oldest first.
    #[serde(default)]
    pub sent: Vec<i64>,
    /// No request until then (a 429's `Retry-After`, for every worker of the app).
    #[serde(default)]
    pub held_until: i64,
    /// An urgent request is waiting for this window until then: background requests stand aside.
    #[serde(default)]
    pub urgent_until: i64,
}

/// The answer to a take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// `count` slots (at least one) were taken in every window at `now`.
    Granted { count: u32 },
    /// Nothing was taken; ask again after this many milliseconds.
    Wait { ms: i64 },
}

/// How long an urgent request that had to wait keeps background requests aside: longer than one poll of a
/// waiting worker, so a background worker that polls meanwhile sees it.
pub const URGENT_CLAIM_MS: i64 = 2_000;
/// The longest a background request is told to wait behind an urgent one before it looks again: it yields
/// within a second when break-glass needs the budget and comes back as soon as it does not.
pub const BACKGROUND_POLL_MS: i64 = 1_000;

/// The time a store decides a take at: the caller's `now_ms` plus the real time since the call began. A store that
/// waits (a lock another process holds, a lost race on a conditional write) must not record the grant at the time
/// it was asked for: the grant would look older than the request it lets out and leave its window early.
pub fn at_decision(now_ms: i64, called: std::time::Instant) -> i64 {
    now_ms.saturating_add(called.elapsed().as_millis() as i64)
}

/// The part of a window only urgent requests may use: a fifth, at least one slot when the window has two.
pub fn reserve(limit: u32) -> u32 {
    if limit < 2 {
        0
    } else {
        (limit / 5).max(1)
    }
}

/// Takes up to `want` slots at `now_ms` in every window or none, updating `states` (one per spec, same
/// order). States are tidied (sends that left the window dropped) whatever the answer.
pub fn decide(
    specs: &[WindowSpec],
    states: &mut [WindowState],
    priority: Priority,
    want: u32,
    now_ms: i64,
) -> Take {
    debug_assert_eq!(specs.len(), states.len());
    let mut wait = 0i64;
    let mut room = want.max(1);
    for (spec, state) in specs.iter().zip(states.iter_mut()) {
        state.sent.retain(|t| now_ms - *t < spec.span_ms);
        wait = wait.max(state.held_until - now_ms);
        let limit = match priority {
            Priority::Urgent => spec.limit,
            Priority::Background => {
                if state.urgent_until > now_ms {
                    wait = wait.max((state.urgent_until - now_ms).min(BACKGROUND_POLL_MS));
                }
                spec.limit - reserve(spec.limit)
            }
        } as usize;
        let used = state.sent.len();
        if used >= limit {
            // The slot that frees first for this caller is the one `limit` places from the newest.
            let frees_at = if limit == 0 {
                now_ms + spec.span_ms
            } else {
                state.sent[used - limit] + spec.span_ms
            };
            wait = wait.max(frees_at - now_ms);
        } else {
            room = room.min((limit - used) as u32);
        }
    }
    if wait > 0 {
        if priority == Priority::Urgent {
            for state in states.iter_mut() {
                state.urgent_until = state.urgent_until.max(now_ms + URGENT_CLAIM_MS);
            }
        }
        return Take::Wait { ms: wait };
    }
    for state in states.iter_mut() {
        state
            .sent
            .extend(std::iter::repeat_n(now_ms, room as usize));
    }
    Take::Granted { count: room }
}

/// Holds every window until `until_ms` (kept if a later hold is already there).
pub fn hold(states: &mut [WindowState], until_ms: i64) {
    for state in states {
        state.held_until = state.held_until.max(until_ms);
    }
}

/// The shared windows, kept in the state store.
#[async_trait]
pub trait BudgetStore: Send + Sync {
    /// [`decide`] over the stored windows, atomically: two processes cannot both take the last slot.
    async fn take(
        &self,
        specs: &[WindowSpec],
        priority: Priority,
        want: u32,
        now_ms: i64,
    ) -> Result<Take, StateError>;

    /// [`hold`] on the stored windows named by `keys`.
    async fn hold(&self, keys: &[String], until_ms: i64) -> Result<(), StateError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(limit: u32, span_ms: i64) -> WindowSpec {
        WindowSpec {
            key: "app#a#reports".into(),
            limit,
            span_ms,
        }
    }

    #[test]
    fn the_limit_plus_first_request_waits_until_the_oldest_leaves_the_window() {
        let specs = [window(3, 1_000)];
        let mut states = vec![WindowState::default()];
        for t in [0, 10, 20] {
            assert_eq!(
                decide(&specs, &mut states, Priority::Urgent, 1, t),
                Take::Granted { count: 1 }
            );
        }
        assert_eq!(
            decide(&specs, &mut states, Priority::Urgent, 1, 500),
            Take::Wait { ms: 500 }
        );
        assert_eq!(
            decide(&specs, &mut states, Priority::Urgent, 1, 1_000),
            Take::Granted { count: 1 }
        );
        assert_eq!(states[0].sent, vec![10, 20, 1_000]);
    }

    #[test]
    fn a_slice_is_what_every_window_has_room_for_and_all_or_nothing() {
        let specs = [window(10, 1_000), window(3, 1_000)];
        let mut states = vec![WindowState::default(), WindowState::default()];
        assert_eq!(
            decide(&specs, &mut states, Priority::Urgent, 5, 0),
            Take::Granted { count: 3 }
        );
        assert_eq!(
            decide(&specs, &mut states, Priority::Urgent, 5, 1),
            Take::Wait { ms: 999 }
        );
        assert_eq!(
            (states[0].sent.len(), states[1].sent.len()),
            (3, 3),
            "a refused take records nothing in the window that had room"
        );
    }

    #[test]
    fn background_requests_leave_the_reserve_to_urgent_ones() {
        let specs = [window(10, 1_000)];
        let mut states = vec![WindowState::default()];
        assert_eq!(
            decide(&specs, &mut states, Priority::Background, 20, 0),
            Take::Granted { count: 8 }
        );
        assert!(matches!(
            decide(&specs, &mut states, Priority::Background, 1, 1),
            Take::Wait { .. }
        ));
        assert_eq!(
            decide(&specs, &mut states, Priority::Urgent, 20, 2),
            Take::Granted { count: 2 }
        );
    }

    #[test]
    fn a_waiting_urgent_request_makes_background_requests_stand_aside_within_a_second() {
        let specs = [window(2, 10_000)];
        let mut states = vec![WindowState::default()];
        decide(&specs, &mut states, Priority::Urgent, 2, 0);
        assert_eq!(
            decide(&specs, &mut states, Priority::Urgent, 1, 100),
            Take::Wait { ms: 9_900 }
        );
        // The window frees at 10 s, when the urgent request's claim (2 s from 100 ms) has lapsed.
        assert_eq!(
            decide(&specs, &mut states, Priority::Background, 1, 10_000),
            Take::Granted { count: 1 }
        );
        let mut states = vec![WindowState::default()];
        decide(&specs, &mut states, Priority::Urgent, 2, 0);
        decide(&specs, &mut states, Priority::Urgent, 1, 9_500);
        assert_eq!(
            decide(&specs, &mut states, Priority::Background, 1, 10_000),
            Take::Wait { ms: 1_000 },
            "an urgent request waiting since 9.5 s holds background work aside, polling each second"
        );
        assert_eq!(
            decide(&specs, &mut states, Priority::Urgent, 1, 10_000),
            Take::Granted { count: 1 }
        );
    }

    #[test]
    fn a_hold_stops_every_priority_until_it_passes() {
        let specs = [window(100, 1_000)];
        let mut states = vec![WindowState::default()];
        hold(&mut states, 5_000);
        hold(&mut states, 3_000);
        assert_eq!(
            decide(&specs, &mut states, Priority::Urgent, 1, 1_000),
            Take::Wait { ms: 4_000 }
        );
        assert_eq!(
            decide(&specs, &mut states, Priority::Urgent, 1, 5_000),
            Take::Granted { count: 1 }
        );
    }
}
