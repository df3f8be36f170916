//! `run --follow FILE`: after the runbook's body has run, its handlers are called as its runs
//! change, until `stop_following()` or SIGINT/SIGTERM. Each run's coordinator account (and
//! treasury, for runway handlers) is followed by `accountSubscribe`; after every push, and at
//! least every 30 s (every 2 s while no websocket can be had), the runs are read again and
//! compared with the last observation handled (see `api::ops::follow::observe`).
//!
//! Every handler invocation is one execution as a cron run is one: it takes the runbook's
//! execution lock, journals its sends, saves the embedded chain, refreshes `--metrics-file`,
//! prints its plan under `--dry-run` and stays silent under `-q` unless it sent something.
//! The last observation handled is kept in the state directory once its handlers returned, so
//! a follower killed in the middle of a handler calls it again on restart (handlers are
//! idempotent, and the journal settles what the interrupted one sent), and one restarted later
//! hears of what happened while it was away. Follow mode reacts to net changes: a pause and a
//! resume both made between two reads (or while it was away) are one observation, no change.
//!
//! A handler that fails is not counted as handled: its run's observation is kept as it was,
//! so the same change calls it again after a backoff (2 s, doubling to 5 min), and each failure
//! is reported. A follow state that cannot be written ends following (exit 74): handlers could
//! otherwise be called again on restart for what they already did.

use crate::api::ops::follow::observe::{Observed, events, observe};
use crate::api::values::handlers::{Handler, Trigger};
use crate::api::values::runs::RunHandle;
use crate::chain::exec_lock::ExecLock;
use crate::chain::pubsub::{Pushed, Stop};
use crate::engine::Runtime;
use crate::engine::interrupt::Interrupt;
use crate::exit::ExitCode;
use crate::ui::Log;
use rhai::{AST, Dynamic};
use solana_sdk::pubkey::Pubkey;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

/// Longest wait between reads while subscriptions stand.
const REREAD: Duration = Duration::from_secs(30);
/// Wait between reads while no subscription can be had.
const POLL: Duration = Duration::from_secs(2);
/// How often a wait checks for SIGINT/SIGTERM.
const TICK: Duration = Duration::from_millis(200);
/// Pushes arriving this soon after one are taken into the same read.
const SETTLE: Duration = Duration::from_millis(20);
/// Milliseconds a slot lasts on a cluster, to size waits for slot timers.
const SLOT_MS: u64 = 400;
/// First wait before a failed handler is called again, and the longest.
const RETRY_FIRST: Duration = Duration::from_secs(2);
const RETRY_MOST: Duration = Duration::from_secs(300);

pub struct Follow<'a> {
    pub runtime: &'a Runtime,
    pub ast: &'a AST,
    pub log: &'a Log,
    pub lock_path: PathBuf,
    pub lock_timeout: Duration,
    pub metrics_file: Option<&'a Path>,
    pub dry_run: bool,
    pub interrupt: &'a Interrupt,
    pub started: Instant,
}

/// What was handled, persisted between restarts.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Handled {
    runs: BTreeMap<String, Observed>,
    /// Slot timers (by handler position) → the slot they last ran at.
    timers: BTreeMap<usize, u64>,
}

/// The follow state beside the execution lock: one per runbook and cluster.
fn state_path(lock_path: &Path) -> PathBuf {
    lock_path.with_extension("follow.json")
}

fn load(path: &Path) -> Handled {
    std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
}

/// A run whose handlers failed: when they are called again, and the wait after that.
struct Retry {
    at: Instant,
    next: Duration,
}

