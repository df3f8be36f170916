//! Where the localnet's slots take their time from: the wall clock for operators, or a clock a
//! test holds and moves by hand, so that tests of slot timing never depend on how busy the
//! machine is.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Milliseconds since the Unix epoch, as the chain sees them.
pub trait TimeSource: Send + Sync {
    fn now_ms(&self) -> u64;
}

/// The system's wall clock.
pub struct WallClock;

impl TimeSource for WallClock {
    fn now_ms(&self) -> u64 {
        wall_ms()
    }
}

/// Milliseconds since the Unix epoch on the system clock.
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A clock that stands still until moved: it starts at the wall time of its creation.
#[derive(Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl Default for ManualClock {
    fn default() -> Self {
        Self(Arc::new(AtomicU64::new(wall_ms())))
    }
}

impl ManualClock {
    /// A clock standing at `ms`.
    pub fn at(ms: u64) -> Self {
        Self(Arc::new(AtomicU64::new(ms)))
    }

    pub fn advance_ms(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl TimeSource for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The clock every chain uses unless told otherwise.
pub fn wall_clock() -> Arc<dyn TimeSource> {
    Arc::new(WallClock)
}
