//! The demo's Graph client waits on the emulator's clock: a pacing or `Retry-After` wait moves the emulated
//! time forward by that much and returns at once. The emulator measures its throttling windows on the same clock
//! (`[throttle] clock = "emulated"`), so the client still keeps under Graph's published limits (REFERENCE.md §4),
//! and the demo shows the waits a real tenant would impose without spending them.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entrawatch_core::graph::WaitClock;
use entrawatch_emulator::Clock;
use tokio::time::Instant;

#[derive(Debug)]
pub struct EmulatedWaits {
    clock: Clock,
    /// The emulated time this clock has moved ahead of real time: the sum of every wait.
    ahead: Mutex<Duration>,
}

impl EmulatedWaits {
    pub fn new(clock: Clock) -> Arc<EmulatedWaits> {
        Arc::new(EmulatedWaits {
            clock,
            ahead: Mutex::new(Duration::ZERO),
        })
    }

    /// Everything waited so far.
    pub fn waited(&self) -> Duration {
        *self.ahead.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl WaitClock for EmulatedWaits {
    fn now(&self) -> Instant {
        Instant::now() + self.waited()
    }

    fn sleep(&self, wait: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        *self.ahead.lock().unwrap_or_else(|p| p.into_inner()) += wait;
        self.clock
            .advance(chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::zero()));
        Box::pin(std::future::ready(()))
    }

    fn epoch_ms(&self) -> i64 {
        entrawatch_core::graph::wall_epoch_ms() + self.waited().as_millis() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_moves_both_clocks_by_its_length_and_costs_no_real_time() {
        let emulated = Clock::new(chrono::Utc::now());
        emulated.freeze(true);
        let before = emulated.now();
        let waits = EmulatedWaits::new(emulated.clone());
        let started = std::time::Instant::now();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(waits.sleep(Duration::from_secs(30)));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(emulated.now() - before, chrono::Duration::seconds(30));
        assert_eq!(waits.waited(), Duration::from_secs(30));
        assert!(waits.now() >= Instant::now() + Duration::from_secs(29));
    }
}