impl Follow<'_> {
    /// Keeps what was handled (atomically); false when it cannot be written.
    fn save(&self, handled: &Handled) -> bool {
        if self.dry_run {
            return true;
        }
        let path = state_path(&self.lock_path);
        let text = serde_json::to_vec_pretty(handled).expect("follow state serializes");
        match crate::files::private::write_atomic(&path, &text, crate::files::private::Readers::Owner) {
            Ok(()) => true,
            Err(e) => {
                self.log.error(&format!(
                    "follow: {} could not be written: {e}; following stops, so that no handler runs twice",
                    path.display()
                ));
                false
            }
        }
    }

    /// Calls one handler as one execution; false when it failed.
    fn invoke(&self, handler: &Handler, label: &str, args: Vec<Dynamic>) -> bool {
        let host = &self.runtime.host;
        let _lock = if self.dry_run {
            None
        } else {
            let waiting = || self.log.info(&format!("{label}: waiting for another run of this runbook to finish"));
            match ExecLock::acquire(&self.lock_path, self.lock_timeout, waiting) {
                Ok(lock) => Some(lock),
                Err(_) => {
                    self.log.error(&format!(
                        "{label}: the execution lock stayed taken; {} skipped",
                        handler.trigger.name()
                    ));
                    return false;
                }
            }
        };
        self.log.info(&format!("{label}: {}", handler.trigger.name()));
        let sent_before = host.sent().len();
        let result = self.runtime.call(&handler.callback, self.ast, args);
        if let Err(e) = host.finish() {
            self.log.error(&format!("error: {}", e.message));
        }
        if self.dry_run {
            let plan = host.take_plan();
            if !plan.is_empty() {
                self.log.error(&format!(
                    "{label}: {} would send:\n{}",
                    handler.trigger.name(),
                    crate::localnet::plan::render(&plan)
                ));
            }
        }
        let sent = host.sent().len() - sent_before;
        if sent > 0 && self.log.quiet {
            self.log.error(&format!("{label}: {} sent {sent} transaction(s)", handler.trigger.name()));
        }
        let ok = match result {
            Ok(_) => true,
            Err(diagnostic) => {
                self.log.error(self.runtime.render(&diagnostic).trim_end());
                false
            }
        };
        if let Some(path) = self.metrics_file {
            let code = if ok { 0 } else { ExitCode::Chain.code() };
            crate::metrics::execution::write(path, host, code, self.started.elapsed());
        }
        ok
    }

    /// Follows until `stop_following()` or a signal; the exit code.
    pub fn run(&self) -> ExitCode {
        let host = &self.runtime.host;
        let handlers = host.handlers.all();
        if handlers.is_empty() {
            self.log.error(
                "--follow: the runbook registers no handlers (r.on_transition(..), r.on_epoch_end(..), every_slots(..), …): nothing to follow",
            );
            return ExitCode::Usage;
        }
        let mut runs: BTreeMap<String, (RunHandle, Vec<f64>)> = BTreeMap::new();
        for handler in &handlers {
            if let Some(run) = &handler.run {
                let entry = runs.entry(run.run_id.clone()).or_insert_with(|| (run.clone(), Vec::new()));
                if let Trigger::RunwayBelow(threshold) = handler.trigger {
                    entry.1.push(threshold);
                }
            }
        }
        let mut handled = if self.dry_run { Handled::default() } else { load(&state_path(&self.lock_path)) };
        let (sender, pushes) = channel();
        let mut subscriptions: BTreeMap<Pubkey, Stop> = BTreeMap::new();
        let mut failures = 0usize;
        let mut last_problem = None;
        let mut retries: BTreeMap<String, Retry> = BTreeMap::new();
        self.log.info(&format!("following {} run(s) with {} handler(s)", runs.len(), handlers.len()));
        loop {
            for (run, thresholds) in runs.values() {
                self.subscribe(run, !thresholds.is_empty(), &sender, &mut subscriptions);
            }
            for (run_id, (run, thresholds)) in &runs {
                let now = match observe(host, run, !thresholds.is_empty()) {
                    Ok(now) => now,
                    Err(e) => {
                        let problem = format!("run \"{run_id}\": cannot read it: {}", e.message);
                        if last_problem.as_ref() != Some(&problem) {
                            self.log.warn(&format!("{problem}; trying again"));
                            last_problem = Some(problem);
                        }
                        continue;
                    }
                };
                last_problem = None;
                let Some(before) = handled.runs.get(run_id).cloned() else {
                    // First sight: what already is, is not news.
                    self.log.info(&format!("run \"{run_id}\": {} at epoch {}", now.state, now.epoch));
                    handled.runs.insert(run_id.clone(), now);
                    if !self.save(&handled) {
                        return ExitCode::Storage;
                    }
                    continue;
                };
                if retries.get(run_id).is_some_and(|r| Instant::now() < r.at) {
                    continue;
                }
                let mut failed = false;
                for event in events(&before, &now, thresholds) {
                    let label = format!("run \"{run_id}\": {}", event.describe());
                    self.log.info(&label);
                    for handler in handlers.iter().filter(|h| h.run.as_ref().is_some_and(|r| &r.run_id == run_id)) {
                        if event.matches(&handler.trigger) && !self.invoke(handler, &label, event.args()) {
                            failed = true;
                        }
                    }
                }
                if failed {
                    // Not handled: the same change calls the handlers again after a backoff.
                    let wait = retries.get(run_id).map_or(RETRY_FIRST, |r| r.next);
                    self.log.error(&format!(
                        "run \"{run_id}\": a handler failed; it is called again in {} s",
                        wait.as_secs()
                    ));
                    retries
                        .insert(run_id.clone(), Retry { at: Instant::now() + wait, next: (wait * 2).min(RETRY_MOST) });
                    continue;
                }
                retries.remove(run_id);
                handled.runs.insert(run_id.clone(), now);
                if !self.save(&handled) {
                    return ExitCode::Storage;
                }
            }
            if !self.timers(&handlers, &mut handled, &mut failures) {
                return ExitCode::Storage;
            }
            if host.handlers.stopped() || self.interrupt.is_set() {
                break;
            }
            let retry = retries.values().map(|r| r.at.saturating_duration_since(Instant::now())).min();
            let wait = self.wait_for(&handlers, subscriptions.len(), runs.len()).min(retry.unwrap_or(Duration::MAX));
            if self.wait(&pushes, wait) {
                subscriptions.clear();
            }
            if self.interrupt.is_set() {
                break;
            }
        }
        // Handlers still failing when following ended (a retried one that succeeded is not).
        if failures > 0 || !retries.is_empty() { ExitCode::Chain } else { ExitCode::Success }
    }

    fn subscribe(
        &self,
        run: &RunHandle,
        with_treasury: bool,
        sender: &Sender<Pushed>,
        subscriptions: &mut BTreeMap<Pubkey, Stop>,
    ) {
        let mut keys = vec![run.account];
        if let (true, Some(t)) = (with_treasury, &run.treasurer) {
            keys.push(crate::psyche::pdas::associated_token(&t.address, &t.mint));
        }
        for key in keys {
            if !subscriptions.contains_key(&key)
                && let Some(stop) = self.runtime.host.watch_account(&key, sender.clone())
            {
                subscriptions.insert(key, stop);
            }
        }
    }

    /// Runs the slot timers that are due; false when what they did cannot be kept.
    fn timers(&self, handlers: &[Handler], handled: &mut Handled, failures: &mut usize) -> bool {
        let timers: Vec<(usize, &Handler, u64)> = handlers
            .iter()
            .enumerate()
            .filter_map(|(i, h)| match h.trigger {
                Trigger::EverySlots(n) => Some((i, h, n)),
                _ => None,
            })
            .collect();
        if timers.is_empty() {
            return true;
        }
        let Ok(slot) = self.runtime.host.slot() else { return true };
        for (i, handler, every) in timers {
            let last = *handled.timers.entry(i).or_insert(slot);
            if slot >= last + every {
                let label = format!("slot {slot}");
                if !self.invoke(handler, &label, vec![Dynamic::from_int(slot as i64)]) {
                    *failures += 1;
                }
                handled.timers.insert(i, slot);
                if !self.save(handled) {
                    return false;
                }
            }
        }
        true
    }

    /// How long to wait for a push before reading again.
    fn wait_for(&self, handlers: &[Handler], subscribed: usize, runs: usize) -> Duration {
        let mut wait = if subscribed >= runs { REREAD } else { POLL };
        for handler in handlers {
            if let Trigger::EverySlots(n) = handler.trigger {
                wait = wait.min(Duration::from_millis((n * SLOT_MS).max(1_000)));
            }
        }
        wait
    }

    /// Waits up to `wait` for a push; true when the connection behind the subscriptions ended.
    fn wait(&self, pushes: &Receiver<Pushed>, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline && !self.interrupt.is_set() {
            match pushes.recv_timeout(TICK.min(deadline.saturating_duration_since(Instant::now()))) {
                Ok(first) => {
                    let mut ended = matches!(first, Pushed::Ended);
                    while let Ok(more) = pushes.recv_timeout(SETTLE) {
                        ended |= matches!(more, Pushed::Ended);
                    }
                    return ended;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return true,
            }
        }
        false
    }
}
