//! Handlers a runbook registers for follow mode (`run --follow`): which run, what happens to it,
//! and the closure to call. The registry lives on the host; the follow loop reads it once the
//! runbook's body has run.

use crate::api::values::runs::RunHandle;
use rhai::FnPtr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// What a handler reacts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// The run's state changed: called with (from, to).
    Transition,
    /// An epoch ended: called with its number.
    EpochEnd,
    /// A client joined the current epoch: called with its pubkey.
    ClientJoined,
    /// A client of the current epoch stopped being healthy: called with its pubkey.
    ClientDropped,
    /// The run became paused (a pause landed): called with no argument.
    Paused,
    /// The treasury's runway fell below this many epochs: called with the runway.
    RunwayBelow(f64),
    /// Every this many slots: called with the slot.
    EverySlots(u64),
}

impl Trigger {
    pub fn name(&self) -> String {
        match self {
            Trigger::Transition => "on_transition".into(),
            Trigger::EpochEnd => "on_epoch_end".into(),
            Trigger::ClientJoined => "on_client_joined".into(),
            Trigger::ClientDropped => "on_client_dropped".into(),
            Trigger::Paused => "on_paused".into(),
            Trigger::RunwayBelow(epochs) => format!("on_runway_below({epochs})"),
            Trigger::EverySlots(slots) => format!("every_slots({slots})"),
        }
    }
}

#[derive(Clone)]
pub struct Handler {
    /// None for a slot timer.
    pub run: Option<RunHandle>,
    pub trigger: Trigger,
    pub callback: FnPtr,
}

#[derive(Default)]
pub struct Handlers {
    registered: Mutex<Vec<Handler>>,
    /// Set by `stop_following()`: the follow loop ends after the handler that set it.
    stop: AtomicBool,
}

impl Handlers {
    pub fn register(&self, handler: Handler) {
        self.registered.lock().unwrap_or_else(|p| p.into_inner()).push(handler);
    }

    pub fn all(&self) -> Vec<Handler> {
        self.registered.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}
