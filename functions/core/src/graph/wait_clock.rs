//! The time a Graph client waits on: its pacing windows, `Retry-After` holds, backoff and run deadline. Real time
//! everywhere but the demo, which runs against the emulator's clock: there a wait moves the emulated time forward
//! instead of sleeping, so honest pacing under Graph's published limits costs the demo no wall time.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

/// A source of "now" and of waits for one Graph client.
pub trait WaitClock: Send + Sync + Debug {
    fn now(&self) -> Instant;
    /// Returns once `wait` has passed on this clock.
    fn sleep(&self, wait: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
    /// Now as epoch milliseconds: the time the shared Graph budget is kept in, common to every process.
    fn epoch_ms(&self) -> i64 {
        wall_epoch_ms()
    }
}

/// The wall clock as epoch milliseconds.
pub fn wall_epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Real (tokio) time: what every deployment uses.
#[derive(Debug, Default)]
pub struct RealClock;

impl WaitClock for RealClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, wait: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(wait))
    }
}

/// The clock [`super::ClientOptions::default`] uses.
pub fn real_clock() -> Arc<dyn WaitClock> {
    Arc::new(RealClock)
}
