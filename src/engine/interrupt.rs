//! Cooperative interruption. SIGINT/SIGTERM set a flag; the engine's progress hook stops the
//! script at its next operation. A host function already sending finishes (and records what it
//! sent) before the script sees the interruption, so nothing half-sent is forgotten.
//!
//! A host function can also be stuck (a node that never answers, a write the disk holds up).
//! An execution then still ends: `end_when_stuck` says what was sent and exits 130 once the
//! grace after the first signal has passed, or at once on a second signal. Locks are the
//! operating system's, so they go with the process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What an execution says when it is ended while stuck: what was sent so far.
type LastWords = Box<dyn Fn() + Send>;

#[derive(Clone, Default)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
    /// Set once the execution is ending on its own: a stuck-process exit must not cut it short.
    ending: Arc<AtomicBool>,
    last_words: Arc<Mutex<Option<LastWords>>>,
}

impl std::fmt::Debug for Interrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Interrupt({})", self.is_set())
    }
}

/// The exit code of an interrupted execution.
const INTERRUPTED: i32 = 130;

impl Interrupt {
    pub fn trigger(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Clears the flag, returning whether it was set (the REPL resumes after a Ctrl-C).
    pub fn take(&self) -> bool {
        self.flag.swap(false, Ordering::SeqCst)
    }

    /// Routes SIGINT and SIGTERM to this flag for the rest of the process. The registration
    /// chains to whatever handler was installed before (the REPL's line editor installs one),
    /// so both still run.
    pub fn bind_to_signals(&self) {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Registration fails only for forbidden signals, which these are not.
            let _ = signal_hook::flag::register(signal, Arc::clone(&self.flag));
        }
    }

    /// `bind_to_signals`, and an execution stuck in a host function still ends: `grace` after
    /// the first signal (at once on a second), the last words set with `on_stuck` are said and
    /// the process exits 130.
    pub fn end_when_stuck(&self, grace: Duration) {
        self.bind_to_signals();
        let Ok(mut signals) =
            signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])
        else {
            return;
        };
        let this = self.clone();
        std::thread::spawn(move || {
            let mut forever = signals.forever();
            if forever.next().is_none() {
                return;
            }
            let watchdog = this.clone();
            std::thread::spawn(move || {
                std::thread::sleep(grace);
                watchdog.end_now();
            });
            if forever.next().is_some() {
                this.end_now();
            }
        });
    }

    /// What to say when the execution is ended while stuck (replaces what was set before).
    pub fn on_stuck(&self, last_words: impl Fn() + Send + 'static) {
        *self.last_words.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(last_words));
    }

    /// The execution is ending on its own: a signal from now on waits for it. The last words
    /// are let go (they hold the execution's chain, which closes its database when dropped).
    pub fn ending(&self) {
        self.ending.store(true, Ordering::SeqCst);
        self.last_words.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    fn end_now(&self) {
        if self.ending.load(Ordering::SeqCst) {
            return;
        }
        if let Some(last_words) = self.last_words.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            last_words();
        }
        std::process::exit(INTERRUPTED);
    }
}
