//! Cooperative interruption. SIGINT/SIGTERM set a flag; the engine's progress hook stops the
//! script at its next operation. A host function already sending finishes (and records what it
//! sent) before the script sees the interruption, so nothing half-sent is forgotten.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Clears the flag, returning whether it was set (the REPL resumes after a Ctrl-C).
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::SeqCst)
    }

    /// Routes SIGINT and SIGTERM to this flag for the rest of the process. The registration
    /// chains to whatever handler was installed before (the REPL's line editor installs one),
    /// so both still run.
    pub fn bind_to_signals(&self) {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Registration fails only for forbidden signals, which these are not.
            let _ = signal_hook::flag::register(signal, Arc::clone(&self.0));
        }
    }
}
