//! Runbooks that react to their runs (`run --follow FILE`): the body registers handlers, and
//! once it has run, the follow loop calls them as the runs change (see `observe` for how
//! changes are derived). Outside follow mode, registering does nothing but say so.
//!
//! ```rhai
//! let r = run("my-run");
//! r.on_transition(|from, to| print(`${from} -> ${to}`));
//! r.on_runway_below(3, |epochs| { r.top_up_to_runway(10, 500); });
//! every_slots(9000, |slot| print(`still here at ${slot}`));
//! ```

pub mod observe;

use crate::api::host::Host;
use crate::api::values::error::HostError;
use crate::api::values::handlers::{Handler, Trigger};
use crate::api::values::runs::RunHandle;
use rhai::plugin::*;
use rhai::{EvalAltResult, FLOAT, FnPtr, INT};

type Res<T> = Result<T, Box<EvalAltResult>>;

fn register(ctx: &NativeCallContext, run: Option<&RunHandle>, trigger: Trigger, callback: FnPtr) -> Res<()> {
    let host = Host::of(ctx);
    host.handlers.register(Handler { run: run.cloned(), trigger, callback });
    Ok(())
}

#[export_module]
pub mod follow_api {
    use super::*;

    /// In follow mode, calls `f(from, to)` (state names) whenever the run's state changes.
    #[rhai_fn(name = "on_transition", return_raw)]
    pub fn on_transition(ctx: NativeCallContext, r: &mut RunHandle, f: FnPtr) -> Res<()> {
        register(&ctx, Some(r), Trigger::Transition, f)
    }

    /// In follow mode, calls `f(epoch)` when an epoch of the run ends.
    #[rhai_fn(name = "on_epoch_end", return_raw)]
    pub fn on_epoch_end(ctx: NativeCallContext, r: &mut RunHandle, f: FnPtr) -> Res<()> {
        register(&ctx, Some(r), Trigger::EpochEnd, f)
    }

    /// In follow mode, calls `f(pubkey)` when a client joins the run's current epoch.
    #[rhai_fn(name = "on_client_joined", return_raw)]
    pub fn on_client_joined(ctx: NativeCallContext, r: &mut RunHandle, f: FnPtr) -> Res<()> {
        register(&ctx, Some(r), Trigger::ClientJoined, f)
    }

    /// In follow mode, calls `f(pubkey)` when a client of the current epoch is dropped,
    /// withdraws or is ejected.
    #[rhai_fn(name = "on_client_dropped", return_raw)]
    pub fn on_client_dropped(ctx: NativeCallContext, r: &mut RunHandle, f: FnPtr) -> Res<()> {
        register(&ctx, Some(r), Trigger::ClientDropped, f)
    }

    /// In follow mode, calls `f()` when the run becomes paused (a pause landed).
    #[rhai_fn(name = "on_paused", return_raw)]
    pub fn on_paused(ctx: NativeCallContext, r: &mut RunHandle, f: FnPtr) -> Res<()> {
        register(&ctx, Some(r), Trigger::Paused, f)
    }

    /// In follow mode, calls `f(runway)` when the treasury's runway falls below `epochs`
    /// (again only after it rose back above).
    #[rhai_fn(name = "on_runway_below", return_raw)]
    pub fn on_runway_below(ctx: NativeCallContext, r: &mut RunHandle, epochs: FLOAT, f: FnPtr) -> Res<()> {
        if r.treasurer.is_none() {
            return Err(
                HostError::input(format!("run \"{}\" has no treasury: on_runway_below needs one", r.run_id)).into()
            );
        }
        register(&ctx, Some(r), Trigger::RunwayBelow(epochs), f)
    }

    #[rhai_fn(name = "on_runway_below", return_raw)]
    pub fn on_runway_below_int(ctx: NativeCallContext, r: &mut RunHandle, epochs: INT, f: FnPtr) -> Res<()> {
        on_runway_below(ctx, r, epochs as FLOAT, f)
    }

    /// In follow mode, calls `f(slot)` every `slots` slots (for periodic work).
    #[rhai_fn(name = "every_slots", return_raw)]
    pub fn every_slots(ctx: NativeCallContext, slots: INT, f: FnPtr) -> Res<()> {
        if slots <= 0 {
            return Err(HostError::input(format!("every_slots({slots}): needs a positive number of slots")).into());
        }
        register(&ctx, None, Trigger::EverySlots(slots as u64), f)
    }

    /// Ends follow mode once the running handler returns (for a runbook that follows until
    /// something happened).
    #[rhai_fn(name = "stop_following")]
    pub fn stop_following(ctx: NativeCallContext) {
        Host::of(&ctx).handlers.stop();
    }
}
